"""One stage's plan from its data: formulate, solve, read the decisions (:func:`plan_stage`)."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .data import StageData, nearest_candidates
from .formulation import MONEY, Formulation, assemble, discount, school_places
from .params import PlanParams, StagePlan
from .solve import Solution, solve


@dataclass
class StageResult:
    """What to build and when, and what it does, for one stage (money in CNY)."""

    new: pd.DataFrame           # cand, classes, places, open_year, capital_cny
    expansions: pd.DataFrame    # site, classes, places, open_year, capital_cny
    temporary: pd.DataFrame     # site, year, places (whole; with draws: the largest)
    transport: pd.DataFrame     # cls, year, pupils (weighted mean over draws)
    use: pd.DataFrame           # cand, year, pupils, places (weighted mean): new schools
    served: np.ndarray          # (W, T) pupils placed
    unserved: np.ndarray        # (W, T) pupils without a place (unreachable included)
    unreachable: np.ndarray     # (W, T) pupils no option reaches
    capital_by_year: pd.Series  # year → CNY, undiscounted, phased over construction years
    cost: dict                  # undiscounted CNY by kind (weighted mean over draws)
    objective_cny: float        # discounted objective (penalties in, residual value out)
    penalty_cny: float          # its part for pupils without a place (and the service target)
    bound_cny: float
    gap: float
    gap_basis: str
    status: str
    unique: bool | None
    seconds: float
    years: np.ndarray
    formulation: Formulation | None = field(default=None, repr=False)
    solution: Solution | None = field(default=None, repr=False)
    draws: pd.DataFrame | None = None   # with --draws: year, p_shortfall, unserved_mean, _p80


#: The MILP links each reach class to this many nearest candidate sites (arcs to existing
#: sites all kept); the chosen buildings then serve pupils over every arc (:func:`refit`).
CANDIDATE_ARCS = 4


def plan_stage(data: StageData, sp: StagePlan, params: PlanParams,
               time_limit_s: float | None = None, tie_break: bool = True,
               central: StageData | None = None, k: int = CANDIDATE_ARCS) -> StageResult:
    """Formulate and solve one stage (over the futures of ``data``), then place the pupils
    of ``central`` (default: ``data``) with the buildings chosen; read what the plan builds,
    when, and what it costs. With several futures, the central future's own plan is a
    candidate too: the futures' MILP keeps it unless it finds a cheaper expected cost."""
    limit = time_limit_s or params.time_limit_s
    f = assemble(nearest_candidates(data, k), sp, params)
    sol = solve(f, params.mip_gap, limit, tie_break)
    if central is not None and data.demand.shape[0] > 1:
        own = plan_stage(central, sp, params, limit, tie_break, None, k)
        kept = solve(hold(f, own), params.mip_gap, limit, tie_break=False)
        if kept.cost_cny < sol.cost_cny - 1e-6 * abs(sol.cost_cny):
            bound, basis = sol.bound_cny, sol.gap_basis
            sol = kept
            sol.bound_cny, sol.gap_basis, sol.status = bound, basis, "time limit"
            sol.gap = max(sol.cost_cny - bound, 0.0) / max(abs(sol.cost_cny), 1e-9) \
                if np.isfinite(bound) else np.nan
    r = read_result(f, sol)
    # the central future of several: minimum use held on their mean, not asked again here
    out = refit(r, data if central is None else central, sp,
                params if central is None else replace(params, min_use=0.0), time_limit_s)
    if data.demand.shape[0] > 1:
        out.draws = shortfall_risk(r)
    return out


