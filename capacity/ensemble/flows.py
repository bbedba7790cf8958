"""Per-zone totals of the optimal mode's allocation of one stage-year, for the ensemble.

:func:`capacity.allocate.allocate_optimal` solves one OR-Tools min-cost flow per stage-year
and returns every flow with its distance and "nearest" flag. A draw needs only, per zone,
the pupils served and those with no open school in reach. :class:`Network` keeps what the
draws share (each arc's ends and cost in decimetres, each unit's zone) and builds **the
same network** as ``allocate_optimal`` — the same arcs in the same order, the same node
numbering, capacities and supplies — so OR-Tools, whose algorithm is deterministic, returns
the same flows, ties included (tests/test_ensemble_flows.py compares the two on tie-heavy
grids). It skips the per-call checks, the nearest-school search and the Allocation.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from ..allocate import COST_RESOLUTION_M, Arcs


@dataclass
class Network:
    """One stage's arcs, ready for repeated solves with other pupils and places."""

    unit: np.ndarray        # (A,) int64 unit of each arc (arcs sorted by unit, school)
    school: np.ndarray      # (A,) int64 school of each arc
    cost: np.ndarray        # (A,) int64 arc length in decimetres, as allocate_optimal
    zone: np.ndarray        # (U,) int64 zone of each unit
    n_zones: int
    n_schools: int

    @classmethod
    def of(cls, arcs: Arcs, zone: np.ndarray, n_zones: int) -> "Network":
        return cls(arcs.unit.astype(np.int64), arcs.school.astype(np.int64),
                   np.rint(arcs.distance / COST_RESOLUTION_M).astype(np.int64),
                   np.asarray(zone, np.int64), n_zones, arcs.n_schools)

    @property
    def n_units(self) -> int:
        return len(self.zone)

    def zone_totals(self, demand: np.ndarray, places: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
        """(Z,) pupils served and (Z,) pupils out of reach (no school with places within
        the radius) per zone; schools without places are closed. ``demand`` (U,) and
        ``places`` (S,) are non-negative int64."""
        n_u, Z = self.n_units, self.n_zones
        open_arc = places[self.school] > 0
        in_reach = np.bincount(self.unit[open_arc], minlength=n_u) > 0
        reach = np.bincount(self.zone, weights=np.where(in_reach, 0, demand),
                            minlength=Z).astype(np.int64)
        ai = np.flatnonzero(open_arc & (demand[self.unit] > 0))
        if not len(ai):
            return np.zeros(Z, np.int64), reach
        au, asch = self.unit[ai], self.school[ai]
        # compact node numbering as allocate_optimal: units in the network, then schools
        u_nodes = np.flatnonzero(np.bincount(au, minlength=n_u))
        s_nodes = np.flatnonzero(np.bincount(asch, minlength=self.n_schools))
        u_id = np.empty(n_u, np.int32)
        u_id[u_nodes] = np.arange(len(u_nodes), dtype=np.int32)
        s_id = np.empty(self.n_schools, np.int32)
        s_id[s_nodes] = np.arange(len(u_nodes), len(u_nodes) + len(s_nodes), dtype=np.int32)
        mcf = min_cost_flow.SimpleMinCostFlow()
        mcf.add_arcs_with_capacity_and_unit_cost(u_id[au], s_id[asch],
                                                 np.minimum(demand[au], places[asch]),
                                                 self.cost[ai])
        nodes = np.arange(len(u_nodes) + len(s_nodes), dtype=np.int32)
        mcf.set_nodes_supplies(nodes, np.concatenate([demand[u_nodes], -places[s_nodes]]))
        status = mcf.solve_max_flow_with_min_cost()
        if status != mcf.OPTIMAL:
            raise RuntimeError(f"min-cost flow failed: {status!r}")
        flow = np.asarray(mcf.flows(np.arange(len(ai), dtype=np.int32)), np.int64)
        served = np.bincount(self.zone[au], weights=flow, minlength=Z).astype(np.int64)
        return served, reach
