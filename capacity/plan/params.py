"""Planning parameters: model.toml ``[plan]`` and ``[plan.stages.<stage>]`` (docs/plan.md).

Declared in ``capacity/schema/model_toml.csv`` (so ``capacity validate`` checks their types);
read here, with a scenario's ``[plan]`` table (same keys) merged over the model's. A stage
without ``standard_classes`` uses :data:`STANDARD_SCHOOL_CLASSES`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import Problems
from ..tomlspec import read_toml

if TYPE_CHECKING:
    from ..state import RunState

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

#: Defaults of ``[plan.stages.<stage>]`` (CNY; estimates — see docs/plan.md).
STAGE_DEFAULTS: dict[str, Any] = {
    "temporary_cost_per_place_year": 15000.0,
    "temporary_share": 0.2,
    "temporary_years": 5,
    "transport_radius_scale": 2.0,
    "transport_cost_per_pupil_year": 6000.0,
}


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
    stages = {n: (s.class_size, s.cost_per_place, s.compulsory)
              for n, s in state.model.stages.items()}
    return read_params(state.model.path, stages, state.model.base_year,
                       state.scenario.raw.get("plan", {}))


def read_params(model_path: Path | None, stage_info: dict[str, tuple[int, float, bool]],
                base: int, scen: dict[str, Any]) -> PlanParams:
    """Planning parameters from a model folder, its stages (class size, cost per place,
    compulsory) and a scenario's ``[plan]`` table (``model_path`` None: defaults only)."""
    conf = read_toml(Path(model_path) / "model.toml")[0] if model_path is not None else {}
    plan = dict(conf.get("plan", {}))
    stages_conf = {**plan.pop("stages", {})}
    for name, extra in scen.get("stages", {}).items():
        stages_conf[name] = {**stages_conf.get(name, {}), **extra}
    plan.update({k: v for k, v in scen.items() if k != "stages"})
    stages = {}
    for name, (class_size, cost, compulsory) in stage_info.items():
        raw = {**STAGE_DEFAULTS, **stages_conf.get(name, {})}
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
    return PlanParams(first_year=int(plan.get("first_year", base + 1)),
                      build_years=int(plan.get("build_years", 3)),
                      transient_years=int(plan.get("transient_years", 4)),
                      transport_max_pupils=int(plan.get("transport_max_pupils", 30)),
                      mip_gap=float(plan.get("mip_gap", 1e-3)),
                      time_limit_s=float(plan.get("time_limit_s", 60.0)),
                      stages=stages)


def check_params(params: PlanParams, label: str, problems: Problems) -> None:
    """Sizes, shares and scales that make no sense (the schema checks the types)."""
    for name, sp in params.stages.items():
        where = f"plan.stages.{name}"
        if not sp.standard_classes or min(sp.standard_classes) <= 0:
            problems.add(label, f"{where}.standard_classes {list(sp.standard_classes)} is empty "
                         "or not positive", column=f"{where}.standard_classes",
                         expected="a list of positive class counts, e.g. [24, 36, 48]")
        if not 0 <= sp.temporary_share <= 1:
            problems.add(label, f"{where}.temporary_share = {sp.temporary_share} is not a share",
                         column=f"{where}.temporary_share", expected="a share in [0, 1]")
        if sp.transport_radius_scale < 1:
            problems.add(label, f"{where}.transport_radius_scale = {sp.transport_radius_scale}"
                         " is below 1", column=f"{where}.transport_radius_scale",
                         expected="a factor >= 1 on the walking radius")
