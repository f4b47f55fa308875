"""MapLibre styles: the built-in vector basemap (light and dark), and the intranet presets.

:func:`basemap_style` has **no** ``glyphs`` and **no** ``sprite`` key: plotly.js 4.1's MapLibre (6.9) then
draws every label with the browser's own fonts (Chinese glyph forms from ``<html lang="zh-CN">``) and asks no
host for fonts or icons. Labels are symbol layers, so MapLibre's collision detection keeps them apart (the
district names first, by ``symbol-sort-key``); road names run along the lines (``symbol-placement: line``);
detail grows with the zoom (minor roads from 12, their names from 15). The basemap is muted greys and blues so
that the four grade colours (red, orange, yellow, blue) drawn over it stand out.

:func:`map_style` is the style of the configured preset (``RISKMAP_BASEMAP``); a raster preset (XYZ, WMTS,
Tianditu, Amap) is a raster source with its template, a ``style_url`` preset is the URL itself.
"""

from __future__ import annotations

from typing import Any, Literal

from layers.basemap.build import MAXZOOM, MINZOOM
from layers.basemap.shift import effective_preset
from layers.settings import Settings

Theme = Literal["light", "dark"]

#: colours per theme; no hue near the grade colours
PALETTE: dict[str, dict[str, str]] = {
    "light": {"background": "#F4F3EF", "water": "#B8D3E8", "water_line": "#8DB6D6", "district": "#6B7A90",
              "town": "#A3ADBB", "road": "#FFFFFF", "road_case": "#C9CBD1", "major": "#FFFFFF",
              "major_case": "#A9AEB8", "minor": "#FFFFFF", "rail": "#8A8F99", "label": "#2B3340",
              "label_halo": "#FFFFFF", "road_label": "#4A5262", "water_label": "#3C6E9A", "district_label": "#1F2937"},
    "dark": {"background": "#0E1621", "water": "#15324D", "water_line": "#1E4669", "district": "#7D8DA6",
             "town": "#3C4A5E", "road": "#2A3648", "road_case": "#111A26", "major": "#3A4A60",
             "major_case": "#141E2B", "minor": "#222D3C", "rail": "#56627A", "label": "#C8D1DE",
             "label_halo": "#0E1621", "road_label": "#93A0B4", "water_label": "#6D9CC4", "district_label": "#E6ECF4"},
}


def _name(lang: str) -> list:
    """The label text: ``name`` (Chinese), or ``name_en`` falling back to ``name`` when ``lang`` is en."""
    if lang == "en":
        return ["coalesce", ["get", "name_en"], ["get", "name"]]
    return ["get", "name"]


def _zoomed(*stops: float) -> list:
    """A linear zoom interpolation over (zoom, value) pairs."""
    return ["interpolate", ["linear"], ["zoom"], *stops]


def _source(tiles_url: str) -> dict[str, Any]:
    src: dict[str, Any] = {"type": "vector", "minzoom": MINZOOM, "maxzoom": MAXZOOM}
    if "{z}" in tiles_url:
        src["tiles"] = [tiles_url]
    else:  # a TileJSON URL
        src["url"] = tiles_url
    return src


