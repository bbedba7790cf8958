"""Costs per scenario for ``capacity compare`` (docs/cli.md#compare): what each scenario's key
projects cost (projects.csv ``cost``) and the total of the run's own budget, read from its
folder's budget table (``budget_cost.csv``, the district total row: zone_id ``TOTAL``, stage
``all``), never recomputed here.

Columns: scenario, key_projects, key_project_places, key_project_capital_cny (empty when no
project gives a cost), budget_total_cny, budget_total_yi_cny (empty when the folder has no
budget table: a run written with ``--no-workbook`` or by the Python API).
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..result import Result
from .budget import TOTAL_ID

#: Columns of :func:`costs_table`.
COLUMNS = ["scenario", "key_projects", "key_project_places", "key_project_capital_cny",
           "budget_total_cny", "budget_total_yi_cny"]
#: The budget table of a run folder that holds the run's total, and its total row's stage.
BUDGET_TABLE, TOTAL_STAGE = "budget_cost.csv", "all"


def budget_total(folder: Path | None) -> float:
    """The run's budget total (CNY) from its folder's budget table; NaN when absent."""
    file = None if folder is None else Path(folder) / BUDGET_TABLE
    if file is None or not file.is_file():
        return np.nan
    cost = pd.read_csv(file, dtype={"zone_id": "string", "stage": "string"},
                       encoding="utf-8-sig")
    row = cost[(cost["zone_id"] == TOTAL_ID) & (cost["stage"] == TOTAL_STAGE)]
    return float(row["cost_cny"].iloc[0]) if len(row) else np.nan


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
        total = budget_total(r.path)
        rows.append([r.name, n, places, capital, total, total / 1e8])
    return pd.DataFrame(rows, columns=COLUMNS).astype({"scenario": "string"})
