"""The fallback when the exact model is too large or finds no map in time
(docs/catchments.md): contiguity repair, then local moves that keep every catchment
contiguous.

1. **Start** from each given map (the nearest school; the optimal allocation's main
   school per unit; the current map) restricted to arcs in reach.
2. **Repair**: per school, keep the connected piece holding a root (the largest by pupils
   if several); every other unit rejoins, one at a time, the school in its reach next to
   which it adds the least (unserved, distance), or starts a school's catchment at one of
   its roots; a unit that can join none is left unassigned.
3. **Improve**: from every over-full school, chains of up to :data:`CHAIN_DEPTH` moves of
   boundary units (each to an adjacent catchment in its reach, never cutting the school it
   leaves) that lower the unserved pupils; then single moves that shorten the
   pupil-distance without raising them; repeated until nothing improves.
4. **Stay**: with a current map, units go back to their current school where that keeps the
   unserved pupils and the distance within ``1 + distance_slack`` of the best found.

The best map by (unserved, distance, moved) is kept.
"""
from __future__ import annotations

import time
from collections import deque

import numpy as np

from .problem import Instance, components, score

#: Longest chain of moves tried to relieve an over-full school.
CHAIN_DEPTH = 3
#: Moves tried at each link of a chain (the shortest first).
CHAIN_BRANCH = 6


class _State:
    """A map being improved: members per school, loads, excess."""

    def __init__(self, inst: Instance, school_of: np.ndarray) -> None:
        self.inst = inst
        self.of = np.asarray(school_of, np.int64).copy()
        self.members = [set(np.flatnonzero(self.of == s).tolist())
                        for s in range(inst.n_schools)]
        self.cap = inst.cap
        self.load = np.zeros_like(self.cap)
        on = self.of >= 0
        for t in range(self.cap.shape[0]):
            self.load[t] = np.bincount(self.of[on], weights=inst.demand[t, on],
                                       minlength=inst.n_schools)
        self.w = inst.weight
        self.rootset = [set(r.tolist()) for r in inst.roots]
        start = inst.start
        self.reach = [dict(zip(inst.school[start[u]:start[u + 1]].tolist(),
                               inst.distance[start[u]:start[u + 1]].tolist()))
                      for u in range(inst.n_units)]
        self.nb = [inst.neighbours(u).tolist() for u in range(inst.n_units)]

    def excess(self, s: int, extra: np.ndarray | int = 0) -> int:
        return int(np.maximum(self.load[:, s] + extra - self.cap[:, s], 0).sum())

    def delta(self, u: int, t: int) -> tuple[int, float]:
        """Change of (unserved, distance) when unit ``u`` moves to school ``t``."""
        s, d = self.of[u], self.inst.demand[:, u]
        if s >= 0:
            d1 = self.excess(s, -d) - self.excess(s)
            dist = -self.reach[u][s]
        else:
            d1, dist = -int(d.sum()), -self.inst.unassigned_m()
        if t >= 0:
            d1 += self.excess(t, d) - self.excess(t)
            dist += self.reach[u][t]
        else:
            d1 += int(d.sum())
            dist += self.inst.unassigned_m()
        return d1, dist * float(self.w[u])

    def can_join(self, u: int, t: int) -> bool:
        """``u`` may join ``t``: in reach, and next to ``t``'s catchment (or at its root
        when it has none)."""
        if t not in self.reach[u] or self.of[u] == t:
            return False
        if not self.members[t]:
            return u in self.rootset[t]
        return any(self.of[v] == t for v in self.nb[u])

    def can_leave(self, u: int) -> bool:
        """Removing ``u`` keeps its school's catchment connected and rooted."""
        s = self.of[u]
        if s < 0:
            return True
        rest = self.members[s] - {u}
        if not rest:
            return True
        seeds = [r for r in self.rootset[s] if r in rest]
        if not seeds:
            return False
        seen, queue = {seeds[0]}, deque([seeds[0]])
        while queue:
            x = queue.popleft()
            for v in self.nb[x]:
                if v in rest and v not in seen:
                    seen.add(v)
                    queue.append(v)
        return len(seen) == len(rest)

    def move(self, u: int, t: int) -> None:
        s, d = self.of[u], self.inst.demand[:, u]
        if s >= 0:
            self.members[s].discard(u)
            self.load[:, s] -= d
        if t >= 0:
            self.members[t].add(u)
            self.load[:, t] += d
        self.of[u] = t

    def targets(self, u: int) -> list[int]:
        """Schools ``u`` may move to."""
        return [t for t in self.reach[u] if self.can_join(u, t)]


