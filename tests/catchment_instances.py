"""Small random catchment instances and a brute-force reference (enumerate every map)."""
from __future__ import annotations

import itertools

import numpy as np

from capacity.catchments.adjacency import csr
from capacity.catchments.problem import Instance, contiguous, score


def grid_instance(rng: np.random.Generator, rows: int, cols: int, n_schools: int,
                  years: int = 1, radius: float = 2.5, current: bool = False,
                  tolerance: float = 0.0) -> Instance:
    """Units on a rows × cols grid (4-neighbour adjacency, 1 apart); schools at random
    units; arcs within ``radius``; random demand and places."""
    n = rows * cols
    xy = np.array([(i % cols, i // cols) for i in range(n)], float)
    u, v = [], []
    for i in range(n):
        if i % cols + 1 < cols:
            u.append(i); v.append(i + 1)
        if i + cols < n:
            u.append(i); v.append(i + cols)
    ptr, idx = csr(np.array(u), np.array(v), n)
    at = rng.choice(n, n_schools, replace=False)
    d = np.hypot(xy[:, None, 0] - xy[at][None, :, 0], xy[:, None, 1] - xy[at][None, :, 1])
    uu, ss = np.nonzero(d <= radius)
    roots = [np.unique(np.r_[a, idx[ptr[a]:ptr[a + 1]]]) for a in at]
    demand = rng.integers(0, 9, (years, n))
    places = rng.integers(0, 25, (years, n_schools))
    inst = Instance(demand, places, uu.astype(np.int64), ss.astype(np.int64),
                    d[uu, ss] * 100.0, ptr, idx, roots, tolerance=tolerance)
    if current:
        inst.current = rng.integers(-1, n_schools, n)
    return inst


def brute_force(inst: Instance) -> tuple:
    """The lexicographically best contiguous map's score key, over every map."""
    start = inst.start
    options = [list(inst.school[start[u]:start[u + 1]]) + [-1] for u in range(inst.n_units)]
    best = None
    for combo in itertools.product(*options):
        m = np.array(combo, np.int64)
        if not contiguous(m, inst.adj_ptr, inst.adj_idx, inst.roots).all():
            continue
        k = score(inst, m).key()
        if best is None or k < best:
            best = k
    return best
