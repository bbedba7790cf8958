"""A second, deliberately simple formulation of one stage of `capacity plan` (plan22.md rules
1–12), for tiny instances only: the independent reference of tests/test_plan_rules.py.

Brute force over every first-stage choice — per candidate: not built, or each allowed size ×
each allowed opening year; per existing site: no expansion, or 1..expand_max classes × each
allowed opening year; per existing site: the years it may have temporary places — and, for
each choice, the least-cost allocation by a linear programme (``scipy.optimize.linprog``,
HiGHS) over flows, pupils without a place and temporary places, per draw. The best choice is
the one with the least service slack, then the least cost (the "very large penalty" on the
slack taken to its limit: lexicographic), then the least pupil-km (rule 10).

It shares nothing with capacity.plan but the input dataclasses. Readings of plan22.md (the same
as tests/test_plan_rules.py's header):

- years are consecutive, ``years[0] = params.start_year``, horizon H = ``years[-1]``; a
  school or expansion opens in a planned year (opening after H only costs);
- every yearly cost (temporary places, transport, pupils without a place, running cost) and
  capital (in the years it is spent) is discounted by (1+r)^-(t-start); second-stage costs are
  weighted by the draws' probabilities;
- every pupil-year without a place costs ``max_cost_per_pupil_year``, unreachable pupils too;
- residual value applies to new schools and expansions (both are buildings with capital);
  running cost applies to new schools only (rule 3 says "of a new school");
- ``expand_max`` is the expansion limit as given (the data builder applies
  ``expansion_max_share``); an expansion may come in steps (classes from several opening years, expand_max in all);
  expanded places take no temporary places (the share is of
  ``places[s, t]``); the capital budget covers new schools and expansions;
- temporary places: the set of years a site may use them is first-stage (at most
  ``temporary_max_years`` years), the places per year are per draw and continuous;
- min use (rule 8): window from the opening year o to (first full year + min_use_years − 1),
  first full year = o + grades − 1 (grade by grade) or o (full), clipped to H;
- service level (rule 9): per year and draw, Σ unserved ≤ (1 − level) × Σ demand + slack; the
  slack measured as Σ_w p_w Σ_t slack (undiscounted) and minimised first.

Dominance used to keep the enumeration small (no optimum is lost): allowing temporary places
in more years never costs more, so only year sets of exactly min(temporary_max_years, the
years with a positive cap) years are tried.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from capacity.plan.data import StageData
from capacity.plan.params import PlanParams, StagePlan

TOL = 1e-7


@dataclass(frozen=True)
class Choice:
    """One first-stage decision."""

    new: tuple          # per candidate j: None or (classes, open_year)
    expand: tuple       # per existing site s: None or ((classes, open_year), ...)
    temp_years: tuple   # per existing site s: frozenset of years temporary places may be used


@dataclass
class Reference:
    """The reference optimum, in the same shape as plan22.md's StageResult where it can."""

    objective_cny: float        # discounted cost, penalties included, residual subtracted,
    #                             service slack NOT included
    slack: float                # pupil-years below the service level (0 when it is met)
    pupil_km: float
    choice: Choice
    new: pd.DataFrame           # cand, classes, places, open_year, capital_cny
    expansions: pd.DataFrame    # site, classes, places, open_year, capital_cny
    temporary: pd.DataFrame     # site, year, places (ceil of the largest over draws)
    transport: pd.DataFrame     # cls, year, pupils (weighted mean over draws)
    use: pd.DataFrame           # cand, year, pupils (weighted mean over draws)
    served: np.ndarray          # (W, T)
    unserved: np.ndarray        # (W, T)
    capital_by_year: pd.Series  # year -> CNY (new schools and expansions), undiscounted
    cost: dict                  # undiscounted CNY by kind (weighted mean over draws)
    n_choices: int


# ---------------------------------------------------------------- the rules, one by one
def discount(params: PlanParams, year: float) -> float:
    """Rule 3: year t weighs (1+r)^-(t - start_year)."""
    return (1.0 + params.discount_rate) ** -(year - params.start_year)


def school_places(sp: StagePlan, places: int, open_year: int, years: np.ndarray) -> np.ndarray:
    """Rule 5: a new school's places in each planned year."""
    out = np.zeros(len(years))
    for i, t in enumerate(years):
        k = t - open_year
        if k < 0:
            continue
        if sp.opening == "grade_by_grade":
            out[i] = math.floor(places * min(1.0, (k + 1) / sp.grades))
        else:
            out[i] = places
    return out


