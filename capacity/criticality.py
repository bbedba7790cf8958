"""The criticality post-step: what each key project is worth, and how late it may open.

For each project, its stage is re-allocated (the scenario's mode, demand unchanged) without
it. ``extra_shortfall`` in year y is the shortfall without the project minus the scenario's.
Opening in year L instead of its planned year leaves the project out in the years before L,
so the latest opening year that adds no shortfall is the first year with extra shortfall
(or "not needed by the horizon" when there is none). Delaying a project removes the same
places as dropping it for those years, so one re-run per project answers both questions.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .registry import ALLOCATORS, POST_STEPS
from .result import EXTRA_TABLES

if TYPE_CHECKING:
    from .state import RunState

COLUMNS = EXTRA_TABLES["criticality"]


@POST_STEPS.register("criticality")
def criticality(state: "RunState") -> None:
    """``state.tables["criticality"]``: one row per key project (whole pupils)."""
    mode = state.scenario.mode
    rule = state.allocators.get(mode) or ALLOCATORS.get(mode)
    supply, years = state.supply, state.years
    projects = supply.projects
    rows = []
    if len(projects):
        state.say(f"criticality of {len(projects)} key projects")
    for _, p in projects.iterrows():
        stage = p["stage"]
        k = state.stage_names.index(stage)
        sel = state.site_mask(stage)
        places = supply.places_without(p["project_id"])[sel]
        allocs = state.allocations.get((stage, mode))
        if allocs is None:  # the scenario's mode was not among the run's modes
            allocs = [rule(state.arcs[stage], state.unit_pupils[y, k],
                           supply.places[sel, y], open_mask=supply.places[sel, y] > 0)
                      for y in range(len(years))]
        base = np.array([a.unserved.sum() for a in allocs])
        extra = np.zeros(len(years), dtype=np.int64)
        for y in np.flatnonzero(years >= p["open_year"]):
            a = rule(state.arcs[stage], state.unit_pupils[y, k], places[:, y],
                     open_mask=places[:, y] > 0)
            extra[y] = a.unserved.sum() - base[y]
        rows.append(_row(p, stage, years, extra))
    state.tables["criticality"] = pd.DataFrame(rows, columns=COLUMNS)


def _row(p: pd.Series, stage: str, years: np.ndarray, extra: np.ndarray) -> dict:
    positive = np.flatnonzero(extra > 0)
    peak = int(np.argmax(extra)) if len(extra) else 0
    return {
        "project_id": p["project_id"], "name": p["name"], "kind": p["kind"],
        "stage": stage, "open_year": int(p["open_year"]), "places": p["places"],
        "extra_shortfall_if_dropped": int(extra.sum()),
        "extra_shortfall_if_dropped_peak": int(extra.max(initial=0)),
        "peak_year": int(years[peak]) if extra.max(initial=0) > 0 else None,
        "latest_open_year_without_extra_shortfall":
            int(years[positive[0]]) if len(positive) else None,
        "needed_by_horizon": bool(len(positive))}
