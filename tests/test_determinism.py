"""Same inputs, same bytes: every output of two runs is identical except the manifest's
timings."""
from __future__ import annotations

import json

import numpy as np
from pathlib import Path

from capacity.cli import main


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_reruns_are_byte_identical(tiny_scenario, tmp_path):
    outs = []
    for i in range(2):
        assert main(["run", str(tiny_scenario), "-o", str(tmp_path / f"r{i}"),
                     "--workers", "1"]) == 0
        outs.append(_files(tmp_path / f"r{i}" / "base"))
    a, b = outs
    assert a.keys() == b.keys()
    assert {"budget.xlsx", "report.html", "maps/catchments.html"} <= a.keys()
    assert any(k.endswith(".svg") for k in a)
    differ = [k for k in a if a[k] != b[k]]
    assert differ == ["manifest.json"] or differ == []
    ma, mb = (json.loads(x["manifest.json"]) for x in outs)
    ma.pop("timings"), mb.pop("timings")
    assert ma == mb


def test_csv_round_trip_is_lossless(tiny_result, tmp_path):
    """Every table written and read back equals the result: coordinates to 1e-7 degrees,
    distances to 0.005 m, other numbers to 5e-7; no scientific notation; whole numbers as
    integers."""
    from capacity.result import DECIMALS, DEFAULT_DECIMALS, read_result

    folder = tiny_result.write(tmp_path)
    again = read_result(folder)
    for name, frame in tiny_result.tables.items():
        text = (folder / f"{name}.csv").read_text()
        assert "e+" not in text and "e-0" not in text, name
        back = again.tables[name]
        assert list(back.columns) == list(frame.columns), name
        for col in frame.columns:
            a, b = frame[col], back[col]
            if a.dtype.kind in "if" and a.notna().any():
                tol = 0.5 * 10.0 ** -DECIMALS.get(col, DEFAULT_DECIMALS) * 1.0001
                np.testing.assert_allclose(b.astype(float), a.astype(float), rtol=0,
                                           atol=tol, err_msg=f"{name}.{col}")
                if a.dtype.kind == "i":
                    assert b.dtype.kind == "i", f"{name}.{col}"


def test_big_numbers_and_costs_are_positional(tmp_path):
    import geopandas as gpd
    import pandas as pd

    from capacity.result import Result, read_result

    projects = pd.DataFrame({"project_id": ["a", "b"], "cost": [459_600_000.0, 123_456_789.5],
                             "lon": [116.123456789, 116.5], "lat": [39.87654321, 39.5]})
    r = Result.from_tables("x", {"projects": projects}, gpd.GeoDataFrame(
        {"zone_id": []}, geometry=[], crs="EPSG:4326"))
    text = (r.write(tmp_path) / "projects.csv").read_text()
    assert "459600000," in text and "123456789.5," in text
    assert "116.1234568" in text and "39.8765432" in text
    back = read_result(tmp_path / "x").projects
    assert back["cost"].tolist() == [459_600_000.0, 123_456_789.5]


def test_parallel_writers_write_what_serial_writers_write(tiny_scenario, tmp_path):
    outs = []
    for workers in (1, 2):
        assert main(["run", str(tiny_scenario), "-o", str(tmp_path / f"w{workers}"),
                     "--workers", str(workers)]) == 0
        outs.append(_files(tmp_path / f"w{workers}" / "base"))
    a, b = outs
    assert a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == ["manifest.json"]
    ma, mb = (json.loads(x["manifest.json"]) for x in outs)
    for m in (ma, mb):
        m.pop("timings"), m.pop("workers")
    assert ma == mb
