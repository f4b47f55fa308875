"""What a coverage computation gives: :class:`CoverageResult`, its city-wide summary, and the kinds of
supervision gap, blind spot and uncounted inspection with their words (zh, en)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd

GAP_KINDS: dict[str, tuple[str, str]] = {
    "no_department": ("无监管部门", "No supervising department"),
    "no_lead": ("多部门无牵头", "Several departments, no lead"),
    "no_officer": ("未落实包保责任人", "Officer missing"),
    "district_mismatch": ("登记区县与位置不符", "Registered district differs from location"),
    "outside_districts": ("不在任何区县内", "Outside every district"),
}
BLIND_KINDS: dict[str, tuple[str, str]] = {
    "not_inspected": ("期内无检查", "Not inspected in the window"),
    "out_of_reach": ("超出检查组到达范围", "Beyond every team's reach"),
}
IGNORED_KINDS: dict[str, tuple[str, str]] = {
    "future": ("检查日期晚于今天（应已被导入隔离）", "dated after today (the importer quarantines these)"),
    "after_as_of": ("检查日期晚于统计日期，不计入", "dated after the as-of date, not counted"),
    "no_date": ("检查记录无日期", "no date"),
    "unknown_target": ("检查对象不存在", "target object not found"),
    "closed_enterprise": ("检查对象为已关闭企业，不计入覆盖统计", "target is a closed enterprise, left out of coverage"),
}


@dataclass(frozen=True, eq=False)
class CoverageResult:
    """Coverage as of one date. Frames are EPSG:4326; callers must not modify them (copy first).

    Attributes
    ----------
    dead_corners : GeoDataFrame of points, one row per overdue object, highest ``score`` first.
    blind_spots : GeoDataFrame of H3 hexagons, one row per blind cell, highest ``risk`` first.
    supervision_gaps : DataFrame, one row per (object, gap kind).
    by_district, by_town : DataFrames of shares and counts.
    ignored_inspections : DataFrame (kind, count, reason_zh, reason_en) of inspections that did not count.
    future_inspections : DataFrame of the inspections dated after today (id, target_layer, target_id, date).
    cells : DataFrame of every risk-carrying cell (cell, lon, lat, x, y, risk, n_objects, last_inspection,
        inspected, travel_min, off_road_m (metres from the cell centre to the road, over roads), in_reach,
        district_code, town_code).
    summary : dict of city-wide figures.
    """

    as_of: date
    dead_corners: gpd.GeoDataFrame
    blind_spots: gpd.GeoDataFrame
    supervision_gaps: pd.DataFrame
    by_district: pd.DataFrame
    by_town: pd.DataFrame
    ignored_inspections: pd.DataFrame
    future_inspections: pd.DataFrame
    cells: pd.DataFrame
    summary: dict
    reach: dict = field(default_factory=dict)
    _travel: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = field(default=None, repr=False)

    def for_districts(self, codes: Iterable[str] | None) -> CoverageResult:
        """The same result narrowed to ``codes`` (None = the whole city), for a district leader."""
        if codes is None:
            return self
        codes = set(codes)

        def keep(frame: pd.DataFrame, col: str = "district_code") -> pd.DataFrame:
            return frame[frame[col].isin(codes)] if len(frame) else frame

        gaps = self.supervision_gaps
        if len(gaps):
            gaps = gaps[gaps["district_code"].isin(codes) | gaps["located_district"].isin(codes)]
        return CoverageResult(
            as_of=self.as_of, dead_corners=keep(self.dead_corners), blind_spots=keep(self.blind_spots),
            supervision_gaps=gaps, by_district=keep(self.by_district), by_town=keep(self.by_town),
            # inspections that did not count are a city-wide data matter (the importer's report): not narrowed
            ignored_inspections=self.ignored_inspections.iloc[0:0], future_inspections=self.future_inspections.iloc[0:0],
            cells=keep(self.cells),
            summary=city_summary(keep(self.by_district), keep(self.cells)), reach=self.reach, _travel=self._travel)

    def for_towns(self, codes: Iterable[str] | None) -> CoverageResult:
        """The same result narrowed to the towns ``codes`` (None = no narrowing), for a town leader: its objects,
        cells and gaps, and its own row in place of the district's."""
        if codes is None:
            return self
        codes = set(codes)

        def keep(frame: pd.DataFrame) -> pd.DataFrame:
            return frame[frame["town_code"].isin(codes)] if len(frame) else frame

        towns = keep(self.by_town)
        return CoverageResult(
            as_of=self.as_of, dead_corners=keep(self.dead_corners), blind_spots=keep(self.blind_spots),
            supervision_gaps=keep(self.supervision_gaps), by_district=towns.drop(columns=["town_code"]).iloc[0:0]
            if len(towns) == 0 else towns.drop(columns=["town_code"]), by_town=towns,
            ignored_inspections=self.ignored_inspections.iloc[0:0], future_inspections=self.future_inspections.iloc[0:0],
            cells=keep(self.cells), summary=city_summary(towns, keep(self.cells)), reach=self.reach,
            _travel=self._travel)

    def share_in_time(self, districts: Iterable[str] | None = None, town: str | None = None) -> float | None:
        """The coverage of an area, the one figure every page shows under that name (检查覆盖率): the share of
        its risk weight inspected within each object's interval as of :attr:`as_of`; ``town`` when given, else
        ``districts`` (None: every district of this result). None when the area carries no risk weight."""
        if town is not None:
            rows = self.by_town[self.by_town["town_code"] == town]
        elif districts is not None:
            rows = self.by_district[self.by_district["district_code"].isin(set(districts))]
        else:
            rows = self.by_district
        weight = float(rows["risk_weight"].sum()) if len(rows) else 0.0
        return float(rows["risk_weight_in_time"].sum()) / weight if weight > 0 else None

    def sheets(self, lang: str = "zh") -> dict[str, pd.DataFrame]:
        """Frames for an export (sheet name -> frame), reasons in ``lang`` first."""
        zh = lang != "en"
        names = (("死角", "dead_corners"), ("盲区", "blind_spots"), ("监管空白", "supervision_gaps"),
                 ("分区县", "by_district"), ("分镇街", "by_town"), ("未计入的检查", "ignored_inspections"))
        out = {(n_zh if zh else n_en): getattr(self, n_en) for n_zh, n_en in names}
        g = self.supervision_gaps
        out["监管空白" if zh else "supervision_gaps"] = gpd.GeoDataFrame(
            g, geometry=gpd.points_from_xy(g["lon"].astype(float), g["lat"].astype(float)), crs=4326)
        return out


def city_summary(by_district: pd.DataFrame, cells: pd.DataFrame) -> dict:
    if len(by_district) == 0:
        return {"objects": 0, "risk_weight": 0.0, "share_in_time": None, "risk_cells": int(len(cells)),
                "share_cells_covered": None, "dead_corners": 0, "never_inspected": 0, "blind_spots": 0,
                **{f"gap_{k}": 0 for k in GAP_KINDS}}
    tot = by_district.sum(numeric_only=True)
    w = float(tot["risk_weight"])
    rc = int(tot["risk_cells"])
    out = {"objects": int(tot["objects"]), "risk_weight": w,
           "share_in_time": float(tot["risk_weight_in_time"]) / w if w else None,
           "risk_cells": rc, "share_cells_covered": float(tot["risk_cells_covered"]) / rc if rc else None,
           "dead_corners": int(tot["dead_corners"]), "never_inspected": int(tot["never_inspected"]),
           "blind_spots": int(tot["blind_spots"])}
    out.update({f"gap_{k}": int(tot[f"gap_{k}"]) for k in GAP_KINDS})
    return out
