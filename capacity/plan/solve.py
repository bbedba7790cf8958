"""Solve a stage's plan with HiGHS (``scipy.optimize.milp``), in named steps:

1. ``cost``: the least discounted cost (the linear relaxation bounds it; the MILP over the
   candidates the relaxation opens gives a plan, usually within the gap at once; else the
   full MILP searches on while time is left — the cheaper plan is kept, its gap against
   the better bound);
2. ``nearest``: among plans of that cost, the least pupil-distance (a second MILP with the
   cost as a row: distance enters lexicographically, so it never changes the cost optimum);
   a different plan of the same cost found here, or by a search that excludes the chosen
   one, means the optimum is not unique (``unique``);
3. ``serve``: the plan's buildings fixed and temporary places rounded up to whole places,
   the most pupils they can serve, then the least cost, then the least distance (LPs) — the
   pupils `capacity run plan.toml` places (its optimal allocation is a max flow too).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from .formulation import MONEY, Formulation


@dataclass
class Solution:
    """A solved formulation: variable values, cost and how close to optimal."""

    values: np.ndarray
    cost_cny: float             # discounted objective of the final plan (penalties included)
    bound_cny: float            # a lower bound on the optimum
    gap: float                  # (cost − bound) ÷ cost (NaN without a bound)
    gap_basis: str              # "milp" (finished), "lp" (relaxation), "milp_stopped", "none"
    status: str                 # "optimal" (within mip_gap) or "time limit"
    unique: bool | None         # the least-cost first-stage plan is the only one (None: unknown)
    seconds: float


def _milp(c, cons, f: Formulation, lo, hi, limit: float, gap: float, integer=True):
    if not integer:
        return lp(c, cons, lo, hi, limit)
    return milp(c, constraints=cons, integrality=f.integer, bounds=Bounds(lo, hi),
                options={"disp": False, "time_limit": max(limit, 1.0), "mip_rel_gap": gap})


def lp(c, cons, lo, hi, limit: float):
    """A linear programme by HiGHS's dual simplex (``linprog``; on these flow problems many
    times faster than the same LP through ``milp``, measured 1.8 s against 14 s)."""
    A = sp.vstack([k.A for k in cons]).tocsr()
    rlo = np.concatenate([np.broadcast_to(k.lb, k.A.shape[0]) for k in cons])
    rhi = np.concatenate([np.broadcast_to(k.ub, k.A.shape[0]) for k in cons])
    eq = rlo == rhi
    up, down = ~eq & np.isfinite(rhi), ~eq & np.isfinite(rlo)
    res = linprog(c, A_ub=sp.vstack([A[up], -A[down]]),
                  b_ub=np.concatenate([rhi[up], -rlo[down]]), A_eq=A[eq], b_eq=rhi[eq],
                  bounds=np.c_[lo, hi], method="highs-ds",
                  options={"time_limit": max(limit, 1.0)})
    res.x = res.x if res.status == 0 else None
    return res


def least_cost(f: Formulation, cons, mip_gap: float, limit: float):
    """Step 1: (result, bound, basis, finished). The linear relaxation first (its bound is
    valid for every plan); then the MILP over the candidates the relaxation opens (it stays
    feasible without the others), usually near-optimal in seconds; then, while time is
    left and the gap is above ``mip_gap``, the full MILP, whose dual bound may be better."""
    t0 = time.perf_counter()
    left = lambda: limit - (time.perf_counter() - t0)   # noqa: E731
    relax = _milp(f.c, cons, f, f.lo, f.hi, limit, mip_gap, integer=False)
    bound, basis = (float(relax.fun), "lp") if relax.x is not None else (-np.inf, "none")
    ints = f.integer.astype(bool)
    if relax.x is not None and np.all(f.lo[ints] == f.hi[ints]):   # nothing left to choose
        return relax, bound, "milp", True
    best = None
    if relax.x is not None and len(f.y):
        yv = f.y["var"].to_numpy()
        used = set(f.y["cand"].to_numpy()[relax.x[yv] > 1e-6])
        hi = f.hi.copy()
        hi[yv[~f.y["cand"].isin(used).to_numpy()]] = 0.0
        best = _milp(f.c, cons, f, f.lo, hi, max(left(), 1.0), mip_gap)
        best = best if best.x is not None else None
    gap = lambda r: (r.fun - bound) / max(abs(r.fun), 1e-9)   # noqa: E731
    if best is not None and gap(best) <= mip_gap:
        return best, bound, basis, True
    if left() > 1.0 or best is None:
        full = _milp(f.c, cons, f, f.lo, f.hi, max(left(), 1.0), mip_gap)
        db = getattr(full, "mip_dual_bound", None)
        if full.status == 0:
            fb = float(db) if db is not None and np.isfinite(db) else float(full.fun)
            return full, max(fb, bound), "milp", True
        if db is not None and np.isfinite(db) and db > bound:
            bound, basis = float(db), "milp_stopped"
        if full.x is not None and (best is None or full.fun < best.fun):
            best = full
    if best is None:
        return relax, bound, basis, False
    return best, bound, basis, gap(best) <= mip_gap


def _fixed(f: Formulation, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bounds with the first stage fixed at ``v`` (rounded)."""
    lo, hi = f.lo.copy(), f.hi.copy()
    ints = f.integer.astype(bool)
    lo[ints] = hi[ints] = np.round(v[ints])
    return lo, hi


