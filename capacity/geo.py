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
