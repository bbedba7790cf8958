"""Ages → grades, pupils by grade, classes per grade, teachers, shrinking (issue 24).

Every expected value is computed by hand in the test (docs/outputs.md, "Grades")."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from capacity.grades import grade_weights, split_by_grade, year_fraction
from capacity.model.load import Stage
from capacity.staffing import (classes_needed, grade_classes, intake_table, shrinking_table,
                               staffing_table, teachers_table, year_spans)

PRIMARY = Stage("primary", (6, 11), 1.0, 45, 2500.0)
STAGES = {"primary": {"class_size": 45, "pupils_per_teacher": 19.0},
          "kindergarten": {"class_size": 30, "teachers_per_class": 2.0}}


# -- ages → grades ------------------------------------------------------------------------
def test_year_fraction_by_hand():
    # 1 Sep .. 31 Oct = 30 + 31 days after the end of 31 August
    assert year_fraction("11-01", "08-31") == pytest.approx(61 / 365)
    assert year_fraction("09-01", "08-31") == 0.0
    # reference 1 July, before the cut-off: 31 August ends 62 days later (negative)
    assert year_fraction("07-01", "08-31") == pytest.approx(-62 / 365)


def test_grade_weights_reference_after_cutoff_by_hand():
    pop = np.arange(20, dtype=float) * 10          # P[a] = 10 a
    f = 0.25                                       # reference 3 months after the cut-off
    kids = grade_weights(PRIMARY, f, 20) @ pop
    # grade g = 0.75 P[5+g] + 0.25 P[6+g]: grade 1 = .75·60 + .25·70 = 62.5 … grade 6 = 112.5
    assert kids.tolist() == [62.5, 72.5, 82.5, 92.5, 102.5, 112.5]


def test_grade_weights_reference_before_cutoff_by_hand():
    pop = np.arange(20, dtype=float) * 10
    kids = grade_weights(PRIMARY, -0.25, 20) @ pop
    # a quarter of age 5 at the reference date turns 6 by the cut-off: .75·60 + .25·50
    assert kids.tolist() == [57.5, 67.5, 77.5, 87.5, 97.5, 107.5]


def test_reference_on_the_cutoff_is_ages_as_grades():
    W = grade_weights(PRIMARY, 0.0, 20)
    assert (W.argmax(axis=1) == np.arange(6, 12)).all() and (W.sum(axis=1) == 1).all()


def test_tongzhou_dates_grade_one_by_hand(tmp_path):
    """Beijing: cut-off 31 August, census 1 November: grade 1 = 304/365 P6 + 61/365 P7."""
    pop = np.zeros(30)
    pop[6], pop[7] = 365.0, 730.0
    f = year_fraction("11-01", "08-31")
    kids = grade_weights(PRIMARY, f, 30) @ pop
    assert kids[0] == pytest.approx(304 + 122)
    assert kids[1] == pytest.approx(730 * 304 / 365)


# -- school pupils by grade ---------------------------------------------------------------
def test_split_by_grade_hand_case():
    by_zone = np.array([[10.0, 0.0], [3.0, 7.0]])           # two schools, two zones
    shares = np.array([[0.5, 0.5], [0.1, 0.9]])             # zone grade mix
    out = split_by_grade(by_zone, shares)
    # school 0: 5, 5; school 1: 1.5 + 0.7 = 2.2 and 1.5 + 6.3 = 7.8 → 2, 8
    assert out.tolist() == [[5, 5], [2, 8]]


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(1, 5), st.integers(1, 7), st.integers(0, 2**31))
def test_grade_sums_equal_school_totals_exactly(S, Z, G, seed):
    rng = np.random.default_rng(seed)
    by_zone = rng.integers(0, 500, (S, Z)).astype(float)
    shares = rng.dirichlet(np.ones(G), Z)
    out = split_by_grade(by_zone, shares)
    assert (out >= 0).all()
    assert (out.sum(axis=1) == by_zone.sum(axis=1)).all()
    # and each grade within one pupil of its exact share
    assert np.abs(out - by_zone @ shares).max() < 1


def test_run_grade_sums_equal_stage_totals(tiny_result):
    r = tiny_result
    g = r.grades.groupby(["school_id", "year", "stage", "mode"])["pupils"].sum()
    s = r.schools.set_index(["school_id", "year", "stage", "mode"])["pupils"]
    s = s[s > 0]
    assert g.reindex(s.index).astype(int).eq(s).all() and len(g) == len(s)
    z = r.zone_grades.groupby(["zone_id", "year", "stage"])["pupils"].sum()
    d = r.demand.set_index(["zone_id", "year", "stage"])["pupils"]
    assert np.allclose(z.reindex(d.index), d, rtol=1e-12, atol=1e-9)
    assert set(r.zone_grades.query("stage == 'primary'")["grade"]) == set(range(1, 7))


# -- classes, intake, teachers --------------------------------------------------------------
def _grades(pupils: list[float], stage: str = "primary", school: str = "s", year: int = 2025):
    return pd.DataFrame({"school_id": school, "year": year, "stage": stage, "mode": "optimal",
                         "grade": np.arange(1, len(pupils) + 1), "pupils": pupils})


def test_classes_are_formed_per_grade():
    """The issue's case: 50 pupils in each of six grades, class size 45 → 12, not 7."""
    assert grade_classes(np.full(6, 50.0), 45) == 12
    assert classes_needed(300, 45) == 7                     # the old stage-total count
    assert classes_needed([0, 45, 45.0000000001, 46], 45).tolist() == [0, 1, 1, 2]


