"""A run as a chain of named steps over one :class:`~capacity.state.RunState`.

    projection → demand → supply → distances → allocation → tables → post-steps
    (grades: pupils by grade, intake, classes, teachers; criticality; plausibility)

Every step is a plain function ``step(state) -> None`` that reads the fields filled before
it and fills its own (see :mod:`capacity.state`). A chain picks each step by name, or takes
any callable in its place; the distance rule, the allocation modes and the post-steps are
chosen by their registered names (:mod:`capacity.registry`) or given as callables::

    from capacity.chain import Chain
    result = Chain("scenarios/baseline.toml", distance="euclidean",
                   post=("criticality",)).run()
"""
from __future__ import annotations

import contextlib
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from . import __version__
from . import allocate, criticality, demand, distances, projection, supply, tables  # noqa: F401
from . import grades, plausibility, surplus  # noqa: F401  (register their post-steps)
from .errors import InputError
from .inputs import load_inputs
from .parallel import default_workers
from .registry import ALLOCATORS, DISTANCES, POST_STEPS
from .result import ALL_TABLES, Result
from .scenario import Scenario, default_scenario, load_scenario
from .state import Progress, RunState

Step = Callable[[RunState], None]

#: The main steps, in order.
STEPS: dict[str, Step] = {
    "projection": projection.projection,
    "demand": demand.demand,
    "supply": supply.supply,
    "distances": distances.distances,
    "allocation": allocate.allocation,
    "tables": tables.tables,
}


def resolve_scenario(scenario: Scenario | str | Path) -> Scenario:
    """A scenario object from itself, a scenario file, or a model folder (no edits)."""
    if isinstance(scenario, Scenario):
        return scenario
    path = Path(scenario)
    if path.is_dir() or path.name == "model.toml":
        return default_scenario(path)
    return load_scenario(path)


def report_year(scenario: Scenario, targets: dict, years: np.ndarray) -> int:
    """The headline year: the scenario's ``[report] year``, else the model's
    ``[targets] year``, else the horizon (each used only when it is a projected year)."""
    for wanted in (scenario.report_year, targets.get("year")):
        if wanted is not None and int(wanted) in years:
            return int(wanted)
    return int(years[-1])


@dataclass
class Chain:
    """One scenario's run: named steps, chosen rules, one state, one result."""

    scenario: Scenario | str | Path
    distance: str | Callable = "euclidean"
    modes: tuple[str | Callable, ...] | None = None     # None: every registered mode
    post: tuple[str | Step, ...] = ("grades", "surplus", "criticality", "plausibility")
    steps: dict[str, Step] = field(default_factory=dict)  # replacements by step name
    progress: Progress | None = None
    workers: int | None = None                           # None: every core
    allow_outside_model: bool = False   # [files] may name files outside the model folder

    def __post_init__(self) -> None:
        unknown = set(self.steps) - set(STEPS)
        if unknown:
            raise ValueError(f"unknown step(s) {', '.join(sorted(unknown))} "
                             f"(steps: {', '.join(STEPS)})")

    def start(self) -> RunState:
        """Load the scenario and its model; check the horizon; an empty state."""
        scenario = resolve_scenario(self.scenario)
        model = load_inputs(scenario, allow_outside_model=self.allow_outside_model)
        if scenario.horizon <= model.base_year:
            raise InputError.single(scenario.path.name if scenario.path else "scenario",
                                    f"horizon {scenario.horizon} is not after the model's "
                                    f"base year {model.base_year}", column="horizon",
                                    expected=f"a year > {model.base_year}")
        years = np.arange(model.base_year, scenario.horizon + 1)
        modes = self.modes if self.modes is not None else tuple(
            n for n in ALLOCATORS.names() if not getattr(ALLOCATORS.get(n), "needs_map", False))
        allocators = {m if isinstance(m, str) else getattr(m, "__name__", "custom"):
                      ALLOCATORS.get(m) for m in modes}
        if scenario.mode not in allocators:   # indicators and criticality need it
            allocators[scenario.mode] = ALLOCATORS.get(scenario.mode)
        return RunState(scenario=scenario, model=model, years=years,
                        distance=DISTANCES.get(self.distance), allocators=allocators,
                        distance_name=self.distance if isinstance(self.distance, str)
                        else getattr(self.distance, "__name__", "custom"),
                        report_year=report_year(scenario, model.targets, years),
                        progress=self.progress, warnings=list(model.warnings),
                        workers=self.workers or default_workers())

    def run_steps(self, state: RunState, names: tuple[str, ...] | None = None) -> RunState:
        """Run the named main steps (all, in order, by default) on ``state``."""
        for name in names or tuple(STEPS):
            t = time.perf_counter()
            self.steps.get(name, STEPS[name])(state)
            state.timings[f"{name}_s"] = time.perf_counter() - t
        return state

    def run(self) -> Result:
        """Every step and post-step; the run's :class:`Result` (nothing written)."""
        t0 = time.perf_counter()
        state = self.run_steps(self.start())
        for rule in self.post:
            t = time.perf_counter()
            POST_STEPS.get(rule)(state)
            state.timings[f"{rule if isinstance(rule, str) else 'post'}_s"] = \
                time.perf_counter() - t
        state.timings["total_s"] = time.perf_counter() - t0
        return to_result(state)