def hold(f: Formulation, r: StageResult) -> Formulation:
    """``f`` with the first stage of ``r`` held: its schools, expansions (sites, sizes and
    years) and the years it allows temporary places (matched by meaning, so ``r`` may come
    from another formulation of the stage)."""
    lo, hi = f.lo.copy(), f.hi.copy()
    chosen = {(int(n.cand), int(n.classes), int(n.open_year)) for n in r.new.itertuples()}
    yv = f.y["var"].to_numpy()
    on = np.array([(int(c), int(m), int(o)) in chosen for c, m, o in
                   zip(f.y["cand"], f.y["classes"], f.y["open_year"])], bool)
    lo[yv] = hi[yv] = on
    grow = {(int(e.site), int(e.open_year)): int(e.classes) for e in r.expansions.itertuples()}
    zv = f.z["var"].to_numpy()
    lo[zv] = hi[zv] = [grow.get((int(s), int(o)), 0) for s, o in zip(f.z["site"],
                                                                     f.z["open_year"])]
    if len(f.wv) and r.formulation is not None and len(r.formulation.wv):
        rw = r.formulation.wv
        allowed = dict(zip(zip(rw["site"], rw["t"]),
                           np.round(r.solution.values[rw["var"].to_numpy()])))
        wvv = f.wv["var"].to_numpy()
        lo[wvv] = hi[wvv] = [allowed.get((s, t), 0.0) for s, t in zip(f.wv["site"],
                                                                       f.wv["t"])]
    return replace(f, lo=lo, hi=hi)


def refit(r: StageResult, data: StageData, sp: StagePlan, params: PlanParams,
          time_limit_s: float | None = None) -> StageResult:
    """The buildings of ``r`` (schools and expansions, their years) and the years allowed
    for temporary places held fixed (:func:`hold`), the pupils, temporary places and
    transport of ``data`` over every arc. Keeps r's bound, gap, status and uniqueness; the
    objective is the final plan's."""
    f = hold(assemble(data, sp, params), r)
    sol = solve(f, params.mip_gap, time_limit_s or params.time_limit_s, tie_break=False)
    out = read_result(f, sol)
    out.bound_cny, out.gap_basis, out.status, out.unique = \
        r.bound_cny, r.gap_basis, r.status, r.unique
    cost = out.objective_cny                   # the plan written: its cost, not r's
    out.gap = max(cost - r.bound_cny, 0.0) / max(abs(cost), 1e-9) \
        if np.isfinite(r.bound_cny) else np.nan
    out.seconds += r.seconds
    return out


def phased(capital: float, open_year: int, build_years: int) -> dict[int, float]:
    """Capital by year: spread evenly over the ``build_years`` before opening."""
    return {y: capital / build_years for y in range(open_year - build_years, open_year)}


