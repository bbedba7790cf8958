"""--draws: the reduction to representative futures and the risk after the plan, against
hand-computed values (capacity/plan/futures.py, capacity/plan/stage.py)."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from capacity.plan.futures import representative
from capacity.plan.stage import shortfall_risk


def test_equal_weights_cut_into_equal_slices():
    # nine draws (one year, one unit) with 1, 2, 6 | 10, 11, 15 | 20, 21, 22 pupils, weight
    # 1/9 each, 3 slices of three; slice means 3, 12, 21 → nearest draws 2, 11, 21, each
    # slice carrying 1/3
    totals = [15, 1, 22, 6, 10, 2, 21, 11, 20]              # in no order
    demand = np.array(totals, float).reshape(9, 1, 1)
    kept, w = representative(demand, np.full(9, 1 / 9), 3)
    assert kept.ravel().tolist() == [2, 11, 21]
    assert w.tolist() == pytest.approx([1 / 3] * 3)


def test_a_heavy_draw_keeps_its_weight():
    # draws 10, 20, 30, 40 pupils with weights 0.15, 0.05, 0.7, 0.1 and 2 slices: the sorted
    # cumulative weights 0.15, 0.2, 0.9, 1.0 put 10 and 20 in the first half (0.2), 30 and
    # 40 in the second (0.8); weighted means (1.5 + 1)/0.2 = 12.5 and (21 + 4)/0.8 = 31.25
    # → draws 10 and 30
    demand = np.array([40.0, 10.0, 30.0, 20.0]).reshape(4, 1, 1)
    kept, w = representative(demand, np.array([0.1, 0.15, 0.7, 0.05]), 2)
    assert kept.ravel().tolist() == [10, 30]
    assert w.tolist() == pytest.approx([0.2, 0.8])


def test_few_draws_are_kept_as_they_are():
    demand = np.array([5.0, 1.0]).reshape(2, 1, 1)
    kept, w = representative(demand, np.array([3.0, 1.0]), 5)
    assert kept.ravel().tolist() == [5, 1] and w.tolist() == pytest.approx([0.75, 0.25])


def _result(unserved, unreachable, demand, weights, level):
    data = SimpleNamespace(weights=np.asarray(weights, float),
                           demand=np.asarray(demand, float)[:, None, :])
    f = SimpleNamespace(data=data, sp=SimpleNamespace(service_level=level),
                        unreachable=np.asarray(unreachable, float))
    return SimpleNamespace(formulation=f, unserved=np.asarray(unserved, float),
                           years=np.array([2027, 2028]))


def test_risk_counts_reachable_pupils_beyond_the_service_level():
    # three futures (weights 0.5, 0.3, 0.2), 1,000 pupils a year, level 0.99: 10 may go
    # without a place. 2027: 12, 30, 8 without a place, of which 5, 0, 0 unreachable →
    # reachable 7, 30, 8: only the second future is beyond 10 → P = 0.3; mean 0.5·12 +
    # 0.3·30 + 0.2·8 = 16.6; P80: sorted 8 (0.2), 12 (0.7), 30 (1.0) → 30.
    # 2028: 11, 11, 11, all reachable → beyond 10 (by more than half a pupil) in every
    # future → P = 1.0, mean 11, P80 11.
    r = _result([[12, 11], [30, 11], [8, 11]], [[5, 0], [0, 0], [0, 0]],
                [[1000, 1000]] * 3, [0.5, 0.3, 0.2], 0.99)
    risk = shortfall_risk(r).set_index("year")
    assert risk.loc[2027, "p_shortfall"] == pytest.approx(0.3)
    assert risk.loc[2027, "unserved_mean"] == pytest.approx(16.6)
    assert risk.loc[2027, "unserved_p80"] == 30
    assert risk.loc[2028, "p_shortfall"] == pytest.approx(1.0)
    assert risk.loc[2028, "unserved_p80"] == 11


def test_without_a_service_level_any_reachable_pupil_counts():
    # no level: one reachable pupil without a place is a shortfall; unreachable ones are not
    r = _result([[1, 3], [0, 3]], [[0, 3], [0, 3]], [[100, 100]] * 2, [0.4, 0.6], None)
    risk = shortfall_risk(r).set_index("year")
    assert risk.loc[2027, "p_shortfall"] == pytest.approx(0.4)
    assert risk.loc[2028, "p_shortfall"] == pytest.approx(0.0)


def test_stages_share_a_yearly_budget_they_exceed_together():
    from capacity.plan.run import budget_shares

    cap = {"primary": pd.Series({2028: 60.0, 2029: 20.0}), "junior": pd.Series({2028: 50.0}),
           "senior": pd.Series(dtype=float)}
    # 2028: 60 + 50 = 110 > 100 → shares 100 × 80/130, 100 × 50/130, 0
    shares = budget_shares(cap, 100.0)
    assert shares == pytest.approx({"primary": 800 / 13, "junior": 500 / 13, "senior": 0.0})
    assert budget_shares(cap, 110.0) == {}         # kept in every year: planned as they are
    assert budget_shares(cap, None) == {}
