"""Options of the commands (and the columns of the files they name) declared once, as data,
in ``capacity/schema/commands/options.csv``, and checked by one function before any work.

A bound is a number or a name of the run's context (``base_year``, ``horizon``,
``open_age``, ``year1`` and ``year2`` the census years) plus or minus a whole number, e.g.
``base_year+100``; a bound whose name the caller does not know yet is checked later, by the
same function, when it does. ``min``/``max`` are inclusive, ``gt``/``lt`` exclusive;
``same_as`` takes the bounds of a model.toml or scenario key instead.
"""
from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from .errors import InputError, Problem
from .schema import HERE, keys

BOUND = re.compile(r"^\s*([a-z_][a-z0-9_]*)\s*(?:([+-])\s*(\d+))?\s*$")
ADDRESS = re.compile(r"^(tcp|tls)://(\[[0-9a-fA-F:]+\]|[A-Za-z0-9._-]+):(\d{1,5})$")
OPS = (("min", ">=", lambda v, b: v >= b), ("gt", ">", lambda v, b: v > b),
       ("max", "<=", lambda v, b: v <= b), ("lt", "<", lambda v, b: v < b))


@dataclass(frozen=True)
class Option:
    """One option (or a column of the file an option names) of one command."""

    command: str
    option: str
    column: str
    kind: str                     # int | float | address
    default: int | float | None   # None: none, or the command's own (e.g. every core)
    bounds: tuple[tuple[str, str], ...]   # (min|gt|max|lt, number or context expression)
    unit: str
    why: str
    description: str

    @property
    def label(self) -> str:
        return self.option if not self.column else f"{self.option} {self.column}"

    def resolved(self, context: Mapping[str, float]) -> list[tuple[str, float]]:
        """The bounds whose context names are known, as numbers."""
        out = []
        for op, text in self.bounds:
            value = resolve(text, context)
            if value is not None:
                out.append((op, value))
        return out

    def expected(self, context: Mapping[str, float] | None = None) -> str:
        """e.g. ``a whole number >= 1 and <= 100000 (why …)``."""
        if self.kind == "address":
            return self.why
        word = {"int": "a whole number", "float": "a finite number"}[self.kind]
        ctx = context or {}
        parts = []
        for op, text in self.bounds:
            value = resolve(text, ctx)
            sym = dict((o, s) for o, s, _ in OPS)[op]
            parts.append(f"{sym} {_num(value) if value is not None else text}")
        return f"{word} {' and '.join(parts)}".strip() + (f": {self.why}" if self.why else "")


@cache
def options() -> dict[tuple[str, str, str], Option]:
    """Every declared option by (command, option, column)."""
    with (HERE / "commands" / "options.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return {(r["command"], r["option"], r["column"]): Option(
        r["command"], r["option"], r["column"], r["type"],
        resolve(r["default"], {}) if r["default"] else None, _bounds(r),
        r["unit"], r["why"], r["description"]) for r in rows}


