"""Coverage gaps (不留死角、不留盲区): dead corners, blind spots and supervision gaps, as of any date.

Modules, from the bottom up (each imports only modules listed before it):

* ``arrays`` — small array helpers: text columns, codes, day numbers, representative points.
* ``frames`` — the store's layers and columns the computation reads (``read_frames``).
* ``rules`` — what makes an object a dead corner: which objects count, their interval, weight and reason.
* ``result`` — ``CoverageResult``, its summary, and the kinds of gap, blind spot and ignored inspection.
* ``supervision`` — supervision gaps (监管空白), per object.
* ``blind_spots`` — blind spots (盲区): H3 cells, reach of the team bases, a cell's area, the reasons.
* ``computation`` — the pass from layers to a result (``compute_frames``), with the figures per area.
* ``cache`` — ``compute`` and ``compute_cached``: from a store, kept per data version.
* ``siting`` — ``suggest_bases``: new team bases that bring the most risk into reach.
"""

from layers.analysis.coverage.cache import compute, compute_cached
from layers.analysis.coverage.computation import compute_frames
from layers.analysis.coverage.frames import read_frames
from layers.analysis.coverage.result import BLIND_KINDS, GAP_KINDS, IGNORED_KINDS, CoverageResult
from layers.analysis.coverage.rules import CONDITION_GRADE, PRESSURE_GRADE
from layers.analysis.coverage.siting import suggest_bases

__all__ = ["CoverageResult", "compute", "compute_frames", "compute_cached", "suggest_bases", "read_frames",
           "GAP_KINDS", "BLIND_KINDS", "IGNORED_KINDS", "CONDITION_GRADE", "PRESSURE_GRADE"]
