"""Budget tables and workbook: numbers match the run, rounding, cost, labels, formatting."""
from __future__ import annotations

import itertools
import math

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capacity.report import labels as L
from capacity.report.budget import STANDARD_SCHOOL_CLASSES, TOTAL_ID, budget_tables, write_budget
from capacity.report.sizes import standard_schools
from capacity.result import read_result
from synthetic_result import make_result


def _result(catchment_extra: int = 7):
    """The synthetic run, with the catchment mode worse than the optimal one (so reading the
    wrong mode shows), and summary rebuilt from the zone shortfall."""
    r = make_result()
    sf = r.tables["shortfall"].copy()
    rows = (sf["mode"] == "catchment") & (sf["zone_id"] == "z2")
    sf.loc[rows, "served"] -= catchment_extra
    sf.loc[rows, "shortfall"] += catchment_extra
    r.shortfall = sf
    summ = r.tables["summary"].drop(columns=["demand", "served", "shortfall", "out_of_reach"])
    tot = sf.groupby(["year", "stage", "mode"], as_index=False)[
        ["demand", "served", "shortfall", "out_of_reach"]].sum()
    r.summary = summ.merge(tot, on=["year", "stage", "mode"])
    return r


def _hand_result():
    """Optimal-mode zone shortfalls set by hand for the rounding checks."""
    r = _result()
    sf = r.tables["shortfall"].copy()
    hand = {  # (zone, stage): shortfall in 2020, 2021
        ("z1", "primary"): (0, 46), ("z2", "primary"): (45, 45), ("z3", "primary"): (1, 0.5),
        ("z1", "junior"): (100, 20), ("z2", "junior"): (0, 0), ("z3", "junior"): (0, 101),
    }
    sf["shortfall"] = sf["shortfall"].astype(float)
    key = pd.MultiIndex.from_frame(sf[["zone_id", "stage"]])
    opt = (sf["mode"] == "optimal").to_numpy()
    for (z, s), (a, b) in hand.items():
        rows = opt & (key == (z, s))
        sf.loc[rows, "shortfall"] = np.where(sf.loc[rows, "year"] == 2020, a, b)
    r.shortfall = sf
    return r


def _sheet(path, sheet: str) -> pd.DataFrame:
    return pd.read_excel(path, sheet_name=sheet, engine="openpyxl")


def _english(frame: pd.DataFrame, columns, lang="en") -> pd.DataFrame:
    back = {L.column_label(c, lang): c for c in columns}
    return frame.rename(columns=back)


def test_summary_matches_result_for_the_scenario_mode():
    r = _result()
    summary = budget_tables(r)["summary"]
    want = r.summary[r.summary["mode"] == r.mode].set_index(["stage", "year"])
    got = summary.set_index(["stage", "year"])
    for col in ["demand", "places", "served", "shortfall", "out_of_reach"]:
        pd.testing.assert_series_equal(got[col].sort_index(), want[col].sort_index(),
                                       check_dtype=False, check_names=False, check_index_type=False)
    assert (got["in_reach_unserved"] == got["shortfall"] - got["out_of_reach"]).all()
    # the catchment mode differs, so picking it would fail the test above
    other = r.summary[r.summary["mode"] == "catchment"]["shortfall"].sum()
    assert other != summary["shortfall"].sum()


def test_summary_indicators_attach_to_their_stages():
    s = budget_tables(_result())["summary"].set_index(["stage", "year"])
    # nearby enrolment concerns the compulsory stages; primary_enrolment_rate only primary
    assert s.loc[("primary", 2020), "nearby_enrolment_rate"] == 0.8
    assert s.loc[("junior", 2021), "nearby_enrolment_rate_target"] == 0.99
    assert not s.loc[("junior", 2021), "nearby_enrolment_rate_met"]
    assert s.loc[("primary", 2021), "enrolment_rate"] == 0.7
    assert np.isnan(s.loc[("junior", 2021), "enrolment_rate"])


