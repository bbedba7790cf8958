"""Modelling-layer benchmark (issue 22, item 7): the plan's MILP built by hand (sparse rows,
capacity/plan/formulation.py) against the same model in linopy, on HiGHS.

For each stage of the Tongzhou baseline (the data `capacity plan` builds: the run, its
candidate sites, the 4 nearest candidates per reach class) it measures and checks

* ``assemble``: the hand-built formulation (index frames + sparse matrix);
* the same model in linopy: labelled variables over the formulation's index frames, every row
  family of formulation.py written as linopy expressions (groupby sums and gathers), not the
  finished matrix; then linopy's hand-over to HiGHS (``to_highspy``, what
  ``solve(io_api="direct")`` does before solving);
* that the second formulation is the same model — the benchmark fails loudly otherwise: the
  model HiGHS receives from linopy has the hand-built columns (costs, bounds, integrality)
  and the same non-empty rows, and both LP relaxations, solved by HiGHS, agree to 1e-6
  relative (also with a tight yearly capital budget — binding for junior — which the
  baseline lacks);
* the plan's full solve of the hand-built model (capacity.plan.solve.solve, 60 s limit), the
  reference for the 20 % rule: keep the hand-built layer if linopy's build + hand-over costs
  more than 20 % of the solve time.

linopy and highspy are optional (``pip install -e '.[bench]'``).
Run: ``PYTHONPATH=. python benchmarks/bench_modelling_layer.py [--stage junior] [--quick]``.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp_sparse

from capacity.chain import Chain
from capacity.plan.candidates import read_sites, stage_candidates
from capacity.plan.data import nearest_candidates, stage_data
from capacity.plan.formulation import (MONEY, Formulation, assemble, capital_cost, discount,
                                       use_window)
from capacity.plan.params import plan_params
from capacity.plan.solve import solve
from capacity.plan.stage import CANDIDATE_ARCS

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
STAGES = ["kindergarten", "primary", "junior", "senior"]
RULE = 0.20          # issue 22: a modelling layer may cost at most 20 % of solve time
TOL = 1e-6           # relative agreement of the two LP relaxations
BUDGET = 100e6       # CNY a year: a binding capital budget for the budget rows' check


def need_linopy():
    """linopy, xarray and highspy, or exit with a clear message."""
    try:
        import highspy  # noqa: F401
        import linopy
        import xarray as xr
    except ImportError as e:
        sys.exit(f"bench_modelling_layer needs linopy and highspy ({e.name} is missing): "
                 "pip install -e '.[bench]'")
    return linopy, xr


def stage_inputs(stages: list[str]) -> dict:
    """Each stage's plan data as capacity/plan/run.py builds it (deterministic baseline)."""
    chain = Chain(BASELINE, post=(), progress=None, workers=1)
    state = chain.start()
    params = plan_params(state)
    mode = state.scenario.mode
    state.allocators = {mode: state.allocators[mode]}
    state = chain.run_steps(state)
    sites = read_sites(state, params)
    out = {}
    for stage in stages:
        cand = stage_candidates(state, params, stage, sites)
        data = nearest_candidates(stage_data(state, params, stage, cand), CANDIDATE_ARCS)
        out[stage] = (data, params.stages[stage], params)
    return out


