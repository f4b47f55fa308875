"""Map page and object page functions called as plain functions inside a Flask request (server session)."""

from __future__ import annotations

import pytest
from conftest import CITY_USER
from dash import Patch, no_update

from dashboard.components.mapfig import DEFAULT_VISIBLE
from dashboard.i18n import t
from layers.analysis.summary import Filters, area_figures, load_city, select
from layers.errors import AccessDenied
from layers.store import open_store


def _find(component, cid):
    """The component with id ``cid`` in a Dash component tree (or None)."""
    if getattr(component, "id", None) == cid:
        return component
    children = getattr(component, "children", None)
    if children is None:
        return None
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if hasattr(child, "children") or hasattr(child, "id"):
            hit = _find(child, cid)
            if hit is not None:
                return hit
    return None


def _text(component) -> str:
    if component is None:
        return ""
    if isinstance(component, (str, int, float)):
        return str(component)
    children = getattr(component, "children", None)
    if isinstance(children, (list, tuple)):
        return " ".join(_text(c) for c in children)
    return _text(children)


@pytest.fixture(scope="module")
def codes(live_app):
    store = open_store(live_app.store_path, create=False)
    districts = sorted(store.read("districts", columns=["code"])["code"])
    ent = store.read("enterprises", columns=["id", "district_code"])
    return {"districts": districts, "enterprises": ent}


def test_view_narrows_to_the_district(request_ctx, live_app, codes):
    from dashboard.pages.map import parse_state, view

    d = codes["districts"][1]
    with request_ctx(user=CITY_USER):
        city_view = view(parse_state({}), "zh")
        v = view(parse_state({"district": d}), "zh")
    assert city_view["level"] == "city" and v["level"] == "district"
    n = int((codes["enterprises"]["district_code"] == d).sum())
    assert _text(_find(v["panel"], "kpi-enterprises")).startswith(f"{n:,}")
    assert _text(_find(city_view["panel"], "kpi-enterprises")).startswith(f"{len(codes['enterprises']):,}")
    ids = {c.split(":", 1)[1] for k, tr in zip(v["traces"], v["figure"]["data"], strict=True) if k == "enterprises"
           and tr["type"] == "scattermap" for c in tr.get("customdata", [])}
    in_d = set(codes["enterprises"].loc[codes["enterprises"]["district_code"] == d, "id"])
    assert ids <= in_d and len(ids) > 0
    # the breadcrumb goes city > district
    assert [c[0] for c in v["crumbs"]] == ["map.city", None]


def test_filters_become_a_url():
    from dashboard.pages.map import Ids, search_for

    assert search_for("?lang=en", triggered=Ids.GRADE, district=None, town=None, industry=[], grade=["major"],
                      hazard=[]) == "?lang=en&grade=major"
    # changing the district drops the town
    assert search_for("?district=420102&town=420102001", triggered=Ids.DISTRICT, district="420103",
                      town="420102001", industry=None, grade=None, hazard=None) == "?district=420103"
    assert search_for("?district=420102", triggered=Ids.INDUSTRY, district="420102", town=None,
                      industry=["hazchem", "mining"], grade=None, hazard=["overdue"]) == \
        "?district=420102&industry=hazchem,mining&hazard=overdue"
    # nothing changed: no navigation
    assert search_for("?district=420102", triggered=Ids.TOWN, district="420102", town=None, industry=[],
                      grade=[], hazard=[]) is None
    assert search_for("?district=420102&grade=low&lang=en", triggered=Ids.RESET, district="420102", town=None,
                      industry=[], grade=["low"], hazard=[]) == "?lang=en"


def test_parse_state_drops_unknown_values():
    from dashboard.pages.map import parse_state

    s = parse_state({"district": "420102", "grade": "major,bogus", "industry": "hazchem", "hazard": "overdue,x"})
    assert s == {"district": "420102", "town": None, "industry": ["hazchem"], "grade": ["major"],
                 "hazard": ["overdue"]}


def test_map_click_drills_and_shows_a_card(request_ctx, live_app, codes):
    from dashboard.pages.map import map_click, on_map_click

    d = codes["districts"][0]
    ent = codes["enterprises"]
    eid = ent.loc[ent["district_code"] == d, "id"].iloc[0]
    store = open_store(live_app.store_path, create=False)
    name = store.read("enterprises", ids=[eid])["name"].iloc[0]
    with request_ctx(user=CITY_USER):
        new, card = map_click({"points": [{"customdata": f"district:{d}"}]}, "?lang=en", "en")
        assert new == f"?lang=en&district={d}" and card is no_update
        # an H3 cell: its click target first, then its numbers
        new, _ = map_click({"points": [{"customdata": [f"district:{d}", 1, 2, 3, 4, 10, 0.1, "重大风险"]}]}, "", "zh")
        assert new == f"?district={d}"
        town = load_city(store).towns.query("district_code == @d")["code"].iloc[0]
        new, _ = map_click({"points": [{"customdata": f"town:{town}"}]}, "", "zh")
        assert new == f"?district={d}&town={town}"
        new, card = on_map_click({"points": [{"customdata": f"enterprises:{eid}"}]}, "")
        assert new is no_update and name in _text(card)
        # a click on nothing (a fill without customdata) changes nothing
        assert map_click({"points": [{"curveNumber": 3}]}, "", "zh") == (no_update, no_update)


