"""The multi-period capacitated facility-location MILP of one stage (docs/plan.md).

Units with the same zone and the same arcs (walking and transport, to the same sites) are
merged into one *reach class*: the flow problem over classes is the unit problem with the
classes' demands added, so cost and pupils served are exact; only the pupil-distance of the
tie-break uses the classes' pupil-weighted mean arc lengths.

Variables (all ≥ 0; money in 10,000 CNY, 万元, to keep the coefficients in range):

- ``x[a, t]``  pupils of class ``c(a)`` placed over arc ``a`` (walking or transport) in year t;
- ``u[c, t]``  pupils of class c without a place in year t;
- ``h[s, t]``  temporary places at existing site s in year t, ≤ share × places[s, t];
- ``y[j, m]`` ∈ {0, 1}: a school of m classes at candidate j, available from the site's
  earliest opening year o_j (capital is undiscounted, so earlier never costs more).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..distances import stage_radius
from .params import PlanParams

if TYPE_CHECKING:
    from ..state import RunState

MONEY = 1e4   # CNY per unit of the objective (万元)


@dataclass
class Formulation:
    """``min c·v`` s.t. ``row_lo ≤ A v ≤ row_hi``, ``lo ≤ v ≤ hi``, ``v[integer]`` whole."""

    c: np.ndarray
    A: sp.csr_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    integer: np.ndarray
    distance_km: np.ndarray     # pupil-km per unit of each variable (x only; the tie-break)
    x: pd.DataFrame             # per x variable: var, cls, site, transport, t, distance_m
    u: pd.DataFrame             # var, cls, t
    h: pd.DataFrame             # var, site, t
    y: pd.DataFrame             # var, cand, classes, open_year, places
    classes: pd.DataFrame       # cls, zone (index), units
    demand: np.ndarray          # (C, T) pupils per class and year
    years: np.ndarray           # (T,) the planned years
    n_sites: int                # existing sites of the stage (candidates follow)
    unreachable: np.ndarray     # (T,) pupils with no option at all in each year
    strict: bool                # the penalty exceeds the capital of the largest school


def reach_classes(unit_zone: np.ndarray, start: np.ndarray, site: np.ndarray,
                  transport: np.ndarray) -> tuple[np.ndarray, int]:
    """(U,) class of each unit: units sharing zone and arc set (site, transport) together."""
    keys: dict[tuple, int] = {}
    out = np.empty(len(unit_zone), np.int64)
    for u in range(len(unit_zone)):
        a, b = start[u], start[u + 1]
        key = (int(unit_zone[u]), site[a:b].tobytes(), transport[a:b].tobytes())
        out[u] = keys.setdefault(key, len(keys))
    return out, len(keys)


def formulate(state: "RunState", params: PlanParams, stage: str,
              candidates: pd.DataFrame) -> Formulation:
    """Build the stage's MILP over the planned years (``plan.first_year`` … horizon)."""
    sp_ = params.stages[stage]
    k = state.stage_names.index(stage)
    ty = np.flatnonzero(state.years >= params.first_year)
    years, T = state.years[ty], len(ty)
    sel = state.site_mask(stage)
    P = state.supply.places[sel][:, ty].astype(float)            # (S, T)
    S, J = P.shape[0], len(candidates)
    sites_xy = np.vstack([state.supply.sites.loc[sel, ["x", "y"]].to_numpy(float),
                          candidates[["x", "y"]].to_numpy(float).reshape(-1, 2)])
    radius = stage_radius(state, stage)
    arcs = state.distance(state.units[["x", "y"]].to_numpy(), sites_xy,
                          radius * sp_.transport_radius_scale)
    far = arcs.distance > radius[arcs.unit]
    # transport only where no site at all is within walking distance (docs/plan.md)
    walk_any = np.bincount(arcs.unit[~far], minlength=arcs.n_units) > 0
    keep = ~far | ~walk_any[arcs.unit]
    arcs = type(arcs).from_pairs(arcs.unit[keep], arcs.school[keep], arcs.distance[keep],
                                 arcs.unit_xy, arcs.school_xy, arcs.radius) \
        if not keep.all() else arcs
    far = arcs.distance > radius[arcs.unit]
    D = state.unit_pupils[ty, k, :].astype(float)                 # (T, U)
    zone = state.units["zone"].to_numpy()
    cls_of, C = reach_classes(zone, arcs.start, arcs.school, far)
    demand = np.zeros((C, T))
    np.add.at(demand, cls_of, D.T)
    # class arcs: the arcs of each class's first unit; distances pupil-weighted over units
    w = D.sum(axis=0) + 1e-9
    first = np.full(C, -1)
    first[cls_of[::-1]] = np.arange(len(cls_of))[::-1]
    n_arcs = np.diff(arcs.start)
    a_unit = arcs.unit
    same = cls_of[a_unit]
    rank = np.arange(len(a_unit)) - arcs.start[a_unit]
    wd = np.zeros((C, max(int(n_arcs.max(initial=0)), 1)))
    np.add.at(wd, (same, rank), arcs.distance * w[a_unit])
    wsum = np.bincount(cls_of, weights=w, minlength=C)
    lead = np.concatenate([np.arange(arcs.start[u], arcs.start[u + 1]) for u in first]) \
        if C else np.zeros(0, int)
    ca_cls = cls_of[a_unit[lead]]
    ca_site, ca_far = arcs.school[lead], far[lead]
    ca_dist = wd[ca_cls, rank[lead]] / wsum[ca_cls]

    classes = pd.DataFrame({"cls": np.arange(C), "zone": zone[first] if C else []})
    arcs_c = pd.DataFrame({"cls": ca_cls, "site": ca_site, "transport": ca_far,
                           "distance_m": ca_dist})
    return assemble(demand, arcs_c, P, candidates["earliest_open_year"].to_numpy(int),
                    list(candidates["sizes"]), years, sp_, classes)


