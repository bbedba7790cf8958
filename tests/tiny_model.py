"""Write a small, valid model folder (3 zones near Tongzhou) for tests to load or break."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box

OPEN_AGE = 60
ZONES = ["a", "b", "c"]

MODEL_TOML = """\
name = "Tiny test district"
base_year = 2020
crs = "EPSG:32650"

[demography]
open_age = 60
srb = 1.06
migration_timing = "even"

[files]
zones = "zones.geojson"
population = "population.csv"
fertility = "fertility.csv"
mortality = "mortality.csv"
migration = "migration.csv"
housing = "housing.csv"
units = "units.csv"
schools = "schools.csv"
projects = "projects.csv"

[stages.kindergarten]
ages = [3, 5]
enrolment = 0.9
class_size = 30
radius_m = 1500
cost_per_place = 80000

[stages.primary]
ages = [6, 11]
enrolment = 1.0
class_size = 45
radius_m = 2500
cost_per_place = 278000

[targets]
year = 2025
kindergarten_enrolment_rate = 0.90
inclusive_kindergarten_coverage = 0.90
nearby_enrolment_rate = 0.99
"""


def zone_boxes() -> list:
    # three 4 km × 4 km squares side by side, in UTM 50N, around Tongzhou
    x0, y0 = 470000.0, 4415000.0
    return [box(x0 + 4000 * i, y0, x0 + 4000 * (i + 1), y0 + 4000) for i in range(3)]


def to_lonlat(x, y):
    from pyproj import Transformer

    t = Transformer.from_crs("EPSG:32650", "EPSG:4326", always_xy=True)
    return t.transform(np.asarray(x, float), np.asarray(y, float))


def write_tiny_model(folder: Path) -> Path:
    """Write the tiny model into ``folder`` and return it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.toml").write_text(MODEL_TOML, encoding="utf-8")
    zones = gpd.GeoDataFrame({"zone_id": ZONES, "name": ["Zone A", "Zone B", "Zone C"]},
                             geometry=zone_boxes(), crs="EPSG:32650").to_crs("EPSG:4326")
    zones.to_file(folder / "zones.geojson", driver="GeoJSON")
    ages = np.arange(OPEN_AGE + 1)
    rows = [{"zone_id": z, "sex": s, "age": int(a), "count": 100 + 10 * i + (a % 7)}
            for i, z in enumerate(ZONES) for s in "FM" for a in ages]
    pd.DataFrame(rows).to_csv(folder / "population.csv", index=False)
    pd.DataFrame({"age": np.arange(14, 20), "asfr": [0.05, 0.1, 0.15, 0.15, 0.1, 0.05]}) \
        .to_csv(folder / "fertility.csv", index=False)
    sx = np.r_[0.995, np.full(OPEN_AGE - 1, 0.999), 0.9]
    pd.DataFrame([{"sex": s, "age": int(a), "sx": sx[a]} for s in "FM" for a in ages]) \
        .to_csv(folder / "mortality.csv", index=False)
    pd.DataFrame([{"zone_id": "a", "sex": "F", "age": 8, "net": 3.0},
                  {"zone_id": "b", "sex": "M", "age": 9, "net": -2.0}]) \
        .to_csv(folder / "migration.csv", index=False)
    hx, hy = to_lonlat([476000.0], [4417000.0])
    pd.DataFrame({"development_id": ["dev1"], "zone_id": ["b"], "lon": hx, "lat": hy,
                  "units": [200], "completion_year": [2022], "persons_per_unit": [2.8],
                  "ramp_years": [2]}).to_csv(folder / "housing.csv", index=False)
    ux, uy = np.meshgrid(np.arange(500, 4000, 1000.0), np.arange(500, 4000, 1000.0))
    unit_rows = []
    for i, z in enumerate(ZONES):
        xs, ys = 470000 + 4000 * i + ux.ravel(), 4415000 + uy.ravel()
        lon, lat = to_lonlat(xs, ys)
        for k, (lo, la) in enumerate(zip(lon, lat)):
            unit_rows.append({"unit_id": f"{z}{k:02d}", "zone_id": z, "lon": round(lo, 7),
                              "lat": round(la, 7), "weight": 1 / 16})
    pd.DataFrame(unit_rows).to_csv(folder / "units.csv", index=False, float_format="%.10g")
    sx_, sy_ = to_lonlat([472000.0, 476000.0, 472500.0], [4417000.0, 4417000.0, 4417500.0])
    pd.DataFrame({"school_id": ["k1", "p1", "p2"], "name": ["Kinder 1", "Primary 1",
                                                           "Primary 2"],
                  "stage": ["kindergarten", "primary", "primary"],
                  "lon": sx_, "lat": sy_, "places": [120, 300, 200],
                  "inclusive": ["true", "", ""]}).to_csv(folder / "schools.csv", index=False)
    px, py = to_lonlat([480000.0], [4417000.0])
    pd.DataFrame({"project_id": ["newp", "expp"], "name": ["New primary C", "Primary 1 wing"],
                  "kind": ["new", "expansion"], "stage": ["primary", "primary"],
                  "school_id": ["", "p1"], "lon": [px[0], None], "lat": [py[0], None],
                  "classes": [12, 4], "open_year": [2023, 2022], "cost": [3e7, 1e7]}) \
        .to_csv(folder / "projects.csv", index=False)
    return folder
