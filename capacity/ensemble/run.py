"""Running draws: a batch of draws through the chain's steps, fast (docs/ensemble.md).

A batch projects all its draws at once (draws stacked on the zone axis of one
cohort-component projection), then per draw: demand (the demand step's functions), supply
(the supply step on a state holding the drawn scenario) and the allocation of the scenario's
mode on the arcs built once (draws change places and pupils, never sites or units).
In optimal mode a solve builds allocate_optimal's own network but keeps only per-zone
totals (:mod:`capacity.ensemble.flows`). A stage-year whose pupils and places equal an
earlier one's (in this worker process) is not solved again; in a mode with a fast served count (optimal: a bare max flow) a
stage-year that serves everyone needs no flows at all. A batch returns only its per-zone
summaries.
"""
from __future__ import annotations

import hashlib
import resource
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..allocate import allocate_optimal
from ..demand import add_cross_boundary, stage_population, unit_demand
from ..demography.ccm import project
from ..projection import Inputs, inputs, pivot, survival
from ..state import RunState
from ..supply import build_supply
from .draws import Draw, draw_scenario
from .flows import Network

if TYPE_CHECKING:
    from ..allocate import Arcs
    from ..model import Model
    from ..scenario import Scenario

CACHE_SIZE = 20_000          # stage-year summaries kept per worker process


@dataclass
class Base:
    """What every draw shares: the scenario, its model and the run's fixed geometry."""

    scenario: "Scenario"
    model: "Model"
    years: np.ndarray
    units: pd.DataFrame
    arcs: dict[str, "Arcs"]
    site_stage: np.ndarray            # (sites,) stage of each supply site
    mode: str
    allocator: object
    networks: dict[str, Network] | None = None   # optimal mode: per arcs key (arcs_for)
    unit_zone: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # (U,)
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    # stage → arcs per year, for stages with [[transport]] rows (RunState.transport_arcs)
    transport_arcs: dict[str, list["Arcs"]] = field(default_factory=dict)

    def arcs_for(self, stage: str, y: int) -> tuple[str, "Arcs"]:
        """A key naming the arcs of ``stage`` in year index ``y`` (the stage, or the stage
        and the first year sharing the year's [[transport]] arcs) and those arcs."""
        by_year = self.transport_arcs.get(stage)
        if by_year is None or by_year[y] is self.arcs[stage]:
            return stage, self.arcs[stage]
        first = next(i for i, a in enumerate(by_year) if a is by_year[y])
        if "designed" in self.arcs[stage].cache:
            by_year[y].cache["designed"] = self.arcs[stage].cache["designed"]
        return f"{stage}@{first}", by_year[y]

    @property
    def steps(self) -> np.ndarray:
        return self.years[1:]

    @property
    def stages(self) -> list[str]:
        return list(self.model.stages)


def make_base(state: RunState) -> Base:
    """The shared part of an ensemble from a state that ran projection … distances."""
    allocator = state.allocators[state.scenario.mode]
    zone = state.units["zone"].to_numpy(np.int64)
    base = Base(scenario=state.scenario, model=state.model, years=state.years,
                units=state.units, arcs=dict(state.arcs),
                site_stage=state.supply.sites["stage"].to_numpy(str),
                mode=state.scenario.mode, allocator=allocator, unit_zone=zone,
                transport_arcs=dict(state.transport_arcs))
    if allocator is allocate_optimal:
        every = dict(base.arcs_for(s, y) for s in base.stages for y in range(len(base.years)))
        base.networks = {key: Network.of(a, zone, len(state.model.zones))
                         for key, a in every.items()}
    return base


@dataclass
class BatchResult:
    """Per-zone summaries of a batch of draws (arrays: draw, year, zone, stage)."""

    draws: np.ndarray          # (D,) draw indices
    demand: np.ndarray         # (D, Y, Z, K) int32 whole pupils
    shortfall: np.ndarray      # (D, Y, Z, K) int32 pupils without a place
    out_of_reach: np.ndarray   # (D, Y, Z, K) int32 of which no school in reach
    places: np.ndarray         # (D, Y, K) int64 places open in the district
    stats: dict[str, int]


_CACHE: OrderedDict[bytes, tuple[np.ndarray, np.ndarray]] = OrderedDict()

#: The "everyone served?" max-flow check is skipped for a stage after this many tries
#: without a hit (in a worker): then it only costs time. Either way the results are the same.
PRECHECK_TRIES = 4
_PRECHECK: dict[tuple[str, str], list[int]] = {}


def _stacked_out_rates(model, given: list[Inputs]) -> np.ndarray | None:
    """(D·Z, 2, A) exit rates of every draw, stacked on the zone axis like the
    populations (None when no draw has rate-based exits)."""
    if all(g.out_rates is None for g in given):
        return None
    none = np.zeros((len(model.zones), 2, model.open_age + 1))
    return np.concatenate([none if g.out_rates is None else g.out_rates for g in given], axis=0)


