"""The budget workbook opened by LibreOffice: formulas recalculate after an assumption
changes, and sheets print on a few pages (the Tongzhou-size check is in
tests/test_tongzhou_golden.py)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

import office_check
from capacity.report import labels as L
from capacity.report.budget import TOTAL_ID, budget_tables, write_budget
from test_budget import _result


def _cost_sheet(path: Path, lang: str) -> pd.DataFrame:
    return pd.read_excel(path, sheet_name=L.sheet_label("cost", lang), engine="openpyxl")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_cost_formulas_recalculate_in_libreoffice(tmp_path: Path, lang: str) -> None:
    office_check.require_office()
    result = _result()
    path = write_budget(result, tmp_path, lang=lang)
    cost = budget_tables(result)["cost"]
    money = list(cost.columns).index("cost_cny")
    # cached results: readers that do not calculate see our numbers
    shown = _cost_sheet(path, lang)
    assert np.allclose(shown.iloc[:, money].astype(float), cost["cost_cny"], equal_nan=True)
    # a planner raises the first line item by 1,000,000 CNY: its stage and grand totals follow
    wb = openpyxl.load_workbook(path)           # openpyxl drops the cached results
    ws = wb[L.sheet_label("cost", lang)]
    assert isinstance(ws.cell(2, money + 1).value, (int, float))   # a line: a value
    ws.cell(2, money + 1).value = float(cost["cost_cny"].iloc[0]) + 1e6
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)
    (back,) = office_check.convert([edited], "xlsx", tmp_path / "lo")
    got = _cost_sheet(back, lang)
    want = cost["cost_cny"].copy()
    want.iloc[0] += 1e6
    total = cost["id"] == TOTAL_ID
    want[total & (cost["stage"] == cost["stage"].iloc[0])] += 1e6
    want[total & (cost["stage"] == "all")] += 1e6
    assert np.allclose(got.iloc[:, money].astype(float), want)
    assert np.allclose(got.iloc[:, money + 1].astype(float), want / 1e4)
    assert np.allclose(got.iloc[:, money + 2].astype(float), want / 1e8)


def test_small_workbook_prints_one_page_per_sheet(tmp_path: Path) -> None:
    office_check.require_office()
    path = write_budget(_result(), tmp_path, lang="zh")
    pages = office_check.pages_per_sheet(path, tmp_path / "pdf")
    # one page, but a sheet too wide for a page at 8 pt prints in column groups, each one
    # page (issue 23: never below 8 pt)
    wb = openpyxl.load_workbook(path)
    split = {ws.title for ws in wb.worksheets if not ws.sheet_properties.pageSetUpPr.fitToPage}
    assert split and pages and all(n == 1 for t, n in pages.items() if t not in split), pages
    assert all(2 <= pages[t] <= 3 for t in split), pages


def test_workbook_page_setup(tmp_path: Path) -> None:
    path = write_budget(_result(), tmp_path, lang="zh")
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape", ws.title
        if ws.sheet_properties.pageSetUpPr.fitToPage:
            assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
        else:                   # wider than a page at 8 pt: column groups at 73 %
            assert ws.page_setup.scale == 73 and ws.print_title_cols, ws.title
        assert ws.print_title_rows == "$1:$1"
        assert ws.freeze_panes == "A2"
    readme = wb[L.sheet_label("readme", "zh")]
    # wrapped README rows are tall enough for their text (no clipped notes)
    for row in readme.iter_rows(min_row=2):
        text = str(row[1].value or "")
        assert row[1].alignment.wrap_text
        width = sum(2 if ord(c) > 0x2e80 else 1 for c in text)
        assert readme.row_dimensions[row[0].row].height >= 15 * np.ceil(width / 110) - 1e-9
    cost = wb[L.sheet_label("cost", "zh")]
    head = [c.value for c in cost[1]]
    assert cost.cell(2, head.index("建设成本（万元）") + 1).number_format == '#,##0.0"万元"'
    assert cost.cell(2, head.index("建设成本（亿元）") + 1).number_format == '#,##0.00"亿元"'
    assert cost.cell(cost.max_row, head.index("建设成本（元）") + 1).value.startswith("=")
