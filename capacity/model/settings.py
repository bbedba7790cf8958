"""model.toml's plain settings tables (``[school_year]``, ``[staffing]``, ``[shrinking]``,
``[surplus]``),
checked and with their declared defaults (capacity/schema/model_toml.csv); a ``[fertility]
tfr`` path (model.toml or a scenario)."""
from __future__ import annotations

import datetime
from typing import Any, Callable

from .. import schema
from ..errors import Problems
from ..tomlspec import key_line

#: model.toml tables of plain settings kept in ``Model.settings`` by dotted key.
SETTING_TABLES = ("school_year", "staffing", "shrinking", "surplus")


def read_settings(conf: dict[str, Any], text: str, problems: Problems, number: Callable
                  ) -> dict[str, Any]:
    """:data:`SETTING_TABLES` by dotted key, with their declared defaults; numbers out of
    range and malformed "MM-DD" dates reported."""
    out: dict[str, Any] = {}
    for table in SETTING_TABLES:
        values = conf.get(table) if isinstance(conf.get(table), dict) else {}
        for key in schema.children("model", table):
            if key.kind in ("int", "float"):
                out[key.path] = number(values, key.path, text, problems,
                                       lambda v, k=key.path: f"{k} = {v!r} is out of range")
            else:
                out[key.path] = values.get(key.name, key.default)
                if key.unit == "MM-DD" and month_day(out[key.path]) is None:
                    problems.add("model.toml", f"{key.path} = {out[key.path]!r} is not a "
                                 "month and day", row=key_line(text, key.path),
                                 column=key.path, expected=key.expected)
                    out[key.path] = key.default
    return out


def month_day(value: Any) -> tuple[int, int] | None:
    """("MM-DD") → (month, day) of a non-leap year, or None when it is not one."""
    try:
        d = datetime.datetime.strptime(str(value), "%m-%d")
        return (d.month, d.day) if d.month != 2 or d.day != 29 else None
    except ValueError:
        return None


def tfr_path(raw: object, key: schema.Key, label: str, text: str, problems: Problems
             ) -> dict[int, float]:
    """``{year: TFR}`` from a ``[fertility] tfr`` table (scenario or model.toml); invalid
    entries are added to ``problems`` at the key's line."""
    out: dict[int, float] = {}
    for year, value in (raw if isinstance(raw, dict) else {}).items():
        if not str(year).isdigit() or not 1900 <= int(year) <= 2200 \
                or not isinstance(value, (int, float)) \
                or isinstance(value, bool) or not key.in_range(value):
            problems.add(label, f"fertility.tfr entry {year!r} = {value!r} is not valid",
                         row=key_line(text, "fertility.tfr"), column=f"fertility.tfr.{year}",
                         expected=key.expected)
        else:
            out[int(year)] = float(value)
    return out
