"""The callback edge: our errors become a calm message; the traceback goes to the log, never to the user."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from dash import html

from dashboard.i18n import t
from layers.errors import AccessDenied, ActionDenied, RiskMapError

log = logging.getLogger("dashboard.callbacks")


def calm_message(lang: str, exc: BaseException | None = None) -> html.Div:
    """A calm panel: access refusals say so; our own errors show their (bilingual) message; anything else a
    generic text."""
    if isinstance(exc, ActionDenied):
        text = t("error.role", lang)
    elif isinstance(exc, AccessDenied):
        text = t("error.denied", lang)
    elif isinstance(exc, RiskMapError):
        text = str(exc)
    else:
        text = t("error.calm", lang)
    return html.Div(text, className="calm-error", role="alert")


def guarded(fallback: Callable[[BaseException], Any]) -> Callable:
    """Decorate a callback: on an exception, log it with its traceback and return ``fallback(exc)``."""

    def wrap(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def inner(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:  # the edge: log everything, show calm text
                if isinstance(exc, AccessDenied):
                    log.warning("access denied in %s: %s", fn.__name__, exc)
                else:
                    log.exception("callback %s failed", fn.__name__)
                return fallback(exc)

        return inner

    return wrap


def denied_page(exc: AccessDenied, lang: str | None = None, **_query: Any) -> html.Div:
    """The page body for a refused page (the layout's ``denied`` of ``context.checked``)."""
    log.warning("page refused: %s", exc)
    return html.Div(html.Div(calm_message("en" if lang == "en" else "zh", exc), className="page"),
                    className="denied-page")
