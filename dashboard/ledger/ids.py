"""Component ids of the ledger pages."""

from __future__ import annotations

from enum import StrEnum


class HazardsIds(StrEnum):
    LANG = "hz-lang"
    DISTRICT = "hz-f-district"
    TOWN = "hz-f-town"
    INDUSTRY = "hz-f-industry"
    LAYER = "hz-f-layer"
    LEVEL = "hz-f-level"
    STATUS = "hz-f-status"
    BUCKET = "hz-f-bucket"
    MISSING = "hz-f-missing"
    FOUND = "hz-f-found"
    DEPARTMENT = "hz-f-department"
    TEXT = "hz-f-text"
    RESET = "hz-f-reset"
    COUNT = "hz-count"
    GRID = "hz-grid"
    MAP = "hz-map"
    TABS = "hz-tabs"
    ESC_DISTRICT = "hz-esc-district"
    ESC_CITY = "hz-esc-city"
    MAJOR = "hz-major"
    EXPORT = "hz-export"


class HazardIds(StrEnum):
    LANG = "hzd-lang"
    RECORD = "hzd-record"        # {"id", "version"} of the hazard as the page opened it
    BODY = "hzd-body"
    MSG = "hzd-msg"
    UPLOAD = "hzd-upload"
    FIELD = "hzd-field"          # pattern: {"type": FIELD, "step": step, "field": name} (value)
    DATE = "hzd-date"            # pattern: {"type": DATE, "step": step, "field": name} (date)
    STEP = "hzd-step"            # pattern: {"type": STEP, "step": step} (n_clicks)


class BriefingIds(StrEnum):
    LANG = "br-lang"
    DISTRICT = "br-district"
    PERIOD = "br-period"
    BODY = "br-body"
    XLSX = "br-xlsx"
    PRINT = "br-print"


class PublicIds(StrEnum):
    LANG = "pub-lang"
    PERIOD = "pub-period"
    GRID = "pub-grid"
    BLACKLIST = "pub-blacklist"
    LINKS = "pub-links"


class AccountIds(StrEnum):
    LANG = "acc-lang"
    BY = "acc-by"
    LEAGUE = "acc-league"
    CHARGED = "acc-charged"
    DUTIES = "acc-duties"
    LINKS = "acc-links"


class ObjectLedgerIds(StrEnum):
    KIND = "obj-order-kind"
    DOC_NO = "obj-order-doc"
    DATE = "obj-order-date"
    REASON = "obj-order-reason"
    GROUND = "obj-order-ground"
    HAZARDS = "obj-order-hazards"
    CHECK = "obj-order-check"
    ISSUE = "obj-order-issue"
    MSG = "obj-order-msg"
    TARGET = "obj-order-target"
    SECTION = "obj-ledger-section"
    BL_REASON = "obj-bl-reason"
    BL_BASIS = "obj-bl-basis"
    BL_START = "obj-bl-start"
    BL_END = "obj-bl-end"
    BL_ADD = "obj-bl-add"
    BL_ENTRY = "obj-bl-entry"
    BL_REMOVE_REASON = "obj-bl-remove-reason"
    BL_REMOVE = "obj-bl-remove"
