"""The plan's report: one self-contained, offline ``report.html`` (inline CSS, SVG and PNG)
that a bureau can read — the plan per stage (schools, capital, temporary places, transport,
pupils without a place before and after), the map of chosen sites, capital by year (chart
and table), how close to optimal each stage's plan is and on which bound, and which inputs
are estimates. Texts: ``text/<lang>.toml`` [plan_report]; style: the run report's CSS."""
from __future__ import annotations

import base64
import html
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..names import in_lang
from . import labels as L
from .charts import svg
from .fonts import font_context
from .money import YI, money
from .plan_section import (kind_label, options_view, plan_names, spending_wide,
                           summary_view, t)

if TYPE_CHECKING:
    from ..plan.run import Plan

CSS = resources.files("capacity.report").joinpath("assets", "report.css").read_text("utf-8")


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _cell(value: object, digits: int) -> str:
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        if pd.isna(value):
            return "<td class='n'>–</td>"
        return f"<td class='n'>{float(value):,.{digits}f}</td>"
    return f"<td>{'' if value is None or pd.isna(value) else _e(value)}</td>"


def table_html(frame: pd.DataFrame, digits: dict[str, int] | None = None,
               total_row: str | None = None, plain: tuple[str, ...] = ()) -> str:
    """A frame as an HTML table; numbers right-aligned with ``digits`` decimals by column
    (``plain``: whole numbers without separators, e.g. years)."""
    digits = digits or {}
    frame = frame.assign(**{c: frame[c].map(lambda v: "" if pd.isna(v) else str(int(v)))
                            for c in plain if c in frame.columns})
    numeric = {c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])}
    head = "".join(f"<th class='n'>{_e(c)}</th>" if c in numeric else f"<th>{_e(c)}</th>"
                   for c in frame.columns)
    rows = []
    for rec in frame.itertuples(index=False):
        cls = " class='stage-start'" if total_row is not None and rec[0] == total_row else ""
        rows.append(f"<tr{cls}>" + "".join(_cell(v, digits.get(c, 0))
                                           for c, v in zip(frame.columns, rec)) + "</tr>")
    return f"<div class='scroll'><table><tr>{head}</tr>{''.join(rows)}</table></div>"


