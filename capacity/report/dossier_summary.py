"""The dossier's first page (A4): the question, places short, what to build and when, the
request by year, how sure, which inputs are estimates — every figure read from the folders
(:mod:`.dossier_inputs`), none recomputed (docs/cli.md, ``capacity report``)."""
from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd

from ..names import model_name, scenario_name
from ..stages import headline_mode, is_compulsory
from ..years import start_year, year_status
from . import labels as L
from .dossier_inputs import Inputs
from .money import UNITS, in_unit, money_unit  # noqa: F401  (the one home of money: .money)

#: Year columns of the places-short table at most (evenly picked, first and last kept).
MAX_YEARS = 8
#: Lines of the what-to-build table at most (the rest: the detail sections).
MAX_BUILD_ROWS = 8
#: Caveats on the first page at most.
MAX_CAVEATS = 5
#: Kinds of spending in the order the request lists them (plan and costing kinds).
KIND_ORDER = ("capital", "new", "expansion", "temporary", "transport", "running")
#: Calibrated likelihood words (IPCC AR5 guidance): lower bound of P → key in [dossier].
LIKELIHOOD = ((0.99, "likely_certain"), (0.90, "likely_very"), (0.66, "likely"),
              (0.33, "likely_even"), (0.10, "unlikely"), (0.0, "unlikely_very"))


def t(key: str, lang: str, **fields: Any) -> str:
    """A [dossier] text."""
    return L.text("dossier", key, lang, **fields)


def e(value: Any) -> str:
    return html.escape("" if value is None or (not isinstance(value, str) and pd.isna(value))
                       else str(value))


def whole(v: Any) -> str:
    return "–" if v is None or pd.isna(v) else f"{float(v):,.0f}"


def likelihood(p: float, lang: str) -> str:
    """P → 'very likely' / '很可能' (:data:`LIKELIHOOD`)."""
    return t(next(k for lo, k in LIKELIHOOD if p >= lo), lang)


def years_of(inputs: Inputs) -> tuple[int, int, str | None, int]:
    """(start year, horizon, model folder, base year): the plan's start year when its
    summary has one, else :func:`capacity.years.start_year` of the run's model."""
    man = inputs.manifest
    base = int(man.get("base_year", 0))
    summary = inputs.run.tables["summary"]
    horizon = int(man.get("horizon") or summary["year"].max())
    model = man.get("model_path")
    plan_sum = inputs.plan.tables.get("plan_summary") if inputs.plan else None
    if plan_sum is not None and plan_sum.get("start_year", pd.Series()).notna().any():
        return int(plan_sum["start_year"].min()), horizon, model, base
    return start_year(model, base), horizon, model, base


def pick_years(years: list[int], n: int = MAX_YEARS) -> list[int]:
    """At most ``n`` of ``years``, evenly spread, first and last kept."""
    if len(years) <= n:
        return years
    at = np.unique(np.round(np.linspace(0, len(years) - 1, n)).astype(int))
    return [years[i] for i in at]


def table(head: list[str], rows: list[list[str]], numeric_from: int = 1,
          bold_last: bool = False, cls: str = "") -> str:
    """An HTML table: the first ``numeric_from`` columns text, the rest right-aligned."""
    def cells(row: list[str], tag: str) -> str:
        return "".join(f"<{tag}{' class=n' if i >= numeric_from else ''}>{v}</{tag}>"
                       for i, v in enumerate(row))
    body = "".join(f"<tr{' class=total' if bold_last and i == len(rows) - 1 else ''}>"
                   f"{cells(r, 'td')}</tr>" for i, r in enumerate(rows))
    return f"<table class='{cls}'><tr>{cells(head, 'th')}</tr>{body}</table>"


def status_row(years: list[int], model: str | None, base: int, lang: str) -> list[str]:
    status = year_status(years, model, base)
    return [f"<i>{e(t('row_status', lang))}</i>"] + [
        f"<i>{e(L.word(status[y] + '_short', lang))}</i>" for y in years]


