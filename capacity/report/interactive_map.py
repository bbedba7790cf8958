"""The interactive catchment map: one self-contained, offline HTML file.

Inline SVG drawn by a small vanilla-JS script (``assets/catchments.js``) from embedded JSON
(per stage-year aggregates, not per-unit flows) — no tiles, no CDN, no network. Geometry
and figures come from :mod:`.catchment`; the run's rules from the ``Result`` (children,
stage ages, service radius per zone, headline year).
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

from ..names import scenario_name
from .money import money
from ..result import Result
from . import labels as L
from .flows import dominant, result_flows
from .catchment import (NEW_COLOUR, UTIL_BINS, UTIL_COLOURS, map_geometry, merge_cells,
                        names_of, open_projects, pick_mode, result_lang, run_modes,
                        run_stages, run_table, run_years, school_stats, stage_label,
                        to_points, zone_stats)

#: Palette for catchments (neighbouring schools get different ones).
CATCHMENT_PALETTE = ["#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462",
                     "#b3de69", "#fccde5", "#bc80bd", "#ccebc5", "#e5c494"]
#: Digits of the fixed-width base-64 codes of the unit → school assignments.
CODE_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"
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
    ok = counts[ring] >= 3                      # whole rings of fewer points are dropped
    ring, first, pos, dx, dy = ring[ok], first[ok], pos[ok], dx[ok], dy[ok]
    if len(ring) == 0:
        return [""] * n
    last = np.r_[ring[1:] != ring[:-1], True]
    lead = np.where(first, "M", np.where(pos == 1, "l", "")).tolist()
    tail = np.where(last, "z", " ").tolist()
    tokens = [f"{a}{b} {c}{d}" for a, b, c, d in zip(lead, dx.tolist(), dy.tolist(), tail)]
    geom = part_geom[ring_part[ring]]           # non-decreasing: a geometry's rings in a row
    cut = np.searchsorted(geom, np.arange(n + 1))
    return ["".join(tokens[a:b]) for a, b in zip(cut[:-1].tolist(), cut[1:].tolist())]


def _nums(values: Any, digits: int = 1) -> list[float | None]:
    """Rounded floats for JSON, NaN as None (integral values as int to save bytes)."""
    a = np.round(np.asarray(values, dtype=float), digits)
    ints = np.isfinite(a) & (a == np.round(a))
    out = np.where(np.isfinite(a), a, None).astype(object)
    out[ints] = a[ints].astype(np.int64)
    return out.tolist()


def encode(codes: np.ndarray, width: int) -> str:
    """Fixed-width base-64 string of non-negative integer codes."""
    return encode_rows(np.asarray(codes).reshape(1, -1), width)[0]


def encode_rows(codes: np.ndarray, width: int) -> list[str]:
    """:func:`encode` of each row of a 2-D array of codes."""
    digits = (codes[..., None] // (64 ** np.arange(width - 1, -1, -1))) % 64
    chars = np.frombuffer(CODE_DIGITS.encode("ascii"), dtype=np.uint8)[digits]
    return [row.tobytes().decode("ascii") for row in chars.reshape(len(codes), -1)]


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


def designed_layer(cells: pd.Series, school_of: pd.Series, names: dict[str, str],
                   origin: tuple[float, float]) -> dict[str, list[str]]:
    """Designed catchments as an overlay: one outline per school, dissolved from the cells
    of its units (``cells`` and ``school_of`` by unit id), with the school's id and name
    (in the map's language) for the tooltip."""
    on = school_of.reindex(cells.index).dropna().astype(str)
    on = on[on != ""]
    ids = sorted(on.unique())
    shapes = [merge_cells(cells.loc[on.index[on == i]].to_numpy()) for i in ids]
    return {"id": ids, "name": [names.get(i, i) for i in ids],
            "path": svg_paths(shapes, origin)}


def _designed(result: Result, units: pd.DataFrame, stages: list[str],
              origin: tuple[float, float], lang: str) -> dict[str, Any] | None:
    """Per stage, the designed layer of a run under a catchment map (its
    ``designed_catchments`` table); None for a run without one."""
    table = result.extras.get("designed_catchments")
    if table is None or not len(table):
        return None
    cells = pd.Series(units["cell"].to_numpy(), index=units["unit_id"].astype(str).to_numpy())
    names = names_of(result, "school", lang)
    out = {}
    for stage in stages:
        sub = table[table["stage"].astype(str) == stage]
        if len(sub):
            out[stage] = designed_layer(cells, pd.Series(
                sub["school_id"].astype(str).to_numpy(),
                index=sub["unit_id"].astype(str).to_numpy()), names, origin)
    return out or None


def _zone_scale(result: Result, stages: list[str], points: gpd.GeoSeries) -> np.ndarray:
    """The zone's radius factor at each point: ``Result.radius_at`` of a stage with a
    service radius ÷ that radius (the factor is the same for every stage; ones if none)."""
    for stage in stages:
        radius = result.stages.get(stage, {}).get("radius_m")
        if radius:
            return result.radius_at(stage, points) / float(radius)
    return np.ones(len(points))


def _map_data(result: Result, stages: list[str], years: list[int]) -> dict[str, Any]:
    """The interactive map's embedded JSON (per stage-year aggregates, not per-unit flows)."""
    geo = map_geometry(result)
    modes = run_modes(result)
    x0, y0, x1, y1 = geo.bounds()
    pad = 0.03 * max(x1 - x0, y1 - y0, 1.0)
    origin = (x0 - pad, y1 + pad)
    width = int(np.ceil((x1 - x0 + 2 * pad) / _UNIT))
    height = int(np.ceil((y1 - y0 + 2 * pad) / _UNIT))

    def xy(points: gpd.GeoSeries) -> tuple[list[int], list[int]]:
        return (np.rint((points.x - origin[0]) / _UNIT).astype(int).tolist(),
                np.rint((origin[1] - points.y) / _UNIT).astype(int).tolist())

    zones = geo.zones
    units = geo.units

    cap = run_table(result, "capacity")
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
    spts = to_points(sch, geo.crs) if len(sch) else gpd.GeoSeries([], crs=geo.crs)
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
    grid = _Grid(years, zones["zone_id"].to_numpy(), modes,
                 pd.Index(units["unit_id"].to_numpy()), pd.Index(sch["school_id"].to_numpy()))
    for stage in stages:
        data[stage], vmax[stage] = _stage_data(result, stage, grid, width_codes, assignments)

    projects = []
    map_lang = result_lang(result)
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
                    "cost": None if pd.isna(rec["cost"]) else float(rec["cost"]),
                    "cost_text": "" if pd.isna(rec["cost"]) else money(float(rec["cost"]),
                                                                        map_lang)})
    ages = {s: result.stage_ages(s) for s in stages}
    lang = result_lang(result)
    zone_names, school_names = names_of(result, "zone", lang), names_of(result, "school", lang)
    project_names = names_of(result, "project", lang)
    for p in projects:
        p["name"] = project_names.get(p["id"], p["name"])
    return {
        "scenario": scenario_name(result.manifest, lang) or str(result.name),
        "crs": geo.crs, "unit": _UNIT, "view": [0, 0, width, height],
        "stages": [{"id": s, "label": stage_label(result, s, lang),
                    "ages": list(ages[s]) if ages[s] else None,
                    "radius": result.stages.get(s, {}).get("radius_m"),
                    "vmax": vmax[s]} for s in stages],
        "years": years, "modes": modes, "mode": pick_mode(result, None),
        "district": svg_paths([geo.district], origin)[0] if geo.district is not None else "",
        "zones": {"id": zones["zone_id"].astype(str).tolist(),
                  "name": [zone_names.get(z, n) for z, n in zip(
                      zones["zone_id"].astype(str), zones["name"].astype(str))],
                  "path": svg_paths(zones.geometry.values, origin)},
        "cells": svg_paths(units["cell"].to_numpy(), origin),
        "codeWidth": width_codes,
        "assign": list(assignments),
        "schools": {"id": sch["school_id"].astype(str).tolist(),
                    "name": [school_names.get(i, n) for i, n in zip(
                        sch["school_id"].astype(str), sch["name"].astype(str))],
                    "x": sx, "y": sy,
                    "rs": _nums(_zone_scale(result, stages, spts), 3), "colour": scol},
        "palette": CATCHMENT_PALETTE, "utilBins": UTIL_BINS[1:-1],
        "utilLabels": [L.text("maps", k, lang) for k in
                       ("util_low", "util_mid", "util_high", "util_full")],
        "utilColours": UTIL_COLOURS, "newColour": NEW_COLOUR,
        "projects": projects, "data": data, "lang": lang, "t": L.TEXTS[lang]["map"],
        "modeLabels": {m: L.mode_label(m, lang) for m in modes},
        "designed": _designed(result, units, stages, origin, lang),
    }


