"""Life tables (mortality.csv, and the 85+ tail of the population), by the engine.

No 2020 age-specific death rates were found (SOURCES.md).  For each sex a continuous
hazard for ages >= 1, ``mu(t) = c + a1 exp(-b1 (t-1)) + a2 exp(b2 t)`` (Siler-type:
declining child term, Makeham constant, Gompertz senescence; c, a1, b1, b2 in
sources/mortality_model.csv); a2 is solved so that e0 is the 2020 estimate of
life_table.csv, and q0 is the infant mortality rate (S28) split by sex.  The table itself
is :func:`capacity.demography.life_table_from_hazard` (a0 by the engine's
Andreev-Kingkade rule from q0, Lx by Gauss-Legendre quadrature, open group 100+ integrated
to 130) and sx is :func:`capacity.demography.sx_from_life_table` (UN convention).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from capacity.demography import life_table_from_hazard, sx_from_life_table

from .common import AGES, OPEN_AGE, SEXES, Sources, fmt, write_csv

TAIL_YEARS = 30   # the open group 100+ is integrated over ages 100..130 (l(130) ~ 0)


def srb_2020(s: Sources) -> float:
    """Sex ratio at birth: Tongzhou's census sex ratio at age 0 (S13), to 4 decimals."""
    a = s.age[(s.age.area_code == 110112) & (s.age.census_year == 2020) & (s.age.age_from == 0)]
    males = float(a.loc[a.sex == "male", "population"].iloc[0])
    females = float(a.loc[a.sex == "female", "population"].iloc[0])
    return round(males / females, 4)


def model_parameters(s: Sources) -> dict:
    """Per sex: the hazard parameters, the e0 target and q0 (from the both-sexes infant
    mortality rate, S28, with the male/female ratio of assumptions.csv and the SRB)."""
    srb = srb_2020(s)
    imr = s.indicator("life", "Beijing", 2020, "infant_mortality_rate") / 1000.0
    ratio = s.param("infant_mortality_sex_ratio")
    male_share = srb / (1.0 + srb)
    q0F = imr / (male_share * ratio + (1.0 - male_share))
    q0 = {"F": q0F, "M": q0F * ratio}
    out = {}
    for sex, label in (("F", "female"), ("M", "male")):
        p = {k: float(s.mortality_model.loc[sex, k]) for k in ("c", "a1", "b1", "b2")}
        p["e0"] = s.indicator("life", "Beijing", 2020, "life_expectancy_at_birth", sex=label)
        p["q0"] = q0[sex]
        out[sex] = p
    return out


def siler_cumulative_hazard(p: dict, a2: np.ndarray):
    """H(t) for both sexes (rows F, M): the integral of mu from age 1 to t."""
    c, a1, b1, b2 = (np.array([p[x][k] for x in SEXES])[:, None] for k in ("c", "a1", "b1", "b2"))
    a2 = np.asarray(a2, float)[:, None]

    def H(t):
        t = np.asarray(t, float)[None, :]
        return (c * (t - 1.0) + a1 / b1 * (1.0 - np.exp(-b1 * (t - 1.0)))
                + a2 / b2 * (np.exp(b2 * t) - np.exp(b2)))
    return H


def _table(p: dict, a2: np.ndarray):
    q0 = np.array([p[x]["q0"] for x in SEXES])
    return life_table_from_hazard(q0, siler_cumulative_hazard(p, a2), open_age=OPEN_AGE,
                                  tail_years=TAIL_YEARS)


def build_life_tables(s: Sources) -> dict:
    """{sex: {"sx", "Lx", "lx", "q0", "a0", "a2", "e0", "params"}} from the engine's table."""
    p = model_parameters(s)
    a2 = np.empty(2)
    for i, sex in enumerate(SEXES):
        # a2 of one sex does not affect the other's table: solve each e0 on its own row
        f = lambda la2, i=i: _table(p, np.full(2, math.exp(la2))).e0[i] - p[sex]["e0"]
        a2[i] = math.exp(brentq(f, math.log(1e-7), math.log(1e-3), xtol=1e-13))
    lt = _table(p, a2)
    sx = sx_from_life_table(lt)
    return {sex: {"sx": sx[i], "Lx": lt.Lx[i], "lx": lt.lx[i], "q0": p[sex]["q0"],
                  "a0": float(lt.ax[i, 0]), "a2": float(a2[i]), "e0": float(lt.e0[i]),
                  "params": p[sex]}
            for i, sex in enumerate(SEXES)}


def mortality_table(lts: dict) -> pd.DataFrame:
    rows = [(sex, int(a), fmt(lts[sex]["sx"][a], 10)) for sex in SEXES for a in AGES]
    return pd.DataFrame(rows, columns=["sex", "age", "sx"])


def written_sx(lts: dict) -> np.ndarray:
    """(2, A) sx exactly as mortality.csv holds them (what the engine will read)."""
    return np.array([[float(fmt(lts[sex]["sx"][a], 10)) for a in AGES] for sex in SEXES])


def write_mortality(lts: dict, out: Path) -> None:
    write_csv(mortality_table(lts), out / "mortality.csv")
