"""The basemap's routes: tiles from the built PMTiles file, their TileJSON, and the MapLibre style.

* ``GET /tiles/<name>.json`` — TileJSON 3.0 of the tile set (``name`` is ``base``), its tile URL carrying the
  build id (``?v=…``).
* ``GET /tiles/<name>/<z>/<x>/<y>.pbf`` — one vector tile: ``application/x-protobuf``, ``Content-Encoding: gzip``
  (decompressed for a client that does not accept gzip), an ETag of the build, cached for a year when the URL
  names the current build (``?v=``), else revalidated. ``204`` for an address of the tile set that holds no
  tile (empty, or outside the city); ``404`` for an unknown tile set, a zoom outside the set's range, a column
  or row outside the zoom's grid, or anything that is not three whole numbers (Flask's ``int`` converter).
* ``GET /basemap/style.json?theme=light|dark&lang=zh|en`` — :func:`layers.basemap.map_style` with this app's
  own tile URL (a ``style_url`` preset redirects to the configured style).

Every route asks the access function (``wall.read``: every role has it, the wall kiosk too; the basemap is the
city's base geography, the same for every user). The file is built in a background thread when the app starts
and it is missing or stale, and again when a request finds the store changed (checked at most every
:data:`CHECK_EVERY_S`); meanwhile the old file is served. Of several worker processes on one store one builds at a
time (a ``flock`` on ``<file>.lock``); the others serve the file it moves in. :func:`style_for` gives the map code the same style.
"""

from __future__ import annotations

import contextlib
import gzip
import logging
import mmap
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import flask

from dashboard import context
from dashboard.i18n import norm_lang
from layers.basemap import TILESET, basemap_path, basemap_status, build_basemap, map_style, read_info
from layers.basemap.build import BasemapInfo
from layers.basemap.shift import effective_preset
from layers.errors import RiskMapError
from layers.store import open_store, store_exists

log = logging.getLogger(__name__)
CHECK_EVERY_S = 10.0
LONG_CACHE = "private, max-age=31536000, immutable"
REVALIDATE = "private, no-cache"
TILE_ROUTE = "/tiles/<name>/<int:z>/<int:x>/<int:y>.pbf"
TILEJSON_ROUTE = "/tiles/<name>.json"
STYLE_ROUTE = "/basemap/style.json"


# --------------------------------------------------------------------------------------------------
# reading tiles: one open file per build, directories parsed once
# --------------------------------------------------------------------------------------------------

@dataclass
class _Archive:
    """An open PMTiles file (memory-mapped; a rebuilt file is a new inode, so this one stays whole)."""

    path: Path
    key: tuple[int, int]
    info: BasemapInfo
    gzipped: bool
    _map: mmap.mmap = field(repr=False)
    _header: dict = field(repr=False)
    _dirs: dict[tuple[int, int], list] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, path: Path, key: tuple[int, int], info: BasemapInfo) -> _Archive:
        from pmtiles.tile import Compression, deserialize_header

        with open(path, "rb") as fh:
            mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        header = deserialize_header(mapped[0:127])
        return cls(path, key, info, header["tile_compression"] == Compression.GZIP, mapped, header)

    def _directory(self, offset: int, length: int) -> list:
        from pmtiles.tile import deserialize_directory

        d = self._dirs.get((offset, length))
        if d is None:
            d = deserialize_directory(self._map[offset:offset + length])
            self._dirs[(offset, length)] = d
        return d

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        from pmtiles.tile import find_tile, zxy_to_tileid

        h = self._header
        tile_id = zxy_to_tileid(z, x, y)
        offset, length = h["root_offset"], h["root_length"]
        for _depth in range(4):
            entry = find_tile(self._directory(offset, length), tile_id)
            if entry is None:
                return None
            if entry.run_length > 0:
                start = h["tile_data_offset"] + entry.offset
                return self._map[start:start + entry.length]
            offset, length = h["leaf_directory_offset"] + entry.offset, entry.length
        return None


