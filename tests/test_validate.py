"""`capacity validate`: every bad input gets exit code 2 and a message naming file, row, column."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from capacity.cli import main
from capacity.model import load_model
from tiny_model import write_tiny_model


@pytest.fixture()
def model_dir(tmp_path: Path) -> Path:
    return write_tiny_model(tmp_path / "m")


def edit_csv(folder: Path, name: str, fn) -> None:
    frame = pd.read_csv(folder / name, dtype=str, keep_default_na=False)
    fn(frame).to_csv(folder / name, index=False)


def set_cell(name: str, line: int, column: str, value: str):
    """Mutation: set one cell (line as an editor shows it: header = 1)."""
    def mutate(folder: Path) -> None:
        def fn(f):
            f.loc[line - 2, column] = value
            return f
        edit_csv(folder, name, fn)
    return mutate


def replace_text(name: str, old: str, new: str):
    def mutate(folder: Path) -> None:
        p = folder / name
        text = p.read_text(encoding="utf-8")
        assert old in text, (old, name)
        p.write_text(text.replace(old, new, 1), encoding="utf-8")
    return mutate


def drop_column(name: str, column: str):
    def mutate(folder: Path) -> None:
        edit_csv(folder, name, lambda f: f.drop(columns=[column]))
    return mutate


def write_bytes(name: str, data: bytes):
    def mutate(folder: Path) -> None:
        (folder / name).write_bytes(data)
    return mutate


def delete(name: str):
    def mutate(folder: Path) -> None:
        (folder / name).unlink()
    return mutate


def drop_rows(name: str, query: str):
    def mutate(folder: Path) -> None:
        edit_csv(folder, name, lambda f: f.drop(f.query(query).index))
    return mutate


def duplicate_zone(folder: Path) -> None:
    data = json.loads((folder / "zones.geojson").read_text())
    data["features"][1]["properties"]["zone_id"] = "a"
    (folder / "zones.geojson").write_text(json.dumps(data))


def zone_radius_scale(value):
    def mutate(folder: Path) -> None:
        data = json.loads((folder / "zones.geojson").read_text())
        data["features"][1]["properties"]["radius_scale"] = value
        (folder / "zones.geojson").write_text(json.dumps(data))
    return mutate


def latin1_name(folder: Path) -> None:
    p = folder / "schools.csv"
    lines = p.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b"Primary 1", "Écoles".encode("latin-1"))
    p.write_bytes(b"\n".join(lines))


def ragged(folder: Path) -> None:
    p = folder / "units.csv"
    lines = p.read_text().splitlines()
    lines[3] += ",extra"
    p.write_text("\n".join(lines) + "\n")


def both_mortality(folder: Path) -> None:
    edit_csv(folder, "mortality.csv", lambda f: f.assign(qx="0.01"))


# (case id, mutation, substrings the message must contain: file:row:column and a hint)
CASES = [
    ("missing-file", delete("fertility.csv"), ["model.toml:", ":files.fertility:", "does not exist"]),
    ("missing-model-toml", delete("model.toml"), ["model.toml::", "not found"]),
    ("missing-column", drop_column("population.csv", "count"), ["population.csv:1:count:", "missing column"]),
    ("wrong-type", set_cell("population.csv", 5, "count", "lots"), ["population.csv:5:count:", "not a number"]),
    ("negative-count", set_cell("population.csv", 7, "count", "-3"), ["population.csv:7:count:", ">= 0"]),
    ("non-finite", set_cell("population.csv", 8, "count", "inf"), ["population.csv:8:count:", "not finite"]),
    ("fractional-age", set_cell("population.csv", 9, "age", "3.5"), ["population.csv:9:age:", "whole number"]),
    ("bad-sex", set_cell("population.csv", 4, "sex", "X"), ["population.csv:4:sex:", "one of F, M"]),
    ("age-gap", drop_rows("population.csv", "zone_id == 'b' and sex == 'M' and age == '7'"),
     ["population.csv::age:", "ages 7 missing for zone_id=b, sex=M"]),
    ("age-above-open", set_cell("population.csv", 3, "age", "61"), ["population.csv:3:age:", "open age"]),
    ("duplicate-row", set_cell("population.csv", 3, "age", "0"), ["population.csv:3:zone_id:", "duplicate row"]),
    ("unknown-zone", set_cell("population.csv", 2, "zone_id", "zz"), ["population.csv:2:zone_id:", "unknown zone_id 'zz'"]),
    ("duplicate-unit-id", set_cell("units.csv", 4, "unit_id", "a00"), ["units.csv:4:unit_id:", "duplicate"]),
    ("weights-not-one", set_cell("units.csv", 2, "weight", "0.5"), ["units.csv:2:weight:", "sum to"]),
    ("unit-unknown-zone", set_cell("units.csv", 6, "zone_id", "q"), ["units.csv:6:zone_id:", "unknown zone_id"]),
    ("school-outside", set_cell("schools.csv", 3, "lon", "118.5"), ["schools.csv:3:lon:", "outside every zone"]),
    ("school-unknown-stage", set_cell("schools.csv", 2, "stage", "nursery"), ["schools.csv:2:stage:", "unknown stage"]),
    ("school-no-places", drop_column("schools.csv", "places"), ["schools.csv:1:", "places, classes"]),
    ("inclusive-not-bool", set_cell("schools.csv", 2, "inclusive", "maybe"), ["schools.csv:2:inclusive:", "true/false"]),
    ("non-utf8", latin1_name, ["schools.csv:3:", "not UTF-8"]),
    ("empty-file", write_bytes("fertility.csv", b""), ["fertility.csv::", "empty"]),
    ("ragged-row", ragged, ["units.csv:4:", "fields"]),
    ("asfr-too-high", set_cell("fertility.csv", 3, "asfr", "0.7"), ["fertility.csv:3:asfr:", "< 0.5"]),
    ("sx-above-one", set_cell("mortality.csv", 10, "sx", "1.2"), ["mortality.csv:10:sx:", "<= 1"]),
    ("sx-zero", set_cell("mortality.csv", 11, "sx", "0"), ["mortality.csv:11:sx:", "> 0"]),
    ("two-mortality-kinds", both_mortality, ["mortality.csv:1:", "exactly one of the columns sx, mx, qx, Lx"]),
    ("expansion-unknown-school", set_cell("projects.csv", 3, "school_id", "p9"), ["projects.csv:3:school_id:", "not in schools.csv"]),
    ("project-year-implausible", set_cell("projects.csv", 2, "open_year", "1850"), ["projects.csv:2:open_year:", "between"]),
    ("new-project-no-site", set_cell("projects.csv", 2, "lon", ""), ["projects.csv:2:lon:", "no location"]),
    ("project-bad-kind", set_cell("projects.csv", 2, "kind", "neww"), ["projects.csv:2:kind:", "did you mean 'new'"]),
    ("geographic-crs", replace_text("model.toml", 'crs = "EPSG:32650"', 'crs = "EPSG:4326"'), ["model.toml:3:crs:", "projected"]),
    ("unknown-crs", replace_text("model.toml", 'crs = "EPSG:32650"', 'crs = "EPSG:99999"'), ["model.toml:3:crs:", "not a known"]),
    ("unknown-key", replace_text("model.toml", "radius_m = 2500", "radius = 2500"),
     ["model.toml:", ":stages.primary.radius:", "did you mean", "radius_m"]),
    ("toml-syntax", replace_text("model.toml", "base_year = 2020", "base_year = = 2020"), ["model.toml:2:", "TOML syntax"]),
    ("stage-overlap", replace_text("model.toml", "ages = [6, 11]", "ages = [5, 11]"), ["model.toml:", ":stages.primary.ages:", "overlap"]),
    ("stage-type", replace_text("model.toml", "class_size = 45", 'class_size = "big"'), ["model.toml:", ":stages.primary.class_size:", "integer"]),
    ("zone-duplicate", duplicate_zone, ["zones.geojson:2:zone_id:", "duplicate zone_id"]),
    ("zone-radius-scale-negative", zone_radius_scale(-2),
     ["zones.geojson:2:radius_scale:", "not a positive number"]),
    ("zone-radius-scale-text", zone_radius_scale("wide"),
     ["zones.geojson:2:radius_scale:", "not a positive number"]),
]


@pytest.mark.parametrize("case,mutate,expected", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_reported(model_dir, capsys, case, mutate, expected):
    mutate(model_dir)
    code = main(["validate", str(model_dir)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    for text in expected:
        assert text in err, f"{case}: {text!r} not in:\n{err}"


def test_there_are_at_least_25_distinct_bad_inputs():
    assert len({c[0] for c in CASES}) >= 25


def test_every_problem_is_listed_at_once(model_dir, capsys):
    set_cell("population.csv", 5, "count", "-1")(model_dir)
    set_cell("units.csv", 3, "zone_id", "nowhere")(model_dir)
    set_cell("schools.csv", 2, "stage", "college")(model_dir)
    assert main(["validate", str(model_dir)]) == 2
    err = capsys.readouterr().err
    for text in ("population.csv:5:count", "units.csv:3:zone_id", "schools.csv:2:stage"):
        assert text in err


def test_valid_model_prints_summary(model_dir, capsys):
    assert main(["validate", str(model_dir)]) == 0
    out = capsys.readouterr().out
    assert "zones: 3" in out and "primary" in out and "kindergarten" in out


def test_loading_round_trips(model_dir):
    m = load_model(model_dir)
    pop = pd.read_csv(model_dir / "population.csv")
    assert m.population["count"].sum() == pytest.approx(pop["count"].sum())
    assert list(m.zones["zone_id"]) == ["a", "b", "c"]
    assert m.mortality_kind == "sx"
    # classes × class size when places are not given
    assert m.projects.set_index("project_id").loc["newp", "places"] == 12 * 45
    assert m.schools["x"].notna().all() and m.units["x"].notna().all()
    assert m.stages["primary"].ages == (6, 11)


def write_scenario(folder: Path, text: str, name: str = "s.toml") -> Path:
    p = folder / name
    p.write_text(text, encoding="utf-8")
    return p


SCENARIO_CASES = [
    ("scenario-unknown-key", 'name = "x"\nmodel = "m"\nhorizon = 2030\n[migration]\nscael = 1.2\n',
     ["s.toml:5:migration.scael:", "did you mean", "scale"]),
    ("scenario-wrong-type", 'name = "x"\nmodel = "m"\nhorizon = "2030"\n', ["s.toml:3:horizon:", "integer"]),
    ("scenario-unknown-project", 'name = "x"\nmodel = "m"\nhorizon = 2030\n[projects]\ndrop = ["nwep"]\n',
     ["unknown project id 'nwep'", "did you mean 'newp'"]),
    ("scenario-missing-model", 'name = "x"\nmodel = "nope"\nhorizon = 2030\n', ["s.toml:2:model:", "no model.toml"]),
    ("scenario-bad-mode", 'name = "x"\nmodel = "m"\nhorizon = 2030\n[allocation]\nmode = "best"\n',
     ["s.toml:5:allocation.mode:", '"optimal"']),
    ("scenario-bad-stage", 'name = "x"\nmodel = "m"\nhorizon = 2030\n[stages.college]\nclass_size = 40\n',
     ["stages.college", "lacks"]),
]


@pytest.mark.parametrize("case,text,expected", SCENARIO_CASES, ids=[c[0] for c in SCENARIO_CASES])
def test_bad_scenario_is_reported(model_dir, capsys, case, text, expected):
    path = write_scenario(model_dir.parent, text)
    code = main(["validate", str(path)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    for t in expected:
        assert t in err, f"{case}: {t!r} not in:\n{err}"


def test_extends_cycle_is_an_error(model_dir, capsys):
    write_scenario(model_dir.parent, 'name = "a"\nextends = "b.toml"\nmodel = "m"\nhorizon = 2030\n', "a.toml")
    write_scenario(model_dir.parent, 'name = "b"\nextends = "a.toml"\n', "b.toml")
    assert main(["validate", str(model_dir.parent / "a.toml")]) == 2
    assert "cycle" in capsys.readouterr().err