def test_shortfall_by_zone_matches_result_and_names_zones():
    r = _result()
    by_zone = budget_tables(r)["shortfall_by_zone"]
    want = r.shortfall[r.shortfall["mode"] == "optimal"]
    merged = by_zone.merge(want, on=["zone_id", "stage", "year"], suffixes=("", "_want"))
    assert len(merged) == len(want) == len(by_zone)
    for col in ["demand", "served", "shortfall", "out_of_reach"]:
        assert (merged[col] == merged[f"{col}_want"]).all()
    names = dict(zip(by_zone["zone_id"], by_zone["zone_name"]))
    assert names == {"z1": "Zone one", "z2": "Zone two", "z3": "Zone three"}


def test_places_to_add_rounds_peak_up_to_whole_classes():
    p = budget_tables(_hand_result())["places_to_add"].set_index(["zone_id", "stage"])
    # primary class size 45, junior 50
    expect = {  # peak, peak year, classes, places
        ("z1", "primary"): (46, 2021, 2, 90), ("z2", "primary"): (45, 2020, 1, 45),
        ("z3", "primary"): (1, 2020, 1, 45), ("z1", "junior"): (100, 2020, 2, 100),
        ("z2", "junior"): (0, None, 0, 0), ("z3", "junior"): (101, 2021, 3, 150),
    }
    for key, (peak, year, classes, places) in expect.items():
        row = p.loc[key]
        assert row["peak_shortfall"] == peak
        assert (pd.isna(row["peak_year"]) if year is None else row["peak_year"] == year)
        assert row["classes_to_add"] == classes
        assert row["places_to_add"] == places
        assert row["places_to_add"] == row["classes_to_add"] * row["class_size"]
    # the need only: what to build is the action list (tests/test_costing.py)
    assert "schools_to_build" not in p.columns


def test_standard_schools_hand_values():
    n, built, mix = standard_schools(np.array([0, 1, 24, 25, 36, 37, 50, 61, 73]), (24, 36))
    assert list(n) == [0, 1, 1, 1, 1, 2, 2, 2, 3]
    assert list(built) == [0, 24, 24, 36, 36, 48, 60, 72, 84]
    assert list(mix) == ["", "1×24", "1×24", "1×36", "1×36", "2×24", "1×36 + 1×24",
                         "2×36", "1×36 + 2×24"]
    assert STANDARD_SCHOOL_CLASSES["kindergarten"] == (6, 9, 12)      # 建标175-2016


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 120), min_size=1, max_size=8),
       st.lists(st.integers(6, 40), min_size=1, max_size=3, unique=True))
def test_standard_schools_is_optimal(classes, sizes):
    n, built, _ = standard_schools(np.array(classes), tuple(sizes))
    for c, k, b in zip(classes, n, built):
        assert k == math.ceil(c / max(sizes))
        assert b >= c
        # no mix of k schools holds c classes with fewer classes built
        best = min((sum(m) for m in itertools.combinations_with_replacement(sizes, k)
                    if sum(m) >= c), default=0)
        assert b == best


def test_cost_totals_are_sums_of_the_actions():
    r = _hand_result()
    cost = budget_tables(r)["cost"]
    lines = cost[cost["id"] != TOTAL_ID]
    assert np.allclose(cost["cost_wan_cny"], cost["cost_cny"] / 1e4)
    assert np.allclose(cost["cost_yi_cny"], cost["cost_cny"] / 1e8)
    totals = cost[cost["id"] == TOTAL_ID].set_index("stage")["cost_cny"]
    for stage in ("primary", "junior"):
        assert totals[stage] == pytest.approx(lines.loc[lines["stage"] == stage,
                                                         "cost_cny"].sum())
    assert totals["all"] == pytest.approx(lines["cost_cny"].sum())
    assert (lines["basis"] == "rule_of_thumb").all()


