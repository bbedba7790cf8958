"""backtest/: the inputs of ``capacity backtest`` for Tongzhou 2010 -> 2020 and its table.

The build writes the two censuses (S13), the births series of the residual
(:func:`migration.births_2011_2020`, estimate) and the period totals (year-end 2016, S79,
and 2018, S66, as model years from the 1 November 2010 census: + 2/12), runs the engine's
:func:`capacity.demography.backtest_methods.run_backtest` with every method, and keeps the
summary for the README.  The CLI reproduces it:
``capacity backtest models/tongzhou/backtest/census_2010.csv
models/tongzhou/backtest/census_2020.csv --model models/tongzhou
--births models/tongzhou/backtest/births.csv --totals models/tongzhou/backtest/totals.csv
--circular schedule -o out/backtest``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from capacity.commands.backtest import summary_table
from capacity.demography.backtest_methods import run_backtest

from .common import Sources, fmt, write_csv
from .migration import census

TOTAL_YEARS = (2016, 2018)


def backtest_inputs(s: Sources, births: dict[int, float]) -> dict[str, pd.DataFrame]:
    totals = pd.DataFrame({"year": [fmt(y + 2 / 12, 6) for y in TOTAL_YEARS],
                           "total": [s.total("resident_population_yearend", y)
                                     for y in TOTAL_YEARS],
                           "note": [f"31 Dec {y} (S79)" if y == 2016 else f"31 Dec {y} (S66)"
                                    for y in TOTAL_YEARS]})
    return {"census_2010.csv": census(s, 2010), "census_2020.csv": census(s, 2020),
            "births.csv": pd.DataFrame({"year": list(births), "births": list(births.values()),
                                        "flag": "estimate"}),
            "totals.csv": totals}


def run_tongzhou_backtest(inputs: dict[str, pd.DataFrame], sx: np.ndarray, srb: float,
                          schedule: tuple[np.ndarray, np.ndarray], ranges: dict) -> pd.DataFrame:
    """Summary (one row per method) of the 2010 -> 2020 backtest with every method."""
    births = dict(zip(inputs["births.csv"]["year"], inputs["births.csv"]["births"]))
    t = inputs["totals.csv"]
    totals = dict(zip(t["year"].astype(float), t["total"].astype(float)))
    run = run_backtest(inputs["census_2010.csv"], inputs["census_2020.csv"], sx, births,
                       srb=srb, methods=("none", "profile", "schedule", "residual"),
                       totals=totals, schedule=schedule, ranges=ranges,
                       circular={"residual", "schedule"})
    out = summary_table(run)
    out.attrs["notes"] = run.notes
    out.attrs["c20"] = float(inputs["census_2020.csv"]["population"].sum())
    out.attrs["t2018"] = float(t.loc[t["year"].astype(float).round() == 2018, "total"].iloc[0])
    return out


def write_backtest(inputs: dict[str, pd.DataFrame], out: Path) -> None:
    folder = out / "backtest"
    folder.mkdir(exist_ok=True)
    for name, df in inputs.items():
        write_csv(df, folder / name)