def phased(capital: float, open_year: int, construction_years: int) -> dict[int, float]:
    """Rule 2: capital spread equally over the construction years before opening."""
    n = max(construction_years, 1)
    return {open_year - n + i: capital / n for i in range(n)}


def residual(capital: float, open_year: int, params: PlanParams, horizon: int) -> float:
    """Rule 3: the building's value left after the horizon, discounted (subtracted)."""
    share = max(0.0, 1.0 - (horizon + 1 - open_year) / params.building_life_years)
    return capital * share * discount(params, horizon + 1)


def min_use_window(sp: StagePlan, params: PlanParams, open_year: int, horizon: int) -> range:
    """Rule 8: the years a new school must be used at least min_use of its places."""
    full = open_year + (sp.grades - 1 if sp.opening == "grade_by_grade" else 0)
    return range(open_year, min(horizon, full + params.min_use_years - 1) + 1)


# ------------------------------------------------------------------ the choices
def new_options(data: StageData, sp: StagePlan, params: PlanParams, j: int) -> list:
    """Rule 1: not built, or a size and an opening year ≥ max(start + lead, earliest)."""
    first = max(params.start_year + sp.lead_years, int(data.cand_earliest[j]))
    return [None] + [(int(m), int(o)) for m in data.cand_sizes[j]
                     for o in range(first, int(data.years[-1]) + 1)]


def expansion_options(data: StageData, sp: StagePlan, params: PlanParams, s: int) -> list:
    """Rules 1, 4: none, or whole classes added in one or more steps (years ≥ start +
    expansion lead), at most expand_max in all: each option a tuple of (classes, year)."""
    first = params.start_year + sp.expansion_lead_years
    years = list(range(first, int(data.years[-1]) + 1))
    out = [None]
    for z in itertools.product(range(int(data.expand_max[s]) + 1), repeat=len(years)):
        if 0 < sum(z) <= int(data.expand_max[s]):
            out.append(tuple((k, o) for k, o in zip(z, years) if k))
    return out


def temporary_options(data: StageData, sp: StagePlan, s: int) -> list:
    """Rule 7: the years site s may have temporary places (see the dominance note above)."""
    useful = [int(t) for i, t in enumerate(data.years)
              if sp.temporary_share * data.places[s, i] > 0]
    k = min(sp.temporary_max_years, len(useful))
    return [frozenset(c) for c in itertools.combinations(useful, k)] if k else [frozenset()]


def all_choices(data: StageData, sp: StagePlan, params: PlanParams):
    S, J = data.places.shape[0], len(data.cand_sizes)
    news = [new_options(data, sp, params, j) for j in range(J)]
    exps = [expansion_options(data, sp, params, s) for s in range(S)]
    temps = [temporary_options(data, sp, s) for s in range(S)]
    for n in itertools.product(*news):
        for e in itertools.product(*exps):
            for h in itertools.product(*temps):
                yield Choice(tuple(n), tuple(e), tuple(h))


def count_choices(data: StageData, sp: StagePlan, params: PlanParams) -> int:
    S, J = data.places.shape[0], len(data.cand_sizes)
    sizes = [len(new_options(data, sp, params, j)) for j in range(J)]
    sizes += [len(expansion_options(data, sp, params, s)) for s in range(S)]
    sizes += [len(temporary_options(data, sp, s)) for s in range(S)]
    return int(np.prod(sizes))


# ------------------------------------------------------------- first-stage costs
def buildings(choice: Choice, sp: StagePlan) -> list[tuple[str, int, int, int, float]]:
    """(kind, index, classes, open_year, capital) of every school and expansion built."""
    out = []
    for j, pick in enumerate(choice.new):
        if pick is not None:
            m, o = pick
            out.append(("new", j, m, o, m * sp.class_size * sp.cost_per_place))
    exp_cost = sp.cost_per_place if sp.expansion_cost_per_place is None \
        else sp.expansion_cost_per_place
    for s, pick in enumerate(choice.expand):
        for z, o in pick or ():
            out.append(("expansion", s, z, o, z * sp.class_size * exp_cost))
    return out


