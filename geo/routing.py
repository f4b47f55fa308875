"""Vehicle routing with time windows, skills, breaks and priorities on a travel-time matrix (VROOM).

Pure: takes matrix indices, seconds and integer skills; knows nothing of teams, enterprises or the store.
Times are integer seconds on one clock (e.g. seconds from midnight of the first day of the plan).

The engine is VROOM through ``pyvroom`` (import name ``vroom``). VROOM first maximises the sum of the priorities
(0..100) of the jobs it serves, then minimises travel time; so higher priority is served first and what does
not fit is left unassigned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "RouteVehicle", "RouteJob", "Step", "RoutingResult", "solve", "straight_line_matrix", "priority_levels",
    "reachable_alone",
]

_MAX_DURATION = 2**31 - 1  # VROOM stores durations as uint32 and adds them; keep headroom


@dataclass(frozen=True)
class RouteVehicle:
    """One vehicle (an inspector team on one day).

    start, end : matrix indices of the base.
    time_window : (earliest start, latest end) in seconds.
    breaks : tuples (window start, window end, duration) in seconds; the break starts inside the window.
    skills : integer skills; a vehicle may serve a job only if it has every skill of the job.
    """

    id: int
    start: int
    end: int
    time_window: tuple[int, int]
    skills: frozenset[int] = frozenset()
    breaks: tuple[tuple[int, int, int], ...] = ()


@dataclass(frozen=True)
class RouteJob:
    """One job (an object to inspect).

    location : matrix index; service : seconds on site; priority : 0..100 (higher first);
    time_windows : windows in which the service may start (empty = any time within a shift).
    """

    id: int
    location: int
    service: int
    skills: frozenset[int] = frozenset()
    priority: int = 0
    time_windows: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Step:
    """One step of a route: ``kind`` is start, job, break or end. ``arrival`` is when the vehicle arrives,
    ``waiting`` the idle time before service starts, ``service`` the time spent, ``travel`` the driving time from
    the previous step. ``job_id`` is the job (or break) id; None for start and end."""

    kind: str
    job_id: int | None
    location: int | None
    arrival: int
    waiting: int
    service: int
    travel: int


@dataclass
class RoutingResult:
    routes: dict[int, list[Step]] = field(default_factory=dict)
    unassigned: list[int] = field(default_factory=list)
    priority: int = 0
    travel: int = 0
    service: int = 0
    waiting: int = 0


def straight_line_matrix(xy: np.ndarray, *, speed_kmh: float, detour: float) -> np.ndarray:
    """Travel time in seconds between points (metric CRS) as the straight distance x ``detour`` at
    ``speed_kmh``: the fallback when there is no road layer."""
    pts = np.asarray(xy, dtype=float).reshape(-1, 2)
    d = np.hypot(pts[:, None, 0] - pts[None, :, 0], pts[:, None, 1] - pts[None, :, 1])
    return d * float(detour) / (float(speed_kmh) / 3.6)


def priority_levels(values: Sequence[float] | np.ndarray, *, top: int = 100) -> np.ndarray:
    """Map non-negative priorities to VROOM's integers 1..top (proportional to the largest), 0 for 0."""
    v = np.asarray(values, dtype=float)
    if len(v) == 0:
        return np.zeros(0, dtype=int)
    v = np.where(np.isfinite(v) & (v > 0), v, 0.0)
    hi = v.max()
    if hi <= 0:
        return np.zeros(len(v), dtype=int)
    lv = np.ceil(v / hi * top).astype(int)
    return np.clip(lv, 0, top)


def reachable_alone(durations: np.ndarray, vehicle: RouteVehicle, job: RouteJob) -> bool:
    """Could ``vehicle`` serve ``job`` on a route holding only that job (breaks aside)? Used to tell
    "outside every shift / opening hours" apart from "not enough time"."""
    go = int(durations[vehicle.start, job.location])
    back = int(durations[job.location, vehicle.end])
    t0, t1 = vehicle.time_window
    windows = job.time_windows or ((t0, t1),)
    for a, b in windows:
        begin = max(a, t0 + go)
        if begin <= b and begin + job.service + back <= t1:
            return True
    return False


