"""A tiny, hand-made run Result with the contract's tables, for report/map/budget tests.

Three square zones side by side near Tongzhou, two stages, two years, both modes. The numbers
are consistent (served + shortfall = demand, no school over places) so reports can be checked.
"""
from __future__ import annotations

import geopandas as gpd
import pandas as pd
from shapely.geometry import box

from capacity.result import Result

ZONES = ["z1", "z2", "z3"]
YEARS = [2020, 2021]
STAGES = {
    "primary": {"ages": [6, 11], "enrolment": 1.0, "class_size": 45, "radius_m": 2500,
                "cost_per_place": 278000},
    "junior": {"ages": [12, 14], "enrolment": 1.0, "class_size": 50, "radius_m": 4000,
               "cost_per_place": 383000},
}


def make_result(name: str = "synthetic") -> Result:
    zones = gpd.GeoDataFrame(
        {"zone_id": ZONES, "name": ["Zone one", "Zone two", "Zone three"]},
        geometry=[box(116.60 + 0.05 * i, 39.85, 116.65 + 0.05 * i, 39.90) for i in range(3)],
        crs="EPSG:4326")
    units = pd.DataFrame({"unit_id": ["u1", "u2", "u3"], "zone_id": ZONES,
                          "lon": [116.625, 116.675, 116.725], "lat": [39.875] * 3})
    population = pd.DataFrame([
        {"zone_id": z, "year": y, "sex": s, "age": a, "population": 10.0 + i}
        for i, z in enumerate(ZONES) for y in YEARS for s in "FM" for a in range(0, 18)])
    demand_rows, cap_rows, alloc_rows, school_rows, short_rows = [], [], [], [], []
    schools = {"primary": [("p1", "Primary one", 116.625, 39.875, 100)],
               "junior": [("j1", "Junior one", 116.675, 39.875, 40)]}
    for y in YEARS:
        extra = 0 if y == 2020 else 20
        for stage, lst in schools.items():
            for sid, nm, lon, lat, pl in lst:
                places = pl + (extra if stage == "primary" else 0)
                cap_rows.append({"school_id": sid, "name": nm, "year": y, "stage": stage,
                                 "places": places, "lon": lon, "lat": lat})
            dem = {"z1": 50, "z2": 40, "z3": 30} if stage == "primary" else \
                {"z1": 20, "z2": 20, "z3": 15}
            for z, d in dem.items():
                demand_rows.append({"zone_id": z, "year": y, "stage": stage, "pupils": float(d)})
            places = cap_rows[-1]["places"]
            for mode in ("catchment", "optimal"):
                # z3 is out of reach; z1, z2 share the one school up to its places
                reach = dem["z1"] + dem["z2"]
                served_total = min(places, reach)
                s1 = round(served_total * dem["z1"] / reach)
                served = {"z1": s1, "z2": served_total - s1, "z3": 0}
                for z, u in zip(ZONES, ["u1", "u2", "u3"]):
                    if served[z]:
                        alloc_rows.append({"unit_id": u, "school_id": lst[0][0], "year": y,
                                           "stage": stage, "mode": mode, "pupils": served[z],
                                           "distance_m": 0.0 if z == "z1" else 4270.0})
                    if dem[z] - served[z]:
                        alloc_rows.append({"unit_id": u, "school_id": None, "year": y,
                                           "stage": stage, "mode": mode,
                                           "pupils": dem[z] - served[z], "distance_m": None})
                    short_rows.append({"zone_id": z, "year": y, "stage": stage, "mode": mode,
                                       "demand": float(dem[z]), "served": served[z],
                                       "shortfall": dem[z] - served[z],
                                       "out_of_reach": dem[z] if z == "z3" else 0})
                school_rows.append({"school_id": lst[0][0], "year": y, "stage": stage,
                                    "mode": mode, "places": places, "pupils": served_total,
                                    "utilisation": served_total / places})
    shortfall = pd.DataFrame(short_rows)
    capacity = pd.DataFrame(cap_rows)
    summary = (shortfall.groupby(["year", "stage", "mode"], as_index=False)
               [["demand", "served", "shortfall", "out_of_reach"]].sum())
    places = capacity.groupby(["year", "stage"], as_index=False)["places"].sum()
    summary = summary.merge(places, on=["year", "stage"])[
        ["year", "stage", "mode", "demand", "places", "served", "shortfall", "out_of_reach"]]
    indicators = pd.DataFrame([
        {"year": y, "indicator": ind, "value": v, "target": t, "met": v > t if t else None}
        for y in YEARS for ind, v, t in [("nearby_enrolment_rate", 0.8, 0.99),
                                         ("primary_enrolment_rate", 0.7, None)]])
    projects = pd.DataFrame([{"project_id": "new-p", "name": "New primary", "kind": "new",
                              "stage": "primary", "school_id": "new-p", "places": 20,
                              "open_year": 2021, "cost": 5e6, "lon": 116.63, "lat": 39.87}])
    components = pd.DataFrame([{"zone_id": z, "year": y, "births": 5.0, "deaths": 2.0,
                                "net_migration": 1.0} for z in ZONES for y in YEARS[1:]])
    tables = {"population": population, "demand": pd.DataFrame(demand_rows), "units": units,
              "capacity": capacity, "allocation": pd.DataFrame(alloc_rows),
              "schools": pd.DataFrame(school_rows), "shortfall": shortfall,
              "summary": summary, "indicators": indicators, "projects": projects,
              "components": components}
    manifest = {"scenario": name, "model": "synthetic", "base_year": 2020, "horizon": 2021,
                "allocation_mode": "optimal", "stages": STAGES}
    return Result.from_tables(name, tables, zones, manifest)
