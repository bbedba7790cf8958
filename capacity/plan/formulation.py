"""The plan of one stage as a two-stage mixed-integer program (docs/plan.md, "Formulation").

First stage (one decision for every future): ``y[j, m, o]`` ∈ {0, 1} a school of m classes
at candidate j opening in year o; ``z[s, o]`` whole classes added to existing site s from
year o; ``w[s, t]`` ∈ {0, 1} site s may carry temporary places in year t (only when the
duration limit binds). Second stage, per draw ω of W (W = 1: the deterministic plan):
``x[a, t, ω]`` pupils over arc a; ``u[c, t, ω]`` pupils of class c without a place;
``h[s, t, ω]`` temporary places; ``g[t, ω]`` pupils short of the service target. Costs are
discounted to the start year; money is in 10,000 CNY (万元) inside the solver.

This module builds the variables (frames), costs, bounds and integrality; the rows are
written in the labelled modelling layer (linopy, :mod:`.model`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .data import StageData
from .model import constraint_rows
from .params import PlanParams, StagePlan
from .terms import MONEY, capital_cost, discount, school_places, use_window

__all__ = ["Formulation", "assemble", "options", "MONEY", "capital_cost", "discount",
           "school_places", "use_window"]


@dataclass
class Formulation:
    """``min c·v`` s.t. ``row_lo ≤ A v ≤ row_hi``, ``lo ≤ v ≤ hi``, ``v[integer]`` whole;
    the frames map variables (``var``) back to what they mean."""

    c: np.ndarray
    A: sp.csr_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    integer: np.ndarray
    distance_km: np.ndarray     # pupil-km per unit of each variable, weighted by draw (x only)
    served: np.ndarray          # 1 on every u variable (pupils without a place)
    x: pd.DataFrame             # var, cls, site, transport, t, w, distance_m
    u: pd.DataFrame             # var, cls, t, w
    h: pd.DataFrame             # var, site, t, w
    g: pd.DataFrame             # var, t, w
    y: pd.DataFrame             # var, cand, classes, open_year, capital
    z: pd.DataFrame             # var, site, open_year
    wv: pd.DataFrame            # var, site, t  (temporary places allowed)
    op: pd.DataFrame            # var, cand, t  (candidate open by year t: the linking rows)
    data: StageData
    sp: StagePlan
    params: PlanParams
    unreachable: np.ndarray     # (W, T) pupils no option reaches
    constant_cny: float         # their penalty (discounted): in every plan's cost alike

    @property
    def first_stage(self) -> np.ndarray:
        """Indices of the first-stage (integer) variables."""
        return np.flatnonzero(self.integer)


def options(data: StageData, sp: StagePlan, params: PlanParams) -> pd.DataFrame:
    """Every (candidate, size, opening year) a school may be built as, with its places per
    year and discounted cost; sizes and years whose minimum use no future could meet (too
    few pupils within reach) are left out — they can never be chosen."""
    years, S = data.years, data.n_sites
    H = int(years[-1])
    reach = np.zeros((len(data.cand_earliest), len(years)))
    a = data.arcs[data.arcs["site"] >= S]
    cls, tr = a["cls"].to_numpy(int), a["transport"].to_numpy(bool)
    ok = np.where(tr[:, None], data.eligible[cls], True)        # transport: eligible years
    np.add.at(reach, a["site"].to_numpy(int) - S, data.demand.max(axis=0)[cls] * ok)
    first = params.start_year + sp.lead_years
    delta = discount(years, params.start_year, params.discount_rate)
    rows = []
    for j, sizes in enumerate(data.cand_sizes):
        for o in years[years >= max(first, data.cand_earliest[j])]:
            win = use_window(int(o), years, sp, params)
            for m in sizes:
                cap = school_places(m, int(o), years, sp)
                if (reach[j][win] < params.min_use * cap[win] - 1e-9).any():
                    continue
                capital = m * sp.class_size * sp.cost_per_place
                cost = capital_cost(capital, int(o), sp.construction_years, params, H) \
                    + sp.running_cost_per_place_year * float(cap @ delta)
                rows.append((j, m, int(o), capital, cost, cap))
    return pd.DataFrame(rows, columns=["cand", "classes", "open_year", "capital", "cost",
                                       "cap"])


def assemble(data: StageData, sp: StagePlan, params: PlanParams, strong: bool = True
             ) -> Formulation:
    """The stage's MILP (``strong``: the disaggregated linking rows of capacitated facility
    location, x[a, t] ≤ Σ min(d, K) y, which tighten the relaxation's bound)."""
    years, T = data.years, len(data.years)
    W, C, _ = data.demand.shape
    S, J = data.n_sites, len(data.cand_earliest)
    P, demand, p = data.places, data.demand, data.weights
    delta = discount(years, params.start_year, params.discount_rate)
    H = int(years[-1])
    y = options(data, sp, params)
    # which (site, year) may take pupils: existing sites with places, candidates from
    # their earliest option's opening year
    open_site = np.zeros((S + J, T), bool)
    open_site[:S] = P > 0
    for j, o in y.groupby("cand")["open_year"].min().items():
        open_site[S + j] = years >= o
    ca = data.arcs
    cls_a, site_a = ca["cls"].to_numpy(int), ca["site"].to_numpy(int)
    tr_a = ca["transport"].to_numpy(bool)
    ok = open_site[site_a] & np.where(tr_a[:, None], data.eligible[cls_a], True)
    ai, ti = np.nonzero(ok)
    base = pd.DataFrame({"cls": cls_a[ai], "site": site_a[ai], "transport": tr_a[ai], "t": ti,
                         "distance_m": ca["distance_m"].to_numpy(float)[ai]})
    xs = [base.assign(w=k)[demand[k, base["cls"], base["t"]] > 0] for k in range(W)]
    x = pd.concat(xs, ignore_index=True) if xs else base.assign(w=0)
    reach = np.zeros((W, C, T), bool)
    reach[x["w"], x["cls"], x["t"]] = True
    unreachable = (demand * ~reach).sum(axis=1)
    uw, uc, ut = np.nonzero(reach & (demand > 0))
    u = pd.DataFrame({"w": uw, "cls": uc, "t": ut})
    cap_h = sp.temporary_share * P
    hs, ht = np.nonzero(np.floor(cap_h) >= 1)
    h = pd.concat([pd.DataFrame({"site": hs, "t": ht, "w": k}) for k in range(W)],
                  ignore_index=True)
    limit = sp.temporary_max_years < len(np.unique(ht)) if len(ht) else False
    wv = pd.DataFrame({"site": hs, "t": ht}) if limit else pd.DataFrame(columns=["site", "t"])
    g = pd.DataFrame({"w": np.repeat(np.arange(W), T), "t": np.tile(np.arange(T), W)}) \
        if sp.service_level is not None else pd.DataFrame(columns=["w", "t"])
    exp_first = params.start_year + sp.expansion_lead_years
    zs = np.flatnonzero(data.expand_max > 0)
    z = pd.DataFrame([(s, int(o)) for s in zs for o in years[years >= exp_first]
                      if P[s, years >= o].min() > 0], columns=["site", "open_year"])

    jo, to = np.nonzero(open_site[S:]) if J else (np.zeros(0, int), np.zeros(0, int))
    op = pd.DataFrame({"cand": jo, "t": to}) if strong else pd.DataFrame(columns=["cand", "t"])
    sizes = [len(x), len(u), len(h), len(g), len(y), len(z), len(wv), len(op)]
    offs = np.concatenate([[0], np.cumsum(sizes)])
    for frame, o in zip((x, u, h, g, y, z, wv, op), offs):
        frame["var"] = o + np.arange(len(frame))
    n = int(offs[-1])
    exp_place = sp.class_size * sp.expansion_cost
    z_cost = np.array([capital_cost(exp_place, o, sp.expansion_construction_years, params, H)
                       + sp.running_cost_per_place_year * sp.class_size
                       * delta[years >= o].sum() for o in z["open_year"]])
    target_penalty = 2.0 * max(sp.standard_classes) * sp.class_size * max(sp.cost_per_place, 1)
    pw = lambda f: p[f["w"].to_numpy(int)] * delta[f["t"].to_numpy(int)]   # noqa: E731
    c = np.concatenate([
        pw(x) * np.where(x["transport"], sp.transport_cost_per_pupil_year, 0.0),
        pw(u) * sp.max_cost_per_pupil_year, pw(h) * sp.temporary_cost_per_place_year,
        pw(g) * target_penalty, y["cost"].to_numpy(float), z_cost, np.zeros(len(wv)),
        np.zeros(len(op))]) / MONEY
    lo = np.zeros(n)
    hi = np.concatenate([demand[x["w"], x["cls"], x["t"]], demand[u["w"], u["cls"], u["t"]],
                         np.floor(cap_h[h["site"], h["t"]]), np.full(len(g), np.inf),
                         np.ones(len(y)), data.expand_max[z["site"].to_numpy(int)],
                         np.ones(len(wv)), np.ones(len(op))])
    integer = np.concatenate([np.zeros(sum(sizes[:4])), np.ones(sum(sizes[4:7])),
                              np.zeros(len(op))]).astype(np.uint8)
    A, row_lo, row_hi = constraint_rows(
        {"x": x, "u": u, "h": h, "g": g, "y": y, "z": z, "wv": wv, "op": op}, data, sp,
        params, cap_h, unreachable)
    dist = np.zeros(n)
    dist[x["var"]] = p[x["w"]] * x["distance_m"].to_numpy() / 1000
    served = np.zeros(n)
    served[u["var"]] = 1.0
    constant = float(p @ unreachable @ delta) * sp.max_cost_per_pupil_year
    return Formulation(c, A, row_lo, row_hi, lo, hi, integer, dist, served, x, u, h, g, y, z,
                       wv, op, data, sp, params, unreachable, constant)
