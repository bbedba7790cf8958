"""capacity ensemble: reproducible draws on a 2-worker dask LocalCluster, zero-width draws
equal the deterministic chain, quantiles of a known distribution, precise input errors."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import capacity
from capacity.cli import main
from capacity.ensemble import draw_of, ensemble, read_uncertainty, run_draw
from capacity.ensemble.draws import Z80, make_draw, tfr_sd
from capacity.ensemble.spec import packaged_intervals
from tiny_model import write_tiny_model

ZERO = """
[uncertainty.fertility]
spread = 0
level_sd = 0
[uncertainty.migration]
low = 1
high = 1
exit_low = 1
exit_high = 1
inflow_noise = 0
exit_flatten_high = 0
[uncertainty.housing]
share_low = 1
share_high = 1
delay = { 0 = 1 }
[uncertainty.projects]
delay = { 0 = 1 }
[uncertainty.enrolment]
sd = 0
"""


def scenario(folder: Path, body: str = "", name: str = "ens", model: str = "model") -> Path:
    path = folder / f"{name}.toml"
    path.write_text(f'name = "{name}"\nmodel = "{model}"\nhorizon = 2027\n{body}',
                    encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ens")
    write_tiny_model(root / "model")
    return root


@pytest.fixture(scope="module")
def wide(tiny) -> Path:
    """Every distribution wide, a project-specific delay: draws differ in every input."""
    return scenario(tiny, """