def test_workbook_numbers_equal_csv_and_result(tmp_path):
    r = _hand_result()
    path = write_budget(r, tmp_path)
    assert path == tmp_path / "budget.xlsx"
    views = budget_tables(r)
    for view, frame in views.items():
        csv = pd.read_csv(tmp_path / f"budget_{view}.csv")
        assert list(csv.columns) == list(frame.columns)  # English snake_case
        if view == "shortfall_by_zone":   # the sheet: zone × stage rows, a column per year
            sheet = _sheet(path, L.sheet_label(view))
            years = sorted(csv["year"].unique())
            assert [str(c) for c in sheet.columns[3:]] == [str(y) for y in years]
            for (zone, stage), g in csv.groupby(["zone_id", "stage"]):
                row = sheet[(sheet.iloc[:, 0] == zone)
                            & (sheet.iloc[:, 2] == L.stage_label(stage))]
                assert len(row) == 1
                assert row.iloc[0, 3:].astype(float).tolist() == \
                    g.set_index("year")["shortfall"].reindex(years).astype(float).tolist()
            continue
        sheet = _english(_sheet(path, L.sheet_label(view)), frame.columns)
        assert list(sheet.columns) == list(frame.columns)
        if view == "cost_by_year":    # the sheet adds the total row: the rows' sum
            assert sheet["cost_cny"].iloc[-1] == pytest.approx(csv["cost_cny"].sum())
            sheet = sheet.iloc[:-1]
        assert len(sheet) == len(csv) == len(frame)
        for col in frame.columns:
            if pd.api.types.is_numeric_dtype(frame[col]) and not \
                    pd.api.types.is_bool_dtype(frame[col]):
                a = pd.to_numeric(sheet[col]).to_numpy(float)
                b = csv[col].to_numpy(float)
                c = frame[col].to_numpy(float, na_value=np.nan)
                assert np.allclose(a, b, equal_nan=True), (view, col)
                assert np.allclose(b, c, equal_nan=True), (view, col)
    # the workbook's summary shortfall equals the run's summary for its mode
    sheet = _english(_sheet(path, "Summary"), views["summary"].columns)
    stage_back = {L.stage_label(s): s for s in L.STAGES}
    got = sheet.assign(stage=sheet["stage"].map(stage_back)).set_index(["stage", "year"])
    want = r.summary[r.summary["mode"] == r.mode].set_index(["stage", "year"])
    assert (got["shortfall"].sort_index() == want["shortfall"].sort_index()).all()


def test_workbook_is_formatted_for_people(tmp_path):
    path = write_budget(_result(), tmp_path)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "README"
    assert {"Summary", "Shortfall by zone", "Places to add", "Cost"} <= set(wb.sheetnames)
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2", ws.title
        assert all(c.font.bold for c in ws[1] if c.value is not None), ws.title
    ws = wb["Summary"]
    head = [c.value for c in ws[1]]
    assert "Shortfall (pupils)" in head and "Demand (pupils)" in head
    col = head.index("Shortfall (pupils)") + 1
    assert ws.cell(2, col).number_format == "#,##0"
    assert ws.cell(2, head.index("Shortfall rate (%)") + 1).number_format == "0.0%"
    assert ws.cell(2, head.index("Year") + 1).number_format == "0"
    assert ws.cell(2, head.index("Stage") + 1).value == "Primary"
    cost = wb["Cost"]
    head = [c.value for c in cost[1]]
    assert "Cost (CNY)" in head
    assert cost.cell(2, head.index("Cost (CNY)") + 1).number_format == "#,##0"
    # totals rows are bold, and columns are wider than the default
    last = cost.max_row
    assert cost.cell(last, 1).value == TOTAL_ID and cost.cell(last, 1).font.bold
    basis = openpyxl.utils.get_column_letter(head.index("Basis") + 1)
    assert cost.column_dimensions[basis].width > 20


def test_chinese_labels(tmp_path):
    path = write_budget(_result(), tmp_path, lang="zh")
    wb = openpyxl.load_workbook(path)
    assert {"说明", "汇总", "分区学位缺口", "需增学位", "建设成本"} <= set(wb.sheetnames)
    head = [c.value for c in wb["汇总"][1]]
    assert "学位缺口（人）" in head and "年份" in head
    stages = {wb["汇总"].cell(i, head.index("学段") + 1).value
              for i in range(2, wb["汇总"].max_row + 1)}
    assert stages == {"小学", "初中"}
    assert "建设成本（元）" in [c.value for c in wb["建设成本"][1]]
    assert "全区合计" in [c.value for c in wb["建设成本"]["E"]]
    # CSVs stay English whatever the language
    assert "shortfall" in pd.read_csv(tmp_path / "budget_summary.csv").columns
    with pytest.raises(ValueError):
        write_budget(_result(), tmp_path, lang="fr")


