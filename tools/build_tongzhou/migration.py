"""migration.csv: background net migration, calibrated with the engine's projection.

housing.csv holds the occupants of new dwellings; migration.csv all other net migration
("background").  The background total N is one constant annual number, spread over zones
by 2020 population and over sex x age by a Rogers-Castro profile
(:func:`capacity.demography.rogers_castro`, parameters in assumptions.csv, constant term
only up to ``migration_rc_last_age``; sexes by the census male share at ages 15-39).

N is calibrated so that the engine's own projection of the model — exactly what
``capacity`` runs for a scenario without changes: :func:`capacity.demography.project`
over the 22 zones with the model's SRB, even timing, the sx and ASFR as written to
mortality.csv and fertility.csv, and the housing in-movers of
:func:`capacity.demography.housing_inflow` with the engine's
:func:`capacity.demography.young_family_profile` — reaches the reported district total
in the target year.  The projection is linear in N (no count is floored; checked), so two
runs give N exactly.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from capacity.demography import (housing_inflow, project, rogers_castro, spread_total,
                                 young_family_profile)

from .common import AGES, BASE_YEAR, OPEN_AGE, SEXES, Sources, fmt, write_csv

RC_KEYS = ("a1", "alpha1", "a2", "mu2", "alpha2", "lambda2", "c")
HOUSING_REPORT_YEARS = range(2021, 2031)


def rc_params(s: Sources) -> dict:
    return {k: s.param(f"migration_rc_{k}") for k in RC_KEYS}


def target(s: Sources) -> tuple[int, float]:
    """(year, population): model years are census-date years (1 November); the end-of-year
    totals before and after (S17, S16) are interpolated to 1 November."""
    year = int(s.param("migration_target_year"))
    before = s.total("resident_population_yearend", year - 1)
    after = s.total("resident_population_yearend", year)
    return year, before + (10.0 / 12.0) * (after - before)


def background_profile(s: Sources, pop: pd.DataFrame) -> tuple[np.ndarray, float]:
    """(2, A) sex x age shares of background migration (sum 1) and the male share used."""
    rc = rc_params(s)
    last = s.param("migration_rc_last_age")
    ages = AGES.astype(float)
    m = rogers_castro(ages, **{**rc, "c": 0.0}) + rc["c"] * (ages <= last)
    young = pop[(pop.age >= 15) & (pop.age < 40)].groupby("sex")["count"].sum()
    male_share = float(young["M"] / young.sum())
    shape = np.vstack([(1.0 - male_share) * m, male_share * m])
    return shape / shape.sum(), male_share


def housing_in_movers(housing: pd.DataFrame, zone_ids: list[str], years) -> np.ndarray:
    """(T, Z, 2, A) housing in-movers, as the engine computes them for the model."""
    return housing_inflow(pd.Index(zone_ids).get_indexer(housing["zone_id"]),
                          housing["units"].to_numpy(float),
                          housing["completion_year"].to_numpy(float),
                          housing["persons_per_unit"].to_numpy(float),
                          housing["ramp_years"].to_numpy(float), np.asarray(years), len(zone_ids),
                          young_family_profile(OPEN_AGE))


def build_migration(s: Sources, pop: pd.DataFrame, sx: np.ndarray, asfr_by_age: np.ndarray,
                    housing: pd.DataFrame, srb: float):
    """``sx`` (2, A) and ``asfr_by_age`` (A,) as written to the model's files."""
    target_year, target_pop = target(s)
    zone_ids = sorted(pop.zone_id.unique())
    Z, A = len(zone_ids), OPEN_AGE + 1
    pop0 = np.zeros((Z, 2, A))
    zi = pd.Index(zone_ids).get_indexer(pop.zone_id)
    np.add.at(pop0, (zi, (pop.sex == "M").to_numpy(int), pop.age.to_numpy(int)),
              pop["count"].to_numpy(float))
    years = np.arange(BASE_YEAR + 1, target_year + 1)
    asfr = np.broadcast_to(asfr_by_age, (len(years), 1, A))
    shape, male_share = background_profile(s, pop)
    zshare = pop0.sum(axis=(1, 2)) / pop0.sum()
    housing_net = housing_in_movers(housing, zone_ids, years)

    def background(N: float) -> np.ndarray:
        return spread_total(N * zshare, shape)                    # (Z, 2, A)

    def run(N: float):
        proj = project(pop0, sx, asfr, housing_net + background(N)[None], srb=srb,
                       timing="even")
        assert not proj.floored, proj.floored[:5]
        return proj

    t = len(years)
    p0 = run(0.0).population[t].sum()
    p1 = run(1000.0).population[t].sum()
    N = (target_pop - p0) / ((p1 - p0) / 1000.0)
    proj = run(N)
    reached = proj.population[t].sum()
    assert abs(reached - target_pop) < 1e-3, (reached, target_pop)

    net = background(N)
    rows = [(z, sex, int(a), fmt(net[k, i, a], 6))
            for k, z in enumerate(zone_ids) for i, sex in enumerate(SEXES) for a in AGES]
    mig = pd.DataFrame(rows, columns=["zone_id", "sex", "age", "net"])
    mig["flag"] = "estimate"
    all_years = np.array(list(HOUSING_REPORT_YEARS))
    arrivals = housing_in_movers(housing, zone_ids, all_years).sum(axis=(1, 2, 3))
    info = {"N": N, "male_share": male_share, "target_year": target_year,
            "target_pop": target_pop, "rc": rc_params(s),
            "rc_last_age": int(s.param("migration_rc_last_age")),
            "path": {int(y): float(proj.population[k].sum())
                     for k, y in enumerate(np.arange(BASE_YEAR, target_year + 1))},
            "bd": {int(y): (float(proj.births[k].sum()), float(proj.deaths[k].sum()),
                            float(proj.migration[k].sum())) for k, y in enumerate(years)},
            "housing": dict(zip(all_years.tolist(), arrivals.tolist()))}
    return mig, info


def write_migration(mig: pd.DataFrame, out: Path) -> None:
    write_csv(mig, out / "migration.csv")
