"""The surplus post-step: schools and zones with a lasting surplus of places, the counterpart
of the shortfall, for conversion or closure decisions (docs/outputs.md, surplus.csv).

Each stage is taken under its headline rule (:func:`capacity.stages.headline_mode`). A
school-stage has a **surplus** in a year when its spare places (places − pupils it admits)
are at least ``surplus.share`` of its places; the surplus is **lasting** when it holds in
every year from its first year to the horizon, for at least ``surplus.years`` years
(model.toml ``[surplus]``, defaults in capacity/schema/model_toml.csv). A zone's places are
those of the schools in it (the school's site in the zone's outline, else the nearest zone).

Spare places can be taken out of use without adding shortfall: the run's allocation still
fits (every school keeps its pupils), so the ``freeable_places`` of several schools can be
converted at once, for the projection the run made.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from .registry import POST_STEPS
from .result import EXTRA_TABLES
from .stages import headline_mode, is_compulsory
from .staffing import year_spans

if TYPE_CHECKING:
    from .state import RunState

SCHOOL_COLUMNS = EXTRA_TABLES["surplus"]
ZONE_COLUMNS = EXTRA_TABLES["surplus_zones"]


def lasting(flags: pd.DataFrame, keys: list[str], horizon: int, min_years: int
            ) -> pd.DataFrame:
    """Per ``keys``: ``years_with_surplus`` (count), ``surplus_years`` (spans) and
    ``first_year_lasting`` (the first year of the run of surplus years that reaches
    ``horizon``, when it is ``min_years`` long or longer; else NA), from rows of ``keys``,
    ``year`` and a boolean ``surplus``."""
    f = flags.sort_values([*keys, "year"], kind="stable")
    out = []
    for key, g in f.groupby(keys, sort=False):
        years, hit = g["year"].to_numpy(int), g["surplus"].to_numpy(bool)
        n = 0             # the run of surplus years that ends at the horizon
        while n < len(years) and hit[-1 - n] and years[-1 - n] == horizon - n:
            n += 1
        first = int(years[-n]) if n and n >= min_years else pd.NA
        out.append((*(key if isinstance(key, tuple) else (key,)), int(hit.sum()),
                    year_spans(pd.Series(years[hit])) if hit.any() else "", first))
    return pd.DataFrame(out, columns=[*keys, "years_with_surplus", "surplus_years",
                                      "first_year_lasting"]).astype(
        {"first_year_lasting": "Int64"})


def school_zones(sites: pd.DataFrame, zones: gpd.GeoDataFrame) -> pd.Series:
    """zone_id of each site (``x``, ``y`` in the zones' CRS): the zone holding it, else the
    nearest zone."""
    xy = sites[["x", "y"]].astype(float)
    placed = xy[np.isfinite(xy).all(axis=1)]          # a site without coordinates: no zone
    points = gpd.GeoDataFrame(index=placed.index, geometry=gpd.points_from_xy(
        placed["x"], placed["y"]), crs=zones.crs)
    hit = gpd.sjoin_nearest(points, zones[["zone_id", "geometry"]], how="left")
    return hit[~hit.index.duplicated()]["zone_id"].reindex(sites.index)


def surplus_tables(schools: pd.DataFrame, shortfall: pd.DataFrame, zone_of: pd.Series,
                   modes: dict[str, str], share: float, min_years: int, horizon: int
                   ) -> dict[str, pd.DataFrame]:
    """surplus.csv and surplus_zones.csv from a run's schools and shortfall tables,
    ``zone_of`` (school_id × stage → zone_id) and each stage's headline ``modes``."""
    s = schools[schools["mode"].astype(str) == schools["stage"].astype(str).map(modes)].copy()
    s["zone_id"] = [zone_of.get((a, b)) for a, b in zip(s["school_id"], s["stage"])]
    s["spare_places"] = s["places"] - s["pupils"]
    s["surplus"] = (s["places"] > 0) & (s["spare_places"] >= share * s["places"] - 1e-9)
    keys = ["school_id", "stage"]
    runs = lasting(s, keys, horizon, min_years)
    keep = runs[runs["first_year_lasting"].notna()]
    rows = s.merge(keep, on=keys)
    rows = rows[rows["year"] >= rows["first_year_lasting"]]
    rows["freeable_places"] = rows.groupby(keys)["spare_places"].transform("min")
    rows["first_year_lasting"] = rows["first_year_lasting"].astype(np.int64)
    order = {k: i for i, k in enumerate(modes)}                 # the model's stage order
    school = rows.sort_values(["stage", "school_id", "year"], kind="stable", key=lambda c: (
        c.astype(str).map(order) if c.name == "stage" else c))[SCHOOL_COLUMNS]
    school = school.reset_index(drop=True)

    z = (s.groupby(["zone_id", "stage", "mode", "year"], as_index=False)
         [["places", "pupils", "spare_places"]].sum())
    d = shortfall[shortfall["mode"].astype(str) == shortfall["stage"].astype(str).map(modes)]
    z = d[["zone_id", "stage", "mode", "year", "demand"]].merge(
        z, on=["zone_id", "stage", "mode", "year"], how="left").fillna(
        {"places": 0, "pupils": 0, "spare_places": 0})
    z["places_minus_demand"] = z["places"] - z["demand"]
    z["surplus"] = (z["places"] > 0) & (z["spare_places"] >= share * z["places"] - 1e-9)
    zr = lasting(z, ["zone_id", "stage"], horizon, min_years)
    z = z.merge(zr[["zone_id", "stage", "first_year_lasting"]], on=["zone_id", "stage"])
    z["first_year_lasting"] = z["first_year_lasting"].astype(float)    # empty: none (NaN)
    for col in ("places", "pupils", "spare_places", "places_minus_demand"):
        z[col] = z[col].astype(np.int64)
    z = z.sort_values(["stage", "zone_id", "year"], kind="stable", key=lambda c: (
        c.astype(str).map(order) if c.name == "stage" else c))
    return {"surplus": school, "surplus_zones": z[ZONE_COLUMNS].reset_index(drop=True)}


@POST_STEPS.register("surplus")
def surplus(state: "RunState") -> None:
    """``state.tables["surplus"]`` and ``["surplus_zones"]`` (module docstring)."""
    model, tables = state.model, state.tables
    run_modes = {m for _, m in state.allocations}
    modes = {k: headline_mode(is_compulsory(k, getattr(st, "compulsory", None)),
                              state.scenario.mode, run_modes)
             for k, st in model.stages.items()}
    sites = state.supply.sites
    zone = school_zones(sites, model.zones)
    zone_of = pd.Series(zone.to_numpy(), index=pd.MultiIndex.from_arrays(
        [sites["school_id"].astype(str), sites["stage"].astype(str)]))
    zone_of = zone_of[~zone_of.index.duplicated()]
    st = model.settings
    tables.update(surplus_tables(tables["schools"], tables["shortfall"], zone_of, modes,
                                 float(st["surplus.share"]), int(st["surplus.years"]),
                                 int(state.years[-1])))
