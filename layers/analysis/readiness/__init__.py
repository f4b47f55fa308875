"""Emergency readiness (应急准备): a fourth kind of gap beside dead corners, blind spots and supervision gaps.

A readiness gap (应急准备缺口) is a risk object that no ready resource of a needed kind reaches within its target
time, an object without a contingency plan on file or with a drill overdue (or never held), or a flood point
without the supplies its severity needs within reach. Settings: ``readiness_targets`` ("class/kind" -> minutes),
``drills_per_year`` (per class), ``flood_supplies`` ("severity/kind" -> count), and the travel settings coverage
uses (``access_speed_kmh``; without roads ``travel_speed_kmh`` and ``detour_factor``).

Modules, from the bottom up:

* ``frames`` — the store's layers and columns read (``read_frames``).
* ``objects`` — the readiness objects by class (``readiness_objects``).
* ``reach`` — travel (road graph or straight line), the resources, the reach of each needed kind and its gaps.
* ``drills`` — the plans and drills register and its gaps (``plan_drill_register``, ``interval_days``).
* ``supplies`` — flood supplies within reach per flood point, and need against stock per district.
* ``summary`` — counts per district and town, and for the whole city.
* ``result`` — ``ReadinessResult``: the frames, narrowing by area or access scope, export sheets.
* ``computation`` — ``compute_frames``: the pass from layers to a result.
* ``cache`` — ``compute`` and ``compute_cached``: from a store, kept per data version.
* ``siting`` — ``suggest_resources``: where k more resources of a kind close the most reach gaps.
"""

from layers.analysis.readiness.cache import clear_cache, compute, compute_cached
from layers.analysis.readiness.computation import compute_frames
from layers.analysis.readiness.drills import PLAN_GAP_KINDS, interval_days
from layers.analysis.readiness.frames import read_frames
from layers.analysis.readiness.objects import readiness_objects
from layers.analysis.readiness.result import READINESS_GAP_KINDS, ReadinessResult
from layers.analysis.readiness.siting import suggest_resources

__all__ = ["ReadinessResult", "compute", "compute_cached", "compute_frames", "clear_cache", "read_frames",
           "readiness_objects", "suggest_resources", "interval_days", "PLAN_GAP_KINDS", "READINESS_GAP_KINDS"]
