"""Hand-built models whose numbers can be worked out on paper.

Every zone is a 1 km square (model CRS EPSG:32650, offsets from ``X0, Y0``) holding one
demand unit at its centre (weight 1). Nobody dies (``sx = 1``), nobody is born (``asfr = 0``)
and nobody migrates, so a cohort only ages: ``count`` people of each sex at age ``a`` in the
base year are at age ``a + k`` in year ``base + k``. One stage, ``primary`` (ages 6–11,
enrolment 1, compulsory), so a zone's pupils in year ``base + k`` are
``2 × Σ count[a]`` over the base ages ``a`` with ``6 ≤ a + k ≤ 11``.
"""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box

from tiny_model import to_lonlat

X0, Y0 = 470000.0, 4415000.0
BASE, OPEN_AGE = 2020, 50
STAGE_AGES = (6, 11)


def lonlat(x: float, y: float) -> tuple[float, float]:
    """WGS84 of a point given as offsets (m) from ``X0, Y0``."""
    lon, lat = to_lonlat([X0 + x], [Y0 + y])
    return float(lon[0]), float(lat[0])


def pupils(ages: dict[int, int], year: int) -> int:
    """Primary pupils of a zone in ``year`` (``ages``: base-year count per sex by age)."""
    k = year - BASE
    return 2 * sum(n for a, n in ages.items() if STAGE_AGES[0] <= a + k <= STAGE_AGES[1])


def write_hand_model(folder: Path, zones: dict[str, tuple[float, float]],
                     ages: dict[str, dict[int, int]], *, class_size: int = 10,
                     radius_m: float = 600.0, cost_per_place: float = 100000.0,
                     schools: list[dict] = (), projects: list[dict] = (),
                     sites: list[dict] = (), housing: list[dict] = (),
                     extra_toml: str = "") -> Path:
    """Write a model: ``zones`` maps zone id → centre (m offsets; the zone is the 1 km square
    around it); ``ages`` maps zone id → {base age: count per sex} (other ages 0). Schools,
    projects, sites and housing rows give ``x``, ``y`` offsets instead of lon/lat."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = {"zones": "zones.geojson", "population": "population.csv",
             "fertility": "fertility.csv", "mortality": "mortality.csv"}
    ids = list(zones)
    geoms = [box(X0 + x - 500, Y0 + y - 500, X0 + x + 500, Y0 + y + 500)
             for x, y in zones.values()]
    gpd.GeoDataFrame({"zone_id": ids, "name": [f"Zone {z}" for z in ids]}, geometry=geoms,
                     crs="EPSG:32650").to_crs("EPSG:4326").to_file(folder / files["zones"],
                                                                   driver="GeoJSON")
    pd.DataFrame([{"zone_id": z, "sex": s, "age": a, "count": ages.get(z, {}).get(a, 0)}
                  for z in ids for s in "FM" for a in range(OPEN_AGE + 1)]) \
        .to_csv(folder / files["population"], index=False)
    pd.DataFrame({"age": np.arange(15, 50), "asfr": 0.0}).to_csv(folder / files["fertility"],
                                                                 index=False)
    pd.DataFrame([{"sex": s, "age": a, "sx": 1.0} for s in "FM"
                  for a in range(OPEN_AGE + 1)]).to_csv(folder / files["mortality"], index=False)
    units = []
    for z, (x, y) in zones.items():
        lon, lat = lonlat(x, y)
        units.append({"unit_id": f"u-{z}", "zone_id": z, "lon": lon, "lat": lat, "weight": 1.0})
    files["units"] = "units.csv"
    pd.DataFrame(units).to_csv(folder / files["units"], index=False, float_format="%.12g")
    for name, rows in (("schools", schools), ("projects", projects), ("sites", sites),
                       ("housing", housing)):
        if rows:
            frame = pd.DataFrame([_placed(r) for r in rows])
            files[name] = f"{name}.csv"
            frame.to_csv(folder / files[name], index=False, float_format="%.12g")
    listed = "\n".join(f'{k} = "{v}"' for k, v in files.items())
    (folder / "model.toml").write_text(f"""\
name = "Hand model"
base_year = {BASE}
crs = "EPSG:32650"

[demography]
open_age = {OPEN_AGE}
srb = 1.06
migration_timing = "even"

[files]
{listed}

[stages.primary]
ages = [{STAGE_AGES[0]}, {STAGE_AGES[1]}]
enrolment = 1.0
class_size = {class_size}
radius_m = {radius_m}
cost_per_place = {cost_per_place}
compulsory = true
{extra_toml}""", encoding="utf-8")
    return folder


def _placed(row: dict) -> dict:
    """A row with ``x``, ``y`` offsets turned into lon, lat (WGS84)."""
    row = dict(row)
    if "x" in row:
        x, y = row.pop("x"), row.pop("y")
        row["lon"], row["lat"] = (np.nan, np.nan) if x is None else lonlat(x, y)
    return row


def write_scenario(path: Path, model: str, horizon: int, extra: str = "") -> Path:
    """A scenario file ``path`` (its stem is its name) for the model folder ``model``."""
    path.write_text(f'name = "{path.stem}"\nmodel = "{model}"\nhorizon = {horizon}\n{extra}',
                    encoding="utf-8")
    return path
