r"""Census cohort-residual migration: the constant annual net migration (sex × single age)
that carries one census into the next under exactly the projection of :func:`ccm.project`.

Method (docs/projection.md).  Let ``P1`` be the first census graduated to single ages
(:meth:`Census.to_single`), ``n = year2 − year1`` one-year steps, ``m`` (2, A) the unknown
annual net migrants, the same every year.  Each step of ``ccm.project`` is linear in the
start population and the migrants (births are linear in the female population), so the
projected second census is affine in ``m``::

    P2(m) = P2(0) + K m,     K[:, j] = P2(e_j) − P2(0)  (projection of a unit migrant j)

``P2(0)`` and the 2A columns of ``K`` come from one call of ``ccm.project`` with 2A + 1
"zones" (the same survival, fertility, timing and optional ``out_rates``).  Births are
either given by year (``births``; the projection is then run with zero fertility and each
year's births, ``B_sex − (1 − sx_0)·B_sex`` newborn survivors, are aged on to the second
census) or made by ``asfr`` inside the projection (then births to migrants are counted too).
With ``C`` the (2G, 2A) grouping of the second census, ``m`` solves ``C K m = r`` with
``r = census2 − C P2(0)``:

* single ages with the same open age as the model: ``C = I``, ``K`` is triangular-like and
  invertible, and ``m = K⁻¹ r`` is exact (projecting ``P1`` with ``m`` returns census 2);
* age groups: ``2G`` equations for ``2A`` unknowns, graduated with a second-difference
  (per sex, over single ages) smoothness penalty ``D`` (below).

Smoothing (``smooth``).  Ages ``n`` apart are linked by one cohort, so patterns that repeat
every n years of age are nearly invisible to two censuses: exact fits of real data
oscillate.  ``smooth="auto"`` (default) fits single ages exactly and age groups by
penalised least squares, ``min Σ_g ((C K m − r)_g / σ_g)² + λ ‖D m‖²`` with
``σ_g = √max(census2_g, 1)`` (Poisson-like) and λ chosen by generalised cross-validation
(GCV: a grid over 10⁻⁸..10⁸, then refined); ``smooth=None`` asks for an exact fit (for
groups the smoothest exact fit, in the null space of ``C K``), a number sets λ,
``"gcv"`` forces GCV.

Signs (``nonneg``).  The cohort residual of census-2 group g is
``R_g = census2_g − C P2(0)_g`` (what migration added to the cohorts now in g).  Because a
non-negative ``m`` only ever adds people (``C K ≥ 0``), a group with ``R_g < 0`` cannot be
reached without negatives.  ``nonneg="auto"`` (default) keeps ``m_x ≥ 0`` at every age x
whose migrants only reach groups (``(C K)_{g,x} > 0``) with ``R_g ≥ 0``, leaving the others
free; ``True`` keeps every age ≥ 0 and raises :class:`InputError` if any ``R_g < 0`` (or,
for an exact fit, when the groups cannot be met); ``False`` puts no bound.  Bounded fits
are solved exactly: ``scipy.optimize.lsq_linear`` (BVLS) for penalised fits, a primal
active-set method started from a ``scipy.optimize.linprog`` feasible point for exact ones.

With ``out_rates`` the solved ``m`` is the inflow (counts) that, together with those exit
rates, carries census 1 into census 2.  Single-age data with age heaping give a noisy exact
``m``: pass ``smooth="gcv"`` or regroup them (:meth:`Census.regroup`).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from capacity.demography.ccm import project
from capacity.demography.census import SEXES, Census, read_census
from capacity.demography.graduate import bounded_exact, gcv_lambda, penalised, smoothest
from capacity.errors import InputError

__all__ = ["ResidualFit", "cohort_residual", "residual_migration", "spread_to_zones"]

Timing = Literal["even", "end"]


@dataclass
class ResidualFit:
    """Result of :func:`cohort_residual` (sex index 0 = F, 1 = M)."""

    net: np.ndarray  # (2, A) annual net migrants (inflow counts when out_rates was given)
    pop1: np.ndarray  # (2, A) first census in single ages: the projection's start
    projected: np.ndarray  # (2, A) census-2 date population projected with ``net``
    groups: pd.DataFrame  # sex, age_group, age_from, age_to, observed, no_migration,
    #                       residual (R_g = observed − no_migration), fitted
    bounded: np.ndarray  # (2, A) bool: ages held ≥ 0
    lam: float  # smoothing λ used (0: exact fit)
    year1: int
    year2: int
    kind: str  # "net" or "inflow" (with out_rates)

    @property
    def table(self) -> pd.DataFrame:
        """(sex, age, net): a district migration schedule, annual mean."""
        A = self.net.shape[1]
        return pd.DataFrame({"sex": np.repeat(SEXES, A), "age": np.tile(np.arange(A), 2),
                             "net": self.net.reshape(-1)})


def cohort_residual(census1: pd.DataFrame | Census, census2: pd.DataFrame | Census,
                    sx: np.ndarray, *, births: Mapping[int, float] | pd.Series |
                    pd.DataFrame | None = None, asfr: np.ndarray | None = None,
                    srb: float = 1.06, timing: Timing = "even",
                    out_rates: np.ndarray | None = None,
                    nonneg: bool | Literal["auto"] = "auto",
                    smooth: float | Literal["auto", "gcv"] | None = "auto",
                    year1: int | None = None,
                    year2: int | None = None, files: tuple[str, str] = ("census1", "census2"),
                    tol: float = 1e-6) -> ResidualFit:
    """Annual net migration by sex × single age between two censuses (module doc).

    ``sx``: (2, A) or (n, 2, A) UN-convention survival ratios (A = ω + 1 sets the model's
    ages); ``births``: total births (split by ``srb``) per step, ``{year: births}`` for the
    steps ending in ``year1+1 .. year2`` (or a DataFrame ``year, births[, sex]``), or
    ``asfr``: (A,) or (n, A) — exactly one of the two; ``out_rates`` as in ``ccm.project``;
    ``nonneg``, ``smooth``: module doc; ``tol``: allowed miss of each census-2 group in an
    exact fit (and of a negative ``R_g`` under ``nonneg=True``), relative to the group.
    """
    c1 = read_census(census1, file=files[0], year=year1)
    c2 = read_census(census2, file=files[1], year=year2)
    for c in (c1, c2):
        if c.year is None:
            raise InputError.single(c.file, "census year unknown", column="year",
                                    expected="a year column or year1/year2")
    if c2.year <= c1.year:
        raise InputError.single(c2.file, f"census year {c2.year} is not after {c1.year}",
                                column="year", expected=f"a year > {c1.year}")
    if c1.groups != c2.groups:
        raise InputError.single(c2.file, f"age groups {c2.groups.labels} differ from "
                                f"{c1.file}'s", column="age", expected=str(c1.groups.labels))
    n, sx = c2.year - c1.year, np.asarray(sx, dtype=float)
    if sx.ndim not in (2, 3) or sx.shape[-2] != 2 or (sx.ndim == 3 and sx.shape[0] != n):
        raise InputError.single("mortality", f"sx has shape {sx.shape} for {n} steps "
                                f"{c1.year}→{c2.year}", column="sx",
                                expected=f"(2, A) or ({n}, 2, A)")
    A = sx.shape[-1]
    c1, c2 = c1.conform(A), c2.conform(A)
    sx_t = np.broadcast_to(sx, (n, 2, A))
    pop1 = c1.to_single(sx_t[0])
    b = _births(births, asfr, n, c1.year, A, srb)
    fert = np.zeros((n, 1, A)) if b is not None else \
        np.broadcast_to(np.asarray(asfr, float), (n, A))[:, None, :]
    rates = None
    if out_rates is not None:
        rates = np.asarray(out_rates, dtype=float)
        if rates.ndim == 4 and rates.shape[1] == 1:
            rates = rates[:, 0]
        if rates.shape not in ((2, A), (n, 2, A)) or not np.isfinite(rates).all():
            raise InputError.single("out_rates", f"out_rates have shape {rates.shape}",
                                    expected=f"(2, {A}) or ({n}, 2, {A}), finite")
        rates = np.broadcast_to(rates, (n, 2, A))[:, None]  # (n, 1, 2, A)

    # P2(0) and K from one projection of 2A + 1 zones (zone 0: census 1, zone 1+j: unit j)
    pop0 = np.zeros((2 * A + 1, 2, A))
    pop0[0] = pop1
    mig = np.zeros((1, 2 * A + 1, 2 * A))
    mig[0, 1:] = np.eye(2 * A)
    mig = np.broadcast_to(mig.reshape(1, 2 * A + 1, 2, A), (n, 2 * A + 1, 2, A))
    pr = project(pop0, sx_t[:, None], fert, mig, srb=srb, timing=timing, out_rates=rates)
    if pr.floored:
        raise InputError.single("out_rates", "the projection floored negative counts",
                                expected="rates with a non-negative resident population")
    base = pr.population[n, 0].copy()
    K = pr.population[n, 1:].reshape(2 * A, 2 * A).T
    if b is not None:
        base += _aged_births(b, sx_t, rates, timing, srb)

    M = c2.groups.matrix(A)
    C = np.kron(np.eye(2), M)  # (2G, 2A)
    obs = c2.counts.reshape(-1)
    r = obs - C @ base.reshape(-1)
    CK = C @ K
    R = r.copy()  # cohort residuals
    rel = R / np.maximum(np.abs(obs), 1.0)
    reach = CK > 1e-12 * np.abs(CK).max()
    if nonneg is True:
        if (rel < -tol).any():
            raise _negative_error(c2, R, rel < -tol)
        lb = np.zeros(2 * A)
    elif nonneg == "auto":
        lb = np.where(reach[rel < -tol].any(axis=0), -np.inf, 0.0)
    elif nonneg is False:
        lb = np.full(2 * A, -np.inf)
    else:
        raise ValueError(f"nonneg must be True, False or 'auto', not {nonneg!r}")
    square = c2.groups.single and c2.groups.open_age == A - 1
    if smooth == "auto":
        smooth = None if square else "gcv"
    if smooth is None:
        lam = 0.0
    elif smooth == "gcv":
        lam = gcv_lambda(CK, r, obs, A)
    elif isinstance(smooth, (int, float)) and smooth >= 0:
        lam = float(smooth)
    else:
        raise ValueError(f"smooth must be 'auto', 'gcv', None or a number ≥ 0, not {smooth!r}")
    if lam > 0:
        m = penalised(CK, r, obs, A, lam, lb)
    else:
        m = np.linalg.solve(CK, r) if square else smoothest(CK, r, A)
        if (m < lb - 1e-9 * max(1.0, float(np.abs(m).max()))).any():
            m = None if square else bounded_exact(CK, r, A, lb)
            if m is None and nonneg is True:
                raise _negative_error(c2, R, np.zeros(R.shape, bool))
            if m is None:  # "auto": keep the exact fit where no bounded one exists
                lb = np.full(2 * A, -np.inf)
                m = np.linalg.solve(CK, r) if square else smoothest(CK, r, A)
        m = np.maximum(m, lb)
        miss = np.abs(CK @ m - r) / np.maximum(np.abs(obs), 1.0)
        if (miss > tol).any():
            raise InputError.single(c2.file, f"exact fit misses census 2 by up to "
                                    f"{miss.max():.2g} (relative)", column="population",
                                    expected="a smoothing parameter (smooth='gcv')")
    projected = base + (K @ m).reshape(2, A)
    groups = pd.DataFrame({
        "sex": np.repeat(SEXES, c2.groups.n), "age_group": c2.groups.labels * 2,
        "age_from": np.tile(c2.groups.starts, 2),
        "age_to": pd.array(c2.groups.ends * 2, dtype="Int64"),
        "observed": obs, "no_migration": C @ base.reshape(-1), "residual": R,
        "fitted": C @ projected.reshape(-1)})
    return ResidualFit(m.reshape(2, A), pop1, projected, groups,
                       np.isfinite(lb).reshape(2, A), lam, c1.year, c2.year,
                       "net" if rates is None else "inflow")


def residual_migration(census1: pd.DataFrame | Census, census2: pd.DataFrame | Census,
                       sx: np.ndarray, **kwargs) -> pd.DataFrame:
    """(sex, age, net) annual net migration between two censuses: :func:`cohort_residual`."""
    return cohort_residual(census1, census2, sx, **kwargs).table


def spread_to_zones(table: pd.DataFrame,
                    shares: Mapping[str, float] | pd.Series | pd.DataFrame) -> pd.DataFrame:
    """Model ``migration.csv`` rows (zone_id, sex, age, net): the district schedule
    ``table`` (sex, age, net) times each zone's share (normalised to sum 1).  ``shares``:
    ``{zone_id: share}``, a Series indexed by zone_id, or a DataFrame (zone_id, share)."""
    if isinstance(shares, pd.DataFrame):
        s = shares.set_index("zone_id")["share"]
    else:
        s = pd.Series(shares, dtype=float)
    s = pd.to_numeric(s, errors="coerce")
    if s.empty or s.isna().any() or (s < 0).any() or s.sum() <= 0 or \
            s.index.duplicated().any():
        raise InputError.single("shares", "zone shares must be unique, ≥ 0, with a positive "
                                "sum", column="share", expected="one share ≥ 0 per zone")
    s = s / s.sum()
    t = table[["sex", "age", "net"]].reset_index(drop=True)
    out = pd.DataFrame({"zone_id": np.repeat(s.index.astype(str).to_numpy(), len(t)),
                        "sex": np.tile(t["sex"].to_numpy(), len(s)),
                        "age": np.tile(t["age"].to_numpy(), len(s)),
                        "net": np.outer(s.to_numpy(), t["net"].to_numpy()).reshape(-1)})
    return out


# --------------------------------------------------------------------------------------
def _births(births, asfr, n: int, year1: int, A: int, srb: float) -> np.ndarray | None:
    """(n, 2) births by sex per step, or None when fertility comes from ``asfr``."""
    if (births is None) == (asfr is None):
        raise InputError.single("births", "give exactly one of births and asfr",
                                expected="births by year or an asfr schedule")
    want = list(range(year1 + 1, year1 + n + 1))
    if asfr is not None:
        a = np.asarray(asfr, dtype=float)
        if a.shape not in ((A,), (n, A)) or not np.isfinite(a).all() or (a < 0).any():
            raise InputError.single("fertility", f"asfr has shape {a.shape}", column="asfr",
                                    expected=f"({A},) or ({n}, {A}), finite, ≥ 0")
        return None
    if isinstance(births, pd.DataFrame):
        col = "births" if "births" in births.columns else "value"
        if "sex" in births.columns:
            piv = births.pivot_table(index="year", columns="sex", values=col, aggfunc="sum")
            piv.columns = [str(c).upper()[:1] for c in piv.columns]
            if set(piv.columns) != {"F", "M"}:
                raise InputError.single("births", "births by sex need F and M",
                                        column="sex", expected="F and M")
            by_sex = piv[["F", "M"]]
        else:
            by_sex = births.groupby("year")[col].sum()
    else:
        by_sex = pd.Series(births, dtype=float)
    years = sorted(int(y) for y in by_sex.index)
    if years != want:
        raise InputError.single("births", f"births for years {years}", column="year",
                                expected=f"one value for each of {want[0]}..{want[-1]} "
                                f"(the steps from {year1} to {want[-1]})")
    vals = by_sex.sort_index().to_numpy(float)
    if not np.isfinite(vals).all() or (vals < 0).any():
        raise InputError.single("births", "births missing or negative", column="births",
                                expected="numbers ≥ 0")
    if vals.ndim == 2:
        return vals
    f = vals * (1.0 / (1.0 + srb))  # the split of ccm.project
    return np.stack([f, vals - f], axis=1)


def _aged_births(b: np.ndarray, sx: np.ndarray, rates: np.ndarray | None, timing: Timing,
                 srb: float) -> np.ndarray:
    """Census-2 survivors of each step's given births (n, 2), aged on by ``ccm.project``;
    ``rates``: None or (n, 1, 2, A)."""
    n, _, A = sx.shape
    out = np.zeros((2, A))
    for t in range(n):
        e0 = b[t] - (1.0 - sx[t, :, 0]) * b[t]  # ccm: E[0] = B − D[0]
        if rates is not None:  # exits of newborns in their birth year, as in ccm
            e0 = e0 - (rates[t, 0, :, 0] * (0.5 if timing == "even" else 1.0)) * e0
        if t == n - 1:
            out[:, 0] += e0
            continue
        pop0 = np.zeros((1, 2, A))
        pop0[0, :, 0] = e0
        pr = project(pop0, sx[t + 1:, None], np.zeros((n - 1 - t, 1, A)),
                     np.zeros((n - 1 - t, 1, 2, A)), srb=srb, timing=timing,
                     out_rates=None if rates is None else rates[t + 1:])
        out += pr.population[-1, 0]
    return out


def _negative_error(c2: Census, R: np.ndarray, bad: np.ndarray) -> InputError:
    idx = np.flatnonzero(bad)
    what = ", ".join(f"{SEXES[i // c2.groups.n]} {c2.groups.labels[i % c2.groups.n]} "
                     f"({R[i]:.4g})" for i in idx[:6])
    msg = (f"net migration cannot be graduated without negatives: cohorts lost people by "
           f"migration in {what}" if what else
           "net migration cannot be graduated without negatives: no non-negative schedule "
           "meets the census-2 groups")
    return InputError.single(c2.file, msg, column="population",
                             expected="nonneg=False or 'auto' to allow net out-migration")

