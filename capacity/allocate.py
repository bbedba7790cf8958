"""Allocation of pupils to school places (docs/allocation.md): ``catchment`` and ``optimal``.

Array level: units and schools are integer positions; the run maps them to ids. One
:class:`Arcs` is built per stage (unit and school coordinates fixed) and reused for every
year: a school not open in a year is passed as ``places == 0`` or ``open_mask == False``.

Conventions
-----------
* Distance is the straight line ``hypot(dx, dy)`` in the model's projected CRS, float64
  (:meth:`Arcs.build`); another distance rule may build arcs with :meth:`Arcs.from_pairs`.
  "Within the radius" is "an arc exists", in both modes. The radius is one number for the
  stage or one per unit (a zone's ``radius_scale`` applied).
* ``open_mask`` defaults to ``places > 0``. Only open schools are anyone's nearest school,
  and only open schools within the radius make a unit "in reach".
* ``out_of_reach[u]`` is ``unserved[u]`` when unit ``u`` has no open school within the
  radius, else 0. It depends only on geography and ``open_mask``, so it is the same in both
  modes; the rest of ``unserved`` is "schools in reach are full" (or, in catchment mode,
  "the unit's catchment school is full or out of reach").
* ``nearest[f]`` is true when flow ``f`` goes to a school at the unit's minimum distance
  among open schools (ties: every school at that distance counts).
* ``optimal`` costs are distances in **decimetres**, rounded (``COST_RESOLUTION_M``); the
  flow is the exact lexicographic optimum (max pupils served within the radius, then min
  total rounded pupil-distance), so its true total distance is within
  ``0.1 m × pupils served`` of the true minimum.
* Output flows are ordered by unit, then school index. Everything is
  deterministic: ties in "nearest" go to the lowest school index, ties in largest
  remainder to the lowest unit index.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Literal

import numpy as np
from ortools.graph.python import max_flow

from .arcs import Arcs
from .flow import min_cost_flows, priced_flows
from .registry import ALLOCATORS

if TYPE_CHECKING:
    from .state import RunState

__all__ = ["Allocation", "Arcs", "allocate", "allocate_catchment", "allocate_optimal",
           "allocation", "max_served", "served_by", "COST_RESOLUTION_M"]

#: Metres per unit of integer cost in the min-cost flow (decimetres).
COST_RESOLUTION_M = 0.1

#: Networks with at least this many arcs, and this many per unit, are solved on each
#: unit's ``PRICING_K`` nearest sites and priced against the rest (capacity.flow): 1.5×
#: faster at 130 arcs per unit (50,000 units), none at 40 (measured, CPU time).
PRICING_MIN_ARCS = 1_000_000
PRICING_ARCS_PER_UNIT = 64
PRICING_K = 8

Mode = Literal["catchment", "optimal", "designed"]


@dataclass
class Allocation:
    """Pupil flows of one stage and year, plus unserved pupils per unit."""

    unit: np.ndarray          # (F,) int64 unit index of each flow
    school: np.ndarray        # (F,) int64 school index
    pupils: np.ndarray        # (F,) int64 > 0
    distance: np.ndarray      # (F,) float64 metres
    unserved: np.ndarray      # (U,) int64 pupils of each unit not served
    out_of_reach: np.ndarray  # (U,) int64 part of unserved with no open school in reach
    nearest: np.ndarray       # (F,) bool flow goes to the unit's nearest open school

    def served(self) -> np.ndarray:
        """(U,) pupils served per unit."""
        return np.bincount(self.unit, weights=self.pupils,
                           minlength=len(self.unserved)).astype(np.int64)

    def load(self, n_schools: int) -> np.ndarray:
        """(S,) pupils admitted per school."""
        return np.bincount(self.school, weights=self.pupils,
                           minlength=n_schools).astype(np.int64)

    def total_distance(self) -> float:
        """Total pupil-metres."""
        return float(np.dot(self.pupils, self.distance))


def _prepare(arcs: Arcs, demand, places, open_mask):
    demand = np.asarray(demand, dtype=np.int64)
    places = np.asarray(places, dtype=np.int64)
    if demand.shape != (arcs.n_units,) or places.shape != (arcs.n_schools,):
        raise ValueError(f"demand must be ({arcs.n_units},) and places ({arcs.n_schools},); "
                         f"got {demand.shape} and {places.shape}")
    if (demand < 0).any() or (places < 0).any():
        raise ValueError("demand and places must be non-negative")
    open_mask = places > 0 if open_mask is None else np.asarray(open_mask, bool)
    if open_mask.shape != (arcs.n_schools,):
        raise ValueError(f"open_mask must be ({arcs.n_schools},)")
    open_arc = open_mask[arcs.school]
    first, in_reach = arcs.nearest_arc(open_arc)
    near_m = np.full(arcs.n_units, np.inf)
    near_m[in_reach] = arcs.distance[first[in_reach]]
    return demand, places, open_mask, open_arc, in_reach, near_m


def _finish(unit, school, pupils, dist, demand, in_reach, near_m) -> Allocation:
    keep = pupils > 0
    unit, school, pupils, dist = unit[keep], school[keep], pupils[keep], dist[keep]
    served = np.bincount(unit, weights=pupils, minlength=len(demand)).astype(np.int64)
    unserved = demand - served
    return Allocation(unit=unit.astype(np.int64), school=school.astype(np.int64),
                      pupils=pupils.astype(np.int64), distance=dist.astype(np.float64),
                      unserved=unserved, out_of_reach=np.where(in_reach, 0, unserved),
                      nearest=dist <= near_m[unit])


@ALLOCATORS.register("catchment")
def allocate_catchment(arcs: Arcs, demand: np.ndarray, places: np.ndarray, *,
                       open_mask: np.ndarray | None = None,
                       catchment: np.ndarray | None = None) -> Allocation:
    """Catchment mode: each unit goes to one school, which admits pro rata up to its places.

    The unit's school is ``catchment[u]`` when given, ``>= 0`` and open that year; otherwise
    its nearest open school (lowest index on ties). A unit whose school is beyond the radius
    is not served and takes no place. A school whose catchment demand ``D`` exceeds its
    places ``P`` gives unit ``u`` ``floor(d_u P / D)`` pupils plus one for the
    ``P - Σ floor`` largest remainders (ties: lower unit index), so it admits exactly
    ``min(P, D)``.
    """
    demand, places, open_mask, _, in_reach, near_m = _prepare(arcs, demand, places, open_mask)
    school, dist = arcs.nearest_open(open_mask)
    inr_all = in_reach.copy()   # the nearest open school is within reach iff any is
    if catchment is not None:
        catchment = np.asarray(catchment, np.int64)
        if catchment.shape != (arcs.n_units,) or (catchment >= arcs.n_schools).any():
            raise ValueError("catchment must be (U,) school indices (-1 = nearest)")
        given = np.flatnonzero(catchment >= 0)
        given = given[open_mask[catchment[given]]]
        school[given] = catchment[given]
        dist[given] = arcs.distance_of(given, catchment[given])
        inr_all[given] = np.isfinite(dist[given])
    u = np.flatnonzero((school >= 0) & (demand > 0) & inr_all)
    s, d = school[u], dist[u]
    want = demand[u]
    total = np.bincount(s, weights=want, minlength=arcs.n_schools).astype(np.int64)
    cap = places[s]
    full = total[s] > cap  # schools short of places: pro rata
    num = want * cap
    den = np.maximum(total[s], 1)
    give = np.where(full, num // den, want)
    rem = np.where(full, num % den, -1)
    left = places - np.bincount(s, weights=give, minlength=arcs.n_schools).astype(np.int64)
    # rank units within each full school by remainder desc, unit asc
    fi = np.flatnonzero(full)
    if len(fi):
        order = fi[np.lexsort((u[fi], -rem[fi], s[fi]))]
        ss = s[order]
        lead = np.ones(len(order), bool)
        lead[1:] = ss[1:] != ss[:-1]
        grp_start = np.maximum.accumulate(np.where(lead, np.arange(len(order)), 0))
        rank = np.arange(len(order)) - grp_start
        give[order] += rank < left[ss]
    return _finish(u, s, give, d, demand, in_reach, near_m)


@ALLOCATORS.register("optimal")
def allocate_optimal(arcs: Arcs, demand: np.ndarray, places: np.ndarray, *,
                     open_mask: np.ndarray | None = None) -> Allocation:
    """Optimal mode: max pupils served within the radius, then min total pupil-distance.

    One OR-Tools min-cost flow (``solve_max_flow_with_min_cost``) over the arcs to open
    schools with places and from units with demand; costs in decimetres. Large networks
    are solved on each unit's nearest sites and priced against every arc
    (:func:`capacity.flow.priced_flows`): the same optimum, proved by its dual prices.
    """
    demand, places, open_mask, open_arc, in_reach, near_m = _prepare(
        arcs, demand, places, open_mask)
    use = open_arc & (demand[arcs.unit] > 0) & (places[arcs.school] > 0)
    n_use = int(np.count_nonzero(use))
    if n_use >= PRICING_MIN_ARCS and n_use >= PRICING_ARCS_PER_UNIT * arcs.n_units:
        # all arcs as they are (no copies of 10^7 arcs), unusable ones never priced in
        flow = priced_flows(arcs.unit, arcs.school, arc_costs(arcs), demand, places,
                            arcs.near(PRICING_K) & use, use)
        ai = np.flatnonzero(flow)
        return _finish(arcs.unit[ai], arcs.school[ai], flow[ai], arcs.distance[ai], demand,
                       in_reach, near_m)
    ai = np.flatnonzero(use)
    au, asch = arcs.unit[ai], arcs.school[ai]
    if not len(ai):
        z = np.zeros(0, np.int64)
        return _finish(z, z, z, np.zeros(0), demand, in_reach, near_m)
    cost = arc_costs(arcs)[ai].astype(np.int64)
    flow = min_cost_flows(au, asch, cost, np.minimum(demand[au], places[asch]), demand, places)
    return _finish(au, asch, flow, arcs.distance[ai], demand, in_reach, near_m)


@ALLOCATORS.register("designed")
def allocate_designed(arcs: Arcs, demand: np.ndarray, places: np.ndarray, *,
                      open_mask: np.ndarray | None = None) -> Allocation:
    """Designed mode: catchment mode's rule with the scenario's map as the catchment
    (``arcs.cache["designed"]``: site index per unit, -1 none; set by
    :func:`capacity.catchments.mode.attach_maps`); without a map, catchment mode."""
    return allocate_catchment(arcs, demand, places, open_mask=open_mask,
                              catchment=arcs.cache.get("designed"))


#: Needs a map from the scenario: run only when it is the scenario's mode.
allocate_designed.needs_map = True  # type: ignore[attr-defined]


def arc_costs(arcs: Arcs) -> np.ndarray:
    """(A,) the optimal mode's integer cost of each arc: its length in decimetres,
    rounded (``COST_RESOLUTION_M``); computed once per arcs."""
    if "cost" not in arcs.cache:
        cost = np.rint(arcs.distance / COST_RESOLUTION_M)
        small = len(cost) == 0 or cost.max() < np.iinfo(np.int32).max
        arcs.cache["cost"] = cost.astype(np.int32 if small else np.int64)
    return arcs.cache["cost"]


def max_served(arcs: Arcs, demand: np.ndarray, places: np.ndarray, *,
               open_mask: np.ndarray | None = None) -> int:
    """Pupils the optimal mode serves, found as a bare max flow (no costs): the same
    number as :func:`allocate_optimal` serves, several times faster."""
    demand, places, open_mask, open_arc, _, _ = _prepare(arcs, demand, places, open_mask)
    use = open_arc & (demand[arcs.unit] > 0) & (places[arcs.school] > 0)
    au, asch = arcs.unit[use], arcs.school[use]
    if not len(au):
        return 0
    n_u, n_s = arcs.n_units, arcs.n_schools
    source, sink = n_u + n_s, n_u + n_s + 1
    units = np.flatnonzero(np.bincount(au, minlength=n_u))
    schools = np.flatnonzero(np.bincount(asch, minlength=n_s))
    mf = max_flow.SimpleMaxFlow()
    mf.add_arcs_with_capacity(
        np.concatenate([np.full(len(units), source), au, n_u + schools]).astype(np.int32),
        np.concatenate([units, n_u + asch, np.full(len(schools), sink)]).astype(np.int32),
        np.concatenate([demand[units], np.minimum(demand[au], places[asch]),
                        places[schools]]).astype(np.int64))
    if mf.solve(source, sink) != mf.OPTIMAL:
        raise RuntimeError("max flow failed")
    return int(mf.optimal_flow())


#: The optimal mode's served count without the flows (criticality needs only that).
allocate_optimal.served = max_served  # type: ignore[attr-defined]


def served_by(rule: Callable[..., Allocation], arcs: Arcs, demand: np.ndarray,
              places: np.ndarray) -> int:
    """Pupils an allocation rule serves; its fast ``served`` path when it has one."""
    fast = getattr(rule, "served", None)
    if fast is not None:
        return fast(arcs, demand, places, open_mask=places > 0)
    return int(rule(arcs, demand, places, open_mask=places > 0).pupils.sum())


def allocate(unit_xy: np.ndarray, demand: np.ndarray, school_xy: np.ndarray,
             places: np.ndarray, radius: float | np.ndarray, mode: Mode = "optimal", *,
             open_mask: np.ndarray | None = None,
             catchment: np.ndarray | None = None) -> Allocation:
    """Build the arcs and allocate in one call (``mode``: a registered allocation mode)."""
    arcs = Arcs.build(unit_xy, school_xy, radius)
    if catchment is not None:
        if mode != "catchment":
            raise ValueError("catchment applies to mode='catchment' only")
        return allocate_catchment(arcs, demand, places, open_mask=open_mask,
                                  catchment=catchment)
    return ALLOCATORS.get(mode)(arcs, demand, places, open_mask=open_mask)


def allocation(state: "RunState") -> None:
    """The allocation step: every chosen mode, stage and year into ``state.allocations``
    as ``{(stage, mode): [Allocation per year]}`` (schools without places are closed).
    Stage-years are solved on ``state.workers`` processes."""
    from .parallel import pmap

    state.say(f"allocating {len(state.stage_names)} stages × {len(state.years)} years")
    if "designed" in state.allocators:    # the scenario's catchment map, per stage
        from .catchments.mode import attach_maps

        attach_maps(state)
    every = {id(a): a for a in [*state.arcs.values(),
                                *(a for v in state.transport_arcs.values() for a in v)]}
    if "optimal" in state.allocators:     # derived once, before the workers fork
        for arcs in every.values():
            arc_costs(arcs)
            if len(arcs) >= PRICING_MIN_ARCS:
                arcs.near(PRICING_K)
    tasks = [(k, stage, mode, y) for k, stage in enumerate(state.stage_names)
             for mode in state.allocators for y in range(len(state.years))]
    # largest first, one at a time: the pool's last task is a small one (the optimal mode
    # on the stage with the most arcs weighs most)
    size = {t: len(state.arcs[t[1]]) * (4 if t[2] == "optimal" else 1) for t in tasks}
    order = sorted(tasks, key=lambda t: -size[t])
    solved = dict(zip(order, pmap(_solve_one, state, order, state.workers_for(tasks),
                                  chunksize=1)))
    state.solves["allocation"] = len(tasks)
    for t in tasks:
        state.allocations.setdefault((t[1], t[2]), []).append(solved[t])
    for arcs in every.values():    # the solves' costs: 4 bytes an arc, not kept
        arcs.cache.pop("cost", None)


def _solve_one(state: "RunState", task: tuple[int, str, str, int]) -> Allocation:
    k, stage, mode, y = task
    places = state.supply.places[state.site_mask(stage), y]
    return state.allocators[mode](state.arcs_for(stage, y), state.unit_pupils[y, k], places,
                                  open_mask=places > 0)
