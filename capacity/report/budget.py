"""Budget tables: where and when places are short, what to build, and what it costs.

Every view is computed from one run's tables (DESIGN §8) for the scenario's allocation mode
(``result.mode``) and written both as machine-readable CSV (``budget_<view>.csv``, English
snake_case columns) and as a workbook for people (``budget.xlsx``, English or Chinese labels).

Views (columns in order):

- ``summary`` — stage × year: stage, year, demand, places, served, shortfall, out_of_reach,
  in_reach_unserved (= shortfall − out_of_reach: schools in reach are full), shortfall_rate
  (shortfall ÷ demand), then for each indicator of the stage ``<metric>``,
  ``<metric>_target``, ``<metric>_met`` (see :func:`indicators_by_stage`).
- ``indicators`` — indicators.csv with the stage each indicator concerns: year, indicator,
  stage, value, target, met.
- ``shortfall_by_zone`` — zone × stage × year: zone_id, zone_name, stage, year, demand,
  served, shortfall, out_of_reach, in_reach_unserved.
- ``places_to_add`` — zone × stage: zone_id, zone_name, stage, peak_shortfall, peak_year,
  out_of_reach_in_peak_year, class_size, classes_to_add, places_to_add, schools_to_build,
  school_mix, standard_classes.
- ``cost`` — zone × stage, then a district total per stage (zone_id ``TOTAL``) and for all
  stages (stage ``all``): zone_id, zone_name, stage, places_to_add, cost_per_place_cny,
  cost_cny, cost_wan_cny (万元), cost_yi_cny (亿元), basis.
- ``criticality`` (only when the pipeline passes it): project_id, name, stage, open_year,
  extra_shortfall_if_dropped (pupil-years over the horizon), extra_shortfall_if_dropped_peak
  (pupils, in the peak year), latest_open_year_without_extra_shortfall.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import labels as L

if TYPE_CHECKING:
    from ..result import Result

#: Standard school sizes, in classes, that new schools are built in (largest used first).
#: Sources (see models/…/README and shared standards): kindergarten — 幼儿园工作规程 (2016)
#: art. 11, "一般不超过360人" = 12 classes × 30; primary — Beijing new primaries of 24 classes
#: (960 places: Huangchenggen Daxing, Shunyi 2023–24) and 36 classes (1440 places: Beijing
#: Primary EDA 2024; Tongzhou branches of Beijing Primary and No. 2 Experimental Primary);
#: junior — 24 classes (Zhangzhuang Middle School, Shunyi 2024); senior — the 30-class senior
#: section of Beijing's 66-class complete secondaries (36 + 30: CNU-affiliated HS Tongzhou,
#: No. 8 MS Yizhuang). Places per school = classes × the stage's class_size in the run.
STANDARD_SCHOOL_CLASSES: dict[str, tuple[int, ...]] = {
    "kindergarten": (12,),
    "primary": (24, 36),
    "junior": (24,),
    "senior": (30,),
}

#: Indicators without a stage in their name that concern several stages.
COMPULSORY_STAGES = ("primary", "junior")
MULTI_STAGE_INDICATORS: dict[str, tuple[str, ...]] = {"nearby_enrolment_rate": COMPULSORY_STAGES}

TOTAL_ID = "TOTAL"
_TOTAL_NAME = "District total"

VIEW_NOTES: dict[str, dict[str, str]] = {
    "summary": {
        "en": "District totals per stage and year for the scenario's allocation mode, with "
              "the indicators beside the plan's targets. Shortfall = demand − served; it "
              "includes pupils out of reach (no school of the stage within the service "
              "radius); 'in reach, schools full' is the rest.",
        "zh": "按学段、年份的全区合计（本情景的分配方式），并列出指标与规划目标。缺口 = 需求 − "
              "已满足；其中包括服务半径外（半径内无该学段学校）的学生，其余为半径内学校学位已满。"},
    "indicators": {
        "en": "Indicators per year as computed by the run, with the stage each concerns "
              "(nearby enrolment: compulsory stages) and the 2025 target.",
        "zh": "各年指标及其对应学段（就近入学率对应义务教育学段）与2025年目标。"},
    "shortfall_by_zone": {
        "en": "Demand, served pupils and shortfall per zone, stage and year.",
        "zh": "各区域、学段、年份的学位需求、已满足人数与缺口。"},
    "places_to_add": {
        "en": "Per zone and stage: the peak shortfall over the horizon and its (first) year; "
              "places to add = peak shortfall rounded up to whole classes of the stage's "
              "class size; and the number of new schools of standard size that would hold "
              "those classes (fewest schools, then fewest spare classes). Zone peaks may fall "
              "in different years, so their sum can exceed the district's peak shortfall.",
        "zh": "各区域、学段：规划期内的峰值缺口及其（首个）年份；需增学位 = 峰值缺口按该学段班额向上"
              "取整到整班；以及容纳这些班级所需的标准规模新建学校数（学校数最少，其次空余班级最少）。"
              "各区域峰值年份可能不同，合计可能大于全区峰值缺口。"},
    "cost": {
        "en": "Cost = places to add × cost per place of the stage (CNY; also in 万元 and 亿元), "
              "per zone and stage, with district totals per stage and for all stages.",
        "zh": "建设成本 = 需增学位 × 该学段每学位成本（元，并折算为万元、亿元），分区域、学段，"
              "并给出各学段及全部学段的全区合计。"},
    "criticality": {
        "en": "Key projects: extra shortfall if the project were dropped (pupil-years over the "
              "horizon, and pupils in the peak year) and the latest opening year that adds no "
              "shortfall (empty: any delay adds shortfall or it was not computed).",
        "zh": "重点项目：若取消该项目新增的缺口（规划期内人·年，以及峰值年人数），以及不增加缺口的"
              "最晚开办年份（空白：任何推迟都会增加缺口，或未计算）。"},
}

# ----------------------------------------------------------------------------- helpers


def _in_mode(frame: pd.DataFrame, mode: str) -> pd.DataFrame:
    """Rows of ``frame`` for allocation ``mode`` (all rows if it has no mode column)."""
    if "mode" not in frame.columns:
        return frame.copy()
    return frame.loc[frame["mode"].astype("string") == mode].drop(columns="mode")


def stage_order(result: "Result", present: pd.Series | None = None) -> list[str]:
    """Stages in teaching order: the model's stages, then the standard ones, then the rest."""
    order = list(dict.fromkeys([*result.stages, *L.STAGES]))
    if present is not None:
        extra = sorted(set(present.dropna().astype(str)) - set(order))
        order += extra
    return order


