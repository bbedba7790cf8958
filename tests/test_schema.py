"""The input schema declared once (capacity/schema/): docs generated from it, loader and specs
built from it, checks that only check, and the rules it fixed (inclusive, compulsory)."""
from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pandas as pd
import pytest

import capacity
from capacity import schema
from capacity.cli import main
from capacity.model import Stage, load_model
from capacity.model.validate import CHECKS, POINT_TOL, YEAR_SPAN, run_checks
from capacity.scenario import Scenario, load_scenario
from capacity.schema.docs import render, stale
from tiny_model import to_lonlat, write_tiny_model

ROOT = Path(__file__).resolve().parents[1]


def test_committed_docs_match_the_schema():
    assert stale(ROOT) == [], "run: python tools/make_docs.py"


def test_every_doc_block_names_a_schema():
    for rel in ("docs/model-format.md", "docs/scenarios.md"):
        text = (ROOT / rel).read_text(encoding="utf-8")
        assert text.count("<!-- schema:") == text.count("<!-- /schema -->") > 0
        render(text)  # raises for an unknown schema name


def test_schema_files_are_consistent():
    tables = schema.file_keys()
    csvs = {p.stem for p in (ROOT / "capacity" / "schema").glob("*.csv")}
    assert csvs == set(tables) | {"model_toml", "scenario_toml", "plausible_ranges"}
    for name in tables:
        t = schema.table(name)
        for c in t.cols:
            assert c.kind in ("str", "int", "float", "bool", "choice", "geometry"), c
            assert (c.kind == "choice") == bool(c.choices), c
            assert not (c.group and c.required), c          # a group replaces "required"
            assert not (c.key and (c.allow_empty or not c.required)), c
            assert c.description, c
            if c.default is not None:
                assert c.allow_empty and not c.required, c
    for doc in ("model", "scenario"):
        for path, k in schema.keys(doc).items():
            assert k.kind in ("str", "int", "float", "bool", "choice", "list", "table",
                              "rows", "int|table"), path
            parent = path.rsplit(".", 1)[0] if "." in path else None
            assert parent is None or parent in schema.keys(doc), path
    assert schema.keys("scenario")["projects.add"].same_as == "projects.csv"


def test_dataclass_defaults_are_the_schema_defaults():
    keys = schema.keys("scenario")
    fields = {f.name: f.default for f in dataclasses.fields(Scenario)}
    for field, key in [("migration_scale", "migration.scale"), ("housing_delay",
                       "housing.delay_years"), ("housing_scale", "housing.scale"),
                       ("project_delay_all", "projects.delay_years"), ("mode", "allocation.mode"),
                       ("zone_radius_scale", "allocation.zone_radius_scale"),
                       ("lang", "report.lang")]:
        assert fields[field] == keys[key].default, field
    stage = {f.name: f.default for f in dataclasses.fields(Stage)}
    assert stage["cost_per_place"] == schema.keys("model")["stages.*.cost_per_place"].default


def test_numbers_in_the_docs_are_the_check_constants():
    text = (ROOT / "docs" / "model-format.md").read_text(encoding="utf-8")
    assert f"within {POINT_TOL / 1000:g} km" in text
    assert f"within {YEAR_SPAN} years" in text


def _private_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            out += [f"{node.module}.{a.name}" for a in node.names
                    if a.name.startswith("_") and not a.name.startswith("__")]
    return out


# Known imports of private names in modules outside the schema change; their owners remove
# them (criticality.py: pipeline._allocate_stage; report/compare.py: budget._in_mode, _sort).
KNOWN_PRIVATE_IMPORTS = {"capacity/criticality.py", "capacity/report/compare.py"}


def test_no_module_imports_private_names():
    found = {p.relative_to(ROOT).as_posix(): _private_imports(p)
             for p in (ROOT / "capacity").rglob("*.py")}
    assert {k: v for k, v in found.items() if v and k not in KNOWN_PRIVATE_IMPORTS} == {}


def test_no_module_restates_the_schema():
    names = ("SCHEMAS", "STAGE_KEYS", "TARGET_KEYS", "MODEL_SPEC", "SCENARIO_SPEC",
             "PROJECT_COLUMNS", "REPURPOSED_KEYS", "CROSS_KEYS", "FILE_KEYS", "REQUIRED_FILES",
             "MORTALITY_KINDS", "DEFAULT_STAGE_FIELDS")
    for p in (ROOT / "capacity").rglob("*.py"):
        text = p.read_text(encoding="utf-8")
        assert not [n for n in names if n in text], p


@pytest.fixture()
def model_dir(tmp_path: Path) -> Path:
    return write_tiny_model(tmp_path / "m")