def test_layer_switch_is_a_patch():
    from dashboard.pages.map import layer_patch

    traces = ["base", "enterprises", "hazards"]
    assert layer_patch(sorted(DEFAULT_VISIBLE), traces, initial=True) is no_update
    p = layer_patch(["hazards"], traces, initial=False)
    assert isinstance(p, Patch)
    ops = {tuple(o["location"]): o["params"]["value"] for o in p.to_plotly_json()["operations"]}
    assert ops == {("data", 1, "visible"): False, ("data", 2, "visible"): True}
    # a choice kept from an earlier page (not the default) is applied on the first call
    assert isinstance(layer_patch(["hazards"], traces, initial=True), Patch)


def test_district_user_is_refused_other_districts(request_ctx, live_app, codes):
    from dashboard.pages.map import layout, map_click, on_map_click
    from dashboard.pages.object import layout as object_layout

    own, other = codes["districts"][0], codes["districts"][1]
    user = {"id": f"d{own}", "role": "district", "district_code": own, "display_name": "lead"}
    ent = codes["enterprises"]
    other_eid = ent.loc[ent["district_code"] == other, "id"].iloc[0]
    own_eid = ent.loc[ent["district_code"] == own, "id"].iloc[0]
    denied = t("error.denied", "zh")
    with request_ctx(user=user):
        page = layout(district=other)
        assert denied in _text(page) and _find(page, "map-graph") is None
        page = layout(district=other, lang="en")
        assert t("error.denied", "en") in _text(page)
        # without a district the user sees their own
        page = layout()
        assert _find(page, "map-graph") is not None
        panel_title = _text(_find(page, "panel-area"))
        city = load_city(open_store(live_app.store_path, create=False))
        own_name = city.districts.set_index("code").loc[own, "name"]
        assert panel_title == own_name
        n_own = area_figures(select(city, Filters.make(districts=[own])))["enterprises"]["total"]
        assert _text(_find(page, "kpi-enterprises")).startswith(f"{n_own:,}")
        # the town of another district through the URL
        other_town = city.towns.query("district_code == @other")["code"].iloc[0]
        assert denied in _text(layout(town=other_town))
        assert denied in _text(layout(district=own, town=other_town)) or \
            "不在所选区县内" in _text(layout(district=own, town=other_town))
        # callbacks called with another district's area or object
        new, msg = on_map_click({"points": [{"customdata": f"district:{other}"}]}, "")
        assert new is no_update and denied in _text(msg)
        new, msg = on_map_click({"points": [{"customdata": f"enterprises:{other_eid}"}]}, "")
        assert new is no_update and denied in _text(msg)
        _, card = map_click({"points": [{"customdata": f"enterprises:{own_eid}"}]}, "", "zh")
        assert card is not no_update and denied not in _text(card)
        # the object page
        assert denied in _text(object_layout(layer="enterprises", id=other_eid))
        assert _find(object_layout(layer="enterprises", id=own_eid), "object-name") is not None
    with request_ctx(user=None):
        assert "请先登录" in _text(layout()) or t("error.denied", "zh") in _text(layout())


def test_object_page_content(request_ctx, live_app, codes):
    from dashboard.pages.object import layout as object_layout

    store = open_store(live_app.store_path, create=False)
    hz = store.read("hazards", columns=["target_layer", "target_id"])
    hz = hz[hz["target_layer"] == "enterprises"]
    eid = hz["target_id"].value_counts().index[0]
    with request_ctx(user=CITY_USER):
        page = object_layout(layer="enterprises", id=eid, lang="en")
        assert _find(page, "object-map") is not None
        rows = _find(page, "object-hazards")
        n_rows = len(rows.children[1].children)
        assert n_rows == int((hz["target_id"] == eid).sum())
        assert "Facts" in _text(page)
        bad = object_layout(layer="enterprises", id="no-such-id")
        assert "no-such-id" in _text(bad)
        assert _find(object_layout(layer="roads", id="x"), "object-name") is None
        assert _find(object_layout(), "object-name") is None


