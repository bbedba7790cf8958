"""Catchments of a run and the per-zone and per-school figures both maps show.

Maps draw in the model's projected CRS (``manifest["crs"]``, default EPSG:32650).
Catchments are derived from the assignment: every demand unit gets the Voronoi cell of its
point (clipped to the district) and the cell goes to the school that serves most of the
unit's pupils (:func:`dominant_school`); cells are dissolved per school. A unit none of
whose pupils is served is drawn as "not served".

The run's rules come from the :class:`~capacity.result.Result`: children of a stage's ages
(``Result.children``), the stage's ages (``Result.stage_ages``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..names import display_names
from ..result import Result
from .flows import dominant, result_flows
from . import labels as L

DEFAULT_CRS = "EPSG:32650"
#: Utilisation classes of school symbols (upper bounds) and their colours (light → dark;
#: labels: text/<lang>.toml [maps] util_*),
#: and the colour of key projects: the legend both maps share.
UTIL_BINS = [0.0, 0.7, 0.9, 0.99, np.inf]
UTIL_COLOURS = ["#deebf7", "#9ecae1", "#4292c6", "#08306b"]
NEW_COLOUR = "#e7298a"


# --------------------------------------------------------------------------- data helpers
def map_crs(result: Result) -> str:
    """The projected CRS the maps draw in (the model's, else :data:`DEFAULT_CRS`)."""
    return result.manifest.get("crs") or DEFAULT_CRS


def run_table(result: Result, name: str) -> pd.DataFrame:
    """A table of the run (empty when the run does not have it)."""
    return result.tables.get(name, pd.DataFrame())


def run_years(result: Result) -> list[int]:
    """Every year of the run's allocation outputs (summary, else capacity, else demand)."""
    for name in ("summary", "capacity", "demand", "shortfall"):
        frame = run_table(result, name)
        if "year" in frame and len(frame):
            return sorted(int(y) for y in frame["year"].dropna().unique())
    return []


def run_stages(result: Result) -> list[str]:
    """Stages in manifest order, plus any other stage found in the summary table."""
    stages = list(result.stages)
    summary = run_table(result, "summary")
    if "stage" in summary:
        stages += [s for s in pd.unique(summary["stage"].dropna()) if s not in stages]
    return stages


def run_modes(result: Result) -> list[str]:
    """Allocation modes in the summary table (catchment, optimal, then others), else the
    scenario's."""
    summary = run_table(result, "summary")
    found = list(pd.unique(summary["mode"].dropna())) if "mode" in summary else []
    order = [m for m in ("catchment", "optimal") if m in found]
    return order + [m for m in found if m not in order] or [result.mode]


def pick_mode(result: Result, mode: str | None) -> str:
    """``mode`` (default the scenario's) if the run has it, else the run's first mode."""
    modes = run_modes(result)
    mode = mode or result.mode
    return mode if mode in modes else modes[0]


def result_lang(result: Result) -> str:
    """The language of a run's deliverables: its manifest's ``lang`` (``--lang``, else the
    scenario's, else the model's [report] lang), else English."""
    lang = result.manifest.get("lang") or "en"
    return lang if lang in L.LANGS else "en"


def stage_label(result: Result, stage: str, lang: str | None = None) -> str:
    """'Primary (ages 6–11)' / '小学（6–11 岁）'."""
    lang = lang or result_lang(result)
    ages = result.stage_ages(stage)
    name = L.stage_label(stage, lang)
    if name == stage:
        name = str(stage).replace("_", " ").capitalize()
    return L.text("report", "stage_ages", lang, stage=name, first=ages[0], last=ages[1]) \
        if ages else name


def names_of(result: Result, kind: str, lang: str | None = None) -> dict[str, str]:
    """id → name to show for zones, schools or projects (``kind``): in Chinese the model's
    ``name_zh`` where given, else ``name``, else the id (:func:`capacity.names.display_names`)."""
    lang = lang or result_lang(result)
    table = run_table(result, "names")
    if kind == "zone" and not (len(table) and (table["kind"] == "zone").any()):
        z = result.zones
        table = pd.DataFrame({"kind": "zone", "id": z["zone_id"].astype(str),
                              "name": z["name"] if "name" in z else z["zone_id"],
                              "name_zh": z["name_zh"] if "name_zh" in z else pd.NA})
    elif not len(table):
        src = run_table(result, "capacity" if kind == "school" else "projects")
        id_col = "school_id" if kind == "school" else "project_id"
        if src.empty:
            return {}
        table = pd.DataFrame({"kind": kind, "id": src[id_col].astype(str),
                              "name": src["name"]}).drop_duplicates("id")
    return display_names(table, kind, lang)


def zone_stats(result: Result, stage: str, year: int | None = None,
               mode: str | None = None) -> pd.DataFrame:
    """Per zone (and year): children, demand, shortfall, out_of_reach, per_1000."""
    mode = pick_mode(result, mode)
    short = run_table(result, "shortfall")
    short = short[(short["stage"] == stage) & (short["mode"] == mode)] if len(short) else \
        pd.DataFrame(columns=["zone_id", "year", "demand", "shortfall", "out_of_reach"])
    if year is not None:
        short = short[short["year"] == year]
    short = short[["zone_id", "year", "demand", "shortfall", "out_of_reach"]].copy()
    short["zone_id"] = short["zone_id"].astype(str)
    kids = result.children(stage)
    out = short.merge(kids, on=["zone_id", "year"], how="left")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["per_1000"] = np.where(out["children"] > 0,
                                   1000 * out["shortfall"] / out["children"], np.nan)
    return out


# ----------------------------------------------------------------------- geometry helpers
@dataclass
class MapGeometry:
    """Projected zones, district outline, unit points and unit Voronoi cells."""

    crs: str
    zones: gpd.GeoDataFrame
    district: Any
    units: gpd.GeoDataFrame  # unit_id, zone_id, geometry (points), cell (polygons)

    def bounds(self) -> tuple[float, float, float, float]:
        """The district's bounds in the map CRS (a 1 km square when there is none)."""
        if self.district is not None and not shapely.is_empty(self.district):
            return tuple(float(v) for v in shapely.bounds(self.district))
        return 0.0, 0.0, 1000.0, 1000.0


def map_geometry(result: Result) -> MapGeometry:
    """Build (once per result) the projected geometry the maps need."""
    key = (id(result.zones), id(result.tables.get("units")), map_crs(result))
    cached = result.__dict__.get("_map_geometry")
    if cached and cached[0] == key:
        return cached[1]
    crs = map_crs(result)
    zones = result.zones.to_crs(crs) if result.zones.crs else result.zones.set_crs(crs)
    zones = zones.assign(zone_id=zones["zone_id"].astype(str),
                         geometry=_polygonal(shapely.make_valid(zones.geometry.values)))
    if "name" not in zones:
        zones["name"] = zones["zone_id"]
    # snapping to a 1 m grid closes slivers between neighbouring zones in the outline
    district = shapely.union_all(zones.geometry.values, grid_size=1.0) if len(zones) else None
    units = run_table(result, "units")
    pts = gpd.GeoSeries(gpd.points_from_xy(units.get("lon", []), units.get("lat", [])),
                        crs="EPSG:4326").to_crs(crs)
    cells = voronoi_cells(shapely.get_coordinates(pts.values), district)
    ugdf = gpd.GeoDataFrame({"unit_id": units.get("unit_id", pd.Series(dtype=str))
                             .astype(str).values,
                             "zone_id": units.get("zone_id", pd.Series(dtype=str))
                             .astype(str).values,
                             "cell": cells}, geometry=pts.values, crs=crs)
    geo = MapGeometry(crs, zones, district, ugdf)
    result.__dict__["_map_geometry"] = (key, geo)
    return geo


def voronoi_cells(xy: np.ndarray, district: Any) -> np.ndarray:
    """Voronoi cell of every point, clipped to the district (shared by duplicate points)."""
    if len(xy) == 0:
        return np.array([], dtype=object)
    uniq, inverse = np.unique(np.round(xy, 1), axis=0, return_inverse=True)
    frame = shapely.box(*shapely.bounds(shapely.multipoints(uniq)))
    if district is not None:
        frame = shapely.union(frame, shapely.envelope(district))
    frame = shapely.buffer(shapely.envelope(frame), 1000.0)
    if len(uniq) == 1:
        cells = np.array([frame])
    else:
        vor = shapely.voronoi_polygons(shapely.multipoints(uniq), extend_to=frame, ordered=True)
        cells = shapely.get_parts(vor)
    if district is not None:
        cells = _polygonal(clip_cells(cells, district))
    return cells[np.asarray(inverse).ravel()]


#: Cells inside the district whose overlay is computed anyway, to check the shortcut.
CLIP_CHECKS = 16


def clip_cells(cells: np.ndarray, district: Any) -> np.ndarray:
    """``shapely.intersection(cells, district)``, computed only for the cells the
    district's outline crosses.

    A cell inside the district is its own intersection, which GEOS's overlay returns
    with the ring starting at the cell's second vertex; such cells are rotated the same
    way (so the output, down to the order of vertices, is the overlay's). The shortcut is
    checked against the overlay on the first :data:`CLIP_CHECKS` inside cells and not
    used if any differs.
    """
    shapely.prepare(district)
    inside = shapely.contains_properly(district, cells) & \
        (shapely.get_type_id(cells) == 3) & (shapely.get_num_interior_rings(cells) == 0)
    out = np.empty(len(cells), dtype=object)
    out[~inside] = shapely.intersection(cells[~inside], district)
    idx = np.flatnonzero(inside)
    if len(idx):
        rotated = _second_vertex_first(cells[idx])
        check = idx[:CLIP_CHECKS]
        if shapely.equals_exact(rotated[:len(check)], shapely.intersection(cells[check],
                                                                           district),
                                tolerance=0).all():
            out[idx] = rotated
        else:
            out[idx] = shapely.intersection(cells[idx], district)
    return out


def _second_vertex_first(polygons: np.ndarray) -> np.ndarray:
    """Polygons without holes, each ring starting at its second vertex."""
    coords, which = shapely.get_coordinates(polygons, return_index=True)   # closed rings
    counts = np.bincount(which, minlength=len(polygons))
    start = np.repeat(np.cumsum(counts) - counts, counts)
    pos = np.arange(len(coords)) - start
    last = np.repeat(counts - 1, counts)
    src = start + np.where(pos < last, pos + 1, 1)
    return shapely.polygons(shapely.linearrings(coords[src], indices=which))


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal part of geometry collections (clipping can add lines)."""
    geoms = np.asarray(geoms, dtype=object).copy()
    mixed = np.flatnonzero(shapely.get_type_id(geoms) == 7)
    if len(mixed):
        parts, idx = shapely.get_parts(geoms[mixed], return_index=True)
        parts, sub = shapely.get_parts(parts, return_index=True)
        idx = idx[sub]
        poly = shapely.get_type_id(parts) == 3
        merged = pd.Series(parts[poly]).groupby(idx[poly]).agg(
            lambda g: shapely.union_all(g.to_numpy()))
        geoms[mixed] = shapely.Polygon()
        geoms[mixed[merged.index.to_numpy()]] = merged.to_numpy()
    return geoms


def dominant_school(result: Result, stage: str, year: int | None, mode: str | None
                    ) -> pd.DataFrame:
    """Per unit with demand: the school serving most of its pupils ('' when none served;
    the first school id in text order on ties), in the allocation table's order.

    Columns year, mode, unit_id, school_id; ``year``/``mode`` None keeps every one.
    """
    alloc = run_table(result, "allocation")
    cols = ["year", "mode", "unit_id", "school_id"]
    if alloc.empty:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in cols})
    flows = result_flows(result)
    years, mode_idx, unit_idx, school_idx = dominant(flows, stage, year, mode)
    school = np.where(school_idx >= 0, flows.schools[np.maximum(school_idx, 0)]
                      if len(flows.schools) else "", "")
    return pd.DataFrame({"year": years, "mode": flows.modes[mode_idx],
                         "unit_id": flows.units[unit_idx], "school_id": school})


def catchments(result: Result, stage: str, year: int, mode: str | None = None
               ) -> gpd.GeoDataFrame:
    """Catchment polygons per school (school_id '' = area not served), projected CRS."""
    mode = pick_mode(result, mode)
    geo = map_geometry(result)
    dom = dominant_school(result, stage, year, mode)
    cells = geo.units[["unit_id", "cell"]].merge(dom, on="unit_id")
    if cells.empty:
        return gpd.GeoDataFrame({"school_id": []}, geometry=[], crs=geo.crs)
    ids, group = np.unique(cells["school_id"].to_numpy(str), return_inverse=True)
    geoms, order = cells["cell"].to_numpy(), np.argsort(group, kind="stable")
    ends = np.searchsorted(group[order], np.arange(len(ids) + 1))
    merged = [merge_cells(geoms[order[a:b]]) for a, b in zip(ends[:-1], ends[1:])]
    return gpd.GeoDataFrame({"school_id": ids.astype(object)}, geometry=merged, crs=geo.crs)


def merge_cells(cells: np.ndarray) -> Any:
    """The union of Voronoi cells (units at one point share one cell, counted once).

    Cells of one diagram tile the plane edge to edge, so their coverage union is exact and
    an order of magnitude faster than a general union; should it not be (invalid, or its
    area not the cells' total), the general union is used instead.
    """
    cells = np.array(list({id(c): c for c in cells}.values()), dtype=object)
    union = shapely.coverage_union_all(cells)
    total = float(shapely.area(cells).sum())
    if shapely.is_valid(union) and abs(float(shapely.area(union)) - total) <= 1e-9 * total:
        return union
    return shapely.union_all(cells)


def to_points(frame: pd.DataFrame, crs: str) -> gpd.GeoSeries:
    """Points of a frame's lon/lat (WGS84) in ``crs``."""
    return gpd.GeoSeries(gpd.points_from_xy(frame["lon"], frame["lat"]),
                         index=frame.index, crs="EPSG:4326").to_crs(crs)


def school_stats(result: Result, stage: str, year: int | None, mode: str | None = None
                 ) -> pd.DataFrame:
    """Schools open in ``year`` (every year when None): school_id, name, year, places,
    pupils, utilisation, lon, lat."""
    mode = pick_mode(result, mode)
    cols = ["school_id", "name", "year", "places", "lon", "lat"]
    cap = run_table(result, "capacity")
    if cap.empty:
        return pd.DataFrame(columns=cols + ["pupils", "utilisation"])
    keep = cap["stage"] == stage
    if year is not None:
        keep &= cap["year"] == year
    cap = cap.loc[keep, cols].assign(school_id=lambda d: d["school_id"].astype(str))
    use = run_table(result, "schools")
    if len(use):
        keep = (use["stage"] == stage) & (use["mode"] == mode)
        if year is not None:
            keep &= use["year"] == year
        use = use.loc[keep, ["school_id", "year", "pupils", "utilisation"]].assign(
            school_id=lambda d: d["school_id"].astype(str))
        cap = cap.merge(use, on=["school_id", "year"], how="left")
    else:
        cap = cap.assign(pupils=np.nan, utilisation=np.nan)
    return cap.reset_index(drop=True)


def open_projects(result: Result, stage: str, year: int | None = None) -> pd.DataFrame:
    """Key projects of the stage opening by ``year`` (all when None), with a location.

    An expansion without its own coordinates takes its school's (capacity table).
    """
    proj = run_table(result, "projects")
    cols = ["project_id", "name", "kind", "stage", "school_id", "places", "open_year",
            "cost", "lon", "lat"]
    if proj.empty:
        return pd.DataFrame(columns=cols)
    proj = proj.reindex(columns=cols)
    proj = proj[proj["stage"] == stage]
    if year is not None:
        proj = proj[proj["open_year"] <= year]
    proj = proj.assign(school_id=proj["school_id"].astype("string")
                       .fillna(proj["project_id"].astype("string")).astype(str))
    cap = run_table(result, "capacity")
    if len(cap):
        loc = (cap[cap["stage"] == stage].assign(school_id=lambda d: d["school_id"]
                                                 .astype(str))
               .drop_duplicates("school_id")[["school_id", "lon", "lat"]]
               .rename(columns={"lon": "slon", "lat": "slat"}))
        proj = proj.merge(loc, on="school_id", how="left")
        proj["lon"] = pd.to_numeric(proj["lon"], errors="coerce").fillna(proj["slon"])
        proj["lat"] = pd.to_numeric(proj["lat"], errors="coerce").fillna(proj["slat"])
        proj = proj.drop(columns=["slon", "slat"])
    return proj.dropna(subset=["lon", "lat"]).reset_index(drop=True)