@dataclass(frozen=True)
class _Grid:
    """The axes of the interactive map's arrays: years × zones, modes, units, schools."""

    years: list[int]
    zone_ids: np.ndarray
    modes: list[str]
    units: pd.Index
    schools: pd.Index

    def table(self, frame: pd.DataFrame, column: str) -> np.ndarray:
        """``frame[column]`` by (year, zone_id) as a years × zones array (NaN: no row)."""
        out = np.full((len(self.years), len(self.zone_ids)), np.nan)
        yi = pd.Index(self.years).get_indexer(frame["year"])
        zi = pd.Index(self.zone_ids).get_indexer(frame["zone_id"])
        ok = (yi >= 0) & (zi >= 0)
        out[yi[ok], zi[ok]] = frame[column].to_numpy(float)[ok]
        return out

    def codes(self, result: Result, stage: str) -> np.ndarray:
        """Unit → school codes per (year, mode) row and unit: 0 no demand, 1 not served,
        2 + the school's index."""
        codes = np.zeros((len(self.years) * len(self.modes), len(self.units)), dtype=np.int64)
        if run_table(result, "allocation").empty:
            return codes
        flows = result_flows(result)
        year, mode, unit, school = dominant(flows, stage)
        row = pd.Index(self.years).get_indexer(year)
        mi = pd.Index(self.modes).get_indexer(flows.modes)[mode]
        col = self.units.get_indexer(flows.units)[unit]
        spos = self.schools.get_indexer(flows.schools)
        sidx = np.where(school >= 0, spos[np.maximum(school, 0)] if len(spos) else -1, -1)
        ok = (row >= 0) & (mi >= 0) & (col >= 0)
        codes[(row * len(self.modes) + mi)[ok], col[ok]] = np.where(sidx[ok] >= 0,
                                                                    sidx[ok] + 2, 1)
        return codes