def basemap_style(theme: Theme, *, tiles_url: str, lang: str) -> dict[str, Any]:
    """The MapLibre style (version 8) of the built-in basemap.

    Parameters
    ----------
    theme : ``"light"`` or ``"dark"`` (the wall).
    tiles_url : the app's own tile URL, absolute (MapLibre fetches tiles in a web worker, where a bare path does
        not resolve): a template with ``{z}/{x}/{y}`` (``http://host/tiles/base/{z}/{x}/{y}.pbf``) or a TileJSON
        URL (``http://host/tiles/base.json``); ``dashboard.basemap_routes.style_for`` fills in the app's own.
    lang : ``"zh"`` (names) or ``"en"`` (English names where the data has them, else the Chinese).

    The style has no ``glyphs`` and no ``sprite`` key, so MapLibre asks nothing of any other host.
    """
    if theme not in PALETTE:
        raise ValueError(f"未知的主题 {theme!r} (unknown theme {theme!r}; light or dark)")
    c = PALETTE[theme]
    name = _name(lang)
    src = "basemap"
    halo = {"text-halo-color": c["label_halo"], "text-halo-width": 1.6, "text-halo-blur": 0.5}

    def line(id_: str, layer: str, color: str, width: list | float, *, minzoom: float = MINZOOM,
             filter_: list | None = None, dash: list | None = None, opacity: float = 1.0) -> dict[str, Any]:
        out: dict[str, Any] = {"id": id_, "type": "line", "source": src, "source-layer": layer, "minzoom": minzoom,
                               "layout": {"line-join": "round", "line-cap": "round"},
                               "paint": {"line-color": color, "line-width": width, "line-opacity": opacity}}
        if filter_:
            out["filter"] = filter_
        if dash:
            out["paint"]["line-dasharray"] = dash
            out["layout"]["line-cap"] = "butt"
        return out

    def label(id_: str, layer: str, *, size: list | float, color: str, minzoom: float, filter_: list | None = None,
              placement: str = "point", sort: int = 0, text: list | None = None) -> dict[str, Any]:
        layout: dict[str, Any] = {"text-field": text or name, "text-size": size, "symbol-placement": placement,
                                  "text-padding": 4, "symbol-sort-key": sort, "text-max-width": 8}
        if placement == "line":
            layout.update({"symbol-spacing": 300, "text-rotation-alignment": "map", "text-pitch-alignment": "viewport",
                           "text-keep-upright": True, "text-letter-spacing": 0.05})
        out: dict[str, Any] = {"id": id_, "type": "symbol", "source": src, "source-layer": layer,
                               "minzoom": minzoom, "layout": layout,
                               "paint": {"text-color": color, **halo}}
        if filter_:
            out["filter"] = filter_
        return out

    major = ["match", ["get", "road_class"], ["motorway", "primary"], True, False]
    secondary = ["==", ["get", "road_class"], "secondary"]
    layers: list[dict[str, Any]] = [
        {"id": "background", "type": "background", "paint": {"background-color": c["background"]}},
        {"id": "water", "type": "fill", "source": src, "source-layer": "water",
         "paint": {"fill-color": c["water"], "fill-outline-color": c["water_line"]}},
        line("towns-line", "towns", c["town"], _zoomed(10, 0.6, 15, 1.4), minzoom=10, dash=[3, 2]),
        line("roads-minor", "roads_minor", c["minor"], _zoomed(12, 0.6, 15, 4.0), minzoom=12),
        line("roads-secondary-case", "roads", c["road_case"], _zoomed(10, 1.2, 15, 7.0), minzoom=10,
             filter_=secondary),
        line("roads-secondary", "roads", c["road"], _zoomed(10, 0.6, 15, 5.0), minzoom=10, filter_=secondary),
        line("roads-major-case", "roads", c["major_case"], _zoomed(8, 1.2, 12, 3.5, 15, 11.0), filter_=major),
        line("roads-major", "roads", c["major"], _zoomed(8, 0.6, 12, 2.2, 15, 8.0), filter_=major),
        line("rail", "rail", c["rail"], _zoomed(8, 1.0, 15, 2.5)),
        line("rail-ties", "rail", c["background"], _zoomed(8, 0.4, 15, 1.2), dash=[2, 3], minzoom=11),
        line("districts-line", "districts", c["district"], _zoomed(8, 1.2, 15, 2.4), opacity=0.9),
        label("roads-minor-label", "roads_minor", size=11, color=c["road_label"], minzoom=15, placement="line", sort=5),
        label("roads-secondary-label", "roads", size=_zoomed(13, 10, 15, 12), color=c["road_label"], minzoom=13,
              placement="line", filter_=secondary, sort=4),
        label("roads-major-label", "roads", size=_zoomed(11, 10, 15, 13), color=c["road_label"], minzoom=11,
              placement="line", filter_=major, sort=3),
        label("rail-stations-label", "rail_stations", size=11, color=c["label"], minzoom=13, sort=3),
        label("water-label", "places", size=_zoomed(11, 11, 15, 14), color=c["water_label"], minzoom=11,
              filter_=["==", ["get", "kind"], "water"], sort=3),
        label("towns-label", "places", size=_zoomed(10, 11, 15, 14), color=c["label"], minzoom=10.5,
              filter_=["==", ["get", "kind"], "town"], sort=2),
        label("districts-label", "places", size=_zoomed(8, 13, 12, 17, 15, 19), color=c["district_label"],
              minzoom=MINZOOM, filter_=["==", ["get", "kind"], "district"], sort=1),
    ]
    return {"version": 8, "name": f"riskmap-{theme}-{lang}", "sources": {src: _source(tiles_url)}, "layers": layers,
            "metadata": {"riskmap:theme": theme, "riskmap:lang": lang}}


# --------------------------------------------------------------------------------------------------
# the intranet presets
# --------------------------------------------------------------------------------------------------

TIANDITU_DEFAULT = "https://t{s}.tianditu.gov.cn"
AMAP_DEFAULT = "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"