class Builder:
    """linopy helpers: variables labelled by a frame's columns, grouped sums, gathers."""

    def __init__(self, linopy, xr) -> None:
        self.lp, self.xr, self.m = linopy, xr, linopy.Model()

    def var(self, name: str, frame: pd.DataFrame, cols: list[str], upper, integer=False):
        """One variable per frame row, its columns as labels (coordinates ``name_col``)."""
        if not len(frame):
            return None
        coords = {name: np.arange(len(frame))}
        coords.update({f"{name}_{c}": (name, frame[c].to_numpy()) for c in cols})
        up = self.xr.DataArray(np.asarray(upper, float), dims=name, coords=coords)
        return self.m.add_variables(lower=0.0, upper=up, name=name, integer=integer)

    def da(self, values, dims, v=None):
        """A coefficient array on ``v``'s dimension (and an extra "k" axis when 2-D)."""
        dims = (dims,) if isinstance(dims, str) else dims
        coords = {dims[0]: v.indexes[dims[0]]} if v is not None else {}
        return self.xr.DataArray(np.asarray(values, float), dims=dims, coords=coords)

    def grouped(self, v, coef, key, row: str):
        """Σ coef · v grouped into rows ``key`` (same shape as coef; −1: no term); a 2-D
        coef spreads each variable over several rows (axis "k", e.g. years)."""
        coef, key = np.asarray(coef, float), np.asarray(key, np.int64)
        d = v.dims[0]
        if coef.ndim == 1:
            on = np.flatnonzero(key >= 0)
            sub = v.isel({d: on})
            e = sub * self.xr.DataArray(coef[on], dims=d, coords={d: sub.indexes[d]})
            keys = self.xr.DataArray(key[on], dims=d, name=row, coords={d: sub.indexes[d]})
            return e.groupby(keys).sum()
        e = (v * self.da(coef, (d, "k"), v)).stack(_s=(d, "k"))
        on = np.flatnonzero(key.ravel() >= 0)
        e = e.isel(_s=on)
        keys = self.xr.DataArray(key.ravel()[on], dims="_s", name=row,
                                 coords=e.data.coords["_s"].coords)
        return e.groupby(keys).sum()

    def gather(self, v, idx, new: str):
        """v at positions ``idx`` (repeats allowed) along a new dimension ``new``."""
        d = v.dims[0]
        return v.isel({d: np.asarray(idx, np.int64)}).assign_coords(
            {d: np.arange(len(idx))}).rename({d: new})

    def rows(self, name: str, parts: list, sense: str, rhs_of) -> None:
        """Constraint family ``name``: the parts' sum (outer join on the row labels)
        ``sense`` rhs_of(row labels)."""
        parts = [p for p in parts if p is not None]
        if not parts:
            return
        lhs = self.lp.merge(parts, join="outer", cls=self.lp.LinearExpression) \
            if len(parts) > 1 else parts[0]
        keys = lhs.indexes[name].to_numpy()
        rhs = self.xr.DataArray(np.asarray(rhs_of(keys), float), dims=name,
                                coords={name: keys})
        con = {"<=": lhs <= rhs, ">=": lhs >= rhs, "==": lhs == rhs}[sense]
        self.m.add_constraints(con, name=name)


def open_frame(f: Formulation) -> pd.DataFrame:
    """The open indicators' index (cand, t): each candidate from its earliest option's
    opening year (Formulation keeps no frame for them: they are its last variables)."""
    years = f.data.years
    first = f.y.groupby("cand")["open_year"].min() if len(f.y) else pd.Series(dtype=int)
    op = pd.DataFrame([(j, t) for j, o in first.items() for t in np.flatnonzero(years >= o)],
                      columns=["cand", "t"])
    n = len(f.c) - sum(len(fr) for fr in (f.x, f.u, f.h, f.g, f.y, f.z, f.wv))
    if n != len(op):
        sys.exit(f"open indicators: {len(op)} rebuilt, the formulation has {n}")
    return op


