"""The report's plausibility and base-year calibration sections (``report.html``).

Read from the run's ``plausibility`` and ``calibration`` tables and its manifest warnings
(made by the ``plausibility`` post-step, :mod:`capacity.plausibility`); labels in the
scenario's report language (``report/text/{en,zh}.toml``, section ``[plausibility]``).
"""
from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd

from ..result import Result
from .labels import LANGS, area_label, in_language, stage_label, text

#: Rows of the summary table, in order (net migration bands follow ``net_migration``).
SHOWN = ("births", "births_index", "tfr", "crude_birth_rate", "deaths_per_1000",
         "women_20_39", "women_20_39_change_10y", "net_migration", "cohort_migration_min")
SHARES = {"women_20_39_change_10y", "cohort_migration_min"}
BAD = " style='color:#a40e26;font-weight:600'"    # a value outside its range
DIGITS = {"births_index": 2, "tfr": 2, "crude_birth_rate": 1, "deaths_per_1000": 1}


def _lang(result: Result) -> str:
    lang = result.manifest.get("lang") or "en"
    return lang if lang in LANGS else "en"


def _t(key: str, lang: str, **fields: Any) -> str:
    return html.escape(text("plausibility", key, lang, **fields))


def _fmt(indicator: str, value: Any) -> str:
    if value is None or pd.isna(value):
        return "–"
    if indicator in SHARES:
        return f"{100 * float(value):+.1f} %"
    return f"{float(value):,.{DIGITS.get(indicator, 0)}f}"


def shown_years(years: list[int]) -> list[int]:
    """First and last projected year and every fifth year between."""
    if not years:
        return []
    return sorted({years[0], years[-1], *[y for y in years if y % 5 == 0]})


def _label(indicator: str, lang: str) -> str:
    if indicator.startswith("net_migration_"):
        band = indicator.removeprefix("net_migration_").replace("_plus", "+") \
            .replace("_", "–")
        return _t("net_migration_band", lang, band=band)
    return _t(indicator, lang)


def _rows(table: pd.DataFrame, indicator: str, years: list[int], lang: str) -> list[str]:
    sub = table[table["indicator"] == indicator]
    if sub.empty:
        return []
    own = sub.drop_duplicates("year").set_index("year")
    bad = set(sub.loc[sub["status"].isin(["below", "above"]), "year"].astype(int))
    cells = "".join(f"<td class='n'{BAD if y in bad else ''}>"
                    f"{_fmt(indicator, own['value'].get(y))}</td>" for y in years)
    out = [f"<tr class='stage-start'><td>{_label(indicator, lang)}</td>{cells}</tr>"]
    for area, g in sub[sub["anchor"].fillna("") != ""].groupby("anchor", sort=False):
        g = g.set_index("year")
        cells = "".join(f"<td class='n note'>{_fmt(indicator, g['anchor_value'].get(y))}</td>"
                        for y in years)
        out.append(f"<tr><td class='note'>"
                   f"{_t('anchor_row', lang, area=html.escape(area_label(area, lang)))}"
                   f"</td>{cells}</tr>")
    ranged = sub.dropna(subset=["low", "high"], how="all").drop_duplicates("year")
    if len(ranged) and indicator != "births_index":
        r = ranged.set_index("year")
        cells = "".join(
            f"<td class='n note'>{_range(indicator, r['low'].get(y), r['high'].get(y))}</td>"
            for y in years)
        out.append(f"<tr><td class='note'>{_t('range_row', lang)}</td>{cells}</tr>")
    elif len(ranged):   # births index: the range of each anchor
        for area, g in ranged.groupby("anchor", sort=False):
            g = g.set_index("year")
            cells = "".join(
                f"<td class='n note'>{_range(indicator, g['low'].get(y), g['high'].get(y))}"
                "</td>" for y in years)
            out.append(f"<tr><td class='note'>{_t('range_row', lang)} "
                       f"({html.escape(area_label(area, lang))})"
                       f"</td>{cells}</tr>")
    return out


