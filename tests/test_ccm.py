"""Cohort-component projection (capacity.demography.ccm) against the UN one-year step (docs/projection.md)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from capacity.demography.ccm import Projection, project

SRB = 1.06


# --------------------------------------------------------------------------------------
# An independent scalar reference: the UN WPP step written age by age, one zone, one sex
# pair, plain Python floats (no numpy, no engine code).
# --------------------------------------------------------------------------------------
def un_step(PF, PM, sxF, sxM, asfr, mF, mM, srb, timing):
    """One UN ccmpp step for lists of length A; returns (F_end, M_end, births F/M, deaths F/M)."""
    A = len(PF)
    w = A - 1
    out = {}
    for sex, P, sx, m in (("F", PF, sxF, mF), ("M", PM, sxM, mM)):
        if timing == "even":
            p = [P[a] + m[a] / 2 for a in range(A)]
            mend = [m[a] / 2 for a in range(A)]
        else:
            p = list(P)
            mend = [0.0] * A
        D = [0.0] * A
        E = [0.0] * A
        for a in range(1, w):
            D[a] = (1 - sx[a]) * p[a - 1]
            E[a] = p[a - 1] - D[a] + mend[a]
        D[w] = (1 - sx[w]) * (p[w - 1] + p[w])
        E[w] = p[w - 1] + p[w] - D[w] + mend[w]
        out[sex] = (p, D, E, mend)
    pF, _, EF, _ = out["F"]
    B = 0.0
    for a in range(1, w):
        B += asfr[a] * (pF[a] + EF[a]) / 2
    BF = B * (1 / (1 + srb))
    BM = B - BF
    res = []
    for sex, Bs, sx, m in (("F", BF, sxF, mF), ("M", BM, sxM, mM)):
        p, D, E, mend = out[sex]
        D[0] = (1 - sx[0]) * Bs
        E[0] = Bs - D[0] + mend[0]
        if timing == "end":
            E = [E[a] + m[a] for a in range(A)]
        E = [max(e, 0.0) if e < 0 else e for e in E]
        res.append((E, Bs, sum(D)))
    (EF, BF, DF), (EM, BM, DM) = res
    return EF, EM, (BF, BM), (DF, DM)


def random_inputs(rng, Z, A, T, neg_mig=False):
    pop0 = rng.uniform(0, 1000, (Z, 2, A))
    sx = rng.uniform(0.5, 1.0, (Z, 2, A))
    asfr = np.zeros((T, Z, A))
    asfr[:, :, 1:] = rng.uniform(0, 0.3, (T, Z, A - 1))
    lo = -600 if neg_mig else -20
    mig = rng.uniform(lo, 50, (T, Z, 2, A))
    return pop0, sx, asfr, mig


def accounting_residual(p: Projection) -> np.ndarray:
    pop = p.population
    lhs = pop[1:].sum(-1)
    rhs = pop[:-1].sum(-1) + p.births - p.deaths + p.migration + p.floor_amounts()
    return (lhs - rhs) / np.maximum(1.0, np.abs(pop[:-1]).sum(-1) + np.abs(p.migration))


# --------------------------------------------------------------------------------------
dims = st.tuples(st.integers(1, 4), st.integers(3, 12), st.integers(1, 4))


@settings(max_examples=60, deadline=None)
@given(dims=dims, seed=st.integers(0, 2**32 - 1), timing=st.sampled_from(["even", "end"]),
       neg=st.booleans())
def test_matches_scalar_un_reference(dims, seed, timing, neg):
    Z, A, T = dims
    rng = np.random.default_rng(seed)
    pop0, sx, asfr, mig = random_inputs(rng, Z, A, T, neg)
    p = project(pop0, sx, asfr, mig, srb=SRB, timing=timing)
    for z in range(Z):
        PF, PM = pop0[z, 0].tolist(), pop0[z, 1].tolist()
        for t in range(T):
            PF, PM, B, D = un_step(PF, PM, sx[z, 0].tolist(), sx[z, 1].tolist(),
                                   asfr[t, z].tolist(), mig[t, z, 0].tolist(),
                                   mig[t, z, 1].tolist(), SRB, timing)
            np.testing.assert_allclose(p.population[t + 1, z, 0], PF, rtol=1e-12, atol=1e-9)
            np.testing.assert_allclose(p.population[t + 1, z, 1], PM, rtol=1e-12, atol=1e-9)
            np.testing.assert_allclose(p.births[t, z], B, rtol=1e-12, atol=1e-9)
            np.testing.assert_allclose(p.deaths[t, z], D, rtol=1e-12, atol=1e-9)


@settings(max_examples=80, deadline=None)
@given(dims=dims, seed=st.integers(0, 2**32 - 1), timing=st.sampled_from(["even", "end"]),
       neg=st.booleans())
def test_accounting_identity(dims, seed, timing, neg):
    Z, A, T = dims
    rng = np.random.default_rng(seed)
    pop0, sx, asfr, mig = random_inputs(rng, Z, A, T, neg)
    p = project(pop0, sx, asfr, mig, srb=SRB, timing=timing)
    assert p.population.shape == (T + 1, Z, 2, A)
    assert p.births.shape == p.deaths.shape == p.migration.shape == (T, Z, 2)
    assert (p.population >= 0).all()
    np.testing.assert_allclose(accounting_residual(p), 0.0, atol=1e-12)
    np.testing.assert_allclose(p.migration, mig.sum(-1), rtol=1e-12)
    for t, z, s, a, v in p.floored:
        assert v < 0 and p.population[t + 1, z, s, a] == 0.0


@settings(max_examples=30, deadline=None)
@given(pop=arrays(np.float64, (2, 2, 6), elements=st.floats(0, 1e6)),
       mig=arrays(np.float64, (3, 2, 2, 6), elements=st.floats(-1e6, 1e6)),
       timing=st.sampled_from(["even", "end"]))
def test_accounting_identity_extreme_migration(pop, mig, timing):
    sx = np.linspace(0.6, 1.0, 12).reshape(2, 6)
    asfr = np.full((3, 2, 6), 0.1)
    p = project(pop, sx, asfr, mig, timing=timing)
    np.testing.assert_allclose(accounting_residual(p), 0.0, atol=1e-9)
    assert (p.population >= 0).all()


def test_floored_records_every_negative_and_nothing_else():
    pop0 = np.full((2, 2, 5), 10.0)
    mig = np.zeros((1, 2, 2, 5))
    mig[0, 1, 0, 2] = -50.0  # zone 1, F, age 2: 10*sx + ... - 50 < 0
    sx = np.full((2, 5), 0.9)
    p = project(pop0, sx, np.zeros((1, 2, 5)), mig, timing="end")
    assert len(p.floored) == 1
    t, z, s, a, v = p.floored[0]
    assert (t, z, s, a) == (0, 1, 0, 2)
    assert v == pytest.approx(10 * 0.9 - 50)
    assert p.population[1, 1, 0, 2] == 0.0
    assert (p.population[1, 0, :, 1:] > 0).all()


def test_closed_zero_fertility_only_ages_and_dies():
    rng = np.random.default_rng(1)
    Z, A, T = 3, 8, 5
    pop0 = rng.uniform(0, 100, (Z, 2, A))
    sx = rng.uniform(0.7, 1.0, (Z, 2, A))
    p = project(pop0, sx, np.zeros((T, Z, A)), np.zeros((T, Z, 2, A)), timing="even")
    assert (p.births == 0).all() and not p.floored
    for t in range(T):
        P, E = p.population[t], p.population[t + 1]
        assert (E[..., 0] == 0).all()
        # exact: the UN form start − (1 − sx)·start
        np.testing.assert_array_equal(E[..., 1:-1], P[..., :-2] - (1 - sx[..., 1:-1]) * P[..., :-2])
        top = P[..., -2] + P[..., -1]
        np.testing.assert_array_equal(E[..., -1], top - (1 - sx[..., -1]) * top)
        np.testing.assert_allclose(E[..., 1:-1], P[..., :-2] * sx[..., 1:-1], rtol=1e-14)
        np.testing.assert_allclose(p.deaths[t], P.sum(-1) - E.sum(-1), rtol=1e-12)
    # a cohort aged 0 at the start is, after 3 years, at age 3 times sx[1]·sx[2]·sx[3]
    np.testing.assert_allclose(p.population[3, ..., 3], pop0[..., 0] * sx[..., 1:4].prod(-1),
                               rtol=1e-13)


def test_constant_rates_converge_to_leslie_stable_population():
    A, w = 12, 11
    sxF = np.array([0.97, 0.99, 0.99, 0.985, 0.98, 0.98, 0.97, 0.96, 0.95, 0.9, 0.85, 0.6])
    fert = np.zeros(A)
    fert[3:8] = [0.15, 0.45, 0.5, 0.35, 0.1]
    fert[w] = 5.0  # at the open age: never counted
    fert[0] = 5.0  # at age 0: never counted
    # Leslie matrix of the UN step, females only (female births = B / (1 + srb))
    L = np.zeros((A, A))
    for a in range(1, w):
        L[a, a - 1] = sxF[a]
    L[w, w - 1] = L[w, w] = sxF[w]
    k = sxF[0] / (1 + SRB) * 0.5
    for j in range(0, w):
        if 1 <= j <= w - 1:
            L[0, j] += k * fert[j]
        if 1 <= j + 1 <= w - 1:
            L[0, j] += k * fert[j + 1] * sxF[j + 1]
    vals, vecs = np.linalg.eig(L)
    i = np.argmax(vals.real)
    lam = vals[i].real
    v = np.abs(vecs[:, i].real)
    v /= v.sum()
    T = 400
    pop0 = np.ones((1, 2, A))
    sx = np.stack([sxF, sxF])
    p = project(pop0, sx, np.broadcast_to(fert, (T, 1, A)), np.zeros((T, 1, 2, A)),
                srb=SRB, timing="even")
    F = p.population[:, 0, 0]
    np.testing.assert_allclose(F[-1] / F[-1].sum(), v, rtol=1e-8)
    np.testing.assert_allclose(F[-1].sum() / F[-2].sum(), lam, rtol=1e-10)
    # one step is exactly the Leslie product
    np.testing.assert_allclose(F[1], L @ F[0], rtol=1e-13)
    np.testing.assert_allclose(F[51], L @ F[50], rtol=1e-13)


def test_end_vs_even_hand_derived_difference():
    rng = np.random.default_rng(7)
    Z, A = 4, 9
    w = A - 1
    pop0 = rng.uniform(500, 1000, (Z, 2, A))
    sx = rng.uniform(0.8, 1.0, (Z, 2, A))
    asfr = np.zeros((1, Z, A))
    asfr[0, :, 2:7] = rng.uniform(0.05, 0.3, (Z, 5))
    m = rng.uniform(-20, 20, (1, Z, 2, A))
    ev = project(pop0, sx, asfr, m, timing="even")
    en = project(pop0, sx, asfr, m, timing="end")
    mm = m[0]
    mF = mm[:, 0]
    # births: F_start gains m/2, F_end gains sx[a]·m[a-1]/2 + m[a]/2 (0 < a < ω)
    dB = 0.5 * (asfr[0, :, 1:w] * (mF[:, 1:w] + sx[:, 0, 1:w] * mF[:, 0:w - 1] / 2)).sum(-1)
    dBs = np.stack([dB / (1 + SRB), dB * SRB / (1 + SRB)], axis=-1)  # (Z, 2)
    d_end = np.empty((Z, 2, A))
    d_end[..., 0] = sx[..., 0] * dBs - mm[..., 0] / 2
    d_end[..., 1:w] = sx[..., 1:w] * mm[..., 0:w - 1] / 2 - mm[..., 1:w] / 2
    d_end[..., w] = sx[..., w] * (mm[..., w - 1] + mm[..., w]) / 2 - mm[..., w] / 2
    d_deaths = ((1 - sx[..., 1:w]) * mm[..., 0:w - 1] / 2).sum(-1) \
        + (1 - sx[..., w]) * (mm[..., w - 1] + mm[..., w]) / 2 + (1 - sx[..., 0]) * dBs
    assert not ev.floored and not en.floored
    np.testing.assert_allclose(ev.population[1] - en.population[1], d_end, atol=1e-9)
    np.testing.assert_allclose(ev.births[0] - en.births[0], dBs, atol=1e-10)
    np.testing.assert_allclose(ev.deaths[0] - en.deaths[0], d_deaths, atol=1e-9)
    np.testing.assert_array_equal(ev.migration, en.migration)


# --------------------------------------------------------------------------------------
# Hand-computed two-step example, ω = 4, one zone, written out in scalar arithmetic.
# --------------------------------------------------------------------------------------
F0 = [10.0, 20.0, 30.0, 20.0, 10.0]
M0 = [12.0, 18.0, 28.0, 22.0, 8.0]
SXF = [0.99, 0.995, 0.99, 0.9, 0.5]
SXM = [0.98, 0.99, 0.98, 0.85, 0.4]
ASFR = [0.7, 0.1, 0.2, 0.05, 0.3]  # ages 0 and 4 (= ω) must be ignored
MIGF = [[2.0, -4.0, 6.0, 0.0, 2.0], [0.0, 2.0, 2.0, -2.0, 0.0]]
MIGM = [[0.0, 2.0, -2.0, 4.0, 0.0], [1.0, 1.0, 1.0, 1.0, 1.0]]
R = 1.0 / (1.0 + SRB)


def hand_step(F, M, mF, mM, timing):
    h = 0.5 if timing == "even" else 0.0  # share of migrants added at the start
    pF = [F[0] + h * mF[0], F[1] + h * mF[1], F[2] + h * mF[2], F[3] + h * mF[3], F[4] + h * mF[4]]
    pM = [M[0] + h * mM[0], M[1] + h * mM[1], M[2] + h * mM[2], M[3] + h * mM[3], M[4] + h * mM[4]]
    e = h  # share added at the end before births (even) — "end" adds all after births
    EF1 = pF[0] * SXF[1] + e * mF[1]
    EF2 = pF[1] * SXF[2] + e * mF[2]
    EF3 = pF[2] * SXF[3] + e * mF[3]
    EF4 = (pF[3] + pF[4]) * SXF[4] + e * mF[4]
    EM1 = pM[0] * SXM[1] + e * mM[1]
    EM2 = pM[1] * SXM[2] + e * mM[2]
    EM3 = pM[2] * SXM[3] + e * mM[3]
    EM4 = (pM[3] + pM[4]) * SXM[4] + e * mM[4]
    B = (ASFR[1] * (pF[1] + EF1) + ASFR[2] * (pF[2] + EF2) + ASFR[3] * (pF[3] + EF3)) / 2
    BF, BM = B * R, B * (1 - R)
    EF0 = BF * SXF[0] + e * mF[0]
    EM0 = BM * SXM[0] + e * mM[0]
    EF = [EF0, EF1, EF2, EF3, EF4]
    EM = [EM0, EM1, EM2, EM3, EM4]
    if timing == "end":
        EF = [EF[0] + mF[0], EF[1] + mF[1], EF[2] + mF[2], EF[3] + mF[3], EF[4] + mF[4]]
        EM = [EM[0] + mM[0], EM[1] + mM[1], EM[2] + mM[2], EM[3] + mM[3], EM[4] + mM[4]]
    DF = BF * (1 - SXF[0]) + pF[0] * (1 - SXF[1]) + pF[1] * (1 - SXF[2]) \
        + pF[2] * (1 - SXF[3]) + (pF[3] + pF[4]) * (1 - SXF[4])
    DM = BM * (1 - SXM[0]) + pM[0] * (1 - SXM[1]) + pM[1] * (1 - SXM[2]) \
        + pM[2] * (1 - SXM[3]) + (pM[3] + pM[4]) * (1 - SXM[4])
    return EF, EM, (BF, BM), (DF, DM)


@pytest.mark.parametrize("timing", ["even", "end"])
def test_hand_computed_two_steps(timing):
    p = project(np.array([[F0, M0]]), np.array([SXF, SXM]), np.array([[ASFR], [ASFR]]),
                np.array([[[MIGF[0], MIGM[0]]], [[MIGF[1], MIGM[1]]]]), srb=SRB, timing=timing)
    F, M = F0, M0
    for t in range(2):
        F, M, B, D = hand_step(F, M, MIGF[t], MIGM[t], timing)
        assert min(F + M) >= 0  # example chosen so that nothing is floored
        np.testing.assert_allclose(p.population[t + 1, 0, 0], F, rtol=1e-13)
        np.testing.assert_allclose(p.population[t + 1, 0, 1], M, rtol=1e-13)
        np.testing.assert_allclose(p.births[t, 0], B, rtol=1e-13)
        np.testing.assert_allclose(p.deaths[t, 0], D, rtol=1e-13)
    assert not p.floored


def test_hand_computed_first_step_numbers():
    """Step 1 of the example above, even timing, worked on paper."""
    p = project(np.array([[F0, M0]]), np.array([SXF, SXM]), np.array([[ASFR]]),
                np.array([[[MIGF[0], MIGM[0]]]]), srb=SRB, timing="even")
    # pF = [11, 18, 33, 20, 11]; F_end(1..3) = 11·.995−2 = 8.945, 18·.99+3 = 20.82, 33·.9 = 29.7
    # B = (.1·(18+8.945) + .2·(33+20.82) + .05·(20+29.7)) / 2 = (2.6945 + 10.764 + 2.485)/2
    B = 7.97175
    expected_F = [B / 2.06 * 0.99 + 1.0, 8.945, 20.82, 29.7, (20 + 11) * 0.5 + 1.0]
    np.testing.assert_allclose(p.births[0, 0].sum(), B, rtol=1e-14)
    np.testing.assert_allclose(p.population[1, 0, 0], expected_F, rtol=1e-14)
    # pM = [12, 19, 27, 24, 8]; M_end = [B·1.06/2.06·.98, 12·.99+1, 19·.98−1, 27·.85+2, 32·.4]
    expected_M = [B * 1.06 / 2.06 * 0.98, 12.88, 17.62, 24.95, 12.8]
    np.testing.assert_allclose(p.population[1, 0, 1], expected_M, rtol=1e-14)


def test_sx_shapes_broadcast_alike():
    rng = np.random.default_rng(3)
    Z, A, T = 3, 7, 4
    pop0, _, asfr, mig = random_inputs(rng, Z, A, T)
    sx2 = rng.uniform(0.8, 1, (2, A))
    ref = project(pop0, sx2, asfr, mig)
    for sx in (np.broadcast_to(sx2, (Z, 2, A)), np.broadcast_to(sx2, (T, Z, 2, A)),
               sx2[None, None]):
        other = project(pop0, sx, asfr, mig)
        np.testing.assert_array_equal(other.population, ref.population)
    # time-varying sx is used step by step
    sxt = rng.uniform(0.8, 1, (T, Z, 2, A))
    pt = project(pop0, sxt, asfr, mig)
    step1 = project(pt.population[1], sxt[1], asfr[1:2], mig[1:2])
    np.testing.assert_array_equal(step1.population[1], pt.population[2])


def test_district_asfr_and_migration_broadcast_over_zones():
    rng = np.random.default_rng(4)
    Z, A, T = 3, 7, 2
    pop0, sx, asfr, mig = random_inputs(rng, Z, A, T)
    a1 = asfr[:, :1]
    m1 = mig[:, :1]
    p = project(pop0, sx, a1, m1)
    q = project(pop0, sx, np.broadcast_to(a1, asfr.shape).copy(),
                np.broadcast_to(m1, mig.shape).copy())
    np.testing.assert_array_equal(p.population, q.population)
    np.testing.assert_array_equal(p.migration, q.migration)


def test_bad_timing():
    with pytest.raises(ValueError):
        project(np.ones((1, 2, 4)), np.ones((2, 4)), np.zeros((1, 1, 4)),
                np.zeros((1, 1, 2, 4)), timing="middle")
