"""A scenario's edits checked like a model file (docs/scenarios.md): every number against
its declared bounds and plausible range, every added row against the rules of its table,
each problem reported at the scenario file's line with the table and key.

- :func:`key_problems` (no model needed): numeric keys against ``scenario_toml.csv``.
- :func:`edit_problems`: the horizon after the base year; ``[[projects.add]]`` typed by
  ``projects.csv`` and checked with the model's own project checks; ``[[repurposed]]`` and
  ``[[cross_boundary]]`` typed by their keys and checked against the model's stages, zones,
  units, schools and projects; ``[[transport]]`` against the stages, units, zones and the
  run's years; ``[radius_scale.<stage>]`` against its stages and zones;
  ``[uncertainty]`` as ``capacity ensemble`` reads it; the ``[plan]`` keys of model.toml and
  the scenario (:func:`capacity.plan.params.read_params`) and the model's sites.csv
  (:func:`capacity.plan.candidates.site_problems`).
"""
from __future__ import annotations

import math
import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import schema
from .errors import InputError, Problem, Problems
from .schema import describe
from .model.load import header_line
from .model.tables import type_frame
from .plan.candidates import site_problems
from .plan.params import plan_problems
from .model.validate import (YEAR_SPAN, expansion_school, new_project_id, new_project_site,
                             point_problems, project_inclusive, project_places, project_points,
                             project_stages, project_years, run_checks)
from .ranges import table_warnings, value_warning
from .tomlspec import key_line

if TYPE_CHECKING:
    from .model import Model
    from .scenario import Scenario

KEYS = schema.keys("scenario")
PROJECT_CHECKS = [project_stages, project_places, project_years, expansion_school,
                  new_project_site, new_project_id, project_points, project_inclusive]


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def key_problems(data: dict[str, Any], label: str, text: str) -> list[Problem]:
    """Numeric keys (and the values of numeric tables: TFR path, per-project delays; keys
    under a ``*``, e.g. ``radius_scale.<stage>.<zone>``) out of their bounds (errors) or
    plausible ranges (warnings)."""
    out: list[Problem] = []
    for key in KEYS.values():
        parent = KEYS.get(key.path.rsplit(".", 1)[0]) if "." in key.path else None
        if parent is not None and parent.kind == "rows" or key.path == "horizon":
            continue  # rows: checked with the model; horizon: by the scenario reader
        if key.path == "fertility.tfr" or key.kind == "int|table":
            items = [(f"{path}.{sub}" if isinstance(value, dict) else path, v)
                     for path, value in _matches(data, key.path)
                     for sub, v in (value.items() if isinstance(value, dict)
                                    else [(None, value)])]
        elif key.kind in ("int", "float"):
            items = _matches(data, key.path)
        else:
            continue
        for path, v in items:
            if not _number(v):
                continue  # absent, or a wrong type (reported by the key specification)
            row = key_line(text, path) or key_line(text, path.rsplit(".", 1)[0])
            if not key.in_range(v):
                if key.path != "fertility.tfr":  # the TFR path: checked by the reader
                    out.append(Problem(label, f"{path} = {v!r} is out of range", row, path,
                                       describe(key)))
            else:
                w = value_warning("scenario", key.path, v, label, row, path)
                out += [w] if w else []
    return out


def _matches(data: Any, path: str) -> list[tuple[str, Any]]:
    """(dotted path, value) of every key of ``data`` matching ``path`` (``*``: any name)."""
    found: list[tuple[str, Any]] = [("", data)]
    for part in path.split("."):
        found = [(f"{p}.{k}" if p else str(k), v) for p, d in found if isinstance(d, dict)
                 for k, v in d.items() if part in ("*", k)]
    return found


