"""GCJ-02 / BD-09 coordinates: the published transforms against reference pairs, and a model
declared in GCJ-02 landing on its WGS84 original within metres."""
from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from capacity import geo
from capacity.model import load_model
from capacity.model.tables import read_csv_text
from capacity.errors import InputError, Problems
from tiny_model import write_tiny_model

# Reference pairs published with open-source implementations of the transforms:
# hujiulong/gcoord test/unit/crs/{WGS84,GCJ02,BD09}.spec.ts (point 123° E, 45° N, checked
# there to 5 decimals).
REFERENCE = [
    ("wgs84_to_gcj02", (123.0, 45.0), (123.00607541, 45.00197815)),
    ("gcj02_to_wgs84", (123.0, 45.0), (122.99395597, 44.99804071)),
    ("gcj02_to_bd09", (123.0, 45.0), (123.00636499, 45.00636899)),
    ("bd09_to_gcj02", (123.0, 45.0), (122.99363304, 44.99365430)),
]


@pytest.mark.parametrize("name, point, expected", REFERENCE)
def test_transforms_match_published_pairs(name, point, expected):
    lon, lat = getattr(geo, name)(*point)
    assert float(lon) == pytest.approx(expected[0], abs=1e-6)   # ~0.1 m
    assert float(lat) == pytest.approx(expected[1], abs=1e-6)


def test_bd09_to_wgs84_matches_published_pair():
    lon, lat = geo.to_wgs84(123.0, 45.0, "bd09")          # gcoord BD09.spec.ts
    assert (float(lon), float(lat)) == pytest.approx((122.98762210, 44.99171540), abs=1e-6)


def test_outside_china_is_unchanged_and_nan_passes():
    lon, lat = geo.wgs84_to_gcj02(np.array([183.0, np.nan]), np.array([45.0, 39.9]))
    assert lon[0] == 183.0 and lat[0] == 45.0 and np.isnan(lon[1])


@settings(max_examples=60, deadline=None)
@given(st.floats(74, 134), st.floats(18, 53))
def test_inverse_undoes_forward_to_a_millimetre(lon, lat):
    back = geo.gcj02_to_wgs84(*geo.wgs84_to_gcj02(lon, lat))
    assert np.allclose(back, (lon, lat), atol=1e-8)       # 1e-8° ≈ 1 mm
    back = geo.to_wgs84(*geo.gcj02_to_bd09(*geo.wgs84_to_gcj02(lon, lat)), "bd09")
    assert np.allclose(back, (lon, lat), atol=1e-7)


def _as_datum(folder, datum: str) -> None:
    """Rewrite a model's coordinates (points and zone polygons) in ``datum``."""
    import geopandas as gpd
    import pandas as pd

    fwd = {"gcj02": geo.wgs84_to_gcj02,
           "bd09": lambda x, y: geo.gcj02_to_bd09(*geo.wgs84_to_gcj02(x, y))}[datum]
    for name in ("schools", "projects", "units", "housing"):
        f = folder / f"{name}.csv"
        t = pd.read_csv(f, dtype=str, keep_default_na=False)
        if "lon" in t and len(t):
            num = t["lon"] != ""
            lon, lat = fwd(t.loc[num, "lon"].astype(float).to_numpy(),
                           t.loc[num, "lat"].astype(float).to_numpy())
            t.loc[num, "lon"] = [f"{v:.9f}" for v in lon]
            t.loc[num, "lat"] = [f"{v:.9f}" for v in lat]
            t.to_csv(f, index=False)
    z = gpd.read_file(folder / "zones.geojson")
    z["geometry"] = shapely.transform(z.geometry.to_numpy(),
                                      lambda xy: np.column_stack(fwd(xy[:, 0], xy[:, 1])))
    z.to_file(folder / "zones.geojson", driver="GeoJSON")
    toml = folder / "model.toml"
    toml.write_text(toml.read_text().replace('crs = "EPSG:32650"',
                                             f'crs = "EPSG:32650"\ndatum = "{datum}"'))


@pytest.mark.parametrize("datum", ["gcj02", "bd09"])
def test_model_in_chinese_datum_lands_on_wgs84_reference(tmp_path, datum):
    ref = load_model(write_tiny_model(tmp_path / "wgs"))
    folder = write_tiny_model(tmp_path / datum)
    _as_datum(folder, datum)
    from capacity.cli import main

    assert main(["validate", str(folder)]) == 0          # validates as declared
    model = load_model(folder)
    assert model.datum == datum
    for name in ("schools", "units"):
        a, b = getattr(ref, name), getattr(model, name)
        d = np.hypot(a["x"].to_numpy(float) - b["x"].to_numpy(float),
                     a["y"].to_numpy(float) - b["y"].to_numpy(float))
        # GCJ-02 inverts to < 1 mm; Baidu's closed-form BD-09 inverse is good to ~0.1 m
        assert len(d) and d.max() < 0.5, name
    zone_shift = ref.zones.geometry.hausdorff_distance(model.zones.geometry.set_crs(
        ref.zones.crs, allow_override=True))
    assert zone_shift.max() < 0.5


def test_validate_prints_the_datum(tmp_path, capsys):
    from capacity.cli import main

    folder = write_tiny_model(tmp_path / "m")
    _as_datum(folder, "gcj02")
    assert main(["validate", str(folder)]) == 0
    assert "coordinates GCJ-02" in capsys.readouterr().out


def test_undeclared_datum_offset_is_hundreds_of_metres():
    x, y = geo.to_model_xy(*geo.wgs84_to_gcj02(116.65, 39.9), "EPSG:32650")
    x0, y0 = geo.to_model_xy(116.65, 39.9, "EPSG:32650")
    assert 300 < np.hypot(x - x0, y - y0) < 800


def test_gbk_file_is_read_when_declared_and_refused_when_not(tmp_path):
    f = tmp_path / "t.csv"
    f.write_bytes("zone_id,name\nluhe,潞河\n".encode("gbk"))
    problems = Problems()
    assert read_csv_text(f, "t.csv", problems) is None
    (p,) = problems.items
    assert "not UTF-8" in str(p) and 'encoding = "gbk"' in str(p) and p.row == 2
    frame = read_csv_text(f, "t.csv", Problems(), "gbk")
    assert frame["name"].tolist() == ["潞河"]
    assert read_csv_text(f, "t.csv", Problems(), "gb18030")["name"].tolist() == ["潞河"]


def test_gbk_model_loads_with_declared_encoding(tmp_path):
    folder = write_tiny_model(tmp_path / "m")
    schools = folder / "schools.csv"
    import pandas as pd
    t = pd.read_csv(schools, dtype=str, keep_default_na=False)
    t["name_zh"] = "潞河学校" + t.index.astype(str)   # not valid UTF-8 when GBK-encoded
    t.to_csv(schools, index=False, encoding="gbk")
    with pytest.raises(InputError, match="not UTF-8"):
        load_model(folder)
    toml = folder / "model.toml"
    toml.write_text(toml.read_text().replace("[files]\n", '[files]\nencoding = "gbk"\n'))
    model = load_model(folder)
    assert model.schools["name_zh"].iloc[0] == "潞河学校0"
