"""Life tables and conversions to UN-convention sx (capacity.demography.lifetable)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capacity.demography.lifetable import (
    a0_from_m0,
    a0_from_q0,
    life_expectancy,
    life_table,
    sx_from_life_table,
    sx_from_Lx,
    sx_from_mx,
    sx_from_qx,
)

MALE = np.array([False, True])


def gompertz_makeham(A=101, shift=0.0):
    """A plausible low-mortality schedule (F row 0, M row 1)."""
    x = np.arange(A, dtype=float)
    mF = 0.0002 + 0.00002 * np.exp(0.1 * (x - shift))
    mM = 0.0004 + 0.00004 * np.exp(0.1 * (x - shift))
    mF[0], mM[0] = 0.0025, 0.003
    return np.minimum(np.stack([mF, mM]), 3.0)


@pytest.mark.parametrize("m", [0.001, 0.02, 0.2])
def test_constant_hazard_exact(m):
    """Constant hazard, constant-hazard ax: sx = exp(−m) exactly, e0 = 1/m."""
    mx = np.full((2, 101), m)
    sx = sx_from_mx(mx, ax_rule="constant")
    np.testing.assert_allclose(sx[:, 1:], np.exp(-m), rtol=1e-12)
    np.testing.assert_allclose(sx[:, 0], -np.expm1(-m) / m, rtol=1e-12)  # L0 = (1 − e^−m)/m
    lt = life_table(mx, ax_rule="constant")
    np.testing.assert_allclose(lt.e0, 1 / m, rtol=1e-12)
    np.testing.assert_allclose(life_expectancy(sx), 1 / m, rtol=1e-12)
    np.testing.assert_allclose(lt.ex, 1 / m, rtol=1e-10)  # memoryless


@pytest.mark.parametrize("m", [0.001, 0.02, 0.1])
def test_constant_hazard_uniform_ax(m):
    """With ax = ½: qx = 2m/(2+m) (PHG eq. 3.4 with n = 1), sx = (1 − m/2)/(1 + m/2) ≈ e^−m."""
    mx = np.full((2, 101), m)
    lt = life_table(mx)
    np.testing.assert_allclose(lt.qx[:, 1:-1], 2 * m / (2 + m), rtol=1e-14)
    sx = sx_from_life_table(lt)
    # (sx[1] = L1/L0 also depends on a0, from the Andreev–Kingkade rule)
    np.testing.assert_allclose(sx[:, 2:], (1 - m / 2) / (1 + m / 2), rtol=1e-12)
    np.testing.assert_allclose(sx[:, 2:], np.exp(-m), atol=m**3 / 12 * 1.01)
    # open group, l_{ω−1} = 1: Tω = (1 − q)/m, Tω−1 = (1 − q/2) + Tω
    q = 2 * m / (2 + m)
    np.testing.assert_allclose(sx[:, -1], ((1 - q) / m) / ((1 - q / 2) + (1 - q) / m), rtol=1e-12)
    np.testing.assert_allclose(life_expectancy(sx), lt.e0, rtol=1e-12)


def test_life_table_identities_and_e0_recovered():
    mx = gompertz_makeham()
    lt = life_table(mx)
    assert lt.lx[:, 0].tolist() == [1.0, 1.0]
    np.testing.assert_allclose(lt.dx.sum(-1), 1.0, rtol=1e-12)  # everyone dies
    np.testing.assert_allclose(lt.Tx[:, 0], lt.Lx.sum(-1), rtol=1e-12)
    np.testing.assert_allclose(lt.Lx[:, -1], lt.lx[:, -1] / mx[:, -1], rtol=1e-14)
    # deaths / person-years = mx (by construction of qx from mx and ax)
    np.testing.assert_allclose(lt.dx[:, :-1] / lt.Lx[:, :-1], mx[:, :-1], rtol=1e-12)
    assert 60 < lt.e0[1] < lt.e0[0] < 95  # women outlive men
    sx = sx_from_mx(mx)
    assert sx.shape == (2, 101) and ((sx > 0) & (sx < 1)).all()
    np.testing.assert_allclose(life_expectancy(sx), lt.e0, rtol=1e-12)
    df = lt.to_frame()
    assert list(df.columns) == ["sex", "age", "mx", "qx", "ax", "lx", "dx", "Lx", "Tx", "ex"]
    assert len(df) == 202 and df.loc[df.sex == "M", "ex"].iloc[0] == pytest.approx(lt.e0[1])


def test_sx_definitions():
    lt = life_table(gompertz_makeham())
    sx = sx_from_life_table(lt)
    np.testing.assert_allclose(sx[:, 0], lt.Lx[:, 0] / lt.lx[:, 0])
    np.testing.assert_allclose(sx[:, 1:100], lt.Lx[:, 1:100] / lt.Lx[:, 0:99])
    np.testing.assert_allclose(sx[:, 100], lt.Tx[:, 100] / lt.Tx[:, 99])


def test_a0_rules():
    # Andreev–Kingkade from m0 (as in DemoTools / HMD)
    np.testing.assert_allclose(a0_from_m0(0.01, MALE), [0.14903 - 0.0205527, 0.14929 - 0.0199545])
    np.testing.assert_allclose(a0_from_m0(0.05, MALE), [0.04667 + 0.05 * 3.88089,
                                                        0.02832 + 0.05 * 3.26021])
    np.testing.assert_allclose(a0_from_m0(0.2, MALE), [0.31411, 0.29915])
    # Coale–Demeny (Preston, Heuveline & Guillot 2001, Table 3.3)
    np.testing.assert_allclose(a0_from_m0(0.05, MALE, "cd"), [0.053 + 0.14, 0.045 + 0.1342])
    np.testing.assert_allclose(a0_from_m0(0.2, MALE, "cd"), [0.35, 0.33])
    np.testing.assert_allclose(a0_from_q0(0.05, MALE, "cd"), [0.05 + 0.15, 0.0425 + 0.14375])
    np.testing.assert_allclose(a0_from_q0(0.01, MALE), [0.1490 - 0.020867, 0.1493 - 0.020367])
    # the rule used for a0 shows in L0 = l1 + a0·d0
    mx = gompertz_makeham()
    lt = life_table(mx, a0_rule="cd")
    np.testing.assert_allclose(lt.ax[:, 0], a0_from_m0(mx[:, 0], MALE, "cd"))
    np.testing.assert_allclose(lt.Lx[:, 0], lt.lx[:, 1] + lt.ax[:, 0] * lt.dx[:, 0])
    # sex_index_male swaps the rule between rows
    lt_sw = life_table(mx, sex_index_male=0)
    np.testing.assert_allclose(lt_sw.ax[0, 0], a0_from_m0(mx[0, 0], True))


def test_qx_round_trip_constant_hazard_is_exact():
    mx = gompertz_makeham()
    mx[:, -1] = mx[:, -2]  # qx input carries mω = mω−1 on
    lt = life_table(mx, ax_rule="constant")
    back = life_table(qx=lt.qx, ax_rule="constant")
    np.testing.assert_allclose(back.mx, mx, rtol=1e-10)
    np.testing.assert_allclose(sx_from_qx(lt.qx, ax_rule="constant"), sx_from_life_table(lt),
                               rtol=1e-12)


def test_qx_round_trip_uniform():
    mx = gompertz_makeham()
    mx[:, -1] = mx[:, -2]
    lt = life_table(mx)
    sx_m = sx_from_life_table(lt)
    sx_q = sx_from_qx(lt.qx)
    np.testing.assert_allclose(sx_q[:, 2:], sx_m[:, 2:], rtol=1e-12)  # ax = ½ both ways
    np.testing.assert_allclose(sx_q[:, :2], sx_m[:, :2], rtol=1e-4)  # a0 rule from q0 vs m0
    # a qω below 1 is read as a constant hazard for the open group
    q = lt.qx.copy()
    q[:, -1] = 0.4
    assert life_table(qx=q).mx[:, -1] == pytest.approx(-np.log(0.6))


def test_open_age_below_table_end():
    mx = np.full((2, 111), 0.05)
    sx = sx_from_mx(mx, open_age=100, ax_rule="constant")
    assert sx.shape == (2, 101)
    np.testing.assert_allclose(sx[:, 1:], np.exp(-0.05), rtol=1e-12)
    mx = gompertz_makeham(A=111)
    lt = life_table(mx)
    sx = sx_from_mx(mx, open_age=100)
    np.testing.assert_allclose(sx[:, :100], sx_from_life_table(lt)[:, :100])
    np.testing.assert_allclose(sx[:, 100], lt.Tx[:, 100] / lt.Tx[:, 99])
    np.testing.assert_allclose(life_expectancy(sx), lt.e0, rtol=1e-12)


def test_rates_beyond_two_close_the_table():
    """With ax = ½, mx ≥ 2 would give qx > 1: qx is capped at 1 and later sx are 0."""
    mx = gompertz_makeham()
    mx[:, 95:] = 4.0
    lt = life_table(mx)
    assert (lt.qx[:, 95:] == 1).all() and (lt.lx[:, 96:] == 0).all()
    sx = sx_from_life_table(lt)
    assert np.isfinite(sx).all() and (sx[:, 97:] == 0).all()
    assert np.isfinite(life_expectancy(sx)).all()


@pytest.mark.parametrize("radix", [1.0, 1000.0, 100000.0])
def test_sx_from_Lx(radix):
    lt = life_table(gompertz_makeham())
    Lx = lt.Lx * radix  # last entry = Tω for the open group
    expected = sx_from_life_table(lt)
    np.testing.assert_allclose(sx_from_Lx(Lx), expected, rtol=1e-12)
    np.testing.assert_allclose(sx_from_Lx(Lx, radix=radix), expected, rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(shift=st.floats(-30, 30), scale=st.floats(0.2, 5))
def test_e0_recovered_from_sx(shift, scale):
    mx = np.minimum(gompertz_makeham(shift=shift) * scale, 1.9)
    lt = life_table(mx)
    sx = sx_from_life_table(lt)
    assert ((sx >= 0) & (sx <= 1)).all()
    np.testing.assert_allclose(life_expectancy(sx), lt.e0, rtol=1e-10)