def row_line(text: str, path: str, i: int, key: str | None = None) -> int | None:
    """The line of key ``key`` in the ``i``-th ``[[path]]`` block (or of the block)."""
    header = re.compile(r"^\s*\[\[\s*" + r"\s*\.\s*".join(map(re.escape, path.split(".")))
                        + r"\s*\]\]")
    lines = text.splitlines()
    starts = [n for n, line in enumerate(lines) if header.match(line)]
    if i >= len(starts):
        return None
    if key is None:
        return starts[i] + 1
    pattern = re.compile(r"^\s*\"?" + re.escape(key) + r"\"?\s*=")
    for n in range(starts[i] + 1, len(lines)):
        if re.match(r"^\s*\[", lines[n]):
            break
        if pattern.match(lines[n]):
            return n + 1
    return starts[i] + 1


ROW_KEY = re.compile(r"^([\w.]+)\[(\d+)\](?:\.(\w+))?$")


def locate_rows(problems: Problems, text: str) -> None:
    """Give problems about a key of an array of tables (``projects.add[0].lon``) the line
    of that key in its ``[[...]]`` block."""
    for n, p in enumerate(problems.items):
        m = ROW_KEY.match(p.column or "")
        if p.row is None and m:
            problems.items[n] = replace(p, row=row_line(text, m[1], int(m[2]), m[3]))


def _cell(v: Any) -> Any:
    """A TOML value as the text a CSV cell would hold (typed again by the table schema)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else str(v)
    return None if v is None else str(v)


def _rows_frame(rows: list[Any]) -> pd.DataFrame:
    return pd.DataFrame([{k: _cell(v) for k, v in r.items()} if isinstance(r, dict) else {}
                         for r in rows], index=pd.RangeIndex(len(rows)), dtype=object)


def _at(found: list[Problem], label: str, text: str, path: str) -> list[Problem]:
    """Problems of a rows frame (row = index i, column = key) at the scenario's lines."""
    out = []
    for p in found:
        i = p.row
        col = p.column if p.column else None
        where = path if i is None else f"{path}[{i}]" + (f".{col}" if col else "")
        line = row_line(text, path, i, col) if i is not None else None
        out.append(Problem(label, p.message, line, where, p.expected, p.level))
    return out


def _row_schema(path: str) -> schema.Schema:
    cols = []
    for k in schema.row_columns("scenario", path):
        if isinstance(k, schema.Col):
            cols.append(k)
        else:
            cols.append(schema.Col(k.name, k.kind, required=k.required, min=k.min, max=k.max,
                                   gt=k.gt, lt=k.lt, choices=k.choices,
                                   allow_empty=not k.required, expected=k.expected))
    return schema.Schema(path, tuple(cols))


def _typed(rows: list[Any], path: str, sch: schema.Schema, label: str, text: str,
           out: list[Problem]) -> pd.DataFrame | None:
    found = Problems()
    typed = type_frame(_rows_frame(rows), "x", sch, found)
    out += _at([p for p in found.items if p.row is not None or p.column], label, text, path)
    return typed


def edit_problems(model: "Model", scenario: "Scenario", unit_ids: set[str] | None = None
                  ) -> list[Problem]:
    """Every problem of the scenario's edits against its model (errors and warnings)."""
    label = scenario.path.name if scenario.path else "scenario"
    text = scenario.path.read_bytes().decode("utf-8-sig", "replace") if scenario.path else ""
    out: list[Problem] = []
    if scenario.path is not None and scenario.horizon <= model.base_year:
        out.append(Problem(label, f"horizon {scenario.horizon} is not after the model's base "
                           f"year {model.base_year}", key_line(text, "horizon"), "horizon",
                           f"a year > {model.base_year}"))
    out += _added_projects(model, scenario, label, text)
    out += _repurposed(model, scenario, label, text)
    out += _cross_boundary(model, scenario, label, text, unit_ids)
    out += _transport(model, scenario, label, text, unit_ids)
    out += _radius_scale(model, scenario, label, text)
    out += _uncertainty(model, scenario)
    return out + (plan_problems(model, scenario) or site_problems(model, scenario))