def build_linopy(f: Formulation, linopy, xr):
    """The formulation's model in linopy, from its data and index frames (not its matrix)."""
    data, sp, params = f.data, f.sp, f.params
    years, T = data.years, len(data.years)
    W, C, _ = data.demand.shape
    S, J = data.n_sites, len(data.cand_earliest)
    P, d, p = data.places, data.demand, data.weights
    delta = discount(years, params.start_year, params.discount_rate)
    H = int(years[-1])
    x, u, h, g, y, z, wv = f.x, f.u, f.h, f.g, f.y, f.z, f.wv
    op = open_frame(f)
    b = Builder(linopy, xr)
    col = lambda fr, c: fr[c].to_numpy(int)          # noqa: E731
    cap_h = np.floor(sp.temporary_share * P)
    X = b.var("x", x, ["w", "cls", "site", "t"], d[col(x, "w"), col(x, "cls"), col(x, "t")])
    U = b.var("u", u, ["w", "cls", "t"], d[col(u, "w"), col(u, "cls"), col(u, "t")])
    Hv = b.var("h", h, ["w", "site", "t"], cap_h[col(h, "site"), col(h, "t")])
    G = b.var("g", g, ["w", "t"], np.full(len(g), np.inf))
    Y = b.var("y", y, ["cand", "classes", "open_year"], np.ones(len(y)), integer=True)
    Z = b.var("z", z, ["site", "open_year"], data.expand_max[col(z, "site")], integer=True)
    WV = b.var("wv", wv, ["site", "t"], np.ones(len(wv)), integer=True)
    OP = b.var("op", op, ["cand", "t"], np.ones(len(op)))
    # objective (万元)
    pw = lambda fr: p[col(fr, "w")] * delta[col(fr, "t")] / MONEY   # noqa: E731
    target = 2.0 * max(sp.standard_classes) * sp.class_size * max(sp.cost_per_place, 1)
    z_cost = np.array([capital_cost(sp.class_size * sp.expansion_cost, o,
                                    sp.expansion_construction_years, params, H)
                       + sp.running_cost_per_place_year * sp.class_size
                       * delta[years >= o].sum() for o in z["open_year"]])
    terms = [(X, pw(x) * np.where(x["transport"], sp.transport_cost_per_pupil_year, 0.0)),
             (U, pw(u) * sp.max_cost_per_pupil_year),
             (Hv, pw(h) * sp.temporary_cost_per_place_year), (G, pw(g) * target),
             (Y, y["cost"].to_numpy(float) / MONEY), (Z, z_cost / MONEY)]
    b.m.add_objective(sum((v * b.da(c, v.dims, v)).sum() for v, c in terms if v is not None))

    cap = np.vstack(y["cap"].to_numpy()) if len(y) else np.zeros((0, T))
    ex = col(x, "site") < S
    xw, xc, xs, xt = col(x, "w"), col(x, "cls"), col(x, "site"), col(x, "t")
    neg = lambda m: np.where(m, 0, -1)               # noqa: E731  (-1: no term)
    # demand: Σ_a x + u = d
    dk = lambda w, c, t: (w * C + c) * T + t         # noqa: E731
    parts = [b.grouped(X, np.ones(len(x)), dk(xw, xc, xt), "demand") if X is not None
             else None]
    if U is not None:
        parts.append(b.grouped(U, np.ones(len(u)), dk(col(u, "w"), col(u, "cls"), col(u, "t")),
                               "demand"))
    b.rows("demand", parts, "==", lambda k: d.reshape(-1)[k])
    # existing capacity: Σ x − h − class_size Σ_{o ≤ t} z ≤ P
    sk = lambda w, s, t: (w * S + s) * T + t         # noqa: E731
    parts = []
    if X is not None and ex.any():
        parts.append(b.grouped(X, ex * 1.0, np.where(ex, sk(xw, xs, xt), -1), "existing"))
    if Hv is not None:
        parts.append(b.grouped(Hv, -np.ones(len(h)), sk(col(h, "w"), col(h, "site"),
                                                         col(h, "t")), "existing"))
    if Z is not None:
        kw, kt = np.divmod(np.arange(W * T), T)            # axis k: (draw, year)
        on = z["open_year"].to_numpy()[:, None] <= years[kt][None, :]
        parts.append(b.grouped(Z, np.where(on, -float(sp.class_size), 0.0),
                               np.where(on, sk(kw[None, :], col(z, "site")[:, None],
                                               kt[None, :]), -1), "existing"))
    b.rows("existing", parts, "<=", lambda k: np.tile(P.ravel(), W)[k])
    # candidate capacity: Σ x[a→j] ≤ Σ places(t) · y
    jk = lambda w, j, t: (w * J + j) * T + t         # noqa: E731
    if J and X is not None:
        parts = [b.grouped(X, (~ex) * 1.0, np.where(~ex, jk(xw, xs - S, xt), -1), "candidate")]
        if Y is not None:
            kw, kt = np.divmod(np.arange(W * T), T)
            capk = cap[:, kt]
            parts.append(b.grouped(Y, -capk, np.where(capk > 0, jk(
                kw[None, :], col(y, "cand")[:, None], kt[None, :]), -1), "candidate"))
        b.rows("candidate", parts, "<=", lambda k: np.zeros(len(k)))
    # open indicators and linking: op[j, t] = Σ_{o ≤ t} y;  x[a→j, t] ≤ d · op[j, t]
    if OP is not None and Y is not None:
        key = np.full(J * T, -1)
        key[col(op, "cand") * T + col(op, "t")] = np.arange(len(op))
        b.rows("op_def", [b.grouped(OP, np.ones(len(op)), np.arange(len(op)), "op_def"),
                          b.grouped(Y, -1.0 * (cap > 0), np.where(cap > 0, key[
                              col(y, "cand")[:, None] * T + np.arange(T)[None, :]], -1),
                              "op_def")], "==", lambda k: np.zeros(len(k)))
        xj = np.flatnonzero(~ex)
        dj = d[xw[xj], xc[xj], xt[xj]]
        link = b.gather(X, xj, "link") - b.da(dj, "link") * b.gather(
            OP, key[(xs[xj] - S) * T + xt[xj]], "link")
        b.m.add_constraints(link <= 0, name="link")
    # one school per site; expansions within the site's limit
    if Y is not None:
        b.rows("one_school", [b.grouped(Y, np.ones(len(y)), col(y, "cand"), "one_school")],
               "<=", lambda k: np.ones(len(k)))
    if Z is not None:
        b.rows("expansion", [b.grouped(Z, np.ones(len(z)), col(z, "site"), "expansion")],
               "<=", lambda k: data.expand_max[k])
    # temporary places only in allowed years, in at most temporary_max_years years
    if WV is not None and Hv is not None:
        at = pd.Series(np.arange(len(wv)), index=pd.MultiIndex.from_arrays(
            [wv["site"], wv["t"]]))
        hw = at.loc[list(zip(h["site"], h["t"]))].to_numpy()
        hcap = cap_h[col(h, "site"), col(h, "t")]
        temp = b.gather(Hv, np.arange(len(h)), "temporary") \
            - b.da(hcap, "temporary") * b.gather(WV, hw, "temporary")
        b.m.add_constraints(temp <= 0, name="temporary")
        b.rows("temporary_years", [b.grouped(WV, np.ones(len(wv)), col(wv, "site"),
                                             "temporary_years")], "<=",
               lambda k: np.full(len(k), float(sp.temporary_max_years)))
    # minimum use: Σ_ω p Σ x[a→j, t] ≥ min_use · places(t) · y in the option's window
    if Y is not None and X is not None and params.min_use > 0:
        win = np.array([use_window(o, years, sp, params) for o in y["open_year"]]) \
            .reshape(len(y), T)
        pairs = np.zeros(J * T, bool)
        pairs[(col(y, "cand")[:, None] * T + np.arange(T)[None, :])[win]] = True
        pk = np.full(J * T, -1)
        pk[pairs] = np.arange(pairs.sum())
        xk = np.where(~ex, pk[np.where(~ex, xs - S, 0) * T + xt], -1)
        b.rows("min_use", [
            b.grouped(X, p[xw], xk, "min_use"),
            b.grouped(Y, -params.min_use * cap * win, np.where(
                win, pk[col(y, "cand")[:, None] * T + np.arange(T)[None, :]], -1),
                "min_use")], ">=", lambda k: np.zeros(len(k)))
    # service target: Σ_c u − g ≤ max(0, (1 − level) D − unreachable)
    if G is not None:
        reach = np.zeros((W, C, T), bool)
        reach[xw, xc, xt] = True
        allowed = np.maximum((1 - sp.service_level) * d.sum(axis=1)
                             - (d * ~reach).sum(axis=1), 0).ravel()
        b.rows("service", [None if U is None else b.grouped(
                               U, np.ones(len(u)), col(u, "w") * T + col(u, "t"), "service"),
                           b.grouped(G, -np.ones(len(g)), col(g, "w") * T + col(g, "t"),
                                     "service")], "<=", lambda k: allowed[k])
    # yearly capital budget: capital spent each year ≤ the stage's budget
    budget = params.capital_budget_per_year_cny
    if budget is not None and (Y is not None or Z is not None):
        first = int(years[0]) - max(sp.construction_years, sp.expansion_construction_years)
        span = np.arange(first, H + 1)
        parts = []
        for v, fr, cy, amount in ((Y, y, sp.construction_years,
                                   y["capital"].to_numpy(float) if len(y) else None),
                                  (Z, z, sp.expansion_construction_years,
                                   np.full(len(z), float(sp.class_size * sp.expansion_cost)))):
            if v is None:
                continue
            o = fr["open_year"].to_numpy(int)[:, None]
            spend = (span[None, :] >= o - cy) & (span[None, :] < o)
            parts.append(b.grouped(v, spend * (amount[:, None] / cy / MONEY),
                                   np.where(spend, span[None, :] - first, -1), "budget"))
        b.rows("budget", parts, "<=", lambda k: np.full(len(k), budget / MONEY))
    return b.m