def _range(indicator: str, low: Any, high: Any) -> str:
    lo = None if low is None or pd.isna(low) or np.isinf(float(low)) else _fmt(indicator, low)
    hi = None if high is None or pd.isna(high) or np.isinf(float(high)) \
        else _fmt(indicator, high)
    if lo and hi:
        return f"{lo}–{hi}"
    return f"≥ {lo}" if lo else f"≤ {hi}" if hi else ""


def plausibility_section(result: Result) -> str:
    """``<h2 id="plausibility">``: warnings, then the main indicators for every fifth year
    beside the anchors and the ranges the checks allow."""
    lang = _lang(result)
    table = result.extras.get("plausibility")
    head = f"<h2 id='plausibility'>{_t('title', lang)}</h2><p>{_t('intro', lang)}</p>"
    if table is None or table.empty:
        return head + f"<p class='note'>{_t('no_table', lang)}</p>"
    notes = [w.removeprefix("plausibility: ") for w in result.manifest.get("warnings", [])
             if w.startswith("plausibility: ")]
    if notes:
        warn = (f"<h3>{_t('warnings', lang)}</h3><ul>"
                + "".join(f"<li><span class='badge not'>!</span> "
                          f"{html.escape(in_language(n, lang))}</li>"
                          for n in notes) + "</ul>")
    else:
        warn = f"<p><span class='badge met'>✓</span> {_t('no_warnings', lang)}</p>"
    projected = sorted(int(y) for y in table.loc[table["indicator"] == "births", "year"])
    years = shown_years(projected)
    bands = [i for i in pd.unique(table["indicator"]) if str(i).startswith("net_migration_")]
    order = [i for s in SHOWN for i in ([s] + bands if s == "net_migration" else [s])]
    body = [r for ind in order for r in _rows(table, ind, years, lang)]
    grid = ("<div class='scroll'><table><tr><th>" + _t("indicator", lang) + "</th>"
            + "".join(f"<th class='n'>{y}</th>" for y in years) + "</tr>"
            + "".join(body) + "</table></div>")
    return head + warn + grid


def calibration_section(result: Result) -> str:
    """``<h3 id="calibration">``: modelled and reported pupils with the comparison's kind."""
    lang = _lang(result)
    cal = result.extras.get("calibration")
    head = f"<h3 id='calibration'>{_t('calibration_title', lang)}</h3>" \
           f"<p>{_t('calibration_intro', lang)}</p>"
    if cal is None or cal.empty:
        return head + f"<p class='note'>{_t('no_calibration', lang)}</p>"
    cols = ("stage", "year", "modelled", "reported", "difference", "label", "source")
    rows = []
    for r in cal.itertuples():
        pct = r.pct_difference
        badge = {"calibration": "none", "validation": "met", "unchecked": "none"}.get(r.label,
                                                                                     "none")
        rows.append(
            f"<tr><td>{html.escape(stage_label(str(r.stage), lang))}</td>"
            f"<td class='n'>{int(r.year)}</td><td class='n'>{_fmt('births', r.modelled)}</td>"
            f"<td class='n'>{_fmt('births', r.reported)}</td>"
            f"<td class='n'>{'–' if pd.isna(pct) else f'{float(pct):+.2f}'}</td>"
            f"<td><span class='badge {badge}'>{_t(str(r.label), lang)}</span></td>"
            f"<td>{html.escape('' if pd.isna(r.source) else str(r.source))}</td></tr>")
    return head + ("<table><tr>" + "".join(
        f"<th{' class=n' if c in ('year', 'modelled', 'reported', 'difference') else ''}>"
        f"{_t(c, lang)}</th>" for c in cols) + "</tr>" + "".join(rows) + "</table>")


__all__ = ["plausibility_section", "calibration_section", "shown_years"]
