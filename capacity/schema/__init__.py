"""The input schema, declared once, as data (like PyPSA's ``component_attrs/*.csv``).

- ``<table>.csv`` (zones, population, fertility, mortality, migration, housing, units,
  schools, projects): one row per column of the model table — ``name``, ``type`` (str, int,
  float, bool, choice; zones also geometry), ``required``, ``group`` (``one_of``: exactly
  one of the group's columns; ``any_of``: at least one, the first present wins), ``key``
  (the row key: unique together), ``allow_empty``, ``default`` (what an empty or absent
  cell stands for; the loader fills it), bounds ``min``/``max`` (inclusive) and ``gt``/``lt``
  (exclusive), ``choices`` (space separated), ``unit``, ``expected`` (wording of error
  messages; empty = derived from type and bounds) and ``description``.
- ``model_toml.csv`` and ``scenario_toml.csv``: one row per key, as a dotted path
  (``stages.*.radius_m``: ``*`` is any name; the keys of an array of tables ``rows``
  follow its path), with ``type`` (str, int, float, bool, choice, list, table, rows,
  int|table), ``required``, ``default``, bounds, ``choices``, ``unit``, ``same_as`` (the
  keys are those of a table, ``projects.csv``, or of a model.toml key,
  ``model.toml stages.*``), ``expected`` and ``description``.

This module turns them into the :class:`Schema`/:class:`Col` objects the table reader uses
and into the key specifications of :func:`capacity.tomlspec.check`; ``capacity.schema.docs``
writes the tables of docs/model-format.md and docs/scenarios.md from them.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
TOML_TYPES: dict[str, Any] = {"str": str, "int": int, "float": float, "bool": bool,
                              "list": list, "int|table": object}
YES, NO = {"yes", "true"}, {"no", "false", ""}


@dataclass(frozen=True)
class Col:
    """One column of a table schema."""

    name: str
    kind: str = "str"             # str | int | float | bool | choice | geometry
    required: bool = True
    min: float | None = None      # inclusive lower bound
    max: float | None = None      # inclusive upper bound
    gt: float | None = None       # exclusive lower bound
    lt: float | None = None       # exclusive upper bound
    choices: tuple[str, ...] = ()
    allow_empty: bool = False     # empty cells become NA
    expected: str = ""            # wording for messages
    default: Any = None           # value of an empty or absent cell (filled by the loader)
    group: str = ""               # one_of | any_of
    key: bool = False             # part of the row key
    unit: str = ""
    description: str = ""


@dataclass(frozen=True)
class Schema:
    """A table's declared columns, in file order, and the rules between them."""

    name: str
    cols: tuple[Col, ...]

    @property
    def columns(self) -> list[Col]:
        """The required columns."""
        return [c for c in self.cols if c.required]

    @property
    def extra(self) -> dict[str, Col]:
        """The optional columns, by name."""
        return {c.name: c for c in self.cols if not c.required}

    @property
    def one_of(self) -> tuple[str, ...]:
        """Exactly one of these columns must be present."""
        return tuple(c.name for c in self.cols if c.group == "one_of")

    @property
    def any_of(self) -> tuple[str, ...]:
        """At least one of these columns must be present (the first present wins)."""
        return tuple(c.name for c in self.cols if c.group == "any_of")

    @property
    def unique(self) -> tuple[str, ...]:
        """Key columns that must be unique together."""
        return tuple(c.name for c in self.cols if c.key)

    def col(self, name: str) -> Col | None:
        return next((c for c in self.cols if c.name == name), None)


@dataclass(frozen=True)
class Key:
    """One key of a TOML file (model.toml or a scenario)."""

    path: str
    kind: str
    required: bool = False
    default: Any = None
    min: float | None = None
    max: float | None = None
    gt: float | None = None
    lt: float | None = None
    choices: tuple[str, ...] = ()
    unit: str = ""
    same_as: str = ""
    expected: str = ""
    description: str = ""
    true_for: tuple[str, ...] = ()   # bool default "true for a, b": true for those names

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[-1]

    def in_range(self, value: float) -> bool:
        """Whether a number lies within the key's bounds."""
        return in_bounds(value, self)

    def default_for(self, name: str) -> Any:
        """The default for a table named ``name`` (e.g. a stage)."""
        return name in self.true_for if self.true_for else self.default


def in_bounds(v: float, spec: Col | Key) -> bool:
    """Whether a number lies within a column's or key's bounds (NaN and ±inf never do)."""
    return bool(math.isfinite(v) and (spec.min is None or v >= spec.min)
                and (spec.max is None or v <= spec.max)
                and (spec.gt is None or v > spec.gt) and (spec.lt is None or v < spec.lt))


