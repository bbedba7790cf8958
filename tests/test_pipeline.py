"""The whole pipeline on a tiny model: invariants, scenario edits, output folder, CLI."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import capacity
from capacity.cli import main
from capacity.demand import largest_remainder
from capacity.result import TABLES
from capacity.scenario import load_scenario
from tiny_model import write_tiny_model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny")
    write_tiny_model(root / "model")
    (root / "base.toml").write_text('name = "base"\nmodel = "model"\nhorizon = 2027\n')
    return root


@pytest.fixture(scope="module")
def result(tiny):
    return capacity.run(tiny / "base.toml")


def test_served_plus_shortfall_is_demand(result):
    s = result.shortfall
    assert (s["served"] + s["shortfall"] == s["demand"]).all()
    assert (s["out_of_reach"] <= s["shortfall"]).all()
    a = result.allocation
    per_unit = a.groupby(["unit_id", "year", "stage", "mode"])["pupils"].sum()
    by_zone = per_unit.reset_index().merge(result.units[["unit_id", "zone_id"]]) \
        .groupby(["zone_id", "year", "stage", "mode"])["pupils"].sum()
    assert (by_zone.sort_index() == s.set_index(["zone_id", "year", "stage", "mode"])["demand"]
            .sort_index()).all()


def test_no_school_over_places_and_flows_within_radius(result):
    sc = result.schools
    assert (sc["pupils"] <= sc["places"]).all()
    a = result.allocation.dropna(subset=["school_id"])
    radius = a["stage"].astype(str).map({k: v["radius_m"] for k, v in result.stages.items()})
    assert (a["distance_m"] <= radius + 1e-6).all()
    assert (a["pupils"] > 0).all() and a["pupils"].dtype.kind == "i"


def test_optimal_never_worse_and_aggregate_gap(result):
    s = result.summary.pivot_table(index=["year", "stage"], columns="mode",
                                   values=["shortfall", "demand", "places"])
    assert (s[("shortfall", "optimal")] <= s[("shortfall", "catchment")]).all()
    gap = (s[("demand", "optimal")] - s[("places", "optimal")]).clip(lower=0)
    assert (s[("shortfall", "optimal")] >= gap).all()


def test_zone_totals_keep_their_rounded_value(result):
    d = result.demand.set_index(["zone_id", "year", "stage"])["pupils"]
    s = result.shortfall[result.shortfall["mode"] == "optimal"] \
        .set_index(["zone_id", "year", "stage"])["demand"]
    assert (np.floor(d.loc[s.index] + 0.5) == s).all()


def test_demand_is_population_times_enrolment(result):
    pop = result.population
    for stage, cfg in result.stages.items():
        lo, hi = cfg["ages"]
        kids = pop[(pop["age"] >= lo) & (pop["age"] <= hi)].groupby("year")["population"].sum()
        d = result.demand[result.demand["stage"] == stage].groupby("year")["pupils"].sum()
        np.testing.assert_allclose(d, kids * cfg["enrolment"], rtol=1e-12)


def test_projects_open_in_their_year(result):
    cap = result.capacity
    new = cap[cap["school_id"] == "newp"]
    assert new["year"].min() == 2023 and (new["places"] == 540).all()
    p1 = cap[cap["school_id"] == "p1"].set_index("year")["places"]
    assert p1[2021] == 300 and p1[2022] == 480  # expansion +4 classes × 45


def test_population_accounting(result):
    pop = result.population.groupby(["zone_id", "year"])["population"].sum().unstack()
    comp = result.components.set_index(["zone_id", "year"])
    for year in range(2021, 2028):
        c = comp.xs(year, level="year")
        expected = pop[year - 1] + c["births"] - c["deaths"] + c["net_migration"]
        np.testing.assert_allclose(pop[year], expected.loc[pop.index], rtol=1e-10)


def test_criticality_matches_brute_force(tiny, result):
    crit = result.criticality.set_index("project_id")
    base = result.summary[result.summary["mode"] == "optimal"]
    for pid in ("newp", "expp"):
        dropped = capacity.run(replace(load_scenario(tiny / "base.toml"), drop=[pid]),
                               criticality=False)
        other = dropped.summary[dropped.summary["mode"] == "optimal"]
        extra = (other.set_index(["year", "stage"])["shortfall"]
                 - base.set_index(["year", "stage"])["shortfall"])
        assert crit.loc[pid, "extra_shortfall_if_dropped"] == extra.sum()
        positive = extra[extra > 0].reset_index()
        first = positive["year"].min() if len(positive) else None
        assert crit.loc[pid, "latest_open_year_without_extra_shortfall"] == first


def scenario(tiny: Path, body: str, name: str) -> Path:
    p = tiny / f"{name}.toml"
    p.write_text(f'name = "{name}"\nextends = "base.toml"\n{body}')
    return p


def _short(r, stage="primary", mode="optimal"):
    s = r.summary
    return s[(s["stage"] == stage) & (s["mode"] == mode)].set_index("year")


def test_scenario_edits(tiny, result):
    delayed = capacity.run(scenario(tiny, '[projects]\ndelay_years = { "newp" = 2 }\n', "d"),
                           criticality=False)
    assert delayed.capacity.query("school_id == 'newp'")["year"].min() == 2025
    bigger = capacity.run(scenario(tiny, "[stages.primary]\nclass_size = 50\n", "c"),
                          criticality=False)
    p2 = bigger.capacity.query("school_id == 'p2' and year == 2020")["places"].iloc[0]
    assert p2 == np.floor(200 * 50 / 45)
    rep = capacity.run(scenario(tiny, '[[repurposed]]\nsite_id = "voc"\nname = "Vocational"\n'
                                      'stage = "primary"\nlon = 116.70\nlat = 39.89\n'
                                      'places = 300\nfrom_year = 2024\n', "r"),
                       criticality=False)
    assert _short(rep).loc[2024, "places"] == _short(result).loc[2024, "places"] + 300
    cross = capacity.run(scenario(tiny, '[[cross_boundary]]\nzone_id = "c"\nstage = "primary"\n'
                                        'pupils = 100\nfrom_year = 2022\n', "x"),
                         criticality=False)
    assert _short(cross).loc[2022, "demand"] == _short(result).loc[2022, "demand"] + 100
    assert _short(cross).loc[2021, "demand"] == _short(result).loc[2021, "demand"]
    low = capacity.run(scenario(tiny, "[fertility]\ntfr = { 2020 = 0.1 }\n", "f"),
                       criticality=False)
    assert low.components["births"].sum() < 0.5 * result.components["births"].sum()
    noh = capacity.run(scenario(tiny, "[housing]\nscale = 0.0\n[migration]\nscale = 0.0\n",
                                "h"), criticality=False)
    assert noh.components["net_migration"].abs().sum() == 0


def test_result_round_trip(tmp_path, result):
    folder = result.write(tmp_path)
    again = capacity.load_result(folder)
    for key in TABLES:
        a, b = result.tables[key], again.tables[key]
        assert list(b.columns) == TABLES[key]
        assert len(a) == len(b), key
    pd.testing.assert_series_equal(
        result.summary["shortfall"].reset_index(drop=True),
        again.summary["shortfall"].reset_index(drop=True), check_dtype=False)


def test_failed_write_leaves_nothing(tmp_path, result):
    def broken(r, folder):
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        result.write(tmp_path / "out", writers=[broken])
    assert list((tmp_path / "out").iterdir()) == []


def test_cli_project_and_run(tiny, tmp_path, capsys):
    assert main(["project", str(tiny / "base.toml"), "-o", str(tmp_path / "p")]) == 0
    pop = pd.read_csv(tmp_path / "p" / "base" / "population.csv")
    assert list(pop.columns) == TABLES["population"]
    assert pop["year"].min() == 2020 and pop["year"].max() == 2027
    assert main(["run", str(tiny / "base.toml"), "-o", str(tmp_path / "o"), "--no-maps"]) == 0
    out = capsys.readouterr().out
    assert "worst year" in out and "primary" in out
    folder = tmp_path / "o" / "base"
    for key, cols in TABLES.items():
        frame = pd.read_csv(folder / f"{key}.csv")
        assert list(frame.columns) == cols, key
    assert (folder / "budget.xlsx").is_file()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["scenario"] == "base" and "model.toml" in manifest["input_hashes"]
    unserved = pd.read_csv(folder / "allocation.csv")
    gone = unserved[unserved["school_id"].isna()]
    assert gone["distance_m"].isna().all() and len(gone) > 0


def test_cli_bad_scenario_exit_2(tiny, tmp_path, capsys):
    bad = tiny / "bad.toml"
    bad.write_text('name = "bad"\nmodel = "model"\nhorizon = 2030\n[projects]\ndrop = ["zzz"]\n')
    assert main(["run", str(bad), "-o", str(tmp_path / "o")]) == 2
    assert "unknown project id 'zzz'" in capsys.readouterr().err
    assert not (tmp_path / "o" / "bad").exists()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 50, allow_nan=False), min_size=1, max_size=12),
       st.integers(1, 4), st.integers(0, 10_000))
def test_largest_remainder(values, n_groups, seed):
    values = np.array(values)
    groups = np.random.default_rng(seed).integers(0, n_groups, values.size)
    out = largest_remainder(values[None, :], groups, n_groups)[0]
    assert (out >= np.floor(values)).all() and (out <= np.ceil(values)).all()
    for g in range(n_groups):
        assert out[groups == g].sum() == np.floor(values[groups == g].sum() + 0.5)


def test_zone_radius_scale(tmp_path, result):
    # zone c's units lie 2.5-5.5 km from the nearest primary before 2023: with radius_scale
    # 3 (7.5 km) all are in reach; a scenario can switch the scale off again.
    model = write_tiny_model(tmp_path / "model")
    data = json.loads((model / "zones.geojson").read_text())
    data["features"][2]["properties"]["radius_scale"] = 3
    (model / "zones.geojson").write_text(json.dumps(data))
    (tmp_path / "s.toml").write_text('name = "s"\nmodel = "model"\nhorizon = 2027\n')
    (tmp_path / "off.toml").write_text('name = "off"\nextends = "s.toml"\n'
                                       "[allocation]\nzone_radius_scale = false\n")
    scaled = capacity.run(tmp_path / "s.toml", criticality=False)
    off = capacity.run(tmp_path / "off.toml", criticality=False)

    def reach(r):
        s = r.shortfall
        return s[(s["zone_id"] == "c") & (s["stage"] == "primary") & (s["year"] == 2020)
                 & (s["mode"] == "optimal")]["out_of_reach"].sum()

    assert reach(result) > 0 and reach(off) == reach(result) and reach(scaled) == 0
    assert scaled.manifest["zone_radius_scale"] and not off.manifest["zone_radius_scale"]
    # every flow within its unit's own radius
    a = scaled.allocation.dropna(subset=["school_id"]).merge(scaled.units[["unit_id", "zone_id"]])
    radius = a["stage"].astype(str).map({k: v["radius_m"] for k, v in scaled.stages.items()}) \
        * np.where(a["zone_id"] == "c", 3, 1)
    assert (a["distance_m"] <= radius + 1e-6).all()
    assert (a.loc[a["zone_id"] == "c", "distance_m"] > 2500).any()
    assert scaled.zones.set_index("zone_id")["radius_scale"].to_dict() == {"a": 1, "b": 1, "c": 3}
