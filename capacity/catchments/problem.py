"""One catchment design problem and how a map of it scores (docs/catchments.md).

A map assigns every unit in reach of a candidate school wholly to one of them (``-1``:
not assigned). Its score is lexicographic:

1. **unserved** pupils: Σ over years and schools of ``max(0, pupils − cap)``, where
   ``cap = ⌊places × (1 + tolerance)⌋``, plus the pupils of units left unassigned (only when
   contiguity leaves no school to join);
   Units without any candidate school in reach are out of reach and not counted;
2. **pupil-distance**: Σ over units of (pupils over the years) × distance to its school;
   an unassigned unit counts :data:`UNASSIGNED_DISTANCE_FACTOR` × the longest arc;
3. **pupils moved**: Σ over units with a school in the current map of (pupils over the
   years) whose school differs from it.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from .adjacency import csr

#: An unassigned unit's distance, in longest arcs (above any school it could join).
UNASSIGNED_DISTANCE_FACTOR = 2.0


@dataclass
class Instance:
    """Units (local indices), candidate schools, arcs within reach, adjacency, roots."""

    demand: np.ndarray        # (T, U) int64 pupils per year of the span
    places: np.ndarray        # (T, S) int64 places per year
    unit: np.ndarray          # (A,) int64 arc unit, sorted by (unit, school)
    school: np.ndarray        # (A,) int64 arc school
    distance: np.ndarray      # (A,) float64 metres
    adj_ptr: np.ndarray       # (U+1,) unit adjacency (CSR, symmetric)
    adj_idx: np.ndarray       # (E,)
    roots: list[np.ndarray]   # per school: units that may hold it (sorted)
    tolerance: float = 0.0
    current: np.ndarray | None = None   # (U,) school of the current map, -1 none
    cache: dict = field(default_factory=dict, repr=False)

    @property
    def n_units(self) -> int:
        return self.demand.shape[1]

    @property
    def n_schools(self) -> int:
        return self.places.shape[1]

    @property
    def cap(self) -> np.ndarray:
        """(T, S) pupils a school takes without penalty."""
        return np.floor(self.places * (1.0 + self.tolerance) + 1e-9).astype(np.int64)

    @property
    def weight(self) -> np.ndarray:
        """(U,) pupils of each unit summed over the span's years."""
        return self.demand.sum(axis=0)

    @property
    def start(self) -> np.ndarray:
        """(U+1,) CSR offsets of each unit's arcs."""
        if "start" not in self.cache:
            s = np.zeros(self.n_units + 1, np.int64)
            np.cumsum(np.bincount(self.unit, minlength=self.n_units), out=s[1:])
            self.cache["start"] = s
        return self.cache["start"]

    def arc_of(self, unit: np.ndarray, school: np.ndarray) -> np.ndarray:
        """Arc index of each (unit, school) pair; -1 where there is none."""
        key = self.unit * self.n_schools + self.school
        want = np.asarray(unit, np.int64) * self.n_schools + np.asarray(school, np.int64)
        if not len(key):
            return np.full(len(want), -1, np.int64)
        pos = np.minimum(np.searchsorted(key, want), len(key) - 1)
        return np.where(key[pos] == want, pos, -1)

    def neighbours(self, u: int) -> np.ndarray:
        return self.adj_idx[self.adj_ptr[u]:self.adj_ptr[u + 1]]

    def unassigned_m(self) -> float:
        return UNASSIGNED_DISTANCE_FACTOR * max(float(self.distance.max(initial=0.0)), 1.0)


@dataclass(frozen=True)
class Score:
    """A map's three levels."""

    unserved: int
    distance: float
    moved: int

    def key(self) -> tuple[int, float, int]:
        return self.unserved, self.distance, self.moved


