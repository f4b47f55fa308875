"""The planner behind the ``/plan`` page and its printable route sheet; pages import it, it registers nothing
with Dash (it lives outside ``dashboard/pages/`` so the pages loader does not take it for a page).

* ``ids`` — the component ids (``Ids``) and the colours of team routes and timeline segments.
* ``text`` — the planner's words in both languages (registered on import).
* ``access`` — the districts a request covers and the scope checks on an added object and on a saved plan.
* ``tables`` — teams, candidates, stops and unassigned objects as table rows and columns, and back.
* ``figures`` — the plan on a map (``plan_map``) and the per-team timeline (``gantt``).
* ``layout`` — the planner page (``plan_layout``) and the route sheet (``sheet_layout``).
* ``actions`` — what each control does (``edit_candidates``, ``plan_action``, ``render_plan`` …), as plain
  functions over the session's store; the page's callbacks are one-line adapters over them.
"""

from dashboard.planner import access, actions, figures, ids, layout, tables, text

__all__ = ["access", "actions", "figures", "ids", "layout", "tables", "text"]
