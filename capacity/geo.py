"""Coordinates: lon/lat (or each row's own ``crs``) to the model CRS, vectorised, and the
distance from points to their zone or to the district.

A point table has ``lon`` and ``lat``: WGS84 longitude and latitude unless the row's ``crs``
cell names another CRS, whose x and y they then are (docs/model-format.md, "Tables").
"""
from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from pyproj.exceptions import CRSError

WGS84 = "EPSG:4326"


def to_model_xy(lon: np.ndarray, lat: np.ndarray, crs: str,
                source_crs: str = WGS84) -> tuple[np.ndarray, np.ndarray]:
    """Project coordinates to the model CRS (vectorised)."""
    t = pyproj.Transformer.from_crs(source_crs, crs, always_xy=True)
    return t.transform(np.asarray(lon, float), np.asarray(lat, float))


def row_crs(frame: pd.DataFrame) -> pd.Series:
    """Each row's source CRS: its ``crs`` cell, WGS84 when the column or the cell is empty."""
    if "crs" not in frame:
        return pd.Series(WGS84, index=frame.index)
    return frame["crs"].fillna(WGS84).replace("", WGS84)


@dataclass(frozen=True)
class Points:
    """Rows of a point table projected to the model CRS."""

    x: pd.Series             # model CRS; NaN where not projected
    y: pd.Series
    crs: pd.Series           # each row's source CRS
    unknown_crs: pd.Series   # selected rows whose CRS pyproj does not know
    not_lonlat: pd.Series    # selected WGS84 rows outside ±180° / ±90°

    @property
    def ok(self) -> pd.Series:
        """Rows with model coordinates."""
        return self.x.notna()


def project_points(frame: pd.DataFrame, crs: str, rows: pd.Series | None = None) -> Points:
    """Project the selected rows' lon/lat to ``crs``, one transformer per source CRS."""
    rows = pd.Series(True, index=frame.index) if rows is None else \
        rows.fillna(False).astype(bool)
    x = pd.Series(np.nan, index=frame.index)
    y = pd.Series(np.nan, index=frame.index)
    unknown = pd.Series(False, index=frame.index)
    not_lonlat = pd.Series(False, index=frame.index)
    source = row_crs(frame)
    for src in source[rows].unique():
        sel = rows & (source == src)
        try:
            t = pyproj.Transformer.from_crs(src, crs, always_xy=True)
        except CRSError:
            unknown |= sel
            continue
        if src == WGS84:
            bad = sel & ((frame["lon"].abs() > 180) | (frame["lat"].abs() > 90))
            not_lonlat |= bad
            sel = sel & ~bad
        px, py = t.transform(frame.loc[sel, "lon"].to_numpy(float),
                             frame.loc[sel, "lat"].to_numpy(float))
        x.loc[sel], y.loc[sel] = px, py
    return Points(x, y, source, unknown, not_lonlat)


def points_xy(frame: pd.DataFrame, crs: str, rows: pd.Series | None = None
              ) -> tuple[pd.Series, pd.Series]:
    """Model-CRS ``x``, ``y`` of the selected rows (NaN elsewhere and where not projectable)."""
    p = project_points(frame, crs, rows)
    return p.x, p.y


def distance_to_zones(x: np.ndarray, y: np.ndarray, zones: gpd.GeoDataFrame,
                      zone_ids: np.ndarray | None = None) -> np.ndarray:
    """Metres from each point to its zone (``zone_ids``; NaN for an unknown zone) or, without
    ``zone_ids``, to the nearest zone of the district. Zones are in the points' CRS."""
    pts = shapely.points(np.asarray(x, float), np.asarray(y, float))
    if zone_ids is None:
        return shapely.distance(pts, zones.geometry.union_all())
    geom = zones.set_index("zone_id").geometry
    geom = geom[~geom.index.duplicated()]  # a duplicated id (an input error): its first zone
    pos = geom.index.get_indexer(pd.Index(zone_ids))
    out = np.full(len(pts), np.nan)
    known = pos >= 0
    out[known] = shapely.distance(pts[known], geom.to_numpy()[pos[known]])
    return out


# ------------------------------------------------------------------ Chinese map datums
# GCJ-02 ("Mars coordinates", Amap/Tencent/Google China) and BD-09 (Baidu) are obfuscated
# WGS84. The forward WGS84 → GCJ-02 transform is the published one that circulates in
# open-source libraries (eviltransform, github.com/googollee/eviltransform; coordtransform,
# github.com/wandergis/coordtransform): Krasovsky 1940 constants a = 6378245 m,
# e² = 0.00669342162296594323 and polynomial/sine offsets of (lon − 105, lat − 35); points
# outside China are left as they are. GCJ-02 → WGS84 has no closed form: the forward
# transform is inverted by fixed-point iteration w ← w − (gcj(w) − g), converging to 1e-11°
# (sub-millimetre) in a few steps. BD-09 ↔ GCJ-02 is Baidu's closed form (x_pi = π·3000/180),
# as in the same libraries.
#: Coordinate datums a model's lon/lat may be given in (model.toml ``datum``).
DATUMS = ("wgs84", "gcj02", "bd09")
_A, _EE = 6378245.0, 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0


