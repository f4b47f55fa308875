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
    with request_ctx(user=CITY_USER, path="/wall"):
        pic = picture(store, settings, scope, None, "zh", with_map=False)
        tiles = kpi_tiles(pic, "zh")
    as_of = pic["selection"].city.as_of.date()
    expect = readiness.compute_cached(store, as_of=as_of, settings=settings).for_districts(scope).summary
    assert pic["readiness"] == dict(expect)
    tile = next(t for t in tiles if getattr(t, "id", None) == "wall-kpi-readiness")
    text = _text(tile)
    assert f"{expect['objects_reach_gap']:,}" in text and f"无预案 {expect['plan_gaps']:,}" in text
    assert f"演练逾期 {expect['drill_gaps']:,}" in text
    assert expect["objects_reach_gap"] > 0          # the demo city has gaps to show
