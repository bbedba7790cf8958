"""Catchment maps of a run: static (matplotlib, PNG/SVG) and interactive (offline HTML).

Both maps draw in the model's projected CRS (``manifest["crs"]``, default EPSG:32650).
Catchments are derived from the assignment: every demand unit gets the Voronoi cell of its
point (clipped to the district) and the cell goes to the school that serves most of the
unit's pupils; cells are dissolved per school. A unit none of whose pupils is served is
drawn as "not served".

The interactive map is one self-contained HTML file: inline SVG drawn by a small vanilla-JS
script (``assets/catchments.js``) from embedded JSON — no tiles, no CDN, no network.
"""
from __future__ import annotations

import html
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib import patheffects
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from ..result import Result, read_result

DEFAULT_CRS = "EPSG:32650"
#: Utilisation classes of school symbols (upper bounds) and their colours (light → dark).
UTIL_BINS = [0.0, 0.7, 0.9, 0.99, np.inf]
UTIL_LABELS = ["< 70 %", "70–90 %", "90–99 %", "full (≥ 99 %)"]
UTIL_COLOURS = ["#deebf7", "#9ecae1", "#4292c6", "#08306b"]
#: Colours of new and expanded key projects.
NEW_COLOUR = "#e7298a"
SHORT_CMAP = "YlOrRd"
#: Palette for catchments in the interactive map (neighbouring schools get different ones).
CATCHMENT_PALETTE = ["#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462",
                     "#b3de69", "#fccde5", "#bc80bd", "#ccebc5", "#e5c494"]
_B64 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"


# --------------------------------------------------------------------------- data helpers
def _crs(result: Result) -> str:
    return result.manifest.get("crs") or DEFAULT_CRS


def _table(result: Result, name: str) -> pd.DataFrame:
    return result.tables.get(name, pd.DataFrame())


def run_years(result: Result) -> list[int]:
    """Every year of the run's allocation outputs (summary, else capacity, else demand)."""
    for name in ("summary", "capacity", "demand", "shortfall"):
        frame = _table(result, name)
        if "year" in frame and len(frame):
            return sorted(int(y) for y in frame["year"].dropna().unique())
    return []


def run_stages(result: Result) -> list[str]:
    """Stages in manifest order, plus any other stage found in the summary table."""
    stages = list(result.stages)
    summary = _table(result, "summary")
    if "stage" in summary:
        stages += [s for s in pd.unique(summary["stage"].dropna()) if s not in stages]
    return stages


def _modes(result: Result) -> list[str]:
    summary = _table(result, "summary")
    found = list(pd.unique(summary["mode"].dropna())) if "mode" in summary else []
    order = [m for m in ("catchment", "optimal") if m in found]
    return order + [m for m in found if m not in order] or [result.mode]


def _mode(result: Result, mode: str | None) -> str:
    modes = _modes(result)
    mode = mode or result.mode
    return mode if mode in modes else modes[0]


def _ages(result: Result, stage: str) -> tuple[int, int] | None:
    ages = result.stages.get(stage, {}).get("ages")
    return (int(ages[0]), int(ages[-1])) if ages else None


def stage_label(result: Result, stage: str) -> str:
    """'Primary (ages 6–11)'."""
    ages = _ages(result, stage)
    name = str(stage).replace("_", " ").capitalize()
    return f"{name} (ages {ages[0]}–{ages[1]})" if ages else name


def children(result: Result, stage: str) -> pd.DataFrame:
    """Children of the stage's ages per zone and year: zone_id, year, children."""
    pop, ages = _table(result, "population"), _ages(result, stage)
    if pop.empty or ages is None:
        return pd.DataFrame({"zone_id": pd.Series(dtype="string"),
                             "year": pd.Series(dtype="int64"), "children": []})
    pop = pop[pop["age"].between(*ages)]
    out = pop.groupby(["zone_id", "year"], as_index=False)["population"].sum()
    out["zone_id"] = out["zone_id"].astype(str)
    return out.rename(columns={"population": "children"})


def zone_stats(result: Result, stage: str, year: int | None = None,
               mode: str | None = None) -> pd.DataFrame:
    """Per zone (and year): children, demand, shortfall, out_of_reach, per_1000."""
    mode = _mode(result, mode)
    short = _table(result, "shortfall")
    short = short[(short["stage"] == stage) & (short["mode"] == mode)] if len(short) else \
        pd.DataFrame(columns=["zone_id", "year", "demand", "shortfall", "out_of_reach"])
    if year is not None:
        short = short[short["year"] == year]
    short = short[["zone_id", "year", "demand", "shortfall", "out_of_reach"]].copy()
    short["zone_id"] = short["zone_id"].astype(str)
    kids = children(result, stage)
    out = short.merge(kids, on=["zone_id", "year"], how="left")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["per_1000"] = np.where(out["children"] > 0,
                                   1000 * out["shortfall"] / out["children"], np.nan)
    return out


