r"""Level fit: the one free level of a migration component that makes the projected total
population meet target totals (census and year-end estimates) in least squares.

Two kinds of component (``kind``):

* ``"count"`` — migrants in counts, ``net_migration + level · component``.  The projection
  is affine in migrant counts (as long as nothing is floored), so with ``T_k(level)`` the
  total at target k, ``T_k(level) = T_k(0) + level · g_k`` with ``g_k = T_k(1) − T_k(0)``:
  two projections give the weighted least-squares level exactly,
  ``level = Σ w_k g_k (target_k − T_k(0)) / Σ w_k g_k²``.
* ``"rate"`` — out-migration rates, ``out_rates + level · component`` (``component``
  defaults to 1 at every age: an age-neutral exit rate; ``net_migration`` is then the
  inflow).  Totals are not linear in a rate: one target is solved by
  ``scipy.optimize.brentq`` inside ``bounds`` (an :class:`InputError` when the target is
  not bracketed); several targets by minimising the weighted sum of squares with
  ``scipy.optimize.minimize_scalar`` (bounded) around the best point of a 33-point scan.

Target years index the projection's populations: ``year − base_year`` steps after the
start; fractional years interpolate linearly between the two neighbouring populations
(e.g. with census-date steps from 1 November, 31 December 2023 is ``2023 + 2/12``).
A level whose best fit lies outside ``bounds`` (counts: default 0..∞; rates: 0..1) or, with
``rtol``, misses a target by more than ``rtol`` raises :class:`InputError`.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from capacity.demography.ccm import Projection, project
from capacity.errors import InputError

__all__ = ["LevelFit", "calibrate_level", "total_at"]


@dataclass
class LevelFit:
    """Result of :func:`calibrate_level`."""

    level: float
    kind: str  # "count" or "rate"
    years: np.ndarray  # target years (may be fractional)
    targets: np.ndarray
    fitted: np.ndarray  # projected totals at the target years with ``level``
    method: str  # "linear", "brentq" or "minimize_scalar"
    projection: Projection  # the projection with ``level``

    def to_frame(self) -> pd.DataFrame:
        """year, target, fitted, error (fitted − target), pct_error."""
        err = self.fitted - self.targets
        return pd.DataFrame({"year": self.years, "target": self.targets,
                             "fitted": self.fitted, "error": err,
                             "pct_error": 100.0 * err / self.targets})


def total_at(population: np.ndarray, years: np.ndarray, base_year: int) -> np.ndarray:
    """Total population (T+1, ...) at (fractional) ``years``, linear between steps."""
    tot = np.asarray(population, dtype=float).reshape(population.shape[0], -1).sum(axis=1)
    return np.interp(np.asarray(years, dtype=float) - base_year, np.arange(tot.size), tot)


def calibrate_level(pop0: np.ndarray, sx: np.ndarray, asfr: np.ndarray,
                    net_migration: np.ndarray, targets: Mapping[float, float], *,
                    base_year: int, component: np.ndarray | None = None,
                    kind: Literal["count", "rate"] = "count",
                    out_rates: np.ndarray | None = None,
                    bounds: tuple[float, float] | None = None, srb: float = 1.06,
                    timing: Literal["even", "end"] = "even",
                    weights: Mapping[float, float] | None = None, rtol: float | None = None,
                    file: str = "targets") -> LevelFit:
    """Solve the level of ``component`` (module doc); arrays as in ``ccm.project``.

    ``targets``: ``{year: total population}``; ``weights``: ``{year: weight}`` (default 1);
    ``bounds``: allowed levels; ``rtol``: if given, every target must be met within it.
    """
    if kind not in ("count", "rate"):
        raise ValueError(f"kind must be 'count' or 'rate', not {kind!r}")
    mig = np.asarray(net_migration, dtype=float)
    T = mig.shape[0]
    by_year = {float(y): float(v) for y, v in targets.items()}
    years = np.array(sorted(by_year), dtype=float)
    if years.size == 0:
        raise InputError.single(file, "no targets", expected="at least one {year: total}")
    tgt = np.array([by_year[y] for y in years])
    outside = (years < base_year) | (years > base_year + T)
    if outside.any():
        raise InputError.single(file, f"target year {years[outside][0]:g} outside the "
                                f"projection {base_year}..{base_year + T}", column="year",
                                expected=f"years in {base_year}..{base_year + T}")
    if not np.isfinite(tgt).all() or (tgt <= 0).any():
        raise InputError.single(file, "target totals must be positive numbers",
                                column="total", expected="a population > 0")
    wy = {} if weights is None else {float(y): float(v) for y, v in weights.items()}
    w = np.array([wy.get(y, 1.0) for y in years])
    lo, hi = bounds if bounds is not None else ((0.0, np.inf) if kind == "count"
                                                else (0.0, 1.0))
    if not lo < hi:
        raise ValueError(f"bounds must be increasing, got {(lo, hi)}")
    if kind == "count" and component is None:
        raise ValueError("a count component is required")
    comp = np.ones(np.shape(pop0)[-2:]) if component is None else \
        np.asarray(component, dtype=float)
    base_rates = 0.0 if out_rates is None else np.asarray(out_rates, dtype=float)

    def run(level: float) -> Projection:
        if kind == "count":
            return project(pop0, sx, asfr, mig + level * comp, srb=srb, timing=timing,
                           out_rates=out_rates)
        return project(pop0, sx, asfr, mig, srb=srb, timing=timing,
                       out_rates=base_rates + level * comp)

    def totals(level: float) -> np.ndarray:
        return total_at(run(level).population, years, base_year)

    def sse(level: float) -> float:
        return float((w * (totals(level) - tgt) ** 2).sum())

    level, method = None, "linear"
    if kind == "count":
        p0, p1 = run(0.0), run(1.0)
        if not p0.floored and not p1.floored:
            f0 = total_at(p0.population, years, base_year)
            g = total_at(p1.population, years, base_year) - f0
            if not (w * g * g).sum() > 0:
                raise InputError.single(file, "the component does not change the totals",
                                        expected="a component that adds or removes people")
            level = float((w * g * (tgt - f0)).sum() / (w * g * g).sum())
            if not lo <= level <= hi:
                raise _unreachable(file, kind, lo, hi, f"the best level is {level:.6g}")
    if level is None or (kind == "count" and run(level).floored):
        level, method = _solve_1d(totals, sse, tgt, lo, hi, file, kind)
    pr = run(level)
    fitted = total_at(pr.population, years, base_year)
    if rtol is not None:
        miss = np.abs(fitted - tgt) / tgt
        if (miss > rtol).any():
            k = int(np.argmax(miss))
            raise InputError.single(file, f"level {level:.6g} misses the {years[k]:g} target "
                                    f"{tgt[k]:,.0f} by {100 * miss[k]:.2f} %", column="total",
                                    expected=f"targets consistent within {100 * rtol:g} %")
    return LevelFit(level, kind, years, tgt, fitted, method, pr)


def _solve_1d(totals, sse, tgt: np.ndarray, lo: float, hi: float, file: str,
              kind: str) -> tuple[float, str]:
    """Robust 1-D solve inside [lo, hi]: a bracketed root for one target, else a scan and a
    bounded minimisation of the weighted sum of squares."""
    from scipy.optimize import brentq, minimize_scalar   # here: slow to import, rarely used

    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError("finite bounds are needed for a nonlinear level fit")
    span = hi - lo
    if tgt.size == 1:
        a, b = totals(lo)[0] - tgt[0], totals(hi)[0] - tgt[0]
        if a == 0.0:
            return lo, "brentq"
        if b == 0.0:
            return hi, "brentq"
        if np.sign(a) == np.sign(b):
            raise _unreachable(file, kind, lo, hi, f"totals {a + tgt[0]:,.0f} .. "
                               f"{b + tgt[0]:,.0f} do not bracket {tgt[0]:,.0f}")
        return float(brentq(lambda x: totals(x)[0] - tgt[0], lo, hi, xtol=1e-12 * span,
                            rtol=1e-14)), "brentq"
    grid = np.linspace(lo, hi, 33)
    vals = np.array([sse(x) for x in grid])
    i = int(np.argmin(vals))
    a, b = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    res = minimize_scalar(sse, bounds=(a, b), method="bounded",
                          options={"xatol": 1e-10 * span})
    level = float(res.x)
    at_bound = min(level - lo, hi - level) <= 1e-6 * span
    if at_bound and res.fun > 1e-12 * float((tgt ** 2).sum()):
        edge = lo if level - lo <= hi - level else hi
        raise _unreachable(file, kind, lo, hi, f"the best fit is at the bound {edge:g}")
    return level, "minimize_scalar"


def _unreachable(file: str, kind: str, lo: float, hi: float, why: str) -> InputError:
    return InputError.single(file, f"no {kind} level in [{lo:g}, {hi:g}] meets the targets: "
                             f"{why}", column="total",
                             expected="targets within reach, or wider bounds")
