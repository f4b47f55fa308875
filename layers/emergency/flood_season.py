"""Flood season mode (汛期模式): when it is on, and what it puts forward.

**When it is on** (:func:`flood_mode`): ``Settings.flood_mode`` ``1`` forces it on and ``0`` forces it off,
whatever the date or the warning. ``auto`` (the default) turns it on within ``Settings.flood_season`` (a
month-day range, both ends included; a range such as ``11-15..02-15`` wraps the year end), and also out of
season while a weather warning of a flood-relevant kind (:data:`FLOOD_WARNING_KINDS`: rainstorm, typhoon,
flood) at :data:`MODE_LEVEL` (yellow) or above is in force. Heat and thunderstorm warnings do not turn it on
(the wall shows their banner all the same).

**What it puts forward** (:func:`flood_picture`), within the user's area (``Access``):

* flood points (内涝点) by severity, with their waterlogging history: the count and the worst depth of their
  ``flood_events`` since the start of the last :data:`HISTORY_SEASONS` flood seasons up to "as of". The severity
  is the recorded one; a point recorded without one is classed by the worst depth known for it (its
  ``max_depth_cm`` or an event): at least :data:`DEPTH_SEVERE_CM` cm severe, at least :data:`DEPTH_MODERATE_CM`
  cm moderate, any other depth minor, no depth at all ``unrated`` (``severity_source`` says which);
* drainage pumps, sandbags, boats and generators (resources of :data:`SUPPLY_KINDS`) with their status; a
  resource without a status counts as ready (rows from before the status column); ``capacity`` is the count it
  holds (pumps, bags, boats, generators);
* underground spaces at risk: every tunnel (a road below the ground around it) and every flood point of kind
  underpass (下穿通道), each flagged when it also lies in a low area;
* construction sites (enterprises of industry ``construction`` not closed) and crowded venues in low areas.

**Low area** (低洼区域): the store has no elevation model, so "low" is read from where water has been: within
:data:`LOW_POINT_M` m (300) of a severe or moderate flood point, or within :data:`LOW_WATER_M` m (100) of a
river or lake (the ``water`` layer). Distances in the city's local metric CRS (UTM). It is a proxy for
elevation, not a survey of it; a city with a DEM should replace it.

Everything is counted per district (:attr:`FloodPicture.by_district`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import shapely

from layers.access.policy import Access
from layers.analysis.summary import load_city
from layers.cache import StoreCache
from layers.emergency.duty import WeatherWarning, current_warning, level_rank
from layers.schema import FLOOD_SEVERITY
from layers.store import Store, cached_read

#: warning kinds that bring water: at MODE_LEVEL or above they turn flood mode on out of season (mode auto)
FLOOD_WARNING_KINDS = ("rainstorm", "typhoon", "flood")
MODE_LEVEL = "yellow"
#: resource kinds shown as flood supplies
SUPPLY_KINDS = ("drainage_pump", "sandbags", "boat", "generator")
#: severities in order, worst first; "unrated" for a point with neither a severity nor a depth
SEVERITY_ORDER = (*FLOOD_SEVERITY, "unrated")
DEPTH_SEVERE_CM = 50
DEPTH_MODERATE_CM = 30
#: a low area: within this many metres of a severe or moderate flood point ...
LOW_POINT_M = 300.0
#: ... or of water
LOW_WATER_M = 100.0
#: waterlogging history: events since the start of this many flood seasons (the latest one begun by "as of")
HISTORY_SEASONS = 3
#: industries whose sites are listed when in a low area
SITE_INDUSTRIES = ("construction",)


# --------------------------------------------------------------------------------------------------
# Season and mode
# --------------------------------------------------------------------------------------------------

def season_range(settings: Any) -> tuple[tuple[int, int], tuple[int, int]]:
    """((month, day), (month, day)) of ``settings.flood_season`` (``"06-01..09-30"``)."""
    first, last = str(settings.flood_season).split("..")
    m0, d0 = (int(v) for v in first.split("-"))
    m1, d1 = (int(v) for v in last.split("-"))
    return (m0, d0), (m1, d1)


def in_flood_season(day: date, settings: Any) -> bool:
    """Whether ``day`` lies in the flood season (both ends included; a range that wraps the year end is read
    across it)."""
    lo, hi = season_range(settings)
    md = (day.month, day.day)
    return lo <= md <= hi if lo <= hi else (md >= lo or md <= hi)


def season_start(day: date, settings: Any) -> date:
    """The first day of the latest flood season that began on or before ``day``."""
    (m, d), _ = season_range(settings)
    for year in (day.year, day.year - 1):
        try:
            start = date(year, m, d)
        except ValueError:   # 02-29 in a year without it
            start = date(year, m, 28)
        if start <= day:
            return start
    return date(day.year - 1, m, min(d, 28))


@dataclass(frozen=True)
class FloodMode:
    """Whether flood mode is on and why. ``reason``: ``forced_on``, ``forced_off``, ``season`` (within the flood
    season), ``warning`` (out of season, a flood-relevant warning is in force) or ``off_season``."""

    on: bool
    reason: str
    warning: WeatherWarning | None
    season: str

    @property
    def alert(self) -> bool:
        """Flood mode is on and an orange or red warning of a flood-relevant kind is in force: the wall puts
        flood risk first (a red heat warning does not)."""
        return bool(self.on and flood_relevant(self.warning) and self.warning.alert)

    @property
    def key(self) -> str:
        """Changes whenever what the wall draws for the mode or the warning would change."""
        w = self.warning
        return f"{int(self.on)}:{self.reason}:{w.id if w else ''}"


def flood_relevant(warning: WeatherWarning | None) -> bool:
    """A warning in force of a kind that brings water, at yellow or above."""
    return bool(warning is not None and warning.active and warning.kind in FLOOD_WARNING_KINDS
                and level_rank(warning.level) >= level_rank(MODE_LEVEL))


def flood_mode(day: date, settings: Any, store: Store | None) -> FloodMode:
    """Flood mode on ``day`` and the reason (see the module docstring); the warning in force comes from
    ``store`` (None: no warning is considered)."""
    warning = current_warning(store) if store is not None else None
    mode = str(settings.flood_mode)
    if mode == "1":
        return FloodMode(True, "forced_on", warning, settings.flood_season)
    if mode == "0":
        return FloodMode(False, "forced_off", warning, settings.flood_season)
    if in_flood_season(day, settings):
        return FloodMode(True, "season", warning, settings.flood_season)
    if flood_relevant(warning):
        return FloodMode(True, "warning", warning, settings.flood_season)
    return FloodMode(False, "off_season", warning, settings.flood_season)


def flood_mode_on(day: date, settings: Any, store: Store | None) -> bool:
    """Whether flood mode is on on ``day`` (:func:`flood_mode`)."""
    return flood_mode(day, settings, store).on


# --------------------------------------------------------------------------------------------------
# What flood mode puts forward
# --------------------------------------------------------------------------------------------------

@dataclass
class FloodPicture:
    """What flood mode shows, within one user's area. Frames carry ``district_code``, ``town_code``, ``x``,
    ``y`` (lon, lat). Do not modify (cached)."""

    as_of: date
    since: date
    points: pd.DataFrame        # id, name, kind, severity, severity_source, max_depth_cm, events, worst_depth_cm,
    #                             last_event, low_area ...
    supplies: pd.DataFrame      # id, name, kind, status, ready, capacity, phone ...
    underground: pd.DataFrame   # layer (tunnels | flood_points), id, name, kind, severity, low_area ...
    exposed: pd.DataFrame       # layer (enterprises | venues), id, name, kind, capacity, near, distance_m ...
    by_district: pd.DataFrame   # one row per district in the area: code, name, name_en and the counts
    definitions: dict[str, Any] = field(default_factory=dict)

    def worst(self, n: int = 5) -> pd.DataFrame:
        """The ``n`` worst flood points: by severity, then worst depth, then the number of events."""
        p = self.points
        if not len(p):
            return p
        rank = p["severity"].map({s: i for i, s in enumerate(SEVERITY_ORDER)}).fillna(len(SEVERITY_ORDER))
        return p.assign(_r=rank, _d=p["worst_depth_cm"].fillna(-1)).sort_values(
            ["_r", "_d", "events", "id"], ascending=[True, False, False, True], kind="stable").head(n) \
            .drop(columns=["_r", "_d"])

    def totals(self) -> dict[str, int]:
        """The area's counts (the sum of :attr:`by_district`)."""
        cols = [c for c in self.by_district.columns if c not in ("code", "name", "name_en")]
        return {c: int(self.by_district[c].sum()) for c in cols}


