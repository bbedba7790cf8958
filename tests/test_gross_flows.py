"""Exits by age, gross inflow, anchored births and the [migration] scale semantics (issue 21),
against hand-computed values and synthetic data with known parameters."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from capacity.demography import (ROGERS_CASTRO_EXITS, birth_factors, calibrate_level,
                                 cohort_residual, exit_profile, project, rogers_castro)
from capacity.model import load_model
from capacity.projection import migration, out_rates, pivot
from capacity.scenario import default_scenario

ROOT = Path(__file__).resolve().parents[1]
A = 61


def test_exit_schedule_matches_hand_computed_values():
    # m(x) = 0.02 e^{-0.1x} + 0.06 exp(-0.1(x-20) - e^{-0.4(x-20)}), c = 0, by hand:
    # x = 0: 0.02 (the labour term is e^{2 - e^8} ~ 0); x = 20: 0.02 e^{-2} + 0.06 e^{-1}
    # = 0.0027067 + 0.0220728; x = 65: 0.02 e^{-6.5} + 0.06 e^{-4.5} = 3.0068e-5 + 6.6654e-4
    m = rogers_castro(np.array([0, 20, 65]), **ROGERS_CASTRO_EXITS)
    np.testing.assert_allclose(m, [0.02, 0.0247795, 6.96608e-4], rtol=1e-5)
    # normalised to mean 1 over a population: uniform population -> mean over ages 0..60
    pop = np.ones((2, A))
    prof = exit_profile(pop)
    assert prof.mean() == pytest.approx(1.0, rel=1e-12)
    assert prof[0, 20] / prof[0, 0] == pytest.approx(0.0247795 / 0.02, rel=1e-5)
    # the family relation: children leave at the parents' pace, the elderly hardly at all
    assert prof[0, 5] > prof[0, 40] > 5 * prof[0, 60]


def _census(pop: np.ndarray, year: int) -> pd.DataFrame:
    return pd.DataFrame({"year": year, "sex": np.repeat(["F", "M"], A),
                         "age": np.tile(np.arange(A), 2), "population": pop.reshape(-1)})


def _synthetic():
    ages = np.arange(A)
    sx = np.broadcast_to(np.clip(1 - 0.0004 * np.exp(0.085 * ages), 0.5, 1), (2, A)).copy()
    pop0 = np.broadcast_to(20_000 * np.exp(-0.01 * ages), (2, A)).copy()
    asfr = np.where((ages >= 20) & (ages < 40), 0.06, 0.0)
    inflow = np.broadcast_to(3_000 * np.exp(-0.5 * ((ages - 25) / 6) ** 2)
                             + 400 * np.exp(-0.2 * ages), (2, A)).copy()
    shape = exit_profile(pop0)
    return sx, pop0, asfr, inflow, shape


def test_known_gross_flows_are_recovered_from_two_synthetic_censuses():
    # Census 1 carried 10 years with a known inflow and exits 4 % x the exit pattern gives
    # census 2; with those exits the residual must return the inflow (single ages: exact),
    # and 4 later totals must return the exit level.
    sx, pop0, asfr, inflow, shape = _synthetic()
    level = 0.04
    rates = level * shape
    p = project(pop0[None], sx, np.broadcast_to(asfr, (14, 1, A)),
                np.broadcast_to(inflow, (14, 1, 2, A)), srb=1.06, timing="even",
                out_rates=rates[None])
    fit = cohort_residual(_census(pop0, 2000), _census(p.population[10, 0], 2010), sx,
                          asfr=asfr, srb=1.06, out_rates=rates, smooth=None, nonneg=False)
    np.testing.assert_allclose(fit.net, inflow, rtol=1e-6, atol=1e-3)
    # net of the decade (the NET residual) is not the gross inflow: exits are large
    net = cohort_residual(_census(pop0, 2000), _census(p.population[10, 0], 2010), sx,
                          asfr=asfr, srb=1.06, smooth=None, nonneg=False).net
    assert net.sum() < 0.8 * inflow.sum()
    targets = {2012.0: float(p.population[12].sum()), 2014.0: float(p.population[14].sum())}
    lf = calibrate_level(p.population[10], sx, np.broadcast_to(asfr, (4, 1, A)),
                         np.broadcast_to(inflow, (4, 1, 2, A)), targets, base_year=2010,
                         kind="rate", component=shape, srb=1.06, timing="even",
                         bounds=(0.0, 0.5))
    assert lf.level == pytest.approx(level, abs=1e-6)
    # a schedule shifted by one year of age is not the one that made the data
    shifted = np.roll(shape, 1, axis=-1)
    lf2 = calibrate_level(p.population[10], sx, np.broadcast_to(asfr, (4, 1, A)),
                          np.broadcast_to(inflow, (4, 1, 2, A)), targets, base_year=2010,
                          kind="rate", component=shifted, srb=1.06, timing="even",
                          bounds=(0.0, 0.5))
    assert abs(lf2.level - level) > 1e-4 or np.abs(lf2.fitted - lf2.targets).max() > 1


def test_birth_factors_reproduce_given_births():
    sx, pop0, asfr, inflow, shape = _synthetic()
    T = 5
    a = np.broadcast_to(asfr, (T, 1, A))
    m = np.broadcast_to(inflow, (T, 1, 2, A))
    plain = project(pop0[None], sx, a, m, srb=1.06, out_rates=0.03 * shape[None])
    b = plain.births.sum(axis=(1, 2))
    # analytic: births are linear in the year's ASFR, so twice the births = factor 2
    f = birth_factors(pop0[None], sx, a, m, {2022: 2 * b[1]}, base_year=2020, srb=1.06,
                      out_rates=0.03 * shape[None])
    assert f[2022] == pytest.approx(2.0, rel=1e-12)
    goal = {2021: 1000.0, 2022: 900.0, 2023: 950.0, 2024: 1100.0}
    f = birth_factors(pop0[None], sx, a, m, goal, base_year=2020, srb=1.06,
                      out_rates=0.03 * shape[None])
    scale = np.array([f[2021], f[2022], f[2023], f[2024], 1.0])
    got = project(pop0[None], sx, a * scale[:, None, None], m, srb=1.06,
                  out_rates=0.03 * shape[None]).births.sum(axis=(1, 2))
    np.testing.assert_allclose(got[:4], list(goal.values()), rtol=1e-10)
    assert got[4] == pytest.approx(b[4], rel=0.05)   # the fifth year is left alone


def test_migration_scale_multiplies_inflow_and_exits_exit_scale_only_exits():
    model = load_model(ROOT / "models" / "tongzhou")
    sc = default_scenario(model.path, 2025)
    steps = np.arange(2021, 2026)
    base_in = pivot(model.migration, "inflow", model.zone_ids, model.open_age + 1)
    base_out = pivot(model.migration, "out_rate", model.zone_ids, model.open_age + 1)
    two = replace(sc, migration_scale=2.0)
    np.testing.assert_allclose(out_rates(model, two), np.minimum(2 * base_out, 1))
    housing = migration(model, sc, steps) - base_in[None]
    np.testing.assert_allclose(migration(model, two, steps) - housing,
                               np.broadcast_to(2 * base_in, housing.shape))
    ex = replace(sc, exit_scale=0.5)
    np.testing.assert_allclose(out_rates(model, ex), 0.5 * base_out)
    np.testing.assert_allclose(migration(model, ex, steps), migration(model, sc, steps))
    # flattening keeps each zone's crude exit rate on the base population
    flat = out_rates(model, replace(sc, exit_flatten=1.0))
    pop0 = pivot(model.population, "count", model.zone_ids, model.open_age + 1)
    crude = (base_out * pop0).sum(axis=(1, 2)) / pop0.sum(axis=(1, 2))
    np.testing.assert_allclose(flat[:, 0, 30], crude)
    np.testing.assert_allclose((flat * pop0).sum(axis=(1, 2)) / pop0.sum(axis=(1, 2)), crude)


def test_tongzhou_exits_are_age_specific_and_65_plus_keep_the_residual_sign():
    m = pd.read_csv(ROOT / "models" / "tongzhou" / "migration.csv")
    d = m[m["zone_id"] == m["zone_id"].iloc[0]].set_index(["sex", "age"])["out_rate"]
    assert d[("F", 23)] > 3 * d[("F", 45)] > 30 * d[("F", 70)]   # peak in the 20s, low elderly
    assert d[("F", 0)] > d[("F", 12)]                              # family component
