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
import pandas as pd

from ..chain import Chain
from ..ensemble.api import checked_uncertainty
from ..ensemble.conditioning import condition
from ..ensemble.draws import draw_scenario, make_draw
from .stage import StageResult

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


def shortfall_risk(r: StageResult, threshold: float = 0.5) -> pd.DataFrame:
    """year, p_shortfall, unserved_mean, unserved_p80: after the plan, the weighted share of
    futures with pupils without a place (more than ``threshold``), their mean and 80th
    percentile."""
    w = r.formulation.data.weights
    un = r.unserved                                     # (W, T)
    rows = []
    for t, year in enumerate(r.years):
        order = np.argsort(un[:, t])
        cum = np.cumsum(w[order])
        p80 = float(un[order[np.searchsorted(cum, 0.8 - 1e-12)], t])
        rows.append((int(year), float(w @ (un[:, t] > threshold)), float(w @ un[:, t]), p80))
    return pd.DataFrame(rows, columns=["year", "p_shortfall", "unserved_mean", "unserved_p80"])
