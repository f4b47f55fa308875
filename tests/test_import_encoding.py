"""Text in encodings the importer must not guess wrong: Big5 taken for GB18030, NUL bytes late in a CSV.

Big5 (Traditional Chinese, from Hong Kong or Taiwan suppliers) decodes as GB18030 without an error, into
private-use characters and Japanese kana. After a fallback to GBK/GB18030 such text is rejected with a request
for ``--encoding``; with ``--encoding big5`` the same file imports, Traditional headers and labels included.
"""

from __future__ import annotations

import pandas as pd
import pytest
from test_import_bad import _rejected, build_city

from layers.ingest.importer import import_file

NAME = "臺北市信義區化工有限公司"


@pytest.fixture
def city(tmp_path):
    return build_city(tmp_path)


def _big5_frame() -> pd.DataFrame:
    return pd.DataFrame({"編號": ["T1", "T2"], "企業名稱": [NAME, "高雄港區煙花爆竹批發"],
                         "行業": ["危險化學品", "煙花爆竹"], "風險等級": ["重大風險", "較大"],
                         "經度": [114.25, 114.35], "緯度": [30.6, 30.62]})


def _big5_csv(tmp_path, df: pd.DataFrame | None = None):
    f = tmp_path / "台灣.csv"
    (_big5_frame() if df is None else df).to_csv(f, index=False, encoding="big5")
    return f


def test_big5_csv_is_not_taken_for_gb18030(city, tmp_path):
    f = _big5_csv(tmp_path)
    raw = f.read_bytes()
    raw.decode("gb18030")  # the trap: it decodes without an error
    rep = _rejected(city, lambda: import_file(city, "enterprises", f, crs="wgs84"), "--encoding big5",
                    "--encoding big5")
    issue = rep.issues[0]
    assert "私用区" in issue.reason_zh and "private-use" in issue.reason_en
    assert issue.row == 1  # the header already holds Big5


def test_big5_text_that_decodes_to_kana_only_is_rejected(city, tmp_path):
    """中文 in Big5 is A4A4 A4E5, which GBK reads as the hiragana いゅ: no private-use character at all."""
    df = pd.DataFrame({"id": ["T1"], "name": ["中文"], "industry": ["mining"], "grade": ["low"], "lon": [114.25],
                       "lat": [30.6]})
    f = tmp_path / "e.csv"
    df.to_csv(f, index=False, encoding="big5")
    assert f.read_bytes().decode("gbk").count("い") == 1
    rep = _rejected(city, lambda: import_file(city, "enterprises", f, crs="wgs84"), "假名", "kana")
    assert rep.issues[0].row == 2


def test_big5_csv_with_encoding_given_imports(city, tmp_path):
    f = _big5_csv(tmp_path)
    rep = import_file(city, "enterprises", f, crs="wgs84", encoding="big5")
    assert (rep.written, rep.quarantined, rep.encoding) == (2, 0, "big5")
    e = city.read("enterprises").set_index("id")
    assert e.loc["T1", "name"] == NAME
    assert (e.loc["T1", "industry"], e.loc["T1", "grade"]) == ("hazchem", "major")
    assert (e.loc["T2", "industry"], e.loc["T2", "grade"]) == ("fireworks", "high")


def test_katakana_in_a_gbk_file_passes_when_the_encoding_is_named(city, tmp_path):
    """A Japanese name in a GBK file looks like Big5 to the fallback; naming the encoding is the way out."""
    df = pd.DataFrame({"编号": ["J1"], "名称": ["ヤマハ发动机"], "行业": ["工贸"], "风险等级": ["低"], "经度": [114.25],
                       "纬度": [30.6]})
    f = tmp_path / "e.csv"
    df.to_csv(f, index=False, encoding="gbk")
    _rejected(city, lambda: import_file(city, "enterprises", f, crs="wgs84"), "--encoding", "--encoding")
    assert import_file(city, "enterprises", f, crs="wgs84", encoding="gbk").written == 1


def test_nul_byte_after_the_first_64_kb_is_rejected(city, tmp_path):
    rows = [f"A{i},企业{i},工贸,低,114.25,30.6" for i in range(3000)]
    text = "编号,名称,行业,风险等级,经度,纬度\n" + "\n".join(rows) + "\n"
    data = text.encode("utf-8")
    assert len(data) > 70_000
    cut = data.index(b"\n", 70_000) + 1
    f = tmp_path / "e.csv"
    f.write_bytes(data[:cut] + "A9999,\x00\x00\x00,工贸,低,114.25,30.6\n".encode() + data[cut:])
    row = data[:cut].count(b"\n") + 1
    rep = _rejected(city, lambda: import_file(city, "enterprises", f, crs="wgs84"), "NUL", "NUL")
    assert rep.issues[0].row == row
