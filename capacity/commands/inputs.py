"""Small readers shared by the demography commands: CSV files, life tables, births, targets.
Every error is an :class:`InputError` naming the file, row (header = 1) and column."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from capacity.demography.lifetable import sx_from_Lx, sx_from_mx, sx_from_qx
from capacity.errors import InputError
from capacity.runfolder import atomic_files

__all__ = ["read_csv", "read_life_table", "read_births", "read_targets", "numeric",
           "write_csv_atomic"]


def read_csv(path: str | Path) -> pd.DataFrame:
    """A CSV file, or an InputError naming it."""
    p = Path(path)
    if not p.is_file():
        raise InputError.single(str(path), "file not found", expected="an existing CSV file")
    try:
        df = pd.read_csv(p)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError.single(str(path), f"cannot read CSV: {str(exc).splitlines()[0]}",
                                expected="a UTF-8 CSV with a header row") from None
    if df.empty:
        raise InputError.single(str(path), "no rows", row=2, expected="at least one data row")
    return df


def numeric(df: pd.DataFrame, col: str, file: str, *, lo: float | None = None,
            hi: float | None = None, what: str = "a number") -> np.ndarray:
    """Column ``col`` as floats; the first missing or out-of-range value is an error."""
    if col not in df.columns:
        raise InputError.single(file, f"missing column {col!r}", row=1, column=col,
                                expected="columns " + ", ".join(df.columns.astype(str)) +
                                f" and {col}")
    v = pd.to_numeric(df[col], errors="coerce").to_numpy(float)
    bad = ~np.isfinite(v)
    if lo is not None:
        bad |= v < lo
    if hi is not None:
        bad |= v > hi
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError.single(file, f"{col} {df[col].iloc[i]!r} is not {what}", row=i + 2,
                                column=col, expected=what)
    return v


def read_life_table(path: str | Path, open_age: int | None = None) -> np.ndarray:
    """(2, A) UN-convention ``sx`` from a CSV with sex (F/M), age and one of sx, mx, qx, Lx
    (as a model's mortality.csv)."""
    file = str(path)
    df = read_csv(path)
    kind = next((k for k in ("sx", "mx", "qx", "Lx") if k in df.columns), None)
    if kind is None or "sex" not in df.columns or "age" not in df.columns:
        raise InputError.single(file, "a life table needs columns sex, age and one of sx, mx, "
                                "qx, Lx", row=1, column="sex",
                                expected="sex,age,sx (or mx/qx/Lx)")
    sex = df["sex"].astype(str).str.upper().map({"F": 0, "M": 1})
    if sex.isna().any():
        i = int(np.flatnonzero(sex.isna().to_numpy())[0])
        raise InputError.single(file, f"unknown sex {df['sex'].iloc[i]!r}", row=i + 2,
                                column="sex", expected="F or M")
    age = numeric(df, "age", file, lo=0, what="a whole age ≥ 0").astype(int)
    val = numeric(df, kind, file, lo=0, what=f"a {kind} value ≥ 0")
    w = int(age.max()) if open_age is None else int(open_age)
    for s, name in enumerate("FM"):
        got = set(age[sex.to_numpy() == s])
        if got != set(range(w + 1)):
            missing = sorted(set(range(w + 1)) - got)
            raise InputError.single(file, f"sex {name}: ages {missing[:5]} missing" if missing
                                    else f"sex {name}: ages above {w}", column="age",
                                    expected=f"one row per sex and age 0..{w}")
    arr = np.zeros((2, w + 1))
    arr[sex.to_numpy(int), age] = val
    if kind == "sx":
        return arr
    return {"mx": sx_from_mx, "qx": sx_from_qx, "Lx": sx_from_Lx}[kind](arr, open_age=w)


def read_births(path: str | Path) -> dict[int, float]:
    """{year: births} from a CSV with year and births (rows with sex are summed)."""
    file = str(path)
    df = read_csv(path)
    year = numeric(df, "year", file, what="a year")
    col = "births" if "births" in df.columns else "value"
    b = numeric(df, col, file, lo=0, what="a number of births ≥ 0")
    out: dict[int, float] = {}
    for y, v in zip(year.astype(int), b):
        out[int(y)] = out.get(int(y), 0.0) + float(v)
    return out


def read_targets(path: str | Path) -> tuple[dict[float, float], dict[float, float]]:
    """({year: total}, {year: weight}) from a CSV with year (fractional allowed: model years
    from the census date, e.g. 31 Dec 2023 = 2023 + 2/12), total and optional weight."""
    file = str(path)
    df = read_csv(path)
    year = numeric(df, "year", file, what="a (fractional) model year")
    total = numeric(df, "total", file, lo=1, what="a population total > 0")
    weight = numeric(df, "weight", file, lo=0, what="a weight ≥ 0") if "weight" in df.columns \
        else np.ones(len(df))
    dup = pd.Series(year).duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError.single(file, f"year {year[i]:g} given twice", row=i + 2,
                                column="year", expected="one row per year")
    return dict(zip(year.tolist(), total.tolist())), dict(zip(year.tolist(), weight.tolist()))


def write_csv_atomic(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` to ``path``: built beside it, renamed into place (a symbolic link at
    ``path`` is replaced, never written through; capacity.runfolder.atomic_files)."""
    p = Path(path)
    with atomic_files(p.parent, "csv") as tmp:
        df.to_csv(tmp / p.name, index=False, lineterminator="\n")
    return p
