"""The readiness page's figures in words: the summary cards, the rows of its grids and the sheets of its export.

Every function takes a result already narrowed to what the user may see (``view.result_for_user``)."""

from __future__ import annotations

import math

import geopandas as gpd
import pandas as pd
from dash import html

from dashboard.i18n import t
from dashboard.readiness.text import header
from layers.analysis.readiness import ReadinessResult
from layers.schema import FLOOD_SEVERITY, READINESS_CLASSES, RESOURCE_KINDS, label

#: rows sent to a grid at most (the export has them all)
TABLE_ROWS = 500


def _pct(v: object) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{float(v):.1%}"


def _num(v: object, nd: int = 1) -> float | None:
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return round(f, nd) if math.isfinite(f) else None


def _reason(r: dict, lang: str) -> str:
    return r.get("reason_en" if lang == "en" else "reason_zh") or ""


def area_names(result: ReadinessResult, lang: str) -> dict[str, str]:
    """District and town code -> name in ``lang`` (the areas of the result)."""
    out: dict[str, str] = {}
    for f, key in ((result.by_district, "district_code"), (result.by_town, "town_code")):
        if len(f) == 0:
            continue
        names = f["name_en"] if lang == "en" and "name_en" in f.columns else f["name"]
        out.update({c: n for c, n in zip(f[key], names, strict=True) if isinstance(c, str)})
    return out


def summary_cards(result: ReadinessResult, lang: str) -> list:
    """Six cards: objects (by class), reach gaps, plan gaps, drill gaps, supply shortfalls, share ready."""
    s = result.summary
    by_class = " · ".join(f"{label(READINESS_CLASSES, c, lang)} {s.get(f'n_{c}', 0):,}" for c in READINESS_CLASSES
                          if s.get(f"n_{c}", 0))
    cards = [
        ("objects", t("rd.card.objects", lang), f"{s['objects']:,}", by_class),
        ("reach", t("rd.card.reach", lang), f"{s['reach_gaps']:,}",
         t("rd.card.reach_objects", lang).format(n=f"{s['objects_reach_gap']:,}")),
        ("plan", t("rd.card.plan", lang), f"{s['plan_gaps']:,}", ""),
        ("drill", t("rd.card.drill", lang), f"{s['drill_gaps']:,}",
         t("rd.card.drill_detail", lang).format(never=f"{s['never_drilled']:,}", over=f"{s['drills_overdue']:,}")),
        ("supply", t("rd.card.supply", lang), f"{s['supply_short']:,}",
         t("rd.card.supply_detail", lang).format(n=f"{s['flood_points_short']:,}")),
        ("ready", t("rd.card.ready", lang), _pct(s.get("share_ready")),
         t("rd.card.ready_detail", lang).format(n=f"{s['objects_ready']:,}")),
    ]
    box = {"background": "#fff", "border": "1px solid #dfe4ea", "borderRadius": "6px", "padding": "6px 12px",
           "minWidth": "120px", "maxWidth": "360px"}
    return [html.Div(id=f"rd-card-{key}", style=box, children=[
        html.Div(value, style={"fontSize": "22px", "fontWeight": "bold"}),
        html.Div(title, className="muted"),
        html.Div(detail, className="muted", style={"fontSize": "11px"}) if detail else None])
        for key, title, value, detail in cards]


def area_rows(frame: pd.DataFrame, lang: str, key: str) -> list[dict]:
    """Per district or town: objects, gaps of each kind, share ready (and the district's own plan and drill)."""
    names = frame["name_en"] if lang == "en" and "name_en" in frame.columns else frame["name"]
    out = []
    for r, name in zip(frame.to_dict("records"), names, strict=True):
        row = {"code": r[key] or "", "name": name, "objects": int(r["objects"]), "reach_gaps": int(r["reach_gaps"]),
               "objects_reach_gap": int(r["objects_reach_gap"]), "plan_gaps": int(r["plan_gaps"]),
               "drill_gaps": int(r["drill_gaps"]), "supply_short": int(r["supply_short"]),
               "share_ready": _pct(r["share_ready"])}
        if "district_plan_filed" in r:
            row["district_plan"] = r["district_plan_filed"] or t("rd.none", lang)
            row["district_drill"] = r["district_last_drill"] or t("rd.none", lang)
        out.append(row)
    return out


def reach_rows(result: ReadinessResult, lang: str) -> list[dict]:
    """The reach gaps, longest over the target first: object, class, kind needed, nearest, minutes, target."""
    names = area_names(result, lang)
    return [{"key": r["key"], "object": str(r["name"]), "class": label(READINESS_CLASSES, r["class"], lang),
             "district": names.get(r["district_code"], r["district_code"] or ""),
             "town": names.get(r["town_code"], r["town_code"] or ""),
             "kind": label(RESOURCE_KINDS, r["kind"], lang), "nearest": r["nearest_name"] or r["nearest_id"] or "—",
             "minutes": _num(r["travel_min"]), "target": _num(r["target_min"], 0), "reason": _reason(r, lang)}
            for r in result.reach_gaps.head(TABLE_ROWS).to_dict("records")]


