"""Properties of the plan's building blocks: exact reach classes, the k nearest candidate
arcs of each class, and runs of temporary places."""
from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from capacity.allocate import Arcs
from capacity.plan.data import StageData, nearest_candidates, reach_classes
from capacity.plan.decode import runs


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 40), st.integers(1, 12))
def test_reach_classes_group_exactly_the_units_with_the_same_arcs(seed, n_units, n_sites):
    rng = np.random.default_rng(seed)
    uxy = rng.integers(0, 6, (n_units, 2)) * 500.0          # many units share a point
    sxy = rng.uniform(0, 3000, (n_sites, 2))
    arcs = Arcs.build(uxy, sxy, 1200.0)
    start = np.searchsorted(arcs.unit, np.arange(n_units + 1))
    zone = rng.integers(0, 2, n_units)
    eligible = rng.random((n_units, 3)) < 0.5
    far = arcs.distance > 800.0
    keys = [(int(zone[u]), arcs.school[start[u]:start[u + 1]].tobytes(),
             far[start[u]:start[u + 1]].tobytes(), eligible[u].tobytes())
            for u in range(n_units)]
    cls, n = reach_classes(keys)
    assert set(cls) == set(range(n))
    # classes numbered in order of first sight
    firsts = [cls[u] for u in range(n_units) if cls[u] not in cls[:u]]
    assert firsts == list(range(n))
    plain = [(zone[u], tuple(arcs.school[start[u]:start[u + 1]]),
              tuple(far[start[u]:start[u + 1]]), tuple(eligible[u])) for u in range(n_units)]
    for a in range(n_units):
        for b in range(n_units):
            assert (cls[a] == cls[b]) == (plain[a] == plain[b])


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 5))
def test_nearest_candidates_keeps_existing_arcs_and_the_k_nearest_candidates(seed, k):
    rng = np.random.default_rng(seed)
    C, S, J = int(rng.integers(1, 5)), int(rng.integers(0, 3)), int(rng.integers(0, 6))
    pairs = [(c, s) for c in range(C) for s in range(S + J) if rng.random() < 0.7]
    arcs = pd.DataFrame(pairs, columns=["cls", "site"], dtype=int)
    arcs["transport"] = rng.random(len(arcs)) < 0.3
    arcs["distance_m"] = rng.permutation(len(arcs)) * 100.0 + 50.0     # no ties
    data = StageData(years=np.array([2021]), demand=np.ones((1, C, 1)), weights=np.ones(1),
                     arcs=arcs, eligible=np.ones((C, 1), bool), places=np.ones((S, 1)),
                     expand_max=np.zeros(S, int), cand_sizes=[(1,)] * J,
                     cand_earliest=np.full(J, 2021))
    got = nearest_candidates(data, k).arcs
    key = lambda f: set(zip(f["cls"], f["site"]))    # noqa: E731
    want = set()
    for c in range(C):
        mine = arcs[arcs["cls"] == c]
        want |= key(mine[mine["site"] < S])
        cand = mine[mine["site"] >= S].sort_values("distance_m")
        want |= key(cand if k <= 0 else cand.head(k))
    assert key(got) == want
    assert len(got) == len(want)


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
