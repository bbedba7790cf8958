"""A synthetic model folder of any size, shaped like all of Beijing (benchmarks and tests).

``write_scale_model(folder, units=20_000)`` writes a valid model folder
(docs/model-format.md); ``write_scale_case(root, units=...)`` also writes a scenario beside
it and returns both paths. Everything is drawn from one seeded generator, so the same
arguments give byte-identical files.

Shape (defaults; every number is a synthetic estimate, not data):

* **zones**: 330 Voronoi cells tiling a 100 km × 100 km square in UTM 50N centred on
  Tiananmen (about Beijing's 16 districts' 330-odd township-level units). Cell seeds are
  dense in the urban core (small subdistricts) and sparse outside (large towns); zones
  whose seed is over 30 km from the centre get ``radius_scale = 2`` (bussed pupils).
  Written as GeoJSON in WGS84.
* **units.csv**: N demand points, clustered settlement: 55 % in the urban core (Gaussian,
  sd 8 km), 30 % in 10 satellite new towns (sd 2.5 km), 15 % scattered; a zone that no
  point falls in gets one unit at its seed. Each unit has a lognormal settlement mass;
  ``weight`` is its share of the zone's mass (weights sum to 1 per zone).
* **population.csv**: zone × sex × single age 0..100, total ``population`` (default 20
  million) shared over zones by settlement mass. The age structure follows the shape of
  Beijing's 2020 census five-year groups (estimate: 0–14 ≈ 11.8 %, 60+ ≈ 19.7 %, a bulge
  at 25–39, the 1960s boom at 50–59), split into single years by a monotone spline of the
  cumulative share; the periphery is younger than the core. Males per female: 1.12 below
  20, 1.06 at 20–59, fewer at old ages.
* **fertility.csv**: one district schedule, ages 15–49, gamma-shaped (mean age at birth
  31, sd 5), TFR 0.87 (Beijing 2020 level). **mortality.csv**: ``qx`` from a
  Gompertz–Makeham hazard with infant and child mortality (e0 ≈ 80 M / 85 F).
  **migration.csv**: small net migration of young adults (ages 18–40): in-migration to
  outer zones, out-migration from the core, about ±0.1–0.3 % a year of those ages.
* **schools.csv**: 3 % of N per stage (kindergarten, primary, junior, senior), sited at
  units (± 200 m): 70 % chosen by the stage's pupils, 30 % uniformly among the units (so
  villages have schools too); places = the base year's catchment demand
  (nearest school) × a noise factor (sd 15 %), at least one class; 85 % of kindergartens
  inclusive.
* **projects.csv**: one key project per 500 units, half new schools (at a settled unit,
  ± 300 m), half expansions of an existing school, stages 35/30/20/15 % kindergarten /
  primary / junior / senior, opening 2021–2030, cost = places × cost per place.
* **model.toml**: base year 2020, CRS EPSG:32650, open age 100, the four stages with
  Tongzhou's ages, enrolment, class sizes, radii and costs, and the plan's targets.

Run ``python benchmarks/scale_model.py OUT_DIR --units 20000`` to write a case by hand.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.interpolate import PchipInterpolator
from scipy.spatial import cKDTree

CRS = "EPSG:32650"
CENTRE = (448_000.0, 4_417_000.0)     # Tiananmen, UTM 50N (approximate)
SIDE = 100_000.0                      # metres
BASE_YEAR = 2020
OPEN_AGE = 100
STAGES = {  # ages, enrolment, class size, radius, cost per place (as models/tongzhou)
    "kindergarten": ((3, 5), 0.90, 30, 1500, 150_000),
    "primary": ((6, 11), 0.896, 45, 2500, 278_000),
    "junior": ((12, 14), 0.812, 50, 4000, 383_000),
    "senior": ((15, 17), 0.494, 50, 8000, 383_000),
}
SCHOOL_SHARE = 0.03                   # schools per stage, as a share of the units
SPREAD_SCHOOLS = 0.3                  # share of them sited by settlement, not by pupils
UNITS_PER_PROJECT = 500
PROJECT_STAGES = (0.35, 0.30, 0.20, 0.15)
PROJECT_CLASSES = {"kindergarten": (6, 12), "primary": (18, 36), "junior": (12, 30),
                   "senior": (12, 30)}
TFR = 0.87

# Beijing 2020 census shape (estimate), % of the population in five-year groups 0-4 ..
# 95-99 and 100+ (normalised below).
AGE_GROUPS = np.array([4.0, 4.3, 3.5, 3.3, 5.6, 8.0, 10.8, 9.3, 7.5, 7.3, 7.9, 6.3, 5.9,
                       5.5, 3.5, 2.0, 1.5, 0.9, 0.3, 0.06, 0.01])
# satellite new towns: (dx, dy) km from the centre (Tongzhou, Shunyi, Changping, Daxing,
# Fangshan, Mentougou, Huairou, Pinggu, Miyun, Yanqing: placed to fit the square)
TOWNS_KM = np.array([(22, -3), (24, 18), (-5, 30), (3, -22), (-25, -25), (-24, 3),
                     (15, 40), (42, 15), (35, 40), (-40, 42)], float)

MODEL_TOML = """\
# Synthetic Beijing-shaped model written by benchmarks/scale_model.py (every number is a
# synthetic estimate): {n_zones} zones, {n_units} demand units, {n_schools} school rows,
# {n_projects} key projects, seed {seed}.
name = "Synthetic Beijing ({n_units} units)"
base_year = {base_year}
crs = "{crs}"

