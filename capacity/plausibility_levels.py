"""Plausibility checks of *levels* (docs/plausibility.md, "Level checks"): the run's births
against births proportional to an anchor area's crude birth rate in every year with one,
the sign of net migration at 65+ against the district's census residual, and the growth
of primary-age residents against a grade-progression estimate. Anchors: the model's
``anchors.csv`` (indicators ``births_per_head_ratio``, ``net_migration_65_plus``,
``primary_residents_growth``); thresholds: ``capacity/data/plausibility_thresholds.csv``.
Warnings are given in English and Chinese (``capacity/report/text/*.toml``,
``[plausibility]`` keys ``warn_*``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .report.labels import area_label, text

if TYPE_CHECKING:
    from .demography.ccm import Projection
    from .model import Model

#: Indicators whose anchored rows are judged here (not by the generic range warnings).
LEVEL_INDICATORS = ("births", "net_migration_65_plus", "primary_residents_growth")


def is_level_row(table: pd.DataFrame) -> pd.Series:
    """Rows of a level check: a level indicator with an anchor."""
    return table["indicator"].isin(LEVEL_INDICATORS) & table["anchor"].notna()


def _anchor(anchors: pd.DataFrame | None, indicator: str) -> pd.DataFrame:
    if anchors is None or not len(anchors):
        return pd.DataFrame(columns=["area", "year", "value", "source"])
    a = anchors[anchors["indicator"] == indicator]
    return a[["area", "year", "value", "source"]]


def _status(value: float, low: float, high: float) -> str:
    return "below" if value < low else "above" if value > high else "ok"


def apply_level_checks(table: pd.DataFrame, wide: pd.DataFrame,
                       anchors: pd.DataFrame | None, th: dict[str, float]) -> pd.DataFrame:
    """``table`` with anchored rows added for births (anchor CBR / 1000 x the year's mean
    population x the area's births-per-head ratio, band ± ``births_level_tolerance``) and
    net migration at 65+ (the census residual's sign, slack ``net_migration_65_slack`` x
    its size)."""
    rows: list[dict] = []
    by_year = wide.set_index(wide["year"].astype(int))
    ratios = _anchor(anchors, "births_per_head_ratio")
    if len(ratios) and {"population", "births"} <= set(wide.columns):
        rows += _births_rows(by_year["population"], by_year["births"], ratios,
                             _anchor(anchors, "crude_birth_rate"), th["births_level_tolerance"])
    slack = th["net_migration_65_slack"]
    net = by_year.get("net_migration_65_plus")
    for r in _anchor(anchors, "net_migration_65_plus").itertuples():
        a = float(r.value)
        lo, hi = (-slack * abs(a), np.inf) if a >= 0 else (-np.inf, slack * abs(a))
        for y, v in (net.dropna().items() if net is not None else ()):
            rows.append({"year": int(y), "indicator": "net_migration_65_plus",
                         "value": float(v), "unit": "persons", "anchor": str(r.area),
                         "anchor_source": str(r.source), "anchor_value": a, "low": lo,
                         "high": hi, "status": _status(float(v), lo, hi)})
    if not rows:
        return table
    return pd.concat([table, pd.DataFrame(rows, columns=table.columns)], ignore_index=True)


def _births_rows(pop: pd.Series, births: pd.Series, ratios: pd.DataFrame, cbr: pd.DataFrame,
                 tol: float) -> list[dict]:
    """Births against rate / 1000 x mean population x ratio, per area and year."""
    rows = []
    for r in ratios.itertuples():
        rates = cbr[cbr["area"] == r.area]
        for c in rates.itertuples():
            y = int(c.year)
            if y not in births.index or y - 1 not in pop.index or pd.isna(births[y]):
                continue
            expected = float(c.value) / 1000 * (pop[y - 1] + pop[y]) / 2 * float(r.value)
            lo, hi = expected * (1 - tol), expected * (1 + tol)
            rows.append({"year": y, "indicator": "births", "value": float(births[y]),
                         "unit": "births", "anchor": str(r.area),
                         "anchor_source": f"{c.source}; x {float(r.value):g} ({r.source})",
                         "anchor_value": expected, "low": lo, "high": hi,
                         "status": _status(float(births[y]), lo, hi)})
    return rows


def primary_growth_rows(proj: "Projection", years: np.ndarray, model: "Model",
                        th: dict[str, float]) -> list[dict]:
    """Rows: residents at the primary stage's ages in an anchor's year ÷ in the base year,
    against ``primary_residents_growth`` anchors (e.g. a grade-progression estimate of
    pupils), band ± ``primary_growth_tolerance``."""
    a = _anchor(model.anchors, "primary_residents_growth")
    stage = model.stages.get("primary")
    if stage is None or not len(a):
        return []
    lo_age, hi_age = stage.ages
    kids = proj.population[..., lo_age:hi_age + 1].sum(axis=(1, 2, 3))
    idx = {int(y): k for k, y in enumerate(years)}
    tol = th["primary_growth_tolerance"]
    rows = []
    for r in a.itertuples():
        k = idx.get(int(r.year))
        if k is None or k == 0 or kids[0] <= 0:
            continue
        v = float(kids[k] / kids[0])
        lo, hi = float(r.value) - tol, float(r.value) + tol
        rows.append({"year": int(r.year), "indicator": "primary_residents_growth", "value": v,
                     "unit": "ratio", "anchor": str(r.area), "anchor_source": str(r.source),
                     "anchor_value": float(r.value), "low": lo, "high": hi,
                     "status": _status(v, lo, hi)})
    return rows


def level_warnings(table: pd.DataFrame) -> list[str]:
    """One bilingual sentence ("English / 中文") per failed level check and anchor."""
    out = []
    bad = table[is_level_row(table) & table["status"].isin(["below", "above"])]
    for (ind, area, status), g in bad.groupby(["indicator", "anchor", "status"], sort=False):
        yrs = sorted(g["year"].astype(int))
        pick = g.loc[(g["value"] - g["anchor_value"]).abs().idxmax()]
        fields = dict(area=area, years=", ".join(map(str, yrs)), year=int(pick["year"]),
                      value=pick["value"], anchor=pick["anchor_value"], low=pick["low"],
                      high=pick["high"])
        key = {"births": "warn_births_level", "net_migration_65_plus": "warn_net_migration_65",
               "primary_residents_growth": "warn_primary_growth"}[ind]
        out.append(" / ".join(text("plausibility", key, lang,
                                   **{**fields, "area": area_label(area, lang)})
                              for lang in ("en", "zh")))
    return out
