"""The HTML run report (capacity.report.html)."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from capacity.report import html as report
from capacity.report.deliverables import write_all
from capacity.result import Result, read_result
from synthetic_result import make_result
from test_maps import network_loads


def _subset(result: Result, stages: list[str], years: list[int]) -> Result:
    tables = {}
    for name, frame in result.tables.items():
        if "stage" in frame:
            frame = frame[frame["stage"].isin(stages)]
        if "year" in frame:
            frame = frame[frame["year"].isin(years)]
        tables[name] = frame.reset_index(drop=True)
    manifest = {**result.manifest,
                "stages": {s: v for s, v in result.manifest["stages"].items() if s in stages}}
    return Result.from_tables(result.name, tables, result.zones, manifest)


def test_report_written_offline(tmp_path: Path) -> None:
    result = make_result()
    path = report.write_report(result, tmp_path)
    assert path == tmp_path / "report.html"
    page = path.read_text(encoding="utf-8")
    assert len(page) > 20_000
    assert not network_loads(page)
    assert "http://" not in page and "https://" not in page
    assert "<link" not in page and "<script src" not in page
    # headlines: worst year and shortfall per stage, most short zone by name
    assert "Primary (ages 6–11)" in page and "Junior secondary (ages 12–14)" in page
    assert "Zone three" in page
    # indicators vs targets with badges
    assert "Nearby enrolment rate" in page
    assert 'class="badge not">not met' in page and "no target" in page
    # charts inline SVG, maps as data-URI PNG, link to the interactive map
    assert page.count("<svg") >= 2
    # a map per stage in the headline year and in its year of largest shortfall
    maps = sum(len(report.map_years(result, s, result.mode)) for s in ("primary", "junior"))
    assert 2 <= maps == page.count("data:image/png;base64,")
    assert 'href="maps/catchments.html"' in page
    # the summary table lists every stage and year of the scenario's mode
    for stage in ("primary", "junior"):
        for year in (2020, 2021):
            label = {"primary": "Primary", "junior": "Junior secondary"}[stage]
            assert re.search(rf"<td>{label}</td><td class='n'>{year}</td>", page)


def test_headline_year_rules() -> None:
    from capacity.chain import report_year
    from capacity.scenario import Scenario

    years = np.arange(2020, 2036)
    scenario = Scenario(name="s", path=None, model=Path("."), horizon=2035)
    assert report_year(scenario, {"year": 2025}, years) == 2025      # the targets' year
    assert report_year(scenario, {}, years) == 2035                  # else the horizon
    assert report_year(scenario, {"year": 2040}, years) == 2035      # only if projected
    scenario.report_year = 2030
    assert report_year(scenario, {"year": 2025}, years) == 2030      # the scenario wins
    result = make_result()
    result.manifest["report_year"] = 2021
    assert result.report_year == 2021
    result.manifest["report_year"] = 2050                            # not a run year
    assert result.report_year == max(result.years)


@pytest.mark.parametrize("stages, years", [(["junior"], [2020]), (["primary"], [2021])])
def test_report_with_one_stage_and_one_year(tmp_path: Path, stages: list[str],
                                            years: list[int]) -> None:
    result = _subset(make_result(), stages, years)
    page = report.write_report(result, tmp_path).read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 1
    assert not network_loads(page)


def test_report_without_allocation_tables(tmp_path: Path) -> None:
    full = make_result()
    keep = {k: v for k, v in full.tables.items() if k in ("population", "components")}
    result = Result.from_tables("projection", keep, full.zones, {"scenario": "projection"})
    page = report.write_report(result, tmp_path).read_text(encoding="utf-8")
    assert "No indicators" in page and "No summary table" in page


def test_write_all_from_a_run_folder(tmp_path: Path) -> None:
    folder = make_result().write(tmp_path)
    paths = write_all(read_result(folder), folder)
    names = sorted(p.relative_to(folder).as_posix() for p in paths)
    result = read_result(folder)
    maps = sorted(f"maps/{s}_{y}.{ext}" for s in ("primary", "junior")
                  for y, _ in report.map_years(result, s, result.mode) for ext in ("png", "svg"))
    assert "maps/primary_2021.png" in maps and "maps/junior_2021.png" in maps
    assert names == sorted(["maps/catchments.html", "report.html", *maps])
    assert all(p.stat().st_size > 1000 for p in paths)


def test_chromium_renders_report(tmp_path: Path) -> None:
    import browser_check

    browser_check.require_chromium()
    page = report.write_report(make_result(), tmp_path)
    browser_check.check(page, tmp_path / "report.png", min_nonwhite=0.03)


def test_report_in_chinese(tmp_path: Path) -> None:
    result = make_result()
    result.manifest["lang"] = "zh"
    result.manifest["datum"] = "gcj02"
    result.manifest["caveats"] = {"en": ["Schools are synthetic."], "zh": ["学校名录为合成数据。"]}
    result.zones["name_zh"] = ["一区", "二区", None]        # fallback: name_zh → name → id
    page = report.write_report(result, tmp_path).read_text(encoding="utf-8")
    assert "GCJ-02" in page and "已转换为 WGS84" in page          # the datum is stated
    assert "本次运行的其他表格" not in page                          # no extra tables
    assert "学校名录为合成数据。" in page and "Schools are synthetic" not in page
    assert "<html lang='zh-CN'>" in page
    for text in ("学位缺口要点", "指标与规划目标对照", "小学（6–11 岁）", "初中（12–14 岁）",
                 "就近入学率", "汇总表", "学段参数", "最优分配"):
        assert text in page, text
    # the worst zones by their Chinese names where given, else the English name
    assert "Zone three" in page or "一区" in page or "二区" in page
    for english in ("Headline shortfalls", "Summary table", "Stage settings", "pupils (demand)",
                    ">met<", "not met", "no target"):
        assert english not in page, english


def test_zone_names_fall_back_to_name_then_id() -> None:
    from capacity.names import display_names
    import pandas as pd

    names = pd.DataFrame({"kind": "zone", "id": ["a", "b", "c"],
                          "name": ["Alpha", "Beta", None], "name_zh": ["甲", "", None]})
    assert display_names(names, "zone", "zh") == {"a": "甲", "b": "Beta", "c": "c"}
    assert display_names(names, "zone", "en") == {"a": "Alpha", "b": "Beta", "c": "c"}


def test_tables_of_custom_steps_are_shown(tmp_path: Path) -> None:
    import pandas as pd

    result = make_result()
    result.extras["school_checks"] = pd.DataFrame({"year": [2020, 2021],
                                                   "reported": [100, 110], "model": [101, 108]})
    page = report.report_html(result)
    assert "school_checks.csv (2)" in page and "<td class='n'>108</td>" in page
