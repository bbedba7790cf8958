"""Static catchment maps (matplotlib): PNG and SVG of one stage and year.

Zones shaded by shortfall per 1,000 children of the stage's ages, schools sized by places
and coloured by utilisation, key projects, catchment boundaries (:mod:`.catchment`) and,
on request, each school's service radius (``Result.radius_at``).
"""
from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib import patheffects, rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.layout_engine import PlaceHolderLayoutEngine
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from ..names import scenario_name
from ..result import Result
from ..runfolder import is_safe_name
from . import labels as L
from .catchment import (NEW_COLOUR, UTIL_BINS, UTIL_COLOURS, catchments, map_geometry,
                        names_of, open_projects, pick_mode, result_lang, school_stats,
                        stage_label, to_points, zone_stats)
from .fonts import font_context
from .map_labels import LEADER_FROM, PROJECT_LEADER, PROJECT_START, halo, place_labels

#: Colour map of the shortfall per 1,000 children.
SHORT_CMAP = "YlOrRd"
#: zlib level of the map PNGs (1: fastest; flat map colours compress well at any level).
PNG_COMPRESSION = 1


def _nice_length(span_m: float) -> float:
    """A round scale-bar length (m) near a fifth of the span."""
    target = max(span_m / 5, 1.0)
    base = 10 ** np.floor(np.log10(target))
    return float(max(m * base for m in (1, 2, 5) if m * base <= target))


def _m(key: str, lang: str, **fields: Any) -> str:
    return L.text("maps", key, lang, **fields)


#: Keys of the utilisation classes' legend labels ([maps] in text/<lang>.toml).
UTIL_KEYS = ["util_low", "util_mid", "util_high", "util_full"]


def scale_bar(ax: Any, bounds: tuple[float, float, float, float], lang: str = "en") -> None:
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
        ax.text(sx + frac * length, sy + 1.8 * h, fmt(km * frac) + (" " + _m("km", lang) if frac == 1 else ""),
                ha="center", va="bottom", fontsize=8, zorder=20, path_effects=halo)


