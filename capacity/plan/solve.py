"""Solve a stage's plan with HiGHS (``scipy.optimize.milp``), lexicographically: least cost,
then — the schools chosen held fixed — least pupil-distance at that cost (an LP).

The full MILP is solved first; when it finishes within the time limit its gap is the
solver's own (dual bound). When it stops at the limit, the linear relaxation is solved, the
MILP is searched again over the candidates the relaxation opens, the cheaper plan is kept and
its gap is against the relaxation's bound (``gap_basis``)."""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from .formulation import MONEY, Formulation


@dataclass
class Solution:
    """A solved formulation: variable values, cost and how close to optimal."""

    values: np.ndarray
    cost_cny: float             # objective (penalties included) of the chosen plan
    bound_cny: float            # solver's lower bound on the objective
    gap: float                  # (cost − bound) ÷ cost (NaN without a bound)
    gap_basis: str              # bound of: "milp" the finished MILP, "lp" the relaxation,
    #                             "milp_stopped" the MILP stopped at the time limit
    status: str                 # "optimal" (within mip_gap) or "time limit"
    seconds: float


class PlanSolveError(RuntimeError):
    """The solver found no plan (should not happen: doing nothing is always feasible)."""


def solve(f: Formulation, mip_gap: float = 1e-3, time_limit_s: float = 60.0,
          tie_break: bool = True, restrict: bool = True, full: bool = True) -> Solution:
    """Least-cost plan, then least pupil-distance among plans of that cost and those schools
    (``full=False``: skip the full MILP, as if it had stopped without a plan)."""
    t0 = time.perf_counter()
    cons = LinearConstraint(f.A, f.row_lo, f.row_hi)
    c = f.c
    if f.strict and len(f.u):
        # the penalty exceeds every option: first the fewest pupil-years unserved with every
        # candidate open (an LP), then the least cost that reaches it (penalty as a row)
        served = np.zeros_like(f.c)
        served[f.u["var"].to_numpy()] = 1.0
        lp = milp(served, constraints=cons, bounds=Bounds(f.lo, f.hi),
                  options={"disp": False, "time_limit": time_limit_s})
        least = float(lp.fun) if lp.x is not None else np.inf
        cons = [cons, LinearConstraint(served[None, :], -np.inf, least + 1e-6 + 1e-9 * least)]
    opts = {"disp": False, "time_limit": time_limit_s}
    hi, bound_lp, basis = f.hi, -np.inf, "milp"
    # the full MILP first: when it finishes, its dual bound is the solver's proof
    res = milp(c, constraints=cons, integrality=f.integer, bounds=Bounds(f.lo, f.hi),
               options={**opts, "mip_rel_gap": mip_gap}) if full else None
    first, finished = res, res is not None and res.status == 0
    if not finished and restrict and f.integer.any():
        # stopped by the time limit: the linear relaxation bounds the optimum; candidates it
        # leaves closed are dropped (its solution stays feasible without them), which
        # shrinks the search; the better of the two plans is kept
        relax = milp(c, constraints=cons, bounds=Bounds(f.lo, f.hi), options=opts)
        if relax.x is not None:
            bound_lp, basis = float(relax.fun), "lp"
            yv = f.y["var"].to_numpy()
            used = set(f.y["cand"].to_numpy()[relax.x[yv] > 1e-6])
            hi = f.hi.copy()
            hi[yv[~f.y["cand"].isin(used).to_numpy()]] = 0.0
            small = milp(c, constraints=cons, integrality=f.integer,
                         bounds=Bounds(f.lo, hi), options={**opts, "mip_rel_gap": mip_gap})
            if small.x is not None and (res is None or res.x is None or small.fun < res.fun):
                res = small
            else:
                hi = f.hi
    if res is None or res.x is None:
        raise PlanSolveError("HiGHS found no plan: "
                             + (res.message if res is not None else "no search ran"))
    v = res.x.copy()
    ints = f.integer.astype(bool)
    v[ints] = np.round(v[ints])
    cost = float(f.c @ v)
    stopped = getattr(first, "mip_dual_bound", None)
    stopped = float(stopped) if stopped is not None and np.isfinite(stopped) else -np.inf
    if finished:
        bound = stopped if np.isfinite(stopped) else cost
    else:     # the better of two valid bounds: the relaxation's, the stopped search's
        tol = 1e-9 * abs(bound_lp) if np.isfinite(bound_lp) else 0.0
        bound, basis = (stopped, "milp_stopped") if stopped > bound_lp + tol \
            else (bound_lp, "lp")
        if not np.isfinite(bound):
            basis = "none"
    if tie_break and len(v):
        lo, hi = f.lo.copy(), hi.copy()
        lo[ints] = hi[ints] = v[ints]
        budget = LinearConstraint(f.c[None, :], -np.inf, cost + 1e-7 * max(abs(cost), 1.0))
        lp = milp(f.distance_km, constraints=[*np.atleast_1d(cons), budget], bounds=Bounds(lo, hi),
                  options={"disp": False, "time_limit": time_limit_s})
        if lp.x is not None:
            v = lp.x
            v[ints] = np.round(v[ints])
    gap = max(cost - bound, 0.0) / max(abs(cost), 1e-9) if np.isfinite(bound) else np.nan
    return Solution(v, cost * MONEY, bound * MONEY, gap, basis,
                    "optimal" if finished else "time limit", time.perf_counter() - t0)
