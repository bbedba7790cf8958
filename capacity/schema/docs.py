"""Markdown tables of the schema, for docs/model-format.md, docs/scenarios.md and
docs/plan.md (sites.csv).

A doc marks each generated block with ``<!-- schema:NAME -->`` … ``<!-- /schema -->``, NAME
being a table (``population``), a TOML file (``model_toml``, ``scenario_toml``) or a
command's options (``options_ensemble``);
:func:`render` rewrites every block and leaves the prose around them alone. Run
``python tools/make_docs.py`` after editing the schema; a test fails when the docs are stale.
"""
from __future__ import annotations

import re
from pathlib import Path

from ..ranges import ranges
from . import HERE, Col, Key, keys, table

DOCS = ("docs/model-format.md", "docs/scenarios.md", "docs/plan.md", "docs/cli.md")
BLOCK = re.compile(r"(<!-- schema:(\w+) -->\n).*?(<!-- /schema -->)", re.S)
TYPES = {"str": "text", "int": "integer", "float": "number", "bool": "true/false",
         "choice": "choice", "geometry": "geometry", "list": "array", "table": "table",
         "rows": "array of tables", "int|table": "integer or table"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _num(v: float) -> str:
    return f"{v:g}"


def _values(spec: Col | Key, file: str = "", key: str = "") -> str:
    """Bounds and choices, e.g. ``≥ 0, < 0.5`` or ```F`, `M```, and the plausible range
    (``plausible_ranges.csv``: outside it, a warning), e.g. ``plausibly ≤ 0.3``."""
    if spec.choices:
        return ", ".join(f"`{c}`" for c in spec.choices)
    parts = [f"≥ {_num(spec.min)}" if spec.min is not None else "",
             f"> {_num(spec.gt)}" if spec.gt is not None else "",
             f"≤ {_num(spec.max)}" if spec.max is not None else "",
             f"< {_num(spec.lt)}" if spec.lt is not None else ""]
    r = ranges().get((file, key))
    if r is not None:
        span = [f"≥ {_num(r.min)}" if r.min is not None else "",
                f"≤ {_num(r.max)}" if r.max is not None else ""]
        parts.append("plausibly " + ", ".join(p for p in span if p))
    return ", ".join(p for p in parts if p)


def _default(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _num(value) if isinstance(value, float) else str(value)


def table_markdown(name: str) -> str:
    """The columns of one model table, with its row key and column groups."""
    t = table(name)
    notes = []
    if t.unique:
        notes.append("One row per " + " × ".join(f"`{c}`" for c in t.unique) + ".")
    if t.one_of:
        notes.append("Exactly one of the columns " + ", ".join(f"`{c}`" for c in t.one_of)
                     + ".")
    if t.any_of:
        notes.append("At least one of the columns " + ", ".join(f"`{c}`" for c in t.any_of)
                     + (f" (`{t.any_of[0]}` wins where both are given)." if len(t.any_of) == 2
                        else "; they combine as their descriptions say."))
    lines = [" ".join(notes), ""] if notes else []
    lines += ["| column | type | required | empty | default | values | unit | description |",
              "|---|---|---|---|---|---|---|---|"]
    for c in t.cols:
        required = {"one_of": "one of", "any_of": "at least one of"}.get(c.group) \
            or ("yes" if c.required else "no")
        lines.append(f"| `{c.name}` | {TYPES[c.kind]} | {required} | "
                     f"{'allowed' if c.allow_empty else ''} | {_default(c.default)} | "
                     f"{_values(c, name, c.name)} | {c.unit} | {_cell(c.description)} |")
    return "\n".join(lines)


def _shown(path: str) -> str:
    return path.replace("*", "<name>")


def keys_markdown(doc: str) -> str:
    """The keys of ``model`` (model.toml) or ``scenario`` files, as dotted paths."""
    ks = keys(doc)
    rows = {p for p, k in ks.items() if k.kind == "rows"}
    lines = ["| key | type | required | default | values | unit | description |",
             "|---|---|---|---|---|---|---|"]
    for path, k in ks.items():
        parent = path.rsplit(".", 1)[0] if "." in path else ""
        shown = f"`{_shown(parent)}[].{k.name}`" if parent in rows else f"`{_shown(path)}`"
        default = ("true for " + ", ".join(k.true_for)) if k.true_for else _default(k.default)
        lines.append(f"| {shown} | {TYPES[k.kind]} | {'yes' if k.required else 'no'} | "
                     f"{default} | {_values(k, doc, path)} | {k.unit} | "
                     f"{_cell(k.description)} |")
    return "\n".join(lines)


def block(name: str) -> str:
    """The generated markdown of one ``<!-- schema:NAME -->`` block (``options_<command>``:
    a command's declared options, capacity/schema/commands/options.csv)."""
    if name.startswith("options_"):
        from ..options import markdown

        return markdown(name[len("options_"):].replace("_", "-"))
    if name.endswith("_toml"):
        return keys_markdown(name[: -len("_toml")])
    if not (HERE / f"{name}.csv").is_file():
        raise KeyError(f"no schema named {name!r} (capacity/schema/{name}.csv)")
    return table_markdown(name)


def render(text: str) -> str:
    """``text`` with every schema block regenerated."""
    return BLOCK.sub(lambda m: f"{m.group(1)}{block(m.group(2))}\n{m.group(3)}", text)


def stale(root: Path, write: bool = False) -> list[Path]:
    """The docs under ``root`` whose schema blocks are out of date (rewritten if ``write``)."""
    out = []
    for rel in DOCS:
        path = root / rel
        text = path.read_text(encoding="utf-8")
        new = render(text)
        if new != text:
            out.append(path)
            if write:
                path.write_text(new, encoding="utf-8")
    return out
