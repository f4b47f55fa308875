"""The map's search box (issue 13: "no search by enterprise name or credit code on the map"): by name or credit
code, within the user's area only, results linking to the object's page."""

from __future__ import annotations

import pytest
from conftest import CITY_USER

from layers.analysis.summary import load_city, search_objects
from layers.store import open_store


def _links(children) -> list[tuple[str, str]]:
    out = []
    for c in children or []:
        href = getattr(c, "href", None)
        if href:
            name = c.children[0].children
            out.append((str(name), href))
    return out


@pytest.fixture(scope="module")
def city(live_app):
    return load_city(open_store(live_app.store_path, create=False))


def test_a_credit_code_finds_its_enterprise_first_and_a_name_part_finds_every_holder(city):
    e = city.objects["enterprises"]
    row = e[e["credit_code"].notna()].iloc[3]
    hit = search_objects(city, row["credit_code"].lower())
    assert (hit.iloc[0]["layer"], hit.iloc[0]["id"]) == ("enterprises", row["id"])
    word = str(row["name"])[2:4]
    found = search_objects(city, word, limit=10_000)
    names = e.loc[e["name"].astype(str).str.contains(word, regex=False), "id"]
    assert set(names) <= set(found.loc[found["layer"] == "enterprises", "id"])
    assert len(search_objects(city, "   ")) == 0


def test_the_box_lists_links_within_the_users_area_only(request_ctx, city):
    from dashboard.pages.map import search_results

    e = city.objects["enterprises"]
    own, other = "420102", "420103"
    theirs = e[e["district_code"] == other].iloc[0]
    mine = e[e["district_code"] == own].iloc[0]
    with request_ctx(user=CITY_USER):
        links = _links(search_results(str(theirs["name"]), "zh"))
    assert (str(theirs["name"]), f"/object?layer=enterprises&id={theirs['id']}") in links
    leader = {"id": f"d{own}", "role": "district", "district_code": own, "display_name": "lead"}
    with request_ctx(user=leader):
        assert not any(n == str(theirs["name"]) for n, _ in _links(search_results(str(theirs["name"]), "zh")))
        assert not _links(search_results(str(theirs["credit_code"]), "zh"))
        assert str(mine["name"]) in [n for n, _ in _links(search_results(str(mine["name"]), "zh"))]
        none = search_results("不存在的企业名称XYZ", "zh")
    assert "没有找到" in str(none[0].children)