def short_section(inputs: Inputs, lang: str) -> str:
    """Places short per stage and year under each stage's policy rule (compulsory stages:
    the catchment rule, capacity.stages.headline_mode), with P90 and P80 rows."""
    start, horizon, model, base = years_of(inputs)
    man = inputs.manifest
    mode = str(man.get("allocation_mode", "optimal"))
    s = inputs.run.tables["summary"]
    modes = set(s["mode"].astype(str))
    conf = man.get("stages", {}) if isinstance(man.get("stages"), dict) else {}
    rule = {st: headline_mode(is_compulsory(st, (conf.get(st) or {}).get("compulsory")),
                              mode, modes) for st in s["stage"].astype(str).unique()}
    s = s[s["mode"].astype(str) == s["stage"].astype(str).map(rule)]
    s = s[(s["year"] >= start) & (s["year"] <= horizon)]
    years = pick_years(sorted(int(y) for y in s["year"].unique()))
    stages = [st for st in man.get("stages", {}) if st in set(s["stage"])] or \
        list(dict.fromkeys(s["stage"]))
    ens = inputs.ensemble
    q = p80 = None
    if ens is not None:
        qt = ens.tables["quantiles"]
        q = qt[(qt["zone_id"].astype(str) == "ALL") & (qt["measure"] == "shortfall")] \
            .set_index(["stage", "year"])["p90"]
        b = ens.tables["budget"]
        p80 = b[b["zone_id"].astype(str) == "ALL"].set_index("stage")["places_p80"]
    head = [t("col_stage", lang)] + [str(y) for y in years] + [t("col_worst", lang)]
    if p80 is not None:
        head.append(t("col_p80", lang))
    rows = []
    for st in stages:
        g = s[s["stage"] == st].set_index("year")["shortfall"]
        worst = int(g.idxmax()) if len(g) else None
        row = [e(L.stage_label(st, lang))] + [whole(g.get(y)) for y in years] + [
            f"{whole(g.max())} ({worst})" if worst is not None else "–"]
        if p80 is not None:
            row.append(whole(p80.get(st)))
        rows.append(row)
        if q is not None:
            row = [f"&nbsp;&nbsp;{e(t('row_p90', lang))}"] + [
                whole(q.get((st, y))) for y in years] + [""]
            rows.append(row + ([""] if p80 is not None else []))
    rows.append(status_row(years, model, base, lang) + [""] * (len(head) - len(years) - 1))
    rules = "; ".join(f"{L.stage_label(st, lang)} {L.mode_label(rule[st], lang)}"
                      for st in stages if st in rule)
    note = t("p_note", lang, draws=ens.meta.get("draws", "?"),
             mode=L.mode_label(str(ens.meta.get("mode", mode)), lang)) if ens else \
        t("no_ensemble", lang)
    return (f"<h2>{e(t('h_short', lang))}</h2>" + table(head, rows) +
            f"<p class=note>{e(t('short_note', lang, mode=rules, p_note=note))}"
            "</p>")


def zone_names(inputs: Inputs, lang: str) -> dict[str, str]:
    """zone_id → name in ``lang`` (the run's names.csv when present)."""
    path = inputs.run.path / "names.csv"
    names = {"ALL": L.word("district_wide", lang)}
    if path.is_file():
        n = pd.read_csv(path, encoding="utf-8-sig")
        n = n[n["kind"] == "zone"] if "kind" in n.columns else n
        col = "name_zh" if lang == "zh" and "name_zh" in n.columns else "name"
        for zid, name, en in zip(n["id"], n[col], n["name"]):
            names[str(zid)] = str(name if isinstance(name, str) and name else en)
    return names


def actions(inputs: Inputs) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """(lines, cost by year, basis): the plan's when given, else the run's costing."""
    if inputs.plan is not None:
        return (inputs.plan.tables["plan"], inputs.plan.tables["plan_by_year"],
                "optimised_plan")
    cost = inputs.run.tables["budget_cost"]
    return (cost[cost["id"] != "TOTAL"], inputs.run.tables["budget_cost_by_year"],
            "rule_of_thumb")


