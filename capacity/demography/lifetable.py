r"""Single-year life tables and their conversion to UN-convention survival ratios ``sx``.

Arrays are ``(..., 2, A)``: the sex axis is second to last (row ``sex_index_male`` is male,
the other female; default 0 = F, 1 = M) and ages 0..ω run along the last axis, ω = A-1
being the open group.  Radix ``l0 = 1``.

Life table from ``mx`` (the WPP / DemoTools ``lt_single_mx`` conventions):

* ``a0``: Andreev–Kingkade (2015) rule, the one WPP uses (``a0_rule="ak"``), from m0:
  males ``0.14929 − 1.99545 m0`` (m0 < 0.0230), ``0.02832 + 3.26021 m0`` (< 0.08307),
  else ``0.29915``; females ``0.14903 − 2.05527 m0`` (m0 < 0.01724),
  ``0.04667 + 3.88089 m0`` (< 0.06891), else ``0.31411``.
  ``a0_rule="cd"``: Coale–Demeny as tabulated by Preston, Heuveline & Guillot (2001,
  Table 3.3): males ``0.045 + 2.684 m0`` (m0 < 0.107) else 0.330; females
  ``0.053 + 2.800 m0`` else 0.350.
* ``ax = 0.5`` for 0 < x < ω.
* ``qx = mx / (1 + (1 − ax) mx)`` (x < ω), capped at 1 (mx ≥ 2 would exceed it),
  ``qω = 1``;  ``lx+1 = lx (1 − qx)``;
  ``dx = lx qx``; ``Lx = lx+1 + ax dx`` (x < ω); open group ``Lω = lω / mω``;
  ``Tx = Σ_{y≥x} Ly``; ``ex = Tx / lx``.
* ``ax_rule="constant"`` instead assumes a constant hazard within each year:
  ``qx = 1 − exp(−mx)``, ``ax = 1/mx − exp(−mx)/(1 − exp(−mx))`` for every x < ω
  (the a0 rule is then not used); then sx[a] = exp(−m) exactly for constant m.

Life table from ``qx``: a0 from q0 (Andreev–Kingkade: males ``0.1493 − 2.0367 q0``
(q0 < 0.0226), ``0.0244 + 3.4994 q0`` (< 0.0785), else 0.2991; females
``0.1490 − 2.0867 q0`` (q0 < 0.0170), ``0.0438 + 4.1075 q0`` (< 0.0658), else 0.3141;
Coale–Demeny: males ``0.0425 + 2.875 q0`` (q0 < 0.1) else 0.33, females ``0.05 + 3.0 q0``
else 0.35), ``ax = 0.5`` otherwise, ``mx = qx / (1 − (1 − ax) qx)``.  The open group's
rate is not identified by ``qω = 1``; we use ``mω = −ln(1 − qω)`` when the given qω < 1
(a one-year probability read as a constant hazard) and otherwise ``mω = mω−1`` (the last
closed age's rate carried on), then ``Lω = lω / mω``.

Survival ratios (docs/projection.md): ``sx[0] = L0/l0``, ``sx[a] = La/La−1`` (0 < a < ω),
``sx[ω] = Tω/Tω−1``; a ratio 0/0 (nobody left alive) is 0.  With ``open_age`` below
the table's last age, the table is built on all its ages and closed at ``open_age``
through ``Tω``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

__all__ = [
    "LifeTable", "life_table", "sx_from_life_table", "sx_from_mx", "sx_from_qx",
    "sx_from_Lx", "life_expectancy", "a0_from_m0", "a0_from_q0", "life_table_from_hazard",
]

A0Rule = Literal["ak", "cd"]
AxRule = Literal["uniform", "constant"]


@dataclass
class LifeTable:
    """Life-table columns, each shaped like the input ``(..., 2, A)``; radix 1."""

    mx: np.ndarray
    qx: np.ndarray
    ax: np.ndarray
    lx: np.ndarray
    dx: np.ndarray
    Lx: np.ndarray
    Tx: np.ndarray
    ex: np.ndarray

    @property
    def e0(self) -> np.ndarray:
        return self.ex[..., 0]

    def to_frame(self, sex_labels: tuple[str, str] = ("F", "M")) -> pd.DataFrame:
        """Long table (sex, age, mx, qx, ax, lx, dx, Lx, Tx, ex) for a (2, A) table."""
        assert self.mx.ndim == 2 and self.mx.shape[0] == 2
        A = self.mx.shape[1]
        cols = {"sex": np.repeat(list(sex_labels), A), "age": np.tile(np.arange(A), 2)}
        for name in ("mx", "qx", "ax", "lx", "dx", "Lx", "Tx", "ex"):
            cols[name] = getattr(self, name).reshape(-1)
        return pd.DataFrame(cols)


def _male_mask(shape: tuple[int, ...], sex_index_male: int) -> np.ndarray:
    assert len(shape) >= 2 and shape[-2] == 2, f"expected (..., 2, A), got {shape}"
    return np.arange(2) == sex_index_male  # broadcasts against (..., 2)


def a0_from_m0(m0: np.ndarray, male: np.ndarray, rule: A0Rule = "ak") -> np.ndarray:
    """Average years lived in the first year by infants who die, from m0 (see module doc)."""
    m0 = np.asarray(m0, dtype=float)
    if rule == "ak":
        am = np.where(m0 < 0.0230, 0.14929 - 1.99545 * m0,
                      np.where(m0 < 0.08307, 0.02832 + 3.26021 * m0, 0.29915))
        af = np.where(m0 < 0.01724, 0.14903 - 2.05527 * m0,
                      np.where(m0 < 0.06891, 0.04667 + 3.88089 * m0, 0.31411))
    elif rule == "cd":
        am = np.where(m0 < 0.107, 0.045 + 2.684 * m0, 0.330)
        af = np.where(m0 < 0.107, 0.053 + 2.800 * m0, 0.350)
    else:
        raise ValueError(f"unknown a0 rule {rule!r}")
    return np.where(male, am, af)


def a0_from_q0(q0: np.ndarray, male: np.ndarray, rule: A0Rule = "ak") -> np.ndarray:
    """a0 from q0 (see module doc)."""
    q0 = np.asarray(q0, dtype=float)
    if rule == "ak":
        am = np.where(q0 < 0.0226, 0.1493 - 2.0367 * q0,
                      np.where(q0 < 0.0785, 0.0244 + 3.4994 * q0, 0.2991))
        af = np.where(q0 < 0.0170, 0.1490 - 2.0867 * q0,
                      np.where(q0 < 0.0658, 0.0438 + 4.1075 * q0, 0.3141))
    elif rule == "cd":
        am = np.where(q0 < 0.1, 0.0425 + 2.875 * q0, 0.33)
        af = np.where(q0 < 0.1, 0.05 + 3.0 * q0, 0.35)
    else:
        raise ValueError(f"unknown a0 rule {rule!r}")
    return np.where(male, am, af)


def _constant_hazard_ax(m: np.ndarray) -> np.ndarray:
    small = m < 1e-6
    ms = np.where(small, 1.0, m)
    return np.where(small, 0.5 - m / 12.0, 1.0 / ms - np.exp(-ms) / -np.expm1(-ms))


def _complete(mx: np.ndarray, qx: np.ndarray, ax: np.ndarray) -> LifeTable:
    A = mx.shape[-1]
    lx = np.empty_like(qx)
    lx[..., 0] = 1.0
    lx[..., 1:] = np.cumprod(1.0 - qx[..., :-1], axis=-1)
    dx = lx * qx
    Lx = np.empty_like(qx)
    Lx[..., :-1] = lx[..., 1:] + ax[..., :-1] * dx[..., :-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        Lx[..., -1] = lx[..., -1] / mx[..., -1]
        Tx = np.cumsum(Lx[..., ::-1], axis=-1)[..., ::-1]
        ex = Tx / lx
    assert A >= 2
    return LifeTable(mx, qx, ax, lx, dx, Lx, Tx, ex)


def life_table(mx: np.ndarray | None = None, *, qx: np.ndarray | None = None,
               sex_index_male: int = 1, a0_rule: A0Rule = "ak",
               ax_rule: AxRule = "uniform") -> LifeTable:
    """Single-year life table from ``mx`` or ``qx`` shaped (..., 2, A); see module doc."""
    if (mx is None) == (qx is None):
        raise ValueError("give exactly one of mx and qx")
    if ax_rule not in ("uniform", "constant"):
        raise ValueError(f"unknown ax rule {ax_rule!r}")
    src = np.asarray(mx if mx is not None else qx, dtype=float)
    male = _male_mask(src.shape, sex_index_male)
    if mx is not None:
        m = src
        if ax_rule == "constant":
            ax = _constant_hazard_ax(m)
            q = -np.expm1(-m)
        else:
            ax = np.full_like(m, 0.5)
            ax[..., 0] = a0_from_m0(m[..., 0], male, a0_rule)
            q = np.minimum(m / (1.0 + (1.0 - ax) * m), 1.0)
        q[..., -1] = 1.0
    else:
        q_in = src
        m = np.empty_like(q_in)
        q_top = q_in[..., -1]
        if ax_rule == "constant":
            with np.errstate(divide="ignore"):
                m[..., :-1] = -np.log1p(-q_in[..., :-1])
        else:
            ax = np.full_like(q_in, 0.5)
            ax[..., 0] = a0_from_q0(q_in[..., 0], male, a0_rule)
            m[..., :-1] = q_in[..., :-1] / (1.0 - (1.0 - ax[..., :-1]) * q_in[..., :-1])
        with np.errstate(divide="ignore", invalid="ignore"):
            m[..., -1] = np.where(q_top < 1.0, -np.log1p(-np.minimum(q_top, 1.0)), m[..., -2])
        if ax_rule == "constant":
            ax = _constant_hazard_ax(m)
        q = q_in.copy()
        q[..., -1] = 1.0
    return _complete(m, q, ax)


def sx_from_life_table(lt: LifeTable, open_age: int | None = None) -> np.ndarray:
    """UN-convention ``sx`` closed at ``open_age`` (default: the table's last age)."""
    return _sx_from_L_T(lt.Lx, lt.Tx, lt.lx[..., 0], open_age)


def _sx_from_L_T(Lx: np.ndarray, Tx: np.ndarray, l0: np.ndarray | float,
                 open_age: int | None) -> np.ndarray:
    w = Lx.shape[-1] - 1 if open_age is None else int(open_age)
    assert 1 <= w <= Lx.shape[-1] - 1, f"open_age {w} outside the table"
    sx = np.empty(Lx.shape[:-1] + (w + 1,))
    with np.errstate(divide="ignore", invalid="ignore"):
        sx[..., 0] = Lx[..., 0] / l0
        sx[..., 1:w] = Lx[..., 1:w] / Lx[..., 0:w - 1]
        sx[..., w] = Tx[..., w] / Tx[..., w - 1]
    return np.where(np.isnan(sx), 0.0, sx)  # 0/0 where nobody is left alive


def sx_from_mx(mx: np.ndarray, *, sex_index_male: int = 1, open_age: int | None = None,
               a0_rule: A0Rule = "ak", ax_rule: AxRule = "uniform") -> np.ndarray:
    """``sx`` (..., 2, ω+1) from central death rates ``mx`` (..., 2, A)."""
    lt = life_table(mx, sex_index_male=sex_index_male, a0_rule=a0_rule, ax_rule=ax_rule)
    return sx_from_life_table(lt, open_age)


def sx_from_qx(qx: np.ndarray, *, sex_index_male: int = 1, open_age: int | None = None,
               a0_rule: A0Rule = "ak", ax_rule: AxRule = "uniform") -> np.ndarray:
    """``sx`` (..., 2, ω+1) from probabilities of dying ``qx`` (..., 2, A)."""
    lt = life_table(qx=qx, sex_index_male=sex_index_male, a0_rule=a0_rule, ax_rule=ax_rule)
    return sx_from_life_table(lt, open_age)


def sx_from_Lx(Lx: np.ndarray, *, radix: float | None = None,
               open_age: int | None = None) -> np.ndarray:
    """``sx`` from person-years ``Lx`` (..., A); ``Lx[..., -1]`` is the open group's Tω.

    ``sx[0] = L0/l0`` needs the radix ``l0``: when not given it is taken as the power of
    ten just above L0 (``10**ceil(log10(L0))``: 1, 100 000, ...), which is right for any
    table with a power-of-ten radix and q0 < 0.9.  The ratios sx[a > 0] do not depend on it.
    """
    Lx = np.asarray(Lx, dtype=float)
    if radix is None:
        radix = 10.0 ** np.ceil(np.log10(Lx[..., 0]))
        radix = np.where(radix == Lx[..., 0], radix * 10.0, radix)  # L0 < l0 strictly
    Tx = np.cumsum(Lx[..., ::-1], axis=-1)[..., ::-1]
    return _sx_from_L_T(Lx, Tx, radix, open_age)


def life_expectancy(sx: np.ndarray) -> np.ndarray:
    """Life expectancy at birth implied by ``sx`` (..., A): one value per leading index.

    Inverts the definitions with l0 = 1: ``L0 = sx[0]``, ``La = La−1 · sx[a]`` (a < ω),
    ``Tω = sx[ω] · Lω−1 / (1 − sx[ω])``; ``e0 = Σ_{a<ω} La + Tω``.
    """
    sx = np.asarray(sx, dtype=float)
    L = np.cumprod(sx[..., :-1], axis=-1)
    with np.errstate(divide="ignore"):
        t_open = sx[..., -1] * L[..., -1] / (1.0 - sx[..., -1])
    return L.sum(axis=-1) + t_open


def life_table_from_hazard(q0: np.ndarray | float,
                           cumulative_hazard: Callable[[np.ndarray], np.ndarray], *,
                           open_age: int = 100, sex_index_male: int = 1,
                           a0_rule: A0Rule = "ak", nodes: int = 24,
                           tail_years: int = 30) -> LifeTable:
    r"""Single-year life table from the infant mortality ``q0`` and a continuous hazard
    for ages ≥ 1 (a parametric model table: Gompertz, Makeham, Siler, ...).

    ``q0``: probabilities of dying before age 1, shape (..., 2) (the sex axis last, row
    ``sex_index_male`` male); ``cumulative_hazard(t)``: for a 1-D array ``t`` of ages ≥ 1,
    the integrated hazard ``H(t)`` (any antiderivative: only ``H(t) − H(1)`` is used), an
    array of shape (..., 2, len(t)) broadcastable against ``q0[..., None]``.  Radix l0 = 1.

    * survivors: ``l(t) = (1 − q0) · exp(−(H(t) − H(1)))`` for t ≥ 1; ``lx = l(x)``.
    * age 0: ``a0`` from q0 by :func:`a0_from_q0` (``a0_rule``, Andreev–Kingkade by
      default, as :func:`life_table` does for qx input); ``L0 = l1 + a0 · q0``.
    * ``Lx = ∫_x^{x+1} l(t) dt`` for 1 ≤ x < ω by ``nodes``-point Gauss–Legendre
      quadrature on each year; the open group ω = ``open_age`` holds
      ``Lω = Tω = ∫_ω^{ω+tail_years} l(t) dt`` (same quadrature year by year; choose
      ``tail_years`` so that l is negligible beyond).
    * ``qx = 1 − lx+1 / lx`` (qω = 1), ``dx = lx · qx``, ``mx = dx / Lx`` (mω = lω / Tω),
      ``ax = (Lx − lx+1) / dx`` (aω = Tω / lω, a0 as above); Tx, ex as in
      :func:`life_table`.

    :func:`sx_from_life_table` turns the result into UN-convention ``sx``; with it
    ``sx[ω] = Tω / (Lω−1 + Tω)``.
    """
    q0 = np.asarray(q0, dtype=float)
    assert q0.ndim >= 1 and q0.shape[-1] == 2, f"q0 must be (..., 2), got {q0.shape}"
    assert open_age >= 2 and nodes >= 1 and tail_years >= 1
    male = np.arange(2) == sex_index_male
    A = open_age + 1
    xg, wg = np.polynomial.legendre.leggauss(nodes)
    half = 0.5 * (xg + 1.0)                                     # nodes on [0, 1]
    l1 = (1.0 - q0)[..., None]                                  # (..., 2, 1)
    h1 = np.asarray(cumulative_hazard(np.array([1.0])), dtype=float)

    def survivors(t: np.ndarray) -> np.ndarray:
        h = np.asarray(cumulative_hazard(t), dtype=float)
        return l1 * np.exp(-(h - h1))

    def integrals(starts: np.ndarray) -> np.ndarray:
        t = (starts[:, None] + half[None, :]).ravel()
        lt = survivors(t)
        lt = lt.reshape(lt.shape[:-1] + (starts.size, nodes))
        return 0.5 * (lt @ wg)                                  # (..., 2, len(starts))

    shape = np.broadcast_shapes(q0.shape + (1,), h1.shape)[:-1] + (A,)
    lx = np.empty(shape)
    lx[..., 0] = 1.0
    lx[..., 1:] = survivors(np.arange(1, A, dtype=float))
    a0 = a0_from_q0(q0, male, a0_rule)
    Lx = np.empty(shape)
    Lx[..., 0] = lx[..., 1] + a0 * q0
    Lx[..., 1:open_age] = integrals(np.arange(1, open_age, dtype=float))
    Lx[..., open_age] = integrals(open_age + np.arange(tail_years, dtype=float)).sum(axis=-1)
    qx = np.empty(shape)
    qx[..., :-1] = 1.0 - lx[..., 1:] / lx[..., :-1]
    qx[..., -1] = 1.0
    dx = lx * qx
    with np.errstate(divide="ignore", invalid="ignore"):
        mx = dx / Lx
        ax = np.empty(shape)
        ax[..., :-1] = np.where(dx[..., :-1] > 0, (Lx[..., :-1] - lx[..., 1:]) / dx[..., :-1],
                                0.5)
        ax[..., -1] = Lx[..., -1] / lx[..., -1]
        Tx = np.cumsum(Lx[..., ::-1], axis=-1)[..., ::-1]
        ex = Tx / lx
    ax[..., 0] = a0
    return LifeTable(mx, qx, ax, lx, dx, Lx, Tx, ex)
