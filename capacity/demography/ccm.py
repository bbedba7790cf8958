"""Cohort-component projection: the UN Population Division WPP one-year step (docs/projection.md).

Every zone, both sexes and all single-year ages 0..ω (ω = A-1, the open group) are
projected at once; the only Python loop is over years.

One step, for each zone and sex (``m`` = the year's net migrants, ``P`` = start of year),
following ``project_z_by_z`` of the UN's ``ccmppWPP`` R package operation by operation:

* timing ``even``: ``p = P + m/2`` (start half: survives and bears children) and
  ``m_end = m/2``; timing ``end``: ``p = P`` and ``m_end = 0`` (all of ``m`` added last).
* deaths ``D[a] = (1 - sx[a]) * p[a-1]`` for 0 < a < ω and
  ``D[ω] = (1 - sx[ω]) * (p[ω-1] + p[ω])``.
* survivors ``E[a] = p[a-1] - D[a] + m_end[a]`` and
  ``E[ω] = p[ω-1] + p[ω] - D[ω] + m_end[ω]``.
* births ``B = Σ_{0<a<ω} asfr[a] * (pF[a] + EF[a]) / 2`` (``EF`` includes the end half of
  migrants, is not floored); ``B_F = B * (1/(1+srb))``, ``B_M = B - B_F``.
* infants ``D[0] = (1 - sx[0]) * B_sex`` and ``E[0] = B_sex - D[0] + m_end[0]``.
* timing ``end``: ``E += m``.
* negative ``E`` are set to 0 and recorded in :attr:`Projection.floored`.

Differences from the UN code (docs/projection.md wins): negatives are floored to 0 (the R
``project_z_by_z`` sets them to 0.0005, the package's C++ version sets values < 0.0005 to 0)
and every floored cell is reported.  Survivors are computed as ``p − (1−sx)·p`` as the UN
code does (algebraically ``sx·p``), so results agree with it to rounding; only the order of
the births sum over ages differs.  ``migration`` reports both halves of the year's net
migrants (the full ``Σ_a m``); floored amounts are on top of it, so per zone, sex and step
``ΣP(t+1) = ΣP(t) + births − deaths + migration + Σ(−value) over floored cells``
(:meth:`Projection.floor_amounts`).

Optional rate-based outflow (``out_rates`` = o, per year; an extension, not in the UN
code): ``net_migration`` is then the inflow ``I`` in counts and out-migrants are a share of
the resident population, so that a shrinking cohort loses proportionally fewer people.

* timing ``even``: half the year's exits leave at the start from the start-of-year
  population ``P`` and half at the end from the survivors ``E*`` (after survival, before
  the end half), both of the same age a:  ``p = P + I/2 − (o/2)·P`` and
  ``E = E* + I/2 − (o/2)·E*``, so the year's net migrants at age a are
  ``I[a] − o[a]·(P[a] + E*[a])/2`` (exposure = mean of start and end population at age a,
  as for births).  Newborns: ``E*[0] = B_sex − D[0]``.
* timing ``end``: ``E = E* + I − o·E*`` (exits are a share of the survivors; births use the
  population before migration, as in the UN ``end`` step).

With ``I ≥ 0`` and ``0 ≤ o ≤ 1`` nothing is ever floored.  ``migration`` then reports the
realised net migration ``Σ_a (I − exits)`` of each step.  Without ``out_rates`` the
computation is operation for operation the UN step above.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

__all__ = ["Projection", "project"]

FloorRecord = tuple[int, int, int, int, float]


@dataclass
class Projection:
    """Result of :func:`project` (sex index 0 = F, 1 = M)."""

    population: np.ndarray  # (T+1, Z, 2, A): start, then end of each step
    births: np.ndarray  # (T, Z, 2): births in each step by sex of child (before infant deaths)
    deaths: np.ndarray  # (T, Z, 2): deaths in each step, all ages including infants
    migration: np.ndarray  # (T, Z, 2): net migrants added in each step
    floored: list[FloorRecord] = field(default_factory=list)
    # (step, zone, sex, age, value before flooring) for every negative end-of-year count

    def floor_amounts(self) -> np.ndarray:
        """(T, Z, 2) amount added by flooring (= −Σ negative values) in each step."""
        T, Z = self.births.shape[:2]
        out = np.zeros((T, Z, 2))
        if self.floored:
            rec = np.array(self.floored, dtype=float)
            idx = rec[:, :3].astype(np.intp)
            np.add.at(out, (idx[:, 0], idx[:, 1], idx[:, 2]), -rec[:, 4])
        return out


def project(
    pop0: np.ndarray,
    sx: np.ndarray,
    asfr: np.ndarray,
    net_migration: np.ndarray,
    *,
    srb: float = 1.06,
    timing: Literal["even", "end"] = "even",
    out_rates: np.ndarray | None = None,
) -> Projection:
    """Project ``pop0`` (Z, 2, A) for T one-year steps.

    ``sx``: survival ratios (UN convention), shape (2, A), (Z, 2, A) or (T, Z, 2, A), any
    shape broadcastable to those; ``asfr``: (T, Z, A) births per woman per year (Z may be
    1); ``net_migration``: (T, Z, 2, A) annual net migrants (Z may be 1), may be negative;
    ``timing``: ``"even"`` (half at start, half at end) or ``"end"``;
    ``out_rates``: optional annual out-migration rates, shaped like ``sx`` ((2, A),
    (Z, 2, A) or (T, Z, 2, A), Z and T may be 1): ``net_migration`` is then the inflow in
    counts and exits are ``out_rates`` × the resident population (see module doc).
    """
    if timing not in ("even", "end"):
        raise ValueError(f"timing must be 'even' or 'end', not {timing!r}")
    pop0 = np.asarray(pop0, dtype=float)
    sx = np.asarray(sx, dtype=float)
    asfr = np.asarray(asfr, dtype=float)
    mig = np.asarray(net_migration, dtype=float)
    assert pop0.ndim == 3 and pop0.shape[1] == 2, f"pop0 must be (Z, 2, A), got {pop0.shape}"
    Z, _, A = pop0.shape
    assert A >= 3, "need at least ages 0, 1 and an open group"
    assert asfr.ndim == 3 and asfr.shape[2] == A and asfr.shape[1] in (1, Z), asfr.shape
    assert mig.ndim == 4 and mig.shape[1] in (1, Z) and mig.shape[2:] == (2, A), mig.shape
    T = mig.shape[0]
    assert asfr.shape[0] == T, f"asfr has {asfr.shape[0]} steps, net_migration {T}"
    assert 1 <= sx.ndim <= 4 and sx.shape[-1] == A, sx.shape
    sx_by_step = sx.ndim == 4
    if sx_by_step:
        assert sx.shape[0] in (1, T), sx.shape
    np.broadcast_shapes(sx.shape[-3:] if sx.ndim >= 3 else sx.shape, (Z, 2, A))
    rates = None if out_rates is None else np.asarray(out_rates, dtype=float)
    if rates is not None:
        assert 1 <= rates.ndim <= 4 and rates.shape[-1] == A, rates.shape
        assert rates.ndim < 4 or rates.shape[0] in (1, T), rates.shape
        np.broadcast_shapes(rates.shape[-3:] if rates.ndim >= 3 else rates.shape, (Z, 2, A))
        assert np.isfinite(rates).all(), "out_rates must be finite"
    w = A - 1  # ω
    f_share = 1.0 / (1.0 + srb)
    even = timing == "even"

    population = np.empty((T + 1, Z, 2, A))
    population[0] = pop0
    births = np.empty((T, Z, 2))
    deaths = np.empty((T, Z, 2))
    if rates is None:
        migration = np.ascontiguousarray(np.broadcast_to(mig.sum(axis=-1), (T, Z, 2)))
    else:
        migration = np.empty((T, Z, 2))
        oh = np.empty((Z, 2, A))  # o/2 (even) or o (end) in the current step
        net = np.empty((Z, 2, A))  # start half of net migrants (even) / all of them (end)
    floored: list[FloorRecord] = []

    # Work on flat contiguous buffers: "age a-1 -> age a" is a shift by one along the
    # flattened (Z, 2, A) array.  The shift wraps age ω of one row into age 0 of the next;
    # ages 0 and ω are then overwritten with their own formulas.
    q = np.empty((Z, 2, A))  # 1 - sx
    if not sx_by_step:
        np.subtract(1.0, sx, out=q)
    d = np.empty((Z, 2, A))  # deaths by age
    p = np.empty((Z, 2, A))  # start-of-year population incl. the start half of migrants
    half = np.empty((Z, 2, A)) if even else None
    f_sum = np.empty((Z, w - 1))
    qf, df, pf = q.reshape(-1), d.reshape(-1), p.reshape(-1)

    for t in range(T):
        if sx_by_step:
            np.subtract(1.0, sx[t if sx.shape[0] > 1 else 0], out=q)
        m = mig[t]
        start = population[t]
        end = population[t + 1]
        ef = end.reshape(-1)
        if rates is not None:
            r = rates[t if rates.shape[0] > 1 else 0] if rates.ndim == 4 else rates
            np.multiply(r, 0.5 if even else 1.0, out=oh)
        if even:
            np.multiply(m, 0.5, out=half)  # NMx/2: start half and end half
            if rates is None:
                np.add(start, half, out=p)
            else:  # start half of net migrants: I/2 − (o/2)·P
                np.subtract(half, oh * start, out=net)
                np.add(start, net, out=p)
        else:
            p[...] = start
        # deaths and survivors at ages 1..ω-1 (D = (1-sx)·p[a-1], E = p[a-1] - D) ...
        np.multiply(qf[1:], pf[:-1], out=df[1:])
        np.subtract(pf[:-1], df[1:], out=ef[1:])
        # ... and the open group, from ages ω-1 and ω
        top = p[..., w - 1] + p[..., w]
        d[..., w] = q[..., w] * top
        end[..., w] = top - d[..., w]
        if even and rates is None:
            ef += half.reshape(-1)  # end half (age 0 is overwritten below)
        elif even:  # end half I/2 − (o/2)·E* (age 0 is overwritten below)
            end_half = half - oh * end
            end += end_half
            migration[t] = net.sum(axis=-1) + end_half[..., 1:].sum(axis=-1)
        # births from the mean of start and (unfloored) end female population
        np.add(p[:, 0, 1:w], end[:, 0, 1:w], out=f_sum)
        np.multiply(f_sum, asfr[t, :, 1:w], out=f_sum)
        b_tot = f_sum.sum(axis=-1) * 0.5
        b_f = b_tot * f_share
        b = births[t]
        b[:, 0] = b_f
        b[:, 1] = b_tot - b_f
        d[..., 0] = q[..., 0] * b
        end[..., 0] = b - d[..., 0]
        if even and rates is None:
            end[..., 0] += half[..., 0]
        elif even:
            h0 = half[..., 0] - oh[..., 0] * end[..., 0]
            end[..., 0] += h0
            migration[t] += h0
        elif rates is None:
            end += m
        else:  # all at the end: I − o·E*
            np.subtract(m, oh * end, out=net)
            end += net
            net.sum(axis=-1, out=migration[t])
        d.sum(axis=-1, out=deaths[t])
        neg = ef < 0.0
        if neg.any():
            idx = np.flatnonzero(neg)
            vals = ef[idx]
            ef[idx] = 0.0
            zi, si, ai = np.unravel_index(idx, (Z, 2, A))
            floored.extend(zip([t] * idx.size, zi.tolist(), si.tolist(), ai.tolist(),
                               vals.tolist()))
    return Projection(population, births, deaths, migration, floored)