def get(row: pd.Series, col: str) -> Any:
    """A row's value, None when the column is absent (optional plan columns) or empty."""
    return row[col] if col in row and pd.notna(row[col]) else None


def build_section(inputs: Inputs, lang: str) -> str:
    """New schools and expansions (kind, name, zone, stage, places, opening year), then one
    line per stage for temporary places and transport."""
    lines, _, basis = actions(inputs)
    zones = zone_names(inputs, lang)
    built = lines[lines["kind"].isin(["new", "expansion"])]
    built = built.assign(_k=(built["kind"] != "new").astype(int)).sort_values(
        ["_k", *[c for c in ("open_year", "stage") if c in built.columns]], kind="stable")
    rows = []
    for _, r in built.head(MAX_BUILD_ROWS).iterrows():
        zone = zones.get(str(get(r, "zone_id")), get(r, "zone_name") or get(r, "zone_id"))
        name = (get(r, "name_zh") if lang == "zh" else None) or get(r, "name") or \
            f"{L.word(str(r['kind']), lang)} · {zone or ''}"
        rows.append([e(L.word(str(r["kind"]), lang)), e(name), e(zone or "–"),
                     e(L.stage_label(str(r["stage"]), lang)), whole(get(r, "places")),
                     e(int(get(r, "open_year")) if get(r, "open_year") is not None else "–")])
    out = [f"<h2>{e(t('h_build', lang))}</h2>",
           "<p class=note>" + e(t("basis_plan", lang, plan=inputs.plan.path.name if lang == "en"
                                  else scenario_name(inputs.manifest, lang))
                                if inputs.plan else t("basis_rule", lang)) + "</p>"]
    if rows:
        out.append(table([t(k, lang) for k in ("col_kind", "col_name", "col_zone", "col_stage",
                                               "col_places", "col_open")], rows, numeric_from=4))
    if len(built) > MAX_BUILD_ROWS:
        out.append(f"<p class=note>{e(t('more_rows', lang, n=len(built) - MAX_BUILD_ROWS))}</p>")
    spread = []
    for (kind, stage), g in lines[lines["kind"].isin(["temporary", "transport"])].groupby(
            ["kind", "stage"], sort=False):
        amount = g["pupil_years"].sum() if "pupil_years" in g.columns else float("nan")
        first = g["first_year"].min() if "first_year" in g.columns else None
        last = g["last_year"].max() if "last_year" in g.columns else None
        unit = "unit_place_years" if kind == "temporary" else "unit_pupil_years"
        spread.append(t("spread", lang, kind=L.word(str(kind), lang),
                        stage=L.stage_label(str(stage), lang), amount=whole(amount),
                        unit=t(unit, lang), first=whole(first).replace(",", ""),
                        last=whole(last).replace(",", "")))
    if spread:
        out.append("<ul class=tight>" + "".join(f"<li>{e(x)}</li>" for x in spread) + "</ul>")
    return "".join(out)


