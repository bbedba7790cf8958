"""Age schedules, housing-led in-migration and TFR paths (capacity.demography.schedules)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capacity.demography.schedules import (
    ROGERS_CASTRO_STANDARD,
    housing_inflow,
    rogers_castro,
    spread_total,
    tfr_factors,
    young_family_profile,
)


def test_rogers_castro_standard_shape():
    ages = np.arange(101)
    m = rogers_castro(ages, **ROGERS_CASTRO_STANDARD)
    assert (m > 0).all()
    peak = int(np.argmax(m))
    assert 20 <= peak <= 25  # labour-force peak at μ2 + ln(λ2/α2)/λ2 ≈ 23.5
    trough = 5 + int(np.argmin(m[5:peak]))
    assert 10 <= trough <= 18  # the teenage trough between childhood and labour peaks
    assert m[0] > m[trough]  # children move with their parents
    assert m[100] == pytest.approx(ROGERS_CASTRO_STANDARD["c"], rel=1e-2)  # level c
    prof = spread_total(1.0, m)
    assert prof.sum() == pytest.approx(1.0, abs=1e-12)
    # the retirement peak, when given, adds a hump around μ3
    r = rogers_castro(ages, **ROGERS_CASTRO_STANDARD, a3=0.002, alpha3=0.5, mu3=65, lambda3=0.6)
    assert (r >= m).all() and np.argmax(r[50:90] - m[50:90]) + 50 in range(62, 70)


def test_rogers_castro_matches_formula():
    p = dict(a1=0.02, alpha1=0.1, a2=0.06, alpha2=0.1, mu2=20.0, lambda2=0.4, c=0.003)
    x = 30.0
    expected = (0.02 * np.exp(-0.1 * x)
                + 0.06 * np.exp(-0.1 * (x - 20) - np.exp(-0.4 * (x - 20))) + 0.003)
    assert rogers_castro(np.array([x]), **p)[0] == pytest.approx(expected, rel=1e-14)


@settings(max_examples=50, deadline=None)
@given(total=st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=5),
       prof=st.lists(st.floats(0, 10), min_size=2, max_size=8).filter(lambda v: sum(v) > 1e-3))
def test_spread_total_preserves_sums(total, prof):
    out = spread_total(np.array(total), np.array(prof))
    assert out.shape == (len(total), len(prof))
    np.testing.assert_allclose(out.sum(-1), total, rtol=1e-12, atol=1e-6)


def test_young_family_profile():
    p = young_family_profile(100)
    A = 101
    assert p.shape == (2, A)
    assert p.sum() == pytest.approx(1.0, abs=1e-14) and (p >= 0).all()
    ages = np.arange(A)
    inside = (ages <= 10) | ((ages >= 25) & (ages <= 40))
    assert (p[:, ~inside] == 0).all() and (p[:, inside] > 0).all()
    assert p[:, :11].sum() == pytest.approx(0.35)
    assert p[:, 25:41].sum() == pytest.approx(0.65)
    np.testing.assert_allclose(p[1, :11] / p[0, :11], 1.06)  # boys per girl = srb
    np.testing.assert_allclose(p[0, 25:41], p[1, 25:41])
    assert 28 <= np.argmax(p[0]) <= 35
    assert young_family_profile(80).shape == (2, 81)


PROFILE = young_family_profile(20 + 41)  # A = 62


def test_housing_inflow_ramp_and_totals():
    years = np.arange(2020, 2031)
    zone = np.array([0, 2, 2])
    units = np.array([1000.0, 300.0, 600.0])
    comp = np.array([2022, 2020, 2025])
    ppu = np.array([3.0, 2.5, 2.8])
    ramp = np.array([3, 1, 0])
    out = housing_inflow(zone, units, comp, ppu, ramp, years, 4, PROFILE)
    assert out.shape == (len(years), 4, 2, PROFILE.shape[1])
    per_zone = out.sum(axis=(2, 3))  # (T, Z)
    # development 0: 1000 units × 3 persons over 2022, 2023, 2024 in equal thirds
    np.testing.assert_allclose(per_zone[:, 0], [0, 0, 1000, 1000, 1000, 0, 0, 0, 0, 0, 0])
    # zone 2: 750 in 2020 (ramp 1), 1680 in 2025 (ramp 0 → all in completion year)
    np.testing.assert_allclose(per_zone[:, 2], [750, 0, 0, 0, 0, 1680, 0, 0, 0, 0, 0])
    assert (per_zone[:, [1, 3]] == 0).all()
    np.testing.assert_allclose(per_zone.sum(0), [3000, 0, 750 + 1680, 0])
    # the age-sex split is the profile
    np.testing.assert_allclose(out[2, 0], 1000 * PROFILE / PROFILE.sum())


def test_housing_inflow_before_start_is_in_base_population():
    years = np.arange(2020, 2026)
    out = housing_inflow([0], [900], [2018], 2.0, 4, years, 1, PROFILE)
    per_year = out.sum(axis=(1, 2, 3))
    # ramp over 2018–2021: the 2018 and 2019 quarters are already in the base population
    np.testing.assert_allclose(per_year, [450, 450, 0, 0, 0, 0])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.floats(0, 5000), st.integers(2020, 2030),
                          st.floats(0.5, 4), st.integers(0, 6)), min_size=1, max_size=12))
def test_housing_inflow_sums_to_units_times_ppu_once_ramped(devs):
    z, u, c, ppu, r = (np.array(v) for v in zip(*devs))
    years = np.arange(2020, 2041)  # long enough for every ramp to finish
    out = housing_inflow(z, u, c, ppu, r, years, 5, PROFILE)
    expected = np.zeros(5)
    np.add.at(expected, z, u * ppu)
    np.testing.assert_allclose(out.sum(axis=(0, 2, 3)), expected, rtol=1e-10, atol=1e-8)
    assert (out >= 0).all()


def test_tfr_factors_rules():
    years = np.arange(2018, 2040)
    path = {2020: 0.87, 2025: 0.95, 2035: 1.0}
    f = tfr_factors(path, years, base_tfr=0.9)
    by = dict(zip(years.tolist(), f.tolist()))
    assert by[2018] == by[2019] == 1.0  # before the first point: the model's rates
    assert by[2020] == pytest.approx(0.87 / 0.9)
    assert by[2022] == pytest.approx((0.87 + 2 / 5 * 0.08) / 0.9)
    assert by[2025] == pytest.approx(0.95 / 0.9)
    assert by[2030] == pytest.approx(0.975 / 0.9)
    assert by[2035] == by[2039] == pytest.approx(1.0 / 0.9)  # held after the last point
    np.testing.assert_array_equal(tfr_factors({}, years, 0.9), np.ones(len(years)))
    # unsorted keys, one point
    assert tfr_factors({2030: 1.2, 2020: 0.6}, [2025], 1.2)[0] == pytest.approx(0.75)
    np.testing.assert_allclose(tfr_factors({2021: 1.5}, [2020, 2021, 2030], 1.0), [1, 1.5, 1.5])
