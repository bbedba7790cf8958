"""The large-neighbourhood search and the single-sourcing bound (docs/catchments.md):
never worse, always contiguous, the brute-force optimum when a window is the whole
problem; the bound between the split bound and the brute-force optimum."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

sys.path.insert(0, str(Path(__file__).parent))
from catchment_instances import (brute_force, connected_and_rooted, grid_instance,  # noqa: E402
                                 reference_score)

from capacity.catchments.heuristic import repair  # noqa: E402
from capacity.catchments.lns import lns  # noqa: E402
from capacity.catchments.milp import single_sourcing_bound  # noqa: E402
from capacity.catchments.solve import flow_map  # noqa: E402


def _key(k: tuple) -> tuple:
    return k[0], round(k[1], 6), k[2]


def _bad_start(inst, rng) -> np.ndarray:
    """A random map in reach, made contiguous: far from good."""
    m = np.full(inst.n_units, -1, np.int64)
    for u in range(inst.n_units):
        opts = inst.school[inst.start[u]:inst.start[u + 1]]
        if len(opts):
            m[u] = rng.choice(opts)
    return repair(inst, m)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), rows=st.integers(2, 5), cols=st.integers(3, 7),
       schools=st.integers(2, 6), years=st.integers(1, 3), cur=st.booleans(),
       max_schools=st.integers(2, 4), max_arcs=st.integers(6, 80))
def test_lns_never_worsens_and_keeps_catchments_contiguous(seed, rows, cols, schools, years,
                                                          cur, max_schools, max_arcs):
    rng = np.random.default_rng(seed)
    inst = grid_instance(rng, rows, cols, min(schools, rows * cols), years=years,
                         radius=float(rng.uniform(1.0, 4.0)), current=cur)
    start = _bad_start(inst, rng)
    assert connected_and_rooted(inst, start)
    m, stats = lns(inst, start, time.perf_counter() + 3.0, max_arcs=max_arcs,
                   max_schools=max_schools)
    on = m >= 0
    assert (inst.arc_of(np.flatnonzero(on), m[on]) >= 0).all()        # within reach
    assert connected_and_rooted(inst, m)
    assert _key(reference_score(inst, m)) <= _key(reference_score(inst, start))
    if stats["improved"]:
        assert _key(reference_score(inst, m)) < _key(reference_score(inst, start))


@pytest.mark.parametrize("seed", range(16))
def test_lns_reaches_the_brute_force_optimum_when_a_window_is_everything(seed):
    """Two or three schools on at most 8 units, from a random contiguous map: a window of
    every school is the whole problem, so the search ends at the optimum."""
    rng = np.random.default_rng(100 + seed)
    rows, cols = (2, 4) if seed % 2 else (2, 3)
    inst = grid_instance(rng, rows, cols, 2 + seed % 2, years=1 + seed % 2, radius=2.5)
    start = _bad_start(inst, rng)
    best = brute_force(inst)
    m, _ = lns(inst, start, time.perf_counter() + 20.0, max_arcs=10**6, max_schools=4)
    assert _key(reference_score(inst, m)) == _key(best)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10**6), years=st.integers(1, 2))
def test_single_sourcing_bound_lies_between_split_bound_and_optimum(seed, years):
    rng = np.random.default_rng(seed)
    inst = grid_instance(rng, 2, 4, 2 + seed % 2, years=years, radius=2.0)
    b = single_sourcing_bound(inst, 5.0)
    _, split = flow_map(inst)
    best = brute_force(inst)[0]
    assert b is not None
    assert split - 1e-6 <= b <= best + 1e-6


def three_units():
    """Three units of 10 pupils on a line, two schools of 15 places at the ends, both
    reaching every unit: split, 30 pupils fit 30 places (bound 0); whole units, one school
    takes two units, 5 over (the single-sourcing bound and the optimum: 5)."""
    from capacity.catchments.adjacency import csr
    from capacity.catchments.problem import Instance

    ptr, idx = csr(np.arange(2), np.arange(1, 3), 3)
    unit, school = np.repeat(np.arange(3), 2), np.tile([0, 1], 3)
    dist = np.abs(np.arange(3)[unit] - np.array([0, 2])[school]) * 100.0
    return Instance(np.array([[10, 10, 10]]), np.array([[15, 15]]), unit, school, dist,
                    ptr, idx, [np.array([0, 1]), np.array([1, 2])])


def test_single_sourcing_bound_hand_value_and_design_reports_its_basis():
    from capacity.catchments.solve import design

    inst = three_units()
    assert flow_map(inst)[1] == 0
    assert single_sourcing_bound(inst, 5.0) == pytest.approx(5)
    d = design(inst, 4.0, exact_max_arcs=0)          # the heuristic path, then the search
    assert d.status == "heuristic" and d.bound_basis == "single" and d.bound == 5
    assert d.score.unserved == 5 == brute_force(inst)[0] and d.gap == 0
    assert design(inst, 4.0).bound_basis == "exact"