def spending_chart(by_year: pd.DataFrame, lang: str) -> str:
    """Stacked bars: spending per year by stage and kind (亿元), as inline SVG."""
    if by_year.empty:
        return ""
    wide = by_year.pivot_table(index="year", columns=["stage", "kind"], values="cost_cny",
                               aggfunc="sum", fill_value=0.0) / YI
    fig, ax = plt.subplots(figsize=(8, 3.6))
    bottom = np.zeros(len(wide))
    colours = plt.cm.tab20.colors
    for i, (stage, kind) in enumerate(wide.columns):
        vals = wide[(stage, kind)].to_numpy()
        ax.bar(wide.index.astype(int), vals, bottom=bottom, color=colours[i % 20],
               label=f"{L.stage_label(stage, lang)} · {kind_label(kind, lang)}")
        bottom += vals
    ax.set_ylabel(t("chart_ylabel", lang))
    ax.set_xticks(wide.index.astype(int))
    ax.tick_params(axis="x", labelrotation=90)
    ax.legend(fontsize=7, ncol=2, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    out = svg(fig)
    plt.close(fig)
    return f"<figure>{out}</figure>"


def _gap_lines(summary: pd.DataFrame, lang: str) -> str:
    items = []
    for r in summary.itertuples():
        gap = "–" if pd.isna(r.gap) else f"{100 * r.gap:.1f} %"
        line = t(f"gap_{r.gap_basis}", lang, stage=L.stage_label(r.stage, lang), gap=gap)
        items.append(f"<li>{_e(line)}</li>")
    return f"<ul>{''.join(items)}</ul><p class='note'>{_e(t('gap_note', lang))}</p>"


def _estimates(plan: "Plan", lang: str) -> str:
    params, stages = plan.params, list(plan.summary["stage"])
    items = [t("est_costs", lang, stage=L.stage_label(s, lang),
               temporary=money(params.stages[s].temporary_cost_per_place_year, lang),
               transport=money(params.stages[s].transport_cost_per_pupil_year, lang))
             for s in stages]
    pen = "; ".join(f"{L.stage_label(s, lang)} "
                    f"{money(params.stages[s].max_cost_per_pupil_year, lang)}"
                    + (f" ({100 * params.stages[s].service_level:g} %)"
                       if params.stages[s].service_level is not None else "") for s in stages)
    items.append(t("est_penalty", lang, penalties=pen))
    cands = [c for c in plan.candidates.values() if len(c)]
    if cands:
        allc = pd.concat(cands)
        n = int(allc["generated"].astype(bool).sum())
        items.append(t("est_generated", lang, n=n, total=len(allc)) if n
                     else t("est_listed", lang))
    items.append(t("est_build", lang, start=params.start_year, years="; ".join(
        f"{L.stage_label(s, lang)} {params.stages[s].lead_years}" for s in stages)))
    return "<ul>" + "".join(f"<li>{_e(i)}</li>" for i in items) + "</ul>"


def _options(plan: "Plan", lang: str) -> str:
    p = plan.plan[plan.plan["kind"].isin(["temporary", "transport"])]
    if p.empty:
        return f"<p class='note'>{_e(t('no_sites', lang))}</p>"
    view = options_view(p, lang, names=plan_names(plan.state, lang)).drop(columns=[t(f"col_{c}", lang) for c in (
        "classes", "open_year", "basis", "generated", "location")])
    return table_html(view, {t("col_cost_wan", lang): 1, t("col_pupil_years", lang): 0,
                             t("col_radius_scale", lang): 1},
                      plain=(t("col_first_year", lang), t("col_last_year", lang)))


def plan_report_html(plan: "Plan", lang: str, map_png: Path | None) -> str:
    """The plan's report as one HTML string (no external resources)."""
    state = plan.state
    scenario = in_lang(state.scenario.name, state.scenario.name_zh, lang)
    years = [int(y) for y in state.years if y >= plan.params.start_year]
    span = f"{years[0]}–{years[-1]}" if years else "–"
    title = _e(t("title", lang, scenario=scenario))
    sub = _e(t("subtitle", lang, model=in_lang(state.model.name, state.model.name_zh, lang),
               span=span))
    summ = summary_view(plan.summary, lang)
    decimals = {t(f"col_{c}", lang): 2 for c in ("capital", "expansion_capital", "total")} \
        | {t(f"col_{c}", lang): 1 for c in ("temporary", "transport")}
    summ[t("col_gap", lang)] = [("–" if pd.isna(g) else f"{100 * g:.1f} %")
                                for g in plan.summary["gap"]]
    if map_png is not None and map_png.is_file():
        data = base64.b64encode(map_png.read_bytes()).decode("ascii")
        fig = (f"<figure><img alt='{_e(t('h_map', lang))}' src='data:image/png;base64,{data}'>"
               f"<figcaption>{_e(t('map_caption', lang))}</figcaption></figure>")
    else:
        fig = ""
    if not len(plan.plan[plan.plan["kind"].isin(["new", "temporary"])]):
        fig = f"<p class='note'>{_e(t('no_sites', lang))}</p>" + fig
    spend = spending_wide(plan.by_year, lang)
    with font_context(lang):
        chart = spending_chart(plan.by_year, lang)
    sections = [
        f"<section id='summary'><h2>{_e(t('h_summary', lang))}</h2><p>"
        f"{_e(t('summary_intro', lang))}</p>{table_html(summ, decimals)}</section>",
        f"<section id='map'><h2>{_e(t('h_map', lang))}</h2>{fig}</section>",
        f"<section id='capital'><h2>{_e(t('h_capital', lang))}</h2><p>"
        f"{_e(t('capital_intro', lang))}</p>{chart}"
        f"{table_html(spend, {c: 1 for c in spend.columns[1:]}, t('total', lang))}</section>",
        f"<section id='options'><h2>{_e(t('h_options', lang))}</h2>{_options(plan, lang)}"
        "</section>",
        f"<section id='gap'><h2>{_e(t('h_gap', lang))}</h2>"
        f"{_gap_lines(plan.summary, lang)}</section>",
        f"<section id='estimates'><h2>{_e(t('h_estimates', lang))}</h2>"
        f"{_estimates(plan, lang)}</section>"]
    body = (f"<main>\n<h1>{title}</h1>\n<p class='sub'>{sub}</p>\n" + "\n".join(sections)
            + f"\n<p class='note'>{_e(t('footer', lang, scenario=scenario))}</p>\n</main>")
    return (f"<!DOCTYPE html>\n<html lang='{'zh-CN' if lang == 'zh' else 'en'}'>\n<head>\n"
            "<meta charset='utf-8'>\n<meta name='viewport' content='width=device-width, "
            f"initial-scale=1'>\n<title>{title}</title>\n<style>{CSS}</style>\n</head>\n"
            f"<body>{body}\n</body>\n</html>\n")


def write_plan_report(plan: "Plan", folder: Path, lang: str) -> Path:
    """Write ``folder/report.html``; returns its path."""
    path = Path(folder) / "report.html"
    path.write_text(plan_report_html(plan, lang, Path(folder) / "plan_map.png"),
                    encoding="utf-8")
    return path