def capital_by_year(choice: Choice, sp: StagePlan) -> dict[int, float]:
    """Rule 2: undiscounted capital (new schools and expansions) by the year it is spent."""
    out: dict[int, float] = {}
    for kind, _, _, o, cap in buildings(choice, sp):
        n = sp.construction_years if kind == "new" else sp.expansion_construction_years
        for y, v in phased(cap, o, n).items():
            out[y] = out.get(y, 0.0) + v
    return out


def first_stage_cost(choice: Choice, data: StageData, sp: StagePlan,
                     params: PlanParams) -> float:
    """Discounted capital − residual value + running cost of the new schools."""
    H = int(data.years[-1])
    total = sum(v * discount(params, y) for y, v in capital_by_year(choice, sp).items())
    for kind, j, m, o, cap in buildings(choice, sp):
        total -= residual(cap, o, params, H)
        if kind == "new":
            places = school_places(sp, m * sp.class_size, o, data.years)
            total += sum(sp.running_cost_per_place_year * p * discount(params, t)
                         for p, t in zip(places, data.years))
    return total


# ------------------------------------------------------------ the allocation LP
class Allocation:
    """The second stage of one choice: an LP over every draw, built from plain lists."""

    def __init__(self, choice: Choice, data: StageData, sp: StagePlan, params: PlanParams):
        years, T = np.asarray(data.years, int), len(data.years)
        demand = np.asarray(data.demand, float)
        W, C, _ = demand.shape
        S, J = data.places.shape[0], len(data.cand_sizes)
        self.T, self.W, self.C, self.S, self.J = T, W, C, S, J
        self.years, self.demand = years, demand
        p = np.asarray(data.weights, float)
        # capacity of every site and year under this choice (rules 4, 5)
        cap = np.zeros((S + J, T))
        cap[:S] = data.places
        for s, pick in enumerate(choice.expand):
            for z, o in pick or ():
                cap[s] += np.where(years >= o, z * sp.class_size, 0)
        for j, pick in enumerate(choice.new):
            if pick is not None:
                m, o = pick
                cap[S + j] = school_places(sp, m * sp.class_size, o, years)
        self.cap = cap
        self.cols: list[tuple] = []        # ("x", w, a, t) | ("u", w, c, t) | ("h", w, s, t)
        cost, dist, ub = [], [], []        # | ("slack", w, t)

        def var(key, c, d=0.0, hi=None):
            self.cols.append(key)
            cost.append(c)
            dist.append(d)
            ub.append(hi)
            return len(self.cols) - 1

        arcs = data.arcs.reset_index(drop=True)
        acls, asite = arcs["cls"].to_numpy(int), arcs["site"].to_numpy(int)
        atr, adist = arcs["transport"].to_numpy(bool), arcs["distance_m"].to_numpy(float)
        self.acls, self.asite, self.atr = acls, asite, atr
        x = {}
        for w in range(W):
            for a in range(len(arcs)):
                for t in range(T):
                    if atr[a] and not data.eligible[acls[a], t]:
                        continue                                     # rule 6
                    temp_ok = asite[a] < S and years[t] in choice.temp_years[asite[a]]
                    if cap[asite[a], t] <= 0 and not temp_ok:
                        continue
                    c = sp.transport_cost_per_pupil_year if atr[a] else 0.0
                    x[w, a, t] = var(("x", w, a, t), p[w] * discount(params, years[t]) * c,
                                     p[w] * adist[a] / 1000.0)
        u = {(w, c, t): var(("u", w, c, t), p[w] * discount(params, years[t])
                            * sp.max_cost_per_pupil_year)
             for w in range(W) for c in range(C) for t in range(T)}
        h = {}
        for w in range(W):
            for s in range(S):
                for t in range(T):
                    if years[t] in choice.temp_years[s]:              # rule 7
                        h[w, s, t] = var(("h", w, s, t), p[w] * discount(params, years[t])
                                         * sp.temporary_cost_per_place_year,
                                         hi=sp.temporary_share * data.places[s, t])
        slack = {}
        if sp.service_level is not None:
            slack = {(w, t): var(("slack", w, t), 0.0) for w in range(W) for t in range(T)}
        n = len(self.cols)
        eq_rows, eq_rhs, ub_rows, ub_rhs = [], [], [], []

        def row(entries):
            r = np.zeros(n)
            for i, v in entries:
                r[i] += v
            return r

        for w in range(W):
            for c in range(C):
                for t in range(T):   # every pupil placed or without a place
                    e = [(i, 1.0) for (w_, a, t_), i in x.items()
                         if w_ == w and t_ == t and acls[a] == c] + [(u[w, c, t], 1.0)]
                    eq_rows.append(row(e))
                    eq_rhs.append(demand[w, c, t])
            for k in range(S + J):
                for t in range(T):   # capacity (+ temporary places at existing sites)
                    e = [(i, 1.0) for (w_, a, t_), i in x.items()
                         if w_ == w and t_ == t and asite[a] == k]
                    if not e:
                        continue
                    if (w, k, t) in h:
                        e.append((h[w, k, t], -1.0))
                    ub_rows.append(row(e))
                    ub_rhs.append(cap[k, t])
            if slack:
                for t in range(T):   # rule 9: Σ u − slack ≤ (1 − level) Σ d
                    e = [(u[w, c, t], 1.0) for c in range(C)] + [(slack[w, t], -1.0)]
                    ub_rows.append(row(e))
                    ub_rhs.append((1 - sp.service_level) * demand[w, :, t].sum())
        H = int(years[-1])
        for j, pick in enumerate(choice.new):   # rule 8: Σ_w p_w use ≥ min_use × places
            if pick is None or params.min_use <= 0:
                continue
            for o_t in min_use_window(sp, params, pick[1], H):
                t = int(np.flatnonzero(years == o_t)[0])
                need = params.min_use * cap[S + j, t]
                e = [(i, -p[w_]) for (w_, a, t_), i in x.items()
                     if t_ == t and asite[a] == S + j]
                if not e and need > 0:
                    self.infeasible = True
                ub_rows.append(row(e))
                ub_rhs.append(-need)
        self.infeasible = getattr(self, "infeasible", False)
        self.cost, self.dist = np.array(cost), np.array(dist)
        self.bounds = [(0, b) for b in ub]
        self.A_eq, self.b_eq = np.array(eq_rows).reshape(-1, n), np.array(eq_rhs)
        self.A_ub, self.b_ub = np.array(ub_rows).reshape(-1, n), np.array(ub_rhs)
        self.slack_c = np.array([p[k[1]] if k[0] == "slack" else 0.0 for k in self.cols])
        self.extra_ub: list[tuple[np.ndarray, float]] = []

    def solve(self, objective: np.ndarray):
        A_ub, b_ub = self.A_ub, self.b_ub
        if self.extra_ub:
            A_ub = np.vstack([A_ub, *[r[None, :] for r, _ in self.extra_ub]])
            b_ub = np.concatenate([b_ub, [b for _, b in self.extra_ub]])
        res = linprog(objective, A_ub=A_ub if len(b_ub) else None,
                      b_ub=b_ub if len(b_ub) else None, A_eq=self.A_eq, b_eq=self.b_eq,
                      bounds=self.bounds, method="highs")
        return res if res.status == 0 else None

    def least_cost(self) -> tuple[float, float] | None:
        """(slack, cost) of the lexicographic optimum, or None when infeasible."""
        if self.infeasible:
            return None
        slack = 0.0
        if self.slack_c.any():
            res = self.solve(self.slack_c)
            if res is None:
                return None
            slack = float(res.fun)
            self.extra_ub.append((self.slack_c, slack + TOL * max(1.0, slack)))
        res = self.solve(self.cost)
        if res is None:
            return None
        self.x = res.x
        return slack, float(res.fun)

    def least_distance(self, cost: float) -> float:
        """Rules 12 then 10, at a cost ≤ ``cost`` (after :meth:`least_cost`): the most pupils
        placed (with no penalty a least-cost allocation may leave places empty), then the
        least pupil-km."""
        self.extra_ub.append((self.cost, cost + TOL * max(1.0, abs(cost))))
        unserved = np.array([1.0 if k[0] == "u" else 0.0 for k in self.cols])
        res = self.solve(unserved)
        if res is not None:
            self.extra_ub.append((unserved, res.fun + 1e-6 * max(1.0, res.fun)))
        res = self.solve(self.dist)
        if res is not None:
            self.x = res.x
        return float(self.dist @ self.x)


