"""Design one map: build the problem from a stage's arcs, split it into parts that cannot
interact, solve each exactly or by the heuristic, and bound the result
(docs/catchments.md).

Parts: units and schools connected through arcs (a unit and a school it reaches) form one
part; no catchment spans two parts. A part with at most ``exact_max_arcs`` arcs is solved by
the exact model (:mod:`.milp`); a larger one, or one the exact model finds no map for in
its time, by the heuristic (:mod:`.heuristic`), whose map is then kept only if better.

Bounds: for an exact part, HiGHS's dual bound; for a heuristic part, the optimal mode's
shortfall on the same part and years (each unit's pupils may be split, no contiguity: a
min-cost flow, a lower bound on any map's unserved pupils). The distance bound is every
unit at its nearest candidate school.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from ..arcs import Arcs
from ..allocate import COST_RESOLUTION_M, max_served
from ..flow import min_cost_flows
from .heuristic import solve_heuristic
from .lns import lns
from .milp import single_sourcing_bound, solve_exact
from .problem import Instance, Score, contiguous, score, subset

#: Parts with at most this many arcs go to the exact model (measured: HiGHS proves parts
#: of this size optimal within seconds; regions of 600 arcs of Tongzhou primary not in 3 s).
EXACT_MAX_ARCS = 400
#: Shares of a heuristic part's time: the single-sourcing bound, the heuristic's starts;
#: the rest goes to the large-neighbourhood search on the heuristic's map.
BOUND_SHARE, HEURISTIC_SHARE = 0.15, 0.4


@dataclass
class Design:
    """A designed map of one stage for the years ``first``..``last``."""

    school_of: np.ndarray      # (U,) stage site index, -1: no school (out of reach, or none
    #                            joinable contiguously)
    score: Score               # of the candidate units (out-of-reach units not counted)
    bound: float               # lower bound on score.unserved
    distance_bound: float      # lower bound on score.distance
    status: str                # optimal | heuristic | time limit
    seconds: float
    contiguous: np.ndarray     # (S,) bool per site (a site without catchment: True)
    parts: int
    exact_parts: int
    bound_basis: str = "split"   # the weakest of the parts' bounds: exact (the exact
    #                              model's), single (single sourcing, contiguity ignored),
    #                              split (the optimal mode: pupils split, no contiguity)

    @property
    def gap(self) -> float:
        """(unserved − bound) ÷ unserved; 0 when both are 0."""
        u = self.score.unserved
        return 0.0 if u <= 0 else max(0.0, (u - self.bound) / u)


def build(arcs: Arcs, demand: np.ndarray, places: np.ndarray, adj_ptr: np.ndarray,
          adj_idx: np.ndarray, roots: list[np.ndarray], tolerance: float = 0.0,
          current: np.ndarray | None = None) -> tuple[Instance, np.ndarray]:
    """The whole stage's problem over the span: ``demand`` (T, U), ``places`` (T, S);
    candidates are the sites open in every year of the span and the units with pupils.
    Returns the instance over all units and schools and its arcs' indices into ``arcs``."""
    demand = np.atleast_2d(np.asarray(demand, np.int64))
    places = np.atleast_2d(np.asarray(places, np.int64))
    open_all = (places > 0).all(axis=0)
    use = open_all[arcs.school] & (demand.sum(axis=0)[arcs.unit] > 0)
    ai = np.flatnonzero(use)
    au, asch = arcs.unit[ai].astype(np.int64), arcs.school[ai].astype(np.int64)
    has = [set() for _ in range(arcs.n_schools)]
    for u, s in zip(au.tolist(), asch.tolist()):
        has[s].add(u)
    rts = []
    for s, r in enumerate(roots):
        keep = np.array([u for u in r if u in has[s]], np.int64)
        if not len(keep) and has[s]:         # no root in reach: its nearest unit in reach
            mine = np.flatnonzero(asch == s)
            keep = np.array([au[mine[np.argmin(arcs.distance[ai[mine]])]]], np.int64)
        rts.append(keep)
    inst = Instance(demand, places, au, asch, arcs.distance[ai].astype(np.float64),
                    adj_ptr, adj_idx, rts, tolerance, current)
    return inst, ai


def parts(inst: Instance) -> list[tuple[np.ndarray, np.ndarray]]:
    """(units, schools) of every part with at least one arc."""
    n_u, n_s = inst.n_units, inst.n_schools
    g = coo_array((np.ones(len(inst.unit)), (inst.unit, n_u + inst.school)),
                  shape=(n_u + n_s, n_u + n_s))
    _, label = connected_components(g, directed=False)
    out = []
    for lab in np.unique(label[inst.unit]):
        units = np.flatnonzero(label[:n_u] == lab)
        schools = np.flatnonzero(label[n_u:] == lab)
        out.append((units, schools))
    return out