def _sort(frame: pd.DataFrame, keys: list[str], orders: Mapping[str, list[str]]) -> pd.DataFrame:
    """Sort by ``keys``, the ones in ``orders`` by their listed order."""
    def key(col: pd.Series) -> pd.Series:
        if col.name in orders:
            pos = {v: i for i, v in enumerate(orders[col.name])}
            return col.astype("string").map(pos).astype("float")
        return col
    return frame.sort_values(keys, key=key, kind="stable").reset_index(drop=True)


def zone_names(result: "Result") -> pd.DataFrame:
    """zone_id, zone_name (the zones' ``name`` if present, else the id)."""
    zones = pd.DataFrame(result.zones.drop(columns="geometry", errors="ignore"))
    if "zone_id" not in zones.columns:
        return pd.DataFrame({"zone_id": pd.Series(dtype="string"),
                             "zone_name": pd.Series(dtype="string")})
    out = pd.DataFrame({"zone_id": zones["zone_id"].astype("string")})
    name = zones["name"].astype("string") if "name" in zones.columns else out["zone_id"]
    out["zone_name"] = name.fillna(out["zone_id"])
    return out.drop_duplicates("zone_id")


def _zone_order(result: "Result", present: pd.Series) -> list[str]:
    known = list(zone_names(result)["zone_id"])
    return known + sorted(set(present.astype(str)) - set(known))


