"""The base-year calibration table: the run's pupils beside the reported enrolment.

``calibration.csv`` (docs/plausibility.md): one row per stage in the base year, and one per
row of the model's ``reported_enrolment.csv`` whose year the run covers. ``label`` says what
a comparison can show: ``calibration`` where the stage's enrolment rate was derived from that
very figure (``fitted``; agreement is by construction and proves nothing), ``validation``
where it was not, ``unchecked`` where the model reports no figure.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .state import RunState

COLUMNS = ["stage", "year", "modelled", "reported", "difference", "pct_difference", "label",
           "source"]


def calibration_table(state: "RunState") -> pd.DataFrame:
    """Modelled pupils (expected, all zones; ``zone_pupils``) beside reported pupils."""
    years = [int(y) for y in state.years]
    base = years[0]
    rep = state.model.reported_enrolment
    if rep is None:
        rep = pd.DataFrame({c: [] for c in ("stage", "year", "pupils", "fitted", "source")})
    rep = rep[rep["year"].astype(int).isin(years) & rep["stage"].isin(state.stage_names)]
    rows = []
    for k, stage in enumerate(state.stage_names):
        mine = rep[rep["stage"] == stage]
        shown = sorted(set(mine["year"].astype(int)) | {base})
        for year in shown:
            modelled = float(state.zone_pupils[years.index(year), :, k].sum())
            r = mine[mine["year"].astype(int) == year]
            if not len(r):
                rows.append({"stage": stage, "year": year, "modelled": modelled,
                             "reported": np.nan, "difference": np.nan,
                             "pct_difference": np.nan, "label": "unchecked", "source": None})
                continue
            r = r.iloc[0]
            reported = float(r["pupils"])
            fitted = bool(r["fitted"]) if "fitted" in r and pd.notna(r["fitted"]) else False
            rows.append({"stage": stage, "year": year, "modelled": modelled,
                         "reported": reported, "difference": modelled - reported,
                         "pct_difference": 100 * (modelled - reported) / reported
                         if reported else np.nan,
                         "label": "calibration" if fitted else "validation",
                         "source": str(r["source"])})
    return pd.DataFrame(rows, columns=COLUMNS)


def calibration_warnings(table: pd.DataFrame, tolerance: float) -> list[str]:
    """A sentence per validation row off by more than ``tolerance`` (a share)."""
    bad = table[(table["label"] == "validation")
                & (table["pct_difference"].abs() > 100 * tolerance)]
    return [f"{r.stage} pupils {r.year}: modelled {r.modelled:,.0f} against {r.reported:,.0f} "
            f"reported ({r.pct_difference:+.0f} %, more than ±{tolerance:.0%}; source "
            f"{r.source})" for r in bad.itertuples()]
