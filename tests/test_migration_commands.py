"""End-to-end tests of migration-residual, calibrate-migration and backtest (CLI), the
rate-based model migration in a run, and their bad-input errors (exit 2, nothing written)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from capacity.cli import main
from capacity.demography import project
from capacity.demography.census import census_frame

ROOT = Path(__file__).resolve().parents[1]
M = ROOT / "models" / "tongzhou"
BT = M / "backtest"
A = 101


def _sx() -> np.ndarray:
    age = np.arange(A)
    return np.vstack([np.clip(1 - 0.0005 * np.exp(0.08 * (age - 20)), 0.3, 0.9999)] * 2)


def _life_table(tmp: Path) -> Path:
    sx = _sx()
    df = pd.DataFrame({"sex": np.repeat(["F", "M"], A), "age": np.tile(np.arange(A), 2),
                       "sx": sx.reshape(-1)})
    df.to_csv(tmp / "life.csv", index=False)
    return tmp / "life.csv"


def _synthetic(tmp: Path, true_net: np.ndarray, groups=(0, 1) + tuple(range(5, 86, 5))):
    """Two 5-year-group censuses 10 years apart with known migration and births."""
    from capacity.demography.census import AgeGroups

    sx = _sx()
    pop1 = np.vstack([np.linspace(12000, 2000, A)] * 2)
    births = np.full(10, 9000.0)
    pop = pop1[None]
    for t in range(10):   # births injected as in the residual's convention
        pr = project(pop, sx[None, None], np.zeros((1, 1, A)), true_net[None, None],
                     srb=1.06, timing="even")
        pop = pr.population[-1].copy()
        bf = births[t] / 2.06
        pop[0, :, 0] += np.array([bf, births[t] - bf]) * sx[:, 0]
    g = AgeGroups(tuple(groups))
    M_ = g.matrix(A)
    c1 = census_frame(pop1 @ M_.T, g, 2010)
    c2 = census_frame(pop[0] @ M_.T, g, 2020)
    c1.to_csv(tmp / "c1.csv", index=False)
    c2.to_csv(tmp / "c2.csv", index=False)
    pd.DataFrame({"year": range(2011, 2021), "births": births}).to_csv(tmp / "b.csv",
                                                                      index=False)
    return tmp / "c1.csv", tmp / "c2.csv", tmp / "b.csv"


def test_migration_residual_recovers_known_migration(tmp_path, capsys):
    age = np.arange(A)
    true = np.vstack([800 * np.exp(-0.5 * ((age - 24) / 5) ** 2)] * 2)
    c1, c2, b = _synthetic(tmp_path, true)
    out = tmp_path / "mig.csv"
    assert main(["migration-residual", str(c1), str(c2), "--life-table",
                 str(_life_table(tmp_path)), "--births", str(b), "--srb", "1.06",
                 "-o", str(out)]) == 0
    got = pd.read_csv(out)
    assert list(got.columns) == ["zone_id", "sex", "age", "net"]
    net = got.pivot(index="sex", columns="age", values="net").to_numpy()
    assert net.sum() == pytest.approx(true.sum(), rel=0.05)  # ages n-periodic: weakly identified
    for lo in range(15, 40, 5):   # the young-adult peak by 5-year group
        assert net[:, lo:lo + 5].sum() == pytest.approx(true[:, lo:lo + 5].sum(), rel=0.15)
    assert "wrote" in capsys.readouterr().out


def test_migration_residual_inflow_with_model(tmp_path):
    out = tmp_path / "mig.csv"
    assert main(["migration-residual", str(BT / "census_2010.csv"), str(BT / "census_2020.csv"),
                 "--model", str(M), "--births", str(BT / "births.csv"), "--out-rate", "0.02",
                 "-o", str(out)]) == 0
    got = pd.read_csv(out)
    assert {"inflow", "out_rate"} <= set(got.columns) and (got["inflow"] >= 0).all()
    assert got["zone_id"].nunique() == 22
    # the model's own inflow was computed without exits: with 2 % exits more must come in
    model = pd.read_csv(M / "migration.csv")
    assert got["inflow"].sum() > model["inflow"].sum()


def _fails(argv, capsys, *needles):
    assert main(argv) == 2
    err = capsys.readouterr().err
    for n in needles:
        assert n in err, err
    return err


def test_migration_residual_bad_inputs(tmp_path, capsys):
    lt = str(_life_table(tmp_path))
    age = np.arange(A)
    c1, c2, b = _synthetic(tmp_path, np.zeros((2, A)))
    out = tmp_path / "out.csv"
    # different age groupings
    d = pd.read_csv(c2)
    d2 = d[~d["age_from"].isin([1])].copy()
    d2.loc[d2["age_from"] == 0, "age_to"] = 4
    d2.to_csv(tmp_path / "c2g.csv", index=False)
    _fails(["migration-residual", str(c1), str(tmp_path / "c2g.csv"), "--life-table", lt,
            "--births", str(b), "-o", str(out)], capsys, "c2g.csv:2:age_from",
           "age group 0-4 is not a group")
    # a missing sex
    d[d["sex"] == "F"].to_csv(tmp_path / "c2f.csv", index=False)
    _fails(["migration-residual", str(c1), str(tmp_path / "c2f.csv"), "--life-table", lt,
            "--births", str(b), "-o", str(out)], capsys, "c2f.csv", "sex M is missing")
    # negative residuals with --nonneg yes: the row of the first losing group is named
    d3 = d.copy()
    d3.loc[(d3["sex"] == "F") & (d3["age_from"] == 40), "population"] *= 0.5
    d3.to_csv(tmp_path / "c2n.csv", index=False)
    err = _fails(["migration-residual", str(c1), str(tmp_path / "c2n.csv"), "--life-table",
                  lt, "--births", str(b), "--nonneg", "yes", "-o", str(out)], capsys,
                 "c2n.csv:", "without negatives", "F 40-44")
    row = int(d3.index[(d3["sex"] == "F") & (d3["age_from"] == 40)][0]) + 2
    assert f"c2n.csv:{row}:population" in err
    # births not covering the period, with the row of a bad value
    pd.DataFrame({"year": [2011, 2012], "births": [1, -5]}).to_csv(tmp_path / "bb.csv",
                                                                   index=False)
    _fails(["migration-residual", str(c1), str(c2), "--life-table", lt, "--births",
            str(tmp_path / "bb.csv"), "-o", str(out)], capsys, "bb.csv:3:births")
    assert not out.exists()
    assert age.size == A


def test_calibrate_migration_reproduces_the_model_and_scenarios(tmp_path, capsys):
    out, fit = tmp_path / "m.csv", tmp_path / "fit.csv"
    assert main(["calibrate-migration", str(M), "--targets", str(M / "migration_targets.csv"),
                 "-o", str(out), "--fit", str(fit)]) == 0
    new, old = pd.read_csv(out), pd.read_csv(M / "migration.csv")
    # the model's exit level is reproduced (factor 1 up to the rounding of its TFR path)
    assert np.allclose(new["out_rate"], old["out_rate"], rtol=2e-3, atol=1e-6)
    f = pd.read_csv(fit)
    # one level for two totals: -0.29 % / +0.23 % with exits by age (README, Migration)
    assert (f["pct_error"].abs() < 0.35).all()
    import tomllib

    for name, args in (("half-inflow", ["--inflow-scale", "0.5"]),
                       ("exits-15plus", ["--exit-ages-from", "15"])):
        capsys.readouterr()
        assert main(["calibrate-migration", str(M), "--targets",
                     str(M / "migration_targets.csv")] + args) == 0
        level = float(capsys.readouterr().out.split("exit rates × ")[1].split()[0])
        sc = tomllib.loads((ROOT / "scenarios" / f"{name}.toml").read_text())
        assert sc["migration"]["exit_scale"] == pytest.approx(level, abs=2e-3)


def test_calibrate_migration_unreachable_targets(tmp_path, capsys):
    t = tmp_path / "t.csv"
    pd.DataFrame({"year": [2023.1667], "total": [3_000_000]}).to_csv(t, index=False)
    out = tmp_path / "m.csv"
    _fails(["calibrate-migration", str(M), "--targets", str(t), "-o", str(out)], capsys,
           "t.csv", "no rate level")
    pd.DataFrame({"year": [2023.1667], "total": ["many"]}).to_csv(t, index=False)
    _fails(["calibrate-migration", str(M), "--targets", str(t), "-o", str(out)], capsys,
           "t.csv:2:total")
    assert not out.exists()


def test_backtest_tongzhou(tmp_path, capsys):
    out = tmp_path / "bt"
    assert main(["backtest", str(BT / "census_2010.csv"), str(BT / "census_2020.csv"),
                 "--model", str(M), "--births", str(BT / "births.csv"), "--totals",
                 str(BT / "totals.csv"), "--circular", "schedule", "-o", str(out)]) == 0
    t = pd.read_csv(out / "backtest.csv")
    assert (out / "backtest.png").stat().st_size > 10_000
    assert set(t["method"]) == {"none", "profile", "residual", "schedule"}
    both = t[(t["sex"] == "both") & (t["scope"] == "total")].set_index("method")
    # the circular residual closes the total; no migration misses ~ a third
    assert abs(both.loc["residual", "pct_error"]) < 1
    assert both.loc["none", "pct_error"] < -25
    assert set(t.loc[t["scope"] == "range", "label"]) == {"kindergarten", "primary",
                                                          "junior", "senior"}
    assert t.loc[t["method"] == "residual", "circular"].all()
    readme = (M / "README.md").read_text()
    mape = t[(t["method"] == "none") & (t["label"] == "groups") & (t["sex"] == "both")]
    assert f"| none | no | +{mape['abs_pct_error'].iloc[0]:.1f} |" in readme
    sched = t[(t["method"] == "schedule") & (t["label"] == "groups") & (t["sex"] == "both")]
    assert f"| schedule | yes | +{sched['abs_pct_error'].iloc[0]:.1f} |" in readme


def test_backtest_without_migration_equals_the_residual_baseline():
    """Two code paths: the backtest's own projection with births and no migration equals
    the residual's no-migration census-2 groups."""
    from capacity.demography import cohort_residual
    from capacity.demography.backtest_methods import run_backtest

    c1, c2 = pd.read_csv(BT / "census_2010.csv"), pd.read_csv(BT / "census_2020.csv")
    births = dict(zip(*pd.read_csv(BT / "births.csv")[["year", "births"]].T.to_numpy()))
    births = {int(k): float(v) for k, v in births.items()}
    sx = _sx()
    fit = cohort_residual(c1, c2, sx, births=births, srb=1.07)
    run = run_backtest(c1, c2, sx, births, srb=1.07, methods=("none",))
    g = run.table[(run.table["scope"] == "group") & (run.table["sex"] != "both")]
    fg = fit.groups
    for sex in "FM":
        for a in (0, 20, 50, 85):
            got = g[(g["sex"] == sex) & (g["age_from"] == (0 if a < 5 else a))]["projected"]
            want = fg[(fg["sex"] == sex) & (fg["age_from"] >= (0 if a < 5 else a)) &
                      (fg["age_from"] < (5 if a < 5 else a + 5))]["no_migration"].sum()
            assert got.iloc[0] == pytest.approx(want, rel=1e-9)


