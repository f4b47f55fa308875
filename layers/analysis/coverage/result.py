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

#: the words (zh, en) heading each column of an export (:meth:`CoverageResult.sheets`), by column name
COLUMNS: dict[str, tuple[str, str]] = {
    "layer": ("图层", "Layer"), "id": ("编号", "ID"), "name": ("名称", "Name"), "name_en": ("英文名称", "English name"),
    "district_code": ("区县代码", "District code"), "town_code": ("镇街代码", "Town code"),
    "located_district": ("所在位置区县代码", "District code by location"), "grade": ("风险等级", "Risk grade"),
    "interval_days": ("检查间隔（天）", "Inspection interval (days)"), "weight": ("风险权重", "Risk weight"),
    "open_major_hazards": ("未销号重大隐患", "Open major hazards"),
    "open_general_hazards": ("未销号一般隐患", "Open general hazards"),
    "last_inspection": ("最近检查日期", "Last inspection"), "days_since": ("距最近检查（天）", "Days since inspection"),
    "days_overdue": ("超期（天）", "Days overdue"), "score": ("优先分值", "Priority score"),
    "reason_zh": ("原因", "Reason (Chinese)"), "reason_en": ("原因（英文）", "Reason"),
    "cell": ("H3 网格", "H3 cell"), "lon": ("经度", "Longitude"), "lat": ("纬度", "Latitude"),
    "x": ("平面坐标 X（米）", "Projected X (m)"), "y": ("平面坐标 Y（米）", "Projected Y (m)"),
    "risk": ("风险值", "Risk"), "n_objects": ("对象数", "Objects"), "inspected": ("期内已检查", "Inspected in the window"),
    "travel_min": ("最近检查组行程（分钟）", "Travel from the nearest team (min)"),
    "off_road_m": ("距道路（米）", "Distance to a road (m)"), "in_reach": ("在到达范围内", "Within reach"),
    "kind": ("类型代码", "Kind code"), "kind_zh": ("类型", "Kind (Chinese)"), "kind_en": ("类型（英文）", "Kind"),
    "objects": ("对象数", "Objects"), "risk_weight": ("风险权重合计", "Total risk weight"),
    "risk_weight_in_time": ("按时检查的风险权重", "Risk weight inspected in time"),
    "share_in_time": ("检查覆盖率", "Inspection coverage"), "dead_corners": ("死角", "Dead corners"),
    "never_inspected": ("从未检查", "Never inspected"),
    **{f"gap_{k}": (f"监管空白：{zh}", f"Supervision gap: {en}") for k, (zh, en) in GAP_KINDS.items()},
    "risk_cells": ("有风险网格", "Risk cells"), "risk_cells_covered": ("已覆盖风险网格", "Risk cells covered"),
    "share_cells_covered": ("网格覆盖率", "Share of cells covered"), "blind_spots": ("盲区", "Blind spots"),
    **{f"blind_{k}": (f"盲区：{zh}", f"Blind spot: {en}") for k, (zh, en) in BLIND_KINDS.items()},
    "count": ("条数", "Count"),
    # suggested bases (``suggest_bases``)
    "rank": ("序号", "Rank"), "method": ("选址方法", "Method"), "road": ("最近道路", "Nearest road"),
    "road_m": ("距最近道路（米）", "Distance to that road (m)"), "risk_gained": ("新增覆盖风险", "Risk newly reached"),
    "cells_gained": ("新增覆盖网格", "Cells newly reached"), "cumulative_risk": ("累计新增覆盖风险", "Cumulative risk reached"),
    "share_of_unreached": ("占未覆盖风险", "Share of the unreached risk"),
    # the geometry as text in a spreadsheet
    "wkt": ("几何（WKT）", "Geometry (WKT)"),
}

#: the sheets of an export: (zh name, en name = attribute of :class:`CoverageResult`)
SHEETS = (("死角", "dead_corners"), ("盲区", "blind_spots"), ("监管空白", "supervision_gaps"),
          ("分区县", "by_district"), ("分镇街", "by_town"), ("未计入的检查", "ignored_inspections"))
BASES_SHEET = ("建议驻地", "suggested_bases")


def headed(frame: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """``frame`` as a spreadsheet table: columns headed in ``lang`` (:data:`COLUMNS`; a column it lacks keeps its
    name), a GeoDataFrame's geometry as WKT text."""
    i = 1 if lang == "en" else 0
    if isinstance(frame, gpd.GeoDataFrame):
        geom = frame.geometry
        frame = pd.DataFrame(frame.drop(columns=geom.name))
        frame["wkt"] = geom.to_wkt()
    return frame.rename(columns={c: COLUMNS[c][i] for c in frame.columns if c in COLUMNS})


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

    def sheets(self, lang: str = "zh", *, bases: pd.DataFrame | None = None,
               gis: bool = False) -> dict[str, pd.DataFrame]:
        """Frames for an export (sheet name -> frame), sheet names in ``lang`` (:data:`SHEETS`); ``bases`` (from
        ``suggest_bases``) as one more sheet.

        By default a spreadsheet's: column headers in ``lang`` (:data:`COLUMNS`), geometries as WKT text. With
        ``gis`` a GeoPackage's: field names kept as the stable identifiers GIS queries and styles refer to,
        geometries as geometry columns."""
        zh = lang != "en"
        frames = {n_en: getattr(self, n_en) for _, n_en in SHEETS}
        g = self.supervision_gaps
        frames["supervision_gaps"] = gpd.GeoDataFrame(
            g, geometry=gpd.points_from_xy(g["lon"].astype(float), g["lat"].astype(float)), crs=4326)
        names = [*SHEETS, *([BASES_SHEET] if bases is not None else [])]
        if bases is not None:
            frames[BASES_SHEET[1]] = bases
        return {(n_zh if zh else n_en): frames[n_en] if gis else headed(frames[n_en], lang)
                for n_zh, n_en in names}


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
