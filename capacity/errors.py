"""One error type for bad input, carrying file, row and column.

Rows are numbered as a spreadsheet or text editor shows them: the header is line 1, the
first data row is line 2. A problem that concerns a whole file has no row; one that concerns
a whole row has no column. A problem with a command-line option is shown as ``--option:
message`` (no row or column).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as precisely as possible."""

    file: str
    message: str
    row: int | None = None
    column: str | None = None
    expected: str | None = None
    level: str = "error"          # or "warning": reported, but the input is usable

    def __str__(self) -> str:
        where = f"{self.file}:{'' if self.row is None else self.row}:{self.column or ''}"
        if self.file.startswith("-") and self.row is None and not self.column:
            where = self.file                      # an option: "--draws: ..."
        tail = f" (expected {self.expected})" if self.expected else ""
        return f"{where}: {self.message}{tail}"


class InputError(Exception):
    """Bad user input: one or more :class:`Problem`. The CLI prints them and exits 2."""

    def __init__(self, problems: Problem | list[Problem]):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def single(cls, file: str | Path, message: str, row: int | None = None,
               column: str | None = None, expected: str | None = None) -> "InputError":
        return cls(Problem(str(file), message, row, column, expected))


class Problems:
    """Collects problems so that validation can report every one at once."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, file: str | Path, message: str, row: int | None = None,
            column: str | None = None, expected: str | None = None) -> None:
        self.items.append(Problem(str(file), message, row, column, expected))

    def extend(self, other: "Problems | InputError | Iterable[Problem]") -> None:
        if isinstance(other, Problems):
            self.items.extend(other.items)
        elif isinstance(other, InputError):
            self.items.extend(other.problems)
        else:
            self.items.extend(other)

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise InputError(self.items)
