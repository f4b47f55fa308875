"""The map's key as HTML beside the map (``MapOptions(legend="html")``): no legend traces on the map, since every
``scattermap`` trace is several MapLibre sources and layers (a key of 35 entries as traces made zooming slow)."""

from __future__ import annotations

from dash import html


def legend_box(entries: list[dict], *, theme: str = "light", box_id: str = "map-legend") -> html.Div:
    """A compact key: one row per group (its title, then its entries as coloured dots and names)."""
    groups: list[tuple[str, list[dict]]] = []
    for e in entries:
        if e.get("title") or not groups or groups[-1][0] != e["key"]:
            groups.append((e["key"], [e]))
        else:
            groups[-1][1].append(e)
    rows = []
    for key, items in groups:
        title = items[0].get("title") or ""
        rows.append(html.Div(className="legend-group", **{"data-key": key}, children=[
            html.Span(title, className="legend-title") if title else None,
            *[html.Span(className="legend-item", children=[
                html.Span(className="legend-dot", style={"background": str(e["color"]),
                                                         "width": f"{min(max(float(e['size']), 7), 13):.0f}px",
                                                         "height": f"{min(max(float(e['size']), 7), 13):.0f}px"}),
                e["name"]]) for e in items]]))
    return html.Div(rows, id=box_id, className=f"map-legend legend-{theme}")
