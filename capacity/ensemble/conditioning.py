"""Draws weighted by their fit to what was observed (docs/ensemble.md, "Conditioning").

Observed figures: the district totals of the model's ``migration_targets.csv`` (fractional
model years, e.g. 31 December 2023 = 2023 + 2/12); for every year with an anchor area's
crude birth rate and a ``births_per_head_ratio`` in ``anchors.csv``, births proportional to
that rate (rate / 1000 × the draw's mean population × ratio); and ``anchors.csv``
``primary_residents_growth`` rows (residents of the primary stage's ages ÷ the base year,
from grade progression: the child component of migration). Each draw's
figures come from a projection of all draws at once (the ensemble's own inputs). With
log-normal observation errors ``σ`` (``capacity/ensemble/data/conditioning.csv``)

    log L_d = −½ Σ_k (log(sim_dk / obs_dk) / σ_k)²,    w_d = L_d / Σ L

(importance weights: the draws are from the prior, the weights make them a sample of the
posterior). The effective sample size is ``ESS = 1 / Σ w_d²``.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..demography.calibrate import total_at
from .aggregate import DISTRICT, weighted_quantile, with_district, zone_table
from ..demography.ccm import project
from ..projection import inputs, pivot, survival

if TYPE_CHECKING:
    from ..model import Model
    from ..scenario import Scenario

SETTINGS_FILE = Path(__file__).parent / "data" / "conditioning.csv"
TARGETS_FILE = "migration_targets.csv"


@cache
def settings() -> dict[str, float]:
    """The observation errors, by name (``conditioning.csv``)."""
    with SETTINGS_FILE.open(encoding="utf-8", newline="") as f:
        return {r["name"]: float(r["value"]) for r in csv.DictReader(f)}


@dataclass
class Conditioning:
    """Per-draw figures beside the observations, and the weights."""

    table: pd.DataFrame        # indicator, year, observed, sigma, one column per draw: sim
    simulated: np.ndarray      # (K, N) the draws' figures
    observed: np.ndarray       # (K, N) the observed figure per draw (births: draw-specific)
    sigma: np.ndarray          # (K,)
    weights: np.ndarray        # (N,) summing to 1

    @property
    def ess(self) -> float:
        return float(1.0 / np.sum(self.weights ** 2))


def log_likelihood(sim: np.ndarray, obs: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """(N,) Σ_k −½ (log(sim/obs) / σ_k)² over the K rows of (K, N) arrays."""
    z = np.log(sim / obs) / sigma[:, None]
    return -0.5 * (z ** 2).sum(axis=0)


def normalised(loglik: np.ndarray) -> np.ndarray:
    """Weights ∝ exp(loglik), summing to 1."""
    w = np.exp(loglik - loglik.max())
    return w / w.sum()


def observations(model: "Model") -> tuple[dict[float, float], list[tuple[int, float, float, str]]]:
    """({model year: district total}, [(year, crude birth rate, ratio, area)]); the growth
    of primary-age residents is read by :func:`condition` (``primary_residents_growth``)."""
    totals: dict[float, float] = {}
    path = Path(model.path) / TARGETS_FILE
    if path.is_file():
        t = pd.read_csv(path)
        totals = {float(y): float(v) for y, v in zip(t["year"], t["total"])}
    births = []
    a = model.anchors
    if a is not None and len(a):
        for r in a[a["indicator"] == "births_per_head_ratio"].itertuples():
            rates = a[(a["indicator"] == "crude_birth_rate") & (a["area"] == r.area)]
            births += [(int(c.year), float(c.value), float(r.value), str(r.area))
                       for c in rates.itertuples()]
    return totals, births


def condition(model: "Model", scenarios: list["Scenario"], years: np.ndarray) -> Conditioning:
    """Project every draw's scenario (stacked on the zone axis) and weight the draws by
    their fit to :func:`observations`. Without observations every weight is 1/N."""
    steps = years[1:]
    base = int(years[0])
    Z, A, N = len(model.zones), model.open_age + 1, len(scenarios)
    given = [inputs(model, s, steps) for s in scenarios]
    pop0 = pivot(model.population, "count", model.zone_ids, A)
    rates = None
    if any(g.out_rates is not None for g in given):
        none = np.zeros((Z, 2, A))
        rates = np.concatenate([none if g.out_rates is None else g.out_rates for g in given])
    proj = project(np.concatenate([pop0] * N), survival(model),
                   np.concatenate([g.asfr for g in given], axis=1),
                   np.concatenate([g.migration for g in given], axis=1),
                   srb=model.srb, timing=given[0].timing, out_rates=rates)
    tot = proj.population.reshape(len(years), N, -1).sum(axis=2)        # (Y, N)
    births = proj.births.reshape(len(steps), N, -1).sum(axis=2)         # (T, N)
    c = settings()
    totals, anchored = observations(model)
    rows, sim, obs, sig = [], [], [], []
    for y, v in sorted(totals.items()):
        if base <= y <= years[-1]:
            s = np.array([total_at(tot[:, [d]], [y], base)[0] for d in range(N)])
            rows.append(("population", y))
            sim.append(s), obs.append(np.full(N, v)), sig.append(c["sigma_population"])
    for y, cbr, ratio, area in anchored:
        t = y - base - 1
        if 0 <= t < len(steps):
            mean = (tot[t] + tot[t + 1]) / 2
            rows.append(("births", float(y)))
            sim.append(births[t]), obs.append(cbr / 1000 * mean * ratio)
            sig.append(c["sigma_births"])
    grow = model.anchors[model.anchors["indicator"] == "primary_residents_growth"] \
        if model.anchors is not None and len(model.anchors) else pd.DataFrame()
    stage = model.stages.get("primary")
    kids = None if stage is None else proj.population[
        ..., stage.ages[0]:stage.ages[1] + 1].reshape(len(years), N, -1).sum(axis=2)
    for r in grow.itertuples():
        k = int(r.year) - base
        if kids is not None and 0 < k < len(years):
            rows.append(("primary_residents_growth", float(r.year)))
            sim.append(kids[k] / kids[0]), obs.append(np.full(N, float(r.value)))
            sig.append(c["sigma_primary_growth"])
    if not rows:
        return Conditioning(pd.DataFrame(columns=["indicator", "year"]), np.zeros((0, N)),
                            np.zeros((0, N)), np.zeros(0), np.full(N, 1.0 / N))
    sim_a, obs_a, sig_a = np.array(sim), np.array(obs), np.array(sig)
    w = normalised(log_likelihood(sim_a, obs_a, sig_a))
    table = pd.DataFrame(rows, columns=["indicator", "year"])
    return Conditioning(table, sim_a, obs_a, sig_a, w)


def observations_table(cond: Conditioning) -> pd.DataFrame:
    """observations.csv: indicator, year, observed, p10, p50, p90 (weighted quantiles of the
    draws), sigma. Births' observed figure is the weighted mean of the draws' anchored
    births (it moves with each draw's population)."""
    t = cond.table.copy()
    if not len(t):
        return pd.DataFrame(columns=["indicator", "year", "observed", "p10", "p50", "p90",
                                     "sigma"])
    t["observed"] = (cond.observed * cond.weights).sum(axis=1)
    q = weighted_quantile(cond.simulated, cond.weights, [0.1, 0.5, 0.9], axis=1)
    t["p10"], t["p50"], t["p90"] = q[0], q[1], q[2]
    t["sigma"] = cond.sigma
    return t.sort_values(["indicator", "year"], kind="stable").reset_index(drop=True)


#: Fewer effective draws than this share of the draws: the quantiles rest on a few draws.
FEW_DRAWS_SHARE = 0.1


def few_draws(ess: float, draws: int) -> bool:
    """Whether an effective sample size is too small for the quantiles to be more than
    indicative (``FEW_DRAWS_SHARE`` of the draws)."""
    return ess < FEW_DRAWS_SHARE * draws


def shortfall_risk(shortfall: np.ndarray, weights: np.ndarray, years, zone_ids, stages,
                   thresholds=(0, 500, 1000)) -> pd.DataFrame:
    """risk.csv: per zone (and the district ``ALL``), stage and year the weighted
    probability that the shortfall exceeds each threshold (columns ``p_short_gt_<t>``)."""
    full = with_district(shortfall.astype(np.int64))                    # (N, Y, Z+1, K)
    cols = {f"p_short_gt_{t}": np.tensordot(weights, (full > t).astype(float), axes=1)
            for t in thresholds}
    return zone_table(cols, years, [*zone_ids, DISTRICT], stages)


def worst_zone_risk(risk: pd.DataFrame, stage: str, column: str = "p_short_gt_1000"
                    ) -> pd.DataFrame:
    """Per zone: the year with the highest ``column`` for ``stage`` and that probability."""
    r = risk[(risk["stage"] == stage)]
    idx = r.groupby("zone_id", sort=False)[column].idxmax()
    return r.loc[idx, ["zone_id", "year", column]].sort_values(column, ascending=False,
                                                                kind="stable")


def how_sure(p: float, lang: str = "en") -> str:
    """A probability in words (IPCC-style likelihood scale; text/<lang>.toml [likelihood])."""
    from ..report.labels import text

    scale = ((0.99, "virtually_certain"), (0.9, "very_likely"), (0.66, "likely"),
             (0.33, "about_as_likely_as_not"), (0.1, "unlikely"), (0.01, "very_unlikely"),
             (-1.0, "exceptionally_unlikely"))
    for lo, key in scale:
        if p >= lo:
            return text("likelihood", key, lang)
    return ""