# ----------------------------------------------------------------------- geometry helpers
@dataclass
class _Geometry:
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


def _geometry(result: Result) -> _Geometry:
    """Build (once per result) the projected geometry the maps need."""
    key = (id(result.zones), id(result.tables.get("units")), _crs(result))
    cached = result.__dict__.get("_map_geometry")
    if cached and cached[0] == key:
        return cached[1]
    crs = _crs(result)
    zones = result.zones.to_crs(crs) if result.zones.crs else result.zones.set_crs(crs)
    zones = zones.assign(zone_id=zones["zone_id"].astype(str),
                         geometry=_polygonal(shapely.make_valid(zones.geometry.values)))
    if "name" not in zones:
        zones["name"] = zones["zone_id"]
    # snapping to a 1 m grid closes slivers between neighbouring zones in the outline
    district = shapely.union_all(zones.geometry.values, grid_size=1.0) if len(zones) else None
    units = _table(result, "units")
    pts = gpd.GeoSeries(gpd.points_from_xy(units.get("lon", []), units.get("lat", [])),
                        crs="EPSG:4326").to_crs(crs)
    cells = _voronoi_cells(shapely.get_coordinates(pts.values), district)
    ugdf = gpd.GeoDataFrame({"unit_id": units.get("unit_id", pd.Series(dtype=str))
                             .astype(str).values,
                             "zone_id": units.get("zone_id", pd.Series(dtype=str))
                             .astype(str).values,
                             "cell": cells}, geometry=pts.values, crs=crs)
    geo = _Geometry(crs, zones, district, ugdf)
    result.__dict__["_map_geometry"] = (key, geo)
    return geo


def _voronoi_cells(xy: np.ndarray, district: Any) -> np.ndarray:
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
        cells = _polygonal(shapely.intersection(cells, district))
    return cells[np.asarray(inverse).ravel()]


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
    """Per unit with demand: the school serving most of its pupils ('' when none served).

    Columns year, mode, unit_id, school_id; ``year``/``mode`` None keeps every one.
    """
    alloc = _table(result, "allocation")
    cols = ["year", "mode", "unit_id", "school_id"]
    if alloc.empty:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in cols})
    keep = (alloc["stage"] == stage) & (alloc["pupils"] > 0)
    if year is not None:
        keep &= alloc["year"] == year
    if mode is not None:
        keep &= alloc["mode"] == mode
    sel = alloc.loc[keep, ["year", "mode", "unit_id", "school_id", "pupils"]]
    sel = sel.assign(unit_id=sel["unit_id"].astype(str),
                     school_id=sel["school_id"].astype("string").fillna("").str.strip()
                     .astype(str))
    served = sel[sel["school_id"] != ""]
    best = (served.sort_values(["pupils", "school_id"], ascending=[False, True])
            .drop_duplicates(["year", "mode", "unit_id"])[cols])
    units = sel[cols[:3]].drop_duplicates()
    return units.merge(best, on=cols[:3], how="left").fillna({"school_id": ""})


def catchments(result: Result, stage: str, year: int, mode: str | None = None
               ) -> gpd.GeoDataFrame:
    """Catchment polygons per school (school_id '' = area not served), projected CRS."""
    mode = _mode(result, mode)
    geo = _geometry(result)
    dom = dominant_school(result, stage, year, mode)
    cells = geo.units[["unit_id", "cell"]].merge(dom, on="unit_id")
    if cells.empty:
        return gpd.GeoDataFrame({"school_id": []}, geometry=[], crs=geo.crs)
    gdf = gpd.GeoDataFrame(cells[["school_id"]], geometry=cells["cell"].values, crs=geo.crs)
    return gdf.dissolve(by="school_id", as_index=False)


def radius_scale_at(result: Result, pts: gpd.GeoSeries) -> np.ndarray:
    """Radius factor of the zone each point lies in (or is nearest to); ones when the run
    did not apply zones' ``radius_scale``."""
    geo = _geometry(result)
    if (not result.manifest.get("zone_radius_scale", True) or len(pts) == 0
            or "radius_scale" not in geo.zones):
        return np.ones(len(pts))
    zones = geo.zones[["radius_scale", "geometry"]]
    hit = gpd.sjoin_nearest(gpd.GeoDataFrame(geometry=pts.reset_index(drop=True)), zones,
                            how="left")
    hit = hit[~hit.index.duplicated()]
    return hit["radius_scale"].fillna(1.0).to_numpy(float)


def _points(frame: pd.DataFrame, crs: str) -> gpd.GeoSeries:
    return gpd.GeoSeries(gpd.points_from_xy(frame["lon"], frame["lat"]),
                         index=frame.index, crs="EPSG:4326").to_crs(crs)


