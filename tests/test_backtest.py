"""Backtest metrics (capacity.demography.backtest) on a hand-computed example."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from capacity.demography.backtest import backtest, population_array
from capacity.errors import InputError

# ages 0..10, 10 = open; projected by single age
PF = [10, 10, 10, 10, 10, 20, 20, 20, 20, 20, 5]   # 0-4: 50, 5-9: 100, 10+: 5
PM = [12, 12, 12, 12, 12, 18, 18, 18, 18, 18, 6]   # 0-4: 60, 5-9: 90, 10+: 6
# observed census, abridged groups 0, 1-4, 5-9, 10+
OBS = pd.DataFrame({"sex": ["F"] * 4 + ["M"] * 4,
                    "age_group": ["0", "1-4", "5-9", "10+"] * 2,
                    "population": [8, 42, 80, 10, 10, 40, 100, 5]})


def row(df, scope, label, sex):
    r = df[(df["scope"] == scope) & (df["label"] == label) & (df["sex"] == sex)]
    assert len(r) == 1
    return r.iloc[0]


def test_hand_computed_groups_ranges_and_mape():
    df = backtest(np.array([PF, PM], float), OBS, ranges={"young": (1, 4), "mid": (6, 8)})
    assert list(df.columns) == ["scope", "label", "sex", "age_from", "age_to", "projected",
                                "observed", "error", "abs_error", "pct_error",
                                "abs_pct_error", "exact"]
    # 0 and 1-4 are combined into 0-4
    assert list(df.loc[(df.scope == "group") & (df.sex == "F"), "label"]) == \
        ["0-4", "5-9", "10+"]
    expect = {  # (sex, label): (projected, observed, error, pct_error)
        ("F", "0-4"): (50, 50, 0, 0.0), ("F", "5-9"): (100, 80, 20, 25.0),
        ("F", "10+"): (5, 10, -5, -50.0), ("M", "0-4"): (60, 50, 10, 20.0),
        ("M", "5-9"): (90, 100, -10, -10.0), ("M", "10+"): (6, 5, 1, 20.0),
        ("both", "0-4"): (110, 100, 10, 10.0), ("both", "5-9"): (190, 180, 10, 100 / 18),
        ("both", "10+"): (11, 15, -4, -400 / 15)}
    for (sex, label), (p, o, e, pct) in expect.items():
        r = row(df, "group", label, sex)
        assert (r.projected, r.observed, r.error, r.abs_error) == (p, o, e, abs(e))
        assert r.pct_error == pytest.approx(pct) and r.abs_pct_error == pytest.approx(abs(pct))
        assert r.exact
    # ages 1-4 fall on the census boundaries: exact
    young = row(df, "range", "young", "F")
    assert (young.projected, young.observed, young.error) == (40, 42, -2)
    assert young.pct_error == pytest.approx(-100 * 2 / 42) and young.exact
    assert row(df, "range", "young", "M").pct_error == pytest.approx(20.0)
    assert row(df, "range", "young", "both").pct_error == pytest.approx(100 * 6 / 82)
    # ages 6-8 do not: compared with the graduated census, flagged
    mid = row(df, "range", "mid", "both")
    assert not mid.exact and mid.projected == 60 + 54
    assert mid.observed == pytest.approx(row(df, "range", "mid", "F").observed +
                                         row(df, "range", "mid", "M").observed)
    assert 0 < row(df, "range", "mid", "F").observed < 80
    tot = row(df, "total", "total", "both")
    assert (tot.projected, tot.observed) == (311, 295)
    # MAPE and MAE over the groups
    assert row(df, "mape", "groups", "F").abs_pct_error == pytest.approx(25.0)
    assert row(df, "mape", "groups", "M").abs_pct_error == pytest.approx(50 / 3)
    assert row(df, "mape", "groups", "both").abs_pct_error == \
        pytest.approx((10 + 100 / 18 + 400 / 15) / 3)
    assert row(df, "mape", "groups", "F").abs_error == pytest.approx(25 / 3)
    rF = df[(df.scope == "range") & (df.sex == "F")]["abs_pct_error"].mean()
    assert row(df, "mape", "ranges", "F").abs_pct_error == pytest.approx(rF)


def test_projection_tables_and_zero_observed():
    long = pd.DataFrame({"zone_id": ["a"] * 22 + ["b"] * 22, "year": 2020,
                         "sex": (["F"] * 11 + ["M"] * 11) * 2, "age": list(range(11)) * 4,
                         "population": (PF + PM) * 2})
    np.testing.assert_array_equal(population_array(long), 2 * np.array([PF, PM], float))
    zones = np.array([[PF, PM], [PF, PM]], float)
    np.testing.assert_array_equal(population_array(zones), population_array(long))
    obs = OBS.assign(population=[8, 42, 80, 0, 10, 40, 100, 5])
    df = backtest(long, obs)
    r = row(df, "group", "10+", "F")
    assert r.observed == 0 and np.isnan(r.pct_error)
    # the MAPE leaves the undefined percentage out
    assert row(df, "mape", "groups", "F").abs_pct_error == pytest.approx(
        (abs(100 - 50) / 50 * 100 + abs(200 - 80) / 80 * 100) / 2)
    two_years = pd.concat([long, long.assign(year=2021)])
    with pytest.raises(InputError, match="several years"):
        backtest(two_years, OBS)
    pd.testing.assert_frame_equal(backtest(two_years, OBS, year=2021), backtest(long, OBS))


def test_bad_range_is_an_error():
    with pytest.raises(InputError, match="outside 0..10"):
        backtest(np.array([PF, PM], float), OBS, ranges={"x": (5, 12)})
