"""Writing fast without changing a byte: the array-built pieces of the maps equal plain
references (hypothesis), and the jobs of a run folder give the same files on one or two
processes, in any order (capacity.writejobs, capacity.report.flows, .deliverables)."""
from __future__ import annotations

import base64
import gc
import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import example, given, settings
from hypothesis import strategies as st

from capacity.report.catchment import dominant_school
from capacity.report.flows import dominant, flows_of
from capacity.report.interactive_map import CODE_DIGITS, encode, svg_paths
from capacity.result import Result
from capacity.writejobs import Job, SplitWriter, run_writers
from synthetic_result import make_result

from capacity.result import CATEGORIES


# -- the dominant school: arrays = sorting the long table ---------------------------------
def reference_dominant(alloc: pd.DataFrame, stage: str) -> dict[tuple, str]:
    """(year, mode, unit) → the school with most pupils, the first id on ties ('' none):
    plain Python over the rows."""
    best: dict[tuple, tuple[float, str]] = {}
    for r in alloc.itertuples(index=False):
        if r.stage != stage or not r.pupils > 0:
            continue
        key = (int(r.year), r.mode, r.unit_id)
        school = "" if pd.isna(r.school_id) else str(r.school_id).strip()
        have = best.setdefault(key, (-np.inf, ""))
        if school and (r.pupils > have[0] or (r.pupils == have[0] and school < have[1])):
            best[key] = (r.pupils, school)
    return {k: v[1] for k, v in best.items()}


rows = st.lists(st.tuples(st.sampled_from(["u1", "u2", "u10", "v"]),
                          st.sampled_from(["", " ", "s1", "s2", "S1", "s10", None]),
                          st.sampled_from([2020, 2021]), st.sampled_from(["primary", "junior"]),
                          st.sampled_from(["optimal", "catchment"]),
                          st.sampled_from([0.0, 1.0, 2.0, 2.0, 3.5, -1.0, np.nan])),
                max_size=40)


@settings(max_examples=150, deadline=None)
@given(rows)
def test_dominant_school_equals_a_plain_reference(data) -> None:
    alloc = pd.DataFrame(data, columns=["unit_id", "school_id", "year", "stage", "mode",
                                        "pupils"])
    alloc = alloc.astype({"year": "int64", "pupils": float})
    flows = flows_of(alloc)
    for stage in ("primary", "junior"):
        year, mode, unit, school = dominant(flows, stage)
        got = {(int(y), flows.modes[m], flows.units[u]): flows.schools[s] if s >= 0 else ""
               for y, m, u, s in zip(year, mode, unit, school)}
        assert got == reference_dominant(alloc, stage)
        assert len(got) == len(year)            # one row per (year, mode, unit)


def test_dominant_school_keeps_the_tables_order_and_filters() -> None:
    result = make_result()
    full = dominant_school(result, "primary", None, None)
    alloc = result.allocation
    sel = alloc[(alloc["stage"] == "primary") & (alloc["pupils"] > 0)]
    first_seen = sel[["year", "mode", "unit_id"]].drop_duplicates()
    assert full[["year", "mode", "unit_id"]].values.tolist() == first_seen.values.tolist()
    one = dominant_school(result, "primary", 2021, "optimal")
    expect = full[(full["year"] == 2021) & (full["mode"] == "optimal")]
    assert one.values.tolist() == expect.values.tolist()
    assert dominant_school(result, "no such stage", None, None).empty


# -- SVG paths: vectorised = a plain loop over rings --------------------------------------
def reference_path(geom, origin, unit) -> str:
    """'M x y l dx dy … z' per ring of each polygon, in plain Python: a point equal to the
    one before it (after rounding) or to its ring's first point is left out, then a ring of
    fewer than three points."""
    out = []
    polys = [g for g in shapely.get_parts(shapely.get_parts(geom))
             if shapely.get_type_id(g) == 3] if geom is not None else []
    for poly in polys:
        for ring in [poly.exterior, *poly.interiors]:
            pts, before = [], None
            for x, y in list(ring.coords)[:-1]:
                p = (int(np.rint((x - origin[0]) / unit)), int(np.rint((origin[1] - y) / unit)))
                if not pts or (p != before and p != pts[0]):
                    pts.append(p)
                before = p
            if len(pts) < 3:
                continue
            steps = [f"{b[0] - a[0]} {b[1] - a[1]}" for a, b in zip(pts, pts[1:])]
            out.append(f"M{pts[0][0]} {pts[0][1]}" + (" l" + " ".join(steps) if steps else "")
                       + "z")
    return "".join(out)


coord = st.floats(-500, 500, allow_nan=False)