def repair(inst: Instance, school_of: np.ndarray) -> np.ndarray:
    """A contiguous map from any map (step 2)."""
    st = _State(inst, school_of)
    loose: list[int] = []
    for s in range(inst.n_schools):
        if not st.members[s]:
            continue
        comps = components(np.array(sorted(st.members[s])), inst.adj_ptr, inst.adj_idx)
        rooted = [c for c in comps if st.rootset[s] & set(c)]
        keep = max(rooted, key=lambda c: (int(st.w[c].sum()), -min(c)), default=[])
        for c in comps:
            if c is not keep:
                for u in c:
                    st.move(u, -1)
                    loose.append(u)
    loose.sort(key=lambda u: min(st.reach[u].values(), default=np.inf))
    while loose:
        progress = False
        left = []
        for u in loose:
            opts = st.targets(u)
            if opts:
                t = min(opts, key=lambda t: (st.delta(u, t), t))
                st.move(u, t)
                progress = True
            else:
                left.append(u)
        loose = left
        if not progress:
            break
    return st.of


def _chain(st: _State, s: int, depth: int, moved: set[int]) -> list[tuple[int, int, int]]:
    """Moves (unit, from, to) out of school ``s`` whose total lowers the unserved pupils;
    applied when found (empty: none found)."""
    cands = []
    for u in list(st.members[s]):
        if u in moved:
            continue
        for t in st.reach[u]:
            if t != s and st.can_join(u, t):
                cands.append((st.delta(u, t), u, t))
    cands.sort()
    for (d1, _), u, t in cands[:CHAIN_BRANCH * 2]:
        if not st.can_leave(u):
            continue
        st.move(u, t)
        if d1 < 0:
            return [(u, s, t)]
        if depth > 1 and st.excess(t) > 0:
            rest = _chain(st, t, depth - 1, moved | {u})
            if rest:
                return [(u, s, t)] + rest
        st.move(u, s)
    return []


def improve(inst: Instance, school_of: np.ndarray, deadline: float) -> np.ndarray:
    """Step 3 on a contiguous map."""
    st = _State(inst, school_of)
    while time.perf_counter() < deadline:
        better = False
        for s in np.argsort(-np.maximum(st.load - st.cap, 0).sum(axis=0)):
            if st.excess(int(s)) <= 0 or time.perf_counter() > deadline:
                continue
            before = int(np.maximum(st.load - st.cap, 0).sum())
            chain = _chain(st, int(s), CHAIN_DEPTH, set())
            after = int(np.maximum(st.load - st.cap, 0).sum())
            if chain and after >= before:       # a chain that does not pay: undo
                for u, frm, _ in reversed(chain):
                    st.move(u, frm)
            better = better or (bool(chain) and after < before)
        for u in range(inst.n_units):
            s = int(st.of[u])
            if s < 0 and not st.reach[u]:
                continue
            best = None
            for t in st.targets(u):
                d1, d2 = st.delta(u, t)
                if (d1, d2) < (0, -1e-9) and (best is None or (d1, d2) < best[0]):
                    best = ((d1, d2), t)
            if best is not None and st.can_leave(u):
                st.move(u, best[1])
                better = True
        if not better:
            break
    return st.of


def stay(inst: Instance, school_of: np.ndarray, distance_slack: float) -> np.ndarray:
    """Step 4: back to the current school where the levels above allow."""
    if inst.current is None:
        return school_of
    st = _State(inst, school_of)
    base = score(inst, school_of)
    budget = base.distance * distance_slack
    order = np.argsort(-st.w, kind="stable")
    for u in order:
        c = int(inst.current[u])
        if c < 0 or st.of[u] == c or not st.can_join(u, c) or not st.can_leave(u):
            continue
        d1, d2 = st.delta(u, c)
        if d1 <= 0 and d2 <= budget:
            st.move(u, c)
            budget -= max(d2, 0.0)
    return st.of


def solve_heuristic(inst: Instance, starts: list[np.ndarray], time_limit_s: float,
                    distance_slack: float = 0.0) -> np.ndarray:
    """The best contiguous map found from ``starts`` within about ``time_limit_s``."""
    t0 = time.perf_counter()
    best, best_key = None, None
    for i, m in enumerate(starts):
        m = np.asarray(m, np.int64).copy()
        ok = m >= 0
        ok[ok] = inst.arc_of(np.flatnonzero(ok), m[ok]) >= 0
        m[~ok] = -1
        share = (time_limit_s - (time.perf_counter() - t0)) / (len(starts) - i)
        m = improve(inst, repair(inst, m), time.perf_counter() + share)
        m = stay(inst, m, distance_slack)
        k = score(inst, m).key()
        if best_key is None or k < best_key:
            best, best_key = m, k
    return best