def north_arrow(ax: Any, lang: str = "en") -> None:
    ax.annotate(_m("north", lang), xy=(0.955, 0.115), xytext=(0.955, 0.03), xycoords="axes fraction",
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
               labels: bool = True, lang: str | None = None) -> Figure:
    """One stage and year: shortfall per 1,000 children, schools, projects, catchments.

    Zones are shaded by the shortfall (of ``mode``, default the stage's headline rule:
    :meth:`~capacity.result.Result.headline_mode`) per 1,000
    children of the stage's ages; schools are circles sized by places and coloured by
    utilisation; key projects open by ``year`` are stars (new) and diamonds (expansion);
    catchment boundaries come from the assignment; ``rings`` adds service-radius circles.
    Zone names label the zones (a base layer); no label overprints another
    (:mod:`.map_labels`). Texts and names are in ``lang`` (default:
    the run's; draw inside :func:`.fonts.font_context` for Chinese).
    """
    mode = pick_mode(result, mode or result.headline_mode(stage))
    lang = lang or result_lang(result)
    mode_label = L.mode_label(mode, lang)
    geo = map_geometry(result)
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
    zone_labels = zone_names(ax, geo.zones, names_of(result, "zone", lang)) if labels else []

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
        pts = to_points(schools, geo.crs)
        if rings and result.stages.get(stage, {}).get("radius_m"):
            # the radius of the school's own zone (units elsewhere may have another)
            pts.buffer(result.radius_at(stage, pts), quad_segs=16).boundary.plot(
                ax=ax, color="#2c5aa0", lw=0.7, linestyle="--", zorder=6)
        colours = np.array(UTIL_COLOURS)[_util_class(schools["utilisation"])]
        ax.scatter(pts.x, pts.y, s=size(schools["places"]), c=colours, edgecolors="black",
                   linewidths=0.7, zorder=8)

    # key projects open by this year
    project_labels: list[Any] = []
    proj = open_projects(result, stage, year)
    if len(proj):
        ppts = to_points(proj, geo.crs)
        new = (proj["kind"] == "new").to_numpy()
        ax.scatter(ppts.x[~new], ppts.y[~new], s=size(proj["places"][~new]) * 2.2 + 60,
                   marker="D", facecolors="none", edgecolors=NEW_COLOUR, linewidths=2.0,
                   zorder=9)
        ax.scatter(ppts.x[new], ppts.y[new], s=230, marker="*", c=NEW_COLOUR,
                   edgecolors="black", linewidths=0.7, zorder=10)
        if labels and len(proj) <= 20:
            shown = names_of(result, "project", lang)
            for x, y, pid, name, yr in zip(ppts.x, ppts.y, proj["project_id"], proj["name"],
                                           proj["open_year"]):
                name = shown.get(str(pid), name)
                project_labels.append(ax.annotate(
                    f"{name} ({int(yr)})", (x, y), xytext=(6, 6), textcoords="offset points",
                    fontsize=7, zorder=11, path_effects=halo(2.5)))

    # extent, furniture
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_xlim(bounds[0], bounds[2])
    ax.set_ylim(bounds[1], bounds[3])
    scale_bar(ax, bounds, lang)
    north_arrow(ax, lang)

    ages = result.stage_ages(stage)
    agetext = _m("ages", lang, first=ages[0], last=ages[1]) if ages else \
        _m("ages_unknown", lang)
    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, orientation="horizontal",
                 fraction=0.035, pad=0.01, shrink=0.6, aspect=40,
                 label=_m("colorbar", lang, ages=agetext, mode=mode_label))
    heads = [_m(k, lang) for k in ("school_utilisation", "school_places", "projects_open",
                                   "areas")]
    handles: list[Any] = [Patch(facecolor="white", edgecolor="none", label=heads[0])]
    handles += [Line2D([], [], marker="o", ls="", markerfacecolor=c, markeredgecolor="black",
                       markersize=8, label=_m(k, lang)) for c, k in zip(UTIL_COLOURS, UTIL_KEYS)]
    handles.append(Patch(facecolor="white", edgecolor="none", label=heads[1]))
    for p in sorted({round(pmax / 4), round(pmax)}):
        if p > 0:
            handles.append(Line2D([], [], marker="o", ls="", markerfacecolor="white",
                                  markeredgecolor="black", label=f"{p:,.0f}",
                                  markersize=float(np.sqrt(size(p)))))
    handles.append(Patch(facecolor="white", edgecolor="none", label=heads[2]))
    handles.append(Line2D([], [], marker="*", ls="", markerfacecolor=NEW_COLOUR,
                          markeredgecolor="black", markersize=14, label=_m("new_school", lang)))
    handles.append(Line2D([], [], marker="D", ls="", markerfacecolor="none",
                          markeredgecolor=NEW_COLOUR, markeredgewidth=2, markersize=11,
                          label=_m("expansion", lang)))
    handles.append(Patch(facecolor="white", edgecolor="none", label=heads[3]))
    handles.append(Line2D([], [], color="#1b1b1b", lw=1.1,
                          label=_m("catchment_boundary", lang)))
    handles.append(Patch(facecolor="none", edgecolor="#555555", hatch="////", lw=0,
                         label=_m("not_served", lang)))
    handles.append(Line2D([], [], color="#555555", lw=0.7, ls=(0, (3, 2)),
                          label=_m("zone_boundary", lang)))
    handles.append(Line2D([], [], color="black", lw=1.8, label=_m("district", lang)))
    if rings:
        handles.append(Line2D([], [], color="#2c5aa0", lw=0.7, ls="--",
                              label=_m("service_radius", lang)))
    leg = ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                    frameon=False, fontsize=8, handletextpad=0.6, borderaxespad=0)
    for text in leg.get_texts():
        if text.get_text() in heads:
            text.set_fontweight("bold")
            text.set_x(-20)

    scenario = scenario_name(result.manifest, lang) or result.name
    fig.suptitle(_m("title", lang, scenario=scenario, stage=stage_label(result, stage, lang),
                    year=year), fontsize=14, fontweight="bold")
    served_total = schools["pupils"].sum() if len(schools) else 0
    ax.set_title(_m("subtitle", lang, schools=len(schools),
                    places=f"{schools['places'].sum():,.0f}", served=f"{served_total:,.0f}",
                    shortfall=f"{stats['shortfall'].sum():,.0f}", mode=mode_label),
                 fontsize=9)
    ax.text(0.91, 0.01, _m("footer", lang, crs=geo.crs), transform=ax.transAxes, ha="right",
            va="bottom", fontsize=6, color="#444444", zorder=20,
            path_effects=[patheffects.withStroke(linewidth=2, foreground="white")])
    place_map_labels(fig, ax, project_labels, zone_labels, lang)
    return fig


def zone_names(ax: Any, zones: gpd.GeoDataFrame, names: dict[str, str]) -> list[Any]:
    """Each zone's name at a point inside it, small and grey under everything else; larger
    zones first (the order :func:`.map_labels.place_labels` places them in)."""
    order = np.argsort(-zones.geometry.area.to_numpy(), kind="stable")
    spots = zones.geometry.representative_point()
    ids = zones["zone_id"].astype(str).to_numpy()
    return [ax.annotate(names.get(ids[i], ids[i]), (spots.iloc[i].x, spots.iloc[i].y),
                        xytext=(0, 0), textcoords="offset points", ha="center", va="center",
                        fontsize=6.5, color="#3a3a3a", alpha=0.85, zorder=7,
                        path_effects=halo()) for i in order]


