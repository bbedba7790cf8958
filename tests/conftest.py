"""Shared fixtures: a tiny valid model and its baseline run (built once per session)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))   # helper modules beside the tests

from tiny_model import write_tiny_model  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's root folder."""
    return ROOT


@pytest.fixture(scope="session")
def tiny_scenario(tmp_path_factory) -> Path:
    """A scenario file ``base.toml`` (horizon 2027) beside a tiny three-zone model."""
    root = tmp_path_factory.mktemp("tiny-shared")
    write_tiny_model(root / "model")
    (root / "base.toml").write_text('name = "base"\nmodel = "model"\nhorizon = 2027\n')
    return root / "base.toml"


@pytest.fixture(scope="session")
def tiny_result(tiny_scenario):
    """The tiny model's baseline result (every step and criticality)."""
    import capacity

    return capacity.run(tiny_scenario)
