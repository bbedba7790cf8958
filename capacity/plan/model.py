"""The plan's constraints in a labelled modelling layer (linopy, docs/plan.md "Modelling
layer"): one variable per row of the formulation's frames, labelled by their columns, and
each row family of the formulation written as linopy expressions (grouped sums, gathers).

:func:`constraint_rows` returns the rows as the solver takes them (a sparse matrix and row
bounds, columns in the frames' order x, u, h, g, y, z, wv, op); the objective, bounds and
integrality stay with the formulation, which solves with HiGHS through scipy.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .terms import MONEY, use_window


class Builder:
    """linopy helpers: variables labelled by a frame's columns, grouped sums, gathers."""

    def __init__(self) -> None:
        import linopy
        import xarray as xr

        self.lp, self.xr, self.m = linopy, xr, linopy.Model()

    def var(self, name: str, frame: pd.DataFrame, cols: list[str]):
        """One variable per frame row, its columns as labels (coordinates ``name_col``)."""
        if not len(frame):
            return None
        coords = {name: np.arange(len(frame))}
        coords.update({f"{name}_{c}": (name, frame[c].to_numpy()) for c in cols})
        up = self.xr.DataArray(np.full(len(frame), np.inf), dims=name, coords=coords)
        return self.m.add_variables(lower=0.0, upper=up, name=name)

    def da(self, values, dims, v=None):
        """A coefficient array on ``v``'s dimension (and an extra "k" axis when 2-D)."""
        dims = (dims,) if isinstance(dims, str) else dims
        coords = {dims[0]: v.indexes[dims[0]]} if v is not None else {}
        return self.xr.DataArray(np.asarray(values, float), dims=dims, coords=coords)

    def grouped(self, v, coef, key, row: str):
        """Σ coef · v grouped into rows ``key`` (same shape as coef; −1: no term); a 2-D
        coef spreads each variable over several rows (axis "k", e.g. years)."""
        coef, key = np.asarray(coef, float), np.asarray(np.broadcast_to(key, np.shape(coef)),
                                                           np.int64)
        if v is None or not (key >= 0).any():
            return None                                  # no term: the part is absent
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

    def matrix(self, n: int) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
        """The rows as (A, row_lo, row_hi) over the ``n`` variables in label order."""
        if not self.m.constraints:
            return sp.csr_matrix((0, n)), np.zeros(0), np.zeros(0)
        M = self.m.matrices
        if not np.array_equal(M.vlabels, np.arange(n)):
            raise RuntimeError("linopy reordered the plan's variables")
        b, sense = np.asarray(M.b, float), np.asarray(M.sense)
        lo = np.where(sense == "<", -np.inf, b)
        hi = np.where(sense == ">", np.inf, b)
        return sp.csr_matrix(M.A), lo, hi