def assemble(demand: np.ndarray, arcs: pd.DataFrame, P: np.ndarray, earliest: np.ndarray,
             sizes: list, years: np.ndarray, sp_: StagePlan, classes: pd.DataFrame,
             strong: bool = True) -> Formulation:
    """The MILP from its data: demand (C, T) per reach class, class arcs (cls, site — existing
    sites 0…S−1, then candidates —, transport, distance_m), places P (S, T), the candidates'
    earliest opening years and sizes (classes). ``strong``: add the disaggregated linking rows
    x[a, t] ≤ min(d[c, t], K_m) · y[j, m] summed over m, which tighten the LP bound."""
    C, T = demand.shape
    S, J = P.shape[0], len(earliest)
    ca_cls, ca_site = arcs["cls"].to_numpy(int), arcs["site"].to_numpy(int)
    # which (site, year) can take pupils: existing sites with places (or temporary places),
    # candidates from their earliest opening year
    open_site = np.zeros((S + J, T), bool)
    open_site[:S] = P > 0
    if J:
        open_site[S:] = years[None, :] >= np.asarray(earliest)[:, None]
    ai, ti = np.nonzero(open_site[ca_site] & (demand[ca_cls] > 0))
    x = pd.DataFrame({"cls": ca_cls[ai], "site": ca_site[ai],
                      "transport": arcs["transport"].to_numpy(bool)[ai],
                      "t": ti, "distance_m": arcs["distance_m"].to_numpy(float)[ai]})
    reach = np.zeros((C, T), bool)
    reach[x["cls"], x["t"]] = True
    unreachable = (demand * ~reach).sum(axis=0)
    uc, ut = np.nonzero(reach & (demand > 0))
    u = pd.DataFrame({"cls": uc, "t": ut})
    cap_h = sp_.temporary_share * P
    hs, ht = np.nonzero(cap_h >= 1)
    h = pd.DataFrame({"site": hs, "t": ht})
    # capital is not discounted, so opening a chosen school at its site's earliest year
    # costs the same and never serves fewer: one binary per site and size; the plan opens
    # the school in the first year it places pupils there (decode.py)
    yrows = [(j, m, int(max(earliest[j], years[0])))
             for j in range(J) for m in sizes[j] if earliest[j] <= years[-1]]
    y = pd.DataFrame(yrows, columns=["cand", "classes", "open_year"])
    y["places"] = y["classes"] * sp_.class_size

    nx, nu, nh, ny = len(x), len(u), len(h), len(y)
    x["var"] = np.arange(nx)
    u["var"] = nx + np.arange(nu)
    h["var"] = nx + nu + np.arange(nh)
    y["var"] = nx + nu + nh + np.arange(ny)
    n = nx + nu + nh + ny
    c = np.concatenate([np.where(x["transport"], sp_.transport_cost_per_pupil_year, 0.0),
                        np.full(nu, sp_.unserved_penalty_per_pupil_year),
                        np.full(nh, sp_.temporary_cost_per_place_year),
                        y["places"].to_numpy(float) * sp_.cost_per_place]) / MONEY
    lo = np.zeros(n)
    hi = np.concatenate([demand[x["cls"], x["t"]], demand[u["cls"], u["t"]],
                         cap_h[h["site"], h["t"]], np.ones(ny)])
    integer = np.concatenate([np.zeros(nx + nu + nh), np.ones(ny)]).astype(np.uint8)

    rows, cols, vals, row_lo, row_hi = [], [], [], [], []

    def block(r, cc, v, lo_, hi_):
        rows.append(np.asarray(r) + sum(len(b) for b in row_lo))
        cols.append(np.asarray(cc))
        vals.append(np.asarray(v, float))
        row_lo.append(np.asarray(lo_, float))
        row_hi.append(np.asarray(hi_, float))

    # (1) every pupil placed or unserved: Σ_a x[a,t] + u[c,t] = d[c,t]   (reachable (c, t))
    key = pd.Series(np.arange(nu), index=pd.MultiIndex.from_arrays([u["cls"], u["t"]]))
    rx = key.loc[list(zip(x["cls"], x["t"]))].to_numpy() if nx else np.zeros(0, int)
    d = demand[u["cls"], u["t"]]
    block(np.concatenate([rx, np.arange(nu)]), np.concatenate([x["var"], u["var"]]),
          np.ones(nx + nu), d, d)
    # (2) existing sites: Σ x[a→s, t] − h[s, t] ≤ places[s, t]
    ex = (x["site"] < S).to_numpy()
    block(np.concatenate([x["site"][ex] * T + x["t"][ex], h["site"] * T + h["t"]]),
          np.concatenate([x["var"][ex], h["var"]]),
          np.concatenate([np.ones(ex.sum()), -np.ones(nh)]), np.full(S * T, -np.inf),
          P.ravel())
    # (3) candidates: Σ x[a→j, t] − Σ_{m, o ≤ t} places_m y[j, m, o] ≤ 0
    if J:
        xj = ~ex
        yr, yc, yv = [], [], []
        for t in range(T):
            open_by = y["open_year"].to_numpy() <= years[t]
            yr.append(y["cand"][open_by] * T + t)
            yc.append(y["var"][open_by])
            yv.append(-y["places"][open_by].to_numpy(float))
        block(np.concatenate([(x["site"][xj] - S) * T + x["t"][xj], *yr]),
              np.concatenate([x["var"][xj], *yc]),
              np.concatenate([np.ones(xj.sum()), *yv]), np.full(J * T, -np.inf),
              np.zeros(J * T))
        # (4) at most one size and opening year per site
        block(y["cand"], y["var"], np.ones(ny), np.full(J, -np.inf), np.ones(J))
        # (3') disaggregated linking: x[a→j, t] − Σ_m min(d[c, t], K_m) y[j, m] ≤ 0 (every
        # year of an arc to a candidate is one it may be open in, so every size counts)
        if strong and xj.any():
            xa = x[xj].reset_index(drop=True)
            link = pd.DataFrame({"cand_row": np.arange(len(xa)), "cand": xa["site"] - S}) \
                .merge(y[["cand", "var", "places"]], on="cand")
            dem = demand[xa["cls"].to_numpy(), xa["t"].to_numpy()]
            k = np.minimum(dem[link["cand_row"]], link["places"].to_numpy(float))
            block(np.concatenate([np.arange(len(xa)), link["cand_row"]]),
                  np.concatenate([xa["var"], link["var"]]),
                  np.concatenate([np.ones(len(xa)), -k]),
                  np.full(len(xa), -np.inf), np.zeros(len(xa)))
    # (5) temporary place-years per school ≤ temporary_years × share × its largest places
    if nh:
        budget = sp_.temporary_years * sp_.temporary_share * P.max(axis=1, initial=0)
        block(h["site"], h["var"], np.ones(nh), np.full(S, -np.inf), budget)
    A = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(sum(len(b) for b in row_lo), n))
    dist = np.concatenate([x["distance_m"].to_numpy() / 1000, np.zeros(nu + nh + ny)])
    return Formulation(c, A, np.concatenate(row_lo), np.concatenate(row_hi), lo, hi, integer,
                       dist, x, u, h, y, classes, demand, years, S, unreachable,
                       strict=sp_.unserved_penalty_per_pupil_year
                       >= max(sp_.standard_classes) * sp_.class_size * sp_.cost_per_place)
