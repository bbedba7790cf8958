"""Small table helpers the budget views, the comparison and the workbook writer share."""
from __future__ import annotations

from collections.abc import Mapping

import pandas as pd


def in_mode(frame: pd.DataFrame, mode: str) -> pd.DataFrame:
    """Rows of ``frame`` for allocation ``mode``, without the mode column (all rows if it
    has no mode column)."""
    if "mode" not in frame.columns:
        return frame.copy()
    return frame.loc[frame["mode"].astype("string") == mode].drop(columns="mode")


def sort_by(frame: pd.DataFrame, keys: list[str], orders: Mapping[str, list[str]]
            ) -> pd.DataFrame:
    """Sort by ``keys`` (stable), the ones in ``orders`` by their listed order."""
    def key(col: pd.Series) -> pd.Series:
        if col.name in orders:
            pos = {v: i for i, v in enumerate(orders[col.name])}
            return col.astype("string").map(pos).astype("float")
        return col
    return frame.sort_values(keys, key=key, kind="stable").reset_index(drop=True)


def as_bool(values: pd.Series) -> pd.Series:
    """True/False/empty (as bools, strings or 1/0) → pandas ``boolean`` with NA."""
    text = values.astype("string").str.strip().str.lower()
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    out[text.isin(["true", "1", "1.0", "yes"]).fillna(False)] = True
    out[text.isin(["false", "0", "0.0", "no"]).fillna(False)] = False
    return out


def with_names(frame: pd.DataFrame, zones: Mapping[str, str],
               projects: Mapping[str, str]) -> pd.DataFrame:
    """``zone_name`` by ``zone_id`` and a project's ``name`` by ``project_id`` from the maps
    given (names in a report's language); rows not in them keep theirs (totals)."""
    out = frame.copy()
    for id_col, col, names in (("zone_id", "zone_name", zones), ("project_id", "name", projects)):
        if id_col in out.columns and col in out.columns and names:
            found = out[id_col].astype("string").map(dict(names))
            out[col] = found.fillna(out[col].astype("string")).astype("string")
    return out


#: The allocation modes compared side by side, and their column in :func:`mode_shortfalls`
#: (the names of catchment_summary.csv).
SIDE_BY_SIDE = {"catchment": "shortfall_nearest", "designed": "shortfall_designed",
                "optimal": "shortfall_optimal"}


def mode_shortfalls(summary: pd.DataFrame) -> pd.DataFrame:
    """Stage × year: the shortfall under nearest (``catchment`` mode), designed (when the
    run has a map) and optimal side by side, taken from a run's summary table (one row per
    stage, year and mode): stage, year, demand, shortfall_nearest, [shortfall_designed,]
    shortfall_optimal. The one place the report and the workbook get these numbers."""
    if summary is None or summary.empty or "mode" not in summary.columns:
        return pd.DataFrame(columns=["stage", "year", "demand"])
    modes = summary["mode"].astype("string")
    have = [m for m in SIDE_BY_SIDE if (modes == m).any()]
    keys = ["stage", "year"]
    out = None
    for m in have:
        part = summary.loc[modes == m, keys + ["demand", "shortfall"]].rename(
            columns={"shortfall": SIDE_BY_SIDE[m]})
        out = part if out is None else out.merge(part.drop(columns="demand"), on=keys,
                                                 how="outer")
    if out is None:
        return pd.DataFrame(columns=["stage", "year", "demand"])
    out["stage"] = out["stage"].astype("string")
    return out.reset_index(drop=True)
