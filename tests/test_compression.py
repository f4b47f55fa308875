"""Static files and callback JSON go out compressed and cached (issue 13: the first page after login downloaded
6.7 MB uncompressed, ``plotly.min.js`` 4.8 MB of it, with no cache lifetime on our assets)."""

from __future__ import annotations

import gzip
import re

import brotli
import pytest

BR = {"Accept-Encoding": "br, gzip, deflate"}
GZ = {"Accept-Encoding": "gzip"}
PLOTLY = "/_dash-component-suites/plotly/package_data/plotly.min.js"


def _decode(resp) -> bytes:
    enc = resp.headers.get("Content-Encoding")
    data = resp.get_data()
    return brotli.decompress(data) if enc == "br" else gzip.decompress(data) if enc == "gzip" else data


@pytest.fixture
def client(live_app):
    c = live_app.app.server.test_client()
    assert c.post("/login?next=/", data={"username": "admin", "password": "demo", "next": "/"}).status_code == 302
    return c


def _page_files(client) -> list[str]:
    html = client.get("/").get_data(as_text=True)
    return re.findall(r'(?:src|href)="(/[^"]+\.(?:js|css)(?:\?[^"]*)?)"', html) + [PLOTLY]


def test_every_script_and_style_of_a_page_goes_out_compressed_and_decodes_to_the_file(client):
    raw_total = sent_total = 0
    for path in _page_files(client):
        raw = client.get(path)
        assert raw.status_code == 200 and "Content-Encoding" not in raw.headers, path   # asked for nothing
        for headers, enc in ((BR, "br"), (GZ, "gzip")):
            resp = client.get(path, headers=headers)
            if len(raw.get_data()) >= 1024:
                assert resp.headers.get("Content-Encoding") == enc, path
                assert "Accept-Encoding" in resp.headers.get("Vary", ""), path
            assert _decode(resp) == raw.get_data(), path
        raw_total += len(raw.get_data())
        sent_total += len(client.get(path, headers=BR).get_data())
    assert raw_total > 5_000_000 and sent_total < raw_total / 3, (raw_total, sent_total)


def test_a_compressed_file_revalidates_to_304(client):
    first = client.get(PLOTLY, headers=BR)
    etag = first.headers["ETag"]
    assert etag.endswith(':br"')               # the encoded body has its own validator
    again = client.get(PLOTLY, headers={**BR, "If-None-Match": etag})
    assert again.status_code == 304 and not again.get_data()
    gz = client.get(PLOTLY, headers={**GZ, "If-None-Match": etag})   # another encoding: the whole body
    assert gz.status_code == 200 and gz.headers["Content-Encoding"] == "gzip"


def test_our_assets_are_cached_for_a_year_under_their_fingerprint(client):
    css = next(p for p in _page_files(client) if p.startswith("/assets/") and "?m=" in p)
    resp = client.get(css, headers=BR)
    assert "max-age=31536000" in resp.headers["Cache-Control"] and "immutable" in resp.headers["Cache-Control"]
    bare = client.get(css.split("?")[0])
    assert "max-age=31536000" not in (bare.headers.get("Cache-Control") or "")   # no fingerprint: no lifetime


def test_callback_json_is_compressed_per_response_and_never_served_to_another(client):
    paths = ("/_dash-dependencies", "/basemap/style.json?theme=light", "/basemap/style.json?theme=dark")
    plain = {p: client.get(p).get_data() for p in paths}
    assert len(set(plain.values())) == len(paths) and all(len(b) >= 1024 for b in plain.values())
    for _ in range(2):   # a kept body would answer the second path with the first one's JSON
        for path, body in plain.items():
            resp = client.get(path, headers=BR)
            assert resp.headers.get("Content-Encoding") == "br", path
            assert _decode(resp) == body, path


def test_html_pages_are_not_compressed(client):
    resp = client.get("/", headers=BR)
    assert resp.status_code == 200 and "Content-Encoding" not in resp.headers   # BREACH: see compression.py
