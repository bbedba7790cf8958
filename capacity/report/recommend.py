"""The run's rule-of-thumb costing: ONE list of actions (what to build or fund, where, when,
at what cost), computed once; every money view of the budget derives from it
(docs/outputs.md, "One costing").

Rule, per decision unit and stage, over the years from :func:`capacity.years.start_year` on
(nothing is funded in a past year; thresholds in model.toml ``[plan]`` and ``[budget]``):

0. **unit** — a zone, or the whole district for the stages of ``[budget] district_stages``
   (default: senior — senior high schools serve the district, so its shortfall is pooled
   district-wide, never a school per zone).
1. **transport** — a zone whose out-of-reach pupils never exceed ``transport_max_pupils``
   transports them (pupil-years × ``transport_cost_per_pupil_year``, in the years they occur);
   the rest of the shortfall goes on. Not for district units.
2. **lasting** — the shortfall is still there at the horizon, or lasts ``transient_years``
   years or more while the unit's horizon surplus is smaller than its peak: its peak in
   whole classes (per grade: :func:`capacity.staffing.shortfall_classes`) is built as
   **expansion** of existing schools when fewer than ``[budget] new_school_min_share`` × the
   stage's smallest standard school (classes × class size places), else as **new** standard
   schools (:func:`capacity.report.sizes.standard_schools`). Capital = places ×
   ``cost_per_place``, spread evenly over the construction years (``[plan.stages.<stage>]
   construction_years`` for a new school, which opens at the earliest ``lead_years`` after the
   start year; ``[budget] expansion_build_years`` for an expansion) before the opening year =
   max(first year short, start year + lead time); years short before the opening get
   temporary places (a bridging line).
3. **temporary** — otherwise: place-years = Σ shortfall × ``temporary_cost_per_place_year``,
   in the years short.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import InputError
from ..plan.params import PlanParams, StagePlan, read_params
from ..staffing import GradeMix, shortfall_classes
from ..tomlspec import read_toml
from ..years import start_year, year_status
from .sizes import standard_schools

if TYPE_CHECKING:
    from ..result import Result

#: zone_id and (CSV) zone_name of a district-wide unit (as the ensemble's district rows).
DISTRICT_ID, DISTRICT_NAME = "ALL", "District-wide"
RECOMMENDATION_COLUMNS = [
    "zone_id", "zone_name", "stage", "years_short", "first_year_short", "last_year_short",
    "peak_shortfall", "peak_year", "shortfall_at_horizon", "places_at_horizon",
    "demand_at_horizon", "horizon_surplus", "recommendation"]
ACTION_COLUMNS = ["id", "stage", "kind", "zone_id", "zone_name", "classes", "places",
                  "school_mix", "first_year", "open_year", "last_year", "pupil_years",
                  "cost_cny", "basis"]
COST_BY_YEAR_COLUMNS = ["year", "year_status", "stage", "kind", "cost_cny"]
#: Kinds of action, in the order tables list them.
KINDS = ("new", "expansion", "temporary", "transport")


@dataclass(frozen=True)
class BudgetRules:
    """model.toml ``[budget]`` (docs/model-format.md): the rule-of-thumb's catchment scale
    and the smallest lasting shortfall that gets a new school."""

    district_stages: tuple[str, ...] = ("senior",)
    new_school_min_share: float = 0.5
    expansion_build_years: int = 1


def read_rules(model_path: str | Path | None) -> BudgetRules:
    """``[budget]`` of a model folder (defaults when absent); InputError for a bad value."""
    toml = Path(model_path) / "model.toml" if model_path else None
    conf = read_toml(toml)[0].get("budget", {}) if toml and toml.is_file() else {}
    rules = BudgetRules()
    stages = conf.get("district_stages", list(rules.district_stages))
    share = conf.get("new_school_min_share", rules.new_school_min_share)
    lead = conf.get("expansion_build_years", rules.expansion_build_years)
    if not (isinstance(stages, list) and all(isinstance(s, str) for s in stages)):
        raise InputError.single(toml, f"budget.district_stages = {stages!r}",
                                column="budget.district_stages",
                                expected='a list of stage names, e.g. ["senior"]')
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share <= 1:
        raise InputError.single(toml, f"budget.new_school_min_share = {share!r}",
                                column="budget.new_school_min_share",
                                expected="a share from 0 to 1")
    if isinstance(lead, bool) or not isinstance(lead, int) or not 0 <= lead <= 20:
        raise InputError.single(toml, f"budget.expansion_build_years = {lead!r}",
                                column="budget.expansion_build_years",
                                expected="whole years from 0 to 20")
    return BudgetRules(tuple(stages), float(share), int(lead))


def result_params(result: "Result") -> PlanParams:
    """The run model's ``[plan]`` (defaults when the model folder is not at hand)."""
    stages = {s: (int(c.get("class_size", 1)), float(c.get("cost_per_place", 0.0)),
                  bool(c.get("compulsory", False))) for s, c in result.stages.items()}
    path = result.manifest.get("model_path")
    base = int(result.manifest.get("base_year", min(result.years or [0])))
    if path and (Path(path) / "model.toml").is_file():
        return read_params(Path(path), stages, base, {})
    return read_params(None, stages, base, {})


