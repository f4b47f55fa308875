"""The date pickers' day and month names follow the page's language (``<html lang>``), not the browser's.

Dash 4.4's picker takes its names from ``window.dateFns.locale`` (``assets/date-picker-lang.js`` answers it with
the page's locale; the zh-CN and en-US locales are vendored in ``assets/date-fns/``). In real headless Chromium,
with the browser's own language set to the other one: on the coverage page, a zh-CN page's calendar shows
一 二 三 … 日 and a month like 11月, an English page's Mo Tu We … Su and November, and nothing is fetched from
another host.
"""

from __future__ import annotations

import re

import pytest
from conftest import _watch, login

pytestmark = pytest.mark.browser

ENGLISH_MONTHS = {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                  "November", "December"}
CASES = {  # page language: (<html lang>, the browser's locale, weekday headings from Monday)
    "zh": ("zh-CN", "en-US", ["一", "二", "三", "四", "五", "六", "日"]),
    "en": ("en", "zh-CN", ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"]),
}


@pytest.mark.parametrize("page_lang", list(CASES))
def test_the_calendar_speaks_the_pages_language_not_the_browsers(browser, live_app, tmp_path, page_lang):
    html_lang, browser_locale, weekdays = CASES[page_lang]
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000}, locale=browser_locale)
    try:
        w = _watch(ctx.new_page())
        login(w.page, live_app.url, "admin", "demo", f"/coverage?lang={page_lang}")
        w.page.wait_for_selector("input#cov-as-of", timeout=120_000)
        w.page.click("input#cov-as-of")
        w.page.wait_for_selector(".dash-datepicker-calendar-wrapper th", timeout=30_000)
        got = w.page.evaluate("""() => {
            const cal = document.querySelector('.dash-datepicker-calendar-wrapper');
            return {heads: [...cal.querySelectorAll('th')].map(e => e.innerText.trim()),
                    month: cal.querySelector('.dash-dropdown-value').innerText.trim(),
                    languages: [...navigator.languages], lang: document.documentElement.lang};
        }""")
        w.page.screenshot(path=str(tmp_path / f"date-picker-{page_lang}.png"))
        assert got["languages"][0] == browser_locale  # the browser asks for the other language
        assert got["lang"] == html_lang
        assert got["heads"] == weekdays, got
        if page_lang == "zh":
            assert re.fullmatch(r"\d{1,2}月", got["month"]), got
        else:
            assert got["month"] in ENGLISH_MONTHS, got
        assert not w.foreign_requests(live_app.host)
        assert not w.errors, w.errors
    finally:
        ctx.close()
