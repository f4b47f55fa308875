"""What the wall and the duty desk draw of the flood mode, the warning and the roster (plain Dash components
from ``layers.emergency`` results; no store access here)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pandas as pd
from dash import html

from dashboard.emergency import duty_text as _duty_text  # noqa: F401  (registers the strings)
from dashboard.i18n import t
from layers.emergency.duty import WeatherWarning
from layers.emergency.flood_season import HISTORY_SEASONS, FloodMode, FloodPicture
from layers.schema import DUTY_ROLES, FLOOD_SEVERITY, WARNING_LEVELS, label

#: text colour on each warning colour (yellow needs dark text)
_INK = {"yellow": "#1a1400", "orange": "#1a0d00"}


def local_time(ts: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An aware time in the server's local zone (``—`` for None)."""
    return "—" if ts is None else ts.astimezone().strftime(fmt)


def mode_reason(mode: FloodMode, lang: str) -> str:
    """Why flood mode is on or off, in words."""
    w = mode.warning
    what = w.title(lang) if w is not None else ""
    return t(f"duty.reason.{mode.reason}", lang).format(season=mode.season, warning=what)


def warning_style(level: str) -> dict[str, str]:
    colour = WARNING_LEVELS.get(level, WARNING_LEVELS["none"])["color"]
    return {"background": colour, "color": _INK.get(level, "#ffffff")}


def warning_line(w: WeatherWarning | None, lang: str) -> list[Any]:
    """``橙色预警 · 暴雨`` and who set it when (or "no warning" / "lifted")."""
    if w is None:
        return [html.Span(t("duty.no_warning", lang), className="duty-warning-title")]
    if not w.active:
        return [html.Span(t("duty.lifted", lang), className="duty-warning-title"), " ",
                html.Span(t("duty.lifted_at", lang).format(by=w.set_by or "—", at=local_time(w.set_at)),
                          className="duty-warning-meta")]
    parts: list[Any] = [html.Span(w.title(lang), className="duty-warning-title"), " ",
                        html.Span(t("duty.set_at", lang).format(by=w.set_by or "—", at=local_time(w.set_at)),
                                  className="duty-warning-meta")]
    if w.note:
        parts += [" · ", html.Span(w.note, className="duty-warning-note")]
    return parts


def banner(w: WeatherWarning | None, lang: str) -> tuple[list[Any], str, dict]:
    """(children, className, style) of the wall's warning banner: hidden unless a warning is in force."""
    if w is None or not w.active:
        return [], "wall-banner off", {}
    return ([html.Span("⚠", className="wall-banner-icon"), *warning_line(w, lang)],
            f"wall-banner on level-{w.level}", warning_style(w.level))


def _names(by: pd.DataFrame, lang: str) -> dict[str, str]:
    out = {}
    for c, zh, en in zip(by["code"], by["name"], by["name_en"], strict=True):
        out[str(c)] = str(en) if lang == "en" and isinstance(en, str) and en else str(zh)
    return out


