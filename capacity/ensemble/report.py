"""The ensemble's report: fan charts per stage, a map of P(shortfall > 0) per zone, the
budget at P50/P80/P90 and the worst years, as PNGs and one self-contained report.html, in
the ensemble's language (``--lang``, else the scenario's or model's; texts: text/<lang>.toml
[ensemble])."""
from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..names import in_lang, scenario_name
from ..report import labels as L
from ..report.fonts import font_context
from ..report.money import WAN_PEOPLE_FROM, money, people
from .aggregate import DISTRICT

if TYPE_CHECKING:
    from .api import EnsembleResult

BANDS = (("p5", "p95", 0.18), ("p10", "p90", 0.30), ("p25", "p75", 0.45))


def t(key: str, lang: str, **fields: Any) -> str:
    """An [ensemble] text in ``lang``."""
    return L.text("ensemble", key, lang, **fields)


def ensemble_lang(result: "EnsembleResult") -> str:
    """The ensemble's language: its manifest's ``lang``, else English."""
    lang = result.manifest.get("lang") or "en"
    return lang if lang in L.LANGS else "en"


def zone_names(result: "EnsembleResult", lang: str) -> dict[str, str]:
    """zone_id → its name in ``lang`` (``name_zh`` in Chinese, else ``name``, else the id)."""
    z = result.zones
    zh = z["name_zh"] if "name_zh" in z else pd.Series(None, index=z.index)
    en = z["name"] if "name" in z else z["zone_id"]
    return {str(i): in_lang(e if isinstance(e, str) and e.strip() else i,
                            c if isinstance(c, str) else None, lang)
            for i, e, c in zip(z["zone_id"], en, zh)}


def fan_chart(q: pd.DataFrame, stage: str, path: Path, lang: str = "en") -> None:
    """District demand and shortfall of one stage by year: 5–95, 10–90 and 25–75 % bands,
    the median and the deterministic run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with font_context(lang):
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
        d = q[(q["zone_id"] == DISTRICT) & (q["stage"] == stage)]
        label = L.stage_label(stage, lang)
        for ax, measure in zip(axes, ("demand", "shortfall")):
            m = d[d["measure"] == measure].sort_values("year")
            x = m["year"].to_numpy()
            for lo, hi, alpha in BANDS:
                ax.fill_between(x, m[lo], m[hi], color="tab:blue", alpha=alpha, lw=0,
                                label=t("fan_band", lang, lo=lo[1:], hi=hi[1:]))
            ax.plot(x, m["p50"], color="tab:blue", lw=2, label=t("fan_median", lang))
            ax.plot(x, m["deterministic"], color="black", ls="--", lw=1.2,
                    label=t("fan_deterministic", lang))
            ax.set_title(t(f"fan_{measure}", lang, stage=label))
            ax.set_xlabel(t("fan_year", lang))
            ax.grid(alpha=0.3)
        axes[1].legend(fontsize=8, loc="upper left")
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    plt.close(fig)


def probability_map(result: "EnsembleResult", p: pd.DataFrame, year: int | dict[str, int],
                    path: Path, lang: str = "en") -> None:
    """One panel per stage: each zone coloured by P(shortfall > 0) in ``year`` (one year, or
    a year per stage: its worst), the zones at P ≥ 0.5 named (labels never overlap)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..report.map_labels import LEADER_FROM, halo, place_labels
    from ..report.static_maps import fix_layout

    stages = result.stages
    names = zone_names(result, lang)
    with font_context(lang):
        fig, axes = plt.subplots(1, len(stages), figsize=(3.6 * len(stages), 4.2),
                                 squeeze=False, layout="constrained")
        labels = []
        for ax, stage in zip(axes[0], stages):
            y = year.get(stage, max(year.values())) if isinstance(year, dict) else year
            sel = p[(p["year"] == y) & (p["zone_id"] != DISTRICT) & (p["stage"] == stage)]
            prob = sel.set_index("zone_id")["p_shortfall"]
            zones = result.zones.assign(p=result.zones["zone_id"].map(prob).fillna(0.0))
            zones.plot(column="p", ax=ax, cmap="Reds", vmin=0, vmax=1, edgecolor="grey",
                       lw=0.4)
            spots = zones.geometry.representative_point()
            labels.append([ax.annotate(names.get(str(z), str(z)), (pt.x, pt.y), xytext=(0, 0),
                                       textcoords="offset points", fontsize=6, zorder=8,
                                       ha="center", va="center", path_effects=halo())
                           for z, pt, v in zip(zones["zone_id"], spots, zones["p"])
                           if v >= 0.5])
            ax.set_title(t("map_panel", lang, stage=L.stage_label(stage, lang), year=y),
                         fontsize=10)
            ax.set_axis_off()
        sm = plt.cm.ScalarMappable(cmap="Reds", norm=plt.Normalize(0, 1))
        fig.colorbar(sm, ax=axes[0].tolist(), shrink=0.7, label=t("map_label", lang))
        fix_layout(fig)
        for ax, group in zip(axes[0], labels):
            if group:
                place_labels(fig, ax, [(group, 0, LEADER_FROM)])
        fig.savefig(path, dpi=110)
    plt.close(fig)


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _table(frame: pd.DataFrame, lang: str, zones: dict[str, str] | None = None) -> str:
    """A table for people: stages and zones named, money in 万元/亿元 (CNY in English),
    headers from [ensemble] col_<column>."""
    out = frame.copy()
    for col in out.columns:
        if col == "stage":
            out[col] = out[col].map(lambda s: L.stage_label(str(s), lang))
        elif col == "zone_id" and zones is not None:
            out[col] = out[col].map(lambda z: zones.get(str(z), str(z)))
        elif col == "indicator":
            out[col] = out[col].map(lambda s: L.TEXTS[lang]["ensemble"].get(f"obs_{s}", s))
        elif col.startswith("cost"):
            out[col] = out[col].map(lambda v: money(v, lang))
        elif col == "year":
            out[col] = out[col].map(lambda v: f"{int(v)}")
        elif pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].map(lambda v: _number(v, lang))
    out = out.rename(columns={c: L.TEXTS[lang]["ensemble"].get(f"col_{c}", c)
                              for c in out.columns})
    return out.to_html(index=False, border=0)


