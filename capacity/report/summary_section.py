"""The run report's summary table: each stage and year under the stage's policy rule, with
the optimal figure beside it (:func:`.headline.headline_summary`)."""
from __future__ import annotations

import html

import pandas as pd

from . import labels as L
from .headline import beside_label, headline_summary, rule_label
from .modes_section import number


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def summary_section(p) -> str:
    """Stage × year: demand, places, served, shortfall and out of reach under the stage's
    rule (named in a column), then the shortfall "if every pupil could be placed anywhere
    within reach"."""
    frame = headline_summary(p.result)
    if frame.empty:
        return f"<h2 id='summary'>{p.t('h_summary')}</h2><p class='note'>{p.t('no_summary')}</p>"
    lang = p.lang
    cols = ["demand", "places", "served", "shortfall", "out_of_reach"]
    head = (f"<tr><th>{p.t('th_stage')}</th><th class='n'>{p.t('th_year')}</th>"
            + "".join(f"<th class='n'>{_e(L.column_label(c, lang))}</th>" for c in cols)
            + f"<th>{_e(L.text('headline', 'th_rule', lang))}</th>"
            + f"<th class='n'>{_e(beside_label(lang))}</th></tr>")
    order = {s: i for i, s in enumerate(p.stages)}
    frame = frame.assign(_o=frame["stage"].map(order).fillna(len(order)).astype(float))
    rows, prev = [], None
    for rec in frame.sort_values(["_o", "year"]).to_dict("records"):
        cls = " class='stage-start'" if rec["stage"] != prev else ""
        prev = rec["stage"]
        best = rec["shortfall_optimal"]
        rows.append(f"<tr{cls}><td>{_e(L.stage_label(str(rec['stage']), lang))}</td>"
                    f"<td class='n'>{int(rec['year'])}</td>"
                    + "".join(f"<td class='n'>{number(rec[c])}</td>" for c in cols)
                    + f"<td>{_e(rule_label(str(rec['mode']), lang))}</td>"
                    + f"<td class='n'>{number(None if pd.isna(best) else best)}</td></tr>")
    note = L.text("headline", "summary_note", lang, mode=_e(p.mode_label))
    return (f"<h2 id='summary'>{p.t('h_summary')}</h2><div class='scroll'><table>{head}"
            + "".join(rows) + f"</table></div><p class='note'>{note}</p>")
