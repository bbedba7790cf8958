"""Backtest runs: project an earlier census to a later one with a stated migration method
and compare (docs/projection.md §6).

Methods (each names what it uses of the later census — only ``residual`` uses its ages):

* ``none`` — a closed population: survival and the given births only.
* ``profile`` — a fixed age-sex profile that does not come from either census (the
  Rogers–Castro 1981 standard schedule, :data:`ROGERS_CASTRO_STANDARD`, sexes equal) times
  one constant annual count fitted (:func:`calibrate_level`, kind "count") to period
  totals, e.g. year-end totals between the censuses, and the later census's total.  Uses
  the later census's *total* only.
* ``schedule`` — a given migration schedule (e.g. a model's migration.csv summed over
  zones: counts, optionally with exit rates), as it is.
* ``residual`` — the cohort residual of the same two censuses (:func:`cohort_residual`).
  **Circular**: it is fitted to the later census's age structure, so it reproduces it up
  to the graduation's smoothing; shown only as the floor of the error.

Births between the censuses are given per step (as for :func:`cohort_residual`).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from capacity.demography.backtest import backtest
from capacity.demography.ccm import project
from capacity.demography.census import Census, read_census
from capacity.demography.residual import cohort_residual
from capacity.demography.schedules import ROGERS_CASTRO_STANDARD, rogers_castro
from capacity.errors import InputError

__all__ = ["METHODS", "BacktestRun", "run_backtest"]

METHODS = {
    "none": "no migration (closed population)",
    "profile": "Rogers-Castro standard profile x one annual count fitted to the period totals",
    "schedule": "the given migration schedule, as it is",
    "residual": "cohort residual of the same two censuses (circular: fitted to the later "
                "census's ages)",
}
CIRCULAR = frozenset({"residual"})


@dataclass
class BacktestRun:
    """Result of :func:`run_backtest`: metrics rows for every method, and the projections."""

    table: pd.DataFrame  # method, circular, + the columns of :func:`backtest`
    projected: dict[str, np.ndarray]  # method -> (2, A) at the later census date
    notes: dict[str, str]  # method -> what it used, e.g. the fitted level


def run_backtest(census1: pd.DataFrame | Census, census2: pd.DataFrame | Census,
                 sx: np.ndarray, births: Mapping[int, float], *, srb: float = 1.06,
                 methods: list[str] | tuple[str, ...] = ("none", "profile", "residual"),
                 totals: Mapping[float, float] | None = None,
                 schedule: tuple[np.ndarray, np.ndarray | None] | None = None,
                 ranges: Mapping[str, tuple[int, int | None]] | None = None,
                 timing: str = "even", files: tuple[str, str] = ("census1", "census2"),
                 circular: set[str] | frozenset[str] = CIRCULAR) -> BacktestRun:
    """Project ``census1`` to ``census2``'s date with each method (module doc) and compare.

    ``totals``: ``{year: total}`` for ``profile`` (fractional years allowed; the later
    census's total is always added); ``schedule``: ``(counts (2, A), out_rates (2, A) or
    None)`` for ``schedule``; ``ranges``: named age ranges (school stages); ``circular``:
    methods to flag as derived from the later census (add ``schedule`` when it was)."""
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise InputError.single("--method", f"unknown method {unknown[0]!r}",
                                expected="one of " + ", ".join(METHODS))
    if "schedule" in methods and schedule is None:
        raise InputError.single("--method", "method 'schedule' needs a migration schedule",
                                expected="a model (--model) whose migration.csv is used")
    c1 = read_census(census1, file=files[0])
    c2 = read_census(census2, file=files[1])
    if c1.year is None or c2.year is None or c2.year <= c1.year:
        raise InputError.single(files[1], "census years missing or not increasing",
                                column="year", expected="a year column, the later census last")
    sx = np.asarray(sx, dtype=float)
    A, n = sx.shape[-1], c2.year - c1.year
    fit = cohort_residual(c1, c2, sx, births=births, srb=srb, timing=timing, files=files)
    pop1 = fit.pop1
    b = np.array([births[y] for y in range(c1.year + 1, c2.year + 1)], dtype=float)
    out: dict[str, np.ndarray] = {}
    notes: dict[str, str] = {}

    def run(mig: np.ndarray, rates: np.ndarray | None) -> np.ndarray:
        return _project_with_births(pop1, sx, b, mig, rates, srb, timing, n)

    for m in methods:
        if m == "none":
            out[m] = run(np.zeros((2, A)), None)
            notes[m] = "no migration"
        elif m == "residual":
            out[m] = fit.projected
            notes[m] = f"residual net {fit.net.sum():,.0f} a year (lambda {fit.lam:.3g})"
        elif m == "schedule":
            counts, rates = schedule
            out[m] = run(np.asarray(counts, float), rates)
            notes[m] = f"schedule: {np.sum(counts):,.0f} a year in counts" + (
                "" if rates is None else " with exit rates")
        elif m == "profile":
            prof = rogers_castro(np.arange(A), **ROGERS_CASTRO_STANDARD)
            shape = np.vstack([prof, prof]) / (2 * prof.sum())
            tg = {float(k): float(v) for k, v in (totals or {}).items()}
            tg[float(c2.year)] = float(c2.counts.sum())
            level = _fit_count(pop1, sx, b, shape, tg, srb, timing, n, c1.year)
            out[m] = run(level * shape, None)
            notes[m] = (f"{level:,.0f} a year fitted to totals at "
                        + ", ".join(f"{y:g}" for y in sorted(tg)))
    rows = []
    for m, proj in out.items():
        t = backtest(proj, c2, ranges=ranges, sx=sx if sx.ndim == 2 else sx[-1], file=files[1])
        t.insert(0, "circular", m in circular)
        t.insert(0, "method", m)
        rows.append(t)
    table = pd.concat(rows, ignore_index=True)
    table.attrs["years"] = f"{c1.year} → {c2.year}"
    return BacktestRun(table, out, notes)


def _project_with_births(pop1: np.ndarray, sx: np.ndarray, births: np.ndarray,
                         mig: np.ndarray, rates: np.ndarray | None, srb: float, timing: str,
                         n: int, return_path: bool = False) -> np.ndarray:
    """Project (2, A) for n steps with given total births per step (split by ``srb``):
    zero fertility, each step's newborns injected as the age-0 survivors of the step."""
    A = pop1.shape[-1]
    sx_t = np.broadcast_to(sx, (n, 2, A))
    pop = pop1[None].copy()
    path = [pop[0].copy()]
    for t in range(n):
        pr = project(pop, sx_t[t:t + 1, None], np.zeros((1, 1, A)), mig[None, None],
                     srb=srb, timing=timing,
                     out_rates=None if rates is None else np.asarray(rates)[None, None])
        pop = pr.population[-1].copy()
        bf = births[t] / (1.0 + srb)
        b_sex = np.array([bf, births[t] - bf])
        e0 = b_sex * sx_t[t, :, 0]
        if rates is not None:
            e0 = e0 - np.asarray(rates)[:, 0] * (0.5 if timing == "even" else 1.0) * e0
        pop[0, :, 0] += e0
        path.append(pop[0].copy())
    return np.array(path) if return_path else pop[0]


def _fit_count(pop1, sx, births, shape, targets, srb, timing, n, year1) -> float:
    """Annual count of ``shape`` meeting ``targets`` in least squares (linear in the count)."""
    years = np.array(sorted(targets))
    tgt = np.array([targets[y] for y in years])
    if ((years <= year1) | (years > year1 + n)).any():
        raise InputError.single("totals", "a total lies outside the backtest period",
                                column="year", expected=f"years in {year1}..{year1 + n}")

    def totals(level: float) -> np.ndarray:
        path = _project_with_births(pop1, sx, births, level * shape, None, srb, timing, n,
                                    return_path=True)
        tot = path.reshape(n + 1, -1).sum(axis=1)
        return np.interp(years - year1, np.arange(n + 1), tot)

    f0 = totals(0.0)
    g = totals(1.0) - f0
    return float((g * (tgt - f0)).sum() / (g * g).sum())
