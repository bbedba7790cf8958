"""Lasting surplus of places (capacity/surplus.py, surplus.csv, surplus_zones.csv), against
counts worked out on paper."""
from __future__ import annotations

import pandas as pd
import pytest

from capacity.cli import main
from capacity.result import read_result
from capacity.report.html import report_html
from capacity.surplus import lasting
from hand_model import write_hand_model, write_scenario


def _first(flags: list[bool], years: list[int], horizon: int, min_years: int):
    frame = pd.DataFrame({"k": "a", "year": years, "surplus": flags})
    return lasting(frame, ["k"], horizon, min_years)["first_year_lasting"].iloc[0]


def test_lasting_is_the_run_of_surplus_years_that_reaches_the_horizon():
    years = list(range(2020, 2026))
    assert _first([True, True, False, True, True, True], years, 2025, 3) == 2023
    assert _first([True] * 6, years, 2025, 3) == 2020
    assert pd.isna(_first([True] * 5 + [False], years, 2025, 3))    # ends before the horizon
    assert pd.isna(_first([False, False, False, True, True, True], years, 2025, 4))
    # a year without the school (closed) breaks the run
    assert _first([True, True, True, True], [2020, 2021, 2023, 2024], 2024, 2) == 2023
    assert pd.isna(_first([True, True, True], [2020, 2021, 2022], 2024, 2))  # closed by then
    counts = lasting(pd.DataFrame({"k": "a", "year": years,
                                   "surplus": [True, True, False, True, True, True]}),
                     ["k"], 2025, 3)
    assert counts["years_with_surplus"].iloc[0] == 5
    assert counts["surplus_years"].iloc[0] == "2020-2021, 2023-2025"


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """Zones A and B 5 km apart (radius 1.1 km: each reaches only its own school). A: 10
    pupils aged 6 in 2020 (primary to 2025, gone from 2026), S1 with 12 places: 2 spare
    (16.7 % < 20 %) to 2025, 12 spare in 2026-2028. B: 10 pupils aged 9 (gone from 2023),
    S2 with 10 places: none spare to 2022, 10 spare in 2023-2028."""
    folder = tmp_path_factory.mktemp("surplus")
    write_hand_model(folder / "model", {"A": (0, 0), "B": (5000, 0)},
                     {"A": {6: 5}, "B": {9: 5}}, radius_m=1100,
                     schools=[{"school_id": "S1", "name": "S1", "stage": "primary",
                               "x": 0, "y": 0, "places": 12},
                              {"school_id": "S2", "name": "S2", "stage": "primary",
                               "x": 5000, "y": 0, "places": 10}])
    return folder


def _run(folder, name: str, toml_extra: str = ""):
    model = folder / "model"
    if toml_extra:
        (folder / f"model-{name}").mkdir()
        for f in model.iterdir():
            (folder / f"model-{name}" / f.name).write_bytes(f.read_bytes())
        with open(folder / f"model-{name}" / "model.toml", "a", encoding="utf-8") as fh:
            fh.write(toml_extra)
        model = folder / f"model-{name}"
    scen = write_scenario(folder / f"{name}.toml", model.name, 2028)
    assert main(["run", str(scen), "-o", str(folder / "out"), "--no-maps"]) == 0
    return read_result(folder / "out" / name)


def test_schools_and_zones_with_a_lasting_surplus(model, capsys):
    r = _run(model, "default")
    s = r.surplus
    s1, s2 = s[s["school_id"] == "S1"], s[s["school_id"] == "S2"]
    assert list(s1["year"]) == [2026, 2027, 2028] and set(s1["spare_places"]) == {12}
    assert set(s1["first_year_lasting"]) == {2026} and set(s1["freeable_places"]) == {12}
    assert set(s1["years_with_surplus"]) == {3} and set(s1["zone_id"]) == {"A"}
    assert list(s2["year"]) == list(range(2023, 2029)) and set(s2["spare_places"]) == {10}
    assert set(s2["first_year_lasting"]) == {2023} and set(s2["surplus_years"]) == {"2023-2028"}
    assert set(s["mode"]) == {"catchment"}          # primary: the headline rule
    z = r.surplus_zones.set_index(["zone_id", "year"])
    assert z.loc[("A", 2025), ["demand", "places", "pupils", "spare_places",
                               "places_minus_demand"]].tolist() == [10, 12, 10, 2, 2]
    assert z.loc[("B", 2028), ["demand", "spare_places", "places_minus_demand"]].tolist() \
        == [0, 10, 10]
    assert z.loc[("A", 2020), "first_year_lasting"] == 2026
    page = report_html(r)
    assert "places exceed demand by <b>22</b>" in page and "<b>22</b> places spare" in page
    assert "富余学位" in report_html(r, lang="zh")


def test_the_rule_is_a_model_setting(model, capsys):
    r = _run(model, "four", "\n[surplus]\nyears = 4\n")
    assert set(r.surplus["school_id"]) == {"S2"}          # S1's 3 years are too few
    r = _run(model, "share", "\n[surplus]\nshare = 0.15\n")
    s1 = r.surplus[r.surplus["school_id"] == "S1"]        # 2 of 12 spare is 16.7 % ≥ 15 %
    assert list(s1["year"]) == list(range(2020, 2029))
    assert set(s1["freeable_places"]) == {2} and set(s1["first_year_lasting"]) == {2020}
