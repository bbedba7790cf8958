"""The budget's one list of actions and its phased costs against values computed by hand on
a hand-built result (tests/synthetic_result.py with edited shortfalls: years 2020–2021, no
model folder, so the start year is 2020 + 1 and the [plan] / [budget] defaults apply)."""
from __future__ import annotations

import pandas as pd
import pytest

from capacity.errors import InputError
from capacity.report.budget import TOTAL_ID, budget_tables
from capacity.report.recommend import BudgetRules, costing
from capacity.report.budget import shortfall_by_zone_view
from synthetic_result import make_result

PRIMARY, JUNIOR = 278000, 383000          # cost per place (tests/synthetic_result.py)
TEMP, BUS = 15000, 6000                   # schema defaults per place-year / pupil-year


def edited():
    r = make_result()
    s = r.shortfall
    opt = s["mode"] == "optimal"

    def put(zone, stage, year, shortfall, out_of_reach=0):
        row = opt & (s["zone_id"] == zone) & (s["stage"] == stage) & (s["year"] == year)
        s.loc[row, "shortfall"] = shortfall
        s.loc[row, "out_of_reach"] = out_of_reach
        s.loc[row, "served"] = s.loc[row, "demand"] - shortfall

    put("z1", "primary", 2021, 10)        # one class, still short at the horizon: expansion
    put("z2", "junior", 2021, 600)        # 12 classes: the smallest standard junior school
    put("z2", "junior", 2020, 20)         # the base year is past: nothing is funded for it
    return r


@pytest.fixture(scope="module")
def views():
    return budget_tables(edited())


def action(actions, kind, stage, zone):
    hit = actions[(actions["kind"] == kind) & (actions["stage"] == stage)
                  & (actions["zone_id"] == zone)]
    assert len(hit) == 1, (kind, stage, zone)
    return hit.iloc[0]


def lines(views):
    cost = views["cost"]
    return cost[cost["id"] != TOTAL_ID]


def test_a_few_classes_short_are_an_expansion_not_a_school(views):
    a = action(lines(views), "expansion", "primary", "z1")
    # 10 pupils → 1 class of 45 (< half the smallest 24-class primary): 45 places
    assert (a["classes"], a["places"]) == (1, 45)
    assert a["cost_cny"] == 45 * PRIMARY
    # lead time 1 year from the start year 2021: opens 2022, capital in 2021
    assert (a["first_year"], a["open_year"]) == (2021, 2022)
    bridge = action(lines(views), "temporary", "primary", "z1")
    assert bridge["pupil_years"] == 10 and bridge["cost_cny"] == 10 * TEMP


def test_half_a_school_short_is_a_new_school_phased_over_its_lead_time(views):
    a = action(lines(views), "new", "junior", "z2")
    # standard junior sizes 12 / 18 / 24 / 30 classes (建标102-2002): 12 classes of 50
    assert (a["classes"], a["places"], a["school_mix"]) == (12, 12 * 50, "1×12")
    assert a["cost_cny"] == 600 * JUNIOR
    # lead_years 3 from the start year 2021: opens 2024; construction_years 2: 2022, 2023
    assert (a["first_year"], a["open_year"]) == (2022, 2024)
    c = views["cost_by_year"].set_index(["year", "stage", "kind"])["cost_cny"]
    for y in (2022, 2023):
        assert c[(y, "junior", "new")] == pytest.approx(600 * JUNIOR / 2)
    assert (2021, "junior", "new") not in c.index
    # 2021 is short before it opens: 600 temporary places (the 2020 shortfall is past)
    bridge = action(lines(views), "temporary", "junior", "z2")
    assert bridge["pupil_years"] == 600 and bridge["cost_cny"] == 600 * TEMP


def test_a_handful_out_of_reach_is_transported_from_the_start_year(views):
    a = action(lines(views), "transport", "primary", "z3")   # 30 out of reach (limit 30)
    assert a["pupil_years"] == 30 and a["cost_cny"] == 30 * BUS     # 2021 only
    assert action(lines(views), "transport", "junior", "z3")["cost_cny"] == 15 * BUS


