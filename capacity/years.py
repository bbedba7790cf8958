"""Which years a plan may spend in, and what kind of figure each year of a table is.

One home for two rules every money table and year table follows (docs/outputs.md, "Years"):

- :func:`start_year` — the first year money can be spent in: model.toml ``[plan] start_year``
  when the model sets it, else the year after the later of the base year and the last year
  with reported enrolment (``[files] reported_enrolment``). Nothing is funded before it.
- :func:`year_status` — each year is **observed** (the model holds reported enrolment for
  that year: of the stage, or of any stage when no stage is given), **estimated** (the base
  year and any year up to the last reported one that is not itself reported: reconstructed
  from the census and anchors, not counted) or **projected** (every later year).
"""
from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from .tomlspec import read_toml

#: The three kinds of year, in the order tables list them.
YEAR_STATUSES = ("observed", "estimated", "projected")


def _model_conf(model_path: str | Path | None) -> tuple[dict, Path | None]:
    """model.toml of a model folder as a dict ({} when the folder is not at hand)."""
    if not model_path:
        return {}, None
    folder = Path(model_path)
    toml = folder / "model.toml"
    if not toml.is_file():
        return {}, None
    return read_toml(toml)[0], folder


def reported_years(model_path: str | Path | None, stage: str | None = None) -> set[int]:
    """Years with reported enrolment in the model (of ``stage``, or of any stage)."""
    conf, folder = _model_conf(model_path)
    name = (conf.get("files") or {}).get("reported_enrolment")
    if folder is None or not name or not (folder / name).is_file():
        return set()
    with open(folder / name, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    out = set()
    for row in rows:
        try:
            year = int(float(row.get("year") or ""))
        except ValueError:
            continue
        if stage is None or row.get("stage") == stage:
            out.add(year)
    return out


def start_year(model_path: str | Path | None, base_year: int) -> int:
    """The first year a plan or budget may spend in (see the module docstring)."""
    conf, _ = _model_conf(model_path)
    key = (conf.get("plan") or {}).get("start_year")
    if isinstance(key, int) and not isinstance(key, bool):
        return key
    return first_plan_year(base_year, reported_years(model_path))


def first_plan_year(base_year: int, reported: Iterable[int]) -> int:
    """The year after the last observed one: the later of the base year and the last year
    with reported enrolment (the default ``[plan] start_year``; the plan's own check)."""
    return max([int(base_year), *map(int, reported)]) + 1


def year_status(years: Iterable[int], model_path: str | Path | None, base_year: int,
                stage: str | None = None) -> dict[int, str]:
    """Each year → ``observed``, ``estimated`` or ``projected`` (module docstring)."""
    reported = reported_years(model_path, stage)
    last = max([int(base_year), *reported_years(model_path)])
    out = {}
    for y in years:
        y = int(y)
        out[y] = ("observed" if y in reported else "estimated" if y <= last
                  else "projected")
    return out
