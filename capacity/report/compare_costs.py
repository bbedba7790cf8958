"""Costs per scenario for ``capacity compare`` (docs/cli.md#compare): what each scenario's key
projects cost (projects.csv ``cost``) and the total of the run's own budget: its one costing
(:func:`.recommend.costing`, the total of budget.xlsx and of compare_cost.csv).

Columns: scenario, key_projects, key_project_places, key_project_capital_cny (empty when no
project gives a cost), budget_total_cny, budget_total_yi_cny.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..result import Result
from .budget import shortfall_by_zone_view
from .recommend import costing

#: Columns of :func:`costs_table`.
COLUMNS = ["scenario", "key_projects", "key_project_places", "key_project_capital_cny",
           "budget_total_cny", "budget_total_yi_cny"]


def budget_total(result: Result) -> float:
    """The run's budget total (CNY): its one costing (:func:`.recommend.costing`, the total
    every sheet of its budget.xlsx shows)."""
    return float(costing(result, shortfall_by_zone_view(result))[1]["cost_cny"].sum())


def key_project_capital(result: Result) -> tuple[int, float, float]:
    """(projects, places, capital in CNY) of the scenario's key projects after its edits;
    capital NaN when no project gives a cost."""
    p = result.projects
    if p is None or p.empty:
        return 0, 0.0, np.nan
    cost = pd.to_numeric(p["cost"], errors="coerce")
    places = pd.to_numeric(p["places"], errors="coerce").fillna(0)
    return len(p), float(places.sum()), float(cost.sum()) if cost.notna().any() else np.nan


def costs_table(results: Sequence[Result]) -> pd.DataFrame:
    """One row per scenario (:data:`COLUMNS`)."""
    rows = []
    for r in results:
        n, places, capital = key_project_capital(r)
        total = budget_total(r)
        rows.append([r.name, n, places, capital, total, total / 1e8])
    return pd.DataFrame(rows, columns=COLUMNS).astype({"scenario": "string"})
