"""Candidate sites for new schools: the model's ``sites.csv``, or generated from the demand.

``sites.csv`` (columns: ``capacity/schema/sites.csv``) is checked here against the model:
zones, locations within their zone, stages, sizes in the stage's ``standard_classes`` and
opening years (:func:`site_problems`: ``validate``, ``run`` and ``plan`` alike). A header
alone is a valid, empty list: no candidate sites, so no new schools.
Without it, candidates are *generated* (flagged ``generated``, docs/plan.md): the units with
pupils unserved in the scenario's own allocation in any year from the earliest opening year
are grouped by zone and by square cells of the stage's walking radius; each group's candidate
is its unit nearest to the group's pupil-weighted centre (so the site lies in the zone).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import geo
from ..errors import Problem, Problems
from ..model.tables import flag_rows
from ..model.validate import YEAR_SPAN, point_problems
from .params import PlanParams, model_params

if TYPE_CHECKING:
    from ..model import Model
    from ..scenario import Scenario
    from ..state import RunState

#: Side of the square cells that group unserved units, in walking radii (issue: candidate
#: sites at walking-radius resolution near the unserved demand).
CELL_RADII = 1.0

#: Columns of a stage's candidate frame.
COLUMNS = ["site_id", "name", "zone_id", "stage", "x", "y", "lon", "lat", "sizes",
           "earliest_open_year", "basis", "generated"]


def read_sites(state: "RunState", params: PlanParams) -> pd.DataFrame | None:
    """The model's sites.csv, checked (None when the model has none; a header alone: no
    candidate sites), without the sites the scenario builds (``[[projects.add]]`` of the
    same id), its lon/lat in WGS84 (rows given in their own ``crs``: converted)."""
    frame = state.model.sites
    if frame is None:
        return None
    problems = Problems()
    check_sites(frame, state.model, params, taken_ids(state.model, state.scenario), problems)
    problems.raise_if_any()
    built = {str(a.get("project_id")) for a in state.scenario.add}
    frame = frame[~frame["site_id"].isin(built)]     # built by the scenario (a plan.toml)
    given = geo.row_crs(frame) != geo.WGS84
    if given.any():
        lon, lat = geo.to_model_xy(frame.loc[given, "x"], frame.loc[given, "y"], geo.WGS84,
                                   source_crs=state.model.crs)
        frame = frame.assign(lon=frame["lon"].astype(float), lat=frame["lat"].astype(float))
        frame.loc[given, "lon"], frame.loc[given, "lat"] = lon, lat
    return frame


def site_problems(model: "Model", scenario: "Scenario") -> list[Problem]:
    """Every problem of the model's sites.csv for this scenario (``capacity validate`` and
    ``run`` report them as ``capacity plan`` refuses them)."""
    if model.sites is None:
        return []
    problems = Problems()
    check_sites(model.sites, model, model_params(model, scenario),
                taken_ids(model, scenario), problems)
    return problems.items


def taken_ids(model: "Model", scenario: "Scenario") -> set[str]:
    """Ids a site may not take: schools, the model's key projects and repurposed sites (a
    scenario's ``[[projects.add]]`` may build a site: a plan.toml does)."""
    return (set(model.schools["school_id"]) | set(model.projects["project_id"])
            | {str(r.get("site_id")) for r in scenario.repurposed})


def _text(row: pd.Series, col: str) -> str | None:
    """A text cell, None when the column is absent or the cell empty."""
    value = row.get(col)
    return value.strip() or None if isinstance(value, str) else None


def allowed_sizes(row: pd.Series, stage: str, params: PlanParams) -> tuple[int, ...]:
    """Standard sizes (classes) of ``stage`` a site row can take."""
    standard = params.stages[stage].standard_classes
    given = _text(row, "classes")
    wanted = [int(c) for c in given.split() if c.isdigit()] if given else standard
    return tuple(c for c in wanted if c in standard and c <= int(row["max_classes"]))


