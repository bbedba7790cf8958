"""The budget's recommendation: per zone and stage, what kind of places the shortfall calls
for, and what that costs, phased by year (docs/outputs.md, budget views).

Rule (thresholds in model.toml ``[plan]``: ``transient_years``, ``transport_max_pupils``):

1. **transport** — when at most ``transport_max_pupils`` pupils of the zone are out of reach
   of every school in every year, they are transported: pupil-years = Σ out_of_reach,
   cost = pupil-years × ``transport_cost_per_pupil_year``, in the years they occur; the rest
   of the shortfall (schools in reach are full) goes on to 2–3. Otherwise the whole
   shortfall goes on.
2. **permanent** — when that shortfall is still there at the horizon, or lasts
   ``transient_years`` years or more while the zone's horizon surplus (places of its schools −
   its demand) is smaller than its peak (places built would not stand empty later): its peak in whole classes
   (formed per grade, :func:`capacity.staffing.shortfall_classes`), built as standard schools (fewest
   schools, :func:`capacity.report.sizes.standard_schools`); places = the schools' classes ×
   class size, capital = places × ``cost_per_place`` (the schools recommended, not the
   rounded shortfall), in the first year short.
3. **temporary** — otherwise (gone by the horizon, and short for fewer than
   ``transient_years`` years or with surplus places by then): place-years = Σ shortfall,
   cost = place-years × ``temporary_cost_per_place_year``, in the years short.

Also per zone and stage: the years short, the peak, the places of the zone's schools at the
horizon and the horizon surplus (those places − the zone's demand).
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from ..plan.params import PlanParams, read_params
from ..staffing import GradeMix, shortfall_classes
from .sizes import standard_schools

if TYPE_CHECKING:
    from ..result import Result

RECOMMENDATION_COLUMNS = [
    "zone_id", "zone_name", "stage", "years_short", "first_year_short", "last_year_short",
    "peak_shortfall", "peak_year", "shortfall_at_horizon", "places_at_horizon",
    "demand_at_horizon", "horizon_surplus", "recommendation", "permanent_places",
    "school_mix", "temporary_place_years", "transport_pupil_years", "cost_cny"]
COST_BY_YEAR_COLUMNS = ["year", "stage", "kind", "cost_cny"]


def result_params(result: "Result") -> PlanParams:
    """The run model's ``[plan]`` (defaults when the model folder is not at hand)."""
    stages = {s: (int(c.get("class_size", 1)), float(c.get("cost_per_place", 0.0)),
                  bool(c.get("compulsory", False))) for s, c in result.stages.items()}
    path = result.manifest.get("model_path")
    base = int(result.manifest.get("base_year", min(result.years or [0])))
    if path and (Path(path) / "model.toml").is_file():
        return read_params(Path(path), stages, base, {})
    return read_params(None, stages, base, {})


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


def recommendation_view(result: "Result", by_zone: pd.DataFrame,
                        params: PlanParams | None = None
                        ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(recommendation per zone × stage, cost per year × stage × kind) from
    :func:`capacity.report.budget.shortfall_by_zone_view`'s table."""
    params = params or result_params(result)
    horizon = int(by_zone["year"].max()) if len(by_zone) else 0
    places = zone_places(result, horizon).set_index(["zone_id", "stage"])["places"]
    grade_mix = GradeMix(result.zone_grades)   # classes are formed per grade
    rows, phased = [], []
    for (zone, stage), g in by_zone.groupby(["zone_id", "stage"], sort=False):
        g = g.sort_values("year")
        sp = params.stages.get(str(stage))
        years = g["year"].to_numpy(int)
        short = g["shortfall"].to_numpy(float)
        oor = g["out_of_reach"].to_numpy(float)
        rest, transport = short, np.zeros_like(short)
        if sp is not None and 0 < oor.max(initial=0) <= params.transport_max_pupils:
            transport, rest = oor, short - oor
        on = rest > 0
        demand_h = float(g["demand"].iloc[-1])
        placed = float(places.get((zone, stage), 0.0))
        gone = rest[-1] <= 0 if len(rest) else True
        transient = gone and (on.sum() < params.transient_years
                              or placed - demand_h >= rest.max(initial=0))
        permanent = bool(on.any()) and not transient
        kinds = []
        perm_places, mix, temp_py = 0, "", 0.0
        if sp is not None and transport.sum() > 0:
            kinds.append("transport")
            for y, p in zip(years, transport):
                if p > 0:
                    phased.append((y, stage, "transport", p * sp.transport_cost_per_pupil_year))
        if sp is not None and on.any():
            if permanent:
                at = int(np.argmax(rest))
                classes = int(shortfall_classes(grade_mix, pd.DataFrame(
                    {"zone_id": [zone], "stage": [stage], "year": [years[at]],
                     "pupils": [rest[at]]}), sp.class_size)[0])
                n, built, m = standard_schools(np.array([classes]), sp.standard_classes)
                perm_places, mix = int(built[0]) * sp.class_size, str(m[0])
                kinds.append("permanent")
                phased.append((years[on][0], stage, "permanent",
                               perm_places * sp.cost_per_place))
            else:
                temp_py = float(rest[on].sum())
                kinds.append("temporary")
                for y, p in zip(years[on], rest[on]):
                    phased.append((y, stage, "temporary", p * sp.temporary_cost_per_place_year))
        cost = 0.0
        if sp is not None:
            cost = (transport.sum() * sp.transport_cost_per_pupil_year
                    + perm_places * sp.cost_per_place
                    + temp_py * sp.temporary_cost_per_place_year)
        short_years = years[short > 0]
        peak = int(np.argmax(short)) if len(short) else 0
        rows.append({
            "zone_id": zone, "zone_name": g["zone_name"].iloc[0], "stage": stage,
            "years_short": int((short > 0).sum()),
            "first_year_short": int(short_years[0]) if len(short_years) else pd.NA,
            "last_year_short": int(short_years[-1]) if len(short_years) else pd.NA,
            "peak_shortfall": float(short.max(initial=0)),
            "peak_year": int(years[peak]) if short.max(initial=0) > 0 else pd.NA,
            "shortfall_at_horizon": float(short[-1]) if len(short) else 0.0,
            "places_at_horizon": placed, "demand_at_horizon": demand_h,
            "horizon_surplus": placed - demand_h,
            "recommendation": " + ".join(kinds) if kinds else "none",
            "permanent_places": perm_places, "school_mix": mix,
            "temporary_place_years": temp_py, "transport_pupil_years": float(transport.sum()),
            "cost_cny": cost})
    rec = pd.DataFrame(rows, columns=RECOMMENDATION_COLUMNS)
    for col in ("first_year_short", "last_year_short", "peak_year"):
        rec[col] = rec[col].astype("Int64")
    by_year = pd.DataFrame(phased, columns=COST_BY_YEAR_COLUMNS)
    if len(by_year):
        by_year = by_year.groupby(["year", "stage", "kind"], as_index=False, sort=True)[
            "cost_cny"].sum()
    return rec, by_year


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
