"""Scenario comparison: right numbers in the right columns, unique names, atomic writes."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from capacity.errors import InputError
from capacity.report import labels as L
from capacity.report.compare import COMPARE_FILES, compare, format_compare, write_compare
from synthetic_result import make_result


def _alt(name: str = "alt"):
    """A second run: catchment mode, whose z2 catchment shortfall grows by 5 pupils a year
    (5 in 2020, 10 in 2021), and a higher nearby-enrolment rate."""
    r = make_result(name)
    r.manifest["allocation_mode"] = "catchment"
    sf = r.tables["shortfall"].copy()
    rows = (sf["mode"] == "catchment") & (sf["zone_id"] == "z2")
    extra = 5 * (sf["year"] - 2019)
    sf.loc[rows, "served"] -= extra[rows]
    sf.loc[rows, "shortfall"] += extra[rows]
    r.shortfall = sf
    summ = r.tables["summary"].drop(columns=["served", "shortfall"])
    tot = sf.groupby(["year", "stage", "mode"], as_index=False)[["served", "shortfall"]].sum()
    r.summary = summ.merge(tot, on=["year", "stage", "mode"])
    ind = r.tables["indicators"].copy()
    ind.loc[ind["indicator"] == "nearby_enrolment_rate", "value"] = 0.9
    r.indicators = ind
    return r


def test_shortfall_side_by_side_in_each_scenarios_mode():
    base, alt = make_result("base"), _alt()
    t = compare([base, alt])["shortfall"].set_index(["stage", "year"])
    assert list(t.columns) == ["base", "alt"]
    # base (optimal): z3 out of reach → primary 30, junior 15 both years
    assert t.loc[("primary", 2020), "base"] == 30 and t.loc[("junior", 2021), "base"] == 15
    # alt (catchment): +5 in 2020, +10 in 2021
    assert t.loc[("primary", 2020), "alt"] == 35 and t.loc[("primary", 2021), "alt"] == 40
    assert t.loc[("junior", 2021), "alt"] == 25
    # the stage order is the teaching order
    assert list(dict.fromkeys(t.index.get_level_values("stage"))) == ["primary", "junior"]


def test_worst_year_zones_per_scenario():
    wz = compare([make_result("base"), _alt()])["worst_year_zones"]
    alt = wz[(wz["scenario"] == "alt") & (wz["stage"] == "primary")].set_index("zone_id")
    assert set(alt["worst_year"]) == {2021} and set(alt["mode"]) == {"catchment"}
    assert alt.loc["z2", "shortfall"] == 10 and alt.loc["z3", "shortfall"] == 30
    assert alt["shortfall"].sum() == alt["district_shortfall"].iloc[0] == 40
    base = wz[(wz["scenario"] == "base") & (wz["stage"] == "junior")]
    assert set(base["worst_year"]) == {2020}          # ties → the earliest year
    assert base["shortfall"].sum() == 15
    assert dict(zip(base["zone_id"], base["zone_name"]))["z3"] == "Zone three"


def test_indicators_side_by_side():
    t = compare([make_result("base"), _alt()])["indicators"]
    assert list(t.columns) == ["indicator", "year", "target", "base", "alt"]
    row = t[(t["indicator"] == "nearby_enrolment_rate") & (t["year"] == 2021)].iloc[0]
    assert row["target"] == 0.99 and row["base"] == 0.8 and row["alt"] == 0.9


def test_missing_years_are_empty_not_zero():
    short = _alt("short")
    for key in ("summary", "indicators"):
        setattr(short, key, short.tables[key][short.tables[key]["year"] == 2020])
    t = compare([make_result("base"), short])["shortfall"].set_index(["stage", "year"])
    assert np.isnan(t.loc[("primary", 2021), "short"])
    assert t.loc[("primary", 2020), "short"] == 35


def test_duplicate_names_are_an_input_error_naming_the_folders(tmp_path):
    a, b = make_result("same"), make_result("same")
    a.path, b.path = tmp_path / "run1", tmp_path / "run2"
    with pytest.raises(InputError) as err:
        compare([a, b])
    text = str(err.value)
    assert "run1" in text and "run2" in text and "same" in text
    with pytest.raises(InputError):
        write_compare([a, b], tmp_path / "compare")
    assert not (tmp_path / "compare").exists()
    with pytest.raises(InputError):
        compare([])


def test_write_compare_files_match_tables(tmp_path):
    runs = [make_result("base"), _alt()]
    out = write_compare(runs, tmp_path / "compare")
    assert out == tmp_path / "compare"
    assert sorted(p.name for p in out.iterdir()) == sorted(COMPARE_FILES)
    assert [p.name for p in tmp_path.iterdir()] == ["compare"]   # no temporary folder left
    tables = compare(runs)
    wb = openpyxl.load_workbook(out / "compare.xlsx")
    for key, frame in tables.items():
        csv = pd.read_csv(out / f"compare_{key}.csv")
        assert list(csv.columns) == list(frame.columns)
        sheet = pd.read_excel(out / "compare.xlsx", sheet_name=L.sheet_label(key))
        sheet = sheet.rename(columns={L.column_label(c): c for c in frame.columns})
        assert list(sheet.columns) == list(frame.columns)
        for col in ["base", "alt", "shortfall"]:
            if col in frame.columns:
                assert np.allclose(csv[col], frame[col], equal_nan=True)
                assert np.allclose(sheet[col], frame[col], equal_nan=True)
        assert wb[L.sheet_label(key)].freeze_panes == "A2"
    ws = wb[L.sheet_label("indicators")]
    head = [c.value for c in ws[1]]
    assert ws.cell(2, head.index("alt") + 1).number_format == "0.0%"


def test_write_compare_replaces_own_files_and_keeps_others(tmp_path):
    runs = [make_result("base"), _alt()]
    out = write_compare(runs, tmp_path / "compare")
    write_compare(runs[:1], out)                       # rerun: swapped in whole
    assert list(pd.read_csv(out / "compare_shortfall.csv").columns) == ["stage", "year", "base"]
    (out / "mine.txt").write_text("keep me")
    write_compare(runs, out)                           # a folder with other files: kept
    assert (out / "mine.txt").read_text() == "keep me"
    assert "alt" in pd.read_csv(out / "compare_shortfall.csv").columns
    assert sorted(p.name for p in tmp_path.iterdir()) == ["compare"]


def test_format_compare_is_a_plain_table():
    text = format_compare(compare([make_result("base"), _alt()]))
    lines = text.splitlines()
    i = lines.index("Shortfall (pupils), Primary")
    assert lines[i + 1].split() == ["year", "base", "alt"]
    assert lines[i + 3].split() == ["2020", "30", "35"]
    assert lines[i + 4].split() == ["2021", "30", "40"]
    assert "Nearby enrolment rate" in text and "90.0%" in text
    assert all(len(line) < 120 for line in lines)


def test_compare_reads_written_runs(tmp_path):
    from capacity.result import read_result
    folders = [make_result("base").write(tmp_path), _alt().write(tmp_path)]
    runs = [read_result(f) for f in folders]
    t = compare(runs)["shortfall"].set_index(["stage", "year"])
    assert t.loc[("primary", 2021), "alt"] == 40 and t.loc[("primary", 2021), "base"] == 30
    assert Path(runs[0].path).name == "base"


def test_readme_names_the_targets_year(tmp_path):
    base, alt = make_result("base"), _alt()
    for r in (base, alt):
        r.manifest["targets"] = {"year": 2030}
    write_compare([base, alt], tmp_path / "out")
    ws = openpyxl.load_workbook(tmp_path / "out" / "compare.xlsx")["README"]
    notes = dict(ws.iter_rows(min_row=2, values_only=True))
    assert notes["Indicators"] == "Indicator values per scenario beside the plan's 2030 targets."
