"""compare and map read run folders: a corrupt manifest, a missing table, a folder of
`capacity project` or of a plan is a clean exit 2 naming the file, never a traceback."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from capacity.cli import main


@pytest.fixture(scope="module")
def run_folder(tiny_result, tmp_path_factory) -> Path:
    return tiny_result.write(tmp_path_factory.mktemp("runs"))


def _corrupt_manifest(f: Path) -> str:
    (f / "manifest.json").write_text("{\n", encoding="utf-8")
    return f"{f / 'manifest.json'}:2:1:"


def _no_shortfall(f: Path) -> str:
    (f / "shortfall.csv").unlink()
    return f"{f}::: shortfall.csv is missing"


def _project_only(f: Path) -> str:
    for p in f.glob("*.csv"):
        if p.name != "population.csv":
            p.unlink()
    return f"{f}:::"


def _manifest_only(f: Path) -> str:          # e.g. a plan folder: a manifest, no run tables
    for p in f.glob("*.csv"):
        p.unlink()
    return f"{f}::: demand.csv is missing"


def _binary_table(f: Path) -> str:
    (f / "summary.csv").write_bytes(b"\x00\xff\x00garbage")
    return f"{f / 'summary.csv'}::"


@pytest.mark.parametrize("command", ["compare", "map"])
@pytest.mark.parametrize("breaks", [_corrupt_manifest, _no_shortfall, _project_only,
                                    _manifest_only, _binary_table])
def test_bad_run_folder_is_exit_2_at_the_file(run_folder, tmp_path, capsys, command, breaks):
    folder = tmp_path / "r"
    shutil.copytree(run_folder, folder)
    where = breaks(folder)
    argv = ["compare", str(folder), "-o", str(tmp_path / "cmp")] if command == "compare" \
        else ["map", str(folder), "--stage", "primary", "--year", "2025"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err
    assert any(line.strip().startswith(where) for line in err.splitlines()), err
    assert not (tmp_path / "cmp").exists() and not (folder / "maps").exists()