def place_map_labels(fig: Figure, ax: Any, projects: list[Any], zones: list[Any],
                  lang: str) -> list[str]:
    """Lay the figure out, then place the labels so that none overlaps another or leaves
    the frame (:mod:`.map_labels`); a line under the map names those left out."""
    fix_layout(fig)
    _, left_out = place_labels(fig, ax, [(projects, PROJECT_START, PROJECT_LEADER),
                                         (zones, 0, LEADER_FROM)])
    legend = ax.get_legend()
    if left_out and legend is not None:           # listed under the legend, one a line
        renderer = FigureCanvasAgg(fig).get_renderer()
        box = legend.get_window_extent(renderer).transformed(fig.transFigure.inverted())
        fig.text(box.x0, box.y0 - 0.02, L.text("map_labels", "left_out", lang,
                                                names="\n" + "\n".join(left_out)),
                 fontsize=7, color="#444444", ha="left", va="top")
    return left_out


def fix_layout(fig: Figure) -> None:
    """Run the figure's layout engine (constrained layout) once and keep its result: the
    PNG and the SVG are then drawn without laying the figure out again."""
    engine = fig.get_layout_engine()
    if engine is not None and not isinstance(engine, PlaceHolderLayoutEngine):
        engine.execute(fig)
        fig.set_layout_engine("none")


def write_static_maps(result: Result, folder: str | Path, stage: str, year: int, *,
                      mode: str | None = None, rings: bool = False, dpi: int = 200
                      ) -> list[Path]:
    """Write ``folder/maps/<stage>_<year>.png`` (``dpi``) and ``.svg``; return the paths."""
    with font_context(result_lang(result)):
        fig = static_map(result, stage, year, mode=mode, rings=rings)
        return save_static_map(fig, folder, stage, year, dpi=dpi)


def save_static_map(fig: Figure, folder: str | Path, stage: str, year: int, *,
                    dpi: int = 200) -> list[Path]:
    """Save a drawn map as ``folder/maps/<stage>_<year>.png`` and ``.svg``."""
    if not is_safe_name(f"{stage}_{year}"):   # a stage name is a file name: never a path
        raise ValueError(f"unsafe stage name {stage!r} for a map file")
    out = Path(folder) / "maps"
    out.mkdir(parents=True, exist_ok=True)
    png, svg = out / f"{stage}_{year}.png", out / f"{stage}_{year}.svg"
    fix_layout(fig)                    # laid out once for both files
    write_png(fig, png, dpi)
    with rc_context({"svg.hashsalt": "capacity"}):   # the same ids on every run
        fig.savefig(svg, metadata={"Date": None})
    return [png, svg]


def write_png(fig: Figure, path: str | Path, dpi: int = 200) -> None:
    """``fig`` as a PNG at ``dpi``: rendered by Agg like ``savefig``, stored as RGB when
    opaque (a map always is), unfiltered, at fast zlib compression (:func:`png_bytes`) —
    the same pixels as ``savefig``, encoded 5x faster and about 13 % smaller."""
    canvas = FigureCanvasAgg(fig)
    before = fig.dpi
    fig.dpi = dpi
    try:
        canvas.draw()
        rgba = np.asarray(canvas.buffer_rgba())
    finally:
        fig.dpi = before
    opaque = rgba[..., 3].min() == 255                # opaque: no alpha channel needed
    Path(path).write_bytes(png_bytes(rgba[..., :3] if opaque else rgba, dpi))


def png_bytes(pixels: np.ndarray, dpi: float) -> bytes:
    """A PNG (8-bit RGB or RGBA, ``dpi`` in its pHYs chunk) of ``(h, w, 3 or 4)`` uint8
    pixels, every row unfiltered, deflated at level :data:`PNG_COMPRESSION`.

    Pillow filters every row adaptively, which takes two thirds of its encoding time and,
    on the flat colours of a map, makes the file larger, not smaller.
    """
    h, w, channels = pixels.shape
    rows = np.zeros((h, 1 + w * channels), dtype=np.uint8)    # filter byte 0: none
    rows[:, 1:].reshape(h, w, channels)[...] = pixels

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + \
            struct.pack(">I", zlib.crc32(kind + data))

    per_metre = int(dpi / 0.0254 + 0.5)
    return b"".join([b"\x89PNG\r\n\x1a\n",
                     chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8,
                                                {3: 2, 4: 6}[channels], 0, 0, 0)),
                     chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),
                     chunk(b"IDAT", zlib.compress(rows.tobytes(), PNG_COMPRESSION)),
                     chunk(b"IEND", b"")])
