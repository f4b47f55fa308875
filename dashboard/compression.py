"""Compressed responses: the JavaScript, CSS and JSON the browser downloads, in Brotli or gzip (Flask-Compress).

Measured before this (issue 13): the first page after login downloaded 6.7 MB uncompressed (``plotly.min.js``
alone is 4.8 MB; about 1.4 MB in Brotli). Static files (Dash's component suites and our ``/assets``) do not
change while the process runs, so each is compressed once per encoding and kept; callback and layout JSON is
compressed per response and never kept. Dash's fingerprinted URLs already carry a year's ``max-age``; our
``/assets`` URLs carry ``?m=<mtime>`` and get the same here. HTML pages are left alone: they are small, and
compressing a page that reflects input next to a secret is what BREACH exploits. Tiles are gzip already.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import flask
from flask_compress import Compress

#: what is compressed (HTML deliberately not: see the module doc)
MIMETYPES = ["application/javascript", "text/javascript", "text/css", "application/json", "image/svg+xml"]
#: static paths: compressed once per encoding and kept (they cannot change while the process runs)
STATIC_PREFIXES = ("/_dash-component-suites/", "/assets/", "/wall/deck/deckgl.js")  # the last: deck.BUNDLE_ROUTE
#: the most compressed static files kept (every suite and asset of the app fits many times over)
MAX_KEPT = 256
YEAR_S = 365 * 24 * 3600


def _static_key(request: flask.Request) -> str | None:
    """The cache key of a static file (its path and query: the fingerprint), None for anything else."""
    if request.method == "GET" and request.path.startswith(STATIC_PREFIXES):
        return request.full_path
    return None


class _StaticOnly:
    """Flask-Compress's cache backend keeping only static files: it builds the key as ``"<encoding>;<key>"``
    whatever :func:`_static_key` answered, so the key of a dynamic response ends in ``;None`` and is never kept
    nor served (it would be shared by every callback)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: OrderedDict[str, bytes] = OrderedDict()

    def get(self, key: str) -> bytes | None:
        if key.endswith(";None"):
            return None
        with self._lock:
            value = self._kept.get(key)
            if value is not None:
                self._kept.move_to_end(key)
            return value

    def set(self, key: str, value: bytes) -> None:
        if key.endswith(";None"):
            return
        with self._lock:
            self._kept[key] = value
            self._kept.move_to_end(key)
            while len(self._kept) > MAX_KEPT:
                self._kept.popitem(last=False)


def install(server: flask.Flask) -> None:
    """Compress responses; call it before any other ``after_request`` hook is registered, so that it runs last
    (Flask runs them in reverse order) and compresses what the others wrote."""
    server.config.update(
        COMPRESS_MIMETYPES=MIMETYPES,
        COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_BR_LEVEL=5,
        COMPRESS_LEVEL=6,
        COMPRESS_MIN_SIZE=1024,
        COMPRESS_STREAMS=False,
        COMPRESS_CACHE_KEY=_static_key,
        COMPRESS_CACHE_BACKEND=_StaticOnly,
    )
    Compress(server)

    @server.after_request
    def _static_files(resp: flask.Response) -> flask.Response:
        """Our assets are addressed with their modification time (``?m=``), so a year's lifetime is safe; a file
        Flask streams from disk is read into the response (they are small) so that it can be compressed."""
        req = flask.request
        if resp.status_code != 200 or req.method != "GET" or not req.path.startswith(STATIC_PREFIXES):
            return resp
        if req.path.startswith("/assets/") and "m" in req.args:
            resp.headers["Cache-Control"] = f"public, max-age={YEAR_S}, immutable"
        if resp.is_streamed and resp.mimetype in MIMETYPES:
            resp.direct_passthrough = False
            resp.set_data(resp.get_data())
        return resp


__all__ = ["install", "MIMETYPES", "STATIC_PREFIXES"]
