"""The run report's section "What it costs": the run's one costing (the action list of
:func:`.recommend.costing`, also budget.xlsx's cost sheets) per stage and kind and per
year, in 亿元 (万元 when small), with its total — the same total as every other money view
of the run."""
from __future__ import annotations

import html

import pandas as pd

from ..years import year_status
from . import labels as L
from .budget import shortfall_by_zone_view
from .dossier_summary import in_unit, money_unit
from .recommend import KINDS, costing, result_years


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def costing_tables(result) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(stage × kind, year × kind) cost in CNY of the run's costing, each with its totals
    (row and column ``all``)."""
    _, actions, by_year = costing(result, shortfall_by_zone_view(result))
    kinds = [k for k in KINDS if k in set(actions["kind"])]
    per_stage = actions.pivot_table(index="stage", columns="kind", values="cost_cny",
                                    aggfunc="sum", fill_value=0.0).reindex(columns=kinds,
                                                                            fill_value=0.0)
    stages = [s for s in result.stages if s in per_stage.index]
    per_stage = per_stage.reindex(stages)
    per_year = by_year.pivot_table(index="year", columns="kind", values="cost_cny",
                                   aggfunc="sum", fill_value=0.0).reindex(columns=kinds,
                                                                           fill_value=0.0)
    for t in (per_stage, per_year):
        t["all"] = t.sum(axis=1)
        t.loc["all"] = t.sum(axis=0)
    return per_stage, per_year


def costing_section(p) -> str:
    """Totals per stage and kind, and per year (each year marked observed / estimated /
    projected), in 亿元 or 万元; empty without money."""
    lang = p.lang
    if p.result.tables.get("shortfall") is None:      # a projection only: no money
        return ""
    per_stage, per_year = costing_tables(p.result)
    total = float(per_stage.loc["all", "all"]) if "all" in per_stage.index else 0.0
    if total <= 0:
        return ""
    base, model, start = result_years(p.result)
    unit = money_unit(total)
    kinds = [k for k in per_stage.columns if k != "all"]
    head = "".join(f"<th class='n'>{_e(L.word(k, lang))}</th>" for k in kinds) + \
        f"<th class='n'>{_e(L.text('dossier', 'col_total', lang))}</th>"

    def rows(frame: pd.DataFrame, label) -> str:
        out = []
        for idx, rec in frame.iterrows():
            cls = " class='stage-start'" if idx == "all" else ""
            out.append(f"<tr{cls}><td>{_e(label(idx))}</td>" + "".join(
                f"<td class='n'>{in_unit(v, unit)}</td>" for v in rec) + "</tr>")
        return "".join(out)

    total_word = L.text("dossier", "row_total", lang)
    stage_rows = rows(per_stage, lambda s: total_word if s == "all" else L.stage_label(s, lang))
    status = year_status([y for y in per_year.index if y != "all"], model, base)
    year_rows = rows(per_year, lambda y: total_word if y == "all" else
                     f"{int(y)} ({L.word(status[int(y)], lang)})")
    first = f"<th>{_e(L.text('dossier', 'col_stage', lang))}</th>"
    year_head = f"<th>{_e(L.column_label('year', lang))}</th>"
    title = L.text("costing", "h_costing", lang)
    return (f"<h2 id='costing'>{_e(title)}: {in_unit(total, unit)} {unit[1]}</h2>"
            f"<p class='note'>{_e(L.text('costing', 'intro', lang, start=start, unit=unit[1]))}"
            "</p>"
            f"<div class='scroll'><table><tr>{first}{head}</tr>{stage_rows}</table></div>"
            f"<div class='scroll'><table><tr>{year_head}{head}</tr>{year_rows}</table></div>")