[demography]
open_age = {open_age}
srb = 1.11
migration_timing = "even"

[files]
zones = "zones.geojson"
population = "population.csv"
fertility = "fertility.csv"
mortality = "mortality.csv"
migration = "migration.csv"
units = "units.csv"
schools = "schools.csv"
projects = "projects.csv"
{stages}
[targets]
year = 2025
kindergarten_enrolment_rate = 0.90
inclusive_kindergarten_coverage = 0.90
nearby_enrolment_rate = 0.99
"""

SCENARIO_TOML = """\
name = "{name}"
description = "Synthetic Beijing-shaped model, {n_units} units: key projects on time"
model = "{model}"
horizon = {horizon}

[allocation]
mode = "optimal"

[report]
year = 2025
"""


@dataclass
class ScaleModel:
    """What was written: the folder and its headline counts (for benchmark tables)."""

    folder: Path
    zones: int
    units: int
    population: float
    schools: dict[str, int]
    places: dict[str, int]
    projects: int
    seed: int

    def describe(self) -> str:
        per_stage = ", ".join(f"{k} {self.schools[k]:,} ({self.places[k]:,} places)"
                              for k in self.schools)
        return (f"{self.zones} zones, {self.units:,} units, population "
                f"{self.population:,.0f}, schools per stage: {per_stage}; "
                f"{self.projects} key projects")


def _to_lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    return t.transform(np.asarray(x, float), np.asarray(y, float))


def _in_square(xy: np.ndarray, margin: float = 0.0) -> np.ndarray:
    lo = np.array(CENTRE) - SIDE / 2 + margin
    return ((xy >= lo) & (xy <= lo + SIDE - 2 * margin)).all(axis=1)


def _settlement(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 2) points in the square: urban core, satellite towns, scattered villages."""
    out = np.empty((0, 2))
    centre = np.array(CENTRE)
    while len(out) < n:
        m = 2 * (n - len(out)) + 16
        kind = rng.choice(3, size=m, p=(0.55, 0.30, 0.15))
        pts = np.empty((m, 2))
        core = kind == 0
        pts[core] = centre + rng.normal(0, 8_000, (core.sum(), 2))
        town = kind == 1
        which = rng.integers(0, len(TOWNS_KM), town.sum())
        pts[town] = centre + TOWNS_KM[which] * 1000 + rng.normal(0, 2_500, (town.sum(), 2))
        rural = kind == 2
        pts[rural] = centre - SIDE / 2 + rng.uniform(0, SIDE, (rural.sum(), 2))
        out = np.vstack([out, pts[_in_square(pts, 10.0)]])
    return out[:n]


