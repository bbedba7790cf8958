"""Scenario files (DESIGN §6): what to change in a model, and for how many years.

A scenario may ``extends`` another; tables merge key by key (the child wins, arrays are
replaced), cycles are an error. Unknown keys and wrong types are errors naming the key's path,
its line and the closest valid key. Paths are relative to the file that names them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError, Problems
from .model.load import STAGE_KEYS
from .tomlspec import check, key_line, read_toml

PROJECT_COLUMNS = {"project_id": str, "name": str, "kind": ("new", "expansion"), "stage": str,
                   "school_id": str, "lon": float, "lat": float, "places": float,
                   "classes": float, "open_year": int, "cost": float, "basis": str,
                   "crs": str}
SCENARIO_SPEC: dict[str, Any] = {
    "name": str, "description": str, "extends": str, "model": str, "horizon": int,
    "fertility": {"tfr": dict},
    "migration": {"scale": float, "timing": ("even", "end")},
    "housing": {"delay_years": int, "scale": float, "ramp_years": int},
    "projects": {"delay_years": object, "drop": list, "add": list},
    "stages": {"*": STAGE_KEYS},
    "allocation": {"mode": ("optimal", "catchment"), "zone_radius_scale": bool},
    # extensions (see docs/scenarios.md)
    "repurposed": list,        # [[repurposed]] site_id, name, stage, lon, lat, places, from_year
    "cross_boundary": list,    # [[cross_boundary]] zone_id|unit_id, stage, pupils, from/to_year
    "report": {"year": int, "lang": ("en", "zh")},
}
REPURPOSED_KEYS = {"site_id": str, "name": str, "stage": str, "lon": float, "lat": float,
                   "places": float, "from_year": int, "to_year": int, "cost": float,
                   "crs": str}
CROSS_KEYS = {"zone_id": str, "unit_id": str, "stage": str, "pupils": float,
              "from_year": int, "to_year": int, "note": str}


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
    report_year: int | None = None
    lang: str = "en"
    description: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


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
    check(data, SCENARIO_SPEC, path.name, text, problems)
    _check_rows(data, text, path.name, problems)
    if isinstance(data.get("model"), str):
        data["model"] = str((path.parent / data["model"]).resolve())
    if isinstance(data.get("extends"), str):
        parent_path = (path.parent / data["extends"]).resolve()
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


def _check_rows(data: dict[str, Any], text: str, label: str, problems: Problems) -> None:
    """Check typed arrays of tables ([[projects.add]], [[repurposed]], [[cross_boundary]])."""
    groups = [("projects.add", data.get("projects", {}).get("add", []) if isinstance(
        data.get("projects"), dict) else [], PROJECT_COLUMNS),
              ("repurposed", data.get("repurposed", []), REPURPOSED_KEYS),
              ("cross_boundary", data.get("cross_boundary", []), CROSS_KEYS)]
    for where, rows, spec in groups:
        if not isinstance(rows, list):
            continue
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                problems.add(label, f"{where}[{i}] must be a table", column=where,
                             expected=f"[[{where}]] blocks")
                continue
            check(row, spec, label, text, problems, prefix=f"{where}[{i}].")


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (following ``extends``)."""
    path = Path(path)
    if not path.is_file():
        raise InputError.single(path, "scenario file not found",
                                expected="a .toml scenario file (see scenarios/)")
    data, problems = _read_chain(path)
    label = path.name
    text = path.read_text(encoding="utf-8")
    for key in ("name", "model", "horizon"):
        if key not in data:
            problems.add(label, f"missing key {key!r}", column=key,
                         expected={"name": 'name = "my-scenario"',
                                   "model": 'model = "../models/tongzhou" (relative to this file)',
                                   "horizon": "horizon = 2035 (last year projected)"}[key])
    tfr: dict[int, float] = {}
    fert = data.get("fertility", {})
    for year, value in (fert.get("tfr", {}) if isinstance(fert, dict) else {}).items():
        if not str(year).isdigit() or not isinstance(value, (int, float)) or value <= 0 \
                or value > 10:
            problems.add(label, f"fertility.tfr entry {year!r} = {value!r} is not valid",
                         row=key_line(text, "fertility.tfr"), column=f"fertility.tfr.{year}",
                         expected='year = positive TFR, e.g. tfr = { 2020 = 0.87, 2035 = 1.0 }')
        else:
            tfr[int(year)] = float(value)
    proj = data.get("projects", {}) if isinstance(data.get("projects"), dict) else {}
    delays, delay_all = proj.get("delay_years", {}), 0
    if isinstance(delays, int) and not isinstance(delays, bool):
        delay_all, delays = delays, {}
    elif not isinstance(delays, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in delays.values()):
        problems.add(label, f"projects.delay_years {delays!r} is not valid",
                     row=key_line(text, "projects.delay_years"), column="projects.delay_years",
                     expected='whole years for all projects (2), or per project: '
                              '{ "jingshan-tongzhou" = 2 }')
        delays = {}
    drop = proj.get("drop", [])
    if not all(isinstance(d, str) for d in drop):
        problems.add(label, "projects.drop must list project ids", column="projects.drop",
                     row=key_line(text, "projects.drop"), expected='drop = ["id-1", "id-2"]')
        drop = []
    horizon = data.get("horizon")
    if isinstance(horizon, int) and not 1900 < horizon < 2200:
        problems.add(label, f"horizon {horizon} is not a plausible year",
                     row=key_line(text, "horizon"), column="horizon",
                     expected="a year after the model's base year, e.g. 2035")
    problems.raise_if_any()
    model = Path(data["model"])
    if not (model / "model.toml").is_file() and not (model.is_file() and model.suffix == ".toml"):
        raise InputError.single(label, f"model folder {data['model']} has no model.toml",
                                row=key_line(text, "model"), column="model",
                                expected="a path to a model folder, relative to the scenario")
    mig = data.get("migration", {})
    housing = data.get("housing", {})
    return Scenario(
        name=data["name"], path=path.resolve(), model=model, horizon=horizon, tfr=tfr,
        migration_scale=float(mig.get("scale", 1.0)), migration_timing=mig.get("timing"),
        housing_delay=int(housing.get("delay_years", 0)),
        housing_scale=float(housing.get("scale", 1.0)),
        housing_ramp_years=housing.get("ramp_years"),
        project_delays=dict(delays), project_delay_all=delay_all, drop=list(drop),
        add=list(proj.get("add", [])), stages=dict(data.get("stages", {})),
        mode=data.get("allocation", {}).get("mode", "optimal"),
        zone_radius_scale=data.get("allocation", {}).get("zone_radius_scale", True),
        repurposed=list(data.get("repurposed", [])),
        cross_boundary=list(data.get("cross_boundary", [])),
        report_year=data.get("report", {}).get("year"),
        lang=data.get("report", {}).get("lang", "en"),
        description=data.get("description", ""), raw=data)


def default_scenario(model: str | Path, horizon: int | None = None, name: str = "baseline"
                     ) -> Scenario:
    """A scenario that changes nothing (used by ``capacity validate MODEL_DIR``/the API)."""
    return Scenario(name=name, path=None, model=Path(model), horizon=horizon or 2035)
