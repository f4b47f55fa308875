"""A repeat offender (屡查屡犯) is inspected more often: its interval is shortened by the setting, and the dead
corner's reason says why."""

from __future__ import annotations

from datetime import date

import pandas as pd

from layers.settings import Settings
from tests.test_coverage_core import dead_ids, districts, enterprises, inspections, run, teams


def _frames(hazard_dates: list[str], accidents: pd.DataFrame | None = None) -> dict:
    # a major (red) enterprise: 30 days; inspected 20 days before as-of (2025-09-10)
    e = enterprises([{"id": "R", "grade": "major", "xy": (1000, 0)}, {"id": "OK", "grade": "major", "xy": (2000, 0)}])
    hz = pd.DataFrame({"target_layer": "enterprises", "target_id": "R", "type": "消防通道堵塞", "level": "general",
                       "found_date": pd.to_datetime(hazard_dates), "status": "closed",
                       "closed_date": pd.to_datetime(hazard_dates)})
    frames = {"enterprises": e, "districts": districts(), "teams": teams([(0, 0)]), "hazards": hz,
              "inspections": inspections([("R", "2025-09-10"), ("OK", "2025-09-10")])}
    if accidents is not None:
        frames["accidents"] = accidents
    return frames


def test_three_same_hazards_in_the_window_halve_the_interval():
    frames = _frames(["2025-01-05", "2025-04-05", "2025-09-01"])
    result = run(frames)
    assert dead_ids(result) == {"R"}   # 20 days since > 30 x 0.5 = 15 days; OK (same, no repeats) is in time
    row = result.dead_corners.set_index("id").loc["R"]
    assert row["reason_zh"] == "上次检查 2025-09-10，已 20 天；红色（重大）风险要求 30 天，屡查屡犯缩短为 15 天"
    assert row["reason_en"].endswith("shortened to 15 days for a repeat offender")


def test_two_same_hazards_are_not_a_repeat_offender():
    assert dead_ids(run(_frames(["2025-04-05", "2025-09-01"]))) == set()


def test_the_factor_is_a_setting():
    frames = _frames(["2025-01-05", "2025-04-05", "2025-09-01"])
    assert dead_ids(run(frames, settings=Settings(repeat_interval_factor=0.8))) == set()   # 24 days >= 20


def test_hazards_before_the_window_do_not_count():
    # window 365 days up to 2025-09-30: 2024-09-30 is outside, 2024-10-01 inside
    assert dead_ids(run(_frames(["2024-09-30", "2025-04-05", "2025-09-01"]))) == set()
    assert dead_ids(run(_frames(["2024-10-01", "2025-04-05", "2025-09-01"]))) == {"R"}


def test_the_same_kind_of_accident_twice_counts_too():
    acc = pd.DataFrame({"id": ["A1", "A2"], "enterprise_id": ["R", "R"], "kind": ["fire", "fire"],
                        "date": pd.to_datetime(["2025-03-01", "2025-08-01"])})
    frames = _frames([], accidents=acc)
    assert dead_ids(run(frames)) == {"R"}
    assert dead_ids(run(frames, as_of=date(2025, 9, 30), settings=Settings(repeat_accident_count=3))) == set()
