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
short all around. The site graph behind it is built once per stage-year.
"""
from __future__ import annotations

import numpy as np
from ortools.graph.python import max_flow

from .allocate import Allocation, allocate_optimal, max_served
from .arcs import Arcs, csr_positions

__all__ = ["Residual"]

#: Arcs read at a time when a re-routing network spans most of the stage (bounded memory).
CHUNK = 4_000_000


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
        units = np.unique(self.f_unit[pos])
        apos, _ = csr_positions(arcs.start, units)
        near = np.union1d(src, arcs.school[apos][open_site[arcs.school[apos]]])
        r = self._ball(near, units, places, shed)
        if r == need:
            return r
        graph, useful = self._site_graph()
        reach = np.zeros(arcs.n_schools, bool)
        reach[src] = True
        frontier = src
        keep = useful & open_site
        while len(frontier):
            nxt = graph[frontier].any(axis=0) & keep & ~reach
            reach |= nxt
            frontier = np.flatnonzero(nxt)
        sites = np.flatnonzero(reach)
        pos, _ = csr_positions(self.f_ptr, sites)
        return self._ball(sites, np.unique(self.f_unit[pos]), places, shed)

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
        """Maximum flow from the shedding sites to the sink within these sites and units."""
        arcs = self.arcs
        n_u, n_s = arcs.n_units, arcs.n_schools
        site_in = np.zeros(n_s, bool)
        site_in[sites] = True
        site_in &= places > 0
        unit_in = np.zeros(n_u, bool)
        unit_in[units] = True
        # node ids: units 0..n_u-1, sites n_u.., source, sink (OR-Tools skips unused ids)
        source, sink = n_u + n_s, n_u + n_s + 1
        pos, which = csr_positions(self.f_ptr, sites)      # the sites' pupils, by unit
        back = unit_in[self.f_unit[pos]]
        pos, f_site = pos[back], sites[which[back]]
        src = np.flatnonzero(shed > 0)
        mf = max_flow.SimpleMaxFlow()
        # source → shedding sites, site → its units (pupils may move back), sites → sink
        _add(mf, np.r_[np.full(len(src), source), n_u + f_site, n_u + sites],
             np.r_[n_u + src, self.f_unit[pos], np.full(len(sites), sink)],
             np.r_[shed[src], self.f_pupils[pos],
                   np.maximum(places[sites] - self.load[sites], 0)])
        big = int(self.demand.sum()) + 1
        n_arcs = int((arcs.start[units + 1] - arcs.start[units]).sum())
        if n_arcs <= CHUNK:     # a ball: its units' arcs
            apos, which = csr_positions(arcs.start, units)
            keep = site_in[arcs.school[apos]]
            _add(mf, units[which][keep], n_u + arcs.school[apos][keep], big)
        else:                   # most of the network: all arcs, a chunk at a time
            for lo in range(0, len(arcs), CHUNK):
                u, s = arcs.unit[lo:lo + CHUNK], arcs.school[lo:lo + CHUNK]
                keep = unit_in[u] & site_in[s]
                _add(mf, u[keep], n_u + s[keep], big)
        if mf.solve(source, sink) != mf.OPTIMAL:
            raise RuntimeError("max flow failed")
        return int(mf.optimal_flow())


def _add(mf: max_flow.SimpleMaxFlow, tail: np.ndarray, head: np.ndarray, cap) -> None:
    mf.add_arcs_with_capacity(tail.astype(np.int32), head.astype(np.int32),
                              np.broadcast_to(np.asarray(cap, np.int64), tail.shape))


#: The optimal mode's criticality path (capacity.criticality uses a rule's ``residual``).
allocate_optimal.residual = Residual  # type: ignore[attr-defined]
