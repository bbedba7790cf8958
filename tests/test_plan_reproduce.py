"""plan.toml reproduces the plan (issue 22, deliverable 4): `capacity run <plan>/plan.toml`
places, in every planned year, exactly the pupils the plan says it places — the re-run's
optimal-mode shortfall (shortfall.csv, summed over zones) equals plan_unserved.csv's
``unserved`` and its ``served`` the plan's ``served``; plan.csv's costs add up to the
summary's; nothing is spent before the start year. And a model without sites.csv plans
at generated candidates, flagged ``generated``.

The model (tests/hand_model.py: one unit per 1 km zone, a population that only ages,
primary 6–11, class size 10, walking radius 600 m, so transport reaches 1200 m) is built so
that its plan needs every kind of option (the checks below hold for any plan; the kinds are
asserted so that the reproduction covers each of them):

- A (0, 0): 60 pupils a year, school SA with 40 places, room for 6 classes (max_classes):
  short 20 a year — temporary places (20 % of 40 = 8) until an expansion can open
  (expansion lead time 2 years: 2023).
- T (0, 3000): school ST with 200 places, 36 pupils of its own; T2 (1000, 3000): 36 pupils,
  no school within 600 m, ST at 1000 m — transport.
- N (0, −3000): 60 pupils, no school within 1200 m; candidate site cand-N (6 classes):
  a new school (lead time 2 years: 2023), filling grade by grade.
Every zone has its pupils at every age 6–11 from base ages 0–11 (5 per sex; T and T2: 3),
so demand is flat until 2026, the horizon.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from capacity.cli import main
from hand_model import write_hand_model, write_scenario

START, HORIZON = 2021, 2026
PLAN = f"""\
[plan]
start_year = {START}

[plan.stages.primary]
standard_classes = [6]
lead_years = 2
construction_years = 1
"""


def school(school_id: str, x: float, y: float, places: int, **extra) -> dict:
    return {"school_id": school_id, "name": school_id, "stage": "primary", "x": x, "y": y,
            "places": places, **extra}


def ages(count: int) -> dict[int, int]:
    return {a: count for a in range(12)}


def build(root: Path, with_sites: bool = True) -> Path:
    zones = {"A": (0, 0), "T": (0, 3000), "T2": (1000, 3000), "N": (0, -3000)}
    sites = [{"site_id": "cand-N", "zone_id": "N", "x": 0, "y": -3000, "stages": "primary",
              "max_classes": 6, "basis": "test"}] if with_sites else []
    write_hand_model(root / "model", zones,
                     {"A": ages(5), "T": ages(3), "T2": ages(3), "N": ages(5)},
                     schools=[school("SA", 0, 0, 40, max_classes=6),
                              school("ST", 0, 3000, 200)],
                     sites=sites, extra_toml=PLAN)
    return write_scenario(root / "repro.toml", "model", HORIZON)


@pytest.fixture(scope="module")
def planned(tmp_path_factory) -> tuple[Path, Path]:
    """The plan's folder and the folder of `capacity run` on its plan.toml."""
    root = tmp_path_factory.mktemp("repro")
    scenario = build(root)
    assert main(["plan", str(scenario), "-o", str(root / "plans"), "--time-limit", "60"]) == 0
    folder = root / "plans" / "repro-plan"
    assert main(["run", str(folder / "plan.toml"), "-o", str(root / "runs"), "--no-maps",
                 "--no-criticality", "--workers", "1"]) == 0
    return folder, root / "runs" / "repro-planned"


def test_the_plan_uses_every_kind_of_option(planned):
    plan = pd.read_csv(planned[0] / "plan.csv")
    assert {"new", "expansion", "temporary", "transport"} <= set(plan["kind"])
    new = plan[plan["kind"] == "new"]
    assert list(new["id"]) == ["cand-N"] and (new["open_year"] >= START + 2).all()
    exp = plan[plan["kind"] == "expansion"]
    assert list(exp["school_id"]) == ["SA"] and (exp["open_year"] >= START + 2).all()
    # worked out above: 2 classes at SA from 2023, 8 temporary places there before
    assert (int(exp["places"].iloc[0]), int(exp["open_year"].iloc[0])) == (20, 2023)
    temp = plan[plan["kind"] == "temporary"]
    assert temp[["school_id", "places", "first_year", "last_year"]].values.tolist() == \
        [["SA", 8, 2021, 2022]]
    assert list(plan.loc[plan["kind"] == "transport", "zone_id"]) == ["T2"]
    # expansions and temporary places carry their school's zone (SA lies in A)
    assert set(plan.loc[plan["kind"].isin(["expansion", "temporary"]), "zone_id"]) == {"A"}


