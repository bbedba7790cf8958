"""Life tables from q0 and a continuous hazard (capacity.demography.life_table_from_hazard)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad

from capacity.demography import life_table_from_hazard
from capacity.demography.lifetable import (
    a0_from_q0,
    life_expectancy,
    life_table,
    sx_from_life_table,
)

MALE = np.array([False, True])
Q0 = np.array([0.0018, 0.0021])  # F, M


def constant(mu):
    """H(t) = mu (t - 1) for both sexes, mu of shape (2,)."""
    mu = np.asarray(mu, float)
    return lambda t: mu[:, None] * (np.asarray(t)[None, :] - 1.0)


def siler(c, a1, b1, a2, b2):
    """Cumulative hazard of mu(t) = c + a1 exp(-b1 (t-1)) + a2 exp(b2 t) since age 1."""
    c, a1, b1, a2, b2 = (np.asarray(v, float)[..., None] for v in (c, a1, b1, a2, b2))

    def H(t):
        t = np.asarray(t, float)
        return (c * (t - 1.0) + a1 / b1 * (1.0 - np.exp(-b1 * (t - 1.0)))
                + a2 / b2 * (np.exp(b2 * t) - np.exp(b2)))
    return H


@pytest.mark.parametrize("mu", [0.001, 0.03, 0.2])
def test_constant_hazard_is_exact(mu):
    """Constant hazard above age 1: sx = exp(-mu) at 1 <= a < omega, Lx in closed form."""
    lt = life_table_from_hazard(Q0, constant([mu, mu]), tail_years=600)
    x = np.arange(101)
    l1 = 1.0 - Q0[:, None]
    np.testing.assert_allclose(lt.lx[:, 1:], l1 * np.exp(-mu * (x[1:] - 1.0)), rtol=1e-13)
    np.testing.assert_allclose(lt.Lx[:, 1:100], lt.lx[:, 1:100] * -np.expm1(-mu) / mu,
                               rtol=1e-12)
    np.testing.assert_allclose(lt.mx[:, 1:100], mu, rtol=1e-10)
    sx = sx_from_life_table(lt)
    np.testing.assert_allclose(sx[:, 2:100], np.exp(-mu), rtol=1e-12)
    # e0 = L0 + integral of l(t) from 1 to omega + tail (closed form)
    a0 = a0_from_q0(Q0, MALE)
    span = 100 + 600 - 1.0
    e0 = (1.0 - Q0) + a0 * Q0 + (1.0 - Q0) * -np.expm1(-mu * span) / mu
    np.testing.assert_allclose(lt.e0, e0, rtol=1e-11)


def test_age_zero_uses_the_engine_a0_rule():
    lt = life_table_from_hazard(Q0, constant([0.01, 0.01]))
    for rule in ("ak", "cd"):
        lt_r = life_table_from_hazard(Q0, constant([0.01, 0.01]), a0_rule=rule)
        a0 = a0_from_q0(Q0, MALE, rule)
        np.testing.assert_allclose(lt_r.ax[:, 0], a0, rtol=1e-15)
        np.testing.assert_allclose(lt_r.Lx[:, 0], 1.0 - Q0 + a0 * Q0, rtol=1e-15)
    np.testing.assert_allclose(lt.qx[:, 0], Q0, rtol=1e-12)
    # the same a0 as the engine's table from qx
    qx = np.full((2, 101), 0.01)
    qx[:, 0] = Q0
    np.testing.assert_allclose(life_table(qx=qx).ax[:, 0], lt.ax[:, 0], rtol=1e-15)
    # sex_index_male = 0 swaps the rule's rows
    swapped = life_table_from_hazard(Q0, constant([0.01, 0.01]), sex_index_male=0)
    np.testing.assert_allclose(swapped.ax[:, 0], a0_from_q0(Q0, ~MALE), rtol=1e-15)


def test_siler_against_adaptive_quadrature():
    """Gauss-Legendre per year agrees with scipy's adaptive quadrature of l(t)."""
    p = dict(c=[1e-4, 2e-4], a1=[2.5e-4, 3e-4], b1=[0.8, 0.8], a2=[1.5e-5, 3e-5],
             b2=[0.11, 0.10])
    H = siler(**p)
    lt = life_table_from_hazard(Q0, H)
    for i in range(2):
        def l(t, i=i):
            return (1.0 - Q0[i]) * np.exp(-H(np.array([t]))[i, 0])
        for x in (1, 5, 40, 80, 99):
            assert lt.Lx[i, x] == pytest.approx(quad(l, x, x + 1)[0], rel=1e-12)
        assert lt.Lx[i, 100] == pytest.approx(quad(l, 100, 130, limit=200)[0], rel=1e-10)
        e0 = (1.0 - Q0[i]) + lt.ax[i, 0] * Q0[i] + quad(l, 1, 130, limit=200)[0]
        assert lt.e0[i] == pytest.approx(e0, rel=1e-11)
    assert (np.diff(lt.lx, axis=-1) < 0).all() and (lt.qx > 0).all() and (lt.qx <= 1).all()
    assert ((lt.ax[:, 1:100] > 0.4) & (lt.ax[:, 1:100] < 0.55)).all()


def test_columns_are_consistent_and_sx_round_trips():
    H = siler(c=[1e-4, 2e-4], a1=[2.5e-4, 3e-4], b1=[0.8, 0.8], a2=[1.5e-5, 3e-5],
              b2=[0.11, 0.10])
    lt = life_table_from_hazard(Q0, H)
    np.testing.assert_allclose(lt.dx, lt.lx * lt.qx, rtol=1e-15)
    np.testing.assert_allclose(lt.Lx[:, :-1], lt.lx[:, 1:] + lt.ax[:, :-1] * lt.dx[:, :-1],
                               rtol=1e-12)
    np.testing.assert_allclose(lt.mx, lt.dx / lt.Lx, rtol=1e-15)
    np.testing.assert_allclose(lt.Tx[:, 0], lt.Lx.sum(-1), rtol=1e-13)
    sx = sx_from_life_table(lt)
    np.testing.assert_allclose(sx[:, 100], lt.Lx[:, 100] / (lt.Lx[:, 99] + lt.Lx[:, 100]),
                               rtol=1e-14)
    np.testing.assert_allclose(life_expectancy(sx), lt.e0, rtol=1e-12)
    # the engine's table from these qx reproduces lx exactly
    np.testing.assert_allclose(life_table(qx=lt.qx).lx, lt.lx, rtol=1e-12)


def test_only_the_hazard_since_age_one_matters_and_leading_axes_broadcast():
    base = siler(c=[1e-4, 2e-4], a1=[2.5e-4, 3e-4], b1=[0.8, 0.8], a2=[1.5e-5, 3e-5],
                 b2=[0.11, 0.10])
    lt = life_table_from_hazard(Q0, base)
    shifted = life_table_from_hazard(Q0, lambda t: base(t) + 7.0)
    np.testing.assert_allclose(shifted.Lx, lt.Lx, rtol=1e-12)
    # three populations x 2 sexes at once, each row as computed alone
    scale = np.array([0.5, 1.0, 2.0])[:, None, None]
    q0 = np.stack([Q0 * k for k in (0.5, 1.0, 2.0)])
    many = life_table_from_hazard(q0, lambda t: scale * base(t), open_age=90)
    assert many.lx.shape == (3, 2, 91)
    for k in range(3):
        one = life_table_from_hazard(q0[k], lambda t, k=k: scale[k] * base(t), open_age=90)
        np.testing.assert_allclose(many.Lx[k], one.Lx, rtol=1e-14)
