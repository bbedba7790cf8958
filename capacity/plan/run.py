"""``capacity plan``: the scenario's run, then one facility-location MILP per stage."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..chain import Chain
from ..errors import InputError
from ..scenario import Scenario
from ..state import Progress, RunState
from .candidates import read_sites, stage_candidates
from .decode import by_year, decode, unique_ids
from .formulation import formulate
from .params import PlanParams, plan_options, plan_params
from .solve import solve

#: Columns of plan_summary.csv.
SUMMARY_COLUMNS = ["stage", "demand_pupil_years", "unserved_before", "unserved_after",
                   "unreachable", "new_schools", "new_places", "capital_cny",
                   "temporary_place_years", "temporary_cny", "transport_pupil_years",
                   "transport_cny", "total_cny", "bound_cny", "gap", "gap_basis", "status",
                   "candidates", "classes", "variables", "binaries"]


@dataclass
class Plan:
    """A scenario's plan: rows of plan.csv, spending by year, a summary per stage; the
    solver's seconds per stage go to manifest.json only (``timings``)."""

    state: RunState
    params: PlanParams
    plan: pd.DataFrame
    by_year: pd.DataFrame
    summary: pd.DataFrame
    candidates: dict[str, pd.DataFrame] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def make_plan(scenario: Scenario | str | Path, stages: list[str] | None = None,
              progress: Progress | None = None, time_limit_s: float | None = None) -> Plan:
    """Plan every stage (or ``stages``, each once) of a scenario; InputError for bad input."""
    chain = Chain(scenario, post=(), progress=progress, workers=1)
    state = chain.start()
    stages, time_limit_s = plan_options(stages, time_limit_s, list(state.model.stages))
    params = plan_params(state)
    mode = state.scenario.mode
    state.allocators = {mode: state.allocators[mode]}     # the scenario's mode only
    state = chain.run_steps(state)
    sites = read_sites(state, params)
    rows, summaries, cands, seconds = [], [], {}, {}
    zone_ids = list(state.model.zones["zone_id"])
    for stage in stages or state.stage_names:
        state.say(f"plan: {stage}")
        sp = params.stages[stage]
        cand = stage_candidates(state, params, stage, sites)
        cands[stage] = cand
        f = formulate(state, params, stage, cand)
        sol = solve(f, params.mip_gap, time_limit_s or params.time_limit_s)
        sel = state.site_mask(stage)
        p = decode(f, sol, sp, stage, state.supply.sites[sel].reset_index(drop=True), cand,
                   zone_ids, int(state.years[-1]), state.model.crs)
        rows.append(p)
        seconds[stage] = round(sol.seconds, 2)
        summaries.append(_summary(state, params, stage, f, sol, p, cand))
    plan = unique_ids(pd.concat(rows, ignore_index=True), set(state.supply.sites["school_id"]))
    return Plan(state, params, plan, by_year(plan), pd.DataFrame(summaries,
                columns=SUMMARY_COLUMNS), cands, seconds)


def _summary(state, params, stage, f, sol, p, cand) -> dict:
    ty = np.flatnonzero(state.years >= params.first_year)
    allocs = state.allocations[(stage, state.scenario.mode)]
    before = int(sum(allocs[y].unserved.sum() for y in ty))
    after = float(sol.values[f.u["var"].to_numpy()].sum()) + float(f.unreachable.sum())
    kind = {k: p[p["kind"] == k] for k in ("new", "temporary", "transport")}
    return {"stage": stage, "demand_pupil_years": int(f.demand.sum() + 0),
            "unserved_before": before, "unserved_after": round(after, 3),
            "unreachable": float(f.unreachable.sum()), "new_schools": len(kind["new"]),
            "new_places": int(kind["new"]["places"].sum()),
            "capital_cny": float(kind["new"]["cost_cny"].sum()),
            "temporary_place_years": float(kind["temporary"]["pupil_years"].sum()),
            "temporary_cny": float(kind["temporary"]["cost_cny"].sum()),
            "transport_pupil_years": float(kind["transport"]["pupil_years"].sum()),
            "transport_cny": float(kind["transport"]["cost_cny"].sum()),
            "total_cny": float(p["cost_cny"].sum()), "bound_cny": round(sol.bound_cny, 2),
            "gap": round(sol.gap, 6), "gap_basis": sol.gap_basis, "status": sol.status,
            "candidates": len(cand),
            "classes": len(f.classes), "variables": f.A.shape[1],
            "binaries": int(f.integer.sum())}



__all__ = ["Plan", "make_plan", "InputError"]
