"""The tables step: a run's arrays as the run folder's long tables (docs/outputs.md), and
the indicators beside the plan's targets."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .names import names_table
from .stages import headline_mode, is_compulsory

if TYPE_CHECKING:
    from .allocate import Allocation
    from .model import Model
    from .state import RunState
    from .supply import Supply


def tables(state: "RunState") -> None:
    """The tables step: every contract table and our own (docs/outputs.md) into
    ``state.tables``."""
    from .projection import components_table, population_table

    model, years, supply = state.model, state.years, state.supply
    units, whole = state.units, state.unit_pupils
    zone_ids = np.array(model.zone_ids, dtype=object)
    stage_names = state.stage_names
    Y, Z, K = state.zone_pupils.shape
    demand = pd.DataFrame({
        "zone_id": np.tile(np.repeat(zone_ids, K), Y),
        "year": np.repeat(years, Z * K),
        "stage": np.tile(stage_names, Y * Z),
        "pupils": state.zone_pupils.ravel()})
    sites = supply.sites
    unit_ids = units["unit_id"].to_numpy(object)
    zone_of_unit = units["zone"].to_numpy()
    school_ids, school_code = np.unique(sites["school_id"].to_numpy(str), return_inverse=True)
    flows, school_parts, short_parts = [], [], []
    for (stage, mode), per_year in state.allocations.items():
        k = stage_names.index(stage)
        sel = np.flatnonzero(state.site_mask(stage))
        sid = sites["school_id"].to_numpy(object)[sel]
        for y, a in enumerate(per_year):
            year = years[y]
            flows.append((a, school_code[sel], year, stage, mode))
            places = supply.places[sel, y]
            load = a.load(sel.size)
            is_open = places > 0
            school_parts.append(pd.DataFrame({
                "school_id": sid[is_open], "year": year, "stage": stage, "mode": mode,
                "places": places[is_open], "pupils": load[is_open],
                "utilisation": load[is_open] / places[is_open]}))
            dem = np.bincount(zone_of_unit, weights=whole[y, k], minlength=Z)
            served = np.bincount(zone_of_unit, weights=a.served(), minlength=Z)
            reach = np.bincount(zone_of_unit, weights=a.out_of_reach, minlength=Z)
            short_parts.append(pd.DataFrame({
                "zone_id": zone_ids, "year": year, "stage": stage, "mode": mode,
                "demand": dem.astype(np.int64), "served": served.astype(np.int64),
                "shortfall": (dem - served).astype(np.int64),
                "out_of_reach": reach.astype(np.int64)}))
    allocation = allocation_table(flows, unit_ids, school_ids, stage_names,
                                  list(state.allocators))
    schools = pd.concat(school_parts, ignore_index=True)
    shortfall = pd.concat(short_parts, ignore_index=True)

    open_ = supply.places > 0
    si, yi = np.nonzero(open_)
    capacity = pd.DataFrame({
        "school_id": sites["school_id"].to_numpy(object)[si],
        "name": sites["name"].to_numpy(object)[si], "year": years[yi],
        "stage": sites["stage"].to_numpy(object)[si], "places": supply.places[si, yi],
        "lon": sites["lon"].to_numpy(float)[si], "lat": sites["lat"].to_numpy(float)[si]})
    summary = (shortfall.groupby(["year", "stage", "mode"], as_index=False, sort=False)
               [["demand", "served", "shortfall", "out_of_reach"]].sum())
    places_total = capacity.groupby(["year", "stage"], as_index=False)["places"].sum()
    summary = summary.merge(places_total, on=["year", "stage"], how="left")
    summary["places"] = summary["places"].fillna(0).astype(np.int64)
    summary = summary[["year", "stage", "mode", "demand", "places", "served", "shortfall",
                       "out_of_reach"]]
    order = {name: i for i, name in enumerate(stage_names)}
    summary = summary.sort_values(["stage", "mode", "year"], kind="stable",
                                  key=lambda c: c.map(order) if c.name == "stage" else c)

    indicators = build_indicators(model, state.scenario.mode, years, state.children,
                                  state.allocations, supply)
    p = supply.projects
    projects = pd.DataFrame({
        "project_id": p["project_id"], "name": p["name"], "kind": p["kind"],
        "stage": p["stage"],
        "school_id": np.where(p["kind"] == "new", p["project_id"],
                              p.get("school_id", pd.Series(None, index=p.index))),
        "places": p["places"], "open_year": p["open_year"].astype(int),
        "cost": p.get("cost", pd.Series(np.nan, index=p.index)),
        "lon": p.get("lon", np.nan), "lat": p.get("lat", np.nan)})
    state.tables.update({
        "population": population_table(state), "demand": demand,
        "units": units[["unit_id", "zone_id", "lon", "lat"]].copy(), "capacity": capacity,
        "allocation": allocation, "schools": schools, "shortfall": shortfall,
        "summary": summary.reset_index(drop=True), "indicators": indicators,
        "components": components_table(state), "projects": projects,
        "names": names_table(model, supply)})


def allocation_table(flows: list[tuple["Allocation", np.ndarray, int, str, str]],
                     unit_ids: np.ndarray, school_ids: np.ndarray, stages: list[str],
                     modes: list[str]) -> pd.DataFrame:
    """allocation.csv's rows: each flow of each (allocation, site → school code, year,
    stage, mode), then the allocation's unserved pupils per unit (no school, no distance).

    Ids, stages and modes are categories (one code per row: a city-wide run has 10^7 rows);
    written, they are plain text (docs/outputs.md)."""
    n = sum(len(a.unit) + int(np.count_nonzero(a.unserved)) for a, *_ in flows)
    unit = np.empty(n, np.int32)
    school = np.empty(n, np.int32)
    year = np.empty(n, np.int64)
    stage = np.empty(n, np.int8)
    mode = np.empty(n, np.int8)
    pupils = np.empty(n, np.int64)
    dist = np.empty(n, np.float64)
    at = 0
    for a, code, y, st, md in flows:
        unserved = np.flatnonzero(a.unserved)
        f, m = len(a.unit), len(a.unit) + len(unserved)
        rows = slice(at, at + m)
        unit[rows] = np.r_[a.unit, unserved]
        school[at:at + f], school[at + f:at + m] = code[a.school], -1
        year[rows], stage[rows], mode[rows] = y, stages.index(st), modes.index(md)
        pupils[at:at + f], pupils[at + f:at + m] = a.pupils, a.unserved[unserved]
        dist[at:at + f], dist[at + f:at + m] = a.distance, np.nan
        at += m

    def cat(codes: np.ndarray, values) -> pd.Categorical:
        return pd.Categorical.from_codes(codes, pd.Index(list(values), dtype="str"))

    return pd.DataFrame({"unit_id": cat(unit, unit_ids), "school_id": cat(school, school_ids),
                         "year": year, "stage": cat(stage, stages), "mode": cat(mode, modes),
                         "pupils": pupils, "distance_m": dist})


def _inclusive_sites(supply: "Supply", model: "Model") -> np.ndarray | None:
    """Which kindergarten sites are inclusive (普惠): schools.csv ``inclusive``; new
    kindergarten projects count as inclusive unless projects.csv says otherwise. None when
    schools.csv gives no ``inclusive`` value for any existing kindergarten (not given)."""
    sites = supply.sites
    flag = pd.Series(False, index=sites.index)
    s = model.schools
    kg = s[s["stage"] == "kindergarten"] if len(s) and "stage" in s.columns else s
    if len(kg) and ("inclusive" not in kg.columns or kg["inclusive"].isna().all()):
        return None
    if "inclusive" in s.columns and len(s):
        key = s.set_index(["school_id", "stage"])["inclusive"].fillna(False).astype(bool)
        pairs = list(zip(sites["school_id"], sites["stage"]))
        flag = pd.Series([bool(key.get(pr, False)) for pr in pairs], index=sites.index)
    p = supply.projects  # projects.csv after the scenario's edits, [[projects.add]] included
    new_kg = (sites["kind"] != "existing") & (sites["stage"] == "kindergarten")
    if "inclusive" in p.columns:
        own = p.set_index("project_id")["inclusive"]
        flag[new_kg] = sites.loc[new_kg, "school_id"].map(own).fillna(True).astype(bool)
    else:
        flag[new_kg] = True
    return flag.to_numpy(bool)


def build_indicators(model: "Model", mode: str, years: np.ndarray, zpop: np.ndarray,
                     out: dict[tuple[str, str], list["Allocation"]], supply: "Supply"
                     ) -> pd.DataFrame:
    """indicators.csv, each beside its [targets] value, every stage under its headline
    rule (:func:`capacity.stages.headline_mode`: compulsory stages the catchment rule, others
    the scenario's ``mode``).

    - ``<stage>_enrolment_rate``: pupils served ÷ children of the stage's ages, the children
      counted as the pupils seeking a place ÷ the stage's ``enrolment`` share (the demand's
      own rounding), so the rate reaches ``enrolment`` exactly when every pupil who seeks a
      place gets one (children of the ages when ``enrolment`` is 0);
    - ``inclusive_kindergarten_coverage``: pupils at inclusive kindergartens ÷ all served
      kindergarten pupils; empty (not given) when schools.csv has no ``inclusive`` values;
    - ``nearby_enrolment_rate``: compulsory-stage pupils (docs/model-format.md) placed at the
      nearest school of their stage within the radius ÷ all compulsory-stage pupils seeking
      a place (served or not), and ``<stage>_nearby_enrolment_rate`` the same per compulsory
      stage (both beside the ``nearby_enrolment_rate`` target).
    ``met`` is value ≥ target (empty when the model sets no target or the value is empty).
    """
    rows: list[pd.DataFrame] = []
    stage_names = list(model.stages)
    modes = {s: headline_mode(is_compulsory(s, getattr(st, "compulsory", None)), mode,
                              {m for _, m in out}) for s, st in model.stages.items()}

    def rate(name: str, num: np.ndarray, den: np.ndarray, target_key: str | None = None
             ) -> None:
        rows.append(pd.DataFrame({"year": years, "indicator": name,
                                  "value": np.divide(num, den, out=np.zeros_like(num),
                                                     where=den > 0),
                                  "_target": target_key or name}))

    seeking = {s: np.array([a.pupils.sum() + a.unserved.sum() for a in out[(s, modes[s])]],
                           float) for s in stage_names}
    for k, stage in enumerate(stage_names):
        served = np.array([a.pupils.sum() for a in out[(stage, modes[stage])]], float)
        share = float(getattr(model.stages[stage], "enrolment", 0) or 0)
        children = seeking[stage] / share if share > 0 else zpop[:, :, k].sum(axis=1)
        rate(f"{stage}_enrolment_rate", served, np.asarray(children, float))
    if "kindergarten" in model.stages:
        inc = _inclusive_sites(supply, model)
        allocs = out[("kindergarten", modes["kindergarten"])]
        total = np.array([a.pupils.sum() for a in allocs], float)
        if inc is None:                                    # not given: no value
            rows.append(pd.DataFrame({"year": years, "indicator": "inclusive_kindergarten_"
                                      "coverage", "value": np.nan,
                                      "_target": "inclusive_kindergarten_coverage"}))
        else:
            inc = inc[(supply.sites["stage"] == "kindergarten").to_numpy()]
            at_inc = np.array([a.pupils[inc[a.school]].sum() for a in allocs], float)
            rate("inclusive_kindergarten_coverage", at_inc, total)
    comp = [s for s, st in model.stages.items()
            if is_compulsory(s, getattr(st, "compulsory", None))]
    if comp:
        near = {s: np.array([a.pupils[a.nearest].sum() for a in out[(s, modes[s])]], float)
                for s in comp}
        rate("nearby_enrolment_rate", sum(near.values()), sum(seeking[s] for s in comp))
        for s in comp:
            rate(f"{s}_nearby_enrolment_rate", near[s], seeking[s], "nearby_enrolment_rate")
    ind = pd.concat(rows, ignore_index=True)
    ind["target"] = ind["_target"].map(
        {k: v for k, v in model.targets.items() if k != "year"}).astype(float)
    met = ind["value"] >= ind["target"] - 1e-12
    ind["met"] = met.astype("boolean").where(ind["target"].notna() & ind["value"].notna())
    return ind[["year", "indicator", "value", "target", "met"]]