def flood_panel(fp: FloodPicture | None, lang: str, *, alert: bool = False,
                current: str | None = None) -> list[Any]:
    """The wall's flood panel: the area's counts, the counts per district, the worst points, what "low" means."""
    if fp is None:
        return []
    tot = fp.totals()
    by = fp.by_district
    names = _names(by, lang)

    def chip(key: str, value: str, cls: str = "") -> html.Div:
        return html.Div(className=f"flood-chip {cls}", id=f"flood-{key}", children=[
            html.Span(value, className="flood-chip-value"), html.Span(t(f"flood.{key}", lang),
                                                                     className="flood-chip-label")])

    sev = html.Div(className="flood-sev", id="flood-severity", children=[
        html.Span(className=f"flood-sev-item sev-{s}", **{"data-n": str(tot.get(f"points_{s}", 0))}, children=[
            html.Span(className="flood-dot", style={"background": FLOOD_SEVERITY[s]["color"]}),
            f"{label(FLOOD_SEVERITY, s, lang)} {tot.get(f'points_{s}', 0)}"]) for s in FLOOD_SEVERITY])
    pumps = f"{tot.get('drainage_pump_ready', 0)}/{tot.get('drainage_pump_sites', 0)}"
    chips = html.Div(className="flood-chips", children=[
        chip("underground", str(tot.get("underpasses", 0) + tot.get("tunnels", 0))),
        chip("low_sites", str(tot.get("sites_low", 0)), "warn" if tot.get("sites_low") else ""),
        chip("low_venues", str(tot.get("venues_low", 0)), "warn" if tot.get("venues_low") else ""),
        chip("pumps", pumps),
    ])
    head = html.Tr([html.Th(t("flood.district", lang)), html.Th(t("flood.points", lang)),
                    html.Th(t("flood.underground", lang)), html.Th(t("flood.low_sites", lang)),
                    html.Th(t("flood.low_venues", lang)), html.Th(t("flood.pumps", lang))])
    rows = []
    order = by.assign(_w=by["points_severe"] * 3 + by["points_moderate"] * 2 + by["points_minor"]) \
        .sort_values(["_w", "code"], ascending=[False, True], kind="stable")
    for _, r in order.iterrows():
        rows.append(html.Tr(className="flood-row" + (" current" if str(r["code"]) == current else ""),
                            **{"data-code": str(r["code"])}, children=[
            html.Td(names.get(str(r["code"]), str(r["code"])), className="flood-name"),
            html.Td([html.B(str(int(r["points_severe"])), className="sev-severe-text"), " / ",
                     str(int(r["points_severe"] + r["points_moderate"] + r["points_minor"] + r["points_unrated"]))]),
            html.Td(str(int(r["underpasses"] + r["tunnels"]))),
            html.Td(str(int(r["sites_low"]))), html.Td(str(int(r["venues_low"]))),
            html.Td(f"{int(r['drainage_pump_ready'])}/{int(r['drainage_pump_sites'])}")]))
    table = html.Table([html.Thead(head), html.Tbody(rows)], className="flood-table", id="flood-by-district")
    worst = fp.worst(5)
    items = []
    for _, p in worst.iterrows():
        depth = p.get("worst_depth_cm")
        bits = [t("flood.depth", lang).format(d=int(depth))] if depth is not None and not pd.isna(depth) else []
        if int(p.get("events") or 0):
            bits.append(t("flood.times", lang).format(n=HISTORY_SEASONS, k=int(p["events"])))
        items.append(html.Li(className="flood-worst-item", **{"data-id": str(p["id"])}, children=[
            html.Span(label(FLOOD_SEVERITY, str(p["severity"]), lang) if p["severity"] in FLOOD_SEVERITY
                      else "—", className=f"flood-badge sev-{p['severity']}",
                      style={"background": FLOOD_SEVERITY.get(str(p["severity"]), {"color": "#5B6B82"})["color"]}),
            html.Span(str(p["name"]), className="flood-worst-name"),
            html.Span(" · ".join(bits), className="flood-worst-meta"),
            html.Span(names.get(str(p.get("district_code")), ""), className="flood-worst-district")]))
    worst_box = html.Div(className="flood-worst", children=[
        html.Div(t("flood.worst", lang), className="flood-sub"),
        html.Ol(items, id="flood-worst") if items else html.Div(t("flood.none", lang), className="flood-empty")])
    note = html.Div(t("flood.low_note", lang).format(p=int(fp.definitions["low_point_m"]),
                                                      w=int(fp.definitions["low_water_m"])), className="flood-note")
    return [html.Div(className="flood-top", children=[sev, chips]),
            html.Div(className="flood-body", children=[html.Div(table, className="flood-table-box"), worst_box]),
            note]