def _with_zone_names(frame: pd.DataFrame, result: "Result") -> pd.DataFrame:
    frame = frame.assign(zone_id=frame["zone_id"].astype("string"))
    out = frame.merge(zone_names(result), on="zone_id", how="left")
    out["zone_name"] = out["zone_name"].fillna(out["zone_id"])
    return out


def _as_bool(values: pd.Series) -> pd.Series:
    """True/False/empty (as bools, strings or 1/0) → pandas ``boolean`` with NA."""
    text = values.astype("string").str.strip().str.lower()
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    out[text.isin(["true", "1", "1.0", "yes"]).fillna(False)] = True
    out[text.isin(["false", "0", "0.0", "no"]).fillna(False)] = False
    return out


def _stage_setting(result: "Result", stages: pd.Series, key: str) -> pd.Series:
    """A ``[stages.X]`` setting for each row's stage (NaN where the run has none)."""
    values = {s: cfg.get(key) for s, cfg in result.stages.items()}
    return pd.to_numeric(stages.astype("string").map(values), errors="coerce").astype("float")


# ----------------------------------------------------------------------------- views


def indicators_by_stage(result: "Result") -> pd.DataFrame:
    """indicators.csv with the stage each indicator concerns: year, indicator, stage, metric,
    value, target, met.

    The stage is the indicators table's ``stage`` column if it has one; otherwise the stage
    named as a ``_``-separated word in the indicator's name (``primary_enrolment_rate`` →
    primary, metric ``enrolment_rate``; ``inclusive_kindergarten_coverage`` → kindergarten,
    ``inclusive_coverage``). Indicators in :data:`MULTI_STAGE_INDICATORS` (nearby enrolment,
    for compulsory education) get one row per stage they concern; any other indicator gets
    stage ``all``.
    """
    ind = result.tables.get("indicators")
    cols = ["year", "indicator", "stage", "metric", "value", "target", "met"]
    if ind is None or ind.empty:
        return pd.DataFrame({c: pd.Series(dtype="float" if c in ("value", "target") else
                                          "string") for c in cols})
    ind = ind.copy()
    ind["indicator"] = ind["indicator"].astype("string")
    ind["met"] = _as_bool(ind["met"]) if "met" in ind.columns else pd.NA
    ind["value"] = pd.to_numeric(ind["value"], errors="coerce")
    ind["target"] = pd.to_numeric(ind.get("target"), errors="coerce")
    names = ind["indicator"]
    if "stage" in ind.columns and ind["stage"].notna().any():
        stage = ind["stage"].astype("string")
    else:
        stage = pd.Series(pd.NA, index=ind.index, dtype="string")
        for s in stage_order(result):
            hit = names.str.contains(rf"(?:^|_){s}(?:_|$)", regex=True) & stage.isna()
            stage = stage.mask(hit, s)
    metric = names.copy()
    for s in stage.dropna().unique():
        rows = stage == s
        metric = metric.mask(rows, names.str.replace(rf"(?:^|_){s}(?=_|$)", "", regex=True)
                             .str.strip("_"))
    ind["stage"], ind["metric"] = stage, metric
    multi = pd.DataFrame([(k, s) for k, v in MULTI_STAGE_INDICATORS.items() for s in v],
                         columns=["indicator", "multi_stage"]).astype("string")
    ind = ind.merge(multi, on="indicator", how="left")
    ind["stage"] = ind["stage"].fillna(ind["multi_stage"]).fillna("all")
    ind = ind[cols]
    return _sort(ind, ["year", "stage", "indicator"], {"stage": [*stage_order(result), "all"]})