def result_years(result: "Result") -> tuple[int, str | None, int]:
    """(base year, model folder or None, start year) of a run."""
    base = int(result.manifest.get("base_year", min(result.years or [0])))
    path = result.manifest.get("model_path")
    return base, path, start_year(path, base)


def zone_places(result: "Result", year: int) -> pd.DataFrame:
    """zone_id, stage, places: places of the schools located in each zone in ``year``."""
    cap = result.capacity
    if cap is None or cap.empty:
        return pd.DataFrame(columns=["zone_id", "stage", "places"])
    cap = cap[cap["year"] == year]
    pts = gpd.GeoDataFrame(cap[["stage", "places"]].reset_index(drop=True),
                           geometry=gpd.points_from_xy(cap["lon"], cap["lat"]), crs="EPSG:4326")
    crs = result.manifest.get("crs") or "EPSG:3857"
    pts = pts.to_crs(crs)
    zones = result.zones[["zone_id", "geometry"]].to_crs(crs)
    hit = gpd.sjoin_nearest(pts, zones, how="left")
    hit = hit[~hit.index.duplicated()]
    return hit.groupby(["zone_id", "stage"], as_index=False)["places"].sum()


def decision_units(by_zone: pd.DataFrame, places: pd.Series, rules: BudgetRules
                   ) -> pd.DataFrame:
    """by_zone with the stages of ``rules.district_stages`` summed into one district row per
    year (zone_id :data:`DISTRICT_ID`), and each unit's places at the horizon."""
    pooled = by_zone["stage"].isin(rules.district_stages)
    sums = ["demand", "served", "shortfall", "out_of_reach"]
    district = by_zone[pooled].groupby(["stage", "year"], as_index=False, sort=False)[sums].sum()
    district = district.assign(zone_id=DISTRICT_ID, zone_name=DISTRICT_NAME)
    units = pd.concat([by_zone[~pooled], district[by_zone.columns.intersection(
        district.columns)]], ignore_index=True)
    at = places.groupby(level="stage").sum()
    key = list(zip(units["zone_id"], units["stage"]))
    units["places_at_horizon"] = [float(at.get(s, 0.0)) if z == DISTRICT_ID else
                                  float(places.get((z, s), 0.0)) for z, s in key]
    return units