def to_result(state: RunState) -> Result:
    """The run's tables, zone outlines (WGS84) and manifest as a :class:`Result`."""
    zones = state.model.zones[["zone_id", "name", "radius_scale", "geometry"]].to_crs(
        "EPSG:4326")
    return Result.from_tables(state.scenario.name, state.tables, zones, manifest(state))


def run(scenario: Scenario | str | Path, progress: Progress | None = None,
        criticality: bool = True, workers: int | None = None,
        allow_outside_model: bool = False) -> Result:
    """Run the whole chain for one scenario and return every table (nothing written)."""
    return Chain(scenario, post=("grades", "surplus") + (("criticality",) if criticality else ())
                 + ("plausibility",),
                 progress=progress, workers=workers,
                 allow_outside_model=allow_outside_model).run()


def project_population(scenario: Scenario | str | Path, progress: Progress | None = None,
                       allow_outside_model: bool = False) -> Result:
    """The projection alone: a result with population and components (``capacity
    project``)."""
    chain = Chain(scenario, progress=progress, allow_outside_model=allow_outside_model)
    state = chain.run_steps(chain.start(), ("projection",))
    state.tables["population"] = projection.population_table(state)
    state.tables["components"] = projection.components_table(state)
    return to_result(state)


VERSIONED = ("numpy", "pandas", "scipy", "geopandas", "shapely", "pyproj", "ortools",
             "openpyxl", "matplotlib")


def manifest(state: RunState) -> dict:
    """manifest.json: what ran, on which inputs and versions, how long, with warnings."""
    import importlib.metadata as md

    model, scenario = state.model, state.scenario
    versions = {}
    for pkg in VERSIONED:
        with contextlib.suppress(md.PackageNotFoundError):   # a package not installed
            versions[pkg] = md.version(pkg)
    return {
        "scenario": scenario.name, "description": scenario.description,
        "scenario_file": str(scenario.path) if scenario.path else None,
        "model": model.name, "model_path": str(model.path), "crs": model.crs,
        "base_year": int(model.base_year), "horizon": int(scenario.horizon),
        "allocation_mode": scenario.mode, "modes": list(state.allocators),
        "distance": state.distance_name,
        "migration_timing": scenario.migration_timing or model.migration_timing,
        "report_year": state.report_year, "lang": scenario.lang or model.lang,
        "csv_bom": bool(model.csv_bom if scenario.csv_bom is None else scenario.csv_bom),
        "datum": model.datum, "caveats": model.caveats,
        "stages": {k: s.as_dict() for k, s in model.stages.items()},
        "zone_radius_scale": bool(scenario.zone_radius_scale),
        "targets": model.targets, "input_hashes": model.file_hashes(),
        "surplus": {k: model.settings.get(f"surplus.{k}") for k in ("share", "years")},
        "versions": {"capacity": __version__, "python": platform.python_version(), **versions},
        "seed": None, "timings": {k: round(v, 3) for k, v in state.timings.items()},
        "solves": dict(state.solves), "workers": state.workers,
        "extra_tables": [k for k in state.tables if k not in ALL_TABLES],
        "warnings": state.warnings,
    }