def summary_view(result: "Result") -> pd.DataFrame:
    """Stage × year totals for the scenario's mode, with the stage's indicators vs targets."""
    s = _in_mode(result.summary, result.mode)
    s["stage"] = s["stage"].astype("string")
    cols = ["stage", "year", "demand", "places", "served", "shortfall", "out_of_reach"]
    s = s[cols]
    s["in_reach_unserved"] = s["shortfall"] - s["out_of_reach"]
    s["shortfall_rate"] = (s["shortfall"] / s["demand"].where(s["demand"] > 0)).astype("float")
    ind = indicators_by_stage(result)
    ind = ind[ind["stage"] != "all"].drop_duplicates(["stage", "year", "metric"])
    if not ind.empty:
        wide = ind.pivot(index=["stage", "year"], columns="metric",
                         values=["value", "target", "met"])
        metrics = list(dict.fromkeys(ind["metric"]))
        flat = {"value": "{}", "target": "{}_target", "met": "{}_met"}
        wide.columns = [flat[v].format(m) for v, m in wide.columns]
        order = [flat[v].format(m) for m in metrics for v in ("value", "target", "met")]
        wide = wide[order].reset_index()
        for m in metrics:
            wide[m] = wide[m].astype("float")
            wide[f"{m}_target"] = wide[f"{m}_target"].astype("float")
            wide[f"{m}_met"] = wide[f"{m}_met"].astype("boolean")
        wide["stage"] = wide["stage"].astype("string")
        s = s.merge(wide.astype({"year": s["year"].dtype}), on=["stage", "year"], how="left")
    return _sort(s, ["stage", "year"], {"stage": stage_order(result, s["stage"])})


def shortfall_by_zone_view(result: "Result") -> pd.DataFrame:
    """Zone × stage × year: demand, served, shortfall, out_of_reach, in_reach_unserved."""
    f = _in_mode(result.shortfall, result.mode)
    f["stage"] = f["stage"].astype("string")
    f = _with_zone_names(f, result)
    f = f[["zone_id", "zone_name", "stage", "year", "demand", "served", "shortfall",
           "out_of_reach"]]
    f["in_reach_unserved"] = f["shortfall"] - f["out_of_reach"]
    return _sort(f, ["zone_id", "stage", "year"],
                 {"zone_id": _zone_order(result, f["zone_id"]),
                  "stage": stage_order(result, f["stage"])})


