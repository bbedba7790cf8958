"""Cross-table checks of a loaded model: ids, age coverage, places, points inside zones.

Each check adds located problems; nothing here raises. Coordinates are projected to the
model CRS here (adding ``x``, ``y`` columns) because the inside-zone checks need them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyproj
from pyproj.exceptions import CRSError

from ..errors import Problems
from .tables import report_rows

POINT_TOL = 1000.0  # metres a point may lie outside its zone (boundaries are approximate)

if TYPE_CHECKING:
    from .load import Model

YEAR_SPAN = 60  # opening/completion years must lie within base_year ± this


def validate_tables(model: "Model", problems: Problems) -> None:
    """Check every table against the others; add ``x``/``y`` to point tables."""
    zones = set(model.zones["zone_id"])
    ages = np.arange(model.open_age + 1)
    label = _labels(model)

    pop = model.population
    _known_zones(pop, zones, label["population"], problems)
    _ages_in_range(pop, model.open_age, label["population"], problems)
    _complete_ages(pop, ["zone_id", "sex"], ages, label["population"], problems,
                   expect_keys=pd.MultiIndex.from_product([sorted(zones), ["F", "M"]],
                                                          names=["zone_id", "sex"]))

    fert = model.fertility
    if "zone_id" in fert.columns:
        fz = fert[fert["zone_id"].notna() & (fert["zone_id"] != "")]
        _known_zones(fz, zones, label["fertility"], problems)
        key = fert["zone_id"].fillna("")
    else:
        key = pd.Series("", index=fert.index)
    dup = pd.DataFrame({"z": key, "a": fert["age"]}).duplicated()
    report_rows(problems, label["fertility"], fert, dup, "age",
                lambda r: f"duplicate age {int(r['age'])} for the same schedule",
                "one row per age (and zone_id)")
    _ages_in_range(fert, model.open_age, label["fertility"], problems)

    mort = model.mortality
    _ages_in_range(mort, model.open_age, label["mortality"], problems)
    _complete_ages(mort, ["sex"], ages, label["mortality"], problems,
                   expect_keys=pd.Index(["F", "M"], name="sex"))

    mig = model.migration
    if len(mig):
        _known_zones(mig, zones, label["migration"], problems)
        _ages_in_range(mig, model.open_age, label["migration"], problems)

    lo, hi = model.base_year - YEAR_SPAN, model.base_year + YEAR_SPAN
    if len(model.housing):
        h = model.housing
        _known_zones(h, zones, label["housing"], problems)
        _years(h, "completion_year", lo, hi, label["housing"], problems)
        _points(model, h, label["housing"], problems, zone_col="zone_id")

    if model.units is not None:
        u = model.units
        _known_zones(u, zones, label["units"], problems)
        total = u.groupby("zone_id")["weight"].sum()
        for z, w in total.items():
            if abs(w - 1) > 1e-6:
                line = int(u.index[u["zone_id"] == z][0])
                problems.add(label["units"], f"weights of zone {z!r} sum to {w:.6g}",
                             row=line, column="weight", expected="weights summing to 1 per zone")
        populated = set(pop.loc[pop["count"] > 0, "zone_id"])
        for z in sorted(populated - set(u["zone_id"])):
            problems.add(label["units"], f"zone {z!r} has people but no demand units",
                         column="zone_id", expected="at least one unit per populated zone")
        _points(model, u, label["units"], problems, zone_col="zone_id")

    stages = set(model.stages)
    s = model.schools
    if len(s):
        _stage_known(s, stages, label["schools"], problems)
        _places(s, model, label["schools"], problems)
        _points(model, s, label["schools"], problems)
        inc = s.get("inclusive")
        if inc is not None:
            wrong = inc.fillna(False).astype(bool) & (s["stage"] != "kindergarten")
            report_rows(problems, label["schools"], s, wrong, "inclusive",
                        lambda r: f"inclusive is set for a {r['stage']} school",
                        "inclusive only on kindergarten rows", limit=3)
    p = model.projects
    if len(p):
        lp = label["projects"]
        _stage_known(p, stages, lp, problems)
        _places(p, model, lp, problems)
        _years(p, "open_year", lo, hi, lp, problems)
        sid = p["school_id"] if "school_id" in p.columns else pd.Series(pd.NA, index=p.index)
        exp = p["kind"] == "expansion"
        report_rows(problems, lp, p, exp & (sid.isna() | (sid == "")), "school_id",
                    lambda r: f"expansion {r['project_id']!r} names no school",
                    "the school_id of an existing school in schools.csv")
        existing = set(zip(s["school_id"], s["stage"])) if len(s) else set()
        missing = exp & sid.notna() & (sid != "") & ~pd.Series(
            [(a, b) in existing for a, b in zip(sid, p["stage"])], index=p.index)
        report_rows(problems, lp, p, missing, "school_id",
                    lambda r: f"expansion {r['project_id']!r} points at school "
                              f"{r['school_id']!r} with stage {r['stage']!r}, not in schools.csv",
                    "an existing school_id with a row of the same stage")
        new = p["kind"] == "new"
        has_xy = "lon" in p.columns and "lat" in p.columns
        no_xy = new & (p["lon"].isna() | p["lat"].isna()) if has_xy else new
        report_rows(problems, lp, p, no_xy, "lon",
                    lambda r: f"new school {r['project_id']!r} has no location",
                    "lon and lat of the site")
        clash = new & p["project_id"].isin(set(s["school_id"]) if len(s) else set())
        report_rows(problems, lp, p, clash, "project_id",
                    lambda r: f"new project id {r['project_id']!r} is already a school_id",
                    "a project_id distinct from every school_id")
        if has_xy:
            _points(model, p, lp, problems, rows=new & ~no_xy)
        else:
            p["x"], p["y"] = np.nan, np.nan


def _labels(model: "Model") -> dict[str, str]:
    return {k: model.files[k].name if k in model.files else f"{k}.csv"
            for k in ("population", "fertility", "mortality", "migration", "housing", "units",
                      "schools", "projects")}


def _known_zones(frame: pd.DataFrame, zones: set[str], label: str, problems: Problems) -> None:
    unknown = ~frame["zone_id"].isin(zones)
    report_rows(problems, label, frame, unknown, "zone_id",
                lambda r: f"unknown zone_id {r['zone_id']!r}", "a zone_id from the zones file")


def _ages_in_range(frame: pd.DataFrame, open_age: int, label: str, problems: Problems) -> None:
    report_rows(problems, label, frame, frame["age"] > open_age, "age",
                lambda r: f"age {int(r['age'])} is above the open age group {open_age}",
                f"ages 0..{open_age} ({open_age} = open group, set by [demography] open_age)")


def _complete_ages(frame: pd.DataFrame, keys: list[str], ages: np.ndarray, label: str,
                   problems: Problems, expect_keys: pd.Index) -> None:
    have = frame.groupby(keys)["age"].agg(lambda a: set(a.astype(int)))
    shown = 0
    for key in expect_keys:
        got = have.get(key, set())
        gaps = sorted(set(ages.tolist()) - got)
        if gaps and shown < 10:
            keytxt = ", ".join(f"{k}={v}" for k, v in zip(keys, key if isinstance(key, tuple)
                                                          else (key,)))
            span = _spans(gaps)
            problems.add(label, f"ages {span} missing for {keytxt}", column="age",
                         expected=f"one row for every age 0..{ages[-1]}")
            shown += 1


def _spans(values: list[int]) -> str:
    out, start = [], values[0]
    for a, b in zip(values, values[1:] + [None]):
        if b != a + 1:
            out.append(f"{start}" if start == a else f"{start}-{a}")
            start = b
    return ", ".join(out[:5]) + (" …" if len(out) > 5 else "")


def _years(frame: pd.DataFrame, col: str, lo: int, hi: int, label: str,
           problems: Problems) -> None:
    report_rows(problems, label, frame, (frame[col] < lo) | (frame[col] > hi), col,
                lambda r: f"year {int(r[col])} is implausible", f"a year between {lo} and {hi}")


def _stage_known(frame: pd.DataFrame, stages: set[str], label: str, problems: Problems) -> None:
    report_rows(problems, label, frame, ~frame["stage"].isin(stages), "stage",
                lambda r: f"unknown stage {r['stage']!r}",
                "a stage of model.toml: " + ", ".join(sorted(stages)))


def _places(frame: pd.DataFrame, model: "Model", label: str, problems: Problems) -> None:
    """Fill ``places`` from ``classes`` × class size; report rows with neither."""
    places = frame["places"] if "places" in frame.columns else pd.Series(np.nan, index=frame.index)
    classes = frame["classes"] if "classes" in frame.columns else pd.Series(np.nan,
                                                                            index=frame.index)
    size = frame["stage"].map(model.base_class_size).astype(float)
    neither = places.isna() & classes.isna()
    report_rows(problems, label, frame, neither, "places",
                lambda r: "neither places nor classes given", "places or classes")
    frame["places"] = places.fillna(classes * size).fillna(0).astype(float)
    mismatch = places.notna() & classes.notna() & (places != classes * size)
    model.warnings.extend(
        f"{label}:{line}:places: places {places[line]:g} differ from classes × class size "
        f"({classes[line]:g} × {size[line]:g}); places used"
        for line in frame.index[mismatch.fillna(False).to_numpy(bool)][:10])


def _points(model: "Model", frame: pd.DataFrame, label: str, problems: Problems,
            zone_col: str | None = None, rows: pd.Series | None = None) -> None:
    """Project lon/lat (or a per-row ``crs``) to the model CRS; check inside the zones."""
    rows = pd.Series(True, index=frame.index) if rows is None else rows.fillna(False)
    frame["x"], frame["y"] = np.nan, np.nan
    crs_col = frame["crs"].fillna("EPSG:4326").replace("", "EPSG:4326") if "crs" in frame \
        else pd.Series("EPSG:4326", index=frame.index)
    for src in crs_col[rows].unique():
        sel = rows & (crs_col == src)
        try:
            t = pyproj.Transformer.from_crs(src, model.crs, always_xy=True)
        except CRSError:
            report_rows(problems, label, frame, sel, "crs",
                        lambda r: f"unknown CRS {r['crs']!r}", 'a CRS such as "EPSG:4326"',
                        limit=1)
            continue
        if src == "EPSG:4326":
            bad = sel & ((frame["lon"].abs() > 180) | (frame["lat"].abs() > 90))
            report_rows(problems, label, frame, bad, "lon",
                        lambda r: f"({r['lon']}, {r['lat']}) is not a longitude/latitude",
                        "WGS84 longitude, latitude (or a crs column)")
            sel = sel & ~bad
        x, y = t.transform(frame.loc[sel, "lon"].to_numpy(float),
                           frame.loc[sel, "lat"].to_numpy(float))
        frame.loc[sel, "x"], frame.loc[sel, "y"] = x, y
    ok = rows & frame["x"].notna()
    if not ok.any():
        return
    import geopandas as gpd

    pts = gpd.GeoSeries(gpd.points_from_xy(frame.loc[ok, "x"], frame.loc[ok, "y"]),
                        index=frame.index[ok], crs=model.crs)
    if zone_col:
        geom = model.zones.set_index("zone_id").geometry
        known = frame.loc[ok, zone_col].isin(geom.index)
        pts = pts[known.to_numpy()]
        dist = pts.distance(gpd.GeoSeries(geom.loc[frame.loc[pts.index, zone_col]].to_numpy(),
                                          index=pts.index, crs=model.crs), align=False)
        what = "its zone"
    else:
        dist = pts.distance(model.zones.geometry.union_all())
        what = "every zone"
    far = pd.Series(False, index=frame.index)
    far[dist.index[dist > POINT_TOL]] = True
    report_rows(problems, label, frame, far, "lon",
                lambda r: f"point ({r['lon']:.5f}, {r['lat']:.5f}) is "
                          f"{dist[r.name] / 1000:.1f} km outside {what}",
                f"a location within {POINT_TOL:g} m of {what} (check lon/lat order and CRS)")

