"""Which demand units are neighbours, and which units may hold a school (its roots).

**Rule** (docs/catchments.md): every unit owns the Voronoi cell of its point, clipped to
the district (the cells the catchment maps draw, :func:`capacity.report.catchment.
voronoi_cells`); two units are **adjacent** when their cells share a boundary of at least
:data:`MIN_SHARED_M` metres (a corner is not enough), and units at the same point share one
cell and are adjacent. A school's **roots** are the unit whose cell holds it (the unit
nearest the school) and that unit's neighbours: a catchment must contain one of them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from scipy.spatial import Delaunay, cKDTree

from ..report.catchment import voronoi_cells

#: Shortest shared cell boundary (metres) that makes two units adjacent.
MIN_SHARED_M = 1.0


@dataclass
class Adjacency:
    """Unit adjacency as CSR (``ptr`` (U+1,), ``idx``), symmetric, without self-loops;
    ``cells`` the units' cells (shared objects for units at one point)."""

    ptr: np.ndarray
    idx: np.ndarray
    cells: np.ndarray

    def neighbours(self, u: int) -> np.ndarray:
        return self.idx[self.ptr[u]:self.ptr[u + 1]]

    @property
    def n_units(self) -> int:
        return len(self.ptr) - 1

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(E,) directed edges ``u → v`` (each undirected edge twice)."""
        return np.repeat(np.arange(self.n_units), np.diff(self.ptr)), self.idx


def csr(u: np.ndarray, v: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric CSR of the undirected edges ``u–v`` (duplicates and loops dropped)."""
    a = np.concatenate([u, v]).astype(np.int64)
    b = np.concatenate([v, u]).astype(np.int64)
    keep = a != b
    key = np.unique(a[keep] * max(n, 1) + b[keep])
    a, b = key // max(n, 1), key % max(n, 1)
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(a, minlength=n), out=ptr[1:])
    return ptr, b


def unit_adjacency(xy: np.ndarray, district: Any) -> Adjacency:
    """Adjacency of units at ``xy`` (projected metres) whose cells are clipped to
    ``district`` (a polygon, or None: unclipped)."""
    xy = np.asarray(xy, np.float64).reshape(-1, 2)
    n = len(xy)
    cells = voronoi_cells(xy, district)
    uniq, inverse = np.unique(np.round(xy, 1), axis=0, return_inverse=True)
    inverse = np.asarray(inverse).ravel()
    # candidate pairs: Voronoi neighbours are Delaunay neighbours
    if len(uniq) >= 3 and np.linalg.matrix_rank(uniq - uniq[0]) == 2:
        tri = Delaunay(uniq)
        ip, ix = tri.vertex_neighbor_vertices
        a = np.repeat(np.arange(len(uniq)), np.diff(ip))
        b = ix.astype(np.int64)
    else:   # collinear or tiny: consecutive points along the line
        order = np.lexsort((uniq[:, 1], uniq[:, 0]))
        a, b = order[:-1], order[1:]
    keep = a < b
    a, b = a[keep], b[keep]
    ucell = np.empty(len(uniq), dtype=object)
    ucell[inverse] = cells
    shared = shapely.length(shapely.intersection(shapely.boundary(ucell[a]),
                                                 shapely.boundary(ucell[b])))
    ok = shared >= MIN_SHARED_M
    a, b = a[ok], b[ok]
    # map unique points back to units; units at one point are all adjacent to each other
    members = [[] for _ in range(len(uniq))]
    for u, p in enumerate(inverse):
        members[p].append(u)
    ua, ub = [], []
    for p, q in zip(a, b):
        for u in members[p]:
            ua.extend([u] * len(members[q]))
            ub.extend(members[q])
    for m in members:
        if len(m) > 1:
            for i in m:
                ua.extend([i] * len(m))
                ub.extend(m)
    ptr, idx = csr(np.asarray(ua, np.int64), np.asarray(ub, np.int64), n)
    return Adjacency(ptr, idx, cells)


def school_roots(adj: Adjacency, unit_xy: np.ndarray, school_xy: np.ndarray
                 ) -> list[np.ndarray]:
    """Per school, its roots: the unit nearest it (whose cell holds it) and that unit's
    neighbours, sorted."""
    if not len(unit_xy):
        return [np.zeros(0, np.int64) for _ in range(len(school_xy))]
    near = cKDTree(np.asarray(unit_xy, float)).query(np.asarray(school_xy, float), k=1)[1]
    return [np.unique(np.r_[int(u), adj.neighbours(int(u))]) for u in np.atleast_1d(near)]
