"""The criticality post-step: what each key project is worth, and how late it may open.

For each project, its stage is re-allocated (the scenario's mode, demand unchanged) without
it. ``extra_shortfall`` in year y is the shortfall without the project minus the scenario's.
Opening in year L instead of its planned year leaves the project out in the years before L,
so the latest opening year that adds no shortfall is the first year with extra shortfall
(or "not needed by the horizon" when there is none). Delaying a project removes the same
places as dropping it for those years, so one re-run per project answers both questions.

Only the number served is needed. A (project, year) whose site admitted no more pupils in
the scenario's solution than it keeps without the project needs no solve: that solution
stays feasible and no better one can appear when places are taken away, so the extra
shortfall is 0 (in both modes). For the others, a mode with a ``residual`` path (the
optimal mode: :class:`capacity.reroute.Residual`) re-routes the pupils the project's site
must shed from the scenario's own solution, exactly; other modes re-solve the stage-year
(their fast ``served`` path when they have one). The cases run on every core.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import reroute  # noqa: F401  (gives the optimal mode its residual path)
from .allocate import served_by
from .parallel import pmap
from .registry import POST_STEPS
from .result import EXTRA_TABLES

if TYPE_CHECKING:
    from .state import RunState

COLUMNS = EXTRA_TABLES["criticality"]


@POST_STEPS.register("criticality")
def criticality(state: "RunState") -> None:
    """``state.tables["criticality"]``: one row per key project (whole pupils)."""
    mode = state.scenario.mode
    rule = state.allocators[mode]        # the chain always runs the scenario's mode
    supply, years = state.supply, state.years
    projects = supply.projects
    if len(projects):
        state.say(f"criticality of {len(projects)} key projects")
    extra = np.zeros((len(projects), len(years)), dtype=np.int64)
    tasks, without, loads = [], {}, {}
    for i, (_, p) in enumerate(projects.iterrows()):
        stage = p["stage"]
        sel = state.site_mask(stage)
        places = supply.places_without(p["project_id"])[sel]
        changed = np.flatnonzero((places != supply.places[sel]).any(axis=1))
        allocs = state.allocations[(stage, mode)]
        for y in np.flatnonzero(years >= p["open_year"]):
            if (stage, y) not in loads:
                loads[(stage, y)] = allocs[y].load(places.shape[0])
            load = loads[(stage, y)][changed]
            if (load > places[changed, y]).any():
                tasks.append((i, y))
                without[(i, y)] = (stage, places[:, y], int(allocs[y].unserved.sum()))
    state.solves["criticality"] = len(tasks)
    tasks.sort(key=lambda t: (without[t][0], t[1]))     # a stage-year's cases together
    served = pmap(_served_without, (state, rule, without, {}), tasks,
                  state.workers_for(tasks))
    for (i, y), n in zip(tasks, served):
        stage, _, base_unserved = without[(i, y)]
        k = state.stage_names.index(stage)
        extra[i, y] = int(state.unit_pupils[y, k].sum()) - n - base_unserved
    rows = [_row(p, years, extra[i]) for i, (_, p) in enumerate(projects.iterrows())]
    state.tables["criticality"] = pd.DataFrame(rows, columns=COLUMNS)


def _served_without(shared, task: tuple[int, int]) -> int:
    state, rule, without, residuals = shared
    stage, places, _ = without[task]
    y = task[1]
    k = state.stage_names.index(stage)
    demand = state.unit_pupils[y, k]
    residual = getattr(rule, "residual", None)
    if residual is None:
        return served_by(rule, state.arcs_for(stage, y), demand, places)
    if (stage, y) not in residuals:    # the current stage-year's only (tasks are sorted)
        residuals.clear()
        base = state.supply.places[state.site_mask(stage), y]
        residuals[(stage, y)] = residual(state.arcs_for(stage, y), demand, base,
                                         state.allocations[(stage, state.scenario.mode)][y])
    return residuals[(stage, y)].served_with(places)


def _row(p: pd.Series, years: np.ndarray, extra: np.ndarray) -> dict:
    positive = np.flatnonzero(extra > 0)
    peak = int(np.argmax(extra)) if len(extra) else 0
    return {
        "project_id": p["project_id"], "name": p["name"], "kind": p["kind"],
        "stage": p["stage"], "open_year": int(p["open_year"]), "places": p["places"],
        "extra_shortfall_if_dropped": int(extra.sum()),
        "extra_shortfall_if_dropped_peak": int(extra.max(initial=0)),
        "peak_year": int(years[peak]) if extra.max(initial=0) > 0 else None,
        "latest_open_year_without_extra_shortfall":
            int(years[positive[0]]) if len(positive) else None,
        "needed_by_horizon": bool(len(positive))}