def lp_hand(f: Formulation) -> tuple[float, float]:
    """(objective, seconds) of the hand-built model's LP relaxation (HiGHS via SciPy)."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    t = time.perf_counter()
    r = milp(f.c, constraints=[LinearConstraint(f.A, f.row_lo, f.row_hi)],
             bounds=Bounds(f.lo, f.hi), options={"disp": False})
    if r.x is None:
        sys.exit(f"hand-built LP relaxation failed: {r.message}")
    return float(r.fun), time.perf_counter() - t


def lp_highs(h) -> tuple[float, float]:
    """(objective, seconds) of a highspy model's LP relaxation (integrality dropped)."""
    import highspy
    n = h.getNumCol()
    h.setOptionValue("output_flag", False)
    h.changeColsIntegrality(n, np.arange(n, dtype=np.int32),
                            np.full(n, highspy.HighsVarType.kContinuous))
    t = time.perf_counter()
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        sys.exit(f"linopy LP relaxation failed: {h.modelStatusToString(h.getModelStatus())}")
    return float(h.getInfo().objective_function_value), time.perf_counter() - t


def same_lp(label: str, f: Formulation, h) -> tuple[float, float, float, float, float]:
    """Both LP relaxations, failing loudly unless their objectives agree to ``TOL``."""
    obj_hand, s_hand = lp_hand(f)
    obj_lin, s_lin = lp_highs(h)
    rel = abs(obj_hand - obj_lin) / max(abs(obj_hand), 1.0)
    if not rel <= TOL:
        sys.exit(f"FAIL {label}: LP relaxations differ: hand-built {obj_hand!r}, "
                 f"linopy {obj_lin!r} (relative {rel:.2e} > {TOL:g})")
    return obj_hand, s_hand, obj_lin, s_lin, rel