@st.composite
def polygons(draw):
    kind = draw(st.sampled_from(["box", "blob", "multi", "hole", "none", "empty", "line"]))
    x, y = draw(coord), draw(coord)
    w, h = draw(st.floats(0.5, 300)), draw(st.floats(0.5, 300))
    box = shapely.box(x, y, x + w, y + h)
    if kind == "box":
        return box
    if kind == "blob":
        return shapely.Point(x, y).buffer(w / 3, quad_segs=draw(st.integers(1, 6)))
    if kind == "multi":
        return shapely.MultiPolygon([box, shapely.box(x + w + 20, y, x + 2 * w + 20, y + h)])
    if kind == "hole":
        return box.difference(shapely.box(x + w / 4, y + h / 4, x + w / 2, y + h / 2))
    if kind == "line":   # a collection with a line: only its polygon is drawn
        return shapely.GeometryCollection([box, shapely.LineString([(x, y), (x + 1, y + 9)])])
    return None if kind == "none" else shapely.Polygon()


@settings(max_examples=150, deadline=None)
@given(st.lists(polygons(), max_size=8), st.sampled_from([1.0, 5.0, 40.0]))
def test_svg_paths_equal_a_plain_reference(geoms, unit) -> None:
    origin = (-600.0, 600.0)
    assert svg_paths(geoms, origin, unit) == [reference_path(g, origin, unit) for g in geoms]


def test_codes_are_fixed_width_base64() -> None:
    codes = np.array([0, 1, 63, 64, 4095])
    assert encode(codes, 2) == "".join(CODE_DIGITS[c // 64] + CODE_DIGITS[c % 64]
                                        for c in codes)
    assert encode(np.array([], dtype=np.int64), 3) == ""


# -- jobs: longest first, the same values and files on any number of processes -------------
class Pieces(SplitWriter):
    """Writes one file per job, each job returning its text; finish joins them."""

    def jobs(self, result: Result) -> list[Job]:
        return [Job(f"piece{i}", lambda r, f, i=i: self.piece(i, f), cost=float(i % 3))
                for i in range(7)]

    @staticmethod
    def piece(i: int, folder: Path) -> str:
        (folder / f"piece{i}.txt").write_text(str(i))
        return str(i)

    def finish(self, result: Result, folder: Path, values: list) -> str:
        (folder / "all.txt").write_text(",".join(values))
        return ",".join(values)


@pytest.mark.parametrize("workers", [1, 2])
def test_split_writers_give_their_values_in_order(tmp_path: Path, workers: int) -> None:
    timings: dict = {}
    plain = lambda r, f: (f / "plain.txt").write_text("x") and "plain"   # noqa: E731
    out = run_writers(None, tmp_path, [Pieces(), plain], workers, timings)
    assert out == [",".join(map(str, range(7))), "plain"]
    assert (tmp_path / "all.txt").read_text() == "0,1,2,3,4,5,6"
    assert gc.get_freeze_count() == 0      # frozen for the workers' fork only
    assert set(timings["write"]) == {*(f"piece{i}" for i in range(7)), "writer",
                                     "Pieces:prepare", "Pieces:finish"}
    again = tmp_path / "again"
    again.mkdir()
    assert Pieces()(None, again) == out[0] and (again / "all.txt").read_text() == out[0]


def _digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "manifest.json"}


def test_report_writer_serial_equals_parallel(tmp_path: Path) -> None:
    """The maps and report drawn as jobs on two processes, as one writer call in this
    process and as the old order (every map, then the page with the figures) agree."""
    from capacity.report.deliverables import write_all
    from capacity.report.html import map_years, write_report
    from capacity.report.static_maps import save_static_map, static_map
    from capacity.report.catchment import result_lang
    from capacity.report.fonts import font_context
    from capacity.report.interactive_map import write_interactive_map

    result = make_result()
    two = result.write(tmp_path / "two", writers=[write_all], workers=2)
    one = make_result().write(tmp_path / "one", writers=[write_all], workers=1)
    old = make_result()
    folder = old.write(tmp_path / "old")
    figures = {}
    with font_context(result_lang(old)):   # as the jobs draw
        for stage in ("primary", "junior"):
            for y, _ in map_years(old, stage, old.mode):
                figures[(stage, y)] = static_map(old, stage, y)
                save_static_map(figures[(stage, y)], folder, stage, y)
    write_interactive_map(old, folder)
    write_report(old, folder, figures=figures)   # re-renders each map at the file's dpi
    assert _digest(two) == _digest(one)
    assert len(_digest(two)) > 10
    rest = {k: v for k, v in _digest(folder).items() if k != "report.html"}
    assert rest == {k: v for k, v in _digest(one).items() if k != "report.html"}
    # the report embeds the map files themselves; apart from them it is the old order's
    page = (Path(one) / "report.html").read_text(encoding="utf-8")
    maps = sorted((Path(one) / "maps").glob("*.png"))
    assert maps and all(base64.b64encode(p.read_bytes()).decode() in page for p in maps)
    uri = re.compile(r"data:image/png;base64,[A-Za-z0-9+/=]+")
    assert uri.sub("", page) == uri.sub("", (folder / "report.html").read_text(encoding="utf-8"))
    timings = result.manifest["timings"]
    assert {"report.html", "maps/catchments.html", "allocation.csv"} <= set(timings["write"])
    assert timings["write_s"] > 0


