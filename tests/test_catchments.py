"""Designed catchments (docs/catchments.md): the exact model against brute force, the
fallback's invariants, the command end to end, the current map round trip, bad input."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import geopandas as gpd
import openpyxl
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

sys.path.insert(0, str(Path(__file__).parent))
from catchment_instances import (brute_force, connected_and_rooted, grid_instance,  # noqa: E402
                                 reference_score)
from tiny_model import write_tiny_model  # noqa: E402

from capacity.catchments.heuristic import solve_heuristic  # noqa: E402
from capacity.catchments.milp import solve_exact  # noqa: E402
from capacity.catchments.solve import design, flow_map, nearest_map  # noqa: E402
from capacity.cli import main  # noqa: E402
from capacity.report import labels as L  # noqa: E402


@pytest.mark.parametrize("seed", range(24))
def test_exact_model_equals_brute_force(seed):
    """Every contiguous single-sourced map of 6–7 units enumerated: the exact model's map
    has the best (unserved, distance, moved), each level as the reference computes it."""
    rng = np.random.default_rng(seed)
    shape = [(2, 3), (1, 7), (2, 3)][seed % 3]
    inst = grid_instance(rng, *shape, n_schools=2 + seed % 2, years=1 + seed % 2,
                         current=seed % 4 == 0, tolerance=0.1 * (seed % 5 == 1))
    best = brute_force(inst)
    res = solve_exact(inst, 20.0)
    got = reference_score(inst, res.school_of)
    assert res.optimal
    assert connected_and_rooted(inst, res.school_of)
    assert got[0] == best[0] and got[1] == pytest.approx(best[1]) and got[2] == best[2]


def line_instance():
    """Five units on a line, 1 apart, with 1, 3, 1, 3, 1 pupils; school 0 (2 places) at unit 0,
    school 1 (7 places) at unit 2, both reaching every unit. Split {0, 4} / {1, 2, 3} would
    fit exactly, but {0, 4} is not connected: the best contiguous map leaves 1 pupil."""
    from capacity.catchments.adjacency import csr
    from capacity.catchments.problem import Instance

    ptr, idx = csr(np.arange(4), np.arange(1, 5), 5)
    unit = np.repeat(np.arange(5), 2)
    school = np.tile([0, 1], 5)
    dist = np.abs(np.arange(5)[unit] - np.array([0, 2])[school]) * 100.0
    return Instance(np.array([[1, 3, 1, 3, 1]]), np.array([[2, 7]]), unit, school, dist,
                    ptr, idx, [np.array([0, 1]), np.array([1, 2, 3])])


def test_contiguity_binds_on_an_analytic_case():
    inst = line_instance()
    assert brute_force(inst)[0] == 1
    exact = solve_exact(inst, 10.0)
    assert reference_score(inst, exact.school_of)[0] == 1
    assert connected_and_rooted(inst, exact.school_of)
    heur = solve_heuristic(inst, [nearest_map(inst)], 2.0)
    assert reference_score(inst, heur)[0] == 1 and connected_and_rooted(inst, heur)
    assert flow_map(inst)[1] == 0          # the split bound does not see contiguity


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), rows=st.integers(2, 5), cols=st.integers(3, 6),
       schools=st.integers(2, 5), years=st.integers(1, 3))
def test_fallback_maps_are_valid_and_bounded(seed, rows, cols, schools, years):
    """The heuristic's map: each unit to one school within reach or none, every catchment
    connected and rooted, unserved at least the optimal (split) bound; and no worse than
    the nearest-school map when that one is contiguous."""
    rng = np.random.default_rng(seed)
    inst = grid_instance(rng, rows, cols, min(schools, rows * cols), years=years,
                         radius=float(rng.uniform(1.0, 4.0)))
    near = nearest_map(inst)
    m = solve_heuristic(inst, [near], 2.0)
    assert m.shape == (inst.n_units,)
    on = m >= 0
    assert (inst.arc_of(np.flatnonzero(on), m[on]) >= 0).all()       # within reach
    has_arc = np.bincount(inst.unit, minlength=inst.n_units) > 0
    assert not on[~has_arc].any()
    assert connected_and_rooted(inst, m)
    _, bound = flow_map(inst)
    assert reference_score(inst, m)[0] >= bound
    if connected_and_rooted(inst, near):
        assert reference_score(inst, m)[0] <= reference_score(inst, near)[0]


def test_design_gap_and_status_on_exact_parts():
    inst = grid_instance(np.random.default_rng(3), 3, 4, 3)
    d = design(inst, 10.0)
    assert d.status == "optimal" and d.contiguous.all()
    assert d.score.unserved == brute_force(inst)[0] if inst.n_units <= 8 else True
    assert d.bound <= d.score.unserved and 0 <= d.gap <= 1


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("catch")
    write_tiny_model(root / "model")
    return root


def test_command_writes_contiguous_maps_between_optimal_and_nearest(tiny):
    out = tiny / "out"
    assert main(["catchments", str(tiny / "model"), "-o", str(out), "--years",
                 "2022-2024", "--each-year", "--time-limit", "5"]) == 0
    folder = out / "baseline-catchments"
    for name in ("catchments.geojson", "catchment_units.csv", "catchment_schools.csv",
                 "catchment_shortfall.csv", "catchment_summary.csv", "manifest.json"):
        assert (folder / name).is_file(), name
    assert list((folder / "maps").glob("*.png"))
    book = pd.read_excel(folder / "catchments.xlsx", sheet_name=None)
    side = book["Nearest, designed, optimal"]
    assert list(side["Shortfall, designed catchments"]) == list(
        pd.read_csv(folder / "catchment_summary.csv")["shortfall_designed"])
    s = pd.read_csv(folder / "catchment_summary.csv")
    assert set(s["year"]) == {2022, 2023, 2024}
    assert (s["shortfall_optimal"] <= s["shortfall_designed"]).all()
    assert (s["shortfall_designed"] <= s["shortfall_nearest"]).all()
    assert (s["contiguous_share"] == 1.0).all()
    units = pd.read_csv(folder / "catchment_units.csv", dtype={"school_id": str})
    # single sourcing: one row per unit, stage and map
    assert not units.duplicated(["stage", "first_year", "unit_id"]).any()
    z = pd.read_csv(folder / "catchment_shortfall.csv")
    by = z.groupby(["stage", "year"])["shortfall"].sum()
    for r in s.itertuples():
        assert by[(r.stage, r.year)] == r.shortfall_designed
    sch = pd.read_csv(folder / "catchment_schools.csv")
    assert ((sch["shortfall"] == (sch["pupils"] - sch["places"]).clip(lower=0))).all()
    # shares print as percentages and years without a thousands separator (a share of
    # 0.16 in "#,##0" shows as 0; 2027 as "2,027"); the solver's status in words
    import openpyxl

    ws = openpyxl.load_workbook(folder / "catchments.xlsx")["Nearest, designed, optimal"]
    head = {c.value: c.column for c in ws[1]}
    assert ws.cell(2, head["Contiguous share"]).number_format == "0.0%"
    assert ws.cell(2, head["Gap to bound"]).number_format == "0.0%"
    assert ws.cell(2, head["Year"]).number_format == "0"
    assert ws.cell(2, head["Solver status"]).value in {"optimal", "time limit",
                                                       "heuristic + search"}


def test_current_map_round_trips_and_runs_designed_mode(tiny):
    out = tiny / "rt"
    assert main(["catchments", str(tiny / "model"), "-o", str(out), "--year", "2024",
                 "--stage", "primary", "--time-limit", "5"]) == 0
    first = out / "baseline-catchments"
    geo = tiny / "map.geojson"
    geo.write_bytes((first / "catchments.geojson").read_bytes())
    units = pd.read_csv(first / "catchment_units.csv", dtype={"school_id": str})
    units["school_id"] = units["school_id"].fillna("")
    assert main(["catchments", str(tiny / "model"), "-o", str(tiny / "rt2"), "--year",
                 "2024", "--stage", "primary", "--current", str(geo)]) == 0
    again = tiny / "rt2" / "baseline-catchments"
    s2 = pd.read_csv(again / "catchment_summary.csv")
    assert s2["pupils_moved"].iloc[0] == 0
    issues = pd.read_csv(again / "current_issues.csv")
    assert (issues["issue"] == "gap").all()
    assert set(issues["unit_id"]) == set(units.loc[units["school_id"] == "", "unit_id"])
    # the same map through the whole chain: designed mode's shortfall equals the command's
    (tiny / "designed.toml").write_text(
        'name = "designed"\nmodel = "model"\nhorizon = 2025\n[allocation]\n'
        'mode = "designed"\ncatchments = "map.geojson"\n', encoding="utf-8")
    assert main(["run", str(tiny / "designed.toml"), "-o", str(tiny / "runs"),
                 "--no-maps", "--no-criticality"]) == 0
    summ = pd.read_csv(tiny / "runs" / "designed" / "summary.csv")
    row = summ[(summ["mode"] == "designed") & (summ["stage"] == "primary")
               & (summ["year"] == 2024)]
    s1 = pd.read_csv(first / "catchment_summary.csv")
    assert int(row["shortfall"].iloc[0]) == int(s1["shortfall_designed"].iloc[0])
    manifest = json.loads((tiny / "runs" / "designed" / "manifest.json").read_text())
    assert any("catchment map" in w for w in manifest["warnings"])
    # the map's polygons are primary's (its stage column): the other stages keep the
    # nearest school, i.e. designed = catchment mode there, and a warning says so
    assert any("no polygon of a kindergarten school" in w for w in manifest["warnings"])


def test_a_stage_map_serves_its_own_stage_only(tiny):
    """Schools p1 and p2 also run a kindergarten (one id, two stages, as nine-year schools
    do); the primary map (stage = primary) must not send kindergarten pupils to them: the
    kindergarten stage keeps the nearest school, i.e. designed = catchment mode there."""
    first = tiny / "rt" / "baseline-catchments"
    if not first.exists():
        pytest.skip("needs the round-trip test's map")
    root = tiny / "nine"
    write_tiny_model(root / "model")
    schools = pd.read_csv(root / "model" / "schools.csv", dtype=str)
    k = schools[schools["school_id"].isin(["p1", "p2"])].assign(stage="kindergarten",
                                                                places="1")
    pd.concat([schools, k]).to_csv(root / "model" / "schools.csv", index=False)
    (root / "map.geojson").write_bytes((first / "catchments.geojson").read_bytes())
    assert set(gpd.read_file(root / "map.geojson")["stage"]) == {"primary"}
    (root / "d.toml").write_text(
        'name = "d"\nmodel = "model"\nhorizon = 2025\n[allocation]\n'
        'mode = "designed"\ncatchments = "map.geojson"\n', encoding="utf-8")
    assert main(["run", str(root / "d.toml"), "-o", str(root / "runs"), "--no-maps",
                 "--no-criticality"]) == 0
    summ = pd.read_csv(root / "runs" / "d" / "summary.csv")
    kg = summ[summ["stage"] == "kindergarten"].pivot_table(
        index="year", columns="mode", values="shortfall")
    assert len(kg) and (kg["designed"] == kg["catchment"]).all()


def test_a_map_that_holds_no_unit_is_refused(tiny):
    """Polygons far from the model (a wrong datum or another district): exit 2, nothing
    written — not a silent map of gaps."""
    first = tiny / "rt" / "baseline-catchments"
    if not first.exists():
        pytest.skip("needs the round-trip test's map")
    shapes = gpd.read_file(first / "catchments.geojson")
    shapes["geometry"] = shapes.geometry.translate(xoff=-100.0, yoff=-30.0)   # off the map
    path = tiny / "far.geojson"
    shapes.to_file(path, driver="GeoJSON")
    out = tiny / "far-out"
    assert main(["catchments", str(tiny / "model"), "-o", str(out), "--year", "2024",
                 "--stage", "primary", "--current", str(path)]) == 2
    assert not (out / "baseline-catchments").exists()


def test_gaps_and_overlaps_are_listed(tiny):
    first = tiny / "rt" / "baseline-catchments"
    if not first.exists():
        pytest.skip("needs the round-trip test's map")
    shapes = gpd.read_file(first / "catchments.geojson")
    big = shapes.iloc[[0]].copy()
    big["geometry"] = big.to_crs("EPSG:32650").buffer(600).to_crs("EPSG:4326").values  # overlaps
    big["school_id"] = "p1"
    path = tiny / "overlap.geojson"
    pd.concat([shapes, big]).to_file(path, driver="GeoJSON")
    assert main(["catchments", str(tiny / "model"), "-o", str(tiny / "ov"), "--year",
                 "2024", "--stage", "primary", "--current", str(path)]) == 0
    issues = pd.read_csv(tiny / "ov" / "baseline-catchments" / "current_issues.csv")
    over = issues[issues["issue"] == "overlap"]
    assert len(over) and over["school_ids"].str.contains("p1").all()


@pytest.mark.parametrize("args, where", [
    (["--years", "2030-2020"], "--years"),
    (["--year", "1999"], "--year"),
    (["--stage", "college"], "--stage"),
    (["--time-limit", "0"], "--time-limit"),
    (["--each-year"], "--each-year"),
    (["--current", "missing.geojson"], "missing.geojson"),
])
def test_bad_options_exit_2_and_write_nothing(tiny, capsys, args, where):
    out = tiny / "bad"
    assert main(["catchments", str(tiny / "model"), "-o", str(out)] + args) == 2
    err = capsys.readouterr().err
    assert where in err and "Traceback" not in err
    assert not (out / "baseline-catchments").exists()


def test_current_map_without_school_id_is_an_input_error(tiny, capsys):
    path = tiny / "noid.geojson"
    gpd.GeoDataFrame({"name": ["x"]}, geometry=gpd.GeoSeries.from_wkt(
        ["POLYGON((116.6 39.8, 116.7 39.8, 116.7 39.9, 116.6 39.8))"]), crs="EPSG:4326") \
        .to_file(path, driver="GeoJSON")
    assert main(["catchments", str(tiny / "model"), "-o", str(tiny / "bad2"), "--current",
                 str(path)]) == 2
    err = capsys.readouterr().err
    assert "noid.geojson::school_id: no school_id column" in err
    unknown = tiny / "unknown.geojson"
    gpd.GeoDataFrame({"school_id": ["zz"]}, geometry=gpd.GeoSeries.from_wkt(
        ["POLYGON((116.6 39.8, 116.7 39.8, 116.7 39.9, 116.6 39.8))"]), crs="EPSG:4326") \
        .to_file(unknown, driver="GeoJSON")
    assert main(["catchments", str(tiny / "model"), "-o", str(tiny / "bad2"), "--current",
                 str(unknown)]) == 2
    assert "unknown.geojson:1:school_id: school_id 'zz' is no school" in capsys.readouterr().err


def test_designed_mode_without_map_is_an_input_error(tiny, capsys):
    (tiny / "nomap.toml").write_text('name = "nomap"\nmodel = "model"\nhorizon = 2022\n'
                                     '[allocation]\nmode = "designed"\n', encoding="utf-8")
    assert main(["run", str(tiny / "nomap.toml"), "-o", str(tiny / "bad3"), "--no-maps"]) == 2
    assert "allocation.catchments" in capsys.readouterr().err
    assert not (tiny / "bad3" / "nomap").exists()


@pytest.mark.parametrize("suffix, crs", [(".gpkg", "EPSG:32650"), (".shp", "EPSG:4326")])
def test_current_map_in_other_formats_and_crs(tiny, suffix, crs):
    """A GeoPackage in the model's projected CRS and a Shapefile in lon/lat read back to the
    same assignment as the GeoJSON the command wrote."""
    first = tiny / "rt" / "baseline-catchments"
    if not first.exists():
        pytest.skip("needs the round-trip test's map")
    path = tiny / f"map{suffix}"
    gpd.read_file(first / "catchments.geojson").to_crs(crs).to_file(path)
    assert main(["catchments", str(tiny / "model"), "-o", str(tiny / f"fmt{suffix[1:]}"),
                 "--year", "2024", "--stage", "primary", "--current", str(path)]) == 0
    s = pd.read_csv(tiny / f"fmt{suffix[1:]}" / "baseline-catchments" /
                    "catchment_summary.csv")
    assert s["pupils_moved"].iloc[0] == 0


def test_catchments_keys_of_model_toml(tmp_path, capsys):
    model = write_tiny_model(tmp_path / "model")
    toml = (model / "model.toml").read_text(encoding="utf-8")
    (model / "model.toml").write_text(toml + "\n[catchments]\ntolerance = 0.5\n",
                                      encoding="utf-8")
    assert main(["validate", str(model)]) == 0
    assert main(["catchments", str(model), "-o", str(tmp_path / "o"), "--year", "2024",
                 "--stage", "primary", "--time-limit", "3"]) == 0
    (model / "model.toml").write_text(toml + "\n[catchments]\ntolerance = -1\n",
                                      encoding="utf-8")
    assert main(["catchments", str(model), "-o", str(tmp_path / "o2")]) == 2
    assert "catchments.tolerance" in capsys.readouterr().err
    assert not (tmp_path / "o2" / "baseline-catchments").exists()


def _run_designed(tiny):
    """A designed-mode run of the tiny model under the command's 2024 map with every
    primary polygon given to p1 (so designed differs from nearest), and the command's
    folder."""
    out = tiny / "side"
    if not (out / "baseline-catchments").exists():
        assert main(["catchments", str(tiny / "model"), "-o", str(out), "--year", "2024",
                     "--time-limit", "5"]) == 0
        shapes = gpd.read_file(out / "baseline-catchments" / "catchments.geojson")
        shapes.loc[shapes["stage"] == "primary", "school_id"] = "p1"
        shapes.to_file(tiny / "side.geojson", driver="GeoJSON")
        (tiny / "side.toml").write_text(
            'name = "side"\nmodel = "model"\nhorizon = 2025\n[allocation]\n'
            'mode = "designed"\ncatchments = "side.geojson"\n', encoding="utf-8")
        assert main(["run", str(tiny / "side.toml"), "-o", str(out), "--no-criticality"]) == 0
    return out / "side", out / "baseline-catchments"


def _cells(html_text: str, label: str) -> list[str]:
    """The header cells of the table following ``label`` (a section heading)."""
    import re
    part = html_text[html_text.index(label):]
    table = part[:part.index("</table>")]
    return re.findall(r"<th[^>]*>(.*?)</th>", table)


def test_run_report_and_workbook_show_nearest_designed_optimal(tiny):
    run, command = _run_designed(tiny)
    summ = pd.read_csv(run / "summary.csv")
    want = {m: summ[summ["mode"] == m].set_index(["stage", "year"])["shortfall"]
            for m in ("catchment", "designed", "optimal")}
    assert (want["designed"] != want["catchment"]).any()   # else the columns could be swapped
    # workbook: one column per mode, each equal to that mode's summary.csv rows
    sheet = pd.read_excel(run / "budget.xlsx", sheet_name="Shortfall by mode")
    csv = pd.read_csv(run / "budget_modes.csv")
    for mode, col in (("catchment", "shortfall_nearest"), ("designed", "shortfall_designed"),
                      ("optimal", "shortfall_optimal")):
        got = csv.set_index(["stage", "year"])[col]
        assert (got == want[mode].reindex(got.index)).all(), mode
        assert list(sheet[L.column_label(col)]) == list(csv[col])
    text = (run / "report.html").read_text(encoding="utf-8")
    heads = _cells(text, "Shortfall: nearest, designed and optimal")
    assert [L.column_label(c) in heads for c in
            ("shortfall_nearest", "shortfall_designed", "shortfall_optimal")] == [True] * 3
    assert "capacity catchments" not in text.split("Shortfall: nearest")[1][:3000]


def test_run_without_map_shows_two_modes_and_points_to_the_command(tiny, tmp_path):
    (tiny / "plain.toml").write_text('name = "plain"\nmodel = "model"\nhorizon = 2025\n',
                                     encoding="utf-8")
    assert main(["run", str(tiny / "plain.toml"), "-o", str(tmp_path),
                 "--no-criticality", "--lang", "zh"]) == 0
    run = tmp_path / "plain"
    text = (run / "report.html").read_text(encoding="utf-8")
    heads = _cells(text, L.text("report", "h_modes", "zh"))
    assert L.column_label("shortfall_designed", "zh") not in heads
    assert L.column_label("shortfall_nearest", "zh") in heads
    assert "capacity catchments" in text
    csv = pd.read_csv(run / "budget_modes.csv")
    assert "shortfall_designed" not in csv.columns
    book = openpyxl.load_workbook(run / "budget.xlsx")
    assert L.sheet_label("modes", "zh") in book.sheetnames
    readme = " ".join(str(c.value) for row in book[L.sheet_label("readme", "zh")].iter_rows()
                      for c in row if c.value)
    assert "capacity catchments" in readme


def test_command_report_is_offline_and_shows_the_summary_numbers(tiny):
    _, command = _run_designed(tiny)
    text = (command / "report.html").read_text(encoding="utf-8")
    import re
    assert not re.search(r"(src|href)=['\"]https?:", text)       # offline
    assert text.count("data:image/png;base64,") == len(list((command / "maps").glob("*.png")))
    s = pd.read_csv(command / "catchment_summary.csv")
    side = text[text.index(L.text("catchments", "h_side")):]
    side = side[:side.index("</table>")]
    cells = re.findall(r"<td class='n'>([^<]*)</td>", side)
    want = []
    for r in s.itertuples():
        want += [str(r.year)] + [f"{v:,}" for v in (r.demand, r.shortfall_nearest,
                                                     r.shortfall_designed, r.shortfall_optimal)]
    assert cells == want


def _map_json(path: Path) -> dict:
    import re
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"(src|href)=['\"]https?:", text)       # offline
    body = re.search(r"<script id=[\"']map-data[\"'] type=[\"']application/json[\"']>"
                     r"(.*?)</script>", text, re.S).group(1)
    return json.loads(body.replace("<\\/", "</"))


def test_interactive_map_has_the_designed_layer_only_with_a_map(tiny):
    run, _ = _run_designed(tiny)
    data = _map_json(run / "maps" / "catchments.html")
    shapes = gpd.read_file(tiny / "side.geojson")
    for stage in ("kindergarten", "primary"):
        layer = data["designed"][stage]
        assert layer["id"] == sorted(set(shapes.loc[shapes["stage"] == stage, "school_id"]))
        assert all(p.startswith("M") for p in layer["path"])
    names = pd.read_csv(run / "names.csv", dtype=str)
    name = dict(zip(names["id"], names["name"]))
    assert data["designed"]["primary"]["name"] == [name["p1"]]
    plain = tiny / "plainmap"
    (tiny / "plain2.toml").write_text('name = "plain2"\nmodel = "model"\nhorizon = 2025\n',
                                      encoding="utf-8")
    assert main(["run", str(tiny / "plain2.toml"), "-o", str(plain), "--no-criticality"]) == 0
    assert _map_json(plain / "plain2" / "maps" / "catchments.html")["designed"] is None


def test_command_map_layers_are_the_geojson_with_names(tiny):
    _, command = _run_designed(tiny)
    data = _map_json(command / "catchments.html")
    shapes = gpd.read_file(command / "catchments.geojson")
    assert len(data["maps"]) == shapes[["stage", "first_year"]].drop_duplicates().shape[0]
    got = sorted(i for m in data["maps"] for i in m["id"])
    assert got == sorted(shapes["school_id"])
    names = pd.read_csv(tiny / "side" / "side" / "names.csv", dtype=str)
    name = dict(zip(names["id"], names["name"]))
    for m in data["maps"]:
        assert m["name"] == [name[i] for i in m["id"]]
        assert all(p.startswith("M") for p in m["path"])
    report = (command / "report.html").read_text(encoding="utf-8")
    assert "href='catchments.html'" in report


def test_designed_layers_render_in_a_browser(tiny):
    """Headless Chromium runs both pages' scripts: the run's map draws the designed layer
    (one outline per school of the first stage), the command's map its first map."""
    import re

    import browser_check

    browser_check.require_chromium()
    run, command = _run_designed(tiny)
    shapes = gpd.read_file(tiny / "side.geojson")
    dom = browser_check.dump_dom(run / "maps" / "catchments.html")
    assert 'data-ready="1"' in dom and not re.search(r'id="designed-label"[^>]*hidden', dom)
    layer = re.search(r'<g id="designed">(.*?)</g>', dom, re.S).group(1)
    first = _map_json(run / "maps" / "catchments.html")["stages"][0]["id"]
    assert layer.count("<path") == shapes.loc[shapes["stage"] == first, "school_id"].nunique()
    dom = browser_check.dump_dom(command / "catchments.html")
    drawn = re.search(r'<g id="catchments">(.*?)</g>', dom, re.S).group(1)
    assert 'data-ready="1"' in dom
    assert drawn.count("<path") == len(_map_json(command / "catchments.html")["maps"][0]["id"])