def row_keys(A, lo, hi) -> list[bytes]:
    """Sorted canonical rows (columns, coefficients, bounds) of ``lo ≤ A v ≤ hi``, empty
    rows left out (they bind nothing: the hand-built model keeps some, linopy none)."""
    A = sp_sparse.csr_matrix(A)
    A.sum_duplicates()
    A.eliminate_zeros()
    A.sort_indices()
    keys = []
    for r in np.flatnonzero(np.diff(A.indptr)):
        s = slice(A.indptr[r], A.indptr[r + 1])
        keys.append(A.indices[s].astype(np.int64).tobytes()
                    + (np.round(np.r_[A.data[s], lo[r], hi[r]], 8) + 0.0).tobytes())
    return sorted(keys)


def same_model(label: str, f: Formulation, h) -> int:
    """Fail loudly unless HiGHS got from linopy exactly the hand-built model: the same
    columns (costs, bounds, integrality, in the frames' order) and the same non-empty rows
    up to their order. Returns the number of rows compared."""
    lp = h.getLp()
    a = lp.a_matrix_
    n, m = lp.num_col_, lp.num_row_
    rowwise = "row" in str(a.format_).lower()
    A = (sp_sparse.csr_matrix if rowwise else sp_sparse.csc_matrix)(
        (np.asarray(a.value_), np.asarray(a.index_), np.asarray(a.start_)), shape=(m, n))
    ints = np.asarray(lp.integrality_, int) if len(lp.integrality_) else np.zeros(n, int)
    same = [("columns", n == len(f.c)),
            ("costs", n == len(f.c) and np.allclose(lp.col_cost_, f.c, rtol=1e-12, atol=0)),
            ("bounds", n == len(f.c) and np.array_equal(lp.col_lower_, f.lo)
             and np.array_equal(np.minimum(lp.col_upper_, 1e30), np.minimum(f.hi, 1e30))),
            ("integrality", n == len(f.c) and np.array_equal(ints > 0, f.integer > 0))]
    mine = row_keys(A, np.asarray(lp.row_lower_), np.asarray(lp.row_upper_))
    hand = row_keys(f.A, f.row_lo, f.row_hi)
    same.append(("rows", mine == hand))
    bad = [what for what, ok in same if not ok]
    if bad:
        sys.exit(f"FAIL {label}: the linopy model differs from the hand-built one in its "
                 f"{', '.join(bad)} ({len(mine)} against {len(hand)} non-empty rows)")
    return len(hand)