def loads(inst: Instance, school_of: np.ndarray) -> np.ndarray:
    """(T, S) pupils each school's catchment holds per year."""
    on = school_of >= 0
    out = np.zeros((inst.demand.shape[0], inst.n_schools), np.int64)
    for t in range(inst.demand.shape[0]):
        out[t] = np.bincount(school_of[on], weights=inst.demand[t, on],
                             minlength=inst.n_schools).astype(np.int64)
    return out


def score(inst: Instance, school_of: np.ndarray) -> Score:
    """The three levels of a map (``school_of`` (U,) school or -1)."""
    school_of = np.asarray(school_of, np.int64)
    on = school_of >= 0
    excess = np.maximum(loads(inst, school_of) - inst.cap, 0).sum()
    w = inst.weight
    unassigned = int(w[~on & (np.diff(inst.start) > 0)].sum())   # out of reach: not counted
    arc = inst.arc_of(np.flatnonzero(on), school_of[on])
    if (arc < 0).any():
        raise ValueError("a unit is assigned to a school out of its reach")
    dist = float(np.dot(w[on], inst.distance[arc])) + unassigned * inst.unassigned_m()
    return Score(int(excess) + unassigned, dist, moved(inst, school_of))


def moved(inst: Instance, school_of: np.ndarray) -> int:
    """Pupils (over the span) whose school differs from the current map's."""
    if inst.current is None:
        return 0
    had = inst.current >= 0
    return int(inst.weight[had & (school_of != inst.current)].sum())


def components(members: np.ndarray, ptr: np.ndarray, idx: np.ndarray) -> list[list[int]]:
    """Connected components (lists of units) of the units ``members`` in the adjacency."""
    inside = set(int(u) for u in members)
    seen: set[int] = set()
    out = []
    for u0 in members:
        u0 = int(u0)
        if u0 in seen:
            continue
        comp, queue = [u0], deque([u0])
        seen.add(u0)
        while queue:
            u = queue.popleft()
            for v in idx[ptr[u]:ptr[u + 1]]:
                v = int(v)
                if v in inside and v not in seen:
                    seen.add(v)
                    comp.append(v)
                    queue.append(v)
        out.append(comp)
    return out


def contiguous(school_of: np.ndarray, ptr: np.ndarray, idx: np.ndarray,
               roots: list[np.ndarray]) -> np.ndarray:
    """(S,) whether each school's catchment is one connected set of adjacent units holding
    one of its roots (an empty catchment counts as contiguous)."""
    school_of = np.asarray(school_of)
    out = np.ones(len(roots), bool)
    for s in range(len(roots)):
        members = np.flatnonzero(school_of == s)
        if len(members):
            comps = components(members, ptr, idx)
            out[s] = len(comps) == 1 and bool(np.isin(roots[s], members).any())
    return out


def subset(inst: Instance, units: np.ndarray, schools: np.ndarray) -> Instance:
    """The part of ``inst`` on ``units`` and ``schools`` (sorted), with local indices."""
    n_u = inst.n_units
    u_loc = np.full(n_u, -1, np.int64)
    u_loc[units] = np.arange(len(units))
    s_loc = np.full(inst.n_schools, -1, np.int64)
    s_loc[schools] = np.arange(len(schools))
    a = np.flatnonzero((u_loc[inst.unit] >= 0) & (s_loc[inst.school] >= 0))
    eu, ev = np.repeat(np.arange(n_u), np.diff(inst.adj_ptr)), inst.adj_idx
    keep = (u_loc[eu] >= 0) & (u_loc[ev] >= 0)
    ptr, idx = csr(u_loc[eu[keep]], u_loc[ev[keep]], len(units))
    roots = [u_loc[inst.roots[s]][u_loc[inst.roots[s]] >= 0] for s in schools]
    cur = None if inst.current is None else np.where(
        inst.current[units] >= 0, s_loc[np.maximum(inst.current[units], 0)], -1)
    return Instance(inst.demand[:, units], inst.places[:, schools], u_loc[inst.unit[a]],
                    s_loc[inst.school[a]], inst.distance[a], ptr, idx, roots,
                    inst.tolerance, cur)
