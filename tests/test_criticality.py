"""Criticality: max flow equals min-cost flow, skipped solves are exact, and parallel
solves equal serial ones."""
from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import capacity.state
from capacity.allocate import Arcs, allocate_optimal, max_served
from capacity.chain import Chain


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 40), st.integers(1, 8),
       st.floats(200, 3000))
def test_max_flow_serves_what_min_cost_flow_serves(seed, n_units, n_schools, radius):
    rng = np.random.default_rng(seed)
    uxy = rng.uniform(0, 4000, (n_units, 2))
    sxy = rng.uniform(0, 4000, (n_schools, 2))
    arcs = Arcs.build(uxy, sxy, radius)
    demand = rng.integers(0, 40, n_units)
    places = rng.integers(0, 120, n_schools)
    assert max_served(arcs, demand, places) == allocate_optimal(arcs, demand, places).pupils.sum()


def _rows(result) -> pd.DataFrame:
    return result.criticality.reset_index(drop=True)


def test_parallel_equals_serial(tiny_scenario, monkeypatch):
    serial = Chain(tiny_scenario, workers=1).run()
    monkeypatch.setattr(capacity.state, "PARALLEL_MIN_ARC_SOLVES", 0)
    parallel = Chain(tiny_scenario, workers=2).run()
    assert parallel.manifest["workers"] == 2
    for name, frame in serial.tables.items():
        pd.testing.assert_frame_equal(frame, parallel.tables[name], check_exact=True,
                                      obj=name)


def test_criticality_equals_rerunning_without_each_project(tiny_scenario, tiny_result,
                                                           tmp_path):
    """The reference: a whole run of a scenario that drops the project (min-cost flow)."""
    crit = tiny_result.criticality.set_index("project_id")
    mode = tiny_result.mode
    base = tiny_result.summary.query("mode == @mode").set_index(["stage", "year"])["shortfall"]
    for pid, row in crit.iterrows():
        scen = tmp_path / f"drop-{pid}.toml"
        scen.write_text(f'name = "drop"\nmodel = "{tiny_scenario.parent / "model"}"\n'
                        f'horizon = 2027\n[projects]\ndrop = ["{pid}"]\n')
        alt = Chain(scen, post=()).run().summary.query("mode == @mode")
        diff = alt.set_index(["stage", "year"])["shortfall"] - base
        extra = diff.loc[row["stage"]]
        assert int(extra.sum()) == row["extra_shortfall_if_dropped"], pid
        assert int(extra.max()) == row["extra_shortfall_if_dropped_peak"], pid


def test_parquet_and_csv_run_folders_load_to_equal_tables(tiny_result, tmp_path):
    from capacity.result import read_result

    a = read_result(tiny_result.write(tmp_path / "csv"))
    b = read_result(tiny_result.write(tmp_path / "pq", format="parquet"))
    assert (tmp_path / "pq" / "base" / "allocation.parquet").is_file()
    assert not (tmp_path / "pq" / "base" / "allocation.csv").exists()
    assert set(a.tables) == set(b.tables)
    from capacity.result import CATEGORIES

    for col in CATEGORIES["allocation"]:       # as the run holds them, from either format
        for r in (tiny_result, a, b):
            assert isinstance(r.allocation[col].dtype, pd.CategoricalDtype), col
    for name in a.tables:
        x, y = a.tables[name], b.tables[name]
        assert list(x.columns) == list(y.columns), name
        for col in x.columns:
            if x[col].dtype.kind == "f" or y[col].dtype.kind == "f":
                from capacity.result import DECIMALS, DEFAULT_DECIMALS

                tol = 0.5 * 10.0 ** -DECIMALS.get(col, DEFAULT_DECIMALS) * 1.0001
                np.testing.assert_allclose(x[col].astype(float), y[col].astype(float),
                                           rtol=0, atol=tol, err_msg=f"{name}.{col}")
            else:
                same = x[col].astype("string").fillna("-") == y[col].astype("string").fillna("-")
                assert same.all(), f"{name}.{col}"


def test_scenario_mode_only(tiny_result, tmp_path):
    from capacity.result import read_result

    r = read_result(tiny_result.write(tmp_path, modes=[tiny_result.mode]))
    assert set(r.allocation["mode"]) == {tiny_result.mode} == set(r.summary["mode"])
    assert len(r.population) == len(tiny_result.population)
