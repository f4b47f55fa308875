"""The English wall shows whole area names in its ranking at 1920x1080: long ones smaller, very long ones on two
lines, none cut with an ellipsis (issue 13)."""

from __future__ import annotations

import sys

import pytest
from conftest import login


def test_long_names_get_a_smaller_size(live_app):
    _name_size = sys.modules["dashboard.pages.wall"]._name_size   # the module the app registered
    assert _name_size("Linjiang District") == ""
    assert _name_size("Changchuan District").strip() == "long"
    assert _name_size("Changchuan Economic Development Zone").strip() == "longer"


@pytest.mark.browser
def test_the_english_wall_ranking_cuts_no_name(new_watched_page, live_app):
    w = new_watched_page(viewport=(1920, 1080))
    login(w.page, live_app.url, next_path="/wall?lang=en&tour=off")
    w.page.goto(f"{live_app.url}/wall?lang=en&tour=off")
    w.page.wait_for_selector(".wall-rank-name", timeout=120_000)
    names = w.page.eval_on_selector_all(".wall-rank-name", """els => els.map(e => ({text: e.textContent,
        cut: e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 4, w: [e.scrollWidth, e.clientWidth, e.scrollHeight, e.clientHeight]}))""")
    assert len(names) >= 8 and any(len(n["text"]) > 17 for n in names)   # the demo has long English names
    assert [n for n in names if n["cut"]] == []
    assert not w.foreign_requests(live_app.host)
