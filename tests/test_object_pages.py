"""Every object page of a demo city renders (issue 13): each object of each object layer, in zh and en.

The city is a small demo city (the land, roads and networks of the full one; fewer enterprises, so the test
stays short) with the optional fields of some records left empty, as real hazard sheets and inspection
records often have them: five-in-place values, descriptions, deadlines, results, leads.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
from conftest import CITY_USER, LiveApp

from dashboard.components.mapfig import chain_lines, ring_coords
from layers.schema import FIVE_IN_PLACE, OBJECT_LAYERS
from layers.store import open_store

pytestmark = pytest.mark.slow

#: every n-th record loses its optional values
BLANK_EVERY = 3
HAZARD_BLANKS = (*FIVE_IN_PLACE, "type", "description", "deadline", "closed_date", "responsible_person")


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> LiveApp:
    """This module's app (``request_ctx`` uses it): a small demo city with blanks, not served over HTTP."""
    from dashboard.app import create_app
    from layers.demo.city import build_demo_store
    from layers.settings import Settings

    path = tmp_path_factory.mktemp("objects") / "city.gpkg"
    store = build_demo_store(path, enterprises=60, seed=7)
    hz = store.read("hazards", columns=["id"])["id"].tolist()
    insp = store.read("inspections", columns=["id"])["id"].tolist()
    acc = store.read("accidents", columns=["id"])["id"].tolist()
    resp = store.read("responsibilities", columns=["id"])["id"].tolist()
    with store.transaction() as tx:
        tx.update("hazards", hz[::BLANK_EVERY], dict.fromkeys(HAZARD_BLANKS))
        tx.update("inspections", insp[::BLANK_EVERY], dict.fromkeys(("team_id", "result", "hazards_found",
                                                                      "action")))
        tx.update("accidents", acc[::BLANK_EVERY], dict.fromkeys(("kind", "deaths", "injuries", "description")))
        tx.update("responsibilities", resp[::BLANK_EVERY], dict.fromkeys(("lead", "officer")))
    app = create_app(Settings(store=str(path), secret_key="test-secret"))
    return LiveApp(url="http://127.0.0.1", app=app, store_path=Path(path))


def test_chain_lines_skips_empty_parts():
    """Roads clipped to the object page's box leave empty lines (a road that only touches the box)."""
    box = shapely.box(0, 0, 10, 10)
    roads = np.array([shapely.LineString([(1, 1), (2, 2)]), shapely.LineString([(2, 2), (3, 1)]),
                      shapely.LineString([(20, 20), (30, 30)]), shapely.LineString([(5, 5), (6, 5)])], dtype=object)
    clipped = shapely.intersection(roads, box)
    assert shapely.is_empty(clipped).any()
    chained = chain_lines(clipped)
    assert len(chained) == 2
    assert shapely.equals(shapely.union_all(chained), shapely.union_all(roads[[0, 1, 3]]))
    x, _ = ring_coords(chained)
    assert np.isfinite(x).sum() == 3 + 2
    assert len(chain_lines(np.array([shapely.LineString()], dtype=object))) == 0


def test_every_object_page_renders_in_both_languages(live_app, request_ctx):
    from dashboard.pages.object import detail_page

    store = open_store(live_app.store_path, create=False)
    failed, shown = [], 0
    with request_ctx(user=CITY_USER, path="/object"):
        for layer in OBJECT_LAYERS:
            ids = store.read(layer, columns=["id"])["id"].astype(str).tolist()
            assert ids, layer
            for oid in ids:
                for lang in ("zh", "en"):
                    try:
                        body = detail_page(layer, oid, lang)
                    except Exception as exc:  # collect them all: one line per failing page
                        failed.append(f"{layer}:{oid} [{lang}] {type(exc).__name__}: {exc}")
                    else:
                        shown += 1
                        assert "calm-error" not in str(body)
    assert not failed, f"{len(failed)} object pages failed:\n" + "\n".join(failed[:40])
    assert shown > 500


def test_an_unrecorded_five_in_place_is_shown_as_not_recorded(live_app, request_ctx):
    """An empty five-in-place value is neither ✓ nor ✗ on the page: it is marked as not recorded."""
    from dashboard.pages.object import detail_page

    store = open_store(live_app.store_path, create=False)
    hz = store.read("hazards", columns=["id", "target_layer", "target_id", *FIVE_IN_PLACE])
    blank = hz[hz[list(FIVE_IN_PLACE)].isna().all(axis=1)].iloc[0]
    with request_ctx(user=CITY_USER, path="/object"):
        for lang, word in (("zh", "未填报"), ("en", "not recorded")):
            text = str(detail_page(blank["target_layer"], str(blank["target_id"]), lang))
            assert "five-unknown" in text and word in text
