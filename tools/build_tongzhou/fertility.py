"""fertility.csv: district ASFR, a gamma age pattern (estimate) at Tongzhou's own 2020 level.

Beijing's TFR (S19) applied to Tongzhou's 2020 women gives far more births than the census
counted at age 0 (S13), because Tongzhou's women cluster at the peak childbearing ages.  So
the level is derived: Beijing's TFR x census age 0 / (births that TFR implies x the survival
of births to the census, sx[0]), rounded to 0.001.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import gamma as gamma_dist

from .common import Sources, fmt, write_csv

FERT_AGES = np.arange(15, 50)


def age_pattern(s: Sources) -> np.ndarray:
    """Shares of a birth cohort by single age 15..49: a gamma density shifted by
    ``fertility_shift`` years with the mean and standard deviation of assumptions.csv
    (estimates), integrated over each year of age (not normalised)."""
    shift = s.param("fertility_shift")
    mean_rel = s.param("fertility_mean_age") - shift
    sd = s.param("fertility_sd_age")
    scale = sd ** 2 / mean_rel
    shape = mean_rel / scale
    return (gamma_dist.cdf(FERT_AGES + 1 - shift, shape, scale=scale)
            - gamma_dist.cdf(FERT_AGES - shift, shape, scale=scale))


def build_fertility(s: Sources, pop: pd.DataFrame, lts: dict, srb: float):
    tfr_bj = s.indicator("births", "Beijing", 2020, "total_fertility_rate")      # 0.868, S19
    age0 = s.indicator("births", "Tongzhou", 2020, "census_age0_population")     # 13,032, S13
    w = age_pattern(s)
    women = pop[pop.sex == "F"].groupby("age")["count"].sum().reindex(FERT_AGES)
    women = women.to_numpy(float)
    births_bj = float(np.sum(tfr_bj * w / w.sum() * women))
    sx0 = (lts["F"]["sx"][0] + srb * lts["M"]["sx"][0]) / (1 + srb)
    tfr = round(tfr_bj * age0 / (births_bj * sx0), 3)
    asfr = tfr * w / w.sum()
    df = pd.DataFrame({"age": FERT_AGES, "asfr": [fmt(v, 8) for v in asfr]})
    df["basis"] = (f"derived level: TFR {tfr:.3f} = Beijing {tfr_bj:.3f} (S19) x Tongzhou census "
                   f"age 0 {age0:,.0f} (S13) / {births_bj:,.0f} births that {tfr_bj:.3f} implies "
                   "for Tongzhou's 2020 women; estimate: gamma-shaped age pattern (shift "
                   f"{s.param('fertility_shift'):.0f}, mean age at birth "
                   f"{s.param('fertility_mean_age'):.1f}, sd {s.param('fertility_sd_age'):.1f})")
    peak = float(women[(FERT_AGES >= 28) & (FERT_AGES <= 36)].sum() / women.sum())
    info = {"tfr": tfr, "tfr_bj": tfr_bj, "age0": age0, "births_bj": births_bj, "sx0": sx0,
            "peak": peak}
    return df, asfr, info


def write_fertility(df: pd.DataFrame, out: Path) -> None:
    write_csv(df, out / "fertility.csv")


def written_asfr(df: pd.DataFrame, open_age: int) -> np.ndarray:
    """(A,) ASFR by single age exactly as fertility.csv holds them (0 outside 15-49)."""
    out = np.zeros(open_age + 1)
    out[df.age.to_numpy(int)] = df.asfr.astype(float).to_numpy()
    return out
