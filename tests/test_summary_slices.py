"""A drill-down selects slices of the city's frames (rows kept in district and town order), and the slices hold
exactly the rows the plain boolean mask holds: every district and town of the demo city, with and without
attribute filters, and on a city whose frames are not in area order (the mask is used then)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from layers.analysis.summary import Filters, _select, load_city
from layers.store import open_store


@pytest.fixture(scope="module")
def city(demo_store_path: Path):
    return load_city(open_store(demo_store_path, create=False))


def _masked(f: pd.DataFrame, districts, town) -> pd.DataFrame:
    m = f["district_code"].isin(districts)
    if town:
        m &= f["town_code"].eq(town)
    return f[m]


def _frames(sel) -> dict[str, pd.DataFrame]:
    return {**sel.objects, "hazards": sel.hazards, "inspections": sel.inspections,
            **{f"lines:{k}": sel.lines[k] for k in ("gas_pipelines", "bridges", "tunnels") if k in sel.lines}}


def _same(got: pd.DataFrame, want: pd.DataFrame, what: str) -> None:
    assert len(got) == len(want), what
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True), obj=what)


def test_city_frames_are_in_area_order(city):
    for name, f in {**city.objects, "hazards": city.hazards, "inspections": city.inspections}.items():
        codes = f["district_code"].to_numpy(dtype=object)
        known = codes[pd.notna(codes)]
        runs = 1 + int(np.count_nonzero(known[1:] != known[:-1])) if len(known) else 0
        assert runs == len(set(known)), name
        assert pd.isna(codes[len(known):]).all(), f"{name}: rows without a district come last"


@pytest.mark.parametrize("town_level", [False, True])
def test_every_area_selects_what_the_mask_selects(city, town_level):
    areas = ([(d, None) for d in city.districts["code"]] if not town_level else
             list(zip(city.towns["district_code"], city.towns["code"], strict=True)))
    assert len(areas) >= 5
    whole = {**city.objects, "hazards": city.hazards, "inspections": city.inspections,
             **{f"lines:{k}": city.lines[k] for k in ("gas_pipelines", "bridges", "tunnels")}}
    for d, t in areas:
        sel = _select(city, Filters.make(districts=[d], town=t))
        got = _frames(sel)
        for name, f in whole.items():
            want = _masked(f, [d], t)
            if name == "hazards":
                want = want[want["status"].isin(set(sel.filters.statuses) - {"overdue"}) | want["overdue"]]
            _same(got[name], want, f"{name} in {d}/{t}")
        assert len(got["enterprises"]) > 0, (d, t)


def test_several_districts_and_filters(city):
    codes = sorted(city.districts["code"])[:3]
    sel = _select(city, Filters.make(districts=codes, grades=["red", "orange"]))
    e = city.objects["enterprises"]
    _same(sel.enterprises, e[e["district_code"].isin(codes) & e["grade"].isin(["red", "orange"])], "enterprises")
    assert len(sel.objects["venues"]) == 0     # an attribute filter keeps enterprises only
    i = city.inspections
    _same(sel.inspections, i[i["district_code"].isin(codes) & i["target_layer"].eq("enterprises")
                             & i["grade"].isin(["red", "orange"])], "inspections")


def test_a_city_not_in_area_order_is_selected_by_mask(city):
    rng = np.random.default_rng(3)

    def shuffled(f):
        return f.iloc[rng.permutation(len(f))].reset_index(drop=True)

    mixed = dataclasses.replace(city, objects={k: shuffled(f) for k, f in city.objects.items()},
                                hazards=shuffled(city.hazards), inspections=shuffled(city.inspections), extra={})
    d = sorted(city.districts["code"])[1]
    got = _select(mixed, Filters.make(districts=[d])).enterprises
    _same(got, _masked(mixed.objects["enterprises"], [d], None), "enterprises")
    assert mixed.extra[("spans", "enterprises")][1] is None   # not one run per district: the mask was used
