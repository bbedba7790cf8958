"""The data one stage's plan needs (:class:`StageData`), built from a run (docs/plan.md).

Units with the same zone, the same arcs (walking and transport, to the same sites) and the
same years of transport eligibility are merged into one *reach class*: the flow problem over
classes is the unit problem with the classes' demands added, so costs and pupils served are
exact; only the pupil-distance of the tie-break uses the classes' pupil-weighted mean arc
lengths. A unit may use transport in a year when no existing school open that year lies
within its walking radius (the plan's transport rule).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..distances import stage_radius
from ..stages import site_classes
from .params import PlanParams

if TYPE_CHECKING:
    from ..state import RunState


@dataclass
class StageData:
    """Everything one stage's MILP needs (sites 0…S−1 existing, S…S+J−1 candidates)."""

    years: np.ndarray          # (T,) planned years, start_year … horizon
    demand: np.ndarray         # (W, C, T) whole pupils per draw, reach class, year
    weights: np.ndarray        # (W,) draw probabilities, sum 1
    arcs: pd.DataFrame         # cls, site, transport (bool), distance_m
    eligible: np.ndarray       # (C, T) the class may use its transport arcs in year t
    places: np.ndarray         # (S, T) existing places per year
    expand_max: np.ndarray     # (S,) most classes each existing site may add
    cand_sizes: list           # (J,) tuples of allowed classes
    cand_earliest: np.ndarray  # (J,) the site's own earliest opening year
    unit_class: np.ndarray | None = None    # (U,) reach class of each unit (-1: no arc)
    class_zone: np.ndarray | None = None    # (C,) zone index of each class

    @property
    def n_sites(self) -> int:
        return self.places.shape[0]


def reach_classes(keys: list[tuple]) -> tuple[np.ndarray, int]:
    """(U,) class of each unit: units with equal keys together, in order of first sight."""
    seen: dict[tuple, int] = {}
    out = np.fromiter((seen.setdefault(k, len(seen)) for k in keys), np.int64, len(keys))
    return out, len(seen)


def expansion_limit(sites: pd.DataFrame, places: np.ndarray, class_size: int,
                    share: float) -> np.ndarray:
    """(S,) classes each existing site may add: up to the site's ``max_classes`` (schools.csv)
    when given, else ``share`` × its current classes; none for sites without places (key
    projects not yet open) and only for schools of schools.csv (not key projects or
    repurposed sites: a scenario's expansion names a school of schools.csv)."""
    classes = site_classes(places.max(axis=1, initial=0), max(class_size, 1))
    limit = np.floor(share * classes + 1e-9)
    if "max_classes" in sites:
        given = pd.to_numeric(sites["max_classes"], errors="coerce").to_numpy(float)
        limit = np.where(np.isfinite(given), np.maximum(given - classes, 0), limit)
    if "kind" in sites:          # schools of schools.csv only (a scenario expands those)
        limit = np.where(sites["kind"].astype(str).to_numpy() == "existing", limit, 0)
    return np.where(classes > 0, limit, 0).astype(np.int64)


