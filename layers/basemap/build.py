"""Build the offline vector basemap: one PMTiles file of Mapbox vector tiles from the store's own layers.

Each MVT layer is written by pyogrio's bundled GDAL (``driver="PMTiles"``) into a file of its own with its own
zoom range (GDAL's ``MINZOOM``/``MAXZOOM`` dataset options; pyogrio writes one OGR layer per call and GDAL's
``CONF`` option only maps the OGR layers of one dataset), then the files are merged tile by tile: a vector tile
is a protobuf message whose layers are a repeated field, so the concatenation of tiles with different layer
names is the tile holding all of them. The merged file is written beside the target and moved into place
(``os.replace``), so a reader never sees half a file; its metadata records the store's data version and a
fingerprint of what was drawn, which :func:`basemap_status` compares to tell a stale file.

=================  ==========  =========================================================================
MVT layer          zooms       from
=================  ==========  =========================================================================
``water``          8–15        ``water`` (polygons; ``name``, ``kind``)
``districts``      8–15        ``districts`` (polygons; ``code``, ``name``, ``name_en``)
``towns``          10–15       ``towns`` (polygons; ``code``, ``name``, ``name_en``, ``district_code``)
``roads``          8–15        ``roads`` of class motorway, primary, secondary, joined end to end per name
``roads_minor``    12–15       ``roads`` of class tertiary (local roads), joined per name
``rail``           8–15        ``rail_lines`` (``name``, ``line_no``, ``color``)
``rail_stations``  12–15       ``rail_stations`` (``name``)
``places``         8–15        label points: districts (``kind=district``), towns (``town``), water
                               (``water``); ``name``, ``name_en``, ``rank``
``buildings`` …    see below   layers an OSM import may add (``buildings``, ``landuse``, ``pois``): drawn
                               when the schema has them and the store holds rows
=================  ==========  =========================================================================
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from layers.cache import StoreCache
from layers.errors import RiskMapError
from layers.schema import LAYERS
from layers.store import Store, cached_read

Progress = Callable[[float, str], None]

#: the zoom range of the built file (a city of 20–100 km: the whole city at 8, streets at 15; MapLibre
#: over-zooms past 15)
MINZOOM, MAXZOOM = 8, 15
#: the one tile set the app serves (``/tiles/base/…``)
TILESET = "base"
#: bump when what is written changes, so files built by older code count as stale
FORMAT_VERSION = 1
MAJOR_ROAD_CLASSES = ("motorway", "primary", "secondary")
MINOR_ROAD_CLASSES = ("tertiary",)
#: layers an OSM import may bring (drawn when the schema knows them): MVT name, zooms, columns kept
OPTIONAL_LAYERS = {"landuse": (10, MAXZOOM, ("name", "kind")), "buildings": (13, MAXZOOM, ("name", "kind")),
                   "pois": (14, MAXZOOM, ("name", "name_en", "kind"))}


class BasemapError(RiskMapError):
    """The basemap could not be built or read."""


@dataclass(frozen=True)
class BasemapInfo:
    """What a built basemap file holds (read back from its metadata by :func:`read_info`)."""

    path: Path
    data_version: int
    fingerprint: str
    minzoom: int
    maxzoom: int
    layers: tuple[str, ...]
    tiles: int
    size_bytes: int
    bounds: tuple[float, float, float, float]
    built_at: str
    seconds: float
    format_version: int = FORMAT_VERSION

    @property
    def build_id(self) -> str:
        """A short id of this build (the ETag of its tiles and the ``v`` of their URLs)."""
        return self.fingerprint[:16]


@dataclass
class _Part:
    name: str
    minzoom: int
    maxzoom: int
    frame: gpd.GeoDataFrame = field(repr=False)


def basemap_path(store_path: str | Path, *, directory: str | Path | None = None) -> Path:
    """Where the basemap of the store at ``store_path`` lives: beside it, ``city.gpkg`` -> ``city.basemap.pmtiles``.

    A database URL has no folder: its basemap is ``<database>-<hash of the URL>.basemap.pmtiles`` in ``directory``
    (default: the default store's folder, ``data/`` under the working directory, where the secret key of a
    database store is kept too). Every app worker on one host finds the same file; each host builds its own."""
    from layers.store import is_database_url, shown_url

    text = str(store_path)
    if is_database_url(text):
        import hashlib
        import re
        from urllib.parse import urlsplit

        from layers.settings import DEFAULT_STORE

        name = re.sub(r"[^A-Za-z0-9_-]+", "_", urlsplit(text).path.strip("/") or "postgres")
        digest = hashlib.sha256(shown_url(text).encode()).hexdigest()[:10]
        return Path(directory if directory is not None else DEFAULT_STORE.parent) / f"{name}-{digest}.basemap.pmtiles"
    p = Path(store_path)
    if directory is not None:
        return Path(directory) / f"{p.stem}.basemap.pmtiles"
    return p.with_name(f"{p.stem}.basemap.pmtiles")


# --------------------------------------------------------------------------------------------------
# what is drawn
# --------------------------------------------------------------------------------------------------

def _read(store: Store, layer: str, columns: list[str]) -> gpd.GeoDataFrame:
    if store.count(layer) == 0:
        return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in columns}, geometry=[], crs="EPSG:4326")
    frame = cached_read(store, layer, columns=[*columns, "geometry"])
    frame = frame[[*columns, "geometry"]].copy()
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    for c in columns:
        frame[c] = frame[c].astype(object).where(frame[c].notna(), None)
    return frame.reset_index(drop=True)


def _joined(roads: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Segments of one road (same name and class) joined end to end: fewer features, labels along long lines."""
    if len(roads) == 0:
        return roads
    key = roads["name"].fillna("").astype(str) + "\x1f" + roads["road_class"].astype(str)
    geoms = roads.geometry.to_numpy()
    order = np.argsort(key.to_numpy(), kind="stable")
    keys = key.to_numpy()[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    names, classes, lines = [], [], []
    for a, b in zip(starts, np.r_[starts[1:], len(keys)], strict=True):
        idx = order[a:b]
        merged = shapely.line_merge(shapely.union_all(geoms[idx]))
        for part in shapely.get_parts(merged):
            names.append(roads["name"].iat[idx[0]])
            classes.append(roads["road_class"].iat[idx[0]])
            lines.append(part)
    return gpd.GeoDataFrame({"name": names, "road_class": classes}, geometry=lines, crs="EPSG:4326")


def _label_points(frame: gpd.GeoDataFrame, kind: str, rank: int) -> gpd.GeoDataFrame:
    name_en = frame["name_en"] if "name_en" in frame.columns else pd.Series([None] * len(frame), dtype=object)
    return gpd.GeoDataFrame({"name": frame["name"].to_numpy(dtype=object), "name_en": name_en.to_numpy(dtype=object),
                             "kind": kind, "rank": rank},
                            geometry=shapely.point_on_surface(frame.geometry.to_numpy()), crs="EPSG:4326")


def source_parts(store: Store) -> list[_Part]:
    """The MVT layers (name, zoom range, frame in EPSG:4326) the basemap of ``store`` is made of, in drawing order.

    Layers without rows are left out."""
    districts = _read(store, "districts", ["code", "name", "name_en"])
    towns = _read(store, "towns", ["code", "name", "name_en", "district_code"])
    water = _read(store, "water", ["name", "kind"])
    roads = _read(store, "roads", ["name", "road_class"])
    rail = _read(store, "rail_lines", ["name", "line_no", "color"])
    stations = _read(store, "rail_stations", ["name"])
    named_water = water[water["name"].notna()]
    places = pd.concat([_label_points(districts, "district", 1), _label_points(towns, "town", 2),
                        _label_points(named_water, "water", 3)], ignore_index=True)
    parts = [
        _Part("water", MINZOOM, MAXZOOM, water),
        _Part("districts", MINZOOM, MAXZOOM, districts),
        _Part("towns", 10, MAXZOOM, towns),
        _Part("roads", MINZOOM, MAXZOOM, _joined(roads[roads["road_class"].isin(MAJOR_ROAD_CLASSES)])),
        _Part("roads_minor", 12, MAXZOOM, _joined(roads[roads["road_class"].isin(MINOR_ROAD_CLASSES)])),
        _Part("rail", MINZOOM, MAXZOOM, rail),
        _Part("rail_stations", 12, MAXZOOM, stations),
        _Part("places", MINZOOM, MAXZOOM, gpd.GeoDataFrame(places, geometry="geometry", crs="EPSG:4326")),
    ]
    for name, (lo, hi, cols) in OPTIONAL_LAYERS.items():
        if name in LAYERS:
            have = [c for c in cols if c in LAYERS[name].names]
            parts.append(_Part(name, lo, hi, _read(store, name, have)))
    return [p for p in parts if len(p.frame)]


def fingerprint(parts: list[_Part]) -> str:
    """SHA-256 over what is drawn (layer names, zooms, attributes and geometry), and the builder's format."""
    h = hashlib.sha256(f"riskmap-basemap:{FORMAT_VERSION}:{MINZOOM}:{MAXZOOM}".encode())
    for p in parts:
        h.update(f"|{p.name}:{p.minzoom}:{p.maxzoom}:{len(p.frame)}".encode())
        attrs = p.frame.drop(columns="geometry").astype(str)
        h.update(pd.util.hash_pandas_object(attrs, index=False).to_numpy().tobytes())
        for wkb in shapely.to_wkb(p.frame.geometry.to_numpy()):
            h.update(wkb)
    return h.hexdigest()


# --------------------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------------------

def _write_part(part: _Part, path: Path) -> None:
    pyogrio.write_dataframe(part.frame, str(path), driver="PMTiles", layer=part.name,
                            dataset_options={"MINZOOM": str(part.minzoom), "MAXZOOM": str(part.maxzoom),
                                             "NAME": "riskmap-basemap"})


def _merge(part_files: list[tuple[_Part, Path]], out: Path, extra_metadata: dict) -> tuple[int, dict]:
    """Concatenate the parts' tiles per tile id into one gzipped PMTiles file at ``out``; (tiles, metadata)."""
    from pmtiles.reader import MmapSource, Reader, all_tiles
    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import Writer

    tiles: dict[int, list[bytes]] = {}
    vector_layers, tilestats = [], []
    west, south, east, north = 180.0, 90.0, -180.0, -90.0
    for _part, path in part_files:
        with open(path, "rb") as fh:
            get = MmapSource(fh)
            reader = Reader(get)
            header, meta = reader.header(), reader.metadata()
            gz = header["tile_compression"] == Compression.GZIP
            for (z, x, y), data in all_tiles(get):
                tiles.setdefault(zxy_to_tileid(z, x, y), []).append(gzip.decompress(data) if gz else bytes(data))
        vector_layers += meta.get("vector_layers", [])
        tilestats += (meta.get("tilestats") or {}).get("layers", [])
        west, south = min(west, header["min_lon_e7"] / 1e7), min(south, header["min_lat_e7"] / 1e7)
        east, north = max(east, header["max_lon_e7"] / 1e7), max(north, header["max_lat_e7"] / 1e7)
    if not tiles:
        raise BasemapError("底图没有可绘制的要素：存储中没有区县、道路或水系 (nothing to draw: the store has no "
                           "districts, roads or water)")
    cx, cy = (west + east) / 2, (south + north) / 2
    metadata = {"name": "riskmap-basemap", "format": "pbf", "type": "baselayer", "minzoom": MINZOOM,
                "maxzoom": MAXZOOM, "bounds": [west, south, east, north], "center": [cx, cy, 10],
                "vector_layers": vector_layers,
                "tilestats": {"layerCount": len(vector_layers), "layers": tilestats}, **extra_metadata}
    header = {"tile_compression": Compression.GZIP, "tile_type": TileType.MVT,
              "min_lon_e7": int(west * 1e7), "min_lat_e7": int(south * 1e7), "max_lon_e7": int(east * 1e7),
              "max_lat_e7": int(north * 1e7), "center_zoom": 10, "center_lon_e7": int(cx * 1e7),
              "center_lat_e7": int(cy * 1e7)}
    with open(out, "wb") as fh:
        writer = Writer(fh)
        for tile_id in sorted(tiles):
            writer.write_tile(tile_id, gzip.compress(b"".join(tiles[tile_id]), compresslevel=6, mtime=0))
        writer.finalize(header, metadata)
    return len(tiles), metadata


def build_basemap(store: Store, path: str | Path, *, progress: Progress | None = None) -> BasemapInfo:
    """Write the basemap of ``store`` to ``path`` (a ``.pmtiles`` file, replaced atomically) and say what it holds.

    Parameters
    ----------
    store : the store whose districts, towns, roads, water, rail and place names are drawn (EPSG:4326).
    path : the PMTiles file to write; the directory must exist (or is made). A temporary file beside it is moved
        into place when complete, so the file the app serves is always whole.
    progress : ``progress(fraction, message)`` after each step.

    Raises :class:`BasemapError` when the store has nothing to draw.
    """
    step = progress or (lambda f, m: None)
    t0 = time.perf_counter()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    version = store.data_version()
    step(0.0, "读取图层 (reading the layers)")
    parts = source_parts(store)
    digest = fingerprint(parts)
    with tempfile.TemporaryDirectory(prefix=".basemap-", dir=path.parent) as tmp:
        files = []
        weights = np.array([max(1, len(p.frame)) * (p.maxzoom - p.minzoom + 1) for p in parts], dtype=float)
        done = 0.0
        for part, w in zip(parts, weights / weights.sum() * 0.85, strict=True):
            step(0.05 + done, f"切片 {part.name} (tiling {part.name}: {len(part.frame)} features, "
                              f"z{part.minzoom}–{part.maxzoom})")
            f = Path(tmp) / f"{part.name}.pmtiles"
            _write_part(part, f)
            files.append((part, f))
            done += w
        step(0.9, "合并图层 (merging the layers)")
        built_at = pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
        riskmap = {"data_version": version, "fingerprint": digest, "format_version": FORMAT_VERSION,
                   "built_at": built_at, "store": Path(store.url).name}
        staged = Path(tmp) / "merged.pmtiles"
        count, metadata = _merge(files, staged, {"riskmap": riskmap})
        os.replace(staged, path)
    seconds = time.perf_counter() - t0
    step(1.0, f"底图已写入 {path}（{count} 个瓦片，{seconds:.1f} 秒）(basemap written: {count} tiles, {seconds:.1f} s)")
    _INFO.clear()
    return BasemapInfo(path=path, data_version=version, fingerprint=digest, minzoom=MINZOOM, maxzoom=MAXZOOM,
                       layers=tuple(p.name for p in parts), tiles=count, size_bytes=path.stat().st_size,
                       bounds=tuple(metadata["bounds"]), built_at=built_at, seconds=round(seconds, 3))


# --------------------------------------------------------------------------------------------------
# reading back, staleness
# --------------------------------------------------------------------------------------------------

#: what a basemap file holds, per file identity and (mtime, size): rebuilt or swapped, it is read again
_INFO: StoreCache[BasemapInfo | None] = StoreCache("basemap info", maxsize=4)
#: the drawn layers' fingerprint per store identity and data version
_FINGERPRINTS: StoreCache[str] = StoreCache("basemap fingerprint", maxsize=4)


def _info_of(path: str, size: int) -> BasemapInfo | None:
    from pmtiles.reader import MmapSource, Reader

    try:
        with open(path, "rb") as fh:
            reader = Reader(MmapSource(fh))
            header, meta = reader.header(), reader.metadata()
    except Exception:  # noqa: BLE001 - a truncated or foreign file (pmtiles raises plain Exceptions) is no basemap
        return None
    own = meta.get("riskmap") or {}
    if "fingerprint" not in own:
        return None
    return BasemapInfo(path=Path(path), data_version=int(own.get("data_version", -1)), fingerprint=own["fingerprint"],
                       minzoom=int(header["min_zoom"]), maxzoom=int(header["max_zoom"]),
                       layers=tuple(v["id"] for v in meta.get("vector_layers", [])),
                       tiles=int(header["addressed_tiles_count"]), size_bytes=size,
                       bounds=tuple(float(b) for b in meta.get("bounds", (0, 0, 0, 0))),
                       built_at=str(own.get("built_at", "")), seconds=0.0,
                       format_version=int(own.get("format_version", 0)))


def read_info(path: str | Path) -> BasemapInfo | None:
    """What the basemap file at ``path`` holds; None when it is missing or not one of ours."""
    try:
        where = str(Path(path).resolve())
        st = os.stat(where)
    except OSError:
        return None
    identity = (where, st.st_dev, st.st_ino)  # as layers.cache.file_identity, with the same stat's mtime
    return _INFO.get_at(identity, (st.st_mtime_ns, st.st_size), lambda: _info_of(str(path), st.st_size))


def basemap_status(store: Store, path: str | Path) -> Literal["missing", "stale", "fresh"]:
    """``missing`` (no file, or not ours), ``stale`` (built by older code, or what it draws changed since) or
    ``fresh``. A new data version alone is not staleness: a hazard or an inspection written does not change the
    basemap, so the drawn layers' fingerprint decides (computed once per data version)."""
    info = read_info(path)
    if info is None:
        return "missing"
    if info.format_version != FORMAT_VERSION:
        return "stale"
    version = store.data_version()
    if info.data_version == version:
        return "fresh"
    digest = _FINGERPRINTS.get(store, lambda: fingerprint(source_parts(store)), version=version)
    return "fresh" if digest == info.fingerprint else "stale"


__all__ = ["BasemapError", "BasemapInfo", "MAXZOOM", "MINZOOM", "TILESET", "basemap_path", "basemap_status",
           "build_basemap", "fingerprint", "read_info", "source_parts"]
