"""One draw of the uncertain inputs, and the scenario it stands for (docs/ensemble.md).

Draw ``i`` of seed ``S`` uses its own generator, ``SeedSequence(S, spawn_key=(i,))`` — the
``i``-th child of ``SeedSequence(S).spawn`` — so a draw does not depend on how many draws,
workers or batches there are. Every distribution is always sampled, in a fixed order (TFR
path, migration, housing share, housing delay, project delays, enrolment, then the gross
flows and the fertility level of :func:`flow_draws`), so a zero-width distribution gives
exactly the scenario's own value.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..demography.schedules import tfr_factors

if TYPE_CHECKING:
    from ..model import Model
    from ..scenario import Scenario
    from .spec import Uncertainty

Z80 = 1.2815515655446004   # standard normal quantile of 0.9: half-width of an 80 % interval


@dataclass(frozen=True)
class Draw:
    """The drawn inputs of one draw."""

    index: int
    tfr_ratio: np.ndarray              # (T,) × the scenario's TFR in each step year
    migration: float                   # × migration.scale
    housing_share: float               # × housing.scale
    housing_delay: int                 # + housing.delay_years
    project_delay: dict[str, int]      # project or group -> + years late
    enrolment: dict[str, float]        # stage -> enrolment rate
    inflow: float = 1.0                # × migration.inflow_scale (gross inflow)
    exit: float = 1.0                  # × migration.exit_scale (exit rates)
    exit_flatten: float = 0.0          # exit age pattern: weight of an age-neutral one
    tfr_level: float = 1.0             # × the TFR in every year (base years included)


def district_tfr(model: "Model") -> float:
    """TFR of the model's district schedule (rows without zone_id); 0 without one."""
    f = model.fertility
    if "zone_id" in f.columns:
        f = f[f["zone_id"].isna() | (f["zone_id"].astype(str) == "")]
    return float(f["asfr"].sum())


def tfr_sd(intervals: pd.DataFrame, steps: np.ndarray, base_year: int
           ) -> tuple[np.ndarray, np.ndarray]:
    """(T,) standard deviations of log(TFR ÷ medium) above and below the medium, fitted to
    each year's 80 % interval (a split normal: both bounds are met exactly). Years before
    the first interval year rise linearly from 0 at the base year (whose rates are
    observed); years after the last hold its width."""
    yrs = intervals["year"].to_numpy(float)
    up = np.log(intervals["upper_80"] / intervals["medium"]).to_numpy() / Z80
    down = np.log(intervals["medium"] / intervals["lower_80"]).to_numpy() / Z80
    steps = np.asarray(steps, float)
    ramp = np.clip((steps - base_year) / max(yrs[0] - base_year, 1), 0, 1)
    ramp = np.where(steps < yrs[0], ramp, 1.0)
    return np.interp(steps, yrs, up) * ramp, np.interp(steps, yrs, down) * ramp


def project_units(model: "Model", spec: "Uncertainty") -> tuple[list[str], np.ndarray]:
    """Units that slip together — a group_id, or a project named in ``delay_by`` — and
    each projects.csv row's unit index."""
    p = model.projects
    pid = p["project_id"].astype(str)
    group = p["group_id"].fillna(p["project_id"]).astype(str) if "group_id" in p.columns \
        else pid
    unit = np.where(pid.isin(list(spec.project_delay_by)), pid, group)
    names = list(dict.fromkeys(unit))
    return names, pd.Index(names).get_indexer(unit)


