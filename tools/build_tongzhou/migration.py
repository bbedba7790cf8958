"""migration.csv: census cohort-residual inflow and an age-neutral exit rate fitted to the
2021-2024 totals, with the engine's own ``capacity.demography`` (docs/projection.md §2-4).

1. **Inflow.**  :func:`capacity.demography.cohort_residual` carries the 2010 census
   (S13, 5-year groups) to the 2020 census with the model's survival ratios and the births
   of :func:`births_2011_2020`; the annual net migration by sex x single age that closes the
   gap (penalised graduation, lambda by GCV) is the 2010s' net inflow.  It is kept as the
   inflow schedule in counts (ages where the residual is negative, all at 80+, set to 0),
   spread over the zones by 2020 population share.
2. **Exits.**  After 2020 the totals stopped growing (1,840,295 in the 2020 census,
   1,845,000 end-2023, 1,846,000 end-2024).  With the inflow kept and the housing in-movers
   of housing.csv, one age-neutral exit rate ``out_rate`` (the share of the residents of
   every zone, sex and age that leaves each year) is fitted with
   :func:`capacity.demography.calibrate_level` (kind "rate") so that the engine's projection
   of the model meets both totals (31 December = model year + 2/12) in least squares.
3. The alternatives of the scenarios (half the inflow; exits only at ages 15+) are refitted
   the same way; their levels are in the README and in the scenario files.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from capacity.demography import (calibrate_level, cohort_residual, housing_inflow,
                                 young_family_profile)
from capacity.plausibility import cohort_residual as cohort_net

from .exits import beijing_cbr, births_ratio, grade_progression, primary_growth, solve
from .common import AGES, BASE_YEAR, OPEN_AGE, SEXES, Sources, fmt, write_csv

CENSUS_COLS = ["year", "sex", "age_from", "age_to", "population"]
FIT_YEARS = 5      # projection steps used by the level fit (targets in 2023-24)
ALTERNATIVES = {"baseline": (1.0, 0), "half-inflow": (0.5, 0), "exits-15plus": (1.0, 15)}


def census(s: Sources, year: int) -> pd.DataFrame:
    """Tongzhou census by sex x 5-year group (S13), in the form ``read_census`` reads."""
    a = s.age[(s.age.area_code == 110112) & (s.age.census_year == year)]
    return a.rename(columns={"census_year": "year"})[CENSUS_COLS].reset_index(drop=True)


def targets(s: Sources) -> dict[float, float]:
    """{model year: total}: the end-2023 (S17) and end-2024 (S16) totals at 31 December,
    i.e. 2/12 of a year after the 1 November census date."""
    return {y + 2 / 12: float(s.total("resident_population_yearend", y)) for y in (2023, 2024)}


def births_2011_2020(s: Sources, sx0: float) -> dict[int, float]:
    """Births in the steps ending 1 November 2011..2020 (estimate; README).

    2014, 2016-2019: the sources' resident-birth estimates (Beijing resident births x
    Tongzhou's population share x 1.015); 2010: the census-year birth rate 6.48 per 1000
    x the 2010 census (both S13); 2011-2013 linear between them, 2015 the mean of 2014 and
    2016; 2020: the census age-0 count / sx[0] (survivors of the year's births).
    """
    b = s.births
    est = b[(b.area_en == "Tongzhou") & (b.indicator == "resident_births")]
    pts = {int(y): float(v) for y, v in zip(est.year, est.value) if 2011 <= y <= 2019}
    pts[2010] = s.indicator("births", "Tongzhou", 2010, "census_birth_rate") / 1000 * \
        s.total("resident_population_census", 2010)
    pts[2020] = s.indicator("births", "Tongzhou", 2020, "census_age0_population") / sx0
    known = sorted(pts)
    years = np.arange(2011, 2021)
    vals = np.interp(years, known, [pts[y] for y in known])
    return {int(y): round(float(v)) for y, v in zip(years, vals)}


def housing_in_movers(housing: pd.DataFrame, zone_ids: list[str], years, srb: float
                      ) -> np.ndarray:
    """(T, Z, 2, A) housing in-movers, as the engine computes them for the model."""
    return housing_inflow(pd.Index(zone_ids).get_indexer(housing["zone_id"]),
                          housing["units"].to_numpy(float),
                          housing["completion_year"].to_numpy(float),
                          housing["persons_per_unit"].to_numpy(float),
                          housing["ramp_years"].to_numpy(float), np.asarray(years), len(zone_ids),
                          young_family_profile(OPEN_AGE, srb=srb))


def build_migration(s: Sources, pop: pd.DataFrame, sx: np.ndarray, asfr_by_age: np.ndarray,
                    housing: pd.DataFrame, srb: float, anchors: pd.DataFrame):
    """``sx`` (2, A) and ``asfr_by_age`` (A,) as written to the model's files; ``anchors``
    the model's anchors.csv table (Beijing's 2024 crude birth rate)."""
    A = OPEN_AGE + 1
    sx0 = float((sx[0, 0] + srb * sx[1, 0]) / (1 + srb))
    births = births_2011_2020(s, sx0)
    c10, c20 = census(s, 2010), census(s, 2020)
    zone_ids = sorted(pop.zone_id.unique())
    Z = len(zone_ids)
    pop0 = np.zeros((Z, 2, A))
    zi = pd.Index(zone_ids).get_indexer(pop.zone_id)
    np.add.at(pop0, (zi, (pop.sex == "M").to_numpy(int), pop.age.to_numpy(int)),
              pop["count"].to_numpy(float))
    years = np.arange(BASE_YEAR + 1, BASE_YEAR + FIT_YEARS + 1)
    housing_net = housing_in_movers(housing, zone_ids, years, srb)
    tg = targets(s)
    gp = grade_progression(s)
    cbr, ratio = beijing_cbr(s, anchors), births_ratio(s)
    sol = solve(c10, c20, sx, births, srb, pop0, asfr_by_age, housing_net, tg, BASE_YEAR,
                gp["growth"], cbr, ratio)
    shape, inflow_z, asfr = sol["shape"], sol["inflow_z"], sol["asfr"]
    fits = {"baseline": sol["lf"]}
    for name, (scale, from_age) in ALTERNATIVES.items():
        if name == "baseline":
            continue
        comp = shape * (AGES >= from_age)
        fits[name] = calibrate_level(pop0, sx, asfr, housing_net + scale * inflow_z[None], tg,
                                     base_year=BASE_YEAR, kind="rate", component=comp,
                                     srb=srb, timing="even", bounds=(0.0, 0.5),
                                     file="migration targets")
    level = sol["l20"]
    rates = level * shape
    zoned = pd.DataFrame({"zone_id": np.repeat(zone_ids, 2 * A),
                          "sex": np.tile(np.repeat(SEXES, A), Z),
                          "age": np.tile(AGES, 2 * Z)})
    mig = pd.DataFrame({"zone_id": zoned["zone_id"], "sex": zoned["sex"], "age": zoned["age"],
                        "inflow": [fmt(v, 6) for v in inflow_z.reshape(-1)],
                        "out_rate": [fmt(v, 6) for v in np.tile(rates.reshape(-1), Z)],
                        "flag": "estimate"})
    best = fits["baseline"].projection
    resid, _ = cohort_net(best, sx)
    net10 = cohort_residual(c10, c20, sx, births=births, srb=srb).net
    info = {"primary_growth": primary_growth(fits["baseline"]),
            "net65": {int(y): float(resid[k, :, 65:].sum()) for k, y in enumerate(years)},
            "net65_10s": float(net10[:, 65:].sum()),
            "births": births, "fit": sol["fit"], "inflow": sol["inflow"], "targets": tg,
            "levels": {k: f.level for k, f in fits.items()}, "level": level,
            "l10": sol["l10"], "shape": shape, "rates": rates, "grade": gp,
            "factors": sol["factors"], "anchored": sol["anchored"], "cbr": cbr,
            "births_ratio": ratio,
            "fitted": {k: f.to_frame() for k, f in fits.items()},
            "path": {int(y): float(best.population[k].sum())
                     for k, y in enumerate(np.arange(BASE_YEAR, BASE_YEAR + FIT_YEARS + 1))},
            "bd": {int(y): (float(best.births[k].sum()), float(best.deaths[k].sum()),
                            float(best.migration[k].sum())) for k, y in enumerate(years)},
            "projection": best,
            "housing": dict(zip(range(2021, 2031), housing_in_movers(
                housing, zone_ids, np.arange(2021, 2031), srb).sum(axis=(1, 2, 3)).tolist()))}
    return mig, info


def targets_table(s: Sources) -> pd.DataFrame:
    """migration_targets.csv: the totals ``capacity calibrate-migration`` fits."""
    return pd.DataFrame({"year": [fmt(y, 6) for y in targets(s)],
                         "total": [int(v) for v in targets(s).values()],
                         "note": ["31 Dec 2023 (census-date years: + 2/12)",
                                  "31 Dec 2024 (census-date years: + 2/12)"],
                         "source_id": ["S17", "S16"]})


def write_migration(mig: pd.DataFrame, targets_df: pd.DataFrame, out: Path) -> None:
    write_csv(mig, out / "migration.csv")
    write_csv(targets_df, out / "migration_targets.csv")
