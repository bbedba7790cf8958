"""The run state: one typed object that carries a run's intermediates from step to step.

The chain (:mod:`capacity.chain`) creates it from a scenario and its model; each step reads
the fields filled before it and fills its own (as pvlib's ``ModelChainResult``):

============  =====================================================================
step          fills
============  =====================================================================
projection    ``projection``, ``warnings`` (floored negative counts)
demand        ``units``, ``children``, ``zone_pupils``, ``unit_pupils``
supply        ``supply``
distances     ``arcs``, ``transport_arcs``
allocation    ``allocations``
tables        ``tables``
post-steps    more ``tables`` (e.g. ``criticality``)
============  =====================================================================
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .allocate import Allocation, Arcs
    from .demography.ccm import Projection
    from .model import Model
    from .scenario import Scenario
    from .supply import Supply

Progress = Callable[[str], None]

#: Below this many arcs × solves, a process pool costs more than it saves (measured).
PARALLEL_MIN_ARC_SOLVES = 2e6
Allocator = Callable[..., "Allocation"]
DistanceRule = Callable[[np.ndarray, np.ndarray, np.ndarray], "Arcs"]


@dataclass
class RunState:
    """A run's settings, chosen rules and every intermediate result (arrays by index:
    Y years, Z zones, K stages in model order, U demand units, S sites of a stage)."""

    scenario: "Scenario"
    model: "Model"
    years: np.ndarray                        # (Y,) base year .. horizon
    distance: DistanceRule                   # unit → site arcs of one stage
    allocators: dict[str, Allocator]         # allocation mode → rule, in output order
    report_year: int                         # headline year of reports and maps
    distance_name: str = "euclidean"         # the distance rule's registered name
    progress: Progress | None = None
    workers: int = 1                         # processes for independent solves
    projection: "Projection | None" = None   # population (Y, Z, 2, A) and components
    units: pd.DataFrame | None = None        # unit_id, zone_id, zone, weight, x, y, lon, lat
    children: np.ndarray | None = None       # (Y, Z, K) children of each stage's ages
    zone_pupils: np.ndarray | None = None    # (Y, Z, K) expected pupils (× enrolment)
    unit_pupils: np.ndarray | None = None    # (Y, K, U) whole pupils per unit
    supply: "Supply | None" = None           # sites and places per year
    arcs: dict[str, "Arcs"] = field(default_factory=dict)   # stage → arcs (walking)
    # stage → arcs per year, for stages with [[transport]] rows (capacity.distances)
    transport_arcs: dict[str, list["Arcs"]] = field(default_factory=dict)
    allocations: dict[tuple[str, str], list["Allocation"]] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)   # run-folder tables
    timings: dict[str, float] = field(default_factory=dict)         # step → seconds
    solves: dict[str, int] = field(default_factory=dict)            # step → solver calls
    warnings: list[str] = field(default_factory=list)

    @property
    def stage_names(self) -> list[str]:
        return list(self.model.stages)

    @property
    def label(self) -> str:
        """The scenario file's name, for messages."""
        return self.scenario.path.name if self.scenario.path else "scenario"

    def say(self, message: str) -> None:
        """Report progress, when the run has a progress callback."""
        if self.progress:
            self.progress(message)

    def site_mask(self, stage: str) -> np.ndarray:
        """(sites,) which supply sites belong to ``stage`` (their order is the arcs')."""
        return (self.supply.sites["stage"] == stage).to_numpy()

    def arcs_for(self, stage: str, y: int) -> "Arcs":
        """The arcs of ``stage`` in year index ``y``: its walking arcs, or the year's arcs
        of its ``[[transport]]`` rows (which carry the walking arcs' catchment map)."""
        by_year = self.transport_arcs.get(stage)
        if by_year is None:
            return self.arcs[stage]
        walk, arcs = self.arcs[stage], by_year[y]
        if arcs is not walk and "designed" in walk.cache:
            arcs.cache["designed"] = walk.cache["designed"]
        return arcs

    def workers_for(self, tasks: list) -> int:
        """Processes worth using for ``tasks`` solves: ``workers`` when the solves are
        large enough to repay starting a pool (:data:`PARALLEL_MIN_ARC_SOLVES`), else 1."""
        arcs = sum(len(a) for a in self.arcs.values()) / max(len(self.arcs), 1)
        return self.workers if arcs * len(tasks) >= PARALLEL_MIN_ARC_SOLVES else 1
