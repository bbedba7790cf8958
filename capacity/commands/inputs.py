"""Small readers shared by the demography commands: CSV files, life tables, births, targets.
Every error is an :class:`InputError` naming the file, row (header = 1) and column."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from capacity.demography.lifetable import sx_from_Lx, sx_from_mx, sx_from_qx
from capacity.errors import InputError, Problem, Problems
from capacity.model.tables import read_csv_text, type_frame
from capacity.options import check_column
from capacity.runfolder import atomic_files
from capacity.schema import table

__all__ = ["read_csv", "read_file", "read_life_table", "read_births", "births_between",
           "read_targets", "missing_years", "write_csv_atomic"]


def read_csv(path: str | Path) -> pd.DataFrame:
    """A CSV file as text cells (index: each row's line, header = 1), or an InputError
    naming it: unreadable, not UTF-8, malformed, a NUL byte, or a header without rows."""
    p, file = Path(path), str(path)
    if not p.is_file():
        raise InputError.single(file, "file not found", expected="an existing CSV file")
    problems = Problems()
    frame = read_csv_text(p, file, problems)      # NUL bytes too, at their line
    if frame is not None and not len(frame):
        problems.add(file, "no data rows (only a header)", row=2,
                     expected="at least one data row below the header")
    problems.raise_if_any()
    return frame


def read_file(path: str | Path, schema_name: str) -> pd.DataFrame:
    """A CSV file typed against ``capacity/schema/commands/<schema_name>.csv``: every bad
    cell, missing column and duplicate key is an InputError with its row and column."""
    frame = read_csv(path)
    problems = Problems()
    typed = type_frame(frame, str(path), table(f"commands/{schema_name}"), problems)
    problems.raise_if_any()
    return typed


def missing_years(years: pd.Series, want: range, file: str, column: str = "year"
                  ) -> list[Problem]:
    """One problem per year of ``want`` without a row: at the line where it belongs (the
    first row of a later year, else below the last row)."""
    have = set(int(y) for y in years)
    out = []
    for y in want:
        if y not in have:
            later = years.index[years.to_numpy(float) > y]
            line = int(later.min()) if len(later) else int(years.index.max()) + 1
            out.append(Problem(file, f"no row for {column} {y}", line, column,
                               f"one row for each year {want[0]}..{want[-1]}"))
    return out


def read_life_table(path: str | Path, open_age: int | None = None) -> np.ndarray:
    """(2, A) UN-convention ``sx`` from a CSV with sex (F/M), age and one of sx, mx, qx, Lx
    (as a model's mortality.csv, and checked against its schema)."""
    file = str(path)
    frame = read_csv(path)
    problems = Problems()
    df = type_frame(frame, file, table("mortality"), problems)
    problems.raise_if_any()
    kind = next(k for k in ("sx", "mx", "qx", "Lx") if k in df.columns)
    sex = df["sex"].map({"F": 0, "M": 1}).to_numpy(int)
    age = df["age"].to_numpy(int)
    w = int(age.max()) if open_age is None else int(open_age)
    for s, name in enumerate("FM"):
        rows = df.index[sex == s]
        above = rows[age[sex == s] > w]
        if len(above):
            problems.add(file, f"sex {name}: age {age[df.index.get_loc(above[0])]} is above "
                         f"the open age {w}", row=int(above[0]), column="age",
                         expected=f"one row per sex and age 0..{w}")
        problems.extend(missing_years(pd.Series(age[sex == s], index=rows),
                                      range(w + 1), file, "age") if len(rows) else
                        [Problem(file, f"sex {name} has no rows", int(df.index[0]), "sex",
                                 "rows for both F and M")])
    problems.raise_if_any()
    arr = np.zeros((2, w + 1))
    arr[sex, age] = df[kind].to_numpy(float)
    if kind == "sx":
        return arr
    return {"mx": sx_from_mx, "qx": sx_from_qx, "Lx": sx_from_Lx}[kind](arr, open_age=w)


def read_births(path: str | Path) -> pd.DataFrame:
    """A births CSV typed against its schema (year, births or value, optional sex); rows
    are its lines. :func:`births_between` checks it against the census years."""
    df = read_file(path, "births")
    if "sex" not in df.columns:     # without sex, the year alone is the row key
        dup = df["year"].duplicated()
        if dup.any():
            line = int(df.index[dup.to_numpy()][0])
            first = int(df.index[(df["year"] == df.at[line, "year"]).to_numpy()][0])
            raise InputError.single(str(path), f"year {int(df.at[line, 'year'])} given twice "
                                    f"(first at line {first})", row=line, column="year",
                                    expected="one row per year (or per year and sex)")
    return df


def births_between(df: pd.DataFrame, file: str, command: str, year1: int, year2: int
                   ) -> dict[int, float]:
    """{year: births} for every year after the first census up to the second; a year
    outside them, or one missing, is an error at its row."""
    context = {"year1": year1, "year2": year2}
    problems = Problems()
    problems.extend(check_column(command, "--births", "year", df["year"], df.index, file,
                                 context))
    problems.extend(missing_years(df["year"], range(year1 + 1, year2 + 1), file))
    problems.raise_if_any()
    col = "births" if "births" in df.columns else "value"
    return {int(y): float(v) for y, v in df.groupby("year")[col].sum().items()}


def read_targets(path: str | Path, command: str, option: str,
                 context: dict[str, float]) -> tuple[dict[float, float], dict[float, float]]:
    """({year: total}, {year: weight}) from a CSV with year (fractional allowed: model years
    from the census date, e.g. 31 Dec 2023 = 2023 + 2/12), total and optional weight; each
    year within the bounds ``command``'s ``option`` declares for ``context``."""
    file = str(path)
    df = read_file(path, "targets")
    found = check_column(command, option, "year", df["year"], df.index, file, context)
    if found:
        raise InputError(found)
    weight = df["weight"].fillna(1.0) if "weight" in df.columns else pd.Series(1.0, df.index)
    year = df["year"].astype(float).tolist()
    return dict(zip(year, df["total"].astype(float))), dict(zip(year, weight.astype(float)))


def write_csv_atomic(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` to ``path``: built beside it, renamed into place (a symbolic link at
    ``path`` is replaced, never written through; capacity.runfolder.atomic_files)."""
    p = Path(path)
    with atomic_files(p.parent, "csv") as tmp:
        df.to_csv(tmp / p.name, index=False, lineterminator="\n")
    return p
