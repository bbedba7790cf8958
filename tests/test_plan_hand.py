"""`capacity plan` on instances small enough to solve by hand (tests/hand_model.py: one unit
per 1 km zone, a population that only ages, one compulsory stage ``primary``).

Written against the plan's behaviour (plan.csv rows, plan_summary.csv, plan.toml run again),
not the MILP's layout: the expected plans are worked out in each test's docstring from
docs/plan.md — earliest opening year = first_year + build_years (or the site's own), transport
only for units with no site at all within walking distance, temporary place-years counted
from the first to the last year inclusive, and a compulsory stage's default penalty above the
capital of its largest standard school.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capacity.cli import main
from capacity.plan.params import read_params
from capacity.plan.run import make_plan
from hand_model import pupils, write_hand_model, write_scenario

#: 5 per sex at every base age 0..11: 60 primary pupils a year until 2026.
FULL = {a: 5 for a in range(12)}
PLAN = """\
[plan]
first_year = 2021
build_years = {build}

[plan.stages.primary]
standard_classes = {sizes}
temporary_share = {share}
temporary_years = {years}
"""


def plan_toml(build: int = 2, sizes: str = "[6]", share: float = 0.0, years: int = 5) -> str:
    return PLAN.format(build=build, sizes=sizes, share=share, years=years)


def summary(plan) -> pd.Series:
    return plan.summary.set_index("stage").loc["primary"]


def site(site_id: str, x: float, y: float, zone: str, **extra) -> dict:
    return {"site_id": site_id, "zone_id": zone, "x": x, "y": y, "stages": "primary",
            "max_classes": 24, "basis": "test", **extra}


def school(school_id: str, x: float, y: float, places: int) -> dict:
    return {"school_id": school_id, "name": school_id, "stage": "primary", "x": x, "y": y,
            "places": places}


@pytest.fixture(scope="module")
def reach(tmp_path_factory) -> Path:
    """Four zones around a large school S1 at A (0, 0); walking radius 600 m, transport
    radius 2 × 600 = 1200 m; 60 pupils in every zone and year.

    - A (0, 0): walks to S1 (1000 places).
    - B (1000, 0): no site within 600 m; S1 at 1000 m → transport, 60 a year.
    - D (−1000, 0): its own school SD (10 places) within walking distance → no transport
      although S1 is 1000 m away: 50 unserved a year (no temporary places, share 0).
    - E (0, −1000): candidate site cand-E within walking distance → no transport although
      S1 is 1000 m away; cand-E (one size, 6 classes × 10 = 60 places) opens at the earliest
      in first_year + build_years = 2021 + 2 = 2023: 60 unserved in 2021 and 2022.
    Horizon 2024 (4 planned years)."""
    root = tmp_path_factory.mktemp("reach")
    zones = {"A": (0, 0), "B": (1000, 0), "D": (-1000, 0), "E": (0, -1000)}
    write_hand_model(root / "model", zones, {z: FULL for z in zones},
                     schools=[school("S1", 0, 0, 1000), school("SD", -1000, 0, 10)],
                     sites=[site("cand-E", 0, -1000, "E", max_classes=6)],
                     extra_toml=plan_toml())
    write_scenario(root / "reach.toml", "model", 2024)
    return root


def test_transport_only_for_units_without_any_site_in_walking_distance(reach):
    plan = make_plan(reach / "reach.toml", stages=["primary"], time_limit_s=60)
    p = plan.plan
    transport = p[p["kind"] == "transport"]
    assert list(transport["zone_id"]) == ["B"]
    row = transport.iloc[0]
    assert row["pupil_years"] == pytest.approx(60 * 4)
    assert (row["first_year"], row["last_year"]) == (2021, 2024)
    assert row["cost_cny"] == pytest.approx(60 * 4 * 6000.0)
    s = summary(plan)
    # D: 50 a year × 4 years; E: 60 a year in 2021 and 2022
    assert s["unserved_after"] == pytest.approx(50 * 4 + 60 * 2)
    assert s["unserved_before"] == 60 * 4 + 50 * 4 + 60 * 4   # B, D, E in the run itself
    assert s["transport_pupil_years"] == pytest.approx(240)


def test_a_site_opens_at_its_earliest_year_not_before(reach):
    plan = make_plan(reach / "reach.toml", stages=["primary"], time_limit_s=60)
    new = plan.plan[plan.plan["kind"] == "new"]
    assert list(new["id"]) == ["cand-E"]
    assert int(new["open_year"].iloc[0]) == 2021 + 2
    assert int(new["places"].iloc[0]) == 60
    assert new["cost_cny"].iloc[0] == pytest.approx(60 * 100000.0)
    by_year = plan.by_year[plan.by_year["kind"] == "new"]
    assert list(by_year["year"]) == [2023]


@pytest.mark.parametrize("earliest", [2022, 2024])
def test_a_sites_own_earliest_year_is_kept(tmp_path, earliest):
    """One zone, no school, one site with its own earliest_open_year: the school opens
    that year and the pupils of the planned years before it (60 a year from 2021) stay
    unserved."""
    write_hand_model(tmp_path / "model", {"A": (0, 0)}, {"A": FULL},
                     sites=[site("s", 0, 0, "A", earliest_open_year=earliest)],
                     extra_toml=plan_toml(build=0))
    plan = make_plan(write_scenario(tmp_path / "own.toml", "model", 2024), time_limit_s=60)
    new = plan.plan[plan.plan["kind"] == "new"]
    assert list(new["open_year"]) == [earliest]
    assert summary(plan)["unserved_after"] == pytest.approx(60 * (earliest - 2021))


def test_a_generated_site_opens_after_the_lead_time(tmp_path):
    """Without sites.csv the candidate is generated at the unserved unit and opens at
    first_year + build_years = 2021 + 2."""
    write_hand_model(tmp_path / "model", {"A": (0, 0)}, {"A": FULL},
                     extra_toml=plan_toml(build=2))
    plan = make_plan(write_scenario(tmp_path / "gen.toml", "model", 2025), time_limit_s=60)
    new = plan.plan[plan.plan["kind"] == "new"]
    assert list(new["open_year"]) == [2023] and bool(new["generated"].iloc[0])
    assert summary(plan)["unserved_after"] == pytest.approx(60 * 2)


@pytest.fixture(scope="module")
def temporary(tmp_path_factory) -> Path:
    """One zone, one school of 50 places; 5 per sex at base ages 2..11, so 60 pupils in
    2021–2024 and 50 in 2025 (the base-age-2 cohort is the youngest). No site can open
    before the horizon (build_years 10). Temporary places, at most 20 % × 50 = 10 a year
    and 5 × 10 = 50 place-years: 10 places in each of 2021–2024 — 40 place-years, CNY
    40 × 15,000 — and none in 2025."""
    root = tmp_path_factory.mktemp("temporary")
    ages = {a: 5 for a in range(2, 12)}
    assert [pupils(ages, y) for y in range(2021, 2026)] == [60, 60, 60, 60, 50]
    write_hand_model(root / "model", {"A": (0, 0)}, {"A": ages},
                     schools=[school("S1", 0, 0, 50)],
                     extra_toml=plan_toml(build=10, share=0.2))
    write_scenario(root / "temp.toml", "model", 2025)
    return root


def test_temporary_place_years_run_first_to_last_year_inclusive(temporary):
    plan = make_plan(temporary / "temp.toml", time_limit_s=60)
    temp = plan.plan[plan.plan["kind"] == "temporary"]
    assert len(temp) == 1 and len(plan.plan) == 1
    row = temp.iloc[0]
    assert (row["places"], row["first_year"], row["last_year"]) == (10, 2021, 2024)
    assert row["pupil_years"] == 40
    assert row["cost_cny"] == pytest.approx(40 * 15000.0)
    s = summary(plan)
    assert s["temporary_place_years"] == 40
    assert s["temporary_cny"] == pytest.approx(600000.0)
    assert s["unserved_after"] == 0
    by_year = plan.by_year.set_index("year")["cost_cny"]
    assert by_year.to_dict() == pytest.approx({y: 150000.0 for y in range(2021, 2025)})


def test_temporary_place_years_within_temporary_years(tmp_path):
    """The same school with temporary_years = 3: at most 3 × 20 % × 50 = 30 place-years, so
    30 of the 40 pupil-years short get a temporary place and 10 stay unserved."""
    write_hand_model(tmp_path / "model", {"A": (0, 0)}, {"A": {a: 5 for a in range(2, 12)}},
                     schools=[school("S1", 0, 0, 50)],
                     extra_toml=plan_toml(build=10, share=0.2, years=3))
    plan = make_plan(write_scenario(tmp_path / "t3.toml", "model", 2025), time_limit_s=60)
    s = summary(plan)
    assert s["temporary_place_years"] == 30
    assert s["unserved_after"] == pytest.approx(10)


def test_temporary_places_in_plan_toml_end_with_their_last_year(temporary, tmp_path, capsys):
    """Running plan.toml: the temporary site has 10 places in 2021–2024 only, and nobody is
    short from 2021 (the base year 2020, not planned, lacks 10)."""
    assert main(["plan", str(temporary / "temp.toml"), "-o", str(tmp_path / "plans")]) == 0
    plan_toml_path = next((tmp_path / "plans").rglob("plan.toml"))
    assert main(["run", str(plan_toml_path), "-o", str(tmp_path / "runs"), "--no-maps",
                 "--no-criticality"]) == 0
    capsys.readouterr()
    folder = next(p.parent for p in (tmp_path / "runs").rglob("capacity.csv"))
    cap = pd.read_csv(folder / "capacity.csv")
    temp = cap[cap["school_id"] != "S1"]
    assert sorted(temp["year"]) == [2021, 2022, 2023, 2024]
    assert (temp["places"] == 10).all()
    s = pd.read_csv(folder / "summary.csv")
    s = s[s["mode"] == "optimal"].set_index("year")
    assert s.loc[2020, "shortfall"] == 10
    assert (s.loc[2021:, "shortfall"] == 0).all()


def test_an_unserved_pupil_is_never_cheaper_than_the_largest_school(tmp_path):
    """One pupil for one planned year (0.5 per sex at base age 10: age 11 in 2021), one site
    allowing only the largest standard size (24 classes × 10 = 240 places, CNY 24 million).
    With the default penalty of a compulsory stage the school is built: leaving the pupil
    without a place must cost more than the largest school."""
    write_hand_model(tmp_path / "model", {"A": (0, 0)}, {"A": {10: 0.5}},
                     sites=[site("s", 0, 0, "A", classes="24")],
                     extra_toml=plan_toml(build=0, sizes="[6, 24]"))
    plan = make_plan(write_scenario(tmp_path / "one.toml", "model", 2021), time_limit_s=60)
    s = summary(plan)
    assert s["demand_pupil_years"] == 1
    assert s["unserved_after"] == 0 and s["new_schools"] == 1
    assert list(plan.plan["places"]) == [240]


@settings(max_examples=200, deadline=None)
@given(class_size=st.integers(1, 60), cost=st.floats(0, 1e6),
       sizes=st.lists(st.integers(1, 60), min_size=1, max_size=4),
       stage=st.sampled_from(["primary", "junior", "kindergarten"]))
def test_compulsory_default_penalty_exceeds_the_largest_schools_capital(class_size, cost,
                                                                         sizes, stage):
    """docs/plan.md: for a compulsory stage, one pupil-year without a place costs more than
    building the largest standard school (capital = classes × class size × cost per place),
    so the plan never prefers leaving a pupil out to any school."""
    params = read_params(None, {stage: (class_size, cost, True)}, 2020,
                         {"stages": {stage: {"standard_classes": sizes}}})
    sp = params.stages[stage]
    capital = max(sizes) * class_size * cost
    assert sp.unserved_penalty_per_pupil_year > capital or \
        (capital == 0 and sp.unserved_penalty_per_pupil_year > 0)
