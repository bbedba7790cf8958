"""Run folders: atomic replacement, clean-up after a killed run, no path escapes."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from capacity.runfolder import _exchange, atomic_folder, is_safe_name, remove_stale


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "../x", "/../../srv/other", "/abs",
                                  ".hidden", "a\nb", "x" * 101, "a\\b", "..x", "a..b"])
def test_unsafe_names_are_refused_and_nothing_is_written(tmp_path, name):
    assert not is_safe_name(name)
    with pytest.raises(ValueError):
        with atomic_folder(tmp_path / "out", name):
            pass
    out = tmp_path / "out"
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize("name", ["baseline", "high-fertility", "v1.2", "基准情景", "a_b"])
def test_safe_names(name):
    assert is_safe_name(name)


def test_replace_keeps_one_complete_folder(tmp_path):
    for version in ("old", "new"):
        with atomic_folder(tmp_path, "run") as tmp:
            (tmp / "file.txt").write_text(version)
    assert (tmp_path / "run" / "file.txt").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
    assert not (tmp_path / "run" / ".capacity-writer").exists()


def test_exchange_is_atomic_on_linux(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    (a / "x").write_text("a"), (b / "x").write_text("b")
    if sys.platform.startswith("linux"):
        assert _exchange(a, b)
        assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"


def test_a_failed_write_leaves_the_old_folder(tmp_path):
    with atomic_folder(tmp_path, "run") as tmp:
        (tmp / "f").write_text("ok")
    with pytest.raises(RuntimeError):
        with atomic_folder(tmp_path, "run") as tmp:
            (tmp / "f").write_text("half")
            raise RuntimeError("boom")
    assert (tmp_path / "run" / "f").read_text() == "ok"
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_a_killed_run_is_cleaned_up_by_the_next(tmp_path):
    code = ("import time, sys; from capacity.runfolder import atomic_folder\n"
            f"with atomic_folder({str(tmp_path)!r}, 'run') as t:\n"
            "    (t / 'big').write_bytes(b'x' * 1000); print('ready', flush=True)\n"
            "    time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    hidden = [p for p in tmp_path.iterdir() if p.name.startswith(".run.")]
    assert len(hidden) == 1                      # the killed run's build folder
    busy = tmp_path / ".run.busy"                # a live writer's folder is kept
    busy.mkdir()
    (busy / ".capacity-writer").write_text(str(os.getpid()))
    with atomic_folder(tmp_path, "run") as tmp:
        (tmp / "f").write_text("ok")
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == [".run.busy", "run"]
    assert remove_stale(tmp_path, "run") == []
