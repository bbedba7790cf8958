"""Properties of the plan's building blocks: exact reach classes and runs of temporary places."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from capacity.allocate import Arcs
from capacity.plan.decode import runs
from capacity.plan.formulation import reach_classes


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 40), st.integers(1, 12))
def test_reach_classes_group_exactly_the_units_with_the_same_arcs(seed, n_units, n_sites):
    rng = np.random.default_rng(seed)
    uxy = rng.integers(0, 6, (n_units, 2)) * 500.0          # many units share a point
    sxy = rng.uniform(0, 3000, (n_sites, 2))
    arcs = Arcs.build(uxy, sxy, 1200.0)
    zone = rng.integers(0, 2, n_units)
    far = arcs.distance > 800.0
    cls, n = reach_classes(zone, arcs.start, arcs.school, far)
    assert set(cls) == set(range(n))
    key = [(zone[u], tuple(arcs.school[arcs.start[u]:arcs.start[u + 1]]),
            tuple(far[arcs.start[u]:arcs.start[u + 1]])) for u in range(n_units)]
    for a in range(n_units):
        for b in range(n_units):
            assert (cls[a] == cls[b]) == (key[a] == key[b])


@given(st.lists(st.integers(0, 3), max_size=20))
def test_runs_rebuild_the_series(values):
    arr = np.array(values, float)
    back = np.zeros_like(arr)
    for a, b, v in runs(arr):
        assert a <= b and v > 0
        back[a:b + 1] = v
    assert (back == arr).all()
    spans = runs(arr)
    for (_, b1, v1), (a2, _, v2) in zip(spans, spans[1:]):
        assert a2 > b1 and (a2 > b1 + 1 or v1 != v2)     # maximal runs