def _zones(rng: np.random.Generator, n_zones: int) -> tuple[np.ndarray, list]:
    """Seeds (Z, 2) and their Voronoi cells clipped to the square, in seed order.

    45 % of the seeds come from the urban core (Gaussian, sd 9 km), the rest are spread
    over the square; a seed closer than 400 m to an earlier one is skipped (no slivers).
    """
    centre = np.array(CENTRE)
    seeds: list[np.ndarray] = []
    while len(seeds) < n_zones:
        p = centre + rng.normal(0, 9_000, 2) if rng.random() < 0.45 \
            else centre - SIDE / 2 + rng.uniform(0, SIDE, 2)
        if _in_square(p[None], 200.0)[0] and \
                (not seeds or np.hypot(*(np.array(seeds) - p).T).min() > 400.0):
            seeds.append(p)
    seeds_arr = np.array(seeds)
    x0, y0 = centre - SIDE / 2
    square = shapely.box(x0, y0, x0 + SIDE, y0 + SIDE)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds_arr),
                                                       extend_to=square))
    cells = shapely.intersection(cells, square)
    rep = shapely.get_coordinates(shapely.point_on_surface(cells))
    owner = cKDTree(seeds_arr).query(rep)[1]
    ordered = [None] * n_zones
    for cell, i in zip(cells, owner):
        ordered[i] = cell
    assert all(c is not None for c in ordered), "every seed owns one Voronoi cell"
    return seeds_arr, ordered


def age_structure() -> np.ndarray:
    """(101,) shares of single ages 0..100 (100 = open group), summing to 1."""
    shares = AGE_GROUPS / AGE_GROUPS.sum()
    edges = np.r_[np.arange(0, 101, 5), 101.0]            # group 100+ spans one "year"
    cum = PchipInterpolator(edges, np.r_[0.0, np.cumsum(shares)])
    single = np.diff(cum(np.arange(0, 102)))
    return np.clip(single, 0, None) / np.clip(single, 0, None).sum()


def male_share() -> np.ndarray:
    """(101,) share of males at each age."""
    age = np.arange(OPEN_AGE + 1)
    ratio = np.interp(age, [0, 19, 20, 59, 60, 79, 80, 100],
                      [1.12, 1.12, 1.06, 1.06, 0.96, 0.90, 0.82, 0.55])
    return ratio / (1 + ratio)


def mortality_qx() -> pd.DataFrame:
    """qx by sex and age 0..100 (Gompertz–Makeham hazard; q at the open age is 1)."""
    age = np.arange(OPEN_AGE + 1, dtype=float)
    rows = []
    for sex, b, q0 in (("F", 1.4e-5, 0.0018), ("M", 2.2e-5, 0.0022)):
        mx = 0.00008 + b * np.exp(0.098 * age)
        mx[1:5] = np.maximum(mx[1:5], 0.00025)
        qx = mx / (1 + 0.5 * mx)
        qx[0] = q0
        qx = np.minimum(qx, 0.95)
        qx[-1] = 1.0
        rows.append(pd.DataFrame({"sex": sex, "age": age.astype(int), "qx": qx}))
    return pd.concat(rows, ignore_index=True)


def fertility_asfr() -> pd.DataFrame:
    """District ASFR, ages 15–49: gamma pattern (shift 14, mean 31, sd 5), TFR 0.87."""
    from scipy.stats import gamma

    mean, sd, shift = 31.0 - 14, 5.0, 14
    shape, scale = (mean / sd) ** 2, sd ** 2 / mean
    age = np.arange(15, 50)
    dens = gamma.cdf(age + 1 - shift, shape, scale=scale) - gamma.cdf(age - shift, shape,
                                                                      scale=scale)
    return pd.DataFrame({"age": age, "asfr": TFR * dens / dens.sum()})