def read_result(f: Formulation, sol: Solution) -> StageResult:
    """The decisions and flows of a solution, in the stage's terms."""
    v, data, sp = sol.values, f.data, f.sp
    years, S = data.years, data.n_sites
    W, C, T = data.demand.shape
    p = data.weights
    on = f.y[v[f.y["var"].to_numpy()] > 0.5]
    new = pd.DataFrame({"cand": on["cand"].to_numpy(int), "classes": on["classes"].to_numpy(int),
                        "places": on["classes"].to_numpy(int) * sp.class_size,
                        "open_year": on["open_year"].to_numpy(int),
                        "capital_cny": on["capital"].to_numpy(float)})
    zv = np.round(v[f.z["var"].to_numpy()]) if len(f.z) else np.zeros(0)
    ez = f.z[zv > 0]
    expansions = pd.DataFrame({"site": ez["site"].to_numpy(int),
                               "classes": zv[zv > 0].astype(int),
                               "places": zv[zv > 0].astype(int) * sp.class_size,
                               "open_year": ez["open_year"].to_numpy(int)})
    expansions["capital_cny"] = expansions["places"] * sp.expansion_cost
    capital: dict[int, float] = {}
    for r in new.itertuples():
        for y, c in phased(r.capital_cny, r.open_year, sp.construction_years).items():
            capital[y] = capital.get(y, 0.0) + c
    for r in expansions.itertuples():
        for y, c in phased(r.capital_cny, r.open_year, sp.expansion_construction_years).items():
            capital[y] = capital.get(y, 0.0) + c
    hv = np.round(v[f.h["var"].to_numpy()]) if len(f.h) else np.zeros(0)
    temp = f.h.assign(places=hv)
    temp = temp[temp["places"] > 0].groupby(["site", "t"], as_index=False)["places"].max()
    temporary = pd.DataFrame({"site": temp["site"].to_numpy(int),
                              "year": years[temp["t"].to_numpy(int)],
                              "places": temp["places"].to_numpy(int)})
    xv = v[f.x["var"].to_numpy()]
    xt = f.x.assign(p=xv * p[f.x["w"].to_numpy()])
    tr = xt[xt["transport"].to_numpy(bool) & (xv > 1e-9)]
    tr = tr.groupby(["cls", "t"], as_index=False)["p"].sum()
    transport = pd.DataFrame({"cls": tr["cls"].to_numpy(int), "year": years[tr["t"]],
                              "pupils": tr["p"].to_numpy(float)})
    xj = xt[(xt["site"] >= S).to_numpy()].groupby(["site", "t"])["p"].sum()
    use_rows = []
    for r in new.itertuples():
        cap = school_places(r.classes, r.open_year, years, sp)
        for t in np.flatnonzero(cap > 0):
            use_rows.append((r.cand, int(years[t]), float(xj.get((S + r.cand, t), 0.0)),
                             int(cap[t])))
    use = pd.DataFrame(use_rows, columns=["cand", "year", "pupils", "places"])
    served = np.zeros((W, T))
    np.add.at(served, (f.x["w"].to_numpy(), f.x["t"].to_numpy()), xv)
    served = np.where(np.abs(served - np.round(served)) < 1e-3, np.round(served), served)
    total = data.demand.sum(axis=1)
    unserved = total - served
    running = sp.running_cost_per_place_year * sum(
        float(school_places(r.classes, r.open_year, years, sp).sum()) for r in new.itertuples()) \
        + sp.running_cost_per_place_year * sum(
            r.places * int((years >= r.open_year).sum()) for r in expansions.itertuples())
    cost = {"capital": float(new["capital_cny"].sum()),
            "expansion": float(expansions["capital_cny"].sum()),
            "temporary": float((hv * p[f.h["w"].to_numpy()]).sum()
                               * sp.temporary_cost_per_place_year) if len(f.h) else 0.0,
            "transport": float(transport["pupils"].sum() * sp.transport_cost_per_pupil_year),
            "running": float(running)}
    pen = np.concatenate([f.u["var"].to_numpy(int), f.g["var"].to_numpy(int)])
    penalty = float(f.c[pen] @ v[pen]) * MONEY + f.constant_cny if len(v) else f.constant_cny
    return StageResult(new, expansions, temporary, transport, use, served, unserved,
                       f.unreachable, pd.Series(capital, dtype=float).sort_index(), cost,
                       sol.cost_cny, penalty, sol.bound_cny, sol.gap, sol.gap_basis, sol.status,
                       sol.unique, sol.seconds, years, f, sol)


def discounted(values_by_year: dict[int, float], params: PlanParams) -> float:
    """Σ value × (1 + r)^−(year − start)."""
    if not values_by_year:
        return 0.0
    ys = np.array(list(values_by_year))
    return float(np.dot(list(values_by_year.values()),
                        discount(ys, params.start_year, params.discount_rate)))


def shortfall_risk(r: StageResult) -> pd.DataFrame:
    """year, p_shortfall, unserved_mean, unserved_p80 over the plan's futures: the weighted
    share of futures in which the plan leaves more pupils it could reach without a place
    than the stage's service level allows (none without one), and the mean and 80th
    percentile of all pupils without a place (unreachable ones included)."""
    f = r.formulation
    w, sp = f.data.weights, f.sp
    un = r.unserved                                     # (W, T)
    reachable = un - f.unreachable
    allowed = (1 - sp.service_level) * f.data.demand.sum(axis=1) \
        if sp.service_level is not None else np.zeros_like(un)
    rows = []
    for t, year in enumerate(r.years):
        order = np.argsort(un[:, t])
        cum = np.cumsum(w[order])
        p80 = float(un[order[np.searchsorted(cum, 0.8 - 1e-12)], t])
        short = reachable[:, t] > allowed[:, t] + 0.5
        rows.append((int(year), float(w @ short), float(w @ un[:, t]), p80))
    return pd.DataFrame(rows, columns=["year", "p_shortfall", "unserved_mean", "unserved_p80"])
