"""Backtest metrics: a projected population against an observed census.

Comparisons are made by sex (F, M and both) and

* ``scope="group"``: age groups ``width`` years wide — the observed census's boundaries
  that are multiples of ``width`` (the census 0 and 1-4 become 0-4), ending in its open
  group; single-age censuses give 0-4, 5-9, …;
* ``scope="range"``: named age ranges, e.g. school stages ``{"primary": (6, 11)}``
  (inclusive; ``None`` as upper age = open).  A range that does not fall on the observed
  census's group boundaries is compared with the census graduated to single ages
  (:meth:`Census.to_single`, monotone cumulative spline) and flagged ``exact = False``;
* ``scope="total"``: all ages.

Per row: ``error = projected − observed``, ``abs_error``, ``pct_error = 100·error/observed``
and ``abs_pct_error`` (NaN when observed is 0).  ``scope="mape"`` rows summarise the group
rows (label ``"groups"``) and the range rows (label ``"ranges"``) of each sex: mean absolute
error in ``abs_error`` and MAPE (mean of ``abs_pct_error``, observed zeros left out) in
``abs_pct_error``.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from capacity.demography.census import SEXES, Census, read_census
from capacity.errors import InputError

__all__ = ["backtest", "population_array"]

COLUMNS = ["scope", "label", "sex", "age_from", "age_to", "projected", "observed", "error",
           "abs_error", "pct_error", "abs_pct_error", "exact"]


def population_array(projected: np.ndarray | pd.DataFrame,
                     year: int | None = None) -> np.ndarray:
    """(2, A) by sex × single age from an array (2, A) / (Z, 2, A) or a table with sex, age,
    population (or count) and optionally zone_id and year (``year`` selects one)."""
    if not isinstance(projected, pd.DataFrame):
        arr = np.asarray(projected, dtype=float)
        return arr.reshape(-1, 2, arr.shape[-1]).sum(axis=0)
    df = projected
    if "year" in df.columns:
        if year is None and df["year"].nunique() > 1:
            raise InputError.single("projected", "several years in the projection",
                                    column="year", expected="year=... to pick one")
        if year is not None:
            df = df[df["year"] == year]
            if df.empty:
                raise InputError.single("projected", f"no rows for year {year}",
                                        column="year", expected=f"rows for {year}")
    col = "population" if "population" in df.columns else "count"
    sex = df["sex"].map({"F": 0, "M": 1}).to_numpy()
    age = df["age"].to_numpy(int)
    out = np.zeros((2, int(age.max()) + 1))
    np.add.at(out, (sex, age), df[col].to_numpy(float))
    return out


def backtest(projected: np.ndarray | pd.DataFrame, observed: pd.DataFrame | Census, *,
             ranges: Mapping[str, tuple[int, int | None]] | None = None, width: int = 5,
             year: int | None = None, sx: np.ndarray | None = None,
             file: str = "observed") -> pd.DataFrame:
    """Compare ``projected`` (see :func:`population_array`) with the ``observed`` census
    (any form :func:`read_census` reads); see the module doc for the rows and columns.
    ``sx`` (2, A) splits the observed open group if a range needs it (default: evenly)."""
    proj = population_array(projected, year)
    A = proj.shape[1]
    obs = read_census(observed, file=file).conform(A)
    starts = [s for s in obs.groups.starts if s % width == 0]
    grp = obs.regroup(starts)
    rows = []
    p_g, o_g = grp.aggregate(proj), grp.counts
    for i, label in enumerate(grp.groups.labels):
        a, e = grp.groups.starts[i], grp.groups.ends[i]
        for s, name in enumerate(SEXES):
            rows.append(("group", label, name, a, e, p_g[s, i], o_g[s, i], True))
        rows.append(("group", label, "both", a, e, p_g[:, i].sum(), o_g[:, i].sum(), True))
    single = None
    for label, (lo, hi) in (ranges or {}).items():
        hi_excl = A if hi is None else int(hi) + 1
        if not 0 <= lo < hi_excl <= A:
            raise InputError.single(file, f"age range {label} = {lo}..{hi} outside 0..{A - 1}",
                                    column="age", expected=f"ages within 0..{A - 1}")
        ostarts = np.asarray(obs.groups.starts)
        exact = lo in obs.groups.starts and (hi_excl in obs.groups.starts or hi_excl == A)
        if exact:
            o = obs.counts[:, (ostarts >= lo) & (ostarts < hi_excl)].sum(axis=1)
        else:
            if single is None:
                single = obs.to_single(np.ones((2, A)) if sx is None else sx)
            o = single[:, lo:hi_excl].sum(axis=1)
        p = proj[:, lo:hi_excl].sum(axis=1)
        for s, name in enumerate(SEXES):
            rows.append(("range", label, name, lo, hi, p[s], o[s], exact))
        rows.append(("range", label, "both", lo, hi, p.sum(), o.sum(), exact))
    for s, name in enumerate(SEXES):
        rows.append(("total", "total", name, 0, None, proj[s].sum(), obs.counts[s].sum(), True))
    rows.append(("total", "total", "both", 0, None, proj.sum(), obs.counts.sum(), True))
    df = pd.DataFrame(rows, columns=["scope", "label", "sex", "age_from", "age_to",
                                     "projected", "observed", "exact"])
    df["error"] = df["projected"] - df["observed"]
    df["abs_error"] = df["error"].abs()
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = 100.0 * df["error"] / df["observed"].where(df["observed"] != 0)
    df["pct_error"] = pct
    df["abs_pct_error"] = pct.abs()
    summary = (df[df["scope"].isin(["group", "range"])]
               .groupby(["scope", "sex"], sort=False)[["abs_error", "abs_pct_error"]].mean()
               .reset_index())
    summary["label"] = summary["scope"].map({"group": "groups", "range": "ranges"})
    summary["scope"] = "mape"
    df = pd.concat([df, summary], ignore_index=True)
    df["age_to"] = df["age_to"].astype("Int64")
    df["age_from"] = df["age_from"].astype("Int64")
    return df[COLUMNS]