def school_stats(result: Result, stage: str, year: int | None, mode: str | None = None
                 ) -> pd.DataFrame:
    """Schools open in ``year`` (every year when None): school_id, name, year, places,
    pupils, utilisation, lon, lat."""
    mode = _mode(result, mode)
    cols = ["school_id", "name", "year", "places", "lon", "lat"]
    cap = _table(result, "capacity")
    if cap.empty:
        return pd.DataFrame(columns=cols + ["pupils", "utilisation"])
    keep = cap["stage"] == stage
    if year is not None:
        keep &= cap["year"] == year
    cap = cap.loc[keep, cols].assign(school_id=lambda d: d["school_id"].astype(str))
    use = _table(result, "schools")
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
    proj = _table(result, "projects")
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
    cap = _table(result, "capacity")
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


# ---------------------------------------------------------------------------- static map
def _nice_length(span_m: float) -> float:
    """A round scale-bar length (m) near a fifth of the span."""
    target = max(span_m / 5, 1.0)
    base = 10 ** np.floor(np.log10(target))
    return float(max(m * base for m in (1, 2, 5) if m * base <= target))


def _scale_bar(ax: Any, bounds: tuple[float, float, float, float]) -> None:
    x0, y0, x1, y1 = bounds
    length = _nice_length(x1 - x0)
    h = (y1 - y0) * 0.012
    sx, sy = x0 + (x1 - x0) * 0.03, y0 + (y1 - y0) * 0.03
    for i in range(2):
        ax.add_patch(Rectangle((sx + i * length / 2, sy), length / 2, h,
                               facecolor="black" if i == 0 else "white",
                               edgecolor="black", lw=0.8, zorder=20))
    halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]
    km = length / 1000
    fmt = (lambda v: f"{v:g}")
    for frac in (0, 0.5, 1):
        ax.text(sx + frac * length, sy + 1.8 * h, fmt(km * frac) + (" km" if frac == 1 else ""),
                ha="center", va="bottom", fontsize=8, zorder=20, path_effects=halo)


def _north_arrow(ax: Any) -> None:
    ax.annotate("N", xy=(0.955, 0.115), xytext=(0.955, 0.03), xycoords="axes fraction",
                ha="center", va="center", fontsize=11, fontweight="bold", zorder=20,
                arrowprops=dict(facecolor="black", edgecolor="black", width=3.5,
                                headwidth=11, headlength=10),
                path_effects=[patheffects.withStroke(linewidth=3, foreground="white")])


def _util_class(util: pd.Series) -> np.ndarray:
    return np.clip(np.digitize(util.fillna(0).to_numpy(float), UTIL_BINS[1:-1]), 0, 3)


def _shortfall_norm(result: Result, stage: str, mode: str) -> Normalize:
    """Colour scale for shortfall per 1,000 children, shared by every year of a stage."""
    allyears = zone_stats(result, stage, None, mode)["per_1000"]
    vmax = float(np.nanmax(allyears)) if allyears.notna().any() else 0.0
    return Normalize(vmin=0, vmax=max(vmax, 1.0))


