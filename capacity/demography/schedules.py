"""Age schedules and scenario adjustments: migration profiles, housing-led in-migration, TFR paths.

* :func:`rogers_castro` — the Rogers & Castro (1981) model migration schedule
  ``m(x) = a1·e^{−α1 x} + a2·e^{−α2(x−μ2) − e^{−λ2(x−μ2)}}
  + a3·e^{−α3(x−μ3) − e^{−λ3(x−μ3)}} + c``;
  :data:`ROGERS_CASTRO_STANDARD` holds their "fundamental" parameter set (a1 = 0.02,
  α1 = 0.1, a2 = 0.06, α2 = 0.1, μ2 = 20, λ2 = 0.4, c = 0.003; Rogers & Castro 1981, IIASA
  RR-81-30, as packaged in DemoTools/rcbayes), whose labour-force peak lies at
  ``μ2 + ln(λ2/α2)/λ2 ≈ 23.5`` years.
* :func:`exit_profile` — an out-migration age schedule: the Rogers–Castro labour-force and
  childhood (family) components with the elderly constant ``c`` = 0
  (:data:`ROGERS_CASTRO_EXITS`), normalised so that its mean over a population is 1.
* :func:`spread_total` — spreads totals over an age (or sex × age) profile, sum preserved.
* :func:`young_family_profile` — who moves into new dwellings (assumptions in its doc).
* :func:`housing_inflow` — persons moving into new housing per step and zone.
* :func:`tfr_factors` — per-year multipliers of the ASFR schedule from a TFR path.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = [
    "ROGERS_CASTRO_STANDARD", "ROGERS_CASTRO_EXITS", "rogers_castro", "exit_profile", "spread_total", "young_family_profile",
    "housing_inflow", "tfr_factors",
]

ROGERS_CASTRO_STANDARD: dict[str, float] = {
    "a1": 0.02, "alpha1": 0.1, "a2": 0.06, "alpha2": 0.1, "mu2": 20.0, "lambda2": 0.4,
    "c": 0.003,
}
#: Out-migration (exits): the standard's childhood and labour-force components with α1 = α2
#: (children leave with their parents, Rogers & Castro's family relation) and c = 0, so the
#: elderly leave only through the tails of those components (README of the Tongzhou model:
#: its 2010-2020 census residual shows a net inflow at 65+, which any c > 0 turns into a net
#: outflow at the exit levels that meet the 2021-2024 totals).
ROGERS_CASTRO_EXITS: dict[str, float] = {**ROGERS_CASTRO_STANDARD, "c": 0.0}


def rogers_castro(ages: np.ndarray, *, a1: float, alpha1: float, a2: float, alpha2: float,
                  mu2: float, lambda2: float, c: float, a3: float = 0.0, alpha3: float = 0.0,
                  mu3: float = 0.0, lambda3: float = 0.0) -> np.ndarray:
    """Rogers–Castro migration rates at ``ages`` (7-parameter form, plus the optional
    retirement peak a3, α3, μ3, λ3).  Not normalised: pass to :func:`spread_total`."""
    x = np.asarray(ages, dtype=float)
    out = a1 * np.exp(-alpha1 * x)
    out = out + a2 * np.exp(-alpha2 * (x - mu2) - np.exp(-lambda2 * (x - mu2)))
    if a3:
        out = out + a3 * np.exp(-alpha3 * (x - mu3) - np.exp(-lambda3 * (x - mu3)))
    return out + c


def exit_profile(population: np.ndarray,
                 params: Mapping[str, float] = ROGERS_CASTRO_EXITS) -> np.ndarray:
    """(…, A) relative exit rates by age: ``rogers_castro(ages, **params)`` divided by its
    mean over ``population`` (shape (…, A), e.g. (2, A); ages 0..A−1), so that
    ``level · exit_profile(P)`` has the crude exit rate ``level`` on ``P``."""
    pop = np.asarray(population, dtype=float)
    rc = rogers_castro(np.arange(pop.shape[-1]), **params)
    mean = float((pop * rc).sum() / pop.sum())
    assert mean > 0, "population and schedule must overlap"
    return np.broadcast_to(rc / mean, pop.shape).copy()


def spread_total(total: np.ndarray | float, profile: np.ndarray) -> np.ndarray:
    """Distribute ``total`` (any shape S) over ``profile`` (shape P, non-negative, positive
    sum; normalised over all its axes).  Returns shape S + P; summing over P gives total."""
    p = np.asarray(profile, dtype=float)
    s = p.sum()
    assert s > 0 and (p >= 0).all(), "profile must be non-negative with a positive sum"
    return np.multiply.outer(np.asarray(total, dtype=float), p / s)


def young_family_profile(open_age: int = 100, *, child_share: float = 0.35,
                         srb: float = 1.06) -> np.ndarray:
    """(2, A) sex × age distribution (sums to 1; 0 = F, 1 = M) of people moving into new
    dwellings: young couples with young children.

    Assumptions (no local survey was available; change them with local data):

    * adults (share ``1 − child_share`` = 0.65): ages 25–40, trapezoid weights
      ``min(1, (a−24)/5, (41−a)/6)`` — rising 25→29, flat 29–35, falling to 40 — split
      evenly by sex.  This is an assumption (family-formation ages of urban first-home
      buyers, around 30), not a fitted schedule.
    * children (share ``child_share`` = 0.35, about one child per couple plus some
      childless movers): ages 0–10, weight 1 for 0–5 falling linearly to 0.5 at 10
      (families move before or soon after births; school-age moves are rarer), boys
      ``srb/(1+srb)``.
    * nobody else (co-resident grandparents are left out; add a term for them if local
      evidence says so).
    """
    A = open_age + 1
    assert A > 41, "open age must be above 40"
    ages = np.arange(A, dtype=float)
    adult = np.clip(np.minimum(np.minimum(1.0, (ages - 24) / 5), (41 - ages) / 6), 0, None)
    child = np.where(ages <= 10, np.minimum(1.0, 1.0 - 0.1 * (ages - 5)), 0.0)
    adult *= (1.0 - child_share) / adult.sum()
    child *= child_share / child.sum()
    boys = srb / (1.0 + srb)
    out = np.empty((2, A))
    out[0] = 0.5 * adult + (1.0 - boys) * child
    out[1] = 0.5 * adult + boys * child
    return out


def housing_inflow(zone_index: np.ndarray, units: np.ndarray, completion_year: np.ndarray,
                   persons_per_unit: np.ndarray | float, ramp_years: np.ndarray | float,
                   years: Sequence[int] | np.ndarray, n_zones: int,
                   profile: np.ndarray) -> np.ndarray:
    """(T, Z, 2, A) persons moving into new dwellings during each step's year ``years[t]``.

    One entry per development (arrays of length D; ``persons_per_unit`` and ``ramp_years``
    may be scalars).  Occupancy at the end of calendar year y is
    ``occ(y) = clip((y − completion_year + 1) / r, 0, 1)`` with ``r = max(ramp_years, 1)``:
    a linear ramp whose first year is the completion year, full after r years (r ≤ 1: all
    move in during the completion year).  Movers in year y are
    ``units · persons_per_unit · (occ(y) − occ(y−1))``, spread over ``profile`` (2, A)
    (normalised).  Years before the first step are not counted (those movers are in the
    base population); the sum over all years ≥ completion year is units × ppu.
    """
    zi = np.asarray(zone_index, dtype=np.intp).reshape(-1)
    D = zi.size
    u = np.broadcast_to(np.asarray(units, dtype=float), (D,))
    c = np.broadcast_to(np.asarray(completion_year, dtype=float), (D,))
    ppu = np.broadcast_to(np.asarray(persons_per_unit, dtype=float), (D,))
    r = np.maximum(np.broadcast_to(np.asarray(ramp_years, dtype=float), (D,)), 1.0)
    y = np.asarray(years, dtype=float).reshape(-1, 1)  # (T, 1)
    occ = np.clip((y - c + 1.0) / r, 0.0, 1.0)
    occ_prev = np.clip((y - c) / r, 0.0, 1.0)
    movers = (u * ppu) * (occ - occ_prev)  # (T, D)
    by_zone = np.zeros((n_zones, y.shape[0]))
    np.add.at(by_zone, zi, movers.T)
    return spread_total(by_zone.T, profile)


def tfr_factors(tfr_path: Mapping[int, float], years: Sequence[int] | np.ndarray,
                base_tfr: float) -> np.ndarray:
    """Per-year ASFR multipliers ``TFR(year) / base_tfr``.

    ``TFR(year)`` interpolates linearly between the path's points and is held at the last
    point's value after it; years before the first point (or an empty path) get factor 1,
    i.e. the model's own rates.
    """
    yrs = np.asarray(years, dtype=float)
    if not tfr_path:
        return np.ones(yrs.shape)
    assert base_tfr > 0, "base TFR must be positive"
    pts = sorted((float(k), float(v)) for k, v in tfr_path.items())
    xs = np.array([p[0] for p in pts])
    ys = np.array([p[1] for p in pts])
    factor = np.interp(yrs, xs, ys) / base_tfr
    return np.where(yrs < xs[0], 1.0, factor)
