"""Output folders written atomically, never outside the chosen output folder.

A folder is built in a hidden sibling ``.NAME.XXXX`` and swapped into place when complete:
on Linux by an atomic exchange (``renameat2(RENAME_EXCHANGE)``), so there is no moment when
neither the old nor the new folder exists; elsewhere by two renames. A hidden folder left
by a killed run (its writer process is gone) is removed by the next write into the same
output folder.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Iterator

OWNER = ".capacity-writer"       # pid of the process building a hidden folder
STALE_AFTER_S = 24 * 3600        # a hidden folder without an owner file is stale after this
#: How a safe name is described in error messages.
SAFE_NAME = ('1 to 100 letters, digits, "_", "." or "-", not starting with "." and without '
             '"..", e.g. "baseline-2035"')
_SAFE = re.compile(r"(?!\.)[\w.\-]{1,100}")


def is_safe_name(name: str) -> bool:
    """A name that can be a file or folder name on its own: letters (any script), digits,
    ``_ . -``; 1–100 characters; not starting with a dot."""
    return isinstance(name, str) and bool(_SAFE.fullmatch(name)) and ".." not in name


def inside(folder: Path, path: Path) -> bool:
    """Whether ``path`` resolves to ``folder`` or a path under it."""
    folder, path = Path(folder).resolve(), Path(path).resolve()
    return path == folder or folder in path.parents


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale(out_dir: Path, name: str) -> list[Path]:
    """Remove hidden ``.NAME.*`` build folders whose writer process is gone."""
    removed = []
    for tmp in out_dir.glob(f".{glob_escape(name)}.*"):
        if not tmp.is_dir():
            continue
        owner = tmp / OWNER
        try:
            stale = not _alive(int(owner.read_text())) if owner.is_file() else \
                time.time() - tmp.stat().st_mtime > STALE_AFTER_S
        except (OSError, ValueError):
            stale = True
        if stale:
            shutil.rmtree(tmp, ignore_errors=True)
            removed.append(tmp)
    return removed


def glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2); False when not supported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


@contextlib.contextmanager
def atomic_folder(out_dir: str | Path, name: str) -> Iterator[Path]:
    """Yield a hidden build folder; on success it becomes ``out_dir/name`` (replacing an
    older one), on failure it is removed. ``name`` must be a safe name."""
    if not is_safe_name(name):
        raise ValueError(f"unsafe folder name {name!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / name
    if not inside(out_dir, final) or final.resolve().parent != out_dir.resolve():
        raise ValueError(f"{name!r} would leave {out_dir}")
    remove_stale(out_dir, name)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=out_dir))
    tmp.chmod(0o755)  # mkdtemp makes it private; a run folder is for sharing
    (tmp / OWNER).write_text(str(os.getpid()))
    try:
        yield tmp
        (tmp / OWNER).unlink()
        if final.is_dir() and not final.is_symlink() and _exchange(tmp, final):
            shutil.rmtree(tmp, ignore_errors=True)        # tmp now holds the old folder
        elif final.exists() or final.is_symlink():
            old = Path(tempfile.mkdtemp(prefix=f".{name}.old.", dir=out_dir))
            os.replace(final, old / "x")
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
