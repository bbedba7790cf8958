"""Check a workbook's formulas without a spreadsheet program.

Every formula is parsed with openpyxl's tokenizer and evaluated here (cell and range
references, numbers, text, ``+ - * / ^ &``, comparisons, SUM, SUMIFS, ROUND, MIN, MAX, ABS;
a formula referring to another formula is evaluated in turn), and its result compared with
the cached value the writer stored beside it — the value the writer meant the cell to show.
References are also checked for shape, so a wrong range is caught even when its value
happens to be right: a range spans exactly the sheet's data rows (2 to the last row) of one
column; the range a SUM or SUMIFS adds up is the formula's own column; a SUMIFS criterion
taken from a cell reads the formula's own row in the criteria range's column.

An unknown function is an error (extend this module), never silently skipped.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.formula import Tokenizer
from openpyxl.utils import column_index_from_string

REF = re.compile(r"^(?:(?:'((?:[^']|'')+)'|([^!]+))!)?\$?([A-Z]+)\$?(\d+)"
                 r"(?::\$?([A-Z]+)\$?(\d+))?$")


@dataclass(frozen=True)
class Ref:
    """A cell or a rectangular range of one sheet (1-based rows and columns)."""

    sheet: str
    col0: int
    row0: int
    col1: int
    row1: int

    @property
    def is_cell(self) -> bool:
        return (self.col0, self.row0) == (self.col1, self.row1)

    def cells(self) -> list[tuple[int, int]]:
        return [(r, c) for r in range(self.row0, self.row1 + 1)
                for c in range(self.col0, self.col1 + 1)]


def parse_ref(text: str, sheet: str) -> Ref:
    m = REF.match(text)
    if not m:
        raise ValueError(f"not a cell or range reference: {text!r}")
    name = (m.group(1) or "").replace("''", "'") or m.group(2) or sheet
    c0, r0 = column_index_from_string(m.group(3)), int(m.group(4))
    c1 = column_index_from_string(m.group(5)) if m.group(5) else c0
    r1 = int(m.group(6)) if m.group(6) else r0
    return Ref(name, c0, r0, c1, r1)


class FormulaError(AssertionError):
    """A formula that is wrong, or that this checker cannot evaluate."""


_CYCLE = object()   # a cell being evaluated


# operator precedence (higher binds tighter), as in Excel
INFIX = {"=": 1, "<>": 1, "<": 1, ">": 1, "<=": 1, ">=": 1, "&": 2, "+": 3, "-": 3,
         "*": 4, "/": 4, "^": 5}


class Workbook:
    """A workbook's formulas (openpyxl) and cached values (``data_only``)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.wb = openpyxl.load_workbook(self.path)
        self.cached = openpyxl.load_workbook(self.path, data_only=True)
        self._memo: dict[tuple[str, int, int], Any] = {}

    def formulas(self) -> list[tuple[str, int, int, str]]:
        """(sheet, row, column, formula) of every formula cell."""
        return [(ws.title, c.row, c.column, c.value) for ws in self.wb for row in ws.iter_rows()
                for c in row if isinstance(c.value, str) and c.value.startswith("=")]

    # -- evaluation --------------------------------------------------------------------
    def value(self, sheet: str, row: int, col: int) -> Any:
        """A cell's value, its formula evaluated."""
        key = (sheet, row, col)
        if key not in self._memo:
            raw = self.wb[sheet].cell(row, col).value
            self._memo[key] = _CYCLE
            self._memo[key] = self.evaluate(raw, sheet) \
                if isinstance(raw, str) and raw.startswith("=") else raw
        if self._memo[key] is _CYCLE:
            raise FormulaError(f"circular reference through {sheet}!"
                               f"{openpyxl.utils.get_column_letter(col)}{row}")
        return self._memo[key]

    def evaluate(self, formula: str, sheet: str) -> Any:
        tokens = [t for t in Tokenizer(formula).items if t.type != "WHITE-SPACE"]
        parser = _Parser(tokens, self, sheet)
        out = parser.expression(0)
        if parser.i != len(tokens):
            raise FormulaError(f"{formula}: unexpected {tokens[parser.i].value!r}")
        return _scalar(out, self)

    def range_values(self, ref: Ref) -> list[Any]:
        return [self.value(ref.sheet, r, c) for r, c in ref.cells()]


