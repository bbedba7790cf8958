"""The scale benchmark's model generator: a small Beijing-shaped model validates, is
deterministic, and runs end to end (every step, criticality, the run folder)."""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from scale_model import write_scale_case, write_scale_model  # noqa: E402

UNITS, ZONES = 2_000, 30


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    root = tmp_path_factory.mktemp("scale")
    return write_scale_case(root, units=UNITS, zones=ZONES)


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir())}


def test_generator_shape_and_validation(case, capsys):
    from capacity.cli import main
    from capacity.model import load_model

    model, scenario = case
    assert main(["validate", str(model.folder)]) == 0
    assert main(["validate", str(scenario)]) == 0
    assert "valid (horizon 2035" in capsys.readouterr().out
    m = load_model(model.folder)
    assert len(m.zones) == ZONES and len(m.units) == UNITS
    assert list(m.stages) == ["kindergarten", "primary", "junior", "senior"]
    assert m.base_year == 2020 and m.mortality_kind == "qx"
    # every zone's unit weights sum to 1; every zone has units
    assert np.allclose(m.units.groupby("zone_id")["weight"].sum(), 1.0, atol=1e-9)
    assert set(m.units["zone_id"]) == set(m.zones["zone_id"])
    # about 20 million people, every zone x sex x age present
    assert m.population["count"].sum() == pytest.approx(20e6, rel=1e-3)
    assert len(m.population) == ZONES * 2 * (m.open_age + 1)
    # 3 % of the units per stage; one key project per 500 units, opening 2021-2030
    per_stage = m.schools.groupby("stage").size()
    assert (per_stage == round(0.03 * UNITS)).all() and len(per_stage) == 4
    assert len(m.projects) == UNITS // 500
    assert m.projects["open_year"].between(2021, 2030).all()
    # places are close to the base year's pupils, stage by stage
    pop = m.population.groupby("age")["count"].sum()
    for name, st in m.stages.items():
        pupils = pop.loc[st.ages[0]:st.ages[1]].sum() * st.enrolment
        places = m.schools.loc[m.schools["stage"] == name, "places"].sum()
        assert 0.85 < places / pupils < 1.15, name


def test_generator_is_deterministic(case, tmp_path):
    model, _ = case
    again = write_scale_model(tmp_path / "again", units=UNITS, zones=ZONES)
    assert _digest(again.folder) == _digest(model.folder)


def test_runs_end_to_end(case, tmp_path):
    from capacity.chain import Chain

    model, scenario = case
    result = Chain(scenario, post=("criticality",)).run()
    timings = result.manifest["timings"]
    for step in ("projection", "demand", "supply", "distances", "allocation", "tables",
                 "criticality"):
        assert timings[f"{step}_s"] >= 0
    assert len(result.criticality) == len(result.projects) == model.projects
    assert set(result.criticality["project_id"]) == set(result.projects["project_id"])
    assert sorted(result.summary["year"].unique()) == list(range(2020, 2036))
    served = result.allocation.dropna(subset=["school_id"])
    assert served["pupils"].sum() > 0
    folder = result.write(tmp_path / "out")
    assert (folder / "allocation.csv").stat().st_size > 0
    assert (folder / "criticality.csv").is_file()
    back = pd.read_csv(folder / "summary.csv")
    assert len(back) == len(result.summary)
