"""Write a ``capacity catchments`` run atomically into ``OUT/<scenario>-catchments/``:
catchments.geojson, the tables, a static map per designed map, report.html
(docs/outputs.md)."""
from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..csvout import write_csv
from ..report import labels as L
from ..report.catchment import merge_cells
from ..runfolder import atomic_folder
from .run import Catchments


def polygons(c: Catchments) -> gpd.GeoDataFrame:
    """One polygon per school and map, dissolved from its units' cells, in WGS84."""
    rows, geoms = [], []
    cells = c.adjacency.cells
    for m in c.maps:
        s_of = m.design.school_of
        for s in np.unique(s_of[s_of >= 0]):
            rows.append({"stage": m.stage, "first_year": m.first, "last_year": m.last,
                         "school_id": m.site_ids[s],
                         "contiguous": bool(m.design.contiguous[s]),
                         "units": int((s_of == s).sum())})
            geoms.append(merge_cells(cells[s_of == s]))
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=c.state.model.crs).to_crs("EPSG:4326")


#: Colours of the catchments: neighbouring catchments never share one (greedy colouring).
PALETTE = ["#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462", "#b3de69",
           "#fccde5", "#d9d9d9", "#bc80bd", "#ccebc5", "#ffed6f"]


def colours(c: Catchments, m) -> dict[str, int]:
    """School id → palette index, different for catchments that touch (largest first)."""
    s_of = m.design.school_of
    u, v = c.adjacency.pairs()
    a, b = s_of[u], s_of[v]
    keep = (a >= 0) & (b >= 0) & (a != b)
    touching: dict[int, set[int]] = {}
    for x, y in zip(a[keep].tolist(), b[keep].tolist()):
        touching.setdefault(x, set()).add(y)
    order = sorted(np.unique(s_of[s_of >= 0]).tolist(), key=lambda s: -len(touching.get(s, ())))
    got: dict[int, int] = {}
    for s in order:
        used = {got[t] for t in touching.get(s, ()) if t in got}
        got[s] = next((k for k in range(len(PALETTE)) if k not in used), s % len(PALETTE))
    return {str(m.site_ids[s]): k for s, k in got.items()}


