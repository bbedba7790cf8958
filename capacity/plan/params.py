"""Planning parameters: model.toml ``[plan]`` and ``[plan.stages.<stage>]`` (docs/plan.md).

Declared in ``capacity/schema/model_toml.csv`` with their bounds; read and checked here, with
a scenario's ``[plan]`` table (same keys) merged over the model's, by one function
(:func:`read_params`) that ``capacity validate``, ``run`` and ``plan`` all go through. A stage
without ``standard_classes`` uses :data:`STANDARD_SCHOOL_CLASSES`.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import schema
from ..errors import InputError, Problem, Problems
from ..model.load import Origin
from ..schema import describe
from ..tomlspec import read_toml
from ..years import first_plan_year

if TYPE_CHECKING:
    from ..model import Model
    from ..scenario import Scenario
    from ..state import RunState

#: At most this many standard sizes per stage (each size is a binary per candidate site and
#: opening year).
MAX_SIZES = 10

#: Standard school sizes, in classes, that new schools are built in: 幼儿园建设标准
#: (建标175-2016) 6, 9 and 12 classes (3-class ones are rural); 城市普通中小学校校舍建设标准
#: (建标102-2002) complete primary 12/18/24/30, junior 12/18/24/30, senior 18/24/30/36
#: classes; 36-class primaries are Beijing practice (Beijing Primary EDA 2024; the Tongzhou
#: branches of Beijing Primary and No. 2 Experimental Primary). Places = classes × class_size.
STANDARD_SCHOOL_CLASSES: dict[str, tuple[int, ...]] = {
    "kindergarten": (6, 9, 12),
    "primary": (12, 18, 24, 30, 36),
    "junior": (12, 18, 24, 30),
    "senior": (18, 24, 30, 36),
}

#: Lead and construction years of a new school when the model gives none (estimates:
#: design, land and approval about a year; building a kindergarten one year, a school two).
LEAD_YEARS = {"kindergarten": 2}
CONSTRUCTION_YEARS = {"kindergarten": 1}
DEFAULT_LEAD, DEFAULT_CONSTRUCTION = 3, 2

#: Service level of compulsory stages when the model gives none: the plan's nearby-enrolment
#: target (就近入学 > 99 %).
COMPULSORY_SERVICE_LEVEL = 0.99

#: Defaults of ``[plan]`` and ``[plan.stages.<stage>]`` (CNY; estimates — see docs/plan.md),
#: as the schema declares them.
DEFAULTS: dict[str, Any] = {k.name: k.default for k in schema.children("model", "plan")
                            if k.default is not None}
STAGE_DEFAULTS: dict[str, Any] = {k.name: k.default
                                  for k in schema.children("model", "plan.stages.*")
                                  if k.default is not None}


@dataclass(frozen=True)
class StagePlan:
    """What the plan may do for one stage, and at which cost (CNY; docs/plan.md)."""

    stage: str
    class_size: int
    grades: int
    cost_per_place: float
    standard_classes: tuple[int, ...]
    lead_years: int = DEFAULT_LEAD
    construction_years: int = DEFAULT_CONSTRUCTION
    expansion_lead_years: int = 2
    expansion_construction_years: int = 1
    expansion_cost_per_place: float | None = None
    expansion_max_share: float = 0.5
    opening: str = "grade_by_grade"
    temporary_cost_per_place_year: float = 15000.0
    temporary_share: float = 0.2
    temporary_max_years: int = 3
    transport_radius_scale: float = 2.0
    transport_cost_per_pupil_year: float = 6000.0
    service_level: float | None = None
    max_cost_per_pupil_year: float = 0.0
    running_cost_per_place_year: float = 0.0
    compulsory: bool = False

    @property
    def expansion_cost(self) -> float:
        """Capital per place added to an existing school."""
        return self.cost_per_place if self.expansion_cost_per_place is None \
            else self.expansion_cost_per_place


@dataclass(frozen=True)
class PlanParams:
    """``[plan]``: when the plan starts, discounting, minimum use, solver limits, budget rule."""

    start_year: int
    discount_rate: float = 0.06
    building_life_years: int = 50
    capital_budget_per_year_cny: float | None = None
    min_use: float = 0.6
    min_use_years: int = 5
    transient_years: int = 4
    transport_max_pupils: int = 30
    mip_gap: float = 1e-3
    time_limit_s: float = 60.0
    stages: dict[str, StagePlan] = field(default_factory=dict)


def last_observed_year(model: "Model") -> int:
    """The last year the model observes: its base year, or the last year of
    reported_enrolment.csv when later (a plan starts the year after:
    :func:`capacity.years.first_plan_year`, the rule of budgets and dossiers too)."""
    rep = getattr(model, "reported_enrolment", None)
    years = rep["year"] if rep is not None and len(rep) and "year" in rep else []
    return first_plan_year(model.base_year, years) - 1


def plan_params(state: "RunState") -> PlanParams:
    """The run's planning parameters (model.toml ``[plan]``, then the scenario's)."""
    return model_params(state.model, state.scenario)


def model_params(model: "Model", scenario: "Scenario") -> PlanParams:
    """The planning parameters of a model (its stages after the scenario's edits) and a
    scenario; :class:`InputError` for any bad ``[plan]`` key of either file."""
    stages = {n: (s.class_size, s.cost_per_place, s.compulsory, s.ages[1] - s.ages[0] + 1)
              for n, s in model.stages.items()}
    scen = scenario.raw.get("plan", {})
    where = Origin(scenario.path.name, scenario.path.read_bytes().decode("utf-8-sig", "replace")
                   ) if scenario.path is not None else Origin("scenario", "")
    horizon = scenario.horizon if scenario.path is not None else None
    return read_params(model.path, stages, model.base_year,
                       scen if isinstance(scen, dict) else {}, where, horizon,
                       last_observed=last_observed_year(model))


def plan_problems(model: "Model", scenario: "Scenario") -> list[Problem]:
    """Every problem of the ``[plan]`` keys (``capacity validate`` and ``run`` report them
    as ``capacity plan`` refuses them: one checker, :func:`read_params`)."""
    try:
        model_params(model, scenario)
    except InputError as exc:
        return exc.problems
    return []


def read_params(model_path: Path | None, stage_info: dict[str, tuple], base: int,
                scen: dict[str, Any], scen_at: Origin | None = None,
                horizon: int | None = None, last_observed: int | None = None) -> PlanParams:
    """Planning parameters from a model folder, its stages (class size, cost per place,
    compulsory[, grades]) and a scenario's ``[plan]`` table (``model_path`` None: defaults).

    Every key is checked against its bounds in ``capacity/schema/model_toml.csv``;
    ``[plan.stages.<name>]`` must name a stage; ``start_year`` lies after the last observed
    year (and by ``horizon``); lead years cover construction years. Problems name the file
    holding the key (the scenario's keys win) and its line; :class:`InputError` lists them."""
    conf, text = read_toml(Path(model_path) / "model.toml") if model_path is not None \
        else ({}, "")
    plan, origin = _layered(_table(conf.get("plan")), Origin("model.toml", text), _table(scen),
                            scen_at or Origin("scenario", ""))
    problems = Problems()
    for key in schema.children("model", "plan"):
        if key.name in plan and key.name != "stages":
            _check(f"plan.{key.name}", plan[key.name], key, origin, problems)
    observed = max(base, last_observed or base)
    start = plan.get("start_year", observed + 1)
    if _is_int(start) and not observed < start <= (horizon or start):
        origin["plan.start_year"].add(
            problems, f"plan.start_year = {start} is not a year the plan can act in",
            "plan.start_year", f"a year after the last observed year {observed}"
            + (f", at most the horizon {horizon}" if horizon else ""))
    stages_conf = _table(plan.get("stages"))
    for name in stages_conf:
        if name not in stage_info:
            origin[f"plan.stages.{name}"].add(
                problems, f"[plan.stages.{name}]: unknown stage", f"plan.stages.{name}",
                "a stage of model.toml: " + ", ".join(stage_info))
    spec = {k.name: k for k in schema.children("model", "plan.stages.*")}
    for name, raw in stages_conf.items():
        for k, value in _table(raw).items():
            if k in spec and name in stage_info:
                _check(f"plan.stages.{name}.{k}", value, spec[k], origin, problems)
    problems.raise_if_any()
    stages = {name: _stage(name, info, {**STAGE_DEFAULTS, **_table(stages_conf.get(name))},
                           origin, problems, set(_table(stages_conf.get(name))))
              for name, info in stage_info.items()}
    problems.raise_if_any()
    top = {**DEFAULTS, **plan}
    budget = top.get("capital_budget_per_year_cny")
    return PlanParams(start_year=int(start), discount_rate=float(top["discount_rate"]),
                      building_life_years=int(top["building_life_years"]),
                      capital_budget_per_year_cny=None if budget is None else float(budget),
                      min_use=float(top["min_use"]), min_use_years=int(top["min_use_years"]),
                      transient_years=int(top["transient_years"]),
                      transport_max_pupils=int(top["transport_max_pupils"]),
                      mip_gap=float(top["mip_gap"]), time_limit_s=float(top["time_limit_s"]),
                      stages=stages)


def _stage(name: str, info: tuple, raw: dict[str, Any], origin: dict[str, Origin],
           problems: Problems, given: set[str] = frozenset()) -> StagePlan:
    """One stage's options from its merged keys (defaults by stage where the schema has
    none); lead years shorter than construction years are a problem, reported at the lead
    key unless only the construction key is ``given`` (written in a file)."""
    class_size, cost, compulsory = info[:3]
    grades = int(info[3]) if len(info) > 3 else 1
    sizes = tuple(int(c) for c in raw.get("standard_classes",
                                          STANDARD_SCHOOL_CLASSES.get(name, (12,))))
    lead = int(raw.get("lead_years", LEAD_YEARS.get(name, DEFAULT_LEAD)))
    build = int(raw.get("construction_years", CONSTRUCTION_YEARS.get(name, DEFAULT_CONSTRUCTION)))
    for a, b, la, lb in ((lead, build, "lead_years", "construction_years"),
                         (int(raw["expansion_lead_years"]),
                          int(raw["expansion_construction_years"]),
                          "expansion_lead_years", "expansion_construction_years")):
        if a < b:
            path = f"plan.stages.{name}.{la if la in given or lb not in given else lb}"
            origin[path].add(problems, f"plan.stages.{name}.{la} = {a} is shorter than "
                             f"{lb} = {b}", path,
                             f"at least {lb} (capital is spent in the years before opening, "
                             "never before the start year)")
    level = raw.get("service_level", COMPULSORY_SERVICE_LEVEL if compulsory else None)
    cap = raw.get("max_cost_per_pupil_year", 0.25 * float(cost))
    expansion = raw.get("expansion_cost_per_place")
    return StagePlan(
        name, int(class_size), grades, float(cost), sizes, lead, build,
        int(raw["expansion_lead_years"]), int(raw["expansion_construction_years"]),
        None if expansion is None else float(expansion), float(raw["expansion_max_share"]),
        str(raw["opening"]), float(raw["temporary_cost_per_place_year"]),
        float(raw["temporary_share"]), int(raw["temporary_max_years"]),
        float(raw["transport_radius_scale"]), float(raw["transport_cost_per_pupil_year"]),
        None if level is None else float(level), float(cap),
        float(raw["running_cost_per_place_year"]), bool(compulsory))


def _table(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _layered(model: dict[str, Any], at: Origin, scen: dict[str, Any], scen_at: Origin
             ) -> tuple[dict[str, Any], dict[str, Origin]]:
    """The scenario's ``[plan]`` merged over the model's (stage by stage, key by key), and
    the file each dotted key (``plan.mip_gap``, ``plan.stages.primary.temporary_share``, and
    the stage tables) comes from."""
    origin: defaultdict[str, Origin] = defaultdict(lambda: at)
    plan = {k: v for k, v in model.items() if k != "stages"}
    stages = {n: dict(_table(v)) for n, v in _table(model.get("stages")).items()}
    for k, v in scen.items():
        if k != "stages":
            plan[k], origin[f"plan.{k}"] = v, scen_at
    for name, extra in _table(scen.get("stages")).items():
        if name not in stages:
            origin[f"plan.stages.{name}"] = scen_at
        stages[name] = {**stages.get(name, {}), **_table(extra)}
        for k in _table(extra):
            origin[f"plan.stages.{name}.{k}"] = scen_at
    plan["stages"] = stages
    return plan, origin


def _check(path: str, value: Any, key: schema.Key, origin: dict[str, Origin],
           problems: Problems) -> None:
    """One key's value against its declared type and bounds (a list: each element, whole
    numbers, at most :data:`MAX_SIZES` of them)."""
    if key.kind == "list":
        ok = isinstance(value, list) and 0 < len(value) <= MAX_SIZES and all(
            _is_int(v) and key.in_range(v) for v in value)
        if not ok:
            origin[path].add(problems, f"{path} = {value!r} is not a list of sizes", path,
                             key.expected)
        return
    if key.kind == "choice":
        if value not in key.choices:
            origin[path].add(problems, f"{path} = {value!r} is not a choice", path,
                             " or ".join(key.choices))
        return
    number = _is_int(value) if key.kind == "int" else \
        isinstance(value, (int, float)) and not isinstance(value, bool)
    if not number:   # a wrong type: the key specification names it (model or scenario)
        origin[path].add(problems, f"{path} = {value!r} has the wrong type", path,
                         describe(key))
    elif not key.in_range(value):
        origin[path].add(problems, f"{path} = {value!r} is out of range", path,
                         key.expected or describe(key))


def plan_options(stages: list[str] | None, time_limit_s: float | None,
                 stage_names: list[str]) -> tuple[list[str] | None, float | None]:
    """``--stage`` (each a stage of the model; repeated ones once, in order) and
    ``--time-limit`` (within ``plan.time_limit_s``'s bounds), checked; InputError
    otherwise."""
    problems = Problems()
    if stages is not None:
        stages = list(dict.fromkeys(stages))
        for s in stages:
            if s not in stage_names:
                problems.add("--stage", f"unknown stage {s!r}",
                             expected="one of " + ", ".join(stage_names))
    key = schema.keys("model")["plan.time_limit_s"]
    if time_limit_s is not None and not key.in_range(time_limit_s):
        problems.add("--time-limit", f"{time_limit_s!r} seconds is out of range",
                     expected=describe(key) + " seconds")
    problems.raise_if_any()
    return stages, time_limit_s