def test_checks_only_check(model_dir):
    m = load_model(model_dir)
    before = {k: getattr(m, k).copy() for k in ("population", "housing", "units", "schools",
                                                 "projects")}
    warnings = list(m.warnings)
    errors, found = run_checks(m)
    assert errors == [] and found == []
    for k, frame in before.items():
        pd.testing.assert_frame_equal(getattr(m, k), frame)
    assert m.warnings == warnings
    assert len({c.__name__ for c in CHECKS}) == len(CHECKS)


def test_places_mismatch_is_a_warning_not_an_error(model_dir):
    f = pd.read_csv(model_dir / "schools.csv", dtype=str, keep_default_na=False)
    f["classes"] = ["5", "", ""]   # 5 × 30 = 150 ≠ 120 places
    f.to_csv(model_dir / "schools.csv", index=False)
    m = load_model(model_dir)
    assert m.schools.loc[2, "places"] == 120
    assert m.warnings == ["schools.csv:2:places: places 120 differ from classes × class size "
                          "(5 × 30); places used"]


def _kindergarten_projects(folder: Path, inclusive: list[str]) -> None:
    """Three new kindergartens (zones b, c, c) with the given inclusive cells."""
    x, y = to_lonlat([476000.0, 479000.0, 481000.0], [4417000.0, 4417000.0, 4418000.0])
    p = pd.read_csv(folder / "projects.csv", dtype=str, keep_default_na=False)
    p["inclusive"] = ""
    kg = pd.DataFrame({"project_id": ["kt", "kf", "ke"], "name": ["KG t", "KG f", "KG e"],
                       "kind": "new", "stage": "kindergarten", "school_id": "",
                       "lon": [f"{v:.7f}" for v in x], "lat": [f"{v:.7f}" for v in y],
                       "classes": "2", "open_year": "2021", "cost": "", "inclusive": inclusive})
    pd.concat([p, kg], ignore_index=True).to_csv(folder / "projects.csv", index=False)


def _coverage_from_allocation(result, inclusive: set[str]) -> pd.Series:
    a = result.allocation
    a = a[(a["stage"] == "kindergarten") & (a["mode"] == result.mode) & a["school_id"].notna()]
    at = a[a["school_id"].isin(inclusive)].groupby("year")["pupils"].sum()
    return (at.reindex(a["year"].unique(), fill_value=0) / a.groupby("year")["pupils"].sum())


def test_projects_inclusive_true_false_empty(model_dir, tmp_path):
    _kindergarten_projects(model_dir, ["true", "false", ""])
    m = load_model(model_dir)
    inc = m.projects.set_index("project_id")["inclusive"]
    assert str(inc.dtype) == "boolean"
    assert inc.loc[["kt", "kf"]].tolist() == [True, False] and pd.isna(inc["ke"])
    (tmp_path / "s.toml").write_text(
        'name = "s"\nmodel = "m"\nhorizon = 2024\n'
        '[[projects.add]]\nproject_id = "ka"\nname = "KG added"\nkind = "new"\n'
        'stage = "kindergarten"\nlon = 116.7399\nlat = 39.8853\nplaces = 60\n'
        'open_year = 2021\ninclusive = false\n')
    result = capacity.run(tmp_path / "s.toml", criticality=False)
    a = result.allocation
    used = a[a["stage"] == "kindergarten"].groupby("school_id")["pupils"].sum()
    assert used.get("kf", 0) > 0 and used.get("ke", 0) > 0 and used.get("ka", 0) > 0
    ind = result.indicators.query("indicator == 'inclusive_kindergarten_coverage'")
    # true and empty are inclusive (k1 is inclusive in schools.csv); false ones are not
    expected = _coverage_from_allocation(result, {"k1", "kt", "ke"})
    got = ind.set_index("year")["value"]
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_names=False)


def test_inclusive_on_a_primary_project_is_an_error(model_dir, capsys):
    p = pd.read_csv(model_dir / "projects.csv", dtype=str, keep_default_na=False)
    p["inclusive"] = ["true", ""]
    p.to_csv(model_dir / "projects.csv", index=False)
    assert main(["validate", str(model_dir)]) == 2
    err = capsys.readouterr().err
    assert "projects.csv:2:inclusive: inclusive is set for a primary project" in err


def test_projects_inclusive_not_bool(model_dir, capsys):
    p = pd.read_csv(model_dir / "projects.csv", dtype=str, keep_default_na=False)
    p["inclusive"] = ["maybe", ""]
    p.to_csv(model_dir / "projects.csv", index=False)
    assert main(["validate", str(model_dir)]) == 2
    assert "projects.csv:2:inclusive: 'maybe' is not true/false" in capsys.readouterr().err


