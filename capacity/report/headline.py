"""The headline shortfall of each stage under its policy rule, with the optimal figure
beside it (docs/allocation.md, "The headline rule"): the one place the console, the report's
cards and summary table get the numbers they headline.

Compulsory stages are headlined under the catchment rule (就近入学: nearest school, or the
scenario's designed catchments), other stages under the scenario's mode
(:meth:`capacity.result.Result.headline_mode`); beside it, the optimal allocation's
shortfall: "if every pupil could be placed anywhere within reach".
"""
from __future__ import annotations

import pandas as pd

from ..result import Result
from ..stages import BESIDE_MODE
from . import labels as L

#: Modes with their own rule labels in text/<lang>.toml [headline].
RULES = ("catchment", "designed", "optimal")
#: Columns of :func:`headline_summary`.
COLUMNS = ["stage", "year", "mode", "demand", "places", "served", "shortfall",
           "out_of_reach", "shortfall_optimal"]


def headline_summary(result: Result) -> pd.DataFrame:
    """summary.csv's rows of each stage under its headline rule (``mode`` says which), with
    ``shortfall_optimal``: the optimal mode's shortfall of the same stage and year (NA
    when the run has no optimal mode); in summary.csv's order (stages in the model's)."""
    summary = result.tables.get("summary")
    if summary is None or summary.empty:
        return pd.DataFrame(columns=COLUMNS)
    mode = summary["mode"].astype("string")
    stage = summary["stage"].astype("string")
    wanted = stage.map({s: result.headline_mode(str(s)) for s in stage.dropna().unique()})
    rows = summary.loc[mode == wanted].copy()
    best = summary.loc[mode == BESIDE_MODE, ["stage", "year", "shortfall"]].rename(
        columns={"shortfall": "shortfall_optimal"})
    rows["stage"] = rows["stage"].astype("string")
    best["stage"] = best["stage"].astype("string")
    out = rows.merge(best, on=["stage", "year"], how="left")
    out["mode"] = out["mode"].astype("string")
    return out[COLUMNS].reset_index(drop=True)       # summary.csv's order: stage, year


def worst_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Per stage (in order of appearance), the year of largest headline shortfall (the
    first on ties)."""
    if frame.empty:
        return frame
    idx = frame.groupby("stage", sort=False)["shortfall"].idxmax()
    return frame.loc[idx.to_numpy()].reset_index(drop=True)


def rule_label(mode: str, lang: str) -> str:
    """The rule a headline follows, short: "nearest school (就近入学)" / "就近入学"."""
    return L.text("headline", f"rule_{mode}", lang) if mode in RULES else \
        L.mode_label(mode, lang)


def rule_phrase(mode: str, lang: str) -> str:
    """The rule as a phrase under a figure: "under nearest-school catchments (就近入学)"."""
    return L.text("headline", f"under_{mode}", lang) if mode in RULES else \
        L.mode_label(mode, lang)


def beside_label(lang: str) -> str:
    """"if every pupil could be placed anywhere within reach"."""
    return L.text("headline", "beside", lang)
