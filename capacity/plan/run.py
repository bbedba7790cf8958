"""``capacity plan``: the scenario's run, then one facility-location MILP per stage."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..chain import Chain
from ..errors import InputError
from ..parallel import default_workers, pmap
from ..scenario import Scenario
from ..state import Progress, RunState
from ..surplus import school_zones
from .candidates import read_sites, stage_candidates
from .data import stage_data
from .decode import by_year, decode, transport_units, unique_ids
from .futures import future_demand, representative
from .params import PlanParams, plan_options, plan_params
from .stage import StageResult, plan_stage

#: Columns of plan_summary.csv.
SUMMARY_COLUMNS = ["stage", "start_year", "demand_pupil_years", "unserved_before",
                   "unserved_after", "unreachable", "service_level", "new_schools",
                   "new_places", "capital_cny", "expansions", "expansion_places",
                   "expansion_cny", "temporary_place_years", "temporary_cny",
                   "transport_pupil_years", "transport_cny", "running_cny", "total_cny",
                   "discounted_cny", "penalty_cny", "bound_cny", "gap", "gap_basis", "status", "unique",
                   "draws", "candidates", "classes", "variables", "binaries"]

#: Columns of plan_unserved.csv: the plan's pupils per stage and year (the central future).
UNSERVED_COLUMNS = ["stage", "year", "demand", "served", "unserved", "unreachable",
                    "unserved_before"]


@dataclass
class Plan:
    """A scenario's plan: rows of plan.csv, spending by year, a summary per stage, pupils
    per year, new schools' use and the units transported; the solver's seconds per stage
    go to manifest.json only (``timings``)."""

    state: RunState
    params: PlanParams
    plan: pd.DataFrame
    by_year: pd.DataFrame
    summary: pd.DataFrame
    unserved: pd.DataFrame
    use: pd.DataFrame
    transport_units: pd.DataFrame
    candidates: dict[str, pd.DataFrame] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    results: dict[str, StageResult] = field(default_factory=dict, repr=False)


def make_plan(scenario: Scenario | str | Path, stages: list[str] | None = None,
              progress: Progress | None = None, time_limit_s: float | None = None,
              draws: int = 0, seed: int = 0) -> Plan:
    """Plan every stage (or ``stages``, each once) of a scenario; InputError for bad input.
    ``draws`` > 0: one plan for every future — the schools and expansions chosen once for
    that many draws of the scenario's ensemble (weighted as the ensemble weighs them)."""
    chain = Chain(scenario, post=(), progress=progress, workers=1)
    state = chain.start()
    stages, time_limit_s = plan_options(stages, time_limit_s, list(state.model.stages))
    params = plan_params(state)
    mode = state.scenario.mode
    state.allocators = {mode: state.allocators[mode]}     # the scenario's mode only
    state = chain.run_steps(state)
    sites = read_sites(state, params)
    futures = future_demand(state, draws, seed) if draws else None
    parts: dict[str, list] = {"rows": [], "summary": [], "unserved": [], "use": [], "tr": []}
    cands, seconds = {}, {}
    zone_ids = list(state.model.zones["zone_id"])
    unit_ids = state.units["unit_id"].to_numpy()
    todo = stages or state.stage_names
    jobs = {}
    for stage in todo:
        cand = stage_candidates(state, params, stage, sites)
        cands[stage] = cand
        k = state.stage_names.index(stage)
        demand, weights = representative(futures[0][:, :, k, :], futures[1]) if futures \
            else (None, None)
        # with draws, the files show the central future's pupils for the buildings chosen
        jobs[stage] = (stage_data(state, params, stage, cand, demand, weights),
                       params.stages[stage], params, time_limit_s,
                       stage_data(state, params, stage, cand) if futures else None)
    order = sorted(todo, key=lambda s: -len(jobs[s][0].arcs))     # largest first
    state.say(f"plan: solving {', '.join(order)}")
    solved = pmap(_solve, jobs, order, workers=min(default_workers(), len(order)),
                  chunksize=1)
    results = dict(zip(order, solved))
    shares = budget_shares({s: r.capital_by_year for s, r in results.items()},
                           params.capital_budget_per_year_cny)
    if shares:
        for s in order:
            share = replace(params, capital_budget_per_year_cny=shares[s])
            jobs[s] = (jobs[s][0], jobs[s][1], share, *jobs[s][3:])
        state.say("plan: over the yearly capital budget — solving again with each stage's share")
        results = dict(zip(order, pmap(_solve, jobs, order,
                                       workers=min(default_workers(), len(order)),
                                       chunksize=1)))
    for stage in todo:
        r, cand, sp = results[stage], cands[stage], params.stages[stage]
        sel = state.site_mask(stage)
        site_frame = state.supply.sites[sel].reset_index(drop=True)
        site_frame = site_frame.assign(zone_id=school_zones(site_frame, state.model.zones))
        p = decode(r, sp, stage, site_frame, cand, zone_ids, int(state.years[-1]),
                   state.model.crs)
        parts["rows"].append(p)
        parts["tr"].append(transport_units(r, stage, unit_ids))
        seconds[stage] = round(r.seconds, 2)
        before = unserved_before(state, params, stage)
        parts["summary"].append(summary_row(stage, params, r, p, cand, before, draws))
        parts["unserved"].append(pd.DataFrame({
            "stage": stage, "year": r.years, "demand": r.served[0] + r.unserved[0],
            "served": r.served[0], "unserved": r.unserved[0],
            "unreachable": r.unreachable[0], "unserved_before": before}))
        parts["use"].append(r.use.assign(stage=stage, id=cand["site_id"].to_numpy()[
            r.use["cand"].to_numpy(int)] if len(r.use) else []))
    plan = unique_ids(pd.concat(parts["rows"], ignore_index=True),
                      set(state.supply.sites["school_id"]))
    build = {s: (sp.construction_years, sp.expansion_construction_years)
             for s, sp in params.stages.items()}
    use = pd.concat(parts["use"], ignore_index=True)
    use = use.reindex(columns=["stage", "id", "year", "pupils", "places"])
    return Plan(state, params, plan, by_year(plan, build),
                pd.DataFrame(parts["summary"], columns=SUMMARY_COLUMNS),
                pd.concat(parts["unserved"], ignore_index=True)[UNSERVED_COLUMNS], use,
                pd.concat(parts["tr"], ignore_index=True), cands, seconds, results)


