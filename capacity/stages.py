"""Rules about school stages that more than one module needs."""
from __future__ import annotations

from .schema import keys


def is_compulsory(stage: str, flag: bool | None = None) -> bool:
    """A stage's ``compulsory`` setting, or the model schema's default for its name
    (``stages.*.compulsory`` in capacity/schema/model_toml.csv: primary and junior)."""
    if flag is not None:
        return bool(flag)
    return bool(keys("model")["stages.*.compulsory"].default_for(stage))
