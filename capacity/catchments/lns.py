"""Large-neighbourhood search on a contiguous map (docs/catchments.md): repeatedly free a
**window** of adjacent catchments (2–:data:`MAX_SCHOOLS` schools and every unit of them, at
most :data:`MAX_ARCS` arcs) and re-solve it exactly with the flow-contiguity model
(:mod:`.milp`) with the rest of the map fixed; keep the new window when the map's score
(unserved, distance, moved) falls.

Why the window is exact: a window's schools take pupils only from the units freed, so
their loads, and the score of the whole map, change only through the window; a freed
catchment must be connected through freed units and hold a root among them, which the
map before satisfies, so the re-solve is never worse than the window as it was. Units in
reach of no school (-1) that reach a window school are freed with it.

Order: while any school is over-full, windows around schools with room (most room first),
taking the fullest catchments around (so a window can pass pupils over a full catchment in
between); then around over-full schools (largest excess), taking the
roomiest; then around every other catchment (for distance); a window whose schools have not changed since it was solved to optimality is
not tried again. Stops when every window is done or the time is up.
"""
from __future__ import annotations

import time

import numpy as np

from .milp import solve_exact
from .problem import Instance, loads, score, subset

#: Most arcs of a window (on Tongzhou primary HiGHS proves windows of 100–150 arcs in about
#: 0.6 s and of 200–300 in 1–3 s; smaller windows, more of them in the time).
MAX_ARCS = 200
#: Most schools of a window.
MAX_SCHOOLS = 4
#: Seconds at most for one window's solve.
WINDOW_S = 2.0


def _touching(inst: Instance, school_of: np.ndarray) -> list[set[int]]:
    """Per school, the schools whose catchments share a cell boundary with its own; a
    school without catchment, those holding one of its roots or a unit next to one."""
    u = np.repeat(np.arange(inst.n_units), np.diff(inst.adj_ptr))
    v = inst.adj_idx
    a, b = school_of[u], school_of[v]
    keep = (a >= 0) & (b >= 0) & (a != b)
    out: list[set[int]] = [set() for _ in range(inst.n_schools)]
    for x, y in zip(a[keep].tolist(), b[keep].tolist()):
        out[x].add(y)
    # a school without catchment touches the catchments holding or next to its roots
    for e in range(inst.n_schools):
        if (school_of == e).any():
            continue
        for r in inst.roots[e].tolist():
            for w in [r, *inst.neighbours(r).tolist()]:
                x = int(school_of[w])
                if x >= 0 and x != e:
                    out[x].add(e)
                    out[e].add(x)
    return out


def window_units(inst: Instance, school_of: np.ndarray, schools: list[int]) -> np.ndarray:
    """Units freed with ``schools``: their members, and unassigned units in reach of one."""
    inside = np.isin(school_of, schools)
    loose = (school_of < 0) & (np.diff(inst.start) > 0)
    if loose.any():
        arc_in = np.isin(inst.school, schools)
        reach_w = np.bincount(inst.unit[arc_in], minlength=inst.n_units) > 0
        inside |= loose & reach_w
    return np.flatnonzero(inside)


def _arcs_of(inst: Instance, units: np.ndarray, schools: list[int]) -> int:
    return int((np.isin(inst.unit, units) & np.isin(inst.school, schools)).sum())


def window(inst: Instance, school_of: np.ndarray, seed: int, touching: list[set[int]],
           rank, max_arcs: int = MAX_ARCS, max_schools: int = MAX_SCHOOLS
           ) -> list[int] | None:
    """The seed and adjacent catchments, added while the window stays within the limits,
    the candidate first by ``rank`` (school → sort key), then neighbours of the window.
    None when not even a pair fits."""
    chosen = [seed]
    while len(chosen) < max_schools:
        cand = set().union(*(touching[s] for s in chosen)) - set(chosen)
        best = None
        for t in sorted(cand, key=rank):
            units = window_units(inst, school_of, chosen + [t])
            if _arcs_of(inst, units, chosen + [t]) <= max_arcs:
                best = t
                break
        if best is None:
            break
        chosen.append(best)
    return chosen if len(chosen) >= 2 else None


def lns(inst: Instance, school_of: np.ndarray, deadline: float,
        max_arcs: int = MAX_ARCS, max_schools: int = MAX_SCHOOLS,
        distance_slack: float = 0.0) -> tuple[np.ndarray, dict]:
    """Improve the contiguous map ``school_of`` until ``deadline`` (perf_counter);
    returns the map and counts (windows solved, improved, proved)."""
    cur = np.asarray(school_of, np.int64).copy()
    stats = {"windows": 0, "improved": 0, "proved": 0}
    version = np.zeros(inst.n_schools, np.int64)
    done: dict[tuple[int, ...], tuple[int, ...]] = {}
    while time.perf_counter() < deadline:
        load = loads(inst, cur)
        over = np.maximum(load - inst.cap, 0).sum(axis=0)
        room = (inst.cap - load).min(axis=0)
        touching = _touching(inst, cur)
        used = np.unique(cur[cur >= 0])
        # schools with room and the fullest catchments around them; then over-full
        # schools and the roomiest around them; then every catchment (distance)
        to_room = sorted((s for s in range(inst.n_schools) if room[s] > 0 and touching[s]
                          and over.any()), key=lambda s: (-room[s], s))
        to_over = sorted((s for s in used.tolist() if over[s] > 0),
                         key=lambda s: (-over[s], s))
        rest = [s for s in used.tolist() if over[s] <= 0]
        seeds = [(s, lambda t: (-over[t], t)) for s in to_room] + \
            [(s, lambda t: (over[t], -room[t], t)) for s in to_over + rest]
        better = False
        for seed, rank in seeds:
            if time.perf_counter() >= deadline:
                break
            w = window(inst, cur, seed, touching, rank, max_arcs, max_schools)
            if w is None:
                continue
            key = tuple(sorted(w))
            stamp = tuple(version[list(key)].tolist())
            if done.get(key) == stamp:
                continue
            units = window_units(inst, cur, list(key))
            schools = np.array(key, np.int64)
            sub = subset(inst, units, schools)
            s_loc = {s: i for i, s in enumerate(key)}
            old = np.array([s_loc.get(int(s), -1) for s in cur[units]], np.int64)
            left = deadline - time.perf_counter()
            res = solve_exact(sub, min(WINDOW_S, left), distance_slack)
            stats["windows"] += 1
            if res is None:
                continue
            if res.optimal:
                stats["proved"] += 1
            if score(sub, res.school_of).key() < score(sub, old).key():
                new = np.where(res.school_of >= 0, schools[np.maximum(res.school_of, 0)], -1)
                changed = new != cur[units]
                cur[units] = new
                version[schools] += 1
                stats["improved"] += 1
                better = True
                if changed.any():
                    break      # loads and touching catchments changed: new seeds
            else:               # not tried again until one of its catchments changes
                done[key] = stamp
        if not better:
            break
    return cur, stats