def make_draw(i: int, seed: int, spec: "Uncertainty", model: "Model", steps: np.ndarray
              ) -> Draw:
    """Draw ``i`` of ``seed``: independent of every other draw."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(i,)))
    T, rho = len(steps), spec.tfr_correlation
    e = rng.standard_normal(T)
    z = np.empty(T)
    for t in range(T):    # AR(1) with unit variance: corr(z_t, z_s) = rho^|t-s|
        z[t] = e[t] if t == 0 else rho * z[t - 1] + np.sqrt(1 - rho * rho) * e[t]
    up, down = tfr_sd(spec.tfr_intervals, steps, model.base_year)
    ratio = np.exp(spec.tfr_spread * np.where(z > 0, up, down) * z)
    migration = rng.uniform(*spec.migration)
    share = rng.uniform(*spec.housing_share)
    housing_delay = _choice(rng, spec.housing_delay)
    names, _ = project_units(model, spec)
    delays = {u: _choice(rng, spec.project_delay_by.get(u, spec.project_delay)) for u in names}
    enrol = {}
    for stage, st in model.stages.items():
        rate = st.enrolment + spec.enrolment_sd.get(stage, 0.0) * rng.standard_normal()
        enrol[stage] = float(np.clip(rate, 1e-3, 1.5))
    flows = flow_draws(rng, spec.flows)
    return Draw(i, ratio * flows["tfr_level"], float(migration), float(share), housing_delay,
                delays, enrol, **flows)


def flow_draws(rng: np.random.Generator, c: dict[str, float]) -> dict[str, float]:
    """The gross-flow and fertility-level draws (``Uncertainty.flows``, docs/ensemble.md):
    exit factor uniform, inflow factor following it plus noise, exit-pattern flattening
    uniform, TFR level log-normal."""
    exit_ = float(rng.uniform(c["exit_low"], c["exit_high"]))
    noise = float(rng.uniform(-c["inflow_noise"], c["inflow_noise"]))
    return {"inflow": max(0.0, 1.0 + c["inflow_follow"] * (exit_ - 1.0) + noise),
            "exit": exit_, "exit_flatten": float(rng.uniform(0.0, c["exit_flatten_high"])),
            "tfr_level": float(np.exp(c["tfr_level_sd"] * rng.standard_normal()))}


def _choice(rng: np.random.Generator, dist: dict[int, float]) -> int:
    """k with probability dist[k] (one uniform number, inverse CDF)."""
    ks = np.array(list(dist), int)
    cdf = np.cumsum(list(dist.values()))
    return int(ks[min(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"),
                      len(ks) - 1)])


def draw_scenario(draw: Draw, scenario: "Scenario", model: "Model", steps: np.ndarray
                  ) -> "Scenario":
    """The scenario with the draw's edits: what ``capacity run`` would compute for it."""
    edits: dict = {"name": f"{scenario.name}-draw-{draw.index}",
                   "migration_scale": scenario.migration_scale * draw.migration,
                   "housing_scale": scenario.housing_scale * draw.housing_share,
                   "housing_delay": scenario.housing_delay + draw.housing_delay,
                   "inflow_scale": scenario.inflow_scale * draw.inflow,
                   "exit_scale": scenario.exit_scale * draw.exit,
                   "exit_flatten": draw.exit_flatten}
    if not np.all(draw.tfr_ratio == 1.0):
        base = district_tfr(model)
        path = base * tfr_factors(scenario.tfr or model.tfr, steps, base)
        edits["tfr"] = {int(y): float(v) for y, v in zip(steps, path * draw.tfr_ratio)}
    if any(draw.project_delay.values()):
        edits["project_delays"] = project_delays(draw, scenario, model)
    stages = {s: dict(v) for s, v in scenario.stages.items()}
    for stage, rate in draw.enrolment.items():
        if rate != model.stages[stage].enrolment:
            stages.setdefault(stage, {})["enrolment"] = rate
    edits["stages"] = stages
    return dataclasses.replace(scenario, **edits)


def project_delays(draw: Draw, scenario: "Scenario", model: "Model") -> dict[str, int]:
    """Per project_id: the scenario's own delay (by id or group, as the supply step reads
    it) plus the draw's delay of the project's unit."""
    p = model.projects
    pid = p["project_id"].astype(str).to_numpy()
    group = p["group_id"].fillna(p["project_id"]).astype(str).to_numpy() \
        if "group_id" in p.columns else pid
    own = np.zeros(len(p), int)
    for key, years in scenario.project_delays.items():
        own[(pid == key) if key in set(pid) else (group == key)] = years
    names = list(draw.project_delay)
    unit = np.where(np.isin(pid, names), pid, group)
    return {str(k): int(own[j] + draw.project_delay.get(unit[j], 0)) for j, k in enumerate(pid)}


def inputs_table(draws: list[Draw], steps: np.ndarray) -> pd.DataFrame:
    """inputs.csv: one row per draw, every drawn input in its own column."""
    rows = []
    for d in draws:
        row = {"draw": d.index, "migration_factor": d.migration,
               "housing_share": d.housing_share, "housing_delay": d.housing_delay,
               "inflow_factor": d.inflow, "exit_factor": d.exit,
               "exit_flatten": d.exit_flatten, "tfr_level": d.tfr_level}
        row.update({f"tfr_ratio_{int(y)}": float(r) for y, r in zip(steps, d.tfr_ratio)})
        row.update({f"enrolment_{s}": v for s, v in d.enrolment.items()})
        row.update({f"delay_{u}": k for u, k in d.project_delay.items()})
        rows.append(row)
    return pd.DataFrame(rows)
