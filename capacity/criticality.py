"""Project criticality: what each key project is worth, and how late it may open.

For each project, its stage is re-allocated (the scenario's mode, demand unchanged) without
it. ``extra_shortfall`` in year y is the shortfall without the project minus the scenario's.
Opening in year L instead of its planned year leaves the project out in the years before L,
so the latest opening year that adds no shortfall is the first year with extra shortfall
(or "not needed by the horizon" when there is none). Delaying a project removes the same
places as dropping it for those years, so one re-run per project answers both questions.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from .allocate import Allocation, Arcs
from .model import Model
from .result import EXTRA_TABLES
from .scenario import Scenario
from .supply import Supply, build_supply

COLUMNS = EXTRA_TABLES["criticality"]


def project_criticality(model: Model, scenario: Scenario, units: pd.DataFrame,
                        whole: np.ndarray, supply: Supply, years: np.ndarray,
                        out: dict[tuple[str, str], list[Allocation]], progress=None
                        ) -> pd.DataFrame:
    """One row per key project (see module docstring); pupil counts are whole pupils."""
    from .pipeline import _allocate_stage, stage_arcs

    projects = supply.projects
    stage_names = list(model.stages)
    arcs_cache: dict[str, Arcs] = {}
    rows = []
    if progress and len(projects):
        progress(f"criticality of {len(projects)} key projects")
    for _, p in projects.iterrows():
        stage = p["stage"]
        k = stage_names.index(stage)
        without = build_supply(model, replace(scenario, drop=[*scenario.drop, p["project_id"]],
                                              add=[a for a in scenario.add
                                                   if a.get("project_id") != p["project_id"]]),
                               years)
        sel_w = (without.sites["stage"] == stage).to_numpy()
        if stage not in arcs_cache:
            arcs_cache[stage] = stage_arcs(model, scenario, units, supply, stage)
        # keep site order of the full supply: a dropped new school has zero places
        sel = (supply.sites["stage"] == stage).to_numpy()
        full_ids = supply.sites.loc[sel, "school_id"].to_numpy()
        places_w = pd.DataFrame(without.places[sel_w],
                                index=without.sites.loc[sel_w, "school_id"].to_numpy()
                                ).reindex(full_ids, fill_value=0).to_numpy()
        base = np.array([a.unserved.sum() for a in out[(stage, scenario.mode)]])
        extra = np.zeros(len(years), dtype=np.int64)
        for y in np.flatnonzero(years >= p["open_year"]):
            a = _allocate_stage(arcs_cache[stage], whole[y, k], places_w[:, y], scenario.mode)
            extra[y] = a.unserved.sum() - base[y]
        positive = np.flatnonzero(extra > 0)
        peak = int(np.argmax(extra)) if len(extra) else 0
        rows.append({
            "project_id": p["project_id"], "name": p["name"], "kind": p["kind"],
            "stage": stage, "open_year": int(p["open_year"]), "places": p["places"],
            "extra_shortfall_if_dropped": int(extra.sum()),
            "extra_shortfall_if_dropped_peak": int(extra.max(initial=0)),
            "peak_year": int(years[peak]) if extra.max(initial=0) > 0 else None,
            "latest_open_year_without_extra_shortfall":
                int(years[positive[0]]) if len(positive) else None,
            "needed_by_horizon": bool(len(positive))})
    return pd.DataFrame(rows, columns=COLUMNS)
