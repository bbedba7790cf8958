"""Outputs written atomically, never outside the chosen output folder: the one writer of
every command (docs/cli.md, "Where outputs go").

A folder is built in a hidden sibling ``.NAME.XXXX`` and swapped into place when complete
(:func:`atomic_folder`): on Linux by an atomic exchange (``renameat2(RENAME_EXCHANGE)``), so
there is no moment when neither the old nor the new folder exists; elsewhere by two renames.
Files that go into a folder holding other files (``compare``, ``backtest``, the CSV of
``migration-residual``) are built in a hidden ``.NAME.XXXX`` inside it and each renamed into
place (:func:`atomic_files`). A symbolic link where an output goes is never written through:
a folder's is refused, a file's is replaced. A hidden folder left by a killed run (its
writer process is gone) is removed by the next write of the same name.
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

from .errors import InputError

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


def check_out_dir(path: str | Path, option: str = "-o", names: list[str] = ()) -> Path:
    """``path`` if it can be an output folder: an existing folder this process may write
    in, or a path to create under one; else InputError in one line naming ``option``, the
    path and the fix. ``names``: folders to be written in it, each absent or a real folder
    (not a symbolic link, not a file). Every command checks its outputs here first."""
    p = Path(path)
    fix = "a folder you may write in (created if missing)"
    if p.is_symlink() and not p.exists():
        raise InputError.single(option, f"{p} is a broken symbolic link", expected=fix)
    if p.exists() and not p.is_dir():
        raise InputError.single(option, f"{p} is a file, not a folder",
                                expected=f"{fix}: another path, or move the file away")
    base = p
    while not base.exists() and base != base.parent:
        base = base.parent
    if base.exists() and not base.is_dir():
        raise InputError.single(option, f"{p} is under {base}, which is a file, not a folder",
                                expected=fix)
    if not os.access(base, os.W_OK | os.X_OK):
        raise InputError.single(option, f"cannot write in {base} (read-only or not yours)",
                                expected=f"{fix}: another path, or change its permissions")
    for name in names:
        _check_target(p / name)
    return p


def check_out_file(path: str | Path, option: str = "-o") -> Path:
    """``path`` if it can be an output file (its folder as :func:`check_out_dir`; not a
    folder itself); else InputError naming ``option``."""
    p = Path(path)
    if p.is_dir():
        raise InputError.single(option, f"{p} is a folder, not a file",
                                expected="a file name, e.g. out/migration.csv")
    check_out_dir(p.parent, option)
    return p


def _check_target(final: Path) -> None:
    """A folder output's place must be free or a real folder: never written through a
    symbolic link (which may lead out of the output folder), never replacing a file."""
    if final.is_symlink():
        raise InputError.single(final, f"is a symbolic link (to {os.readlink(final)}); "
                                "an output folder is never written through a link",
                                expected="remove the link, or choose another -o")
    if final.exists() and not final.is_dir():
        raise InputError.single(final, "is a file where an output folder goes",
                                expected="move the file away, or choose another -o")


def _build_folder(out_dir: Path, name: str) -> Path:
    """A new hidden ``out_dir/.NAME.XXXX`` owned by this process (stale ones removed)."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        remove_stale(out_dir, name)
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=out_dir))
    except OSError as exc:
        raise InputError.single(out_dir, f"cannot write here ({exc.strerror or exc})",
                                expected="a folder you may write in") from None
    tmp.chmod(0o755)  # mkdtemp makes it private; outputs are for sharing
    (tmp / OWNER).write_text(str(os.getpid()))
    return tmp


@contextlib.contextmanager
def atomic_folder(out_dir: str | Path, name: str, *, keep: bool = False) -> Iterator[Path]:
    """Yield a hidden build folder; on success it becomes ``out_dir/name`` (replacing an
    older one), on failure it is removed. ``name`` must be a safe name; ``out_dir/name``
    a real folder or absent (InputError otherwise). ``keep``: the build folder starts as
    a copy of the old folder's regular files (an update, as ``capacity map``'s)."""
    if not is_safe_name(name):
        raise ValueError(f"unsafe folder name {name!r}")
    out_dir = Path(out_dir)
    final = out_dir / name
    _check_target(final)
    tmp = _build_folder(out_dir, name)
    try:
        for f in sorted(final.iterdir()) if keep and final.is_dir() else ():
            if f.is_file() and not f.is_symlink() and f.name != OWNER:   # links: not kept
                shutil.copy2(f, tmp / f.name)
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


@contextlib.contextmanager
def atomic_files(folder: str | Path, name: str) -> Iterator[Path]:
    """Yield a hidden build folder ``folder/.NAME.XXXX``; on success each file built in it
    is renamed into ``folder`` (an old file, or a symbolic link, of the same name replaced,
    never written through; other files left alone), on failure nothing is moved. For
    outputs that share a folder with others; ``name`` (safe) names the build folder."""
    if not is_safe_name(name):
        raise ValueError(f"unsafe name {name!r}")
    folder = Path(folder)
    tmp = _build_folder(folder, name)
    try:
        yield tmp
        (tmp / OWNER).unlink()
        for f in sorted(tmp.iterdir()):
            if (folder / f.name).is_dir() and not (folder / f.name).is_symlink():
                raise InputError.single(folder / f.name, "is a folder where an output file "
                                        "goes", expected="move it away, or choose another -o")
        for f in sorted(tmp.iterdir()):
            os.replace(f, folder / f.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
