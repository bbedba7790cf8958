"""Consistency checks of a loaded model, each a small named function.

A check reads the typed tables of a :class:`~capacity.model.Model` and returns the problems
it finds (warnings have ``level="warning"``); none changes the model. :data:`CHECKS` lists
them in the order they run; :func:`run_checks` runs them all. The rules are those of
docs/model-format.md; the rules of single cells (types, bounds, required columns) are in
``capacity/schema/`` and are applied when the tables are read.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np
import pandas as pd

from .. import geo
from ..errors import Problem
from ..ranges import table_warnings
from ..stages import site_classes, stage_grades
from .rate_checks import anchor_intervals, mortality_kind
from .tables import flag_rows

if TYPE_CHECKING:
    import geopandas as gpd

    from .load import Model

POINT_TOL = 1000.0  # metres a point may lie outside its zone (boundaries are approximate)
YEAR_SPAN = 60      # opening/completion years must lie within base_year ± this

Check = Callable[["Model"], list[Problem]]


def label(model: "Model", table: str) -> str:
    """The file name a table's problems are reported under."""
    return model.files[table].name if table in model.files else f"{table}.csv"


# ---- shared rules ----------------------------------------------------------------------

def _known_zones(model: "Model", table: str, frame: pd.DataFrame) -> list[Problem]:
    unknown = ~frame["zone_id"].isin(set(model.zones["zone_id"]))
    return flag_rows(label(model, table), frame, unknown, "zone_id",
                     lambda r: f"unknown zone_id {r['zone_id']!r}", "a zone_id from the zones file")


def _ages_in_range(model: "Model", table: str, frame: pd.DataFrame) -> list[Problem]:
    top = model.open_age
    return flag_rows(label(model, table), frame, frame["age"] > top, "age",
                     lambda r: f"age {int(r['age'])} is above the open age group {top}",
                     f"ages 0..{top} ({top} = open group, set by [demography] open_age)")


def _complete_ages(model: "Model", table: str, frame: pd.DataFrame, keys: list[str],
                   expect_keys: pd.Index) -> list[Problem]:
    ages = set(range(model.open_age + 1))
    have = frame.groupby(keys)["age"].agg(lambda a: set(a.astype(int)))
    out: list[Problem] = []
    for key in expect_keys:
        gaps = sorted(ages - have.get(key, set()))
        if gaps and len(out) < 10:
            keytxt = ", ".join(f"{k}={v}" for k, v in zip(keys, key if isinstance(key, tuple)
                                                          else (key,)))
            out.append(Problem(label(model, table), f"ages {_spans(gaps)} missing for {keytxt}",
                               column="age",
                               expected=f"one row for every age 0..{model.open_age}"))
    return out


def _spans(values: list[int]) -> str:
    out, start = [], values[0]
    for a, b in zip(values, values[1:] + [None]):
        if b != a + 1:
            out.append(f"{start}" if start == a else f"{start}-{a}")
            start = b
    return ", ".join(out[:5]) + (" …" if len(out) > 5 else "")


def _years(model: "Model", table: str, frame: pd.DataFrame, col: str) -> list[Problem]:
    lo, hi = model.base_year - YEAR_SPAN, model.base_year + YEAR_SPAN
    return flag_rows(label(model, table), frame, (frame[col] < lo) | (frame[col] > hi), col,
                     lambda r: f"year {int(r[col])} is implausible",
                     f"a year between {lo} and {hi}")


def _stage_known(model: "Model", table: str, frame: pd.DataFrame) -> list[Problem]:
    stages = set(model.stages)
    return flag_rows(label(model, table), frame, ~frame["stage"].isin(stages), "stage",
                     lambda r: f"unknown stage {r['stage']!r}",
                     "a stage of model.toml: " + ", ".join(sorted(stages)))