def write_scale_model(folder: str | Path, units: int = 20_000, zones: int = 330,
                      population: float = 20e6, seed: int = 2020) -> ScaleModel:
    """Write a Beijing-shaped model folder with ``units`` demand units (see module doc)."""
    if units < zones:
        raise ValueError(f"units ({units}) must be at least zones ({zones})")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    centre = np.array(CENTRE)

    # zones -------------------------------------------------------------------------------
    seeds, cells = _zones(rng, zones)
    seed_km = np.hypot(*(seeds - centre).T) / 1000
    zone_ids = np.array([f"z{i:03d}" for i in range(zones)])
    names = [f"{'Subdistrict' if d < 20 else 'Town'} {i:03d}" for i, d in enumerate(seed_km)]
    scale = np.where(seed_km > 30, 2.0, 1.0)
    gpd.GeoDataFrame({"zone_id": zone_ids, "name": names, "radius_scale": scale},
                     geometry=cells, crs=CRS).to_crs("EPSG:4326") \
        .to_file(folder / "zones.geojson", driver="GeoJSON")

    # demand units: clustered points; a zone with none gets one at its seed --------------
    zone_tree = cKDTree(seeds)
    xy = _settlement(rng, units)
    zone_of = zone_tree.query(xy)[1]
    empty = np.setdiff1d(np.arange(zones), zone_of)
    if len(empty):
        # replace the units of the most crowded zones by one unit at each empty zone's seed
        counts = np.bincount(zone_of, minlength=zones)
        crowded = np.argsort(-counts, kind="stable")[:max(1, len(empty))]
        donors = np.flatnonzero(np.isin(zone_of, crowded))
        drop = rng.choice(donors, size=len(empty), replace=False)
        xy[drop] = seeds[empty]
        zone_of[drop] = empty
    mass = rng.lognormal(0.0, 0.5, units)
    mass[np.isin(zone_of, empty)] *= 0.2        # a lone unit: a sparse rural zone
    order = np.lexsort((np.arange(units), zone_of))
    xy, zone_of, mass = xy[order], zone_of[order], mass[order]
    zone_mass = np.bincount(zone_of, weights=mass, minlength=zones)
    weight = mass / zone_mass[zone_of]
    lon, lat = _to_lonlat(xy[:, 0], xy[:, 1])
    pd.DataFrame({"unit_id": [f"u{i:06d}" for i in range(units)], "zone_id": zone_ids[zone_of],
                  "lon": np.round(lon, 7), "lat": np.round(lat, 7), "weight": weight}) \
        .to_csv(folder / "units.csv", index=False, float_format="%.12g")

    # population: zone × sex × age -------------------------------------------------------
    zone_pop = population * zone_mass / zone_mass.sum()
    base = age_structure()
    age = np.arange(OPEN_AGE + 1)
    periphery = np.clip((seed_km - 10) / 30, 0, 1)           # 0 core … 1 outer
    young = (age < 18).astype(float)
    workers = ((age >= 20) & (age < 40)).astype(float)
    old = (age >= 60).astype(float)
    tilt = (1 + young * (0.25 * periphery[:, None] - 0.1 + rng.normal(0, 0.08, (zones, 1)))
            + workers * (0.1 * periphery[:, None] + rng.normal(0, 0.05, (zones, 1)))
            + old * (-0.2 * periphery[:, None] + 0.1))
    shape = base[None, :] * tilt
    shape /= shape.sum(axis=1, keepdims=True)
    both = zone_pop[:, None] * shape                          # (Z, A)
    male = male_share()
    counts = np.stack([both * (1 - male), both * male], axis=1)  # (Z, 2, A): F, M
    counts = np.rint(counts).astype(np.int64)
    pd.DataFrame({"zone_id": np.repeat(zone_ids, 2 * len(age)),
                  "sex": np.tile(np.repeat(["F", "M"], len(age)), zones),
                  "age": np.tile(age, 2 * zones), "count": counts.ravel()}) \
        .to_csv(folder / "population.csv", index=False)

    # fertility, mortality, migration ---------------------------------------------------
    fertility_asfr().to_csv(folder / "fertility.csv", index=False, float_format="%.8f")
    mortality_qx().to_csv(folder / "mortality.csv", index=False, float_format="%.8g")
    mig_age = np.arange(18, 41)
    rate = np.where(periphery > 0.5, 0.003, np.where(periphery < 0.2, -0.002, 0.001))
    rate = rate * rng.uniform(0.5, 1.5, zones)
    net = counts[:, :, mig_age] * rate[:, None, None]         # (Z, 2, ages)
    pd.DataFrame({"zone_id": np.repeat(zone_ids, 2 * len(mig_age)),
                  "sex": np.tile(np.repeat(["F", "M"], len(mig_age)), zones),
                  "age": np.tile(mig_age, 2 * zones), "net": net.ravel()}) \
        .to_csv(folder / "migration.csv", index=False, float_format="%.4f")

    # schools: 3 % of units per stage, places ≈ base-year catchment demand ---------------
    both_age = counts.sum(axis=1)                             # (Z, A)
    n_schools = max(1, int(round(SCHOOL_SHARE * units)))
    school_rows, school_sites = [], {}
    places_total, schools_count = {}, {}
    for stage, ((a0, a1), enrol, size, _radius, _cost) in STAGES.items():
        zone_demand = both_age[:, a0:a1 + 1].sum(axis=1) * enrol
        unit_demand = zone_demand[zone_of] * weight
        # most schools where the pupils are; some spread over the settled units (villages)
        n_spread = int(round(SPREAD_SCHOOLS * n_schools))
        pick = rng.choice(units, size=n_schools, replace=False,
                          p=unit_demand / unit_demand.sum())
        pick[:n_spread] = rng.choice(units, size=n_spread, replace=False)
        sxy = xy[pick] + rng.normal(0, 200, (n_schools, 2))
        lo = centre - SIDE / 2 + 10
        sxy = np.clip(sxy, lo, lo + SIDE - 20)
        catch = np.bincount(cKDTree(sxy).query(xy)[1], weights=unit_demand,
                            minlength=n_schools)
        noise = np.clip(rng.normal(1.0, 0.15, n_schools), 0.5, 1.6)
        places = np.maximum(size, np.rint(catch * noise / size) * size).astype(np.int64)
        slon, slat = _to_lonlat(sxy[:, 0], sxy[:, 1])
        ids = [f"{stage[0]}{i:05d}" for i in range(n_schools)]
        inclusive = np.where(rng.random(n_schools) < 0.85, "true", "") \
            if stage == "kindergarten" else np.full(n_schools, "")
        school_rows.append(pd.DataFrame({
            "school_id": ids, "name": [f"{stage.title()} school {i}" for i in range(n_schools)],
            "stage": stage, "lon": np.round(slon, 7), "lat": np.round(slat, 7),
            "places": places, "inclusive": inclusive}))
        school_sites[stage] = ids
        places_total[stage] = int(places.sum())
        schools_count[stage] = n_schools
    pd.concat(school_rows, ignore_index=True).to_csv(folder / "schools.csv", index=False)

    # key projects: one per 500 units ----------------------------------------------------
    n_projects = max(1, units // UNITS_PER_PROJECT)
    stage_names = list(STAGES)
    p_stage = rng.choice(len(stage_names), size=n_projects, p=PROJECT_STAGES)
    p_new = rng.random(n_projects) < 0.5
    p_year = rng.integers(2021, 2031, n_projects)
    new_at = xy[rng.choice(units, size=n_projects, p=mass / mass.sum())] \
        + rng.normal(0, 300, (n_projects, 2))
    lo = centre - SIDE / 2 + 10
    new_at = np.clip(new_at, lo, lo + SIDE - 20)
    plon, plat = _to_lonlat(new_at[:, 0], new_at[:, 1])
    rows = []
    for i in range(n_projects):
        stage = stage_names[p_stage[i]]
        _, _, size, _, cost = STAGES[stage]
        lo_c, hi_c = PROJECT_CLASSES[stage]
        classes = int(rng.integers(lo_c, hi_c + 1))
        if p_new[i]:
            row = {"kind": "new", "school_id": "", "lon": round(plon[i], 7),
                   "lat": round(plat[i], 7), "name": f"New {stage} school {i}"}
        else:
            sid = school_sites[stage][int(rng.integers(0, n_schools))]
            classes = max(1, classes // 2)
            row = {"kind": "expansion", "school_id": sid, "lon": None, "lat": None,
                   "name": f"Expansion of {sid}"}
        rows.append({"project_id": f"kp{i:04d}", **row, "stage": stage,
                     "places": classes * size, "open_year": int(p_year[i]),
                     "cost": classes * size * cost})
    pd.DataFrame(rows, columns=["project_id", "name", "kind", "stage", "school_id", "lon",
                                "lat", "places", "open_year", "cost"]) \
        .to_csv(folder / "projects.csv", index=False)

    stages_toml = "".join(
        f"\n[stages.{k}]\nages = [{a0}, {a1}]\nenrolment = {e}\nclass_size = {c}\n"
        f"radius_m = {r}\ncost_per_place = {p}\n"
        for k, ((a0, a1), e, c, r, p) in STAGES.items())
    (folder / "model.toml").write_text(MODEL_TOML.format(
        n_zones=zones, n_units=units, n_schools=n_schools * len(STAGES),
        n_projects=n_projects, seed=seed, base_year=BASE_YEAR, crs=CRS, open_age=OPEN_AGE,
        stages=stages_toml), encoding="utf-8")
    return ScaleModel(folder=folder, zones=zones, units=units,
                      population=float(counts.sum()), schools=schools_count,
                      places=places_total, projects=n_projects, seed=seed)


def write_scenario(path: str | Path, model_dir: str | Path, horizon: int = 2035,
                   name: str = "scale", n_units: int | None = None) -> Path:
    """A scenario file (key projects on time, optimal mode) for a model folder."""
    path = Path(path)
    rel = Path(model_dir).resolve().relative_to(path.parent.resolve()) \
        if Path(model_dir).resolve().is_relative_to(path.parent.resolve()) \
        else Path(model_dir).resolve()
    path.write_text(SCENARIO_TOML.format(name=name, model=rel.as_posix(), horizon=horizon,
                                         n_units=n_units if n_units is not None else "N"),
                    encoding="utf-8")
    return path


def write_scale_case(root: str | Path, units: int = 20_000, zones: int = 330,
                     population: float = 20e6, seed: int = 2020, horizon: int = 2035
                     ) -> tuple[ScaleModel, Path]:
    """``root/model/`` and ``root/scale.toml``: the model and its scenario."""
    root = Path(root)
    model = write_scale_model(root / "model", units=units, zones=zones,
                              population=population, seed=seed)
    scenario = write_scenario(root / "scale.toml", model.folder, horizon=horizon,
                              n_units=units)
    return model, scenario


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", help="folder to write (model/ and scale.toml inside)")
    ap.add_argument("--units", type=int, default=20_000)
    ap.add_argument("--zones", type=int, default=330)
    ap.add_argument("--population", type=float, default=20e6)
    ap.add_argument("--seed", type=int, default=2020)
    args = ap.parse_args()
    m, s = write_scale_case(args.out, args.units, args.zones, args.population, args.seed)
    print(f"wrote {m.folder} and {s}: {m.describe()}")