def test_nothing_is_funded_before_the_start_year(views):
    assert views["cost_by_year"]["year"].min() == 2021
    assert (lines(views)["first_year"] >= 2021).all()
    assert set(views["cost_by_year"]["year_status"]) == {"projected"}


def test_every_money_view_has_the_one_total(views):
    total = 45 * PRIMARY + 10 * TEMP + 600 * JUNIOR + 600 * TEMP + 30 * BUS + 15 * BUS
    cost = views["cost"]
    assert cost.loc[(cost["id"] == TOTAL_ID) & (cost["stage"] == "all"),
                    "cost_cny"].item() == pytest.approx(total)
    assert views["cost_by_year"]["cost_cny"].sum() == pytest.approx(total)
    assert "cost_cny" not in views["recommendation"].columns      # one home for money


def test_district_stages_pool_the_shortfall():
    r = edited()
    by_zone = shortfall_by_zone_view(r)
    rec, acts, by_year = costing(r, by_zone, rules=BudgetRules(district_stages=("junior",)))
    junior = acts[acts["stage"] == "junior"]
    assert set(junior["zone_id"]) == {"ALL"}                  # never a school per zone
    # 2021: z2 600 + z3 15 = 615 pupils → 13 classes → one 18-class school (the smallest
    # standard junior size of 12 / 18 / 24 / 30 that holds 13 classes); no bus
    new = action(acts, "new", "junior", "ALL")
    assert new["places"] == 18 * 50
    assert action(acts, "temporary", "junior", "ALL")["pupil_years"] == 615
    assert "transport" not in set(junior["kind"])
    assert rec.loc[rec["stage"] == "junior", "zone_id"].tolist() == ["ALL"]


def test_new_school_threshold_is_a_parameter():
    r = edited()
    rules = BudgetRules(new_school_min_share=1.1)    # 12 classes < 1.1 × the smallest (12)
    _, acts, _ = costing(r, shortfall_by_zone_view(r), rules=rules)
    a = action(acts, "expansion", "junior", "z2")
    assert (a["classes"], a["places"], a["open_year"]) == (12, 600, 2022)


def test_shortfall_rate_is_over_demand(views):
    s = views["summary"].set_index(["stage", "year"])
    # primary 2020: demand 50 + 40 + 30 = 120, shortfall 30 (z3) → 25 %, not 30 ÷ 100 places
    assert s.loc[("primary", 2020), "shortfall_rate"] == pytest.approx(30 / 120)


def test_recommendation_names_the_kinds(views):
    rec = views["recommendation"].set_index(["zone_id", "stage"])["recommendation"]
    assert rec[("z1", "primary")] == "expansion + temporary"
    assert rec[("z2", "junior")] == "new + temporary"
    assert rec[("z3", "primary")] == "transport"
    assert rec[("z1", "junior")] == "none"
    assert isinstance(rec, pd.Series)


def test_the_models_start_year_and_budget_table_are_read(tmp_path):
    """model.toml [plan] start_year moves the first funded year; [budget] is the rule's."""
    (tmp_path / "model.toml").write_text(
        '[plan]\nstart_year = 2022\n[budget]\ndistrict_stages = ["junior"]\n'
        "new_school_min_share = 0.25\n")
    r = edited()
    r.manifest["model_path"] = str(tmp_path)
    views = budget_tables(r)
    assert views["cost_by_year"].empty                 # 2022 is after the horizon 2021
    assert set(views["recommendation"].loc[views["recommendation"]["stage"] == "junior",
                                           "zone_id"]) == {"ALL"}
    (tmp_path / "model.toml").write_text("[budget]\nnew_school_min_share = 2\n")
    with pytest.raises(InputError, match="new_school_min_share"):
        budget_tables(r)
