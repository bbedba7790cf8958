"""population.csv: the 2020 census by zone x sex x single year of age.

District totals by sex x (0, 1-4, ..., 85+) are the census (S13); single years by PCHIP
graduation with a life-table tail; zone totals reported for 8 zones and estimated for 14
(sources/zone_estimates.csv); controlled rounding keeps every margin exact.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.interpolate import PchipInterpolator
from scipy.optimize import Bounds, LinearConstraint, milp

from .common import AGES, OPEN_AGE, SEXES, Sources, lr_round, write_csv

GROUP_EDGES = [0, 1] + list(range(5, 90, 5))  # group starts: 0, 1, 5, ..., 85


def census_groups(s: Sources, area_code=110112, year=2020):
    """sex -> the 19 census group counts (S13)."""
    a = s.age[(s.age.area_code == area_code) & (s.age.census_year == year)]
    out = {}
    for sex, lab in (("F", "female"), ("M", "male")):
        d = a[a.sex == lab].sort_values("age_from")
        assert list(d.age_from) == GROUP_EDGES
        out[sex] = d.population.to_numpy(dtype=np.int64)
    return out


def graduate(groups, Lx):
    """Single years 0..100 from the 19 census groups.

    Ages 0..84: monotone piecewise-cubic Hermite interpolation (Fritsch-Carlson / PCHIP) of
    the cumulative population at the group boundaries 0, 1, 5, ..., 85; single-year counts are
    the differences of the interpolant at integer ages.  The interpolant passes through every
    knot, so group totals are kept exactly, and it is monotone, so no count is negative.
    Ages 85..100 (open 100+): the 85+ total is spread in proportion to the life-table
    person-years L85..L99 and T100 of the same sex (a stationary-population decline).
    """
    knots = np.array(GROUP_EDGES, float)
    cum = np.concatenate([[0.0], np.cumsum(groups[:-1])]).astype(float)
    f = PchipInterpolator(knots, cum)
    c = f(np.arange(0, 86, dtype=float))
    single = np.zeros(OPEN_AGE + 1)
    single[:85] = np.diff(c)
    tail = Lx[85:].copy()
    single[85:] = groups[-1] * tail / tail.sum()
    assert (single >= 0).all()
    return single


def group_index():
    gi = np.zeros(OPEN_AGE + 1, dtype=int)
    for k, e in enumerate(GROUP_EDGES):
        gi[e:] = k
    return gi


def controlled_round_2d(X, row_tot, col_tot):
    """Integer matrix with exact row and column totals, each cell floor or ceil of X.
    Solved as a 0/1 transportation problem (totally unimodular) with HiGHS MILP,
    maximising the sum of the fractional parts of the cells rounded up."""
    fl = np.floor(X + 1e-9)
    fr = X - fl
    nr, nc = X.shape
    rdef = row_tot - fl.sum(1)
    cdef = col_tot - fl.sum(0)
    n = nr * nc
    A_r = np.zeros((nr, n))
    A_c = np.zeros((nc, n))
    for i in range(nr):
        A_r[i, i * nc:(i + 1) * nc] = 1
    for j in range(nc):
        A_c[j, j::nc] = 1
    A = np.vstack([A_r, A_c])
    b = np.concatenate([rdef, cdef])
    ub = (fr.ravel() > 1e-12).astype(float)
    res = milp(c=-fr.ravel(), constraints=LinearConstraint(A, b, b),
               integrality=np.ones(n), bounds=Bounds(np.zeros(n), ub))
    assert res.success, res.message
    Y = (fl + np.round(res.x).reshape(nr, nc)).astype(np.int64)
    assert (Y.sum(1) == row_tot).all() and (Y.sum(0) == col_tot).all()
    return Y


def zone_totals(s: Sources):
    """2020 zone totals: reported where the census township figure was found (8 zones);
    the derived remainder (1,840,295 - 872,529 = 967,766) split among the other 14 by the
    rule of zone_estimates.csv: the 2010 census population of the unit they belonged to in
    2010 (S2) in equal shares among the units split from it, the outer rural units x the
    rural growth factor, the urban ones by one common factor that exhausts the remainder."""
    tw = s.tw
    district = s.total("resident_population_census", 2020)
    known = tw.pop_2020.dropna().astype(np.int64)
    remainder = district - int(known.sum())
    assert remainder == s.total("remainder_for_14_townships_without_2020_pop", 2020)
    est = s.zone_estimates
    shares = est.groupby("unit_2010").zone_id.count()
    base = {}
    for r in est.itertuples():
        if r.growth == "reported":
            assert r.zone_id in known.index, r.zone_id
            continue
        base[r.zone_id] = float(tw.loc[r.unit_2010, "pop_2010"]) / shares[r.unit_2010]
    rural = sorted(est.loc[est.growth == "rural", "zone_id"])
    unknown = sorted(base)
    assert len(unknown) == 14 and not set(unknown) & set(known.index)
    assert set(unknown) | set(known.index) == set(tw.index)
    rural_growth = s.param("rural_growth")
    rural_part = sum(base[k] * rural_growth for k in rural)
    urban = [k for k in unknown if k not in rural]
    urban_growth = (remainder - rural_part) / sum(base[k] for k in urban)
    est_z = np.array([base[k] * (rural_growth if k in rural else urban_growth) for k in unknown])
    est_int = lr_round(est_z, remainder)
    out = {k: int(v) for k, v in known.items()}
    out.update({k: int(v) for k, v in zip(unknown, est_int)})
    info = {"base": base, "urban_growth": urban_growth, "rural_growth": rural_growth,
            "known": sorted(known.index), "unknown": unknown}
    return out, info


def build_population(s: Sources, zones, lts):
    groups = census_groups(s)
    single = {sex: graduate(groups[sex], lts[sex]["Lx"]) for sex in SEXES}
    gi = group_index()
    ng = len(GROUP_EDGES)
    ztot, zinfo = zone_totals(s)
    zone_ids = list(zones.zone_id)
    tw = s.tw

    # --- Songzhuang: reported sex totals and 0-14 / 15-64 / 65+ (S1); IPF on the district
    # single-year profile, then controlled rounding.
    sz = tw.loc["songzhuang"]
    sex_t = {"F": int(sz.female_2020), "M": int(sz.male_2020)}
    broad_t = np.array([sz.age0_14_2020, sz.age15_64_2020, sz.age65p_2020], dtype=np.int64)
    assert sum(sex_t.values()) == broad_t.sum() == int(sz.pop_2020)
    broad_of_age = np.where(AGES < 15, 0, np.where(AGES < 65, 1, 2))
    X = np.vstack([single["F"], single["M"]])
    for _ in range(200):
        X *= (np.array([sex_t["F"], sex_t["M"]]) / X.sum(1))[:, None]
        bsum = np.array([X[:, broad_of_age == b].sum() for b in range(3)])
        X *= (broad_t / bsum)[broad_of_age][None, :]
    A = np.array([[X[i, broad_of_age == b].sum() for b in range(3)] for i in range(2)])
    F_int = lr_round(A[0], sex_t["F"])
    sz_sb = np.vstack([F_int, broad_t - F_int])  # 2 x 3, exact margins
    assert (sz_sb >= 0).all()
    broad_of_group = np.array([0, 0, 0, 0] + [1] * 10 + [2] * 5)
    sz_sg = np.zeros((2, ng), dtype=np.int64)
    for i in range(2):
        g_frac = np.array([X[i, gi == g].sum() for g in range(ng)])
        for b in range(3):
            m = broad_of_group == b
            sz_sg[i, m] = lr_round(g_frac[m], sz_sb[i, b])

    # --- other 21 zones: residual sex x group totals, zone totals; proportional fit
    # (no zone-level age data exist) and controlled rounding of the zone x (sex, group) table.
    D = np.vstack([groups["F"], groups["M"]])
    R = D - sz_sg
    assert (R >= 0).all()
    others = [z for z in zone_ids if z != "songzhuang"]
    T = np.array([ztot[z] for z in others], dtype=np.int64)
    Rv = R.ravel()
    assert T.sum() == Rv.sum()
    Yo = controlled_round_2d(np.outer(T, Rv) / Rv.sum(), T, Rv)

    # --- single years inside each zone x sex x group: largest remainder on the district
    # single-year proportions within the group.
    rows = []
    for z in zone_ids:
        counts = np.zeros((2, OPEN_AGE + 1), dtype=np.int64)
        for i, sex in enumerate(SEXES):
            for g in range(ng):
                n = (int(sz_sg[i, g]) if z == "songzhuang"
                     else int(Yo[others.index(z), i * ng + g]))
                m = gi == g
                counts[i, m] = lr_round(single[sex][m], n)
        for i, sex in enumerate(SEXES):
            rows.extend((z, sex, int(a), int(counts[i, a])) for a in AGES)
    pop = pd.DataFrame(rows, columns=["zone_id", "sex", "age", "count"])
    pop["flag"] = pop.zone_id.map(
        {z: ("reported" if z in zinfo["known"] else "estimate") for z in zone_ids})
    return pop, single, ztot, zinfo


def write_population(pop: pd.DataFrame, out: Path) -> None:
    write_csv(pop, out / "population.csv")
