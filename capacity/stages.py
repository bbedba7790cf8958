"""Rules about school stages that more than one module needs."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from .schema import keys


def is_compulsory(stage: str, flag: bool | None = None) -> bool:
    """A stage's ``compulsory`` setting, or the model schema's default for its name
    (``stages.*.compulsory`` in capacity/schema/model_toml.csv: primary and junior)."""
    if flag is not None:
        return bool(flag)
    return bool(keys("model")["stages.*.compulsory"].default_for(stage))


def stage_grades(stage: Any) -> int:
    """Number of grades of a stage: the span of its ``ages`` (completed years, inclusive),
    e.g. primary ``[6, 11]`` → 6. ``stage``: a model stage or its model.toml table."""
    first, last = stage["ages"] if isinstance(stage, Mapping) else stage.ages
    return int(last) - int(first) + 1


def site_classes(places: Any, class_size: Any) -> Any:
    """Classes a site's places fill: places ÷ class size, rounded up (a part-filled class is
    a classroom too); what ``max_classes`` of schools.csv may not be below."""
    return np.ceil(np.asarray(places, float) / np.asarray(class_size, float) - 1e-9)


#: The figure shown beside the headline: every pupil placed anywhere within reach.
BESIDE_MODE = "optimal"


def headline_mode(compulsory: bool, scenario_mode: str, modes: Iterable[str]) -> str:
    """The allocation rule a stage's shortfall is headlined under (docs/allocation.md,
    "The headline rule"): a compulsory stage follows the catchment rule (就近入学) — the
    scenario's designed catchments when it allocates by them, else the nearest school
    (``catchment``); any other stage the scenario's mode. The scenario's mode also when
    the run did not compute the rule's mode (``modes``: the run's modes)."""
    modes = set(modes)
    if compulsory:
        want = "designed" if scenario_mode == "designed" else "catchment"
        if want in modes:
            return want
    return scenario_mode
