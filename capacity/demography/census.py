"""Census tables by sex × age: reading, age groups, regrouping and graduation to single ages.

A census table is a DataFrame with a ``sex`` column (F/M, female/male, case-insensitive), a
count column (``population``, ``count`` or ``value``), an optional ``year`` or
``census_year`` column and the ages in one of three forms; the form decides how the age
groups are detected:

* ``age_from`` and ``age_to`` (``age_to`` empty for the open group), as in the census
  tabulations ``district_age_structure.csv``;
* ``age_group`` (or a non-numeric ``age``) with labels ``"0"``, ``"1-4"``, ``"85+"``;
* a numeric ``age``: single years of age, the last (highest) age being the open group ω+
  (as in a model's ``population.csv``).

The groups must run from age 0 without gaps or overlaps and end in exactly one open group;
both sexes must have the same groups.  A table is "single ages" when every closed group is
one year wide.  Graduation to single ages (:meth:`Census.to_single`) interpolates the
cumulative count at the group boundaries with a monotone cubic (PCHIP, Fritsch–Carlson), so
every single age is ≥ 0 and every group total is kept exactly, and splits the open group
over ages ``open_age..ω`` in proportion to the stationary population of the life table
implied by ``sx`` (``L_a`` for a < ω, ``T_ω`` for ω; see :func:`stationary`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from capacity.errors import InputError

__all__ = ["AgeGroups", "Census", "read_census", "census_frame", "stationary"]

SEXES = ("F", "M")
_SEX_CODES = {"f": 0, "female": 0, "m": 1, "male": 1}
_LABEL = re.compile(r"^\s*(\d+)\s*(?:(\+)|-\s*(\d+))?\s*$")


@dataclass(frozen=True)
class AgeGroups:
    """Contiguous age groups from 0: ``starts`` are the first ages; the last group is open."""

    starts: tuple[int, ...]

    @property
    def open_age(self) -> int:
        return self.starts[-1]

    @property
    def n(self) -> int:
        return len(self.starts)

    @property
    def single(self) -> bool:
        return all(b - a == 1 for a, b in zip(self.starts[:-1], self.starts[1:]))

    @property
    def ends(self) -> list[int | None]:
        """Last age of each group (inclusive); None for the open group."""
        return [b - 1 for b in self.starts[1:]] + [None]

    @property
    def labels(self) -> list[str]:
        return [f"{a}+" if e is None else (str(a) if e == a else f"{a}-{e}")
                for a, e in zip(self.starts, self.ends)]

    def matrix(self, A: int) -> np.ndarray:
        """(G, A) 0/1 matrix summing single ages 0..A-1 (A-1 = ω+) into the groups."""
        assert self.open_age <= A - 1, "open group starts above the model's open age"
        idx = np.searchsorted(np.asarray(self.starts), np.arange(A), side="right") - 1
        out = np.zeros((self.n, A))
        out[idx, np.arange(A)] = 1.0
        return out


@dataclass
class Census:
    """Counts (2, G) by sex (0 = F, 1 = M) and age group."""

    groups: AgeGroups
    counts: np.ndarray
    year: int | None = None
    file: str = "census"

    def conform(self, A: int) -> "Census":
        """Merge the groups at and above the model's open age ω = A-1 into one open group."""
        w = A - 1
        if self.groups.open_age <= w:
            return self
        if w not in self.groups.starts:
            raise InputError.single(self.file, f"no age group starts at the model's open age "
                                    f"{w}", column="age",
                                    expected=f"a group boundary at age {w}")
        k = self.groups.starts.index(w)
        counts = np.concatenate([self.counts[:, :k], self.counts[:, k:].sum(1, keepdims=True)],
                                axis=1)
        return Census(AgeGroups(self.groups.starts[:k + 1]), counts, self.year, self.file)

    def regroup(self, starts: tuple[int, ...] | list[int]) -> "Census":
        """Sum into coarser groups whose boundaries are among this census's boundaries."""
        starts = tuple(int(s) for s in starts)
        missing = [s for s in starts if s not in self.groups.starts]
        if missing or starts[0] != 0:
            raise InputError.single(self.file, f"cannot regroup ages {self.groups.labels} "
                                    f"at boundaries {list(starts)}", column="age",
                                    expected="boundaries among the table's group starts")
        idx = np.searchsorted(np.asarray(starts), np.asarray(self.groups.starts),
                              side="right") - 1
        out = np.zeros((2, len(starts)))
        np.add.at(out, (slice(None), idx), self.counts)
        return Census(AgeGroups(starts), out, self.year, self.file)

    def aggregate(self, single: np.ndarray) -> np.ndarray:
        """Group single-age counts (..., A) into this census's groups: (..., G)."""
        single = np.asarray(single, dtype=float)
        return single @ self.groups.matrix(single.shape[-1]).T

    def to_single(self, sx: np.ndarray) -> np.ndarray:
        """(2, A) single-age counts (A = sx.shape[-1]); groups kept exactly (module doc)."""
        sx = np.asarray(sx, dtype=float)
        A = sx.shape[-1]
        c = self.conform(A)
        g, w = c.groups, A - 1
        out = np.zeros((2, A))
        s = np.asarray(g.starts)
        if g.n > 2:
            cum = np.concatenate([np.zeros((2, 1)), np.cumsum(c.counts[:, :-1], axis=1)], 1)
            ages = np.arange(g.open_age + 1)
            from scipy.interpolate import PchipInterpolator   # here: slow to import, rarely used

            out[:, :g.open_age] = np.diff(PchipInterpolator(s, cum, axis=1)(ages), axis=1)
        elif g.n == 2:
            out[:, :g.open_age] = c.counts[:, :1] / g.open_age
        width1 = np.flatnonzero(np.diff(s) == 1)
        out[:, s[width1]] = c.counts[:, width1]  # exact where groups are single ages
        weights = stationary(sx)[:, g.open_age:]
        weights = np.where(weights.sum(1, keepdims=True) > 0, weights, 1.0)  # nobody alive
        out[:, g.open_age:] = c.counts[:, -1:] * weights / weights.sum(1, keepdims=True)
        return np.maximum(out, 0.0)


