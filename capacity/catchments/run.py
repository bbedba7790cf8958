"""``capacity catchments``: the scenario's run, then designed maps per stage and year (or
span), their use, shortfall and moves (docs/catchments.md)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from ..allocate import allocate_catchment
from ..chain import Chain
from ..errors import InputError, Problems
from ..scenario import Scenario
from ..state import Progress, RunState
from ..tomlspec import read_toml
from .adjacency import Adjacency, school_roots, unit_adjacency
from .current import CurrentMap, read_current, stage_map
from .solve import Design, build, design

#: Defaults of ``[catchments]`` (model.toml, a scenario's wins).
DEFAULTS = {"tolerance": 0.0, "distance_slack": 0.01, "time_limit_s": 20.0}


@dataclass
class DesignedMap:
    """One stage's map for the years ``first``..``last``."""

    stage: str
    first: int
    last: int
    design: Design
    site_ids: np.ndarray       # (S,) the stage's site ids
    moved: int | None          # pupils (first year) whose school differs from the map before


@dataclass
class Catchments:
    """Every map of a ``capacity catchments`` run and its tables."""

    state: RunState
    adjacency: Adjacency
    maps: list[DesignedMap]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    current: CurrentMap | None = None


def params(state: RunState) -> dict[str, float]:
    """``[catchments]`` of model.toml, then of the scenario."""
    conf = read_toml(Path(state.model.path) / "model.toml")[0].get("catchments", {})
    return {k: float({**DEFAULTS, **conf, **state.scenario.raw.get("catchments", {})}[k])
            for k in DEFAULTS}


def district(state: RunState):
    """The district outline in the model CRS (the cells are clipped to it)."""
    return shapely.union_all(state.model.zones.geometry.values, grid_size=1.0)


def make_catchments(scenario: Scenario | str | Path, stages: list[str] | None = None,
                    years: tuple[int, int] | None = None, each_year: bool = False,
                    current: str | Path | None = None, time_limit_s: float | None = None,
                    progress: Progress | None = None) -> Catchments:
    """Design the maps; InputError for bad options or inputs (before any solve)."""
    chain = Chain(scenario, modes=("catchment", "optimal"), post=(), progress=progress,
                  workers=1)
    state = chain.run_steps(chain.start())
    conf = params(state)
    problems = Problems()
    for s in stages or []:
        if s not in state.model.stages:
            problems.add("--stage", f"unknown stage {s!r}",
                         expected=", ".join(state.model.stages))
    first, last = years or (state.report_year, state.report_year)
    lo, hi = int(state.years[0]), int(state.years[-1])
    if not (lo <= first <= last <= hi):
        problems.add("--years" if years and first != last else "--year",
                     f"{first}–{last} is not within the run's years",
                     expected=f"years from {lo} to {hi}, first ≤ last")
    if time_limit_s is not None and not time_limit_s > 0:
        problems.add("--time-limit", f"{time_limit_s} is not a number of seconds",
                     expected="seconds > 0")
    for k, top in (("tolerance", 10.0), ("distance_slack", 10.0)):
        if not 0 <= conf[k] <= top:
            problems.add("model.toml", f"catchments.{k} = {conf[k]} is out of range",
                         column=f"catchments.{k}", expected=f"a share in [0, {top:g}]")
    problems.raise_if_any()
    cur = read_current(state, current) if current is not None else None   # fails early
    state.say("catchments: unit adjacency")
    adj = unit_adjacency(state.units[["x", "y"]].to_numpy(), district(state))
    spans = [(y, y) for y in range(first, last + 1)] if each_year else [(first, last)]
    maps = []
    limit = time_limit_s or conf["time_limit_s"]
    for stage in stages or state.stage_names:
        k = state.stage_names.index(stage)
        arcs = state.arcs[stage]
        site_ids = state.supply.sites.loc[state.site_mask(stage), "school_id"].astype(str) \
            .to_numpy()
        roots = school_roots(adj, arcs.unit_xy, arcs.school_xy)
        before = stage_map(read_current(state, current, stage), site_ids) \
            if current is not None else None
        for a, b in spans:
            state.say(f"catchments: {stage} {a}" + (f"–{b}" if b != a else ""))
            ys = np.arange(a - lo, b - lo + 1)
            places = state.supply.places[state.site_mask(stage)][:, ys].T
            inst, _ = build(arcs, state.unit_pupils[ys, k], places, adj.ptr, adj.idx, roots,
                            conf["tolerance"], before)
            d = design(inst, limit, conf["distance_slack"])
            moved = None
            if before is not None:
                pupils = state.unit_pupils[ys[0], k]
                had = (before >= 0) & (d.school_of >= 0)
                moved = int(pupils[had & (before != d.school_of)].sum())
            maps.append(DesignedMap(stage, a, b, d, site_ids, moved))
            before = d.school_of
    out = Catchments(state, adj, maps, current=cur)
    out.tables = tables(out)
    return out