def _wmts_to_xyz(template: str) -> str:
    """A WMTS KVP/REST template with ``{TileMatrix}``/``{TileRow}``/``{TileCol}`` -> ``{z}``/``{y}``/``{x}``."""
    for a, b in (("{TileMatrix}", "{z}"), ("{TileRow}", "{y}"), ("{TileCol}", "{x}")):
        template = template.replace(a, b)
    return template


def _subdomains(template: str, names: str) -> list[str]:
    return [template.replace("{s}", s) for s in names] if "{s}" in template else [template]


def tianditu_tiles(*, base: str, token: str, layer: str, labels: bool, lang: str) -> list[str]:
    """Tianditu WMTS tile URLs (Web Mercator ``_w`` sets): ``vec``/``img`` or their annotations (``cva``/``cia``,
    English ``eva``/``eia``)."""
    if labels:
        layer = {"vec": "cva", "img": "cia"}[layer] if lang != "en" else {"vec": "eva", "img": "eia"}[layer]
    url = (f"{base.rstrip('/')}/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER={layer}&STYLE=default"
           f"&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}")
    if token:
        url += f"&tk={token}"
    return _subdomains(url, "01234567")


def _raster_style(sources: dict[str, list[str]], theme: Theme) -> dict[str, Any]:
    c = PALETTE[theme]
    layers: list[dict[str, Any]] = [{"id": "background", "type": "background",
                                     "paint": {"background-color": c["background"]}}]
    out_sources = {}
    for name, tiles in sources.items():
        out_sources[name] = {"type": "raster", "tiles": tiles, "tileSize": 256, "maxzoom": 18}
        layers.append({"id": name, "type": "raster", "source": name})
    return {"version": 8, "name": f"riskmap-raster-{theme}", "sources": out_sources, "layers": layers}


def map_style(settings: Settings, *, theme: Theme, lang: str, tiles_url: str) -> dict[str, Any] | str:
    """The style the map draws on for the configured preset (``RISKMAP_BASEMAP``).

    ``builtin``: :func:`basemap_style` over ``tiles_url`` (our own tiles). ``style_url``: the URL (MapLibre loads
    it). ``xyz``/``wmts``/``amap``: one raster source with the template. ``tianditu``: the map layer (``vec`` or
    ``img``) and its annotation layer. Raster styles have no labels of ours (they would not line up with a GCJ-02
    raster), no glyphs and no sprite."""
    preset = effective_preset(settings)
    url = settings.basemap_url or (settings.tile_url if preset == "xyz" else "")
    if preset == "builtin":
        return basemap_style(theme, tiles_url=tiles_url, lang=lang)
    if preset == "style_url":
        return url
    if preset == "xyz":
        return _raster_style({"tiles": _subdomains(url, "abc")}, theme)
    if preset == "wmts":
        return _raster_style({"tiles": _subdomains(_wmts_to_xyz(url), "abc")}, theme)
    if preset == "amap":
        return _raster_style({"tiles": _subdomains(url or AMAP_DEFAULT, "1234")}, theme)
    if preset == "tianditu":
        base = url or TIANDITU_DEFAULT
        layer = settings.tianditu_layer
        return _raster_style({"tianditu": tianditu_tiles(base=base, token=settings.tianditu_token, layer=layer,
                                                         labels=False, lang=lang),
                              "tianditu-labels": tianditu_tiles(base=base, token=settings.tianditu_token, layer=layer,
                                                                labels=True, lang=lang)}, theme)
    raise ValueError(f"未知的底图预设 {preset!r} (unknown basemap preset {preset!r})")


def external_origins(settings: Settings) -> list[str]:
    """The origins (``scheme://host[:port]``) the browser must reach for the configured preset: none for the
    built-in basemap; the style's or the tiles' hosts otherwise (the page's Content-Security-Policy allows
    exactly these, for images and for fetches)."""
    from urllib.parse import urlsplit

    style = map_style(settings, theme="light", lang="zh", tiles_url="/tiles/base/{z}/{x}/{y}.pbf")
    urls = [style] if isinstance(style, str) else \
        [u for src in style.get("sources", {}).values() for u in (src.get("tiles") or [src.get("url") or ""])]
    out: list[str] = []
    for u in urls:
        parts = urlsplit(u)
        if parts.scheme in ("http", "https") and parts.netloc:
            origin = f"{parts.scheme}://{parts.netloc}"
            if origin not in out:
                out.append(origin)
    return out


__all__ = ["PALETTE", "basemap_style", "map_style", "tianditu_tiles", "external_origins"]