def test_backtest_bad_method_writes_nothing(tmp_path, capsys):
    out = tmp_path / "bt"
    _fails(["backtest", str(BT / "census_2010.csv"), str(BT / "census_2020.csv"),
            "--life-table", str(_life_table(tmp_path)), "--births", str(BT / "births.csv"),
            "--method", "schedule", "-o", str(out)], capsys, "needs a migration schedule")
    assert not out.exists()


def test_rate_based_exits_keep_cohorts_and_scenario_keys(tmp_path):
    import capacity

    base = capacity.project_population(ROOT / "scenarios" / "baseline.toml") \
        if hasattr(capacity, "project_population") else None
    from capacity.chain import project_population

    base = project_population(ROOT / "scenarios" / "baseline.toml")
    ex15 = project_population(ROOT / "scenarios" / "exits-15plus.toml")
    c = base.components.groupby("year")["births"].sum()
    assert 0.6 < c[2035] / c[2021] < 0.9        # not the old collapse (0.29)
    pb = base.population
    kids_b = pb[(pb.year == 2030) & (pb.age < 15)]["population"].sum()
    pe = ex15.population
    kids_e = pe[(pe.year == 2030) & (pe.age < 15)]["population"].sum()
    assert kids_e > kids_b                        # no exits of children


def test_wpp_scenario_follows_the_copied_wpp_path():
    import tomllib

    w = pd.read_csv(M / "sources" / "wpp2024_china_tfr.csv").set_index("year")["value"]
    sc = tomllib.loads((ROOT / "scenarios" / "wpp-fertility.toml").read_text())
    anchored = tomllib.loads((M / "model.toml").read_text())["fertility"]["tfr"]
    for y, v in sc["fertility"]["tfr"].items():
        if int(y) <= 2024:                            # births 2021-24 as observed
            assert v == anchored[y]
        else:
            assert v == pytest.approx(0.720 * w[int(y)] / w[2020], abs=6e-4)
    assert set(anchored) >= {"2021", "2022", "2023", "2024"}


