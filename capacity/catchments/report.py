"""``capacity catchments``' own report.html: offline (inline CSS and PNG), in the run's
language (texts in ``capacity/report/text/*.toml`` [catchments]): the maps' summary, the
shortfall under nearest, designed and optimal side by side (catchment_summary.csv's
numbers: computed once in :func:`.run.tables`), and the static maps."""
from __future__ import annotations

import base64
import html
from importlib import resources

import pandas as pd

from ..report import labels as L
from ..report.html import _num, modes_table

_CSS = resources.files("capacity.report").joinpath("assets", "report.css").read_text("utf-8")


def _e(v) -> str:
    return html.escape(str(v), quote=True)


def report_html(summary: pd.DataFrame, scenario: str, model: str, lang: str,
                images: list[tuple[str, bytes]], map_link: str | None = None) -> str:
    """The page: ``summary`` is catchment_summary.csv's frame; ``images`` (caption, PNG)."""
    def t(key: str, **f) -> str:
        return L.text("catchments", key, lang, **f)

    first = summary.drop_duplicates(["stage", "first_year", "last_year"])
    cols = ["catchments", "contiguous_share", "status", "unserved_bound", "bound_basis",
            "gap", "seconds", "pupils_moved"]
    heads = ["stage", "map"] + cols
    label = {"unserved_bound": "bound", "bound_basis": "bound_basis"}
    th = "".join(f"<th>{_e(t('col_' + label.get(c, c)))}</th>" for c in heads)
    rows = []
    for r in first.to_dict("records"):
        years = str(r["first_year"]) if r["first_year"] == r["last_year"] else \
            f"{r['first_year']}–{r['last_year']}"
        cells = [_e(L.stage_label(str(r["stage"]), lang)), years]
        for c in cols:
            v = r.get(c)
            if c == "contiguous_share" or c == "gap":
                cells.append(f"{100 * float(v):.1f} %")
            elif c == "bound_basis":
                cells.append(_e(t("bound_" + str(v))) if isinstance(v, str) else "–")
            elif c == "status":
                cells.append(_e(v))
            elif c == "seconds":
                cells.append(_num(v, 1))
            else:
                cells.append(_num(v))
        rows.append("<tr>" + "".join(f"<td class='n'>{x}</td>" if i >= 2 else f"<td>{x}</td>"
                                     for i, x in enumerate(cells)) + "</tr>")
    maps_table = f"<div class='scroll'><table><tr>{th}</tr>{''.join(rows)}</table></div>"
    stages = list(dict.fromkeys(summary["stage"].astype(str)))
    side = modes_table(summary[["stage", "year", "demand", "shortfall_nearest",
                                "shortfall_designed", "shortfall_optimal"]], lang, stages)
    figs = "".join(
        f"<figure><img alt='{_e(cap)}' src='data:image/png;base64,"
        f"{base64.b64encode(png).decode('ascii')}'><figcaption>{_e(cap)}</figcaption></figure>"
        for cap, png in images)
    link = (f"<p>{t('map_link')} <a href='{_e(map_link)}'>{_e(map_link)}</a></p>"
            if map_link else "")
    title = _e(t("report_title", scenario=scenario))
    body = (f"<main><h1>{title}</h1><p class='sub'>{_e(t('report_sub', model=model))}</p>"
            f"<h2 id='maps'>{t('h_maps')}</h2>{maps_table}<p class='note'>{t('maps_note')}</p>"
            f"<h2 id='side'>{t('h_side')}</h2>{side}<p class='note'>{t('side_note')}</p>"
            f"<h2 id='static'>{t('h_static')}</h2>{link}{figs}"
            f"<p class='note'>{_e(t('footer'))}</p></main>")
    return (f"<!DOCTYPE html>\n<html lang='{'zh-CN' if lang == 'zh' else 'en'}'>\n<head>"
            "<meta charset='utf-8'><meta name='viewport' content='width=device-width, "
            f"initial-scale=1'><title>{title}</title><style>{_CSS}</style></head>\n"
            f"<body>{body}</body>\n</html>\n")
