"""The HTML run report (capacity.report.html)."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from capacity.report import html as report
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
    assert "Primary (ages 6–11)" in page and "Junior (ages 12–14)" in page
    assert "Zone three" in page
    # indicators vs targets with badges
    assert "nearby enrolment rate" in page
    assert 'class="badge not">not met' in page and "no target" in page
    # charts inline SVG, maps as data-URI PNG, link to the interactive map
    assert page.count("<svg") >= 2
    assert page.count("data:image/png;base64,") == 2
    assert 'href="maps/catchments.html"' in page
    # the summary table lists every stage and year of the scenario's mode
    for stage in ("primary", "junior"):
        for year in (2020, 2021):
            assert re.search(rf"<td>{stage}</td><td class='n'>{year}</td>", page)


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
    paths = report.write_all(read_result(folder), folder)
    names = sorted(p.relative_to(folder).as_posix() for p in paths)
    assert names == ["maps/catchments.html", "maps/junior_2021.png", "maps/junior_2021.svg",
                     "maps/primary_2021.png", "maps/primary_2021.svg", "report.html"]
    assert all(p.stat().st_size > 1000 for p in paths)


def test_chromium_renders_report(tmp_path: Path) -> None:
    import browser_check

    browser_check.require_chromium()
    page = report.write_report(make_result(), tmp_path)
    browser_check.check(page, tmp_path / "report.png", min_nonwhite=0.03)