def places_classes_size(frame: pd.DataFrame, class_size: dict[str, int]
                        ) -> tuple[pd.Series, pd.Series, pd.Series]:
    """A school or project table's places and classes (NaN where absent) and the class size
    of each row's stage."""
    nan = pd.Series(np.nan, index=frame.index)
    places = frame["places"] if "places" in frame.columns else nan
    classes = frame["classes"] if "classes" in frame.columns else nan
    return places, classes, frame["stage"].map(class_size).astype(float)


def _places(model: "Model", table: str, frame: pd.DataFrame) -> list[Problem]:
    """Rows with neither places nor classes (error); places ≠ classes × size (warning)."""
    lab = label(model, table)
    places, classes, size = places_classes_size(frame, model.base_class_size)
    out = flag_rows(lab, frame, places.isna() & classes.isna(), "places",
                    lambda r: "neither places nor classes given", "places or classes")
    mismatch = places.notna() & classes.notna() & (places != classes * size)
    out += [Problem(lab, f"places {places[line]:g} differ from classes × class size "
                         f"({classes[line]:g} × {size[line]:g}); places used", int(line),
                    "places", level="warning")
            for line in frame.index[mismatch.fillna(False).to_numpy(bool)][:10]]
    return out


def point_problems(frame: pd.DataFrame, lab: str, zones: "gpd.GeoDataFrame", crs: str,
                   zone_col: str | None = None, rows: pd.Series | None = None
                   ) -> list[Problem]:
    """Unknown CRSs, lon/lat out of range, and points farther than :data:`POINT_TOL` from
    their zone (``zone_col``) or from every zone."""
    pts = geo.project_points(frame, crs, rows)
    out: list[Problem] = []
    for src in pts.crs[pts.unknown_crs].unique():
        out += flag_rows(lab, frame, pts.unknown_crs & (pts.crs == src), "crs",
                         lambda r: f"unknown CRS {r['crs']!r}", 'a CRS such as "EPSG:4326"',
                         limit=1)
    out += flag_rows(lab, frame, pts.not_lonlat, "lon",
                     lambda r: f"({r['lon']}, {r['lat']}) is not a longitude/latitude",
                     "WGS84 longitude, latitude (or a crs column)")
    ok = pts.ok.to_numpy()
    if not ok.any():
        return out
    zone_ids = frame.loc[ok, zone_col].to_numpy() if zone_col else None
    dist = pd.Series(geo.distance_to_zones(pts.x[ok], pts.y[ok], zones, zone_ids),
                     index=frame.index[ok])
    what = "its zone" if zone_col else "every zone"
    far = pd.Series(False, index=frame.index)
    far[dist.index[dist > POINT_TOL]] = True
    out += flag_rows(lab, frame, far, "lon",
                     lambda r: f"point ({r['lon']:.5f}, {r['lat']:.5f}) is "
                               f"{dist[r.name] / 1000:.1f} km outside {what}",
                     f"a location within {POINT_TOL:g} m of {what} (check lon/lat order and CRS)")
    return out


def new_sites(projects: pd.DataFrame) -> pd.Series:
    """New-school projects that give a location (lon and lat)."""
    new = projects["kind"] == "new"
    if "lon" not in projects.columns or "lat" not in projects.columns:
        return pd.Series(False, index=projects.index)
    return new & projects["lon"].notna() & projects["lat"].notna()


# ---- the checks ------------------------------------------------------------------------

def population_zones(m: "Model") -> list[Problem]:
    return _known_zones(m, "population", m.population)


def population_ages(m: "Model") -> list[Problem]:
    return _ages_in_range(m, "population", m.population)


def population_complete(m: "Model") -> list[Problem]:
    """Every age for every zone and sex."""
    expect = pd.MultiIndex.from_product([sorted(set(m.zones["zone_id"])), ["F", "M"]],
                                        names=["zone_id", "sex"])
    return _complete_ages(m, "population", m.population, ["zone_id", "sex"], expect)


