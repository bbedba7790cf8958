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
from ..report.modes_section import modes_table, number

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
                cells.append(_e(t("status_" + str(v).replace(" ", "_"))))
            elif c == "seconds":
                cells.append(number(v, 1))
            else:
                cells.append(number(v))
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


_MAP_JS = """
(function () {
  var D = JSON.parse(document.getElementById("map-data").textContent);
  var svg = document.getElementById("map"), tip = document.getElementById("tooltip");
  var NS = "http://www.w3.org/2000/svg";
  svg.setAttribute("viewBox", D.view.join(" "));
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }
  function add(g, d, attrs) {
    var p = document.createElementNS(NS, "path");
    p.setAttribute("d", d);
    Object.keys(attrs).forEach(function (k) { p.setAttribute(k, attrs[k]); });
    g.appendChild(p);
  }
  D.zones.forEach(function (d) { add(document.getElementById("zones"), d, {}); });
  var pick = document.getElementById("which"), show = document.getElementById("show");
  function draw() {
    var g = document.getElementById("catchments");
    while (g.firstChild) { g.removeChild(g.firstChild); }
    if (!show.checked) { return; }
    var m = D.maps[+pick.value];
    m.path.forEach(function (d, i) {
      add(g, d, {"fill": D.palette[m.colour[i]], "data-i": i});
    });
  }
  svg.addEventListener("pointermove", function (ev) {
    var t = ev.target, i = t.getAttribute ? t.getAttribute("data-i") : null;
    if (i === null) { tip.hidden = true; return; }
    var m = D.maps[+pick.value];
    tip.innerHTML = "<b>" + esc(m.name[+i]) + "</b><br>" + esc(D.t.school_id) + ": " +
      esc(m.id[+i]) + "<br>" + esc(D.t.units) + ": " + m.units[+i];
    tip.hidden = false;
    var r = svg.parentNode.getBoundingClientRect();
    tip.style.left = (ev.clientX - r.left + 12) + "px";
    tip.style.top = (ev.clientY - r.top + 12) + "px";
  });
  svg.addEventListener("pointerleave", function () { tip.hidden = true; });
  pick.onchange = draw;
  show.onchange = draw;
  draw();
  document.body.setAttribute("data-ready", "1");
})();
"""

_MAP_CSS = """
#wrap { position: relative; }
#map { width: 100%; height: 80vh; background: #fff; border: 1px solid #ddd; }
#zones path { fill: none; stroke: #777; stroke-width: 0.8; stroke-dasharray: 3 2;
  vector-effect: non-scaling-stroke; pointer-events: none; }
#catchments path { stroke: #fff; stroke-width: 0.8; vector-effect: non-scaling-stroke;
  fill-opacity: 0.85; }
#catchments path:hover { stroke: #000; stroke-width: 2; }
#tooltip { position: absolute; background: #fff; border: 1px solid #999; padding: 4px 8px;
  font-size: 13px; pointer-events: none; }
"""


def map_html(layers: list[dict], zones: list[str], view: list[int], scenario: str,
             lang: str, palette: list[str]) -> str:
    """catchments.html: offline (inline SVG and script), one toggleable layer of designed
    catchments per map (choose the map), the zones, school names in tooltips. ``layers``:
    per map ``title``, ``id``, ``name``, ``units``, ``colour``, ``path``."""
    import json

    def t(key: str, **f) -> str:
        return L.text("catchments", key, lang, **f)

    data = {"maps": layers, "zones": zones, "view": view, "palette": palette,
            "t": {"school_id": t("col_school_id"), "units": t("col_units")}}
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    body = body.replace("</", "<\\/").replace("<!--", "<\\!--")
    opts = "".join(f"<option value='{i}'>{_e(m['title'])}</option>"
                   for i, m in enumerate(layers))
    title = _e(t("report_title", scenario=scenario))
    return (f"<!DOCTYPE html>\n<html lang='{'zh-CN' if lang == 'zh' else 'en'}'>\n<head>"
            f"<meta charset='utf-8'><title>{title}</title><style>{_CSS}{_MAP_CSS}</style>"
            f"</head>\n<body><main><h1>{title}</h1><form onsubmit='return false'>"
            f"<label>{t('col_map')} <select id='which'>{opts}</select></label> "
            f"<label><input type='checkbox' id='show' checked> {t('layer')}</label></form>"
            "<div id='wrap'><svg id='map' preserveAspectRatio='xMidYMid meet'>"
            "<g id='catchments'></g><g id='zones'></g></svg>"
            "<div id='tooltip' hidden></div></div>"
            f"<p class='note'>{t('map_hint')}</p></main>"
            f"<script id='map-data' type='application/json'>{body}</script>"
            f"<script>{_MAP_JS}</script></body>\n</html>\n")
