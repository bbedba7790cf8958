"""`capacity report`: the dossier of a tiny run, its plan and a 4-draw ensemble, end to end
through the CLI in English and Chinese — one HTML and one PDF, the summary alone prints on
one A4 page, no font below 8 pt, the one total of the money; bad folders exit 2 and write
nothing. (Skipped without Chromium unless CAPACITY_REQUIRE_BROWSER is set.)"""
from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from browser_check import require_chromium
from capacity.cli import main
from capacity.report.dossier import dossier_html, floor_fonts, smallest_font_pt
from capacity.report.dossier_inputs import read_inputs
from capacity.report.pdf import html_to_pdf, page_count
from formula_check import check_workbook
from test_plan import write_plan_case

ENSEMBLE = """name = "tiny-plan"
model = "model"
horizon = 2025
[plan.stages.primary]
standard_classes = [12, 24]
[uncertainty.fertility]
spread = 1
"""


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    """A tiny run, its plan (primary) and a 4-draw ensemble, made through the CLI."""
    require_chromium()
    root = write_plan_case(tmp_path_factory.mktemp("dossier"), plan=1e9)
    (root / "ens.toml").write_text(ENSEMBLE)
    out = root / "out"
    assert main(["run", str(root / "plan.toml"), "-o", str(out), "--no-criticality"]) == 0
    assert main(["plan", str(root / "plan.toml"), "-o", str(out), "--stage", "primary",
                 "--time-limit", "20"]) == 0
    assert main(["ensemble", str(root / "ens.toml"), "--draws", "4", "--workers", "1",
                 "-o", str(out)]) == 0
    return {"run": out / "tiny-plan", "plan": out / "tiny-plan-plan",
            "ensemble": out / "tiny-plan-ensemble", "root": root}


def request_total(page: str) -> float:
    """The total request in the summary's money heading, in 亿元."""
    m = re.search(r"<h2>[^<]*: ([\d,.]+) (亿元|万元)</h2>", page)
    assert m, "no total in the money heading"
    return float(m.group(1).replace(",", "")) / (1 if m.group(2) == "亿元" else 1e4)


@pytest.mark.parametrize("lang, title", [("en", "School places: the funding request"),
                                         ("zh", "学位建设资金申请")])
def test_dossier_of_run_plan_and_ensemble(folders, tmp_path, capsys, lang, title):
    out = tmp_path / "dossier"
    assert main(["report", str(folders["run"]), "--plan", str(folders["plan"]),
                 "--ensemble", str(folders["ensemble"]), "-o", str(out), "--lang", lang]) == 0
    assert ("pages)" if lang == "en" else "页）") in capsys.readouterr().out
    page = (out / "dossier.html").read_text(encoding="utf-8")
    assert html.unescape(page).count(title) >= 1
    assert page_count(out / "dossier.pdf") >= 2          # the summary, then the details
    assert sorted(p.name for p in out.iterdir()) == ["dossier.html", "dossier.pdf"]
    assert smallest_font_pt(page) >= 8
    assert "<script" not in page.lower()                 # offline, nothing runs
    # one total: the plan's spending by year, summed here
    by_year = pd.read_csv(folders["plan"] / "plan_by_year.csv")
    assert request_total(page) == pytest.approx(by_year["cost_cny"].sum() / 1e8, abs=0.006)
    # ... and no second total: the run's rule-of-thumb costing is left out of its section
    run_report = (folders["run"] / "report.html").read_text(encoding="utf-8")
    assert "id='costing'" in run_report and "id='costing'" not in page
    # the ensemble's P80 (budget.csv, district rows) is on the first page
    b = pd.read_csv(folders["ensemble"] / "budget.csv")
    p80 = int(b.loc[(b["zone_id"] == "ALL") & (b["stage"] == "primary"), "places_p80"].iloc[0])
    summary = page.split("<section class=details>")[0]
    assert f"{p80:,}" in summary


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_summary_alone_prints_on_one_a4_page(folders, tmp_path, lang):
    inputs = read_inputs(folders["run"], folders["plan"], folders["ensemble"])
    doc, _ = dossier_html(inputs, lang, summary_only=True)
    page = tmp_path / "summary.html"
    page.write_text(doc, encoding="utf-8")
    pdf = html_to_pdf(page, tmp_path / "summary.pdf")
    assert page_count(pdf) == 1
    head = pdf.read_bytes()
    # A4 portrait in points (595 × 842), as CSS @page asks
    assert re.search(rb"/MediaBox \[0 0 59[45](?:\.\d+)? 84[12](?:\.\d+)?\]", head)