def test_criticality_view_is_formatted(tmp_path):
    crit = pd.DataFrame({
        "project_id": ["a", "b"], "name": ["School A", "School B"],
        "stage": ["primary", "junior"], "open_year": [2021, 2022],
        "extra_shortfall_if_dropped": [10.0, 250.0],
        "extra_shortfall_if_dropped_peak": [5.0, 90.0],
        "latest_open_year_without_extra_shortfall": [2023, None]})
    views = budget_tables(_result(), crit)
    c = views["criticality"]
    assert list(c.columns) == list(crit.columns)
    assert list(c["project_id"]) == ["b", "a"]          # most critical first
    assert str(c["latest_open_year_without_extra_shortfall"].dtype) == "Int64"
    path = write_budget(_result(), tmp_path, criticality=crit, lang="zh")
    ws = openpyxl.load_workbook(path)["重点项目关键性"]
    assert ws.cell(1, 5).value == "取消后新增缺口（人·年）"
    assert ws.cell(2, 5).value == 250
    assert ws.cell(2, 3).value == "初中"
    # criticality values are translated too: project kind and yes/no
    crit = crit.assign(kind=["new", "expansion"], needed_by_horizon=[True, False])
    path = write_budget(_result(), tmp_path, criticality=crit, lang="zh")
    ws = openpyxl.load_workbook(path)["重点项目关键性"]
    head = [c.value for c in ws[1]]
    rows = {ws.cell(r, 1).value: [c.value for c in ws[r]] for r in (2, 3)}
    assert rows["a"][head.index("类别")] == "新建学校"
    assert rows["b"][head.index("类别")] == "改扩建"
    assert rows["a"][head.index("规划期内是否需要")] == "是"
    assert rows["b"][head.index("规划期内是否需要")] == "否"


def test_budget_from_a_written_and_reread_run(tmp_path):
    r = _result()
    folder = r.write(tmp_path, writers=[write_budget])
    assert (folder / "budget.xlsx").is_file()
    again = budget_tables(read_result(folder))
    first = budget_tables(_result())
    for view in first:
        a, b = first[view], again[view]
        assert list(a.columns) == list(b.columns), view
        for col in a.columns:
            if pd.api.types.is_numeric_dtype(a[col]) and not pd.api.types.is_bool_dtype(a[col]):
                assert np.allclose(a[col].to_numpy(float, na_value=np.nan),
                                   b[col].to_numpy(float, na_value=np.nan), equal_nan=True)
            else:
                assert list(a[col].astype("string").fillna("")) == \
                    list(b[col].astype("string").fillna("")), (view, col)


def test_nearby_enrolment_concerns_the_runs_compulsory_stages():
    r = _result()
    r.manifest["stages"] = {k: dict(v) for k, v in r.stages.items()}
    r.manifest["stages"]["junior"]["compulsory"] = False
    assert r.compulsory_stages == ["primary"]
    ind = budget_tables(r)["indicators"]
    nearby = ind[ind["indicator"] == "nearby_enrolment_rate"]
    assert set(nearby["stage"]) == {"primary"}


def test_readme_names_the_targets_year(tmp_path):
    r = _result()
    r.manifest["targets"] = {"year": 2030, "nearby_enrolment_rate": 0.99}
    path = write_budget(r, tmp_path / "en")
    notes = dict(openpyxl.load_workbook(path)["README"].iter_rows(min_row=2, values_only=True))
    assert notes["Indicators"].endswith("and the 2030 target.")
    r.manifest.pop("targets")                        # no [targets] year: no year named
    path = write_budget(r, tmp_path / "zh", lang="zh")
    notes = dict(openpyxl.load_workbook(path)["说明"].iter_rows(min_row=2, values_only=True))
    assert notes["指标"].endswith("与目标。") and "2025" not in "".join(notes.values())
