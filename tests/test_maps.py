"""Catchments, static and interactive maps (capacity.report.catchment, .static_maps,
.interactive_map) and the `capacity map` command (capacity.report.maps)."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from capacity.errors import InputError
from capacity.report import catchment, interactive_map, maps, static_maps
from capacity.result import Result
from synthetic_result import make_result

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: An http(s) URL used as a resource load: src=, href=, url( or @import.
LOAD = re.compile(r"""(?:\b(?:src|href|action|poster|data)\s*=\s*["']?\s*|url\(\s*["']?|"""
                  r"""@import\s+["']?)(?:https?:)?//""", re.I)


def network_loads(text: str) -> list[str]:
    """Every http(s) (or protocol-relative) resource load in an HTML/SVG text."""
    return [m.group(0) for m in LOAD.finditer(text)]


def embedded_data(page: str) -> dict:
    m = re.search(r'<script id="map-data" type="application/json">(.*?)</script>', page, re.S)
    assert m, "no embedded map data"
    return json.loads(m.group(1))


@pytest.fixture(scope="module")
def result() -> Result:
    return make_result()


def test_static_maps_written(result: Result, tmp_path: Path) -> None:
    paths = static_maps.write_static_maps(result, tmp_path, "primary", 2021, rings=True)
    png, svg = paths
    assert png == tmp_path / "maps" / "primary_2021.png"
    assert svg == tmp_path / "maps" / "primary_2021.svg"
    assert png.read_bytes()[:8] == PNG_SIGNATURE
    assert png.stat().st_size > 10_000
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    text = svg.read_text(encoding="utf-8")
    assert "Primary (ages 6–11), 2021" in text or "Primary" in text
    assert not network_loads(text)


def test_map_png_is_savefigs_picture(result: Result, tmp_path: Path) -> None:
    """The map PNG (Agg, stored as RGB at fast compression) has the pixels and dpi of
    matplotlib's own ``savefig`` of the same laid-out figure."""
    from PIL import Image

    fig = static_maps.static_map(result, "primary", 2021)
    static_maps.fix_layout(fig)
    # laid out once, then fixed: the PNG and the SVG share that layout
    assert type(fig.get_layout_engine()).__name__ == "PlaceHolderLayoutEngine"
    static_maps.write_png(fig, tmp_path / "ours.png", dpi=120)
    fig.savefig(tmp_path / "ref.png", dpi=120)
    ours, ref = Image.open(tmp_path / "ours.png"), Image.open(tmp_path / "ref.png")
    assert ours.mode == "RGB" and ref.mode == "RGBA"
    assert ours.info["dpi"] == pytest.approx(ref.info["dpi"])   # pHYs: px per metre
    assert np.array_equal(np.asarray(ours), np.asarray(ref.convert("RGB")))
    assert np.asarray(ref)[..., 3].min() == 255          # nothing lost with the alpha
    assert fig.dpi == 100                                # the figure's own dpi restored


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 9), st.integers(1, 9), st.sampled_from([3, 4]), st.integers(0, 2**32 - 1),
       st.sampled_from([72, 96.5, 200, 300]))
def test_png_bytes_decode_to_the_pixels(h: int, w: int, channels: int, seed: int,
                                        dpi: float) -> None:
    """Our unfiltered PNG, read back by Pillow: the same pixels, mode and dpi."""
    import io

    from PIL import Image

    pixels = np.random.default_rng(seed).integers(0, 256, (h, w, channels), dtype=np.uint8)
    image = Image.open(io.BytesIO(static_maps.png_bytes(pixels, dpi)))
    assert image.mode == {3: "RGB", 4: "RGBA"}[channels]
    assert np.array_equal(np.asarray(image), pixels)
    assert image.info["dpi"] == pytest.approx((dpi, dpi), abs=0.02)


def test_static_map_every_stage_year_and_mode(result: Result) -> None:
    for stage in catchment.run_stages(result):
        for year in catchment.run_years(result):
            for mode in ("catchment", "optimal"):
                fig = static_maps.static_map(result, stage, year, mode=mode)
                assert fig.axes and fig.get_suptitle().startswith("synthetic")
                assert str(year) in fig.get_suptitle()


def test_shortfall_per_1000_children(result: Result) -> None:
    stats = catchment.zone_stats(result, "primary", 2020, "optimal").set_index("zone_id")
    # z3: 30 pupils short, children aged 6–11 = 6 ages × 2 sexes × 12
    assert stats.loc["z3", "children"] == pytest.approx(144)
    assert stats.loc["z3", "per_1000"] == pytest.approx(1000 * 30 / 144)
    assert stats.loc["z1", "per_1000"] == pytest.approx(0)