def fertility_zones(m: "Model") -> list[Problem]:
    f = m.fertility
    if "zone_id" not in f.columns:
        return []
    return _known_zones(m, "fertility", f[f["zone_id"].notna() & (f["zone_id"] != "")])


def fertility_unique(m: "Model") -> list[Problem]:
    """One row per age of each schedule (the district's, or a zone's)."""
    f = m.fertility
    key = f["zone_id"].fillna("") if "zone_id" in f.columns else pd.Series("", index=f.index)
    dup = pd.DataFrame({"z": key, "a": f["age"]}).duplicated()
    return flag_rows(label(m, "fertility"), f, dup, "age",
                     lambda r: f"duplicate age {int(r['age'])} for the same schedule",
                     "one row per age (and zone_id)")


def fertility_ages(m: "Model") -> list[Problem]:
    return _ages_in_range(m, "fertility", m.fertility)


def mortality_ages(m: "Model") -> list[Problem]:
    return _ages_in_range(m, "mortality", m.mortality)


def mortality_complete(m: "Model") -> list[Problem]:
    return _complete_ages(m, "mortality", m.mortality, ["sex"], pd.Index(["F", "M"], name="sex"))


def migration_zones(m: "Model") -> list[Problem]:
    return _known_zones(m, "migration", m.migration) if len(m.migration) else []


def migration_ages(m: "Model") -> list[Problem]:
    return _ages_in_range(m, "migration", m.migration) if len(m.migration) else []


def housing_zones(m: "Model") -> list[Problem]:
    return _known_zones(m, "housing", m.housing) if len(m.housing) else []


def housing_years(m: "Model") -> list[Problem]:
    return _years(m, "housing", m.housing, "completion_year") if len(m.housing) else []


def housing_points(m: "Model") -> list[Problem]:
    if not len(m.housing):
        return []
    return point_problems(m.housing, label(m, "housing"), m.zones, m.crs, zone_col="zone_id")


def unit_zones(m: "Model") -> list[Problem]:
    return _known_zones(m, "units", m.units) if m.units is not None else []


def unit_weights(m: "Model") -> list[Problem]:
    """Weights sum to 1 in every zone."""
    u = m.units
    if u is None:
        return []
    return [Problem(label(m, "units"), f"weights of zone {z!r} sum to {w:.6g}",
                    int(u.index[u["zone_id"] == z][0]), "weight",
                    "weights summing to 1 per zone")
            for z, w in u.groupby("zone_id")["weight"].sum().items() if abs(w - 1) > 1e-6]


def unit_coverage(m: "Model") -> list[Problem]:
    """Every zone with people has demand units."""
    if m.units is None:
        return []
    pop = m.population
    populated = set(pop.loc[pop["count"] > 0, "zone_id"])
    return [Problem(label(m, "units"), f"zone {z!r} has people but no demand units",
                    column="zone_id", expected="at least one unit per populated zone")
            for z in sorted(populated - set(m.units["zone_id"]))]


def unit_points(m: "Model") -> list[Problem]:
    if m.units is None:
        return []
    return point_problems(m.units, label(m, "units"), m.zones, m.crs, zone_col="zone_id")


def school_stages(m: "Model") -> list[Problem]:
    return _stage_known(m, "schools", m.schools) if len(m.schools) else []


def school_places(m: "Model") -> list[Problem]:
    return _places(m, "schools", m.schools) if len(m.schools) else []


def school_points(m: "Model") -> list[Problem]:
    if not len(m.schools):
        return []
    return point_problems(m.schools, label(m, "schools"), m.zones, m.crs)


def school_max_classes(m: "Model") -> list[Problem]:
    """``max_classes`` is not below the school's current classes (:func:`site_classes`)."""
    s = m.schools
    if not len(s) or "max_classes" not in s.columns:
        return []
    places, classes, size = places_classes_size(s, m.base_class_size)
    now = pd.Series(site_classes(places.fillna(classes * size), size), index=s.index)
    return flag_rows(label(m, "schools"), s, (s["max_classes"] < now).fillna(False),
                     "max_classes", lambda r: f"max_classes {r['max_classes']:g} is below "
                     f"the school's {now[r.name]:g} classes",
                     "max_classes >= the classes of places (places ÷ class size, rounded up)")


