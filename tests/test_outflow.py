"""Rate-based out-migration in capacity.demography.ccm.project (keyword ``out_rates``)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capacity.demography.ccm import project

SRB = 1.06


def rates_step(PF, PM, sxF, sxM, asfr, iF, iM, oF, oM, srb, timing):
    """Scalar reference for one step with inflow counts i and out-rates o (module doc)."""
    A = len(PF)
    w = A - 1
    state = {}
    for sex, P, sx, i, o in (("F", PF, sxF, iF, oF), ("M", PM, sxM, iM, oM)):
        if timing == "even":
            start_net = [i[a] / 2 - o[a] / 2 * P[a] for a in range(A)]
            p = [P[a] + start_net[a] for a in range(A)]
        else:
            start_net = [0.0] * A
            p = list(P)
        D = [0.0] * A
        E = [0.0] * A  # E* (survivors before end-of-year migration)
        for a in range(1, w):
            D[a] = (1 - sx[a]) * p[a - 1]
            E[a] = p[a - 1] - D[a]
        D[w] = (1 - sx[w]) * (p[w - 1] + p[w])
        E[w] = p[w - 1] + p[w] - D[w]
        end_net = [0.0] * A
        if timing == "even":
            for a in range(1, A):
                end_net[a] = i[a] / 2 - o[a] / 2 * E[a]
                E[a] += end_net[a]
        state[sex] = (p, D, E, start_net, end_net)
    pF, _, EF, _, _ = state["F"]
    B = sum(asfr[a] * (pF[a] + EF[a]) / 2 for a in range(1, w))
    BF = B / (1 + srb)
    res = []
    for sex, Bs, sx, i, o in (("F", BF, sxF, iF, oF), ("M", B - BF, sxM, iM, oM)):
        p, D, E, start_net, end_net = state[sex]
        D[0] = (1 - sx[0]) * Bs
        E[0] = Bs - D[0]
        if timing == "even":
            end_net[0] = i[0] / 2 - o[0] / 2 * E[0]
            E[0] += end_net[0]
            mig = sum(start_net) + sum(end_net)
        else:
            net = [i[a] - o[a] * E[a] for a in range(A)]
            E = [E[a] + net[a] for a in range(A)]
            mig = sum(net)
        res.append((E, Bs, sum(D), mig))
    return res


dims = st.tuples(st.integers(1, 3), st.integers(3, 10), st.integers(1, 4))


@settings(max_examples=50, deadline=None)
@given(dims=dims, seed=st.integers(0, 2**32 - 1), timing=st.sampled_from(["even", "end"]))
def test_matches_scalar_reference(dims, seed, timing):
    Z, A, T = dims
    rng = np.random.default_rng(seed)
    pop0 = rng.uniform(0, 1000, (Z, 2, A))
    sx = rng.uniform(0.5, 1.0, (Z, 2, A))
    asfr = rng.uniform(0, 0.3, (T, Z, A))
    inflow = rng.uniform(0, 50, (T, Z, 2, A))
    o = rng.uniform(0, 0.4, (T, Z, 2, A))
    p = project(pop0, sx, asfr, inflow, srb=SRB, timing=timing, out_rates=o)
    assert not p.floored
    for z in range(Z):
        PF, PM = pop0[z, 0].tolist(), pop0[z, 1].tolist()
        for t in range(T):
            (PF, BF, DF, MF), (PM, BM, DM, MM) = rates_step(
                PF, PM, sx[z, 0].tolist(), sx[z, 1].tolist(), asfr[t, z].tolist(),
                inflow[t, z, 0].tolist(), inflow[t, z, 1].tolist(), o[t, z, 0].tolist(),
                o[t, z, 1].tolist(), SRB, timing)
            np.testing.assert_allclose(p.population[t + 1, z, 0], PF, rtol=1e-12, atol=1e-9)
            np.testing.assert_allclose(p.population[t + 1, z, 1], PM, rtol=1e-12, atol=1e-9)
            np.testing.assert_allclose(p.births[t, z], [BF, BM], rtol=1e-12, atol=1e-9)
            np.testing.assert_allclose(p.deaths[t, z], [DF, DM], rtol=1e-12, atol=1e-9)
            np.testing.assert_allclose(p.migration[t, z], [MF, MM], rtol=1e-12, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(dims=dims, seed=st.integers(0, 2**32 - 1), timing=st.sampled_from(["even", "end"]))
def test_accounting_and_never_negative(dims, seed, timing):
    """ΣP(t+1) = ΣP(t) + births − deaths + migration; I ≥ 0, 0 ≤ o ≤ 1 never floors."""
    Z, A, T = dims
    rng = np.random.default_rng(seed)
    pop0 = rng.uniform(0, 1000, (Z, 2, A))
    sx = rng.uniform(0.5, 1.0, (Z, 2, A))
    asfr = rng.uniform(0, 0.3, (T, Z, A))
    inflow = rng.uniform(0, 50, (T, 1, 2, A)) * rng.integers(0, 2, (T, 1, 2, A))
    o = rng.uniform(0, 1.0, (2, A))
    p = project(pop0, sx, asfr, inflow, timing=timing, out_rates=o)
    assert not p.floored and (p.population >= 0).all()
    lhs = p.population[1:].sum(-1)
    rhs = p.population[:-1].sum(-1) + p.births - p.deaths + p.migration
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12, atol=1e-8)


@pytest.mark.parametrize("timing", ["even", "end"])
def test_one_cohort_declines_geometrically(timing):
    """A lone cohort with constant exit rate o and survival s, no inflow, no births:
    P(t) = P0 · f^t with f = s·(1−o) (end) or s·(1−o/2)² (even)."""
    A, T, o, s = 20, 12, 0.08, 0.995
    pop0 = np.zeros((1, 2, A))
    pop0[0, :, 2] = [1000.0, 800.0]
    sx = np.full((2, A), s)
    p = project(pop0, sx, np.zeros((T, 1, A)), np.zeros((T, 1, 2, A)), timing=timing,
                out_rates=np.full((2, A), o))
    f = s * (1 - o) if timing == "end" else s * (1 - o / 2) ** 2
    t = np.arange(T + 1)
    cohort = p.population[t, 0][:, :, 2 + t].diagonal(axis1=0, axis2=2).T  # (T+1, 2)
    np.testing.assert_allclose(cohort, np.outer(f ** t, [1000.0, 800.0]), rtol=1e-13)
    np.testing.assert_allclose(p.population.sum(-1)[:, 0], np.outer(f ** t, [1000.0, 800.0]),
                               rtol=1e-13)
    # the loss shrinks with the cohort, unlike a fixed count
    losses = -p.migration[:, 0, 0]
    assert (np.diff(losses) < 0).all()
    np.testing.assert_allclose(losses[1:] / losses[:-1], f, rtol=1e-12)


@pytest.mark.parametrize("timing", ["even", "end"])
def test_zero_rates_equal_plain_counts(timing):
    rng = np.random.default_rng(5)
    Z, A, T = 3, 9, 4
    pop0 = rng.uniform(0, 1000, (Z, 2, A))
    sx = rng.uniform(0.7, 1.0, (Z, 2, A))
    asfr = rng.uniform(0, 0.3, (T, Z, A))
    mig = rng.uniform(-30, 50, (T, Z, 2, A))
    a = project(pop0, sx, asfr, mig, timing=timing)
    b = project(pop0, sx, asfr, mig, timing=timing, out_rates=np.zeros((2, A)))
    np.testing.assert_allclose(b.population, a.population, rtol=1e-14, atol=1e-10)
    np.testing.assert_allclose(b.migration, a.migration, rtol=1e-12, atol=1e-9)
    assert a.floored == b.floored


def test_rate_shapes_broadcast_alike():
    rng = np.random.default_rng(6)
    Z, A, T = 3, 7, 4
    pop0 = rng.uniform(0, 1000, (Z, 2, A))
    sx = rng.uniform(0.8, 1, (2, A))
    asfr = rng.uniform(0, 0.2, (T, Z, A))
    inflow = rng.uniform(0, 20, (T, Z, 2, A))
    o2 = rng.uniform(0, 0.2, (2, A))
    ref = project(pop0, sx, asfr, inflow, out_rates=o2)
    for o in (np.broadcast_to(o2, (Z, 2, A)), np.broadcast_to(o2, (T, Z, 2, A)),
              o2[None, None], o2[None]):
        np.testing.assert_array_equal(project(pop0, sx, asfr, inflow, out_rates=o).population,
                                      ref.population)
    ot = rng.uniform(0, 0.2, (T, Z, 2, A))
    pt = project(pop0, sx, asfr, inflow, out_rates=ot)
    step2 = project(pt.population[2], sx, asfr[2:3], inflow[2:3], out_rates=ot[2:3])
    np.testing.assert_array_equal(step2.population[1], pt.population[3])


def test_bad_rates_shape_or_values():
    args = (np.ones((1, 2, 4)), np.ones((2, 4)), np.zeros((2, 1, 4)), np.zeros((2, 1, 2, 4)))
    with pytest.raises(AssertionError):
        project(*args, out_rates=np.zeros((2, 5)))
    with pytest.raises(AssertionError):
        project(*args, out_rates=np.zeros((3, 1, 2, 4)))
    with pytest.raises(AssertionError):
        project(*args, out_rates=np.full((2, 4), np.nan))
