"""What to draw and what comes back: :class:`MapOptions`, :class:`MapFigure`, the layer toggle keys."""

from __future__ import annotations

from dataclasses import dataclass, field

from dashboard.i18n import register, t

#: toggle keys of the layer checklist, in display order (the basemap, its roads, boundaries and labels are
#: always drawn: they are the MapLibre style's own layers)
TOGGLES = ("risk", "enterprises", "enforcement", "hazards", "gas_pipelines", "gas_stations", "bridges", "tunnels", "rail",
           "venues", "resources", "flood_points")
DEFAULT_VISIBLE = frozenset({"risk", "enterprises", "enforcement", "hazards", "gas_pipelines", "bridges", "tunnels", "rail",
                             "venues"})
ALWAYS = "base"
#: above this many enterprises in view, enterprises are drawn as H3 hexagons
POINT_LIMIT = 20_000
HEX_RESOLUTION = 8

register({
    "map.toggle.risk": ("风险指数", "Risk index"),
    "map.toggle.enterprises": ("企业", "Enterprises"),
    "map.toggle.enforcement": ("执法状态（停产、关闭、黑名单、屡查屡犯）", "Enforcement (suspended, closed, blacklist, "
                                                                  "repeat offenders)"),
    "map.toggle.hazards": ("隐患", "Hazards"),
    "map.toggle.gas_pipelines": ("燃气管线", "Gas pipelines"),
    "map.toggle.gas_stations": ("燃气场站", "Gas stations"),
    "map.toggle.bridges": ("桥梁", "Bridges"),
    "map.toggle.tunnels": ("隧道", "Tunnels"),
    "map.toggle.rail": ("轨道交通", "Rail transit"),
    "map.toggle.venues": ("人员密集场所", "Crowded venues"),
    "map.toggle.resources": ("应急资源", "Emergency resources"),
    "map.toggle.flood_points": ("内涝点", "Flood points"),
    "map.toggle.boundaries": ("行政边界", "Boundaries"),
    "map.toggle.roads": ("道路", "Roads"),
    "map.cluster": ("聚合（按等级）", "clustered by grade"),
})


@dataclass(frozen=True)
class MapOptions:
    """How to draw. ``visible`` holds toggle keys (:data:`TOGGLES`); None = :data:`DEFAULT_VISIBLE`."""

    lang: str = "zh"
    theme: str = "light"
    visible: frozenset[str] | None = None
    point_limit: int = POINT_LIMIT
    hex_resolution: int = HEX_RESOLUTION
    #: True: Plotly's legend; "html": no legend traces, the key in ``MapFigure.extra["legend"]`` for a legend
    #: beside the map (:func:`legend.legend_box`); False: none
    legend: bool | str = True
    #: "v": a column at the top right (the wall); "h": rows along the bottom (the map page: the map stays clear)
    legend_orientation: str = "v"
    labels: bool = True
    selected: tuple[str, str] | None = None
    #: the MapLibre style (a dict, or a style URL); None = the configured basemap (:func:`style.basemap_for`)
    style: dict | str | None = field(default=None, hash=False, compare=False)
    #: the CRS to draw in ("gcj02" over GCJ-02 tiles); None = the configured basemap's
    crs: str | None = None
    #: the map's size in the browser, roughly (the initial zoom fits the area into it)
    width_px: int = 1150
    height_px: int = 780
    #: enterprise points are clustered per grade below this zoom (one clustered trace per grade: the cluster
    #: circles show the mix of the four grades at every zoom); 0 = never. Off by default: plotly.js's hover on a
    #: clustered scattermap trace queries a "-circle" layer that cluster mode does not create, so every hover
    #: over the map throws "The layer … does not exist in the map's style" (plotly/dash#2706, open); the city
    #: view of a large city aggregates to H3 cells instead
    cluster_maxzoom: int = 0
    uirevision: str | None = None
    font_scale: float = 1.0
    #: "text": hover labels inside the figure; "events": no labels, hover events only (the page shows a
    #: server-built dcc.Tooltip: a much smaller figure)
    hover: str = "text"


@dataclass
class MapFigure:
    """A figure dict, the toggle key of each trace, and whether enterprises were aggregated to hexagons."""

    figure: dict
    traces: list[str]
    aggregated: bool
    extra: dict = field(default_factory=dict)


def toggle_options(lang: str) -> list[dict]:
    """Checklist options for :data:`TOGGLES`."""
    return [{"label": t(f"map.toggle.{k}", lang), "value": k} for k in TOGGLES]
