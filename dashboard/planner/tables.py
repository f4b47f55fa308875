"""The planner's tables: teams, candidates, stops and unassigned objects as ``DataTable`` rows and columns, and
back from rows to what ``layers.planning.routes`` takes."""

from __future__ import annotations

import pandas as pd

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
                     "departure": fmt_time(r.departure), "locked": "🔒" if r.locked else "",
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

def _col(key: str, lang: str, id_: str, **kw) -> dict:
    return {"name": t(key, lang), "id": id_, **kw}


def team_columns(lang: str) -> list[dict]:
    return [_col("plan.col.id", lang, "id", editable=False), _col("plan.col.name", lang, "name", editable=False),
            _col("plan.col.skills", lang, "skills"), _col("plan.col.districts", lang, "districts"),
            _col("plan.col.shift_start", lang, "shift_start"), _col("plan.col.shift_end", lang, "shift_end"),
            _col("plan.col.break_start", lang, "break_start"),
            _col("plan.col.break_minutes", lang, "break_minutes", type="numeric")]


def cand_columns(lang: str) -> list[dict]:
    return [_col("plan.col.source", lang, "source_label"), _col("plan.col.name", lang, "name"),
            _col("plan.col.kind", lang, "kind_label"), _col("plan.col.grade", lang, "grade_label"),
            _col("plan.col.overdue", lang, "days_overdue", type="numeric"),
            _col("plan.col.priority", lang, "priority", type="numeric"), _col("plan.col.lockto", lang, "lockto")]


def stop_columns(lang: str) -> list[dict]:
    return [_col("plan.col.team", lang, "team_id"), _col("plan.col.day", lang, "day"),
            _col("plan.col.seq", lang, "seq"), _col("plan.col.name", lang, "name"),
            _col("plan.col.kind", lang, "kind"), _col("plan.col.grade", lang, "grade"),
            _col("plan.col.arrival", lang, "arrival"), _col("plan.col.departure", lang, "departure"),
            _col("plan.col.locked", lang, "locked"), _col("plan.col.status", lang, "status")]


def unassigned_columns(lang: str) -> list[dict]:
    return [_col("plan.col.name", lang, "name"), _col("plan.col.kind", lang, "kind"),
            _col("plan.col.grade", lang, "grade"), _col("plan.col.priority", lang, "priority"),
            _col("plan.col.reason", lang, "reason")]
