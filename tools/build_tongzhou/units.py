"""units.csv: demand units, the centres of a square grid (UTM 50N) inside each zone.

Weight = exp(-d / L), d the distance to the zone seat, L per zone kind (assumptions.csv),
normalised to 1 per zone.  A zone too small for any grid centre gets one unit at its seat.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from .common import TO_UTM, TO_WGS, UTM, Sources, fmt, write_csv


def build_units(s: Sources, zones) -> pd.DataFrame:
    grid = s.param("unit_grid_m")
    decay = {"subdistrict": s.param("unit_decay_subdistrict_m"),
             "town": s.param("unit_decay_town_m"), "township": s.param("unit_decay_town_m")}
    tw = s.tw
    x0, y0, x1, y1 = zones.to_crs(UTM).total_bounds
    gx = np.arange(math.floor(x0 / grid) * grid + grid / 2, x1 + grid, grid)
    gy = np.arange(math.floor(y0 / grid) * grid + grid / 2, y1 + grid, grid)
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
        w = np.exp(-np.hypot(zx - sx, zy - sy) / decay[z.kind])
        w = w / w.sum()
        order = np.lexsort((zl, -zt))
        for k, i in enumerate(order):
            rows.append((f"{z.zone_id}-{k + 1:04d}", z.zone_id, zl[i], zt[i], float(w[i])))
    return pd.DataFrame(rows, columns=["unit_id", "zone_id", "lon", "lat", "weight"])


def write_units(u: pd.DataFrame, out: Path) -> None:
    u = u.copy()
    u["lon"] = u.lon.map(lambda v: fmt(v, 6))
    u["lat"] = u.lat.map(lambda v: fmt(v, 6))
    u["weight"] = u.weight.map(lambda v: f"{v:.17g}")
    u["flag"] = "estimate"
    write_csv(u, out / "units.csv")