def _lasting(sp: StagePlan, params: PlanParams, rules: BudgetRules, grade_mix: GradeMix,
             zone: str, stage: str, year: int, pupils: float) -> dict[str, Any]:
    """The kind, classes, places, mix and lead time that meet a lasting shortfall."""
    classes = int(shortfall_classes(grade_mix, pd.DataFrame(
        {"zone_id": [zone], "stage": [stage], "year": [year], "pupils": [pupils]}),
        sp.class_size)[0])
    if classes < math.ceil(rules.new_school_min_share * min(sp.standard_classes)):
        return {"kind": "expansion", "classes": classes, "places": classes * sp.class_size,
                "school_mix": "", "lead": rules.expansion_build_years,
                "build": rules.expansion_build_years}
    _, built, mix = standard_schools(np.array([classes]), sp.standard_classes)
    return {"kind": "new", "classes": int(built[0]), "places": int(built[0]) * sp.class_size,
            "school_mix": str(mix[0]), "lead": sp.lead_years, "build": sp.construction_years}


def costing(result: "Result", by_zone: pd.DataFrame, params: PlanParams | None = None,
            rules: BudgetRules | None = None
            ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(recommendation per unit × stage, actions, cost per year × stage × kind) from
    :func:`capacity.report.budget.shortfall_by_zone_view`'s table (module docstring)."""
    params = params or result_params(result)
    rules = rules or read_rules(result.manifest.get("model_path"))
    base, model_path, start = result_years(result)
    horizon = int(by_zone["year"].max()) if len(by_zone) else 0
    places = zone_places(result, horizon).set_index(["zone_id", "stage"])["places"]
    units = decision_units(by_zone, places, rules)
    grade_mix = GradeMix(result.zone_grades)
    recs, actions, phased = [], [], []

    def act(kind: str, zone: str, name: str, stage: str, cost_years: dict[int, float],
            **info: Any) -> None:
        actions.append({"id": f"{kind}-{stage}-{zone}", "stage": stage, "kind": kind,
                        "zone_id": zone, "zone_name": name,
                        "cost_cny": float(sum(cost_years.values())),
                        "basis": "rule_of_thumb", **info})
        phased.extend((y, stage, kind, c) for y, c in cost_years.items())

    for (zone, stage), g in units.groupby(["zone_id", "stage"], sort=False):
        g = g.sort_values("year")
        zone, stage, name = str(zone), str(stage), str(g["zone_name"].iloc[0])
        years, short = g["year"].to_numpy(int), g["shortfall"].to_numpy(float)
        placed, demand_h = float(g["places_at_horizon"].iloc[0]), float(g["demand"].iloc[-1])
        kinds: list[str] = []
        sp = params.stages.get(stage)
        fut = years >= start
        fy, fs, foor = years[fut], short[fut], g["out_of_reach"].to_numpy(float)[fut]
        rest = fs
        if sp is not None and zone != DISTRICT_ID and \
                0 < foor.max(initial=0) <= params.transport_max_pupils:
            rest = fs - foor
            on = foor > 0
            act("transport", zone, name, stage, {int(y): p * sp.transport_cost_per_pupil_year
                                                 for y, p in zip(fy[on], foor[on])},
                first_year=int(fy[on][0]), open_year=int(fy[on][0]),
                last_year=int(fy[on][-1]), pupil_years=float(foor.sum()))
            kinds.append("transport")
        on = rest > 0
        if sp is not None and on.any():
            gone = rest[-1] <= 0
            transient = gone and (on.sum() < params.transient_years
                                  or placed - demand_h >= rest.max())
            temp_years = fy[on]
            if not transient:
                at = int(np.argmax(rest))
                plan = _lasting(sp, params, rules, grade_mix, zone, stage, int(fy[at]),
                                float(rest[at]))
                lead, n, kind = plan.pop("lead"), plan.pop("build"), plan.pop("kind")
                opening = max(int(temp_years[0]), start + lead)
                build = range(opening - n, opening) if n else range(opening, opening + 1)
                capital = plan["places"] * sp.cost_per_place
                act(kind, zone, name, stage, {y: capital / len(build) for y in build},
                    first_year=build[0], open_year=opening, **plan)
                kinds.append(kind)
                temp_years = temp_years[temp_years < opening]      # bridging until it opens
            if len(temp_years):
                py = dict(zip(fy[on], rest[on]))
                act("temporary", zone, name, stage,
                    {int(y): py[y] * sp.temporary_cost_per_place_year for y in temp_years},
                    first_year=int(temp_years[0]), open_year=int(temp_years[0]),
                    last_year=int(temp_years[-1]),
                    pupil_years=float(sum(py[y] for y in temp_years)))
                kinds.append("temporary")
        short_years = years[short > 0]
        peak = int(np.argmax(short)) if len(short) else 0
        recs.append({
            "zone_id": zone, "zone_name": name, "stage": stage,
            "years_short": int((short > 0).sum()),
            "first_year_short": int(short_years[0]) if len(short_years) else pd.NA,
            "last_year_short": int(short_years[-1]) if len(short_years) else pd.NA,
            "peak_shortfall": float(short.max(initial=0)),
            "peak_year": int(years[peak]) if short.max(initial=0) > 0 else pd.NA,
            "shortfall_at_horizon": float(short[-1]) if len(short) else 0.0,
            "places_at_horizon": placed, "demand_at_horizon": demand_h,
            "horizon_surplus": placed - demand_h,
            "recommendation": " + ".join(dict.fromkeys(kinds)) if kinds else "none"})
    rec = pd.DataFrame(recs, columns=RECOMMENDATION_COLUMNS)
    for col in ("first_year_short", "last_year_short", "peak_year"):
        rec[col] = rec[col].astype("Int64")
    return rec, actions_frame(actions), cost_by_year(phased, model_path, base)


def actions_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The action list in :data:`ACTION_COLUMNS` order, by stage order of appearance and
    :data:`KINDS`."""
    out = pd.DataFrame(rows, columns=ACTION_COLUMNS)
    for col in ("classes", "places", "first_year", "open_year", "last_year"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype("Int64")
    for col in ("pupil_years", "cost_cny"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype("float")
    out = out.astype({c: "string" for c in ("id", "stage", "kind", "zone_id", "zone_name",
                                            "school_mix", "basis")})
    return out.assign(school_mix=out["school_mix"].fillna(""))


def cost_by_year(phased: list[tuple[int, str, str, float]], model_path: str | None,
                 base: int) -> pd.DataFrame:
    """Cost per year × stage × kind, each year marked observed / estimated / projected."""
    out = pd.DataFrame(phased, columns=["year", "stage", "kind", "cost_cny"])
    out = out.groupby(["year", "stage", "kind"], as_index=False, sort=True)["cost_cny"].sum()
    status = year_status(out["year"], model_path, base)
    out["year"] = out["year"].astype("int64")
    out["year_status"] = out["year"].map(status).astype("string")
    return out.astype({"stage": "string", "kind": "string"})[COST_BY_YEAR_COLUMNS]


def data_basis_view(result: "Result") -> pd.DataFrame:
    """Inputs the model marks as estimates, synthetic or derived: key, note (model.toml's
    comments on its files, stage and plan settings)."""
    path = result.manifest.get("model_path")
    rows = []
    toml = Path(path) / "model.toml" if path else None
    if toml is not None and toml.is_file():
        section = ""
        for line in toml.read_text(encoding="utf-8").splitlines():
            s = line.strip()
            if s.startswith("["):
                section = s.strip("[]")
            elif "=" in s and "#" in s:
                key, note = s.split("#", 1)[0].split("=")[0].strip(), s.split("#", 1)[1].strip()
                low = note.lower()
                kind = next((k for k in ("synthetic", "estimate", "derived", "plan")
                             if k in low), None)
                if kind:
                    rows.append({"input": f"{section}.{key}" if section else key,
                                 "basis": kind, "note": note})
    return pd.DataFrame(rows, columns=["input", "basis", "note"])
