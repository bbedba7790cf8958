"""Read TOML files against a key specification: unknown keys and wrong types are errors
that name the key's path, its line and the closest valid key."""
from __future__ import annotations

import difflib
import re
import tomllib
from pathlib import Path
from typing import Any

from .errors import InputError, Problems

# A spec is a dict: key -> type (int, float, str, bool, list, dict, object = anything), a
# tuple of allowed strings, a nested spec dict, or a list holding one spec dict (an array of
# tables, each checked against it). The key "*" matches any name (e.g. stage names).
# capacity.schema builds the specs of model.toml and scenario files from their CSV files.
Spec = dict[str, Any]


def read_toml(path: Path) -> tuple[dict[str, Any], str]:
    """Parse a TOML file; a syntax error becomes an InputError naming line and column."""
    try:
        text = path.read_bytes().decode("utf-8-sig")  # a BOM (Notepad) is fine
    except FileNotFoundError:
        raise InputError.single(path, "file not found") from None
    except UnicodeDecodeError:
        raise InputError.single(path, "file is not UTF-8", expected="UTF-8 text") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+), column (\d+)", str(exc))
        row = int(m.group(1)) if m else None
        msg = re.sub(r"\s*\(at line.*\)$", "", str(exc))
        raise InputError.single(path, f"TOML syntax error: {msg}", row=row,
                                column=f"col {m.group(2)}" if m else None) from None


def key_line(text: str, dotted: str) -> int | None:
    """Best-effort line number of a dotted key in TOML text (for messages)."""
    parts = dotted.split(".")
    lines = text.splitlines()
    # try "[a.b]\n c = ..." then "a.b.c = ..." then the bare last key
    for split in range(len(parts) - 1, -1, -1):
        table, rest = parts[:split], parts[split:]
        header = re.compile(r"^\s*\[+\s*" + r"\s*\.\s*".join(map(re.escape, table)) + r"\s*\]+")
        key = re.compile(r"^\s*" + r"\s*\.\s*".join(
            f'"?{re.escape(p)}"?' for p in rest) + r"\s*=")
        in_table = not table
        for i, line in enumerate(lines, 1):
            if table and header.match(line):
                in_table = True
                continue
            if in_table and re.match(r"^\s*\[", line) and table:
                in_table = False
            if in_table and key.match(line):
                return i
        if table and not rest:
            for i, line in enumerate(lines, 1):
                if header.match(line):
                    return i
    return None


def _type_ok(value: Any, kind: Any) -> bool:
    if isinstance(kind, list):
        return isinstance(value, list)
    if isinstance(kind, tuple):
        return isinstance(value, str) and value in kind
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def _kind_name(kind: Any) -> str:
    if isinstance(kind, tuple):
        return "one of " + ", ".join(f'"{k}"' for k in kind)
    if isinstance(kind, dict):
        return "a table"
    if isinstance(kind, list):
        return "an array"
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false",
            list: "an array", dict: "a table"}.get(kind, str(kind))


def check(data: dict[str, Any], spec: Spec, file: str, text: str, problems: Problems,
          prefix: str = "") -> None:
    """Record every unknown key and wrongly typed value of ``data`` against ``spec``."""
    for key, value in data.items():
        path = f"{prefix}{key}"
        kind = spec.get(key, spec.get("*"))
        if kind is None:
            valid = [k for k in spec if k != "*"]
            close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
            hint = f"; did you mean {prefix}{close[0]!r}?" if close else ""
            problems.add(file, f"unknown key {path!r}{hint}", row=key_line(text, path),
                         column=path, expected="one of " + ", ".join(valid) if valid else None)
        elif isinstance(kind, dict):
            if isinstance(value, dict):
                check(value, kind, file, text, problems, prefix=f"{path}.")
            else:
                problems.add(file, f"{path!r} must be a table", row=key_line(text, path),
                             column=path, expected=f"[{path}] with keys " + ", ".join(kind))
        elif isinstance(kind, list) and isinstance(value, list):
            for i, row in enumerate(value):
                if isinstance(row, dict):
                    check(row, kind[0], file, text, problems, prefix=f"{path}[{i}].")
                else:
                    problems.add(file, f"{path}[{i}] must be a table", column=path,
                                 expected=f"[[{path}]] blocks")
        elif not _type_ok(value, kind):
            problems.add(file, f"{path!r} has the wrong type: {value!r}",
                         row=key_line(text, path), column=path, expected=_kind_name(kind))