# ------------------------------------------------------------------ the search
def reference_plan(data: StageData, sp: StagePlan, params: PlanParams,
                   max_choices: int = 20000) -> Reference:
    """The optimal plan of one stage by brute force (tiny instances only)."""
    n = count_choices(data, sp, params)
    if n > max_choices:
        raise ValueError(f"{n} first-stage choices: too many for the brute force")
    budget = params.capital_budget_per_year_cny
    scored = []
    for choice in all_choices(data, sp, params):
        if budget is not None and any(v > budget * (1 + 1e-9) + 1e-6
                                      for v in capital_by_year(choice, sp).values()):
            continue                                                   # rule 11
        alloc = Allocation(choice, data, sp, params)
        found = alloc.least_cost()
        if found is None:
            continue
        slack, second = found
        scored.append((slack, first_stage_cost(choice, data, sp, params) + second,
                       second, choice, alloc))
    least_slack = min(s for s, *_ in scored)
    scored = [r for r in scored if r[0] <= least_slack + 1e-6 * max(1.0, least_slack)]
    best = min(r[1] for r in scored)
    ties = [r for r in scored if r[1] <= best + TOL * max(1.0, abs(best))]
    km = [alloc.least_distance(second) for _, _, second, _, alloc in ties]
    slack, total, _, choice, alloc = ties[int(np.argmin(km))]
    return describe(choice, alloc, data, sp, total, slack, min(km), n)