def _inclusive_on_kindergarten(m: "Model", table: str, frame: pd.DataFrame,
                               what: str) -> list[Problem]:
    if not len(frame) or "inclusive" not in frame.columns:
        return []
    wrong = frame["inclusive"].fillna(False).astype(bool) & (frame["stage"] != "kindergarten")
    return flag_rows(label(m, table), frame, wrong, "inclusive",
                     lambda r: f"inclusive is set for a {r['stage']} {what}",
                     "inclusive only on kindergarten rows", limit=3)


def school_inclusive(m: "Model") -> list[Problem]:
    """``inclusive`` is true only on kindergarten rows."""
    return _inclusive_on_kindergarten(m, "schools", m.schools, "school")


def project_stages(m: "Model") -> list[Problem]:
    return _stage_known(m, "projects", m.projects) if len(m.projects) else []


def project_places(m: "Model") -> list[Problem]:
    return _places(m, "projects", m.projects) if len(m.projects) else []


def project_years(m: "Model") -> list[Problem]:
    return _years(m, "projects", m.projects, "open_year") if len(m.projects) else []


def expansion_school(m: "Model") -> list[Problem]:
    """An expansion names an existing school that has a row of the project's stage."""
    p, s = m.projects, m.schools
    if not len(p):
        return []
    lab = label(m, "projects")
    sid = p["school_id"] if "school_id" in p.columns else pd.Series(pd.NA, index=p.index)
    exp = p["kind"] == "expansion"
    out = flag_rows(lab, p, exp & (sid.isna() | (sid == "")), "school_id",
                    lambda r: f"expansion {r['project_id']!r} names no school",
                    "the school_id of an existing school in schools.csv")
    existing = set(zip(s["school_id"], s["stage"])) if len(s) else set()
    missing = exp & sid.notna() & (sid != "") & ~pd.Series(
        [(a, b) in existing for a, b in zip(sid, p["stage"])], index=p.index)
    return out + flag_rows(lab, p, missing, "school_id",
                           lambda r: f"expansion {r['project_id']!r} points at school "
                                     f"{r['school_id']!r} with stage {r['stage']!r}, "
                                     "not in schools.csv",
                           "an existing school_id with a row of the same stage")


def new_project_site(m: "Model") -> list[Problem]:
    """A new school gives its site's lon and lat."""
    p = m.projects
    if not len(p):
        return []
    no_xy = (p["kind"] == "new") & ~new_sites(p)
    return flag_rows(label(m, "projects"), p, no_xy, "lon",
                     lambda r: f"new school {r['project_id']!r} has no location",
                     "lon and lat of the site")


def new_project_id(m: "Model") -> list[Problem]:
    """A new school's project_id (its school_id in the outputs) is not already a school_id."""
    p, s = m.projects, m.schools
    if not len(p):
        return []
    clash = (p["kind"] == "new") & p["project_id"].isin(set(s["school_id"]) if len(s) else set())
    return flag_rows(label(m, "projects"), p, clash, "project_id",
                     lambda r: f"new project id {r['project_id']!r} is already a school_id",
                     "a project_id distinct from every school_id")


def project_points(m: "Model") -> list[Problem]:
    p = m.projects
    if not len(p):
        return []
    return point_problems(p, label(m, "projects"), m.zones, m.crs, rows=new_sites(p))


def project_inclusive(m: "Model") -> list[Problem]:
    """``inclusive`` is true only on kindergarten rows."""
    return _inclusive_on_kindergarten(m, "projects", m.projects, "project")


def enrolment_stages(m: "Model") -> list[Problem]:
    """reported_enrolment.csv names stages of model.toml."""
    frame = m.reported_enrolment
    return [] if frame is None else _stage_known(m, "reported_enrolment", frame)


