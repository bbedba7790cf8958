"""Scenario ``[[transport]]`` rows (docs/scenarios.md): in the rows' years a unit's service
radius for the stage is its walking radius × radius_scale, in every allocation mode.

The hand model (tests/hand_model.py): zone A's unit at (0, 0) holds the only school S
(100 places); zone B's unit lies 2,000 m east, beyond the 600 m walking radius. A has
2 × 3 pupils aged 6 in 2020 (6 pupils 2020–2025), B 2 × 5 aged 8 (10 pupils 2020–2023).
With radius_scale 4 (2,400 m) in 2021–2022, B's 10 pupils are served in exactly those
years; in 2020 and 2023 they are out of reach; in 2024–2025 B has no pupils.
"""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from capacity.arcs import Arcs
from capacity.chain import run
from capacity.cli import main
from capacity.distances import year_arcs
from hand_model import lonlat, write_hand_model, write_scenario

HORIZON = 2025
SCHOOL = {"school_id": "S", "name": "S", "stage": "primary", "x": 0, "y": 0, "places": 100}


def row(where: str, years: tuple[int, int], scale: float = 4.0, stage: str = "primary") -> str:
    return (f'[[transport]]\nstage = "{stage}"\n{where}\nfrom_year = {years[0]}\n'
            f"to_year = {years[1]}\nradius_scale = {scale}\n")


@pytest.fixture
def model(tmp_path):
    return write_hand_model(tmp_path / "model", {"A": (0, 0), "B": (2000, 0)},
                            {"A": {6: 3}, "B": {8: 5}}, schools=[SCHOOL])


def zone_b(tmp_path, model, extra: str, mode: str = "optimal") -> pd.DataFrame:
    """Zone B's demand, served and out-of-reach pupils per year in ``mode``."""
    scen = write_scenario(tmp_path / "t.toml", "model", HORIZON, extra)
    short = run(scen, criticality=True).tables["shortfall"]
    b = short[(short["zone_id"] == "B") & (short["mode"] == mode)]
    return b.set_index("year")[["demand", "served", "out_of_reach"]]


@pytest.mark.parametrize("mode", ["optimal", "catchment"])
def test_a_unit_is_carried_exactly_in_the_rows_years(tmp_path, model, mode):
    without = zone_b(tmp_path, model, "", mode)
    assert without["served"].tolist() == [0] * 6
    assert without["out_of_reach"].tolist() == [10, 10, 10, 10, 0, 0]
    carried = zone_b(tmp_path, model, row('unit_id = "u-B"', (2021, 2022)), mode)
    assert carried["demand"].tolist() == [10, 10, 10, 10, 0, 0]
    assert carried["served"].tolist() == [0, 10, 10, 0, 0, 0]
    assert carried["out_of_reach"].tolist() == [10, 0, 0, 10, 0, 0]


def test_a_factor_short_of_the_school_carries_nobody(tmp_path, model):
    """600 m × 3.3 = 1,980 m < 2,000 m: still out of reach; × 3.4 = 2,040 m reaches it."""
    short = zone_b(tmp_path, model, row('unit_id = "u-B"', (2020, 2023), 3.3))
    assert short["served"].sum() == 0
    reach = zone_b(tmp_path, model, row('unit_id = "u-B"', (2020, 2023), 3.4))
    assert reach["served"].tolist() == [10, 10, 10, 10, 0, 0]


def test_the_designed_mode_carries_too(tmp_path, model):
    """A catchment map giving both units to S: B's catchment school is beyond its walking
    radius (not served) except in the rows' years."""
    x0, y0 = lonlat(-500, -500)
    x1, y1 = lonlat(2500, 500)
    gpd.GeoDataFrame({"school_id": ["S"]}, geometry=[box(x0, y0, x1, y1)],
                     crs="EPSG:4326").to_file(tmp_path / "map.geojson", driver="GeoJSON")
    extra = '[allocation]\nmode = "designed"\ncatchments = "map.geojson"\n'
    assert zone_b(tmp_path, model, extra, "designed")["served"].sum() == 0
    carried = zone_b(tmp_path, model, extra + row('unit_id = "u-B"', (2022, 2023)),
                     "designed")
    assert carried["served"].tolist() == [0, 0, 10, 10, 0, 0]


def test_a_zone_row_carries_every_unit_of_the_zone(tmp_path, model):
    """A second unit of zone B at (2000, 300) (2,022 m from S; weights 0.5 and 0.5: 5
    pupils each). A zone row carries both, a unit row only its unit."""
    units = pd.read_csv(model / "units.csv")
    lon, lat = lonlat(2000, 300)
    units = pd.concat([units, pd.DataFrame([{"unit_id": "u-B2", "zone_id": "B", "lon": lon,
                                             "lat": lat, "weight": 1.0}])])
    units["weight"] = np.where(units["zone_id"] == "B", 0.5, 1.0)
    units.to_csv(model / "units.csv", index=False, float_format="%.12g")
    zone = zone_b(tmp_path, model, row('zone_id = "B"', (2022, 2023)))
    assert zone["served"].tolist() == [0, 0, 10, 10, 0, 0]
    unit = zone_b(tmp_path, model, row('unit_id = "u-B2"', (2022, 2023)))
    assert unit["served"].tolist() == [0, 0, 5, 5, 0, 0]
    assert unit["out_of_reach"].tolist() == [10, 10, 5, 5, 0, 0]


