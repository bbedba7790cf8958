"""The bureau's current catchment map: polygons, one per school, read into a unit → school
map by location (docs/catchments.md).

The file is anything geopandas reads (GeoJSON, GeoPackage, Shapefile) with a ``school_id``
column and, optionally, a ``stage`` column (a polygon then serves that stage only, as in
the ``catchments.geojson`` that ``capacity catchments`` writes). Coordinates: the file's CRS when it has one (lon/lat or projected); without one,
lon/lat in the model's ``datum`` (WGS84, GCJ-02 or BD-09). A unit belongs to the polygon
holding its point (boundary included). Units in no polygon (**gaps**) and in several
(**overlaps**) are listed with their schools; an overlap goes to the first polygon in file
order.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import InputError, Problems
from ..geo import geometry_to_wgs84

if TYPE_CHECKING:
    from ..state import RunState


@dataclass
class CurrentMap:
    """Each unit's school id in the map ('' in no polygon), and the map's issues."""

    school_id: np.ndarray     # (U,) str
    issues: pd.DataFrame      # unit_id, zone_id, issue (gap | overlap), school_ids


def read_polygons(path: str | Path, crs: str, datum: str = "wgs84") -> gpd.GeoDataFrame:
    """school_id and polygons in the model's projected ``crs``; InputError naming the file,
    feature and column for what is wrong."""
    path = Path(path)
    if not path.exists():
        raise InputError.single(path, "file not found",
                                expected="a GeoJSON, GeoPackage or Shapefile of catchments")
    try:
        frame = gpd.read_file(path)
    except Exception as exc:   # pyogrio's errors vary by driver
        raise InputError.single(path, f"cannot be read as a map: {str(exc).splitlines()[0]}",
                                expected="a GeoJSON, GeoPackage or Shapefile") from None
    problems = Problems()
    if "school_id" not in frame:
        problems.add(path, "no school_id column", column="school_id",
                     expected="one polygon per school with its school_id (as schools.csv)")
        problems.raise_if_any()
    if not len(frame):
        raise InputError.single(path, "no polygons", expected="one polygon per school")
    ids = frame["school_id"].astype("string").str.strip()
    for i in np.flatnonzero(ids.isna() | (ids == "")):
        problems.add(path, "school_id is empty", row=int(i) + 1, column="school_id",
                     expected="the school's id (feature numbers from 1)")
    geom_type = frame.geometry.geom_type.fillna("")
    for i in np.flatnonzero(~geom_type.isin(["Polygon", "MultiPolygon"])):
        problems.add(path, f"geometry is {geom_type.iloc[i] or 'empty'}", row=int(i) + 1,
                     column="geometry", expected="a Polygon or MultiPolygon")
    problems.raise_if_any()
    if frame.crs is None:
        frame = frame.set_geometry(geometry_to_wgs84(frame.geometry.set_crs("EPSG:4326",
                                                                              allow_override=True),
                                                     datum))
    stage = frame["stage"].astype("string").fillna("").str.strip() if "stage" in frame \
        else pd.Series("", index=frame.index)
    out = gpd.GeoDataFrame({"school_id": ids.astype(str).to_numpy(),
                            "stage": stage.astype(str).to_numpy()},
                           geometry=frame.geometry.values, crs=frame.crs).to_crs(crs)
    return out


def assign_units(polygons: gpd.GeoDataFrame, units: pd.DataFrame, crs: str) -> CurrentMap:
    """Each unit (x, y in ``crs``) to the school of the polygon holding it."""
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(units["x"], units["y"]), crs=crs)
    hit = gpd.sjoin(pts, polygons.reset_index(drop=True), how="left", predicate="intersects")
    hit = hit.reset_index().rename(columns={"index": "unit"})
    hit = hit.sort_values(["unit", "index_right"], kind="stable")
    found = hit.dropna(subset=["index_right"])
    first = found.drop_duplicates("unit")
    school = np.full(len(units), "", dtype=object)
    school[first["unit"].to_numpy()] = first["school_id"].to_numpy()
    counts = found.groupby("unit")["school_id"].agg(lambda s: " ".join(pd.unique(s)))
    n = found.groupby("unit").size()
    rows = []
    uid, zid = units["unit_id"].to_numpy(), units["zone_id"].to_numpy()
    for u in np.flatnonzero(school == ""):
        rows.append((uid[u], zid[u], "gap", ""))
    for u in n.index[n.to_numpy() > 1]:
        rows.append((uid[u], zid[u], "overlap", counts[u]))
    issues = pd.DataFrame(rows, columns=["unit_id", "zone_id", "issue", "school_ids"])
    return CurrentMap(school.astype(str), issues)


def stage_map(current: CurrentMap, site_ids: np.ndarray) -> np.ndarray:
    """(U,) index of each unit's school among a stage's sites (-1: none of the stage)."""
    pos = {s: i for i, s in enumerate(site_ids)}
    return np.array([pos.get(s, -1) for s in current.school_id], np.int64)


def unknown_schools(polygons: gpd.GeoDataFrame, known: set[str], path: str | Path
                    ) -> None:
    """InputError for polygons whose school_id is no school of the model."""
    problems = Problems()
    for i, s in enumerate(polygons["school_id"]):
        if s not in known:
            problems.add(path, f"school_id {s!r} is no school of the model", row=i + 1,
                         column="school_id", expected="a school_id of schools.csv or a "
                         "project_id of a new school")
    problems.raise_if_any()


def read_current(state: "RunState", path: str | Path, stage: str | None = None
                 ) -> CurrentMap:
    """The map of ``path`` over a run's units — of ``stage`` only when given and the file
    has a ``stage`` column (a polygon with an empty stage serves every stage); InputError
    for unknown schools and for a map that holds no unit of the model (wrong CRS or
    datum, another district)."""
    polygons = read_polygons(path, state.model.crs, state.model.datum)
    unknown_schools(polygons, set(state.supply.sites["school_id"].astype(str)), path)
    whole = assign_units(polygons, state.units, state.model.crs)
    if not (whole.school_id != "").any():
        raise InputError.single(path, "no unit of the model lies in any polygon",
                                expected="polygons over the model's zones, in lon/lat of "
                                "the model's datum or with the file's CRS declared")
    if stage is None:
        return whole
    return assign_units(polygons[polygons["stage"].isin(["", stage])], state.units,
                        state.model.crs)
