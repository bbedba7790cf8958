"""Scenario comparison (``capacity compare``): shortfall, worst-year zones and indicators
of several runs side by side, each run in its own allocation mode (``result.mode``).

Tables (columns in order):

- ``shortfall`` — stage, year, then one column per scenario (named by the scenario): the
  district shortfall (pupils) in that scenario's mode. Years one run lacks are empty.
- ``worst_year_zones`` — one row per scenario × stage × zone: stage, scenario, mode,
  worst_year, district_shortfall, zone_id, zone_name, demand, served, shortfall,
  out_of_reach, in_reach_unserved. The worst year of a stage, per scenario, is the year
  of the largest district shortfall of that stage in that scenario's mode (the earliest such
  year on ties, so the first year when no year falls short); the zones are shown in that year.
- ``indicators`` — indicator, year, target, then one column per scenario: the value.
- ``costs`` — one row per scenario: its key projects' capital and its run's budget total
  (:mod:`.compare_costs`).
- ``cost`` — stage, kind, then one column per scenario: the run's one costing (CNY,
  :func:`.recommend.costing`, the same rule and total as each run's budget.xlsx), one row
  per stage × kind of action, a total per stage (kind ``all``) and for all stages
  (stage ``all``).
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError, Problem
from ..result import Result
from . import labels as L
from .budget import shortfall_by_zone_view, targets_year
from .catchment import names_of
from .compare_costs import costs_table
from .frames import in_mode, sort_by, with_names
from .recommend import KINDS, costing
from .workbook import write_workbook

#: Files written by :func:`write_compare`.
COMPARE_FILES = ("compare_shortfall.csv", "compare_worst_year_zones.csv",
                 "compare_indicators.csv", "compare_costs.csv", "compare_cost.csv",
                 "compare.xlsx")

_RESERVED = {"stage", "year", "indicator", "target"}


def _where(result: Result) -> str:
    return str(result.path) if result.path is not None else f"<run {result.name!r}>"


def check_names(results: Sequence[Result]) -> list[str]:
    """Scenario names, which must be unique (InputError naming the folders otherwise)."""
    if not results:
        raise InputError.single("compare", "no runs to compare",
                                expected="one or more run folders")
    names = pd.Series([r.name for r in results], dtype="string")
    problems = []
    for name in names[names.duplicated()].unique():
        folders = [_where(r) for r in results if r.name == name]
        problems += [Problem(f, f"scenario name {name!r} is shared by the runs in "
                             + ", ".join(folders),
                             expected="runs of scenarios with different names") for f in folders]
    problems += [Problem(_where(r), f"scenario name {r.name!r} clashes with a column name",
                         expected=f"a name other than {sorted(_RESERVED)}")
                 for r in results if r.name in _RESERVED]
    if problems:
        raise InputError(problems)
    return list(names)


def _stages(results: Sequence[Result], present: pd.Series) -> list[str]:
    order = list(dict.fromkeys([s for r in results for s in r.stages] + list(L.STAGES)))
    return order + sorted(set(present.dropna().astype(str)) - set(order))


def compare(results: Sequence[Result]) -> dict[str, pd.DataFrame]:
    """``shortfall``, ``worst_year_zones``, ``indicators`` and ``costs`` side by side
    (module docstring)."""
    names = check_names(results)
    summaries = pd.concat(
        [in_mode(r.summary, r.mode)[["stage", "year", "shortfall"]]
         .assign(scenario=r.name, mode=r.mode) for r in results], ignore_index=True)
    summaries["stage"] = summaries["stage"].astype("string")
    stages = _stages(results, summaries["stage"])

    wide = (summaries.drop_duplicates(["scenario", "stage", "year"])
            .pivot(index=["stage", "year"], columns="scenario", values="shortfall")
            .reindex(columns=names).reset_index())
    wide.columns.name = None
    shortfall = sort_by(wide.astype({"stage": "string"}), ["stage", "year"], {"stage": stages})

    worst = (summaries.sort_values(["shortfall", "year"], ascending=[False, True], kind="stable")
             .drop_duplicates(["scenario", "stage"])
             .rename(columns={"year": "worst_year", "shortfall": "district_shortfall"}))
    zones = pd.concat([shortfall_by_zone_view(r).assign(scenario=r.name) for r in results],
                      ignore_index=True)
    wz = zones.merge(worst, left_on=["scenario", "stage", "year"],
                     right_on=["scenario", "stage", "worst_year"])
    zone_order = list(dict.fromkeys(zones["zone_id"]))
    wz = sort_by(wz[["stage", "scenario", "mode", "worst_year", "district_shortfall",
                     "zone_id", "zone_name", "demand", "served", "shortfall", "out_of_reach",
                     "in_reach_unserved"]],
                 ["stage", "scenario", "zone_id"],
                 {"stage": stages, "scenario": names, "zone_id": zone_order})

    frames = [r.tables["indicators"][["year", "indicator", "value", "target"]]
              .assign(scenario=r.name) for r in results if "indicators" in r.tables]
    if frames:
        ind = pd.concat(frames, ignore_index=True)
        ind["indicator"] = ind["indicator"].astype("string")
        ind = ind.drop_duplicates(["scenario", "indicator", "year"])
        ind[["value", "target"]] = ind[["value", "target"]].apply(pd.to_numeric,
                                                                  errors="coerce")
        values = ind.pivot(index=["indicator", "year"], columns="scenario",
                           values="value").reindex(columns=names)
        target = ind.groupby(["indicator", "year"])["target"].first()
        indicators = pd.concat([target, values], axis=1).reset_index()
        indicators.columns.name = None
        order = list(dict.fromkeys(ind["indicator"]))
        indicators = sort_by(indicators, ["indicator", "year"], {"indicator": order})
    else:
        indicators = pd.DataFrame(columns=["indicator", "year", "target", *names])
    return {"shortfall": shortfall, "worst_year_zones": wz, "indicators": indicators,
            "costs": costs_table(results), "cost": compare_cost(results, names, stages)}


def compare_cost(results: Sequence[Result], names: list[str], stages: list[str]
                 ) -> pd.DataFrame:
    """Stage × kind of action, one column of cost (CNY) per scenario, with totals."""
    frames = [costing(r, shortfall_by_zone_view(r))[1].assign(scenario=r.name)
              for r in results]
    acts = pd.concat(frames, ignore_index=True)
    long = acts.groupby(["stage", "kind", "scenario"], as_index=False)["cost_cny"].sum()
    per_stage = long.groupby(["stage", "scenario"], as_index=False)["cost_cny"].sum()
    grand = long.groupby("scenario", as_index=False)["cost_cny"].sum().assign(stage="all")
    long = pd.concat([long, per_stage.assign(kind="all"), grand.assign(kind="all")],
                     ignore_index=True)
    wide = long.pivot(index=["stage", "kind"], columns="scenario", values="cost_cny") \
        .reindex(columns=names).fillna(0.0).reset_index()
    wide.columns.name = None
    return sort_by(wide.astype({"stage": "string", "kind": "string"}), ["stage", "kind"],
                   {"stage": [*stages, "all"], "kind": [*KINDS, "all"]})


def _notes(results: Sequence[Result], lang: str) -> list[tuple[str, str]]:
    rows = [(r.name, f"{_where(r)} — {L.mode_label(r.mode, lang)} ({r.mode})") for r in results]
    years = sorted({y for r in results if (y := targets_year(r)) is not None})
    targets = L.targets_phrase("/".join(map(str, years)) if years else None, lang, plan=True)
    rows += [(L.sheet_label(key, lang), L.text("compare_notes", key, lang,
                                               plan_targets=targets))
             for key in ("shortfall", "worst_year_zones", "indicators", "costs", "cost")]
    return rows


def _write_into(tables: dict[str, pd.DataFrame], names: list[str], folder: Path,
                results: Sequence[Result], lang: str) -> None:
    for key, frame in tables.items():
        frame.to_csv(folder / f"compare_{key}.csv", index=False)
    formats = {"shortfall": {n: "count" for n in names},
               "indicators": {n: "rate" for n in names},
               "costs": {"key_projects": "count", "key_project_places": "count",
                         "key_project_capital_cny": "cny", "budget_total_cny": "cny",
                         "budget_total_yi_cny": "yi"},
               "cost": {n: "cny" for n in names}}
    zones: dict[str, str] = {}
    for r in results:                     # name_zh in Chinese (capacity/names.py)
        zones.update(names_of(r, "zone", lang))
    shown = {k: with_names(v, zones, {}) for k, v in tables.items()}
    write_workbook(folder / "compare.xlsx", shown, lang=lang, notes=_notes(results, lang),
                   formats=formats)


def write_compare(results: Sequence[Result], out_dir: str | Path, *, lang: str = "en") -> Path:
    """Write the comparison into ``out_dir`` (CSV + ``compare.xlsx``); return it.

    Nothing is written outside ``out_dir``: the files are built in a hidden folder inside it
    (``.compare.XXXX``; one left by a killed run is removed by the next) and each is moved
    into place with an atomic rename (capacity.runfolder.atomic_files), so a reader sees
    either the old or the new file and other files in the folder are left alone.
    """
    from ..runfolder import atomic_files, check_out_dir

    L.check_lang(lang)
    tables = compare(results)
    names = [r.name for r in results]
    final = check_out_dir(out_dir)
    with atomic_files(final, "compare") as tmp:
        _write_into(tables, names, tmp, results, lang)
    return final


def _fmt(value: object, kind: str) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "-"
    if kind == "rate":
        return f"{float(value):.1%}"
    if kind == "year":
        return f"{int(value)}"
    if kind == "count":
        return f"{float(value):,.0f}"
    return str(value)


def _text_table(header: list[str], rows: list[list[str]], align: str | None = None) -> str:
    """Fixed-width table; ``align`` is one letter (l/r) per column, default ``lrr…``."""
    widths = [max([len(h), *(len(r[j]) for r in rows)]) for j, h in enumerate(header)]
    align = align or "l" + "r" * (len(header) - 1)

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if align[j] == "l" else c.rjust(w)
                         for j, (c, w) in enumerate(zip(cells, widths))).rstrip()
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def format_compare(tables: dict[str, pd.DataFrame], lang: str = "en") -> str:
    """Plain-text tables for the terminal: shortfall by year per stage, the worst years,
    the indicators, one column per scenario, and the costs per scenario (in ``lang``)."""
    short = tables["shortfall"]
    names = [c for c in short.columns if c not in ("stage", "year")]
    parts = []
    for stage, block in short.groupby("stage", sort=False):    # over stages, not rows
        rows = [[_fmt(y, "year"), *(_fmt(v, "count") for v in vals)]
                for y, vals in zip(block["year"], block[names].to_numpy())]
        parts.append(f"Shortfall (pupils), {L.stage_label(str(stage))}\n"
                     + _text_table(["year", *names], rows))
    wz = tables.get("worst_year_zones")
    if wz is not None and not wz.empty:
        worst = wz.drop_duplicates(["stage", "scenario"])
        top = (wz.sort_values("shortfall", ascending=False, kind="stable")
               .drop_duplicates(["stage", "scenario"]).set_index(["stage", "scenario"]))
        rows = [[L.stage_label(st), sc, md, _fmt(y, "year"), _fmt(d, "count"),
                 f"{top.loc[(st, sc), 'zone_name']} ({_fmt(top.loc[(st, sc), 'shortfall'], 'count')})"]
                for st, sc, md, y, d in worst[["stage", "scenario", "mode", "worst_year",
                                               "district_shortfall"]].itertuples(index=False)]
        parts.append("Worst year per stage\n" + _text_table(
            ["stage", "scenario", "mode", "worst year", "shortfall", "worst zone (shortfall)"],
            rows, align="lllrrl"))
    ind = tables.get("indicators")
    if ind is not None and not ind.empty:
        rows = [[L.indicator_label(str(i)), _fmt(y, "year"), _fmt(t, "rate"),
                 *(_fmt(v, "rate") for v in vals)]
                for i, y, t, vals in zip(ind["indicator"], ind["year"], ind["target"],
                                         ind[names].to_numpy(dtype=float))]
        parts.append("Indicators\n" + _text_table(["indicator", "year", "target", *names], rows))
    costs = tables.get("costs")
    if costs is not None and not costs.empty:
        cols = ["key_projects", "key_project_places", "key_project_capital_cny",
                "budget_total_cny"]
        rows = [[str(sc), *(_fmt(v, "count") for v in vals)]
                for sc, vals in zip(costs["scenario"], costs[cols].to_numpy(dtype=float))]
        parts.append(L.text("patterns", "compare_costs_title", lang) + "\n" + _text_table(
            [L.column_label("scenario", lang), *(L.column_label(c, lang) for c in cols)],
            rows))
    cost = tables.get("cost")
    if cost is not None and not cost.empty:
        rows = [[L.stage_label(str(st)), L.word(str(k)) if k != "all" else "total",
                 *(f"{v / 1e8:,.2f}" for v in vals)]
                for st, k, vals in zip(cost["stage"], cost["kind"], cost[names].to_numpy(float))]
        parts.append("Cost (100 million CNY, 亿元), rule of thumb\n"
                     + _text_table(["stage", "kind", *names], rows, align="llr" + "r" * len(names)))
    return "\n\n".join(parts) + "\n"