[uncertainty.fertility]
spread = 2
[uncertainty.housing]
share_low = 0.2
[uncertainty.projects.delay_by]
newp = { 0 = 0.3, 1 = 0.3, 3 = 0.4 }
[uncertainty.enrolment]
sd = 0.05
""", name="wide")


@pytest.fixture(scope="module")
def one_and_two(wide):
    import logging

    from distributed import LocalCluster

    one = ensemble(wide, draws=6, seed=3, workers=1, batch=4)
    # two workers of an existing cluster, reached by address (as --scheduler tcp://…)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0", silence_logs=logging.ERROR) as cluster:
        two = ensemble(wide, draws=6, seed=3, scheduler=cluster.scheduler_address, batch=1)
    return one, two


def test_same_seed_same_outputs_on_one_and_two_workers(one_and_two):
    one, two = one_and_two
    assert one.manifest["cluster"]["workers"] == 1 and two.manifest["cluster"]["workers"] == 2
    assert two.manifest["cluster"]["scheduler"].startswith("tcp://")
    for name in ("demand", "shortfall", "out_of_reach", "places"):
        np.testing.assert_array_equal(getattr(one, name), getattr(two, name))
    pd.testing.assert_frame_equal(one.quantiles, two.quantiles)
    pd.testing.assert_frame_equal(one.inputs, two.inputs)
    # the draws really differ: the test would pass trivially otherwise
    assert one.inputs["delay_newp"].nunique() > 1
    assert len({a.tobytes() for a in one.demand}) == 6


def test_a_draw_rerun_alone_through_the_chain_equals_its_ensemble_row(one_and_two, wide):
    one, _ = one_and_two
    for i in (0, 4):
        res = run_draw(wide, i, seed=3)
        short = res.shortfall[res.shortfall["mode"] == "optimal"]
        got = short.pivot_table(index=["year", "zone_id"], columns="stage",
                                values="shortfall").reindex(columns=one.stages)
        np.testing.assert_array_equal(got.to_numpy().reshape(one.shortfall[i].shape),
                                      one.shortfall[i])
    assert draw_of(wide, 4, seed=3).name == "wide-draw-4"


@pytest.mark.parametrize("exits, mode", [("", "optimal"),
                                         ("[migration]\nout_rate = 0.03\n", "optimal"),
                                         ("", "catchment")])
def test_zero_width_draws_reproduce_the_deterministic_run(tiny, exits, mode):
    """Also with rate-based exits, which the ensemble's batched projection must pass on,
    and in catchment mode (the registered rule, not the optimal mode's zone totals)."""
    path = scenario(tiny, f'[allocation]\nmode = "{mode}"\n'
                    "[projects]\ndelay_years = { newp = 1 }\n[fertility]\n"
                    "tfr = { 2022 = 1.2, 2027 = 0.9 }\n" + exits + ZERO, name="zero")
    ens = ensemble(path, draws=3, seed=5, workers=1)
    assert ens.mode == mode
    det = capacity.run(path, criticality=False)
    s = det.shortfall[det.shortfall["mode"] == mode]
    for col, arr in (("shortfall", ens.shortfall), ("demand", ens.demand),
                     ("out_of_reach", ens.out_of_reach)):
        want = s.pivot_table(index=["year", "zone_id"], columns="stage", values=col) \
            .reindex(columns=ens.stages).to_numpy().reshape(arr.shape[1:])
        for draw in arr:
            np.testing.assert_array_equal(draw, want)
        np.testing.assert_array_equal(ens.deterministic[col], want)
    assert want.sum() > 0     # a run with shortfall: the comparison is not between zeros
    q = ens.quantiles
    assert (q["p5"] == q["deterministic"]).all() and (q["p95"] == q["deterministic"]).all()


def one_zone_model(root: Path) -> Path:
    """The tiny model cut to zone a: one kindergarten, one primary school, a housing
    development in the zone, no projects."""
    folder = write_tiny_model(root / "one")
    zones = gpd.read_file(folder / "zones.geojson")
    zones[zones["zone_id"] == "a"].to_file(folder / "zones.geojson", driver="GeoJSON")
    for name in ("population", "migration", "units"):
        f = pd.read_csv(folder / f"{name}.csv")
        f[f["zone_id"] == "a"].to_csv(folder / f"{name}.csv", index=False)
    h = pd.read_csv(folder / "housing.csv")
    s = pd.read_csv(folder / "schools.csv")
    h[["zone_id", "lon", "lat", "units"]] = ["a", s.loc[0, "lon"], s.loc[0, "lat"], 1500]
    h.to_csv(folder / "housing.csv", index=False)
    s[s["school_id"].isin(["k1", "p2"])].to_csv(folder / "schools.csv", index=False)
    p = pd.read_csv(folder / "projects.csv")
    p.iloc[:0].to_csv(folder / "projects.csv", index=False)
    return folder


def test_quantiles_of_a_uniform_housing_share_match_the_analytic_answer(tiny):
    one_zone_model(tiny)
    lo, hi, n = 0.2, 1.0, 300
    common = ("[stages.primary]\nradius_m = 20000\n[stages.kindergarten]\n"
              "radius_m = 20000\n")
    zero = ZERO.replace("share_low = 1\nshare_high = 1",
                        f"share_low = {lo}\nshare_high = {hi}")
    path = scenario(tiny, common + zero, name="uniform", model="one")
    ens = ensemble(path, draws=n, seed=11, workers=2)
    # expected pupils are linear in the share: two deterministic runs give the line
    x = {}
    for share in (lo, hi):
        run = capacity.run(scenario(tiny, common + f"[housing]\nscale = {share}\n",
                                    name=f"s{share}", model="one"), criticality=False)
        d = run.demand[(run.demand["stage"] == "primary") & (run.demand["year"] == 2027)]
        x[share] = float(d["pupils"].sum())
        places = int(run.capacity.query("stage == 'primary' and year == 2027")["places"].sum())
    assert x[hi] - x[lo] > 50                      # the share moves demand a lot
    q = ens.quantiles.query("zone_id == 'ALL' and stage == 'primary' and year == 2027")
    for p in (10, 25, 50, 75, 90):
        share_p = lo + p / 100 * (hi - lo)          # quantile of U(lo, hi)
        demand_p = np.floor(x[lo] + (share_p - lo) / (hi - lo) * (x[hi] - x[lo]) + 0.5)
        # sampling error of an empirical quantile of n uniform draws (4 sd) + rounding
        tol = 4 * np.sqrt(p / 100 * (1 - p / 100) / n) * (x[hi] - x[lo]) + 1
        got = q[q["measure"] == "demand"][f"p{p}"].item()
        assert abs(got - demand_p) <= tol, (p, got, demand_p, tol)
        short = q[q["measure"] == "shortfall"][f"p{p}"].item()
        assert abs(short - max(demand_p - places, 0)) <= tol, (p, short, demand_p, places)
    shares = ens.inputs["housing_share"]
    assert lo <= shares.min() and shares.max() <= hi


def test_draws_do_not_depend_on_how_many_there_are(tiny, wide):
    sc = capacity.load_scenario(wide)
    model = capacity.load_model(sc.model)
    spec = read_uncertainty(sc, model)
    steps = np.arange(2021, 2028)
    a = [make_draw(i, 7, spec, model, steps) for i in range(5)]
    b = make_draw(3, 7, spec, model, steps)
    np.testing.assert_array_equal(a[3].tfr_ratio, b.tfr_ratio)
    assert a[3].project_delay == b.project_delay and a[3].enrolment == b.enrolment
    assert a[2].migration != a[3].migration


def test_tfr_spread_meets_the_wpp_80_percent_bounds():
    w = packaged_intervals()
    steps = w["year"].to_numpy()
    up, down = tfr_sd(w, steps, base_year=2020)
    np.testing.assert_allclose(np.exp(up * Z80), w["upper_80"] / w["medium"], rtol=1e-12)
    np.testing.assert_allclose(np.exp(-down * Z80), w["lower_80"] / w["medium"], rtol=1e-12)
    # the split normal fitted to the 80 % interval roughly reproduces the 95 % one
    np.testing.assert_allclose(np.exp(up * 1.959964), w["upper_95"] / w["medium"], rtol=0.06)
    early, _ = tfr_sd(w, np.array([2021, 2022, 2023]), base_year=2020)
    assert 0 < early[0] < early[1] < early[2] < up[0]


BAD = [
    ("[uncertainty.fertility]\nspread = -1\n", "uncertainty.fertility.spread", "out of range"),
    ("[uncertainty.projects]\ndelay = { 0 = 0.5, 1 = 1.5 }\n", "uncertainty.projects.delay.1",
     "not a probability"),
    ("[uncertainty.housing]\ndelay = { 0 = 0.5, 1 = 0.2 }\n", "uncertainty.housing.delay",
     "sum to 0.7"),
    ("[uncertainty.projects.delay_by]\nnewq = { 0 = 1 }\n", "uncertainty.projects.delay_by.newq",
     "unknown project 'newq'; did you mean 'newp'?"),
    ("[uncertainty.migration]\nlow = 1.4\n", "uncertainty.migration.low", "above"),
    ("[uncertainty.enrolment]\nby_stage = { senior = 0.1 }\n",
     "uncertainty.enrolment.by_stage.senior", "unknown stage"),
    ("[uncertainty]\nfertilty = 1\n", "uncertainty.fertilty", "did you mean"),
]


@pytest.mark.parametrize("body,column,message", BAD)
def test_bad_uncertainty_is_a_precise_error_exit_2_nothing_written(tiny, capsys, body, column,
                                                                   message):
    path = scenario(tiny, body, name="bad")
    out = tiny / "bad-out"
    assert main(["ensemble", str(path), "--draws", "2", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    line = 4 + len(body.splitlines()) - 1          # the offending key is the last line
    assert f"bad.toml:{line}:{column}: " in err and message in err, err
    assert not out.exists()


def test_cli_ensemble_writes_its_folder_and_reruns_a_draw(tiny, wide):
    out = tiny / "cli-out"
    cmd = [sys.executable, "-m", "capacity.cli", "ensemble", str(wide), "--draws", "4",
           "--seed", "3", "--workers", "2", "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    folder = out / "wide-ensemble"
    assert "worst year" in proc.stdout and str(folder) in proc.stdout
    names = {p.name for p in folder.iterdir()}
    assert {"quantiles.csv", "probability.csv", "budget.csv", "inputs.csv", "draws.parquet",
            "draws_zones.parquet", "report.html", "ensemble.json", "fan_primary.png",
            "map_p_shortfall_2025.png", "map_p_shortfall_worst.png"} <= names
    q = pd.read_csv(folder / "quantiles.csv")
    assert list(q.columns[:4]) == ["zone_id", "stage", "year", "measure"]
    assert (q["p5"] <= q["p50"]).all() and (q["p50"] <= q["p95"]).all()
    p = pd.read_csv(folder / "probability.csv")
    assert p["p_shortfall"].between(0, 1).all()
    assert (p["p_shortfall_5pct"] <= p["p_shortfall"]).all()
    b = pd.read_csv(folder / "budget.csv")
    assert (b["places_p50"] <= b["places_p80"]).all() and (b["places_p80"] <= b["places_p90"]).all()
    zd = pd.read_parquet(folder / "draws_zones.parquet")
    dd = pd.read_parquet(folder / "draws.parquet")
    assert zd.groupby(["draw", "year", "stage"])["shortfall"].sum().sort_index().tolist() \
        == dd.set_index(["draw", "year", "stage"])["shortfall"].sort_index().tolist()
    manifest = json.loads((folder / "ensemble.json").read_text())
    assert manifest["draws"] == 4 and manifest["seed"] == 3
    assert main(["ensemble", str(wide), "--seed", "3", "--only-draw", "2", "-o", str(out)]) == 0
    rerun = pd.read_csv(out / "wide-draw-2" / "summary.csv")
    got = rerun.set_index(["year", "stage"])["shortfall"].sort_index()
    want = dd[dd["draw"] == 2].set_index(["year", "stage"])["shortfall"].sort_index()
    assert got.tolist() == want.tolist()


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.integers(1, 3), st.integers(1, 3), st.integers(1, 2),
       st.integers(0, 2**32 - 1))
def test_aggregates_are_ordered_and_district_rows_are_totals(n, years, zones, stages, seed):
    from capacity.ensemble import aggregate as agg

    rng = np.random.default_rng(seed)
    demand = rng.integers(0, 50, (n, years, zones, stages))
    short = np.minimum(rng.integers(0, 60, demand.shape), demand)
    ys, zs, ks = np.arange(2020, 2020 + years), [f"z{i}" for i in range(zones)], \
        [f"s{k}" for k in range(stages)]
    q = agg.quantiles({"demand": demand, "shortfall": short},
                      {"demand": demand[0], "shortfall": short[0]}, ys, zs, ks)
    cols = [f"p{p}" for p in agg.QUANTILES]
    assert (np.diff(q[cols].to_numpy(), axis=1) >= -1e-9).all()
    d = q[(q["zone_id"] == agg.DISTRICT) & (q["measure"] == "shortfall")]
    assert np.allclose(d["mean"].sum(), short.sum() / n)
    p = agg.probability(demand, short, ys, zs, ks)
    zone_p = p[p["zone_id"] != agg.DISTRICT]
    assert np.isclose(zone_p["p_shortfall"].sum(), (short > 0).mean(axis=0).sum())
    assert (p["p_shortfall_5pct"] <= p["p_shortfall"]).all()
    b = agg.budget(short, {k: 10.0 for k in ks}, zs, ks)
    assert (b["places_p50"] <= b["places_p80"]).all() and (b["places_p80"] <= b["places_p90"]).all()
    peak = short.max(axis=1)
    zb = b[b["zone_id"] != agg.DISTRICT]
    # P90 of the worst-year shortfall: at least 90 % of the draws need no more places
    for r in zb.itertuples():
        z, k = zs.index(r.zone_id), ks.index(r.stage)
        assert (peak[:, z, k] <= r.places_p90).mean() >= 0.9
        assert (peak[:, z, k] < r.places_p90).mean() < 0.9
    tot = b[b["zone_id"] == agg.DISTRICT].set_index("stage")["places_p80"]
    assert (zb.groupby("stage")["places_p80"].sum() == tot.loc[zb["stage"].unique()]).all()
    assert np.allclose(b["cost_p90"], 10.0 * b["places_p90"])


def test_budget_follows_the_draws_weights() -> None:
    """Weighted budget: with draw weights 0.7/0.2/0.1 on peaks 10/50/90, P50 is 10 (0.7 ≥
    0.5), P80 is 50 (0.7 + 0.2 ≥ 0.8) and P90 is 50 (0.9 reaches 0.9); equal weights give
    50, 90, 90 — hand-computed inverted-CDF quantiles."""
    from capacity.ensemble import aggregate as agg

    short = np.array([10, 50, 90]).reshape(3, 1, 1, 1)        # (draws, years, zones, stages)
    w = agg.budget(short, {"s": 1.0}, ["z"], ["s"], np.array([0.7, 0.2, 0.1]))
    eq = agg.budget(short, {"s": 1.0}, ["z"], ["s"])
    zone = w[w["zone_id"] == "z"].iloc[0]
    assert (zone["places_p50"], zone["places_p80"], zone["places_p90"]) == (10, 50, 50)
    zone = eq[eq["zone_id"] == "z"].iloc[0]
    assert (zone["places_p50"], zone["places_p80"], zone["places_p90"]) == (50, 90, 90)