def static_map(result: Result, stage: str, year: int, *, mode: str | None = None,
               rings: bool = False, figsize: tuple[float, float] | None = None,
               labels: bool = True) -> Figure:
    """One stage and year: shortfall per 1,000 children, schools, projects, catchments.

    Zones are shaded by the shortfall (of ``mode``, default the scenario's) per 1,000
    children of the stage's ages; schools are circles sized by places and coloured by
    utilisation; key projects open by ``year`` are stars (new) and diamonds (expansion);
    catchment boundaries come from the assignment; ``rings`` adds service-radius circles.
    """
    mode = _mode(result, mode)
    geo = _geometry(result)
    x0, y0, x1, y1 = geo.bounds()
    pad = 0.04 * max(x1 - x0, y1 - y0, 1.0)
    bounds = (x0 - pad, y0 - 0.1 * max(x1 - x0, y1 - y0, 1.0), x1 + pad, y1 + pad)
    if figsize is None:  # fit the page to the district's shape, legend on the right
        aspect = (bounds[3] - bounds[1]) / (bounds[2] - bounds[0])
        w = min(8.5, 8.0 / aspect)
        figsize = (w + 2.8, w * aspect + 1.7)
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.add_subplot()
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_linewidth(0.6)

    # zones: shortfall per 1,000 children
    stats = zone_stats(result, stage, year, mode)
    zones = geo.zones.merge(stats, on="zone_id", how="left")
    norm, cmap = _shortfall_norm(result, stage, mode), SHORT_CMAP
    has = zones["per_1000"].notna()
    if has.any():
        zones[has].plot(ax=ax, column="per_1000", cmap=cmap, norm=norm, edgecolor="none",
                        zorder=1)
    if (~has).any():
        zones[~has].plot(ax=ax, facecolor="#eeeeee", edgecolor="none", zorder=1)
    geo.zones.boundary.plot(ax=ax, color="#555555", lw=0.7, linestyle=(0, (3, 2)), zorder=3)

    # catchments
    catch = catchments(result, stage, year, mode)
    unserved = catch[catch["school_id"] == ""]
    served = catch[catch["school_id"] != ""]
    if len(unserved):
        unserved.plot(ax=ax, facecolor="none", edgecolor="#555555", hatch="////", lw=0,
                      zorder=2)
    if len(served):
        served.boundary.plot(ax=ax, color="#1b1b1b", lw=1.1, zorder=4)
    if geo.district is not None:
        gpd.GeoSeries([geo.district], crs=geo.crs).boundary.plot(ax=ax, color="black",
                                                                 lw=1.8, zorder=5)

    # schools
    schools = school_stats(result, stage, year, mode)
    pmax = float(schools["places"].max()) if len(schools) else 1.0
    size = (lambda p: 25 + 275 * np.asarray(p, float) / max(pmax, 1.0))
    if len(schools):
        pts = _points(schools, geo.crs)
        if rings and (radius := result.stages.get(stage, {}).get("radius_m")):
            # the radius of the school's own zone (units elsewhere may have another)
            pts.buffer(float(radius) * radius_scale_at(result, pts), quad_segs=16).boundary.plot(
                ax=ax, color="#2c5aa0", lw=0.7, linestyle="--", zorder=6)
        colours = np.array(UTIL_COLOURS)[_util_class(schools["utilisation"])]
        ax.scatter(pts.x, pts.y, s=size(schools["places"]), c=colours, edgecolors="black",
                   linewidths=0.7, zorder=8)

    # key projects open by this year
    project_labels: list[Any] = []
    proj = open_projects(result, stage, year)
    if len(proj):
        ppts = _points(proj, geo.crs)
        new = (proj["kind"] == "new").to_numpy()
        ax.scatter(ppts.x[~new], ppts.y[~new], s=size(proj["places"][~new]) * 2.2 + 60,
                   marker="D", facecolors="none", edgecolors=NEW_COLOUR, linewidths=2.0,
                   zorder=9)
        ax.scatter(ppts.x[new], ppts.y[new], s=230, marker="*", c=NEW_COLOUR,
                   edgecolors="black", linewidths=0.7, zorder=10)
        if labels and len(proj) <= 20:
            halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]
            for x, y, name, yr in zip(ppts.x, ppts.y, proj["name"], proj["open_year"]):
                name = name if len(name) <= 40 else name[:39].rstrip() + "…"
                project_labels.append(ax.annotate(
                    f"{name} ({int(yr)})", (x, y), xytext=(6, 6), textcoords="offset points",
                    fontsize=7, zorder=11, path_effects=halo))

    # extent, furniture
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_xlim(bounds[0], bounds[2])
    ax.set_ylim(bounds[1], bounds[3])
    _scale_bar(ax, bounds)
    _north_arrow(ax)

    ages = _ages(result, stage)
    agetext = f"aged {ages[0]}–{ages[1]}" if ages else "of the stage's ages"
    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, orientation="horizontal",
                 fraction=0.035, pad=0.01, shrink=0.6, aspect=40,
                 label=f"Shortfall per 1,000 children {agetext} ({mode} allocation)")
    handles: list[Any] = [Patch(facecolor="white", edgecolor="none", label="School utilisation")]
    handles += [Line2D([], [], marker="o", ls="", markerfacecolor=c, markeredgecolor="black",
                       markersize=8, label=lab) for c, lab in zip(UTIL_COLOURS, UTIL_LABELS)]
    handles.append(Patch(facecolor="white", edgecolor="none", label="School places"))
    for p in sorted({round(pmax / 4), round(pmax)}):
        if p > 0:
            handles.append(Line2D([], [], marker="o", ls="", markerfacecolor="white",
                                  markeredgecolor="black", label=f"{p:,.0f}",
                                  markersize=float(np.sqrt(size(p)))))
    handles.append(Patch(facecolor="white", edgecolor="none", label="Key projects open"))
    handles.append(Line2D([], [], marker="*", ls="", markerfacecolor=NEW_COLOUR,
                          markeredgecolor="black", markersize=14, label="new school"))
    handles.append(Line2D([], [], marker="D", ls="", markerfacecolor="none",
                          markeredgecolor=NEW_COLOUR, markeredgewidth=2, markersize=11,
                          label="expansion"))
    handles.append(Patch(facecolor="white", edgecolor="none", label="Areas"))
    handles.append(Line2D([], [], color="#1b1b1b", lw=1.1, label="catchment boundary"))
    handles.append(Patch(facecolor="none", edgecolor="#555555", hatch="////", lw=0,
                         label="not served"))
    handles.append(Line2D([], [], color="#555555", lw=0.7, ls=(0, (3, 2)),
                          label="zone boundary"))
    handles.append(Line2D([], [], color="black", lw=1.8, label="district"))
    if rings:
        handles.append(Line2D([], [], color="#2c5aa0", lw=0.7, ls="--",
                              label="service radius"))
    leg = ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                    frameon=False, fontsize=8, handletextpad=0.6, borderaxespad=0)
    for text in leg.get_texts():
        if text.get_text() in {"School utilisation", "School places", "Key projects open",
                               "Areas"}:
            text.set_fontweight("bold")
            text.set_x(-20)

    scenario = result.manifest.get("scenario", result.name)
    fig.suptitle(f"{scenario}: {stage_label(result, stage)}, {year}", fontsize=14,
                 fontweight="bold")
    served_total = schools["pupils"].sum() if len(schools) else 0
    ax.set_title(f"{len(schools)} schools, {schools['places'].sum():,.0f} places, "
                 f"{served_total:,.0f} pupils served; shortfall "
                 f"{stats['shortfall'].sum():,.0f} ({mode} allocation)", fontsize=9)
    ax.text(0.91, 0.01, f"{geo.crs} · catchments: Voronoi cells of demand units, by the "
            "school serving most of each unit's pupils", transform=ax.transAxes, ha="right",
            va="bottom", fontsize=6, color="#444444", zorder=20,
            path_effects=[patheffects.withStroke(linewidth=2, foreground="white")])
    _declutter(fig, ax, project_labels)
    return fig


