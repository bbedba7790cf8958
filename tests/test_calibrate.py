"""Level fit of a migration component (capacity.demography.calibrate)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capacity.demography.calibrate import calibrate_level, total_at
from capacity.demography.ccm import project
from capacity.demography.schedules import young_family_profile
from capacity.errors import InputError

A, T, Z = 61, 6, 2
AGES = np.arange(A)


def setup():
    rng = np.random.default_rng(11)
    pop0 = rng.uniform(500, 1500, (Z, 2, A))
    sx = np.stack([np.linspace(0.999, 0.6, A), np.linspace(0.998, 0.55, A)])
    asfr = np.zeros((T, 1, A))
    asfr[:, 0, 18:38] = 0.06
    inflow = np.broadcast_to(40.0 * np.exp(-((AGES - 27) / 6.0) ** 2), (T, Z, 2, A)).copy()
    return pop0, sx, asfr, inflow


def totals(pr, years, base=2020):
    return total_at(pr.population, np.asarray(years, float), base)


@settings(max_examples=25, deadline=None)
@given(level=st.floats(0.0, 5.0), timing=st.sampled_from(["even", "end"]))
def test_count_level_recovered_exactly(level, timing):
    pop0, sx, asfr, base = setup()
    comp = 10.0 * young_family_profile(A - 1, child_share=0.3)  # (2, A), sums to 10
    truth = project(pop0, sx, asfr, base + level * comp, timing=timing)
    years = [2021, 2023 + 2 / 12, 2026]
    fit = calibrate_level(pop0, sx, asfr, base, dict(zip(years, totals(truth, years))),
                          base_year=2020, component=comp, timing=timing)
    assert fit.method == "linear" and fit.kind == "count"
    assert fit.level == pytest.approx(level, abs=1e-9)
    np.testing.assert_allclose(fit.fitted, fit.targets, rtol=1e-12)
    np.testing.assert_allclose(fit.projection.population, truth.population, rtol=1e-12)
    assert list(fit.to_frame().columns) == ["year", "target", "fitted", "error", "pct_error"]


def test_count_least_squares_of_inconsistent_targets():
    pop0, sx, asfr, base = setup()
    comp = np.ones((2, A))
    years = np.array([2022.0, 2024.0, 2025.5])
    tgt = totals(project(pop0, sx, asfr, base), years) * np.array([1.01, 1.0, 1.03])
    w = {2022: 1.0, 2024: 2.0, 2025.5: 0.5}
    fit = calibrate_level(pop0, sx, asfr, base, dict(zip(years, tgt)), base_year=2020,
                          component=comp, weights=w)
    # totals are affine in the level: weighted least squares by hand from three levels
    f = np.array([totals(project(pop0, sx, asfr, base + x * comp), years) for x in (0, 1, 2)])
    np.testing.assert_allclose(f[2] - f[1], f[1] - f[0], rtol=1e-12)
    g, ww = f[1] - f[0], np.array([1.0, 2.0, 0.5])
    expected = (ww * g * (tgt - f[0])).sum() / (ww * g * g).sum()
    assert fit.level == pytest.approx(expected, rel=1e-12)
    with pytest.raises(InputError, match="misses the .* target"):
        calibrate_level(pop0, sx, asfr, base, dict(zip(years, tgt)), base_year=2020,
                        component=comp, weights=w, rtol=1e-3)


@pytest.mark.parametrize("timing", ["even", "end"])
@pytest.mark.parametrize("n_targets", [1, 3])
def test_exit_rate_recovered(timing, n_targets):
    pop0, sx, asfr, inflow = setup()
    rate = 0.043
    truth = project(pop0, sx, asfr, inflow, timing=timing, out_rates=np.full((2, A), rate))
    years = [2026, 2021, 2023.5][:n_targets]
    fit = calibrate_level(pop0, sx, asfr, inflow, dict(zip(years, totals(truth, years))),
                          base_year=2020, kind="rate", timing=timing)
    assert fit.method == ("brentq" if n_targets == 1 else "minimize_scalar")
    assert fit.level == pytest.approx(rate, abs=1e-8)
    np.testing.assert_allclose(fit.fitted, fit.targets, rtol=1e-9)


def test_rate_on_top_of_base_rates_with_a_profile():
    pop0, sx, asfr, inflow = setup()
    base = np.full((2, A), 0.01)
    prof = np.where((AGES >= 18) & (AGES <= 35), 1.0, 0.2)[None].repeat(2, 0)
    truth = project(pop0, sx, asfr, inflow, out_rates=base + 0.05 * prof)
    years = [2022, 2026]
    fit = calibrate_level(pop0, sx, asfr, inflow, dict(zip(years, totals(truth, years))),
                          base_year=2020, kind="rate", component=prof, out_rates=base)
    assert fit.level == pytest.approx(0.05, abs=1e-8)


def test_unreachable_targets_are_errors():
    pop0, sx, asfr, base = setup()
    comp = np.ones((2, A))
    low = totals(project(pop0, sx, asfr, base), [2026])[0] * 0.9  # needs a negative level
    with pytest.raises(InputError, match=r"no count level in \[0, inf\]") as e:
        calibrate_level(pop0, sx, asfr, base, {2026: low}, base_year=2020, component=comp)
    assert e.value.problems[0].file == "targets"
    fit = calibrate_level(pop0, sx, asfr, base, {2026: low}, base_year=2020, component=comp,
                          bounds=(-np.inf, np.inf))
    assert fit.level < 0
    high = totals(project(pop0, sx, asfr, base), [2026])[0] * 1.1  # more than rate 0 gives
    with pytest.raises(InputError, match=r"no rate level in \[0, 1\].*do not bracket"):
        calibrate_level(pop0, sx, asfr, base, {2026: high}, base_year=2020, kind="rate")
    both = totals(project(pop0, sx, asfr, base), [2024, 2026]) * 1.1
    with pytest.raises(InputError, match="best fit is at the bound 0"):
        calibrate_level(pop0, sx, asfr, base, {2024: both[0], 2026: both[1]},
                        base_year=2020, kind="rate", bounds=(0.0, 0.2))


def test_bad_targets_are_errors():
    pop0, sx, asfr, base = setup()
    comp = np.ones((2, A))
    with pytest.raises(InputError, match="outside the projection 2020..2026"):
        calibrate_level(pop0, sx, asfr, base, {2027: 1e5}, base_year=2020, component=comp)
    with pytest.raises(InputError, match="positive"):
        calibrate_level(pop0, sx, asfr, base, {2024: -1.0}, base_year=2020, component=comp)
    with pytest.raises(InputError, match="does not change"):
        calibrate_level(pop0, sx, asfr, base, {2024: 1e5}, base_year=2020,
                        component=np.zeros((2, A)))


def test_floored_counts_fall_back_to_a_robust_solver():
    pop0, sx, asfr, base = setup()
    comp = -np.where(AGES >= 30, 1.0, 0.0)[None].repeat(2, 0) * 50.0  # big losses floor
    truth = project(pop0, sx, asfr, base + 40.0 * comp)
    assert truth.floored
    tgt = totals(truth, [2026])[0]
    fit = calibrate_level(pop0, sx, asfr, base, {2026: tgt}, base_year=2020, component=comp,
                          bounds=(0.0, 100.0))
    assert fit.method == "brentq" and fit.projection.floored
    assert fit.fitted[0] == pytest.approx(tgt, rel=1e-10)


def test_total_at_interpolates_between_steps():
    pop = np.arange(4, dtype=float)[:, None, None, None] * np.ones((4, 1, 2, 3))  # 0,6,12,18
    np.testing.assert_allclose(total_at(pop, [2000, 2001.5, 2003], 2000), [0, 9, 18])