def describe(choice: Choice, alloc: Allocation, data: StageData, sp: StagePlan,
             total: float, slack: float, km: float, n: int) -> Reference:
    W, T, S = alloc.W, alloc.T, alloc.S
    p = np.asarray(data.weights, float)
    years = alloc.years
    unserved = np.zeros((W, T))
    transport: dict[tuple[int, int], float] = {}
    use: dict[tuple[int, int], float] = {}
    temp = np.zeros((S, T))
    for key, v in zip(alloc.cols, alloc.x):
        if key[0] == "u":
            unserved[key[1], key[3]] += v
        elif key[0] == "h":
            temp[key[2], key[3]] = max(temp[key[2], key[3]], v)
        elif key[0] == "x" and v > 1e-9:
            w, a, t = key[1:]
            if alloc.atr[a]:
                k = (int(alloc.acls[a]), int(years[t]))
                transport[k] = transport.get(k, 0.0) + p[w] * v
            if alloc.asite[a] >= S:
                k = (int(alloc.asite[a] - S), int(years[t]))
                use[k] = use.get(k, 0.0) + p[w] * v
    exp_cost = sp.cost_per_place if sp.expansion_cost_per_place is None \
        else sp.expansion_cost_per_place
    new = pd.DataFrame([(j, m, m * sp.class_size, o, m * sp.class_size * sp.cost_per_place)
                        for j, pick in enumerate(choice.new) if pick is not None
                        for m, o in [pick]],
                       columns=["cand", "classes", "places", "open_year", "capital_cny"])
    exp = pd.DataFrame([(s, z, z * sp.class_size, o, z * sp.class_size * exp_cost)
                        for s, pick in enumerate(choice.expand)
                        for z, o in pick or ()],
                       columns=["site", "classes", "places", "open_year", "capital_cny"])
    cost = {"capital": float(new["capital_cny"].sum()),
            "expansion": float(exp["capital_cny"].sum()),
            "temporary": sum(p[k[1]] * v for k, v in zip(alloc.cols, alloc.x) if k[0] == "h")
            * sp.temporary_cost_per_place_year,
            "transport": sum(transport.values()) * sp.transport_cost_per_pupil_year,
            "running": sp.running_cost_per_place_year * sum(
                school_places(sp, m * sp.class_size, o, years).sum()
                for pick in choice.new if pick is not None for m, o in [pick])}
    si, ti = np.nonzero(temp > 1e-6)
    temporary = pd.DataFrame({"site": si, "year": years[ti],
                              "places": np.ceil(temp[si, ti] - 1e-6).astype(int)})
    cby = capital_by_year(choice, sp)
    return Reference(
        objective_cny=total, slack=slack, pupil_km=km, choice=choice, new=new,
        expansions=exp, temporary=temporary,
        transport=pd.DataFrame([(c, y, v) for (c, y), v in sorted(transport.items())],
                               columns=["cls", "year", "pupils"]),
        use=pd.DataFrame([(j, y, v) for (j, y), v in sorted(use.items())],
                         columns=["cand", "year", "pupils"]),
        served=alloc.demand.sum(axis=1) - unserved, unserved=unserved,
        capital_by_year=pd.Series({y: cby[y] for y in sorted(cby)}, dtype=float),
        cost=cost, n_choices=n)