def plan_rows(result: ReadinessResult, lang: str) -> list[dict]:
    """The plan and drill gaps with the object's last drill and the days its drill is overdue."""
    g = pd.DataFrame(result.plan_gaps.drop(columns="geometry", errors="ignore")).head(TABLE_ROWS)
    reg = result.register.drop_duplicates("key").set_index("key")
    names = area_names(result, lang)
    out = []
    for r in g.to_dict("records"):
        last = reg["last_drill"].get(r["key"]) if len(reg) else None
        over = reg["days_overdue"].get(r["key"]) if len(reg) else None
        out.append({"key": r["key"], "object": str(r["name"]), "class": label(READINESS_CLASSES, r["class"], lang),
                    "district": names.get(r["district_code"], r["district_code"] or ""),
                    "town": names.get(r["town_code"], r["town_code"] or ""),
                    "gap": r["kind_en"] if lang == "en" else r["kind_zh"], "reason": _reason(r, lang),
                    "last_drill": last if isinstance(last, str) else "—",
                    "overdue": int(over) if r["kind"] == "drill_overdue" and over is not None else None})
    return out


def supply_rows(result: ReadinessResult, lang: str) -> list[dict]:
    """Flood points whose supplies within reach are short: point, severity, kind, need, have, short."""
    names = area_names(result, lang)
    return [{"key": r["key"], "point": str(r["name"]), "severity": label(FLOOD_SEVERITY, r["severity"], lang),
             "district": names.get(r["district_code"], r["district_code"] or ""),
             "kind": label(RESOURCE_KINDS, r["kind"], lang), "need": _num(r["need"], 0),
             "have": _num(r["within"], 0), "short": _num(r["short"], 0), "reason": _reason(r, lang)}
            for r in result.supply_shortfalls.head(TABLE_ROWS).to_dict("records")]


def stock_rows(result: ReadinessResult, lang: str) -> list[dict]:
    """Per district and kind: the flood points' need against the district's stock of ready resources."""
    names = area_names(result, lang)
    return [{"district": names.get(r["district_code"], r.get("name") or r["district_code"]),
             "kind": label(RESOURCE_KINDS, r["kind"], lang), "points": int(r["flood_points"]),
             "need": _num(r["need"], 0), "stock": _num(r["stock"], 0), "oos": _num(r["out_of_service"], 0),
             "short": _num(r["short"], 0), "reason": _reason(r, lang)}
            for r in result.district_supplies.to_dict("records")]


def suggestion_rows(shown: pd.DataFrame, result: ReadinessResult, lang: str) -> list[dict]:
    """One row per suggested place as shown: rank, district, town, nearest road, lon/lat, gaps closed."""
    names = area_names(result, lang)
    return [{"rank": int(r["rank"]), "district": names.get(r["district_code"], r["district_code"] or ""),
             "town": names.get(r["town_code"], r["town_code"] or ""),
             "road": r["road"] if isinstance(r["road"], str) else t("rd.no_road", lang),
             "lon": round(float(r["lon"]), 5), "lat": round(float(r["lat"]), 5), "closed": int(r["gaps_closed"]),
             "cum_share": _pct(r["share_of_gaps"]), "reason": _reason(r, lang)}
            for r in shown.to_dict("records")]


def shown_note(result: ReadinessResult, lang: str) -> list[str]:
    """For each list cut at :data:`TABLE_ROWS`, which and how many."""
    out = []
    for frame, tab in ((result.reach_gaps, "rd.tab.reach"), (result.plan_gaps, "rd.tab.plan"),
                       (result.supply_shortfalls, "rd.tab.supply")):
        if len(frame) > TABLE_ROWS:
            out.append(f"{t(tab, lang)}: {t('rd.shown', lang).format(n=TABLE_ROWS, total=len(frame))}")
    return out


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame for a sheet: the point geometry dropped where lon/lat carry it, any other as WKT."""
    if isinstance(frame, gpd.GeoDataFrame):
        geom = frame.geometry
        out = pd.DataFrame(frame.drop(columns=geom.name))
        if not {"lon", "lat"} <= set(out.columns):
            out["wkt"] = geom.to_wkt()
        return out
    return pd.DataFrame(frame)


def export_sheets(result: ReadinessResult, shown: pd.DataFrame | None, lang: str) -> dict[str, pd.DataFrame]:
    """Every sheet of the result (``ReadinessResult.sheets``) with its column headers in ``lang``, and the
    suggested places as shown on the page."""
    sheets = {name: _plain(f) for name, f in result.sheets(lang).items()}
    if shown is not None:
        rows = pd.DataFrame(suggestion_rows(shown, result, lang),
                            columns=["rank", "district", "town", "road", "lon", "lat", "closed", "cum_share",
                                     "reason"])
        sheets[t("rd.sheet.suggested", lang)] = rows
    return {name: f.rename(columns=lambda c: header(str(c), lang)) for name, f in sheets.items()}

__all__ = ["TABLE_ROWS", "summary_cards", "area_rows", "reach_rows", "plan_rows", "supply_rows", "stock_rows",
           "suggestion_rows", "shown_note", "export_sheets", "area_names"]
