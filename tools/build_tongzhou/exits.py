"""Gross flows of migration.csv and the anchored births of 2021-2024 (README, Migration and
Fertility): an exit schedule by age, a gross inflow consistent with the 2010-2020 census
residual, exit level fitted to the 2021-2024 totals, and births met year by year.

* **Exit age pattern**: :func:`capacity.demography.exit_profile` (Rogers & Castro 1981
  childhood + labour-force components, c = 0), normalised so that ``level`` is the crude
  exit rate on the 2020 census population.
* **2010s**: exits at the same pattern with crude rate ``l10``; the gross inflow is the
  cohort residual solved *with* those exits (``cohort_residual(out_rates=...)``), so the
  2010s' net migration by age is the census residual.
* **2021-2024**: the same gross inflow; the exit level ``l20`` is fitted to the end-2023
  and end-2024 totals (``calibrate_level``, kind "rate", component = the pattern).
* ``l10`` is the one level the totals cannot identify (two censuses identify net
  migration only): it is set so that the model's residents aged 6-11 grow from 2020 to 2022
  as the grade-progression estimate of primary pupils does (:func:`grade_progression`), a
  calibration on the child component, reported as such.
* **Births 2021-2024**: Beijing's resident crude birth rate (S22, S23, S24; 2024: S81) x
  the model's mean population of the year x 1.0151 (Tongzhou's births per head ÷ Beijing's,
  2020 census age 0, births_fertility.csv); :func:`capacity.demography.birth_factors`
  scales the ASFR per year to meet them.  After 2024 the TFR follows UN WPP 2024 China's
  path relative to its 2024 value (medium variant, sources/wpp2024_china_tfr.csv).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from capacity.demography import (birth_factors, calibrate_level, cohort_residual,
                                 exit_profile)

from .common import Sources

L10_BOUNDS = (0.0, 0.15)
CBR_SOURCES = {2021: "S22", 2022: "S23", 2023: "S24", 2024: "S81"}
ANCHOR_YEARS = (2021, 2022, 2023, 2024)
TFR_PATH_YEARS = tuple(range(2025, 2036))   # sources/wpp2024_china_tfr.csv ends in 2035


def grade_progression(s: Sources) -> dict[str, float]:
    """Tongzhou primary pupils 2022-23 by grade progression from 2020-21 (S71, S38, S40):
    the 2020 grades 1-4 move to grades 3-6 at Beijing's two-year cohort ratio ``r``
    (Beijing 2022 enrolled = r x its 2020 grades 1-4 + its 2021 and 2022 entrants; 2021
    entrants = mean of the 2020 grade 1 and the 2022 entrants), and Tongzhou's 2021 and 2022
    entrants are its 2020 grade 1 x Beijing's entrant ratios."""
    e = s.edu[s.edu.stage == "primary"]

    def v(area: str, year: int, metric: str) -> float:
        row = e[(e.area == area) & (e.year == year) & (e.metric == metric)]
        return float(row.value.iloc[0])

    g = {a: [v(a, 2020, f"enrolled_grade{k}") for k in range(1, 7)] for a in ("Beijing", "Tongzhou")}
    bj_e22 = v("Beijing", 2022, "entrants")
    bj_e21 = (g["Beijing"][0] + bj_e22) / 2
    r = (v("Beijing", 2022, "enrolled") - bj_e21 - bj_e22) / sum(g["Beijing"][:4])
    tz_e21 = g["Tongzhou"][0] * bj_e21 / g["Beijing"][0]
    tz_e22 = g["Tongzhou"][0] * bj_e22 / g["Beijing"][0]
    p20 = sum(g["Tongzhou"])
    p22 = r * sum(g["Tongzhou"][:4]) + tz_e21 + tz_e22
    return {"pupils_2020": p20, "pupils_2022": p22, "growth": p22 / p20, "ratio": r,
            "entrants_2021": tz_e21, "entrants_2022": tz_e22}


def beijing_cbr(s: Sources, anchors: pd.DataFrame) -> dict[int, float]:
    """Beijing's resident crude birth rate per 1000, 2021-2024 (2024 from anchors.csv)."""
    b = s.births
    rows = b[(b.area_en == "Beijing") & (b.indicator == "resident_birth_rate")]
    out = {int(y): float(v) for y, v in zip(rows.year, rows.value) if int(y) in ANCHOR_YEARS}
    a = anchors[(anchors.area == "Beijing") & (anchors.indicator == "crude_birth_rate")]
    for y, v in zip(a.year.astype(int), a.value.astype(float)):
        out.setdefault(int(y), float(v))
    return {y: out[y] for y in ANCHOR_YEARS}


def births_ratio(s: Sources) -> float:
    """Tongzhou's births per head ÷ Beijing's (2020 census age 0, births_fertility.csv)."""
    return s.indicator("births", "Tongzhou", 2020, "age0_share_over_population_share")