def timed(make) -> tuple[tuple[float, float], object]:
    """((first, again) seconds, result) of ``make()`` called twice: the first call pays
    one-off costs (lazy imports, caches), the second is the steady state."""
    t = time.perf_counter()
    make()
    first = time.perf_counter() - t
    t = time.perf_counter()
    out = make()
    return (first, time.perf_counter() - t), out


def bench_stage(stage: str, inputs, linopy, xr, time_limit: float) -> dict:
    data, sp, params = inputs
    t_asm, f = timed(lambda: assemble(data, sp, params))
    t_build, m = timed(lambda: build_linopy(f, linopy, xr))
    t_hand, h = timed(m.to_highspy)
    compared = same_model(stage, f, h)
    obj_hand, s_hand, obj_lin, s_lin, rel = same_lp(stage, f, h)
    # the baseline sets no yearly capital budget: check that row family on a tight one too
    fb = assemble(data, sp, replace(params, capital_budget_per_year_cny=BUDGET))
    hb = build_linopy(fb, linopy, xr).to_highspy()
    same_model(f"{stage} (budget ¥{BUDGET / 1e6:.0f} M a year)", fb, hb)
    same_lp(f"{stage} (budget ¥{BUDGET / 1e6:.0f} M a year)", fb, hb)
    sol = solve(f, params.mip_gap, time_limit)
    return {"stage": stage, "vars": f.A.shape[1], "rows": f.A.shape[0], "nnz": f.A.nnz,
            "families": ", ".join(m.constraints), "compared": compared, "lin_rows": h.getNumRow(),
            "lin_nnz": h.getNumNz(), "assemble_s": t_asm,
            "linopy_build_s": t_build, "linopy_to_highs_s": t_hand, "solve_s": sol.seconds,
            "lp_hand_s": s_hand, "lp_linopy_s": s_lin, "lp_obj": obj_hand, "lp_rel_diff": rel,
            "status": sol.status}


def report(r: dict) -> None:
    lin = (r["linopy_build_s"][1] + r["linopy_to_highs_s"][1]) / r["solve_s"]
    asm = r["assemble_s"][1] / r["solve_s"]
    s = lambda k: f"{r[k][1]:.2f} s (first {r[k][0]:.2f})"   # noqa: E731
    print(f"{r['stage']}: {r['vars']:,} variables, {r['rows']:,} rows, {r['nnz']:,} nonzeros "
          f"(linopy: {r['lin_rows']:,} rows, {r['lin_nnz']:,} nonzeros)")
    print(f"  linopy row families: {r['families']}; the same columns and "
          f"{r['compared']:,} non-empty rows as the hand-built model")
    print(f"  LP relaxation {r['lp_obj']:.6f} 万元 both (relative difference "
          f"{r['lp_rel_diff']:.1e}); LP solve hand {r['lp_hand_s']:.2f} s, "
          f"linopy {r['lp_linopy_s']:.2f} s")
    print(f"  assemble {s('assemble_s')} | linopy build {s('linopy_build_s')} | "
          f"linopy→HiGHS {s('linopy_to_highs_s')} | solve {r['solve_s']:.2f} s "
          f"({r['status']})")
    print(f"  (linopy build + hand-over) / solve = {lin:.1%}; assemble / solve = {asm:.1%}")
    verdict = "keep the hand-built layer" if lin > RULE else "linopy is within the rule"
    print(f"  verdict: linopy costs {lin:.0%} of solve time "
          f"({'>' if lin > RULE else '≤'} {RULE:.0%}): {verdict}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stage", choices=STAGES, action="append",
                    help="stage to measure (repeatable; default: every stage)")
    ap.add_argument("--quick", action="store_true", help="one stage (kindergarten)")
    ap.add_argument("--time-limit", type=float, default=60.0, help="solve limit (s)")
    args = ap.parse_args()
    linopy, xr = need_linopy()
    stages = args.stage or (["kindergarten"] if args.quick else STAGES)
    t = time.perf_counter()
    inputs = stage_inputs(stages)
    print(f"Tongzhou baseline, plan data for {', '.join(stages)}: "
          f"{time.perf_counter() - t:.1f} s (linopy {linopy.__version__})")
    for stage in stages:
        report(bench_stage(stage, inputs[stage], linopy, xr, args.time_limit))


if __name__ == "__main__":
    main()
