"""The wall shows the area's readiness gaps (issue 15: "… in exports, and on the wall"), the same counts as
/readiness and the CLI compute."""

from __future__ import annotations

import pytest
from conftest import CITY_USER

from layers.analysis import readiness
from layers.settings import Settings
from layers.store import open_store


def _text(component) -> str:
    if component is None:
        return ""
    if isinstance(component, (str, int, float)):
        return str(component)
    children = getattr(component, "children", None)
    if isinstance(children, (list, tuple)):
        return " ".join(_text(c) for c in children)
    return _text(children)


@pytest.mark.parametrize("district", [None, "420104"])
def test_the_wall_tile_counts_the_areas_readiness_gaps(request_ctx, live_app, district):
    from dashboard.pages.wall import kpi_tiles, picture

    settings = Settings(store=str(live_app.store_path))
    store = open_store(live_app.store_path, create=False)
    scope = [district] if district else None
    from layers.analysis.summary import load_city

    as_of = load_city(store).as_of.date()
    expect = readiness.compute_cached(store, as_of=as_of, settings=settings).for_districts(scope).summary
    with request_ctx(user=CITY_USER, path="/wall"):
        pic = picture(store, settings, scope, None, "zh", with_map=False)
        tiles = kpi_tiles(pic, "zh")
    assert pic["readiness"] == dict(expect)
    tile = next(t for t in tiles if getattr(t, "id", None) == "wall-kpi-readiness")
    text = _text(tile)
    assert f"{expect['objects_reach_gap']:,}" in text and f"无预案 {expect['plan_gaps']:,}" in text
    assert f"演练逾期 {expect['drill_gaps']:,}" in text
    assert expect["objects_reach_gap"] > 0          # the demo city has gaps to show


def test_a_cold_readiness_result_does_not_hold_up_the_wall(request_ctx, live_app, monkeypatch):
    """After a start or an import the readiness result is cold: the wall draws at once with — in the tile, and
    a later refresh shows the counts (the result was computed beside it)."""
    from dashboard.pages import wall
    from layers.analysis.readiness import cache as rd_cache
    from layers.analysis.summary import load_city

    settings = Settings(store=str(live_app.store_path))
    store = open_store(live_app.store_path, create=False)
    rd_cache.clear_cache()
    monkeypatch.setattr(wall, "READINESS_WAIT_S", 0.0)
    with request_ctx(user=CITY_USER, path="/wall"):
        first = wall.picture(store, settings, None, None, "zh", with_map=False)
        tile = next(t for t in wall.kpi_tiles(first, "zh") if getattr(t, "id", None) == "wall-kpi-readiness")
        assert first["readiness"] is None and "—" in _text(tile)
        as_of = load_city(store).as_of.date()
        expect = readiness.compute_cached(store, as_of=as_of, settings=settings).summary   # waits for that job
        monkeypatch.setattr(wall, "READINESS_WAIT_S", 30.0)
        later = wall.picture(store, settings, None, None, "zh", with_map=False)
    assert later["readiness"] == dict(expect)