def test_without_rows_the_walking_arcs_serve_every_year(tmp_path, model):
    from capacity.chain import Chain

    scen = write_scenario(tmp_path / "t.toml", "model", HORIZON)
    chain = Chain(scen)
    state = chain.run_steps(chain.start(), ("projection", "demand", "supply", "distances"))
    assert state.transport_arcs == {}
    assert all(state.arcs_for("primary", y) is state.arcs["primary"] for y in range(6))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 30), st.integers(1, 12),
       st.floats(200, 1500), st.lists(st.floats(1.01, 5.0), min_size=1, max_size=4))
def test_year_arcs_equal_arcs_built_with_the_years_radius(seed, n_units, n_sites, radius,
                                                          scales):
    """Each year's subset of the widest arcs equals arcs built afresh (KD-trees) with that
    year's radius: the same pairs and distances."""
    rng = np.random.default_rng(seed)
    uxy, sxy = rng.uniform(0, 5000, (n_units, 2)), rng.uniform(0, 5000, (n_sites, 2))
    walk_r = radius * rng.uniform(0.5, 2.0, n_units)
    factor = np.ones((len(scales) + 1, n_units))
    for y, s in enumerate(scales):
        factor[y + 1, rng.random(n_units) < 0.5] = s
    active = [()] + [(y,) for y in range(len(scales))]
    walk = Arcs.build(uxy, sxy, walk_r)
    wide = Arcs.build(uxy, sxy, walk_r * factor.max(axis=0))
    per_year = year_arcs(walk, wide, walk_r * factor, active)
    assert per_year[0] is walk
    for y, arcs in enumerate(per_year):
        fresh = Arcs.build(uxy, sxy, walk_r * factor[y])
        assert np.array_equal(arcs.unit, fresh.unit) and np.array_equal(arcs.school,
                                                                         fresh.school)
        assert np.array_equal(arcs.distance, fresh.distance)
        assert np.array_equal(arcs.start, fresh.start)
        assert np.array_equal(arcs.nearest_any, walk.nearest_any)


BAD = [
    (row('unit_id = "u-B"', (2021, 2022), stage="junior"), "transport[0].stage:",
     "unknown stage 'junior'"),
    (row('unit_id = "u-Z"', (2021, 2022)), "transport[0].unit_id:", "unknown unit_id 'u-Z'"),
    (row('zone_id = "Z"', (2021, 2022)), "transport[0].zone_id:", "unknown zone_id 'Z'"),
    (row('unit_id = "u-B"\nzone_id = "B"', (2021, 2022)), "transport[0]:",
     "exactly one of zone_id or unit_id"),
    (row("", (2021, 2022)), "transport[0]:", "exactly one of zone_id or unit_id"),
    (row('unit_id = "u-B"', (2019, 2022)), "transport[0].from_year:",
     "from_year 2019 is not a year of the run"),
    (row('unit_id = "u-B"', (2021, 2026)), "transport[0].to_year:",
     "to_year 2026 is not a year of the run"),
    (row('unit_id = "u-B"', (2023, 2021)), "transport[0].to_year:",
     "to_year 2021 is before from_year 2023"),
    (row('unit_id = "u-B"', (2021, 2022), 1.0), "transport[0].radius_scale:", "out of range"),
    (row('unit_id = "u-B"', (2021, 2022), 20.5), "transport[0].radius_scale:", "out of range"),
    ('[[transport]]\nstage = "primary"\nunit_id = "u-B"\nfrom_year = 2021\n'
     "radius_scale = 2\n", "transport[0].to_year:", "has no 'to_year'"),
]


@pytest.mark.parametrize("body,where,what", BAD)
def test_bad_transport_rows_exit_2_and_write_nothing(tmp_path, model, capsys, body, where,
                                                     what):
    scen = write_scenario(tmp_path / "t.toml", "model", HORIZON, "\n" + body)
    out = tmp_path / "out"
    assert main(["run", str(scen), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "t.toml:" in err and where in err and what in err, err
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize("mode", ["optimal", "catchment"])
def test_the_ensemble_carries_in_the_rows_years_too(tmp_path, model, mode):
    """Every draw (and the deterministic run): zone B's pupils are out of reach in 2020 and
    2023 and reached in 2021–2022 (drawn enrolment changes how many, not where)."""
    from capacity.ensemble.api import ensemble

    scen = write_scenario(tmp_path / "t.toml", "model", HORIZON,
                          f'[allocation]\nmode = "{mode}"\n'
                          "[uncertainty.fertility]\nspread = 0\nlevel_sd = 0\n"
                          + row('unit_id = "u-B"', (2021, 2022)))
    ens = ensemble(scen, draws=3, seed=1, workers=1)
    b = ens.zone_ids.index("B")
    for demand, reach in ((ens.demand[..., b, 0], ens.out_of_reach[..., b, 0]),
                          (ens.deterministic["demand"][None, :, b, 0],
                           ens.deterministic["out_of_reach"][None, :, b, 0])):
        assert (demand[:, :4] > 0).all()
        assert (reach[:, [0, 3]] == demand[:, [0, 3]]).all()
        assert (reach[:, [1, 2]] == 0).all()
    assert (ens.shortfall[:, 1:3, b, 0] == 0).all()
