"""Exact min-cost flows for the optimal mode (docs/allocation.md).

``min_cost_flows`` solves "serve the most pupils, then the least pupil-distance" on a
bipartite unit → site network as one OR-Tools call. ``priced_flows`` reaches the same
optimum on large networks by solving on a sparse **candidate set** of arcs (each unit's
nearest sites) and pricing every other arc against the solution's dual prices — column
generation, as large transportation problems are solved:

* the lexicographic goal is the min-cost flow with an "unserved" arc of cost ``M`` per
  pupil, ``M`` above any total distance (so serving one more pupil always pays);
* the duals are a price ``α_u`` per unit (what serving one more of its pupils costs) and
  ``β_s ≥ 0`` per site (what one more place there saves): ``α_u = M`` for a unit with
  unserved pupils, else its flows' ``cost + β``; ``β_s`` the least fixed point of
  ``β_s = max(0, max over arcs (u, s) of α_u − cost)``;
* the solution is optimal for the whole network when complementary slackness holds (flow
  arcs tight, ``β = 0`` at sites with room, ``α ≤ M``) and no arc has a negative reduced
  cost ``cost + β_s − α_u``; otherwise the arcs that do are added and the candidate set is
  solved again. Optimality is thus proved, not assumed; if the certificate cannot be built
  the whole network is solved in one call.

Both give an optimum of the same problem; when several assignments tie (same pupils
served, same total rounded distance) they may pick different ones.
"""
from __future__ import annotations

import numpy as np
from ortools.graph.python import min_cost_flow

__all__ = ["min_cost_flows", "priced_flows", "duals"]

#: Most pricing rounds before solving the whole network instead.
MAX_ROUNDS = 12
#: Arcs added per unit and round: its most negative reduced costs.
ADD_PER_UNIT = 4
#: Arcs within this reduced cost (decimetres) of paying are added with those that do.
SLACK = 2000
#: Arcs priced at a time (bounds the temporaries on networks of 10^7 arcs).
PRICE_CHUNK = 4_000_000


def min_cost_flows(unit: np.ndarray, school: np.ndarray, cost: np.ndarray, cap: np.ndarray,
                   demand: np.ndarray, places: np.ndarray) -> np.ndarray:
    """Flow on each arc of the maximum flow of least cost (one OR-Tools call).

    ``unit``/``school`` index ``demand``/``places``; nodes without arcs are left out.
    """
    if not len(unit):
        return np.zeros(0, np.int64)
    u_nodes = np.flatnonzero(np.bincount(unit, minlength=len(demand)))
    s_nodes = np.flatnonzero(np.bincount(school, minlength=len(places)))
    u_id = np.empty(len(demand), np.int32)
    u_id[u_nodes] = np.arange(len(u_nodes), dtype=np.int32)
    s_id = np.empty(len(places), np.int32)
    s_id[s_nodes] = np.arange(len(u_nodes), len(u_nodes) + len(s_nodes), dtype=np.int32)
    mcf = min_cost_flow.SimpleMinCostFlow()
    mcf.add_arcs_with_capacity_and_unit_cost(u_id[unit], s_id[school], cap, cost)
    nodes = np.arange(len(u_nodes) + len(s_nodes), dtype=np.int32)
    mcf.set_nodes_supplies(nodes, np.concatenate([demand[u_nodes], -places[s_nodes]]))
    status = mcf.solve_max_flow_with_min_cost()
    if status != mcf.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed: {status!r}")
    return np.asarray(mcf.flows(np.arange(len(unit), dtype=np.int32)), np.int64)


def unserved_cost(demand: np.ndarray, cost: np.ndarray) -> int:
    """``M``: a cost per unserved pupil above any assignment's total cost."""
    return int(demand.sum()) * (int(cost.max(initial=0)) + 1) + 1


