"""The run report: one self-contained, offline ``report.html`` (inline CSS, SVG and PNG).

In the run's language (``manifest["lang"]``: English or Chinese; every text is in
``text/<lang>.toml`` [report]). Sections, each a small function of a :class:`Page` returning
HTML (add a section by adding one to :data:`SECTIONS`): headline shortfalls per stage, the
inputs that are estimates, indicators against the plan's targets, births, demand and places
over time with static maps of each stage in the headline year and in its year of largest
shortfall, the summary table, stage settings, and a link to the interactive catchment map
(``maps/catchments.html``).
"""
from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..result import Result
from ..stages import BESIDE_MODE
from . import labels as L
from .catchment import (names_of, pick_mode, result_lang, run_stages, run_years,
                        stage_label)
from .charts import births_chart, demand_chart, peak_year, png, svg
from .costing_section import costing_section
from .fonts import font_context
from .modes_section import modes_section
from .summary_section import summary_section
from .surplus_section import surplus_section
from .grades_section import grades_section
from .headline import beside_label, headline_summary, rule_label, rule_phrase
from .plausibility_html import calibration_section, plausibility_section
from .static_maps import static_map

#: The report's style sheet (inlined into the page).
_CSS = resources.files("capacity.report").joinpath("assets", "report.css").read_text("utf-8")


