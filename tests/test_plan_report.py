"""`capacity plan` end to end on the tiny model, through the CLI: report.html is written,
offline (no network loads), shows the capital-by-year table with the figures of
plan_by_year.csv and the gap with its basis; plan.xlsx goes through the shared workbook
writer (print setup, formula-safe text); `--lang zh` (or the scenario's [report] lang) gives
Chinese headings, sheet names and headers."""
from __future__ import annotations

import html
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from capacity.cli import main
from capacity.report import labels as L
from test_maps import network_loads
from test_plan import write_plan_case


@pytest.fixture(scope="module")
def planned(tmp_path_factory) -> Path:
    return write_plan_case(tmp_path_factory.mktemp("plan-report"), plan=1e9)


def run_plan(root: Path, out: Path, *extra: str) -> Path:
    assert main(["plan", str(root / "plan.toml"), "-o", str(out), "--stage", "primary",
                 "--time-limit", "30", *extra]) == 0
    return out / "tiny-plan-plan"


def test_report_in_english(planned, tmp_path):
    folder = run_plan(planned, tmp_path)
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert network_loads(page) == []
    assert "<html lang='en'>" in page and "data:image/png;base64," in page   # the map
    assert L.text("plan_report", "h_capital", "en") in page
    assert "<svg" in page                                                       # the chart
    by_year = pd.read_csv(folder / "plan_by_year.csv")
    summary = pd.read_csv(folder / "plan_summary.csv")
    assert summary["gap_basis"].isin(["milp", "lp", "milp_stopped"]).all()
    # optimal: within mip_gap (0.1 %) of a bound — the relaxation's, when the MILP over the
    # sites it opens reaches it, else the full MILP's own
    assert summary.loc[0, "status"] == "optimal" and summary.loc[0, "gap"] <= 1e-3
    # the capital table: every year's total spending, in 万元 to 1 decimal
    capital = page[page.index("id='capital'"):page.index("id='options'")]
    for year, cost in by_year.groupby("year")["cost_cny"].sum().items():
        row = re.search(rf"<tr><td>{year}</td>(.*?)</tr>", capital)
        assert row, f"no row for {year}"
        assert re.findall(r"<td class='n'>([^<]*)</td>", row.group(1))[-1] == f"{cost / 1e4:,.1f}"
    assert html.escape(L.text("plan_report", f"gap_{summary.loc[0, 'gap_basis']}", "en",
                              stage="Primary", gap=f"{100 * summary.loc[0, 'gap']:.1f} %"),
                       quote=True) in page
    assert "planning estimates" in page                           # temporary/transport costs
    wb = openpyxl.load_workbook(folder / "plan.xlsx")
    assert wb.sheetnames == ["Plan summary", "Plan", "Spending by year", "Candidate sites"]
    ws = wb["Plan summary"]
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$1:$1"
    assert ws["A1"].value == "Stage" and ws["A2"].value == "Primary"


def test_report_in_chinese(planned, tmp_path):
    folder = run_plan(planned, tmp_path, "--lang", "zh")
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert network_loads(page) == []
    assert "<html lang='zh-CN'>" in page
    for key in ("h_summary", "h_map", "h_capital", "h_gap", "h_estimates"):
        assert f"<h2>{L.text('plan_report', key, 'zh')}</h2>" in page
    assert "小学" in page and "合计" in page
    wb = openpyxl.load_workbook(folder / "plan.xlsx")
    assert wb.sheetnames == ["规划汇总", "规划方案", "分年度费用", "候选地点"]
    assert wb["规划汇总"]["A1"].value == "学段" and wb["规划汇总"]["A2"].value == "小学"
    assert wb["分年度费用"].cell(1, 1).value == "年份"


def test_scenario_language_is_the_default(planned, tmp_path):
    text = (planned / "plan.toml").read_text()
    (planned / "zh.toml").write_text(text.replace('name = "tiny-plan"', 'name = "tiny-plan"')
                                     + '\n[report]\nlang = "zh"\n')
    assert main(["plan", str(planned / "zh.toml"), "-o", str(tmp_path), "--stage", "primary",
                 "--time-limit", "30"]) == 0
    page = (tmp_path / "tiny-plan-plan" / "report.html").read_text(encoding="utf-8")
    assert "<html lang='zh-CN'>" in page


def test_workbook_is_reproducible_and_formula_safe(planned, tmp_path):
    from capacity.report.plan_section import write_plan_workbook

    folder = run_plan(planned, tmp_path / "run")
    summary = pd.read_csv(folder / "plan_summary.csv")
    plan = pd.read_csv(folder / "plan.csv")
    plan.loc[0, "name"] = "=HYPERLINK(\"http://x\")"
    by_year = pd.read_csv(folder / "plan_by_year.csv")
    cand = pd.read_csv(folder / "candidates.csv")
    paths = []
    for i in range(2):
        (tmp_path / str(i)).mkdir()
        paths.append(write_plan_workbook(tmp_path / str(i), summary, plan, by_year, cand, "zh"))
    assert paths[0].read_bytes() == paths[1].read_bytes()
    ws = openpyxl.load_workbook(paths[0])["规划方案"]
    cell = ws.cell(2, [c.value for c in ws[1]].index("名称") + 1)
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")
