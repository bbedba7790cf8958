"""Life tables (mortality.csv, and the 85+ tail of the population).

No 2020 age-specific death rates were found (SOURCES.md).  For each sex a continuous
hazard for ages >= 1, ``mu(t) = c + a1 exp(-b1 (t-1)) + a2 exp(b2 t)`` (Siler-type:
declining child term, Makeham constant, Gompertz senescence; c, a1, b1, b2 in
sources/mortality_model.csv); a2 is solved so that e0 is the 2020 estimate of
life_table.csv, and q0 is set from the infant mortality rate.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import roots_legendre

from .common import AGES, OPEN_AGE, SEXES, Sources, fmt, write_csv

_GL_X, _GL_W = roots_legendre(24)


def _cumhaz(t, p, a2):
    t = np.asarray(t, float)
    return (p["c"] * (t - 1.0) + p["a1"] / p["b1"] * (1.0 - np.exp(-p["b1"] * (t - 1.0)))
            + a2 / p["b2"] * (np.exp(p["b2"] * t) - np.exp(p["b2"])))


def _a0_andreev_kingkade(m0, sex):
    # Andreev & Kingkade (2015), m0 < 0.02300 branch
    return 0.14929 - 1.99545 * m0 if sex == "M" else 0.14903 - 2.05527 * m0


def _life_table(p, sex, q0, a2):
    l1 = 1.0 - q0
    a0 = 0.1
    for _ in range(50):
        m0 = q0 / (1.0 - (1.0 - a0) * q0)
        a0 = _a0_andreev_kingkade(m0, sex)
    L = np.zeros(OPEN_AGE + 1)
    lx = np.zeros(OPEN_AGE + 1)
    lx[0] = 1.0
    L[0] = l1 + a0 * q0
    for x in range(1, OPEN_AGE):
        t = x + 0.5 * (_GL_X + 1.0)
        L[x] = 0.5 * np.sum(_GL_W * l1 * np.exp(-_cumhaz(t, p, a2)))
    xs = np.arange(1, OPEN_AGE + 1)
    lx[1:] = l1 * np.exp(-_cumhaz(xs, p, a2))
    T100 = 0.0
    for k in range(30):
        t = 100 + k + 0.5 * (_GL_X + 1.0)
        T100 += 0.5 * np.sum(_GL_W * l1 * np.exp(-_cumhaz(t, p, a2)))
    L[OPEN_AGE] = T100
    return {"lx": lx, "Lx": L, "a0": a0, "q0": q0, "e0": L.sum()}


def model_parameters(s: Sources) -> dict:
    """Per sex: the hazard parameters, the e0 target and q0 (from the infant mortality
    rate, S28, split by sex with the male/female ratio of assumptions.csv)."""
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


def srb_2020(s: Sources) -> float:
    """Sex ratio at birth: Tongzhou's census sex ratio at age 0 (S13), to 4 decimals."""
    a = s.age[(s.age.area_code == 110112) & (s.age.census_year == 2020) & (s.age.age_from == 0)]
    males = float(a.loc[a.sex == "male", "population"].iloc[0])
    females = float(a.loc[a.sex == "female", "population"].iloc[0])
    return round(males / females, 4)


def build_life_tables(s: Sources) -> dict:
    params = model_parameters(s)
    out = {}
    for sex in SEXES:
        p = params[sex]
        f = lambda la2: _life_table(p, sex, p["q0"], math.exp(la2))["e0"] - p["e0"]
        la2 = brentq(f, math.log(1e-7), math.log(1e-3), xtol=1e-13)
        lt = _life_table(p, sex, p["q0"], math.exp(la2))
        lt["a2"] = math.exp(la2)
        lt["params"] = p
        L = lt["Lx"]
        sx = np.empty(OPEN_AGE + 1)
        sx[0] = L[0] / 1.0
        sx[1:OPEN_AGE] = L[1:OPEN_AGE] / L[0:OPEN_AGE - 1]
        sx[OPEN_AGE] = L[OPEN_AGE] / (L[OPEN_AGE - 1] + L[OPEN_AGE])
        lt["sx"] = sx
        out[sex] = lt
    return out


def write_mortality(lts: dict, out: Path) -> None:
    rows = [(sex, int(a), fmt(lts[sex]["sx"][a], 10)) for sex in SEXES for a in AGES]
    write_csv(pd.DataFrame(rows, columns=["sex", "age", "sx"]), out / "mortality.csv")
