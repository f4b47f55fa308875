"""Files attached to a hazard: typed by their bytes, size-limited, names cut down, access by the hazard's target."""

from __future__ import annotations

import hashlib
from datetime import date

import pandas as pd
import pytest

from layers.access.policy import Principal
from layers.errors import AccessDenied, ActionDenied, StepRefused
from layers.ledger import attach, file_data, files_of, history, register_hazards
from layers.ledger.files import MAX_NAME, safe_filename, sniff_type
from layers.settings import Settings

ADMIN = Principal(id="admin", role="admin")
SETTINGS = Settings(upload_max_mb=0.01)  # 10 KiB: small enough to test the limit with small files
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(200)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(300)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
WEBP = b"RIFF" + (100).to_bytes(4, "little") + b"WEBPVP8 " + bytes(100)


@pytest.fixture
def store(writable_store):
    return writable_store


def _places(store) -> tuple[pd.Series, pd.Series]:
    e = store.read("enterprises", columns=["id", "district_code", "town_code"]).dropna()
    a = e.iloc[0]
    return a, e[e["district_code"] != a["district_code"]].iloc[0]


def _hazard_on(store, ent: pd.Series) -> str:
    return register_hazards(store, ADMIN, pd.DataFrame([{"target_layer": "enterprises", "target_id": ent["id"],
                                                         "level": "general", "found_date": "2025-06-01"}]),
                            today=date(2025, 6, 30))[0]


def test_photos_and_pdfs_are_kept_with_their_hash_and_an_audit_row(store):
    a, _b = _places(store)
    hid = _hazard_on(store, a)
    ids = [attach(store, ADMIN, hid, name, data, settings=SETTINGS)
           for name, data in (("现场照片.png", PNG), ("整改后.JPG", JPEG), ("验收意见.pdf", PDF), ("p.webp", WEBP))]
    listed = files_of(store, hid)
    assert "data" not in listed.columns and list(listed["id"]) == ids
    assert list(listed["mime"]) == ["image/png", "image/jpeg", "application/pdf", "image/webp"]
    assert list(listed["filename"]) == ["现场照片.png", "整改后.JPG", "验收意见.pdf", "p.webp"]
    assert list(listed["size"]) == [len(PNG), len(JPEG), len(PDF), len(WEBP)]
    assert listed["sha256"].iloc[2] == hashlib.sha256(PDF).hexdigest()
    assert set(listed["uploaded_by"]) == {"admin"}
    name, mime, data = file_data(store, ADMIN, ids[2])
    assert (name, mime, data) == ("验收意见.pdf", "application/pdf", PDF)
    rows = history(store, "hazards", hid)
    rows = rows[rows["action"] == "attach"]
    assert len(rows) == 4 and list(rows["new_value"]) == list(listed["filename"])
    assert ids[0] in rows["note"].iloc[0] and hashlib.sha256(PNG).hexdigest() in rows["note"].iloc[0]


@pytest.mark.parametrize(("name", "data", "match"), [
    ("page.png", b"<html><script>alert(1)</script></html>", "only JPEG, PNG or WebP"),
    ("drawing.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "only JPEG, PNG or WebP"),
    ("tool.exe", b"MZ\x90\x00" + bytes(100), "only JPEG, PNG or WebP"),
    ("a.gif", b"GIF89a" + bytes(20), "only JPEG, PNG or WebP"),
    ("riff.webp", b"RIFF\x10\x00\x00\x00WAVEfmt ", "only JPEG, PNG or WebP"),
    ("empty.png", b"", "empty"),
    ("big.png", PNG + bytes(11 * 1024), "too large"),
])
def test_files_of_the_wrong_type_or_size_are_refused_and_nothing_is_written(store, name, data, match):
    hid = _hazard_on(store, _places(store)[0])
    files, audit = store.count("hazard_files"), store.count("audit_log")
    with pytest.raises(StepRefused, match=match):
        attach(store, ADMIN, hid, name, data, settings=SETTINGS)
    assert store.count("hazard_files") == files and store.count("audit_log") == audit


def test_the_size_limit_comes_from_the_settings(store):
    hid = _hazard_on(store, _places(store)[0])
    big = PNG + bytes(11 * 1024)
    assert attach(store, ADMIN, hid, "big.png", big, settings=Settings(upload_max_mb=1))
    exact = PNG + bytes(10 * 1024 - len(PNG))
    assert len(exact) == 10 * 1024 and attach(store, ADMIN, hid, "exact.png", exact, settings=SETTINGS)


def test_file_names_lose_their_folders_and_get_their_real_suffix(store):
    assert safe_filename("../../etc/passwd.png", "image/png") == "passwd.png"
    assert safe_filename("C:\\Users\\x\\evil.exe", "image/png") == "evil.exe.png"
    assert safe_filename("report.html", "application/pdf") == "report.html.pdf"
    assert safe_filename("photo.JPEG", "image/jpeg") == "photo.JPEG"
    assert safe_filename("", "image/webp") == "file.webp"
    assert safe_filename("..", "image/png") == "file.png"
    assert safe_filename("a\x00b\r\n<c>.png", "image/png") == "ab_c_.png"
    long = safe_filename("长" * 300 + ".pdf", "application/pdf")
    assert len(long) == MAX_NAME and long.endswith(".pdf")
    hid = _hazard_on(store, _places(store)[0])
    fid = attach(store, ADMIN, hid, "/var/www/../x/" + "n" * 200 + ".png", PNG, settings=SETTINGS)
    name = files_of(store, hid).set_index("id").loc[fid, "filename"]
    assert "/" not in name and len(name) <= MAX_NAME and name.endswith(".png")
    assert sniff_type(PDF) == "application/pdf" and sniff_type(b"%PDX") is None


def test_files_follow_the_hazards_target_for_access(store):
    a, b = _places(store)
    hid_b = _hazard_on(store, b)
    fid = attach(store, ADMIN, hid_b, "b.png", PNG, settings=SETTINGS)
    lead_a = Principal(id="lead-a", role="district", district=a["district_code"])
    lead_b = Principal(id="lead-b", role="district", district=b["district_code"])
    files, audit = store.count("hazard_files"), store.count("audit_log")
    with pytest.raises(AccessDenied):
        attach(store, lead_a, hid_b, "a.png", PNG, settings=SETTINGS)
    with pytest.raises(AccessDenied):
        file_data(store, lead_a, fid)
    with pytest.raises(AccessDenied):
        file_data(store, lead_a, "NO-SUCH-FILE")
    with pytest.raises(ActionDenied):  # the command centre reads but does not edit hazards
        attach(store, Principal(id="c", role="command"), hid_b, "c.png", PNG, settings=SETTINGS)
    with pytest.raises(StepRefused, match="does not exist"):
        attach(store, ADMIN, "NO-SUCH-HAZARD", "c.png", PNG, settings=SETTINGS)
    assert store.count("hazard_files") == files and store.count("audit_log") == audit
    assert file_data(store, lead_b, fid)[2] == PNG
    assert file_data(store, Principal(id="c", role="command"), fid)[1] == "image/png"
    assert attach(store, lead_b, hid_b, "b2.png", PNG, settings=SETTINGS)