def _solve(jobs: dict, stage: str) -> StageResult:
    """One stage's plan (a task of the process pool: stages are solved side by side)."""
    data, sp, params, limit, central = jobs[stage]
    return plan_stage(data, sp, params, limit, central=central)


def budget_shares(capital: dict[str, pd.Series], budget: float | None) -> dict[str, float]:
    """Each stage's share of the yearly capital budget when the stages' capital by year
    (year → CNY) together exceeds it in some year — in proportion to their capital over the
    plan; {} when there is no budget or it is kept."""
    frames = [c for c in capital.values() if len(c)]
    if budget is None or not frames or \
            float(pd.concat(frames).groupby(level=0).sum().max()) <= budget * (1 + 1e-9):
        return {}
    total = {s: float(c.sum()) for s, c in capital.items()}
    whole = sum(total.values()) or 1.0
    return {s: budget * v / whole for s, v in total.items()}


def unserved_before(state: RunState, params: PlanParams, stage: str) -> np.ndarray:
    """(T,) pupils without a place in each planned year under the scenario's allocation."""
    allocs = state.allocations[(stage, state.scenario.mode)]
    ty = np.flatnonzero(state.years >= params.start_year)
    return np.array([int(allocs[y].unserved.sum()) for y in ty])


def summary_row(stage: str, params: PlanParams, r: StageResult, p: pd.DataFrame,
                cand: pd.DataFrame, before: np.ndarray, draws: int) -> dict:
    """One stage's line of plan_summary.csv (the central future's pupils and costs)."""
    kind = {k: p[p["kind"] == k] for k in ("new", "expansion", "temporary", "transport")}
    f = r.formulation
    money = [float(kind[k]["cost_cny"].sum()) for k in kind]
    return {"stage": stage, "start_year": params.start_year,
            "demand_pupil_years": int(round(float((r.served[0] + r.unserved[0]).sum()))),
            "unserved_before": int(before.sum()),
            "unserved_after": round(float(r.unserved[0].sum()), 3),
            "unreachable": float(r.unreachable[0].sum()),
            "service_level": params.stages[stage].service_level,
            "new_schools": len(kind["new"]), "new_places": int(kind["new"]["places"].sum()),
            "capital_cny": money[0], "expansions": len(kind["expansion"]),
            "expansion_places": int(kind["expansion"]["places"].sum()),
            "expansion_cny": money[1],
            "temporary_place_years": float(kind["temporary"]["pupil_years"].sum()),
            "temporary_cny": money[2],
            "transport_pupil_years": float(kind["transport"]["pupil_years"].sum()),
            "transport_cny": money[3], "running_cny": r.cost["running"],
            "total_cny": sum(money) + r.cost["running"],
            "discounted_cny": round(r.objective_cny - r.penalty_cny, 2),
            "penalty_cny": round(r.penalty_cny, 2), "bound_cny": round(r.bound_cny, 2),
            "gap": round(r.gap, 6), "gap_basis": r.gap_basis, "status": r.status,
            "unique": r.unique, "draws": draws or 1, "candidates": len(cand),
            "classes": len(f.data.arcs["cls"].unique()), "variables": f.A.shape[1],
            "binaries": int(f.integer.sum())}


__all__ = ["Plan", "make_plan", "InputError"]