def _declutter(fig: Figure, ax: Any, labels: list[Any]) -> None:
    """Move project labels so that none overlaps another or leaves the map frame.

    Top to bottom, a label that would overlap one already placed steps down 8 points (up
    to 12 times); one that would cross the frame's right edge goes left of its symbol.
    """
    if not labels:
        return
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw_without_rendering()        # run the constrained layout, then keep it fixed
    fig.set_layout_engine("none")
    frame = ax.get_window_extent(renderer)
    placed: list[Any] = []
    for ann in sorted(labels, key=lambda a: -a.xy[1]):
        for _ in range(12):
            box = ann.get_window_extent(renderer)
            if box.x1 > frame.x1:
                ann.set_horizontalalignment("right")
                ann.xyann = (-6, ann.xyann[1])
                box = ann.get_window_extent(renderer)
            if not any(box.overlaps(other) for other in placed):
                break
            ann.xyann = (ann.xyann[0], ann.xyann[1] - 8)
        placed.append(ann.get_window_extent(renderer))


def write_static_maps(result: Result, folder: str | Path, stage: str, year: int, *,
                      mode: str | None = None, rings: bool = False, dpi: int = 200
                      ) -> list[Path]:
    """Write ``folder/maps/<stage>_<year>.png`` (``dpi``) and ``.svg``; return the paths."""
    out = Path(folder) / "maps"
    out.mkdir(parents=True, exist_ok=True)
    fig = static_map(result, stage, year, mode=mode, rings=rings)
    png, svg = out / f"{stage}_{year}.png", out / f"{stage}_{year}.svg"
    fig.savefig(png, dpi=dpi, metadata={"Software": None})
    fig.savefig(svg, metadata={"Date": None})
    return [png, svg]


# ----------------------------------------------------------------------- interactive map
_UNIT = 5.0  # metres per SVG unit in the interactive map (coordinates rounded to 5 m)


def svg_paths(geoms: Iterable[Any], origin: tuple[float, float], unit: float = _UNIT
              ) -> list[str]:
    """Compact SVG path data ('M x y l dx dy … z') per polygonal geometry.

    Coordinates are ``(x - x0) / unit`` and ``(y0 - y) / unit`` (y down), rounded to
    integers; repeated points after rounding and degenerate rings are dropped.
    """
    geoms = np.asarray(list(geoms) if not isinstance(geoms, np.ndarray) else geoms,
                       dtype=object)
    n = len(geoms)
    if n == 0:
        return []
    geoms = np.where(pd.isna(geoms), shapely.Polygon(), geoms)
    parts, part_geom = shapely.get_parts(geoms, return_index=True)
    parts, sub = shapely.get_parts(parts, return_index=True)  # collections of multipolygons
    part_geom = part_geom[sub]
    keep = shapely.get_type_id(parts) == 3
    parts, part_geom = parts[keep], part_geom[keep]
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    if len(coords) == 0:
        return [""] * n
    closing = np.r_[ring[1:] != ring[:-1], True]  # rings repeat their first point
    coords, ring = coords[~closing], ring[~closing]
    x = np.rint((coords[:, 0] - origin[0]) / unit).astype(np.int64)
    y = np.rint((origin[1] - coords[:, 1]) / unit).astype(np.int64)
    first = np.r_[True, ring[1:] != ring[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(len(x)), 0))
    same_prev = ~first & (x == np.r_[0, x[:-1]]) & (y == np.r_[0, y[:-1]])
    same_start = ~first & (x == x[start]) & (y == y[start])
    keep = ~(same_prev | same_start)
    x, y, ring = x[keep], y[keep], ring[keep]
    first = np.r_[True, ring[1:] != ring[:-1]] if len(ring) else first[:0]
    start = np.maximum.accumulate(np.where(first, np.arange(len(x)), 0))
    pos = np.arange(len(x)) - start
    dx = np.where(first, x, np.r_[0, np.diff(x)])
    dy = np.where(first, y, np.r_[0, np.diff(y)])
    counts = np.bincount(ring, minlength=len(rings))
    ok = counts[ring] >= 3
    tok = pd.Series(dx.astype(str)).str.cat(pd.Series(dy.astype(str)), sep=" ")
    tok = tok.where(~first, "M" + tok).where(pos != 1, "l" + tok)
    frame = pd.DataFrame({"ring": ring[ok], "tok": tok[ok].to_numpy()})
    ring_str = frame.groupby("ring", sort=True)["tok"].agg(" ".join) + "z"
    geom_of_ring = part_geom[ring_part[ring_str.index.to_numpy()]]
    per_geom = pd.Series(ring_str.to_numpy()).groupby(geom_of_ring).agg("".join)
    return per_geom.reindex(range(n), fill_value="").tolist()


