"""A model with only the required files (zones, population, fertility, mortality) and models
missing schools or projects: docs/model-format.md says the other tables are optional,
"absent = empty". Each is validated, projected and run end to end through the CLI."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

import capacity
from capacity import schema
from capacity.cli import main
from capacity.model import load_model
from hand_model import write_scenario
from tiny_model import write_tiny_model

OPTIONAL = ["migration", "housing", "units", "schools", "projects"]
HORIZON = 2025


def strip(folder: Path, tables: list[str]) -> None:
    """Remove ``tables`` from a model folder: their files and their [files] entries."""
    toml = folder / "model.toml"
    text = toml.read_text(encoding="utf-8")
    for t in tables:
        text = re.sub(rf"^{t} = .*\n", "", text, flags=re.M)
        (folder / f"{t}.csv").unlink()
    toml.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """Tiny models: ``full``, ``required`` (no optional table), ``noprojects`` (schools
    only) and ``noschools`` (one new-school project only), each with a scenario file."""
    root = tmp_path_factory.mktemp("required")
    for name in ("full", "required", "noprojects", "noschools"):
        write_tiny_model(root / name)
        write_scenario(root / f"{name}.toml", name, HORIZON)
    strip(root / "required", OPTIONAL)
    strip(root / "noprojects", ["projects"])
    strip(root / "noschools", ["schools"])
    p = pd.read_csv(root / "noschools" / "projects.csv")
    p[p["kind"] == "new"].to_csv(root / "noschools" / "projects.csv", index=False)
    return root


def expected_demand(population: pd.DataFrame, ages: tuple[int, int], enrolment: float
                    ) -> pd.Series:
    """Whole pupils by zone and year, by hand (docs/allocation.md, Demand): population of
    the stage's ages × enrolment, the zone total rounded half up."""
    kids = population[population["age"].between(*ages)]
    pupils = kids.groupby(["zone_id", "year"])["population"].sum() * enrolment
    return np.floor(pupils + 0.5 + 1e-9).astype(int)


def test_absent_tables_have_their_schema_columns(root):
    """Every absent optional table is empty with the columns and dtypes a read file has."""
    empty, full = load_model(root / "required"), load_model(root / "full")
    assert empty.units is None          # units: absent means the default grid
    for name in ("migration", "housing", "schools", "projects"):
        frame, table = getattr(empty, name), schema.table(name)
        assert len(frame) == 0, name
        plain = [c.name for c in table.cols if not c.group]
        firsts = list(table.one_of[:1]) + list(table.any_of[:1])
        assert set(plain + firsts) <= set(frame.columns), name
        others = set(table.one_of[1:]) | set(table.any_of[1:])
        assert not others & set(frame.columns), name   # another any_of column picks a method
        read = getattr(full, name)
        for col in set(frame.columns) & set(read.columns):
            assert frame[col].dtype == read[col].dtype, (name, col)


def test_required_only_validates_projects_and_runs(root, tmp_path, capsys):
    """No schools, no projects: every pupil of every zone, stage and year is short and out
    of reach, in both modes; the workbook, maps and report are written."""
    model = root / "required"
    assert main(["validate", str(model)]) == 0
    assert main(["validate", str(root / "required.toml")]) == 0
    assert main(["project", str(root / "required.toml"), "-o", str(tmp_path / "p")]) == 0
    pop = pd.read_csv(tmp_path / "p" / "required" / "population.csv")
    assert sorted(pop["year"].unique()) == list(range(2020, HORIZON + 1))
    capsys.readouterr()

    assert main(["run", str(root / "required.toml"), "-o", str(tmp_path / "o")]) == 0
    assert "Traceback" not in capsys.readouterr().err
    out = tmp_path / "o" / "required"
    short = pd.read_csv(out / "shortfall.csv", dtype={"zone_id": str})
    stages = {"kindergarten": ((3, 5), 0.9), "primary": ((6, 11), 1.0)}
    years = range(2020, HORIZON + 1)
    assert len(short) == 3 * len(stages) * len(years) * 2   # zones × stages × years × modes
    pop = pd.read_csv(out / "population.csv", dtype={"zone_id": str})
    for stage, (ages, enrolment) in stages.items():
        want = expected_demand(pop, ages, enrolment)
        for mode in ("catchment", "optimal"):
            got = short[(short["stage"] == stage) & (short["mode"] == mode)] \
                .set_index(["zone_id", "year"]).sort_index()
            assert (got["demand"] == want.loc[got.index]).all(), (stage, mode)
            assert (got["shortfall"] == got["demand"]).all()
            assert (got["out_of_reach"] == got["demand"]).all()
            assert (got["served"] == 0).all()
    summary = pd.read_csv(out / "summary.csv")
    assert (summary["places"] == 0).all() and (summary["served"] == 0).all()
    assert (summary["shortfall"] == summary["demand"]).all()
    assert len(pd.read_csv(out / "capacity.csv")) == 0
    assert len(pd.read_csv(out / "criticality.csv")) == 0
    alloc = pd.read_csv(out / "allocation.csv")
    assert alloc["school_id"].isna().all()
    for f in ("budget.xlsx", "report.html", "maps/catchments.html", "manifest.json"):
        assert (out / f).is_file(), f
    assert list((out / "maps").glob("*.png"))
    wb = openpyxl.load_workbook(out / "budget.xlsx")
    assert wb.sheetnames