def test_filter_callback_ignores_page_draws_and_stale_pages(request_ctx):
    from dashboard.pages.map import on_filters, same_search

    # outside a user's change (the page being drawn) nothing navigates
    with request_ctx(user=CITY_USER):
        assert on_filters("420102", None, [], ["major"], [], 0, "", {"search": ""}) is no_update
    assert same_search("?district=1&grade=a,b", "?grade=a%2Cb&district=1")
    assert same_search("?lang=zh", "") and not same_search("?lang=en", "")
    assert not same_search("?district=1", "")


def test_hover_tooltip_and_hazard_click(request_ctx, live_app, codes):
    from dashboard.pages.map import hover_tip, map_click

    store = open_store(live_app.store_path, create=False)
    hz = store.read("hazards", columns=["id", "target_layer", "target_id", "district_code", "description"])
    own, other = codes["districts"][0], codes["districts"][1]
    h_own = hz[(hz["district_code"] == own) & (hz["target_layer"] == "enterprises")].iloc[0]
    h_other = hz[hz["district_code"] == other].iloc[0]
    ent = codes["enterprises"]
    eid = ent.loc[ent["district_code"] == own, "id"].iloc[0]
    name = store.read("enterprises", ids=[eid])["name"].iloc[0]
    bbox = {"x0": 1, "x1": 2, "y0": 3, "y1": 4}
    user = {"id": f"d{own}", "role": "district", "district_code": own, "display_name": "lead"}
    with request_ctx(user=user):
        show, box, card = hover_tip({"points": [{"customdata": f"enterprises:{eid}", "bbox": bbox}]}, "zh")
        assert show is True and box == bbox and name in _text(card)
        show, _, card = hover_tip({"points": [{"customdata": f"hazards:{h_own['id']}", "bbox": bbox}]}, "en")
        assert show is True and (h_own["description"] or "") in _text(card)
        # areas keep Plotly's own label
        assert hover_tip({"points": [{"customdata": f"district:{own}"}]}, "zh")[0] is False
        # a hazard's click opens its object's card
        _, card = map_click({"points": [{"customdata": f"hazards:{h_own['id']}"}]}, "", "zh")
        target = store.read("enterprises", ids=[h_own["target_id"]])["name"].iloc[0]
        assert target in _text(card)
        # another district's hazard: refused
        with pytest.raises(AccessDenied, match="outside your area"):
            hover_tip({"points": [{"customdata": f"hazards:{h_other['id']}", "bbox": bbox}]}, "zh")


def _derived(bbox):
    w, s, e, n = bbox
    return {"map.center": {"lon": (w + e) / 2, "lat": (s + n) / 2}, "map.zoom": 12,
            "map._derived": {"coordinates": [[w, n], [e, n], [e, s], [w, s]]}}


def test_figures_follow_the_view_scoped_on_the_server(request_ctx, live_app, codes):
    from dashboard.pages.map import on_view, view_bounds

    assert view_bounds({"map.zoom": 3}) is None and view_bounds({"map._derived": {"coordinates": [[999, 1]] * 4}}) \
        is None
    city = load_city(open_store(live_app.store_path, create=False))
    e = city.objects["enterprises"]
    e = e[e["x"].notna()]
    # the quarter of the city south-west of its centre
    w, s_, east, n = city.bounds
    bbox = (w, s_, (w + east) / 2, (s_ + n) / 2)
    inside = e["x"].between(bbox[0], bbox[2]) & e["y"].between(bbox[1], bbox[3])
    with request_ctx(user=CITY_USER):
        panel = on_view(_derived(bbox), ["on"], "")
        assert _text(_find(panel, "kpi-enterprises")).startswith(f"{int(inside.sum()):,}")
        assert "视野内" in _text(_find(panel, "panel-area"))
        whole = on_view(_derived(bbox), [], "")          # switched off: the whole area again
        assert _text(_find(whole, "kpi-enterprises")).startswith(f"{len(city.objects['enterprises']):,}")
        assert on_view({"map.zoom": 12}, ["on"], "") is no_update     # not a move of the view
    # a district user's view of the whole city holds only their district
    own = codes["districts"][0]
    user = {"id": f"d{own}", "role": "district", "district_code": own, "display_name": "lead"}
    with request_ctx(user=user):
        panel = on_view(_derived(city.bounds), ["on"], "")
        n_own = int((city.objects["enterprises"]["district_code"] == own).sum())
        assert _text(_find(panel, "kpi-enterprises")).startswith(f"{n_own:,}")
        denied = on_view(_derived(city.bounds), ["on"], f"?district={codes['districts'][1]}")
        assert t("error.denied", "zh") in _text(denied)


