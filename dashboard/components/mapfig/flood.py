"""The flood layers of flood-season mode (汛期), drawn over a map figure: flood points by severity, the flood
supplies (pumps, sandbags, boats, generators: grey when out of service) and the underground spaces at risk
(tunnels and underpasses, a cyan ring). Made from a :class:`layers.emergency.flood_season.FloodPicture`, which is
already narrowed to the user's area. Circles only (see ``traces``); not hovered (the wall is watched)."""

from __future__ import annotations

import numpy as np

from dashboard.components.mapfig.traces import legend_key, points_trace
from dashboard.i18n import register, t
from layers.schema import FLOOD_SEVERITY, RESOURCE_KINDS, label

register({
    "map.flood.title": ("汛期图层", "Flood season"),
    "map.flood.unrated": ("未分级内涝点", "Flood point, unrated"),
    "map.flood.underground": ("隧道 / 下穿通道", "Tunnel / underpass"),
    "map.flood.out_of_service": ("物资停用维修", "Supply out of service"),
})

UNDERGROUND_COLOUR = "#00E5FF"
OUT_OF_SERVICE = "#6B7480"
UNRATED = "#9AA5B1"
_SIZE = {"severe": 15.0, "moderate": 12.0, "minor": 9.0, "unrated": 8.0}


def severity_colour(severity: str) -> str:
    return FLOOD_SEVERITY.get(severity, {"color": UNRATED})["color"]


def flood_traces(fp, *, lang: str, font_scale: float = 1.0, crs: str = "wgs84", legend: bool = True,
                 paper: str = "#06101f") -> list[dict]:
    """Scattermap trace dicts for ``fp`` (bottom to top: underground rings, supplies, flood points), then legend
    keys when ``legend``. Empty frames draw nothing."""
    fs = font_scale
    out: list[dict] = []
    ug = fp.underground
    ug = ug[ug["x"].notna() & ug["y"].notna()]
    if len(ug):
        x, y = ug["x"].to_numpy(float), ug["y"].to_numpy(float)
        out.append(points_trace(x, y, name="flood_underground", color=UNDERGROUND_COLOUR, size=20 * fs, text=None,
                                custom=None, opacity=0.9, crs=crs))
        out.append(points_trace(x, y, name="flood_underground_centre", color=paper, size=13 * fs, text=None,
                                custom=None, opacity=1.0, crs=crs))
    sp = fp.supplies
    sp = sp[sp["x"].notna() & sp["y"].notna()]
    if len(sp):
        ready = sp["ready"].to_numpy(dtype=bool)
        colours = np.array([RESOURCE_KINDS.get(k, {"color": OUT_OF_SERVICE})["color"] for k in sp["kind"]],
                           dtype=object)
        colours[~ready] = OUT_OF_SERVICE
        out.append(points_trace(sp["x"].to_numpy(float), sp["y"].to_numpy(float), name="flood_supplies",
                                color=colours, size=10 * fs, text=None, custom=None, opacity=0.95, crs=crs))
    pt = fp.points
    pt = pt[pt["x"].notna() & pt["y"].notna()]
    if len(pt):
        # worst drawn last (on top)
        order = np.argsort(pt["severity"].map({"severe": 3, "moderate": 2, "minor": 1}).fillna(0).to_numpy(),
                           kind="stable")
        pt = pt.iloc[order]
        sev = pt["severity"].astype(str).to_numpy()
        out.append(points_trace(pt["x"].to_numpy(float), pt["y"].to_numpy(float), name="flood_points",
                                color=np.array([severity_colour(s) for s in sev], dtype=object),
                                size=np.array([_SIZE.get(s, 8.0) for s in sev]) * fs, text=None, custom=None,
                                opacity=0.95, crs=crs))
    if legend:
        title = t("map.flood.title", lang)
        keys = [(label(FLOOD_SEVERITY, s, lang) + " · " + t("map.toggle.flood_points", lang), severity_colour(s), 12)
                for s in FLOOD_SEVERITY if (pt["severity"] == s).any()]
        if (pt["severity"] == "unrated").any():
            keys.append((t("map.flood.unrated", lang), UNRATED, 9))
        if len(ug):
            keys.append((t("map.flood.underground", lang), UNDERGROUND_COLOUR, 13))
        for k in (k for k in RESOURCE_KINDS if len(sp) and (sp["kind"] == k).any()):
            keys.append((label(RESOURCE_KINDS, k, lang), RESOURCE_KINDS[k]["color"], 10))
        if len(sp) and (~sp["ready"].to_numpy(dtype=bool)).any():
            keys.append((t("map.flood.out_of_service", lang), OUT_OF_SERVICE, 10))
        for i, (name, colour, size) in enumerate(keys):
            out.append(legend_key(name, "flood", color=colour, size=size, title=title if i == 0 else None))
    return out


__all__ = ["flood_traces", "severity_colour", "UNDERGROUND_COLOUR"]