def _uncertainty(model: "Model", scenario: "Scenario") -> list[Problem]:
    """``[uncertainty]`` checked as ``capacity ensemble`` checks it (bounds, low <= high,
    probabilities, known projects and stages)."""
    if "uncertainty" not in scenario.raw:
        return []
    from .ensemble.spec import read_uncertainty   # here: the ensemble imports the chain
    try:
        read_uncertainty(scenario, model)
    except InputError as exc:
        return exc.problems
    return []


def _radius_scale(model: "Model", scenario: "Scenario", label: str, text: str
                  ) -> list[Problem]:
    """``[radius_scale.<stage>]`` names stages and zones of the model (the factors' bounds:
    :func:`key_problems`)."""
    table = scenario.raw.get("radius_scale", {})
    zones = set(model.zones["zone_id"])
    out = []
    for stage, factors in (table.items() if isinstance(table, dict) else []):
        if stage not in model.stages:
            out.append(Problem(label, f"[radius_scale.{stage}]: unknown stage",
                               key_line(text, f"radius_scale.{stage}")
                               or header_line(text, f"radius_scale.{stage}"),
                               f"radius_scale.{stage}",
                               "a stage of model.toml: " + ", ".join(model.stages)))
            continue
        out += [Problem(label, f"radius_scale.{stage}.{zone}: unknown zone",
                        key_line(text, f"radius_scale.{stage}.{zone}"),
                        f"radius_scale.{stage}.{zone}", "a zone_id of the zones file")
                for zone in (factors if isinstance(factors, dict) else []) if zone not in zones]
    return out


def _added_projects(model: "Model", scenario: "Scenario", label: str, text: str
                    ) -> list[Problem]:
    if not scenario.add:
        return []
    out: list[Problem] = []
    typed = _typed(scenario.add, "projects.add", schema.table("projects"), label, text, out)
    if typed is None or out and any(p.level == "error" for p in out):
        return out
    view = replace(model, projects=typed, files={**model.files, "projects": Path("x")})
    errors, warnings = run_checks(view, best_effort=True, checks=PROJECT_CHECKS)
    found = errors + warnings   # at row i of the added rows: placed by _at
    known = set(model.projects["project_id"]) if len(model.projects) else set()
    dup = typed["project_id"].isin(known) | typed["project_id"].duplicated()
    found += [Problem("x", f"project_id {typed.at[i, 'project_id']!r} already exists", int(i),
                      "project_id", "a new, unique project_id") for i in typed.index[dup]]
    found += table_warnings(view, lambda m, t: "x", ("projects",))
    return out + _at(found, label, text, "projects.add")


def _repurposed(model: "Model", scenario: "Scenario", label: str, text: str) -> list[Problem]:
    if not scenario.repurposed:
        return []
    out: list[Problem] = []
    r = _typed(scenario.repurposed, "repurposed", _row_schema("repurposed"), label, text, out)
    if r is None or out:
        return out
    found = _stage_rows(model, r) + _year_rows(model, r)
    taken = set(model.schools["school_id"]) if len(model.schools) else set()
    taken |= set(model.projects["project_id"]) if len(model.projects) else set()
    taken |= {str(a.get("project_id")) for a in scenario.add}
    clash = r["site_id"].isin(taken) | r["site_id"].duplicated()
    found += [Problem("x", f"site_id {r.at[i, 'site_id']!r} is already a school, project or "
                      "site id", int(i), "site_id", "a new, unique site_id")
              for i in r.index[clash]]
    found += point_problems(r, "x", model.zones, model.crs)
    found += [p for p in (value_warning("scenario", "repurposed.places", v, "x", int(i),
                                        "places") for i, v in r["places"].items()) if p]
    return _at(found, label, text, "repurposed")


def _cross_boundary(model: "Model", scenario: "Scenario", label: str, text: str,
                    unit_ids: set[str] | None) -> list[Problem]:
    if not scenario.cross_boundary:
        return []
    out: list[Problem] = []
    c = _typed(scenario.cross_boundary, "cross_boundary", _row_schema("cross_boundary"), label,
               text, out)
    if c is None or out:
        return out
    found = _stage_rows(model, c) + _year_rows(model, c) + _one_place(model, c, unit_ids)
    found += [p for p in (value_warning("scenario", "cross_boundary.pupils", v, "x", int(i),
                                        "pupils") for i, v in c["pupils"].items()) if p]
    return _at(found, label, text, "cross_boundary")


