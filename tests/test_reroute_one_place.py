"""Re-routing shed pupils to sites with exactly one free place (capacity/reroute.py,
criticality.py), against hand counts and a fresh maximum flow from scipy
(``scipy.sparse.csgraph.maximum_flow``, a second solver on the whole network)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import maximum_flow

from capacity import reroute
from capacity.allocate import allocate_optimal
from capacity.arcs import Arcs
from capacity.cli import main
from capacity.reroute import Residual
from hand_model import write_hand_model, write_scenario


def scipy_served(arcs: Arcs, demand: np.ndarray, places: np.ndarray) -> int:
    """Most pupils served with ``places``: source → units (demand) → sites in reach
    (unbounded) → sink (places), solved afresh by scipy."""
    n_u, n_s = arcs.n_units, arcs.n_schools
    source, sink = n_u + n_s, n_u + n_s + 1
    big = int(demand.sum()) + 1
    tail = np.r_[np.full(n_u, source), arcs.unit, n_u + np.arange(n_s)]
    head = np.r_[np.arange(n_u), n_u + arcs.school, np.full(n_s, sink)]
    cap = np.r_[demand, np.full(len(arcs.unit), big), places].astype(np.int32)
    graph = sp.csr_matrix((cap, (tail, head)), shape=(n_u + n_s + 2,) * 2)
    return int(maximum_flow(graph, source, sink).flow_value)


def line(xs: list[float], sites: list[float], radius: float) -> Arcs:
    return Arcs.build(np.c_[xs, np.zeros(len(xs))], np.c_[sites, np.zeros(len(sites))], radius)


def test_shed_pupils_take_the_one_free_place_next_door():
    """U1 (10 pupils) at A (10 places) also reaches B; U2 (4) reaches only B (5 places), so
    B has one free place. Closing A sheds 10; one moves to B: 14 − 10 + 1 = 5 served."""
    arcs = line([0.0, 2000.0], [0.0, 1000.0], 1100.0)
    demand, places = np.array([10, 4]), np.array([10, 5])
    residual = Residual(arcs, demand, places, allocate_optimal(arcs, demand, places))
    fewer = np.array([0, 5])
    assert residual.served_with(fewer) == 5 == scipy_served(arcs, demand, fewer)
    assert residual.served_with(np.array([9, 5])) == 14 - 1 + 1 == 14   # one shed, one moved


def test_shed_pupils_take_one_free_place_two_moves_away():
    """U1 (10) at A (10) also reaches B; B (5) is full with U2 (5), which also reaches C;
    C (3 places) holds U3 (2): one free place. Closing A: U2 moves one pupil to C, U1 takes
    its place at B: 17 − 10 + 1 = 8 served."""
    arcs = line([0.0, 2000.0, 4000.0], [0.0, 1500.0, 3000.0], 1600.0)
    assert sorted(zip(arcs.unit, arcs.school)) == [(0, 0), (0, 1), (1, 1), (1, 2), (2, 2)]
    demand, places = np.array([10, 5, 2]), np.array([10, 5, 3])
    base = allocate_optimal(arcs, demand, places)
    assert list(base.load(3)) == [10, 5, 2]
    residual = Residual(arcs, demand, places, base)
    fewer = np.array([0, 5, 3])
    assert residual.served_with(fewer) == 8 == scipy_served(arcs, demand, fewer)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 40), st.integers(2, 10), st.floats(600, 2500))
def test_rerouting_with_sites_one_place_from_full(seed, n_units, n_sites, radius):
    """Random instances whose sites each have 0 or 1 free place after the base allocation:
    served with some sites cut equals a fresh scipy maximum flow."""
    rng = np.random.default_rng(seed)
    arcs = Arcs.build(rng.uniform(0, 4000, (n_units, 2)), rng.uniform(0, 4000, (n_sites, 2)),
                      radius)
    demand = rng.integers(0, 20, n_units)
    wide = rng.integers(0, 40, n_sites)
    base = allocate_optimal(arcs, demand, wide)
    # places = load + 0 or 1, within the places it was solved with: the base flow stays
    # maximum (it was with as many or more places)
    places = np.minimum(wide, base.load(n_sites) + rng.integers(0, 2, n_sites))
    residual = Residual(arcs, demand, places, base)
    fewer = places.copy()
    cut = rng.choice(n_sites, size=int(rng.integers(1, n_sites + 1)), replace=False)
    fewer[cut] = (fewer[cut] * rng.uniform(0, 1, len(cut))).astype(np.int64)
    chunk, near = reroute.CHUNK, reroute.NEAR_K
    try:
        for reroute.CHUNK, reroute.NEAR_K in ((chunk, near), (7, 1)):  # whole; grown
            assert residual.served_with(fewer) == scipy_served(arcs, demand, fewer)
    finally:
        reroute.CHUNK, reroute.NEAR_K = chunk, near


def test_criticality_counts_the_one_free_place(tmp_path, capsys):
    """End to end: zone A (60 pupils a year) is served by the new school newA (60 places,
    opening 2021) and also reaches school B at 1 km; zone C (24 pupils) reaches only B (25
    places: one free). Dropping newA leaves 60 − 1 = 59 more pupils short in each of
    2021–2023: 177 pupil-years, peak 59 in 2021."""
    write_hand_model(
        tmp_path / "model", {"A": (0, 0), "M": (1000, 0), "C": (2000, 0)},
        {"A": {a: 5 for a in range(12)}, "C": {a: 2 for a in range(12)}}, radius_m=1200,
        schools=[{"school_id": "B", "name": "B", "stage": "primary", "x": 1000, "y": 0,
                  "places": 25}],
        projects=[{"project_id": "newA", "name": "New A", "kind": "new", "stage": "primary",
                   "x": 0, "y": 0, "places": 60, "open_year": 2021}])
    scen = write_scenario(tmp_path / "crit.toml", "model", 2023,
                          '[allocation]\nmode = "optimal"\n')
    assert main(["run", str(scen), "-o", str(tmp_path / "out"), "--no-maps"]) == 0
    capsys.readouterr()
    crit = pd.read_csv(tmp_path / "out" / "crit" / "criticality.csv").set_index("project_id")
    row = crit.loc["newA"]
    assert row["extra_shortfall_if_dropped"] == pytest.approx(59 * 3)
    assert row["extra_shortfall_if_dropped_peak"] == pytest.approx(59)
    assert int(row["peak_year"]) == 2021
