"""Where a command writes: a `-o` that is an existing file (or, for a file output, a folder),
a path under a file or a read-only folder is one line naming the option and the path, exit
2, before any work and with nothing written, in every command that writes; a symbolic link
where an output goes is never written through (a folder's refused, a file's replaced)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import capacity.runfolder as runfolder
from capacity.cli import main
from test_migration_commands import _life_table, _synthetic

#: Each writing command with placeholder inputs: the output is checked before they are read.
FOLDER_COMMANDS = {
    "run": ["run", "x.toml"], "project": ["project", "x.toml"], "plan": ["plan", "x.toml"],
    "ensemble": ["ensemble", "x.toml"], "compare": ["compare", "r1"],
    "backtest": ["backtest", "c1.csv", "c2.csv", "--life-table", "l.csv", "--births", "b.csv"],
}
FILE_COMMANDS = {
    "migration-residual": ["migration-residual", "c1.csv", "c2.csv", "--life-table", "l.csv",
                           "--births", "b.csv"],
    "calibrate-migration": ["calibrate-migration", "m", "--targets", "t.csv"],
}
ALL = {**FOLDER_COMMANDS, **FILE_COMMANDS}


def listing(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))


def exit_2_in_one_line(argv: list[str], root: Path, capsys, *needles: str) -> None:
    before = listing(root)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [s for s in err.splitlines() if s.startswith("  ")]
    assert len(lines) == 1 and all(n in lines[0] for n in needles), err
    assert listing(root) == before                     # nothing written


@pytest.mark.parametrize("command", FOLDER_COMMANDS)
def test_an_existing_file_as_output_folder(command, tmp_path, capsys):
    out = tmp_path / "out.txt"
    out.write_text("mine")
    exit_2_in_one_line([*ALL[command], "-o", str(out)], tmp_path, capsys,
                       "-o:", str(out), "is a file", "expected a folder")
    assert out.read_text() == "mine"


@pytest.mark.parametrize("command", FILE_COMMANDS)
def test_an_existing_folder_as_output_file(command, tmp_path, capsys):
    exit_2_in_one_line([*ALL[command], "-o", str(tmp_path)], tmp_path, capsys,
                       "-o:", str(tmp_path), "is a folder")


@pytest.mark.parametrize("command", ALL)
def test_a_path_under_a_file(command, tmp_path, capsys):
    (tmp_path / "f").write_text("mine")
    out = tmp_path / "f" / "sub" / ("x.csv" if command in FILE_COMMANDS else "out")
    exit_2_in_one_line([*ALL[command], "-o", str(out)], tmp_path, capsys,
                       "-o:", str(tmp_path / "f"), "which is a file")


@pytest.mark.parametrize("command", ALL)
def test_a_read_only_folder(command, tmp_path, capsys, monkeypatch):
    """Tests run as root, for whom a folder's mode stops no write: the folder is read-only
    as os.access reports it, which is what the check asks."""
    ro = tmp_path / "ro"
    ro.mkdir()
    real = runfolder.os.access
    monkeypatch.setattr(runfolder.os, "access",
                        lambda p, mode: False if Path(p) == ro else real(p, mode))
    out = ro / ("x.csv" if command in FILE_COMMANDS else "out")
    exit_2_in_one_line([*ALL[command], "-o", str(out)], tmp_path, capsys,
                       "-o:", str(ro), "cannot write")


@pytest.mark.parametrize("option", ["--groups", "--fit"])
def test_other_file_options(option, tmp_path, capsys):
    argv = ALL["migration-residual" if option == "--groups" else "calibrate-migration"]
    exit_2_in_one_line([*argv, "-o", str(tmp_path / "ok.csv"), option, str(tmp_path)],
                       tmp_path, capsys, f"{option}:", "is a folder")


def test_check_out_dir_accepts_what_it_should(tmp_path):
    assert runfolder.check_out_dir(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    assert runfolder.check_out_dir(tmp_path) == tmp_path
    assert not (tmp_path / "new").exists()                 # a check writes nothing


# ---------------------------------------------------------------- symbolic links
@pytest.fixture
def outside(tmp_path) -> Path:
    """A folder outside every output, with a file that must stay as it is."""
    d = tmp_path / "outside"
    d.mkdir()
    (d / "keep.txt").write_text("mine")
    return d


@pytest.mark.parametrize("argv, name", [
    (["run", "{s}", "--no-maps", "--no-criticality"], "base"),
    (["project", "{s}"], "base"),
    (["ensemble", "{s}", "--only-draw", "0"], "base-draw-0"),
])
def test_a_symlinked_output_folder_is_refused(tiny_scenario, tmp_path, outside, capsys,
                                              argv, name):
    out = tmp_path / "out"
    out.mkdir()
    (out / name).symlink_to(outside)
    assert main([a.format(s=tiny_scenario) for a in argv] + ["-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "symbolic link" in err and "Traceback" not in err
    assert listing(outside) == ["keep.txt"] and (outside / "keep.txt").read_text() == "mine"
    assert [p.name for p in out.iterdir()] == [name]


@pytest.fixture(scope="module")
def run_folder(tiny_scenario, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run")
    assert main(["run", str(tiny_scenario), "-o", str(out), "--no-criticality"]) == 0
    return out / "base"


def test_map_refuses_a_symlinked_maps_folder(run_folder, outside, capsys):
    maps = run_folder / "maps"
    saved = run_folder / "maps-saved"
    maps.rename(saved)
    try:
        maps.symlink_to(outside)
        assert main(["map", str(run_folder), "--stage", "primary", "--year", "2025"]) == 2
        err = capsys.readouterr().err
        assert "symbolic link" in err and "Traceback" not in err
        assert listing(outside) == ["keep.txt"]
    finally:
        maps.unlink(missing_ok=True)
        saved.rename(maps)


def test_map_updates_maps_as_a_folder(run_folder, capsys):
    """The new map joins the run's maps (kept byte for byte); nothing else in the run
    changes; no build folder is left."""
    before = {p.name: p.read_bytes() for p in (run_folder / "maps").iterdir()}
    rest = {p.name: p.read_bytes() for p in run_folder.iterdir() if p.is_file()}
    assert main(["map", str(run_folder), "--stage", "kindergarten", "--year", "2022",
                 "--rings"]) == 0
    after = {p.name: p.read_bytes() for p in (run_folder / "maps").iterdir()}
    assert {"kindergarten_2022.png", "kindergarten_2022.svg"} <= after.keys()
    assert all(after[k] == v for k, v in before.items() if k != "catchments.html")
    assert {p.name: p.read_bytes() for p in run_folder.iterdir() if p.is_file()} == rest
    assert not [p for p in run_folder.iterdir() if p.name.startswith(".")]


def test_compare_replaces_a_symlinked_file(run_folder, tmp_path, outside):
    out = tmp_path / "cmp"
    out.mkdir()
    (out / "compare_shortfall.csv").symlink_to(outside / "keep.txt")
    (out / "notes.txt").write_text("other")
    assert main(["compare", str(run_folder), "-o", str(out)]) == 0
    assert not (out / "compare_shortfall.csv").is_symlink()
    assert (outside / "keep.txt").read_text() == "mine"
    assert (out / "notes.txt").read_text() == "other"             # other files left alone
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("command", ["migration-residual", "backtest"])
def test_demography_outputs_replace_a_symlink(command, tmp_path, outside):
    import numpy as np

    age = np.arange(101)
    c1, c2, b = _synthetic(tmp_path, np.vstack([300 * np.exp(-0.5 * ((age - 24) / 5) ** 2)] * 2))
    life = _life_table(tmp_path)
    if command == "backtest":
        out = tmp_path / "bt"
        out.mkdir()
        target = out / "backtest.csv"
    else:
        out = target = tmp_path / "mig.csv"
    target.symlink_to(outside / "keep.txt")
    assert main([command, str(c1), str(c2), "--life-table", str(life), "--births", str(b),
                 "-o", str(out)]) == 0
    assert not target.is_symlink() and len(pd.read_csv(target)) > 10
    assert (outside / "keep.txt").read_text() == "mine"
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]
