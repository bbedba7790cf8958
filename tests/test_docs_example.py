"""The scenario example of docs/scenarios.md (its first ```toml block) runs end to end through
the CLI against the Tongzhou model — including ``[[projects.add]]``, which criticality must
know (it re-allocates every project of the run's own supply, scenario additions included)."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from capacity.cli import main

ROOT = Path(__file__).resolve().parents[1]


def documented_example() -> str:
    """The first ```toml block of docs/scenarios.md, verbatim."""
    text = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    return re.search(r"```toml\n(.*?)```", text, re.S).group(1)


def test_documented_scenario_example_runs(tmp_path, capsys):
    block = documented_example()
    assert "[[projects.add]]" in block
    # the example's paths are relative to scenarios/: point them at the repository's files
    block = block.replace('"baseline.toml"', repr(str(ROOT / "scenarios" / "baseline.toml"))) \
                 .replace('"../models/tongzhou"', repr(str(ROOT / "models" / "tongzhou")))
    path = tmp_path / "example.toml"
    path.write_text(block, encoding="utf-8")
    assert main(["validate", str(path)]) == 0
    assert main(["run", str(path), "-o", str(tmp_path / "out"), "--no-maps"]) == 0, \
        capsys.readouterr().err
    folder = tmp_path / "out" / "delay-key-projects"
    crit = pd.read_csv(folder / "criticality.csv")
    assert "extra-primary" in set(crit["project_id"])      # the added project is assessed
    assert "wuzi-middle" not in set(crit["project_id"])    # the dropped one is gone
    projects = pd.read_csv(folder / "projects.csv")
    assert "extra-primary" in set(projects["project_id"])