class Basemap:
    """The app's basemap: the file beside the store, the open archive, and the background builder."""

    def __init__(self, store_path: str) -> None:
        self.store_path = store_path
        self.path = basemap_path(store_path)
        self._lock = threading.Lock()
        self._archive: _Archive | None = None
        self._building: threading.Thread | None = None
        self._checked_at = 0.0
        self.last_error: str | None = None

    def archive(self) -> _Archive | None:
        """The current file, reopened when a build replaced it; None while there is none."""
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        key = (st.st_ino, st.st_mtime_ns)
        current = self._archive
        if current is not None and current.key == key:
            return current
        with self._lock:
            if self._archive is None or self._archive.key != key:
                info = read_info(self.path)
                if info is None:
                    return self._archive
                self._archive = _Archive.open(self.path, key, info)
            return self._archive

    # -- building ---------------------------------------------------------------------------------
    def refresh(self, *, force: bool = False) -> threading.Thread | None:
        """Check (at most every :data:`CHECK_EVERY_S`, or now with ``force``) in a background thread whether the
        file is missing or stale, and build it there if so. Returns the thread when one was started."""
        now = time.monotonic()
        with self._lock:
            if self._building is not None and self._building.is_alive():
                return None
            if not force and now - self._checked_at < CHECK_EVERY_S:
                return None
            self._checked_at = now
            thread = threading.Thread(target=self._check_and_build, name="riskmap-basemap", daemon=True)
            self._building = thread
        thread.start()
        return thread

    def _check_and_build(self) -> None:
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)  # Linux: this thread only
        except (AttributeError, OSError):
            pass
        try:
            if not store_exists(self.store_path):   # a GeoPackage file, or a database's tables
                return
            with _build_lock(self.path) as mine:
                if not mine:   # another worker on this store is building it: its file is picked up when moved in
                    return
                store = open_store(self.store_path, create=False)
                status = basemap_status(store, self.path)
                if status == "fresh":
                    return
                log.info("basemap %s: building %s", status, self.path)
                info = build_basemap(store, self.path)
            self.last_error = None
            log.info("basemap built: %s tiles, %.1f s, data version %s", info.tiles, info.seconds, info.data_version)
        except RiskMapError as exc:
            self.last_error = str(exc)
            log.warning("basemap not built: %s", exc)
        except Exception:  # noqa: BLE001 - a background thread: log it, keep serving the old file
            self.last_error = "build failed"
            log.exception("basemap build failed")