def severity_of(recorded: Any, depth_cm: Any) -> tuple[str, str]:
    """(severity, source): the recorded severity (``"recorded"``), or one from the worst depth (``"depth"``), or
    ``("unrated", "none")``."""
    if isinstance(recorded, str) and recorded in FLOOD_SEVERITY:
        return recorded, "recorded"
    if depth_cm is None or pd.isna(depth_cm):
        return "unrated", "none"
    d = float(depth_cm)
    return ("severe" if d >= DEPTH_SEVERE_CM else "moderate" if d >= DEPTH_MODERATE_CM else "minor"), "depth"


_PICTURES: StoreCache[FloodPicture] = StoreCache("flood_picture", maxsize=16)


def flood_picture(store: Store, settings: Any, as_of: date, access: Access) -> FloodPicture:
    """What flood mode puts forward as of ``as_of`` (the history window ends there), narrowed to ``access``'s
    area (a district user sees their district, a town user their town). Cached per store data version,
    day, area and season."""
    key = ("flood", as_of.isoformat(), access.districts, access.towns, str(settings.flood_season))
    return _PICTURES.get(store, lambda: _flood_picture(store, settings, as_of, access), key=key)


def _metric(x: np.ndarray, y: np.ndarray, epsg: int) -> np.ndarray:
    from pyproj import Transformer

    tr = Transformer.from_crs(4326, epsg, always_xy=True)
    mx, my = tr.transform(np.asarray(x, float), np.asarray(y, float))
    return shapely.points(mx, my)


