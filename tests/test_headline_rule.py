"""The policy rule first (issue 23): compulsory stages are headlined under the catchment rule
(就近入学), the optimal figure beside it, on a hand-built model worked out on paper.

Two zones 1 km apart, radius 1,100 m (each unit reaches both schools). Zone A: 14 primary
pupils (7 per sex aged 8), school S1 with 10 places at its centre; zone B: 6 pupils, S2 with
8 places. Nearest school: S1 takes 10 of A's 14 (4 short), S2 all 6 of B's → 4 short (20 %
of 20). Optimal: 18 places for 20 pupils, every pupil reaches both → 2 short.
"""
from __future__ import annotations

import re

import pandas as pd
import pytest

from capacity.cli import main
from capacity.result import read_result
from capacity.report.headline import headline_summary
from capacity.report.html import report_html
from capacity.stages import headline_mode
from hand_model import write_hand_model, write_scenario

NEAREST, OPTIMAL, DEMAND = 4, 2, 20


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("headline")
    write_hand_model(folder / "model", {"A": (0, 0), "B": (1000, 0)},
                     {"A": {8: 7}, "B": {8: 3}}, radius_m=1100,
                     schools=[{"school_id": "S1", "name": "S1", "stage": "primary",
                               "x": 0, "y": 0, "places": 10},
                              {"school_id": "S2", "name": "S2", "stage": "primary",
                               "x": 1000, "y": 0, "places": 8}])
    return folder


def _run(folder, name: str, extra: str, capsys, lang: str = "en") -> tuple[str, object]:
    scen = write_scenario(folder / f"{name}.toml", "model", 2022, extra)
    assert main(["run", str(scen), "-o", str(folder / "out"), "--no-maps",
                 "--lang", lang]) == 0
    return capsys.readouterr().out, read_result(folder / "out" / name)


def test_the_rule_of_each_stage():
    assert headline_mode(True, "optimal", ["optimal", "catchment"]) == "catchment"
    assert headline_mode(True, "designed", ["optimal", "catchment", "designed"]) == "designed"
    assert headline_mode(False, "optimal", ["optimal", "catchment"]) == "optimal"
    assert headline_mode(False, "catchment", ["optimal", "catchment"]) == "catchment"
    # a run without the catchment mode keeps the scenario's
    assert headline_mode(True, "optimal", ["optimal"]) == "optimal"


def test_compulsory_headline_is_the_catchment_figure(model, capsys):
    out, result = _run(model, "policy", '[allocation]\nmode = "optimal"\n', capsys)
    row = next(line for line in out.splitlines() if line.strip().startswith("primary"))
    cells = re.split(r"\s{2,}", row.strip())
    # stage, worst year, shortfall, of demand, out of reach, anywhere in reach, rule, where
    assert cells[1:7] == ["2020", f"{NEAREST}", f"{NEAREST / DEMAND:.1%}", "0", f"{OPTIMAL}",
                          "nearest school"]
    assert "anywhere within reach" in out
    frame = headline_summary(result)
    assert set(frame["mode"]) == {"catchment"}
    assert list(frame["shortfall"]) == [NEAREST] * 3
    assert list(frame["shortfall_optimal"]) == [OPTIMAL] * 3
    page = report_html(result)
    card = page[page.index('<div class="card">'):]
    card = card[:card.index("</div></div>") if "</div></div>" in card else None]
    assert f'<div class="big">{NEAREST}</div>' in card
    assert f"{OPTIMAL} if every pupil could be placed anywhere within reach." in card
    assert "nearest-school catchments" in card
    # indicators follow the same rule: 16 of 20 pupils placed, all at their nearest school
    ind = pd.read_csv(model / "out" / "policy" / "indicators.csv").set_index("indicator")
    assert ind.loc["primary_enrolment_rate", "value"].tolist() == [16 / 20] * 3
    assert ind.loc["nearby_enrolment_rate", "value"].tolist() == [16 / 20] * 3


def test_chinese_headline(model, capsys):
    out, result = _run(model, "policy_zh", "", capsys, lang="zh")
    row = next(line for line in out.splitlines() if line.strip().startswith("小学"))
    cells = re.split(r"\s{2,}", row.strip())
    assert cells[2] == f"{NEAREST}" and cells[5] == f"{OPTIMAL}" and cells[6] == "就近入学"
    assert "若学生可在服务范围内任意调配" in out
    page = report_html(result, lang="zh")
    assert f"若学生可在服务范围内任意调配，缺口为 {OPTIMAL} 人。" in page
    assert "学位保障率" in page and "入学（园）率" not in page


def test_a_stage_that_is_not_compulsory_keeps_the_scenarios_mode(model, capsys):
    out, result = _run(model, "voluntary", '[allocation]\nmode = "optimal"\n'
                       "[stages.primary]\ncompulsory = false\n", capsys)
    row = next(line for line in out.splitlines() if line.strip().startswith("primary"))
    cells = re.split(r"\s{2,}", row.strip())
    assert cells[2] == f"{OPTIMAL}" and cells[6] == "optimal"
    assert set(headline_summary(result)["mode"]) == {"optimal"}
    ind = pd.read_csv(model / "out" / "voluntary" / "indicators.csv").set_index("indicator")
    assert ind.loc["primary_enrolment_rate", "value"].tolist() == [18 / 20] * 3


def test_the_dossier_summary_follows_the_rule(model, capsys):
    """The dossier's places-short table shows primary (compulsory) under nearest-school
    catchments: 4 in every year shown, not the optimal 2."""
    from capacity.report.dossier_inputs import read_inputs
    from capacity.report.dossier_summary import short_section

    _run(model, "dossier", '[allocation]\nmode = "optimal"\n', capsys)
    page = short_section(read_inputs(model / "out" / "dossier", None, None), "en")
    row = re.search(r"<tr><td>Primary</td>(.*?)</tr>", page).group(1)
    cells = [c for c in re.findall(r"<td[^>]*>([^<]*)</td>", row)]
    years = re.findall(r"<th[^>]*>(\d{4})</th>", page)
    assert years and cells[:len(years)] == [str(NEAREST)] * len(years)
    assert "nearest" in page.lower() or "catchment" in page.lower()
