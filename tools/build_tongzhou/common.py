"""Paths, constants, the source tables and small helpers shared by the build modules."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer
from shapely.geometry import Point

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "models" / "tongzhou" / "sources"

BASE_YEAR = 2020
OPEN_AGE = 100
AGES = np.arange(OPEN_AGE + 1)
SEXES = ("F", "M")          # sex index 0 = F, 1 = M, as in capacity.demography
UTM = "EPSG:32650"
TO_UTM = Transformer.from_crs("EPSG:4326", UTM, always_xy=True)
TO_WGS = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)


# ----------------------------------------------------------------------------------------
# sources
# ----------------------------------------------------------------------------------------
class Sources:
    """The tables of ``models/tongzhou/sources`` (see SOURCES.md), read once."""

    def __init__(self, src: Path = SRC):
        self.townships = pd.read_csv(src / "townships.csv", dtype={"division_code": str})
        self.age = pd.read_csv(src / "district_age_structure.csv")
        self.edu = pd.read_csv(src / "education_stats.csv")
        self.totals = pd.read_csv(src / "district_totals.csv")
        self.births = pd.read_csv(src / "births_fertility.csv")
        self.life = pd.read_csv(src / "life_table.csv")
        self.kp = pd.read_csv(src / "key_projects.csv")
        self.boundary = gpd.read_file(src / "tongzhou_boundary_gcj02.geojson")
        # the build's own parameter tables (each row with flag, source_id, basis)
        self.assumptions = pd.read_csv(src / "assumptions.csv").set_index("parameter")
        self.stage_params = pd.read_csv(src / "stage_parameters.csv", dtype={"value": str})
        self.mortality_model = pd.read_csv(src / "mortality_model.csv").set_index("sex")
        self.zone_estimates = pd.read_csv(src / "zone_estimates.csv")
        self.housing_pipeline = pd.read_csv(src / "housing_pipeline.csv")
        self.real_schools = pd.read_csv(src / "real_schools.csv", dtype=str, keep_default_na=False)
        self.plan_projects = pd.read_csv(src / "plan_projects.csv", dtype=str,
                                         keep_default_na=False)
        self.tw = self.townships.set_index("zone_id")

    def total(self, indicator: str, year: int) -> int:
        """A district_totals.csv value (Tongzhou)."""
        t = self.totals
        return int(t.loc[(t.indicator == indicator) & (t.year == year), "value"].iloc[0])

    def param(self, name: str) -> float:
        """A scalar of assumptions.csv."""
        return float(self.assumptions.loc[name, "value"])

    def indicator(self, table: str, area_en: str, year: int, indicator: str,
                  sex: str | None = None) -> float:
        """One value of births_fertility.csv (``table="births"``) or life_table.csv
        (``"life"``)."""
        t = getattr(self, table)
        m = (t.area_en == area_en) & (t.year == year) & (t.indicator == indicator)
        if sex is not None:
            m &= t.sex == sex
        v = t.loc[m, "value"]
        assert len(v) == 1, (table, area_en, year, indicator, sex)
        return float(v.iloc[0])

    def stages(self) -> dict[str, dict]:
        """Stage parameters in file order: {stage: {parameter: value}} (numbers as int/float)."""
        out: dict[str, dict] = {}
        for r in self.stage_params.itertuples():
            v: object = r.value
            if r.parameter != "code":
                v = float(r.value) if "." in r.value else int(r.value)
            out.setdefault(r.stage, {})[r.parameter] = v
        for p in out.values():
            p["ages"] = (p["age_from"], p["age_to"])
        return out


# ----------------------------------------------------------------------------------------
# formatting and rounding (fixed formats -> byte-stable output)
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


# ----------------------------------------------------------------------------------------
# points in zones
# ----------------------------------------------------------------------------------------
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


def place_at_seat_offset(zones, tw, zone_id, dx, dy):
    """A site ``dx``, ``dy`` km east/north of the zone's seat, inside the zone."""
    zg = zones.set_index("zone_id").geometry
    return place_inside(zg[zone_id], tw.loc[zone_id, "seat_lon"], tw.loc[zone_id, "seat_lat"],
                        float(dx), float(dy))


def zone_of(zones, lon, lat):
    hits = [z.zone_id for z in zones.itertuples() if point_in_zone(z.geometry, lon, lat)]
    assert len(hits) == 1, (lon, lat, hits)
    return hits[0]
