"""One costing: over random shortfalls and rules, every money sheet of budget.xlsx shows the
same total (its formulas evaluated by tests/formula_check.py, and the sums of its line items
worked out here from the cells), nothing is spent before the start year; and the year rules
of capacity/years.py on hand-made model folders."""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import re
from types import SimpleNamespace

from capacity.report import labels as L
from capacity.report.costing_section import costing_section
from capacity.report.budget import TOTAL_ID, write_budget
from capacity.years import start_year, year_status
from formula_check import check_workbook
from synthetic_result import make_result


def shortfalls(draw_values):
    """The synthetic result with the optimal mode's shortfalls replaced."""
    r = make_result()
    s = r.shortfall
    rows = s.index[s["mode"] == "optimal"]
    for i, (short, oor) in zip(rows, draw_values):
        s.loc[i, ["shortfall", "out_of_reach"]] = [short, min(oor, short)]
    return r


def sheet_columns(book, sheet: str, lang: str) -> dict[str, int]:
    ws = book.wb[sheet]
    back = {c.value: i + 1 for i, c in enumerate(ws[1])}
    return {col: back[L.column_label(col, lang)] for col in
            ("id", "stage", "cost_cny", "year", "first_year")
            if L.column_label(col, lang) in back}


def money_totals(path: Path, lang: str) -> dict[str, float]:
    """The cost sheet's grand total, its line items' sum, the cost-by-year sheet's total
    row and its rows' sum (evaluated formulas), and the earliest year with money."""
    book = check_workbook(path)
    cost, by_year = L.sheet_label("cost", lang), L.sheet_label("cost_by_year", lang)
    c = sheet_columns(book, cost, lang)
    all_label = L.stage_label("all", lang)
    grand, items, first = None, 0.0, []
    for r in range(2, book.wb[cost].max_row + 1):
        money = float(book.value(cost, r, c["cost_cny"]) or 0)
        if book.value(cost, r, c["id"]) == TOTAL_ID:
            if book.value(cost, r, c["stage"]) == all_label:
                grand = money
        else:
            items += money
            first.append(book.value(cost, r, c["first_year"]))
    y = sheet_columns(book, by_year, lang)
    rows = [(book.value(by_year, r, y["year"]), float(book.value(by_year, r, y["cost_cny"])))
            for r in range(2, book.wb[by_year].max_row + 1)]
    *body, (_, year_total) = rows
    return {"grand": grand, "items": items, "by_year_total": year_total,
            "by_year_rows": sum(v for _, v in body),
            "first_year": min([yr for yr, _ in body] + first, default=None)}


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 1500), st.integers(0, 40)), min_size=12,
                max_size=12),
       st.sampled_from(["en", "zh"]))
def test_every_money_sheet_shows_one_total(values, lang):
    r = shortfalls(values)
    with tempfile.TemporaryDirectory() as tmp:
        t = money_totals(write_budget(r, tmp, lang=lang), lang)
    assert t["grand"] == pytest.approx(t["items"], abs=1e-6)
    # the run report's section shows the same total (rounded to its unit)
    section = costing_section(SimpleNamespace(result=r, lang=lang))
    if t["grand"] > 0:
        m = re.search(r"<h2 id='costing'>[^<]*: ([\d,.]+) (亿元|万元)</h2>", section)
        shown = float(m.group(1).replace(",", "")) * (1e8 if m.group(2) == "亿元" else 1e4)
        assert shown == pytest.approx(t["grand"], abs=0.5e6 if m.group(2) == "亿元" else 500)
    else:
        assert section == ""
    assert t["by_year_total"] == pytest.approx(t["grand"], abs=1e-6)
    assert t["by_year_rows"] == pytest.approx(t["grand"], abs=1e-6)
    if t["first_year"] is not None:
        assert t["first_year"] >= 2021          # start year: base 2020 + 1 (no model)


def write_model(folder: Path, plan: str = "", reported: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    files = ""
    if reported:
        (folder / "reported.csv").write_text("stage,year,pupils\n" + reported)
        files = '[files]\nreported_enrolment = "reported.csv"\n'
    (folder / "model.toml").write_text(files + plan)
    return folder


def test_start_year_is_the_models_key_else_after_the_last_data(tmp_path):
    assert start_year(write_model(tmp_path / "a", "[plan]\nstart_year = 2027\n"), 2020) == 2027
    later = write_model(tmp_path / "b", reported="primary,2020,5\nsenior,2023,7\n")
    assert start_year(later, 2020) == 2024          # after the last reported year
    assert start_year(write_model(tmp_path / "c"), 2020) == 2021   # after the base year
    assert start_year(None, 2015) == 2016


def test_years_are_observed_estimated_or_projected(tmp_path):
    model = write_model(tmp_path / "m", reported="primary,2020,5\nprimary,2022,6\n"
                                                 "senior,2021,7\n")
    got = year_status(range(2020, 2025), model, 2020)
    assert got == {2020: "observed", 2021: "observed", 2022: "observed",
                   2023: "projected", 2024: "projected"}
    senior = year_status(range(2020, 2024), model, 2020, stage="senior")
    assert senior == {2020: "estimated", 2021: "observed", 2022: "estimated",
                      2023: "projected"}
    assert year_status([2020, 2021], None, 2020) == {2020: "estimated", 2021: "projected"}


def test_compare_shows_each_scenarios_budget_total():
    from capacity.report.budget import budget_tables
    from capacity.report.compare import compare

    a = shortfalls([(300, 0)] * 12)
    b = shortfalls([(900, 10)] * 12)
    b.name = "more"
    cost = compare([a, b])["cost"]
    grand = cost[(cost["stage"] == "all") & (cost["kind"] == "all")]
    for r in (a, b):
        views = budget_tables(r)["cost"]
        want = views.loc[(views["id"] == TOTAL_ID) & (views["stage"] == "all"), "cost_cny"]
        assert grand[r.name].item() == pytest.approx(want.item())
    lines = cost[(cost["stage"] != "all") & (cost["kind"] != "all")]
    assert lines[["synthetic", "more"]].sum().tolist() == pytest.approx(
        grand[["synthetic", "more"]].iloc[0].tolist())
    assert grand["more"].item() > grand["synthetic"].item() > 0