def _transport(model: "Model", scenario: "Scenario", label: str, text: str,
               unit_ids: set[str] | None) -> list[Problem]:
    """``[[transport]]``: a known stage, exactly one of a known unit_id or zone_id, years
    within the run (base year .. horizon) and in order (radius_scale: its declared bounds)."""
    if not scenario.transport:
        return []
    out: list[Problem] = []
    t = _typed(scenario.transport, "transport", _row_schema("transport"), label, text, out)
    if t is None or out:
        return out
    found = _stage_rows(model, t) + _one_place(model, t, unit_ids)
    lo, hi = model.base_year, scenario.horizon
    for col in ("from_year", "to_year"):
        found += [Problem("x", f"{col} {int(t.at[i, col])} is not a year of the run", int(i),
                          col, f"a year from the base year {lo} to the horizon {hi}")
                  for i in t.index[~t[col].between(lo, hi)]]
    found += [Problem("x", f"to_year {int(t.at[i, 'to_year'])} is before from_year "
                      f"{int(t.at[i, 'from_year'])}", int(i), "to_year", "to_year >= from_year")
              for i in t.index[t["to_year"] < t["from_year"]]]
    return _at(found, label, text, "transport")


def _one_place(model: "Model", c: pd.DataFrame, unit_ids: set[str] | None) -> list[Problem]:
    """Rows naming exactly one of a known zone_id or unit_id."""
    has_zone = c["zone_id"].notna() if "zone_id" in c else pd.Series(False, index=c.index)
    has_unit = c["unit_id"].notna() if "unit_id" in c else pd.Series(False, index=c.index)
    found = [Problem("x", "needs exactly one of zone_id or unit_id", int(i), None,
                     "zone_id or unit_id") for i in c.index[has_zone == has_unit]]
    zones = set(model.zones["zone_id"])
    found += [Problem("x", f"unknown zone_id {c.at[i, 'zone_id']!r}", int(i), "zone_id",
                      "a zone_id of the zones file")
              for i in c.index[has_zone & ~c.get("zone_id", has_zone).isin(zones)]]
    if unit_ids is not None and "unit_id" in c:
        found += [Problem("x", f"unknown unit_id {c.at[i, 'unit_id']!r}", int(i), "unit_id",
                          "a unit_id of the demand units")
                  for i in c.index[has_unit & ~c["unit_id"].isin(unit_ids)]]
    return found


def _stage_rows(model: "Model", frame: pd.DataFrame) -> list[Problem]:
    stages = sorted(model.stages)
    return [Problem("x", f"unknown stage {frame.at[i, 'stage']!r}", int(i), "stage",
                    "a stage of model.toml: " + ", ".join(stages))
            for i in frame.index[~frame["stage"].isin(stages)]]


def _year_rows(model: "Model", frame: pd.DataFrame) -> list[Problem]:
    """from_year and to_year within base_year ± YEAR_SPAN, and in order."""
    lo, hi = model.base_year - YEAR_SPAN, model.base_year + YEAR_SPAN
    out = []
    for col in ("from_year", "to_year"):
        if col in frame:
            v = frame[col].to_numpy(float)
            out += [Problem("x", f"year {int(v[k])} is implausible", int(i), col,
                            f"a year between {lo} and {hi}")
                    for k, i in enumerate(frame.index) if np.isfinite(v[k])
                    and not lo <= v[k] <= hi]
    if "from_year" in frame and "to_year" in frame:
        back = frame["to_year"].astype(float) < frame["from_year"].astype(float)
        out += [Problem("x", f"to_year {int(frame.at[i, 'to_year'])} is before from_year "
                        f"{int(frame.at[i, 'from_year'])}", int(i), "to_year",
                        "to_year >= from_year") for i in frame.index[back.fillna(False)]]
    return out