def money_section(inputs: Inputs, lang: str) -> tuple[str, float]:
    """Cost per year by kind (亿元 or 万元) with the total request; returns (HTML, total
    CNY)."""
    start, _, model, base = years_of(inputs)
    _, by_year, basis = actions(inputs)
    wide = by_year.pivot_table(index="kind", columns="year", values="cost_cny",
                               aggfunc="sum", fill_value=0.0, sort=True)
    if len(wide.columns):                 # every year from the first to the last spent
        span = range(min(int(wide.columns.min()), start), int(wide.columns.max()) + 1)
        wide = wide.reindex(columns=list(span), fill_value=0.0)
    order = [k for k in KIND_ORDER if k in wide.index]
    wide = wide.loc[order + [k for k in wide.index if k not in order]]
    years = [int(y) for y in wide.columns]
    total = float(by_year["cost_cny"].sum())
    unit = money_unit(total)

    def yi(cny: float) -> str:
        return in_unit(cny, unit)
    rows = [[e(L.word(str(k), lang))] + [yi(v) for v in wide.loc[k]] + [yi(wide.loc[k].sum())]
            for k in wide.index]
    rows.append([f"<b>{e(t('row_total', lang))}</b>"] + [f"<b>{yi(v)}</b>" for v in
                                                         wide.sum(axis=0)] +
                [f"<b>{yi(total)}</b>"])
    rows.append(status_row(years, model, base, lang) + [""])
    head = [t("col_item", lang)] + [str(y) for y in years] + [t("col_total", lang)]
    return (f"<h2>{e(t('h_money', lang))}: {yi(total)} {unit[1]}</h2>"
            + table(head, rows, cls="money")
            + f"<p class=note>{e(t('money_note', lang, start=start, unit=unit[1]))} "
              f"{e(L.word(basis, lang))}.</p>", total)


def sure_section(inputs: Inputs, lang: str) -> str:
    """Per stage, in words: P(short) in the run's worst year, P(short > 1,000)."""
    out = [f"<h2>{e(t('h_sure', lang))}</h2>"]
    ens = inputs.ensemble
    if ens is None:
        return out[0] + f"<p>{e(t('sure_none', lang))}</p>"
    start, _, _, _ = years_of(inputs)
    mode = str(inputs.manifest.get("allocation_mode", "optimal"))
    s = inputs.run.tables["summary"]
    s = s[(s["mode"].astype(str) == mode) & (s["year"] >= start)]
    p = ens.tables["probability"]
    p = p[p["zone_id"].astype(str) == "ALL"].set_index(["stage", "year"])["p_shortfall"]
    r = ens.tables["risk"]
    r = r[r["zone_id"].astype(str) == "ALL"].set_index(["stage", "year"])["p_short_gt_1000"]
    items = []
    for st, g in s.groupby("stage", sort=False):
        year = int(g.loc[g["shortfall"].idxmax(), "year"])
        if (st, year) not in p.index:
            continue
        p1, p2 = float(p[(st, year)]), float(r.get((st, year), np.nan))
        items.append(t("sure_line", lang, stage=L.stage_label(str(st), lang), year=year,
                       words=likelihood(p1, lang), p=f"{p1:.0%}",
                       words2=likelihood(p2, lang) if not np.isnan(p2) else "–",
                       p2=f"{p2:.0%}" if not np.isnan(p2) else "–"))
    return out[0] + "<ul class=tight>" + "".join(f"<li>{e(x)}</li>" for x in items) + "</ul>"


def estimates_section(inputs: Inputs, lang: str) -> str:
    caveats = inputs.manifest.get("caveats") or {}
    listed = (caveats.get(lang) or caveats.get("en") or []) if isinstance(caveats, dict) \
        else list(caveats)
    body = "<ul class=tight>" + "".join(f"<li>{e(c)}</li>" for c in listed[:MAX_CAVEATS]) + \
        "</ul>" if listed else f"<p>{e(t('no_caveats', lang))}</p>"
    return f"<h2>{e(t('h_estimates', lang))}</h2>{body}"


def summary_html(inputs: Inputs, lang: str) -> tuple[str, float]:
    """The first page's HTML (a ``<section class=summary>``) and the total request (CNY)."""
    start, horizon, _, _ = years_of(inputs)
    man = inputs.manifest
    money, total = money_section(inputs, lang)
    scenario = scenario_name(man, lang) or inputs.run.path.name
    parts = [f"<h1>{e(t('title', lang, scenario=scenario))}</h1>",
             "<p class=question>" + e(t("question", lang, model=model_name(man, lang),
                                        start=start, horizon=horizon)) + "</p>",
             short_section(inputs, lang), build_section(inputs, lang), money,
             sure_section(inputs, lang), estimates_section(inputs, lang)]
    return "<section class=summary>" + "\n".join(parts) + "</section>", total