def _bounds(row: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """A row's bounds: its own, or (``same_as``: ``model demography.srb``) those of a
    model.toml or scenario key (capacity/schema/*_toml.csv), so each number has one home."""
    if not row["same_as"]:
        return tuple((op, row[op]) for op in ("min", "gt", "max", "lt") if row[op])
    doc, key = row["same_as"].split()
    spec = keys(doc)[key]
    return tuple((op, _num(getattr(spec, op))) for op in ("min", "gt", "max", "lt")
                 if getattr(spec, op) is not None)


def of(command: str) -> list[Option]:
    """The declared options of ``command``, in file order."""
    return [o for (c, _, _), o in options().items() if c == command]


def resolve(text: str, context: Mapping[str, float]) -> int | float | None:
    """A bound as a number: ``100000``, or ``base_year+100`` with ``base_year`` in
    ``context``; None when the name is not (yet) known."""
    for number in (int, float):
        try:
            return number(text)
        except ValueError:
            pass
    m = BOUND.match(text)
    if not m:
        raise ValueError(f"commands/options.csv: bad bound {text!r}")
    if m.group(1) not in context:
        return None
    shift = int(m.group(3) or 0) * (-1 if m.group(2) == "-" else 1)
    return context[m.group(1)] + shift


def _num(v: float) -> str:
    if isinstance(v, int) or (float(v).is_integer() and abs(v) < 1e15):
        return f"{int(v)}"
    return f"{v:g}"


def address(text: str) -> tuple[str, int]:
    """Host and port of ``tcp://HOST:PORT`` (ValueError naming what is wrong)."""
    m = ADDRESS.match(text.strip())
    if not m:
        raise ValueError(f"{text!r} is not an address of the form tcp://HOST:PORT")
    port = int(m.group(3))
    if not 1 <= port <= 65535:
        raise ValueError(f"port {port} is not a TCP port (1..65535)")
    return m.group(2).strip("[]"), port


def problem(o: Option, value: Any, context: Mapping[str, float] | None = None,
            strict: bool = False) -> str | None:
    """What is wrong with ``value`` for ``o`` (None: nothing, or not given); ``strict``: an
    int option takes only an integer (a Python caller's 5.0 is refused; a file's cells are
    read as floats, so there a whole float is a whole number)."""
    if value is None:
        return None
    if o.kind == "address":
        if not isinstance(value, str):
            return f"{value!r} is not an address"
        try:
            address(value)
        except ValueError as exc:
            return str(exc)
        return None
    if isinstance(value, bool) or strict and not isinstance(value, (int, float, np.number)):
        return f"{value!r} is not a number"
    if not isinstance(value, (int, float)):
        try:
            value = float(value)
        except (TypeError, ValueError):
            return f"{value!r} is not a number"
    if not math.isfinite(value):
        return f"{value!r} is not finite"
    if o.kind == "int" and (float(value) != round(float(value))
                            or strict and not isinstance(value, (int, np.integer))):
        return f"{value!r} is not a whole number"
    for op, bound in o.resolved(context or {}):
        test = next(t for k, _, t in OPS if k == op)
        if not test(value, bound):
            what = {"min": "is below the lower bound", "max": "is above the upper bound",
                    "gt": "is not above", "lt": "is not below"}[op]
            return f"{_num(value)} {what} {_num(bound)}"
    return None


def check(command: str, values: Mapping[str, Any],
          context: Mapping[str, float] | None = None) -> None:
    """InputError naming each option of ``values`` (``{"--draws": 5, …}``) outside its
    declared bounds (those of ``context``'s names, and the plain numbers)."""
    found = []
    for name, value in values.items():
        o = options()[(command, name, "")]
        msg = problem(o, value, context, strict=True)
        if msg:
            found.append(Problem(name, msg, expected=o.expected(context)))
    if found:
        raise InputError(found)


def check_column(command: str, option: str, column: str, values: Iterable[Any],
                 lines: Iterable[int], file: str,
                 context: Mapping[str, float] | None = None) -> list[Problem]:
    """One problem per row (its line) of a file's column outside the declared bounds."""
    o = options()[(command, option, column)]
    out = []
    for value, line in zip(values, lines):
        msg = problem(o, value, context)
        if msg:
            out.append(Problem(file, f"{column} {msg}", int(line), column,
                               o.expected(context)))
    return out


def markdown(command: str) -> str:
    """The table of ``command``'s declared options for docs/cli.md."""
    lines = ["| option | type | default | bounds | unit | why the bounds | description |",
             "|---|---|---|---|---|---|---|"]
    for o in of(command):
        kind = {"int": "whole number", "float": "number", "address": "address"}[o.kind]
        shown = _num(o.default) if o.default is not None else ""
        lines.append(f"| `{o.label}` | {kind} | {shown} | {_bounds_text(o)} | {o.unit} | "
                     f"{o.why.replace('|', '/')} | {o.description.replace('|', '/')} |")
    return "\n".join(lines)


def _bounds_text(o: Option) -> str:
    return ", ".join(f"{dict((k, s) for k, s, _ in OPS)[op]} {text}" for op, text in o.bounds)


def default(command: str, option: str) -> int | float | None:
    """An option's declared default (for argparse)."""
    return options()[(command, option, "")].default


def described(command: str, option: str) -> str:
    """An option's help text for argparse: its declared description, default and bounds."""
    o = options()[(command, option, "")]
    shown = f"default {_num(o.default)}" if o.default is not None else ""
    extra = "; ".join(p for p in (shown, _bounds_text(o)) if p)
    return f"{o.description}" + (f" ({extra})" if extra else "")