#: the duty desk's page styles (the wall styles these classes in assets/wall.css)
_PAGE_PERSON = {"display": "grid", "gridTemplateColumns": "7em 8em auto", "gap": "0.8em", "padding": "2px 0"}


def duty_rows(rows: pd.DataFrame, lang: str, *, page: bool = False) -> list[Any]:
    """The people on duty: role, name, phone (leader first); ``page``: laid out for the duty desk."""
    if rows is None or not len(rows):
        return [html.Div(t("duty.nobody", lang), className="duty-nobody")]
    out = []
    for _, r in rows.iterrows():
        out.append(html.Div(className="duty-person", **{"data-role": str(r["role"])},
                            style=_PAGE_PERSON if page else None, children=[
            html.Span(label(DUTY_ROLES, str(r["role"]), lang), className="duty-role"),
            html.Span(str(r["name"]), className="duty-name"),
            html.Span(str(r["phone"]) if isinstance(r.get("phone"), str) and r["phone"] else "—",
                      className="duty-phone")]))
    return out


def duty_panel(rows: pd.DataFrame, lang: str, room: str) -> list[Any]:
    """The wall's on-duty tile: who is on duty now in ``room`` and their phones."""
    return [html.Div([t("duty.now", lang), " · ", html.Span(room, className="duty-room")], className="wall-tile-label"),
            html.Div(duty_rows(rows, lang), className="duty-people")]


def roster_table(frame: pd.DataFrame, lang: str, names: Mapping[str, str], *, now: datetime | None = None,
                 tid: str = "duty-roster-table") -> html.Table | html.Div:
    """The roster's shifts as a table (date, shift, duty room, role, name, phone); rows on duty at ``now``
    (naive local) marked."""
    if frame is None or not len(frame):
        return html.Div(t("duty.roster_empty", lang), className="muted", id=tid)
    head = [t(f"duty.col.{k}", lang) for k in ("date", "shift", "where", "role", "name", "phone")]
    body = []
    for _, r in frame.iterrows():
        s, e = pd.Timestamp(r["starts"]), pd.Timestamp(r["ends"])
        shift = f"{s:%H:%M}–{e:%H:%M}" + (f" ({t('duty.next_day', lang)})" if e.normalize() > s.normalize() and
                                           (e.hour or e.minute) else "")
        d = r.get("district_code")
        where = names.get(str(d), str(d)) if isinstance(d, str) and d else t("duty.city_room", lang)
        on = now is not None and s <= pd.Timestamp(now) < e
        body.append(html.Tr(className="duty-on" if on else "", style={"background": "#fff4d6"} if on else None,
                            children=[
            html.Td(f"{s:%Y-%m-%d}"), html.Td(shift), html.Td(where), html.Td(label(DUTY_ROLES, str(r["role"]), lang)),
            html.Td([str(r["name"]), html.Span(f" · {t('duty.on_now', lang)}", className="duty-on-tag") if on
                     else None]),
            html.Td(str(r["phone"]) if isinstance(r.get("phone"), str) else "")]))
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(body)], className="mini-table",
                      id=tid)


def history_table(items: list[WeatherWarning], lang: str) -> html.Table | html.Div:
    """The warning history, newest first."""
    if not items:
        return html.Div(t("duty.history_empty", lang), className="muted", id="duty-history-table")
    head = [t(f"duty.col.{k}", lang) for k in ("at", "level", "kind", "by", "note")]
    from layers.schema import WARNING_KINDS

    body = [html.Tr([html.Td(local_time(w.set_at)),
                     html.Td(html.Span(label(WARNING_LEVELS, w.level, lang), className="duty-level",
                                       style=warning_style(w.level))),
                     html.Td(label(WARNING_KINDS, w.kind, lang) if w.kind else ""), html.Td(w.set_by or ""),
                     html.Td(w.note or "")]) for w in items]
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(body)], className="mini-table",
                      id="duty-history-table")