def standard_schools(classes: np.ndarray, sizes: tuple[int, ...]
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fewest standard-size schools holding ``classes`` (then fewest classes in them).

    Returns (schools, classes in those schools, mix text such as ``"1×36 + 1×24"``) per
    element. Exact (dynamic programme over class counts up to the largest one asked for).
    """
    classes = np.asarray(classes, dtype=int)
    top = int(classes.max(initial=0))
    sizes = tuple(sorted(set(int(s) for s in sizes), reverse=True))
    n_sch = np.zeros(top + 1, dtype=int)
    built = np.zeros(top + 1, dtype=int)
    counts = np.zeros((top + 1, len(sizes)), dtype=int)
    for c in range(1, top + 1):     # over class counts, not rows
        cands = [(n_sch[max(c - s, 0)] + 1, built[max(c - s, 0)] + s, j)
                 for j, s in enumerate(sizes)]
        n, b, j = min(cands)
        prev = max(c - sizes[j], 0)
        n_sch[c], built[c] = n, b
        counts[c] = counts[prev]
        counts[c, j] += 1
    mix = np.array([" + ".join(f"{k}×{s}" for k, s in zip(row, sizes) if k) for row in counts],
                   dtype=object)
    return n_sch[classes], built[classes], mix[classes]


def places_to_add_view(result: "Result", by_zone: pd.DataFrame | None = None) -> pd.DataFrame:
    """Zone × stage: peak shortfall and its year, whole classes and places to add, and
    standard-size schools to build (:data:`STANDARD_SCHOOL_CLASSES`).

    The peak year is the first year with the peak; it is empty when the zone never falls
    short. Places to add = ceil(peak shortfall ÷ class_size) × class_size.
    """
    f = shortfall_by_zone_view(result) if by_zone is None else by_zone
    peak = (f.sort_values(["shortfall", "year"], ascending=[False, True], kind="stable")
            .drop_duplicates(["zone_id", "stage"]))
    short = peak["shortfall"].astype("float").to_numpy()
    out = pd.DataFrame({
        "zone_id": peak["zone_id"], "zone_name": peak["zone_name"], "stage": peak["stage"],
        "peak_shortfall": short,
        "peak_year": peak["year"].astype("Int64").where(short > 0),
        "out_of_reach_in_peak_year": peak["out_of_reach"].astype("float").where(short > 0, 0.0),
    })
    size = _stage_setting(result, out["stage"], "class_size")
    # a tolerance so that 90.0000000001 pupils do not make a class of their own
    classes = np.ceil(np.maximum(out["peak_shortfall"], 0) / size - 1e-9)
    out["class_size"] = size.astype("Int64")
    out["classes_to_add"] = classes.astype("Int64")
    out["places_to_add"] = (classes * size).astype("Int64")
    out["schools_to_build"] = pd.Series(pd.NA, index=out.index, dtype="Int64")
    out["school_mix"] = pd.Series("", index=out.index, dtype="string")
    out["standard_classes"] = pd.Series(pd.NA, index=out.index, dtype="Int64")
    for stage, sizes in STANDARD_SCHOOL_CLASSES.items():   # over stages, not rows
        rows = (out["stage"] == stage) & out["classes_to_add"].notna()
        if rows.any():
            n, b, mix = standard_schools(out.loc[rows, "classes_to_add"].to_numpy(int), sizes)
            out.loc[rows, "schools_to_build"] = n
            out.loc[rows, "standard_classes"] = b
            out.loc[rows, "school_mix"] = mix
    return _sort(out, ["zone_id", "stage"],
                 {"zone_id": _zone_order(result, out["zone_id"]),
                  "stage": stage_order(result, out["stage"])})


def cost_view(result: "Result", places: pd.DataFrame | None = None) -> pd.DataFrame:
    """Places to add × cost per place, per zone × stage, with district totals."""
    p = places_to_add_view(result) if places is None else places
    c = p[["zone_id", "zone_name", "stage", "places_to_add"]].copy()
    c["cost_per_place_cny"] = _stage_setting(result, c["stage"], "cost_per_place")
    c["cost_cny"] = c["places_to_add"].astype("float") * c["cost_per_place_cny"]
    per_stage = c.groupby("stage", sort=False, as_index=False).agg(
        places_to_add=("places_to_add", lambda x: x.sum(min_count=1)),
        cost_per_place_cny=("cost_per_place_cny", "first"),
        cost_cny=("cost_cny", lambda x: x.sum(min_count=1)))
    per_stage = _sort(per_stage, ["stage"], {"stage": stage_order(result, per_stage["stage"])})
    grand = pd.DataFrame({"stage": ["all"],
                          "places_to_add": [per_stage["places_to_add"].sum(min_count=1)],
                          "cost_per_place_cny": [np.nan],
                          "cost_cny": [per_stage["cost_cny"].sum(min_count=1)]})
    totals = pd.concat([per_stage, grand], ignore_index=True).assign(
        zone_id=TOTAL_ID, zone_name=_TOTAL_NAME)
    c = pd.concat([c, totals[c.columns]], ignore_index=True)
    c["places_to_add"] = c["places_to_add"].astype("Int64")
    c["cost_cny"] = c["cost_cny"].astype("float")
    c["cost_wan_cny"] = c["cost_cny"] / 1e4
    c["cost_yi_cny"] = c["cost_cny"] / 1e8
    c["basis"] = cost_basis(c, "en")
    return c.astype({"zone_id": "string", "zone_name": "string", "stage": "string",
                     "basis": "string"})


def cost_basis(cost: pd.DataFrame, lang: str = "en") -> pd.Series:
    """The 'basis' text of each cost row: which setting the cost per place comes from."""
    zh = lang == "zh"
    cpp = cost["cost_per_place_cny"]
    value = cpp.map(lambda v: f"{v:,.0f}" if pd.notna(v) else "").astype("string")
    tail = " 元/学位（含情景调整）" if zh else " CNY per place (after scenario overrides)"
    basis = ("model.toml [stages." + cost["stage"].astype("string") + "] cost_per_place = "
             + value + tail)
    basis = basis.mask(cpp.isna(), "本次运行无该学段每学位成本" if zh else
                       "no cost_per_place for this stage in the run")
    return basis.mask(cost["stage"] == "all", "各学段合计之和" if zh else
                      "sum of the stage totals").astype("string")


CRITICALITY_COLUMNS = ["project_id", "name", "stage", "open_year", "extra_shortfall_if_dropped",
                       "extra_shortfall_if_dropped_peak",
                       "latest_open_year_without_extra_shortfall"]


def criticality_view(criticality: pd.DataFrame) -> pd.DataFrame:
    """The pipeline's project criticality, in :data:`CRITICALITY_COLUMNS` order (extra
    columns kept after them), most critical first."""
    missing = {"project_id", "extra_shortfall_if_dropped"} - set(criticality.columns)
    if missing:
        raise ValueError(f"criticality table lacks columns {sorted(missing)}")
    cols = [c for c in CRITICALITY_COLUMNS if c in criticality.columns]
    out = criticality[cols + [c for c in criticality.columns if c not in cols]].copy()
    for col in ("open_year", "latest_open_year_without_extra_shortfall"):
        if col in out.columns:
            out[col] = pd.to_numeric(out[col], errors="coerce").round().astype("Int64")
    return (out.sort_values(["extra_shortfall_if_dropped", "project_id"],
                            ascending=[False, True], kind="stable").reset_index(drop=True))


def budget_tables(result: "Result", criticality: pd.DataFrame | None = None
                  ) -> dict[str, pd.DataFrame]:
    """All budget views for the scenario's allocation mode (see the module docstring)."""
    by_zone = shortfall_by_zone_view(result)
    places = places_to_add_view(result, by_zone)
    views = {"summary": summary_view(result), "indicators": indicators_by_stage(result)
             .drop(columns="metric"), "shortfall_by_zone": by_zone,
             "places_to_add": places, "cost": cost_view(result, places)}
    if criticality is not None:
        views["criticality"] = criticality_view(criticality)
    return views


