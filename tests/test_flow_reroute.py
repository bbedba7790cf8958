"""The large-network solvers against the plain ones: priced min-cost flows reach the same
optimum as one whole solve; re-routing from the old allocation serves what a fresh
maximum flow serves."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import capacity.allocate as alloc
from capacity import flow, reroute
from capacity.allocate import COST_RESOLUTION_M, Arcs, allocate_optimal, max_served
from capacity.reroute import Residual


def _instance(seed: int, n_units: int, n_schools: int, radius: float):
    rng = np.random.default_rng(seed)
    arcs = Arcs.build(rng.uniform(0, 4000, (n_units, 2)), rng.uniform(0, 4000, (n_schools, 2)),
                      radius * rng.choice([1.0, 2.0], n_units))
    return rng, arcs, rng.integers(0, 30, n_units), rng.integers(0, 90, n_schools)


def _objective(a) -> tuple[int, int]:
    cost = np.rint(a.distance / COST_RESOLUTION_M).astype(np.int64)
    return int(a.pupils.sum()), int(cost @ a.pupils)


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 60), st.integers(1, 12),
       st.floats(500, 4000), st.integers(1, 3))
def test_priced_flows_reach_the_whole_networks_optimum(seed, n_units, n_schools, radius, k):
    _, arcs, demand, places = _instance(seed, n_units, n_schools, radius)
    whole = allocate_optimal(arcs, demand, places)
    use = (demand[arcs.unit] > 0) & (places[arcs.school] > 0)
    cost = alloc.arc_costs(arcs)
    f = flow.priced_flows(arcs.unit, arcs.school, cost, demand, places, arcs.near(k), use)
    assert int(f.sum()) == _objective(whole)[0]
    assert int(cost.astype(np.int64) @ f) == _objective(whole)[1]
    assert not f[~use].any()
    assert (np.bincount(arcs.school, weights=f, minlength=len(places)) <= places).all()
    assert (np.bincount(arcs.unit, weights=f, minlength=len(demand)) <= demand).all()


def test_the_duals_refuse_a_flow_that_is_not_optimal():
    # one unit, two schools: sending the pupil to the farther one is not optimal
    unit, school = np.array([0, 0]), np.array([0, 1])
    cost, demand, places = np.array([10, 50]), np.array([1]), np.array([1, 1])
    big_m = flow.unserved_cost(demand, cost)
    assert flow.duals(unit, school, cost, np.array([1, 0]), demand, places, big_m) is not None
    assert flow.duals(unit, school, cost, np.array([0, 1]), demand, places, big_m) is None


def test_large_networks_take_the_priced_path_and_the_same_optimum(monkeypatch):
    _, arcs, demand, places = _instance(7, 400, 40, 3000)
    whole = allocate_optimal(arcs, demand, places)
    calls = []
    monkeypatch.setattr(alloc, "PRICING_MIN_ARCS", 0)
    monkeypatch.setattr(alloc, "PRICING_ARCS_PER_UNIT", 2)
    monkeypatch.setattr(flow, "PRICE_CHUNK", 97)        # pricing by chunks
    monkeypatch.setattr(alloc, "priced_flows",
                        lambda *a: calls.append(1) or flow.priced_flows(*a))
    priced = allocate_optimal(arcs, demand, places)
    assert calls and _objective(priced) == _objective(whole)
    np.testing.assert_array_equal(priced.unserved.sum(), whole.unserved.sum())


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 50), st.integers(1, 12),
       st.floats(200, 2500), st.integers(1, 3))
def test_rerouting_serves_what_a_fresh_max_flow_serves(seed, n_units, n_schools, radius,
                                                       n_cut):
    rng, arcs, demand, places = _instance(seed, n_units, n_schools, radius)
    residual = Residual(arcs, demand, places, allocate_optimal(arcs, demand, places))
    fewer = places.copy()
    cut = rng.choice(n_schools, size=min(n_cut, n_schools), replace=False)
    fewer[cut] = (fewer[cut] * rng.uniform(0, 1, len(cut))).astype(np.int64)
    fewer[cut[rng.uniform(size=len(cut)) < 0.3]] = 0      # some sites close
    chunk, near = reroute.CHUNK, reroute.NEAR_K
    try:
        reroute.CHUNK = int(rng.choice([chunk, 7]))     # 7: the large-network path,
        reroute.NEAR_K = int(rng.choice([1, 2, 8]))     # from few nearest sites, grown
        assert residual.served_with(fewer) == max_served(arcs, demand, fewer)
        assert residual.served_with(places) == max_served(arcs, demand, places)
    finally:
        reroute.CHUNK, reroute.NEAR_K = chunk, near


def test_a_long_chain_of_moves_is_found_by_growing_the_nearest_sites(monkeypatch):
    """Units and sites on a line, 1 km apart, each unit reaching its neighbours: closing
    the first site moves every unit one site along to the room at the far end. The nearest
    site alone (NEAR_K = 1) holds no such path; the level graph adds it, and the flow is
    then proved maximum."""
    n = 12
    xy = np.c_[np.arange(n) * 1000.0, np.zeros(n)]
    arcs = Arcs.build(xy, xy, 1100.0)
    demand = np.full(n, 10)
    places = np.r_[np.full(n - 1, 10), 20]
    residual = Residual(arcs, demand, places, allocate_optimal(arcs, demand, places))
    grown = []
    grow = Residual._grow
    monkeypatch.setattr(Residual, "_grow", lambda self, *a, **k: grown.append(
        grow(self, *a, **k)) or grown[-1])
    monkeypatch.setattr(reroute, "CHUNK", 7)
    monkeypatch.setattr(reroute, "NEAR_K", 1)
    for cut, served in ((0, 120), (5, 120), (15, 115)):     # room for 10 at the far end
        fewer = places.copy()
        fewer[0] -= min(cut, 10)
        fewer[1] -= max(cut - 10, 0)
        assert residual.served_with(fewer) == max_served(arcs, demand, fewer) == served
    assert any(g is not None and len(g) for g in grown)     # paths were added ...
    assert any(g is None for g in grown)                    # ... and a maximum proved
