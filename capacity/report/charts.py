"""Charts of the run report (matplotlib figures, inline SVG/PNG): demand, places and pupils
served per stage and year; births per year. Texts from ``text/<lang>.toml`` [report]."""
from __future__ import annotations

import base64
import io
import re
from typing import Any

import matplotlib
import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..result import Result
from . import labels as L
from .catchment import result_lang, stage_label


def _t(key: str, lang: str, **fields: Any) -> str:
    return L.text("report", key, lang, **fields)


def svg(fig: Figure) -> str:
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


def png(fig: Figure, dpi: int = 110) -> str:
    """A data-URI PNG of a figure."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def scenario_summary(result: Result, mode: str) -> pd.DataFrame:
    s = result.tables.get("summary", pd.DataFrame())
    if s.empty:
        return s
    return s[s["mode"] == mode].sort_values(["stage", "year"])


def peak_year(result: Result, stage: str, mode: str) -> int | None:
    """The stage's year of largest district shortfall (the first on ties; None: none)."""
    s = scenario_summary(result, mode)
    s = s[s["stage"] == stage] if len(s) else s
    if s.empty or s["shortfall"].max() <= 0:
        return None
    return int(s.loc[s["shortfall"].idxmax(), "year"])


def demand_chart(result: Result, stage: str, mode: str, *, title: bool = True,
                 lang: str | None = None) -> Figure:
    """Pupils (demand), places and pupils served per year for one stage; shortfall shaded."""
    lang = lang or result_lang(result)
    sub = scenario_summary(result, mode)
    sub = sub[sub["stage"] == stage] if len(sub) else sub
    fig = Figure(figsize=(7.2, 3.0), layout="constrained")
    ax = fig.add_subplot()
    if sub.empty:
        ax.text(0.5, 0.5, _t("chart_no_results", lang), ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    x = sub["year"].to_numpy(int)
    marker = "o" if len(x) <= 12 else None
    ax.fill_between(x, sub["served"], sub["demand"], color="#f4a582", alpha=0.55, lw=0,
                    label=_t("chart_shortfall", lang), step=None)
    ax.plot(x, sub["demand"], color="#b2182b", lw=2, marker=marker,
            label=_t("chart_demand", lang))
    ax.plot(x, sub["places"], color="#2166ac", lw=2, marker=marker,
            label=_t("chart_places", lang))
    ax.plot(x, sub["served"], color="#1b7837", lw=1.4, ls="--", marker=marker,
            label=_t("chart_served", lang, mode=L.mode_label(mode, lang)))
    ax.set_ylabel(_t("chart_ylabel", lang))
    _year_axis(ax, x)
    if title:
        ax.set_title(stage_label(result, stage, lang), fontsize=11, loc="left")
    return fig


def _year_axis(ax: Any, x: np.ndarray) -> None:
    ax.set_ylim(bottom=0)
    ax.xaxis.get_major_locator().set_params(integer=True)
    if len(x) == 1:
        ax.set_xlim(x[0] - 1, x[0] + 1)
    ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
    ax.grid(True, color="#e5e5e5", lw=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=9)


def births_chart(result: Result, lang: str | None = None) -> Figure | None:
    """District births per year (components table); None when the run has none."""
    lang = lang or result_lang(result)
    comp = result.tables.get("components", pd.DataFrame())
    if comp.empty or "births" not in comp:
        return None
    births = comp.groupby("year")["births"].sum()
    births = births[births > 0]
    if births.empty:
        return None
    fig = Figure(figsize=(7.2, 2.6), layout="constrained")
    ax = fig.add_subplot()
    x = births.index.to_numpy(int)
    ax.plot(x, births.to_numpy(float), color="#762a83", lw=2, marker="o" if len(x) <= 12
            else None, label=_t("births_ylabel", lang))
    ax.set_ylabel(_t("births_ylabel", lang))
    _year_axis(ax, x)
    return fig