def test_rerun_reproduces_served_and_unserved_every_year(planned):
    folder, run = planned
    claimed = pd.read_csv(folder / "plan_unserved.csv")
    assert set(claimed["stage"]) == {"primary"}
    assert list(claimed["year"]) == list(range(START, HORIZON + 1))
    short = pd.read_csv(run / "shortfall.csv")
    short = short[(short["mode"] == "optimal") & (short["year"] >= START)]
    got = short.groupby(["stage", "year"], as_index=False)[["demand", "served", "shortfall"]] \
        .sum()
    both = claimed.merge(got, on=["stage", "year"], how="outer", validate="1:1")
    assert len(both) == len(claimed)
    assert (both["demand_x"] == both["demand_y"]).all(), both
    assert (both["served_x"] == both["served_y"]).all(), both
    assert (both["unserved"] == both["shortfall"]).all(), both
    # the model is built so that the plan cannot place everyone at first (N has nothing
    # in reach before 2023): the equality is not one of zeros
    assert both["unserved"].sum() > 0 and both["served_x"].sum() > 0


def test_costs_add_up_and_start_at_the_start_year(planned):
    folder, _ = planned
    by_year = pd.read_csv(folder / "plan_by_year.csv")
    summary = pd.read_csv(folder / "plan_summary.csv").set_index("stage")
    plan = pd.read_csv(folder / "plan.csv")
    assert by_year["year"].min() >= START
    spent = by_year.groupby("stage")["cost_cny"].sum()
    for stage, row in summary.iterrows():
        assert spent[stage] == pytest.approx(row["total_cny"] - row["running_cny"], rel=1e-9)
        assert plan.loc[plan["stage"] == stage, "cost_cny"].sum() == \
            pytest.approx(row["total_cny"] - row["running_cny"], rel=1e-9)
    # capital of the new school (6 classes × 10 places × CNY 100,000) in its one
    # construction year, the year before it opens
    new = plan[plan["kind"] == "new"].iloc[0]
    assert new["cost_cny"] == pytest.approx(6 * 10 * 100000.0)
    capital = by_year[by_year["kind"] == "new"]
    assert list(capital["year"]) == [int(new["open_year"]) - 1]
    assert capital["cost_cny"].sum() == pytest.approx(new["cost_cny"])


def test_without_sites_candidates_are_generated(tmp_path):
    scenario = build(tmp_path, with_sites=False)
    assert main(["plan", str(scenario), "-o", str(tmp_path / "plans"),
                 "--time-limit", "60"]) == 0
    folder = tmp_path / "plans" / "repro-plan"
    cand = pd.read_csv(folder / "candidates.csv")
    assert len(cand) and cand["generated"].astype(bool).all()
    plan = pd.read_csv(folder / "plan.csv")
    new = plan[plan["kind"] == "new"]
    assert len(new) and new["generated"].astype(bool).all()
    assert set(new["zone_id"]) <= {"A", "N"}     # generated at units left unserved


def random_model(root: Path, seed: int) -> Path:
    """A 3 × 3 grid of zones 1 km apart (so transport reaches the neighbours), schools of
    random size in some zones, candidate sites in others, random cohorts."""
    rng = np.random.default_rng(seed)
    zones = {f"z{i}{j}": (1000 * i, 1000 * j) for i in range(3) for j in range(3)}
    names = list(zones)
    order = rng.permutation(len(names))
    with_school, with_site = order[:int(rng.integers(1, 4))], order[4:4 + int(rng.integers(1, 3))]
    classes = rng.integers(1, 9, len(with_school))
    schools = [school(f"S{k}", *zones[names[k]], int(m) * 10,
                      max_classes=int(m + rng.integers(0, 4)))
               for k, m in zip(with_school, classes)]
    sites = [{"site_id": f"c{k}", "zone_id": names[k], "x": zones[names[k]][0],
              "y": zones[names[k]][1], "stages": "primary", "max_classes": 6, "basis": "test"}
             for k in with_site]
    ages_ = {z: {a: int(rng.integers(0, 5)) for a in range(12)} for z in names}
    write_hand_model(root / "model", zones, ages_, schools=schools, sites=sites,
                     extra_toml=PLAN.replace("[6]", "[3, 6]")
                     + f"temporary_max_years = {int(rng.integers(1, 4))}\n")
    return write_scenario(root / "repro.toml", "model", HORIZON)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rerun_reproduces_random_plans(tmp_path, seed):
    """The same equality on random models (each plan builds, expands, adds temporary places
    and transports)."""
    scenario = random_model(tmp_path, seed)
    assert main(["plan", str(scenario), "-o", str(tmp_path / "plans"),
                 "--time-limit", "60"]) == 0
    folder = tmp_path / "plans" / "repro-plan"
    assert main(["run", str(folder / "plan.toml"), "-o", str(tmp_path / "runs"), "--no-maps",
                 "--no-criticality", "--workers", "1"]) == 0
    kinds = set(pd.read_csv(folder / "plan.csv")["kind"])
    assert {"new", "expansion", "temporary", "transport"} <= kinds     # not a vacuous case
    claimed = pd.read_csv(folder / "plan_unserved.csv").set_index("year")
    short = pd.read_csv(tmp_path / "runs" / "repro-planned" / "shortfall.csv")
    short = short[(short["mode"] == "optimal") & (short["year"] >= START)]
    got = short.groupby("year")[["demand", "served", "shortfall"]].sum()
    assert list(got.index) == list(claimed.index)
    assert (got["demand"] == claimed["demand"]).all()
    assert (got["served"] == claimed["served"]).all(), (got, claimed)
    assert (got["shortfall"] == claimed["unserved"]).all(), (got, claimed)
