"""The ensemble's report: fan charts per stage, a map of P(shortfall > 0) per zone, the
budget at P50/P80/P90 and the worst years, as PNGs and one self-contained report.html."""
from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from .aggregate import DISTRICT

if TYPE_CHECKING:
    from .api import EnsembleResult

BANDS = (("p5", "p95", 0.18), ("p10", "p90", 0.30), ("p25", "p75", 0.45))


def fan_chart(q: pd.DataFrame, stage: str, path: Path) -> None:
    """District demand and shortfall of one stage by year: 5–95, 10–90 and 25–75 % bands,
    the median and the deterministic run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    d = q[(q["zone_id"] == DISTRICT) & (q["stage"] == stage)]
    for ax, measure in zip(axes, ("demand", "shortfall")):
        m = d[d["measure"] == measure].sort_values("year")
        x = m["year"].to_numpy()
        for lo, hi, alpha in BANDS:
            ax.fill_between(x, m[lo], m[hi], color="tab:blue", alpha=alpha, lw=0,
                            label=f"{lo[1:]}–{hi[1:]} %")
        ax.plot(x, m["p50"], color="tab:blue", lw=2, label="median")
        ax.plot(x, m["deterministic"], color="black", ls="--", lw=1.2, label="deterministic")
        ax.set_title(f"{stage}: {'pupils' if measure == 'demand' else 'pupils without a place'}")
        ax.set_xlabel("year")
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def probability_map(result: "EnsembleResult", p: pd.DataFrame, year: int, path: Path) -> None:
    """One panel per stage: each zone coloured by P(shortfall > 0) in ``year``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stages = result.stages
    fig, axes = plt.subplots(1, len(stages), figsize=(3.4 * len(stages), 3.8), squeeze=False)
    sel = p[(p["year"] == year) & (p["zone_id"] != DISTRICT)]
    for ax, stage in zip(axes[0], stages):
        prob = sel[sel["stage"] == stage].set_index("zone_id")["p_shortfall"]
        zones = result.zones.assign(p=result.zones["zone_id"].map(prob).fillna(0.0))
        zones.plot(column="p", ax=ax, cmap="Reds", vmin=0, vmax=1, edgecolor="grey", lw=0.4)
        ax.set_title(f"{stage} {year}", fontsize=10)
        ax.set_axis_off()
    sm = plt.cm.ScalarMappable(cmap="Reds", norm=plt.Normalize(0, 1))
    fig.colorbar(sm, ax=axes[0].tolist(), shrink=0.7, label="P(shortfall > 0)")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, float_format=lambda v: f"{v:,.0f}", border=0)


def conditioning_section(result: "EnsembleResult") -> list[str]:
    """How the draws were weighted (ESS, observed figures) and how sure a shortfall of
    more than 1,000 places is per zone, in words (English and Chinese)."""
    from .conditioning import few_draws, how_sure, worst_zone_risk

    if result.conditioning is None:
        return []
    ess, n = result.conditioning.ess, len(result.inputs)
    obs = result.observations
    out = ["<h2>Conditioned on what was observed / 按观测数据加权</h2>",
           f"<p>Each draw is weighted by its fit to the observed figures below (importance "
           f"weights, docs/ensemble.md); effective sample size {ess:.1f} of {n} draws. "
           f"每个抽样按其与下列观测值的吻合程度加权；有效样本量 {ess:.1f}（共 {n} 个抽样）。"
           + (" Few effective draws: read the quantiles as indicative. 有效样本较少，分位数仅供参考。"
              if few_draws(ess, n) else "") + "</p>"]
    if len(obs):
        out.append(obs.to_html(index=False, border=0, float_format=lambda v: f"{v:,.3f}"
                               if abs(v) < 10 else f"{v:,.0f}"))
    risk = result.risk
    rows = []
    for stage in result.stages:
        w = worst_zone_risk(risk[risk["zone_id"] != "ALL"], stage)
        w = w[w["p_short_gt_1000"] > 0.005]
        for r in w.itertuples():
            p = float(r.p_short_gt_1000)
            rows.append(f"<li>{html.escape(stage)}, {html.escape(str(r.zone_id))}, {r.year}: "
                        f"P(short by more than 1,000 places) = {p:.0%} — {how_sure(p)} / "
                        f"缺口超过1000个学位的概率 {p:.0%}——{how_sure(p, 'zh')}</li>")
    out.append("<h3>How sure: zones short by more than 1,000 places (worst year) / "
               "把握程度：缺口超过1000个学位的区域（最不利年份）</h3>"
               + (f"<ul>{''.join(rows)}</ul>" if rows else
                  "<p>No zone is short by more than 1,000 places in any draw that counts. "
                  "没有区域在有效抽样中缺口超过1000个学位。</p>"))
    return out


def write_report(result: "EnsembleResult", folder: Path, year: int, q: pd.DataFrame) -> None:
    """fan_<stage>.png, map_p_shortfall_<year>.png and report.html into ``folder``."""
    if year not in set(int(y) for y in result.years):
        year = int(result.years[-1])
    fans = []
    for stage in result.stages:
        path = folder / f"fan_{stage}.png"
        fan_chart(q, stage, path)
        fans.append(path)
    prob = result.probability
    map_path = folder / f"map_p_shortfall_{year}.png"
    probability_map(result, prob, year, map_path)
    budget = result.budget
    total = budget[budget["zone_id"] == DISTRICT].drop(columns="zone_id")
    worst = result.worst_years()
    n = len(result.inputs)
    body = [
        f"<h1>{html.escape(result.scenario)}: {n} draws</h1>",
        *conditioning_section(result),
        f"<p>Allocation mode <b>{html.escape(result.mode)}</b>, seed {result.seed}. Bands: "
        "the middle 50, 80 and 90 % of the draws; dashed: the deterministic run. "
        "Distributions and method: docs/ensemble.md.</p>",
        "<h2>Worst year per stage (district pupils without a place)</h2>", _table(worst),
        "<h2>Places to build, by how sure we want to be (district)</h2>",
        "<p>Places covering each zone's worst-year shortfall in 50, 80 and 90 % of the "
        "draws, summed over zones; cost at the stage's cost per place (CNY).</p>",
        _table(total),
        *[f"<h2>{html.escape(p.stem[4:])}</h2>{_img(p)}" for p in fans],
        f"<h2>Probability of a shortfall per zone, {year}</h2>{_img(map_path)}",
        "<h2>Budget per zone</h2>", _table(budget[budget["zone_id"] != DISTRICT]
                                          .loc[lambda b: b.filter(like="places").sum(axis=1) > 0]),
    ]
    page = ("<!doctype html><html><head><meta charset='utf-8'><title>"
            f"{html.escape(result.scenario)} ensemble</title><style>body{{font-family:sans-serif;"
            "max-width:1100px;margin:2em auto}}table{{border-collapse:collapse}}td,th{{padding:"
            "2px 8px;text-align:right;border-bottom:1px solid #ddd}}img{{max-width:100%}}"
            "</style></head><body>" + "\n".join(body) + "</body></html>")
    (folder / "report.html").write_text(page, encoding="utf-8")
