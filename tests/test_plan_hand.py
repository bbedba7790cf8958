"""`capacity plan` on instances small enough to solve by hand (tests/hand_model.py: one unit
per 1 km zone, a population that only ages, one compulsory stage ``primary``).

Written against the plan's behaviour (plan.csv rows, plan_summary.csv, plan_unserved.csv,
plan.toml run again), not the MILP's layout: the expected plans are worked out in each
test's docstring from docs/plan.md — a new school opens at the earliest in start_year +
lead_years (or the site's own earliest year), its capital spread over the
construction_years before; transport is offered to units with no *existing* school open that
year within walking distance (a candidate site does not count); temporary places at a
school in at most temporary_max_years years; a compulsory stage places 99 % of its pupils
wherever the options reach them, and no new school is built that its pupils would leave
below the minimum use. Schools open full here (``opening = "full"``) unless a test says
otherwise, so places are classes × 10 from the opening year.
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
start_year = 2021
min_use = {min_use}

[plan.stages.primary]
standard_classes = {sizes}
lead_years = {lead}
construction_years = {build}
opening = "full"
temporary_share = {share}
temporary_max_years = {years}
expansion_max_share = 0.0
{extra}"""


def plan_toml(lead: int = 2, build: int = 1, sizes: str = "[6]", share: float = 0.0,
              years: int = 5, min_use: float = 0.6, extra: str = "") -> str:
    return PLAN.format(lead=lead, build=build, sizes=sizes, share=share, years=years,
                       min_use=min_use, extra=extra)


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
      although S1 is 1000 m away: 50 unserved a year (no temporary places, share 0; SD's
      one class allows no expansion).
    - E (0, −1000): candidate site cand-E (6 classes, 60 places) within walking distance,
      but no *existing* school → transport to S1 from 2021. cand-E could open in 2023
      (start 2021 + lead 2) for CNY 6 M (paid 2022), worth 6 M × (1 − 2/50) at the horizon:
      discounted at 6 %, 6 M/1.06 − 5.76 M/1.06⁴ ≈ CNY 1.10 M, more than transporting its
      60 pupils in 2023–2024 (60 × 6,000 × (1/1.06² + 1/1.06³) ≈ CNY 0.62 M): not built.
    Horizon 2024 (4 planned years)."""
    root = tmp_path_factory.mktemp("reach")
    zones = {"A": (0, 0), "B": (1000, 0), "D": (-1000, 0), "E": (0, -1000)}
    write_hand_model(root / "model", zones, {z: FULL for z in zones},
                     schools=[school("S1", 0, 0, 1000), school("SD", -1000, 0, 10)],
                     sites=[site("cand-E", 0, -1000, "E", max_classes=6)],
                     extra_toml=plan_toml())
    write_scenario(root / "reach.toml", "model", 2024)
    return root


def test_transport_for_units_without_an_existing_school_in_walking_distance(reach):
    plan = make_plan(reach / "reach.toml", stages=["primary"], time_limit_s=60)
    p = plan.plan
    transport = p[p["kind"] == "transport"].set_index("zone_id")
    assert sorted(transport.index) == ["B", "E"]
    for zone in ("B", "E"):
        row = transport.loc[zone]
        assert row["pupil_years"] == pytest.approx(60 * 4)
        assert (row["first_year"], row["last_year"]) == (2021, 2024)
        assert row["cost_cny"] == pytest.approx(60 * 4 * 6000.0)
    assert not (p["kind"] == "new").any()
    s = summary(plan)
    assert s["unserved_after"] == pytest.approx(50 * 4)          # D
    assert s["unserved_before"] == 60 * 4 + 50 * 4 + 60 * 4     # B, D, E in the run itself
    assert s["transport_pupil_years"] == pytest.approx(480)
    assert list(plan.unserved["unserved"]) == [50] * 4
    # plan.toml transports the units of B and E in 2021–2024, at the transport radius
    tr = plan.transport_units
    assert sorted(tr["unit_id"]) == ["u-B", "u-E"]
    assert set(zip(tr["from_year"], tr["to_year"])) == {(2021, 2024)}


@pytest.fixture(scope="module")
def lead(tmp_path_factory) -> Path:
    """One zone A, 60 pupils a year, no school; site s-A there (6 classes). Lead 3 years,
    construction 2: the school opens in 2021 + 3 = 2024 (the service target wants it as
    early as it can), CNY 6 M spent as 3 M in 2022 and 3 M in 2023; 60 unserved in each of
    2021–2023. Horizon 2025."""
    root = tmp_path_factory.mktemp("lead")
    write_hand_model(root / "model", {"A": (0, 0)}, {"A": FULL},
                     sites=[site("s-A", 0, 0, "A", max_classes=6)],
                     extra_toml=plan_toml(lead=3, build=2))
    write_scenario(root / "lead.toml", "model", 2025)
    return root


def test_a_school_opens_after_its_lead_time_with_capital_phased_before(lead):
    plan = make_plan(lead / "lead.toml", stages=["primary"], time_limit_s=60)
    new = plan.plan[plan.plan["kind"] == "new"]
    assert list(new["id"]) == ["s-A"]
    assert int(new["open_year"].iloc[0]) == 2021 + 3
    assert int(new["places"].iloc[0]) == 60
    assert new["cost_cny"].iloc[0] == pytest.approx(60 * 100000.0)
    by_year = plan.by_year[plan.by_year["kind"] == "new"].set_index("year")["cost_cny"]
    assert by_year.to_dict() == pytest.approx({2022: 3e6, 2023: 3e6})
    assert list(plan.unserved["unserved"]) == [60, 60, 60, 0, 0]
    assert summary(plan)["unserved_after"] == pytest.approx(60 * 3)


@pytest.mark.parametrize("earliest", [2022, 2024])
def test_a_sites_own_earliest_year_is_kept(tmp_path, earliest):
    """One zone, no school, one site with its own earliest_open_year (lead time 1 year:
    2022 at the earliest otherwise): the school opens that year and the pupils of the
    planned years before it (60 a year from 2021) stay unserved."""
    write_hand_model(tmp_path / "model", {"A": (0, 0)}, {"A": FULL},
                     sites=[site("s", 0, 0, "A", earliest_open_year=earliest)],
                     extra_toml=plan_toml(lead=1, build=1))
    plan = make_plan(write_scenario(tmp_path / "own.toml", "model", 2024), time_limit_s=60)
    new = plan.plan[plan.plan["kind"] == "new"]
    assert list(new["open_year"]) == [earliest]
    assert summary(plan)["unserved_after"] == pytest.approx(60 * (earliest - 2021))


def test_a_generated_site_opens_after_the_lead_time(tmp_path):
    """Without sites.csv the candidate is generated at the unserved unit and opens at
    start_year + lead_years = 2021 + 2."""
    write_hand_model(tmp_path / "model", {"A": (0, 0)}, {"A": FULL},
                     extra_toml=plan_toml(lead=2))
    plan = make_plan(write_scenario(tmp_path / "gen.toml", "model", 2025), time_limit_s=60)
    new = plan.plan[plan.plan["kind"] == "new"]
    assert list(new["open_year"]) == [2023] and bool(new["generated"].iloc[0])
    assert summary(plan)["unserved_after"] == pytest.approx(60 * 2)


def test_a_new_school_fills_grade_by_grade(tmp_path):
    """The same zone with opening = grade_by_grade (6 grades): the 60-place school opening
    in 2023 has floor(60 × k/6) = 10, 20, 30 places in its first three years, so 50, 40
    and 30 pupils stay unserved in 2023–2025 (60 in 2021 and 2022)."""
    write_hand_model(tmp_path / "model", {"A": (0, 0)}, {"A": FULL},
                     sites=[site("s-A", 0, 0, "A", max_classes=6)],
                     extra_toml=plan_toml(lead=2).replace('opening = "full"',
                                                          'opening = "grade_by_grade"'))
    plan = make_plan(write_scenario(tmp_path / "gbg.toml", "model", 2025), time_limit_s=60)
    assert list(plan.plan.loc[plan.plan["kind"] == "new", "open_year"]) == [2023]
    assert list(plan.unserved["unserved"]) == [60, 60, 50, 40, 30]
    assert plan.use[["year", "pupils", "places"]].values.tolist() == \
        [[2023, 10, 10], [2024, 20, 20], [2025, 30, 30]]


@pytest.fixture(scope="module")
def temporary(tmp_path_factory) -> Path:
    """One zone, one school of 50 places; 5 per sex at base ages 2..11, so 60 pupils in
    2021–2024 and 50 in 2025 (the base-age-2 cohort is the youngest). No school can open
    before the horizon (lead 10 years), no expansion (share 0). Temporary places, at most
    20 % × 50 = 10 a year in at most 5 years: 10 places in each of 2021–2024 — 40
    place-years, CNY 40 × 15,000 — and none in 2025."""
    root = tmp_path_factory.mktemp("temporary")
    ages = {a: 5 for a in range(2, 12)}
    assert [pupils(ages, y) for y in range(2021, 2026)] == [60, 60, 60, 60, 50]
    write_hand_model(root / "model", {"A": (0, 0)}, {"A": ages},
                     schools=[school("S1", 0, 0, 50)],
                     extra_toml=plan_toml(lead=10, share=0.2, years=5))
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


def test_temporary_places_in_at_most_temporary_max_years(tmp_path):
    """The same school with temporary_max_years = 3: temporary places in 3 of the 4 short
    years. A pupil-year without a place costs CNY 25,000 (0.25 × cost per place) against
    15,000 for a temporary place, both discounted alike, so the earliest years (weighed
    most) get them: 10 places in 2021–2023, 10 pupils unserved in 2024."""
    write_hand_model(tmp_path / "model", {"A": (0, 0)}, {"A": {a: 5 for a in range(2, 12)}},
                     schools=[school("S1", 0, 0, 50)],
                     extra_toml=plan_toml(lead=10, share=0.2, years=3))
    plan = make_plan(write_scenario(tmp_path / "t3.toml", "model", 2025), time_limit_s=60)
    s = summary(plan)
    assert s["temporary_place_years"] == 30
    temp = plan.plan[plan.plan["kind"] == "temporary"]
    assert temp[["places", "first_year", "last_year"]].values.tolist() == [[10, 2021, 2023]]
    assert s["unserved_after"] == pytest.approx(10)
    assert list(plan.unserved["unserved"]) == [0, 0, 0, 10, 0]


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


@pytest.mark.parametrize("min_use, built", [(0.6, False), (0.0, True)])
def test_no_school_below_its_minimum_use(tmp_path, min_use, built):
    """One pupil (0.5 per sex at base age 9: 10 in 2021, 11 in 2022, the horizon), one site
    allowing only the largest standard size (24 classes × 10 = 240 places), opening in 2022
    at the earliest (lead 1 year). With the default minimum use (60 % of its places in its
    first years) the school is not built, the service target notwithstanding: 2 pupil-years
    unserved. With min_use = 0 the compulsory stage's service target builds it for 2022."""
    write_hand_model(tmp_path / "model", {"A": (0, 0)}, {"A": {9: 0.5}},
                     sites=[site("s", 0, 0, "A", classes="24")],
                     extra_toml=plan_toml(lead=1, build=1, sizes="[6, 24]", min_use=min_use))
    plan = make_plan(write_scenario(tmp_path / "one.toml", "model", 2022), time_limit_s=60)
    s = summary(plan)
    assert s["demand_pupil_years"] == 2          # 2021 and 2022
    assert s["new_schools"] == int(built)
    assert s["unserved_after"] == (1 if built else 2)
    if built:
        assert list(plan.plan["places"]) == [240]


