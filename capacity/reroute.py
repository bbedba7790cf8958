"""Pupils served after places are taken away, from the optimal allocation (criticality).

The optimal mode's allocation is a maximum flow (units → sites → sink). When places fall
from ``P`` to ``P' ≤ P``, a site ``s`` that admitted ``load_s`` pupils must shed
``Δ_s = max(0, load_s − P'_s)``. The largest number of them that can be re-routed,
``r``, is the maximum flow from those sites (supply ``Δ_s``) to the sink in the old
allocation's residual network — back along a site's flows to its units, on to any site
they reach, onward until a site with room — and the pupils served become
``served − ΣΔ + r``: the standard decremental update of a maximum flow.

Shed pupils are re-routed nearby or not at all, so the flow is first solved on the sites
one step away (the shedding sites' units and every site they reach); that answer is exact
when it re-routes every shed pupil. Otherwise it is solved on every site the shedding sites
can reach through such steps *and* from which a chain of steps still reaches a site with
room (the others cannot carry a pupil to the sink): exact, and small where places are
short all around. The site graph behind it is built once per stage-year. A network that
spans most of a large stage is solved on each unit's nearest sites first and grown only
along shortest paths to room until its flow is proved maximum (:meth:`Residual._ball`).
"""
from __future__ import annotations

import numpy as np
from ortools.graph.python import max_flow

from .allocate import PRICING_K, Allocation, allocate_optimal, max_served
from .arcs import Arcs, csr_positions

__all__ = ["Residual"]

#: Arcs read at a time, and the most a re-routing network takes whole (bounded memory).
CHUNK = 4_000_000
#: A larger network starts from each unit's arcs to its this many nearest sites.
NEAR_K = PRICING_K