def solve(
    durations: np.ndarray,
    vehicles: Sequence[RouteVehicle],
    jobs: Sequence[RouteJob],
    *,
    exploration_level: int = 5,
    nb_threads: int = 2,
    timeout_s: float | None = None,
) -> RoutingResult:
    """Solve the routing problem with VROOM.

    Parameters
    ----------
    durations : (n, n) travel times in seconds between matrix locations (rounded to integers here).
    vehicles, jobs : the problem; ids must be unique within each list (a break id is unique per vehicle).
    exploration_level : VROOM search depth 1..5 (5 = best, slowest).
    nb_threads : threads VROOM may use.
    timeout_s : optional cap on the solving time.
    """
    import datetime as _dt

    import vroom

    result = RoutingResult()
    if not jobs or not vehicles:
        result.unassigned = [j.id for j in jobs]
        for v in vehicles:
            result.routes[v.id] = []
        return result
    mat = np.asarray(durations, dtype=float)
    if not np.isfinite(mat).all():
        mat = np.where(np.isfinite(mat), mat, _MAX_DURATION // 4)
    mat = np.clip(np.rint(mat), 0, _MAX_DURATION // 4).astype(np.uint32)

    inp = vroom.Input()
    inp.set_durations_matrix("car", mat)
    for v in vehicles:
        inp.add_vehicle(vroom.Vehicle(
            int(v.id), start=int(v.start), end=int(v.end), skills=set(v.skills),
            time_window=vroom.TimeWindow(int(v.time_window[0]), int(v.time_window[1])),
            breaks=[vroom.Break(i + 1, time_windows=[vroom.TimeWindow(int(a), int(b))], service=int(s))
                    for i, (a, b, s) in enumerate(v.breaks)],
        ))
    inp.add_job([
        vroom.Job(int(j.id), location=int(j.location), default_service=int(j.service), skills=set(j.skills),
                  priority=int(j.priority),
                  time_windows=[vroom.TimeWindow(int(a), int(b)) for a, b in j.time_windows])
        for j in jobs
    ])
    timeout = None if timeout_s is None else _dt.timedelta(seconds=float(timeout_s))
    sol = inp.solve(exploration_level=int(exploration_level), nb_threads=int(nb_threads), timeout=timeout)
    d = sol.to_dict()
    result.unassigned = sorted(int(u["id"]) for u in d.get("unassigned", []) if u.get("type", "job") == "job")
    summary = d.get("summary", {})
    result.priority = int(summary.get("priority", 0))
    result.waiting = int(summary.get("waiting_time", 0))
    result.service = int(summary.get("service", 0))
    result.travel = int(summary.get("duration", 0))
    for v in vehicles:
        result.routes[v.id] = []
    for r in d.get("routes", []):
        steps: list[Step] = []
        prev_loc: int | None = None
        prev_leave = None
        for s in r["steps"]:
            loc = s.get("location_index")
            arrival = int(s["arrival"])
            travel = 0
            if prev_loc is not None and loc is not None:
                travel = int(mat[prev_loc, loc])
            elif prev_leave is not None and loc is None:  # a break where the vehicle stands
                travel = 0
            kind = s["type"]
            steps.append(Step(kind=kind, job_id=(int(s["id"]) if kind in ("job", "break") else None),
                              location=(int(loc) if loc is not None else None), arrival=arrival,
                              waiting=int(s.get("waiting_time", 0)), service=int(s.get("service", 0)),
                              travel=travel))
            if loc is not None:
                prev_loc = int(loc)
            prev_leave = arrival + int(s.get("waiting_time", 0)) + int(s.get("service", 0))
        result.routes[int(r["vehicle"])] = steps
    return result
