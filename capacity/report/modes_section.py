"""The run report's section "Shortfall: nearest, designed and optimal" (and the table the
``capacity catchments`` report shares): each mode's shortfall side by side, from
:func:`.frames.mode_shortfalls` (one place for these numbers)."""
from __future__ import annotations

import html

import pandas as pd

from . import labels as L
from .frames import mode_shortfalls


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def number(value, digits: int = 0) -> str:
    """A number with thousands separators; "–" when missing."""
    return "–" if value is None or pd.isna(value) else f"{float(value):,.{digits}f}"


def modes_table(frame: pd.DataFrame, lang: str, stages: list[str] | None = None) -> str:
    """The shortfall under nearest, designed (when present) and optimal side by side
    (columns of :func:`.frames.mode_shortfalls` or catchment_summary.csv), one row per
    stage and year."""
    cols = [c for c in ("demand", "shortfall_nearest", "shortfall_designed",
                        "shortfall_optimal") if c in frame.columns]
    head = (f"<tr><th>{L.text('report', 'th_stage', lang)}</th>"
            f"<th class='n'>{L.text('report', 'th_year', lang)}</th>"
            + "".join(f"<th class='n'>{_e(L.column_label(c, lang))}</th>" for c in cols)
            + "</tr>")
    order = {s: i for i, s in enumerate(stages or [])}
    frame = frame.assign(_o=frame["stage"].map(order).fillna(len(order)))
    rows, prev = [], None
    for rec in frame.sort_values(["_o", "year"]).to_dict("records"):
        cls = " class='stage-start'" if rec["stage"] != prev else ""
        prev = rec["stage"]
        rows.append(f"<tr{cls}><td>{_e(L.stage_label(str(rec['stage']), lang))}</td>"
                    f"<td class='n'>{int(rec['year'])}</td>"
                    + "".join(f"<td class='n'>{number(rec[c])}</td>" for c in cols) + "</tr>")
    return f"<div class='scroll'><table>{head}{''.join(rows)}</table></div>"


def modes_section(p) -> str:
    """Nearest, designed (with a map) and optimal side by side; without a map, a line
    pointing to ``capacity catchments``."""
    frame = mode_shortfalls(p.result.tables.get("summary"))
    if frame.empty:
        return ""
    note = p.t("modes_note" if "shortfall_designed" in frame.columns else "modes_hint")
    return (f"<h2 id='modes'>{p.t('h_modes')}</h2>" + modes_table(frame, p.lang, p.stages)
            + f"<p class='note'>{note}</p>")
