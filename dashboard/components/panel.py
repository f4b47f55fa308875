"""The side panel of figures for the current area (map page), and the card of one clicked object.

Pure builders: they take the numbers of :func:`layers.summary.area_figures` and :func:`risk_index` and return
Dash components. Data text goes into components as plain strings (React escapes it).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from dash import dcc, html

from dashboard.i18n import register, t, with_query
from layers.schema import (
    CONDITION_CLASSES,
    GRADE_ORDER,
    GRADES,
    HAZARD_LEVELS,
    HAZARD_STATUS,
    INDUSTRIES,
    LAYERS,
    PRESSURE_CLASSES,
    VENUE_KINDS,
    label,
)

register({
    "panel.as_of": ("数据截至", "Data as of"),
    "panel.as_of_note": ("（最新检查记录日期）", "(date of the latest inspection record)"),
    "panel.enterprises": ("企业", "Enterprises"),
    "panel.by_grade": ("企业风险等级", "Enterprises by risk grade"),
    "panel.open_hazards": ("未销号隐患", "Open hazards"),
    "panel.major_hazards": ("重大隐患", "Major hazards"),
    "panel.overdue_hazards": ("逾期隐患", "Overdue hazards"),
    "panel.inspections_30d": ("近30日检查", "Inspections, last 30 days"),
    "panel.inspected_share": ("近30日检查过的企业", "Enterprises inspected in the last 30 days"),
    "panel.coverage_rw": ("检查覆盖率（风险加权）", "Inspection coverage (risk-weighted)"),
    "panel.coverage_as_of": ("截至 {d}，在规定周期内已检查", "as of {d}, inspected within interval"),
    "panel.structures_45": ("4-5类桥梁 / 隧道", "Class 4-5 bridges / tunnels"),
    "panel.pipelines": ("燃气管线长度（公里）", "Gas pipelines (km)"),
    "panel.venues": ("人员密集场所", "Crowded venues"),
    "panel.venues_n": ("处", "sites"),
    "panel.capacity": ("容纳", "capacity"),
    "panel.risk_table": ("风险指数排名", "Risk index ranking"),
    "panel.risk_col_area": ("区域", "Area"),
    "panel.risk_col_index": ("指数", "Index"),
    "panel.risk_col_score": ("分值", "Score"),
    "panel.coverage": ("检查覆盖", "Inspection coverage"),
    "panel.none": ("无", "none"),
    "panel.kind": ("类型", "Kind"),
    "panel.km": ("公里", "km"),
    "panel.open_object": ("查看详情", "Open details"),
    "panel.click_hint": ("点击地图上的对象查看详情；点击区域名称进入下一级", "Click an object on the map for its details; "
                         "click an area name to drill down"),
    "panel.shown_hazards": ("按状态筛选后显示", "shown with the status filter"),
})


def bars(labels: list[str], values: list[float], colors: list[str], *, bid: str, fmt: str = "{:,.0f}") -> html.Div:
    """A small horizontal bar chart in HTML (light, prints well): label, bar scaled to the largest, value."""
    top = max([float(v) for v in values] + [0.0])
    rows = []
    for lab, v, c in zip(labels, values, colors, strict=True):
        width = 0.0 if top <= 0 else 100.0 * float(v) / top
        rows.append(html.Div([html.Span(lab, className="bar-label"),
                              html.Span(html.Span(className="bar-fill", style={"width": f"{width:.1f}%",
                                                                               "background": c}),
                                        className="bar-track"),
                              html.Span(fmt.format(v), className="bar-value")], className="bar-row"))
    return html.Div(rows, className="bars", id=bid)


def _kpi(value: str, caption: str, kid: str, tone: str = "") -> html.Div:
    return html.Div([html.Div(value, className="kpi-value"), html.Div(caption, className="kpi-caption")],
                    className=f"kpi {tone}".strip(), id=kid)


def figure_panel(figs: Mapping, risk: pd.DataFrame | None, *, lang: str, search: str | None, area_title: str,
                 child_level: str, coverage: html.Div | None = None) -> html.Div:
    """The panel: KPIs, enterprises by grade, pipelines by pressure, venues by kind, the risk ranking.

    ``search`` is the current query string (links in the ranking drill down from it); ``child_level`` is
    ``"district"`` or ``"town"`` (what the ranking lists).
    """
    ent, hz = figs["enterprises"], figs["hazards"]
    share = figs.get("inspected_share_30d")
    kpis = html.Div(className="kpi-row", children=[
        _kpi(f"{ent['total']:,}", t("panel.enterprises", lang), "kpi-enterprises"),
        _kpi(f"{hz['open']:,}", t("panel.open_hazards", lang), "kpi-open-hazards"),
        _kpi(f"{hz['major']:,}", t("panel.major_hazards", lang), "kpi-major-hazards", "tone-major"),
        _kpi(f"{hz['overdue']:,}", t("panel.overdue_hazards", lang), "kpi-overdue-hazards", "tone-overdue"),
        _kpi(f"{figs['inspections_30d']:,}", t("panel.inspections_30d", lang), "kpi-inspections"),
        *([_kpi("—" if figs["coverage"] is None else f"{100 * figs['coverage']:.1f}%", html.Span([
            t("panel.coverage_rw", lang), html.Br(),
            html.Small(t("panel.coverage_as_of", lang).format(d=figs.get("coverage_as_of") or "—"))]),
            "kpi-coverage")] if "coverage" in figs else []),
        _kpi("—" if share is None else f"{share:.0%}", t("panel.inspected_share", lang), "kpi-inspected-share"),
        _kpi(f"{figs['structures_45']['bridges']} / {figs['structures_45']['tunnels']}",
             t("panel.structures_45", lang),   # one label, its two counts in the value's order
             "kpi-structures"),
    ])
    grade_bars = bars([label(GRADES, g, lang) for g in GRADE_ORDER], [ent[g] for g in GRADE_ORDER],
                      [GRADES[g]["color"] for g in GRADE_ORDER], bid="panel-grade-bars")
    km = figs["pipelines_km"]
    pipe_bars = bars([label(PRESSURE_CLASSES, p, lang) for p in PRESSURE_CLASSES], [km[p] for p in PRESSURE_CLASSES],
                     [PRESSURE_CLASSES[p]["color"] for p in PRESSURE_CLASSES], bid="panel-pipe-bars", fmt="{:,.1f}")
    venues = figs["venues"]
    venue_rows = [html.Tr([html.Td(html.Span("", className="swatch", style={"background": VENUE_KINDS[k]["color"]})),
                           html.Td(label(VENUE_KINDS, k, lang)), html.Td(f"{v['n']:,}", className="num"),
                           html.Td(f"{v['capacity']:,}", className="num")])
                  for k, v in sorted(venues.items(), key=lambda kv: -kv[1]["capacity"])]
    children = [
        html.Div([html.H3(area_title, id="panel-area"),
                  html.Div([t("panel.as_of", lang), " ", html.B(figs.get("as_of") or "—"), " ",
                            html.Span(t("panel.as_of_note", lang), className="muted")], className="as-of")],
                 className="panel-head"),
        kpis,
        html.H4(t("panel.by_grade", lang)), grade_bars,
        html.H4(t("panel.pipelines", lang)), pipe_bars,
        html.H4(t("panel.venues", lang)),
        html.Table([html.Thead(html.Tr([html.Th(""), html.Th(t("panel.kind", lang)),
                                        html.Th(t("panel.venues_n", lang), className="num"),
                                        html.Th(t("panel.capacity", lang), className="num")])),
                    html.Tbody(venue_rows or [html.Tr(html.Td(t("panel.none", lang), colSpan=4))])],
                   className="mini-table", id="panel-venues"),
    ]
    if coverage is not None:
        children += [html.H4(t("panel.coverage", lang)), coverage]
    if risk is not None and len(risk):
        r = risk.sort_values("score", ascending=False)
        name_col = "name_en" if lang == "en" else "name"
        rows = []
        for _, a in r.iterrows():
            nm = a[name_col] if isinstance(a.get(name_col), str) and a[name_col] else a["name"]
            href = with_query("/", search, **({"district": a["code"], "town": None} if child_level == "district"
                                               else {"town": a["code"]}))
            rows.append(html.Tr([
                html.Td(dcc.Link(nm, href=href, className="risk-link")),
                html.Td(html.Div(html.Div(style={"width": f"{a['index']:.0f}%"}, className="risk-bar-fill"),
                                 className="risk-bar")),
                html.Td(f"{a['index']:.0f}", className="num"),
                html.Td(f"{a['score']:.0f}", className="num muted")]))
        children += [html.H4(t("panel.risk_table", lang)),
                     html.Table([html.Thead(html.Tr([html.Th(t("panel.risk_col_area", lang)), html.Th(""),
                                                     html.Th(t("panel.risk_col_index", lang), className="num"),
                                                     html.Th(t("panel.risk_col_score", lang), className="num")])),
                                 html.Tbody(rows)], className="mini-table risk-table", id="panel-risk-table")]
    return html.Div(children, className="figure-panel", id="figure-panel")


def object_card(row: pd.Series, layer: str, *, lang: str, area_names: Mapping[str, str],
                link: bool = True) -> html.Div:
    """What a leader needs about one object (name, grade, industry, area, last inspection, open hazards,
    department and officer), and a link to its page. Also the map's hover tooltip (``link=False``)."""
    schema = LAYERS[layer]
    title = schema.en if lang == "en" else schema.zh
    lines: list = [html.Div(title, className="card-kind"), html.H4(str(row.get("name") or row.get("id")))]

    def item(key: str, value: object) -> None:
        if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT or value == "":
            return
        lines.append(html.Div([html.Span(t(key, lang), className="card-key"), html.Span(str(value))],
                              className="card-row"))

    if "grade" in row:
        item("map.hover.grade", label(GRADES, row["grade"], lang))
    if "industry" in row:
        item("map.hover.industry", label(INDUSTRIES, row["industry"], lang))
    if "condition_class" in row and isinstance(row["condition_class"], str):
        item("map.hover.condition", label(CONDITION_CLASSES, row["condition_class"], lang))
    if "kind" in row and layer == "venues":
        item("map.hover.industry", label(VENUE_KINDS, row["kind"], lang))
    if "capacity" in row and pd.notna(row.get("capacity")):
        item("map.hover.capacity", int(row["capacity"]))
    area = " · ".join(x for x in (area_names.get(str(row.get("district_code")), ""),
                                  area_names.get(str(row.get("town_code")), "")) if x)
    item("map.hover.area", area)
    last = row.get("last_inspection")
    item("map.hover.last_inspection", t("map.hover.never", lang) if last is None or pd.isna(last)
         else pd.Timestamp(last).date().isoformat())
    n_open, n_major = int(row.get("open_hazards") or 0), int(row.get("open_major") or 0)
    item("map.hover.open_hazards", f"{n_open}" + (f" ({t('map.hover.major_suffix', lang)} {n_major})" if n_major
                                                  else ""))
    dep = row.get("department_en") if lang == "en" and isinstance(row.get("department_en"), str) else \
        row.get("department")
    item("map.hover.department", (str(dep) if isinstance(dep, str) else t("map.hover.none", lang)) +
         (f" · {row['officer']}" if isinstance(row.get("officer"), str) else ""))
    if link:
        href = with_query("/object", None, layer=layer, id=str(row["id"]), lang=lang if lang != "zh" else None)
        lines.append(dcc.Link(t("panel.open_object", lang), href=href, className="card-link", id="card-open-link"))
    return html.Div(lines, className="object-card" if link else "object-card tip-card")


