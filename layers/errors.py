"""Our own error classes. Messages are bilingual: ``中文 (English)``, and say what is wrong and how to fix it."""


class RiskMapError(Exception):
    """Base of every error this product raises on purpose; the app shows its message calmly."""


class StoreError(RiskMapError):
    """The store cannot be opened, read or written."""


class ImportRejected(RiskMapError):
    """A whole import batch was rejected; nothing was written. ``report`` holds the details."""

    def __init__(self, message: str, report: object | None = None):
        super().__init__(message)
        self.report = report


class AccessDenied(RiskMapError):
    """The user's session does not allow this area or action."""


class ActionDenied(AccessDenied):
    """The user's role may not do this at all (whatever the area), e.g. a district leader making a plan."""


class EditConflict(StoreError):
    """A save was based on an old version of the record: someone else saved first. Nothing was written."""


class StepRefused(RiskMapError):
    """A ledger step is not allowed from the record's state, or lacks what it needs. Nothing was written."""
