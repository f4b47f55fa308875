"""What a readiness computation gives: :class:`ReadinessResult`, narrowed by area or by an access scope, and its
sheets for an export."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import geopandas as gpd
import pandas as pd

from layers.analysis.readiness.drills import PLAN_GAP_KINDS
from layers.analysis.readiness.summary import city_summary

#: the kinds of readiness gap, with their words
READINESS_GAP_KINDS: dict[str, tuple[str, str]] = {
    "out_of_reach": ("应急资源到达超时", "No resource of a needed kind within its target time"),
    **PLAN_GAP_KINDS,
    "supply_short": ("防汛物资不足", "Flood supplies short"),
}
#: frames narrowed by district/town (``district_supplies`` has no town: a town-wide view leaves it out)
_AREA_FRAMES = ("objects", "reach", "reach_gaps", "register", "plan_gaps", "supplies", "supply_shortfalls",
                "district_supplies", "by_district", "by_town")


def _points(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"].astype(float),
                                                               frame["lat"].astype(float)), crs=4326)


@dataclass(frozen=True, eq=False)
class ReadinessResult:
    """Emergency readiness as of one date. Frames are EPSG:4326 where they have points; callers must not modify
    them (copy first). Every row carries ``district_code`` (and, but for ``district_supplies``, ``town_code``),
    so :meth:`for_access` (or ``Access.narrow`` on any frame) scopes it to a user.

    Attributes
    ----------
    objects : GeoDataFrame, one row per (object, class): key, layer, id, class, name, district_code, town_code,
        lon, lat, severity.
    reach : DataFrame, one row per (object, class, needed kind): target_min, travel_min, nearest_id,
        nearest_name, off_road_m, in_reach, reason_zh/en (None when in reach).
    reach_gaps : GeoDataFrame, the rows of ``reach`` not in reach, longest over the target first.
    register : DataFrame of plans and drills, one row per object whose class asks for drills.
    plan_gaps : GeoDataFrame, one row per (object, gap kind): no_plan, never_drilled, drill_overdue.
    supplies : DataFrame, one row per (flood point, kind its severity needs): need, within, short, nearest.
    supply_shortfalls : GeoDataFrame, the rows of ``supplies`` with something short.
    district_supplies : DataFrame per (district, kind): need, stock, out_of_service, short.
    by_district, by_town : DataFrames of counts (``summary.COUNT_COLUMNS``) and share_ready.
    summary : dict of figures for the whole result.
    info : how travel was measured and the targets used.
    """

    as_of: date
    objects: gpd.GeoDataFrame
    reach: pd.DataFrame
    reach_gaps: gpd.GeoDataFrame
    register: pd.DataFrame
    plan_gaps: gpd.GeoDataFrame
    supplies: pd.DataFrame
    supply_shortfalls: gpd.GeoDataFrame
    district_supplies: pd.DataFrame
    by_district: pd.DataFrame
    by_town: pd.DataFrame
    summary: dict
    info: dict = field(default_factory=dict)
    _travel: Any = field(default=None, repr=False)
    _resources: Any = field(default=None, repr=False)
    _areas: dict = field(default_factory=dict, repr=False)  # districts, towns and roads (for siting's places)

    # ------------------------------------------------------------------ narrowing
    def _narrowed(self, keep: Callable[[str, pd.DataFrame], pd.DataFrame], *, towns: bool) -> ReadinessResult:
        frames = {name: keep(name, getattr(self, name)) for name in _AREA_FRAMES}
        if towns:  # a town-wide view: its own rows in place of the district's
            frames["by_district"] = frames["by_town"].drop(columns=["town_code"]).iloc[0:0]
            summary_rows = frames["by_town"]
        else:
            summary_rows = frames["by_district"]
        ds = frames["district_supplies"]
        stock_short = int((ds["short"].astype(float) > 0).sum()) if len(ds) else 0
        return replace(self, **frames, summary={**city_summary(summary_rows, district_stock_short=stock_short),
                                                "as_of": self.as_of.isoformat()})

    def for_districts(self, codes: Iterable[str] | None) -> ReadinessResult:
        """The same result narrowed to the districts ``codes`` (None = the whole city)."""
        if codes is None:
            return self
        codes = set(codes)
        return self._narrowed(lambda _, f: f[f["district_code"].isin(codes)] if len(f) else f, towns=False)

    def for_towns(self, codes: Iterable[str] | None) -> ReadinessResult:
        """The same result narrowed to the towns ``codes`` (None = no narrowing); per-district stock left out."""
        if codes is None:
            return self
        codes = set(codes)

        def keep(name: str, f: pd.DataFrame) -> pd.DataFrame:
            if "town_code" not in f.columns:
                return f.iloc[0:0]
            return f[f["town_code"].isin(codes)] if len(f) else f
        return self._narrowed(keep, towns=True)

    def for_access(self, access: Any) -> ReadinessResult:
        """The result as a user may see it: every frame through ``access.narrow`` (``layers.access.Access``, from
        the server session); a town-scoped user gets the towns' rows and no per-district stock."""
        if access.districts is None and access.towns is None:
            return self

        def keep(name: str, f: pd.DataFrame) -> pd.DataFrame:
            if access.towns is not None and "town_code" not in f.columns:
                return f.iloc[0:0]
            return access.narrow(f)
        return self._narrowed(keep, towns=access.towns is not None)

    # ------------------------------------------------------------------ export
    def sheets(self, lang: str = "zh") -> dict[str, pd.DataFrame]:
        """Frames for an export (sheet name -> frame), reasons in ``lang`` first."""
        zh = lang != "en"
        names = (("到达缺口", "reach_gaps"), ("预案演练缺口", "plan_gaps"), ("防汛物资缺口", "supply_shortfalls"),
                 ("分区县", "by_district"), ("分镇街", "by_town"), ("区县物资", "district_supplies"),
                 ("预案演练台账", "register"), ("到达时间", "reach"), ("防汛物资", "supplies"))
        out = {}
        for n_zh, n_en in names:
            f = getattr(self, n_en)
            if not zh:
                f = f[[c for c in f.columns if c != "reason_zh"] + (["reason_zh"] if "reason_zh" in f.columns
                                                                     else [])]
            if n_en in ("register", "reach", "supplies") and "lon" in f.columns:
                f = _points(pd.DataFrame(f))
            out[n_zh if zh else n_en] = f
        return out


__all__ = ["ReadinessResult", "READINESS_GAP_KINDS"]
