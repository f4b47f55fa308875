"""The ``dcc.Graph`` config of every graph in the app: a toolbar with nothing on it that leaves this machine.

plotly.js 4 (bundled by plotly 7) puts "Share chart…" (button ``sendChartToCloud``: it uploads the figure to
``plotlyServerURL``, by default https://cloud.plotly.com/newchart) on every toolbar unless ``showSendToCloud`` is
false, and its logo is a link to plotly.com. Earlier releases had "Edit in Chart Studio"
(``showEditInChartStudio``, button ``editInChartStudio``), ``sendDataToCloud`` and the "Edit chart" link
(``showLink``, ``sendData``); they are switched off too (plotly.js 4 ignores config keys it does not know and
toolbar names it does not have), so a change of version cannot bring any of them back.

The toolbar's tooltips follow the page's language (``locale``): plotly.js's own zh-CN dictionary is served by the
app (``assets/plotly-locale-zh-cn.js``, vendored from plotly.js 4.1.1 with its licence), never from a CDN.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

import dash
import flask
from dash.exceptions import MissingCallbackContextException

from dashboard.i18n import DEFAULT_LANG, lang_from_search, norm_lang

#: toolbar buttons that send the figure to a Plotly host, in any plotly.js version
CLOUD_BUTTONS = ("sendChartToCloud", "sendDataToCloud", "editInChartStudio")

#: config keys that let a graph reach Plotly's hosts, at their offline values
OFFLINE_CONFIG = MappingProxyType({"displaylogo": False, "showSendToCloud": False, "showEditInChartStudio": False,
                                   "showLink": False, "sendData": False, "plotlyServerURL": ""})


#: plotly.js locale of each app language (zh-CN registered by assets/plotly-locale-zh-cn.js; en is built in)
LOCALES = MappingProxyType({"zh": "zh-CN", "en": "en"})


def page_lang() -> str:
    """The language of the page being served, for a caller that was not told it: ``?lang=`` of the page request,
    of the URL Dash's page router was given (``_pages_location.search``), or of the page a callback came from
    (its Referer: the app sends ``Referrer-Policy: same-origin``); zh outside a request."""
    if not flask.has_request_context():
        return DEFAULT_LANG
    if "lang" in flask.request.args:
        return norm_lang(flask.request.args.get("lang"))
    try:
        search = dash.callback_context.inputs.get("_pages_location.search")
    except MissingCallbackContextException:
        search = None
    if search is None and flask.request.referrer:
        search = urlsplit(flask.request.referrer).query
    return lang_from_search(search)


def graph_config(*, lang: str | None = None, remove: Iterable[str] = (), **options: Any) -> dict:
    """The ``config`` of a ``dcc.Graph``: plotly.js config ``options`` (``scrollZoom=True``,
    ``displayModeBar=False`` …) with :data:`OFFLINE_CONFIG`, the toolbar buttons ``remove`` taken off with
    :data:`CLOUD_BUTTONS`, and the toolbar's ``locale`` for ``lang`` (the page's language, :func:`page_lang`,
    when not given).

    Raises ``ValueError`` for an option that would turn a cloud key back on, or for ``modeBarButtonsToRemove``
    (pass ``remove=`` instead).
    """
    clash = sorted(k for k, v in options.items() if k in OFFLINE_CONFIG and v != OFFLINE_CONFIG[k])
    if "modeBarButtonsToRemove" in options:
        clash.append("modeBarButtonsToRemove (use remove=)")
    if clash:
        raise ValueError(f"graph_config: {', '.join(clash)} would let a graph reach Plotly's hosts; every graph "
                         f"stays offline ({dict(OFFLINE_CONFIG)})")
    extra = [b for b in remove if b not in CLOUD_BUTTONS]
    locale = LOCALES[norm_lang(lang) if lang is not None else page_lang()]
    return {"locale": locale, **options, **OFFLINE_CONFIG, "modeBarButtonsToRemove": [*CLOUD_BUTTONS, *extra]}