# --------------------------------------------------------------------------- formatting
def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _num(value: Any, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or pd.isna(value):
        return "–"
    return f"{float(value):,.{digits}f}"


def _is_rate(values: pd.Series) -> bool:
    v = pd.to_numeric(values, errors="coerce").dropna()
    return len(v) > 0 and bool(v.between(0, 1.5).all())


def _fmt_ind(value: Any, rate: bool) -> str:
    if value is None or pd.isna(value):
        return "–"
    return f"{100 * float(value):.1f} %" if rate else _num(value, 2)


def _badge(met: Any, lang: str = "en") -> str:
    if met is None or pd.isna(met):
        return f'<span class="badge none">{_t("badge_none", lang)}</span>'
    met = str(met).strip().lower() in {"true", "1", "1.0", "yes"}
    return (f'<span class="badge met">{_t("badge_met", lang)}</span>' if met
            else f'<span class="badge not">{_t("badge_not", lang)}</span>')


def _t(key: str, lang: str, **fields: Any) -> str:
    """A [report] text of ``lang``, its fields filled in (callers escape what they pass)."""
    return L.text("report", key, lang, **fields)


# ------------------------------------------------------------------------------ sections
@dataclass
class Page:
    """What every section needs: the run, its language, mode, headline year and stages."""

    result: Result
    lang: str
    mode: str
    year: int | None
    stages: list[str]
    figures: dict[tuple[str, int], Figure]
    map_dpi: int = 200
    map_link: str = "maps/catchments.html"
    images: dict[tuple[str, int], str] | None = None   # map PNGs already rendered (src)

    def t(self, key: str, **fields: Any) -> str:
        return _t(key, self.lang, **fields)

    @property
    def mode_label(self) -> str:
        return L.mode_label(self.mode, self.lang)


def _headlines(p: Page) -> str:
    """A card per stage: the worst year's shortfall under the stage's policy rule, the
    optimal figure beside it (:mod:`.headline`)."""
    result, year, lang = p.result, p.year, p.lang
    summary = headline_summary(result)
    short = result.tables.get("shortfall", pd.DataFrame())
    names = names_of(result, "zone", lang)
    cards = []
    for stage in p.stages:
        sub = summary[summary["stage"] == stage] if len(summary) else summary
        label = stage_label(result, stage, lang)
        if sub.empty:
            cards.append(f'<div class="card"><h3>{_e(label)}</h3><p>{p.t("no_results")}'
                         "</p></div>")
            continue
        mode = str(sub["mode"].iloc[0])
        rule = f"<p class='note'>{_e(rule_phrase(mode, lang))}</p>"
        worst = sub.loc[sub["shortfall"].idxmax()]
        wy = int(worst["year"])
        at_year = sub[sub["year"] == year]
        head = ""
        if year is not None and len(at_year) and year != wy:
            head = "<p>" + p.t("in_year", year=year, shortfall=_num(at_year["shortfall"].iloc[0]),
                               demand=_num(at_year["demand"].iloc[0])) + "</p>"
        if worst["shortfall"] <= 0:
            spare = (sub["places"] - sub["demand"]).min()
            cards.append(f'<div class="card"><h3>{_e(label)}</h3>'
                         f'<div class="big ok">{p.t("no_shortfall")}</div>{rule}<p>'
                         + p.t("no_shortfall_detail", first=int(sub["year"].min()),
                               last=int(sub["year"].max()), spare=_num(spare)) + "</p></div>")
            continue
        share = worst["shortfall"] / worst["demand"] if worst["demand"] else np.nan
        zsub = short[(short["stage"] == stage) & (short["mode"] == mode)
                     & (short["year"] == wy) & (short["shortfall"] > 0)] if len(short) else short
        top = zsub.sort_values("shortfall", ascending=False).head(3) if len(zsub) else zsub
        items = "".join(
            f"<li>{_e(names.get(str(z), z))} <span class='note'>({_e(z)})</span>: "
            f"{_num(v)}</li>" for z, v in zip(top.get("zone_id", []), top.get("shortfall", [])))
        beside = "" if mode == BESIDE_MODE or pd.isna(worst["shortfall_optimal"]) else (
            "<p class='beside'>" + _e(L.text("headline", "card_beside", lang,
                                              n=_num(worst["shortfall_optimal"]),
                                              beside=beside_label(lang))) + "</p>")
        cards.append(
            f'<div class="card"><h3>{_e(label)}</h3>'
            f'<div class="big">{_num(worst["shortfall"])}</div>{rule}<p>'
            + p.t("worst_detail", year=wy, share=_num(100 * share, 1),
                  demand=_num(worst["demand"]), out_of_reach=_num(worst["out_of_reach"]))
            + f"</p>{beside}{head}"
            + (f"<p>{p.t('most_short', year=wy)}</p><ol>{items}</ol>" if items else "")
            + "</div>")
    return '<div class="cards">' + "".join(cards) + "</div>"


def _not_given(p: Page, name: str, grp: pd.DataFrame) -> bool:
    """An indicator the model gives no data for (e.g. inclusive coverage without an
    ``inclusive`` column): every value is missing."""
    return bool(grp["value"].isna().all())


def _indicators(p: Page) -> str:
    result, year, lang = p.result, p.year, p.lang
    ind = result.tables.get("indicators", pd.DataFrame())
    if ind.empty:
        return f'<p class="note">{p.t("no_indicators")}</p>'
    years = sorted(int(y) for y in ind["year"].unique())
    last = years[-1]
    show = [y for y in dict.fromkeys([year, last]) if y in years]
    head = "".join(f'<th class="n">{y}</th><th></th>' for y in show)
    rows = []
    for name, grp in ind.groupby("indicator", sort=False):
        rate = _is_rate(grp["value"])
        by = grp.set_index("year")
        target = grp["target"].dropna()
        tgt = _fmt_ind(target.iloc[-1], rate) if len(target) else "–"
        label = _e(L.indicator_label(str(name), lang))
        if _not_given(p, str(name), grp):
            rows.append(f"<tr><td>{label}</td><td class='n'>{tgt}</td><td colspan="
                        f"'{2 * len(show)}' class='note'>{p.t('not_given')}</td></tr>")
            continue
        cells = "".join(
            f'<td class="n">{_fmt_ind(by.at[y, "value"], rate)}</td>'
            f'<td>{_badge(by.at[y, "met"], lang)}</td>' if y in by.index else "<td></td><td></td>"
            for y in show)
        rows.append(f"<tr><td>{label}</td><td class='n'>{tgt}</td>{cells}</tr>")
    table = (f"<table><tr><th>{p.t('th_indicator')}</th><th class='n'>{p.t('th_target')}</th>"
             f"{head}</tr>" + "".join(rows) + "</table>")
    # every year, in a fold (a small table: indicators × years)
    look = ind.drop_duplicates(["indicator", "year"]).set_index(["indicator", "year"])
    rate_of = {n: _is_rate(g["value"]) for n, g in ind.groupby("indicator")}
    body = []
    for name in pd.unique(ind["indicator"]):
        tds = []
        for y in years:
            if (name, y) not in look.index:
                tds.append("<td></td>")
                continue
            v = look.at[(name, y), "value"]
            m = look.at[(name, y), "met"] if "met" in look else None
            cls = "" if m is None or pd.isna(m) else (
                " style='color:#116329'" if str(m).lower() in {"true", "1", "1.0"} else
                " style='color:#a40e26'")
            tds.append(f'<td class="n"{cls}>{_fmt_ind(v, rate_of[name])}</td>')
        body.append(f"<tr><td>{_e(L.indicator_label(str(name), lang))}</td>{''.join(tds)}</tr>")
    full = (f"<details><summary>{p.t('every_year')}</summary><div class='scroll'><table><tr>"
            f"<th>{p.t('th_indicator')}</th>" + "".join(f'<th class="n">{y}</th>' for y in years)
            + "</tr>" + "".join(body) + "</table></div></details>")
    return table + full + _definitions(ind, lang)


def _definitions(ind: pd.DataFrame, lang: str) -> str:
    """What each indicator measures (text/<lang>.toml [indicator_definitions]): one line
    per definition, naming the indicators it defines."""
    named: dict[str, list[str]] = {}
    for name in pd.unique(ind["indicator"].astype(str)):
        found = L.indicator_definition(name, lang)
        if found:
            named.setdefault(found, []).append(L.indicator_label(name, lang))
    if not named:
        return ""
    sep = "、" if lang == "zh" else ", "
    items = "".join(f"<dt>{_e(sep.join(names))}</dt><dd>{_e(d)}</dd>"
                    for d, names in named.items())
    return (f"<h3>{_e(L.text('indicator_definitions', 'heading', lang))}</h3>"
            f"<dl class='definitions'>{items}</dl>")


def _births(p: Page) -> str:
    fig = births_chart(p.result, p.lang)
    if fig is None:
        return ""
    return (f"<h2 id='births'>{p.t('h_births')}</h2><figure>{svg(fig)}<figcaption>"
            f"{p.t('births_caption')}</figcaption></figure>")


def map_years(result: Result, stage: str, mode: str) -> list[tuple[int, str]]:
    """The years a stage is mapped in, with why: the headline year and the peak year."""
    year, peak = result.report_year, peak_year(result, stage, mode)
    if year is not None and peak == year:
        return [(year, "why_both")]
    out = [(year, "why_headline")] if year is not None else []
    return out + ([(peak, "why_peak")] if peak is not None else [])


def _stage_block(p: Page, stage: str) -> str:
    """The stage's chart and maps under its headline rule (:meth:`Result.headline_mode`)."""
    result, mode = p.result, p.result.headline_mode(stage)
    label = stage_label(result, stage, p.lang)
    chart = demand_chart(result, stage, mode, title=False, lang=p.lang)
    caption = L.text("headline", "chart_caption", p.lang, rule=_e(rule_label(mode, p.lang)))
    block = [f"<h3 id='stage-{_e(stage)}'>{_e(label)}</h3>",
             f"<figure>{svg(chart)}<figcaption>{caption}</figcaption></figure>"]
    if len(result.tables.get("units", [])):
        for y, why in map_years(result, stage, mode):
            src = (p.images or {}).get((stage, y)) or png(
                p.figures.get((stage, y)) or static_map(result, stage, y, mode=mode), p.map_dpi)
            name = _e(L.stage_label(stage, p.lang))
            block.append(f"<figure><img alt='{_e(p.t('map_alt', stage=name, year=y))}' "
                         f"src='{src}'><figcaption>"
                         f"{p.t('map_caption', stage=name, year=y, why=p.t(why))}"
                         "</figcaption></figure>")
    return "<section class='stage'>" + "".join(block) + "</section>"


def _stages(p: Page) -> str:
    blocks = "".join(_stage_block(p, s) for s in p.stages)
    return (f"<h2 id='stages'>{p.t('h_stages')}</h2><p>{p.t('map_intro')} "
            f'<a href="{_e(p.map_link)}">{_e(p.map_link)}</a> {p.t("map_offline")}</p>'
            + (blocks or f"<p class='note'>{p.t('no_stages')}</p>"))


def _stage_settings(p: Page) -> str:
    result = p.result
    keys = ["ages", "enrolment", "class_size", "radius_m", "cost_per_place"]
    rows = []
    for s in p.stages:
        st = result.stages.get(s, {})
        vals = []
        for k in keys:
            v = st.get(k)
            if k == "ages" and v:
                v = f"{v[0]}–{v[-1]}"
            elif isinstance(v, (int, float)) and k != "enrolment":
                v = _num(v)
            vals.append(f"<td class='n'>{_e('–' if v is None else v)}</td>")
        rows.append(f"<tr><td>{_e(L.stage_label(s, p.lang))}</td>{''.join(vals)}</tr>")
    head = "".join(f"<th class='n'>{p.t('set_' + k)}</th>" for k in keys)
    note = ""
    z = result.zones
    if result.manifest.get("zone_radius_scale", True) and "radius_scale" in z:
        scaled = z[z["radius_scale"].fillna(1) != 1]
        if len(scaled):
            names = names_of(result, "zone", p.lang)
            listed = ", ".join(f"{names.get(str(i), i)} (×{v:g})" for i, v in
                               zip(scaled["zone_id"].astype(str), scaled["radius_scale"]))
            note = f"<p class='note'>{p.t('radius_note', names=_e(listed))}</p>"
    return (f"<h3>{p.t('h_settings')}</h3><table><tr><th>{p.t('th_stage')}</th>{head}</tr>"
            f"{''.join(rows)}</table>{note}")


def _front(p: Page) -> str:
    """Under the title: the scenario's description, the coordinate datum, the estimates."""
    man, lang = p.result.manifest, p.lang
    out = []
    if man.get("description"):
        out.append(f"<p><b>{p.t('description')}:</b> {_e(man['description'])}</p>")
    caveats = (man.get("caveats") or {})
    listed = caveats.get(lang) or caveats.get("en") or []
    if listed:
        out.append(f"<div class='card'><h3>{p.t('estimates')}</h3><ul>"
                   + "".join(f"<li>{_e(c)}</li>" for c in listed) + "</ul></div>")
    datum = str(man.get("datum") or "wgs84")
    shown = {"wgs84": "WGS84", "gcj02": "GCJ-02", "bd09": "BD-09"}.get(datum, datum)
    out.append("<p class='note'>" + p.t("datum", datum=_e(shown), crs=_e(man.get("crs", "–")),
                                        converted=p.t("datum_converted") if datum != "wgs84"
                                        else "") + "</p>")
    return "".join(out)


def frame_table(frame: pd.DataFrame, rows: int = 60) -> str:
    """A small DataFrame as an HTML table (the first ``rows`` rows; numbers right-aligned)."""
    head = "".join(f"<th>{_e(c)}</th>" for c in frame.columns)
    body = []
    for rec in frame.head(rows).itertuples(index=False):
        cells = []
        for v in rec:
            if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
                cells.append(f"<td class='n'>{_num(v, 0 if float(v).is_integer() else 3)}</td>")
            else:
                cells.append(f"<td>{_e('' if v is None or pd.isna(v) else v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = f"<p class='note'>… {len(frame) - rows:,} more rows</p>" if len(frame) > rows else ""
    return f"<div class='scroll'><table><tr>{head}</tr>{''.join(body)}</table></div>{more}"


def _extras(p: Page) -> str:
    """Tables that custom steps of the run added (e.g. calibration or plausibility checks):
    each in a fold, under its file name."""
    extras = {k: v for k, v in p.result.extras.items()
              if isinstance(v, pd.DataFrame) and k not in OWN_SECTIONS}
    if not extras:
        return ""
    folds = "".join(f"<details><summary>{_e(name)}.csv ({len(frame):,})</summary>"
                    f"{frame_table(frame)}</details>" for name, frame in extras.items())
    return f"<h3 id='extra-tables'>{p.t('extra_tables')}</h3>{folds}"


def _section(key: str, anchor: str, body: Callable[[Page], str]) -> Callable[[Page], str]:
    return lambda p: f"<h2 id='{anchor}'>{p.t(key)}</h2>\n{body(p)}"


#: Extra tables with a section of their own (not repeated among the extra tables).
OWN_SECTIONS = ("plausibility", "calibration", "designed_catchments")


def _plausibility(p: Page) -> str:
    return plausibility_section(p.result) + calibration_section(p.result)


#: The report's sections in order: functions of a :class:`Page` returning HTML.
SECTIONS: list[Callable[[Page], str]] = [
    _front,
    _section("h_headlines", "headlines", _headlines),
    _section("h_indicators", "indicators", _indicators),
    _births,
    _stages,
    summary_section,
    modes_section,
    surplus_section,
    costing_section,                      # the run's one costing (money)
    lambda p: grades_section(p, frame_table),
    _stage_settings,
    _plausibility,
    _extras,
]


# ------------------------------------------------------------------------------- report
def report_html(result: Result, *, map_link: str = "maps/catchments.html",
                map_dpi: int = 200, figures: dict[tuple[str, int], Figure] | None = None,
                lang: str | None = None,
                images: dict[tuple[str, int], str] | None = None) -> str:
    """The whole report as one HTML string (no external resources) in ``lang`` (default:
    the run's). ``figures`` are static maps already drawn, ``images`` their ``map_dpi``
    PNGs already rendered (data URIs), by (stage, year)."""
    lang = lang or result_lang(result)
    stages, years = run_stages(result), run_years(result)
    p = Page(result, lang, pick_mode(result, None), result.report_year, stages,
             figures or {}, map_dpi, map_link, images)
    man = result.manifest
    scenario = man.get("scenario", result.name)
    span = f"{years[0]}–{years[-1]}" if years else p.t("no_years")
    sub = p.t("subtitle", model=_e(man.get("model", "–")), span=span, mode=_e(p.mode_label),
              year=_e(p.year)) + " · " + _e(L.text("headline", "subtitle", lang))
    nav = ("<nav>" + "".join(f"<a href='#{a}'>{p.t(k)}</a>" for a, k in (
        ("headlines", "nav_headlines"), ("indicators", "nav_indicators"),
        ("stages", "nav_stages"), ("summary", "nav_summary"),
        ("plausibility", "nav_plausibility")))
        + f"<a href='{_e(map_link)}'>{p.t('nav_map')}</a></nav>")
    title = _e(p.t("title", scenario=scenario))
    with font_context(lang):
        sections = "\n".join(section(p) for section in SECTIONS)
    body = (f"\n<main>\n<h1>{title}</h1>\n<p class=\"sub\">{sub}</p>\n{nav}\n{sections}\n"
            f"<p class=\"note\">{p.t('footer', scenario=_e(scenario), horizon=_e(man.get('horizon', '–')))}"
            "</p>\n</main>")
    html_lang = "zh-CN" if lang == "zh" else "en"
    return (f"<!DOCTYPE html>\n<html lang='{html_lang}'>\n<head>\n<meta charset='utf-8'>\n"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
            f"<title>{title}</title>\n<style>{_CSS}</style>\n"
            f"</head>\n<body>{body}\n</body>\n</html>\n")


def write_report(result: Result, folder: str | Path, *,
                 figures: dict[tuple[str, int], Figure] | None = None,
                 lang: str | None = None) -> Path:
    """Write ``folder/report.html`` (self-contained, offline); return its path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "report.html"
    path.write_text(report_html(result, figures=figures, lang=lang), encoding="utf-8")
    return path