def duals(unit: np.ndarray, school: np.ndarray, cost: np.ndarray, flow: np.ndarray,
          demand: np.ndarray, places: np.ndarray, big_m: int
          ) -> tuple[np.ndarray, np.ndarray] | None:
    """Dual prices ``(α per unit, β per site)`` proving ``flow`` optimal on these arcs, or
    None when complementary slackness fails (``flow`` is not optimal on them).

    Units without demand get ``α = -1`` (no constraint on their arcs)."""
    n_u, n_s = len(demand), len(places)
    served = np.bincount(unit, weights=flow, minlength=n_u).astype(np.int64)
    load = np.bincount(school, weights=flow, minlength=n_s).astype(np.int64)
    short = demand - served
    on = flow > 0
    fu, fs, fc = unit[on], school[on], cost[on]
    base = np.where(short > 0, big_m, np.where(demand > 0, 0, -1)).astype(np.int64)
    beta = np.zeros(n_s, np.int64)
    for _ in range(n_s + 2):          # a longest-path fixed point: at most n_s rounds
        alpha = base.copy()
        np.maximum.at(alpha, fu, fc + beta[fs])
        new = np.zeros(n_s, np.int64)
        np.maximum.at(new, school, alpha[unit] - cost)
        if np.array_equal(new, beta):
            break
        beta = new
    else:
        return None
    tight = alpha[fu] == fc + beta[fs]
    room = (load < places) & (beta > 0)
    if not tight.all() or room.any() or (alpha > big_m).any():
        return None
    return alpha, beta


def priced_flows(unit: np.ndarray, school: np.ndarray, cost: np.ndarray,
                 demand: np.ndarray, places: np.ndarray, candidate: np.ndarray,
                 usable: np.ndarray) -> np.ndarray:
    """As :func:`min_cost_flows` on the ``usable`` arcs (bool per arc), solving on those of
    ``candidate`` and adding arcs with negative reduced cost until the duals prove the
    whole optimum. Arc capacities are ``min(demand, places)``; the arrays are read, never
    copied whole (pricing goes by chunks)."""
    cand = np.asarray(candidate, bool) & usable
    big_m = unserved_cost(demand, cost)
    for _ in range(MAX_ROUNDS):
        ci = np.flatnonzero(cand)
        cu, cs, cc = unit[ci], school[ci], cost[ci].astype(np.int64)
        f = min_cost_flows(cu, cs, cc, np.minimum(demand[cu], places[cs]), demand, places)
        prices = duals(cu, cs, cc, f, demand, places, big_m)
        if prices is None:
            break
        added = _priced_in(unit, school, cost, cand, usable, *prices)
        if added is None:
            flow = np.zeros(len(unit), np.int64)
            flow[ci] = f
            return flow
        cand[added] = True
    ai = np.flatnonzero(usable)
    au, asch = unit[ai], school[ai]
    flow = np.zeros(len(unit), np.int64)
    flow[ai] = min_cost_flows(au, asch, cost[ai].astype(np.int64),
                              np.minimum(demand[au], places[asch]), demand, places)
    return flow


def _priced_in(unit: np.ndarray, school: np.ndarray, cost: np.ndarray, cand: np.ndarray,
               usable: np.ndarray, alpha: np.ndarray, beta: np.ndarray
               ) -> np.ndarray | None:
    """Arcs to add: None when no usable arc outside ``cand`` has a negative reduced cost,
    else those within ``SLACK`` of paying, each unit's ``ADD_PER_UNIT`` best."""
    found, negative = [], False
    for lo in range(0, len(unit), PRICE_CHUNK):
        sl = slice(lo, lo + PRICE_CHUNK)
        reduced = cost[sl] + beta[school[sl]] - alpha[unit[sl]]
        out = usable[sl] & ~cand[sl]
        negative = negative or bool(((reduced < 0) & out).any())
        hit = np.flatnonzero((reduced < SLACK) & out)
        found.append((lo + hit, reduced[hit]))
    if not negative:
        return None
    bad = np.concatenate([b for b, _ in found])
    red = np.concatenate([r for _, r in found])
    order = np.lexsort((red, unit[bad]))      # each unit's most negative first
    u = unit[bad][order]
    lead = np.ones(len(order), bool)
    lead[1:] = u[1:] != u[:-1]
    start = np.maximum.accumulate(np.where(lead, np.arange(len(order)), 0))
    return bad[order[np.arange(len(order)) - start < ADD_PER_UNIT]]
