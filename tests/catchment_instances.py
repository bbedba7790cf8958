"""Small random catchment instances and a brute-force reference (enumerate every map)."""
from __future__ import annotations

import itertools

import numpy as np

from capacity.catchments.adjacency import csr
from capacity.catchments.problem import Instance


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


def connected_and_rooted(inst: Instance, m: np.ndarray) -> bool:
    """Every school's units form one 4-connected set holding one of its roots (a plain
    depth-first search, independent of the package)."""
    for s in range(inst.n_schools):
        members = {int(u) for u in np.flatnonzero(m == s)}
        if not members:
            continue
        if not members & {int(r) for r in inst.roots[s]}:
            return False
        start = next(iter(members))
        seen, stack = {start}, [start]
        while stack:
            u = stack.pop()
            for v in inst.adj_idx[inst.adj_ptr[u]:inst.adj_ptr[u + 1]]:
                if int(v) in members and int(v) not in seen:
                    seen.add(int(v))
                    stack.append(int(v))
        if seen != members:
            return False
    return True


def reference_score(inst: Instance, m: np.ndarray) -> tuple:
    """(unserved, pupil-distance, moved) of a map computed loop by loop."""
    cap = np.floor(inst.places * (1 + inst.tolerance) + 1e-9)
    dist = {(int(u), int(s)): float(d) for u, s, d in zip(inst.unit, inst.school, inst.distance)}
    far = 2.0 * max(max(dist.values(), default=0.0), 1.0)
    unserved, total, moved = 0, 0.0, 0
    for t in range(inst.demand.shape[0]):
        for s in range(inst.n_schools):
            load = sum(inst.demand[t, u] for u in range(inst.n_units) if m[u] == s)
            unserved += max(0, load - cap[t, s])
    for u in range(inst.n_units):
        w = int(inst.demand[:, u].sum())
        reach = any(uu == u for uu, _ in dist)
        if m[u] < 0:
            if reach:
                unserved += w
                total += w * far
        else:
            total += w * dist[(u, int(m[u]))]
        if inst.current is not None and inst.current[u] >= 0 and m[u] != inst.current[u]:
            moved += w
    return int(unserved), total, moved


def brute_force(inst: Instance) -> tuple:
    """The lexicographically best contiguous map's (unserved, distance, moved), over every
    map, with the distance level relaxed by ``slack`` for the moved level (0 here)."""
    start = inst.start
    options = [list(inst.school[start[u]:start[u + 1]]) + [-1] for u in range(inst.n_units)]
    best = None
    for combo in itertools.product(*options):
        m = np.array(combo, np.int64)
        if not connected_and_rooted(inst, m):
            continue
        k = reference_score(inst, m)
        if best is None or (k[0], round(k[1], 6), k[2]) < (best[0], round(best[1], 6), best[2]):
            best = k
    return best