def _metric_geoms(geoms: np.ndarray, epsg: int) -> np.ndarray:
    from pyproj import Transformer

    tr = Transformer.from_crs(4326, epsg, always_xy=True)
    return shapely.transform(geoms, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))


def _near(geoms: np.ndarray, refs: np.ndarray, distance: float) -> tuple[np.ndarray, np.ndarray]:
    """Per geometry: whether a reference lies within ``distance`` (metres), and the nearest such distance."""
    hit = np.zeros(len(geoms), dtype=bool)
    dist = np.full(len(geoms), np.nan)
    ok = ~shapely.is_missing(geoms) if len(geoms) else np.zeros(0, bool)
    if not len(refs) or not ok.any():
        return hit, dist
    tree = shapely.STRtree(refs)
    idx = np.flatnonzero(ok)
    gi, ri = tree.query(geoms[idx], predicate="dwithin", distance=distance)
    if len(gi):
        d = shapely.distance(geoms[idx][gi], refs[ri])
        best = pd.Series(d).groupby(gi).min()
        hit[idx[best.index.to_numpy()]] = True
        dist[idx[best.index.to_numpy()]] = best.to_numpy()
    return hit, dist


def _flood_picture(store: Store, settings: Any, as_of: date, access: Access) -> FloodPicture:
    city = load_city(store)
    epsg = city.metric_epsg
    first = season_start(as_of, settings)
    since = date(first.year - (HISTORY_SEASONS - 1), first.month, min(first.day, 28) if first.month == 2
                 else first.day)

    # -- flood points and their history (the history of every point: the reference for low areas) -------
    fp = city.objects["flood_points"]
    ev = pd.DataFrame(cached_read(store, "flood_events"))
    if len(ev):
        d = pd.to_datetime(ev["date"], errors="coerce")
        ev = ev[(d >= pd.Timestamp(since)) & (d <= pd.Timestamp(as_of))].assign(date=d)
    hist = ev.groupby(ev["point_id"].astype(str)).agg(events=("id", "size"), worst=("depth_cm", "max"),
                                                      last_event=("date", "max")) if len(ev) else \
        pd.DataFrame(columns=["events", "worst", "last_event"])
    ids = fp["id"].astype(str)
    h = hist.reindex(ids)
    events = h["events"].fillna(0).astype(int).to_numpy()
    ev_worst = pd.to_numeric(h["worst"], errors="coerce").to_numpy(dtype=float)
    stored = pd.to_numeric(fp["max_depth_cm"], errors="coerce").to_numpy(dtype=float) if "max_depth_cm" in fp \
        else np.full(len(fp), np.nan)
    known = np.fmax(stored, ev_worst)   # NaN only where both are
    sev_col = fp["severity"] if "severity" in fp else pd.Series(None, index=fp.index)
    sev = [severity_of(s, k) for s, k in zip(sev_col, known, strict=True)]
    points = pd.DataFrame({
        "id": ids.to_numpy(), "name": fp["name"].to_numpy(dtype=object), "kind": fp["kind"].to_numpy(dtype=object),
        "severity": [s for s, _ in sev], "severity_source": [src for _, src in sev],
        "max_depth_cm": stored, "events": events, "worst_depth_cm": np.where(np.isnan(ev_worst), stored, ev_worst),
        "last_event": h["last_event"].to_numpy(), "district_code": fp["district_code"].to_numpy(dtype=object),
        "town_code": fp["town_code"].to_numpy(dtype=object), "x": fp["x"].to_numpy(float),
        "y": fp["y"].to_numpy(float)})
    has_xy = points["x"].notna().to_numpy() & points["y"].notna().to_numpy()
    pm = np.full(len(points), None, dtype=object)
    if has_xy.any():
        pm[has_xy] = _metric(points.loc[has_xy, "x"], points.loc[has_xy, "y"], epsg)
    wet = has_xy & points["severity"].isin(("severe", "moderate")).to_numpy()
    wet_refs = pm[wet]
    water = city.lines.get("water")
    water_refs = _metric_geoms(np.asarray(water.geometry.values), epsg) if water is not None and len(water) \
        else np.empty(0, dtype=object)

    def low(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(in a low area, what makes it low: flood_point | water | None, distance in m)."""
        near_p, dp = _near(geoms, wet_refs, LOW_POINT_M)
        near_w, dw = _near(geoms, water_refs, LOW_WATER_M)
        what = np.where(near_p, "flood_point", np.where(near_w, "water", None)).astype(object)
        return near_p | near_w, what, np.where(near_p, dp, dw)

    # a flood point is itself in a low area when another severe/moderate point or water is near (itself aside)
    points["low_area"] = low(pm)[0] | wet

    # -- supplies ----------------------------------------------------------------------------------------
    rs = city.objects["resources"]
    rs = rs[rs["kind"].isin(SUPPLY_KINDS)]
    status = rs["status"].astype(object).where(rs["status"].notna(), None) if "status" in rs else \
        pd.Series(None, index=rs.index, dtype=object)
    supplies = pd.DataFrame({
        "id": rs["id"].astype(str).to_numpy(), "name": rs["name"].to_numpy(dtype=object),
        "kind": rs["kind"].to_numpy(dtype=object), "status": status.to_numpy(dtype=object),
        "ready": np.array([s in (None, "ready") for s in status], dtype=bool),
        "capacity": pd.to_numeric(rs["capacity"], errors="coerce").to_numpy(dtype=float),
        "phone": rs["phone"].to_numpy(dtype=object) if "phone" in rs else None,
        "district_code": rs["district_code"].to_numpy(dtype=object), "town_code": rs["town_code"].to_numpy(dtype=object),
        "x": rs["x"].to_numpy(float), "y": rs["y"].to_numpy(float)})

    # -- underground: tunnels and underpasses ------------------------------------------------------------
    tn = city.objects["tunnels"]
    lines = city.lines.get("tunnels")
    geom_of = dict(zip(lines["id"].astype(str), lines.geometry.values, strict=True)) if lines is not None and \
        len(lines) else {}
    tg = np.array([geom_of.get(str(i)) for i in tn["id"]], dtype=object)
    fall_back = shapely.is_missing(tg) & tn["x"].notna().to_numpy()
    if fall_back.any():
        tg[fall_back] = shapely.points(tn.loc[fall_back, "x"].to_numpy(float), tn.loc[fall_back, "y"].to_numpy(float))
    tm = np.full(len(tn), None, dtype=object)
    ok = ~shapely.is_missing(tg)
    if ok.any():
        tm[ok] = _metric_geoms(tg[ok], epsg)
    t_low, _, _ = low(tm)
    under = points[points["kind"].eq("underpass").to_numpy()]
    underground = pd.concat([
        pd.DataFrame({"layer": "tunnels", "id": tn["id"].astype(str).to_numpy(), "name": tn["name"].to_numpy(dtype=object),
                      "kind": "tunnel", "severity": None, "low_area": t_low,
                      "district_code": tn["district_code"].to_numpy(dtype=object),
                      "town_code": tn["town_code"].to_numpy(dtype=object), "x": tn["x"].to_numpy(float),
                      "y": tn["y"].to_numpy(float)}),
        pd.DataFrame({"layer": "flood_points", "id": under["id"].to_numpy(), "name": under["name"].to_numpy(),
                      "kind": "underpass", "severity": under["severity"].to_numpy(),
                      "low_area": under["low_area"].to_numpy(dtype=bool),
                      "district_code": under["district_code"].to_numpy(), "town_code": under["town_code"].to_numpy(),
                      "x": under["x"].to_numpy(float), "y": under["y"].to_numpy(float)}),
    ], ignore_index=True)

    # -- construction sites and crowded venues in low areas ------------------------------------------------
    parts = []
    ent = city.objects["enterprises"]
    ent = ent[ent["industry"].isin(SITE_INDUSTRIES).to_numpy() &
              ~ent["status"].astype(object).eq("closed").to_numpy()] if "status" in ent else \
        ent[ent["industry"].isin(SITE_INDUSTRIES)]
    for layer, f, kind_col in (("enterprises", ent, "industry"), ("venues", city.objects["venues"], "kind")):
        f = f[f["x"].notna() & f["y"].notna()]
        if not len(f):
            continue
        is_low, what, dist = low(_metric(f["x"], f["y"], epsg))
        f = f[is_low]
        parts.append(pd.DataFrame({
            "layer": layer, "id": f["id"].astype(str).to_numpy(), "name": f["name"].to_numpy(dtype=object),
            "kind": f[kind_col].to_numpy(dtype=object),
            "capacity": pd.to_numeric(f["capacity"], errors="coerce").to_numpy(float) if "capacity" in f
            else np.full(len(f), np.nan),
            "near": what[is_low], "distance_m": np.round(dist[is_low], 0),
            "district_code": f["district_code"].to_numpy(dtype=object),
            "town_code": f["town_code"].to_numpy(dtype=object), "x": f["x"].to_numpy(float),
            "y": f["y"].to_numpy(float)}))
    exposed = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=[
        "layer", "id", "name", "kind", "capacity", "near", "distance_m", "district_code", "town_code", "x", "y"])

    # -- the user's area ---------------------------------------------------------------------------------
    points, supplies, underground, exposed = (access.narrow(f).reset_index(drop=True)
                                              for f in (points, supplies, underground, exposed))
    districts = city.districts
    if access.districts is not None:
        districts = districts[districts["code"].isin(list(access.districts))]
    by_district = _by_district(districts, points, supplies, underground, exposed)
    return FloodPicture(as_of=as_of, since=since, points=points, supplies=supplies, underground=underground,
                        exposed=exposed, by_district=by_district, definitions={
                            "low_point_m": LOW_POINT_M, "low_water_m": LOW_WATER_M, "history_seasons": HISTORY_SEASONS,
                            "depth_severe_cm": DEPTH_SEVERE_CM, "depth_moderate_cm": DEPTH_MODERATE_CM})


def _by_district(districts: pd.DataFrame, points: pd.DataFrame, supplies: pd.DataFrame, underground: pd.DataFrame,
                 exposed: pd.DataFrame) -> pd.DataFrame:
    codes = districts["code"].astype(str).tolist()
    out = pd.DataFrame({"code": codes, "name": districts["name"].to_numpy(dtype=object),
                        "name_en": districts["name_en"].to_numpy(dtype=object) if "name_en" in districts else None})

    def count(frame: pd.DataFrame, mask: Any = None, value: str | None = None) -> np.ndarray:
        f = frame if mask is None else frame[np.asarray(mask, dtype=bool)]
        if value is None:
            s = f.groupby(f["district_code"].astype(str)).size()
        else:
            s = f.groupby(f["district_code"].astype(str))[value].sum()
        return s.reindex(codes).fillna(0).astype(int).to_numpy()

    for sv in SEVERITY_ORDER:
        out[f"points_{sv}"] = count(points, points["severity"].eq(sv))
    out["events"] = count(points, None, "events") if len(points) else 0
    for k in SUPPLY_KINDS:
        m = supplies["kind"].eq(k).to_numpy()
        out[f"{k}_sites"] = count(supplies, m)
        out[f"{k}_ready"] = count(supplies, m & supplies["ready"].to_numpy(dtype=bool))
        units = supplies.assign(capacity=supplies["capacity"].fillna(0))
        out[f"{k}_units"] = count(units, m & supplies["ready"].to_numpy(dtype=bool), "capacity") if len(units) \
            else 0
    out["underpasses"] = count(underground, underground["kind"].eq("underpass"))
    out["tunnels"] = count(underground, underground["kind"].eq("tunnel"))
    out["underground_low"] = count(underground, underground["low_area"].astype(bool))
    out["sites_low"] = count(exposed, exposed["layer"].eq("enterprises"))
    out["venues_low"] = count(exposed, exposed["layer"].eq("venues"))
    return out


__all__ = ["FLOOD_WARNING_KINDS", "MODE_LEVEL", "SUPPLY_KINDS", "SEVERITY_ORDER", "LOW_POINT_M", "LOW_WATER_M",
           "HISTORY_SEASONS", "FloodMode", "FloodPicture", "in_flood_season", "season_range", "season_start",
           "flood_mode", "flood_mode_on", "flood_relevant", "flood_picture", "severity_of"]
