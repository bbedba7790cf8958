"""The exact catchment model: single sourcing with flow-based contiguity, on HiGHS
(``scipy.optimize.milp``), solved lexicographically (docs/catchments.md).

Variables: ``x[a]`` (unit → school on arc ``a``), ``z[u]`` (unit left unassigned),
``e[t, s] ≥ 0`` (excess), and per school a single-commodity flow (Shirabe 2005; Duque,
Church & Middleton 2011): ``r[s, u]`` picks one root unit, the source sends ``g[s, u] ≤
n_s r[s, u]`` into it, ``f[s, u → v] ≥ 0`` runs along adjacent units that may both join
``s``, and every unit assigned to ``s`` consumes one unit of flow::

    Σ_a∈u x[a] + z[u] = 1                                  every unit, once
    Σ_u d[t, u] x[u, s] − e[t, s] ≤ cap[t, s]               places (+ tolerance)
    Σ_u r[s, u] ≤ 1,   r[s, u] ≤ x[u, s],   g[s, u] ≤ n_s r[s, u]
    g[s, u] + Σ f[s, · → u] − Σ f[s, u → ·] = x[u, s]       conservation
    Σ f[s, · → u] ≤ (n_s − 1) x[u, s]                       flow only through s's units

so every catchment is connected and holds a root. Levels: (1) min Σ e + Σ d z; fix;
(2) min pupil-distance; fix within ``1 + distance_slack``; (3) min pupils moved.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from .problem import Instance

#: Relative gap at which a level's search stops.
MIP_GAP = 1e-6


@dataclass
class ExactResult:
    """A solved instance: the map, the level-1 bound and whether it was proved."""

    school_of: np.ndarray     # (U,) school or -1
    bound: float              # lower bound on level 1 (unserved)
    optimal: bool             # every level finished within the time limit
    seconds: float


class Formulation:
    """The matrices of the model for one instance."""

    def __init__(self, inst: Instance) -> None:
        n_u, n_s, n_t = inst.n_units, inst.n_schools, inst.demand.shape[0]
        A = len(inst.unit)
        # root pairs (school, unit) with an arc
        rs = np.concatenate([np.full(len(r), s) for s, r in enumerate(inst.roots)] or
                            [np.zeros(0, np.int64)]).astype(np.int64)
        ru = np.concatenate(list(inst.roots) or [np.zeros(0, np.int64)]).astype(np.int64)
        ra = inst.arc_of(ru, rs)
        keep = ra >= 0
        rs, ru, ra = rs[keep], ru[keep], ra[keep]
        # flow edges: arc a = (u, s), neighbour v of u with an arc (v, s)
        deg = inst.adj_ptr[inst.unit + 1] - inst.adj_ptr[inst.unit]
        fa = np.repeat(np.arange(A), deg)
        off = np.arange(len(fa)) - np.repeat(np.cumsum(deg) - deg, deg)
        fv = inst.adj_idx[inst.adj_ptr[inst.unit][fa] + off] if len(fa) else fa
        fb = inst.arc_of(fv, inst.school[fa])
        ok = fb >= 0
        fa, fb = fa[ok], fb[ok]           # flow from arc fa's unit to arc fb's unit
        n_of = np.bincount(inst.school, minlength=n_s).astype(float)
        R, F, TS = len(ra), len(fa), n_t * n_s
        self.ix = {"x": 0, "z": A, "e": A + n_u, "r": A + n_u + TS, "g": A + n_u + TS + R,
                   "f": A + n_u + TS + 2 * R}
        nv = A + n_u + TS + 2 * R + F
        self.n_vars, self.A, self.R = nv, A, R
        X, Z, E, Rv, G, Fv = (self.ix[k] for k in ("x", "z", "e", "r", "g", "f"))
        rows, cols, vals, lo, hi = [], [], [], [], []
        r0 = 0

        def add(r, c, v):
            rows.append(np.asarray(r, np.int64))
            cols.append(np.asarray(c, np.int64))
            vals.append(np.broadcast_to(np.asarray(v, float), np.shape(r)).astype(float))

        # assignment
        add(inst.unit + r0, X + np.arange(A), 1.0)
        add(np.arange(n_u) + r0, Z + np.arange(n_u), 1.0)
        lo.append(np.ones(n_u)); hi.append(np.ones(n_u)); r0 += n_u
        # capacity per (t, s)
        cap = inst.cap
        for t in range(n_t):
            add(inst.school + r0, X + np.arange(A), inst.demand[t, inst.unit])
            add(np.arange(n_s) + r0, E + t * n_s + np.arange(n_s), -1.0)
            lo.append(np.full(n_s, -np.inf)); hi.append(cap[t].astype(float)); r0 += n_s
        # one root per school
        add(rs + r0, Rv + np.arange(R), 1.0)
        lo.append(np.full(n_s, -np.inf)); hi.append(np.ones(n_s)); r0 += n_s
        # r <= x
        add(np.arange(R) + r0, Rv + np.arange(R), 1.0)
        add(np.arange(R) + r0, X + ra, -1.0)
        lo.append(np.full(R, -np.inf)); hi.append(np.zeros(R)); r0 += R
        # g <= n_s r
        add(np.arange(R) + r0, G + np.arange(R), 1.0)
        add(np.arange(R) + r0, Rv + np.arange(R), -n_of[rs])
        lo.append(np.full(R, -np.inf)); hi.append(np.zeros(R)); r0 += R
        # conservation per arc
        add(ra + r0, G + np.arange(R), 1.0)
        add(fb + r0, Fv + np.arange(F), 1.0)
        add(fa + r0, Fv + np.arange(F), -1.0)
        add(np.arange(A) + r0, X + np.arange(A), -1.0)
        lo.append(np.zeros(A)); hi.append(np.zeros(A)); r0 += A
        # inflow only into assigned units
        add(fb + r0, Fv + np.arange(F), 1.0)
        add(np.arange(A) + r0, X + np.arange(A), -(n_of[inst.school] - 1))
        lo.append(np.full(A, -np.inf)); hi.append(np.zeros(A)); r0 += A
        self.matrix = sp.csr_array((np.concatenate(vals),
                                    (np.concatenate(rows), np.concatenate(cols))),
                                   shape=(r0, nv))
        self.lo, self.hi = np.concatenate(lo), np.concatenate(hi)
        self.integrality = np.zeros(nv)
        self.integrality[X:X + A] = 1
        self.integrality[Z:Z + n_u] = 1
        self.integrality[Rv:Rv + R] = 1
        self.ub = np.full(nv, np.inf)
        self.ub[X:X + A] = 1
        self.ub[Z:Z + n_u] = 1
        self.ub[Rv:Rv + R] = 1
        w = inst.weight.astype(float)
        self.level = [np.zeros(nv) for _ in range(3)]
        self.level[0][E:E + TS] = 1.0
        self.level[0][Z:Z + n_u] = w
        self.level[1][X:X + A] = w[inst.unit] * inst.distance
        self.level[1][Z:Z + n_u] = w * inst.unassigned_m()
        if inst.current is not None:
            # moved = Σ_had w − Σ_had w x[u, current(u)]: minimise −Σ w x[u, current]
            had = np.flatnonzero(inst.current >= 0)
            a = inst.arc_of(had, inst.current[had])
            self.level[2][X + a[a >= 0]] = -w[had[a >= 0]]


def solve_exact(inst: Instance, time_limit_s: float, distance_slack: float = 0.0
                ) -> ExactResult | None:
    """The lexicographic optimum (or the best map found in the time); None when HiGHS
    finds no map at all in the time."""
    t0 = time.perf_counter()
    form = Formulation(inst)
    cons = [LinearConstraint(form.matrix, form.lo, form.hi)]
    bounds = Bounds(np.zeros(form.n_vars), form.ub)
    best, bound, optimal = None, 0.0, True
    levels = 3 if inst.current is not None else 2
    for k in range(levels):
        left = time_limit_s - (time.perf_counter() - t0)
        if left <= 0.05:
            optimal = False
            break
        res = milp(form.level[k], constraints=cons, integrality=form.integrality,
                   bounds=bounds, options={"disp": False, "time_limit": left,
                                           "mip_rel_gap": MIP_GAP})
        if res.x is None:
            optimal = False
            break
        best = res.x
        finished = res.status == 0
        optimal = optimal and finished
        value = float(res.fun)
        if k == 0:
            bound = float(getattr(res, "mip_dual_bound", value) if not finished else value)
            if not finished:
                break      # level 1 not proved: refining distance on it would mislead
            limit = np.floor(value + 0.5) + 0.5       # integral level
        elif k == 1:
            limit = value * (1 + distance_slack) + 1e-6 * max(abs(value), 1.0)
        else:
            break
        cons.append(LinearConstraint(form.level[k][None, :], -np.inf, limit))
    if best is None:
        return None
    x = best[:form.A] > 0.5
    school_of = np.full(inst.n_units, -1, np.int64)
    school_of[inst.unit[x]] = inst.school[x]
    return ExactResult(school_of, bound, optimal, time.perf_counter() - t0)


def single_sourcing_bound(inst: Instance, time_limit_s: float) -> float | None:
    """A lower bound on level 1 (unserved) with single sourcing kept and contiguity
    ignored: ``x[a]`` binary, every unit in reach to exactly one school, ``e[t, s] ≥ Σ_u
    d[t, u] x[u, s] − cap[t, s]``; HiGHS's dual bound when the time is up (valid whether
    or not it finished). At least the linear relaxation's, which is the optimal mode's
    split bound; None when HiGHS returns no bound."""
    n_u, n_s, n_t = inst.n_units, inst.n_schools, inst.demand.shape[0]
    A = len(inst.unit)
    if not A or time_limit_s <= 0.05:
        return None
    reach = np.flatnonzero(np.diff(inst.start) > 0)
    row_of = np.full(n_u, -1, np.int64)
    row_of[reach] = np.arange(len(reach))
    rows = [row_of[inst.unit]]
    cols = [np.arange(A)]
    vals = [np.ones(A)]
    r0 = len(reach)
    for t in range(n_t):
        rows += [inst.school + r0, np.arange(n_s) + r0]
        cols += [np.arange(A), A + t * n_s + np.arange(n_s)]
        vals += [inst.demand[t, inst.unit].astype(float), -np.ones(n_s)]
        r0 += n_s
    mat = sp.csr_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                       shape=(r0, A + n_t * n_s))
    lo = np.r_[np.ones(len(reach)), np.full(n_t * n_s, -np.inf)]
    hi = np.r_[np.ones(len(reach)), inst.cap.ravel().astype(float)]
    c = np.r_[np.zeros(A), np.ones(n_t * n_s)]
    integ = np.r_[np.ones(A), np.zeros(n_t * n_s)]
    ub = np.r_[np.ones(A), np.full(n_t * n_s, np.inf)]
    res = milp(c, constraints=[LinearConstraint(mat, lo, hi)], integrality=integ,
               bounds=Bounds(np.zeros(len(c)), ub),
               options={"disp": False, "time_limit": time_limit_s, "mip_rel_gap": MIP_GAP})
    if res.status == 0 and res.fun is not None:
        return float(res.fun)
    b = getattr(res, "mip_dual_bound", None)
    return None if b is None or not np.isfinite(b) else float(b)
