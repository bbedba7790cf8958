"""plan_map.png: what the plan builds and who is still without a place, on the zones — in the
model's projected coordinates, with a scale bar, a north arrow, zone names and the names of
the schools built or expanded, placed so that no two labels overlap (:mod:`.map_labels`)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from . import labels as L  # noqa: E402
from .fonts import font_context  # noqa: E402
from .map_labels import halo  # noqa: E402
from .plan_section import Names, kind_label, option_name  # noqa: E402
from .static_maps import north_arrow, place_map_labels, scale_bar, zone_names  # noqa: E402

#: Marker and size of each kind of action on the map.
KIND_STYLE = {"new": ("o", 90), "expansion": ("^", 70), "temporary": ("s", 18)}


def unserved_points(plan: Any) -> pd.DataFrame:
    """stage, x, y, pupils: pupils still without a place after the plan, per unit, in each
    stage's worst year (the central future), spread over a reach class's units by their
    pupils (model CRS)."""
    rows = []
    units = plan.state.units
    for stage, r in plan.results.items():
        f = r.formulation
        if f is None or not len(r.years):
            continue
        t = int(np.argmax(r.unserved[0]))
        if r.unserved[0, t] < 0.5:
            continue
        v = r.solution.values
        served = np.zeros(f.data.demand.shape[1])
        x = f.x[(f.x["w"] == 0) & (f.x["t"] == t)]
        np.add.at(served, x["cls"].to_numpy(int), v[x["var"].to_numpy(int)])
        short = np.maximum(f.data.demand[0, :, t] - served, 0)
        k = plan.state.stage_names.index(stage)
        year = int(np.flatnonzero(plan.state.years == r.years[t])[0])
        pupils = plan.state.unit_pupils[year, k, :].astype(float)
        uc = f.data.unit_class
        per_class = np.bincount(uc[uc >= 0], weights=pupils[uc >= 0], minlength=len(short))
        share = np.where(per_class > 0, short / np.maximum(per_class, 1e-9), 0.0)
        unit_short = np.where(uc >= 0, pupils * share[np.maximum(uc, 0)], 0.0)
        on = unit_short > 0.05
        rows.append(pd.DataFrame({"stage": stage, "x": units["x"].to_numpy()[on],
                                  "y": units["y"].to_numpy()[on],
                                  "pupils": unit_short[on]}))
    return pd.concat(rows, ignore_index=True) if rows else \
        pd.DataFrame(columns=["stage", "x", "y", "pupils"])


def plan_map(zones: gpd.GeoDataFrame, plan: pd.DataFrame, title: str, lang: str,
             names: Names | None = None, unserved: pd.DataFrame | None = None) -> Figure:
    """Zones with their names, new schools (circles), expansions (triangles) and temporary
    places (squares) by stage with the built schools' names, pupils still without a place
    (red dots, area ∝ pupils), a scale bar and a north arrow."""
    names = names or {}
    fig, ax = plt.subplots(figsize=(8.3, 8.3), layout="constrained")
    zones.boundary.plot(ax=ax, color="0.6", linewidth=0.6)
    zone_labels = zone_names(ax, zones, names.get("zone", {}))
    order = list(dict.fromkeys(plan["stage"]))
    colours = dict(zip(order, plt.cm.tab10.colors))
    shown = plan[plan["kind"].isin(list(KIND_STYLE))].copy()
    if len(shown):
        pts = gpd.GeoSeries(gpd.points_from_xy(shown["lon"], shown["lat"]), crs="EPSG:4326") \
            .to_crs(zones.crs)
        shown["x"], shown["y"] = pts.x.to_numpy(), pts.y.to_numpy()
    if unserved is not None and len(unserved):
        ax.scatter(unserved["x"], unserved["y"], s=4 + 3 * np.sqrt(unserved["pupils"]),
                   color="#d62728", alpha=0.55, linewidth=0, zorder=4,
                   label=L.text("plan_report", "map_unserved", lang))
    site_labels = []
    for (stage, kind), g in sorted(shown.groupby(["stage", "kind"]),
                                   key=lambda kv: (order.index(kv[0][0]), kv[0][1])):
        g = g.drop_duplicates(["x", "y"])          # a school's runs of temporary places
        marker, size = KIND_STYLE[kind]
        ax.scatter(g["x"], g["y"], s=size, marker=marker, color=colours[stage],
                   edgecolor="black", linewidth=0.5, zorder=6,
                   label=f"{L.stage_label(stage, lang)}: {kind_label(kind, lang)} ({len(g)})")
        if kind == "temporary":
            continue
        for r in g.itertuples():
            text = option_name(kind, r.name, r.zone_id, lang, r.school_id, names, stage, r.id)
            site_labels.append(ax.annotate(text, (r.x, r.y), xytext=(0, 0),
                                           textcoords="offset points", fontsize=7,
                                           ha="center", va="center", zorder=8,
                                           path_effects=halo()))
    ax.set_title(title)
    ax.set_aspect("equal")
    ax.set_axis_off()
    x0, y0, x1, y1 = zones.total_bounds
    scale_bar(ax, (x0, y0, x1, y1), lang)
    north_arrow(ax, lang)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", fontsize=8, framealpha=0.9)
    place_map_labels(fig, ax, site_labels, zone_labels, lang)
    return fig


def write_plan_map(folder: Path, zones: gpd.GeoDataFrame, plan: pd.DataFrame, title: str,
                   lang: str = "en", names: Names | None = None,
                   unserved: pd.DataFrame | None = None) -> Path:
    """plan_map.png (see :func:`plan_map`)."""
    path = folder / "plan_map.png"
    with font_context(lang):
        fig = plan_map(zones, plan, title, lang, names, unserved)
        fig.savefig(path, dpi=120, metadata={"Software": None})
    plt.close(fig)
    return path