class Residual:
    """One stage-year's optimal allocation, ready to answer "served with fewer places"."""

    def __init__(self, arcs: Arcs, demand: np.ndarray, places: np.ndarray,
                 base: Allocation) -> None:
        self.arcs, self.demand = arcs, np.asarray(demand, np.int64)
        self.places = np.asarray(places, np.int64)
        n_s = arcs.n_schools
        order = np.argsort(base.school, kind="stable")
        self.f_unit = base.unit[order]
        self.f_pupils = base.pupils[order]
        self.f_ptr = np.zeros(n_s + 1, np.int64)
        np.cumsum(np.bincount(base.school, minlength=n_s), out=self.f_ptr[1:])
        self.load = base.load(n_s)
        self.served = int(base.pupils.sum())
        self._graph: tuple[np.ndarray, np.ndarray] | None = None

    def served_with(self, places: np.ndarray) -> int:
        """Pupils served when the sites have ``places`` (each ≤ the base places)."""
        places = np.asarray(places, np.int64)
        if (places > self.places).any():
            return max_served(self.arcs, self.demand, places, open_mask=places > 0)
        shed = np.maximum(self.load - places, 0)
        need = int(shed.sum())
        if not need:
            return self.served
        return self.served - need + self._rerouted(places, shed, need)

    def _rerouted(self, places: np.ndarray, shed: np.ndarray, need: int) -> int:
        """Most shed pupils re-routable: first within one step of the shedding sites, then
        (if some are left) on every site they can reach that can still reach room."""
        arcs = self.arcs
        src = np.flatnonzero(shed > 0)
        open_site = places > 0
        pos, _ = csr_positions(self.f_ptr, src)
        units = _members(self.f_unit[pos], arcs.n_units)
        apos, _ = csr_positions(arcs.start, units)
        near = _members(np.r_[src, arcs.school[apos][open_site[arcs.school[apos]]]],
                        arcs.n_schools)
        r = self._ball(near, units, places, shed)
        if r == need:
            return r
        graph, useful = self._site_graph()
        reach = _mask(src, arcs.n_schools)
        frontier = src
        keep = useful & open_site
        while len(frontier):
            nxt = graph[frontier].any(axis=0) & keep & ~reach
            reach |= nxt
            frontier = np.flatnonzero(nxt)
        sites = np.flatnonzero(reach)
        pos, _ = csr_positions(self.f_ptr, sites)
        return self._ball(sites, _members(self.f_unit[pos], arcs.n_units), places, shed)

    def _site_graph(self) -> tuple[np.ndarray, np.ndarray]:
        """(S, S) bool "a pupil at site s can move to site t" (a unit with pupils at s has
        an arc to t) and (S,) "from this site a chain of moves reaches a site with room";
        built once."""
        if self._graph is None:
            arcs, n_s = self.arcs, self.arcs.n_schools
            graph = np.zeros((n_s, n_s), bool)
            f_site = np.repeat(np.arange(n_s), np.diff(self.f_ptr))
            n_arcs = np.diff(arcs.start)[self.f_unit]
            step = max(1, int(len(self.f_unit) * 5_000_000 // max(n_arcs.sum(), 1)))
            for i in range(0, len(self.f_unit), step):   # bounded memory
                pos, which = csr_positions(arcs.start, self.f_unit[i:i + step])
                graph[f_site[i:i + step][which], arcs.school[pos]] = True
            useful = (self.load < self.places) & (self.places > 0)
            while True:
                more = graph[:, useful].any(axis=1) & ~useful
                if not more.any():
                    break
                useful |= more
            self._graph = (graph, useful)
        return self._graph

    def _ball(self, sites: np.ndarray, units: np.ndarray, places: np.ndarray,
              shed: np.ndarray) -> int:
        """Maximum flow from the shedding sites to the sink within these sites and units.

        A ball of at most :data:`CHUNK` arcs is solved whole. A larger one (most of the
        network) is solved on each unit's :data:`NEAR_K` nearest sites first; a flow short
        of the shed pupils is accepted only when no path to room is left in the whole
        ball's residual network (:meth:`_grow`), else the units on such paths bring all
        their arcs and it is solved again: exact, and the network solved stays small.
        """
        arcs = self.arcs
        n_u, n_s = arcs.n_units, arcs.n_schools
        site_in = _mask(sites, n_s) & (places > 0)
        unit_in = _mask(units, n_u)
        # node ids: units 0..n_u-1, sites n_u.., source, sink (OR-Tools skips unused ids)
        source, sink = n_u + n_s, n_u + n_s + 1
        pos, which = csr_positions(self.f_ptr, sites)      # the sites' pupils, by unit
        back = unit_in[self.f_unit[pos]]
        pos, f_site = pos[back], sites[which[back]]
        src = np.flatnonzero(shed > 0)
        room = np.maximum(places[sites] - self.load[sites], 0)
        # source → shedding sites, site → its units (pupils may move back), sites → sink
        fixed = (np.r_[np.full(len(src), source), n_u + f_site, n_u + sites],
                 np.r_[n_u + src, self.f_unit[pos], np.full(len(sites), sink)],
                 np.r_[shed[src], self.f_pupils[pos], room])
        n_arcs = int((arcs.start[units + 1] - arcs.start[units]).sum())
        if n_arcs <= CHUNK:     # a ball: its units' arcs
            apos, _ = csr_positions(arcs.start, units)
            return self._max_flow(fixed, apos[site_in[arcs.school[apos]]])[0]
        near, cand = arcs.near(NEAR_K), np.zeros(len(arcs), bool)
        for lo in range(0, len(arcs), CHUNK):
            cand[lo:lo + CHUNK] = (unit_in[arcs.unit[lo:lo + CHUNK]] & near[lo:lo + CHUNK]
                                   & site_in[arcs.school[lo:lo + CHUNK]])
        need = int(shed.sum())
        while True:
            apos = np.flatnonzero(cand)
            r, flows = self._max_flow(fixed, apos)
            if r == need:
                return r
            k, m = len(src), len(pos)
            grow = self._grow(
                start=src[flows[:k] < shed[src]],
                back=(np.r_[f_site, arcs.school[apos]], np.r_[self.f_unit[pos], arcs.unit[apos]],
                      np.r_[self.f_pupils[pos] - flows[k:k + m], flows[k + m + len(sites):]]),
                room=sites[flows[k + m:k + m + len(sites)] < room], site_in=site_in)
            if grow is None:
                return r
            cand[grow] = True

    def _max_flow(self, fixed: tuple[np.ndarray, np.ndarray, np.ndarray], apos: np.ndarray
                  ) -> tuple[int, np.ndarray]:
        """Solve the re-routing network: the ``fixed`` arcs (tails, heads, capacities) and
        the unit → site arcs at positions ``apos``; the flow and each arc's flow."""
        arcs, n_u = self.arcs, self.arcs.n_units
        mf = max_flow.SimpleMaxFlow()
        _add(mf, *fixed)
        for lo in range(0, len(apos), CHUNK):
            part = apos[lo:lo + CHUNK]
            _add(mf, arcs.unit[part], n_u + arcs.school[part], int(self.demand.sum()) + 1)
        if mf.solve(n_u + arcs.n_schools, n_u + arcs.n_schools + 1) != mf.OPTIMAL:
            raise RuntimeError("max flow failed")
        return int(mf.optimal_flow()), mf.flows(np.arange(mf.num_arcs()))

    def _grow(self, start: np.ndarray, back: tuple[np.ndarray, np.ndarray, np.ndarray],
              room: np.ndarray, site_in: np.ndarray) -> np.ndarray | None:
        """Positions of the arcs to add, or None when the flow is maximum.

        Breadth-first through the residual network from the shedding sites with pupils
        left (``start``): site → unit where ``back`` (site, unit, residual) is positive,
        unit → every site of the ball it has an arc to. None when no site with room left
        (``room``) is reached. Else the arcs of every unit on a shortest path to room (the
        level graph of Dinic's algorithm, traced back from the sites with room reached):
        the candidate network lacked them, and with them every such path is there."""
        arcs = self.arcs
        n_u, n_s = arcs.n_units, arcs.n_schools
        b_site, b_unit, b_res = back
        keep = b_res > 0
        b_site, b_unit = b_site[keep], b_unit[keep]
        by_site = np.argsort(b_site, kind="stable")
        b_ptr = np.zeros(n_s + 1, np.int64)
        np.cumsum(np.bincount(b_site, minlength=n_s), out=b_ptr[1:])
        has_room = _mask(room, n_s)
        seen_s, seen_u = _mask(start, n_s), np.zeros(n_u, bool)
        fronts, steps = [np.flatnonzero(seen_s)], []     # sites and units by level
        while len(fronts[-1]) and not has_room[fronts[-1]].any():
            p, _ = csr_positions(b_ptr, fronts[-1])
            us = np.flatnonzero(_mask(b_unit[by_site[p]], n_u) & ~seen_u)
            seen_u[us] = True
            t = _mask(arcs.school[_arcs_of(arcs, us, site_in)], n_s) & ~seen_s
            seen_s |= t
            steps.append(us)
            fronts.append(np.flatnonzero(t))
        if not len(fronts[-1]):
            return None
        target = _mask(fronts[-1][has_room[fronts[-1]]], n_s)
        grow = []
        for k in range(len(steps) - 1, -1, -1):   # back along the levels
            pos = _arcs_of(arcs, steps[k], site_in)   # read again, not kept: bounded memory
            on = _mask(arcs.unit[pos[target[arcs.school[pos]]]], n_u)
            grow.append(pos[on[arcs.unit[pos]]])
            target = _mask(b_site[on[b_unit]], n_s) & _mask(fronts[k], n_s)
        return np.concatenate(grow)


def _mask(idx: np.ndarray, n: int) -> np.ndarray:
    """(n,) bool: which of 0..n-1 are in ``idx``."""
    out = np.zeros(n, bool)
    out[idx] = True
    return out


def _members(idx: np.ndarray, n: int) -> np.ndarray:
    """The distinct values of ``idx`` (indices below ``n``), sorted: ``np.unique`` by a
    mask, without sorting or hashing a long array."""
    return np.flatnonzero(_mask(idx, n))


def _arcs_of(arcs: Arcs, units: np.ndarray, site_in: np.ndarray) -> np.ndarray:
    """Positions of the arcs of ``units`` to sites in ``site_in`` (read by chunks)."""
    parts, lo = [np.zeros(0, np.int64)], 0
    n = arcs.start[units + 1] - arcs.start[units]
    ends = np.searchsorted(np.cumsum(n), np.arange(CHUNK, int(n.sum()) + CHUNK, CHUNK),
                           side="right")
    for hi in np.unique(np.r_[ends, len(units)]):
        if hi > lo:
            pos, _ = csr_positions(arcs.start, units[lo:hi])
            parts.append(pos[site_in[arcs.school[pos]]])
            lo = hi
    return np.concatenate(parts)


def _add(mf: max_flow.SimpleMaxFlow, tail: np.ndarray, head: np.ndarray, cap) -> None:
    mf.add_arcs_with_capacity(tail.astype(np.int32), head.astype(np.int32),
                              np.broadcast_to(np.asarray(cap, np.int64), tail.shape))


#: The optimal mode's criticality path (capacity.criticality uses a rule's ``residual``).
allocate_optimal.residual = Residual  # type: ignore[attr-defined]
