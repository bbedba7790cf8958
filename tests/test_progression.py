"""Cohort survival (grade progression ratios) against hand-computed series."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from capacity.progression import backtest, blend, forecast, ratios


def _obs(table: dict[int, list[float]], area: str = "d", stage: str = "junior"):
    return pd.DataFrame([{"area_id": area, "stage": stage, "grade": g + 1, "year": y,
                          "pupils": p} for y, row in table.items() for g, p in enumerate(row)])


# three grades, two years: r1 = 95/100 = 0.95 … pooled with a third year below
OBS = _obs({2018: [100, 90, 80], 2019: [110, 95, 90], 2020: [120, 99, 95.0]})


def test_ratios_pooled_by_hand():
    r = ratios(OBS).set_index("grade")["ratio"]
    # r1 = (95 + 99) / (100 + 110) ; r2 = (90 + 95) / (90 + 95)
    assert r[1] == pytest.approx(194 / 210)
    assert r[2] == pytest.approx(1.0)


def test_forecast_by_hand():
    entry = pd.DataFrame({"area_id": "d", "stage": "junior", "year": [2021, 2022],
                          "pupils": [130.0, 140.0]})
    f = forecast(OBS, entry, [2020, 2021, 2022]).set_index(["year", "grade"])["pupils"]
    r1 = 194 / 210
    assert f[(2021, 1)] == 130 and f[(2021, 2)] == pytest.approx(120 * r1)
    assert f[(2021, 3)] == pytest.approx(99 * 1.0)
    assert f[(2022, 2)] == pytest.approx(130 * r1)
    assert f[(2022, 3)] == pytest.approx(120 * r1)
    assert (2020, 1) not in f.index           # observed years are not forecast


def test_blend_weights_by_hand():
    years = [2021, 2022, 2023, 2024]
    cohort = pd.DataFrame({"area_id": "d", "stage": "junior", "grade": 2, "year": years,
                           "pupils": 100.0})
    pop = cohort.assign(pupils=200.0)
    last = pd.Series({("d", "junior"): 2020}).rename_axis(["area_id", "stage"])
    b = blend(cohort, pop, last, 3).set_index("year")
    assert b["weight"].tolist() == [0.75, 0.5, 0.25, 0.0]
    assert b["pupils"].tolist() == [125.0, 150.0, 175.0, 200.0]


def test_backtest_exact_on_a_constant_ratio_series():
    # a series built with r = 0.9 exactly: the hold-out year is forecast without error
    rows, g1 = {}, [100.0, 110, 120, 130]
    for i, y in enumerate(range(2017, 2021)):
        prev = rows.get(y - 1, [90.0, 81.0, 72.9])
        rows[y] = [g1[i], prev[0] * 0.9, prev[1] * 0.9]
    bt = backtest(_obs(rows), hold_out=1)
    assert np.allclose(bt["mape"], 0) and (bt["years"] == 1).all()
    rows[2020][2] *= 1.1                        # a 10 % surprise in grade 3
    bt = backtest(_obs(rows), hold_out=1).set_index("grade")["mape"]
    assert bt[3] == pytest.approx(1 - 1 / 1.1) and bt[2] == pytest.approx(0)


def test_run_with_observed_grades_and_read_back(tmp_path):
    """A model with enrolment_by_grade.csv gets progression.csv; every grade table is
    written and read back by capacity.load_result unchanged."""
    from tiny_model import write_tiny_model

    import capacity

    folder = write_tiny_model(tmp_path / "model")
    obs = _obs({2019: [300, 290, 280, 270, 260, 250], 2020: [310, 291, 282, 270, 262, 251]},
               "district", "primary")
    obs.to_csv(folder / "enrolment_by_grade.csv", index=False)
    toml = folder / "model.toml"
    toml.write_text(toml.read_text().replace(
        '[files]\n', '[files]\nenrolment_by_grade = "enrolment_by_grade.csv"\n'))
    (tmp_path / "s.toml").write_text('name = "s"\nmodel = "model"\nhorizon = 2024\n')
    r = capacity.run(tmp_path / "s.toml", criticality=False)
    p = r.progression.set_index(["year", "grade"])
    assert sorted(p.index.get_level_values("year").unique()) == list(range(2020, 2025))
    assert p.loc[(2020, 3), "weight"] == 0 and p.loc[(2021, 3), "weight"] == 0.75
    r1 = 291 / 300
    assert p.loc[(2021, 2), "cohort_survival"] == pytest.approx(310 * r1)
    zg = r.zone_grades.query("stage == 'primary' and year == 2021")
    assert p.loc[(2021, 1), "population"] == pytest.approx(zg.query("grade == 1")["pupils"].sum())
    out = r.write(tmp_path / "out")
    back = capacity.load_result(out)
    for key in ("grades", "zone_grades", "intake", "teachers", "staffing", "shrinking",
                "progression"):
        def plain(f):   # NA and NaN alike, ids as text
            return f.reset_index(drop=True).apply(
                lambda c: c.astype(float) if c.dtype.kind in "iuf" or str(c.dtype) == "Int64"
                else c.astype(str))
        pd.testing.assert_frame_equal(plain(getattr(back, key)), plain(getattr(r, key)),
                                      check_exact=False, rtol=1e-6, obj=key)


def test_bad_grade_rows_are_input_errors(tmp_path):
    from tiny_model import write_tiny_model

    from capacity.errors import InputError
    from capacity.model import load_model

    folder = write_tiny_model(tmp_path / "model")
    obs = _obs({2020: [300, 290, 280, 270, 260, 250, 5]}, "district", "primary")
    obs.loc[0, "stage"] = "college"
    obs.to_csv(folder / "enrolment_by_grade.csv", index=False)
    toml = folder / "model.toml"
    toml.write_text(toml.read_text().replace(
        '[files]\n', '[files]\nenrolment_by_grade = "enrolment_by_grade.csv"\n'))
    with pytest.raises(InputError) as err:
        load_model(folder)
    text = str(err.value)
    assert "enrolment_by_grade.csv" in text and "college" in text
    assert "grade 7 is beyond" in text