class _Parser:
    """Precedence climbing over the tokenizer's tokens."""

    def __init__(self, tokens: list, book: Workbook, sheet: str) -> None:
        self.t, self.i, self.book, self.sheet = tokens, 0, book, sheet

    def peek(self):
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self):
        tok = self.peek()
        if tok is None:
            raise FormulaError("formula ends too early")
        self.i += 1
        return tok

    def expression(self, min_prec: int) -> Any:
        left = self.unary()
        while True:
            tok = self.peek()
            if tok is None or tok.type != "OPERATOR-INFIX" or INFIX[tok.value] < min_prec:
                return left
            self.take()
            prec = INFIX[tok.value]
            right = self.expression(prec + 1 if tok.value != "^" else prec)
            left = _binary(tok.value, _scalar(left, self.book), _scalar(right, self.book))

    def unary(self) -> Any:
        tok = self.peek()
        if tok is not None and tok.type == "OPERATOR-PREFIX":
            self.take()
            v = _num(_scalar(self.unary(), self.book))
            return -v if tok.value == "-" else v
        return self.primary()

    def primary(self) -> Any:
        tok = self.take()
        if tok.type == "OPERAND":
            if tok.subtype == "NUMBER":
                return float(tok.value)
            if tok.subtype == "TEXT":
                return tok.value[1:-1].replace('""', '"')
            if tok.subtype == "LOGICAL":
                return tok.value.upper() == "TRUE"
            if tok.subtype == "RANGE":
                return parse_ref(tok.value, self.sheet)
            raise FormulaError(f"operand {tok.value!r} ({tok.subtype})")
        if tok.type == "PAREN" and tok.subtype == "OPEN":
            v = self.expression(0)
            self.take()
            return v
        if tok.type == "FUNC" and tok.subtype == "OPEN":
            name, args = tok.value[:-1].upper(), []
            if not (self.peek().type == "FUNC" and self.peek().subtype == "CLOSE"):
                args.append(self.expression(0))
                while self.peek().type == "SEP":
                    self.take()
                    args.append(self.expression(0))
            self.take()
            return _function(name, args, self.book)
        raise FormulaError(f"unexpected {tok.value!r}")


def _scalar(v: Any, book: Workbook) -> Any:
    if isinstance(v, Ref):
        if not v.is_cell:
            raise FormulaError(f"a range where one value is needed: {v}")
        return book.value(v.sheet, v.row0, v.col0)
    return v


def _num(v: Any) -> float:
    if v is None or v == "":
        return 0.0
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        return float(v)
    try:
        return float(v)
    except ValueError:
        raise FormulaError(f"#VALUE!: {v!r} is not a number") from None


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _compare(op: str, a: Any, b: Any) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        a, b = _text(a).lower(), _text(b).lower()
    else:
        a, b = _num(a), _num(b)
    return {"=": a == b, "<>": a != b, "<": a < b, ">": a > b, "<=": a <= b,
            ">=": a >= b}[op]


def _binary(op: str, a: Any, b: Any) -> Any:
    if op == "&":
        return _text(a) + _text(b)
    if op in ("=", "<>", "<", ">", "<=", ">="):
        return _compare(op, a, b)
    x, y = _num(a), _num(b)
    if op == "/" and y == 0:
        raise FormulaError("#DIV/0!")
    ops = {"+": lambda: x + y, "-": lambda: x - y, "*": lambda: x * y, "/": lambda: x / y,
           "^": lambda: x ** y}
    return ops[op]()


