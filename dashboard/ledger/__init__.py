"""The ledger pages' helpers (``/hazards``, ``/hazard``, ``/briefing``, ``/public``, ``/accountability`` and the
enforcement section of the object page). Pages import it; it registers no page (it lives outside
``dashboard/pages/``, which Dash imports page by page).

* ``ids`` — the component ids of each page.
* ``text`` — the ledger's words in both languages (registered on import).
* ``layout`` — filters, grid columns, rows for people, the ledger's map, the hazard's page body.
* ``actions`` — what each control does, as plain functions over the session's store (callbacks are adapters).
* ``enforcement`` — orders and the blacklist on the object page (state, forms, issuing).
* ``routes`` — the checked Flask routes: a hazard's file, the briefing's XLSX, the exports.
"""

from dashboard.ledger import actions, enforcement, ids, layout, routes, text

__all__ = ["actions", "enforcement", "ids", "layout", "routes", "text"]
