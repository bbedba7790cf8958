"""The plan's section for people, in English or Chinese: the tables (summary per stage,
options, spending by year, candidates) labelled from ``text/<lang>.toml`` [plan_report],
``plan.xlsx`` through the shared writer (:mod:`.workbook`: print setup, formula-injection
safety, reproducible zip); plan_map.png is :mod:`.plan_map`'s."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from ..names import display_names, names_table
from . import labels as L
from .money import WAN, YI, money  # (亿元, 万元: one home)
from .workbook import write_workbook


def t(key: str, lang: str, **fields: Any) -> str:
    """A [plan_report] text in ``lang``."""
    return L.text("plan_report", key, lang, **fields)


def plan_console(summary: pd.DataFrame, folder: Any, lang: str) -> str:
    """What ``capacity plan`` prints: the folder, then one line per stage (schools, places,
    capital, expansions, temporary places, transport, unserved before → after, gap), in ``lang``
    (text/<lang>.toml [plan_console])."""
    lines = [L.text("plan_console", "wrote", lang, folder=folder)]
    for r in summary.itertuples():
        stage = r.stage if lang == "en" else L.stage_label(str(r.stage), lang)
        lines.append("  " + L.text(
            "plan_console", "stage", lang, stage=stage, schools=r.new_schools,
            places=f"{r.new_places:,}", capital=money(r.capital_cny, lang),
            expansions=r.expansions, expansion_places=f"{r.expansion_places:,}",
            expansion_capital=money(r.expansion_cny, lang),
            temporary=f"{r.temporary_place_years:,.0f}",
            transport=f"{r.transport_pupil_years:,.0f}", before=f"{r.unserved_before:,}",
            after=f"{r.unserved_after:,.0f}", unreachable=f"{r.unreachable:,.0f}",
            gap=f"{r.gap:.1%}", basis=t(f"basis_{r.gap_basis}", lang)))
    return "\n".join(lines)


def kind_label(kind: str, lang: str) -> str:
    """``new`` / ``temporary`` / ``transport`` for people."""
    return t(f"kind_{kind}", lang)


def _stage(s: pd.Series, lang: str) -> pd.Series:
    return s.astype(str).map(lambda v: L.stage_label(v, lang))


def _label(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    return frame.rename(columns={c: t(f"col_{c}", lang) for c in frame.columns})


def summary_view(summary: pd.DataFrame, lang: str) -> pd.DataFrame:
    """One row per stage: schools, places, costs in 亿元, unserved before/after, gap."""
    s = summary
    out = pd.DataFrame({
        "stage": _stage(s["stage"], lang), "new_schools": s["new_schools"],
        "new_places": s["new_places"], "capital": s["capital_cny"] / YI,
        "expansions": s["expansions"], "expansion_places": s["expansion_places"],
        "expansion_capital": s["expansion_cny"] / YI,
        "temporary_place_years": s["temporary_place_years"],
        "temporary": s["temporary_cny"] / WAN,
        "transport_pupil_years": s["transport_pupil_years"],
        "transport": s["transport_cny"] / WAN, "total": s["total_cny"] / YI,
        "unserved_before": s["unserved_before"], "unserved_after": s["unserved_after"],
        "unreachable": s["unreachable"], "gap": s["gap"],
        "gap_basis": s["gap_basis"].map(lambda b: t(f"basis_{b}", lang)),
        "status": s["status"].map(lambda v: t("status_" + str(v).replace(" ", "_"), lang)),
        "unique": s["unique"].map(lambda u: t(f"unique_{str(u).lower()}", lang)
                                  if str(u).lower() in ("true", "false") else "–")})
    return _label(out, lang)


#: id → name shown, per kind ("school", "zone", "project"): :func:`plan_names`.
Names = dict[str, dict[str, str]]
#: plan.csv's text for a generated candidate's basis (capacity/plan/candidates.py).
GENERATED = re.compile(r"generated: (?P<n>\d+) pupil-years unserved from (?P<year>\d+) "
                       r"within (?P<cell>\d+) m cells")


def plan_names(state: Any, lang: str) -> Names:
    """Names of the plan's zones, schools (existing, key projects' sites) and projects in
    ``lang``: ``name_zh`` in Chinese (capacity/names.py)."""
    table = names_table(state.model, getattr(state, "supply", None))
    return {kind: display_names(table, kind, lang) for kind in ("zone", "school", "project")}


def option_name(kind: str, name: str, zone: object, lang: str, school: object = None,
                names: Names | None = None, stage: str = "", ident: object = "") -> str:
    """An option's name in ``lang`` (plan.csv's ``name`` is English): temporary places at or
    an expansion of a school (or key project) named in ``lang``, transport in a zone, a
    generated candidate site."""
    names = names or {}
    zone_name = names.get("zone", {}).get(str(zone), zone)
    if kind == "temporary":
        default = str(name).removeprefix("Temporary places at ")
        return t("name_temporary", lang, school=names.get("school", {}).get(str(school),
                                                                            default))
    if kind == "transport":
        return t("name_transport", lang, zone=zone_name)
    if kind == "expansion":
        default = str(name).removeprefix("Expansion of ")
        return t("name_expansion", lang, school=names.get("school", {}).get(str(school),
                                                                            default))
    if lang != "en" and str(name).startswith("Candidate "):
        number = re.search(r"(\d+)$", str(ident))
        return L.text("plan_names", "candidate", lang, zone=zone_name,
                      stage=L.stage_label(stage, lang), n=number.group(1) if number else "")
    return name


def basis_label(basis: object, lang: str) -> str:
    """An option's or candidate's basis in ``lang``: "plan", a generated site's, else as
    given (a file name)."""
    text = "" if basis is None or (isinstance(basis, float) and pd.isna(basis)) else str(basis)
    if lang == "en" or not text:
        return text
    if text == "plan":
        return L.text("plan_names", "basis_plan", lang)
    found = GENERATED.fullmatch(text)
    if found:
        return L.text("plan_names", "basis_generated", lang, n=f"{int(found['n']):,}", year=found["year"],
                 cell=found["cell"])
    return text


def options_view(plan: pd.DataFrame, lang: str, kinds: tuple[str, ...] | None = None,
                 names: Names | None = None) -> pd.DataFrame:
    """plan.csv for people: kinds, stages and names translated (``names``:
    :func:`plan_names`), cost in 万元, one location column."""
    p = plan if kinds is None else plan[plan["kind"].isin(kinds)]
    loc = [f"{lon:.5f}, {lat:.5f}" if pd.notna(lon) and pd.notna(lat) else ""
           for lon, lat in zip(p["lon"], p["lat"])]
    out = pd.DataFrame({
        "stage": _stage(p["stage"], lang), "kind": p["kind"].map(lambda k: kind_label(k, lang)),
        "id": p["id"], "name": [option_name(k, n, z, lang, s, names, st, i)
                                for k, n, z, s, st, i in zip(p["kind"], p["name"], p["zone_id"],
                                                             p["school_id"], p["stage"], p["id"])],
        "zone_id": p["zone_id"], "school_id": p["school_id"],
        "classes": p["classes"], "places": p["places"], "open_year": p["open_year"],
        "first_year": p["first_year"], "last_year": p["last_year"],
        "pupil_years": p["pupil_years"], "cost_wan": p["cost_cny"] / WAN, "location": loc,
        "radius_scale": p["radius_scale"],
        "basis": p["basis"].map(lambda b: basis_label(b, lang)),
        "generated": p["generated"].map(lambda g: t("yes", lang) if g is True or g == 1
                                        else t("no", lang) if pd.notna(g) else "")})
    return _label(out.reset_index(drop=True), lang)


def spending_wide(by_year: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Year × (stage, kind) spending in 万元 (10,000 CNY) with a total column and row."""
    if by_year.empty:
        return pd.DataFrame(columns=[t("year", lang), t("total", lang)])
    wide = by_year.pivot_table(index="year", columns=["stage", "kind"], values="cost_cny",
                               aggfunc="sum", fill_value=0.0) / WAN
    wide.columns = [f"{L.stage_label(s, lang)} · {kind_label(k, lang)}" for s, k in wide.columns]
    wide[t("total", lang)] = wide.sum(axis=1)
    wide.loc[t("total", lang)] = wide.sum(axis=0)
    wide.index = [str(i) for i in wide.index]
    return wide.rename_axis(t("year", lang)).reset_index()