@contextlib.contextmanager
def _build_lock(path: Path) -> Iterator[bool]:
    """An exclusive lock on ``<basemap>.lock`` for one builder among the worker processes on a store: yields
    True when this process holds it, False when another one does (it is not waited for). Without ``fcntl``
    (Windows: one process) it always yields True."""
    try:
        import fcntl
    except ImportError:
        yield True
        return
    lock = path.with_name(path.name + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True   # released when the descriptor closes
    finally:
        os.close(fd)


def _basemap() -> Basemap:
    return flask.current_app.config["RISKMAP_BASEMAP"]


# --------------------------------------------------------------------------------------------------
# routes
# --------------------------------------------------------------------------------------------------

def _root() -> str:
    """This app's own origin and path prefix (``http://host:port/prefix``): MapLibre loads tiles in a web worker,
    which cannot resolve a bare path, so the URLs in a style are absolute, and always on the app's own host."""
    return flask.request.host_url.rstrip("/") + (flask.request.script_root or "")


def tile_template(info: BasemapInfo | None) -> str:
    """The app's own tile URL template (on this app's origin, with the build id when there is a build)."""
    suffix = f"?v={info.build_id}" if info is not None else ""
    return f"{_root()}/tiles/{TILESET}/{{z}}/{{x}}/{{y}}.pbf{suffix}"


def style_for(theme: str, lang: str) -> dict[str, Any] | str:
    """The map style of the configured preset with this app's tile URL (inside a request). For the map code."""
    bm = _basemap()
    arc = bm.archive()
    if arc is None:
        bm.refresh()
    return map_style(context.settings(), theme="dark" if theme == "dark" else "light", lang=norm_lang(lang),
                     tiles_url=tile_template(arc.info if arc else None))


def _not_found() -> flask.Response:
    return flask.Response("not found", status=404, mimetype="text/plain")


def install(server: flask.Flask) -> None:
    """Register the basemap routes on ``server`` and, for the built-in preset, start the background check/build."""
    settings = server.config["RISKMAP_SETTINGS"]
    bm = Basemap(settings.store)
    server.config["RISKMAP_BASEMAP"] = bm

    @server.route(TILEJSON_ROUTE)
    @context.checked("wall.read")
    def basemap_tilejson(name: str):  # noqa: ANN202
        bm = _basemap()
        arc = bm.archive() if name == TILESET else None
        bm.refresh()
        if arc is None:
            return _not_found()
        info = arc.info
        etag = f'"{info.build_id}"'
        if flask.request.if_none_match.contains(info.build_id):
            return flask.Response(status=304, headers={"ETag": etag, "Cache-Control": REVALIDATE})
        w, s, e, n = info.bounds
        body = {"tilejson": "3.0.0", "name": "riskmap-basemap", "scheme": "xyz", "tiles": [tile_template(info)],
                "minzoom": info.minzoom, "maxzoom": info.maxzoom, "bounds": [w, s, e, n],
                "center": [(w + e) / 2, (s + n) / 2, min(info.maxzoom, 10)],
                "vector_layers": [{"id": layer, "fields": {}} for layer in info.layers],
                "riskmap": {"data_version": info.data_version, "built_at": info.built_at}}
        resp = flask.jsonify(body)
        resp.headers.update({"ETag": etag, "Cache-Control": REVALIDATE})
        return resp

    @server.route(TILE_ROUTE)
    @context.checked("wall.read")
    def basemap_tile(name: str, z: int, x: int, y: int):  # noqa: ANN202
        bm = _basemap()
        arc = bm.archive() if name == TILESET else None
        bm.refresh()
        if arc is None or not (arc.info.minzoom <= z <= arc.info.maxzoom) or x >= 2 ** z or y >= 2 ** z or \
                not flask.request.path.endswith(f"/{z}/{x}/{y}.pbf"):  # 08 or +8: one address per tile
            return _not_found()
        etag = f'"{arc.info.build_id}"'
        cache = LONG_CACHE if flask.request.args.get("v") == arc.info.build_id else REVALIDATE
        headers = {"ETag": etag, "Cache-Control": cache}
        if flask.request.if_none_match.contains(arc.info.build_id):
            return flask.Response(status=304, headers=headers)
        data = arc.tile(z, x, y)
        if not data:
            return flask.Response(status=204, headers=headers, mimetype="application/x-protobuf")
        if arc.gzipped:
            if "gzip" in flask.request.headers.get("Accept-Encoding", ""):
                headers["Content-Encoding"] = "gzip"
            else:
                data = gzip.decompress(data)
        headers["Vary"] = "Accept-Encoding"
        return flask.Response(bytes(data), status=200, mimetype="application/x-protobuf", headers=headers)

    @server.route("/tiles/<path:rest>")
    @context.checked("wall.read")
    def basemap_not_a_tile(rest: str):  # noqa: ANN202, ARG001 - anything else under /tiles/ (not Dash's page)
        return _not_found()

    @server.route(STYLE_ROUTE)
    @context.checked("wall.read")
    def basemap_style_json():  # noqa: ANN202
        theme = flask.request.args.get("theme", "light")
        if theme not in ("light", "dark"):
            return flask.jsonify({"error": "主题只能是 light 或 dark (theme must be light or dark)"}), 400
        style = style_for(theme, flask.request.args.get("lang") or context.settings().lang)
        if isinstance(style, str):
            return flask.redirect(style)
        resp = flask.jsonify(style)
        resp.headers["Cache-Control"] = REVALIDATE
        return resp

    if effective_preset(settings) == "builtin":
        bm.refresh(force=True)


__all__ = ["Basemap", "CHECK_EVERY_S", "STYLE_ROUTE", "TILEJSON_ROUTE", "TILE_ROUTE", "install", "style_for",
           "tile_template"]