def _numbers(args: list[Any], book: Workbook) -> list[float]:
    out = []
    for a in args:
        values = book.range_values(a) if isinstance(a, Ref) else [a]
        out += [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return out


def _criterion(crit: Any):
    """SUMIFS criterion → predicate on a cell value (``"<>x"``, ``">=3"``, ``x``)."""
    if isinstance(crit, str):
        m = re.match(r"^(<>|>=|<=|=|<|>)(.*)$", crit, re.S)
        if m:
            op, operand = m.groups()
            try:
                target: Any = float(operand)
            except ValueError:
                target = operand
            return lambda v: _compare(op, v if v is not None else "", target)
    return lambda v: v is not None and _compare("=", v, crit)


def _function(name: str, args: list[Any], book: Workbook) -> Any:
    if name == "SUM":
        return math.fsum(_numbers(args, book))
    if name in ("MIN", "MAX"):
        values = _numbers(args, book)
        return (min if name == "MIN" else max)(values) if values else 0.0
    if name == "ABS":
        return abs(_num(_scalar(args[0], book)))
    if name == "ROUND":
        x, digits = _num(_scalar(args[0], book)), int(_num(_scalar(args[1], book)))
        q = 10.0 ** digits
        return math.copysign(math.floor(abs(x) * q + 0.5) / q, x)   # half away from zero
    if name == "SUMIFS":
        total, ranges = args[0], args[1::2]
        tests = [_criterion(_scalar(c, book)) for c in args[2::2]]
        if not isinstance(total, Ref) or not all(isinstance(r, Ref) for r in ranges):
            raise FormulaError("SUMIFS needs ranges")
        cells = total.cells()
        columns = [book.range_values(r) for r in ranges]
        if any(len(c) != len(cells) for c in columns):
            raise FormulaError("SUMIFS ranges of different sizes")
        keep = [all(test(v) for test, v in zip(tests, row)) for row in zip(*columns)]
        # only the rows kept are read, as a spreadsheet does (a total row's range may hold
        # the total itself, excluded by its criteria)
        values = [book.value(total.sheet, r, c) for (r, c), k in zip(cells, keep) if k]
        return math.fsum(float(v) for v in values
                         if isinstance(v, (int, float)) and not isinstance(v, bool))
    raise FormulaError(f"formula_check cannot evaluate {name}(): add it to "
                       "tests/formula_check.py")


# -- shape ---------------------------------------------------------------------------------
def shape_problems(book: Workbook, sheet: str, row: int, col: int, formula: str) -> list[str]:
    """References of one formula that do not point where such a formula should."""
    out = []
    last = book.wb[sheet].max_row
    tokens = [t for t in Tokenizer(formula).items if t.type != "WHITE-SPACE"]
    where = f"{sheet}!{openpyxl.utils.get_column_letter(col)}{row} {formula}"
    for t in tokens:
        if t.type == "OPERAND" and t.subtype == "RANGE":
            ref = parse_ref(t.value, sheet)
            if not ref.is_cell and (ref.col0 != ref.col1 or (ref.row0, ref.row1) != (2, last)):
                out.append(f"{where}: range {t.value} is not one column's data rows 2:{last}")
            if ref.is_cell and not 1 <= ref.row0 <= last:
                out.append(f"{where}: {t.value} lies outside the sheet's rows 1:{last}")
    # function arguments: the range a SUM/SUMIFS adds, SUMIFS criteria from cells
    stack: list[tuple[str, list[list]]] = []
    for t in tokens:
        if t.type == "FUNC" and t.subtype == "OPEN":
            stack.append((t.value[:-1].upper(), [[]]))
        elif t.type == "FUNC" and t.subtype == "CLOSE":
            name, args = stack.pop()
            out += _argument_problems(name, args, sheet, row, col, where)
            if stack:
                stack[-1][1][-1].append(t)
        elif t.type == "SEP" and t.subtype == "ARG" and stack:
            stack[-1][1].append([])
        elif stack:
            stack[-1][1][-1].append(t)
    return out


def _argument_problems(name: str, args: list[list], sheet: str, row: int, col: int,
                       where: str) -> list[str]:
    def refs(arg: list) -> list[Ref]:
        return [parse_ref(t.value, sheet) for t in arg
                if t.type == "OPERAND" and t.subtype == "RANGE"]

    out = []
    summed = args[:1] if name == "SUMIFS" else args if name == "SUM" else []
    for arg in summed:
        for ref in refs(arg):
            if not ref.is_cell and ref.col0 != col:
                out.append(f"{where}: {name} adds column {ref.col0}, not its own column {col}")
    if name == "SUMIFS":
        for rng, crit in zip(args[1::2], args[2::2]):
            (r,) = refs(rng) or [None]
            for c in refs(crit):
                if r is not None and c.is_cell and (c.row0, c.col0) != (row, r.col0):
                    out.append(f"{where}: criterion {c} is not this row's cell of the "
                               f"criteria column {r.col0}")
    return out


def check_workbook(path: Path, rel: float = 1e-9) -> Workbook:
    """Assert every formula of a workbook has a sound shape and evaluates to the value
    cached beside it; returns the evaluated workbook (``.value(sheet, row, col)``)."""
    book = Workbook(path)
    problems = []
    for sheet, row, col, formula in book.formulas():
        problems += shape_problems(book, sheet, row, col, formula)
        got = book.value(sheet, row, col)
        want = book.cached[sheet].cell(row, col).value
        where = f"{path.name} {sheet}!{openpyxl.utils.get_column_letter(col)}{row} {formula}"
        if want is None:
            problems.append(f"{where}: no cached value")
        elif isinstance(want, (int, float)):
            if not math.isclose(_num(got), float(want), rel_tol=rel, abs_tol=1e-9):
                problems.append(f"{where}: evaluates to {got!r}, cached {want!r}")
        elif _text(got) != _text(want):
            problems.append(f"{where}: evaluates to {got!r}, cached {want!r}")
    if problems:
        raise FormulaError("\n".join(problems[:20]))
    return book
