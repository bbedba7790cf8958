"""The demand step: pupils per demand unit, stage and year (docs/allocation.md).

Expected (fractional) pupils come straight from the projection: the zone's population in the
stage's ages × the stage's enrolment rate × the unit's weight. The solver needs whole pupils:
each zone's total is rounded to the nearest whole pupil and shared among its units by largest
remainder, so zone totals keep their rounded value.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import box

from .model import Model, Stage

if TYPE_CHECKING:
    from .state import RunState


def demand_units(model: Model) -> pd.DataFrame:
    """Demand points: unit_id, zone_id, zone (index), weight, x, y (model CRS), lon, lat.

    From units.csv when the model has one; otherwise the centres of a square grid of
    ``[units] grid_m`` clipped to each zone, weighted by the cell's area inside the zone
    (a zone smaller than one cell gets one unit at a point inside it).
    """
    zone_index = pd.Series(np.arange(len(model.zones)), index=model.zones["zone_id"])
    if model.units is not None:
        u = model.units.reset_index(drop=True)
        units = pd.DataFrame({"unit_id": u["unit_id"].astype(str), "zone_id": u["zone_id"],
                              "weight": u["weight"].to_numpy(float),
                              "x": u["x"].to_numpy(float), "y": u["y"].to_numpy(float)})
    else:
        units = _grid_units(model.zones, model.grid_m)
    units["zone"] = zone_index.loc[units["zone_id"]].to_numpy()
    lonlat = gpd.GeoSeries(gpd.points_from_xy(units["x"], units["y"]), crs=model.crs) \
        .to_crs("EPSG:4326")
    units["lon"], units["lat"] = lonlat.x.to_numpy(), lonlat.y.to_numpy()
    return units.sort_values(["zone", "unit_id"], kind="stable").reset_index(drop=True)


def _grid_units(zones: gpd.GeoDataFrame, size: float) -> pd.DataFrame:
    xmin, ymin, xmax, ymax = zones.total_bounds
    xs = np.arange(np.floor(xmin / size) * size, xmax, size)
    ys = np.arange(np.floor(ymin / size) * size, ymax, size)
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
    cells = gpd.GeoDataFrame({"cell": np.arange(gx.size)},
                             geometry=box(gx, gy, gx + size, gy + size), crs=zones.crs)
    parts = gpd.overlay(cells, zones[["zone_id", "geometry"]], how="intersection",
                        keep_geom_type=True)
    parts["area"] = parts.geometry.area
    parts = parts[parts["area"] > 0]
    centre = parts.geometry.representative_point()
    # centre of the full cell when it lies inside the zone part, else a point inside the part
    cx, cy = gx[parts["cell"]] + size / 2, gy[parts["cell"]] + size / 2
    inside = shapely.contains_xy(parts.geometry.to_numpy(), cx, cy)
    x = np.where(inside, cx, centre.x.to_numpy())
    y = np.where(inside, cy, centre.y.to_numpy())
    total = parts.groupby("zone_id")["area"].transform("sum")
    out = pd.DataFrame({"unit_id": [f"{z}-g{c}" for z, c in zip(parts["zone_id"], parts["cell"])],
                        "zone_id": parts["zone_id"].to_numpy(),
                        "weight": (parts["area"] / total).to_numpy(), "x": x, "y": y})
    return out


def stage_population(population: np.ndarray, stages: dict[str, Stage]) -> np.ndarray:
    """Children of each stage's ages: (years, zones, stages) from (years, zones, 2, ages)."""
    both = population.sum(axis=2)
    return np.stack([both[..., s.ages[0]:s.ages[1] + 1].sum(axis=-1) for s in stages.values()],
                    axis=-1)


def children_table(population: pd.DataFrame | None, ages: tuple[int, int] | None
                   ) -> pd.DataFrame:
    """Children of the ages ``(first, last)`` per zone and year from a long population
    table (zone_id, year, sex, age, population): zone_id, year, children."""
    if population is None or population.empty or ages is None:
        return pd.DataFrame({"zone_id": pd.Series(dtype="string"),
                             "year": pd.Series(dtype="int64"), "children": []})
    pop = population[population["age"].between(*ages)]
    out = pop.groupby(["zone_id", "year"], as_index=False)["population"].sum()
    out["zone_id"] = out["zone_id"].astype(str)
    return out.rename(columns={"population": "children"})


