"""The disaggregated linking rows (``assemble(..., strong=True)``: x[a→j, t] ≤ d · open[j, t])
tighten the plan's LP bound without cutting off any plan: on small random StageData
instances, weak LP bound ≤ strong LP bound ≤ MILP optimum, and the weak and strong MILPs
have the same optimum (solved independently by HiGHS, without the plan's restricted search)."""
from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from capacity.plan.data import StageData
from capacity.plan.formulation import assemble
from capacity.plan.params import PlanParams, StagePlan


def random_instance(seed: int, strong: bool):
    rng = np.random.default_rng(seed)
    C, S, J, T = (int(v) for v in (rng.integers(1, 6), rng.integers(0, 3), rng.integers(1, 4),
                                   rng.integers(2, 5)))
    W = int(rng.integers(1, 3))
    demand = rng.integers(1, 60, (W, C, T)).astype(float)
    pairs = {(c, s) for c in range(C) for s in range(S + J) if rng.random() < 0.6}
    arcs = pd.DataFrame(sorted(pairs), columns=["cls", "site"]) if pairs else \
        pd.DataFrame({"cls": [0], "site": [S]})
    arcs["transport"] = rng.random(len(arcs)) < 0.2
    arcs["distance_m"] = rng.uniform(100, 3000, len(arcs))
    years = 2021 + np.arange(T)
    data = StageData(
        years=years, demand=demand, weights=np.full(W, 1.0 / W), arcs=arcs,
        eligible=rng.random((C, T)) < 0.7, places=rng.integers(0, 40, (S, T)).astype(float),
        expand_max=rng.integers(0, 3, S),
        cand_sizes=[tuple(sorted({int(m) for m in rng.choice([1, 2, 3], rng.integers(1, 3))}))
                    for _ in range(J)],
        cand_earliest=rng.integers(2021, 2021 + T, J))
    sp = StagePlan("primary", 15, int(rng.integers(1, 4)), 1000.0 * rng.uniform(1, 5),
                   (1, 2, 3), lead_years=1, construction_years=1, expansion_lead_years=1,
                   opening=str(rng.choice(["full", "grade_by_grade"])),
                   temporary_cost_per_place_year=300.0, temporary_share=0.3,
                   temporary_max_years=int(rng.integers(1, 3)),
                   transport_cost_per_pupil_year=500.0,
                   service_level=[None, 0.9][int(rng.integers(0, 2))],
                   max_cost_per_pupil_year=float(rng.choice([2000.0, 20000.0, 200000.0])))
    params = PlanParams(start_year=2021, min_use=float(rng.choice([0.0, 0.3])),
                        min_use_years=2)
    return assemble(data, sp, params, strong=strong)


def optimum(f, relax: bool) -> float:
    if not len(f.c):                   # nothing reachable and nothing to build: cost 0
        return 0.0
    res = milp(f.c, constraints=LinearConstraint(f.A, f.row_lo, f.row_hi),
               integrality=None if relax else f.integer, bounds=Bounds(f.lo, f.hi),
               options={"mip_rel_gap": 0.0, "disp": False})
    assert res.status == 0, res.message
    return float(res.fun)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31))
def test_strong_lp_bound_between_weak_bound_and_optimum(seed):
    weak, strong = random_instance(seed, False), random_instance(seed, True)
    assert strong.A.shape[1] >= weak.A.shape[1] and strong.A.shape[0] >= weak.A.shape[0]
    assert strong.integer.sum() == weak.integer.sum()
    lp_weak, lp_strong = optimum(weak, True), optimum(strong, True)
    best_weak, best_strong = optimum(weak, False), optimum(strong, False)
    tol = 1e-6 * max(1.0, abs(best_weak))
    assert abs(best_weak - best_strong) <= tol          # no integer plan is cut off
    assert lp_weak <= lp_strong + tol
    assert lp_strong <= best_strong + tol


def test_strong_bound_is_tighter_somewhere():
    """The rows are not vacuous: on some instances the strong bound is strictly higher."""
    gains = [optimum(random_instance(s, True), True) - optimum(random_instance(s, False), True)
             for s in range(40)]
    assert max(gains) > 1e-6