def test_without_a_plan_the_request_is_the_runs_costing(folders, tmp_path, capsys):
    out = tmp_path / "d"
    assert main(["report", str(folders["run"]), "-o", str(out)]) == 0
    capsys.readouterr()
    page = (out / "dossier.html").read_text(encoding="utf-8")
    cost = pd.read_csv(folders["run"] / "budget_cost.csv")
    lines = cost[cost["id"] != "TOTAL"]
    by_year = pd.read_csv(folders["run"] / "budget_cost_by_year.csv")
    total = float(lines["cost_cny"].sum())
    assert total > 0
    assert by_year["cost_cny"].sum() == pytest.approx(total)
    assert float(cost.loc[(cost["id"] == "TOTAL") & (cost["stage"] == "all"),
                          "cost_cny"].iloc[0]) == pytest.approx(total)
    assert request_total(page) == pytest.approx(total / 1e8, rel=0.01)
    book = check_workbook(folders["run"] / "budget.xlsx")     # its SUMIFS evaluated
    assert any(abs(float(v or 0) - total) < 1e-3 for v in
               (book.value(s, r, c) for s, r, c, _ in book.formulas()))
    # no money before the start year (base 2020 + 1: the tiny model reports no enrolment)
    assert by_year["year"].min() >= 2021
    assert "rule of thumb" in page


def test_font_floor_on_hand_made_css():
    assert floor_fonts("a { font-size: 10px }") == "a { font-size: 8pt }"       # 7.5 pt
    assert floor_fonts("b { font: 14px/1.45 x }") == "b { font: 14px/1.45 x }"   # 10.5 pt
    assert floor_fonts("c { font-size: 6pt }") == "c { font-size: 8pt }"
    assert smallest_font_pt("<style>a{font-size:12px}</style><p style='font-size:9pt'>") == 9


@pytest.mark.parametrize("broken, needle", [
    ("run:summary.csv", "summary.csv"),
    ("plan:plan.csv", "plan.csv"),
    ("ensemble:probability.csv", "probability.csv"),
])
def test_a_folder_missing_a_file_exits_2_and_writes_nothing(folders, tmp_path, capsys,
                                                             broken, needle):
    which, name = broken.split(":")
    copies = {}
    for k in ("run", "plan", "ensemble"):
        copies[k] = tmp_path / folders[k].name
        shutil.copytree(folders[k], copies[k])
    (copies[which] / name).unlink()
    out = tmp_path / "out"
    code = main(["report", str(copies["run"]), "--plan", str(copies["plan"]),
                 "--ensemble", str(copies["ensemble"]), "-o", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err
    assert not out.exists() or not any(out.iterdir())


def test_a_plan_without_a_column_names_it(folders, tmp_path, capsys):
    plan = tmp_path / "p"
    shutil.copytree(folders["plan"], plan)
    by_year = pd.read_csv(plan / "plan_by_year.csv").drop(columns="cost_cny")
    by_year.to_csv(plan / "plan_by_year.csv", index=False)
    out = tmp_path / "out"
    assert main(["report", str(folders["run"]), "--plan", str(plan), "-o", str(out)]) == 2
    assert "cost_cny" in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())


def test_a_parquet_run_without_its_report(folders, tmp_path, capsys):
    """A run written with --format parquet --no-maps: its tables are read from parquet and
    the details say it has no report.html."""
    assert main(["run", str(folders["root"] / "plan.toml"), "-o", str(tmp_path / "runs"),
                 "--no-criticality", "--no-maps", "--format", "parquet"]) == 0
    run = tmp_path / "runs" / "tiny-plan"
    assert (run / "summary.parquet").is_file() and not (run / "summary.csv").exists()
    assert main(["report", str(run), "-o", str(tmp_path / "d")]) == 0
    capsys.readouterr()
    page = (tmp_path / "d" / "dossier.html").read_text(encoding="utf-8")
    assert "holds no report.html" in page
    assert page_count(tmp_path / "d" / "dossier.pdf") >= 2

