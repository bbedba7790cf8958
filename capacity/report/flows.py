"""The allocation table as integer codes (once per result), and the school that serves most
of each unit's pupils — from arrays, without sorting or grouping the long table.

Both maps colour a unit's Voronoi cell by its *dominant school*: among the flows of the
unit (of a stage, year and mode) with pupils > 0 and a school, the one with the most pupils,
the first school id in text order on ties; a unit whose pupils are all unserved has none.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Flows:
    """Rows of the allocation table with pupils > 0, as codes into the id arrays."""

    units: np.ndarray     # unit ids (str), in order of first appearance
    schools: np.ndarray   # school ids (str), sorted; '' (not served) is not one of them
    stages: np.ndarray    # stage names
    modes: np.ndarray     # mode names
    unit: np.ndarray      # per row: index into units
    school: np.ndarray    # per row: index into schools, -1 when not served
    stage: np.ndarray     # per row: index into stages
    mode: np.ndarray      # per row: index into modes
    year: np.ndarray      # per row: the year (int64)
    pupils: np.ndarray    # per row: pupils (float)


def flows_of(alloc: pd.DataFrame) -> Flows:
    """Code an allocation table (unit_id, school_id, year, stage, mode, pupils)."""
    alloc = alloc[alloc["pupils"] > 0]
    school = alloc["school_id"].astype("string").fillna("").str.strip().astype(str)
    unit, units = pd.factorize(alloc["unit_id"].astype(str))
    scode, schools = pd.factorize(school, sort=True)
    schools = np.asarray(schools, dtype=object)
    blank = np.flatnonzero(schools == "")
    if len(blank):                    # '' sorts first: not served becomes -1
        scode = np.where(scode == blank[0], -1, scode - (scode > blank[0]))
        schools = np.delete(schools, blank[0])
    stage, stages = pd.factorize(alloc["stage"])
    mode, modes = pd.factorize(alloc["mode"])
    return Flows(np.asarray(units, dtype=object), schools, np.asarray(stages, dtype=object),
                 np.asarray(modes, dtype=object), unit.astype(np.int64),
                 scode.astype(np.int64), stage.astype(np.int64), mode.astype(np.int64),
                 alloc["year"].to_numpy(np.int64), alloc["pupils"].to_numpy(float))


def result_flows(result) -> Flows:
    """:func:`flows_of` the result's allocation table, computed once per result."""
    alloc = result.tables.get("allocation")
    key = id(alloc)
    cached = result.__dict__.get("_flows")
    if cached and cached[0] == key:
        return cached[1]
    flows = flows_of(alloc)
    result.__dict__["_flows"] = (key, flows)
    return flows


def dominant(flows: Flows, stage: str, year: int | None = None, mode: str | None = None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per (year, mode, unit) with pupils of ``stage`` (``year``/``mode`` None: every one),
    in order of first appearance: year, mode index, unit index, dominant school index
    (-1: none)."""
    keep = flows.stage == _index(flows.stages, stage)
    if year is not None:
        keep &= flows.year == year
    if mode is not None:
        keep &= flows.mode == _index(flows.modes, mode)
    rows = np.flatnonzero(keep)
    years, yi = np.unique(flows.year[rows], return_inverse=True)
    nm, nu = len(flows.modes), len(flows.units)
    group = (yi.ravel() * nm + flows.mode[rows]) * nu + flows.unit[rows]
    groups, first, g = np.unique(group, return_index=True, return_inverse=True)
    g = g.ravel()
    served = flows.school[rows] >= 0
    most = np.full(len(groups), -np.inf)
    np.maximum.at(most, g[served], flows.pupils[rows][served])
    top = served & (flows.pupils[rows] == most[g])
    best = np.full(len(groups), len(flows.schools), dtype=np.int64)
    np.minimum.at(best, g[top], flows.school[rows][top])
    best[best == len(flows.schools)] = -1
    order = np.argsort(first, kind="stable")          # first appearance, as the table
    groups, best = groups[order], best[order]
    return (years[groups // (nm * nu)], (groups // nu) % nm, groups % nu, best)


def _index(names: np.ndarray, name: str) -> int:
    found = np.flatnonzero(names == name)
    return int(found[0]) if len(found) else -1


__all__ = ["Flows", "flows_of", "result_flows", "dominant"]
