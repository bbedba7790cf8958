"""Grades, intake, teachers and shrinking schools in the workbook and the report (the tables:
:mod:`capacity.grades`, :mod:`capacity.staffing`; docs/outputs.md)."""
from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any, Callable

import pandas as pd

from ..staffing import classes_needed
from . import labels as L
from .catchment import names_of

if TYPE_CHECKING:
    from ..result import Result


def _mode(frame: pd.DataFrame | None, mode: str) -> pd.DataFrame | None:
    if frame is None:
        return None
    return frame[frame["mode"].astype(str) == mode].drop(columns="mode").reset_index(drop=True)


def grade_views(result: "Result", lang: str = "en") -> dict[str, pd.DataFrame]:
    """Workbook sheets for the scenario's mode: intake (entrants per school, one column per
    year; classes to open are in intake.csv), staffing (district per stage and year),
    shrinking (schools and their years); those the run has."""
    names = names_of(result, "school", lang)
    out = {}
    for key in ("intake", "staffing", "shrinking"):
        frame = _mode(getattr(result, key, None), result.mode)
        if frame is None:
            continue
        if key == "intake":
            frame = frame.pivot_table(index=["school_id", "stage"], columns="year",
                                      values="entrants", aggfunc="sum", sort=False)
            frame.columns = [str(int(y)) for y in frame.columns]
            frame = frame.reset_index()
        if "school_id" in frame.columns:
            frame.insert(1, "school_name",
                         frame["school_id"].astype(str).map(names).astype("string"))
        out[key] = _reasons(frame, lang)
    return out


def _reasons(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """shrinking's ``reason`` (intake, use) in words of ``lang``."""
    if "reason" not in frame.columns:
        return frame
    return frame.assign(reason=[L.text("words", f"shrink_{v}", lang) for v in frame["reason"]])


def district_classes(result: "Result", year: int) -> pd.DataFrame:
    """Per stage in ``year`` (scenario's mode): entrants, classes to open, pupils, classes
    formed per grade, classes counted on stage totals (⌈school pupils ÷ class size⌉, the
    old count), rooms short, teachers, posts to recruit."""
    t = _mode(result.teachers, result.mode)
    t = t[t["year"] == year]
    size = t["stage"].map({s: c.get("class_size") for s, c in result.stages.items()})
    t = t.assign(classes_stage_total=classes_needed(t["pupils"], size.astype(float)))
    d = t.groupby("stage", sort=False, as_index=False)[
        ["pupils", "classes", "classes_stage_total", "rooms_short", "teachers"]].sum()
    i = _mode(result.intake, result.mode)
    i = i[i["year"] == year].groupby("stage", as_index=False)[
        ["entrants", "classes_to_open"]].sum()
    s = _mode(result.staffing, result.mode)
    s = s[s["year"] == year][["stage", "posts_to_recruit"]]
    d = i.merge(d, on="stage", how="right").merge(s, on="stage", how="left")
    order = {st: k for k, st in enumerate(result.stages)}
    return d.sort_values("stage", key=lambda c: c.map(order)).reset_index(drop=True)


def grades_section(p: Any, frame_table: Callable[..., str]) -> str:
    """The report's section for the page ``p`` (:class:`capacity.report.html.Page`):
    district classes, the largest intakes and shrinking schools, tables drawn by
    ``frame_table`` (the report's)."""
    r, lang = p.result, p.lang
    if r.teachers is None or r.intake is None or p.year is None:
        return ""

    def labelled(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        if "stage" in frame.columns:
            frame["stage"] = frame["stage"].map(lambda s: L.stage_label(s, lang))
        return frame.rename(columns=lambda c: L.column_label(c, lang))

    year = p.year
    parts = [f"<h2 id='grades'>{p.t('h_grades')}</h2>",
             f"<p>{p.t('grades_intro', year=year)}</p>",
             frame_table(labelled(district_classes(r, year)), lang=lang)]
    names = names_of(r, "school", lang)
    top = _mode(r.intake, r.mode).query("year == @year").nlargest(10, "entrants")
    top.insert(1, "school_name", top["school_id"].astype(str).map(names))
    parts += [f"<h3>{p.t('h_intake', year=year)}</h3>",
              frame_table(labelled(top.drop(columns="year")), lang=lang)]
    shrink = _mode(r.shrinking, r.mode)
    if shrink is not None:
        shrink.insert(1, "school_name", shrink["school_id"].astype(str).map(names))
        shrink = _reasons(shrink, lang).astype({"first_year": str, "last_year": str})
    parts.append(f"<h3>{p.t('h_shrinking')}</h3>")
    parts.append(frame_table(labelled(shrink), 30, lang) if shrink is not None and len(shrink)
                 else f"<p>{escape(p.t('no_shrinking'))}</p>")
    return "\n".join(parts)
