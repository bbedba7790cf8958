"""The distances step: unit → school arcs within each unit's service radius, per stage.

The service radius of a unit is the stage's ``radius_m`` × its zone's ``radius_scale``
(docs/model-format.md), unless the scenario sets ``[allocation] zone_radius_scale = false``.
Arcs come from a distance rule registered in :data:`capacity.registry.DISTANCES`:
``f(unit_xy (U, 2), site_xy (S, 2), radius (U,)) -> Arcs``. The default, ``euclidean``,
is the straight line in the model's projected CRS (:meth:`Arcs.build`).

The scenario's ``[[transport]]`` rows scale a unit's radius for a stage in some years
(:func:`transport_factor`). Such a stage's arcs are built once with the largest radius any
unit gets, and each year uses the arcs within that year's radius (:func:`year_arcs`),
shared by the years with the same rows active; ``state.arcs`` keeps the walking arcs.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import geopandas as gpd
import numpy as np

from .allocate import Arcs
from .registry import DISTANCES

if TYPE_CHECKING:
    from .state import RunState

DistanceRule = Callable[[np.ndarray, np.ndarray, np.ndarray], Arcs]

DISTANCES.register("euclidean")(Arcs.build)


def unit_radius(radius_m: float, zone_scale: np.ndarray, unit_zone: np.ndarray,
                apply_scale: bool = True) -> np.ndarray:
    """(U,) service radius of each unit: ``radius_m`` × its zone's scale (when applied)."""
    radius = np.full(len(unit_zone), float(radius_m))
    if apply_scale:
        radius *= np.asarray(zone_scale, float)[np.asarray(unit_zone, int)]
    return radius


def zone_scale_at(zones: gpd.GeoDataFrame, points: gpd.GeoSeries) -> np.ndarray:
    """``radius_scale`` of the zone holding (or nearest to) each point; 1 without one."""
    if len(points) == 0 or "radius_scale" not in zones:
        return np.ones(len(points))
    frame = zones[["radius_scale", "geometry"]]
    if points.crs is not None and frame.crs is not None and frame.crs != points.crs:
        frame = frame.to_crs(points.crs)
    hit = gpd.sjoin_nearest(gpd.GeoDataFrame(geometry=points.reset_index(drop=True)), frame,
                            how="left")
    hit = hit[~hit.index.duplicated()]
    return hit["radius_scale"].fillna(1.0).to_numpy(float)


def stage_radius(state: "RunState", stage: str) -> np.ndarray:
    """(U,) service radius of every demand unit for one stage of the run, times the
    scenario's ``[radius_scale.<stage>]`` factor of the unit's zone (transport)."""
    model = state.model
    radius = unit_radius(model.stages[stage].radius_m, model.zones["radius_scale"].to_numpy(),
                         state.units["zone"].to_numpy(), state.scenario.zone_radius_scale)
    return radius * scenario_zone_factor(state, stage)[state.units["zone"].to_numpy()]


def scenario_zone_factor(state: "RunState", stage: str) -> np.ndarray:
    """(Z,) the scenario's ``[radius_scale.<stage>]`` factor per zone (1 where absent; its
    stages, zones and bounds are checked with the inputs: capacity/scenario_checks.py)."""
    ids = {z: i for i, z in enumerate(state.model.zones["zone_id"])}
    factor = np.ones(len(ids))
    for zone, value in state.scenario.raw.get("radius_scale", {}).get(stage, {}).items():
        factor[ids[zone]] = float(value)
    return factor


def transport_factor(state: "RunState", stage: str) -> tuple[np.ndarray, list[tuple]] | None:
    """The scenario's ``[[transport]]`` rows of one stage: (Y, U) factor on each unit's
    radius per year (1 outside the rows; the largest where rows overlap) and per year the
    rows active (indices); None when the stage has none. The rows were checked with the
    inputs (capacity/scenario_checks.py)."""
    rows = [(i, r) for i, r in enumerate(state.scenario.transport) if r["stage"] == stage]
    if not rows:
        return None
    years, units = state.years, state.units
    factor = np.ones((len(years), len(units)))
    for _, r in rows:
        unit = (units["unit_id"] == r["unit_id"]) if "unit_id" in r \
            else (units["zone_id"] == r["zone_id"])
        on = (years >= r["from_year"]) & (years <= r["to_year"])
        factor[np.ix_(on, unit.to_numpy())] = np.maximum(
            factor[np.ix_(on, unit.to_numpy())], float(r["radius_scale"]))
    active = [tuple(i for i, r in rows if r["from_year"] <= y <= r["to_year"]) for y in years]
    return factor, active


def year_arcs(walk: Arcs, wide: Arcs, radius: np.ndarray, active: list[tuple]
              ) -> list[Arcs]:
    """Per year, the arcs within that year's radius (``radius``: (Y, U)): ``walk`` where no
    row is active, else the ``wide`` arcs (built with each unit's largest radius) within
    it, one :class:`Arcs` per set of active rows. Each unit's nearest school at any
    distance is the walking arcs'."""
    built: dict[tuple, Arcs] = {(): walk}
    out = []
    for y, key in enumerate(active):
        if key not in built:
            keep = wide.distance <= radius[y][wide.unit]
            arcs = Arcs.from_pairs(wide.unit[keep], wide.school[keep], wide.distance[keep],
                                   wide.unit_xy, wide.school_xy, radius[y])
            arcs.nearest_any, arcs.nearest_any_m = walk.nearest_any, walk.nearest_any_m
            built[key] = arcs
        out.append(built[key])
    return out


def distances(state: "RunState") -> None:
    """Fill ``state.arcs``: one :class:`Arcs` per stage, built by ``state.distance``; and
    ``state.transport_arcs`` for the stages with ``[[transport]]`` rows."""
    sites = state.supply.sites
    unit_xy = state.units[["x", "y"]].to_numpy()
    for stage in state.model.stages:
        sel = (sites["stage"] == stage).to_numpy()
        site_xy = sites.loc[sel, ["x", "y"]].to_numpy()
        radius = stage_radius(state, stage)
        state.arcs[stage] = state.distance(unit_xy, site_xy, radius)
        transport = transport_factor(state, stage)
        if transport is not None:
            factor, active = transport
            wide = state.distance(unit_xy, site_xy, radius * factor.max(axis=0))
            state.transport_arcs[stage] = year_arcs(state.arcs[stage], wide,
                                                    radius * factor, active)
