"""The run report: one self-contained, offline ``report.html`` (inline CSS, SVG and PNG).

Sections: headline shortfalls per stage, indicators against the plan's targets, demand and
places over time with the static map of each stage in the headline year, the summary table,
stage settings, and a link to the interactive catchment map (``maps/catchments.html``).
"""
from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..result import Result
from .catchment import pick_mode, run_modes, run_stages, run_years, stage_label
from .interactive_map import write_interactive_map
from .plausibility_html import calibration_section, plausibility_section
from .static_maps import save_static_map, static_map

_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC",
       sans-serif; color: #1d1d1f; margin: 0; background: #fff; }
main { max-width: 1180px; margin: 0 auto; padding: 18px 24px 40px; }
h1 { font-size: 24px; margin: 8px 0 2px; }
h2 { font-size: 19px; margin: 30px 0 8px; border-bottom: 2px solid #d9dde3; padding-bottom: 3px; }
h3 { font-size: 16px; margin: 18px 0 6px; }
.sub { color: #555; margin: 0 0 14px; }
nav a { margin-right: 14px; }
a { color: #1f5aa6; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(250px, 1fr)); gap: 12px; }
.card { border: 1px solid #d9dde3; border-radius: 6px; padding: 10px 14px; background: #fafbfc; }
.card h3 { margin: 0 0 4px; font-size: 15px; }
.card .big { font-size: 26px; font-weight: 700; color: #b2182b; }
.card .big.ok { color: #1a7f37; }
.card p { margin: 3px 0; }
.card ol { margin: 4px 0 0 18px; padding: 0; }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 13px; }
th, td { border-bottom: 1px solid #e3e6ea; padding: 3px 9px; text-align: left; }
th { background: #f1f3f5; font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.stage-start td { border-top: 2px solid #c9ced6; }
.badge { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 12px;
         font-weight: 600; white-space: nowrap; }
.badge.met { background: #dafbe1; color: #116329; }
.badge.not { background: #ffebe9; color: #a40e26; }
.badge.none { background: #eef0f2; color: #57606a; }
.stage { display: grid; grid-template-columns: minmax(0, 1fr); gap: 8px; }
figure { margin: 6px 0 14px; }
figure img, figure svg { max-width: 100%; height: auto; }
figure svg { max-width: 780px; display: block; }
figcaption { color: #555; font-size: 12px; }
.note { color: #555; font-size: 12px; }
details { margin: 6px 0 12px; }
.scroll { overflow-x: auto; }
@media print { nav { display: none; } h2 { break-after: avoid; } figure { break-inside: avoid; } }
"""


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


def _badge(met: Any) -> str:
    if met is None or pd.isna(met):
        return '<span class="badge none">no target</span>'
    met = str(met).strip().lower() in {"true", "1", "1.0", "yes"}
    return ('<span class="badge met">met</span>' if met
            else '<span class="badge not">not met</span>')


def _svg(fig: Figure) -> str:
    """Inline SVG of a figure, without XML prolog, metadata or namespace attributes."""
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "capacity"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    text = re.sub(r"<\?xml[^>]*\?>\s*", "", text)
    text = re.sub(r"<!DOCTYPE[^>]*>\s*", "", text, flags=re.S)
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    text = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", text)
    return re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1', text, count=1)


def _png(fig: Figure, dpi: int = 110) -> str:
    """A data-URI PNG of a figure."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


# ------------------------------------------------------------------------------ sections
def _summary(result: Result, mode: str) -> pd.DataFrame:
    s = result.tables.get("summary", pd.DataFrame())
    if s.empty:
        return s
    return s[s["mode"] == mode].sort_values(["stage", "year"])


def _zone_names(result: Result) -> pd.Series:
    z = result.zones
    if "name" in z:
        return pd.Series(z["name"].astype(str).to_numpy(), index=z["zone_id"].astype(str))
    return pd.Series(dtype=str)


def _headlines(result: Result, stages: list[str], mode: str, year: int | None) -> str:
    summary = _summary(result, mode)
    short = result.tables.get("shortfall", pd.DataFrame())
    names = _zone_names(result)
    cards = []
    for stage in stages:
        sub = summary[summary["stage"] == stage] if len(summary) else summary
        label = stage_label(result, stage)
        if sub.empty:
            cards.append(f'<div class="card"><h3>{_e(label)}</h3><p>No allocation results.'
                         "</p></div>")
            continue
        worst = sub.loc[sub["shortfall"].idxmax()]
        wy = int(worst["year"])
        at_year = sub[sub["year"] == year]
        head = ""
        if year is not None and len(at_year) and year != wy:
            head = (f"<p>In {year}: {_num(at_year['shortfall'].iloc[0])} short of "
                    f"{_num(at_year['demand'].iloc[0])}.</p>")
        if worst["shortfall"] <= 0:
            spare = (sub["places"] - sub["demand"]).min()
            cards.append(f'<div class="card"><h3>{_e(label)}</h3>'
                         '<div class="big ok">no shortfall</div>'
                         f"<p>in any year {int(sub['year'].min())}–{int(sub['year'].max())}; "
                         f"fewest spare places {_num(spare)} (district total).</p></div>")
            continue
        share = worst["shortfall"] / worst["demand"] if worst["demand"] else np.nan
        zsub = short[(short["stage"] == stage) & (short["mode"] == mode)
                     & (short["year"] == wy) & (short["shortfall"] > 0)] if len(short) else short
        top = zsub.sort_values("shortfall", ascending=False).head(3) if len(zsub) else zsub
        items = "".join(
            f"<li>{_e(names.get(str(z), z))} <span class='note'>({_e(z)})</span>: "
            f"{_num(v)}</li>" for z, v in zip(top.get("zone_id", []), top.get("shortfall", [])))
        cards.append(
            f'<div class="card"><h3>{_e(label)}</h3>'
            f'<div class="big">{_num(worst["shortfall"])}</div>'
            f"<p>pupils without a place in the worst year, <b>{wy}</b> "
            f"({_num(100 * share, 1)} % of {_num(worst['demand'])}; "
            f"{_num(worst['out_of_reach'])} out of reach).</p>{head}"
            + (f"<p>Most short zones in {wy}:</p><ol>{items}</ol>" if items else "")
            + "</div>")
    return '<div class="cards">' + "".join(cards) + "</div>"


def _indicators(result: Result, year: int | None) -> str:
    ind = result.tables.get("indicators", pd.DataFrame())
    if ind.empty:
        return '<p class="note">No indicators in this run.</p>'
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
        cells = "".join(
            f'<td class="n">{_fmt_ind(by.at[y, "value"], rate)}</td><td>{_badge(by.at[y, "met"])}'
            "</td>" if y in by.index else "<td></td><td></td>" for y in show)
        rows.append(f"<tr><td>{_e(str(name).replace('_', ' '))}</td><td class='n'>{tgt}</td>"
                    f"{cells}</tr>")
    table = (f"<table><tr><th>Indicator</th><th class='n'>Target</th>{head}</tr>"
             + "".join(rows) + "</table>")
    # every year, in a fold (a small table: indicators × years)
    look = ind.drop_duplicates(["indicator", "year"]).set_index(["indicator", "year"])
    names = list(pd.unique(ind["indicator"]))
    rate_of = {n: _is_rate(g["value"]) for n, g in ind.groupby("indicator")}
    body = []
    for name in names:
        tds = []
        for y in years:
            if (name, y) not in look.index:
                tds.append("<td></td>")
                continue
            v, m = look.at[(name, y), "value"], look.at[(name, y), "met"] \
                if "met" in look else None
            cls = "" if m is None or pd.isna(m) else (
                " style='color:#116329'" if str(m).lower() in {"true", "1", "1.0"} else
                " style='color:#a40e26'")
            tds.append(f'<td class="n"{cls}>{_fmt_ind(v, rate_of[name])}</td>')
        body.append(f"<tr><td>{_e(str(name).replace('_', ' '))}</td>{''.join(tds)}</tr>")
    full = ("<details><summary>Every year</summary><div class='scroll'><table><tr>"
            "<th>Indicator</th>" + "".join(f'<th class="n">{y}</th>' for y in years)
            + "</tr>" + "".join(body) + "</table></div></details>")
    return table + full


def demand_chart(result: Result, stage: str, mode: str, *, title: bool = True) -> Figure:
    """Pupils (demand), places and pupils served per year for one stage; shortfall shaded."""
    sub = _summary(result, mode)
    sub = sub[sub["stage"] == stage] if len(sub) else sub
    fig = Figure(figsize=(7.2, 3.0), layout="constrained")
    ax = fig.add_subplot()
    if sub.empty:
        ax.text(0.5, 0.5, "no allocation results", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    x = sub["year"].to_numpy(int)
    marker = "o" if len(x) <= 12 else None
    ax.fill_between(x, sub["served"], sub["demand"], color="#f4a582", alpha=0.55, lw=0,
                    label="shortfall", step=None)
    ax.plot(x, sub["demand"], color="#b2182b", lw=2, marker=marker, label="pupils (demand)")
    ax.plot(x, sub["places"], color="#2166ac", lw=2, marker=marker, label="places")
    ax.plot(x, sub["served"], color="#1b7837", lw=1.4, ls="--", marker=marker,
            label=f"served ({mode})")
    ax.set_ylabel("pupils / places")
    ax.set_ylim(bottom=0)
    ax.xaxis.get_major_locator().set_params(integer=True)
    if len(x) == 1:
        ax.set_xlim(x[0] - 1, x[0] + 1)
    ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
    ax.grid(True, color="#e5e5e5", lw=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=9)
    if title:
        ax.set_title(stage_label(result, stage), fontsize=11, loc="left")
    return fig


def _summary_table(result: Result, stages: list[str], mode: str) -> str:
    summary = _summary(result, mode)
    if summary.empty:
        return '<p class="note">No summary table in this run.</p>'
    other = [m for m in run_modes(result) if m != mode]
    full = result.tables["summary"]
    alt = {}
    for m in other:
        alt[m] = full[full["mode"] == m].set_index(["stage", "year"])["shortfall"]
    cols = ["demand", "places", "served", "shortfall", "out_of_reach"]
    head = ("<tr><th>Stage</th><th class='n'>Year</th>"
            + "".join(f"<th class='n'>{_e(c.replace('_', ' '))}</th>" for c in cols)
            + "".join(f"<th class='n'>shortfall ({_e(m)})</th>" for m in other) + "</tr>")
    rows = []
    order = {s: i for i, s in enumerate(stages)}
    summary = summary.assign(_o=summary["stage"].map(order).fillna(len(order)))
    summary = summary.sort_values(["_o", "year"])
    prev = None
    for rec in summary.to_dict("records"):  # one row per stage and year (a few dozen)
        cls = " class='stage-start'" if rec["stage"] != prev else ""
        prev = rec["stage"]
        tds = "".join(f"<td class='n'>{_num(rec[c])}</td>" for c in cols)
        tds += "".join(f"<td class='n'>{_num(alt[m].get((rec['stage'], rec['year'])))}</td>"
                       for m in other)
        rows.append(f"<tr{cls}><td>{_e(rec['stage'])}</td><td class='n'>{int(rec['year'])}"
                    f"</td>{tds}</tr>")
    return ("<div class='scroll'><table>" + head + "".join(rows) + "</table></div>"
            f"<p class='note'>Allocation mode <b>{_e(mode)}</b> (the scenario's); "
            "out of reach = no school of the stage within the service radius.</p>")


def _stage_settings(result: Result, stages: list[str]) -> str:
    keys = ["ages", "enrolment", "class_size", "radius_m", "cost_per_place"]
    rows = []
    for s in stages:
        st = result.stages.get(s, {})
        vals = []
        for k in keys:
            v = st.get(k)
            if k == "ages" and v:
                v = f"{v[0]}–{v[-1]}"
            elif isinstance(v, (int, float)) and k != "enrolment":
                v = _num(v)
            vals.append(f"<td class='n'>{_e('–' if v is None else v)}</td>")
        rows.append(f"<tr><td>{_e(s)}</td>{''.join(vals)}</tr>")
    head = "".join(f"<th class='n'>{_e(k.replace('_', ' '))}</th>" for k in keys)
    note = ""
    z = result.zones
    if result.manifest.get("zone_radius_scale", True) and "radius_scale" in z:
        scaled = z[z["radius_scale"].fillna(1) != 1]
        if len(scaled):
            names = ", ".join(f"{n} (×{v:g})" for n, v in
                              zip(scaled["name"].astype(str), scaled["radius_scale"]))
            note = (f"<p class='note'>radius m is multiplied by the zone's radius_scale for "
                    f"children living in: {_e(names)}.</p>")
    return f"<table><tr><th>Stage</th>{head}</tr>{''.join(rows)}</table>{note}"


# ------------------------------------------------------------------------------- report
def report_html(result: Result, *, map_link: str = "maps/catchments.html",
                map_dpi: int = 110, figures: dict[str, Figure] | None = None) -> str:
    """The whole report as one HTML string (no external resources). ``figures`` are
    static maps already drawn for the headline year, by stage (others are drawn here)."""
    stages, years = run_stages(result), run_years(result)
    mode = pick_mode(result, None)
    year = result.report_year
    man = result.manifest
    scenario = man.get("scenario", result.name)
    span = f"{years[0]}–{years[-1]}" if years else "no years"
    sub = (f"Model <b>{_e(man.get('model', '–'))}</b> · years {span} · allocation "
           f"<b>{_e(mode)}</b> (both modes computed) · headline year <b>{_e(year)}</b>")

    stage_blocks = []
    for stage in stages:
        chart = demand_chart(result, stage, mode, title=False)
        block = [f"<h3 id='stage-{_e(stage)}'>{_e(stage_label(result, stage))}</h3>",
                 f"<figure>{_svg(chart)}<figcaption>Pupils seeking a place, places and pupils "
                 f"served per year ({_e(mode)} allocation); the shaded band is the shortfall."
                 "</figcaption></figure>"]
        if year is not None and len(result.tables.get("units", [])):
            fig = (figures or {}).get(stage) or static_map(result, stage, year, mode=mode)
            block.append(f"<figure><img alt='{_e(stage)} map {year}' src='{_png(fig, map_dpi)}'>"
                         f"<figcaption>{_e(stage)} in {year}: zones shaded by shortfall per "
                         "1,000 children of the stage's ages; schools sized by places and "
                         "coloured by utilisation; key projects open by then marked."
                         "</figcaption></figure>")
        stage_blocks.append("<section class='stage'>" + "".join(block) + "</section>")

    nav = ("<nav><a href='#headlines'>Headlines</a><a href='#indicators'>Indicators</a>"
           "<a href='#stages'>Stages</a><a href='#summary'>Summary table</a>"
           "<a href='#plausibility'>Plausibility</a>"
           f"<a href='{_e(map_link)}'>Interactive catchment map</a></nav>")
    body = f"""
<main>
<h1>{_e(scenario)} — school places report</h1>
<p class="sub">{sub}</p>
{nav}
<h2 id="headlines">Headline shortfalls</h2>
{_headlines(result, stages, mode, year)}
<h2 id="indicators">Indicators against the plan's targets</h2>
{_indicators(result, year)}
<h2 id="stages">Demand and places by stage</h2>
<p>Interactive map of catchments, shortfall and projects for every stage and year:
<a href="{_e(map_link)}">{_e(map_link)}</a> (works offline).</p>
{''.join(stage_blocks) or '<p class="note">No stages in this run.</p>'}
<h2 id="summary">Summary table</h2>
{_summary_table(result, stages, mode)}
<h3>Stage settings</h3>
{_stage_settings(result, stages)}
<p class="note">Scenario {_e(scenario)}; horizon {_e(man.get('horizon', '–'))}.
Shortfall = pupils without a place at a school within the service radius.</p>
{plausibility_section(result)}{calibration_section(result)}
</main>"""
    return (f"<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
            f"<title>{_e(scenario)} — school places report</title>\n<style>{_CSS}</style>\n"
            f"</head>\n<body>{body}\n</body>\n</html>\n")


def write_report(result: Result, folder: str | Path, *,
                 figures: dict[str, Figure] | None = None) -> Path:
    """Write ``folder/report.html`` (self-contained, offline); return its path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "report.html"
    path.write_text(report_html(result, figures=figures), encoding="utf-8")
    return path


def write_all(result: Result, folder: str | Path) -> list[Path]:
    """Writer for :meth:`Result.write`: static maps of every stage in the headline year,
    the interactive map and the report."""
    year = result.report_year
    paths: list[Path] = []
    figures: dict[str, Figure] = {}
    if year is not None and len(result.tables.get("units", [])):
        for stage in run_stages(result):   # each map is drawn once: files and report
            figures[stage] = static_map(result, stage, year, mode=pick_mode(result, None))
            paths += save_static_map(figures[stage], folder, stage, year)
        paths.append(write_interactive_map(result, folder))
    paths.append(write_report(result, folder, figures=figures))
    return paths