def test_catchments_from_assignment(result: Result) -> None:
    catch = catchment.catchments(result, "primary", 2020, "optimal").set_index("school_id")
    assert set(catch.index) == {"p1", ""}  # z1, z2 served by p1; z3 not served
    zones = result.zones.to_crs(catchment.DEFAULT_CRS)
    total = zones.union_all().area
    assert catch.area.sum() == pytest.approx(total, rel=1e-4)  # outline snapped to 1 m
    assert catch.loc["p1"].geometry.area == pytest.approx(2 / 3 * total, rel=0.02)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), min_size=2, max_size=40,
                unique=True),
       st.lists(st.integers(0, 3), min_size=43, max_size=43))
def test_merge_cells_is_the_union(points: list, owner: list) -> None:
    """Voronoi cells clipped to a district and merged per owner (a unit's cell shared by
    its duplicates) = shapely's general union, cell by cell."""
    district = shapely.Polygon([(-50, -50), (5200, 300), (4800, 5100), (200, 4700)])
    vor = shapely.voronoi_polygons(shapely.multipoints(np.array(points, float) * 100.0),
                                   extend_to=shapely.box(-1e4, -1e4, 2e4, 2e4))
    cells = shapely.intersection(shapely.get_parts(vor), district)
    cells = np.concatenate([cells, cells[:3]])          # three units share others' cells (≤ 43)
    owner = np.array(owner[:len(cells)])
    for k in np.unique(owner):
        part = cells[owner == k]
        assert shapely.equals(catchment.merge_cells(part), shapely.union_all(part))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), min_size=2, max_size=60,
                unique=True))
def test_clip_cells_is_the_overlay(points: list) -> None:
    """Cells clipped to the district: the overlay's output byte for byte (WKB), whether a
    cell is inside, crossed by the outline or outside."""
    district = shapely.Polygon([(-50, -50), (5200, 300), (4800, 5100), (2500, 2600),
                                (200, 4700)])
    vor = shapely.voronoi_polygons(shapely.multipoints(np.array(points, float) * 100.0),
                                   extend_to=shapely.box(-1e4, -1e4, 2e4, 2e4), ordered=True)
    cells = shapely.get_parts(vor)
    ours = catchment.clip_cells(cells, district)
    assert list(shapely.to_wkb(ours)) == list(shapely.to_wkb(shapely.intersection(cells,
                                                                                   district)))


def test_merge_cells_overlap_falls_back() -> None:
    """Overlapping polygons (not a coverage) still merge to their union."""
    cells = np.array([box(0, 0, 2, 2), box(1, 1, 3, 3)], dtype=object)
    assert catchment.merge_cells(cells).area == pytest.approx(7.0)


def test_open_projects_by_year(result: Result) -> None:
    assert catchment.open_projects(result, "primary", 2020).empty
    assert list(catchment.open_projects(result, "primary", 2021)["project_id"]) == ["new-p"]
    assert catchment.open_projects(result, "junior", 2021).empty


def test_interactive_map_offline_with_data(result: Result, tmp_path: Path) -> None:
    path = interactive_map.write_interactive_map(result, tmp_path)
    assert path == tmp_path / "maps" / "catchments.html"
    page = path.read_text(encoding="utf-8")
    assert not network_loads(page)
    assert "http://" not in page and "https://" not in page
    data = embedded_data(page)
    assert data["zones"]["id"] == ["z1", "z2", "z3"]
    assert {"Primary one", "Junior one"} <= set(data["schools"]["name"])
    assert set(data["data"]) == {"primary", "junior"}
    for year in catchment.run_years(result):
        assert re.search(rf'<option value="{year}"[^>]*>{year}</option>', page)
    for stage in ("primary", "junior"):
        assert f'<option value="{stage}">' in page
    assert 'type="range"' in page
    assert data["projects"][0]["name"] == "New primary"
    assert data["projects"][0]["open"] == 2021
    entry = data["data"]["primary"]["2021"]
    assert entry["p"] == [120]
    assert entry["m"]["optimal"]["f"] == [0, 0, 30]
    # every unit cell is a path; z3's unit is not served (code 1), z1's goes to p1
    codes = data["assign"][entry["m"]["optimal"]["a"]]
    width = data["codeWidth"]
    decoded = [interactive_map.CODE_DIGITS.index(codes[i * width:(i + 1) * width][-1])
               for i in range(3)]
    p1 = data["schools"]["id"].index("p1")
    assert decoded == [p1 + 2, p1 + 2, 1]
    assert all(c.startswith("M") for c in data["cells"])


