"""Inspection planning on a tiny hand-made city whose answers are known (see tests/test_plan_helpers.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pandas as pd
import pytest
from test_plan_helpers import AS_OF, build_plan_city, random_enterprises

from layers.planning import routes as P
from layers.settings import Settings


@pytest.fixture
def city(tmp_path):
    return build_plan_city(tmp_path / "plan.gpkg")


@pytest.fixture
def settings():
    return Settings()


def _plan(store, settings, **kw):
    cands = kw.pop("cands", None)
    if cands is None:
        cands = P.candidates(store, as_of=AS_OF, settings=settings)
    teams = kw.pop("teams", None) or P.teams_from_store(store)
    return P.plan_routes(store, cands, teams, dates=kw.pop("dates", [AS_OF]), settings=settings, **kw)


def test_dead_corner_candidates(city, settings):
    c = P.candidates(city, as_of=AS_OF, settings=settings)
    keys = set(c["key"])
    assert "enterprises:E1" in keys and "enterprises:E3" in keys
    assert "enterprises:E2" not in keys  # inspected 10 days ago, low grade: not overdue
    assert list(c["priority"]) == sorted(c["priority"], reverse=True)


def test_reasons_no_skill_and_out_of_scope(city, settings):
    plan = _plan(city, settings)
    reason = dict(zip(plan.unassigned["key"], plan.unassigned["reason"], strict=True))
    assert reason["enterprises:E4"] == "no_skill"  # mining: nobody has it
    assert reason["enterprises:E5"] == "out_of_scope"  # district 420109: nobody covers it
    assert plan.summary["travel_mode"] == "roads"


def test_stop_outside_every_shift_is_unassigned(city, settings):
    # without the night team, the KTV (open from 19:00) is outside every shift
    teams = [t for t in P.teams_from_store(city) if t.id != "T3"]
    plan = _plan(city, settings, teams=teams)
    reason = dict(zip(plan.unassigned["key"], plan.unassigned["reason"], strict=True))
    assert reason["venues:V1"] == "outside_hours"
    assert "venues:V1" not in set(plan.stops["key"])


def test_venues_only_in_opening_hours(city, settings):
    plan = _plan(city, settings)
    venues = plan.stops[plan.stops["target_layer"] == "venues"].set_index("key")
    assert "venues:V1" in venues.index  # the night team takes the KTV
    day = pd.Timestamp(AS_OF)
    hours = {"venues:V1": ("19:00", "23:59"), "venues:V2": ("10:00", "21:00"), "venues:V3": ("14:00", "23:00")}
    for key, row in venues.iterrows():
        a, b = (day + pd.Timedelta(hours=int(h[:2]), minutes=int(h[3:])) for h in hours[key])
        assert a <= row["start"], key
        assert row["departure"] <= b, key


def test_team_never_gets_an_object_without_its_skill(city, settings):
    plan = _plan(city, settings)
    skills = {t.id: set(t.skills) for t in P.teams_from_store(city)}
    assert len(plan.stops) >= 5
    for r in plan.stops.itertuples():
        assert r.skill in skills[r.team_id], (r.key, r.team_id)
    # and each stays in its district scope
    scope = {t.id: set(t.districts) for t in P.teams_from_store(city)}
    for r in plan.stops.itertuples():
        assert r.district_code in scope[r.team_id]


def test_routes_start_and_end_at_base_within_shift(city, settings):
    plan = _plan(city, settings)
    teams = {t.id: t for t in P.teams_from_store(city)}
    day = pd.Timestamp(AS_OF)
    for tid, tl in plan.timeline.groupby("team_id"):
        t = teams[tid]
        s0 = day + pd.Timedelta(seconds=P.hhmm_to_s(t.shift_start))
        s1 = day + pd.Timedelta(seconds=P.hhmm_to_s(t.shift_end))
        assert tl["start"].min() >= s0 and tl["end"].max() <= s1
        # the last segment is the drive home
        assert tl.sort_values("start").iloc[-1]["kind"] == "travel"


def test_not_enough_time(tmp_path, settings):
    from test_plan_helpers import _gdf

    store = build_plan_city(tmp_path / "busy.gpkg")
    with store.transaction() as tx:
        tx.append("enterprises", _gdf(random_enterprises(30)))
    teams = [replace(t, shift_start="09:00", shift_end="11:00", break_start=None, break_minutes=0)
             for t in P.teams_from_store(store) if t.id == "T1"]
    plan = _plan(store, settings, teams=teams)
    reasons = plan.unassigned["reason"].value_counts()
    assert reasons.get("not_enough_time", 0) > 20
    assert 1 <= len(plan.stops) <= 3  # 45 min each, two hours in all


def test_higher_priority_served_first(tmp_path, settings):
    from test_plan_helpers import _gdf

    store = build_plan_city(tmp_path / "prio.gpkg")
    with store.transaction() as tx:
        tx.append("enterprises", _gdf(random_enterprises(12)))
    teams = [replace(t, shift_start="09:00", shift_end="12:00", break_start=None, break_minutes=0)
             for t in P.teams_from_store(store) if t.id == "T1"]
    cands = P.candidates(store, as_of=AS_OF, settings=settings)
    cands = cands[cands["skill"] == "hazchem"].copy()
    # E1 takes 120 min, a low-grade one 45 min: by count, three low ones would fit instead of E1 + one.
    # Give E1 the top priority: it must be in the route.
    cands["priority"] = [1000.0 if k == "enterprises:E1" else 10.0 + i for i, k in enumerate(cands["key"])]
    plan = _plan(store, settings, teams=teams, cands=cands)
    assert "enterprises:E1" in set(plan.stops["key"])


def test_locked_stop_stays_with_its_team(city, settings):
    first = _plan(city, settings)
    owner = first.stops.set_index("key").loc["enterprises:F1", "team_id"]
    other = "T1" if owner == "T2" else "T2"
    again = _plan(city, settings, locks={"enterprises:F1": other})
    row = again.stops.set_index("key").loc["enterprises:F1"]
    assert row["team_id"] == other
    assert bool(row["locked"])


def test_lock_to_team_without_skill_is_refused(city, settings):
    plan = _plan(city, settings, locks={"gas_stations:G1": "T1"})  # T1 has no gas skill
    assert "gas_stations:G1" not in set(plan.stops["key"])
    reason = dict(zip(plan.unassigned["key"], plan.unassigned["reason"], strict=True))
    assert reason["gas_stations:G1"] == "no_skill"


def test_straight_line_mode(tmp_path, settings):
    store = build_plan_city(tmp_path / "noroads.gpkg", roads=False)
    plan = _plan(store, settings)
    assert plan.summary["travel_mode"] == "straight"
    assert len(plan.stops) >= 5


def _week_city(path):
    """The plan city with 25 more enterprises (more than one team's day), and its team T1."""
    from test_plan_helpers import _gdf

    store = build_plan_city(path)
    with store.transaction() as tx:
        tx.append("enterprises", _gdf(random_enterprises(25)))
    return store, [t for t in P.teams_from_store(store) if t.id == "T1"]


def test_week_plan_uses_several_days(tmp_path, settings):
    store, teams = _week_city(tmp_path / "week.gpkg")
    dates = P.week_dates(date(2026, 11, 30), 3)
    plan = _plan(store, settings, teams=teams, dates=dates)
    assert set(plan.stops["day"]) == set(dates)
    for r in plan.stops.itertuples():
        assert pd.Timestamp(r.start).date() == r.day


def test_a_working_week_across_the_weekend_keeps_each_days_clock(tmp_path, settings):
    """Friday and the next Monday: Monday's stops are timed on Monday, not on the Saturday after Friday."""
    store, teams = _week_city(tmp_path / "weekend.gpkg")
    dates = P.week_dates(date(2026, 12, 4), 2)
    assert dates == [date(2026, 12, 4), date(2026, 12, 7)]
    plan = _plan(store, settings, teams=teams, dates=dates)
    assert set(plan.stops["day"]) == set(dates)
    for r in plan.stops.itertuples():
        for t in (r.arrival, r.start, r.departure):
            assert pd.Timestamp(t).date() == r.day
    for r in plan.timeline.itertuples():
        assert pd.Timestamp(r.start).date() == r.day


def test_parse_hours():
    assert P.parse_hours("19:00-23:59") == [(19 * 3600, 86400)]
    assert P.parse_hours("20:00-02:00") == [(20 * 3600, 26 * 3600)]
    assert P.parse_hours("10:00-14:00,17:00-22:00") == [(36000, 50400), (61200, 79200)]
    assert P.parse_hours("全天") == [(0, 86400)]
    assert P.parse_hours("sometimes") is None


def test_service_time_by_layer_and_grade(settings):
    assert P.service_seconds("enterprises", "major", settings) == 120 * 60
    assert P.service_seconds("venues", "moderate", settings) == 45 * 60


def test_routing_helpers():
    import numpy as np

    from geo.routing import RouteJob, RouteVehicle, priority_levels, reachable_alone, straight_line_matrix

    m = straight_line_matrix([(0, 0), (3000, 4000)], speed_kmh=36, detour=1.5)
    assert m[0, 1] == pytest.approx(5000 * 1.5 / 10)
    assert list(priority_levels([0, 50, 100, 1], top=100)) == [0, 50, 100, 1]
    v = RouteVehicle(id=1, start=0, end=0, time_window=(8 * 3600, 17 * 3600))
    mat = np.array([[0, 600], [600, 0]])
    evening = RouteJob(id=1, location=1, service=1800, time_windows=((19 * 3600, 23 * 3600),))
    late_morning = RouteJob(id=2, location=1, service=1800, time_windows=((10 * 3600, 11 * 3600),))
    too_long = RouteJob(id=3, location=1, service=9 * 3600)
    assert not reachable_alone(mat, v, evening)
    assert reachable_alone(mat, v, late_morning)
    assert not reachable_alone(mat, v, too_long)


def _locked_seqs(plan, keys):
    stops = plan.stops.set_index("key")
    return [(stops.loc[k, "team_id"], str(stops.loc[k, "day"]), int(stops.loc[k, "seq"])) if k in stops.index
            else None for k in keys]


def test_replanning_keeps_locked_stops_with_their_team_and_in_their_order(tmp_path, settings):
    """Lock stops 2-4 of a day, take the other stops out of the list and plan again: the three stay with the
    team, on the day, in the same order (left free, VROOM serves them in reverse here)."""
    store, teams = _week_city(tmp_path / "lock.gpkg")
    cands = P.candidates(store, as_of=AS_OF, settings=settings)
    first = _plan(store, settings, teams=teams, cands=cands)
    ordered = first.stops.sort_values("seq")
    locked = ordered[ordered["seq"].isin([2, 3, 4])]["key"].tolist()
    assert len(locked) == 3
    locks = {k: "T1" for k in locked}
    anchors = P.lock_anchors(first, locks)
    assert set(anchors) == set(locked) and all(d == 0 for d, _ in anchors.values())
    rest = cands[~cands["key"].isin(set(ordered["key"]) - set(locked))]
    again = _plan(store, settings, teams=teams, cands=rest, locks=locks, anchors=anchors)
    got = _locked_seqs(again, locked)
    assert all(g is not None and g[0] == "T1" and g[1] == AS_OF.isoformat() for g in got), got
    seqs = [g[2] for g in got]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3, got
    assert set(again.params["lock_order"]) == set(locked) and again.params["order_released"] == []
    assert all(again.stops.set_index("key").loc[locked, "locked"])

    # the shift now starts an hour later: stops 1-3 locked are all still served, still in order
    locked = ordered[ordered["seq"].isin([1, 2, 3])]["key"].tolist()
    locks = {k: "T1" for k in locked}
    later = [replace(teams[0], shift_start="09:30")]
    again = _plan(store, settings, teams=later, cands=cands, locks=locks, anchors=P.lock_anchors(first, locks))
    got = _locked_seqs(again, locked)
    assert all(g is not None and g[0] == "T1" for g in got), got
    assert [g[2] for g in got] == sorted(g[2] for g in got)


def test_a_week_replanned_keeps_each_locked_stop_on_its_day_in_order(tmp_path, settings):
    store, teams = _week_city(tmp_path / "lockweek.gpkg")
    dates = P.week_dates(date(2026, 11, 30), 3)
    cands = P.candidates(store, as_of=AS_OF, settings=settings)
    first = _plan(store, settings, teams=teams, cands=cands, dates=dates)
    s = first.stops.sort_values(["day", "seq"])
    locked = [*s[s["day"] == dates[0]]["key"].iloc[[-1, 0]], *s[s["day"] == dates[1]]["key"].iloc[[0, 2]]]
    locks = {k: "T1" for k in locked}
    before = _locked_seqs(first, locked)
    # fewer candidates: the other stops of the first two days are gone
    keep = set(s[s["day"] == dates[2]]["key"]) | set(locked)
    again = _plan(store, settings, teams=teams, cands=cands[cands["key"].isin(keep)], dates=dates, locks=locks,
                  anchors=P.lock_anchors(first, locks))
    after = _locked_seqs(again, locked)
    assert [a[:2] for a in after] == [b[:2] for b in before]       # same team, same day
    for day in dates[:2]:
        b = [x[2] for x in before if x[1] == day.isoformat()]
        a = [x[2] for x in after if x[1] == day.isoformat()]
        assert sorted(range(len(b)), key=b.__getitem__) == sorted(range(len(a)), key=a.__getitem__)


def test_a_stop_moved_to_another_team_has_no_place_to_keep(city, settings):
    first = _plan(city, settings)
    owner = first.stops.set_index("key").loc["enterprises:F1", "team_id"]
    other = "T1" if owner == "T2" else "T2"
    assert P.lock_anchors(first, {"enterprises:F1": other}) == {}
    assert set(P.lock_anchors(first, {"enterprises:F1": owner})) == {"enterprises:F1"}


def test_chain_windows_cut_the_shift_in_order():
    # three stops that started at 100, 200, 300: slices meet half-way
    assert P.chain_windows([100, 200, 300], [0, 0, 0], [1000] * 3, lo=0, hi=1000) == [
        (0, 150), (151, 250), (251, 1000)]
    # the chain alone cannot start before 500 and 800 now (a later shift): the places move along
    assert P.chain_windows([100, 110], [500, 800], [900, 950], lo=0, hi=1000) == [(0, 650), (651, 1000)]
    # the same start twice still gives two ordered slices
    w = P.chain_windows([300, 300], [0, 0], [1000, 1000], lo=0, hi=1000)
    assert w[0][1] < w[1][0]