def hazard_card(h: pd.Series, *, lang: str, area_names: Mapping[str, str]) -> html.Div:
    """A hazard in the map's tooltip: level, overdue, description, its object, dates and status."""
    def d(v: object) -> str:
        return "—" if v is None or pd.isna(v) else pd.Timestamp(v).date().isoformat()

    level = label(HAZARD_LEVELS, h.get("level"), lang)
    tags = [html.Span(level, className="status-tag major" if h.get("level") == "major" else "status-tag")]
    if bool(h.get("overdue")):
        tags.append(html.Span(t("map.legend.hazard_overdue", lang), className="status-tag overdue"))
    area = " · ".join(x for x in (area_names.get(str(h.get("district_code")), ""),
                                  area_names.get(str(h.get("town_code")), "")) if x)
    rows = [html.Div(tags), html.H4(str(h.get("description") or h.get("type") or ""))]
    for key, value in (("map.hover.target", h.get("obj_name")), ("map.hover.area", area),
                       ("map.hover.found", d(h.get("found_date"))), ("map.hover.deadline", d(h.get("deadline"))),
                       ("map.hover.status", label(HAZARD_STATUS, h.get("status"), lang))):
        if isinstance(value, str) and value:
            rows.append(html.Div([html.Span(t(key, lang), className="card-key"), html.Span(value)],
                                 className="card-row"))
    return html.Div(rows, className="object-card tip-card")
