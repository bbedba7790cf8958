"""Budget tables: where and when places are short, what to build, and what it costs.

Every view is computed from one run's tables (their columns: docs/outputs.md) for the
scenario's allocation mode (``result.mode``) and written both as machine-readable CSV
(``budget_<view>.csv``, English snake_case columns) and as a workbook for people
(``budget.xlsx``, English or Chinese labels: :mod:`.workbook`, texts in ``text/*.toml``).

Views (columns in order):

- ``summary`` — stage × year: stage, year, year_status, demand, places, served, shortfall, out_of_reach,
  in_reach_unserved (= shortfall − out_of_reach: schools in reach are full), shortfall_rate
  (shortfall ÷ demand), then for each indicator of the stage ``<metric>``,
  ``<metric>_target``, ``<metric>_met`` (see :func:`indicators_by_stage`).
- ``indicators`` — indicators.csv with the stage each indicator concerns: year, indicator,
  stage, value, target, met (nearby enrolment: the run's compulsory stages,
  ``Result.compulsory_stages``).
- ``shortfall_by_zone`` — zone × stage × year: zone_id, zone_name, stage, year, demand,
  served, shortfall, out_of_reach, in_reach_unserved.
- ``places_to_add`` — zone × stage: zone_id, zone_name, stage, peak_shortfall, peak_year,
  out_of_reach_in_peak_year, class_size, classes_to_add, places_to_add (the need, not what
  to build).
- ``cost``, ``recommendation``, ``cost_by_year`` — the one costing (:mod:`.recommend`): the
  action list with its totals (:mod:`.money_views`), the decision units' diagnosis, and the
  money by year, each year marked observed / estimated / projected.
- ``data_basis``, ``modes`` — inputs marked as estimates; the shortfall under each mode.
- ``criticality`` (only when the pipeline passes it): project_id, name, stage, open_year,
  extra_shortfall_if_dropped (pupil-years over the horizon), extra_shortfall_if_dropped_peak
  (pupils, in the peak year), latest_open_year_without_extra_shortfall.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from . import labels as L
from .catchment import names_of
from .frames import as_bool, in_mode, mode_shortfalls, sort_by, with_names
from .grades_section import grade_views
from .money_views import (TOTAL_ID, TOTAL_NAME, by_year_formulas, cost_formulas,  # noqa: F401
                          cost_view, money_sheets, with_total, year_words)
from .recommend import costing, data_basis_view, read_rules, result_years
from .workbook import write_workbook
from ..plan.params import STANDARD_SCHOOL_CLASSES  # noqa: F401  (re-exported)
from ..staffing import shortfall_classes
from ..years import year_status

if TYPE_CHECKING:
    from ..result import Result


# ----------------------------------------------------------------------------- helpers


def multi_stage_indicators(result: "Result") -> dict[str, list[str]]:
    """Indicators without a stage in their name that concern several stages, and those
    stages: nearby enrolment concerns the run's compulsory stages."""
    return {"nearby_enrolment_rate": result.compulsory_stages}

