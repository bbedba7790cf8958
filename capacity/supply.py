"""The supply step: places per school site, stage and year after the scenario's edits
(docs/scenarios.md).

A *site* is one school × stage: an existing school row, a new key project, or a repurposed
facility. A new school offers its places from its opening year, all at once or grade by
grade (:func:`opening_places`, the one home of that rule). Expansions add places to their
school's site from their opening year. A stage's class size changed by the scenario scales
every site's places by new ÷ model class size (the same classrooms hold larger classes).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .errors import Problems
from .geo import lonlat_to_wgs84, points_xy
from .model import Model
from .scenario import Scenario
from .stages import stage_grades
from .tomlspec import key_line

if TYPE_CHECKING:
    from .state import RunState

NEVER = 10**6


@dataclass
class Supply:
    """Sites (one row per school × stage) and their places per year."""

    sites: pd.DataFrame      # school_id, name, stage, x, y, lon, lat, opens, closes, kind,
                             # max_classes (schools.csv; NaN where not given)
    places: np.ndarray       # (sites, years) places open in each year
    years: np.ndarray
    projects: pd.DataFrame   # key projects after edits: project_id, ..., open_year (effective)
    unscaled: np.ndarray     # (sites, years) places before the class-size factor
    scale: np.ndarray        # (sites,) scenario class size ÷ model class size

    def places_without(self, project_id: str) -> np.ndarray:
        """(sites, years) places if key project ``project_id`` were dropped (a new
        school's site keeps its row, with no places)."""
        p = self.projects[self.projects["project_id"] == project_id].iloc[0]
        raw = self.unscaled.copy()
        if p["kind"] == "new":
            raw[((self.sites["school_id"] == project_id) & (self.sites["kind"] == "new")
                 & (self.sites["stage"] == p["stage"])).to_numpy()] = 0
        else:
            site = ((self.sites["school_id"] == p["school_id"])
                    & (self.sites["stage"] == p["stage"])).to_numpy()
            raw[site] -= float(p["places"]) * (int(p["open_year"]) <= self.years)
        return _scaled(raw, self.scale)


def opening_places(places: float, open_year: int, years: np.ndarray, grades: int,
                   by_grade: bool) -> np.ndarray:
    """(years,) places of a new school of ``places`` places opening in ``open_year``: 0
    before; from then all of them, or with ``by_grade`` (entry grade first)
    ``floor(places × min(1, (k+1)/grades))`` in its (k+1)-th open year."""
    k = np.asarray(years, np.int64) - int(open_year)
    out = np.where(k >= 0, float(places), 0.0)
    if by_grade:
        ramp = np.floor(float(places) * (k + 1) / int(grades) + 1e-9)
        out = np.where((k >= 0) & (k + 1 < int(grades)), ramp, out)
    return out


def _scaled(raw: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Whole places after the class-size factor (the same classrooms, larger classes)."""
    return np.floor(raw * scale[:, None] + 1e-9).astype(np.int64)


def _project_edits(model: Model, scenario: Scenario, problems: Problems) -> pd.DataFrame:
    """The key-project list after drop, delay and add."""
    p = model.projects.copy()
    label = scenario.path.name if scenario.path else "scenario"
    known = set(p["project_id"])
    group = p["group_id"].fillna(p["project_id"]) if "group_id" in p.columns else p["project_id"]

    def text() -> str:   # read only for a message
        return scenario.path.read_bytes().decode("utf-8-sig", "replace") if scenario.path else ""

    def rows_of(pid: str, key: str) -> pd.Series:
        """A project id, or a group_id naming every row of a multi-stage project."""
        if pid in known:
            return p["project_id"] == pid
        if (group == pid).any():
            return group == pid
        close = difflib.get_close_matches(pid, sorted(known | set(group)), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        problems.add(label, f"unknown project id {pid!r}{hint}", column=key,
                     row=key_line(text(), key),
                     expected="a project_id or group_id of the model's projects.csv")
        return pd.Series(False, index=p.index)

    dropped = pd.Series(False, index=p.index)
    for pid in scenario.drop:
        dropped |= rows_of(pid, "projects.drop")
    delay = pd.Series(0, index=p.index)
    for pid, years in scenario.project_delays.items():
        delay.loc[rows_of(pid, "projects.delay_years").to_numpy()] = years
    p, delay = p[~dropped].copy(), delay[~dropped]
    p["open_year"] = p["open_year"].astype(int) + delay + scenario.project_delay_all
    if scenario.add:   # rows checked like projects.csv by capacity.scenario_checks
        added = pd.DataFrame(scenario.add)
        added.index = pd.RangeIndex(len(added))
        for col in ("places", "classes", "cost", "lon", "lat"):
            if col not in added.columns:
                added[col] = np.nan
        added["places"] = added["places"].astype(float).fillna(
            added["classes"].astype(float) * added["stage"].map(model.base_class_size))
        added = lonlat_to_wgs84(added, model.datum)   # the model's datum applies
        new = added["kind"] == "new"
        added["x"], added["y"] = points_xy(added, model.crs, rows=new)
        p = pd.concat([p, added], ignore_index=True)
    return p


def build_supply(model: Model, scenario: Scenario, years: np.ndarray) -> Supply:
    """Sites and places per year for the scenario; InputError for bad scenario edits."""
    problems = Problems()
    projects = _project_edits(model, scenario, problems)
    s = model.schools
    problems.raise_if_any()   # unknown project ids; the rows are checked when loaded

    cols = ["school_id", "name", "stage", "x", "y", "lon", "lat"]
    existing = s[cols + ["places"]].assign(opens=-NEVER, closes=NEVER, kind="existing")
    existing["max_classes"] = s["max_classes"].astype(float) if "max_classes" in s else np.nan
    new = projects[projects["kind"] == "new"]
    new_sites = pd.DataFrame({"school_id": new["project_id"], "name": new["name"],
                              "stage": new["stage"], "x": new["x"], "y": new["y"],
                              "lon": new["lon"], "lat": new["lat"], "places": new["places"],
                              "opens": new["open_year"], "closes": NEVER, "kind": "new"})
    frames = [existing, new_sites]
    if scenario.repurposed:
        r = pd.DataFrame(scenario.repurposed)
        r["name"] = r["name"] if "name" in r else r["site_id"]
        r["x"], r["y"] = np.nan, np.nan
        r.index = pd.RangeIndex(len(r))
        r = lonlat_to_wgs84(r, model.datum)
        r["x"], r["y"] = points_xy(r, model.crs)
        frames.append(pd.DataFrame({
            "school_id": r["site_id"], "name": r["name"], "stage": r["stage"], "x": r["x"],
            "y": r["y"], "lon": r["lon"], "lat": r["lat"], "places": r["places"].astype(float),
            "opens": r["from_year"].astype(int),
            "closes": r["to_year"].fillna(NEVER).astype(int) if "to_year" in r else NEVER,
            "kind": "repurposed"}))
    sites = pd.concat(frames, ignore_index=True)
    sites["places"] = sites["places"].astype(float)
    yrs = np.asarray(years)
    open_ = (sites["opens"].to_numpy()[:, None] <= yrs) & (yrs <= sites["closes"].to_numpy()[:, None])
    places = sites["places"].to_numpy()[:, None] * open_
    by_grade = new["opening"].eq("grade_by_grade").fillna(False).to_numpy(bool) \
        if "opening" in new else np.zeros(len(new), bool)
    for i in np.flatnonzero(by_grade):   # new sites follow the existing ones in ``sites``
        row = new.iloc[i]
        places[len(existing) + i] = opening_places(
            row["places"], row["open_year"], yrs, stage_grades(model.stages[row["stage"]]), True)

    exp = projects[projects["kind"] == "expansion"]
    if len(exp):
        site_key = pd.Series(np.arange(len(sites)),
                             index=pd.MultiIndex.from_arrays([sites["school_id"], sites["stage"]]))
        idx = site_key.loc[list(zip(exp["school_id"], exp["stage"]))].to_numpy()
        add = exp["places"].to_numpy(float)[:, None] * (exp["open_year"].to_numpy()[:, None] <= yrs)
        np.add.at(places, idx, add)
    scale = sites["stage"].map(lambda st: model.stages[st].class_size
                               / model.base_class_size.get(st, model.stages[st].class_size))
    scale = scale.to_numpy(float)
    return Supply(sites=sites, places=_scaled(places, scale), years=yrs, projects=projects,
                  unscaled=places, scale=scale)


def supply(state: "RunState") -> None:
    """Fill ``state.supply`` for the scenario's years."""
    state.supply = build_supply(state.model, state.scenario, state.years)