def _number(v: float, lang: str = "en") -> str:
    """1234 → 1,234; a small fraction (a ratio, an error) with three decimals; people from
    100,000 in 万 in Chinese (money.people)."""
    if pd.isna(v):
        return "–"
    if abs(v) >= WAN_PEOPLE_FROM:
        return people(v, lang, unit=False)
    return f"{v:,.3f}" if abs(v) < 10 and v != int(v) else f"{v:,.0f}"


def conditioning_section(result: "EnsembleResult", lang: str = "en") -> list[str]:
    """How the draws were weighted (ESS, observed figures) and how sure a shortfall of
    more than 1,000 places is per zone, in words."""
    from .conditioning import few_draws, how_sure, worst_zone_risk

    if result.conditioning is None:
        return []
    ess, n = result.conditioning.ess, len(result.inputs)
    obs = result.observations
    out = [f"<h2>{t('cond_h', lang)}</h2>",
           f"<p>{t('cond_text', lang, ess=f'{ess:.1f}', n=n)}"
           + (t("cond_few", lang) if few_draws(ess, n) else "") + "</p>"]
    if len(obs):
        out.append(_table(obs, lang))
    risk = result.risk
    names = zone_names(result, lang)
    rows = []
    for stage in result.stages:
        w = worst_zone_risk(risk[risk["zone_id"] != "ALL"], stage)
        w = w[w["p_short_gt_1000"] > 0.005]
        for r in w.itertuples():
            p = float(r.p_short_gt_1000)
            rows.append("<li>" + html.escape(t(
                "sure_item", lang, stage=L.stage_label(stage, lang),
                zone=names.get(str(r.zone_id), str(r.zone_id)), year=r.year, p=f"{p:.0%}",
                words=how_sure(p, lang))) + "</li>")
    out.append(f"<h3>{t('sure_h', lang)}</h3>"
               + (f"<ul>{''.join(rows)}</ul>" if rows else f"<p>{t('sure_none', lang)}</p>"))
    return out


def write_report(result: "EnsembleResult", folder: Path, year: int, q: pd.DataFrame) -> None:
    """fan_<stage>.png, map_p_shortfall_<year>.png, map_p_shortfall_worst.png (each stage in
    its worst year) and report.html into ``folder``."""
    lang = ensemble_lang(result)
    if year not in set(int(y) for y in result.years):
        year = int(result.years[-1])
    fans = []
    for stage in result.stages:
        path = folder / f"fan_{stage}.png"
        fan_chart(q, stage, path, lang)
        fans.append((stage, path))
    prob = result.probability
    map_path = folder / f"map_p_shortfall_{year}.png"
    probability_map(result, prob, year, map_path, lang)
    worst_map = folder / "map_p_shortfall_worst.png"
    probability_map(result, prob, {r.stage: int(r.year) for r in result.worst_years()
                                   .itertuples()}, worst_map, lang)
    budget = result.budget
    total = budget[budget["zone_id"] == DISTRICT].drop(columns="zone_id")
    worst = result.worst_years()
    n = len(result.inputs)
    names = zone_names(result, lang)
    scenario = html.escape(scenario_name(result.manifest, lang) or result.scenario)
    per_zone = budget[budget["zone_id"] != DISTRICT].loc[
        lambda b: b.filter(like="places").sum(axis=1) > 0]
    body = [
        f"<h1>{t('title', lang, scenario=scenario, n=n)}</h1>",
        *conditioning_section(result, lang),
        f"<p>{t('intro', lang, mode=html.escape(L.mode_label(result.mode, lang)), seed=result.seed)}</p>",
        f"<h2>{t('h_worst', lang)}</h2>", _table(worst, lang),
        f"<h2>{t('h_budget', lang)}</h2>", f"<p>{t('budget_intro', lang)}</p>",
        _table(total, lang),
        *[f"<h2>{html.escape(L.stage_label(s, lang))}</h2>"
          f"{_img(p, t('fan_alt', lang, stage=L.stage_label(s, lang)))}" for s, p in fans],
        f"<h2>{t('h_map', lang, year=year)}</h2>{_img(map_path, t('map_label', lang))}",
        f"<h2>{t('h_map_worst', lang)}</h2>{_img(worst_map, t('map_label', lang))}",
        f"<h2>{t('h_zone_budget', lang)}</h2>", _table(per_zone, lang, names),
    ]
    page = (f"<!doctype html><html lang=\"{'zh-CN' if lang == 'zh' else 'en'}\"><head>"
            f"<meta charset='utf-8'><title>{t('page_title', lang, scenario=scenario)}</title>"
            "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}"
            "table{border-collapse:collapse}td,th{padding:2px 8px;text-align:right;"
            "border-bottom:1px solid #ddd}img{max-width:100%}</style></head><body>"
            + "\n".join(body) + "</body></html>")
    (folder / "report.html").write_text(page, encoding="utf-8")