def grade_enrolment(m: "Model") -> list[Problem]:
    """enrolment_by_grade.csv names stages of model.toml and grades within them."""
    f = m.enrolment_by_grade
    if f is None:
        return []
    n = f["stage"].map({k: stage_grades(s) for k, s in m.stages.items()})
    return _stage_known(m, "enrolment_by_grade", f) + flag_rows(
        label(m, "enrolment_by_grade"), f, n.notna() & (f["grade"] > n), "grade",
        lambda r: f"grade {int(r['grade'])} is beyond the stage's grades",
        "a grade from 1 to the stage's number of ages (last − first + 1)")


def mortality_survival(m: "Model") -> list[Problem]:
    """An Lx column falls with age below the open group (else survival exceeds 1)."""
    if m.mortality_kind != "Lx":
        return []
    f = m.mortality.sort_values(["sex", "age"])
    rises = (f["Lx"].diff() > 0) & (f["sex"] == f["sex"].shift()) & (f["age"] < m.open_age)
    return flag_rows(label(m, "mortality"), f, rises.to_numpy(), "Lx",
                     lambda r: f"Lx rises at age {int(r['age'])} ({r['Lx']:g}): survival "
                               "would exceed 1", "Lx falling with age (a life table's "
                               "person-years)", limit=3)


MAX_GRID_CELLS = 1_000_000


def grid_cells(m: "Model") -> list[Problem]:
    """Without units.csv, the demand grid has at most :data:`MAX_GRID_CELLS` cells."""
    if m.units is not None or not len(m.zones):
        return []
    xmin, ymin, xmax, ymax = m.zones.total_bounds
    cells = np.ceil((xmax - xmin) / m.grid_m + 1) * np.ceil((ymax - ymin) / m.grid_m + 1)
    if cells <= MAX_GRID_CELLS:
        return []
    least = float(np.sqrt((xmax - xmin) * (ymax - ymin) / MAX_GRID_CELLS))
    return [Problem("model.toml", f"units.grid_m = {m.grid_m:g} gives {cells:,.0f} grid cells "
                    "over the district", None, "units.grid_m",
                    f"a cell size of at least {np.ceil(least):g} m (at most "
                    f"{MAX_GRID_CELLS:,} cells), or a units file")]


def plausible_values(m: "Model") -> list[Problem]:
    """Warnings for cells outside their plausible ranges (``capacity.ranges``)."""
    return table_warnings(m, label)


CHECKS: list[Check] = [
    population_zones, population_ages, population_complete,
    fertility_zones, fertility_unique, fertility_ages,
    mortality_ages, mortality_complete, mortality_survival, mortality_kind,
    migration_zones, migration_ages,
    housing_zones, housing_years, housing_points,
    unit_zones, unit_weights, unit_coverage, unit_points,
    school_stages, school_places, school_points, school_inclusive, school_max_classes,
    project_stages, project_places, project_years, expansion_school, new_project_site,
    new_project_id, project_points, project_inclusive, enrolment_stages, anchor_intervals,
    grade_enrolment, grid_cells, plausible_values,
]


def run_checks(model: "Model", best_effort: bool = False,
               checks: list[Check] | None = None) -> tuple[list[Problem], list[Problem]]:
    """Run every check; return (errors, warnings). With ``best_effort`` (some cells could not
    be read), a check that fails on the damaged values is skipped."""
    found: list[Problem] = []
    for check in CHECKS if checks is None else checks:
        try:
            found += check(model)
        except (ValueError, TypeError, KeyError):
            if not best_effort:
                raise
    return ([p for p in found if p.level != "warning"],
            [p for p in found if p.level == "warning"])


__all__ = ["CHECKS", "POINT_TOL", "YEAR_SPAN", "label", "new_sites", "places_classes_size",
           "point_problems", "run_checks"]