def map_png(c: Catchments, shapes: gpd.GeoDataFrame, m, path: Path, lang: str) -> None:
    """A static map of one designed map: catchments in distinct colours, schools, zones."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..report.fonts import font_context

    crs = c.state.model.crs
    sel = shapes[(shapes["stage"] == m.stage) & (shapes["first_year"] == m.first)
                 & (shapes["last_year"] == m.last)].to_crs(crs)
    summary = c.tables["catchment_summary"]
    row = summary[(summary["stage"] == m.stage) & (summary["year"] == m.first)
                  & (summary["first_year"] == m.first)].iloc[0]
    with font_context(lang):
        fig, ax = plt.subplots(figsize=(8, 8))
        c.state.model.zones.boundary.plot(ax=ax, color="#999999", linewidth=0.4)
        if len(sel):
            colour = colours(c, m)
            sel.plot(ax=ax, color=[PALETTE[colour[str(i)]] for i in sel["school_id"]],
                     edgecolor="white", linewidth=0.5, alpha=0.9)
        sites = c.state.supply.sites[c.state.site_mask(m.stage)]
        ax.scatter(sites["x"], sites["y"], s=8, c="black", label=L.text("catchments",
                                                                         "schools", lang))
        years = str(m.first) if m.first == m.last else f"{m.first}–{m.last}"
        ax.set_title(L.text("catchments", "map_title", lang, scenario=c.state.scenario.name,
                            stage=L.stage_label(m.stage, lang), years=years), fontsize=11)
        ax.text(0.01, 0.01, L.text("catchments", "legend_note", lang,
                                   n=int(row["catchments"]),
                                   contiguous=int(round(row["contiguous_share"]
                                                        * row["catchments"])),
                                   short=int(row["shortfall_designed"]),
                                   nearest=int(row["shortfall_nearest"]),
                                   optimal=int(row["shortfall_optimal"])),
                transform=ax.transAxes, fontsize=8)
        ax.legend(loc="upper right", fontsize=8)
        ax.set_axis_off()
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)


#: Number formats of catchments.xlsx's columns whose labels the workbook cannot recognise
#: (capacity.report.workbook NUMBER_FORMATS: shares as %, years without a separator).
WORKBOOK_KINDS = (("utilisation", "rate"), ("contiguous_share", "rate"), ("gap", "rate"),
                  ("year", "year"))


def workbook_views(c: Catchments, lang: str) -> dict[str, pd.DataFrame]:
    """catchments.xlsx: the shortfall under nearest, designed and optimal side by side,
    then schools and zones, labelled in ``lang``."""
    def t(key: str) -> str:
        return L.text("catchments", key, lang)

    def label(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.assign(stage=frame["stage"].map(lambda v: L.stage_label(v, lang)),
                             map=[str(a) if a == b else f"{a}–{b}" for a, b in
                                  zip(frame["first_year"], frame["last_year"])])
        frame = frame.drop(columns=["first_year", "last_year"])
        frame = frame[["stage", "map"] + [k for k in frame.columns if k not in ("stage",
                                                                                 "map")]]
        if "status" in frame:
            frame = frame.assign(status=[t(f"status_{v.replace(' ', '_')}")
                                         for v in frame["status"]])
        return frame.rename(columns={k: t(f"col_{k}") for k in frame.columns})

    s = c.tables["catchment_summary"][[
        "stage", "first_year", "last_year", "year", "demand", "places", "shortfall_nearest",
        "shortfall_designed", "shortfall_optimal", "out_of_reach", "catchments",
        "contiguous_share", "pupils_moved", "status", "gap"]]
    sch = c.tables["catchment_schools"]
    z = c.tables["catchment_shortfall"][["stage", "first_year", "last_year", "year",
                                         "zone_id", "demand", "served", "shortfall",
                                         "out_of_reach"]]
    return {t("sheet_summary"): label(s), t("sheet_schools"): label(sch),
            t("sheet_zones"): label(z)}


def interactive(c: Catchments, shapes: gpd.GeoDataFrame, lang: str) -> str:
    """catchments.html: the polygons of catchments.geojson as one layer per map, school
    names (name_zh in Chinese) in the tooltips."""
    from ..names import display_names, names_table
    from ..report.interactive_map import svg_paths
    from .report import map_html

    state = c.state
    names = display_names(names_table(state.model, state.supply), "school", lang)
    zones = state.model.zones
    x0, y0, x1, y1 = zones.total_bounds
    pad = 0.03 * max(x1 - x0, y1 - y0, 1.0)
    origin, unit = (x0 - pad, y1 + pad), 5.0
    view = [0, 0, int(np.ceil((x1 - x0 + 2 * pad) / unit)),
            int(np.ceil((y1 - y0 + 2 * pad) / unit))]
    local = shapes.to_crs(state.model.crs)
    layers = []
    for m in c.maps:
        sel = local[(local["stage"] == m.stage) & (local["first_year"] == m.first)
                    & (local["last_year"] == m.last)]
        colour = colours(c, m)
        ids = sel["school_id"].astype(str).tolist()
        years = str(m.first) if m.first == m.last else f"{m.first}–{m.last}"
        layers.append({"title": f"{L.stage_label(m.stage, lang)} {years}", "id": ids,
                       "name": [names.get(i, i) for i in ids],
                       "units": sel["units"].astype(int).tolist(),
                       "colour": [colour[i] for i in ids],
                       "path": svg_paths(sel.geometry.values, origin, unit)})
    return map_html(layers, svg_paths(zones.geometry.values, origin, unit), view,
                    state.scenario.name, lang, PALETTE)


def write_catchments(c: Catchments, out: str | Path, lang: str | None = None) -> Path:
    """Write every file; returns the folder."""
    state = c.state
    lang = lang or state.scenario.lang or state.model.lang or "en"
    bom = bool(state.model.csv_bom if state.scenario.csv_bom is None else
               state.scenario.csv_bom)
    shapes = polygons(c)
    name = f"{state.scenario.name}-catchments"
    with atomic_folder(out, name) as folder:
        shapes.to_file(folder / "catchments.geojson", driver="GeoJSON")
        for table, frame in c.tables.items():
            write_csv(frame, folder / f"{table}.csv", bom=bom)
        from ..report.workbook import write_workbook

        views = workbook_views(c, lang)
        kinds = {L.text("catchments", f"col_{k}", lang): kind for k, kind in WORKBOOK_KINDS}
        write_workbook(folder / "catchments.xlsx", views, lang=lang,
                       formats={v: kinds for v in views})
        (folder / "maps").mkdir()
        images = []
        for m in c.maps:
            tag = str(m.first) if m.first == m.last else f"{m.first}-{m.last}"
            png = folder / "maps" / f"catchments_{m.stage}_{tag}.png"
            map_png(c, shapes, m, png, lang)
            years = str(m.first) if m.first == m.last else f"{m.first}–{m.last}"
            images.append((L.text("catchments", "map_title", lang,
                                  scenario=state.scenario.name,
                                  stage=L.stage_label(m.stage, lang), years=years),
                           png.read_bytes()))
        from .report import report_html

        (folder / "catchments.html").write_text(interactive(c, shapes, lang),
                                                encoding="utf-8")
        (folder / "report.html").write_text(report_html(
            c.tables["catchment_summary"], state.scenario.name, state.model.name, lang,
            images, map_link="catchments.html"), encoding="utf-8")
        (folder / "manifest.json").write_text(json.dumps({
            "scenario": state.scenario.name, "model": state.model.name,
            "crs": state.model.crs, "lang": lang,
            "maps": [{"stage": m.stage, "first_year": m.first, "last_year": m.last,
                      "status": m.design.status, "seconds": round(m.design.seconds, 2)}
                     for m in c.maps],
            "warnings": list(state.warnings)}, ensure_ascii=False, indent=1),
            encoding="utf-8")
    return Path(out) / name


__all__ = ["write_catchments", "polygons"]
