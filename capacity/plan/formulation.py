"""The plan of one stage as a two-stage mixed-integer program (docs/plan.md, "Formulation").

First stage (one decision for every future): ``y[j, m, o]`` ∈ {0, 1} a school of m classes
at candidate j opening in year o; ``z[s, o]`` whole classes added to existing site s from
year o; ``w[s, t]`` ∈ {0, 1} site s may carry temporary places in year t (only when the
duration limit binds). Second stage, per draw ω of W (W = 1: the deterministic plan):
``x[a, t, ω]`` pupils over arc a; ``u[c, t, ω]`` pupils of class c without a place;
``h[s, t, ω]`` temporary places; ``g[t, ω]`` pupils short of the service target. Costs are
discounted to the start year; money is in 10,000 CNY (万元) inside the solver.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..supply import opening_places
from .data import StageData
from .params import PlanParams, StagePlan

MONEY = 1e4   # CNY per unit of the objective (万元)


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
    data: StageData
    sp: StagePlan
    params: PlanParams
    unreachable: np.ndarray     # (W, T) pupils no option reaches
    constant_cny: float         # their penalty (discounted): in every plan's cost alike

    @property
    def first_stage(self) -> np.ndarray:
        """Indices of the first-stage (integer) variables."""
        return np.flatnonzero(self.integer)


def discount(years: np.ndarray, start: int, rate: float) -> np.ndarray:
    """Weights (1 + rate)^−(year − start) of costs in ``years``."""
    return (1.0 + rate) ** -(np.asarray(years, float) - start)


def school_places(classes: int, open_year: int, years: np.ndarray, sp: StagePlan) -> np.ndarray:
    """(T,) places of a new school of ``classes`` opening in ``open_year`` (grade by grade
    unless the stage opens schools full)."""
    return opening_places(classes * sp.class_size, open_year, years, sp.grades,
                          sp.opening == "grade_by_grade")


def use_window(open_year: int, years: np.ndarray, sp: StagePlan, params: PlanParams
               ) -> np.ndarray:
    """(T,) years in which a new school opening in ``open_year`` must reach the minimum use:
    from opening through its first ``min_use_years`` years of full operation."""
    full = open_year + (sp.grades - 1 if sp.opening == "grade_by_grade" else 0)
    end = full + params.min_use_years - 1
    return (years >= open_year) & (years <= end) if params.min_use_years > 0 \
        else np.zeros(len(years), bool)


def capital_cost(capital: float, open_year: int, build_years: int, params: PlanParams,
                 horizon: int) -> float:
    """Discounted capital of a building opening in ``open_year``: spread evenly over the
    ``build_years`` before it, less its residual value at the horizon (straight line over
    the building's life, discounted from the year after the horizon)."""
    spent = np.arange(open_year - build_years, open_year)
    paid = capital * discount(spent, params.start_year, params.discount_rate).mean()
    left = max(0.0, 1.0 - (horizon + 1 - open_year) / params.building_life_years)
    return paid - capital * left * discount([horizon + 1], params.start_year,
                                            params.discount_rate)[0]


class Rows:
    """Sparse rows added block by block: ``lo ≤ Σ vals · v[cols] ≤ hi``."""

    def __init__(self) -> None:
        self.r, self.c, self.v, self.lo, self.hi = [], [], [], [], []
        self.n = 0

    def add(self, rows, cols, vals, lo, hi) -> None:
        lo = np.atleast_1d(np.asarray(lo, float))
        self.r.append(np.asarray(rows, np.int64) + self.n)
        self.c.append(np.asarray(cols, np.int64))
        self.v.append(np.broadcast_to(np.asarray(vals, float), np.shape(rows)).copy())
        self.lo.append(lo)
        self.hi.append(np.broadcast_to(np.asarray(hi, float), lo.shape).copy())
        self.n += len(lo)

    def matrix(self, n_vars: int) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
        if not self.r:
            return sp.csr_matrix((0, n_vars)), np.zeros(0), np.zeros(0)
        A = sp.csr_matrix((np.concatenate(self.v), (np.concatenate(self.r),
                           np.concatenate(self.c))), shape=(self.n, n_vars))
        return A, np.concatenate(self.lo), np.concatenate(self.hi)


def options(data: StageData, sp: StagePlan, params: PlanParams) -> pd.DataFrame:
    """Every (candidate, size, opening year) a school may be built as, with its places per
    year and discounted cost; sizes and years whose minimum use no future could meet (too
    few pupils within reach) are left out — they can never be chosen."""
    years, S = data.years, data.n_sites
    H = int(years[-1])
    reach = np.zeros((len(data.cand_earliest), len(years)))
    a = data.arcs[data.arcs["site"] >= S]
    for cls, site, tr in zip(a["cls"], a["site"], a["transport"]):
        ok = data.eligible[cls] if tr else np.ones(len(years), bool)
        reach[site - S] += data.demand[:, cls, :].max(axis=0) * ok
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
    rows = Rows()
    _demand_rows(rows, x, u, demand, W, C, T)
    _existing_rows(rows, x, h, z, P, years, sp, W, S, T)
    _candidate_rows(rows, x, y, op, S, J, T, W, demand)
    _first_stage_rows(rows, y, z, wv, h, data, sp, cap_h, J)
    _use_rows(rows, x, y, years, sp, params, p, S)
    _service_rows(rows, u, g, demand, unreachable, sp, W, T)
    _budget_rows(rows, y, z, years, sp, params)
    A, row_lo, row_hi = rows.matrix(n)
    dist = np.zeros(n)
    dist[x["var"]] = p[x["w"]] * x["distance_m"].to_numpy() / 1000
    served = np.zeros(n)
    served[u["var"]] = 1.0
    constant = float(p @ unreachable @ delta) * sp.max_cost_per_pupil_year
    return Formulation(c, A, row_lo, row_hi, lo, hi, integer, dist, served, x, u, h, g, y, z,
                       wv, data, sp, params, unreachable, constant)


def _demand_rows(rows: Rows, x, u, demand, W, C, T) -> None:
    """Every reachable pupil placed or without a place: Σ_a x + u = d (per draw, class, year)."""
    key = np.full(W * C * T, -1)
    uk = (u["w"] * C + u["cls"]) * T + u["t"]
    key[uk] = np.arange(len(u))
    xr = key[(x["w"] * C + x["cls"]) * T + x["t"]]
    d = demand[u["w"], u["cls"], u["t"]]
    rows.add(np.concatenate([xr, np.arange(len(u))]), np.concatenate([x["var"], u["var"]]),
             1.0, d, d)


def _existing_rows(rows: Rows, x, h, z, P, years, sp, W, S, T) -> None:
    """Existing sites: Σ x − h − class_size · Σ_{o ≤ t} z[s, o] ≤ places[s, t]."""
    ex = (x["site"] < S).to_numpy()
    r_x = (x["w"][ex] * S + x["site"][ex]) * T + x["t"][ex]
    r_h = (h["w"] * S + h["site"]) * T + h["t"]
    zr, zc = [], []
    for k in range(W):
        for t in range(T):
            on = z["open_year"].to_numpy() <= years[t]
            zr.append((k * S + z["site"][on].to_numpy()) * T + t)
            zc.append(z["var"][on].to_numpy())
    zr = np.concatenate(zr) if zr else np.zeros(0, int)
    rows.add(np.concatenate([r_x, r_h, zr]),
             np.concatenate([x["var"][ex], h["var"], np.concatenate(zc) if zc else []]),
             np.concatenate([np.ones(ex.sum()), -np.ones(len(h)),
                             np.full(len(zr), -float(sp.class_size))]),
             np.full(W * S * T, -np.inf), np.tile(P.ravel(), W))


def _candidate_rows(rows: Rows, x, y, op, S, J, T, W, demand) -> None:
    """Candidates: Σ x[a→j, t] ≤ Σ places[m, o, t] · y[j, m, o]; with the open indicators
    ``op`` (strong) also op[j, t] = Σ_{o ≤ t} y[j, m, o] and x[a→j, t] ≤ d[c, t] · op[j, t]
    for every arc: the disaggregated linking of capacitated facility location, which makes
    the relaxation's bound much tighter at two entries per arc."""
    if not J:
        return
    cap = np.vstack(y["cap"].to_numpy()) if len(y) else np.zeros((0, T))
    xj = x[(x["site"] >= S).to_numpy()]
    yr, yc, yv = [], [], []
    for k in range(W):
        for t in range(T):
            on = cap[:, t] > 0
            yr.append((k * J + y["cand"][on].to_numpy()) * T + t)
            yc.append(y["var"][on].to_numpy())
            yv.append(-cap[on, t])
    rows.add(np.concatenate([(xj["w"] * J + xj["site"] - S) * T + xj["t"], *yr]),
             np.concatenate([xj["var"], *yc]), np.concatenate([np.ones(len(xj)), *yv]),
             np.full(W * J * T, -np.inf), np.zeros(W * J * T))
    if not len(op) or not len(y):
        return
    key = np.full(J * T, -1)
    key[op["cand"] * T + op["t"]] = np.arange(len(op))
    opened = y["open_year"].to_numpy()
    ot = np.concatenate([np.flatnonzero(cap[i] > 0) for i in range(len(y))])
    oi = np.concatenate([np.full(int((cap[i] > 0).sum()), i) for i in range(len(y))])
    del opened
    rows.add(np.concatenate([np.arange(len(op)), key[y["cand"].to_numpy()[oi] * T + ot]]),
             np.concatenate([op["var"], y["var"].to_numpy()[oi]]),
             np.concatenate([np.ones(len(op)), -np.ones(len(oi))]),
             np.zeros(len(op)), np.zeros(len(op)))
    ok = key[(xj["site"] - S) * T + xj["t"]]
    d = demand[xj["w"], xj["cls"], xj["t"]]
    n = len(xj)
    rows.add(np.concatenate([np.arange(n), np.arange(n)]),
             np.concatenate([xj["var"], op["var"].to_numpy()[ok]]),
             np.concatenate([np.ones(n), -d]), np.full(n, -np.inf), np.zeros(n))


def _first_stage_rows(rows: Rows, y, z, wv, h, data, sp, cap_h, J) -> None:
    """One school per site; expansions within the site's limit; temporary places only in
    allowed years (h ≤ share · places · w) and in at most temporary_max_years years."""
    if len(y):
        rows.add(y["cand"], y["var"], 1.0, np.full(J, -np.inf), np.ones(J))
    if len(z):
        sites, zi = np.unique(z["site"], return_inverse=True)
        rows.add(zi, z["var"], 1.0, np.full(len(sites), -np.inf),
                 data.expand_max[sites].astype(float))
    if len(wv):
        key = pd.Series(wv["var"].to_numpy(), index=pd.MultiIndex.from_arrays(
            [wv["site"], wv["t"]]))
        wvar = key.loc[list(zip(h["site"], h["t"]))].to_numpy()
        rows.add(np.concatenate([np.arange(len(h)), np.arange(len(h))]),
                 np.concatenate([h["var"], wvar]),
                 np.concatenate([np.ones(len(h)), -np.floor(cap_h[h["site"], h["t"]])]),
                 np.full(len(h), -np.inf), np.zeros(len(h)))
        sites, wi = np.unique(wv["site"], return_inverse=True)
        rows.add(wi, wv["var"], 1.0, np.full(len(sites), -np.inf),
                 np.full(len(sites), float(sp.temporary_max_years)))


def _use_rows(rows: Rows, x, y, years, sp, params, p, S) -> None:
    """Minimum use: Σ_ω p_ω Σ x[a→j, t, ω] ≥ min_use · places[m, o, t] · y[j, m, o] in the
    option's window (one row per candidate and year: at most one option per site)."""
    if not len(y) or params.min_use <= 0:
        return
    xj = x[(x["site"] >= S).to_numpy()]
    pairs = {}
    for r in y.itertuples():
        win = use_window(r.open_year, years, sp, params)
        for t in np.flatnonzero(win):
            pairs.setdefault((r.cand, t), []).append((r.var, params.min_use * r.cap[t]))
    if not pairs:
        return
    index = {key: i for i, key in enumerate(pairs)}
    rx = np.array([index.get((s - S, t), -1) for s, t in zip(xj["site"], xj["t"])], int)
    keep = rx >= 0
    yr = [index[k] for k, v in pairs.items() for _ in v]
    yc = [var for v in pairs.values() for var, _ in v]
    yv = [-need for v in pairs.values() for _, need in v]
    rows.add(np.concatenate([rx[keep], yr]), np.concatenate([xj["var"][keep], yc]),
             np.concatenate([p[xj["w"][keep]], yv]), np.zeros(len(pairs)),
             np.full(len(pairs), np.inf))


def _service_rows(rows: Rows, u, g, demand, unreachable, sp, W, T) -> None:
    """Service target: Σ_c u[c, t] − g[t] ≤ max(0, (1 − level) · demand − unreachable)."""
    if not len(g):
        return
    allowed = np.maximum((1 - sp.service_level) * demand.sum(axis=1) - unreachable, 0)
    rows.add(np.concatenate([u["w"] * T + u["t"], g["w"] * T + g["t"]]),
             np.concatenate([u["var"], g["var"]]),
             np.concatenate([np.ones(len(u)), -np.ones(len(g))]),
             np.full(W * T, -np.inf), allowed.ravel())


def _budget_rows(rows: Rows, y, z, years, sp, params) -> None:
    """Yearly capital budget: capital spent in each year (spread over the construction
    years before opening) ≤ ``capital_budget_per_year_cny`` (this stage's share of it)."""
    budget = params.capital_budget_per_year_cny
    if budget is None or not (len(y) or len(z)):
        return
    spend = [(r.var, o, r.capital / sp.construction_years) for r in y.itertuples()
             for o in range(r.open_year - sp.construction_years, r.open_year)]
    per_class = sp.class_size * sp.expansion_cost / sp.expansion_construction_years
    spend += [(r.var, o, per_class) for r in z.itertuples()
              for o in range(r.open_year - sp.expansion_construction_years, r.open_year)]
    spend_years = sorted({o for _, o, _ in spend})
    index = {o: i for i, o in enumerate(spend_years)}
    rows.add([index[o] for _, o, _ in spend], [v for v, _, _ in spend],
             [c / MONEY for _, _, c in spend], np.full(len(spend_years), -np.inf),
             np.full(len(spend_years), budget / MONEY))
