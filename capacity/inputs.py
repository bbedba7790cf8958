"""One gate for a run's inputs: ``capacity validate`` and ``capacity run`` go through
:func:`load_inputs`, so they accept and refuse exactly the same inputs.

It loads the model with the scenario's stage edits, checks every scenario edit against the
model (:mod:`capacity.scenario_checks`), and builds what the run builds first from the
input alone (demand units, the grid when there is no units file, and the supply of places)
so that a problem found there is an input error before any work starts.
"""
from __future__ import annotations

import numpy as np

from .demand import demand_units
from .errors import InputError, Problems
from .model import Model, load_model
from .scenario import Scenario
from .scenario_checks import edit_problems
from .supply import build_supply


def load_inputs(scenario: Scenario, *, allow_outside_model: bool = False) -> Model:
    """The scenario's model, checked with every scenario edit; :class:`InputError` listing
    every problem. Warnings (implausible values, repaired polygons) are added to the
    model's ``warnings``."""
    model = load_model(scenario.model, overrides=scenario.stages, source=scenario.path,
                       allow_outside=allow_outside_model)
    units = demand_units(model)
    problems = Problems()
    found = [*scenario.warnings, *edit_problems(model, scenario, set(units["unit_id"]))]
    problems.extend(p for p in found if p.level != "warning")
    problems.raise_if_any()
    model.warnings.extend(str(p) for p in found if p.level == "warning")
    if scenario.path is not None:   # a model folder alone has no horizon of its own
        build_supply(model, scenario, np.arange(model.base_year, scenario.horizon + 1))
    return model


__all__ = ["InputError", "load_inputs"]