def test_compulsory_defaults_and_override(model_dir):
    m = load_model(model_dir)
    assert m.stages["primary"].compulsory is True
    assert m.stages["kindergarten"].compulsory is False
    assert m.stages["primary"].as_dict()["compulsory"] is True
    toml = model_dir / "model.toml"
    toml.write_text(toml.read_text().replace("radius_m = 1500\n",
                                             "radius_m = 1500\ncompulsory = true\n"))
    assert load_model(model_dir).stages["kindergarten"].compulsory is True


def test_compulsory_must_be_bool(model_dir, capsys):
    toml = model_dir / "model.toml"
    toml.write_text(toml.read_text().replace("radius_m = 1500\n",
                                             'radius_m = 1500\ncompulsory = "yes"\n'))
    assert main(["validate", str(model_dir)]) == 2
    assert ":stages.kindergarten.compulsory:" in capsys.readouterr().err


def test_grid_m_must_be_positive(model_dir, capsys):
    toml = model_dir / "model.toml"
    toml.write_text(toml.read_text().replace("[files]", "[units]\ngrid_m = 0\n\n[files]"))
    assert main(["validate", str(model_dir)]) == 2
    assert "model.toml:" in (err := capsys.readouterr().err) and ":units.grid_m:" in err


def test_housing_defaults_filled_by_the_loader(model_dir):
    h = pd.read_csv(model_dir / "housing.csv", dtype=str, keep_default_na=False)
    h.drop(columns=["ramp_years"]).assign(persons_per_unit="").to_csv(
        model_dir / "housing.csv", index=False)
    m = load_model(model_dir)
    col = schema.table("housing")
    assert m.housing["persons_per_unit"].tolist() == [col.col("persons_per_unit").default]
    assert m.housing["ramp_years"].tolist() == [col.col("ramp_years").default]


def test_model_without_schools_or_projects_loads(model_dir):
    toml = model_dir / "model.toml"
    text = toml.read_text().replace('schools = "schools.csv"\n', "")
    toml.write_text(text.replace('projects = "projects.csv"\n', ""))
    m = load_model(model_dir)
    assert len(m.schools) == 0 and {"x", "y", "places"} <= set(m.schools.columns)
    assert {"x", "y", "places"} <= set(m.projects.columns)


SCENARIO_ROWS = [
    ('[[repurposed]]\nsite_id = "far"\nstage = "primary"\nlon = 118.5\nlat = 39.88\n'
     'places = 100\nfrom_year = 2022\n', "s.toml:7:repurposed[0].lon:", "outside every zone"),
    ('[[repurposed]]\nsite_id = "v"\nstage = "primary"\nlon = 116.7\nlat = 39.88\n'
     'from_year = 2022\n', "s.toml:4:repurposed[0].places:", "has no 'places'"),
    ('[[projects.add]]\nproject_id = "n"\nname = "N"\nkind = "new"\nstage = "primary"\n'
     'lon = 118.5\nlat = 39.88\nplaces = 100\nopen_year = 2022\n',
     "s.toml:9:projects.add[0].lon:", "outside every zone"),
    ('[[projects.add]]\nproject_id = "n"\nname = "N"\nkind = "new"\nstage = "primary"\n'
     'lon = 116.7\nlat = 39.88\nopen_year = 2022\n', "s.toml:4:projects.add[0]:",
     "at least one of places, classes"),
    ('[[projects.add]]\nproject_id = "n"\nname = "N"\nkind = "new"\nstage = "primary"\n'
     'lon = 116.7\nlat = 39.88\nplaces = 1\nopen_year = 2022\ninclusive = "no"\n',
     "s.toml:13:projects.add[0].inclusive:", "true or false"),
    ('[[cross_boundary]]\nzone_id = "a"\npupils = 10\n', "s.toml:4:cross_boundary[0].stage:",
     "has no 'stage'"),
]


@pytest.mark.parametrize("body,where,what", SCENARIO_ROWS)
def test_scenario_rows_are_checked(model_dir, capsys, body, where, what):
    path = model_dir.parent / "s.toml"
    path.write_text(f'name = "x"\nmodel = "m"\nhorizon = 2030\n{body}', encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert where in err and what in err, err


def test_scenario_defaults_come_from_the_schema(model_dir):
    path = model_dir.parent / "s.toml"
    path.write_text('name = "x"\nmodel = "m"\nhorizon = 2030\n', encoding="utf-8")
    s = load_scenario(path)
    assert (s.mode, s.lang, s.migration_scale, s.zone_radius_scale) == ("optimal", None, 1.0,
                                                                         True)