# -- CSV: Arrow's bytes = pandas' bytes, or pandas writes ------------------------------------
text = st.text(alphabet=st.sampled_from(list('ab ,"\n\r-_.é中0')), max_size=5)


@st.composite
def frames(draw):
    n = draw(st.integers(0, 12))
    cols = {}
    for i in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["int", "Int64", "str", "object", "float", "bool",
                                     "category"]))
        if kind == "int":
            col = pd.Series(draw(st.lists(st.integers(-2**62, 2**62), min_size=n, max_size=n)),
                            dtype="int64")
        elif kind == "Int64":
            col = pd.Series(draw(st.lists(st.none() | st.integers(-10**6, 10**6), min_size=n,
                                          max_size=n)), dtype="Int64")
        elif kind in ("str", "object", "category"):
            col = pd.Series(draw(st.lists(st.none() | text, min_size=n, max_size=n)),
                            dtype={"str": "str", "object": object}.get(kind, "category"))
        elif kind == "float":
            col = pd.Series(draw(st.lists(st.floats(allow_nan=True, allow_infinity=True,
                                                    width=64), min_size=n, max_size=n)),
                            dtype=float)
        else:
            col = pd.Series(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
        cols[draw(st.sampled_from(["a", "b_c", "d,e", "lon", "distance_m"])) + str(i)] = col
    return pd.DataFrame(cols)


@settings(max_examples=200, deadline=None)
@given(frames(), st.booleans(), st.booleans())
@example(pd.DataFrame({"a0": [0.0, np.inf]}), False, False)   # integral, with an infinity
@example(pd.DataFrame({"a0": ["p"] * 3, "b1": ["u1", "u2", "u3"]}), False, True)
def test_csv_bytes_equal_pandas(tmp_path_factory, frame, bom, parts) -> None:
    """Also for a frame concatenated from parts, an empty one first (its text columns are
    chunked Arrow arrays with an empty chunk: pyarrow wrote raw buffers, 0-bytes, there)."""
    from capacity.csvout import write_csv
    from capacity.result import csv_ready

    if parts:
        half = len(frame) // 2
        frame = pd.concat([frame.iloc[:0], frame.iloc[:half], frame.iloc[:0],
                           frame.iloc[half:]], ignore_index=True)
    folder = tmp_path_factory.mktemp("csv")
    ready = csv_ready(frame)
    write_csv(ready, folder / "fast.csv", bom)
    ready.to_csv(folder / "pandas.csv", index=False, encoding="utf-8-sig" if bom else "utf-8")
    assert (folder / "fast.csv").read_bytes() == (folder / "pandas.csv").read_bytes()


def test_fixed_decimals_equal_printf() -> None:
    from capacity.csvout import fixed_decimals

    values = np.array([0.0, -0.0, -0.001, 1.005, 2.675, 1e16, 123.4500, np.nan, np.inf, -2.5])
    expect = []
    for v in values:
        t = "" if not np.isfinite(v) else ("%.2f" % v).rstrip("0").rstrip(".")
        expect.append("0" if t == "-0" else t)
    assert fixed_decimals(values, 2) == expect
    assert expect[:3] == ["0", "0", "0"] and expect[7:9] == ["", ""]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.floats(), st.sampled_from([0.0, -0.0, 2.675, -0.004, 1e300])),
                max_size=30), st.integers(0, 7))
def test_fixed_decimals_printf_each_value(values: list, decimals: int) -> None:
    """Formatting each distinct value once = printf on every value (repeats, ±0, NaN)."""
    from capacity.csvout import fixed_decimals

    expect = []
    for v in values:
        t = "" if not np.isfinite(v) else (f"%.{decimals}f" % v).rstrip("0").rstrip(".")
        expect.append("0" if t == "-0" else t)
    assert fixed_decimals(np.array(values * 2, dtype=float), decimals) == expect * 2


def test_long_tables_go_through_arrow() -> None:
    from capacity.csvout import arrow_table

    result = make_result()
    from capacity.result import csv_ready

    assert arrow_table(csv_ready(result.allocation)) is not None
    coded = result.allocation.astype({c: "category" for c in CATEGORIES["allocation"]})
    assert arrow_table(csv_ready(coded)) is not None     # a run's allocation table
    assert arrow_table(pd.DataFrame({"a": [1], "b": ["x,y"]})) is None
    assert arrow_table(pd.DataFrame({"a": [1], "b": [True]})) is None
