"""The distances step: unit → school arcs within each unit's service radius, per stage.

The service radius of a unit is the stage's ``radius_m`` × its zone's ``radius_scale``
(docs/model-format.md), unless the scenario sets ``[allocation] zone_radius_scale = false``.
Arcs come from a distance rule registered in :data:`capacity.registry.DISTANCES`:
``f(unit_xy (U, 2), site_xy (S, 2), radius (U,)) -> Arcs``. The default, ``euclidean``,
is the straight line in the model's projected CRS (:meth:`Arcs.build`).
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


def distances(state: "RunState") -> None:
    """Fill ``state.arcs``: one :class:`Arcs` per stage, built by ``state.distance``."""
    sites = state.supply.sites
    unit_xy = state.units[["x", "y"]].to_numpy()
    for stage in state.model.stages:
        sel = (sites["stage"] == stage).to_numpy()
        state.arcs[stage] = state.distance(unit_xy, sites.loc[sel, ["x", "y"]].to_numpy(),
                                           stage_radius(state, stage))