def zone_demand(population: np.ndarray, stages: dict[str, Stage]) -> np.ndarray:
    """Expected pupils: (years, zones, stages) = stage population × enrolment rate."""
    rates = np.array([s.enrolment for s in stages.values()])
    return stage_population(population, stages) * rates


def largest_remainder(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Round ``values`` (..., U) to integers so each group's total is its rounded sum.

    ``groups`` (U,) gives each unit's group (zone). Leading axes (years, stages) are
    independent. Ties go to the lower unit index. Vectorised over everything.
    """
    values = np.asarray(values, float)
    lead = values.shape[:-1]
    flat = values.reshape(-1, values.shape[-1])
    base = np.floor(flat)
    rem = flat - base
    key = groups[None, :] + n_groups * np.arange(flat.shape[0])[:, None]   # (R, U)
    totals = np.bincount(key.ravel(), weights=flat.ravel(), minlength=flat.shape[0] * n_groups)
    floors = np.bincount(key.ravel(), weights=base.ravel(), minlength=flat.shape[0] * n_groups)
    need = np.rint(np.floor(totals + 0.5) - floors).astype(np.int64)   # half rounds up
    # rank units within each (row, group) by remainder, largest first, ties by position
    k, r = key.ravel(), rem.ravel()
    order = np.lexsort((-r, k))        # stable: equal remainders keep position order
    sorted_keys = k[order]
    starts = np.ones(order.size, bool)
    starts[1:] = sorted_keys[1:] != sorted_keys[:-1]
    first = np.maximum.accumulate(np.where(starts, np.arange(order.size), 0))
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size) - first
    extra = rank < need[k]
    return (base.ravel() + extra).reshape(lead + (flat.shape[1],)).astype(np.int64)


def unit_demand(zone_pupils: np.ndarray, units: pd.DataFrame, n_zones: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """Pupils per unit: fractional (years, stages, U) and whole (same shape).

    ``zone_pupils`` is (years, zones, stages) expected pupils.
    """
    zone = units["zone"].to_numpy()
    frac = np.moveaxis(zone_pupils, 1, -1)[..., zone] * units["weight"].to_numpy()
    return frac, largest_remainder(frac, zone, n_zones)


def demand(state: "RunState") -> None:
    """Fill ``units``, ``children``, ``zone_pupils`` and ``unit_pupils`` of the run."""
    model = state.model
    pop = state.projection.population
    state.units = demand_units(model)
    state.children = stage_population(pop, model.stages)
    state.zone_pupils = zone_demand(pop, model.stages)
    frac, state.unit_pupils = unit_demand(state.zone_pupils, state.units, len(model.zones))
    if state.scenario.cross_boundary:
        add_cross_boundary(state, frac)


def add_cross_boundary(state: "RunState", frac: np.ndarray) -> None:
    """Add the scenario's extra pupils at named zones or units (e.g. children from
    neighbouring counties) to the unit and zone demand. The rows were checked when the
    inputs were loaded (``capacity.scenario_checks``)."""
    model, units, years = state.model, state.units, state.years
    stage_idx = {s: k for k, s in enumerate(model.stages)}
    extra = np.zeros_like(frac)
    for row in state.scenario.cross_boundary:
        k = stage_idx[row["stage"]]
        active = (years >= row.get("from_year", years[0])) & (years <= row.get("to_year",
                                                                                years[-1]))
        if "zone_id" in row:
            share = units["weight"].to_numpy() * (units["zone_id"] == row["zone_id"]).to_numpy()
        else:
            share = (units["unit_id"] == row["unit_id"]).to_numpy().astype(float)
        extra[active, k, :] += row["pupils"] * share
    frac = frac + extra
    zone = units["zone"].to_numpy()
    zadd = np.zeros_like(state.zone_pupils)
    np.add.at(np.moveaxis(zadd, 1, -1), (slice(None), slice(None), zone), extra)
    state.unit_pupils = largest_remainder(frac, zone, len(model.zones))
    state.zone_pupils = state.zone_pupils + zadd