def _nums(values: Any, digits: int = 1) -> list[float | None]:
    """Rounded floats for JSON, NaN as None (integral values as int to save bytes)."""
    a = np.round(np.asarray(values, dtype=float), digits)
    ints = np.isfinite(a) & (a == np.round(a))
    out = np.where(np.isfinite(a), a, None).astype(object)
    out[ints] = a[ints].astype(np.int64)
    return out.tolist()


def _encode(codes: np.ndarray, width: int) -> str:
    """Fixed-width base-64 string of non-negative integer codes."""
    if len(codes) == 0:
        return ""
    digits = (codes[:, None] // (64 ** np.arange(width - 1, -1, -1))[None, :]) % 64
    return "".join(np.array(list(_B64))[digits].ravel().tolist())


def _colour_schools(xy: np.ndarray) -> np.ndarray:
    """Palette index per school so that Delaunay neighbours differ (greedy colouring)."""
    n = len(xy)
    if n < 3:
        return np.arange(n) % len(CATCHMENT_PALETTE)
    uniq, inverse = np.unique(np.round(xy, 0), axis=0, return_inverse=True)
    inverse = np.asarray(inverse).ravel()
    edges = shapely.get_coordinates(shapely.delaunay_triangles(
        shapely.multipoints(uniq), only_edges=True)).reshape(-1, 2, 2)
    lookup = {tuple(p): i for i, p in enumerate(uniq)}
    pairs = [(lookup.get(tuple(a)), lookup.get(tuple(b))) for a, b in edges]
    neigh: dict[int, set[int]] = {i: set() for i in range(len(uniq))}
    for a, b in pairs:
        if a is not None and b is not None:
            neigh[a].add(b)
            neigh[b].add(a)
    ucol = np.full(len(uniq), -1)
    count = np.zeros(len(CATCHMENT_PALETTE))
    for i in sorted(neigh, key=lambda k: -len(neigh[k])):  # a few hundred schools
        used = {ucol[j] for j in neigh[i]}
        free = [c for c in range(len(CATCHMENT_PALETTE)) if c not in used] or \
            list(range(len(CATCHMENT_PALETTE)))
        ucol[i] = min(free, key=lambda c: count[c])  # least used: spread the palette
        count[ucol[i]] += 1
    colour = ucol[inverse]
    # schools at the same point (rare) get consecutive colours
    dup = pd.Series(inverse).groupby(inverse).cumcount().to_numpy()
    return (colour + dup) % len(CATCHMENT_PALETTE)


def _map_data(result: Result, stages: list[str], years: list[int]) -> dict[str, Any]:
    """The interactive map's embedded JSON (per stage-year aggregates, not per-unit flows)."""
    geo = _geometry(result)
    modes = _modes(result)
    x0, y0, x1, y1 = geo.bounds()
    pad = 0.03 * max(x1 - x0, y1 - y0, 1.0)
    origin = (x0 - pad, y1 + pad)
    width = int(np.ceil((x1 - x0 + 2 * pad) / _UNIT))
    height = int(np.ceil((y1 - y0 + 2 * pad) / _UNIT))

    def xy(points: gpd.GeoSeries) -> tuple[list[int], list[int]]:
        return (np.rint((points.x - origin[0]) / _UNIT).astype(int).tolist(),
                np.rint((origin[1] - points.y) / _UNIT).astype(int).tolist())

    zones = geo.zones
    zone_index = pd.Series(np.arange(len(zones)), index=zones["zone_id"].to_numpy())
    units = geo.units
    unit_index = pd.Series(np.arange(len(units)), index=units["unit_id"].to_numpy())

    cap = _table(result, "capacity")
    cap = cap[cap["stage"].isin(stages)] if len(cap) else cap
    sch = (cap.assign(school_id=cap["school_id"].astype(str))
           .sort_values("year").drop_duplicates("school_id", keep="last")
           .reset_index(drop=True)) if len(cap) else \
        pd.DataFrame(columns=["school_id", "name", "lon", "lat"])
    proj_all = pd.concat([open_projects(result, s) for s in stages], ignore_index=True) \
        if stages else pd.DataFrame()
    # new schools that appear only in the projects table (no capacity row) still get a point
    if len(proj_all):
        extra = proj_all[~proj_all["school_id"].isin(sch["school_id"])]
        extra = extra.drop_duplicates("school_id")[["school_id", "name", "lon", "lat"]]
        sch = pd.concat([sch[["school_id", "name", "lon", "lat"]], extra], ignore_index=True)
    sch = sch[["school_id", "name", "lon", "lat"]].reset_index(drop=True)
    school_index = pd.Series(np.arange(len(sch)), index=sch["school_id"].to_numpy())
    spts = _points(sch, geo.crs) if len(sch) else gpd.GeoSeries([], crs=geo.crs)
    sx, sy = xy(spts) if len(sch) else ([], [])
    sxy = shapely.get_coordinates(spts.values) if len(sch) else np.zeros((0, 2))
    scol: dict[str, list[int]] = {}
    for stage in stages:  # neighbouring catchments of a stage get different colours
        ids = set(cap.loc[cap["stage"] == stage, "school_id"].astype(str)) if len(cap) else set()
        if len(proj_all):
            ids |= set(proj_all.loc[proj_all["stage"] == stage, "school_id"])
        idx = school_index.reindex(sorted(ids)).dropna().to_numpy(int)
        col = np.zeros(len(sch), dtype=int)
        col[idx] = _colour_schools(sxy[idx])
        scol[stage] = col.tolist()
    width_codes = max(1, int(np.ceil(np.log(len(sch) + 2) / np.log(64))))

    data: dict[str, Any] = {}
    assignments: dict[str, int] = {}
    vmax: dict[str, float] = {}
    zone_ids = zones["zone_id"].to_numpy()
    for stage in stages:
        kids = children(result, stage).set_index(["year", "zone_id"])["children"]
        zs = {m: zone_stats(result, stage, None, m).set_index(["year", "zone_id"])
              for m in modes}
        ss = {m: school_stats(result, stage, None, m) for m in modes}
        allv = pd.concat([z["per_1000"] for z in zs.values()])
        vmax[stage] = float(np.nanmax(allv)) if allv.notna().any() else 0.0
        # unit -> school codes of every (year, mode): 0 no demand, 1 not served, 2+ school
        dom = dominant_school(result, stage, None, None)
        dom = dom[dom["year"].isin(years) & dom["mode"].isin(modes)]
        row = (pd.Index(years).get_indexer(dom["year"]) * len(modes)
               + pd.Index(modes).get_indexer(dom["mode"]))
        col = unit_index.reindex(dom["unit_id"].to_numpy()).to_numpy()
        sidx = school_index.reindex(dom["school_id"].to_numpy()).to_numpy()
        ok = ~pd.isna(col)
        codes = np.zeros((len(years) * len(modes), len(units)), dtype=np.int64)
        codes[row[ok], col[ok].astype(np.int64)] = np.where(
            pd.isna(sidx[ok]), 1, np.nan_to_num(sidx[ok]) + 2).astype(np.int64)
        per_stage: dict[str, Any] = {}
        for yi, year in enumerate(years):
            first = ss[modes[0]]
            first = first[first["year"] == year]
            entry: dict[str, Any] = {
                "c": _nums(kids.reindex(pd.MultiIndex.from_product([[year], zone_ids]))),
                "d": _nums(zs[modes[0]]["demand"].reindex(
                    pd.MultiIndex.from_product([[year], zone_ids]))),
                "s": [int(i) for i in school_index.reindex(first["school_id"].to_numpy())],
                "p": _nums(first["places"]),
                "m": {}}
            for mi, mode in enumerate(modes):
                st = zs[mode].reindex(pd.MultiIndex.from_product([[year], zone_ids]))
                sm = ss[mode]
                pupils = (sm[sm["year"] == year].set_index("school_id")["pupils"]
                          .reindex(first["school_id"].to_numpy()))
                enc = _encode(codes[yi * len(modes) + mi], width_codes)
                entry["m"][mode] = {"f": _nums(st["shortfall"]), "o": _nums(st["out_of_reach"]),
                                    "q": _nums(pupils),
                                    "a": assignments.setdefault(enc, len(assignments))}
            per_stage[str(year)] = entry
        data[stage] = per_stage

    projects = []
    if len(proj_all):
        for stage in stages:
            pr = proj_all[proj_all["stage"] == stage]
            for rec in pr.to_dict("records"):  # a handful of key projects per stage
                projects.append({
                    "id": str(rec["project_id"]), "name": str(rec["name"]),
                    "kind": str(rec["kind"]), "stage": stage,
                    "school": int(school_index.get(rec["school_id"], -1)),
                    "places": None if pd.isna(rec["places"]) else float(rec["places"]),
                    "open": None if pd.isna(rec["open_year"]) else int(rec["open_year"]),
                    "cost": None if pd.isna(rec["cost"]) else float(rec["cost"])})
    ages = {s: _ages(result, s) for s in stages}
    return {
        "scenario": str(result.manifest.get("scenario", result.name)),
        "crs": geo.crs, "unit": _UNIT, "view": [0, 0, width, height],
        "stages": [{"id": s, "label": stage_label(result, s),
                    "ages": list(ages[s]) if ages[s] else None,
                    "radius": result.stages.get(s, {}).get("radius_m"),
                    "vmax": vmax[s]} for s in stages],
        "years": years, "modes": modes, "mode": _mode(result, None),
        "district": svg_paths([geo.district], origin)[0] if geo.district is not None else "",
        "zones": {"id": zones["zone_id"].astype(str).tolist(),
                  "name": zones["name"].astype(str).tolist(),
                  "path": svg_paths(zones.geometry.values, origin)},
        "cells": svg_paths(units["cell"].to_numpy(), origin),
        "codeWidth": width_codes,
        "assign": list(assignments),
        "schools": {"id": sch["school_id"].astype(str).tolist(),
                    "name": sch["name"].astype(str).tolist(), "x": sx, "y": sy,
                    "rs": _nums(radius_scale_at(result, spts), 3), "colour": scol},
        "palette": CATCHMENT_PALETTE, "utilBins": UTIL_BINS[1:-1],
        "utilLabels": UTIL_LABELS, "utilColours": UTIL_COLOURS, "newColour": NEW_COLOUR,
        "projects": projects, "data": data,
    }


def _asset(name: str) -> str:
    return resources.files("capacity.report").joinpath("assets", name).read_text("utf-8")


def _json_for_script(obj: Any) -> str:
    """JSON safe to embed in a <script> element."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def interactive_map(result: Result, *, stages: list[str] | None = None,
                    years: list[int] | None = None) -> str:
    """A self-contained, offline HTML catchment map (inline SVG + vanilla JS)."""
    stages = list(stages or run_stages(result))
    years = [int(y) for y in (years or run_years(result))]
    data = _map_data(result, stages, years)
    scenario = html.escape(data["scenario"])
    default_year = _headline_year(result, years)
    stage_opts = "".join(f'<option value="{html.escape(s["id"])}">{html.escape(s["label"])}'
                         "</option>" for s in data["stages"])
    year_opts = "".join(f'<option value="{y}"{" selected" if y == default_year else ""}>'
                        f"{y}</option>" for y in years)
    mode_opts = "".join(f'<option value="{html.escape(m)}"'
                        f'{" selected" if m == data["mode"] else ""}>{html.escape(m)}</option>'
                        for m in data["modes"])
    yi = years.index(default_year) if years else 0
    page = _asset("catchments.html")
    return (page.replace("{{TITLE}}", f"{scenario} — catchment map")
            .replace("{{CSS}}", _asset("catchments.css"))
            .replace("{{STAGE_OPTIONS}}", stage_opts)
            .replace("{{YEAR_OPTIONS}}", year_opts)
            .replace("{{MODE_OPTIONS}}", mode_opts)
            .replace("{{YEAR_MAX}}", str(max(len(years) - 1, 0)))
            .replace("{{YEAR_INDEX}}", str(yi))
            .replace("{{SCENARIO}}", scenario)
            .replace("{{JS}}", _asset("catchments.js"))
            .replace("{{DATA}}", _json_for_script(data)))


def _headline_year(result: Result, years: list[int]) -> int | None:
    """The run's headline year when it is among ``years``, else the last of them."""
    if not years:
        return None
    return result.report_year if result.report_year in years else years[-1]


def write_interactive_map(result: Result, folder: str | Path, *,
                          stages: list[str] | None = None,
                          years: list[int] | None = None) -> Path:
    """Write ``folder/maps/catchments.html``; return its path."""
    out = Path(folder) / "maps"
    out.mkdir(parents=True, exist_ok=True)
    path = out / "catchments.html"
    path.write_text(interactive_map(result, stages=stages, years=years), encoding="utf-8")
    return path


def map_command(run_folder: str | Path, stage: str, year: int, mode: str | None = None,
                *, rings: bool = False) -> list[Path]:
    """`capacity map`: write the static PNG/SVG and the HTML map into ``run_folder/maps``."""
    from ..errors import InputError

    result = read_result(run_folder)
    stages, years = run_stages(result), run_years(result)
    if stage not in stages:
        raise InputError.single(run_folder, f"no stage {stage!r} in this run",
                                column="stage", expected=" or ".join(stages) or "a stage")
    if int(year) not in years:
        span = f"a year from {years[0]} to {years[-1]}" if years else "a year of the run"
        raise InputError.single(run_folder, f"no year {year} in this run", column="year",
                                expected=span)
    if mode is not None and mode not in _modes(result):
        raise InputError.single(run_folder, f"no allocation mode {mode!r} in this run",
                                column="mode", expected=" or ".join(_modes(result)))
    paths = write_static_maps(result, run_folder, stage, int(year), mode=mode, rings=rings)
    paths.append(write_interactive_map(result, run_folder))
    return paths
