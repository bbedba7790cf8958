"""Data tests for the embedded Tongzhou model (models/tongzhou).

Uses pandas / geopandas / numpy, and the package only to validate the model."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

ROOT = Path(__file__).resolve().parents[1]
M = ROOT / "models" / "tongzhou"
SRC = M / "sources"
GROUPS = [0, 1] + list(range(5, 90, 5))


@pytest.fixture(scope="module")
def zones():
    z = gpd.read_file(M / "zones.geojson")
    return z.set_index("zone_id")


@pytest.fixture(scope="module")
def pop():
    return pd.read_csv(M / "population.csv")


def _inside(df, zones):
    g = zones.geometry
    for zid, d in df.groupby("zone_id"):
        ok = shapely.contains_xy(g[zid], d.lon.to_numpy(float), d.lat.to_numpy(float))
        assert ok.all(), (zid, d[~ok].head())


def test_zones(zones):
    assert len(zones) == 22 and zones.crs.to_epsg() == 4326
    assert zones.geometry.is_valid.all()
    tw = pd.read_csv(SRC / "townships.csv").set_index("zone_id")
    assert set(zones.index) == set(tw.index)
    for zid, r in tw.iterrows():
        assert zones.geometry[zid].contains(shapely.Point(r.seat_lon, r.seat_lat))
    u = zones.to_crs("EPSG:32650")
    union = shapely.union_all(u.geometry.values)
    assert abs(union.area - u.area.sum()) < 1e4          # no overlaps (m2)
    assert 900e6 < union.area < 910e6                    # the district, 905 km2
    # radius_scale 2 exactly in the rural towns (towns and the township of >= 25 km2)
    rural = zones["kind"].isin(["town", "township"]) & (zones["area_km2"] >= 25)
    assert rural.sum() == 9
    assert (zones.loc[rural, "radius_scale"] == 2).all()
    assert (zones.loc[~rural, "radius_scale"] == 1).all()


def test_default_model_validates(capsys):
    from capacity.cli import main

    assert main(["validate", str(M)]) == 0
    out = capsys.readouterr().out
    assert "zones: 22" in out and "population 2020: 1,840,295" in out
    assert "×2 in 9 zones" in out


def test_population_census_margins(pop):
    assert (pop["count"] >= 0).all() and pd.api.types.is_integer_dtype(pop["count"])
    assert len(pop) == 22 * 2 * 101
    full = pop.groupby(["zone_id", "sex"]).age.apply(lambda a: sorted(a) == list(range(101)))
    assert full.all()
    a = pd.read_csv(SRC / "district_age_structure.csv")
    a = a[(a.area_code == 110112) & (a.census_year == 2020)]
    gi = np.searchsorted(GROUPS, pop.age, side="right") - 1
    got = pop.assign(g=gi).groupby(["sex", "g"])["count"].sum()
    for r in a.itertuples():
        sex = "M" if r.sex == "male" else "F"
        assert got[(sex, GROUPS.index(r.age_from))] == r.population
    assert pop["count"].sum() == 1840295


def test_population_zone_totals(pop):
    tw = pd.read_csv(SRC / "townships.csv").set_index("zone_id")
    zt = pop.groupby("zone_id")["count"].sum()
    known = tw.pop_2020.dropna()
    assert len(known) == 8
    for z, v in known.items():
        assert zt[z] == int(v)
    sz = pop[pop.zone_id == "songzhuang"]
    r = tw.loc["songzhuang"]
    assert sz[sz.sex == "M"]["count"].sum() == r.male_2020
    assert sz[sz.sex == "F"]["count"].sum() == r.female_2020
    assert sz[sz.age < 15]["count"].sum() == r.age0_14_2020
    assert sz[(sz.age >= 15) & (sz.age < 65)]["count"].sum() == r.age15_64_2020
    assert sz[sz.age >= 65]["count"].sum() == r.age65p_2020


def _e0(sx):
    L = np.empty(101)
    L[0] = sx[0]
    for a in range(1, 100):
        L[a] = L[a - 1] * sx[a]
    T100 = sx[100] * L[99] / (1 - sx[100])
    return L[:100].sum() + T100


def test_mortality():
    m = pd.read_csv(M / "mortality.csv")
    assert list(m.columns[:3]) == ["sex", "age", "sx"] and "mx" not in m and "qx" not in m
    assert ((m.sx > 0) & (m.sx <= 1)).all()
    for sex, e0 in (("M", 80.3), ("F", 84.5)):
        sx = m[m.sex == sex].sort_values("age").sx.to_numpy()
        assert len(sx) == 101
        assert abs(_e0(sx) - e0) < 0.01


def test_fertility(pop):
    f = pd.read_csv(M / "fertility.csv")
    assert f.age.min() == 15 and f.age.max() == 49
    assert (f.asfr >= 0).all() and abs(f.asfr.sum() - 0.720) < 1e-5
    # the level reproduces the census: births to 2020's women, surviving to the census,
    # equal the 13,032 children aged 0 (S13) up to the TFR's rounding to 0.001
    women = pop[pop.sex == "F"].groupby("age")["count"].sum().reindex(f.age).to_numpy()
    sx = pd.read_csv(M / "mortality.csv").query("age == 0").set_index("sex")["sx"]
    srb = 1.0722
    births = (f.asfr.to_numpy() * women).sum() * (sx["F"] + srb * sx["M"]) / (1 + srb)
    assert births == pytest.approx(13_032, rel=0.001)


def test_migration(pop):
    g = pd.read_csv(M / "migration.csv")
    assert set(g.zone_id) <= set(pop.zone_id) and set(g.sex) == {"F", "M"}
    assert g.age.between(0, 100).all()


def test_units(zones):
    u = pd.read_csv(M / "units.csv")
    assert u.unit_id.is_unique
    s = u.groupby("zone_id").weight.sum()
    assert set(s.index) == set(zones.index)
    assert np.allclose(s.to_numpy(), 1.0, atol=1e-12, rtol=0)
    assert (u.weight > 0).all()
    _inside(u, zones)


def test_schools_housing_inside(zones):
    s = pd.read_csv(M / "schools.csv")
    assert not s.duplicated(["school_id", "stage"]).any()
    assert set(s.stage) == {"kindergarten", "primary", "junior", "senior"}
    assert (s.classes > 0).all()
    kg = s[s.stage == "kindergarten"]
    assert kg.inclusive.isin([True, False]).all()
    _inside(s, zones)
    h = pd.read_csv(M / "housing.csv")
    assert h.development_id.is_unique and h.completion_year.between(2021, 2030).all()
    _inside(h, zones)


def test_projects(zones):
    p = pd.read_csv(M / "projects.csv")
    s = pd.read_csv(M / "schools.csv")
    assert p.project_id.is_unique
    assert p.open_year.between(2021, 2026).all()
    ex = p[p.kind == "expansion"]
    have = set(zip(s.school_id, s.stage))
    for r in ex.itertuples():
        assert (r.school_id, r.stage) in have, r.project_id
    new = p[p.kind == "new"]
    assert new.lon.notna().all() and new.lat.notna().all()
    _inside(new, zones)
    kp = pd.read_csv(SRC / "key_projects.csv")
    kp = kp[kp.kind != "context"]
    assert len(kp) == 19
    missing = set(kp.name_zh) - set(p.name_zh)
    assert not missing, missing
    plan = (SRC / "plan_2021_2025_excerpt.txt").read_text(encoding="utf-8")
    for name in ["第一实验小学（杨庄校区）", "景山学校通州校区", "物资学院小学", "物资学院中学", "乔庄中学",
                 "文旅区小学", "文旅区中学", "玉桥小学", "北京二中通州校区", "甘棠中学", "郎府中学"]:
        assert name in plan


def test_model_toml():
    import tomllib
    t = tomllib.loads((M / "model.toml").read_text(encoding="utf-8"))
    assert t["base_year"] == 2020 and t["crs"] == "EPSG:32650"
    assert t["demography"]["open_age"] == 100
    for k, v in t["files"].items():
        assert (M / v).exists(), k
    assert set(t["stages"]) == {"kindergarten", "primary", "junior", "senior"}
    assert t["stages"]["primary"]["ages"] == [6, 11]


def test_build_reproduces_bytes(tmp_path):
    # the build package, run as documented from the repository root with this checkout's
    # capacity engine first on the path
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])}
    run = subprocess.run([sys.executable, "-m", "tools.build_tongzhou", "--out", str(tmp_path)],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    def files(root: Path) -> list[str]:   # every built file, backtest/ included; not sources/
        return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                      if p.is_file() and p.relative_to(root).parts[0] != "sources")

    built = files(tmp_path)
    assert built == files(M)
    for name in built:
        assert (tmp_path / name).read_bytes() == (M / name).read_bytes(), name


BUILD_TABLES = ["assumptions.csv", "stage_parameters.csv", "mortality_model.csv",
                "zone_estimates.csv", "housing_pipeline.csv", "real_schools.csv",
                "plan_projects.csv"]


@pytest.mark.parametrize("name", BUILD_TABLES)
def test_build_parameter_tables_carry_their_provenance(name):
    # every number the build uses that is not in the source tables sits in one of these
    # files, each row with its source ids (or a flag saying it is an estimate) and a basis
    t = pd.read_csv(SRC / name, dtype=str, keep_default_na=False)
    assert "source_id" in t.columns
    assert ("basis" in t.columns) or ("source" in t.columns)
    ids = set(pd.Series(";".join(t.source_id).split(";")).str.strip()) - {""}
    listed = (SRC / "SOURCES.md").read_text(encoding="utf-8")
    for i in ids:
        assert i == "PLAN" or f"| {i} |" in listed, (name, i)
    assert name in listed
    if "flag" in t.columns:
        assert set(t.flag) <= {"reported", "derived", "estimate", ""}, set(t.flag)
        # an estimate may lack a source, a reported or derived value may not
        assert (t.source_id[t.flag.isin(["reported", "derived"])] != "").all(), name