def anchored_births(cbr: dict[int, float], ratio: float, population: np.ndarray,
                    base_year: int) -> dict[int, float]:
    """``{year: CBR_y / 1000 x mean population of the step ending y x ratio}``;
    ``population`` (T+1, ...) the projection's populations from ``base_year``."""
    tot = population.reshape(population.shape[0], -1).sum(axis=1)
    return {y: c / 1000 * (tot[y - base_year - 1] + tot[y - base_year]) / 2 * ratio
            for y, c in cbr.items()}


def wpp_tfr(s_src) -> dict[int, float]:
    """UN WPP 2024 China TFR, estimates to 2023 and the medium variant after."""
    w = pd.read_csv(s_src / "wpp2024_china_tfr.csv")
    w = w[w.variant.isin(["estimate", "medium"])]
    return {int(y): float(v) for y, v in zip(w.year, w.value)}


def tfr_path(base_tfr: float, factors: dict[int, float], wpp: dict[int, float]
             ) -> dict[int, float]:
    """The model's TFR path: anchored years ``base_tfr x f_y``; after the last of them the
    WPP China path relative to its value in that year."""
    path = {y: base_tfr * f for y, f in sorted(factors.items())}
    last = max(factors)
    for y in TFR_PATH_YEARS:
        path[y] = path[last] * wpp[y] / wpp[last]
    return {y: round(v, 4) for y, v in path.items()}


def fit_flows(c10, c20, sx, births_10s, srb, pop0, asfr, housing, targets, shape, l10,
              base_year):
    """One l10: gross inflow from the residual with 2010s exits, l20 fitted to targets.
    ``pop0`` (Z, 2, A); ``asfr`` (T, Z, A); ``housing`` (T, Z, 2, A).  Returns
    (residual fit, inflow (2, A), zone inflow (Z, 2, A), level fit)."""
    fit = cohort_residual(c10, c20, sx, births=births_10s, srb=srb, out_rates=l10 * shape,
                          files=("sources/district_age_structure.csv (2010)",
                                 "sources/district_age_structure.csv (2020)"))
    inflow = np.maximum(fit.net, 0.0)
    share = pop0.sum(axis=(1, 2)) / pop0.sum()
    inflow_z = share[:, None, None] * inflow[None]
    lf = calibrate_level(pop0, sx, asfr, housing + inflow_z[None], targets,
                         base_year=base_year, kind="rate", component=shape, srb=srb,
                         timing="even", bounds=(0.0, 0.5), file="migration targets")
    return fit, inflow, inflow_z, lf


def primary_growth(lf, ages=(6, 11)) -> float:
    """Residents aged 6-11 two steps after the base ÷ at the base."""
    p = lf.projection.population
    return float(p[2][..., ages[0]:ages[1] + 1].sum() / p[0][..., ages[0]:ages[1] + 1].sum())


def solve(c10, c20, sx, births_10s, srb, pop0, asfr_by_age, housing, targets, base_year,
          growth_target, cbr, ratio, iterations: int = 3):
    """l10 (child component on grade progression), l20 (totals) and the birth factors of
    2021-2024, iterated (births move the totals a little)."""
    T = housing.shape[0]
    Z = pop0.shape[0]
    shape = exit_profile(pop0.sum(axis=0))
    factors = {y: 1.0 for y in ANCHOR_YEARS}
    for _ in range(iterations):
        scale = np.ones(T)
        for y, f in factors.items():
            scale[y - base_year - 1] = f
        asfr = scale[:, None, None] * np.broadcast_to(asfr_by_age, (T, Z, asfr_by_age.size))

        def miss(l10: float) -> float:
            return primary_growth(fit_flows(c10, c20, sx, births_10s, srb, pop0, asfr, housing,
                                            targets, shape, l10, base_year)[3]) - growth_target

        lo, hi = L10_BOUNDS
        l10 = brentq(miss, lo, hi, xtol=1e-6) if miss(lo) * miss(hi) < 0 else \
            (lo if abs(miss(lo)) < abs(miss(hi)) else hi)
        fit, inflow, inflow_z, lf = fit_flows(c10, c20, sx, births_10s, srb, pop0, asfr, housing,
                                              targets, shape, l10, base_year)
        flat = np.broadcast_to(asfr_by_age, (T, Z, asfr_by_age.size))
        goal = anchored_births(cbr, ratio, lf.projection.population, base_year)
        factors = birth_factors(pop0, sx, flat, housing + inflow_z[None], goal,
                                base_year=base_year, srb=srb, timing="even",
                                out_rates=lf.level * shape)
    return {"l10": l10, "l20": lf.level, "shape": shape, "fit": fit, "inflow": inflow,
            "inflow_z": inflow_z, "lf": lf, "factors": factors, "anchored": goal,
            "asfr": asfr}
