"""No workbook sheet prints below 8 pt (issue 23): every sheet of budget.xlsx, compare.xlsx and
plan.xlsx, in English and Chinese, checked from its page setup and column widths.

The scale is recomputed here in pixels (Excel: a column ``w`` characters wide is
``trunc(7w + 5)`` px at 96 dpi; A4 landscape is 11.69 in, less 0.4 in margins each side), a
second formulation of capacity/report/printing.py's points."""
from __future__ import annotations

import math
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from capacity.cli import main
from capacity.report.printing import MIN_SCALE, fit_scale, print_setup
from test_plan import write_plan_case

ROOT = Path(__file__).resolve().parents[1]
PRINTABLE_PX = (841.89 / 72 - 2 * 0.4) * 96


def printed_size(ws) -> float:
    """Font size (pt) the sheet prints at: 11 pt × its scale."""
    setup = ws.sheet_properties.pageSetUpPr
    if setup is not None and setup.fitToPage and (ws.page_setup.fitToWidth or 0) > 0:
        px = sum(math.trunc(7 * (ws.column_dimensions[get_column_letter(j)].width or 8.43)
                            + 5) for j in range(1, ws.max_column + 1))
        return 11 * min(1.0, ws.page_setup.fitToWidth * PRINTABLE_PX / px)
    return 11 * (ws.page_setup.scale or 100) / 100


def check_book(path: Path) -> list[str]:
    """Sheets of ``path`` that break the print rules (empty: none)."""
    bad = []
    for ws in openpyxl.load_workbook(path):
        size = printed_size(ws)
        if size < 8 - 1e-9:
            bad.append(f"{path.name}:{ws.title}: {size:.1f} pt")
        if ws.print_title_rows != "$1:$1" and ws.print_title_rows != "1:1":
            bad.append(f"{path.name}:{ws.title}: header not repeated ({ws.print_title_rows})")
    return bad


def test_an_18_column_sheet_is_split_into_column_groups():
    wb = openpyxl.Workbook()
    ws = wb.active
    cols = ["zone_id", "zone_name", "stage", *[f"v{i}" for i in range(15)]]
    for j, _ in enumerate(cols, start=1):
        ws.cell(1, j, "x")
        ws.column_dimensions[get_column_letter(j)].width = 20
    # 18 × trunc(7·20 + 5) = 2,610 px against 1,045.7 px: fitted, 40 % → 4.4 pt
    assert fit_scale([20] * 18) == pytest.approx(PRINTABLE_PX / 2610, rel=1e-3)
    assert 11 * fit_scale([20] * 18) < 5
    print_setup(ws, cols)
    assert not ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.page_setup.scale == MIN_SCALE == 73 and printed_size(ws) >= 8
    assert ws.print_title_cols == "$A:$C"                  # the key columns on every page


def test_a_narrow_sheet_still_fits_the_width():
    wb = openpyxl.Workbook()
    ws = wb.active
    for j in range(1, 6):
        ws.cell(1, j, "x")
        ws.column_dimensions[get_column_letter(j)].width = 15
    print_setup(ws, ["a"] * 5)
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
    assert printed_size(ws) == 11                           # 5 × 110 px fit at 100 %


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_tongzhou_workbooks_print_at_8_pt_or_more(tmp_path, lang, capsys):
    out = tmp_path / "out"
    scen = ROOT / "scenarios" / "baseline.toml"
    assert main(["run", str(scen), "-o", str(out), "--no-maps", "--no-criticality",
                 "--lang", lang]) == 0
    assert main(["compare", str(out / "baseline"), "-o", str(tmp_path / "cmp")]) == 0
    capsys.readouterr()
    books = [out / "baseline" / "budget.xlsx", tmp_path / "cmp" / "compare.xlsx"]
    assert sum(len(openpyxl.load_workbook(b).sheetnames) for b in books) > 10
    assert [m for b in books for m in check_book(b)] == []


def test_plan_workbook_prints_at_8_pt_or_more(tmp_path, capsys):
    root = write_plan_case(tmp_path, plan=150000.0)
    out = tmp_path / "plans"
    assert main(["plan", str(root / "plan.toml"), "-o", str(out), "--stage", "primary"]) == 0
    capsys.readouterr()
    books = list(out.rglob("plan.xlsx"))
    assert books and [m for b in books for m in check_book(b)] == []