def test_required_only_python_api(root):
    """The Python API too: a run without optional tables has every table, none of them
    failing on a missing column."""
    result = capacity.run(root / "required.toml")
    assert (result.summary["shortfall"] == result.summary["demand"]).all()
    assert len(result.capacity) == 0 and len(result.projects) == 0


def test_absent_projects_equals_every_project_dropped(root, tmp_path):
    """Schools but no projects.csv give the same shortfall as the full model with every
    project dropped by the scenario (a second way to have no projects)."""
    dropped = write_scenario(root / "full-dropped.toml", "full", HORIZON,
                             '[projects]\ndrop = ["newp", "expp"]\n')
    assert main(["run", str(root / "noprojects.toml"), "-o", str(tmp_path / "a"),
                 "--no-maps"]) == 0
    assert main(["run", str(dropped), "-o", str(tmp_path / "b"), "--no-maps"]) == 0
    for table in ("shortfall", "summary", "capacity", "schools"):
        a = pd.read_csv(tmp_path / "a" / "noprojects" / f"{table}.csv")
        b = pd.read_csv(tmp_path / "b" / "full-dropped" / f"{table}.csv")
        pd.testing.assert_frame_equal(a, b, obj=table)
    assert len(pd.read_csv(tmp_path / "a" / "noprojects" / "criticality.csv")) == 0
    cap = pd.read_csv(tmp_path / "a" / "noprojects" / "capacity.csv")
    assert set(cap["school_id"]) == {"k1", "p1", "p2"}   # the schools, every year
    assert len(cap) == 3 * len(range(2020, HORIZON + 1))


def test_projects_without_schools(root, tmp_path):
    """Only a new primary school (12 classes × 45 = 540 places from 2023): kindergarten is
    short for every pupil; primary until 2023, then at most 540 are served."""
    assert main(["validate", str(root / "noschools")]) == 0
    assert main(["run", str(root / "noschools.toml"), "-o", str(tmp_path / "o")]) == 0
    out = tmp_path / "o" / "noschools"
    cap = pd.read_csv(out / "capacity.csv")
    assert set(cap["school_id"]) == {"newp"}
    assert sorted(cap["year"]) == list(range(2023, HORIZON + 1))
    assert (cap["places"] == 540).all()
    s = pd.read_csv(out / "summary.csv")
    kg, pr = s[s["stage"] == "kindergarten"], s[s["stage"] == "primary"]
    assert (kg["shortfall"] == kg["demand"]).all() and (kg["places"] == 0).all()
    before, after = pr[pr["year"] < 2023], pr[pr["year"] >= 2023]
    assert (before["shortfall"] == before["demand"]).all()
    assert (after["places"] == 540).all()
    assert (after["served"] > 0).all() and (after["served"] <= 540).all()
    assert (after["served"] + after["shortfall"] == after["demand"]).all()
    crit = pd.read_csv(out / "criticality.csv")
    assert list(crit["project_id"]) == ["newp"]
    assert (out / "budget.xlsx").is_file() and (out / "report.html").is_file()


def test_required_only_plans_and_draws_an_ensemble(root, tmp_path, capsys):
    """`capacity plan` (generated candidates) and `capacity ensemble` need no optional
    table either."""
    assert main(["plan", str(root / "required.toml"), "-o", str(tmp_path / "plan"),
                 "--stage", "primary", "--time-limit", "30"]) == 0
    summary = pd.read_csv(next((tmp_path / "plan").rglob("plan_summary.csv")))
    row = summary.set_index("stage").loc["primary"]
    assert row["unserved_after"] < row["unserved_before"] == row["demand_pupil_years"]
    assert main(["ensemble", str(root / "required.toml"), "--draws", "2",
                 "-o", str(tmp_path / "ens")]) == 0
    assert "Traceback" not in capsys.readouterr().err


def test_expansions_only_without_coordinate_columns(root, tmp_path, capsys):
    """projects.csv of expansions only may leave out lon/lat (they are for new sites): the
    model runs and school p1 gains the wing's 4 classes × 45 = 180 places from 2022."""
    model = root / "expansions"
    write_tiny_model(model)
    p = pd.read_csv(model / "projects.csv")
    p[p["kind"] == "expansion"].drop(columns=["lon", "lat"]) \
        .to_csv(model / "projects.csv", index=False)
    scen = write_scenario(root / "expansions.toml", "expansions", HORIZON)
    assert main(["validate", str(scen)]) == 0
    assert main(["run", str(scen), "-o", str(tmp_path), "--no-maps"]) == 0
    capsys.readouterr()
    cap = pd.read_csv(tmp_path / "expansions" / "capacity.csv")
    p1 = cap[cap["school_id"] == "p1"].set_index("year")["places"]
    assert p1.to_dict() == {y: 300 + 180 * (y >= 2022) for y in range(2020, HORIZON + 1)}
