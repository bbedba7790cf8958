"""Rules about school stages that more than one module needs."""
from __future__ import annotations

#: Stages that are compulsory when a model does not say (China's nine-year compulsory
#: education: primary and junior secondary).
COMPULSORY_BY_DEFAULT = ("primary", "junior")


def is_compulsory(stage: str, flag: bool | None = None) -> bool:
    """A stage's ``compulsory`` setting, or the default for its name when not given."""
    return bool(flag) if flag is not None else stage in COMPULSORY_BY_DEFAULT