# ----------------------------------------------------------------------------- workbook

#: Excel number formats by kind.
NUMBER_FORMATS = {"count": "#,##0", "year": "0", "rate": "0.0%", "cny": "#,##0",
                  "wan": "#,##0.0", "yi": "#,##0.00", "size": "0"}

#: Kind of each known column (columns not listed: text, or counts when numeric).
COLUMN_KINDS = {
    "year": "year", "peak_year": "year", "open_year": "year", "worst_year": "year",
    "latest_open_year_without_extra_shortfall": "year",
    "shortfall_rate": "rate", "value": "rate", "target": "rate",
    "class_size": "size", "cost_per_place_cny": "cny", "cost_cny": "cny",
    "cost_wan_cny": "wan", "cost_yi_cny": "yi",
}


def column_kind(column: str) -> str | None:
    """Number-format kind of a column (None: let the value decide)."""
    if column in COLUMN_KINDS:
        return COLUMN_KINDS[column]
    base = column.removesuffix("_target")
    if base in L.INDICATORS or base.endswith(("_rate", "_coverage")):
        return "rate"
    return None


def _for_people(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Translate values (stages, modes, indicators, yes/no) and headers for a worksheet."""
    out = frame.copy()
    for col in out.columns:
        if col == "stage":
            out[col] = out[col].astype("string").map(lambda s: L.stage_label(s, lang)
                                                     if pd.notna(s) else s)
        elif col == "mode":
            out[col] = out[col].astype("string").map(lambda s: L.mode_label(s, lang)
                                                     if pd.notna(s) else s)
        elif col == "indicator":
            out[col] = out[col].astype("string").map(lambda s: L.indicator_label(s, lang)
                                                     if pd.notna(s) else s)
        elif col == "zone_name":
            out[col] = out[col].replace({_TOTAL_NAME: L.word("district_total", lang)})
        elif col == "met" or col.endswith("_met"):
            b = _as_bool(out[col])
            out[col] = b.map({True: L.word("yes", lang), False: L.word("no", lang)}
                             ).astype("string")
    # pandas' Excel writer wants plain NaN/None, not pd.NA
    out = out.astype({c: "float" for c in out.columns
                      if str(out[c].dtype) in ("Int64", "Float64")})
    out = out.astype({c: "object" for c in out.columns if str(out[c].dtype) in
                      ("string", "str", "boolean")}).where(out.notna(), None)
    out.columns = [L.column_label(c, lang) for c in frame.columns]
    return out


def _text_width(values: pd.Series) -> int:
    """Display width of the longest text (CJK characters count double)."""
    s = values.dropna().astype("string")
    if s.empty:
        return 0
    return int((s.str.len() + s.str.count(r"[\u2e80-\uffff]")).max())


def _format_sheet(ws, frame: pd.DataFrame, shown: pd.DataFrame,
                  formats: Mapping[str, str | None], bold_rows: pd.Series | None) -> None:
    """Bold wrapped header, frozen header row, filter, number formats, fitted widths."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    header_font, fill = Font(bold=True), PatternFill("solid", fgColor="DDE5F0")
    wrap = Alignment(wrap_text=True, vertical="top")
    for cell in ws[1]:
        cell.font, cell.fill, cell.alignment = header_font, fill, wrap
    ws.freeze_panes = "A2"
    if ws.max_row > 1:
        ws.auto_filter.ref = ws.dimensions
    for j, col in enumerate(frame.columns, start=1):
        values = frame[col]
        kind = formats.get(col) or column_kind(col)
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if kind is None and numeric:
            kind = "count"
        fmt = NUMBER_FORMATS.get(kind) if kind else None
        if fmt:
            for (cell,) in ws.iter_rows(min_row=2, max_row=ws.max_row, min_col=j, max_col=j):
                cell.number_format = fmt
        if numeric and values.notna().any():
            big = float(np.nanmax(np.abs(values.astype("float"))))
            width = len(f"{big:,.2f}") + 1 if kind in ("rate", "yi", "wan") else \
                len(f"{big:,.0f}") + 1
        else:
            width = _text_width(shown.iloc[:, j - 1])
        header = _text_width(pd.Series([shown.columns[j - 1]]))
        ws.column_dimensions[get_column_letter(j)].width = min(
            max(width, min(header, 24), 6) + 2, 60)
    if bold_rows is not None and bold_rows.any():
        bold = Font(bold=True)
        for i in np.flatnonzero(bold_rows.to_numpy(bool)):
            for cell in ws[int(i) + 2]:
                cell.font = bold


def write_workbook(path: str | Path, views: Mapping[str, pd.DataFrame], *, lang: str = "en",
                   notes: list[tuple[str, str]] | None = None,
                   formats: Mapping[str, Mapping[str, str | None]] | None = None,
                   bold_rows: Mapping[str, pd.Series] | None = None) -> Path:
    """Write ``views`` (one sheet each, labelled in ``lang``) and a notes sheet to ``path``.

    Written to a temporary file first and renamed, so a failure leaves no broken workbook.
    ``formats`` maps view → column → number-format kind (:data:`NUMBER_FORMATS`) to override
    the defaults; ``bold_rows`` maps view → boolean mask of rows to bolden (totals).
    """
    from openpyxl.styles import Alignment, Font

    L.check_lang(lang)
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    formats, bold_rows = formats or {}, bold_rows or {}
    try:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
            if notes is not None:
                readme = pd.DataFrame(notes, columns=[L.word("item", lang),
                                                      L.word("description", lang)])
                name = L.sheet_label("readme", lang)
                readme.to_excel(xw, sheet_name=name, index=False)
                ws = xw.sheets[name]
                for cell in ws[1]:
                    cell.font = Font(bold=True)
                ws.freeze_panes = "A2"
                ws.column_dimensions["A"].width = 28
                ws.column_dimensions["B"].width = 110
                for row in ws.iter_rows(min_row=2):
                    for cell in row:
                        cell.alignment = Alignment(wrap_text=True, vertical="top")
            for view, frame in views.items():
                shown = _for_people(frame, lang)
                name = L.sheet_label(view, lang)
                shown.to_excel(xw, sheet_name=name, index=False)
                _format_sheet(xw.sheets[name], frame, shown, formats.get(view, {}),
                              bold_rows.get(view))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def budget_notes(result: "Result", views: Mapping[str, pd.DataFrame], lang: str = "en"
                 ) -> list[tuple[str, str]]:
    """README rows: the run, each view, and the assumptions (stage settings, school sizes)."""
    zh = lang == "zh"
    m = result.manifest
    years = result.summary["year"]
    rows = [
        ("情景" if zh else "Scenario", str(result.name)),
        ("模型" if zh else "Model", str(m.get("model", ""))),
        ("分配方式" if zh else "Allocation mode",
         f"{L.mode_label(result.mode, lang)} ({result.mode})"),
        ("年份" if zh else "Years", f"{int(years.min())}–{int(years.max())}"),
    ]
    rows += [(L.sheet_label(v, lang), VIEW_NOTES[v][lang]) for v in views if v in VIEW_NOTES]
    for stage, cfg in result.stages.items():
        sizes = STANDARD_SCHOOL_CLASSES.get(stage, ())
        cs = cfg.get("class_size")
        std = ", ".join(f"{n}" + (f" ({n * cs:,})" if cs else "") for n in sizes) or "—"
        cost = cfg.get("cost_per_place")
        cost_txt = f"{cost:,.0f}" if cost is not None else "—"
        if zh:
            text = (f"班额 {cs} 人/班；每学位成本 {cost_txt} 元（model.toml [stages.{stage}] "
                    f"cost_per_place，含情景调整）；服务半径 {cfg.get('radius_m')} 米；"
                    f"入学比例 {cfg.get('enrolment')}；标准学校规模（班，括号内为学位）：{std}。")
        else:
            text = (f"class size {cs} pupils; cost per place {cost_txt} CNY (model.toml "
                    f"[stages.{stage}] cost_per_place, after scenario overrides); service "
                    f"radius {cfg.get('radius_m')} m; enrolment {cfg.get('enrolment')}; "
                    f"standard school sizes (classes, places in brackets): {std}.")
        rows.append((L.stage_label(stage, lang), text))
    rows.append(("标准学校规模来源" if zh else "Standard school sizes",
                 "幼儿园：《幼儿园工作规程》(2016) 一般不超过360人（12班×30）；小学：北京新建小学"
                 "24班/960学位、36班/1440学位；初中：24班；高中：66班完全中学中的高中部30班。"
                 if zh else
                 "kindergarten: 幼儿园工作规程 (2016), at most 360 children (12 classes × 30); "
                 "primary: Beijing new primaries of 24 classes (960 places) and 36 classes "
                 "(1440 places); junior: 24 classes; senior: the 30-class senior section of "
                 "66-class complete secondaries. Places = classes × the run's class size."))
    return rows


def write_budget(result: "Result", folder: str | Path, *, lang: str = "en",
                 criticality: pd.DataFrame | None = None) -> Path:
    """Write ``budget.xlsx`` and ``budget_<view>.csv`` into ``folder``; return the workbook.

    Usable as a ``Result.write`` writer: ``writers=[write_budget]``.
    """
    L.check_lang(lang)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    views = budget_tables(result, criticality)
    for view, frame in views.items():
        frame.to_csv(folder / f"budget_{view}.csv", index=False)
    shown = dict(views)
    shown["cost"] = views["cost"].assign(basis=cost_basis(views["cost"], lang))
    return write_workbook(folder / "budget.xlsx", shown, lang=lang,
                          notes=budget_notes(result, views, lang),
                          bold_rows={"cost": views["cost"]["zone_id"] == TOTAL_ID})
