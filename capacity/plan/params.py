"""Planning parameters: model.toml ``[plan]`` and ``[plan.stages.<stage>]`` (docs/plan.md).

Declared in ``capacity/schema/model_toml.csv`` with their bounds; read and checked here, with
a scenario's ``[plan]`` table (same keys) merged over the model's, by one function
(:func:`read_params`) that ``capacity validate``, ``run`` and ``plan`` all go through. A stage
without ``standard_classes`` uses :data:`STANDARD_SCHOOL_CLASSES`.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import schema
from ..errors import InputError, Problem, Problems
from ..model.load import Origin
from ..schema import describe
from ..tomlspec import read_toml

if TYPE_CHECKING:
    from ..model import Model
    from ..scenario import Scenario
    from ..state import RunState

#: At most this many standard sizes per stage (each size is a binary per candidate site).
MAX_SIZES = 10

#: Standard school sizes, in classes, that new schools are built in (largest used first).
#: Sources (see models/…/README and shared standards): kindergarten — 幼儿园工作规程 (2016)
#: art. 11, "一般不超过360人" = 12 classes × 30; primary — Beijing new primaries of 24 classes
#: (960 places: Huangchenggen Daxing, Shunyi 2023–24) and 36 classes (1440 places: Beijing
#: Primary EDA 2024; Tongzhou branches of Beijing Primary and No. 2 Experimental Primary);
#: junior — 24 classes (Zhangzhuang Middle School, Shunyi 2024); senior — the 30-class senior
#: section of Beijing's 66-class complete secondaries (36 + 30: CNU-affiliated HS Tongzhou,
#: No. 8 MS Yizhuang). Places per school = classes × the stage's class_size in the run.
STANDARD_SCHOOL_CLASSES: dict[str, tuple[int, ...]] = {
    "kindergarten": (12,),
    "primary": (24, 36),
    "junior": (24,),
    "senior": (30,),
}

#: Defaults of ``[plan]`` and ``[plan.stages.<stage>]`` (CNY; estimates — see docs/plan.md),
#: as the schema declares them.
DEFAULTS: dict[str, Any] = {k.name: k.default for k in schema.children("model", "plan")
                            if k.default is not None}
STAGE_DEFAULTS: dict[str, Any] = {k.name: k.default
                                  for k in schema.children("model", "plan.stages.*")
                                  if k.default is not None}


@dataclass(frozen=True)
class StagePlan:
    """What the plan may do for one stage, and at which cost (CNY)."""

    stage: str
    class_size: int
    cost_per_place: float
    standard_classes: tuple[int, ...]
    temporary_cost_per_place_year: float
    temporary_share: float
    temporary_years: int
    transport_radius_scale: float
    transport_cost_per_pupil_year: float
    unserved_penalty_per_pupil_year: float


@dataclass(frozen=True)
class PlanParams:
    """``[plan]``: the first year options take effect, lead time, solver limits, budget rule."""

    first_year: int
    build_years: int
    transient_years: int
    transport_max_pupils: int
    mip_gap: float
    time_limit_s: float
    stages: dict[str, StagePlan]


def default_penalty(class_size: int, cost_per_place: float, sizes: tuple[int, ...],
                    compulsory: bool) -> float:
    """Compulsory: above the capital of the largest standard school (so every pupil any
    option reaches is placed); otherwise a quarter of a place's cost per pupil-year."""
    if compulsory:
        return 2.0 * max(sizes) * class_size * max(cost_per_place, 1.0)
    return 0.25 * cost_per_place


def plan_params(state: "RunState") -> PlanParams:
    """The run's planning parameters (model.toml ``[plan]``, then the scenario's)."""
    return model_params(state.model, state.scenario)


def model_params(model: "Model", scenario: "Scenario") -> PlanParams:
    """The planning parameters of a model (its stages after the scenario's edits) and a
    scenario; :class:`InputError` for any bad ``[plan]`` key of either file."""
    stages = {n: (s.class_size, s.cost_per_place, s.compulsory)
              for n, s in model.stages.items()}
    scen = scenario.raw.get("plan", {})
    where = Origin(scenario.path.name, scenario.path.read_bytes().decode("utf-8-sig", "replace")
                   ) if scenario.path is not None else Origin("scenario", "")
    horizon = scenario.horizon if scenario.path is not None else None
    return read_params(model.path, stages, model.base_year,
                       scen if isinstance(scen, dict) else {}, where, horizon)


def plan_problems(model: "Model", scenario: "Scenario") -> list[Problem]:
    """Every problem of the ``[plan]`` keys (``capacity validate`` and ``run`` report them
    as ``capacity plan`` refuses them: one checker, :func:`read_params`)."""
    try:
        model_params(model, scenario)
    except InputError as exc:
        return exc.problems
    return []


def read_params(model_path: Path | None, stage_info: dict[str, tuple[int, float, bool]],
                base: int, scen: dict[str, Any], scen_at: Origin | None = None,
                horizon: int | None = None) -> PlanParams:
    """Planning parameters from a model folder, its stages (class size, cost per place,
    compulsory) and a scenario's ``[plan]`` table (``model_path`` None: defaults only).

    Every key is checked against its bounds in ``capacity/schema/model_toml.csv``;
    ``[plan.stages.<name>]`` must name a stage; ``first_year`` lies after ``base`` (and by
    ``horizon``). Problems name the file holding the key (the scenario's keys win) and its
    line; :class:`InputError` lists them all."""
    conf, text = read_toml(Path(model_path) / "model.toml") if model_path is not None \
        else ({}, "")
    plan, origin = _layered(_table(conf.get("plan")), Origin("model.toml", text), _table(scen),
                            scen_at or Origin("scenario", ""))
    problems = Problems()
    for key in schema.children("model", "plan"):
        if key.name in plan and key.name != "stages":
            _check(f"plan.{key.name}", plan[key.name], key, origin, problems)
    first = plan.get("first_year", base + 1)
    if _is_int(first) and not base < first <= (horizon or first):
        origin["plan.first_year"].add(
            problems, f"plan.first_year = {first} is not a planned year", "plan.first_year",
            f"a year after the base year {base}" + (f", at most the horizon {horizon}"
                                                   if horizon else ""))
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
    stages = {}
    for name, (class_size, cost, compulsory) in stage_info.items():
        raw = {**STAGE_DEFAULTS, **_table(stages_conf.get(name))}
        sizes = tuple(int(c) for c in raw.get("standard_classes",
                                              STANDARD_SCHOOL_CLASSES.get(name, (12,))))
        penalty = raw.get("unserved_penalty_per_pupil_year")
        if penalty is None:
            penalty = default_penalty(class_size, cost, sizes, compulsory)
        stages[name] = StagePlan(
            name, int(class_size), float(cost), sizes,
            float(raw["temporary_cost_per_place_year"]), float(raw["temporary_share"]),
            int(raw["temporary_years"]), float(raw["transport_radius_scale"]),
            float(raw["transport_cost_per_pupil_year"]), float(penalty))
    top = {**DEFAULTS, **plan}
    return PlanParams(first_year=int(first), build_years=int(top["build_years"]),
                      transient_years=int(top["transient_years"]),
                      transport_max_pupils=int(top["transport_max_pupils"]),
                      mip_gap=float(top["mip_gap"]), time_limit_s=float(top["time_limit_s"]),
                      stages=stages)


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
