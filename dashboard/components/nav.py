"""The top bar every page (but the wall) shows: title, pages, user, language switch."""

from __future__ import annotations

from dash import dcc, html

from dashboard import context
from dashboard.emergency import duty_text as _duty_text  # noqa: F401  (the duty desk's name)
from dashboard.emergency import incident_text as _incident_text  # noqa: F401  (the incident page's name)
from dashboard.i18n import t, with_query
from dashboard.ledger import text as _ledger_text  # noqa: F401  (the ledger pages' names)
from dashboard.readiness import text as _readiness_text  # noqa: F401  (the readiness page's name)
from layers.access import GRANTS
from layers.access.policy import LEGACY_ROLES

PAGES = (("/", "nav.map"), ("/coverage", "nav.coverage"), ("/readiness", "nav.readiness"), ("/plan", "nav.plan"),
         ("/wall", "nav.wall"), ("/duty", "nav.duty"))
#: the ledger's pages and the grant each needs (a role without it does not see the link; the page checks again)
LEDGER_PAGES = (("/hazards", "nav.hazards", "read"), ("/briefing", "nav.briefing", "read"),
                ("/public", "nav.public", "ledger.city"), ("/accountability", "nav.accountability", "read"),
                ("/incident", "nav.incident", "incident"))


def ledger_pages(role: str | None) -> tuple[tuple[str, str], ...]:
    """The ledger pages ``role`` may open (none without the ``read`` grant)."""
    grants = GRANTS.get(LEGACY_ROLES.get(role or "", role or ""), frozenset())
    return tuple((path, key) for path, key, grant in LEDGER_PAGES if grant in grants)


def navbar(lang: str, active: str, query: dict | None = None) -> html.Header:
    """``active`` is the current path; ``query`` the current URL parameters (kept by the language switch)."""
    query = {k: v for k, v in (query or {}).items() if isinstance(v, str)}
    search = "&".join(f"{k}={v}" for k, v in query.items())
    other = "en" if lang == "zh" else "zh"
    user = context.current_user() or {}
    role = user.get("role")
    who = user.get("display_name") or user.get("id") or ""
    pages = PAGES[:4] + ledger_pages(role) + PAGES[4:] + ((("/admin", "nav.admin"),) if role == "admin" else ())
    links = [dcc.Link(t(key, lang), href=with_query(path, None, lang=lang if lang != "zh" else None),
                      className="nav-link active" if path == active else "nav-link", id=f"nav-{path.strip('/') or 'map'}")
             for path, key in pages]
    return html.Header(className="topbar", children=[
        html.Div(t("app.title", lang), className="brand"),
        html.Nav(links, className="nav"),
        html.Div(className="topbar-right", children=[
            html.Span(f"{who} · {t('role.' + role, lang)}" if role else "", className="user", id="nav-user"),
            html.A(t("nav.lang", lang), href=with_query(active, search, lang=other), id="lang-switch",
                   className="lang-switch"),
            html.Form(html.Button(t("nav.logout", lang), type="submit", className="logout", id="nav-logout"),
                      action="/logout", method="POST", className="logout-form") if context.settings().auth else None,
        ]),
    ])
