"""The planner's tables: teams, candidates, stops and unassigned objects as grid rows and column definitions
(``dashboard.components.grid``), and back from rows to what ``layers.planning.routes`` takes."""

from __future__ import annotations

import pandas as pd

from dashboard.components.grid import col
from dashboard.i18n import t
from layers.planning import routes as P
from layers.planning import sheets as plan_export
from layers.schema import GRADES, label


def fmt_time(v) -> str:
    """``HH:MM`` of a time stamp; empty for none."""
    return "" if v is None or pd.isna(v) else pd.Timestamp(v).strftime("%H:%M")


def team_rows(teams: list[P.TeamSpec]) -> list[dict]:
    """Team specs as editable table rows (lists as comma-separated text)."""
    return [{**t.to_dict(), "skills": ",".join(t.skills), "districts": ",".join(t.districts)} for t in teams]


def teams_from_rows(rows: list[dict] | None) -> list[P.TeamSpec]:
    out = []
    for r in rows or []:
        out.append(P.TeamSpec.from_dict({**r, "skills": P._split_list(r.get("skills")),
                                         "districts": P._split_list(r.get("districts"))}))
    return out


def cand_rows(cands: pd.DataFrame) -> list[dict]:
    f = cands[P.CANDIDATE_COLUMNS].copy()
    f["last_inspected"] = f["last_inspected"].map(lambda v: None if v is None or pd.isna(v) else str(v)[:10])
    f["priority"] = f["priority"].astype(float).round(1)
    f = f.astype(object).where(pd.notna(f), None)
    return f.to_dict("records")


def cands_frame(rows: list[dict] | None) -> pd.DataFrame:
    f = pd.DataFrame(rows or [], columns=P.CANDIDATE_COLUMNS)
    for c in ("lon", "lat", "priority", "days_overdue"):
        f[c] = pd.to_numeric(f[c], errors="coerce")
    return f


def cand_table_rows(rows: list[dict], locks: dict, lang: str) -> list[dict]:
    """Candidate rows with their labels in ``lang`` and the team each is locked to."""
    out = []
    for r in rows:
        out.append({**r, "source_label": label(P.SOURCES, r.get("source") or "", lang),
                    "kind_label": plan_export.kind_label(r["target_layer"], r.get("kind"), lang),
                    "grade_label": label(GRADES, r.get("grade") or "", lang), "lockto": locks.get(r["key"], "")})
    return out


def stop_rows(plan: P.Plan | None, lang: str) -> list[dict]:
    if plan is None:
        return []
    rows = []
    for r in plan.stops.sort_values(["team_id", "day", "seq"]).itertuples(index=False):
        rows.append({"key": r.key, "team_id": r.team_id, "day": str(r.day), "seq": int(r.seq),
                     "name": r.name, "kind": plan_export.kind_label(r.target_layer, r.kind, lang),
                     "grade": label(GRADES, r.grade or "", lang), "arrival": fmt_time(r.arrival),
                     "departure": fmt_time(r.departure), "locked": t("plan.locked_mark", lang) if r.locked else "",
                     "status": t(f"plan.status.{r.status}", lang) if r.status in ("planned", "done") else r.status,
                     "skill": r.skill})
    return rows


def unassigned_rows(plan: P.Plan | None, lang: str) -> list[dict]:
    if plan is None:
        return []
    return [{"key": r.key, "name": r.name, "kind": plan_export.kind_label(r.target_layer, r.kind, lang),
             "grade": label(GRADES, r.grade or "", lang),
             "priority": None if pd.isna(r.priority) else round(float(r.priority), 1),
             "reason": label(P.REASONS, r.reason, lang)} for r in plan.unassigned.itertuples(index=False)]


def saved_plan_options(plans: pd.DataFrame) -> list[dict]:
    """Dropdown options for saved plans (``layers.planning.saved.list_plans``): name, date and version."""
    return [{"label": f"{r.name} · {str(r.plan_date)[:10]} · v{r.version}", "value": r.id}
            for r in plans.itertuples(index=False)]


# --------------------------------------------------------------------------------------------------
# column definitions
# --------------------------------------------------------------------------------------------------

def team_columns(lang: str) -> list[dict]:
    return [col("plan.col.id", "id", lang, editable=False), col("plan.col.name", "name", lang, editable=False),
            col("plan.col.skills", "skills", lang, editable=True),
            col("plan.col.districts", "districts", lang, editable=True),
            col("plan.col.shift_start", "shift_start", lang, editable=True),
            col("plan.col.shift_end", "shift_end", lang, editable=True),
            col("plan.col.break_start", "break_start", lang, editable=True),
            col("plan.col.break_minutes", "break_minutes", lang, editable=True, cellDataType="number")]


def cand_columns(lang: str) -> list[dict]:
    return [col("plan.col.source", "source_label", lang), col("plan.col.name", "name", lang),
            col("plan.col.kind", "kind_label", lang), col("plan.col.grade", "grade_label", lang),
            col("plan.col.overdue", "days_overdue", lang, type="numericColumn"),
            col("plan.col.priority", "priority", lang, type="numericColumn"), col("plan.col.lockto", "lockto", lang)]


def stop_columns(lang: str) -> list[dict]:
    return [col("plan.col.team", "team_id", lang), col("plan.col.day", "day", lang),
            col("plan.col.seq", "seq", lang, type="numericColumn"), col("plan.col.name", "name", lang),
            col("plan.col.kind", "kind", lang), col("plan.col.grade", "grade", lang),
            col("plan.col.arrival", "arrival", lang), col("plan.col.departure", "departure", lang),
            col("plan.col.locked", "locked", lang, headerTooltip=t("plan.lock_hint", lang)),
            col("plan.col.status", "status", lang)]


def unassigned_columns(lang: str) -> list[dict]:
    return [col("plan.col.name", "name", lang), col("plan.col.kind", "kind", lang),
            col("plan.col.grade", "grade", lang), col("plan.col.priority", "priority", lang, type="numericColumn"),
            col("plan.col.reason", "reason", lang)]
