"""A stop that needs a skill only one team has goes to that team or stays unassigned: in the VROOM problem (the job
carries the skill, only that team's vehicles have it) and in the plan, also when that team has no time left and
another team has a free day. The tiny city is ``tests/test_plan_helpers.py``'s: G1 is a gas station, and only T2
(燃气建筑组) has the ``gas`` skill."""

from __future__ import annotations

from dataclasses import replace

import pytest
from test_plan_helpers import AS_OF, build_plan_city

from layers.planning import routes as P
from layers.settings import Settings

GAS = "gas_stations:G1"


@pytest.fixture
def city(tmp_path):
    return build_plan_city(tmp_path / "plan.gpkg")


@pytest.fixture
def settings():
    return Settings()


def _teams(store) -> dict[str, P.TeamSpec]:
    return {t.id: t for t in P.teams_from_store(store)}


def test_the_problem_gives_the_gas_job_a_skill_only_the_gas_teams_vehicles_have(city, settings):
    teams = _teams(city)
    assert [tid for tid, t in teams.items() if "gas" in t.skills] == ["T2"]
    cands = P.candidates(city, as_of=AS_OF, settings=settings)
    days = [AS_OF, AS_OF.replace(day=2)]
    problem = P.build_problem(city, cands, list(teams.values()), dates=days, settings=settings)
    job = next(j for j in problem.jobs if problem.cands.iloc[j.id - 1]["key"] == GAS)
    # VROOM lets a vehicle serve a job only when it has every skill of the job
    able = sorted({problem.teams[ti].id for v, (ti, _) in zip(problem.vehicles, problem.vehicle_meta, strict=True)
                   if job.skills <= v.skills})
    assert able == ["T2"]
    assert len([v for v, (ti, _) in zip(problem.vehicles, problem.vehicle_meta, strict=True)
                if job.skills <= v.skills]) == 2  # T2 on each of the two days
    # and it is the skill that rules the others out (the district alone would let T1 and T3 take it)
    others = [v for v, (ti, _) in zip(problem.vehicles, problem.vehicle_meta, strict=True)
              if problem.teams[ti].id != "T2"]
    assert job.skills - set().union(*(v.skills for v in others))


def test_the_plan_gives_the_gas_station_to_the_gas_team(city, settings):
    cands = P.candidates(city, as_of=AS_OF, settings=settings)
    plan = P.plan_routes(city, cands, list(_teams(city).values()), dates=[AS_OF], settings=settings)
    stops = plan.stops.set_index("key")
    assert stops.loc[GAS, "team_id"] == "T2"


def test_without_the_gas_team_the_gas_station_stays_unassigned(city, settings):
    teams = [t for tid, t in _teams(city).items() if tid != "T2"]
    cands = P.candidates(city, as_of=AS_OF, settings=settings)
    plan = P.plan_routes(city, cands, teams, dates=[AS_OF], settings=settings)
    assert GAS not in set(plan.stops["key"])
    assert dict(zip(plan.unassigned["key"], plan.unassigned["reason"], strict=True))[GAS] == "no_skill"


def test_a_busy_gas_team_leaves_the_gas_station_unassigned_not_to_a_free_team(city, settings):
    """T2 works 09:00-10:40 (6,000 s): enough for the construction site E3 (90 min on site, about 4 min each way)
    but not for E3 and G1 (60 min); E3 comes first. T1 has a whole free day and could reach G1 in minutes, but
    lacks the skill: G1 must stay unassigned for lack of time, never go to T1."""
    teams = _teams(city)
    busy = replace(teams["T2"], shift_start="09:00", shift_end="10:40", break_start=None, break_minutes=0)
    cands = P.candidates(city, as_of=AS_OF, settings=settings)
    cands = cands[cands["key"].isin(["enterprises:E3", GAS, "enterprises:E1"])].copy()
    cands["priority"] = cands["key"].map({"enterprises:E3": 1000.0, GAS: 10.0, "enterprises:E1": 500.0})
    problem = P.build_problem(city, cands, [teams["T1"], busy], dates=[AS_OF], settings=settings)
    assert GAS in {problem.cands.iloc[j.id - 1]["key"] for j in problem.jobs}  # T2 alone could serve it
    plan = P.plan_routes(city, cands, [teams["T1"], busy], dates=[AS_OF], settings=settings)
    by_key = plan.stops.set_index("key")["team_id"].to_dict()
    assert by_key.get("enterprises:E3") == "T2" and by_key.get("enterprises:E1") == "T1"
    assert GAS not in by_key, f"the gas station went to {by_key.get(GAS)}"
    assert dict(zip(plan.unassigned["key"], plan.unassigned["reason"], strict=True))[GAS] == "not_enough_time"