def stage_order(result: "Result", present: pd.Series | None = None) -> list[str]:
    """Stages in teaching order: the model's stages, then the standard ones, then the rest."""
    order = list(dict.fromkeys([*result.stages, *L.STAGES]))
    if present is not None:
        extra = sorted(set(present.dropna().astype(str)) - set(order))
        order += extra
    return order


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
    ``inclusive_coverage``). Indicators of :func:`multi_stage_indicators` (nearby enrolment:
    the run's compulsory stages) get one row per stage they concern; any other indicator
    gets stage ``all``.
    """
    ind = result.tables.get("indicators")
    cols = ["year", "indicator", "stage", "metric", "value", "target", "met"]
    if ind is None or ind.empty:
        return pd.DataFrame({c: pd.Series(dtype="float" if c in ("value", "target") else
                                          "string") for c in cols})
    ind = ind.copy()
    ind["indicator"] = ind["indicator"].astype("string")
    ind["met"] = as_bool(ind["met"]) if "met" in ind.columns else pd.NA
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
    per_stage = set(metric[stage.notna()])   # e.g. primary_nearby_enrolment_rate: the
    multi = pd.DataFrame([(k, s) for k, v in multi_stage_indicators(result).items()
                          if k not in per_stage for s in v],   # combined one stays "all"
                         columns=["indicator", "multi_stage"]).astype("string")
    ind = ind.merge(multi, on="indicator", how="left")
    ind["stage"] = ind["stage"].fillna(ind["multi_stage"]).fillna("all")
    ind = ind[cols]
    return sort_by(ind, ["year", "stage", "indicator"], {"stage": [*stage_order(result), "all"]})


def summary_view(result: "Result") -> pd.DataFrame:
    """Stage × year totals for the scenario's mode, with the stage's indicators vs targets."""
    s = in_mode(result.summary, result.mode)
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
    s = sort_by(s, ["stage", "year"], {"stage": stage_order(result, s["stage"])})
    return with_year_status(s, result)


def modes_view(result: "Result") -> pd.DataFrame:
    """Stage × year: the shortfall under nearest, designed (when the run has a map) and
    optimal side by side (:func:`.frames.mode_shortfalls`)."""
    s = mode_shortfalls(result.summary)
    s = sort_by(s, ["stage", "year"], {"stage": stage_order(result, s["stage"])})
    return with_year_status(s, result)


def with_year_status(frame: pd.DataFrame, result: "Result") -> pd.DataFrame:
    """``frame`` (columns stage, year) with ``year_status`` after ``year``: observed,
    estimated or projected for the row's stage (:func:`capacity.years.year_status`)."""
    if frame.empty or "year" not in frame.columns:
        return frame.assign(year_status=pd.Series(dtype="string"))
    base, model, _ = result_years(result)
    status = pd.Series(pd.NA, index=frame.index, dtype="string")
    for stage, rows in frame.groupby("stage", sort=False).groups.items():
        marks = year_status(frame.loc[rows, "year"], model, base, stage=str(stage))
        status[rows] = frame.loc[rows, "year"].map(marks)
    out = frame.copy()
    out.insert(list(out.columns).index("year") + 1, "year_status", status)
    return out


def shortfall_by_zone_view(result: "Result") -> pd.DataFrame:
    """Zone × stage × year: demand, served, shortfall, out_of_reach, in_reach_unserved."""
    f = in_mode(result.shortfall, result.mode)
    f["stage"] = f["stage"].astype("string")
    f = _with_zone_names(f, result)
    f = f[["zone_id", "zone_name", "stage", "year", "demand", "served", "shortfall",
           "out_of_reach"]]
    f["in_reach_unserved"] = f["shortfall"] - f["out_of_reach"]
    return sort_by(f, ["zone_id", "stage", "year"],
                 {"zone_id": _zone_order(result, f["zone_id"]),
                  "stage": stage_order(result, f["stage"])})


def places_to_add_view(result: "Result", by_zone: pd.DataFrame | None = None) -> pd.DataFrame:
    """Zone × stage: peak shortfall and its year, and the whole classes and places it
    needs (the need, not what to build: that is the action list, :func:`.recommend.costing`).

    The peak year is the first year with the peak; it is empty when the zone never falls
    short. Classes to add are formed per grade (the zone's grade mix in the peak year,
    :func:`capacity.staffing.shortfall_classes`); places to add = classes × class_size.
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
    classes = pd.Series(shortfall_classes(
        result.zone_grades, pd.DataFrame({"zone_id": out["zone_id"], "stage": out["stage"],
                                          "year": peak["year"], "pupils": short}),
        size.to_numpy()), index=out.index)
    out["class_size"] = size.astype("Int64")
    out["classes_to_add"] = classes.astype("Int64")
    out["places_to_add"] = (classes * size).astype("Int64")
    return sort_by(out, ["zone_id", "stage"],
                 {"zone_id": _zone_order(result, out["zone_id"]),
                  "stage": stage_order(result, out["stage"])})


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
    rec, actions, by_year = costing(result, by_zone)       # the one list of actions
    views = {"summary": summary_view(result), "indicators": indicators_by_stage(result)
             .drop(columns="metric"), "shortfall_by_zone": by_zone,
             "places_to_add": places_to_add_view(result, by_zone),
             "cost": cost_view(actions, stage_order(result, actions["stage"])),
             "recommendation": rec, "cost_by_year": by_year}
    views["data_basis"] = data_basis_view(result)
    views["modes"] = modes_view(result)
    if criticality is not None:
        views["criticality"] = criticality_view(criticality)
    return views


# ----------------------------------------------------------------------------- workbook


def targets_year(result: "Result") -> int | None:
    """The year of the model's ``[targets]`` (manifest), or None."""
    year = (result.manifest.get("targets") or {}).get("year")
    return int(year) if year is not None else None


def budget_notes(result: "Result", views: Mapping[str, pd.DataFrame], lang: str = "en"
                 ) -> list[tuple[str, str]]:
    """README rows: the run, each view, and the assumptions (stage settings, school sizes)."""
    def readme(key: str) -> str:
        return L.text("budget_readme", key, lang)

    years = result.summary["year"]
    rows = [
        (readme("scenario"), str(result.name)),
        (readme("model"), str(result.manifest.get("model", ""))),
        (readme("mode"), f"{L.mode_label(result.mode, lang)} ({result.mode})"),
        (readme("years"), f"{int(years.min())}–{int(years.max())}"),
    ]
    target = L.targets_phrase(targets_year(result), lang)
    rows += [(L.sheet_label(v, lang), L.text("budget_notes", v, lang, the_target=target))
             for v in views if v in L.TEXTS[lang]["budget_notes"]]
    for stage, cfg in result.stages.items():
        sizes = STANDARD_SCHOOL_CLASSES.get(stage, ())
        cs = cfg.get("class_size")
        std = ", ".join(f"{n}" + (f" ({n * cs:,})" if cs else "") for n in sizes) or "—"
        cost = cfg.get("cost_per_place")
        rows.append((L.stage_label(stage, lang), L.text(
            "budget_readme", "stage_settings", lang, class_size=cs, stage=stage, sizes=std,
            cost=f"{cost:,.0f}" if cost is not None else "—", radius_m=cfg.get("radius_m"),
            enrolment=cfg.get("enrolment"))))
    rows.append((readme("school_sizes"), readme("school_sizes_source")))
    base, model, start = result_years(result)
    rules = read_rules(model)
    rows.append((readme("start_year"), readme("start_year_note").format(start=start)))
    rows.append((readme("rule_of_thumb"), readme("rule_of_thumb_note").format(
        district=", ".join(L.stage_label(s, lang) for s in rules.district_stages) or "—",
        share=f"{rules.new_school_min_share:g}", lead=rules.expansion_build_years)))
    if "modes" in views and "shortfall_designed" not in views["modes"].columns:
        rows.append((L.sheet_label("modes", lang), readme("modes_hint")))
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
    bom = bool(result.manifest.get("csv_bom"))      # --csv-bom / [report] csv_bom
    for view, frame in views.items():
        frame.to_csv(folder / f"budget_{view}.csv", index=False,
                     encoding="utf-8-sig" if bom else "utf-8")
    # zone and project names in the language: name_zh in Chinese (capacity/names.py)
    zones, projects = names_of(result, "zone", lang), names_of(result, "project", lang)
    shown = {view: year_words(with_names(frame, zones, projects), lang)
             for view, frame in views.items()}
    shown["shortfall_by_zone"] = shortfall_by_zone_sheet(shown["shortfall_by_zone"])
    grades = grade_views(result, lang)                   # intake, staffing, shrinking
    shown.update(grades)
    shown["cost"], shown["cost_by_year"], shown["recommendation"] = money_sheets(
        shown["cost"], with_total(shown["cost_by_year"]), shown["recommendation"], lang)
    cost, by_year = shown["cost"], shown["cost_by_year"]
    return write_workbook(folder / "budget.xlsx", shown, lang=lang,
                          notes=budget_notes(result, {**views, **grades}, lang),
                          bold_rows={"cost": cost["id"] == TOTAL_ID,
                                     "cost_by_year": by_year["stage"] == "all"},
                          formulas={"cost": cost_formulas(cost),
                                    "cost_by_year": by_year_formulas(by_year)})


def shortfall_by_zone_sheet(by_zone: pd.DataFrame) -> pd.DataFrame:
    """The workbook's shortfall-by-zone sheet: one row per zone × stage, one shortfall column
    per year (a long zone × stage × year table prints on dozens of pages; the CSV keeps it)."""
    if by_zone.empty:
        return by_zone
    wide = by_zone.pivot_table(index=["zone_id", "zone_name", "stage"], columns="year",
                               values="shortfall", aggfunc="sum", sort=False)
    wide.columns = [str(int(y)) for y in wide.columns]
    return wide.reset_index().astype({"zone_id": "string", "zone_name": "string",
                                      "stage": "string"})


