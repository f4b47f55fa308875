"""The ledger wing (隐患台账): the hazard workflow, its audit log, attached files and enforcement.

* ``workflow`` — the steps of a hazard from registered to closed (:data:`STEPS`, :func:`apply_step`,
  :func:`register_hazards`) and the five elements (:func:`five_elements`, :func:`missing_elements`).
* ``audit`` — the append-only audit log: :func:`audit_rows`, :func:`write_audit`, :func:`history`.
* ``files`` — photos and documents attached to a hazard: :func:`attach`, :func:`files_of`, :func:`file_data`.
* ``enforcement`` — orders on an enterprise (:func:`issue_order`: suspend, resume after a passed check, close),
  its state (:func:`enterprise_state`) and the blacklist (:func:`blacklist_add`, :func:`blacklist_remove`,
  :func:`blacklist_active`, :func:`blacklist_export_rows`).

Every write authorizes the user on the area of the record's target (read from the store), re-reads the record,
checks its version and writes the change with its audit rows in one transaction; a refused step writes nothing.
"""

from layers.ledger.audit import audit_rows, history, write_audit
from layers.ledger.enforcement import (
    blacklist_active,
    blacklist_add,
    blacklist_export_rows,
    blacklist_remove,
    enterprise_state,
    issue_order,
)
from layers.ledger.files import attach, file_data, files_of
from layers.ledger.workflow import (
    STEPS,
    allowed_steps,
    apply_step,
    five_elements,
    missing_elements,
    register_hazards,
)

__all__ = [
    # audit
    "audit_rows", "history", "write_audit",
    # workflow
    "STEPS", "allowed_steps", "apply_step", "five_elements", "missing_elements", "register_hazards",
    # files
    "attach", "file_data", "files_of",
    # enforcement
    "blacklist_active", "blacklist_add", "blacklist_export_rows", "blacklist_remove", "enterprise_state",
    "issue_order",
]

# the reading side: deadlines, repeat offenders, the ledger table, accountability, public naming, the briefing
from layers.ledger.accountability import (  # noqa: E402
    charged_officers,
    department_of,
    duties,
    league,
    league_for,
    orders_in,
)
from layers.ledger.briefing import Briefing, briefing, briefing_xlsx  # noqa: E402
from layers.ledger.deadlines import BUCKETS, bucket_of, days_left, escalation  # noqa: E402
from layers.ledger.publication import PUBLIC_FIELDS, public_naming, public_naming_xlsx  # noqa: E402
from layers.ledger.query import (  # noqa: E402
    LedgerFrame,
    LedgerQuery,
    labelled,
    ledger,
    ledger_frame,
    ledger_rows,
    query_ledger,
)
from layers.ledger.repeat import repeat_keys, repeat_offenders  # noqa: E402

__all__ += [
    "BUCKETS", "bucket_of", "days_left", "escalation", "repeat_offenders", "repeat_keys", "LedgerFrame",
    "LedgerQuery", "ledger", "ledger_frame", "ledger_rows", "query_ledger", "labelled", "duties", "department_of",
    "league", "league_for", "charged_officers", "orders_in", "PUBLIC_FIELDS", "public_naming", "public_naming_xlsx",
    "Briefing", "briefing", "briefing_xlsx",
]