def nearest_map(inst: Instance) -> np.ndarray:
    """Each unit's nearest candidate school (ties: the lowest index), -1 without one."""
    out = np.full(inst.n_units, -1, np.int64)
    if len(inst.unit):
        order = np.lexsort((inst.school, inst.distance, inst.unit))
        first = order[np.r_[True, inst.unit[order][1:] != inst.unit[order][:-1]]]
        out[inst.unit[first]] = inst.school[first]
    return out


def flow_map(inst: Instance) -> tuple[np.ndarray, int]:
    """The optimal mode on the span's pupils and places (pupils split, no contiguity):
    each unit's main school, and the unserved pupils summed over the years (a lower bound
    on any map's level 1, year by year)."""
    out = nearest_map(inst)
    if not len(inst.unit):
        return out, 0
    cap = inst.cap
    cost = np.rint(inst.distance / COST_RESOLUTION_M).astype(np.int64)
    w, c = inst.weight, cap.sum(axis=0)
    flow = min_cost_flows(inst.unit, inst.school, cost, np.minimum(w[inst.unit],
                          c[inst.school]), w, c)
    order = np.lexsort((-flow, inst.unit))
    first = order[np.r_[True, inst.unit[order][1:] != inst.unit[order][:-1]]]
    main = flow[first] > 0
    out[inst.unit[first][main]] = inst.school[first][main]
    arcs = Arcs.from_pairs(inst.unit, inst.school, inst.distance,
                           np.zeros((inst.n_units, 2)), np.zeros((inst.n_schools, 2)), 0.0)
    reach = np.diff(inst.start) > 0          # out-of-reach units are not counted
    unserved = sum(int(inst.demand[t, reach].sum()) - max_served(arcs, inst.demand[t], cap[t])
                   for t in range(inst.demand.shape[0]))
    return out, unserved


def design(inst: Instance, time_limit_s: float = 30.0, distance_slack: float = 0.0,
           exact_max_arcs: int = EXACT_MAX_ARCS) -> Design:
    """The best map of ``inst`` within about ``time_limit_s`` seconds."""
    t0 = time.perf_counter()
    school_of = np.full(inst.n_units, -1, np.int64)
    bound, statuses, n_exact, bases = 0.0, set(), 0, set()
    found = parts(inst)
    total_arcs = max(len(inst.unit), 1)
    for units, schools in sorted(found, key=lambda p: len(p[0])):
        sub = subset(inst, units, schools)
        left = time_limit_s - (time.perf_counter() - t0)
        share = max(left * max(len(sub.unit), 1) / total_arcs, min(left, 1.0))
        total_arcs -= len(sub.unit)
        main, flow_bound = flow_map(sub)
        m, b, st, basis = None, float(flow_bound), "heuristic", "split"
        if len(sub.unit) <= exact_max_arcs:
            n_exact += 1
            res = solve_exact(sub, share, distance_slack)
            if res is not None:
                m, b = res.school_of, max(res.bound, float(flow_bound))
                st = "optimal" if res.optimal else "time limit"
        if m is None or st != "optimal":
            t_part = time.perf_counter()
            share = max(share, 0.5)
            if st == "heuristic":     # the exact model's bound, when it ran, is at least this
                ss = single_sourcing_bound(sub, BOUND_SHARE * share)
                if ss is not None and np.ceil(ss - 1e-6) > b:
                    b, basis = float(np.ceil(ss - 1e-6)), "single"
            # the map to keep close to first (fewest moves), else the optimal flow's
            starts = ([sub.current] if sub.current is not None else []) + [main] + \
                [nearest_map(sub)] + ([m] if m is not None else [])
            h = solve_heuristic(sub, starts, HEURISTIC_SHARE * share, distance_slack)
            h, _ = lns(sub, h, t_part + share, distance_slack=distance_slack)
            if m is None or score(sub, h).key() < score(sub, m).key():
                m = h
        statuses.add(st)
        bases.add("exact" if st != "heuristic" else basis)
        bound += b
        school_of[units] = np.where(m >= 0, schools[np.maximum(m, 0)], -1)
    status = "optimal" if statuses <= {"optimal"} else (
        "heuristic" if "heuristic" in statuses else "time limit")
    nearest = nearest_map(inst)
    on = nearest >= 0
    dist_bound = float(np.dot(inst.weight[on], inst.distance[inst.arc_of(
        np.flatnonzero(on), nearest[on])]))
    return Design(school_of, score(inst, school_of), bound, dist_bound, status,
                  time.perf_counter() - t0,
                  contiguous(school_of, inst.adj_ptr, inst.adj_idx, inst.roots),
                  len(found), n_exact, next((k for k in ("split", "single", "exact")
                                             if k in bases), "exact"))
