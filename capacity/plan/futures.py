"""One plan for every future (``capacity plan --draws N``, docs/plan.md).

The futures are draws of the scenario's ensemble (its ``[uncertainty]``), weighted by their
fit to what was observed as the ensemble weighs them. Which schools to build and expand,
and when, is chosen once for all of them (the first stage); pupils, temporary places and
transport follow each future (the second stage); the expected cost is minimised. The plan's
files then show its allocation for the central future (the scenario's own forecast), and
P(shortfall) per stage and year over the draws.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..chain import Chain
from ..ensemble.api import checked_uncertainty
from ..ensemble.conditioning import condition
from ..ensemble.draws import draw_scenario, make_draw

if TYPE_CHECKING:
    from ..state import RunState


def future_demand(state: "RunState", draws: int, seed: int = 0
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(W, Y, K, U) whole pupils per draw, year, stage and unit, and the draws' weights."""
    spec = checked_uncertainty(state.scenario, state.model)
    steps = state.years[1:]
    scenarios = [draw_scenario(make_draw(i, seed, spec, state.model, steps), state.scenario,
                               state.model, steps) for i in range(draws)]
    weights = condition(state.model, scenarios, state.years).weights
    out = []
    for i, s in enumerate(scenarios):
        state.say(f"plan: future {i + 1} of {draws}")
        chain = Chain(s, post=(), workers=1)
        st = chain.run_steps(chain.start(), ("projection", "demand"))
        out.append(st.unit_pupils)
    return np.stack(out).astype(float), np.asarray(weights, float)


#: Draws are reduced to at most this many representative futures per stage for the MILP
#: (each a copy of the stage's allocation: 20 full copies would not fit in the time).
FUTURES = 5


def representative(demand: np.ndarray, weights: np.ndarray, n: int = FUTURES
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(R, Y, U) demand and (R,) weights of at most ``n`` representative futures: the draws
    sorted by their total pupils are cut into ``n`` slices of equal probability; each slice
    is represented by its draw nearest the slice's weighted mean total, with the slice's
    probability (a standard scenario reduction; the extremes keep their weight)."""
    w = np.asarray(weights, float) / np.sum(weights)
    if len(w) <= n:
        return demand, w
    total = demand.reshape(len(w), -1).sum(axis=1)
    order = np.argsort(total, kind="stable")
    cum = np.cumsum(w[order])
    bucket = np.minimum((cum - 1e-12) * n, n - 1).astype(int)
    keep, mass = [], []
    for b in range(n):
        members = order[bucket == b]
        if not len(members):
            continue
        mean = np.average(total[members], weights=w[members] + 1e-15)
        keep.append(members[np.argmin(np.abs(total[members] - mean))])
        mass.append(w[members].sum())
    return demand[keep], np.asarray(mass) / np.sum(mass)
