"""The plausibility post-step: measures against the engine and hand computation, each
warning on a run built to trigger it (and not on one that should pass), calibration
labels, the anchors and reported-enrolment tables' input errors, the report section."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capacity.chain import Chain
from capacity.demography.ccm import project
from capacity.plausibility import (cohort_residual, measures, plausibility_table,
                                   plausibility_warnings, thresholds)
from capacity.registry import POST_STEPS
from tiny_model import write_tiny_model

TH = thresholds()


# ---- measures: golden against the engine and by hand ------------------------------------

def test_implied_tfr_is_the_engines_tfr_without_migration():
    # no migration, no flooring: the engine's births are Σ asfr · (start + end)/2 exactly,
    # so the implied TFR returns the input level for every zone mix
    rng = np.random.default_rng(1)
    A, T, Z = 30, 6, 3
    pop0 = rng.uniform(50, 150, (Z, 2, A))
    sx = np.r_[0.99, np.full(A - 2, 0.995), 0.8][None].repeat(2, 0)
    shape = np.zeros(A)
    shape[15:25] = rng.uniform(0.5, 1.5, 10)
    shape /= shape.sum()
    levels = np.array([1.3, 1.1, 0.9, 0.7, 1.6, 2.0])
    asfr = levels[:, None, None] * shape[None, None, :]
    proj = project(pop0, sx, asfr, np.zeros((T, 1, 2, A)), srb=1.05)
    wide, _ = measures(proj, np.arange(2020, 2020 + T + 1), sx, shape)
    assert np.isnan(wide["tfr"].iloc[0])
    np.testing.assert_allclose(wide["tfr"].iloc[1:], levels, rtol=1e-12)


def test_rates_by_hand():
    # one zone, ages 0..2 (2 = open group), one step, numbers small enough to check by hand
    pop = np.array([[[[10.0, 20, 30], [10, 20, 30]]], [[[12.0, 18, 40], [11, 19, 38]]]])
    births = np.array([[[12.5, 12.0]]])
    deaths = np.array([[[3.0, 4.0]]])
    migration = np.array([[[1.0, -2.0]]])

    class P:   # the fields measures() reads
        population, floored = pop, []
    P.births, P.deaths, P.migration = births, deaths, migration
    sx = np.array([[0.96, 0.9, 0.5], [0.92, 0.9, 0.5]])
    shape = np.array([0.0, 1.0, 0.0])                     # all births to women aged 1
    wide, worst = measures(P, np.array([2020, 2021]), sx, shape, min_cohort=5)
    r = wide.iloc[1]
    mid = (120 + 138) / 2
    assert r["crude_birth_rate"] == pytest.approx(1000 * 24.5 / mid)
    assert r["deaths_per_1000"] == pytest.approx(1000 * 7 / mid)
    assert r["tfr"] == pytest.approx(24.5 / ((20 + 18) / 2))
    assert r["births_index"] == 1.0 and r["net_migration"] == -1.0
    # cohort residuals: age 0: 12 − .96·12.5, 11 − .92·12; age 1: 18 − .9·10, 19 − .9·10;
    # open: 40 − .5·50, 38 − .5·50 → bands 0-14 hold everything here
    resid = (12 - .96 * 12.5) + (11 - .92 * 12) + (18 - 9) + (19 - 9) + (40 - 25) + (38 - 25)
    assert r["net_migration_0_14"] == pytest.approx(resid)
    # the worst single-year cohort (ages 1..ω−1): women and men aged 0→1 gain 9/10 and 10/10
    assert r["cohort_migration_min"] == pytest.approx(0.9) and worst[1] == (0, 1)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 3))
def test_cohort_residual_is_the_migration_with_end_timing(seed, zones):
    # timing "end": E = sx·C + m exactly, so the residual recovers every age's migrants
    rng = np.random.default_rng(seed)
    A, T = 12, 4
    pop0 = rng.uniform(0, 200, (zones, 2, A))
    sx = rng.uniform(0.8, 1.0, (2, A))
    asfr = np.zeros((T, 1, A))
    asfr[:, :, 4:8] = rng.uniform(0, 0.2, (T, 1, 4))
    mig = rng.uniform(0, 20, (T, zones, 2, A))
    proj = project(pop0, sx, asfr, mig, timing="end")
    resid, _ = cohort_residual(proj, sx)
    np.testing.assert_allclose(resid, mig.sum(axis=1), atol=1e-9)


# ---- warnings on constructed runs --------------------------------------------------------

def _model(tmp_path: Path, **files: pd.DataFrame) -> Path:
    folder = write_tiny_model(tmp_path / "model")
    toml = (folder / "model.toml").read_text()
    for name, frame in files.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
        if name in ("anchors", "reported_enrolment"):
            toml = toml.replace('[files]\n', f'[files]\n{name} = "{name}.csv"\n')
    (folder / "model.toml").write_text(toml)
    return folder


def _run(model: Path, horizon: int = 2027, extra: str = ""):
    """Projection and demand of a scenario, then the plausibility post-step alone."""
    scen = model.parent / "s.toml"
    scen.write_text(f'name = "s"\nmodel = "{model.name}"\nhorizon = {horizon}\n{extra}')
    chain = Chain(scen, post=())
    state = chain.run_steps(chain.start(), ("projection", "demand"))
    POST_STEPS.get("plausibility")(state)
    return state


def _warned(state, words: str) -> list[str]:
    return [w for w in state.warnings if w.startswith("plausibility:") and words in w]


def test_crude_birth_rate_warning(tmp_path):
    model = _model(tmp_path)
    low = _run(model, extra="[fertility]\ntfr = { 2020 = 0.6, 2021 = 0.15 }\n")
    assert _warned(low, "crude birth rate below 4 per 1000 in 2021–2027")
    table = low.tables["plausibility"]
    cbr = table[table["indicator"] == "crude_birth_rate"]
    assert (cbr["status"] == "below").all() and (cbr["low"] == TH["cbr_min"]).all()
    ok = _run(model, extra="[fertility]\ntfr = { 2020 = 1.2 }\n")
    assert not _warned(ok, "crude birth rate")
    high = _run(model, extra="[fertility]\ntfr = { 2020 = 4.0 }\n")
    assert _warned(high, "crude birth rate above 14 per 1000")


def _anchors() -> pd.DataFrame:
    rows = [("Testland", "births", "estimate", y, 1000.0) for y in range(2021, 2028)]
    rows += [("Testland", "tfr", v, y, x) for y in range(2024, 2028)
             for v, x in (("medium", 1.0), ("lower_95", 0.8), ("upper_95", 1.25))]
    return pd.DataFrame(rows, columns=["area", "indicator", "variant", "year", "value"]) \
        .assign(unit="", source="test figures", note="")


def test_births_index_warning(tmp_path):
    model = _model(tmp_path, anchors=_anchors())
    ok = _run(model, extra="[fertility]\ntfr = { 2020 = 0.6 }\n")
    assert not _warned(ok, "births index"), ok.warnings
    table = ok.tables["plausibility"]
    idx = table[(table["indicator"] == "births_index") & (table["anchor"] == "Testland")]
    assert list(idx["year"]) == list(range(2022, 2028))      # 2021: 1 by definition
    # before 2024 the anchor has no TFR interval: ± births_index_tolerance around 1
    first = idx.set_index("year")
    assert first.at[2022, "low"] == pytest.approx(1 - TH["births_index_tolerance"])
    assert first.at[2025, "low"] == pytest.approx(0.8) and first.at[2025, "high"] == 1.25
    low = _run(model, extra="[fertility]\ntfr = { 2020 = 0.6, 2021 = 0.6, 2024 = 0.25 }\n")
    found = _warned(low, "births index")
    assert found and "Testland" in found[0] and "range 0.80–1.25" in found[0]


def test_cohort_migration_warning(tmp_path):
    model = _model(tmp_path)
    assert not _warned(_run(model), "cohort")
    # zone b loses 2 boys aged 9 a year; × 40 = 80 of a district cohort of about 340
    heavy = _run(model, extra="[migration]\nscale = 40\n")
    found = _warned(heavy, "single-year cohort loses more than 5% a year")
    assert found and "men aged" in found[0]


def test_women_20_39_warning(tmp_path):
    model = _model(tmp_path)
    assert not _warned(_run(model, horizon=2031), "women aged 20–39")
    mig = pd.DataFrame([{"zone_id": z, "sex": "F", "age": a, "net": -8.0}
                        for z in "abc" for a in range(20, 40)])
    model2 = _model(tmp_path / "w", migration=mig)
    state = _run(model2, horizon=2031)
    found = _warned(state, "women aged 20–39 fall by more than 40% over ten years in 2030–2031")
    assert found, state.warnings
    table = state.tables["plausibility"]
    change = table[table["indicator"] == "women_20_39_change_10y"]
    assert list(change["year"]) == [2030, 2031]


def test_warnings_summarise_each_check_once():
    table = pd.DataFrame({"year": [2021, 2022, 2024], "indicator": "crude_birth_rate",
                          "value": [3.0, 2.0, 3.5], "unit": "per 1000", "anchor": None,
                          "anchor_source": None, "anchor_value": np.nan, "low": 4.0,
                          "high": 14.0, "status": "below"})
    notes = plausibility_warnings(table, {}, TH)
    # one sentence per check, "English / 中文" (the report shows the run's language)
    assert notes == ["crude birth rate below 4 per 1000 in 3 years between 2021 and 2024 "
                     "(2.0 in 2022) / 2021—2024年间的 3 个年份粗出生率低于每千人 4（2022年 2.0‰）"]
    assert plausibility_warnings(table.assign(status="ok"), {}, TH) == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 30, allow_nan=False), min_size=1, max_size=15))
def test_a_birth_rate_warning_exactly_when_a_year_leaves_the_range(rates):
    wide = pd.DataFrame({"year": range(2020, 2021 + len(rates)),
                         "crude_birth_rate": [np.nan, *rates]})
    notes = plausibility_warnings(plausibility_table(wide, None, TH), {}, TH)
    below = any(r < TH["cbr_min"] for r in rates)
    above = any(r > TH["cbr_max"] for r in rates)
    assert len(notes) == below + above
    assert below == any("below 4 per 1000" in n for n in notes)


def test_table_has_no_anchor_rows_without_anchors():
    wide = pd.DataFrame({"year": [2020, 2021], "crude_birth_rate": [np.nan, 5.0]})
    t = plausibility_table(wide, None, TH)
    assert len(t) == 1 and pd.isna(t["anchor"].iloc[0]) and t["status"].iloc[0] == "ok"


# ---- calibration -------------------------------------------------------------------------

def _enrolment(rows):
    return pd.DataFrame(rows, columns=["stage", "year", "pupils", "fitted", "source"])


def test_calibration_labels_and_validation_warning(tmp_path):
    pop = pd.read_csv(write_tiny_model(tmp_path / "ref") / "population.csv")
    kids = pop[pop["age"].between(3, 5)]["count"].sum() * 0.9      # enrolment 0.9
    model = _model(tmp_path, reported_enrolment=_enrolment([
        ("primary", 2020, 2000, "true", "S1"), ("kindergarten", 2020, kids * 2, "", "S2"),
        ("primary", 2022, 2100, "false", "S3"), ("primary", 2010, 1500, "false", "S4")]))
    state = _run(model)
    cal = state.tables["calibration"].set_index(["stage", "year"])
    assert list(cal.index) == [("kindergarten", 2020), ("primary", 2020), ("primary", 2022)]
    assert cal.at[("primary", 2020), "label"] == "calibration"
    assert cal.at[("primary", 2022), "label"] == "validation"
    k = cal.loc[("kindergarten", 2020)]
    assert k["label"] == "validation" and k["modelled"] == pytest.approx(kids)
    assert k["pct_difference"] == pytest.approx(-50.0)
    assert _warned(state, "kindergarten pupils 2020")
    # a calibration row never warns, however far off
    assert not _warned(state, "primary pupils 2020")


def test_calibration_without_reported_figures(tiny_result):
    cal = tiny_result.extras["calibration"]
    assert list(cal["stage"]) == ["kindergarten", "primary"]
    assert (cal["label"] == "unchecked").all() and cal["reported"].isna().all()


# ---- bad input: precise errors, exit 2, nothing written ----------------------------------

@pytest.mark.parametrize("edit, message", [
    (lambda a: a.assign(indicator=a["indicator"].replace("births", "birth")),
     "anchors.csv:2:indicator: 'birth' is not allowed; did you mean 'births'?"),
    (lambda a: a.drop(columns="source"), "anchors.csv:1:source: missing column 'source'"),
    (lambda a: a.assign(value=-1.0), "anchors.csv:2:value: value -1.0 is out of range "
                                     "(expected >= 0)"),
    (lambda a: a.assign(variant="low"), "anchors.csv:2:variant: 'low' is not allowed"),
    (lambda a: pd.concat([a, a.head(1)]), "anchors.csv:21:area: duplicate row for area="
                                          "Testland, indicator=births, variant=estimate, "
                                          "year=2021"),
])
def test_anchor_errors(tmp_path, capsys, edit, message):
    from capacity.cli import main

    model = _model(tmp_path, anchors=edit(_anchors()))
    scen = tmp_path / "s.toml"
    scen.write_text('name = "s"\nmodel = "model"\nhorizon = 2023\n')
    assert main(["validate", str(model)]) == 2
    assert message in capsys.readouterr().err
    assert main(["run", str(scen), "-o", str(tmp_path / "out"), "--no-maps"]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_reported_enrolment_unknown_stage(tmp_path, capsys):
    from capacity.cli import main

    model = _model(tmp_path, reported_enrolment=_enrolment([("senior", 2020, 10, "", "S")]))
    assert main(["validate", str(model)]) == 2
    assert ("reported_enrolment.csv:2:stage: unknown stage 'senior' (expected a stage of "
            "model.toml: kindergarten, primary)") in capsys.readouterr().err


# ---- end to end: run folder, manifest, console, report -----------------------------------

def test_run_writes_tables_warnings_and_report(tmp_path, capsys):
    from capacity.cli import main
    from capacity.report.plausibility_html import calibration_section, plausibility_section
    from capacity.result import read_result

    model = _model(tmp_path, anchors=_anchors())
    scen = tmp_path / "low.toml"
    scen.write_text('name = "low"\nmodel = "model"\nhorizon = 2027\n[report]\nlang = "zh"\n'
                    "[fertility]\ntfr = { 2020 = 0.6, 2021 = 0.6, 2022 = 0.15 }\n")
    assert main(["run", str(scen), "-o", str(tmp_path / "out"), "--no-criticality",
                 "--no-maps"]) == 0
    err = capsys.readouterr().err
    assert "警告：" in err and "粗出生率低于每千人 4" in err        # a run in Chinese
    folder = tmp_path / "out" / "low"
    r = read_result(folder)
    assert {"plausibility", "calibration"} <= set(r.extras)
    assert any(w.startswith("plausibility: births index") for w in r.manifest["warnings"])
    page = plausibility_section(r) + calibration_section(r)     # as report.html shows them
    assert "id='plausibility'" in page and "人口预测的合理性检验" in page
    assert "参照：Testland" in page and "粗出生率低于每千人 4" in page       # the run's language
    assert "crude birth rate" not in page
    assert "基年校准" in page


def test_report_section_english_without_warnings(tiny_result):
    from capacity.report.html import report_html

    page = report_html(tiny_result)
    assert "Plausibility of the population forecast" in page
    assert "Base-year calibration" in page and "unchecked" in page


def test_tongzhou_carries_its_anchors_and_enrolment(repo_root):
    from capacity.model import load_model

    m = load_model(repo_root / "models" / "tongzhou")
    a = m.anchors
    wpp = a[(a["area"] == "China") & (a["indicator"] == "births")]
    assert wpp.set_index("year").at[2035, "value"] == pytest.approx(8417.265)
    assert set(a["variant"]) >= {"estimate", "medium", "lower_95", "upper_95", "reported"}
    e = m.reported_enrolment.set_index(["stage", "year"])
    assert e.at[("primary", 2020), "pupils"] == 74881
    assert bool(e.at[("primary", 2020), "fitted"]) and not e["fitted"].drop(
        ("primary", 2020)).any()


def test_thresholds_are_documented(repo_root):
    doc = (repo_root / "docs" / "plausibility.md").read_text(encoding="utf-8")
    for name in TH:
        assert f"`{name}`" in doc, name