def _stage_data(result: Result, stage: str, grid: _Grid, width_codes: int,
                assignments: dict[str, int]) -> tuple[dict[str, Any], float]:
    """One stage's entry per year (children, demand, schools, places; per mode shortfall,
    out of reach, pupils and the assignment's index in ``assignments``), and the largest
    shortfall per 1,000 children of any year and mode."""
    modes, years = grid.modes, grid.years
    kids = grid.table(result.children(stage), "children")
    zs = {m: zone_stats(result, stage, None, m) for m in modes}
    allv = pd.concat([z["per_1000"] for z in zs.values()])
    vmax = float(np.nanmax(allv)) if allv.notna().any() else 0.0
    zt = {m: {c: grid.table(zs[m], c) for c in ("demand", "shortfall", "out_of_reach")}
          for m in modes}
    ss = {m: school_stats(result, stage, None, m) for m in modes}
    first = ss[modes[0]]
    fyear = first["year"].to_numpy()
    spos = grid.schools.get_indexer(first["school_id"].to_numpy())
    places = first["places"].to_numpy()
    keys = pd.MultiIndex.from_arrays([first["year"], first["school_id"]])
    pupils = {}
    for m in modes:   # pupils of each mode, by the first mode's rows (year, school_id)
        at = pd.MultiIndex.from_arrays([ss[m]["year"], ss[m]["school_id"]]).get_indexer(keys)
        pupils[m] = np.where(at >= 0, ss[m]["pupils"].to_numpy(float)[at], np.nan)
    codes = encode_rows(grid.codes(result, stage), width_codes)
    out: dict[str, Any] = {}
    for yi, year in enumerate(years):
        here = fyear == year
        entry: dict[str, Any] = {"c": _nums(kids[yi]), "d": _nums(zt[modes[0]]["demand"][yi]),
                                 "s": spos[here].tolist(), "p": _nums(places[here]), "m": {}}
        for mi, mode in enumerate(modes):
            enc = codes[yi * len(modes) + mi]
            entry["m"][mode] = {"f": _nums(zt[mode]["shortfall"][yi]),
                                "o": _nums(zt[mode]["out_of_reach"][yi]),
                                "q": _nums(pupils[mode][here]),
                                "a": assignments.setdefault(enc, len(assignments))}
        out[str(year)] = entry
    return out, vmax


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
    default_year = result.report_year if result.report_year in years else \
        (years[-1] if years else None)   # the run's headline year, if shown
    stage_opts = "".join(f'<option value="{html.escape(s["id"])}">{html.escape(s["label"])}'
                         "</option>" for s in data["stages"])
    year_opts = "".join(f'<option value="{y}"{" selected" if y == default_year else ""}>'
                        f"{y}</option>" for y in years)
    mode_opts = "".join(f'<option value="{html.escape(m)}"'
                        f'{" selected" if m == data["mode"] else ""}>'
                        f'{html.escape(data["modeLabels"][m])}</option>' for m in data["modes"])
    yi = years.index(default_year) if years else 0
    page = _asset("catchments.html")
    lang = data["lang"]
    for key, text in data["t"].items():          # {{T:key}}: a [map] text of the language
        page = page.replace("{{T:" + key + "}}", html.escape(text))
    return (page.replace("{{TITLE}}", html.escape(L.text("map", "title", lang,
                                                         scenario=data["scenario"])))
            .replace("{{LANG}}", "zh-CN" if lang == "zh" else "en")
            .replace("{{CSS}}", _asset("catchments.css"))
            .replace("{{STAGE_OPTIONS}}", stage_opts)
            .replace("{{YEAR_OPTIONS}}", year_opts)
            .replace("{{MODE_OPTIONS}}", mode_opts)
            .replace("{{YEAR_MAX}}", str(max(len(years) - 1, 0)))
            .replace("{{YEAR_INDEX}}", str(yi))
            .replace("{{SCENARIO}}", scenario)
            .replace("{{JS}}", _asset("catchments.js"))
            .replace("{{DATA}}", _json_for_script(data)))


def write_interactive_map(result: Result, folder: str | Path, *,
                          stages: list[str] | None = None,
                          years: list[int] | None = None) -> Path:
    """Write ``folder/maps/catchments.html``; return its path."""
    out = Path(folder) / "maps"
    out.mkdir(parents=True, exist_ok=True)
    path = out / "catchments.html"
    path.write_text(interactive_map(result, stages=stages, years=years), encoding="utf-8")
    return path