def check_sites(frame: pd.DataFrame, model: "Model", params: PlanParams, taken: set[str],
                problems: Problems) -> None:
    """Unknown zones and stages, points outside their zone, sizes off the standard list,
    opening years far from the base year, ids that clash with schools or projects."""
    label = model.files["sites"].name if "sites" in model.files else "sites.csv"
    zones = set(model.zones["zone_id"])
    problems.extend(flag_rows(label, frame, ~frame["zone_id"].isin(zones), "zone_id",
                              lambda r: f"unknown zone_id {r['zone_id']!r}",
                              "a zone_id of the zones file"))
    known = frame["zone_id"].isin(zones)
    if known.any():
        problems.extend(point_problems(frame[known], label, model.zones, model.crs,
                                       zone_col="zone_id"))
    problems.extend(flag_rows(label, frame, frame["site_id"].isin(taken), "site_id",
                              lambda r: f"site_id {r['site_id']!r} is already a school or "
                                        "project id", "a new, unique id"))
    if "earliest_open_year" in frame:
        lo, hi = model.base_year + 1, model.base_year + YEAR_SPAN
        years = frame["earliest_open_year"].astype(float)
        problems.extend(flag_rows(label, frame, (years < lo) | (years > hi),
                                  "earliest_open_year",
                                  lambda r: f"year {int(r['earliest_open_year'])} is "
                                            "implausible", f"a year between {lo} and {hi}"))
    for i, row in frame.iterrows():
        stages = str(row["stages"]).split()
        bad = [s for s in stages if s not in model.stages]
        if bad or not stages:
            problems.add(label, f"unknown stage(s) {' '.join(bad) or '(none)'}", row=int(i),
                         column="stages", expected=" ".join(model.stages))
            continue
        given = _text(row, "classes")
        for s in stages:
            standard = params.stages[s].standard_classes
            off = [c for c in (given or "").split() if not c.isdigit() or int(c) not in standard]
            if off:
                problems.add(label, f"classes {' '.join(off)} not a standard {s} size",
                             row=int(i), column="classes",
                             expected=f"sizes in plan.stages.{s}.standard_classes "
                                      f"{list(standard)}")
            elif not allowed_sizes(row, s, params):
                problems.add(label, f"max_classes {int(row['max_classes'])} is below every "
                             f"{'given' if given else 'standard'} {s} size",
                             row=int(i), column="max_classes",
                             expected=f"at least {min(standard)} classes")


def stage_candidates(state: "RunState", params: PlanParams, stage: str,
                     sites: pd.DataFrame | None) -> pd.DataFrame:
    """Candidates for one stage: the sites.csv rows allowing it, else generated ones."""
    earliest = params.start_year + params.stages[stage].lead_years
    if sites is None:
        return generate(state, params, stage, earliest)
    rows = sites[[stage in str(s).split() for s in sites["stages"]]]
    if rows.empty:
        return pd.DataFrame(columns=COLUMNS)
    names = rows["name"].where(rows["name"].fillna("").str.strip() != "", rows["site_id"]) \
        if "name" in rows else rows["site_id"]
    out = pd.DataFrame({
        "site_id": rows["site_id"], "name": names, "zone_id": rows["zone_id"],
        "stage": stage, "x": rows["x"], "y": rows["y"], "lon": rows["lon"],
        "lat": rows["lat"],
        "sizes": [allowed_sizes(r, stage, params) for _, r in rows.iterrows()],
        "earliest_open_year": rows["earliest_open_year"].fillna(earliest).astype(int)
        .clip(lower=earliest) if "earliest_open_year" in rows else earliest,
        "basis": rows["basis"].fillna("sites.csv").replace("", "sites.csv")
        if "basis" in rows else "sites.csv",
        "generated": rows["generated"].fillna(False).astype(bool)
        if "generated" in rows else False})
    return out[COLUMNS].reset_index(drop=True)


def generate(state: "RunState", params: PlanParams, stage: str, earliest: int
             ) -> pd.DataFrame:
    """One candidate per (zone, radius-sized cell) of units left unserved from ``earliest``."""
    k = state.stage_names.index(stage)
    years = state.years
    allocs = state.allocations.get((stage, state.scenario.mode))
    if allocs is None:
        raise ValueError(f"no {state.scenario.mode} allocation of {stage} in the run")
    later = np.flatnonzero(years >= earliest)
    unserved = sum((allocs[y].unserved for y in later), np.zeros(len(state.units), np.int64))
    units = state.units.assign(w=unserved)[unserved > 0]
    cell = CELL_RADII * float(state.model.stages[stage].radius_m)
    if units.empty:
        return pd.DataFrame(columns=COLUMNS)
    key = (units["zone_id"].astype(str) + ":" + (units["x"] // cell).astype(int).astype(str)
           + ":" + (units["y"] // cell).astype(int).astype(str))
    rows = []
    sp = params.stages[stage]
    for n, (_, g) in enumerate(units.groupby(key, sort=True)):
        cx, cy = np.average(g["x"], weights=g["w"]), np.average(g["y"], weights=g["w"])
        best = g.iloc[int(np.argmin(np.hypot(g["x"] - cx, g["y"] - cy)))]
        rows.append({"site_id": f"gen-{stage}-{best['zone_id']}-{n + 1}",
                     "name": f"Candidate {stage} site near {best['unit_id']}",
                     "zone_id": best["zone_id"], "stage": stage, "x": best["x"],
                     "y": best["y"], "lon": best["lon"], "lat": best["lat"],
                     "sizes": sp.standard_classes, "earliest_open_year": earliest,
                     "basis": f"generated: {int(g['w'].sum())} pupil-years unserved from "
                              f"{earliest} within {cell:.0f} m cells",
                     "generated": True})
    return pd.DataFrame(rows, columns=COLUMNS)