def test_svg_paths_compact_and_closed() -> None:
    paths = interactive_map.svg_paths([box(0, 0, 100, 50), None], origin=(0, 50), unit=5)
    assert paths == ["M20 10 l0 -10 -20 0 0 10z", ""]  # box() starts at (maxx, miny)


def test_map_command(result: Result, tmp_path: Path) -> None:
    folder = result.write(tmp_path)
    paths = maps.map_command(folder, "junior", 2020)
    assert [p.name for p in paths] == ["junior_2020.png", "junior_2020.svg", "catchments.html"]
    assert all(p.stat().st_size > 0 for p in paths)
    with pytest.raises(InputError, match="no stage"):
        maps.map_command(folder, "senior", 2020)
    with pytest.raises(InputError, match="no year"):
        maps.map_command(folder, "junior", 1999)


def test_rings_follow_the_zones_radius_scale(tmp_path: Path) -> None:
    # j1 sits in zone two: with radius_scale 2 there its ring is 8 km, p1's stays 2.5 km
    scaled = make_result("scaled")
    scaled.zones["radius_scale"] = [1.0, 2.0, 1.0]
    pts = gpd.GeoSeries(gpd.points_from_xy([116.625, 116.675], [39.875, 39.875]),
                        crs="EPSG:4326").to_crs(catchment.map_crs(scaled))
    radius = scaled.stages["junior"]["radius_m"]     # the radius rule is the Result's
    assert (scaled.radius_at("junior", pts) / radius).tolist() == [1.0, 2.0]
    scaled.manifest["zone_radius_scale"] = False     # the run did not apply the scale
    assert (scaled.radius_at("junior", pts) / radius).tolist() == [1.0, 1.0]
    scaled.manifest["zone_radius_scale"] = True
    html = interactive_map.write_interactive_map(scaled, tmp_path).read_text(encoding="utf-8")
    rs = json.loads("[" + html.split('"rs":[', 1)[1].split("]", 1)[0] + "]")
    assert 2 in rs and set(rs) <= {1, 2}