def evaluate(state: RunState, stage: str, year_index: int, school_of: np.ndarray):
    """The year's allocation under a map: each unit's pupils to its school, which admits
    pro rata up to its places (catchment mode's rule with the map as catchment); pupils of
    a unit in reach but in no catchment are unserved."""
    k = state.stage_names.index(stage)
    arcs = state.arcs[stage]
    demand = state.unit_pupils[year_index, k].copy()
    places = state.supply.places[state.site_mask(stage), year_index]
    in_reach_none = (school_of < 0) & (np.diff(arcs.start) > 0)
    lost = np.where(in_reach_none, demand, 0)
    demand[in_reach_none] = 0
    alloc = allocate_catchment(arcs, demand, places, open_mask=places > 0,
                               catchment=school_of)
    alloc.unserved = alloc.unserved + lost
    return alloc, demand + lost, places


def tables(c: Catchments) -> dict[str, pd.DataFrame]:
    """catchment_units, catchment_schools, catchment_shortfall, catchment_summary."""
    state = c.state
    units = state.units
    zone_ids = np.asarray(state.model.zone_ids, dtype=object)
    lo = int(state.years[0])
    rows_u, rows_s, rows_z, rows_sum = [], [], [], []
    for m in c.maps:
        d = m.design
        arcs = state.arcs[m.stage]
        on = d.school_of >= 0
        dist = np.full(len(d.school_of), np.nan)
        dist[on] = arcs.distance_of(np.flatnonzero(on), d.school_of[on])
        rows_u.append(pd.DataFrame({
            "stage": m.stage, "first_year": m.first, "last_year": m.last,
            "unit_id": units["unit_id"].to_numpy(), "zone_id": units["zone_id"].to_numpy(),
            "school_id": np.where(on, m.site_ids[np.maximum(d.school_of, 0)], ""),
            "distance_m": np.round(dist, 1)}))
        for year in range(m.first, m.last + 1):
            y = year - lo
            alloc, demand, places = evaluate(state, m.stage, y, d.school_of)
            pupils = np.bincount(d.school_of[on], weights=demand[on],
                                 minlength=len(places)).astype(np.int64)
            open_ = places > 0
            with np.errstate(divide="ignore", invalid="ignore"):
                util = np.where(places > 0, pupils / np.maximum(places, 1), np.nan)
            rows_s.append(pd.DataFrame({
                "stage": m.stage, "first_year": m.first, "last_year": m.last, "year": year,
                "school_id": m.site_ids[open_], "places": places[open_],
                "pupils": pupils[open_], "shortfall": np.maximum(pupils - places, 0)[open_],
                "utilisation": np.round(util[open_], 4)}))
            zone = units["zone"].to_numpy()
            nz = len(zone_ids)
            dz = np.bincount(zone, weights=demand, minlength=nz)
            uz = np.bincount(zone, weights=alloc.unserved, minlength=nz)
            oz = np.bincount(zone, weights=alloc.out_of_reach, minlength=nz)
            rows_z.append(pd.DataFrame({
                "stage": m.stage, "first_year": m.first, "last_year": m.last, "year": year,
                "zone_id": zone_ids, "demand": dz.astype(np.int64),
                "served": (dz - uz).astype(np.int64), "shortfall": uz.astype(np.int64),
                "out_of_reach": oz.astype(np.int64)}))
            short = {mode: int(state.allocations[(m.stage, mode)][y].unserved.sum())
                     for mode in ("catchment", "optimal")}
            n_c = int(len(np.unique(d.school_of[on])))
            cont = d.contiguous[np.unique(d.school_of[on])] if n_c else np.ones(0, bool)
            rows_sum.append({
                "stage": m.stage, "first_year": m.first, "last_year": m.last, "year": year,
                "demand": int(demand.sum()), "places": int(places.sum()),
                "shortfall_nearest": short["catchment"],
                "shortfall_designed": int(alloc.unserved.sum()),
                "shortfall_optimal": short["optimal"],
                "out_of_reach": int(alloc.out_of_reach.sum()),
                "catchments": n_c, "contiguous_share": round(float(cont.mean()), 4)
                if n_c else 1.0,
                "pupils_moved": m.moved if year == m.first else None,
                "distance_km_per_pupil": round(float(np.dot(demand[on], np.nan_to_num(
                    dist[on]))) / max(int(demand[on].sum()), 1) / 1000, 3),
                "status": d.status, "unserved_bound": round(d.bound, 1),
                "bound_basis": d.bound_basis,
                "gap": round(d.gap, 4), "distance_gap": round(
                    max(0.0, 1 - d.distance_bound / d.score.distance), 4)
                if d.score.distance > 0 else 0.0,
                "seconds": round(d.seconds, 2), "parts": d.parts,
                "exact_parts": d.exact_parts})
    out = {"catchment_units": pd.concat(rows_u, ignore_index=True),
           "catchment_schools": pd.concat(rows_s, ignore_index=True),
           "catchment_shortfall": pd.concat(rows_z, ignore_index=True),
           "catchment_summary": pd.DataFrame(rows_sum)}
    if c.current is not None:
        out["current_issues"] = c.current.issues
    return out


__all__ = ["Catchments", "DesignedMap", "make_catchments", "evaluate", "InputError"]
