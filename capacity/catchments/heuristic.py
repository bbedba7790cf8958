"""The fallback when the exact model is too large or finds no map in time
(docs/catchments.md): contiguity repair, then local moves that keep every catchment
contiguous.

1. **Start** from each given map, most promising first (it gets :data:`FIRST_SHARE` of
   the time): the current map (when there is one), the optimal allocation's main school
   per unit, the nearest school; each restricted to arcs in reach.
2. **Repair**: per school, keep the connected piece holding a root (the largest by pupils
   if several); every other unit rejoins, one at a time, the school in its reach next to
   which it adds the least (unserved, distance), or starts a school's catchment at one of
   its roots; a unit that can join none is left unassigned.
3. **Improve**: from every over-full school, chains of up to :data:`CHAIN_DEPTH` moves of
   boundary units (each to an adjacent catchment in its reach, never cutting the school it
   leaves) that lower the unserved pupils, else a path of such moves of any length to the
   nearest school with room (breadth-first, smallest units first); then single moves that shorten the
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
#: Share of the time for the first start (the most promising), the rest shared equally.
FIRST_SHARE = 0.7


class _State:
    """A map being improved: members per school, loads per year (plain Python numbers:
    the moves touch one unit at a time)."""

    def __init__(self, inst: Instance, school_of: np.ndarray) -> None:
        self.inst = inst
        of = np.asarray(school_of, np.int64)
        self.of: list[int] = of.tolist()
        self.members = [set(np.flatnonzero(of == s).tolist()) for s in range(inst.n_schools)]
        n_t = inst.demand.shape[0]
        self.dem = [tuple(int(x) for x in col) for col in inst.demand.T]
        self.cap_l = [tuple(int(x) for x in col) for col in inst.cap.T]
        load = np.zeros((inst.n_schools, n_t), np.int64)
        on = of >= 0
        np.add.at(load, of[on], inst.demand.T[on])
        self.load_l = [list(int(x) for x in row) for row in load]
        self.w = inst.weight
        self.far = inst.unassigned_m()
        self.rootset = [set(r.tolist()) for r in inst.roots]
        self.root_of: list[list[int]] = [[] for _ in range(inst.n_units)]
        for t, r in enumerate(inst.roots):
            for u in r.tolist():
                self.root_of[u].append(t)
        start = inst.start
        self.reach = [dict(zip(inst.school[start[u]:start[u + 1]].tolist(),
                               inst.distance[start[u]:start[u + 1]].tolist()))
                      for u in range(inst.n_units)]
        self.nb = [inst.neighbours(u).tolist() for u in range(inst.n_units)]

    def excess(self, s: int, sign: int = 0, u: int = -1) -> int:
        """School ``s``'s excess, with unit ``u``'s pupils added (``sign`` 1) or taken
        away (-1)."""
        if sign:
            return sum(max(0, l + sign * d - c) for l, d, c in
                       zip(self.load_l[s], self.dem[u], self.cap_l[s]))
        return sum(max(0, l - c) for l, c in zip(self.load_l[s], self.cap_l[s]))

    def total_excess(self) -> int:
        return sum(self.excess(s) for s in range(len(self.load_l)))

    def delta(self, u: int, t: int) -> tuple[int, float]:
        """Change of (unserved, distance) when unit ``u`` moves to school ``t``."""
        s = self.of[u]
        if s >= 0:
            d1 = self.excess(s, -1, u) - self.excess(s)
            dist = -self.reach[u][s]
        else:
            d1, dist = -sum(self.dem[u]), -self.far
        if t >= 0:
            d1 += self.excess(t, 1, u) - self.excess(t)
            dist += self.reach[u][t]
        else:
            d1 += sum(self.dem[u])
            dist += self.far
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
        """Removing ``u`` keeps its school's catchment connected and rooted: a local test
        first (``u``'s neighbours in the school stay joined within two steps of ``u``),
        else a search of the whole catchment."""
        s = self.of[u]
        if s < 0 or len(self.members[s]) == 1:
            return True
        roots = self.rootset[s]
        if u in roots and not any(r in self.members[s] for r in roots if r != u):
            return False
        of = self.of
        near = [v for v in self.nb[u] if of[v] == s]
        if len(near) <= 1:
            return bool(near)
        local = set(near)
        for v in near:
            local.update(w for w in self.nb[v] if w != u and of[w] == s)
        if self._joined(near, local):
            return True
        rest = self.members[s] - {u}
        return self._joined(list(rest), rest)

    def _joined(self, targets: list[int], within: set[int]) -> bool:
        """Whether every unit of ``targets`` is reached from the first inside ``within``."""
        seen, queue = {targets[0]}, deque([targets[0]])
        while queue:
            x = queue.popleft()
            for v in self.nb[x]:
                if v in within and v not in seen:
                    seen.add(v)
                    queue.append(v)
        return all(t in seen for t in targets)

    def move(self, u: int, t: int) -> None:
        s, d = self.of[u], self.dem[u]
        if s >= 0:
            self.members[s].discard(u)
            self.load_l[s] = [l - x for l, x in zip(self.load_l[s], d)]
        if t >= 0:
            self.members[t].add(u)
            self.load_l[t] = [l + x for l, x in zip(self.load_l[t], d)]
        self.of[u] = t

    def targets(self, u: int) -> list[int]:
        """Schools ``u`` may move to (as :meth:`can_join`, from ``u``'s neighbours)."""
        of, reach, here = self.of, self.reach[u], self.of[u]
        out = {of[v] for v in self.nb[u]}
        out.update(t for t in self.root_of[u] if not self.members[t])
        return sorted(t for t in out if t >= 0 and t != here and t in reach)


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
    return np.array(st.of, np.int64)


def _chain(st: _State, s: int, depth: int, moved: set[int]) -> list[tuple[int, int, int]]:
    """Moves (unit, from, to) out of school ``s`` whose total lowers the unserved pupils;
    applied when found (empty: none found)."""
    cands = []
    for u in list(st.members[s]):
        if u in moved:
            continue
        for t in st.targets(u):
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


def _path(st: _State, s: int) -> bool:
    """A breadth-first search over schools from over-full ``s``: school ``b`` follows ``a``
    when a unit of ``a`` (smallest first) may move to ``b``; at the first school with room,
    the units are moved along the path (last link first). Kept when the unserved pupils
    fall, else undone."""
    parent: dict[int, tuple[int, int] | None] = {s: None}
    frontier = [s]
    while frontier:
        nxt = []
        for a in frontier:
            for u in sorted(st.members[a], key=lambda u: (sum(st.dem[u]), u)):
                for b in st.targets(u):
                    if b in parent:
                        continue
                    parent[b] = (a, u)
                    if st.excess(b, 1, u) == 0:
                        return _along(st, parent, b)
                    nxt.append(b)
        frontier = nxt
    return False


def _along(st: _State, parent: dict, end: int) -> bool:
    """Apply the path to ``end`` (see :func:`_path`); undo unless it pays."""
    links = []
    b = end
    while parent[b] is not None:
        a, u = parent[b]
        links.append((u, a, b))
        b = a
    before, done = st.total_excess(), []
    for u, a, b in links:                      # last link first
        if st.of[u] != a or not st.can_join(u, b) or not st.can_leave(u):
            break
        st.move(u, b)
        done.append((u, a))
    else:
        if st.total_excess() < before:
            return True
    for u, a in reversed(done):
        st.move(u, a)
    return False


def improve(inst: Instance, school_of: np.ndarray, deadline: float) -> np.ndarray:
    """Step 3 on a contiguous map."""
    st = _State(inst, school_of)
    while time.perf_counter() < deadline:
        better = False
        for s in np.argsort([-st.excess(s) for s in range(inst.n_schools)], kind="stable"):
            if st.excess(int(s)) <= 0 or time.perf_counter() > deadline:
                continue
            before = st.total_excess()
            chain = _chain(st, int(s), CHAIN_DEPTH, set())
            after = st.total_excess()
            if chain and after >= before:       # a chain that does not pay: undo
                for u, frm, _ in reversed(chain):
                    st.move(u, frm)
            paid = bool(chain) and after < before
            if not paid and st.excess(int(s)) > 0:
                paid = _path(st, int(s))
            better = better or paid
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
    return np.array(st.of, np.int64)


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
    return np.array(st.of, np.int64)


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
        left = time_limit_s - (time.perf_counter() - t0)
        share = left * FIRST_SHARE if i == 0 and len(starts) > 1 else left / (len(starts) - i)
        m = improve(inst, repair(inst, m), time.perf_counter() + share)
        m = stay(inst, m, distance_slack)
        k = score(inst, m).key()
        if best_key is None or k < best_key:
            best, best_key = m, k
    return best
