"""The risk map (``/``): every layer on one map, filters, a panel of figures, drill-down city → district → town.

The URL is the state: ``/?district=…&town=…&industry=a,b&grade=major&hazard=open,overdue&lang=en``. Any
change of it (a filter, a click on an area, the breadcrumb, the browser's back button, a reload) goes through
Dash's page router, which calls :func:`layout` with the query: one request that returns the map and the panel
for that state (:func:`view`, the drill-down). Callbacks only turn clicks and filter choices into a new URL,
toggle layer visibility with a ``Patch`` and show the card of a clicked object.

Access: :func:`view` and every callback that reads data narrow it with ``context.scope`` (server session).
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from enum import StrEnum
from urllib.parse import parse_qsl

import dash
import flask
from dash import Input, Output, State, callback, ctx, dcc, html, no_update
from dash.exceptions import MissingCallbackContextException

from dashboard import context, warmup
from dashboard.components.errors import calm_message, denied_page
from dashboard.components.mapfig import (
    DEFAULT_VISIBLE,
    MapOptions,
    build_map,
    graph_config,
    toggle_options,
    visibility_patch,
)
from dashboard.components.mapfig.legend import legend_box
from dashboard.components.nav import navbar
from dashboard.components.panel import figure_panel, hazard_card, object_card
from dashboard.i18n import dropdown_labels, lang_from_search, norm_lang, register, t, with_query
from layers.analysis import coverage
from layers.analysis.summary import (
    HAZARD_FILTERS,
    Filters,
    area_figures,
    area_risk_index,
    find_hazard,
    find_object,
    load_city,
    search_objects,
    select,
)
from layers.errors import AccessDenied, RiskMapError
from layers.schema import GRADE_ORDER, GRADES, HAZARD_STATUS, INDUSTRIES, LAYERS, OBJECT_LAYERS, label

log = logging.getLogger(__name__)

register({
    "map.title": ("一张图", "Risk map"),
    "map.heading": ("全市风险一张图", "City risk map"),
    "map.city": ("全市", "City"),
    "map.filter.district": ("区县", "District"),
    "map.filter.town": ("镇街", "Town"),
    "map.filter.industry": ("行业", "Industry"),
    "map.filter.grade": ("风险等级", "Grade"),
    "map.filter.hazard": ("隐患状态", "Hazard status"),
    "map.filter.all": ("全部", "All"),
    "map.filter.unclosed": ("未销号（默认）", "Not closed (default)"),
    "map.filter.reset": ("清除筛选", "Clear filters"),
    "map.hz.overdue": ("逾期", "Overdue"),
    "map.layers": ("图层", "Layers"),
    "map.preset.flood": ("汛期", "Flood season"),
    "map.preset.flood_title": ("汛期图层：内涝点、应急资源（泵车、沙袋、冲锋舟、发电车）、隧道，叠加风险指数",
                               "Flood season layers: flood points, emergency resources (pumps, sandbags, boats, "
                               "generators), tunnels, over the risk index"),
    "map.own_area": ("返回本辖区", "Back to my area"),
    "map.search": ("搜索企业名称或统一社会信用代码", "Search a name or credit code"),
    "map.search.none": ("在您的辖区内没有找到匹配的对象", "Nothing in your area matches"),
    "map.search.more": ("只列出前 {n} 条，请输入更完整的名称", "Only the first {n} are listed: type more of the name"),
    "map.follow": ("数字随视野", "Figures follow the view"),
    "map.in_view": ("视野内", "in view"),
    "map.export": ("下载视野内数据（Excel）", "Download what is in view (Excel)"),
    "map.export.sheet_ent": ("企业", "Enterprises"),
    "map.export.sheet_hz": ("隐患", "Hazards"),
    "map.aggregated": ("企业较多：全市视图按六边形聚合、只标重大隐患和最大的人员密集场所；进入区县显示每一个",
                       "Many enterprises: the city view groups them in hexagons and marks major hazards and the "
                       "largest venues only; open a district to see each one"),
})

dash.register_page(__name__, path="/", title=lambda **_: "一张图 · Risk map", name="map")


class Ids(StrEnum):
    MAP = "map-graph"
    TRACES = "map-traces"
    LAYERS = "map-layers"
    DISTRICT = "map-f-district"
    TOWN = "map-f-town"
    INDUSTRY = "map-f-industry"
    GRADE = "map-f-grade"
    HAZARD = "map-f-hazard"
    RESET = "map-f-reset"
    PANEL = "map-panel"
    CARD = "map-card"
    CRUMB = "map-crumb"
    COVERAGE = "map-coverage"
    STATE = "map-state"
    NOTE = "map-note"
    TIP = "map-tip"
    FIGS = "map-panel-figs"
    FOLLOW = "map-follow"
    EXPORT = "map-export"
    DOWNLOAD = "map-download"
    FLOOD_PRESET = "map-preset-flood"
    SEARCH = "map-search"
    SEARCH_RESULTS = "map-search-results"


QUERY_KEYS = ("district", "town", "industry", "grade", "hazard")
#: the "汛期 / Flood season" layer preset: flood points, emergency resources (pumps and supplies among them) and
#: tunnels over the risk index; every other layer off (tick it back as needed)
FLOOD_PRESET = ("flood_points", "resources", "risk", "tunnels")


def parse_state(query: dict) -> dict:
    """The map state from URL parameters: district, town (strings or None) and lists of filter values."""
    def listed(v: object, allowed) -> list[str]:
        if not isinstance(v, str) or not v:
            return []
        return [x for x in v.split(",") if x in allowed]
    d = query.get("district")
    tw = query.get("town")
    return {"district": d if isinstance(d, str) and d else None, "town": tw if isinstance(tw, str) and tw else None,
            "industry": listed(query.get("industry"), INDUSTRIES), "grade": listed(query.get("grade"), GRADES),
            "hazard": listed(query.get("hazard"), HAZARD_FILTERS)}


def filters_for(state: dict, city) -> Filters:
    """Scoped filters: ``context.scope`` raises AccessDenied for a district outside the user's area.

    A town without its district takes the district the town belongs to.
    """
    district, town = state["district"], state["town"]
    if district and district not in set(city.districts["code"].astype(str)):   # not found, not "no permission"
        raise RiskMapError(f"区县 {district} 不存在 (district {district} is not in the store)")
    if town and not district:
        row = city.towns[city.towns["code"] == town]
        if not len(row):
            raise RiskMapError(f"镇街 {town} 不存在 (town {town} is not in the store)")
        district = str(row["district_code"].iloc[0])
    towns = context.allowed_towns()
    if towns is not None:   # a town leader: its own town, whatever the URL asks for
        context.authorize(context.action(), towns=town or None)
        town = town or (towns[0] if towns else "-")
    return Filters.make(districts=context.scope(district), town=town, industries=state["industry"],
                        grades=state["grade"], hazard_status=state["hazard"])


def _names(city, lang: str) -> dict[str, str]:
    out = {}
    for f in (city.districts, city.towns):
        for code, zh, en in zip(f["code"], f["name"], f["name_en"] if "name_en" in f else f["name"], strict=True):
            out[str(code)] = en if lang == "en" and isinstance(en, str) and en else zh
    return out


def view(state: dict, lang: str, search: str | None = None) -> dict:
    """Everything the page shows for one URL state: map figure, trace keys, panel, breadcrumb, filter options.

    Thin: :mod:`layers.summary` computes, :mod:`dashboard.components.mapfig` and ``panel`` draw.
    """
    settings = context.settings()
    context.authorize(context.action())
    store = context.store()
    city = load_city(store)
    filters = filters_for(state, city)          # the scope check, before any cache
    allowed = context.allowed_districts()
    key = (store.url, city.version, filters, lang, search, None if allowed is None else tuple(allowed),
           json.dumps(settings.risk_index_weights, sort_keys=True), settings.tile_url, settings.tile_crs,
           settings.basemap, settings.basemap_url, flask.request.host_url, _basemap_build())
    return _view_cached(key, city, settings, filters, lang, search, allowed)


def _basemap_build() -> str | None:
    """The build id of the basemap being served (the style's tile URLs carry it)."""
    bm = flask.current_app.config.get("RISKMAP_BASEMAP")
    arc = bm.archive() if bm is not None else None
    return arc.info.build_id if arc is not None else None


_VIEWS: OrderedDict = OrderedDict()
_VIEWS_LOCK = threading.Lock()
_VIEWS_SIZE = 32


def _view_cached(key: tuple, city, settings, filters: Filters, lang: str, search: str | None,
                 allowed: list[str] | None) -> dict:
    """:func:`_view`, memoised per (store, data version, filters, language, URL, scope, settings): a leader
    going back and forth between areas gets the same picture without recomputing it. Never modified."""
    with _VIEWS_LOCK:
        hit = _VIEWS.get(key)
        if hit is not None:
            _VIEWS.move_to_end(key)
            return hit
    out = _view(city, settings, filters, lang, search, allowed)
    with _VIEWS_LOCK:
        _VIEWS[key] = out
        while len(_VIEWS) > _VIEWS_SIZE:
            _VIEWS.popitem(last=False)
    return out


def _view(city, settings, filters: Filters, lang: str, search: str | None, allowed: list[str] | None) -> dict:
    sel = select(city, filters)
    names = _names(city, lang)
    risk = area_risk(city, filters, settings)
    mf = build_map(sel, MapOptions(lang=lang, theme="light", hover="events", legend="html"), risk=risk)
    figs = {**area_figures(sel), **area_coverage(city, filters, settings)}
    if sel.level == "town":
        title = f"{names.get(filters.districts[0], '')} · {names.get(filters.town, filters.town)}"
    elif sel.level == "district":
        title = names.get(filters.districts[0], filters.districts[0])
    else:
        title = t("map.city", lang)
    panel = figure_panel(figs, risk, lang=lang, search=search, area_title=title,
                         child_level="district" if sel.level == "city" else "town")
    crumbs = [("map.city", None, None)] if allowed is None else []
    if filters.districts and len(filters.districts) == 1:
        crumbs.append((None, filters.districts[0], None))
    if filters.town:
        crumbs.append((None, filters.districts[0], filters.town))
    district_opts = [{"label": names[str(c)], "value": str(c)} for c in sel.city.districts["code"]
                     if allowed is None or c in allowed]
    town_opts = [{"label": names[str(c)], "value": str(c)} for c in sel.towns["code"]] if sel.level != "city" \
        else []
    if sel.level == "town":   # the other towns of the district stay choosable
        town_opts = [{"label": names[str(c)], "value": str(c)} for c in
                     city.towns.loc[city.towns["district_code"] == filters.districts[0], "code"]]
    return {"figure": mf.figure, "traces": mf.traces, "legend": mf.extra.get("legend", []), "aggregated": mf.aggregated, "panel": panel,
            "crumbs": crumbs, "names": names, "district_options": district_opts, "town_options": town_opts,
            "level": sel.level, "filters": filters}


def _warm_city_view(settings, store) -> None:
    """The served app's warm-up (:mod:`dashboard.warmup`): what the city view of ``/`` draws from, in both
    languages (the risk index, hexagons or chained lines, hover texts, area shapes: cached on the city, so per data
    version), so the first visit after a start or an import only assembles the figure."""
    city = load_city(store)
    filters = Filters.make()
    risk = area_risk(city, filters, settings)
    sel = select(city, filters)
    for lang in (settings.lang, *(x for x in ("zh", "en") if x != settings.lang)):
        build_map(sel, MapOptions(lang=lang, theme="light", hover="events", legend="html"), risk=risk)


warmup.also_warm("map-city", _warm_city_view)


def area_risk(city, filters: Filters, settings):
    """The risk index of the areas below the selection, computed on every object of those areas: filtering the
    map by grade, industry or hazard status changes what is drawn, never the areas' index (the wall's)."""
    return area_risk_index(city, filters, weights=settings.risk_index_weights)


def area_coverage(city, filters: Filters, settings) -> dict:
    """The area's inspection coverage as the wall and ``/coverage`` show it (the same result, as of the data's
    date): ``{"coverage": share or None, "coverage_as_of": "YYYY-MM-DD"}``; empty when it cannot be computed (the
    panel then leaves the figure out rather than fail)."""
    as_of = city.as_of.date() if city.as_of is not None else None
    try:
        res = coverage.compute_cached(context.store(), as_of=as_of, settings=settings)
    except RiskMapError:
        log.exception("coverage for the map panel failed")
        return {}
    return {"coverage": res.share_in_time(filters.districts, filters.town), "coverage_as_of": res.as_of.isoformat()}


def _breadcrumb(crumbs: list, names: dict, search: str | None, lang: str) -> html.Nav:
    items = []
    for i, (key, district, town) in enumerate(crumbs):
        text = t(key, lang) if key else names.get(town or district, town or district)
        last = i == len(crumbs) - 1
        if last:
            items.append(html.Span(text, className="crumb current"))
        else:
            href = with_query("/", search, district=district, town=town)
            items.append(dcc.Link(text, href=href, className="crumb", id=f"crumb-{i}"))
            items.append(html.Span("›", className="crumb-sep"))
    return html.Nav(items, className="breadcrumb", id=Ids.CRUMB)


def _search_of(query: dict) -> str:
    params = {k: v for k, v in query.items() if isinstance(v, str) and v}
    return ("?" + "&".join(f"{k}={v}" for k, v in params.items())) if params else ""


@context.checked("read", denied=denied_page)
def layout(lang: str | None = None, **query: str) -> html.Div:
    lang = norm_lang(lang)
    search = _search_of({**query, **({"lang": lang} if lang != "zh" else {})})
    state = parse_state(query)
    head = navbar(lang, "/", {"lang": lang, **{k: v for k, v in query.items() if k in QUERY_KEYS}})
    try:
        v = view(state, lang, search)
    except (AccessDenied, RiskMapError) as exc:   # refused, or an area that is not in the store: say which
        log.warning("map page refused: %s", exc)
        return html.Div([head, html.Div(className="page", children=[
            calm_message(lang, exc), dcc.Link(t("map.city" if context.allowed_districts() is None else "map.own_area",
                                                lang), href=with_query("/", None, lang=lang if lang != "zh" else None),
                                              id="map-denied-back")])])
    except Exception as exc:  # the edge: calm text, traceback to the log
        log.exception("map page failed for %r", query)
        return html.Div([head, html.Div(calm_message(lang, exc), className="page")])

    hz_opts = [{"label": label(HAZARD_STATUS, k, lang) if k in HAZARD_STATUS else t(f"map.hz.{k}", lang), "value": k}
               for k in HAZARD_FILTERS]
    grade_opts = [{"label": html.Span([html.Span(className="swatch", style={"background": GRADES[g]["color"]}),
                                       label(GRADES, g, lang)]), "value": g} for g in GRADE_ORDER]
    filters = html.Div(className="map-filters no-print", children=[
        dcc.Dropdown(labels=dropdown_labels(lang), id=Ids.DISTRICT, options=v["district_options"], value=state["district"] if state["district"]
                     else (v["district_options"][0]["value"] if context.allowed_districts() is not None and
                           v["district_options"] else None),
                     placeholder=t("map.filter.district", lang), clearable=context.allowed_districts() is None,
                     className="f-district"),
        dcc.Dropdown(labels=dropdown_labels(lang), id=Ids.TOWN, options=v["town_options"], value=state["town"],
                     placeholder=t("map.filter.town", lang), disabled=not v["town_options"], className="f-town"),
        dcc.Dropdown(labels=dropdown_labels(lang), id=Ids.INDUSTRY, options=[{"label": label(INDUSTRIES, k, lang), "value": k} for k in INDUSTRIES],
                     value=state["industry"], multi=True, placeholder=t("map.filter.industry", lang),
                     className="f-industry"),
        dcc.Checklist(id=Ids.GRADE, options=grade_opts, value=state["grade"], inline=True, className="f-grade"),
        dcc.Dropdown(labels=dropdown_labels(lang), id=Ids.HAZARD, options=hz_opts, value=state["hazard"], multi=True,
                     placeholder=t("map.filter.unclosed", lang), className="f-hazard"),
        html.Button(t("map.filter.reset", lang), id=Ids.RESET, n_clicks=0, className="btn-reset"),
    ])
    toggles = html.Div(className="map-layers no-print", children=[
        html.Span(t("map.layers", lang), className="layers-title"),
        dcc.Checklist(id=Ids.LAYERS, options=toggle_options(lang), value=sorted(DEFAULT_VISIBLE), inline=True,
                      persistence=True, persistence_type="session"),
        html.Button(t("map.preset.flood", lang), id=Ids.FLOOD_PRESET, n_clicks=0, className="btn-preset",
                    title=t("map.preset.flood_title", lang)),
    ])
    note = html.Div(t("map.aggregated", lang), className="map-note", id=Ids.NOTE) if v["aggregated"] else None
    graph = dcc.Graph(id=Ids.MAP, figure=v["figure"], className="map-graph",
                      config=graph_config(scrollZoom=True, doubleClick="reset",
                                          remove=["select2d", "lasso2d", "toImage"]))
    return html.Div(className="map-page", children=[
        head,
        dcc.Store(id=Ids.TRACES, data=v["traces"]),
        dcc.Store(id=Ids.STATE, data={"search": search, "level": v["level"]}),
        html.Div(className="map-toolbar", children=[
            _breadcrumb(v["crumbs"], v["names"], search, lang), filters,
            html.Div(className="map-search no-print", children=[
                dcc.Input(id=Ids.SEARCH, type="search", debounce=True, placeholder=t("map.search", lang),
                          autoComplete="off", className="map-search-input"),
                html.Div(id=Ids.SEARCH_RESULTS, className="map-search-results")])]),
        html.Div(className="map-body", children=[
            html.Div(className="map-left", children=[toggles, html.Div(
                [graph, legend_box(v["legend"]), note,
                 dcc.Tooltip(id=Ids.TIP, direction="bottom", className="map-tip")],
                className="map-frame")]),
            html.Aside(className="map-side", id=Ids.PANEL, children=[
                html.Div(id=Ids.CARD, className="card-slot",
                         children=html.Div(t("panel.click_hint", lang), className="muted hint")),
                html.Div(className="map-view-tools no-print", children=[
                    dcc.Checklist(id=Ids.FOLLOW, options=[{"label": t("map.follow", lang), "value": "on"}],
                                  value=["on"], inline=True, persistence=True, persistence_type="session"),
                    html.Button(t("map.export", lang), id=Ids.EXPORT, n_clicks=0, className="btn-export"),
                    dcc.Download(id=Ids.DOWNLOAD),
                ]),
                html.Div(v["panel"], id=Ids.FIGS),
            ]),
        ]),
    ])


# --------------------------------------------------------------------------------------------------
# Callbacks (thin): filters and clicks become a URL; layer toggles become a Patch; a click shows a card
# --------------------------------------------------------------------------------------------------

def search_for(search: str | None, *, triggered: str | None, district: str | None, town: str | None,
               industry: list | None, grade: list | None, hazard: list | None) -> str | None:
    """The new query string after a filter change (None when nothing changed)."""
    if triggered == Ids.RESET:
        new = with_query("/", search, district=None, town=None, industry=None, grade=None, hazard=None)
    else:
        changes = {"district": district or None, "town": town or None,
                   "industry": ",".join(industry or []) or None, "grade": ",".join(grade or []) or None,
                   "hazard": ",".join(hazard or []) or None}
        if triggered == Ids.DISTRICT:
            changes["town"] = None
        new = with_query("/", search, **changes)
    new_search = (new[1:] if new.startswith("/") else new).replace("%2C", ",")   # lists read better with commas
    old = dict(parse_qsl((search or "").lstrip("?")))
    return None if dict(parse_qsl(new_search.lstrip("?"))) == old else new_search


@callback(Output("url", "search", allow_duplicate=True),
          Input(Ids.DISTRICT, "value"), Input(Ids.TOWN, "value"), Input(Ids.INDUSTRY, "value"),
          Input(Ids.GRADE, "value"), Input(Ids.HAZARD, "value"), Input(Ids.RESET, "n_clicks"),
          State("url", "search"), State(Ids.STATE, "data"), prevent_initial_call=True)
@context.checked("read")
def on_filters(district, town, industry, grade, hazard, _reset, search, rendered):
    """A filter changed: the new URL (the router redraws the page from it).

    Dash also calls this when the page is drawn, and a back/forward move can change the URL while an older
    page is still showing: only a user's change on the page that matches the URL navigates.
    """
    triggered = _triggered()
    if triggered is None or _n_triggered() != 1 or not same_search(search, (rendered or {}).get("search")):
        return no_update   # drawn (every input "changed" at once), or a stale page
    new = search_for(search, triggered=triggered, district=district, town=town, industry=industry,
                     grade=grade, hazard=hazard)
    return no_update if new is None else new


def same_search(a: str | None, b: str | None) -> bool:
    """Two query strings hold the same parameters (order and list separators aside)."""
    def norm(s: str | None) -> dict:
        d = {k: v.replace("%2C", ",") for k, v in parse_qsl((s or "").lstrip("?"))}
        if d.get("lang") == "zh":
            d.pop("lang")
        return d
    return norm(a) == norm(b)


@callback(Output(Ids.SEARCH_RESULTS, "children"), Input(Ids.SEARCH, "value"), State("url", "search"),
          prevent_initial_call=True)
@context.checked("read")
def on_search(text, search):
    """Objects by name or credit code, within the user's area (narrowed on the server), as links to their page."""
    return search_results(text, lang_from_search(search))


#: results the search box lists
SEARCH_LIMIT = 10


def search_results(text: str | None, lang: str) -> list:
    q = (text or "").strip()[:60]
    if not q:
        return []
    context.authorize(context.action())
    city = load_city(context.store())
    found = search_objects(city, q, districts=context.scope(None), towns=context.allowed_towns(),
                           limit=SEARCH_LIMIT + 1)
    if len(found) == 0:
        return [html.Div(t("map.search.none", lang), className="muted")]   # not echoed: a reply carries data only
    names = _names(city, lang)
    lq = {"lang": lang} if lang != "zh" else {}
    rows = [dcc.Link(className="map-search-hit", href=with_query("/object", None, layer=r["layer"], id=r["id"], **lq),
                     children=[html.Span(str(r["name"]), className="hit-name"),
                               html.Span(" · ".join(x for x in (LAYERS[r["layer"]].en if lang == "en" else
                                                                 LAYERS[r["layer"]].zh,
                                                                 names.get(str(r["district_code"]), ""),
                                                                 r["credit_code"] or "") if x),
                                         className="hit-meta")])
            for r in found.head(SEARCH_LIMIT).to_dict("records")]
    if len(found) > SEARCH_LIMIT:
        rows.append(html.Div(t("map.search.more", lang).format(n=SEARCH_LIMIT), className="muted"))
    return rows


@callback(Output("url", "search", allow_duplicate=True), Output(Ids.CARD, "children"),
          Input(Ids.MAP, "clickData"), State("url", "search"), prevent_initial_call=True)
@context.checked("read")
def on_map_click(click, search):
    """An area (label, fill or hexagon) drills down; an object shows its card."""
    lang = lang_from_search(search)
    try:
        return map_click(click, search, lang)
    except Exception as exc:  # the edge
        if isinstance(exc, AccessDenied):
            log.warning("map click refused: %s", exc)
        else:
            log.exception("map click failed")
        return no_update, calm_message(lang, exc)


def map_click(click: dict | None, search: str | None, lang: str):
    """(new search or no_update, card or no_update) for a Plotly click event."""
    points = (click or {}).get("points") or []
    custom = next((_custom_of(p) for p in points if _custom_of(p)), None)
    if custom is None:
        # a fill: Plotly sends the curve only; the trace's area code is in our trace meta
        return no_update, no_update
    kind, _, code = custom.partition(":")
    if kind == "district":
        context.scope(code)
        return with_query("/", search, district=code, town=None)[1:], no_update
    if kind == "town":
        context.authorize(context.action())
        city = load_city(context.store())
        row = city.towns[city.towns["code"] == code]
        if not len(row):
            raise RiskMapError(f"镇街 {code} 不存在 (town {code} is not in the store)")
        district = str(row["district_code"].iloc[0])
        context.authorize(context.action(), districts=district, towns=code)
        return with_query("/", search, district=district, town=code)[1:], no_update
    if kind in OBJECT_LAYERS or kind == "hazards":
        context.authorize(context.action())
        city = load_city(context.store())
        if kind == "hazards":   # a hazard's click opens its object
            h = _allowed(find_hazard(city, code), f"{kind}:{code}")
            kind, code = str(h["target_layer"]), str(h["target_id"])
        row = _allowed(find_object(city, kind, code), f"{kind}:{code}")
        return no_update, object_card(row, kind, lang=lang, area_names=_names(city, lang))
    return no_update, no_update


def _custom_of(point: dict) -> str | None:
    """The ``"<layer>:<id>"`` of a clicked or hovered point: its customdata, or the first item of it (an H3
    cell carries its numbers after its click target)."""
    c = point.get("customdata")
    if isinstance(c, list | tuple) and c:
        c = c[0]
    return c if isinstance(c, str) else None


def _allowed(row, what: str):
    """``row`` when its district (and town) is one the user may see (AccessDenied otherwise)."""
    if not context.authorize(context.action()).allows(row.get("district_code"), row.get("town_code")):
        raise AccessDenied(f"对象不在您的辖区内 (object {what} is outside your area)")
    return row


@callback(Output(Ids.TIP, "show"), Output(Ids.TIP, "bbox"), Output(Ids.TIP, "children"),
          Input(Ids.MAP, "hoverData"), State("url", "search"), prevent_initial_call=True)
@context.checked("read")
def on_hover(hover, search):
    """The tooltip of the point under the mouse, built on the server (the figure carries ids only)."""
    lang = lang_from_search(search)
    try:
        return hover_tip(hover, lang)
    except Exception as exc:  # the edge
        if not isinstance(exc, AccessDenied | RiskMapError):
            log.exception("map hover failed")
        return False, no_update, no_update


def hover_tip(hover: dict | None, lang: str):
    """(show, bbox, children) for a Plotly hover event on an object or hazard point."""
    pt = next((p for p in (hover or {}).get("points") or [] if _custom_of(p)), None)
    if pt is None:
        return False, no_update, no_update
    kind, _, code = _custom_of(pt).partition(":")
    if kind not in OBJECT_LAYERS and kind != "hazards":
        return False, no_update, no_update   # areas and hexagons have Plotly's own hover label
    context.authorize(context.action())
    city = load_city(context.store())
    names = _names(city, lang)
    if kind == "hazards":
        card = hazard_card(_allowed(find_hazard(city, code), f"{kind}:{code}"), lang=lang, area_names=names)
    else:
        card = object_card(_allowed(find_object(city, kind, code), f"{kind}:{code}"), kind, lang=lang,
                           area_names=names, link=False)
    return True, pt.get("bbox"), card


@callback(Output(Ids.MAP, "figure"), Input(Ids.LAYERS, "value"), State(Ids.TRACES, "data"))
@context.checked("read")
def on_layers(visible, traces):
    """Show or hide layers without redrawing: a Patch of each trace's ``visible``."""
    return layer_patch(visible, traces, initial=_triggered() is None)


@callback(Output(Ids.LAYERS, "value"), Input(Ids.FLOOD_PRESET, "n_clicks"), prevent_initial_call=True)
@context.checked("read")
def on_flood_preset(n):
    """The flood-season preset ticks its layers (the checklist's change redraws through :func:`on_layers`)."""
    return list(FLOOD_PRESET) if n else no_update


def layer_patch(visible: list[str] | None, traces: list[str] | None, *, initial: bool):
    """The Patch for the checked layers; nothing when the page was just drawn with the default layers (the
    checklist keeps the user's choice across pages in the browser session, then it differs and is applied)."""
    if not traces or (initial and set(visible or []) == DEFAULT_VISIBLE):
        return no_update
    return visibility_patch(traces, visible or [])


# --------------------------------------------------------------------------------------------------
# The visible extent: the panel's figures and a download of what is on screen
# --------------------------------------------------------------------------------------------------

def view_bounds(relayout: dict | None) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) of the map's view from a MapLibre relayout event (its ``map._derived``
    corners); None when the event is not a move of the view."""
    corners = ((relayout or {}).get("map._derived") or {}).get("coordinates")
    if not corners:
        return None
    try:
        lons = [float(c[0]) for c in corners]
        lats = [float(c[1]) for c in corners]
    except (TypeError, ValueError, IndexError):
        return None
    if not all(-180 <= v <= 180 for v in lons) or not all(-90 <= v <= 90 for v in lats):
        return None
    return min(lons), min(lats), max(lons), max(lats)


def within(sel, bbox: tuple[float, float, float, float]):
    """The selection narrowed to what lies in ``bbox`` (points inside; lines crossing it; inspections of the
    objects inside). Scoping was done by :func:`filters_for` before: this only narrows further."""
    import dataclasses

    w, s_, e, n = bbox

    def inside(f):
        if not len(f) or "x" not in f:
            return f
        return f[f["x"].between(w, e) & f["y"].between(s_, n)]

    objects = {k: inside(f) for k, f in sel.objects.items()}
    lines = {k: (g[(g["maxx"] >= w) & (g["minx"] <= e) & (g["maxy"] >= s_) & (g["miny"] <= n)]
                 if len(g) and "maxx" in g else g) for k, g in sel.lines.items()}
    ids = set(objects.get("enterprises", sel.enterprises)["id"].astype(str))
    for k in ("venues", "gas_stations"):
        if k in objects:
            ids |= set(objects[k]["id"].astype(str))
    insp = sel.inspections
    insp = insp[insp["target_id"].astype(str).isin(ids)] if len(insp) and "target_id" in insp else insp
    return dataclasses.replace(sel, objects=objects, hazards=inside(sel.hazards), inspections=insp, lines=lines,
                               bounds=(w, s_, e, n))


def _state_of(search: str | None) -> dict:
    return parse_state({k: v for k, v in parse_qsl((search or "").lstrip("?"))})


@callback(Output(Ids.FIGS, "children"), Input(Ids.MAP, "relayoutData"), Input(Ids.FOLLOW, "value"),
          State("url", "search"), prevent_initial_call=True)
@context.checked("read")
def on_view(relayout, follow, search):
    """The panel's figures for what is on screen (scoped on the server like the page), or for the whole area
    when "figures follow the view" is off."""
    lang = lang_from_search(search)
    bbox = view_bounds(relayout)
    if "on" in (follow or []) and bbox is None:
        return no_update
    try:
        return view_panel(_state_of(search), lang, search, bbox if "on" in (follow or []) else None)
    except Exception as exc:  # the edge
        if not isinstance(exc, AccessDenied | RiskMapError):
            log.exception("map view panel failed")
        return calm_message(lang, exc)


def view_panel(state: dict, lang: str, search: str | None, bbox):
    """The figure panel of the area of ``state`` narrowed to ``bbox`` (None: the whole area)."""
    settings = context.settings()
    context.authorize(context.action())
    city = load_city(context.store())
    filters = filters_for(state, city)          # the scope check
    sel = select(city, filters)
    names = _names(city, lang)
    risk = area_risk(city, filters, settings)   # a property of the areas, not of the view or the filters
    shown = within(sel, bbox) if bbox is not None else sel
    if sel.level == "town":
        title = f"{names.get(filters.districts[0], '')} · {names.get(filters.town, filters.town)}"
    elif sel.level == "district":
        title = names.get(filters.districts[0], filters.districts[0])
    else:
        title = t("map.city", lang)
    if bbox is not None:
        title = f"{title} · {t('map.in_view', lang)}"
    return figure_panel({**area_figures(shown), **area_coverage(city, filters, settings)}, risk, lang=lang,
                        search=search, area_title=title, child_level="district" if sel.level == "city" else "town")


@callback(Output(Ids.DOWNLOAD, "data"), Input(Ids.EXPORT, "n_clicks"), State(Ids.MAP, "relayoutData"),
          State(Ids.FOLLOW, "value"), State("url", "search"), prevent_initial_call=True)
@context.checked("read")
def on_export(n, relayout, follow, search):
    """An Excel file of the enterprises and hazards on screen with the page's filters (scoped on the server,
    formula-safe: :func:`layers.export.write_xlsx`)."""
    if not n:
        return no_update
    lang = lang_from_search(search)
    data, name = export_view(_state_of(search), lang, view_bounds(relayout) if "on" in (follow or []) else None)
    return dcc.send_bytes(data, name)


def export_view(state: dict, lang: str, bbox) -> tuple[bytes, str]:
    """(xlsx bytes, file name) of what is in view: enterprises and the hazards shown, in ``lang``."""
    import tempfile
    from pathlib import Path

    import pandas as pd

    from layers.export import write_xlsx
    from layers.schema import HAZARD_STATUS

    context.authorize(context.action())
    city = load_city(context.store())
    sel = select(city, filters_for(state, city))
    if bbox is not None:
        sel = within(sel, bbox)
    names = _names(city, lang)
    e = sel.enterprises
    ent = pd.DataFrame({
        "ID": e["id"].astype(str), t("map.export.sheet_ent", lang): e["name"].astype(str),
        t("map.filter.grade", lang): [label(GRADES, g, lang) for g in e["grade"]],
        t("map.filter.industry", lang): [label(INDUSTRIES, i, lang) for i in e["industry"]],
        t("map.filter.district", lang): [names.get(str(d), "") for d in e["district_code"]],
        t("map.filter.town", lang): [names.get(str(x), "") for x in e["town_code"]],
        "lon": e["x"], "lat": e["y"]})
    h = sel.hazards
    hz = pd.DataFrame({"ID": h["id"].astype(str), t("map.hover.target", lang): h["obj_name"].astype(str),
                       t("map.filter.hazard", lang): [label(HAZARD_STATUS, x, lang) for x in h["status"]],
                       "level": h["level"].astype(str), "lon": h["x"], "lat": h["y"]})
    with tempfile.TemporaryDirectory() as tmp:
        path = write_xlsx({t("map.export.sheet_ent", lang): ent, t("map.export.sheet_hz", lang): hz},
                          Path(tmp) / "view.xlsx")
        data = path.read_bytes()
    day = city.as_of.date().isoformat() if city.as_of is not None else "map"
    return data, f"riskmap-view-{day}.xlsx"


def _n_triggered() -> int:
    """How many inputs fired the running callback (a newly drawn page fires all of them at once)."""
    try:
        return len([t for t in ctx.triggered if t.get("prop_id") != "."])
    except MissingCallbackContextException:
        return 0


def _triggered() -> str | None:
    """The id of the input that fired the running callback (None on the initial call or outside Dash)."""
    try:
        return ctx.triggered_id
    except MissingCallbackContextException:
        return None

