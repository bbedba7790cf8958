"""Rules about school stages that more than one module needs."""
from __future__ import annotations

from collections.abc import Iterable

from .schema import keys


def is_compulsory(stage: str, flag: bool | None = None) -> bool:
    """A stage's ``compulsory`` setting, or the model schema's default for its name
    (``stages.*.compulsory`` in capacity/schema/model_toml.csv: primary and junior)."""
    if flag is not None:
        return bool(flag)
    return bool(keys("model")["stages.*.compulsory"].default_for(stage))


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
