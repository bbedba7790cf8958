"""migration.csv: background net migration, calibrated to the reported 2024 district total."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .common import AGES, BASE_YEAR, OPEN_AGE, SEXES, Sources, fmt, write_csv
from .fertility import FERT_AGES

RC_KEYS = ("a1", "alpha1", "a2", "mu2", "alpha2", "lambda2", "c")


def rc_params(s: Sources) -> dict:
    return {k: s.param(f"migration_rc_{k}") for k in RC_KEYS}


def target(s: Sources) -> tuple[int, float]:
    """(year, population): model years are census-date years (1 November); the end-of-year
    totals before and after (S17, S16) are interpolated to 1 November."""
    year = int(s.param("migration_target_year"))
    before = s.total("resident_population_yearend", year - 1)
    after = s.total("resident_population_yearend", year)
    return year, before + (10.0 / 12.0) * (after - before)


def rogers_castro(s: Sources):
    RC = rc_params(s)
    last = s.param("migration_rc_last_age")
    x = AGES.astype(float)
    m = (RC["a1"] * np.exp(-RC["alpha1"] * x)
         + RC["a2"] * np.exp(-RC["alpha2"] * (x - RC["mu2"]) - np.exp(-RC["lambda2"] * (x - RC["mu2"])))
         + RC["c"] * (x <= last))
    return m / m.sum()


def project_district(P0, sx, asfr, fert_ages, srb, net_fn, years):
    """UN-style cohort-component step (even migration timing), district level."""
    P = P0.copy()
    out = {years[0] - 1: P.sum()}
    bd = {}
    for y in years:
        net = net_fn(y)
        Ps = P + net / 2.0
        Pn = np.zeros_like(P)
        Pn[:, 1:OPEN_AGE] = Ps[:, 0:OPEN_AGE - 1] * sx[:, 1:OPEN_AGE]
        Pn[:, OPEN_AGE] = (Ps[:, OPEN_AGE - 1] + Ps[:, OPEN_AGE]) * sx[:, OPEN_AGE]
        Fend = Pn[0] + net[0] / 2.0
        births = float(np.sum(asfr * (Ps[0, fert_ages] + Fend[fert_ages]) / 2.0))
        bsex = np.array([births / (1.0 + srb), births * srb / (1.0 + srb)])
        Pn[:, 0] = bsex * sx[:, 0]
        deaths = Ps.sum() + births - Pn.sum()
        Pn += net / 2.0
        bd[y] = (births, deaths, net.sum())
        P = Pn
        out[y] = P.sum()
    return out, bd


def housing_arrivals(housing, year):
    tot = 0.0
    for h in housing.itertuples():
        k = year - h.completion_year
        if 0 <= k < h.ramp_years:
            tot += h.units * h.persons_per_unit / h.ramp_years
    return tot


def build_migration(s: Sources, pop, lts, asfr, housing, srb):
    target_year, target_pop = target(s)
    zone_ids = sorted(pop.zone_id.unique())
    P0 = np.zeros((2, OPEN_AGE + 1))
    for i, sex in enumerate(SEXES):
        P0[i] = pop[pop.sex == sex].groupby("age")["count"].sum().to_numpy()
    sx = np.vstack([lts["F"]["sx"], lts["M"]["sx"]])
    rc = rogers_castro(s)
    male_share = P0[1, 15:40].sum() / P0[:, 15:40].sum()
    shape = np.vstack([(1 - male_share) * rc, male_share * rc])
    years = list(range(BASE_YEAR + 1, target_year + 1))

    def run(N):
        return project_district(P0, sx, asfr, FERT_AGES, srb,
                                lambda y: shape * (N + housing_arrivals(housing, y)), years)

    p0, _ = run(0.0)
    p1, _ = run(1000.0)
    slope = (p1[target_year] - p0[target_year]) / 1000.0
    N = (target_pop - p0[target_year]) / slope
    path, bd = run(N)
    zshare = pop.groupby("zone_id")["count"].sum()
    zshare = zshare / zshare.sum()
    rows = []
    for z in zone_ids:
        for i, sex in enumerate(SEXES):
            for a in AGES:
                rows.append((z, sex, int(a), fmt(N * zshare[z] * shape[i, a], 6)))
    mig = pd.DataFrame(rows, columns=["zone_id", "sex", "age", "net"])
    mig["flag"] = "estimate"
    info = {"N": N, "male_share": male_share, "path": path, "bd": bd,
            "target_year": target_year, "target_pop": target_pop, "rc": rc_params(s),
            "rc_last_age": int(s.param("migration_rc_last_age")),
            "housing": {y: housing_arrivals(housing, y) for y in range(2021, 2031)}}
    return mig, info


def write_migration(mig: pd.DataFrame, out: Path) -> None:
    write_csv(mig, out / "migration.csv")
