"""Plan benchmark: `capacity plan` on the Tongzhou baseline, every stage to 2035.

Prints the time of the whole plan (run + candidates + formulation + solves) and per stage,
the solver's status and gap; then, for one stage (kindergarten: a single MILP, no strict
phase), the same formulation solved by HiGHS (scipy.optimize.milp, as the plan does without
its candidate restriction) and by PuLP + CBC, with the ratio of their solve times and their
objectives. PuLP is a bench-only dependency (``pip install pulp`` or the ``bench`` extra).
Run: ``PYTHONPATH=. python benchmarks/bench_plan.py [--stage kindergarten]``.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from capacity.plan.candidates import read_sites, stage_candidates
from capacity.plan.formulation import Formulation, formulate
from capacity.plan.params import plan_params
from capacity.plan.run import make_plan
from capacity.plan.solve import solve

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"


def solve_pulp(f: Formulation, time_limit_s: float) -> tuple[float, float, str]:
    """(objective, solve seconds, status) of the same MILP in PuLP + CBC."""
    import pulp

    prob = pulp.LpProblem("plan", pulp.LpMinimize)
    v = [pulp.LpVariable(f"v{i}", lowBound=float(f.lo[i]), upBound=float(f.hi[i]),
                         cat="Binary" if f.integer[i] else "Continuous")
         for i in range(len(f.c))]
    prob += pulp.lpSum(float(c) * v[i] for i, c in enumerate(f.c) if c)
    A = f.A.tocsr()
    for r in range(A.shape[0]):
        cols, vals = A.indices[A.indptr[r]:A.indptr[r + 1]], A.data[A.indptr[r]:A.indptr[r + 1]]
        expr = pulp.lpSum(float(a) * v[j] for j, a in zip(cols, vals))
        lo, hi = f.row_lo[r], f.row_hi[r]
        if lo == hi:
            prob += expr == float(hi)
        else:
            if np.isfinite(hi):
                prob += expr <= float(hi)
            if np.isfinite(lo):
                prob += expr >= float(lo)
    t = time.perf_counter()
    prob.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s, gapRel=1e-3))
    return float(pulp.value(prob.objective)), time.perf_counter() - t, \
        pulp.LpStatus[prob.status]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stage", default="kindergarten")
    ap.add_argument("--time-limit", type=float, default=120.0)
    args = ap.parse_args()
    t = time.perf_counter()
    plan = make_plan(BASELINE)
    total = time.perf_counter() - t
    print(f"Tongzhou baseline plan, every stage to 2035: {total:.1f} s")
    for r in plan.summary.itertuples():
        print(f"  {r.stage:<13} {plan.timings[r.stage]:>6.1f} s  {r.status:<10} gap {r.gap:6.1%} "
              f"({r.gap_basis})  "
              f"{r.variables:>7,} variables, {r.binaries:>4} binaries, {r.classes:,} classes")
    state, params = plan.state, plan_params(plan.state)
    cand = stage_candidates(state, params, args.stage, read_sites(state, params))
    f = formulate(state, params, args.stage, cand)
    sol = solve(f, 1e-3, args.time_limit, tie_break=False, restrict=False)
    highs = sol.seconds
    try:
        obj, cbc, status = solve_pulp(f, args.time_limit)
    except ImportError:
        print("PuLP is not installed (pip install pulp): no CBC comparison")
        return
    print(f"{args.stage}, the same MILP ({len(f.c):,} variables): HiGHS {highs:.1f} s "
          f"({sol.status}, CNY {sol.cost_cny / 1e8:.4f} 亿); PuLP + CBC {cbc:.1f} s "
          f"({status}, CNY {obj * 1e4 / 1e8:.4f} 亿); CBC / HiGHS = {cbc / highs:.2f}")


if __name__ == "__main__":
    main()