def run_batch(base: Base, draws: list[Draw]) -> BatchResult:
    """Every draw of ``draws`` through projection, demand, supply and allocation."""
    cpu0 = time.process_time()
    model, steps, years = base.model, base.steps, base.years
    Z, A, D = len(model.zones), model.open_age + 1, len(draws)
    scens = [draw_scenario(d, base.scenario, model, steps) for d in draws]
    given = [inputs(model, s, steps) for s in scens]   # as the projection step, per draw
    pop0 = pivot(model.population, "count", model.zone_ids, A)
    proj = project(np.concatenate([pop0] * D, axis=0), survival(model),
                   np.concatenate([g.asfr for g in given], axis=1),
                   np.concatenate([g.migration for g in given], axis=1),
                   srb=model.srb, timing=given[0].timing,
                   out_rates=_stacked_out_rates(model, given))
    pop = proj.population.reshape(len(years), D, Z, 2, A)
    K = len(base.stages)
    out = BatchResult(np.array([d.index for d in draws]),
                      np.zeros((D, len(years), Z, K), np.int32),
                      np.zeros((D, len(years), Z, K), np.int32),
                      np.zeros((D, len(years), Z, K), np.int32),
                      np.zeros((D, len(years), K), np.int64),
                      {"solves": 0, "cached": 0, "all_served": 0, "floored": len(proj.floored)})
    for j, (draw, scen) in enumerate(zip(draws, scens)):
        whole = draw_demand(base, scen, pop[:, j], draw)
        supply = build_supply(model, scen, years)
        if len(supply.sites) != len(base.site_stage):
            raise RuntimeError("a draw changed the supply sites")   # draws never add sites
        for k, stage in enumerate(base.stages):
            places = supply.places[base.site_stage == stage]
            out.places[j, :, k] = places.sum(axis=0)
            for y in range(len(years)):
                dem, short, reach = stage_year(base, stage, whole[y, k], places[:, y],
                                               out.stats, y)
                out.demand[j, y, :, k], out.shortfall[j, y, :, k] = dem, short
                out.out_of_reach[j, y, :, k] = reach
    out.stats["cpu_ms"] = round(1000 * (time.process_time() - cpu0))
    out.stats["peak_rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return out


def draw_demand(base: Base, scen: "Scenario", pop: np.ndarray, draw: Draw) -> np.ndarray:
    """(Y, K, U) whole pupils per unit of one draw, as the demand step computes them."""
    model = base.model
    rates = np.array([draw.enrolment[s] for s in base.stages])
    zone_pupils = stage_population(pop, model.stages) * rates
    frac, whole = unit_demand(zone_pupils, base.units, len(model.zones))
    if scen.cross_boundary:
        state = RunState(scenario=scen, model=model, years=base.years, distance=None,
                         allocators={}, report_year=int(base.years[-1]))
        state.units, state.zone_pupils, state.unit_pupils = base.units, zone_pupils, whole
        add_cross_boundary(state, frac)
        whole = state.unit_pupils
    return whole


def stage_year(base: Base, stage: str, demand: np.ndarray, places: np.ndarray,
               stats: dict[str, int], y: int = 0
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Z,) pupils, shortfall and out-of-reach per zone of one stage-year (cached; ``y``:
    the year's index, for a stage with [[transport]] rows)."""
    stage, arcs = base.arcs_for(stage, y)   # stage: the key of the year's arcs
    zone = base.unit_zone
    Z = len(base.model.zones)
    dem = np.bincount(zone, weights=demand, minlength=Z).astype(np.int64)
    demand = np.ascontiguousarray(demand, np.int64)
    places = np.ascontiguousarray(places, np.int64)
    key = hashlib.blake2b(b"|".join([base.token.encode(), stage.encode(), demand.tobytes(),
                                     places.tobytes()]), digest_size=20).digest()
    hit = _CACHE.get(key)
    if hit is not None:
        _CACHE.move_to_end(key)
        stats["cached"] += 1
        served, reach = hit
    else:
        fast = getattr(base.allocator, "served", None)
        total = demand.sum()
        tried = _PRECHECK.setdefault((base.token, stage), [0, 0])   # hits, tries
        worth = tried[0] > 0 or tried[1] < PRECHECK_TRIES
        if fast is not None and worth and places.sum() >= total:
            tried[1] += 1
            everyone = fast(arcs, demand, places, open_mask=places > 0) == total
            tried[0] += everyone
        else:
            everyone = False
        if everyone:
            stats["all_served"] += 1
            served, reach = dem, np.zeros(Z, np.int64)
        else:
            stats["solves"] += 1
            if base.networks is not None:
                served, reach = base.networks[stage].zone_totals(demand, places)
            else:
                a = base.allocator(arcs, demand, places, open_mask=places > 0)
                served = np.bincount(zone, weights=a.served(), minlength=Z).astype(np.int64)
                reach = np.bincount(zone, weights=a.out_of_reach, minlength=Z).astype(np.int64)
        _CACHE[key] = (served, reach)
        if len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return dem, dem - served, reach