def stage_data(state: "RunState", params: PlanParams, stage: str, candidates: pd.DataFrame,
               demand: np.ndarray | None = None, weights: np.ndarray | None = None
               ) -> StageData:
    """A stage's plan data from a run: existing sites and places from the supply, arcs from
    the run's distance rule, ``candidates`` (candidates.py) after the existing sites.
    ``demand``: (W, Y, U) pupils per draw (default: the run's, W = 1) with ``weights``."""
    sp = params.stages[stage]
    k = state.stage_names.index(stage)
    ty = np.flatnonzero(state.years >= params.start_year)
    years = state.years[ty]
    sel = state.site_mask(stage)
    sites = state.supply.sites[sel].reset_index(drop=True)
    P = state.supply.places[sel][:, ty].astype(float)
    S = P.shape[0]
    xy = np.vstack([sites[["x", "y"]].to_numpy(float),
                    candidates[["x", "y"]].to_numpy(float).reshape(-1, 2)])
    radius = stage_radius(state, stage)
    arcs = state.distance(state.units[["x", "y"]].to_numpy(), xy,
                          radius * sp.transport_radius_scale)
    au, asite, dist = arcs.unit, arcs.school, arcs.distance
    far = dist > radius[au]
    U = arcs.n_units
    # eligible[u, t]: no existing site open in year t within walking distance
    near_open = np.zeros((U, len(years)), bool)
    walk_ex = ~far & (asite < S)
    for t in range(len(years)):
        ok = walk_ex & (P[np.minimum(asite, S - 1), t] > 0) if S else np.zeros(len(au), bool)
        near_open[np.unique(au[ok]), t] = True
    eligible_u = ~near_open
    keep = ~far | eligible_u[au].any(axis=1)
    au, asite, dist, far = au[keep], asite[keep], dist[keep], far[keep]
    start = np.searchsorted(au, np.arange(U + 1))
    zone = state.units["zone"].to_numpy()
    has = np.diff(start) > 0
    keys = [(int(zone[u]), asite[start[u]:start[u + 1]].tobytes(),
             far[start[u]:start[u + 1]].tobytes(), eligible_u[u].tobytes()) if has[u]
            else ("none",) for u in range(U)]
    cls, C = reach_classes(keys)
    if demand is None:
        demand = state.unit_pupils[None, :, k, :].astype(float)
        weights = np.ones(1)
    D = demand[:, ty, :]                                              # (W, T, U)
    Dc = np.zeros((D.shape[0], C, len(years)))
    np.add.at(Dc, (slice(None), cls), np.moveaxis(D, 2, 1))
    # class arcs: those of each class's first unit; distances pupil-weighted over its units
    first = np.full(C, -1)
    first[cls[::-1]] = np.arange(U)[::-1]
    w = D.sum(axis=(0, 1)) + 1e-9
    rank = np.arange(len(au)) - start[au]
    width = max(int(np.diff(start).max(initial=0)), 1)
    wd = np.zeros((C, width))
    np.add.at(wd, (cls[au], rank), dist * w[au])
    wsum = np.bincount(cls, weights=w, minlength=C)
    lead = np.concatenate([np.arange(start[u], start[u + 1]) for u in first]) \
        if C else np.zeros(0, np.int64)
    ca = cls[au[lead]]
    frame = pd.DataFrame({"cls": ca, "site": asite[lead], "transport": far[lead],
                          "distance_m": wd[ca, rank[lead]] / wsum[ca]})
    none = np.array([k == ("none",) for k in keys])
    unit_class = np.where(none, -1, cls)
    if none.any():         # units without any arc: one class of their own (unreachable)
        frame = frame[~np.isin(frame["cls"], np.unique(cls[none]))]
    return StageData(
        years=years, demand=Dc, weights=np.asarray(weights, float) / np.sum(weights),
        arcs=frame.reset_index(drop=True),
        eligible=eligible_u[first] if C else np.zeros((0, len(years)), bool),
        places=P, expand_max=expansion_limit(sites, P, sp.class_size, sp.expansion_max_share),
        cand_sizes=list(candidates["sizes"]),
        cand_earliest=candidates["earliest_open_year"].to_numpy(int),
        unit_class=unit_class, class_zone=zone[first] if C else np.zeros(0, int))


def nearest_candidates(data: StageData, k: int) -> StageData:
    """The data with each reach class's arcs to candidate sites cut to its ``k`` nearest
    candidates (arcs to existing sites kept): the search space of the plan's MILP. The
    plan's pupils are then placed over every arc (solve.serve), so the cut never serves
    fewer pupils than the buildings chosen can."""
    a = data.arcs
    to_cand = a["site"].to_numpy() >= data.n_sites
    if k <= 0 or not to_cand.any():
        return data
    c = a[to_cand].sort_values(["cls", "distance_m", "site"], kind="stable")
    keep = c.groupby("cls").cumcount() < k
    arcs = pd.concat([a[~to_cand], c[keep]]).sort_values(["cls", "site"]).reset_index(drop=True)
    return replace(data, arcs=arcs)
