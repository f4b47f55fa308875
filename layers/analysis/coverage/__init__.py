"""Coverage gaps (不留死角、不留盲区): dead corners, blind spots and supervision gaps, as of any date."""

from layers.analysis.coverage.core import (
    BLIND_KINDS,
    CONDITION_GRADE,
    GAP_KINDS,
    IGNORED_KINDS,
    PRESSURE_GRADE,
    CoverageResult,
    compute,
    compute_cached,
    compute_frames,
    read_frames,
    suggest_bases,
)

__all__ = ["CoverageResult", "compute", "compute_frames", "compute_cached", "suggest_bases", "read_frames",
           "GAP_KINDS", "BLIND_KINDS", "IGNORED_KINDS", "CONDITION_GRADE", "PRESSURE_GRADE"]