def describe(key: Key) -> str:
    """The expected wording of a numeric key: declared, or from its bounds."""
    if key.expected:
        return key.expected
    parts = [f">= {key.min:g}" if key.min is not None else "",
             f"> {key.gt:g}" if key.gt is not None else "",
             f"<= {key.max:g}" if key.max is not None else "",
             f"< {key.lt:g}" if key.lt is not None else ""]
    word = "a whole number" if key.kind.startswith("int") else "a finite number"
    return " ".join([word, " and ".join(p for p in parts if p)]).strip()


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(f)]


def _flag(text: str, where: str) -> bool:
    if text.lower() in YES:
        return True
    if text.lower() in NO:
        return False
    raise ValueError(f"{where}: {text!r} is not yes/no")


def _num(text: str) -> float | None:
    return float(text) if text else None


def _value(text: str, kind: str) -> Any:
    """A default written in a schema file, as a value of ``kind``."""
    if text == "":
        return None
    if kind in ("int", "float"):
        return int(text) if kind == "int" and text.lstrip("-").isdigit() else float(text)
    if kind == "bool":
        return _flag(text, "default")
    return text  # str, choice, list, table


@cache
def table(name: str) -> Schema:
    """The schema of one model table (``capacity/schema/<name>.csv``)."""
    cols = []
    for r in _rows(HERE / f"{name}.csv"):
        where = f"{name}.csv:{r['name']}"
        cols.append(Col(r["name"], r["type"], required=_flag(r["required"], where),
                        min=_num(r["min"]), max=_num(r["max"]), gt=_num(r["gt"]),
                        lt=_num(r["lt"]), choices=tuple(r["choices"].split()),
                        allow_empty=_flag(r["allow_empty"], where),
                        expected=r["expected"], default=_value(r["default"], r["type"]),
                        group=r["group"], key=_flag(r["key"], where), unit=r["unit"],
                        description=r["description"]))
    return Schema(name, tuple(cols))


@cache
def keys(doc: str) -> dict[str, Key]:
    """Every key of ``model`` (model.toml) or ``scenario`` files, by dotted path, in order."""
    out: dict[str, Key] = {}
    for r in _rows(HERE / f"{doc}_toml.csv"):
        kind, raw = r["type"], r["default"]
        true_for: tuple[str, ...] = ()
        if kind == "bool" and raw.startswith("true for "):
            true_for, raw = tuple(s.strip() for s in raw[9:].split(",")), ""
        out[r["key"]] = Key(r["key"], kind, _flag(r["required"], r["key"]),
                            _value(raw, kind.split("|")[0]),
                            _num(r["min"]), _num(r["max"]), _num(r["gt"]), _num(r["lt"]),
                            tuple(r["choices"].split()), r["unit"], r["same_as"],
                            r["expected"], r["description"], true_for)
    return out


def children(doc: str, path: str) -> list[Key]:
    """The keys directly under ``path`` ("" for the top level), following ``same_as``."""
    ks = keys(doc)
    key = ks.get(path)
    if key is not None and key.same_as.startswith("model.toml "):
        return children("model", key.same_as.split(" ", 1)[1])
    prefix = f"{path}." if path else ""
    return [k for p, k in ks.items()
            if p.startswith(prefix) and "." not in p[len(prefix):]]


def row_columns(doc: str, path: str) -> list[Col | Key]:
    """The keys of one table of an array of tables (``rows``): its own or a table's columns."""
    key = keys(doc)[path]
    if key.same_as.endswith(".csv"):
        return list(table(key.same_as[:-4]).cols)
    return children(doc, path)


def file_keys() -> list[str]:
    """The tables a model folder may have, as named in model.toml ``[files]`` (every key
    there but ``encoding``)."""
    return [k.name for k in children("model", "files") if k.name != "encoding"]


def _col_kind(col: Col) -> Any:
    return col.choices if col.kind == "choice" else TOML_TYPES[col.kind]


def _key_kind(doc: str, key: Key) -> Any:
    if key.kind == "rows":
        return [{c.name: _col_kind(c) if isinstance(c, Col) else _key_kind(doc, c)
                 for c in row_columns(doc, key.path)}]
    if key.kind == "table":
        below = children(doc, key.path)
        if not below:
            return dict
        src = "model" if key.same_as.startswith("model.toml ") else doc
        return {k.name: _key_kind(src, k) for k in below}
    return key.choices if key.kind == "choice" else TOML_TYPES[key.kind]


@cache
def toml_spec(doc: str) -> dict[str, Any]:
    """The key specification of ``model`` or ``scenario`` files for ``tomlspec.check``."""
    return {k.name: _key_kind(doc, k) for k in children(doc, "")}