def constraint_rows(v: dict, data, sp_, params, cap_h: np.ndarray, unreachable: np.ndarray
                    ) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Every row family of the plan (docs/plan.md, "The formulation") over the variable
    frames ``v`` (x, u, h, g, y, z, wv, op, each with a ``var`` column)."""
    x, u, h, g, y, z, wv, op = (v[k] for k in ("x", "u", "h", "g", "y", "z", "wv", "op"))
    years, T = data.years, len(data.years)
    W, C, _ = data.demand.shape
    S, J = data.n_sites, len(data.cand_earliest)
    P, d, p = data.places, data.demand, data.weights
    b = Builder()
    col = lambda fr, c: fr[c].to_numpy(int)          # noqa: E731
    X = b.var("x", x, ["w", "cls", "site", "t"])
    U = b.var("u", u, ["w", "cls", "t"])
    Hv = b.var("h", h, ["w", "site", "t"])
    G = b.var("g", g, ["w", "t"])
    Y = b.var("y", y, ["cand", "classes", "open_year"])
    Z = b.var("z", z, ["site", "open_year"])
    WV = b.var("wv", wv, ["site", "t"])
    OP = b.var("op", op, ["cand", "t"])
    cap = np.vstack(y["cap"].to_numpy()) if len(y) else np.zeros((0, T))
    ex = col(x, "site") < S
    xw, xc, xs, xt = col(x, "w"), col(x, "cls"), col(x, "site"), col(x, "t")
    # demand: Σ_a x + u = d (reachable class-years)
    dk = lambda w, c, t: (w * C + c) * T + t         # noqa: E731
    b.rows("demand", [None if X is None else b.grouped(X, np.ones(len(x)), dk(xw, xc, xt),
                                                       "demand"),
                      None if U is None else b.grouped(U, np.ones(len(u)), dk(
                          col(u, "w"), col(u, "cls"), col(u, "t")), "demand")],
           "==", lambda k: d.reshape(-1)[k])
    # existing capacity: Σ x − h − class_size Σ_{o ≤ t} z ≤ P
    sk = lambda w, s, t: (w * S + s) * T + t         # noqa: E731
    kw, kt = np.divmod(np.arange(W * T), T)            # axis k: (draw, year)
    parts = []
    if X is not None and ex.any():
        parts.append(b.grouped(X, ex * 1.0, np.where(ex, sk(xw, xs, xt), -1), "existing"))
    if Hv is not None:
        parts.append(b.grouped(Hv, -np.ones(len(h)), sk(col(h, "w"), col(h, "site"),
                                                         col(h, "t")), "existing"))
    if Z is not None:
        on = z["open_year"].to_numpy()[:, None] <= years[kt][None, :]
        parts.append(b.grouped(Z, np.where(on, -float(sp_.class_size), 0.0),
                               np.where(on, sk(kw[None, :], col(z, "site")[:, None],
                                               kt[None, :]), -1), "existing"))
    b.rows("existing", parts, "<=", lambda k: np.tile(P.ravel(), W)[k])
    # candidate capacity: Σ x[a→j] ≤ Σ places(t) · y (grade by grade)
    jk = lambda w, j, t: (w * J + j) * T + t         # noqa: E731
    if J and X is not None:
        parts = [b.grouped(X, (~ex) * 1.0, np.where(~ex, jk(xw, xs - S, xt), -1), "candidate")]
        if Y is not None:
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
        if len(xj):
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
        hcap = np.floor(cap_h[col(h, "site"), col(h, "t")])
        temp = b.gather(Hv, np.arange(len(h)), "temporary") \
            - b.da(hcap, "temporary") * b.gather(WV, hw, "temporary")
        b.m.add_constraints(temp <= 0, name="temporary")
        b.rows("temporary_years", [b.grouped(WV, np.ones(len(wv)), col(wv, "site"),
                                             "temporary_years")], "<=",
               lambda k: np.full(len(k), float(sp_.temporary_max_years)))
    # minimum use: Σ_ω p Σ x[a→j, t] ≥ min_use · places(t) · y in the option's window
    if Y is not None and X is not None and params.min_use > 0:
        win = np.array([use_window(o, years, sp_, params) for o in y["open_year"]]) \
            .reshape(len(y), T)
        pairs = np.zeros(J * T, bool)
        pairs[(col(y, "cand")[:, None] * T + np.arange(T)[None, :])[win]] = True
        if pairs.any():
            pk = np.full(J * T, -1)
            pk[pairs] = np.arange(pairs.sum())
            xk = np.where(~ex, pk[np.where(~ex, xs - S, 0) * T + xt], -1)
            b.rows("min_use", [
                b.grouped(X, p[xw], xk, "min_use") if (xk >= 0).any() else None,
                b.grouped(Y, -params.min_use * cap * win, np.where(
                    win, pk[col(y, "cand")[:, None] * T + np.arange(T)[None, :]], -1),
                    "min_use")], ">=", lambda k: np.zeros(len(k)))
    # service target: Σ_c u − g ≤ max(0, (1 − level) D − unreachable)
    if G is not None:
        allowed = np.maximum((1 - sp_.service_level) * d.sum(axis=1) - unreachable, 0).ravel()
        b.rows("service", [None if U is None else b.grouped(
                               U, np.ones(len(u)), col(u, "w") * T + col(u, "t"), "service"),
                           b.grouped(G, -np.ones(len(g)), col(g, "w") * T + col(g, "t"),
                                     "service")], "<=", lambda k: allowed[k])
    # yearly capital budget: capital spent each year ≤ the stage's budget
    budget = params.capital_budget_per_year_cny
    if budget is not None and (Y is not None or Z is not None):
        first = int(years[0]) - max(sp_.construction_years, sp_.expansion_construction_years)
        span = np.arange(first, int(years[-1]) + 1)
        parts = []
        for var, fr, cy, amount in (
                (Y, y, sp_.construction_years,
                 y["capital"].to_numpy(float) if len(y) else None),
                (Z, z, sp_.expansion_construction_years,
                 np.full(len(z), float(sp_.class_size * sp_.expansion_cost)))):
            if var is None:
                continue
            o = fr["open_year"].to_numpy(int)[:, None]
            spend = (span[None, :] >= o - cy) & (span[None, :] < o)
            parts.append(b.grouped(var, spend * (amount[:, None] / cy / MONEY),
                                   np.where(spend, span[None, :] - first, -1), "budget"))
        b.rows("budget", parts, "<=", lambda k: np.full(len(k), budget / MONEY))
    n = sum(len(fr) for fr in (x, u, h, g, y, z, wv, op))
    return b.matrix(n)