def test_download_of_the_view_is_scoped_and_formula_safe(request_ctx, live_app, codes, tmp_path):
    import io

    import openpyxl

    from dashboard.pages.map import export_view, on_export

    store = open_store(live_app.store_path, create=False)
    city = load_city(store)
    own = codes["districts"][0]
    user = {"id": f"d{own}", "role": "district", "district_code": own, "display_name": "lead"}
    with request_ctx(user=user):
        data, name = export_view({"district": None, "town": None, "industry": [], "grade": [], "hazard": []}, "zh",
                                 city.bounds)
        sent = on_export(1, _derived(city.bounds), ["on"], "")
    assert name.endswith(".xlsx") and sent["filename"] == name
    wb = openpyxl.load_workbook(io.BytesIO(data))
    rows = list(wb["企业"].iter_rows(values_only=True))
    ids = {r[0] for r in rows[1:]}
    in_own = set(codes["enterprises"].loc[codes["enterprises"]["district_code"] == own, "id"])
    assert ids and ids <= in_own and len(ids) == len(in_own)
    # every cell is a value, never a formula
    assert all(c.data_type != "f" for ws in wb for row in ws.iter_rows() for c in row)


@pytest.mark.parametrize("query", [{"grade": "low"}, {"grade": "major", "industry": "hazchem"},
                                   {"hazard": "closed"}])
def test_the_risk_ranking_is_the_areas_not_the_filters_and_the_walls(request_ctx, live_app, query):
    """Issue 13: filtering the map by grade recomputed the districts' risk index (临江区 3 vs 95 on the wall)."""
    from dashboard.pages.map import parse_state, view
    from dashboard.pages.wall import picture
    from layers.settings import Settings

    with request_ctx(user=CITY_USER):
        whole = view(parse_state({}), "zh")
        filtered = view(parse_state(query), "zh")
        store = open_store(live_app.store_path, create=False)
        wall = picture(store, Settings(store=str(live_app.store_path)), None, None, "zh", with_map=False)
    table = _text(_find(whole["panel"], "panel-risk-table"))
    assert table and _text(_find(filtered["panel"], "panel-risk-table")) == table
    assert filtered["panel"] != whole["panel"]          # the filter does change what else is shown
    # the wall ranks the same areas in the same order, with the same index
    order = [f"{r['name']} {round(float(r['index']))}" for r in wall["rank"]][:3]
    assert order and all(o.split()[0] in table for o in order)
    positions = [table.index(o.split()[0]) for o in order]
    assert positions == sorted(positions), (order, table)


@pytest.mark.parametrize("district", [None, "420104"])
def test_coverage_is_the_same_figure_on_the_wall_the_map_panel_and_the_coverage_page(request_ctx, live_app,
                                                                                      district):
    """Issue 13: 40.3 % on the wall, 39.1 % on /coverage and "近30日检查覆盖企业 8 %" on the map panel."""
    import sys

    from dashboard.pages.map import parse_state, view
    from dashboard.pages.wall import picture
    from layers.settings import Settings

    cov_page = sys.modules["dashboard.pages.coverage"]
    with request_ctx(user=CITY_USER):
        v = view(parse_state({"district": district} if district else {}), "zh")
        store = open_store(live_app.store_path, create=False)
        wall = picture(store, Settings(store=str(live_app.store_path)), [district] if district else None, None,
                       "zh", with_map=False)
        cards = cov_page.update(None, [district] if district else None, 0, "greedy", "zh")[0]
    on_map = _text(_find(v["panel"], "kpi-coverage"))
    on_wall = f"{100 * wall['coverage']:.1f}%"
    on_page = next(_text(c) for c in cards if "按时检查" in _text(c) or "覆盖" in _text(c))
    assert on_map.startswith(on_wall), (on_map, on_wall)
    assert on_wall in on_page, (on_wall, on_page)
    assert str(wall["as_of"])[:10] in on_map          # the same as-of date, said on the map


def test_the_refusal_page_links_back_to_the_users_own_area_and_an_unknown_district_is_not_found(
        request_ctx, codes):
    """Issue 13: the access-denied page's lone link said 全市 and went to the user's own district; a district
    code that does not exist said "no permission" instead of "not found"."""
    from dashboard.pages.map import layout

    own, other = codes["districts"][0], codes["districts"][1]
    user = {"id": f"d{own}", "role": "district", "district_code": own, "display_name": "lead"}
    with request_ctx(user=user):
        page = layout(district=other)
        back = _find(page, "map-denied-back")
        assert _text(back) == t("map.own_area", "zh") and back.href == "/"
        assert t("map.city", "zh") not in _text(back)
        missing = layout(district="999999")
        assert "999999 不存在" in _text(missing) and t("error.denied", "zh") not in _text(missing)
    with request_ctx(user=CITY_USER):
        page = layout(district="999999")
        assert "999999 不存在" in _text(page) and _find(page, "map-graph") is None
        assert _text(_find(page, "map-denied-back")) == t("map.city", "zh")