# --------------------------------------------------------------------- a district-sized run
def make_large_result(n_zones: int = 36, n_units: int = 3000, n_schools: int = 300,
                      n_years: int = 16, seed: int = 1) -> Result:
    """A random run of Tongzhou's size (shape only; numbers are not consistent)."""
    rng = np.random.default_rng(seed)
    side = int(np.sqrt(n_zones))
    i, j = np.divmod(np.arange(side * side), side)
    zones = gpd.GeoDataFrame(
        {"zone_id": [f"z{k:03d}" for k in range(side * side)],
         "name": [f"Zone {k}" for k in range(side * side)]},
        geometry=[box(116.55 + 0.05 * a, 39.70 + 0.04 * b, 116.60 + 0.05 * a, 39.74 + 0.04 * b)
                  for a, b in zip(i, j)], crs="EPSG:4326")
    zi = rng.integers(0, side * side, n_units)
    units = pd.DataFrame({"unit_id": [f"u{k}" for k in range(n_units)],
                          "zone_id": zones["zone_id"].to_numpy()[zi],
                          "lon": 116.55 + 0.05 * i[zi] + rng.uniform(0, 0.05, n_units),
                          "lat": 39.70 + 0.04 * j[zi] + rng.uniform(0, 0.04, n_units)})
    years = np.arange(2020, 2020 + n_years)
    stages = {"kindergarten": [3, 5], "primary": [6, 11], "junior": [12, 14],
              "senior": [15, 17]}
    pop = pd.MultiIndex.from_product([zones["zone_id"], years, ["F", "M"], range(18)],
                                     names=["zone_id", "year", "sex", "age"]).to_frame(
        index=False)
    pop["population"] = rng.uniform(20, 200, len(pop))
    sch_stage = np.array(list(stages))[np.arange(n_schools) % 4]
    schools = pd.DataFrame({"school_id": [f"s{k}" for k in range(n_schools)],
                            "name": [f"School {k}" for k in range(n_schools)],
                            "stage": sch_stage,
                            "lon": rng.uniform(116.55, 116.55 + 0.05 * side, n_schools),
                            "lat": rng.uniform(39.70, 39.70 + 0.04 * side, n_schools),
                            "base": rng.integers(200, 2000, n_schools)})
    cap = schools.merge(pd.DataFrame({"year": years}), how="cross")
    cap["places"] = cap["base"]
    alloc = units[["unit_id"]].merge(pd.DataFrame({"stage": list(stages)}), how="cross") \
        .merge(pd.DataFrame({"year": years}), how="cross") \
        .merge(pd.DataFrame({"mode": ["catchment", "optimal"]}), how="cross")
    alloc["pupils"] = rng.integers(1, 40, len(alloc))
    # every unit goes to its nearest school of the stage (contiguous catchments)
    nearest = {}
    for s in stages:
        sub = schools[schools["stage"] == s]
        d2 = ((units["lon"].to_numpy()[:, None] - sub["lon"].to_numpy()[None, :]) ** 2
              + (0.77 * (units["lat"].to_numpy()[:, None] - sub["lat"].to_numpy()[None, :]))
              ** 2)
        nearest[s] = pd.Series(sub["school_id"].to_numpy()[d2.argmin(axis=1)],
                               index=units["unit_id"])
    alloc["school_id"] = np.select(
        [alloc["stage"] == s for s in stages],
        [nearest[s].reindex(alloc["unit_id"]).to_numpy() for s in stages])
    alloc.loc[rng.uniform(size=len(alloc)) < 0.05, "school_id"] = None
    alloc["distance_m"] = rng.uniform(0, 3000, len(alloc))
    util = cap.merge(pd.DataFrame({"mode": ["catchment", "optimal"]}), how="cross")
    util["pupils"] = (util["places"] * rng.uniform(0.4, 1.0, len(util))).round()
    util["utilisation"] = util["pupils"] / util["places"]
    short = pd.MultiIndex.from_product([zones["zone_id"], years, list(stages),
                                        ["catchment", "optimal"]],
                                       names=["zone_id", "year", "stage", "mode"]).to_frame(
        index=False)
    short["demand"] = rng.uniform(100, 1000, len(short))
    short["shortfall"] = short["demand"] * rng.uniform(0, 0.3, len(short))
    short["served"] = short["demand"] - short["shortfall"]
    short["out_of_reach"] = short["shortfall"] / 3
    summary = short.groupby(["year", "stage", "mode"], as_index=False)[
        ["demand", "served", "shortfall", "out_of_reach"]].sum()
    summary = summary.merge(cap.groupby(["year", "stage"], as_index=False)["places"].sum())
    projects = pd.DataFrame({
        "project_id": [f"k{k}" for k in range(12)], "name": [f"Key project {k}" for k in range(12)],
        "kind": ["new", "expansion"] * 6, "stage": np.array(list(stages))[np.arange(12) % 4],
        "school_id": [f"s{k}" for k in range(12)], "places": 900,
        "open_year": 2022 + np.arange(12) % 6,
        "cost": 1e8, "lon": np.nan, "lat": np.nan})
    indicators = pd.DataFrame({"year": years, "indicator": "nearby_enrolment_rate",
                               "value": np.linspace(0.95, 0.995, n_years), "target": 0.99})
    indicators["met"] = indicators["value"] > indicators["target"]
    tables = {"population": pop, "units": units, "capacity": cap.drop(columns="base"),
              "allocation": alloc, "schools": util, "shortfall": short, "summary": summary,
              "projects": projects, "indicators": indicators,
              "demand": short[short["mode"] == "optimal"][["zone_id", "year", "stage", "demand"]]
              .rename(columns={"demand": "pupils"})}
    manifest = {"scenario": "large", "allocation_mode": "optimal", "horizon": int(years[-1]),
                "stages": {s: {"ages": a, "radius_m": 2000} for s, a in stages.items()}}
    return Result.from_tables("large", tables, zones, manifest)


@pytest.mark.slow
def test_interactive_map_size_for_a_district(tmp_path: Path) -> None:
    result = make_large_result()
    path = interactive_map.write_interactive_map(result, tmp_path)
    size = path.stat().st_size
    assert size < 3_000_000, size
    data = embedded_data(path.read_text(encoding="utf-8"))
    assert len(data["cells"]) == 3000 and len(data["years"]) == 16


def test_chromium_renders_interactive_map(result: Result, tmp_path: Path) -> None:
    import browser_check

    browser_check.require_chromium()
    page = interactive_map.write_interactive_map(result, tmp_path)
    stats = browser_check.check(page, tmp_path / "map.png")
    assert stats["nonwhite"] > 0.2  # zones, catchments and panels are drawn by the script
    seen = browser_check.exercise(page, tmp_path)  # controls, zoom and tooltips work
    assert "error" not in seen, seen
    assert seen["ready"] == "1" and seen["year"] == "2021"
    assert seen["filledZones"] == 3 and seen["schools"] == 1 and seen["rings"] == 1
    assert "Zone one (z1)" in seen["zoneTip"] and "Children aged 12–14" in seen["zoneTip"]
    assert "Junior one" in seen["schoolTip"] and "Utilisation" in seen["schoolTip"]
    assert "Junior secondary (ages 12–14), 2021 (Catchment)" in seen["summary"]
