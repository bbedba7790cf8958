"""Scenario files (docs/scenarios.md): what to change in a model, and for how many years.

A scenario may ``extends`` another; tables merge key by key (the child wins, arrays are
replaced), cycles are an error. Unknown keys and wrong types are errors naming the key's path,
its line and the closest valid key. Paths are relative to the file that names them. Every key,
its type, default and bounds is declared in ``capacity/schema/scenario_toml.csv``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import schema
from .errors import InputError, Problem, Problems
from .model.settings import tfr_path
from .runfolder import SAFE_NAME, is_safe_name
from .scenario_checks import key_problems, locate_rows
from .tomlspec import check, key_line, read_toml

KEYS = schema.keys("scenario")


@dataclass
class Scenario:
    """A validated scenario: the model folder and every edit to apply to it."""

    name: str
    path: Path | None
    model: Path
    horizon: int
    tfr: dict[int, float] = field(default_factory=dict)
    migration_scale: float = 1.0
    migration_timing: str | None = None
    inflow_scale: float = 1.0
    out_rate: float | None = None        # replaces migration.csv out_rate (age-neutral)
    exit_ages_from: int = 0              # no rate-based exits below this age
    exit_scale: float = 1.0              # multiplies the exit rates (on top of scale)
    exit_flatten: float = 0.0            # weight of an age-neutral exit pattern
    housing_delay: int = 0
    housing_scale: float = 1.0
    housing_ramp_years: int | None = None
    project_delays: dict[str, int] = field(default_factory=dict)
    project_delay_all: int = 0
    drop: list[str] = field(default_factory=list)
    add: list[dict[str, Any]] = field(default_factory=list)
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)
    mode: str = "optimal"
    zone_radius_scale: bool = True   # apply the zones' radius_scale to every stage's radius
    repurposed: list[dict[str, Any]] = field(default_factory=list)
    cross_boundary: list[dict[str, Any]] = field(default_factory=list)
    transport: list[dict[str, Any]] = field(default_factory=list)   # [[transport]] rows
    report_year: int | None = None
    lang: str | None = None          # None: the model's [report] lang
    csv_bom: bool | None = None      # None: the model's [report] csv_bom
    description: str = ""
    raw: dict[str, Any] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)   # implausible values


def _merge(base: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_chain(path: Path, seen: tuple[Path, ...] = ()) -> tuple[dict[str, Any], Problems]:
    """Read a scenario and everything it extends, merged; paths made absolute."""
    path = path.resolve()
    if path in seen:
        chain = " -> ".join(p.name for p in (*seen, path))
        raise InputError.single(path, f"'extends' forms a cycle: {chain}",
                                column="extends", expected="a chain of scenarios without loops")
    data, text = read_toml(path)
    problems = Problems()
    check(data, schema.toml_spec("scenario"), path.name, text, problems)
    _check_rows(data, path.name, problems)
    locate_rows(problems, text)
    if isinstance(data.get("model"), str):
        data["model"] = os.path.realpath(path.parent / data["model"])  # a link loop: no error here
    if isinstance(data.get("extends"), str):
        parent_path = Path(os.path.realpath(path.parent / data["extends"]))
        if not parent_path.is_file():
            problems.add(path.name, f"extends {data['extends']!r}, which does not exist",
                         row=key_line(text, "extends"), column="extends",
                         expected="a scenario file path relative to this file")
            return data, problems
        parent, parent_problems = _read_chain(parent_path, (*seen, path))
        problems.extend(parent_problems)
        parent.pop("name", None)
        parent.pop("description", None)
        data = _merge(parent, data)
    return data, problems


def _check_rows(data: dict[str, Any], label: str, problems: Problems) -> None:
    """Required keys of each table of an array of tables ([[projects.add]], [[repurposed]],
    [[cross_boundary]], [[transport]]); their types are checked with the file's key specification."""
    for key in KEYS.values():
        if key.kind != "rows":
            continue
        table = data
        for part in key.path.split("."):
            table = table.get(part, {}) if isinstance(table, dict) else {}
        if not isinstance(table, list):
            continue
        cols = schema.row_columns("scenario", key.path)
        required = [c.name for c in cols if c.required]
        any_of = [c.name for c in cols if getattr(c, "group", "") == "any_of"]
        for i, row in enumerate(table):
            if not isinstance(row, dict):
                continue  # reported by the spec check
            where = f"{key.path}[{i}]"
            for name in required:
                if name not in row:
                    problems.add(label, f"{where} has no {name!r}", column=f"{where}.{name}",
                                 expected=", ".join(required))
            if any_of and not any(name in row for name in any_of):
                problems.add(label, f"{where} needs at least one of {', '.join(any_of)}",
                             column=where, expected="one of " + ", ".join(any_of))