def _tiny_with_rates(tmp: Path, extra: str = "") -> Path:
    from tests.tiny_model import write_tiny_model

    folder = write_tiny_model(tmp / "m")
    rows = [{"zone_id": z, "sex": s, "age": a, "inflow": 2.0 if 20 <= a <= 30 else 0.0,
             "out_rate": 0.03} for z in ("a", "b", "c") for s in "FM" for a in range(0, 41)]
    pd.DataFrame(rows).to_csv(folder / "migration.csv", index=False)
    sc = tmp / "s.toml"
    sc.write_text(f'name = "s"\nmodel = "{folder}"\nhorizon = 2026\n{extra}', encoding="utf-8")
    return sc


@pytest.mark.parametrize("extra, rate, from_age, scale", [
    ("", None, 0, 1.0),
    ("[migration]\nout_rate = 0.05\nexit_ages_from = 15\ninflow_scale = 0.5\n", 0.05, 15, 0.5),
])
def test_rate_migration_in_a_run_matches_the_engine(tmp_path, extra, rate, from_age, scale):
    """A model run with inflow + out_rate (and the scenario keys) equals ccm.project called
    directly with the arrays built here from the files (an independent reference)."""
    from capacity.chain import project_population
    from capacity.model import load_model
    from capacity.projection import fertility, pivot, survival
    from capacity.scenario import load_scenario
    from capacity.demography import housing_inflow, young_family_profile

    sc_path = _tiny_with_rates(tmp_path, extra)
    res = project_population(sc_path)
    sc = load_scenario(sc_path)
    model = load_model(sc.model)
    A, Z = model.open_age + 1, len(model.zones)
    steps = np.arange(model.base_year + 1, 2027)
    mig = pd.read_csv(sc.model / "migration.csv")
    inflow = np.zeros((Z, 2, A))
    zi = pd.Index(model.zone_ids).get_indexer(mig.zone_id)
    np.add.at(inflow, (zi, (mig.sex == "M").to_numpy(int), mig.age.to_numpy()),
              mig.inflow.to_numpy() * scale)
    rates = np.zeros((Z, 2, A))
    np.add.at(rates, (zi, (mig.sex == "M").to_numpy(int), mig.age.to_numpy()),
              mig.out_rate.to_numpy())
    if rate is not None:
        rates[:] = rate
    rates[..., :from_age] = 0.0
    h = model.housing
    counts = inflow[None] + housing_inflow(
        pd.Index(model.zone_ids).get_indexer(h.zone_id), h.units.to_numpy(float),
        h.completion_year.to_numpy(float), h.persons_per_unit.to_numpy(float),
        h.ramp_years.to_numpy(float), steps, Z,
        young_family_profile(model.open_age, srb=model.srb))
    ref = project(pivot(model.population, "count", model.zone_ids, A), survival(model),
                  fertility(model, sc, steps), counts, srb=model.srb,
                  timing=model.migration_timing, out_rates=rates)
    got = res.population.sort_values(["year", "zone_id", "sex", "age"])
    want = np.transpose(ref.population, (0, 1, 2, 3)).reshape(-1)
    assert np.allclose(got["population"].to_numpy(), want, rtol=1e-12, atol=1e-9)
    assert not ref.floored


def test_scenario_migration_keys_out_of_range(tmp_path, capsys):
    sc = _tiny_with_rates(tmp_path, "[migration]\nout_rate = 1.5\nexit_ages_from = -1\n")
    _fails(["validate", str(sc)], capsys, "s.toml:5:migration.out_rate",
           "s.toml:6:migration.exit_ages_from")


def test_migration_table_needs_counts_or_rates(tmp_path, capsys):
    sc = _tiny_with_rates(tmp_path)
    m = sc.parent / "m" / "migration.csv"
    pd.read_csv(m).drop(columns=["inflow", "out_rate"]).to_csv(m, index=False)
    _fails(["validate", str(sc)], capsys, "migration.csv:1", "net, inflow, out_rate")
    pd.DataFrame({"zone_id": ["a"], "sex": ["F"], "age": [3], "out_rate": [1.5]}) \
        .to_csv(m, index=False)
    _fails(["validate", str(sc)], capsys, "migration.csv:2:out_rate")
