"""Housing in-movers by hand: a one-zone model where nobody is born, dies or migrates
(tests/hand_model.py), so the population changes only by the housing row's in-movers.

docs/model-format.md (housing.csv): in-movers enter in the step ending in the completion
year and the following ramp years — ``units × persons_per_unit / ramp`` a year; docs/
scenarios.md: ``[housing] delay_years = d`` delays every completion by d years. So with
120 people in the base year and 100 dwellings × 2 persons finished in 2023, the population
at the end of year y is 120 + 200 × min(1, max(0, y − (2023 + d) + 1) / ramp)."""
from __future__ import annotations

import pandas as pd
import pytest

from capacity.cli import main
from hand_model import write_hand_model, write_scenario

COMPLETION, HORIZON = 2023, 2028


@pytest.mark.parametrize("ramp", [1, 2])
@pytest.mark.parametrize("delay", [-2, 0, 1, 3])
def test_delay_years_moves_the_in_movers_later(tmp_path, capsys, ramp, delay):
    write_hand_model(tmp_path / "model", {"A": (0, 0)}, {"A": {a: 5 for a in range(12)}},
                     housing=[{"development_id": "h1", "zone_id": "A", "x": 0, "y": 0,
                               "units": 100, "completion_year": COMPLETION,
                               "persons_per_unit": 2.0, "ramp_years": ramp}])
    scen = write_scenario(tmp_path / "h.toml", "model", HORIZON,
                          f"[housing]\ndelay_years = {delay}\n")
    assert main(["project", str(scen), "-o", str(tmp_path / "out")]) == 0
    capsys.readouterr()
    pop = pd.read_csv(tmp_path / "out" / "h" / "population.csv")
    total = pop.groupby("year")["population"].sum()
    first = COMPLETION + delay
    for year, value in total.items():
        share = min(1.0, max(0, year - first + 1) / ramp)
        assert value == pytest.approx(120 + 200 * share, abs=1e-3), (year, first)   # cells rounded to 1e-6
