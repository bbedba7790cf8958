"""`capacity compare` adds costs per scenario (issue 23): the key projects' capital and the
run's budget total, read from the run folder's budget table (never recomputed)."""
from __future__ import annotations

import numpy as np
import openpyxl
import pandas as pd

from capacity.report.compare import compare, format_compare, write_compare
from capacity.report.compare_costs import COLUMNS
from synthetic_result import make_result


def _with_budget(tmp_path, name: str, total: float):
    """A run whose folder holds a budget table with district total ``total`` (CNY); the
    stage rows do not add up to it, so a recomputed total would differ."""
    r = make_result(name)
    folder = tmp_path / name
    folder.mkdir()
    pd.DataFrame({"zone_id": ["z1", "TOTAL", "TOTAL"], "zone_name": ["Z1", "District total",
                                                                      "District total"],
                  "stage": ["primary", "primary", "all"], "places_to_add": [10, 10, 10],
                  "cost_cny": [1.0, 1.0, total]}).to_csv(folder / "budget_cost.csv",
                                                         index=False)
    r.path = folder
    r.projects = pd.DataFrame({"project_id": ["a", "b", "c"], "name": ["A", "B", "C"],
                               "kind": "new", "stage": "primary", "school_id": ["a", "b", "c"],
                               "places": [500, 300, 200], "open_year": 2021,
                               "cost": [100e6, 50e6, np.nan], "lon": 0.0, "lat": 0.0})
    return r


def test_costs_per_scenario(tmp_path):
    base, alt = _with_budget(tmp_path, "base", 1_234_000_000.0), make_result("alt")
    alt.projects = alt.projects.iloc[0:0] if alt.projects is not None else None
    costs = compare([base, alt])["costs"].set_index("scenario")
    assert list(costs.reset_index().columns) == COLUMNS
    assert costs.loc["base", "key_projects"] == 3
    assert costs.loc["base", "key_project_places"] == 1000
    assert costs.loc["base", "key_project_capital_cny"] == 150e6      # the NaN cost is left out
    assert costs.loc["base", "budget_total_cny"] == 1_234_000_000.0  # read, not recomputed
    assert costs.loc["base", "budget_total_yi_cny"] == 12.34
    assert costs.loc["alt", "key_projects"] == 0
    assert np.isnan(costs.loc["alt", "key_project_capital_cny"])
    assert np.isnan(costs.loc["alt", "budget_total_cny"])             # no budget table


def test_costs_in_the_files_and_the_console(tmp_path):
    base = _with_budget(tmp_path, "base", 2e9)
    out = write_compare([base], tmp_path / "cmp", lang="zh")
    assert pd.read_csv(out / "compare_costs.csv")["budget_total_cny"].tolist() == [2e9]
    wb = openpyxl.load_workbook(out / "compare.xlsx")
    ws = wb["各情景成本"]
    header = [c.value for c in ws[1]]
    assert header[3:6] == ["重点项目投资（元）", "预算合计（元）", "预算合计（亿元）"]
    assert ws.cell(2, 5).value == 2e9 and ws.cell(2, 6).value == 20
    text = format_compare(compare([base]))
    assert "Costs per scenario" in text
    assert "150,000,000" in text and "2,000,000,000" in text
    assert "各情景成本" in format_compare(compare([base]), "zh")
