"""New schools opening grade by grade (projects.csv / ``[[projects.add]]`` ``opening``) and
schools.csv ``max_classes`` (docs/model-format.md), against hand-computed places.

The ramp (docs/model-format.md, projects.csv ``opening``): a new school of P places in its
(k+1)-th open year offers floor(P × min(1, (k+1)/G)), G = the stage's grades (the hand
model's primary, ages 6–11: G = 6).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capacity.chain import Chain, run
from capacity.cli import main
from capacity.stages import site_classes, stage_grades
from capacity.supply import opening_places
from hand_model import lonlat, write_hand_model, write_scenario

YEARS = np.arange(2020, 2031)
NEW = {"project_id": "N", "name": "N", "kind": "new", "stage": "primary", "x": 0, "y": 0,
       "places": 60, "open_year": 2022}


def test_a_1080_place_primary_school_fills_a_grade_a_year():
    got = opening_places(1080, 2022, YEARS, 6, True)
    assert got.tolist() == [0, 0, 180, 360, 540, 720, 900, 1080, 1080, 1080, 1080]
    assert opening_places(1080, 2022, YEARS, 6, False).tolist() == [0, 0] + [1080] * 9


def test_ramps_round_down_to_whole_places():
    """100 places over 6 grades: 16.7 → 16, 33.3 → 33, 50, 66.7 → 66, 83.3 → 83, 100;
    a kindergarten (ages 3–5, 3 grades) of 270: 90, 180, 270."""
    assert opening_places(100, 2020, YEARS[:7], 6, True).tolist() == [16, 33, 50, 66, 83,
                                                                        100, 100]
    assert opening_places(270, 2021, YEARS[:5], 3, True).tolist() == [0, 90, 180, 270, 270]


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 100_000), st.integers(2000, 2040), st.integers(1, 12))
def test_a_ramp_never_falls_never_exceeds_and_is_full_after_its_grades(places, open_year,
                                                                       grades):
    years = np.arange(2000, 2060)
    got = opening_places(float(places), open_year, years, grades, True)
    assert (np.diff(got) >= 0).all() and (got <= places).all()
    assert (got[years < open_year] == 0).all()
    assert (got[years >= open_year + grades - 1] == places).all()
    full = opening_places(float(places), open_year, years, grades, False)
    assert (got <= full).all() and (full == np.where(years >= open_year, places, 0)).all()


def test_stage_grades_is_the_ages_span():
    assert stage_grades({"ages": [6, 11]}) == 6 and stage_grades({"ages": [3, 5]}) == 3


def places_by_year(result, school_id: str) -> list[int]:
    cap = result.tables["capacity"]
    got = cap[cap["school_id"] == school_id].set_index("year")["places"]
    return [int(got.get(y, 0)) for y in range(2020, 2029)]


def test_new_schools_open_grade_by_grade_or_full(tmp_path):
    """projects.csv: N (60 places, 2022) grade by grade: 10, 20, …, 60; F (60, 2022) with
    the column empty opens full; an expansion of S (+30 in 2023) marked grade_by_grade
    opens full (expansions always do); the scenario adds G (120, 2024) grade by grade."""
    write_hand_model(tmp_path / "model", {"A": (0, 0)}, {"A": {6: 3}},
                     schools=[{"school_id": "S", "name": "S", "stage": "primary", "x": 0,
                               "y": 0, "places": 50}],
                     projects=[{**NEW, "opening": "grade_by_grade"},
                               {**NEW, "project_id": "F", "opening": None},
                               {"project_id": "E", "name": "E", "kind": "expansion",
                                "stage": "primary", "school_id": "S", "x": None, "y": None,
                                "places": 30, "open_year": 2023,
                                "opening": "grade_by_grade"}])
    lon, lat = lonlat(100, 100)
    scen = write_scenario(tmp_path / "s.toml", "model", 2028,
                          '[[projects.add]]\nproject_id = "G"\nname = "G"\nkind = "new"\n'
                          f'stage = "primary"\nlon = {lon}\nlat = {lat}\nplaces = 120\n'
                          'open_year = 2024\nopening = "grade_by_grade"\n')
    result = run(scen, criticality=False)
    assert places_by_year(result, "N") == [0, 0, 10, 20, 30, 40, 50, 60, 60]
    assert places_by_year(result, "F") == [0, 0, 60, 60, 60, 60, 60, 60, 60]
    assert places_by_year(result, "S") == [50, 50, 50, 80, 80, 80, 80, 80, 80]
    assert places_by_year(result, "G") == [0, 0, 0, 0, 20, 40, 60, 80, 100]


def test_a_bad_opening_value_names_its_cell(tmp_path, capsys):
    write_hand_model(tmp_path / "model", {"A": (0, 0)}, {"A": {6: 3}},
                     projects=[{**NEW, "opening": "gradual"}])
    assert main(["validate", str(tmp_path / "model")]) == 2
    err = capsys.readouterr().err
    assert "projects.csv:2:opening:" in err and "'gradual' is not allowed" in err, err


def school(sid: str, places: float, **extra) -> dict:
    return {"school_id": sid, "name": sid, "stage": "primary", "x": 0, "y": 0,
            "places": places, **extra}


def test_max_classes_reaches_the_supply_sites(tmp_path):
    """S (100 places, 10 classes of 10) may hold 16 classes; T gives none: NaN; the new
    project N: NaN."""
    write_hand_model(tmp_path / "model", {"A": (0, 0)}, {"A": {6: 3}},
                     schools=[school("S", 100, max_classes=16), school("T", 95)],
                     projects=[NEW])
    scen = write_scenario(tmp_path / "s.toml", "model", 2025)
    chain = Chain(scen)
    state = chain.run_steps(chain.start(), ("projection", "demand", "supply"))
    sites = state.supply.sites.set_index("school_id")
    assert sites.at["S", "max_classes"] == 16
    assert np.isnan(sites.at["T", "max_classes"]) and np.isnan(sites.at["N", "max_classes"])


def test_sites_without_a_max_classes_column_have_nan(tmp_path):
    write_hand_model(tmp_path / "model", {"A": (0, 0)}, {"A": {6: 3}},
                     schools=[school("S", 100)])
    scen = write_scenario(tmp_path / "s.toml", "model", 2025)
    chain = Chain(scen)
    state = chain.run_steps(chain.start(), ("projection", "demand", "supply"))
    assert state.supply.sites["max_classes"].isna().all()


def test_current_classes_round_up():
    """95 places of classes of 10 fill 10 classrooms (the last one part-filled)."""
    assert site_classes(np.array([95, 100, 101, 0]), 10).tolist() == [10, 10, 11, 0]


@pytest.mark.parametrize("rows,where,what", [
    ([school("S", 95, max_classes=9)], "schools.csv:2:max_classes:",
     "max_classes 9 is below the school's 10 classes"),
    ([school("S", 100), school("T", np.nan, classes=12, max_classes=11)],
     "schools.csv:3:max_classes:", "below the school's 12 classes"),
    ([school("S", 95, max_classes=0)], "schools.csv:2:max_classes:", "out of range"),
    ([school("S", 95, max_classes=201)], "schools.csv:2:max_classes:", "out of range"),
    ([school("S", 95, max_classes=12.5)], "schools.csv:2:max_classes:", "not a whole number"),
])
def test_bad_max_classes_are_reported(tmp_path, capsys, rows, where, what):
    write_hand_model(tmp_path / "model", {"A": (0, 0)}, {"A": {6: 3}}, schools=rows)
    assert main(["validate", str(tmp_path / "model")]) == 2
    err = capsys.readouterr().err
    assert where in err and what in err, err


def test_max_classes_at_the_current_classes_is_fine(tmp_path, capsys):
    write_hand_model(tmp_path / "model", {"A": (0, 0)}, {"A": {6: 3}},
                     schools=[school("S", 95, max_classes=10)])
    assert main(["validate", str(tmp_path / "model")]) == 0, capsys.readouterr().err


def test_a_bad_opening_in_a_scenario_names_its_key(tmp_path, capsys):
    write_hand_model(tmp_path / "model", {"A": (0, 0)}, {"A": {6: 3}})
    lon, lat = lonlat(100, 100)
    scen = write_scenario(tmp_path / "s.toml", "model", 2028,
                          '[[projects.add]]\nproject_id = "G"\nname = "G"\nkind = "new"\n'
                          f'stage = "primary"\nlon = {lon}\nlat = {lat}\nplaces = 120\n'
                          'open_year = 2024\nopening = "by_grade"\n')
    assert main(["run", str(scen), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "s.toml:13:projects.add[0].opening:" in err and '"grade_by_grade"' in err, err
    assert not (tmp_path / "out").exists()
