"""Tests of capacity.allocate: hand-checked instances, invariants (hypothesis), an LP check."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

from capacity.allocate import (COST_RESOLUTION_M, Allocation, Arcs, allocate,
                               allocate_catchment, allocate_optimal)


def xy(*xs: float) -> np.ndarray:
    """Points on the x axis."""
    return np.column_stack([np.asarray(xs, float), np.zeros(len(xs))])


def flows(a: Allocation) -> set[tuple[int, int, int]]:
    return {(int(u), int(s), int(p)) for u, s, p in zip(a.unit, a.school, a.pupils)}


# ---------------------------------------------------------------- hand-checked instances

# schools S0 at 0 and S1 at 1000; units at 100, 200, 900 and 5000; radius 1500
UNITS = xy(100, 200, 900, 5000)
SCHOOLS = xy(0, 1000)
DEMAND = np.array([30, 10, 5, 7])


def test_catchment_hand_exact_pro_rata():
    a = allocate(UNITS, DEMAND, SCHOOLS, np.array([20, 100]), 1500, "catchment")
    # S0's catchment is U0 (30) and U1 (10): 40 pupils for 20 places -> 15 and 5
    assert flows(a) == {(0, 0, 15), (1, 0, 5), (2, 1, 5)}
    assert a.unserved.tolist() == [15, 5, 0, 7]
    assert a.out_of_reach.tolist() == [0, 0, 0, 7]
    assert a.nearest.all()
    assert a.load(2).tolist() == [20, 5]
    np.testing.assert_allclose(a.distance, [100, 200, 100])


def test_catchment_hand_largest_remainder():
    a = allocate(UNITS, DEMAND, SCHOOLS, np.array([21, 100]), 1500, "catchment")
    # quotas 30*21/40 = 15.75 and 10*21/40 = 5.25; one place left goes to U0
    assert flows(a) == {(0, 0, 16), (1, 0, 5), (2, 1, 5)}


def test_catchment_hand_remainder_tie_goes_to_lower_unit():
    a = allocate(xy(10, -10), np.array([5, 5]), xy(0), np.array([5]), 100, "catchment")
    assert flows(a) == {(0, 0, 3), (1, 0, 2)}


def test_optimal_hand_min_distance():
    a = allocate(UNITS, DEMAND, SCHOOLS, np.array([20, 100]), 1500, "optimal")
    # S0 saves 800 m for U0, 600 m for U1: U0 takes all 20 places at S0
    assert flows(a) == {(0, 0, 20), (0, 1, 10), (1, 1, 10), (2, 1, 5)}
    assert a.unserved.tolist() == [0, 0, 0, 7]
    assert a.out_of_reach.tolist() == [0, 0, 0, 7]
    got = {(int(u), int(s)): bool(n) for u, s, n in zip(a.unit, a.school, a.nearest)}
    assert got == {(0, 0): True, (0, 1): False, (1, 1): False, (2, 1): True}
    assert a.total_distance() == pytest.approx(20 * 100 + 10 * 900 + 10 * 800 + 5 * 100)


def test_optimal_serves_most_before_distance():
    # S0 at 0, S1 at 1000 (radius 1000, inclusive); U0 at 0, U1 at -900 reaches only S0
    units, schools = xy(0, -900), xy(0, 1000)
    d, p = np.array([10, 10]), np.array([10, 10])
    a = allocate(units, d, schools, p, 1000, "optimal")
    assert flows(a) == {(0, 1, 10), (1, 0, 10)}
    assert a.unserved.sum() == 0
    c = allocate(units, d, schools, p, 1000, "catchment")
    # both units belong to S0: 20 pupils for 10 places, 5 each; S1 stays empty
    assert flows(c) == {(0, 0, 5), (1, 0, 5)}
    assert c.unserved.tolist() == [5, 5] and c.out_of_reach.sum() == 0


def test_radius_is_inclusive():
    for mode in ("catchment", "optimal"):
        a = allocate(xy(0, 1), np.array([3, 4]), xy(1000), np.array([10]), 1000.0, mode)
        assert flows(a) == {(0, 0, 3), (1, 0, 4)}
        b = allocate(xy(-0.001), np.array([3]), xy(1000), np.array([10]), 1000.0, mode)
        assert len(b.unit) == 0 and b.out_of_reach.tolist() == [3]


def test_optimal_cost_resolution_is_decimetres():
    # one place at A (origin) wanted by u0 (100.4 m, else B0 at 600.6 m) and u1 (100.6 m,
    # else B1 at 601.4 m): u1 saves 500.8 m, u0 500.2 m. Costs in whole metres would
    # round the savings to 500 and 501 and pick u0.
    units = xy(-100.4, 100.6)
    schools = xy(0, -701, 702)
    a = allocate(units, np.array([1, 1]), schools, np.array([1, 10, 10]), 700, "optimal")
    assert flows(a) == {(1, 0, 1), (0, 1, 1)}
    assert a.total_distance() == pytest.approx(701.2)


def test_radius_per_unit():
    # two units 1 km from the one school: only the one with a 1 km radius is in reach
    uxy, sxy = np.array([[0.0, 0.0], [2000.0, 0.0]]), xy(1000)
    arcs = Arcs.build(uxy, sxy, np.array([1000.0, 999.0]))
    assert arcs.unit.tolist() == [0]
    for a in (allocate_optimal(arcs, np.array([3, 4]), np.array([10])),
              allocate_catchment(arcs, np.array([3, 4]), np.array([10]))):
        assert a.served().tolist() == [3, 0] and a.out_of_reach.tolist() == [0, 4]
    with pytest.raises(ValueError):
        Arcs.build(uxy, sxy, np.array([1000.0, -1.0]))


def test_closed_schools_reuse_arcs():
    arcs = Arcs.build(UNITS, SCHOOLS, 1500)
    # S0 not open yet: everyone in reach of S1 goes there; nobody is out of reach but U3
    for alloc in (allocate_catchment, allocate_optimal):
        a = alloc(arcs, DEMAND, np.array([0, 100]))
        assert flows(a) == {(0, 1, 30), (1, 1, 10), (2, 1, 5)}
        assert a.nearest.all()
        assert a.out_of_reach.tolist() == [0, 0, 0, 7]
    # S1 closed by open_mask (places kept): S0 is everyone's nearest open school
    a = allocate_catchment(arcs, DEMAND, np.array([100, 100]), open_mask=np.array([True, False]))
    assert flows(a) == {(0, 0, 30), (1, 0, 10), (2, 0, 5)}
    # a school open with no places: in reach, so the unserved are "full", not out of reach
    a = allocate_optimal(arcs, DEMAND, np.array([0, 0]), open_mask=np.array([True, True]))
    assert a.unserved.tolist() == [30, 10, 5, 7] and a.out_of_reach.tolist() == [0, 0, 0, 7]
    a = allocate_optimal(arcs, DEMAND, np.array([0, 0]))
    assert a.out_of_reach.tolist() == [30, 10, 5, 7]


def test_given_catchment():
    arcs = Arcs.build(UNITS, SCHOOLS, 1500)
    # U0 assigned to S1 (900 m, in reach); U1 to S1; U2 to S0 (900 m); U3 nearest (-1)
    cat = np.array([1, 1, 0, -1])
    a = allocate_catchment(arcs, DEMAND, np.array([4, 20]), catchment=cat)
    # S1: 40 pupils for 20 places -> 15 and 5; S0: U2 gets 4 of 5
    assert flows(a) == {(0, 1, 15), (1, 1, 5), (2, 0, 4)}
    assert not a.nearest.any()
    # catchment school closed that year -> the unit falls back to its nearest open school
    a = allocate_catchment(arcs, DEMAND, np.array([50, 0]), catchment=cat)
    assert flows(a) == {(0, 0, 30), (1, 0, 10), (2, 0, 5)}
    # catchment school beyond the radius: not served, but not out of reach either
    b = allocate_catchment(Arcs.build(UNITS, SCHOOLS, 850), DEMAND, np.array([50, 50]),
                           catchment=np.array([1, 0, 0, -1]))
    assert flows(b) == {(1, 0, 10)}
    assert b.unserved.tolist() == [30, 0, 5, 7] and b.out_of_reach.tolist() == [0, 0, 0, 7]


def test_empty_inputs():
    for mode in ("catchment", "optimal"):
        a = allocate(np.zeros((0, 2)), np.zeros(0, int), xy(0), np.array([5]), 100, mode)
        assert len(a.unit) == 0 and len(a.unserved) == 0
        a = allocate(xy(0), np.array([5]), np.zeros((0, 2)), np.zeros(0, int), 100, mode)
        assert a.out_of_reach.tolist() == [5]
    with pytest.raises(ValueError):
        allocate(xy(0), np.array([5]), xy(0), np.array([5]), 100, "nearest")


# ---------------------------------------------------------------- random instances

@st.composite
def instances(draw):
    n_u = draw(st.integers(1, 12))
    n_s = draw(st.integers(1, 5))
    coord = st.integers(0, 30) .map(lambda v: v * 100.0)  # a coarse grid: many ties
    uxy = np.array(draw(st.lists(st.tuples(coord, coord), min_size=n_u, max_size=n_u)))
    sxy = np.array(draw(st.lists(st.tuples(coord, coord), min_size=n_s, max_size=n_s)))
    demand = np.array(draw(st.lists(st.integers(0, 25), min_size=n_u, max_size=n_u)))
    places = np.array(draw(st.lists(st.integers(0, 40), min_size=n_s, max_size=n_s)))
    radii = st.sampled_from([0.0, 300.0, 500.0, 1000.0, 1500.0, 5000.0])
    # one radius for the stage, or one per unit (zones with a radius_scale)
    radius = draw(st.one_of(radii, st.lists(radii, min_size=n_u, max_size=n_u).map(np.array)))
    open_mask = draw(st.one_of(st.none(), st.lists(st.booleans(), min_size=n_s,
                                                   max_size=n_s).map(np.array)))
    return uxy, sxy, demand, places, radius, open_mask


def per_unit(radius, n_u):
    """(U,) radius per unit from a scalar or an array."""
    return np.broadcast_to(np.asarray(radius, float), (n_u,))


def dense(uxy, sxy):
    return np.hypot(uxy[:, None, 0] - sxy[None, :, 0], uxy[:, None, 1] - sxy[None, :, 1])


def reference_catchment(uxy, sxy, demand, places, radius, open_mask):
    """Loop-by-loop reading of the catchment mode (docs/allocation.md), with exact fractions."""
    d = dense(uxy, sxy)
    r = per_unit(radius, len(uxy))
    out: dict[tuple[int, int], int] = {}
    members: dict[int, list[int]] = {}
    for u in range(len(uxy)):
        opened = [s for s in range(len(sxy)) if open_mask[s]]
        if not opened or demand[u] == 0:
            continue
        s = min(opened, key=lambda k: (d[u, k], k))
        if d[u, s] <= r[u]:
            members.setdefault(s, []).append(u)
    for s, us in members.items():
        total = sum(int(demand[u]) for u in us)
        if total <= places[s]:
            out.update({(u, s): int(demand[u]) for u in us})
            continue
        quota = {u: Fraction(int(demand[u]) * int(places[s]), total) for u in us}
        give = {u: int(q) for u, q in quota.items()}
        left = int(places[s]) - sum(give.values())
        for u in sorted(us, key=lambda u: (-(quota[u] - give[u]), u))[:left]:
            give[u] += 1
        out.update({(u, s): g for u, g in give.items()})
    return {(u, s, g) for (u, s), g in out.items() if g > 0}


def check_invariants(a: Allocation, uxy, sxy, demand, places, radius, open_mask):
    n_s = len(sxy)
    d = dense(uxy, sxy)
    r = per_unit(radius, len(uxy))
    assert (a.pupils > 0).all()
    np.testing.assert_array_equal(a.served() + a.unserved, demand)
    assert (a.unserved >= 0).all()
    assert (a.load(n_s) <= places).all()
    assert (a.distance <= r[a.unit]).all()
    np.testing.assert_array_equal(a.distance, d[a.unit, a.school])
    assert open_mask[a.school].all()
    assert a.unserved.sum() >= max(0, demand.sum() - places.sum())
    # no (unit, school) pair twice
    assert len(set(zip(a.unit.tolist(), a.school.tolist()))) == len(a.unit)
    reach = ((d <= r[:, None]) & open_mask[None, :]).any(axis=1)
    np.testing.assert_array_equal(a.out_of_reach, np.where(reach, 0, a.unserved))
    assert (a.out_of_reach <= a.unserved).all()
    dmin = np.where(open_mask[None, :], d, np.inf).min(axis=1)
    np.testing.assert_array_equal(a.nearest, a.distance == dmin[a.unit])


def lp_optimum(uxy, sxy, demand, places, radius, open_mask):
    """(max pupils served, min total distance among max) by two HiGHS LPs."""
    d = dense(uxy, sxy)
    ok = (d <= per_unit(radius, len(uxy))[:, None]) & open_mask[None, :]
    u, s = np.nonzero(ok)
    if not len(u):
        return 0.0, 0.0
    n_u, n_s, n = len(uxy), len(sxy), len(u)
    a_ub = coo_matrix((np.ones(2 * n), (np.r_[u, n_u + s], np.r_[np.arange(n), np.arange(n)])),
                      shape=(n_u + n_s, n))
    b_ub = np.r_[demand, places].astype(float)
    first = linprog(-np.ones(n), A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
    assert first.status == 0
    best = -first.fun
    second = linprog(d[u, s], A_ub=a_ub, b_ub=b_ub, A_eq=np.ones((1, n)), b_eq=[best],
                     bounds=(0, None), method="highs")
    assert second.status == 0
    return best, second.fun


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(instances())
def test_properties_both_modes(inst):
    uxy, sxy, demand, places, radius, om = inst
    open_mask = places > 0 if om is None else om
    arcs = Arcs.build(uxy, sxy, radius)
    cat = allocate_catchment(arcs, demand, places, open_mask=om)
    opt = allocate_optimal(arcs, demand, places, open_mask=om)
    for a in (cat, opt):
        check_invariants(a, uxy, sxy, demand, places, radius, open_mask)
    assert opt.unserved.sum() <= cat.unserved.sum()
    np.testing.assert_array_equal(opt.out_of_reach, cat.out_of_reach)
    assert flows(cat) == reference_catchment(uxy, sxy, demand, places, radius, open_mask)
    # deterministic
    again = allocate_optimal(Arcs.build(uxy, sxy, radius), demand, places, open_mask=om)
    for f in ("unit", "school", "pupils", "distance", "unserved", "out_of_reach", "nearest"):
        np.testing.assert_array_equal(getattr(opt, f), getattr(again, f))


@SETTINGS
@given(instances())
def test_optimal_matches_lp(inst):
    uxy, sxy, demand, places, radius, om = inst
    open_mask = places > 0 if om is None else om
    opt = allocate_optimal(Arcs.build(uxy, sxy, radius), demand, places, open_mask=om)
    best, dist = lp_optimum(uxy, sxy, demand, places, radius, open_mask)
    served = int(opt.pupils.sum())
    assert served == round(best)
    # exact for rounded costs, so within the rounding on every pupil of the true optimum
    assert opt.total_distance() <= dist + COST_RESOLUTION_M * served + 1e-6 * (1 + dist)
    assert opt.total_distance() >= dist - 1e-6 * (1 + dist)


@SETTINGS
@given(instances(), st.data())
def test_given_catchment_properties(inst, data):
    uxy, sxy, demand, places, radius, om = inst
    open_mask = places > 0 if om is None else om
    cat_ix = np.array(data.draw(st.lists(st.integers(-1, len(sxy) - 1), min_size=len(uxy),
                                         max_size=len(uxy))))
    arcs = Arcs.build(uxy, sxy, radius)
    cat = allocate_catchment(arcs, demand, places, open_mask=om, catchment=cat_ix)
    check_invariants(cat, uxy, sxy, demand, places, radius, open_mask)
    nearest, _ = arcs.nearest_open(open_mask)
    school = np.where((cat_ix >= 0) & open_mask[np.maximum(cat_ix, 0)], cat_ix, nearest)
    assert (cat.school == school[cat.unit]).all()
    opt = allocate_optimal(arcs, demand, places, open_mask=om)
    assert opt.unserved.sum() <= cat.unserved.sum()


@SETTINGS
@given(instances())
def test_arcs_and_nearest_match_dense(inst):
    uxy, sxy, _, _, radius, om = inst
    open_mask = np.ones(len(sxy), bool) if om is None else om
    arcs = Arcs.build(uxy, sxy, radius)
    d = dense(uxy, sxy)
    r = per_unit(radius, len(uxy))
    assert set(zip(arcs.unit.tolist(), arcs.school.tolist())) == set(zip(*np.nonzero(d <= r[:, None])))
    np.testing.assert_array_equal(arcs.distance, d[arcs.unit, arcs.school])
    np.testing.assert_array_equal(arcs.nearest_any_m, d.min(axis=1))
    school, dist = arcs.nearest_open(open_mask)
    dmin = np.where(open_mask[None, :], d, np.inf).min(axis=1)
    np.testing.assert_array_equal(dist, dmin)
    has = np.isfinite(dmin)
    assert (school[~has] == -1).all()
    np.testing.assert_array_equal(d[has, school[has]], dmin[has])
    # within the radius ties go to the lowest index
    inr = dmin <= r
    lowest = np.argmax(np.where(open_mask[None, :], d, np.inf) == dmin[:, None], axis=1)
    np.testing.assert_array_equal(school[inr], lowest[inr])


def test_larger_random_instance_lp():
    rng = np.random.default_rng(7)
    uxy = rng.uniform(0, 8000, (400, 2))
    sxy = rng.uniform(0, 8000, (25, 2))
    demand = rng.integers(0, 40, 400)
    places = rng.integers(100, 600, 25)
    om = np.ones(25, bool)
    opt = allocate(uxy, demand, sxy, places, 1500, "optimal")
    check_invariants(opt, uxy, sxy, demand, places, 1500, om)
    best, dist = lp_optimum(uxy, sxy, demand, places, 1500, om)
    assert opt.pupils.sum() == round(best)
    assert dist - 1e-6 * dist <= opt.total_distance() <= dist + 0.1 * opt.pupils.sum()
    cat = allocate(uxy, demand, sxy, places, 1500, "catchment")
    check_invariants(cat, uxy, sxy, demand, places, 1500, om)
    assert opt.unserved.sum() < cat.unserved.sum()