def _offsets(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The GCJ-02 offset polynomials (metres-ish) of ``x = lon − 105``, ``y = lat − 35``."""
    s = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
            + s + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
            + s + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    return dlon, dlat


def in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The libraries' rough box where the GCJ-02 offset applies (72.004–137.8347 E,
    0.8293–55.8271 N; coordtransform's ``out_of_china``)."""
    return (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)


def wgs84_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 → GCJ-02 (vectorised; points outside China and NaN pass through)."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    dlon, dlat = _offsets(lon - 105.0, lat - 35.0)
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sq = np.sqrt(magic)
    dlat = dlat * 180.0 / ((_A * (1.0 - _EE)) / (magic * sq) * np.pi)
    dlon = dlon * 180.0 / (_A / sq * np.cos(rad) * np.pi)
    inside = in_china(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def gcj02_to_wgs84(lon, lat, tol: float = 1e-11, max_iter: int = 30
                   ) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 → WGS84 by fixed-point iteration of the forward transform (to ``tol`` degrees)."""
    glon, glat = np.asarray(lon, float), np.asarray(lat, float)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(max_iter):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        dlon, dlat = flon - glon, flat - glat
        wlon, wlat = wlon - dlon, wlat - dlat
        if not np.any(np.abs(dlon) > tol) and not np.any(np.abs(dlat) > tol):
            break
    return wlon, wlat


def gcj02_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 → BD-09 (Baidu's closed form)."""
    x, y = np.asarray(lon, float), np.asarray(lat, float)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 → GCJ-02 (Baidu's closed-form inverse)."""
    x, y = np.asarray(lon, float) - 0.0065, np.asarray(lat, float) - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def to_wgs84(lon, lat, datum: str) -> tuple[np.ndarray, np.ndarray]:
    """Longitude/latitude in ``datum`` (one of :data:`DATUMS`) as WGS84."""
    if datum == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if datum == "bd09":
        return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))
    if datum != "wgs84":
        raise ValueError(f"datum must be one of {DATUMS}, not {datum!r}")
    return np.asarray(lon, float), np.asarray(lat, float)


def from_wgs84(lon, lat, datum: str) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 longitude/latitude in ``datum``: the inverse of :func:`to_wgs84` (BD-09 to
    Baidu's closed form, about 1e-6 degrees)."""
    if datum == "wgs84":
        return np.asarray(lon, float), np.asarray(lat, float)
    if datum not in DATUMS:
        raise ValueError(f"datum must be one of {DATUMS}, not {datum!r}")
    gcj = wgs84_to_gcj02(lon, lat)
    return gcj if datum == "gcj02" else gcj02_to_bd09(*gcj)


def model_lonlat(x, y, crs: str, datum: str) -> tuple[np.ndarray, np.ndarray]:
    """Model-CRS x/y as lon/lat in ``datum``: what a model or scenario table gives for a
    point without its own ``crs``."""
    lon, lat = to_model_xy(x, y, WGS84, source_crs=crs)
    return from_wgs84(lon, lat, datum)


def lonlat_to_wgs84(frame: pd.DataFrame, datum: str) -> pd.DataFrame:
    """A point table with the lon/lat of its rows without their own ``crs`` converted from
    ``datum`` to WGS84 (a copy; rows with a ``crs`` cell are left as they are)."""
    if datum == "wgs84" or not {"lon", "lat"} <= set(frame.columns):
        return frame
    out = frame.copy()
    sel = (row_crs(out) == WGS84).to_numpy()
    lon, lat = to_wgs84(pd.to_numeric(out["lon"], errors="coerce").to_numpy(float)[sel],
                        pd.to_numeric(out["lat"], errors="coerce").to_numpy(float)[sel], datum)
    for col, values in (("lon", lon), ("lat", lat)):
        full = pd.to_numeric(out[col], errors="coerce").to_numpy(float).copy()
        full[sel] = values
        out[col] = pd.Series(full, index=out.index).astype(frame[col].dtype)
    return out


def geometry_to_wgs84(geometry: gpd.GeoSeries, datum: str) -> gpd.GeoSeries:
    """Lon/lat geometries in ``datum`` as WGS84 (vertex by vertex)."""
    if datum == "wgs84":
        return geometry

    def convert(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(to_wgs84(xy[:, 0], xy[:, 1], datum))

    return gpd.GeoSeries(shapely.transform(geometry.to_numpy(), convert),
                         index=geometry.index, crs=geometry.crs)
