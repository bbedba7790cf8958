"""Fertility scaled year by year so that a projection's births meet given figures.

The births of a step are linear in that step's ASFR (``ccm.project``: ``B = Σ asfr ·
(P_F + E_F)/2``) and the women who bear them are not themselves born within the few years
anchored, so one factor per year, ``f_y = target_y / B_y(f = 1)``, meets every target;
the factors are found in year order (each projection uses the factors found so far), so
targets more than 15 years apart are met too.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from capacity.demography.ccm import project

__all__ = ["birth_factors"]


def birth_factors(pop0: np.ndarray, sx: np.ndarray, asfr: np.ndarray,
                  net_migration: np.ndarray, targets: Mapping[int, float], *, base_year: int,
                  srb: float = 1.06, timing: str = "even",
                  out_rates: np.ndarray | None = None) -> dict[int, float]:
    """``{year: f_y}``: multipliers of the ASFR of the step ending ``year`` (arrays as in
    ``ccm.project``, ``asfr`` (T, Z, A)) such that the projected births (all zones) of
    that step equal ``targets[year]``; years must lie in ``base_year+1 .. base_year+T``."""
    asfr = np.array(asfr, dtype=float)
    T = asfr.shape[0]
    scale = np.ones(T)
    for year in sorted(targets):
        t = int(year) - base_year - 1
        if not 0 <= t < T:
            raise ValueError(f"year {year} outside the projection {base_year + 1}..{base_year + T}")
        pr = project(pop0, sx, asfr * scale[:, None, None], net_migration, srb=srb,
                     timing=timing, out_rates=out_rates)
        births = float(pr.births[t].sum())
        if births <= 0:
            raise ValueError(f"no births in {year} to scale")
        scale[t] *= float(targets[year]) / births
    return {int(y): float(scale[int(y) - base_year - 1]) for y in targets}