def candidates_view(candidates: pd.DataFrame, lang: str, names: Names | None = None
                    ) -> pd.DataFrame:
    """candidates.csv for people (names: :func:`plan_names`)."""
    if candidates.empty:
        return candidates
    c = candidates
    out = pd.DataFrame({
        "site_id": c["site_id"],
        "name": [option_name("new", n, z, lang, None, names, st, i)
                 for n, z, st, i in zip(c["name"], c["zone_id"], c["stage"], c["site_id"])],
        "zone_id": c["zone_id"],
        "stage": _stage(c["stage"], lang), "sizes": c["sizes"].astype(str),
        "earliest_open_year": c["earliest_open_year"],
        "location": [f"{a:.5f}, {b:.5f}" for a, b in zip(c["lon"], c["lat"])],
        "basis": c["basis"].map(lambda b: basis_label(b, lang)),
        "generated": c["generated"].map(lambda g: t("yes", lang) if g else t("no", lang))})
    return _label(out, lang)


def write_plan_workbook(folder: Path, summary: pd.DataFrame, plan: pd.DataFrame,
                        by_year: pd.DataFrame, candidates: pd.DataFrame,
                        lang: str = "en", names: Names | None = None) -> Path:
    """plan.xlsx: summary, options, spending by year and candidates, labelled in ``lang``
    (``names``: :func:`plan_names`)."""
    views = {t("sheet_summary", lang): summary_view(summary, lang),
             t("sheet_plan", lang): options_view(plan, lang, names=names),
             t("sheet_spending", lang): spending_wide(by_year, lang),
             t("sheet_candidates", lang): candidates_view(candidates, lang, names)}
    spend = views[t("sheet_spending", lang)]
    formats = {
        t("sheet_summary", lang): {t(f"col_{c}", lang): "yi" for c in ("capital", "total")}
        | {t(f"col_{c}", lang): "wan" for c in ("temporary", "transport")}
        | {t("col_gap", lang): "rate"},
        t("sheet_plan", lang): {t(f"col_{c}", lang): "year" for c in
                                ("open_year", "first_year", "last_year")}
        | {t("col_cost_wan", lang): "wan"},
        t("sheet_spending", lang): {c: "wan" for c in spend.columns[1:]},
        t("sheet_candidates", lang): {t("col_earliest_open_year", lang): "year"}}
    bold = {t("sheet_spending", lang): spend.iloc[:, 0].eq(t("total", lang))}
    return write_workbook(folder / "plan.xlsx", views, lang=lang, formats=formats,
                          bold_rows=bold)


def with_name_zh(plan: pd.DataFrame, names: Names) -> pd.DataFrame:
    """plan.csv with ``name_zh`` after ``name``: each action's name in Chinese
    (:func:`option_name`), for the dossier and any reader in Chinese."""
    zh = [option_name(r.kind, r.name, r.zone_id, "zh", r.school_id, names, r.stage, r.id)
          for r in plan.itertuples()]
    at = list(plan.columns).index("name") + 1
    return plan.reindex(columns=[*plan.columns[:at], "name_zh", *plan.columns[at:]]) \
        .assign(name_zh=zh)