def _get(data: dict[str, Any], path: str) -> Any:
    """The value of a dotted key, or its declared default."""
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return KEYS[path].default
        value = value[part]
    return value


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (following ``extends``)."""
    path = Path(path)
    if path.is_dir() or path.name == "model.toml":
        model = path if path.is_dir() else path.parent
        what = "a model folder" if (model / "model.toml").is_file() else "a folder"
        raise InputError.single(path, f"this is {what}, not a scenario file",
                                expected="a scenario .toml that names the model, e.g. "
                                         "scenarios/baseline.toml (`capacity validate "
                                         f"{model}` checks the model itself)")
    if not path.is_file():
        raise InputError.single(path, "scenario file not found",
                                expected="a .toml scenario file (see scenarios/)")
    data, problems = _read_chain(path)
    label = path.name
    text = path.read_text(encoding="utf-8-sig")
    for key in schema.children("scenario", ""):
        if key.required and key.path not in data:
            problems.add(label, f"missing key {key.path!r}", column=key.path,
                         expected=key.expected)
    name = data.get("name")
    if isinstance(name, str) and not is_safe_name(name):
        problems.add(label, f"scenario name {name!r} cannot be a folder name",
                     row=key_line(text, "name"), column="name", expected=SAFE_NAME)
    tfr = tfr_path(_get(data, "fertility.tfr"), KEYS["fertility.tfr"], label, text, problems)
    delays, delay_all = _get(data, "projects.delay_years"), 0
    if isinstance(delays, int) and not isinstance(delays, bool):
        delay_all, delays = delays, {}
    elif not isinstance(delays, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in delays.values()):
        problems.add(label, f"projects.delay_years {delays!r} is not valid",
                     row=key_line(text, "projects.delay_years"), column="projects.delay_years",
                     expected=KEYS["projects.delay_years"].expected)
        delays = {}
    drop = _get(data, "projects.drop") or []
    if not isinstance(drop, list) or not all(isinstance(d, str) for d in drop):
        problems.add(label, "projects.drop must list project ids", column="projects.drop",
                     row=key_line(text, "projects.drop"),
                     expected=KEYS["projects.drop"].expected)
        drop = []
    found = key_problems(data, label, text)
    problems.extend(p for p in found if p.level != "warning")
    horizon = data.get("horizon")
    if isinstance(horizon, int) and not KEYS["horizon"].in_range(horizon):
        problems.add(label, f"horizon {horizon} is not a plausible year",
                     row=key_line(text, "horizon"), column="horizon",
                     expected=KEYS["horizon"].expected)
    problems.raise_if_any()
    model = Path(data["model"])
    if not (model / "model.toml").is_file() and not (model.is_file() and model.suffix == ".toml"):
        raise InputError.single(label, f"model folder {data['model']} has no model.toml",
                                row=key_line(text, "model"), column="model",
                                expected="a path to a model folder, relative to the scenario")
    return Scenario(
        name=data["name"], path=path.resolve(), model=model, horizon=horizon, tfr=tfr,
        migration_scale=float(_get(data, "migration.scale")),
        migration_timing=_get(data, "migration.timing"),
        inflow_scale=float(_get(data, "migration.inflow_scale")),
        out_rate=_get(data, "migration.out_rate"),
        exit_ages_from=int(_get(data, "migration.exit_ages_from")),
        exit_scale=float(_get(data, "migration.exit_scale")),
        exit_flatten=float(_get(data, "migration.exit_flatten")),
        housing_delay=int(_get(data, "housing.delay_years")),
        housing_scale=float(_get(data, "housing.scale")),
        housing_ramp_years=_get(data, "housing.ramp_years"),
        project_delays=dict(delays), project_delay_all=delay_all, drop=list(drop),
        add=list(_get(data, "projects.add") or []), stages=dict(data.get("stages", {})),
        mode=_get(data, "allocation.mode"),
        zone_radius_scale=_get(data, "allocation.zone_radius_scale"),
        repurposed=list(_get(data, "repurposed") or []),
        cross_boundary=list(_get(data, "cross_boundary") or []),
        transport=list(_get(data, "transport") or []),
        report_year=_get(data, "report.year"), lang=_get(data, "report.lang"),
        csv_bom=_get(data, "report.csv_bom"),
        description=_get(data, "description") or "", raw=data,
        warnings=[p for p in found if p.level == "warning"])


def default_scenario(model: str | Path, horizon: int | None = None, name: str = "baseline"
                     ) -> Scenario:
    """A scenario that changes nothing (used by ``capacity validate MODEL_DIR``/the API)."""
    return Scenario(name=name, path=None, model=Path(model), horizon=horizon or 2035)