def test_teachers_table_by_hand():
    grades = pd.concat([_grades([50.0] * 6),
                        _grades([31.0, 30.0, 0.0], "kindergarten", "k")])
    schools = pd.DataFrame({"school_id": ["s", "k"], "year": 2025,
                            "stage": ["primary", "kindergarten"], "mode": "optimal",
                            "places": [450.0, 120.0], "utilisation": [0.67, 0.5]})
    t = teachers_table(grades, schools, STAGES).set_index("school_id")
    assert t.loc["s", ["pupils", "classes", "rooms", "rooms_short"]].tolist() == [300, 12, 10, 2]
    assert t.loc["s", "teachers"] == 16                     # ⌈300 / 19⌉
    assert t.loc["k", ["classes", "rooms", "rooms_short"]].tolist() == [3, 4, 0]
    assert t.loc["k", "teachers"] == 6                      # 3 classes × 2


def test_intake_by_hand():
    i = intake_table(pd.concat([_grades([50.0, 9.0]), _grades([45.0, 1.0], school="t")]),
                     STAGES).set_index("school_id")
    assert i.loc["s", ["entrants", "classes_to_open"]].tolist() == [50, 2]
    assert i.loc["t", ["entrants", "classes_to_open"]].tolist() == [45, 1]


def test_posts_to_recruit_by_hand():
    t = pd.DataFrame({"school_id": "s", "stage": "primary", "year": [2025, 2026, 2027],
                      "mode": "optimal", "pupils": 0, "classes": 0, "rooms_short": 0,
                      "teachers": pd.array([100, 110, 100], "Int64")})
    d = staffing_table(t, 0.05, 200000.0)
    # 2026: 110 − 0.95·100 = 15; 2027: 100 − 0.95·110 = −4.5 → 0
    assert d["posts_to_recruit"].tolist()[1:] == [15, 0]
    assert pd.isna(d["posts_to_recruit"].iloc[0])
    assert d["salary_cny"].tolist() == [2e7, 2.2e7, 2e7]


def test_shrinking_by_hand():
    years = np.arange(2025, 2033)
    util = [0.9, 0.5, 0.5, 0.5, 0.9, 0.5, 0.5, 0.9]        # one run of 3 years, one of 2
    schools = pd.DataFrame({"school_id": "s", "year": years, "stage": "primary",
                            "mode": "optimal", "utilisation": util})
    intake = pd.DataFrame({"school_id": "s", "year": years, "stage": "primary",
                           "mode": "optimal", "entrants": [90, 90, 44, 44, 45, 90, 90, 0]})
    out = shrinking_table(intake, schools, STAGES, 1.0, 0.6, 3).set_index("reason")
    assert out.loc["use", ["first_year", "last_year", "n_years", "years"]].tolist() == \
        [2026, 2028, 3, "2026-2028"]
    assert out.loc["intake", "years"] == "2027-2028, 2032"


def test_year_spans():
    assert year_spans(pd.Series([2035, 2030, 2031, 2032])) == "2030-2032, 2035"


def test_bad_cutoff_is_an_input_error_with_line_and_fix(tmp_path):
    from tiny_model import write_tiny_model

    from capacity.errors import InputError
    from capacity.model import load_model

    folder = write_tiny_model(tmp_path / "m")
    toml = folder / "model.toml"
    toml.write_text(toml.read_text() + '\n[school_year]\ncutoff = "31-08"\n')
    with pytest.raises(InputError) as err:
        load_model(folder)
    text = str(err.value)
    assert "school_year.cutoff" in text and "MM-DD" in text and "model.toml" in text
    line = toml.read_text().splitlines().index('cutoff = "31-08"') + 1
    assert err.value.problems[0].row == line


# -- classes to add in the budget: formed per grade -----------------------------------------
def _zone_grades(pupils: list[float], zone: str = "z1", year: int = 2021):
    return pd.DataFrame({"zone_id": zone, "year": year, "stage": "primary",
                         "grade": np.arange(1, len(pupils) + 1), "pupils": pupils})


