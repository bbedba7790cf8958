"""Checks of a rate column's kind and of published figures, named like the checks of
``validate.py`` (which lists them in its ``CHECKS``): each reads the typed tables and returns
its problems (docs/model-format.md)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ..errors import Problem

if TYPE_CHECKING:
    from .load import Model

#: Ages at which death rates (mx, qx) of any human population lie far below 0.5 and survival
#: ratios (sx) far above it: a column whose median there is on the wrong side holds the other.
KIND_AGES = (0, 50)


def mortality_kind(m: "Model") -> list[Problem]:
    """An ``mx`` or ``qx`` column whose values at ages 0–50 are mostly above 0.5 (per sex)
    holds survival ratios; an ``sx`` column mostly below 0.5 holds rates."""
    kind, f = m.mortality_kind, m.mortality
    if kind == "Lx":
        return []
    young = f[f["age"].between(*KIND_AGES)]
    out = []
    for sex, v in young.groupby("sex", sort=True)[kind]:
        if (v.median() > 0.5) == (kind == "sx"):
            continue
        looks, want = ("death rates (mx/qx)", "survival ratios near 1, or the column named mx "
                       "or qx") if kind == "sx" else ("survival ratios (sx)", "death rates far "
                                                      "below 0.5, or the column named sx")
        out.append(Problem(m.files["mortality"].name, f"{kind} values of sex {sex} at ages "
                           f"{KIND_AGES[0]}–{KIND_AGES[1]} have median {v.median():.3g}: they "
                           f"look like {looks}", int(v.index[(v > 0.5) != (kind == "sx")][0]),
                           kind, want + " at these ages"))
    return out


def anchor_intervals(m: "Model") -> list[Problem]:
    """anchors.csv: of one area, indicator and year, lower_P <= medium <= upper_P (P = 80,
    95); reported at the lower row."""
    a = m.anchors
    if a is None or not len(a):
        return []
    key = ["area", "indicator", "year"]
    wide = a.reset_index().pivot_table(index=key, columns="variant", values=["value", "line"],
                                       aggfunc="first")
    val, line = wide["value"], wide["line"]
    out: list[Problem] = []
    for p in (80, 95):
        chain = [v for v in (f"lower_{p}", "medium", f"upper_{p}") if v in val]
        for k in wide.index:
            got = [(v, val.at[k, v]) for v in chain if pd.notna(val.at[k, v])]
            bad = next(((a, b) for a, b in zip(got, got[1:]) if a[1] > b[1]), None)
            if bad is not None and len(out) < 10:
                (low, x), (high, y) = bad
                out.append(Problem(m.files["anchors"].name, f"{low} {x:g} is above {high} "
                                   f"{y:g} for {k[0]} {k[1]} {int(k[2])}",
                                   int(line.at[k, low]), "value",
                                   f"lower_{p} <= medium <= upper_{p}"))
    return out
