"""zones.geojson: Voronoi cells around the township seats, clipped to the district polygon.

The district polygon of the sources is in GCJ-02; it is converted to WGS84 by inverting the
published WGS84 -> GCJ-02 forward transform (Krasovsky 1940 ellipsoid constants and the
polynomial/sine offset functions that circulate in open-source map libraries such as
eviltransform / coordtransform).  GCJ-02 -> WGS84 has no closed form; the forward transform
is inverted by fixed-point iteration ``w <- w - (fwd(w) - g)``, which converges to ~1e-10 deg
(~0.01 mm) in a few steps because the offset varies slowly in space.
"""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import MultiPoint, Point, box

from capacity import geo

from .common import TO_UTM, TO_WGS, UTM, Sources

# The published WGS84 <-> GCJ-02 transform lives in the product (capacity/geo.py, where
# models declaring `datum = "gcj02"` use it too); the build reuses it.
wgs84_to_gcj02, gcj02_to_wgs84 = geo.wgs84_to_gcj02, geo.gcj02_to_wgs84


def _round_geom(g, nd=7):
    return shapely.transform(g, lambda xy: np.round(xy, nd))


def build_zones(s: Sources):
    """Voronoi cells around the township seats (in UTM 50N), clipped to the district
    boundary converted from GCJ-02 to WGS84."""
    g = s.boundary.geometry.iloc[0]
    district = shapely.transform(
        g, lambda xy: np.column_stack(gcj02_to_wgs84(xy[:, 0], xy[:, 1])))
    district = _round_geom(district)
    if not district.is_valid:
        district = shapely.make_valid(district)
    tw = s.townships.sort_values("division_code").reset_index(drop=True)
    sx, sy = TO_UTM.transform(tw.seat_lon.to_numpy(), tw.seat_lat.to_numpy())
    seats_utm = [Point(x, y) for x, y in zip(sx, sy)]
    dx0, dy0, dx1, dy1 = shapely.transform(district, lambda xy: np.column_stack(
        TO_UTM.transform(xy[:, 0], xy[:, 1]))).bounds
    env = box(dx0 - 50000, dy0 - 50000, dx1 + 50000, dy1 + 50000)
    cells = list(shapely.voronoi_polygons(MultiPoint(seats_utm), extend_to=env).geoms)
    rows = []
    for i, z in tw.iterrows():
        cell = [c for c in cells if c.contains(seats_utm[i])]
        assert len(cell) == 1, z.zone_id
        cw = shapely.transform(
            cell[0], lambda xy: np.column_stack(TO_WGS.transform(xy[:, 0], xy[:, 1])))
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
    zones["area_km2"] = (zones.to_crs(UTM).area / 1e6).round(3)
    return zones, district


def rural_radius_scale(s: Sources, zones) -> np.ndarray:
    """radius_scale per zone: ``rural_radius_scale`` for towns and the township of at least
    ``rural_min_km2`` (the rural towns; Liyuan and Yongshun are built-up), else 1."""
    rural = (zones["kind"].isin(["town", "township"])
             & (zones["area_km2"] >= s.param("rural_min_km2")))
    return np.where(rural, s.param("rural_radius_scale"), 1.0)


def write_zones(s: Sources, zones, out: Path) -> None:
    """zones.geojson (written with geopandas/pyogrio; CRS EPSG:4326 declared in the file)."""
    zout = zones[["zone_id", "name", "name_zh", "kind", "division_code", "area_km2", "basis",
                  "geometry"]].copy()
    zout.insert(7, "radius_scale", rural_radius_scale(s, zones))
    path = out / "zones.geojson"
    if path.exists():
        path.unlink()
    zout.to_file(path, driver="GeoJSON", engine="pyogrio", layer="zones")