def stationary(sx: np.ndarray) -> np.ndarray:
    """Stationary population implied by UN-convention ``sx`` (..., A), radix 1: ``L_0 = sx_0``,
    ``L_a = L_{a-1} sx_a`` (a < ω), open group ``T_ω = sx_ω L_{ω-1} / (1 − sx_ω)``."""
    sx = np.asarray(sx, dtype=float)
    L = np.cumprod(sx[..., :-1], axis=-1)
    top = sx[..., -1]
    with np.errstate(divide="ignore", invalid="ignore"):
        t_open = np.where(top < 1.0, top * L[..., -1] / (1.0 - top), L[..., -1])
    return np.concatenate([L, t_open[..., None]], axis=-1)


def _ages(df: pd.DataFrame, file: str, lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group start and end (inclusive; -1 = open) per row."""
    if "age_from" in df.columns:
        lo = pd.to_numeric(df["age_from"], errors="coerce")
        hi = pd.to_numeric(df["age_to"], errors="coerce") if "age_to" in df.columns \
            else pd.Series(np.nan, index=df.index)
        bad = lo.isna() | (lo < 0) | (lo % 1 != 0) | (hi.notna() & ((hi < lo) | (hi % 1 != 0)))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            col = "age_from" if lo.isna().iloc[i] or lo.iloc[i] < 0 or lo.iloc[i] % 1 \
                else "age_to"
            raise InputError.single(file, "bad age group", row=int(lines[i]), column=col,
                                    expected="whole ages, age_to ≥ age_from or empty (open)")
        return lo.to_numpy(int), hi.fillna(-1).to_numpy(int)
    col = "age_group" if "age_group" in df.columns else "age"
    if col not in df.columns:
        raise InputError.single(file, "no age column", row=1, column="age",
                                expected="age, age_group or age_from/age_to")
    numbers = pd.to_numeric(df[col], errors="coerce") if col == "age" else None
    if numbers is not None and numbers.notna().all():
        age = numbers.to_numpy(float)
        if (age < 0).any() or (age % 1 != 0).any():
            i = int(np.flatnonzero((age < 0) | (age % 1 != 0))[0])
            raise InputError.single(file, "bad age", row=int(lines[i]), column="age",
                                    expected="a whole number ≥ 0")
        age = age.astype(int)
        return age, np.where(age == age.max(), -1, age)  # the last age is the open group
    lo, hi = [], []
    for i, label in enumerate(df[col].astype(str)):
        m = _LABEL.match(label)
        if not m or (m.group(3) and int(m.group(3)) < int(m.group(1))):
            raise InputError.single(file, f"bad age group {label!r}", row=int(lines[i]),
                                    column=col, expected='"a", "a-b" or "a+"')
        lo.append(int(m.group(1)))
        hi.append(-1 if m.group(2) else int(m.group(3) or m.group(1)))
    return np.array(lo, int), np.array(hi, int)


def _label(a: int, e: int) -> str:
    return f"{a}+" if e < 0 else (str(a) if e == a else f"{a}-{e}")


def _group_problem(a: np.ndarray, e: np.ndarray, rows: np.ndarray
                   ) -> tuple[int, str] | None:
    """The first structural problem of one sex's groups (sorted by start), with the line
    of the row it concerns; None when they run from 0 without gaps or overlaps and end in
    exactly one open group."""
    if a[0] != 0:
        return int(rows[0]), f"the first group is {_label(a[0], e[0])}, not from age 0"
    for k in range(1, len(a)):
        prev, here = _label(a[k - 1], e[k - 1]), _label(a[k], e[k])
        if a[k] == a[k - 1] and e[k] == e[k - 1]:
            return int(rows[k]), f"group {here} given twice (first at line {int(rows[k - 1])})"
        if e[k - 1] < 0:
            return int(rows[k - 1]), f"the open group {prev} is not the last " \
                                     f"(line {int(rows[k])} has {here})"
        if a[k] <= e[k - 1]:
            return int(rows[k]), f"group {here} overlaps {prev} (line {int(rows[k - 1])})"
        if a[k] > e[k - 1] + 1:
            gap = _label(e[k - 1] + 1, a[k] - 1)
            verb = "ages {} are" if "-" in gap else "age {} is"
            return int(rows[k]), f"{verb.format(gap)} in no group (between {prev} and {here})"
    if e[-1] >= 0:
        return int(rows[-1]), f"the last group {_label(a[-1], e[-1])} is not open"
    return None


def read_census(table: pd.DataFrame | Census, *, file: str = "census",
                year: int | None = None) -> Census:
    """Parse a census table (module doc) into a :class:`Census`; errors name ``file`` and
    the row: the frame's index when it holds the file's lines (``index.name == "line"``,
    as ``capacity.commands.inputs.read_csv`` gives), else the position (+ 2)."""
    if isinstance(table, Census):
        c = Census(table.groups, np.asarray(table.counts, float), table.year, file)
        return _with_year(c, year)
    lines = table.index.to_numpy(int) if table.index.name == "line" \
        else np.arange(len(table)) + 2
    df = table.reset_index(drop=True)
    if not len(df):
        raise InputError.single(file, "no data rows", row=2, expected="rows for F and M")
    if "sex" not in df.columns:
        raise InputError.single(file, "no sex column", row=1, column="sex",
                                expected="F and M rows")
    sex = df["sex"].astype(str).str.strip().str.lower().map(_SEX_CODES)
    if sex.isna().any():
        i = int(np.flatnonzero(sex.isna().to_numpy())[0])
        raise InputError.single(file, f"unknown sex {df['sex'].iloc[i]!r}", row=int(lines[i]),
                                column="sex", expected="F/M or female/male")
    for s, name in enumerate(SEXES):
        if not (sex == s).any():
            raise InputError.single(file, f"sex {name} is missing: every row is "
                                    f"{SEXES[1 - s]}", row=int(lines[0]), column="sex",
                                    expected="rows for both F and M")
    count_col = next((c for c in ("population", "count", "value") if c in df.columns), None)
    if count_col is None:
        raise InputError.single(file, "no count column", row=1, column="population",
                                expected="population, count or value")
    counts = pd.to_numeric(df[count_col], errors="coerce")
    bad = counts.isna() | (counts < 0) | ~np.isfinite(counts.fillna(0))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError.single(file, "count missing or negative", row=int(lines[i]),
                                column=count_col, expected="a number ≥ 0")
    lo, hi = _ages(df, file, lines)
    year_col = next((c for c in ("year", "census_year") if c in df.columns), None)
    found = None
    if year_col is not None:
        yrs = pd.to_numeric(df[year_col], errors="coerce")
        other = yrs.isna() | (yrs != yrs.iloc[0])
        if other.any():
            i = int(np.flatnonzero(other.to_numpy())[0])
            shown = [f"{v:g}" if isinstance(v, (int, float, np.number)) else repr(v)
                     for v in (df[year_col].iloc[i], df[year_col].iloc[0])]
            raise InputError.single(file, f"year {shown[0]} differs from the first row's "
                                    f"{shown[1]}",
                                    row=int(lines[i]), column=year_col,
                                    expected="one census year in every row")
        found = int(yrs.iloc[0])
    starts_by_sex = []
    for s in range(2):
        rows = np.flatnonzero(sex.to_numpy() == s)
        order = rows[np.lexsort((hi[rows], lo[rows]))]
        a, e = lo[order], hi[order]
        wrong = _group_problem(a, e, lines[order])
        if wrong:
            raise InputError.single(file, f"age groups of sex {SEXES[s]} are not contiguous: "
                                    f"{wrong[1]}", row=wrong[0], column=_age_column(df),
                                    expected="groups from age 0, no gaps or overlaps, "
                                    "one open group (e.g. 85+) last")
        starts_by_sex.append((tuple(int(x) for x in a), counts.to_numpy(float)[order],
                              lines[order]))
    (f_starts, _, f_lines), (m_starts, _, m_lines) = starts_by_sex
    if f_starts != m_starts:
        k = next((k for k, (a, b) in enumerate(zip(f_starts, m_starts)) if a != b),
                 min(len(f_starts), len(m_starts)) - 1)
        raise InputError.single(file, f"F and M have different age groups (F line "
                                f"{int(f_lines[k])} starts at {f_starts[k]}, M at "
                                f"{m_starts[k]})", row=int(m_lines[k]), column=_age_column(df),
                                expected="the same groups for both sexes")
    c = Census(AgeGroups(starts_by_sex[0][0]),
               np.stack([starts_by_sex[0][1], starts_by_sex[1][1]]), found, file)
    return _with_year(c, year)


def _age_column(df: pd.DataFrame) -> str:
    return next(c for c in ("age_from", "age_group", "age") if c in df.columns)


def _with_year(c: Census, year: int | None) -> Census:
    if year is not None and c.year is not None and int(year) != c.year:
        raise InputError.single(c.file, f"census year {c.year} in the table but {year} given",
                                column="year", expected=f"{year}")
    if year is not None:
        c.year = int(year)
    return c


def census_frame(counts: np.ndarray, groups: AgeGroups | None = None,
                 year: int | None = None) -> pd.DataFrame:
    """Census table (sex, age_from, age_to, population[, year]) from counts (2, G); without
    ``groups`` the counts are single ages 0..ω with ω+ open."""
    counts = np.asarray(counts, dtype=float)
    G = counts.shape[1]
    groups = groups or AgeGroups(tuple(range(G)))
    ends = pd.array(groups.ends, dtype="Int64")
    df = pd.DataFrame({"sex": np.repeat(SEXES, G), "age_from": np.tile(groups.starts, 2),
                       "age_to": pd.concat([pd.Series(ends)] * 2, ignore_index=True),
                       "population": counts.reshape(-1)})
    if year is not None:
        df.insert(0, "year", int(year))
    return df
