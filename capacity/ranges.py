"""Plausible ranges of the input's numbers (``capacity/schema/plausible_ranges.csv``).

The schema's bounds (``min``/``max``/``gt``/``lt`` of ``capacity/schema/*.csv``) say what is
impossible: a value outside them is an error. This file says what is *implausible*: a value
outside its plausible range is a warning that names the range and why, so a planner
notices a typo (a population cell of 1e6, a class of 80 pupils) without being blocked.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import pandas as pd

from .errors import Problem
from .schema import HERE

if TYPE_CHECKING:
    from .model import Model

LIMIT = 3  # warnings per column before a count of the rest


@dataclass(frozen=True)
class Range:
    """A plausible range (inclusive; None: open) and why."""

    min: float | None
    max: float | None
    why: str

    def holds(self, value: float) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)

    def text(self) -> str:
        lo = f"{self.min:g}" if self.min is not None else ""
        hi = f"{self.max:g}" if self.max is not None else ""
        span = f"{lo} to {hi}" if lo and hi else (f"at most {hi}" if hi else f"at least {lo}")
        return f"plausibly {span}: {self.why}"


@cache
def ranges() -> dict[tuple[str, str], Range]:
    """Every plausible range by (file, key): a table name, ``model`` or ``scenario``."""
    with (HERE / "plausible_ranges.csv").open(encoding="utf-8", newline="") as f:
        return {(r["file"], r["key"]): Range(float(r["min"]) if r["min"] else None,
                                             float(r["max"]) if r["max"] else None, r["why"])
                for r in csv.DictReader(f)}


def value_warning(doc: str, key: str, value: Any, label: str, row: int | None,
                  column: str | None = None) -> Problem | None:
    """A warning when a TOML number lies outside its plausible range (else None)."""
    r = ranges().get((doc, key))
    if r is None or not isinstance(value, (int, float)) or isinstance(value, bool) \
            or r.holds(value):
        return None
    return Problem(label, f"{column or key} = {value!r} is implausible", row, column or key,
                   r.text(), level="warning")


def table_warnings(model: "Model", label: Callable[["Model", str], str],
                   tables: tuple[str, ...] | None = None) -> list[Problem]:
    """Warnings for cells of the model's tables (or of ``tables``) outside their plausible
    ranges (``label`` names a table's file)."""
    out: list[Problem] = []
    for (table, col), r in ranges().items():
        if tables is not None and table not in tables:
            continue
        frame = getattr(model, table, None) if table not in ("model", "scenario") else None
        if not isinstance(frame, pd.DataFrame) or col not in frame.columns or not len(frame):
            continue
        values = pd.to_numeric(frame[col], errors="coerce").astype(float).to_numpy()
        lo = -np.inf if r.min is None else r.min
        hi = np.inf if r.max is None else r.max
        bad = np.isfinite(values) & ((values < lo) | (values > hi))
        lines = frame.index[bad]
        lab = label(model, table)
        for line, v in zip(lines[:LIMIT], values[bad][:LIMIT]):
            row = int(line) if table != "zones" else int(line) + 1
            out.append(Problem(lab, f"{col} = {v:g} is implausible", row, col, r.text(),
                               level="warning"))
        if len(lines) > LIMIT:
            out.append(Problem(lab, f"... and {len(lines) - LIMIT} more implausible values",
                               column=col, level="warning"))
    return out
