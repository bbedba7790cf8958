"""Per-zone totals of the optimal mode's allocation of one stage-year, for the ensemble.

:func:`capacity.allocate.allocate_optimal` solves one OR-Tools min-cost flow per stage-year
and returns every flow with its distance and "nearest" flag. A draw needs only, per zone,
the pupils served and those with no open school in reach. :class:`Network` keeps what the
draws share (each arc's ends and cost in decimetres, each unit's zone) and solves **the
same network** as ``allocate_optimal`` with the same solver call
(:func:`capacity.flow.min_cost_flows`: same arcs in the same order, capacities and
supplies), so OR-Tools, whose algorithm is deterministic, returns the same flows, ties
included (tests/test_ensemble_flows.py compares the two on tie-heavy grids). It skips the
per-call checks, the nearest-school search and the Allocation. (Networks large enough for
``allocate_optimal`` to price them are solved whole here.)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ..allocate import Arcs, arc_costs
from ..flow import min_cost_flows


@dataclass
class Network:
    """One stage's arcs, ready for repeated solves with other pupils and places."""

    unit: np.ndarray        # (A,) int32 unit of each arc (arcs sorted by unit, school)
    school: np.ndarray      # (A,) int32 school of each arc
    cost: np.ndarray        # (A,) int64 arc length in decimetres, as allocate_optimal
    zone: np.ndarray        # (U,) int64 zone of each unit
    n_zones: int
    n_schools: int

    @classmethod
    def of(cls, arcs: Arcs, zone: np.ndarray, n_zones: int) -> "Network":
        return cls(arcs.unit, arcs.school,          # shared, not copied
                   arc_costs(arcs).astype(np.int64),
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
        flow = min_cost_flows(au, asch, self.cost[ai], np.minimum(demand[au], places[asch]),
                              demand, places)
        served = np.bincount(self.zone[au], weights=flow, minlength=Z).astype(np.int64)
        return served, reach
