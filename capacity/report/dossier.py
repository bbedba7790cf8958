"""The dossier: ONE document (``dossier.html`` and its print, ``dossier.pdf``) that a bureau
hands to its superiors — first an A4 summary page (:mod:`.dossier_summary`), then the detail
sections: the costing's lines (without a plan), and the run's, plan's and ensemble's own
``report.html`` bodies, embedded as they are (docs/cli.md, ``capacity report``).

Print rules: CSS ``@page`` A4; no font below :data:`MIN_FONT_PT` (embedded styles are raised
to it); offline (the embedded reports are self-contained; scripts are dropped); Chinese in a
CJK system font (fonts-wqy-zenhei or Noto CJK).
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from .. import __version__
from ..names import scenario_name
from ..runfolder import atomic_files
from . import labels as L
from .dossier_inputs import Inputs, read_inputs
from .dossier_summary import (KIND_ORDER, e, in_unit, money_unit, summary_html, t, table, whole,
                              zone_names)
from .pdf import chromium, html_to_pdf

#: The smallest font size anywhere in the document's CSS (points).
MIN_FONT_PT = 8.0
FONTS = ('"Noto Sans", "Noto Sans CJK SC", "WenQuanYi Zen Hei", "Source Han Sans SC", '
         '"Microsoft YaHei", "PingFang SC", sans-serif')
CSS = f"""
@page {{ size: A4; margin: 12mm 12mm 12mm 12mm; }}
html, body {{ font-family: {FONTS}; font-size: 9pt; line-height: 1.3; color: #1d1d1f;
  margin: 0; background: #fff; }}
main, .details main {{ max-width: none; padding: 0; margin: 0; }}
.summary {{ break-after: page; page-break-after: always; }}
.summary h1 {{ font-size: 15pt; margin: 0 0 2pt; }}
.summary h2 {{ font-size: 11pt; margin: 7pt 0 2pt; border-bottom: 1pt solid #c9ced6; }}
.question {{ font-size: 10pt; margin: 2pt 0 4pt; }}
table {{ border-collapse: collapse; font-size: 8pt; margin: 2pt 0; }}
th, td {{ border-bottom: 0.5pt solid #d9dde3; padding: 1pt 4pt; text-align: left; }}
th {{ background: #f1f3f5; }}
.n {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
tr.total td {{ border-top: 1pt solid #888; }}
.note {{ font-size: 8pt; color: #444; margin: 1pt 0 2pt; }}
ul.tight {{ margin: 1pt 0 1pt 14pt; padding: 0; }}
ul.tight li {{ margin: 0; }}
.details h1 {{ font-size: 14pt; break-before: page; page-break-before: always; }}
.details {{ font-size: 9pt; }}
.details img, .details svg {{ max-width: 100%; height: auto; }}
.details .scroll {{ overflow: visible; }}
.details table {{ font-size: 8pt; }}
.details details > * {{ display: block; }}
"""
_FONT_PX = re.compile(r"(font(?:-size)?\s*:\s*[^;{}]*?)(\d+(?:\.\d+)?)(px|pt)")


def floor_fonts(css: str, min_pt: float = MIN_FONT_PT) -> str:
    """CSS with every font size below ``min_pt`` raised to it (px = 0.75 pt)."""
    def fix(m: re.Match) -> str:
        size, unit = float(m.group(2)), m.group(3)
        pt = size * 0.75 if unit == "px" else size
        return m.group(0) if pt >= min_pt else f"{m.group(1)}{min_pt:g}pt"
    return _FONT_PX.sub(fix, css)


def smallest_font_pt(document: str) -> float:
    """The smallest font size in a document's CSS (``<style>`` and ``style=""``), in pt."""
    css = " ".join(re.findall(r"<style[^>]*>(.*?)</style>", document, re.S)
                   + re.findall(r'style="([^"]*)"', document)
                   + re.findall(r"style='([^']*)'", document))
    sizes = [float(v) * (0.75 if u == "px" else 1) for _, v, u in _FONT_PX.findall(css)]
    return min(sizes, default=float("inf"))


def embedded(report: str) -> tuple[str, str]:
    """(CSS, body) of a folder's report.html for the details: scripts and navigation
    dropped, headings one level down, fonts raised to :data:`MIN_FONT_PT`."""
    css = "\n".join(re.findall(r"<style[^>]*>(.*?)</style>", report, re.S))
    css = css if "{{" not in css else ""          # a malformed sheet: our styles instead
    m = re.search(r"<main[^>]*>(.*)</main>", report, re.S) or \
        re.search(r"<body[^>]*>(.*)</body>", report, re.S)
    body = m.group(1) if m else ""
    body = re.sub(r"<script.*?</script>", "", body, flags=re.S | re.I)
    body = re.sub(r"<nav.*?</nav>", "", body, flags=re.S | re.I)
    for level in (5, 4, 3, 2, 1):
        body = re.sub(rf"<(/?)h{level}(\W)", rf"<\g<1>h{level + 1}\g<2>", body)
    body = re.sub(r"(style=['\"])([^'\"]*)", lambda s: s.group(1) + floor_fonts(s.group(2)),
                  body)
    return floor_fonts(css), body


def without_costing(body: str) -> str:
    """An embedded run report without its rule-of-thumb costing section (its heading
    ``id='costing'`` up to the next heading of that level or above): with a plan, the
    plan's costing is the one list of actions and the one total of the document."""
    m = re.search(r"<h([2-4])[^>]*id=['\"]costing['\"]", body)
    if not m:
        return body
    end = re.compile(rf"<h[1-{m.group(1)}][\s>]|</section>").search(body, m.end())
    return body[:m.start()] + (body[end.start():] if end else "")


def costing_html(inputs: Inputs, lang: str) -> str:
    """Without a plan: every line of the run's costing, with its basis and the total."""
    cost = inputs.run.tables["budget_cost"]
    lines = cost[cost["id"] != "TOTAL"]
    stages = list(inputs.manifest.get("stages") or {})
    lines = lines.assign(
        _s=lines["stage"].map({s: i for i, s in enumerate(stages)}).fillna(len(stages)),
        _k=lines["kind"].map({k: i for i, k in enumerate(KIND_ORDER)}).fillna(99)
    ).sort_values(["_s", "_k", "zone_id"], kind="stable")
    zones = zone_names(inputs, lang)
    unit = money_unit(float(lines["cost_cny"].sum()))
    rows = [[e(r.id), e(L.stage_label(str(r.stage), lang)), e(L.word(str(r.kind), lang)),
             e(zones.get(str(r.zone_id), r.zone_name)),
             whole(r.places), e("" if pd.isna(r.open_year) else int(r.open_year)),
             whole(r.pupil_years), in_unit(r.cost_cny, unit), e(L.word(str(r.basis), lang))]
            for r in lines.itertuples()]
    rows.append([f"<b>{e(L.word('district_total', lang))}</b>"] + [""] * 6 +
                [f"<b>{in_unit(float(lines['cost_cny'].sum()), unit)}</b>", ""])
    head = [L.column_label(c, lang) for c in ("id", "stage", "kind", "zone_name", "places",
                                              "open_year", "pupil_years")] + [
        f"{L.column_label('cost_cny', lang).split('（')[0].split(' (')[0]} ({unit[1]})",
        L.column_label("basis", lang)]
    return (f"<h2>{e(t('h_costing', lang))}</h2>"
            + table(head, rows, numeric_from=4, bold_last=True))


def dossier_html(inputs: Inputs, lang: str, summary_only: bool = False) -> tuple[str, float]:
    """The whole document (or its first page alone) and the total request (CNY)."""
    first, total = summary_html(inputs, lang)
    styles, parts = [], []
    if not summary_only:
        parts.append(f"<section class=details><h1>{e(t('h_details', lang))}</h1>")
        if inputs.plan is None:
            parts.append(costing_html(inputs, lang))
        for key, folder in (("h_run", inputs.run), ("h_plan", inputs.plan),
                            ("h_ensemble", inputs.ensemble)):
            if folder is None:
                continue
            shown = folder.path.name if lang == "en" else \
                scenario_name(folder.meta if folder.meta.get("scenario") else inputs.manifest,
                              lang)
            parts.append(f"<h2 class=part>{e(t(key, lang))}: {e(shown)}</h2>")
            if folder.report is None:
                missing = t("no_report", lang, folder=folder.path.name)
                parts.append(f"<p class=note>{e(missing)}</p>")
                continue
            if key == "h_ensemble":
                unit = money_unit(total)
                parts.append("<p class=note>" + e(t("ensemble_money", lang, total=(
                    f"{in_unit(total, unit)} {unit[1]}"))) + "</p>")
            css, body = embedded(folder.report)
            if key == "h_run" and inputs.plan is not None:
                body = without_costing(body)       # the plan's costing is the request
            if css and css not in styles:
                styles.append(css)
            parts.append(f"<div class=embedded>{body}</div>")
        names = ", ".join(f.path.name if lang == "en" else scenario_name(
            f.meta if f.meta.get("scenario") else inputs.manifest, lang)
            for f in (inputs.run, inputs.plan, inputs.ensemble) if f)
        parts.append(f"<p class=note>{e(t('footer', lang, version=__version__, folders=names))}"
                     "</p></section>")
    title = t("title", lang, scenario=scenario_name(inputs.manifest, lang)
              or inputs.run.path.name)
    style = "\n".join(styles) + CSS                 # ours last: they win
    doc = (f"<!DOCTYPE html>\n<html lang='{'zh-CN' if lang == 'zh' else 'en'}'><head>"
           f"<meta charset='utf-8'><title>{e(title)}</title><style>{style}</style></head>"
           f"<body>{first}{''.join(parts)}</body></html>\n")
    return doc, total


def write_dossier(run: str | Path, out: str | Path, *, plan: str | Path | None = None,
                  ensemble: str | Path | None = None, lang: str | None = None
                  ) -> tuple[Path, str]:
    """Write ``out/dossier.html`` and ``out/dossier.pdf`` (other files of ``out`` left
    alone; nothing written on any problem); return the PDF's path and the language."""
    inputs = read_inputs(run, plan, ensemble)       # every problem before any work
    chromium()
    lang = lang or inputs.manifest.get("lang") or "en"
    L.check_lang(lang)
    doc, _ = dossier_html(inputs, lang)
    with atomic_files(out, "dossier") as tmp:
        (tmp / "dossier.html").write_text(doc, encoding="utf-8")
        html_to_pdf(tmp / "dossier.html", tmp / "dossier.pdf")
    return Path(out) / "dossier.pdf", lang
