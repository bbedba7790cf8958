"""Workbook formulas checked without LibreOffice (tests/formula_check.py): each formula of
budget.xlsx, plan.xlsx and compare.xlsx evaluates to the value cached beside it and points
at the intended cells; the cost sheet's totals equal sums worked out here from the zone rows.
A wrong reference planted in a workbook is caught. (tests/test_workbook_office.py keeps the
LibreOffice recalculation check where LibreOffice is installed.)"""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from capacity.cli import main
from capacity.report import labels as L
from capacity.report.budget import TOTAL_ID, budget_tables, write_budget
from capacity.report.compare import write_compare
from formula_check import FormulaError, check_workbook
from hand_model import write_hand_model, write_scenario
from synthetic_result import make_result
from test_budget import _result
from test_compare import _alt


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_budget_cost_totals_are_the_sums_of_their_action_rows(tmp_path, lang):
    result = _result()
    book = check_workbook(write_budget(result, tmp_path, lang=lang))
    assert len(book.formulas()) >= 10
    cost = budget_tables(result)["cost"]
    lines = cost[cost["id"] != TOTAL_ID]
    sheet = L.sheet_label("cost", lang)
    ws = book.wb[sheet]
    col = {c.value: i + 1 for i, c in enumerate(ws[1])}
    money = col[L.column_label("cost_cny", lang)]
    total_id = L.budget_term("total", lang)           # TOTAL / 合计 (the sheet's label)
    rows = {(ws.cell(r, 1).value, ws.cell(r, 2).value): r for r in range(2, ws.max_row + 1)
            if ws.cell(r, 1).value == total_id}
    for stage, g in lines.groupby("stage"):
        r = rows[(total_id, L.stage_label(stage, lang))]
        want = float(g["cost_cny"].sum())
        assert book.value(sheet, r, money) == pytest.approx(want)
        assert book.value(sheet, r, money + 1) == pytest.approx(want / 1e4)   # 万元
        assert book.value(sheet, r, money + 2) == pytest.approx(want / 1e8)   # 亿元
    r = rows[(total_id, L.stage_label("all", lang))]
    assert book.value(sheet, r, money) == pytest.approx(float(lines["cost_cny"].sum()))


def test_budget_of_a_run_through_the_cli(tiny_scenario, tmp_path, capsys):
    assert main(["run", str(tiny_scenario), "-o", str(tmp_path), "--no-maps",
                 "--no-criticality"]) == 0
    capsys.readouterr()
    book = check_workbook(tmp_path / "base" / "budget.xlsx")
    assert book.formulas()


def test_compare_workbook(tmp_path):
    out = write_compare([make_result("base"), _alt()], tmp_path / "compare")
    check_workbook(out / "compare.xlsx")


def test_plan_workbook(tmp_path, capsys):
    write_hand_model(tmp_path / "model", {"A": (0, 0)}, {"A": {a: 5 for a in range(12)}},
                     extra_toml="[plan]\nstart_year = 2021\n\n[plan.stages.primary]\n"
                     "lead_years = 1\nconstruction_years = 1\n")
    scen = write_scenario(tmp_path / "p.toml", "model", 2023)
    assert main(["plan", str(scen), "-o", str(tmp_path / "plans")]) == 0
    capsys.readouterr()
    check_workbook(next((tmp_path / "plans").rglob("plan.xlsx")))


# -- the checker catches wrong references ------------------------------------------------
def plant(path: Path, out: Path, pattern: str, repl) -> int:
    """Copy a workbook, rewriting its formulas (``<f>`` text of the sheet XML) with a
    regular expression; cached values stay. Returns how many formulas changed."""
    n = 0

    def formula(m: re.Match) -> bytes:
        nonlocal n
        new = re.sub(pattern, repl, m.group(2).decode())
        n += new != m.group(2).decode()
        return m.group(1) + new.encode() + m.group(3)

    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                data = re.sub(rb"(<f>)([^<]*)(</f>)", formula, data)
            zout.writestr(info, data)
    return n


@pytest.mark.parametrize("what, pattern, repl", [
    ("a range one row short", r"\$(\d+):\$([A-Z]+)\$(\d+)",
     lambda m: f"${m.group(1)}:${m.group(2)}${int(m.group(3)) - 1}"),
    ("a range starting a row late", r"\$2:", "$3:"),
    ("a SUMIFS adding the wrong column", r"SUMIFS\(\$M\$", "SUMIFS($L$"),
    ("a criterion from the next row", r",B(\d+),", lambda m: f",B{int(m.group(1)) + 1},"),
    ("a conversion from the row below", r"^M(\d+)/100000000$",
     lambda m: f"M{int(m.group(1)) + 1}/100000000"),
    ("a unit conversion off by 10", r"/10000$", "/1000"),
])
def test_the_checker_catches_a_wrong_reference(tmp_path, what, pattern, repl):
    good = write_budget(_result(), tmp_path, lang="en")
    check_workbook(good)
    bad = tmp_path / "bad.xlsx"
    assert plant(good, bad, pattern, repl) > 0, what
    with pytest.raises(FormulaError):
        check_workbook(bad)


def test_the_checker_refuses_a_function_it_cannot_evaluate(tmp_path):
    good = write_budget(_result(), tmp_path, lang="en")
    bad = tmp_path / "bad.xlsx"
    assert plant(good, bad, r"^M(\d+)/10000$", r"PRODUCT(M\1,0.0001)") > 0
    with pytest.raises(FormulaError, match="cannot evaluate PRODUCT"):
        check_workbook(bad)


def test_the_evaluator_on_known_formulas(tmp_path):
    """Excel's rules, by hand: precedence, text, SUMIFS criteria, ROUND half away."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    for r, (k, s, v) in enumerate([("key", "stage", "v"), ("a", "x", 1), ("b", "x", 2),
                                   ("TOTAL", "x", None), ("a", "y", 4)], start=1):
        ws.cell(r, 1, k), ws.cell(r, 2, s), ws.cell(r, 3, v)
    path = tmp_path / "w.xlsx"
    wb.save(path)
    from formula_check import Workbook

    book = Workbook(path)
    for formula, want in [("=1+2*3^2", 19.0), ("=-2^2", 4.0), ("=(1+2)*3", 9.0),
                          ('="a"&1&"b"', "a1b"), ("=ROUND(2.5,0)", 3.0),
                          ("=ROUND(-2.5,0)", -3.0), ("=ROUND(1.2345,2)", 1.23),
                          ("=SUM($C$2:$C$5)", 7.0), ('=SUMIFS($C$2:$C$5,$B$2:$B$5,"x")', 3.0),
                          ('=SUMIFS($C$2:$C$5,$A$2:$A$5,"<>"&A4,$B$2:$B$5,B2)', 3.0),
                          ('=SUMIFS($C$2:$C$5,$A$2:$A$5,"A")', 5.0), ("=C2/C3", 0.5),
                          ("=MAX($C$2:$C$5)-MIN($C$2:$C$5)", 3.0), ("=C4+1", 1.0)]:
        assert book.evaluate(formula, "S") == pytest.approx(want) if isinstance(want, float) \
            else book.evaluate(formula, "S") == want, formula