def test_max_cost_per_pupil_year_without_a_service_level(tmp_path):
    """Zone B alone (60 pupils, transport to S1 at CNY 6,000 a pupil-year): with
    max_cost_per_pupil_year = 1,000 and service_level = 0 nobody is transported (a pupil
    without a place costs less); with the compulsory default (99 %) every pupil is
    transported (the target asks ≥ 59.4 a year, and the plan then places every pupil its
    transport reaches)."""
    zones = {"A": (0, 0), "B": (1000, 0)}
    for level in ("0.0", None):
        extra = "max_cost_per_pupil_year = 1000\n" + \
            (f"service_level = {level}\n" if level else "")
        root = tmp_path / str(level)
        write_hand_model(root / "model", zones, {"B": FULL},
                         schools=[school("S1", 0, 0, 1000)],
                         extra_toml=plan_toml(extra=extra))
        plan = make_plan(write_scenario(root / "b.toml", "model", 2024), time_limit_s=60)
        s = summary(plan)
        if level:
            assert s["transport_pupil_years"] == 0 and s["unserved_after"] == 240
        else:
            assert s["transport_pupil_years"] == 240 and s["unserved_after"] == 0


@settings(max_examples=200, deadline=None)
@given(class_size=st.integers(1, 60), cost=st.floats(0, 1e6),
       sizes=st.lists(st.integers(1, 60), min_size=1, max_size=4),
       compulsory=st.booleans(),
       stage=st.sampled_from(["primary", "junior", "kindergarten"]))
def test_service_defaults(class_size, cost, sizes, compulsory, stage):
    """docs/plan.md: a compulsory stage places at least 99 % of its pupils by default, other
    stages have no service level; a pupil-year without a place costs 0.25 × cost per place
    unless the model says otherwise."""
    params = read_params(None, {stage: (class_size, cost, compulsory)}, 2020,
                         {"stages": {stage: {"standard_classes": sizes}}})
    sp = params.stages[stage]
    assert sp.service_level == (0.99 if compulsory else None)
    assert sp.max_cost_per_pupil_year == pytest.approx(0.25 * cost)
    assert sp.standard_classes == tuple(sizes)
    assert params.start_year == 2021                 # the year after the base year