def test_shortfall_classes_by_hand():
    from capacity.staffing import shortfall_classes

    zg = _zone_grades([10.0] * 6)                          # an even grade mix
    keys = pd.DataFrame({"zone_id": ["z1", "z1", "z1", "z9"], "stage": "primary",
                         "year": 2021, "pupils": [300.0, 3.0, 0.0, 300.0]})
    # 300 → 50 per grade → 6 × 2 = 12; 3 whole pupils → 3 grades of 1 → 3; unknown zone → 7
    assert shortfall_classes(zg, keys, 45).tolist() == [12, 3, 0, 7]
    assert shortfall_classes(None, keys, 45).tolist() == [7, 1, 0, 7]


def test_budget_places_to_add_are_classes_per_grade():
    from synthetic_result import make_result

    from capacity.report.budget import places_to_add_view

    r = make_result()
    old = places_to_add_view(r).set_index(["zone_id", "stage"])
    years = sorted(r.shortfall["year"].unique())
    r.zone_grades = pd.concat([_zone_grades([10.0] * 6, z, y)
                               for z in r.shortfall["zone_id"].unique() for y in years]
                              + [_zone_grades([10.0] * 3, z, y).assign(stage="junior")
                                 for z in r.shortfall["zone_id"].unique() for y in years])
    new = places_to_add_view(r).set_index(["zone_id", "stage"])
    short = new["peak_shortfall"]
    assert (short > 0).any()
    # hand: whole pupils per grade by largest remainder, then ⌈ ÷ class size⌉ per grade
    for (zone, stage), s in short.items():
        G, size = (6, 45) if stage == "primary" else (3, 50)
        base, extra = divmod(int(s), G)
        per_grade = [base + (g < extra) for g in range(G)]
        want = sum(-(-p // size) for p in per_grade)
        assert new.loc[(zone, stage), "classes_to_add"] == want
        assert new.loc[(zone, stage), "places_to_add"] == want * size
        assert old.loc[(zone, stage), "classes_to_add"] == -(-int(s) // size)


# -- workbook sheets and report section -------------------------------------------------------
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_workbook_and_report_show_grades(tiny_result, tmp_path, lang):
    import openpyxl

    from capacity.report import labels as L
    from capacity.report.budget import write_budget
    from capacity.report.grades_section import district_classes
    from capacity.report.html import report_html

    book = openpyxl.load_workbook(write_budget(tiny_result, tmp_path, lang=lang))
    for view in ("intake", "staffing", "shrinking"):
        assert L.sheet_label(view, lang) in book.sheetnames
    html = report_html(tiny_result, lang=lang)
    assert L.text("report", "h_grades", lang) in html
    assert L.column_label("classes_to_open", lang) in html
    # the district table: classes per grade never fewer than counted on stage totals
    d = district_classes(tiny_result, tiny_result.report_year)
    assert (d["classes"] >= d["classes_stage_total"]).all() and (d["classes"] > 0).any()
    i = tiny_result.intake.query("mode == @tiny_result.mode and year == "
                                 f"{tiny_result.report_year}")
    assert d["entrants"].sum() == i["entrants"].sum()
    # shrinking schools: headers and reasons in the language, years without separators
    ws = book[L.sheet_label("shrinking", lang)]
    head = {c.value: c.column for c in ws[1]}
    assert "first_year" not in head and L.column_label("first_year", lang) in head
    if ws.max_row > 1:
        assert ws.cell(2, head[L.column_label("first_year", lang)]).number_format == "0"
        words = {L.text("words", "shrink_intake", lang), L.text("words", "shrink_use", lang)}
        assert {ws.cell(r, head[L.column_label("reason", lang)]).value
                for r in range(2, ws.max_row + 1)} <= words


def test_scenario_overrides_staffing_and_class_size(tiny_scenario, tmp_path):
    """A scenario's [stages.primary] pupils_per_teacher and class_size reach teachers.csv."""
    import capacity

    (tiny_scenario.parent / "staff.toml").write_text(
        'name = "staff"\nmodel = "model"\nhorizon = 2022\n'
        '[stages.primary]\npupils_per_teacher = 17.1\nclass_size = 40\n')
    r = capacity.run(tiny_scenario.parent / "staff.toml", criticality=False)
    t = r.teachers.query("stage == 'primary' and pupils > 0")
    assert (t["teachers"] == np.ceil(t["pupils"] / 17.1)).all()
    g = r.grades.query("stage == 'primary'").assign(c=lambda f: -(-f["pupils"] // 40))
    want = g.groupby(["school_id", "year", "mode"])["c"].sum()
    got = t.set_index(["school_id", "year", "mode"])["classes"]
    assert (got == want.reindex(got.index)).all()
