"""Date pickers in the page's language: one way to make them (``date_picker``, ``date_range``).

Dash's picker has no locale setting of its own: it takes month and day names from ``window.dateFns.locale``,
which ``assets/date-picker-lang.js`` answers with the page's locale (``<html lang>``; date-fns's zh-CN and en-US
locales are vendored in ``assets/date-fns/``), whatever the browser's languages are. The texts set here in zh-CN
or English: the placeholder, the month in the calendar's heading (``11月`` / ``November``), the day format
(``YYYY-MM-DD`` in both); weeks start on Monday as Chinese calendars do.
"""

from __future__ import annotations

from typing import Any

from dash import dcc

from dashboard.i18n import norm_lang, register, t

register({
    "date.pick": ("选择日期", "Select a date"),
    "date.start": ("开始日期", "Start date"),
    "date.end": ("结束日期", "End date"),
})

# the picker takes the month's pattern (M..MMMM) and the year's from this; zh-CN's MMM is "11月"
_MONTH = {"zh": "YYYY年MMM", "en": "MMMM YYYY"}


def _common(lang: str) -> dict[str, Any]:
    return {"display_format": "YYYY-MM-DD", "month_format": _MONTH[lang], "first_day_of_week": 1}


def date_picker(id: Any, lang: str | None, **kw: Any) -> dcc.DatePickerSingle:  # noqa: A002 - Dash's name
    """A single-date picker with the page's texts; ``kw`` as for ``dcc.DatePickerSingle``."""
    lang = norm_lang(lang)
    return dcc.DatePickerSingle(id=id, **{**_common(lang), "placeholder": t("date.pick", lang), **kw})


def date_range(id: Any, lang: str | None, **kw: Any) -> dcc.DatePickerRange:  # noqa: A002 - Dash's name
    """A date-range picker with the page's texts; ``kw`` as for ``dcc.DatePickerRange``."""
    lang = norm_lang(lang)
    return dcc.DatePickerRange(id=id, **{**_common(lang), "start_date_placeholder_text": t("date.start", lang),
                                         "end_date_placeholder_text": t("date.end", lang), **kw})


__all__ = ["date_picker", "date_range"]
