"""The ``dcc.Graph`` config of every graph in the app: a toolbar with nothing on it that leaves this machine.

plotly.js 4 (bundled by plotly 7) puts "Share chart…" (button ``sendChartToCloud``: it uploads the figure to
``plotlyServerURL``, by default https://cloud.plotly.com/newchart) on every toolbar unless ``showSendToCloud`` is
false, and its logo is a link to plotly.com. Earlier releases had "Edit in Chart Studio"
(``showEditInChartStudio``, button ``editInChartStudio``), ``sendDataToCloud`` and the "Edit chart" link
(``showLink``, ``sendData``); they are switched off too (plotly.js 4 ignores config keys it does not know and
toolbar names it does not have), so a change of version cannot bring any of them back.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import MappingProxyType
from typing import Any

#: toolbar buttons that send the figure to a Plotly host, in any plotly.js version
CLOUD_BUTTONS = ("sendChartToCloud", "sendDataToCloud", "editInChartStudio")

#: config keys that let a graph reach Plotly's hosts, at their offline values
OFFLINE_CONFIG = MappingProxyType({"displaylogo": False, "showSendToCloud": False, "showEditInChartStudio": False,
                                   "showLink": False, "sendData": False, "plotlyServerURL": ""})


def graph_config(*, remove: Iterable[str] = (), **options: Any) -> dict:
    """The ``config`` of a ``dcc.Graph``: plotly.js config ``options`` (``scrollZoom=True``,
    ``displayModeBar=False`` …) with :data:`OFFLINE_CONFIG`, and the toolbar buttons ``remove`` taken off with
    :data:`CLOUD_BUTTONS`.

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
    return {**options, **OFFLINE_CONFIG, "modeBarButtonsToRemove": [*CLOUD_BUTTONS, *extra]}
