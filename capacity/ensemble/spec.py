"""The scenario's ``[uncertainty]`` table, checked: what an ensemble draws (docs/ensemble.md).

Every key is declared in ``capacity/schema/scenario_toml.csv`` with its default; types are
checked when the scenario is read, bounds and the cross-key rules (low ≤ high, probabilities
in 0..1 summing to 1, known projects and stages) here, each problem naming the scenario
file, the key's line and the fix.
"""
from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from .. import schema
from ..errors import InputError, Problems
from ..tomlspec import key_line

KEYS = schema.keys("scenario")
SUM_TOL = 1e-6
#: Gross-flow and fertility-level draws (conditioning.py): key -> scenario key.
FLOW_KEYS = {"exit_low": "uncertainty.migration.exit_low",
             "exit_high": "uncertainty.migration.exit_high",
             "inflow_follow": "uncertainty.migration.inflow_follow",
             "inflow_noise": "uncertainty.migration.inflow_noise",
             "exit_flatten_high": "uncertainty.migration.exit_flatten_high",
             "tfr_level_sd": "uncertainty.fertility.level_sd"}
FLOW_DEFAULTS = {k: float(KEYS[v].default) for k, v in FLOW_KEYS.items()}


@dataclass(frozen=True)
class Uncertainty:
    """The checked distributions of one scenario (defaults filled in)."""

    tfr_spread: float
    tfr_correlation: float
    tfr_intervals: pd.DataFrame            # year, medium, lower_80, upper_80
    migration: tuple[float, float]         # uniform factor (low, high)
    housing_share: tuple[float, float]     # uniform share delivered (low, high)
    housing_delay: dict[int, float]        # years late -> probability
    project_delay: dict[int, float]        # default per project/group
    project_delay_by: dict[str, dict[int, float]] = field(default_factory=dict)
    enrolment_sd: dict[str, float] = field(default_factory=dict)   # stage -> sd
    flows: dict[str, float] = field(default_factory=lambda: dict(FLOW_DEFAULTS))  # gross flows

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly summary (for the ensemble manifest)."""
        return {"fertility": {"spread": self.tfr_spread, "correlation": self.tfr_correlation},
                "migration": list(self.migration), "housing_share": list(self.housing_share),
                "housing_delay": self.housing_delay, "project_delay": self.project_delay,
                "project_delay_by": self.project_delay_by, "enrolment_sd": self.enrolment_sd,
                "flows": self.flows}


def packaged_intervals() -> pd.DataFrame:
    """WPP 2024 China TFR: medium and 80 %/95 % intervals (capacity/ensemble/data)."""
    with resources.files("capacity.ensemble").joinpath("data/wpp2024_china_tfr.csv").open(
            encoding="utf-8") as f:
        return pd.read_csv(f)


def _default(path: str) -> Any:
    key = KEYS[path]
    if key.kind == "table" and isinstance(key.default, str):
        return tomllib.loads(f"x = {key.default}")["x"]
    return key.default


class _Reader:
    """Values of ``[uncertainty]`` with their problems, named by file and line."""

    def __init__(self, data: dict, label: str, text: str) -> None:
        self.data, self.label, self.text, self.problems = data, label, text, Problems()

    def raw(self, path: str) -> Any:
        value: Any = self.data
        for part in path.split("."):
            if not isinstance(value, dict) or part not in value:
                return _default(path)
            value = value[part]
        return value

    def add(self, path: str, message: str, expected: str | None = None) -> None:
        parts, row = path.split("."), None
        while parts and row is None:      # inline tables: the line of the enclosing key
            row = key_line(self.text, ".".join(parts))
            parts.pop()
        self.problems.add(self.label, message, row=row, column=path,
                          expected=expected or KEYS.get(path, KEYS["uncertainty"]).expected)

    def number(self, path: str) -> float:
        value = self.raw(path)
        if not isinstance(value, (int, float)) or isinstance(value, bool) \
                or not KEYS[path].in_range(float(value)):
            self.add(path, f"{value!r} is out of range")
            return float(_default(path))
        return float(value)

    def probabilities(self, path: str, value: Any, most: int) -> dict[int, float]:
        """``{years late: probability}`` with whole years 0..``most``, p in 0..1, Σ p = 1."""
        want = "{ years late = probability }, e.g. { 0 = 0.6, 1 = 0.3, 2 = 0.1 }"
        if not isinstance(value, dict) or not value:
            self.add(path, "must be a table of probabilities", want)
            return {0: 1.0}
        out: dict[int, float] = {}
        for k, p in value.items():
            if not str(k).isdigit():
                self.add(f"{path}.{k}", f"{k!r} is not a whole number of years late", want)
            elif int(k) > most:
                self.add(f"{path}.{k}", f"{k} years late is out of range",
                         f"whole years 0..{most} (as a scenario's delay_years)")
            elif not isinstance(p, (int, float)) or isinstance(p, bool) or not 0 <= p <= 1:
                self.add(f"{path}.{k}", f"{p!r} is not a probability",
                         "a probability in [0, 1]")
            else:
                out[int(k)] = float(p)
        total = sum(out.values())
        if len(out) == len(value) and abs(total - 1) > SUM_TOL:
            self.add(path, f"probabilities sum to {total:.6g}, not 1", want)
        return dict(sorted(out.items())) if len(out) == len(value) else {0: 1.0}


def _intervals(path: Any, scenario_dir: Path, reader: _Reader) -> pd.DataFrame:
    """The fertility intervals file (``capacity/schema/commands/tfr_intervals.csv``), its
    problems at its own rows; the packaged WPP intervals when none is named."""
    if not path:
        return packaged_intervals()
    from ..commands.inputs import read_file

    key = "uncertainty.fertility.intervals"
    file = scenario_dir / str(path)
    if not file.is_file():
        reader.add(key, f"no file {path} (relative to the scenario file)")
        return packaged_intervals()
    try:
        frame = read_file(file, "tfr_intervals")
    except InputError as exc:
        reader.problems.extend(exc)
        return packaged_intervals()
    bad = (frame["lower_80"] > frame["medium"]) | (frame["medium"] > frame["upper_80"])
    for line in frame.index[bad.to_numpy()][:10]:
        reader.problems.add(str(file), f"lower_80 {frame.at[line, 'lower_80']:g}, medium "
                            f"{frame.at[line, 'medium']:g}, upper_80 "
                            f"{frame.at[line, 'upper_80']:g} are not in order", row=int(line),
                            column="medium", expected="lower_80 <= medium <= upper_80")
    return frame.sort_values("year").reset_index(drop=True)


def read_uncertainty(scenario, model) -> Uncertainty:
    """The scenario's ``[uncertainty]`` checked against its model; InputError lists every
    problem (file, line, key, the fix)."""
    label = scenario.path.name if scenario.path else "scenario"
    text = scenario.path.read_text(encoding="utf-8") if scenario.path else ""
    data = {"uncertainty": scenario.raw.get("uncertainty", {})}
    r = _Reader(data, label, text)
    if not isinstance(data["uncertainty"], dict):
        r.add("uncertainty", "[uncertainty] must be a table", "[uncertainty] with sub-tables")
        r.problems.raise_if_any()
    spread = r.number("uncertainty.fertility.spread")
    corr = r.number("uncertainty.fertility.correlation")
    bounds = {}
    for a, b in (("migration.low", "migration.high"),
                 ("housing.share_low", "housing.share_high")):
        lo, hi = r.number(f"uncertainty.{a}"), r.number(f"uncertainty.{b}")
        if lo > hi:
            r.add(f"uncertainty.{a}", f"{lo:g} is above uncertainty.{b} = {hi:g}",
                  "low <= high")
        bounds[a.split(".")[0]] = (lo, max(lo, hi))
    late = {k: int(KEYS[f"{k}.delay_years"].max) for k in ("housing", "projects")}
    housing_delay = r.probabilities("uncertainty.housing.delay",
                                    r.raw("uncertainty.housing.delay"), late["housing"])
    project_delay = r.probabilities("uncertainty.projects.delay",
                                    r.raw("uncertainty.projects.delay"), late["projects"])
    by = r.raw("uncertainty.projects.delay_by") or {}
    p = model.projects
    ids = set(p["project_id"].astype(str))
    groups = set(p["group_id"].dropna().astype(str)) if "group_id" in p.columns else set()
    delay_by: dict[str, dict[int, float]] = {}
    for pid, dist in (by.items() if isinstance(by, dict) else []):
        path = "uncertainty.projects.delay_by"
        if pid not in ids | groups:
            close = difflib.get_close_matches(pid, sorted(ids | groups), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            r.add(f"{path}.{pid}", f"unknown project {pid!r}{hint}",
                  "a project_id or group_id of the model's projects.csv")
            continue
        delay_by[pid] = r.probabilities(f"{path}.{pid}", dist, late["projects"])
    sd = r.number("uncertainty.enrolment.sd")
    enrol = {s: sd for s in model.stages}
    by_stage = r.raw("uncertainty.enrolment.by_stage") or {}
    for stage, value in (by_stage.items() if isinstance(by_stage, dict) else []):
        path = "uncertainty.enrolment.by_stage"
        if stage not in model.stages:
            r.add(f"{path}.{stage}", f"unknown stage {stage!r}", ", ".join(model.stages))
        elif not isinstance(value, (int, float)) or isinstance(value, bool) \
                or not 0 <= value <= 0.5:
            r.add(f"{path}.{stage}", f"{value!r} is not a standard deviation",
                  "a number in [0, 0.5]")
        else:
            enrol[stage] = float(value)
    scenario_dir = scenario.path.parent if scenario.path else Path(".")
    intervals = _intervals(r.raw("uncertainty.fertility.intervals"), scenario_dir, r)
    flows = {k: r.number(v) for k, v in FLOW_KEYS.items()}
    if flows["exit_low"] > flows["exit_high"]:
        r.add(FLOW_KEYS["exit_low"], f"{flows['exit_low']:g} is above "
              f"uncertainty.migration.exit_high = {flows['exit_high']:g}", "exit_low <= exit_high")
    r.problems.raise_if_any()
    return Uncertainty(spread, corr, intervals, bounds["migration"], bounds["housing"],
                       housing_delay, project_delay, delay_by, enrol, flows)


def check_tfr_base(base_tfr: float, spread: float, label: str) -> None:
    """Fertility draws scale the district TFR: a model without one cannot have them."""
    if spread > 0 and base_tfr <= 0:
        raise InputError.single(label, "fertility uncertainty needs a district fertility "
                                "schedule with births", column="uncertainty.fertility.spread",
                                expected="spread = 0, or district rows in fertility.csv")
