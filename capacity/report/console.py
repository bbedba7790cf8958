"""Console summaries in the run's language: the model on one screen (``capacity validate``)
and the worst year per stage after a run (``capacity run``). Texts: text/<lang>.toml
[console]; columns are aligned by display width (a Chinese character is two columns)."""
from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import pandas as pd

from . import labels as L
from .catchment import names_of, result_lang
from .headline import headline_summary, rule_label, worst_rows


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _cell(text: Any, width: int, right: bool = True) -> str:
    text = str(text)
    pad = " " * max(width - _width(text), 0)
    return pad + text if right else text + pad


def _stage(stage: str, lang: str) -> str:
    """The stage as the user types it on the command line (English), or its label."""
    return stage if lang == "en" else L.stage_label(stage, lang)


def _c(key: str, lang: str, **fields: Any) -> str:
    return L.text("console", key, lang, **fields)


def model_summary(model: Any, lang: str | None = None) -> str:
    """One screen: zones, population, schools and places per stage, projects."""
    lang = lang or getattr(model, "lang", "en")
    pop = model.population
    datum = {"wgs84": "WGS84", "gcj02": "GCJ-02", "bd09": "BD-09"}.get(model.datum, model.datum)
    lines = [_c("model", lang, name=model.name, path=model.path),
             "  " + _c("base", lang, year=model.base_year, crs=model.crs, datum=datum,
                       open_age=model.open_age),
             "  " + _c("zones", lang, n=len(model.zones)),
             "  " + _c("population", lang, year=model.base_year,
                       total=f"{pop['count'].sum():,.0f}",
                       female=f"{pop.loc[pop['sex'] == 'F', 'count'].sum():,.0f}",
                       male=f"{pop.loc[pop['sex'] == 'M', 'count'].sum():,.0f}"),
             "  " + _c("components", lang, kind=model.mortality_kind,
                       migration=len(model.migration), housing=len(model.housing)),
             "  " + _c("units", lang, units=len(model.units) if model.units is not None
                       else _c("grid", lang))]
    widths = [13, 5, 10, 7, 9, 12, 8, 14]
    head = _c("stages_header", lang).split("|")
    lines.append("  " + " ".join(_cell(h, w, right=i > 0) for i, (h, w) in
                                enumerate(zip(head, widths))))
    both = pop.groupby("age")["count"].sum()
    for name, st in model.stages.items():
        kids = both.loc[st.ages[0]:st.ages[1]].sum()
        s = model.schools[model.schools["stage"] == name] if len(model.schools) else pop[:0]
        pj = model.projects[model.projects["stage"] == name] if len(model.projects) else pop[:0]
        row = [_stage(name, lang), f"{st.ages[0]}-{st.ages[1]}", f"{kids:,.0f}", len(s),
               f"{s['places'].sum() if len(s) else 0:,.0f}", f"{st.radius_m:,.0f}", len(pj),
               f"{pj['places'].sum() if len(pj) else 0:,.0f}"]
        lines.append("  " + " ".join(_cell(v, w, right=i > 0) for i, (v, w) in
                                    enumerate(zip(row, widths))))
    scale = model.zones["radius_scale"]
    if (scale != 1).any():
        items = ", ".join(_c("radius_scale_item" if n > 1 else "radius_scale_item_one", lang,
                             factor=f"{v:g}", n=n)
                          for v, n in scale[scale != 1].value_counts().sort_index().items())
        lines.append("  " + _c("radius_scale", lang, list=items))
    return "\n".join(lines)


def _line(cells: list[Any], widths: list[int]) -> str:
    """The headline's columns: the stage left-aligned, numbers right-aligned, then the rule
    (left-aligned, two spaces apart)."""
    return ("  " + " ".join(_cell(v, w, right=i > 0) for i, (v, w) in
                            enumerate(zip(cells[:-1], widths)))
            + "  " + _cell(cells[-1], widths[-1], right=False))


def headline(result: Any, folder: Path, lang: str | None = None) -> str:
    """Per stage: the worst year's shortfall under the stage's policy rule
    (:func:`.headline.headline_summary`), the optimal figure beside it, and the zones
    where it falls."""
    lang = lang or result_lang(result)
    short = result.shortfall
    names = names_of(result, "zone", lang)
    widths = [13, 12, 10, 10, 13, 10, 15]
    head = _c("header", lang).split("|")
    lines = [_c("wrote", lang, scenario=result.name, folder=folder,
                seconds=f"{result.manifest['timings']['total_s']:.1f}"),
             _line(head[:-1], widths) + "  " + head[-1]]
    for worst in worst_rows(headline_summary(result)).itertuples():
        z = short[(short["stage"] == worst.stage) & (short["year"] == worst.year)
                  & (short["mode"] == worst.mode)].nlargest(3, "shortfall")
        where = ", ".join(f"{names.get(str(r.zone_id), r.zone_id)} {r.shortfall:,}"
                          for r in z.itertuples() if r.shortfall > 0) or "-"
        share = worst.shortfall / worst.demand if worst.demand else 0.0
        best = "-" if pd.isna(worst.shortfall_optimal) else f"{int(worst.shortfall_optimal):,}"
        row = [_stage(str(worst.stage), lang), int(worst.year), f"{int(worst.shortfall):,}",
               f"{share:.1%}", f"{int(worst.out_of_reach):,}", best,
               rule_label(str(worst.mode), lang)]
        lines.append(_line(row, widths) + "  " + where)
    lines.append("  " + L.text("headline", "console_note", lang))
    return "\n".join(lines)
