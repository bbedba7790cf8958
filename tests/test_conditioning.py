"""The ensemble's conditioning on observations (capacity/ensemble/conditioning.py):
weights, weighted quantiles, P(shortfall) against thresholds, recovery of a known parameter."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from capacity.demography import exit_profile, project
from capacity.ensemble.aggregate import weighted_quantile
from capacity.ensemble.conditioning import (Conditioning, how_sure, log_likelihood,
                                            normalised, observations_table, shortfall_risk,
                                            worst_zone_risk)


def test_weighted_quantile_by_hand_and_equal_weights():
    v = np.array([3.0, 1.0, 2.0])
    w = np.array([0.8, 0.1, 0.1])         # sorted: 1 (0.1), 2 (0.1), 3 (0.8)
    assert weighted_quantile(v, w, 0.1) == 1.0
    assert weighted_quantile(v, w, 0.2) == 2.0
    assert weighted_quantile(v, w, 0.5) == 3.0
    x = np.random.default_rng(0).normal(size=(57, 4))
    np.testing.assert_array_equal(weighted_quantile(x, np.full(57, 1 / 57), [0.1, 0.5, 0.9]),
                                  np.quantile(x, [0.1, 0.5, 0.9], axis=0,
                                              method="inverted_cdf"))


def test_log_likelihood_and_weights_by_hand():
    sim = np.array([[100.0, 110.0]])
    obs = np.array([[100.0, 100.0]])
    ll = log_likelihood(sim, obs, np.array([0.1]))
    np.testing.assert_allclose(ll, [0.0, -0.5 * (np.log(1.1) / 0.1) ** 2])
    w = normalised(ll)
    assert w.sum() == pytest.approx(1.0)
    assert w[0] / w[1] == pytest.approx(np.exp(0.5 * (np.log(1.1) / 0.1) ** 2))


def test_conditioning_recovers_a_known_exit_level():
    # A population projected with exits at a known level gives "observed" totals (with a
    # small error); draws of the level from a wide prior, weighted by their fit, must
    # concentrate near it (posterior mean within 0.003, 80 % interval covering it).
    A = 61
    ages = np.arange(A)
    sx = np.broadcast_to(np.clip(1 - 0.0004 * np.exp(0.085 * ages), 0.5, 1), (2, A)).copy()
    pop0 = np.broadcast_to(20_000 * np.exp(-0.01 * ages), (2, A)).copy()
    asfr = np.where((ages >= 20) & (ages < 40), 0.05, 0.0)
    inflow = np.broadcast_to(3_000 * np.exp(-0.5 * ((ages - 25) / 6) ** 2), (2, A))
    shape = exit_profile(pop0)
    T, truth = 4, 0.05
    rng = np.random.default_rng(7)
    levels = rng.uniform(0.0, 0.12, 300)
    N = len(levels)
    p = project(np.broadcast_to(pop0, (N, 2, A)), sx, np.broadcast_to(asfr, (T, N, A)),
                np.broadcast_to(inflow, (T, N, 2, A)), srb=1.06,
                out_rates=levels[:, None, None] * shape)
    sim = p.population.sum(axis=(2, 3))[[2, 4]]                       # (2, N) two totals
    true = project(pop0[None], sx, np.broadcast_to(asfr, (T, 1, A)),
                   np.broadcast_to(inflow, (T, 1, 2, A)), srb=1.06,
                   out_rates=truth * shape[None]).population.sum(axis=(1, 2, 3))[[2, 4]]
    obs = true * np.exp(np.array([0.002, -0.001]))
    w = normalised(log_likelihood(sim, np.broadcast_to(obs[:, None], sim.shape),
                                  np.array([0.005, 0.005])))
    assert (w * levels).sum() == pytest.approx(truth, abs=0.003)
    lo, hi = weighted_quantile(levels, w, [0.1, 0.9])
    assert lo <= truth <= hi and hi - lo < 0.02        # much narrower than the prior
    assert 3 < 1 / (w ** 2).sum() < N                   # ESS: some draws, not all


def test_observations_table_reports_weighted_quantiles():
    cond = Conditioning(pd.DataFrame({"indicator": ["population"], "year": [2023.0]}),
                        np.array([[90.0, 100.0, 110.0, 200.0]]), np.full((1, 4), 100.0),
                        np.array([0.01]), np.array([0.25, 0.5, 0.25, 0.0]))
    t = observations_table(cond)
    assert list(t.columns[:6]) == ["indicator", "year", "observed", "p10", "p50", "p90"]
    assert (t.loc[0, "p10"], t.loc[0, "p50"], t.loc[0, "p90"]) == (90.0, 100.0, 110.0)
    assert cond.ess == pytest.approx(1 / (0.25 ** 2 * 2 + 0.25))


def test_observations_in_order_and_few_draws_flagged():
    """Rows sorted by indicator and year whatever the table's order; an ESS below a tenth
    of the draws is 'few' (the manifest warns and the report says so): 2.9 of 30 is, 3.0
    of 30 is not."""
    from capacity.ensemble.conditioning import few_draws

    t = pd.DataFrame({"indicator": ["births", "births", "population"],
                      "year": [2023.0, 2021.0, 2022.0]})
    cond = Conditioning(t, np.ones((3, 2)), np.ones((3, 2)), np.full(3, 0.01),
                        np.array([0.5, 0.5]))
    o = observations_table(cond)
    assert list(zip(o["indicator"], o["year"])) == [("births", 2021.0), ("births", 2023.0),
                                                    ("population", 2022.0)]
    assert few_draws(2.9, 30) and not few_draws(3.0, 30)


def test_shortfall_risk_uses_the_weights_per_zone_and_threshold():
    # 3 draws, 1 year, 2 zones, 1 stage; zone a short by 600 in draw 0 only (weight 0.7)
    short = np.zeros((3, 1, 2, 1), np.int64)
    short[0, 0, 0, 0] = 600
    short[1, 0, 1, 0] = 1500
    w = np.array([0.7, 0.2, 0.1])
    r = shortfall_risk(short, w, [2030], ["a", "b"], ["primary"]).set_index("zone_id")
    assert r.at["a", "p_short_gt_500"] == pytest.approx(0.7)
    assert r.at["a", "p_short_gt_1000"] == 0
    assert r.at["b", "p_short_gt_1000"] == pytest.approx(0.2)
    assert r.at["ALL", "p_short_gt_1000"] == pytest.approx(0.2)
    assert r.at["ALL", "p_short_gt_500"] == pytest.approx(0.9)
    worst = worst_zone_risk(r.reset_index(), "primary")
    assert list(worst["zone_id"])[0] == "ALL" or worst.iloc[0]["p_short_gt_1000"] == 0.2
    assert how_sure(0.95) == "very likely" and how_sure(0.5, "zh") == "可能性约一半"
