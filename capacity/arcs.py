"""Unit → site arcs within each unit's service radius, for one stage (docs/allocation.md).

:class:`Arcs` holds the pairs sorted by (unit, site) as CSR rows per unit, with each unit's
nearest site; :meth:`Arcs.build` finds them by KD-trees on the straight line in the
model's projected CRS (float64 metres, ``distance <= radius``, closed);
:meth:`Arcs.from_pairs` takes them from any other distance rule.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree

#: Integer type of the arcs' unit and school indices (half of int64's memory: a city-wide
#: stage has 10^7 arcs; OR-Tools takes int32 node ids).
INDEX = np.int32

__all__ = ["Arcs", "csr_positions", "straight_line"]


def straight_line(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise Euclidean distance; the single definition used everywhere."""
    return np.hypot(a[..., 0] - b[..., 0], a[..., 1] - b[..., 1])


@dataclass
class Arcs:
    """Unit → school pairs within the radius, sorted by (unit, school).

    ``start[u]:start[u+1]`` slices the arcs of unit ``u``. ``nearest_any``/``nearest_any_m``
    are each unit's nearest school of the stage at any distance, all schools counted open.
    """

    unit: np.ndarray           # (A,) int32 (:data:`INDEX`)
    school: np.ndarray         # (A,) int32
    distance: np.ndarray       # (A,) float64 metres, <= radius of the arc's unit
    start: np.ndarray          # (U+1,) int64 CSR offsets into the arcs
    unit_xy: np.ndarray        # (U, 2)
    school_xy: np.ndarray      # (S, 2)
    radius: np.ndarray         # (U,) float64 metres, each unit's service radius
    nearest_any: np.ndarray    # (U,) int64, -1 when there are no schools
    nearest_any_m: np.ndarray  # (U,) float64, inf when there are no schools
    cache: dict = field(default_factory=dict, repr=False, compare=False)  # derived, once

    @property
    def n_units(self) -> int:
        return len(self.unit_xy)

    @property
    def n_schools(self) -> int:
        return len(self.school_xy)

    def __len__(self) -> int:
        return len(self.unit)

    @classmethod
    def build(cls, unit_xy: np.ndarray, school_xy: np.ndarray,
              radius: float | np.ndarray) -> "Arcs":
        """All pairs with ``distance <= radius`` by KD-trees (no dense U × S matrix).

        ``radius`` is one number or one per unit (metres, ≥ 0).
        """
        uxy = np.asarray(unit_xy, dtype=np.float64).reshape(-1, 2)
        sxy = np.asarray(school_xy, dtype=np.float64).reshape(-1, 2)
        n_u, n_s = len(uxy), len(sxy)
        radius = np.broadcast_to(np.asarray(radius, np.float64), (n_u,)).copy()
        if (radius < 0).any() or not np.isfinite(radius).all():
            raise ValueError("radius must be finite and >= 0")
        if n_u and n_s:
            st = cKDTree(sxy)
            u, s = _pairs_within(uxy, st, radius)
            d = straight_line(uxy[u], sxy[s])
            keep = d <= radius[u]
            u, s, d = u[keep], s[keep], d[keep]
            order = np.argsort(u * n_s + s, kind="stable")  # unique keys: (unit, school)
            u, s, d = u[order], s[order], d[order]
            near_s = st.query(uxy, k=1)[1].astype(np.int64)
            near_d = straight_line(uxy, sxy[near_s])
        else:
            u = s = np.zeros(0, np.int64)
            d = np.zeros(0)
            near_s = np.full(n_u, -1, np.int64)
            near_d = np.full(n_u, np.inf)
        start = np.zeros(n_u + 1, np.int64)
        np.cumsum(np.bincount(u, minlength=n_u), out=start[1:])
        arcs = cls(u.astype(INDEX), s.astype(INDEX), d, start, uxy, sxy, radius, near_s,
                   np.asarray(near_d, np.float64))
        if n_s:
            # deterministic tie-break to the lowest index among in-radius ties
            first, has = arcs.nearest_arc(np.ones(len(u), bool))
            arcs.nearest_any[has] = s[first[has]]
            arcs.nearest_any_m[has] = d[first[has]]
        return arcs

    @classmethod
    def from_pairs(cls, unit: np.ndarray, school: np.ndarray, distance: np.ndarray,
                   unit_xy: np.ndarray, school_xy: np.ndarray,
                   radius: float | np.ndarray) -> "Arcs":
        """Arcs from any distance rule: the (unit, school, metres) pairs within reach.

        Pairs are sorted here; ``nearest_any`` is then the nearest school among the arcs
        (-1 / inf for a unit without arcs).
        """
        uxy = np.asarray(unit_xy, np.float64).reshape(-1, 2)
        sxy = np.asarray(school_xy, np.float64).reshape(-1, 2)
        u, s = np.asarray(unit, np.int64), np.asarray(school, np.int64)
        d = np.asarray(distance, np.float64)
        order = np.argsort(u * max(len(sxy), 1) + s, kind="stable")
        u, s, d = u[order], s[order], d[order]
        start = np.zeros(len(uxy) + 1, np.int64)
        np.cumsum(np.bincount(u, minlength=len(uxy)), out=start[1:])
        radius = np.broadcast_to(np.asarray(radius, np.float64), (len(uxy),)).copy()
        arcs = cls(u.astype(INDEX), s.astype(INDEX), d, start, uxy, sxy, radius,
                   np.full(len(uxy), -1, np.int64), np.full(len(uxy), np.inf))
        first, has = arcs.nearest_arc(np.ones(len(u), bool))
        arcs.nearest_any[has] = s[first[has]]
        arcs.nearest_any_m[has] = d[first[has]]
        return arcs

    def distance_of(self, unit: np.ndarray, school: np.ndarray) -> np.ndarray:
        """Arc length of each (unit, school) pair; inf where the pair is not an arc."""
        key = self.unit.astype(np.int64) * max(self.n_schools, 1) + self.school
        want = np.asarray(unit, np.int64) * max(self.n_schools, 1) + np.asarray(school, np.int64)
        pos = np.minimum(np.searchsorted(key, want), max(len(key) - 1, 0))
        hit = (key[pos] == want) if len(key) else np.zeros(len(want), bool)
        return np.where(hit, self.distance[pos] if len(key) else np.inf, np.inf)

    def near(self, k: int) -> np.ndarray:
        """(A,) bool: the arc goes to one of its unit's ``k`` nearest sites by straight
        line (a candidate set for :func:`capacity.flow.priced_flows`; cached per k)."""
        if k not in self.cache:
            k_eff = min(k, self.n_schools)
            mask = np.zeros(len(self), bool)
            if k_eff and len(self):
                nb = cKDTree(self.school_xy).query(self.unit_xy, k=k_eff)[1]
                nb = np.asarray(nb, np.int64).reshape(self.n_units, k_eff)
                want = (np.arange(self.n_units)[:, None] * self.n_schools + nb).ravel()
                key = self.unit.astype(np.int64) * self.n_schools + self.school
                pos = np.minimum(np.searchsorted(key, want), len(key) - 1)
                mask[pos[key[pos] == want]] = True
            self.cache[k] = mask
        return self.cache[k]

    def nearest_arc(self, arc_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per unit, index of its nearest arc with ``arc_mask`` (ties: lowest school).

        A unit's nearest arc overall (cached) answers whenever it is in the mask; only
        the other units' arcs are searched (few: the sites closed in a year)."""
        if "first" not in self.cache:
            self.cache["first"] = _nearest_arcs(self.unit, self.distance, self.n_units,
                                                np.arange(len(self.unit)))
        first, has = self.cache["first"]
        hit = has.copy()
        hit[has] = arc_mask[first[has]]
        out = np.where(hit, first, 0)
        rest = np.flatnonzero(has & ~hit)
        if len(rest):
            pos, _ = csr_positions(self.start, rest)
            f2, h2 = _nearest_arcs(self.unit, self.distance, self.n_units, pos[arc_mask[pos]])
            out[rest], hit[rest] = f2[rest], h2[rest]
        return out, hit

    def nearest_open(self, open_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(U,) nearest open school (any distance; -1 if none open) and its distance.

        In-radius ties go to the lowest school index; beyond the radius a KD-tree over the
        open schools is queried only for the units that need it.
        """
        open_mask = np.asarray(open_mask, bool)
        first, has = self.nearest_arc(open_mask[self.school])
        school = np.full(self.n_units, -1, np.int64)
        dist = np.full(self.n_units, np.inf)
        school[has] = self.school[first[has]]
        dist[has] = self.distance[first[has]]
        rest = np.flatnonzero(~has)
        open_idx = np.flatnonzero(open_mask)
        if len(rest) and len(open_idx):
            k = cKDTree(self.school_xy[open_idx]).query(self.unit_xy[rest], k=1)[1]
            school[rest] = open_idx[k]
            dist[rest] = straight_line(self.unit_xy[rest], self.school_xy[school[rest]])
        return school, dist


def csr_positions(ptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the CSR rows ``rows`` (``ptr`` offsets, e.g. ``Arcs.start``), and for
    each position the index into ``rows`` of its row."""
    lo = ptr[rows]
    n = ptr[rows + 1] - lo
    total = int(n.sum())
    if not total:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    which = np.repeat(np.arange(len(rows)), n)
    pos = np.arange(total) - np.repeat(np.cumsum(n) - n, n) + lo[which]
    return pos, which


def _nearest_arcs(unit: np.ndarray, distance: np.ndarray, n_units: int, idx: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Per unit, the nearest of the arcs ``idx`` (sorted; ties: the first, i.e. the lowest
    school) and whether it has one."""
    first = np.zeros(n_units, np.int64)
    has = np.zeros(n_units, bool)
    if len(idx):
        u, d = unit[idx], distance[idx]
        lead = np.ones(len(idx), bool)
        lead[1:] = u[1:] != u[:-1]
        starts = np.flatnonzero(lead)
        seg_min = np.minimum.reduceat(d, starts)
        at_min = np.flatnonzero(d == np.repeat(seg_min, np.diff(starts, append=len(idx))))
        um = u[at_min]
        lead = np.ones(len(at_min), bool)
        lead[1:] = um[1:] != um[:-1]  # arcs of a unit are in school order
        first[um[lead]] = idx[at_min[lead]]
        has[um[lead]] = True
    return first, has


def _pairs_within(uxy: np.ndarray, school_tree: cKDTree, radius: np.ndarray,
                  groups: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """Candidate (unit, school) pairs: every pair within each unit's radius, and a few
    more (a slightly wider query; the caller applies the exact test).

    Units are queried in groups of equal (or, beyond ``groups`` distinct values, similar)
    radius, so a few bussed zones with a doubled radius do not widen everyone's query.
    """
    values = np.unique(radius)
    if len(values) <= groups:
        bucket = np.searchsorted(values, radius)
    else:  # radius quantiles
        edges = np.quantile(radius, np.linspace(0, 1, groups + 1)[1:-1])
        bucket = np.searchsorted(edges, radius)
    us, ss = [], []
    for b in np.unique(bucket):
        idx = np.flatnonzero(bucket == b)
        r = float(radius[idx].max())
        rec = cKDTree(uxy[idx]).sparse_distance_matrix(school_tree, r * (1 + 1e-9) + 1e-9,
                                                      output_type="ndarray")
        us.append(idx[rec["i"]])
        ss.append(rec["j"].astype(np.int64))
    return np.concatenate(us).astype(np.int64), np.concatenate(ss)

