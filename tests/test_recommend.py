"""The budget's recommendation and phased costs against values computed by hand on a
hand-built result (tests/synthetic_result.py with edited shortfalls)."""
from __future__ import annotations

import pandas as pd
import pytest

from capacity.report.budget import budget_tables
from synthetic_result import make_result


def edited():
    r = make_result()
    s = r.shortfall
    opt = s["mode"] == "optimal"

    def put(zone, stage, year, shortfall, out_of_reach=0):
        row = opt & (s["zone_id"] == zone) & (s["stage"] == stage) & (s["year"] == year)
        s.loc[row, "shortfall"] = shortfall
        s.loc[row, "out_of_reach"] = out_of_reach
        s.loc[row, "served"] = s.loc[row, "demand"] - shortfall

    put("z1", "primary", 2021, 10)        # in reach, still short at the horizon: permanent
    put("z2", "junior", 2020, 20)         # one year, gone by the horizon: temporary
    return r


@pytest.fixture(scope="module")
def views():
    return budget_tables(edited())


def row(views, zone, stage):
    rec = views["recommendation"]
    return rec[(rec["zone_id"] == zone) & (rec["stage"] == stage)].iloc[0]


def test_permanent_costs_the_schools_recommended(views):
    r = row(views, "z1", "primary")
    assert r["recommendation"] == "permanent"
    assert (r["years_short"], r["first_year_short"], r["peak_shortfall"]) == (1, 2021, 10)
    # 10 pupils → 1 class → the smallest standard primary school, 24 classes × 45 places
    assert r["school_mix"] == "1×24" and r["permanent_places"] == 24 * 45
    assert r["cost_cny"] == 24 * 45 * 278000
    # p1 (120 places in 2021) lies in z1, whose demand is 50
    assert (r["places_at_horizon"], r["demand_at_horizon"], r["horizon_surplus"]) == (120, 50, 70)


def test_transient_shortfall_gets_temporary_places(views):
    r = row(views, "z2", "junior")
    assert r["recommendation"] == "temporary"
    assert r["temporary_place_years"] == 20 and r["permanent_places"] == 0
    assert r["cost_cny"] == 20 * 15000          # default temporary cost per place-year


def test_a_handful_out_of_reach_is_transported(views):
    r = row(views, "z3", "primary")             # 30 out of reach in both years (limit 30)
    assert r["recommendation"] == "transport"
    assert r["transport_pupil_years"] == 60 and r["cost_cny"] == 60 * 6000


def test_costs_phased_by_year(views):
    c = views["cost_by_year"].set_index(["year", "stage", "kind"])["cost_cny"]
    assert c[(2021, "primary", "permanent")] == 24 * 45 * 278000
    assert c[(2020, "junior", "temporary")] == 20 * 15000
    assert c[(2020, "primary", "transport")] == c[(2021, "primary", "transport")] == 30 * 6000
    assert c[(2020, "junior", "transport")] == 15 * 6000
    assert c.sum() == pytest.approx(views["recommendation"]["cost_cny"].sum())


def test_shortfall_rate_is_over_demand(views):
    s = views["summary"].set_index(["stage", "year"])
    # primary 2020: demand 50 + 40 + 30 = 120, shortfall 30 (z3) → 25 %, not 30 ÷ 100 places
    assert s.loc[("primary", 2020), "shortfall_rate"] == pytest.approx(30 / 120)
    # junior 2021: demand 20 + 20 + 15 = 55, shortfall 15 → 15 ÷ 55 (places are 40)
    assert s.loc[("junior", 2021), "shortfall_rate"] == pytest.approx(15 / 55)