def _buildings(f: Formulation) -> np.ndarray:
    """Variables of what is built and when (schools, expansions): the plan's decisions
    (the years allowed for temporary places are not: unused, they are arbitrary)."""
    return np.concatenate([f.y["var"].to_numpy(int), f.z["var"].to_numpy(int)])


def _differs(f: Formulation, a: np.ndarray, b: np.ndarray) -> bool:
    k = _buildings(f)
    return bool(np.any(np.round(a[k]) != np.round(b[k])))


def nearest(f: Formulation, cons, v: np.ndarray, cost: float, limit: float, mip_gap: float
            ) -> tuple[np.ndarray, bool | None]:
    """Step 2: the least pupil-distance plan of cost ≤ ``cost`` (its first stage may differ),
    and whether the least-cost first stage is unique (None: not proved either way)."""
    tol = 1e-12 * max(abs(cost), 1.0) + 1e-6     # 万元: never trade money for distance
    budget = LinearConstraint(f.c[None, :], -np.inf, cost + tol)
    res = _milp(f.distance_km, [*cons, budget], f, f.lo, f.hi, limit, mip_gap)
    if res.x is not None and float(f.distance_km @ res.x) < float(f.distance_km @ v) - 1e-6:
        if _differs(f, res.x, v):
            return res.x, False
        v = res.x
    binary = f.y["var"].to_numpy(int)
    if not len(binary) and not len(f.z):
        return v, True
    on = np.round(v[binary]) > 0.5
    # no-good cut: at least one school changes (size, site or year), or an expansion does
    # (z differs from its value: |z − z*| ≥ 1 linearised only for z* = 0 — the common case —
    # so a plan differing only in a non-zero expansion is not excluded: then "unknown")
    zv = f.z["var"].to_numpy(int)
    zero = np.round(v[zv]) == 0
    row = np.zeros(len(f.c))
    row[binary] = np.where(on, -1.0, 1.0)
    row[zv[zero]] = 1.0
    cut = LinearConstraint(row[None, :], 1.0 - on.sum(), np.inf)
    other = _milp(np.zeros(len(f.c)), [*cons, budget, cut], f, f.lo, f.hi, limit / 2, 1.0)
    if other.status == 2:           # infeasible: no other plan of that cost
        return v, True
    return v, (False if other.x is not None else None)


def serve(f: Formulation, cons, v: np.ndarray, limit: float) -> np.ndarray:
    """Step 3: buildings fixed, temporary places ≤ the plan's rounded up, transport only for
    the classes and years the plan transports: most pupils served, then least cost, then
    least distance."""
    lo, hi = _fixed(f, v)
    hv = f.h["var"].to_numpy()
    hi[hv] = np.minimum(hi[hv], np.ceil(v[hv] - 1e-6))
    xt = f.x[f.x["transport"].to_numpy(bool)]
    if len(xt):
        used = (xt.assign(v=v[xt["var"].to_numpy()]).groupby(["cls", "t"])["v"].transform("sum")
                > 1e-6).to_numpy()
        hi[xt["var"].to_numpy()[~used]] = 0.0
    out = v
    objective = [f.served, f.c, f.distance_km]
    rows = list(cons)
    for k, obj in enumerate(objective):
        res = lp(obj, rows, lo, hi, limit)
        if res.x is None:
            break
        out = res.x
        # absolute (pupils; 万元): a relative slack scales with objectives inflated by the
        # service target's penalty, and then lets a step leave a fraction of a pupil
        # unserved, or buy distance with real money
        tol = 1e-6 if k == 0 else 1e-12 * max(abs(res.fun), 1.0) + 1e-6
        rows = rows + [LinearConstraint(obj[None, :], -np.inf, float(res.fun) + tol)]
    return out


def solve(f: Formulation, mip_gap: float = 1e-3, time_limit_s: float = 60.0,
          tie_break: bool = True) -> Solution:
    """The plan of a formulation: least cost, nearest among equals, served as a max flow."""
    t0 = time.perf_counter()
    if not len(f.c):                  # no option and nobody reachable: nothing to decide
        cost = f.constant_cny
        return Solution(np.zeros(0), cost, cost, 0.0, "milp", "optimal", True, 0.0)
    cons = [LinearConstraint(f.A, f.row_lo, f.row_hi)]
    res, bound, basis, finished = least_cost(f, cons, mip_gap, time_limit_s)
    if res.x is None:        # nothing found in time: build nothing, place what exists
        v, basis = np.zeros(len(f.c)), "none"
    else:
        v = res.x.copy()
    lo, hi = _fixed(f, v)
    v = np.clip(np.where(f.integer.astype(bool), np.round(v), v), lo, hi)
    unique = None
    left = time_limit_s - (time.perf_counter() - t0)
    if tie_break and finished and f.integer.any() and left > 0 and f.data.demand.shape[0] == 1:
        v2, unique = nearest(f, cons, v, float(f.c @ v), left, mip_gap)
        v = np.where(f.integer.astype(bool), np.round(v2), v2)
    v = serve(f, cons, v, time_limit_s)
    whole = np.abs(v - np.round(v)) < 1e-5          # solver noise on a network LP's vertex
    v[whole] = np.round(v[whole])
    cost = float(f.c @ v)
    cost, bound = cost + f.constant_cny / MONEY, bound + f.constant_cny / MONEY
    gap = max(cost - bound, 0.0) / max(abs(cost), 1e-9) if np.isfinite(bound) else np.nan
    return Solution(v, cost * MONEY, bound * MONEY, gap, basis,
                    "optimal" if finished else "time limit", unique,
                    time.perf_counter() - t0)
