"""Classes, rooms, teachers and shrinking schools, from pupils by grade (docs/outputs.md).

Classes are formed per grade: :func:`classes_needed` is the one place a count of pupils
becomes classes (⌈pupils ÷ class size⌉, summed over grades by the callers); budgets and
recommendations use it too. Teachers follow the stage's staffing standard
(``pupils_per_teacher``, else ``teachers_per_class``), posts to recruit follow the
district's teachers and ``[staffing] attrition``.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from .demand import largest_remainder

#: Pupils that round away (a float sum of 90.0000000001 pupils is 2 classes of 45, not 3).
TOLERANCE = 1e-9

KEYS = ["school_id", "year", "stage", "mode"]


def classes_needed(pupils: Any, class_size: Any) -> np.ndarray:
    """Whole classes for ``pupils`` of ONE grade: ⌈pupils ÷ class_size⌉ (0 for none)."""
    p = np.maximum(np.asarray(pupils, float), 0.0)
    return np.ceil(p / np.asarray(class_size, float) - TOLERANCE).clip(min=0)


def grade_classes(pupils_by_grade: np.ndarray, class_size: Any) -> np.ndarray:
    """Classes of a stage: Σ over the last axis (grades) of :func:`classes_needed`."""
    return classes_needed(pupils_by_grade, np.asarray(class_size, float)[..., None]
                          if np.ndim(class_size) else class_size).sum(axis=-1)


class GradeMix:
    """Each zone's grade shares per (zone_id, stage, year), from zone_grades.csv (built once,
    asked many times by :func:`shortfall_classes`)."""

    def __init__(self, zone_grades: pd.DataFrame | None) -> None:
        self.index: pd.MultiIndex | None = None
        if zone_grades is None or zone_grades.empty:
            return
        wide = zone_grades.pivot_table(index=["zone_id", "stage", "year"], columns="grade",
                                       values="pupils", aggfunc="sum", fill_value=0.0)
        total = wide.sum(axis=1).to_numpy()[:, None]
        self.index, self.total = wide.index, total[:, 0]
        self.shares = np.divide(wide.to_numpy(), total, out=np.zeros(wide.shape),
                                where=total > 0)

    def rows(self, keys: pd.DataFrame) -> np.ndarray:
        """Row of each key's (zone_id, stage, year) in :attr:`shares`; −1 when unknown."""
        if self.index is None:
            return np.full(len(keys), -1)
        at = self.index.get_indexer(pd.MultiIndex.from_arrays(
            [keys["zone_id"].astype(str).to_numpy(object),
             keys["stage"].astype(str).to_numpy(object),
             keys["year"].astype(self.index.levels[2].dtype).to_numpy()]))
        return np.where((at >= 0) & (self.total[np.maximum(at, 0)] > 0), at, -1)


def shortfall_classes(mix: "GradeMix | pd.DataFrame | None", keys: pd.DataFrame,
                      class_size: Any) -> np.ndarray:
    """Classes for ``keys``' pupils (columns zone_id, stage, year, pupils: e.g. a zone's
    peak shortfall), formed per grade: the pupils are split among the grades by the zone's
    grade mix that year (zone_grades.csv, or its :class:`GradeMix`), in whole pupils
    (largest remainder), then Σ ⌈pupils_g ÷ class_size⌉. One grade where the mix is not
    known."""
    mix = mix if isinstance(mix, GradeMix) else GradeMix(mix)
    pupils = np.maximum(keys["pupils"].to_numpy(float), 0)
    size = np.broadcast_to(np.asarray(class_size, float), pupils.shape)
    out = classes_needed(pupils, size)
    at = mix.rows(keys)
    known = at >= 0
    if known.any():
        split = pupils[known, None] * mix.shares[at[known]]
        whole = largest_remainder(split, np.zeros(split.shape[1], np.int64), 1)
        out[known] = classes_needed(whole, size[known, None]).sum(axis=1)
    return out


def _setting(stages: Mapping[str, Mapping[str, Any]], stage: pd.Series, key: str) -> pd.Series:
    """A stage setting for each row (NaN where the stage or the setting is absent)."""
    values = np.array([np.nan if d.get(key) is None else float(d[key])
                       for d in stages.values()] + [np.nan])
    at = pd.Index(list(stages)).get_indexer(stage.to_numpy(object))
    return pd.Series(values[at], index=stage.index)


def intake_table(grades: pd.DataFrame, stages: Mapping[str, Mapping[str, Any]]
                 ) -> pd.DataFrame:
    """intake.csv: school_id, stage, year, mode, entrants (grade 1), classes_to_open."""
    g = grades[grades["grade"] == 1]
    out = g[["school_id", "stage", "year", "mode"]].copy()
    out["entrants"] = g["pupils"].to_numpy()
    out["classes_to_open"] = classes_needed(
        out["entrants"], _setting(stages, out["stage"], "class_size")).astype(np.int64)
    return out.reset_index(drop=True)


def teachers_table(grades: pd.DataFrame, schools: pd.DataFrame,
                   stages: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """teachers.csv per school, stage, year and mode: pupils, classes (per grade), rooms
    (places ÷ class size), rooms_short (classes beyond rooms), teachers."""
    size = _setting(stages, grades["stage"], "class_size")
    g = grades.assign(classes=classes_needed(grades["pupils"], size))
    out = g.groupby(KEYS, as_index=False, sort=False)[["pupils", "classes"]].sum()
    out = schools[KEYS + ["places"]].merge(out, on=KEYS, how="left")
    out[["pupils", "classes"]] = out[["pupils", "classes"]].fillna(0)
    size = _setting(stages, out["stage"], "class_size")
    out["rooms"] = np.floor(out["places"] / size + TOLERANCE)
    out["rooms_short"] = np.maximum(out["classes"] - out["rooms"], 0)
    out["teachers"] = teachers_needed(out["pupils"], out["classes"],
                                      _setting(stages, out["stage"], "pupils_per_teacher"),
                                      _setting(stages, out["stage"], "teachers_per_class"))
    ints = ["pupils", "classes", "rooms", "rooms_short"]
    out[ints] = out[ints].astype(np.int64)
    return out[["school_id", "stage", "year", "mode", "pupils", "classes", "rooms",
                "rooms_short", "teachers"]]


def teachers_needed(pupils: pd.Series, classes: pd.Series, per_teacher: pd.Series,
                    per_class: pd.Series) -> pd.Series:
    """Teacher posts of one school: ⌈pupils ÷ pupils_per_teacher⌉, else
    ⌈classes × teachers_per_class⌉, else empty (no standard given)."""
    by_pupils = np.ceil(pupils / per_teacher - TOLERANCE)
    by_classes = np.ceil(classes * per_class - TOLERANCE)
    return by_pupils.fillna(by_classes).astype("Int64")


def staffing_table(teachers: pd.DataFrame, attrition: float, salary: float) -> pd.DataFrame:
    """staffing.csv per stage, year and mode (district): pupils, classes, rooms_short,
    teachers, posts_to_recruit = max(0, teachers − (1 − attrition) × last year's
    teachers) (empty in the first year), salary_cny = teachers × salary (empty when 0)."""
    cols = ["pupils", "classes", "rooms_short", "teachers"]
    d = (teachers.groupby(["stage", "mode", "year"], sort=False, as_index=False)[cols]
         .sum(min_count=1).sort_values(["stage", "mode", "year"], kind="stable"))
    t = d["teachers"].astype(float)
    prev = t.groupby([d["stage"], d["mode"]]).shift(1)
    d["posts_to_recruit"] = np.ceil(np.maximum(t - (1 - attrition) * prev, 0)
                                    - TOLERANCE).astype("Int64")
    d["salary_cny"] = t * salary if salary > 0 else np.nan
    return d[["stage", "year", "mode", *cols, "posts_to_recruit", "salary_cny"]] \
        .reset_index(drop=True)


def shrinking_table(intake: pd.DataFrame, schools: pd.DataFrame,
                    stages: Mapping[str, Mapping[str, Any]], intake_below_classes: float,
                    use_below: float, years: int) -> pd.DataFrame:
    """shrinking.csv: school_id, stage, mode, reason (intake | use), first_year,
    last_year, n_years, years (e.g. "2030-2033, 2035"). Intake: entrants below
    ``intake_below_classes`` full classes in a year; use: utilisation below
    ``use_below`` in runs of at least ``years`` consecutive years."""
    s = schools[KEYS + ["utilisation"]].merge(
        intake[KEYS + ["entrants"]], on=KEYS, how="left").fillna({"entrants": 0})
    s = s.sort_values(["school_id", "stage", "mode", "year"], kind="stable")
    size = _setting(stages, s["stage"], "class_size")
    low_use = s["utilisation"] < use_below
    key = s.groupby(["school_id", "stage", "mode"], sort=False).ngroup()
    run_id = (low_use.ne(low_use.shift()) | key.ne(key.shift()) |
              s["year"].diff().ne(1)).cumsum()
    run_len = low_use.groupby(run_id).transform("sum")
    flags = {"intake": s["entrants"] < intake_below_classes * size,
             "use": low_use & (run_len >= years)}
    parts = [s.loc[f, ["school_id", "stage", "mode", "year"]].assign(reason=r)
             for r, f in flags.items()]
    f = pd.concat(parts, ignore_index=True)
    cols = ["school_id", "stage", "mode", "reason", "first_year", "last_year", "n_years",
            "years"]
    if f.empty:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c.endswith("year") or c == "n_years"
                                          else "string") for c in cols})
    out = f.groupby(["school_id", "stage", "mode", "reason"], as_index=False, sort=False) \
        .agg(first_year=("year", "min"), last_year=("year", "max"), n_years=("year", "size"),
             years=("year", year_spans))
    return out[cols]


def year_spans(years: pd.Series) -> str:
    """Sorted years as spans: [2030, 2031, 2032, 2035] → "2030-2032, 2035"."""
    y = np.sort(years.to_numpy())
    breaks = np.flatnonzero(np.diff(y) != 1)
    starts, ends = y[np.r_[0, breaks + 1]], y[np.r_[breaks, len(y) - 1]]
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in zip(starts, ends))


def staffing_tables(tables: Mapping[str, pd.DataFrame], model: Any
                    ) -> dict[str, pd.DataFrame]:
    """intake, teachers, staffing and shrinking from a run's grades and schools tables."""
    stages = {k: s.as_dict() for k, s in model.stages.items()}
    st = model.settings
    intake = intake_table(tables["grades"], stages)
    teachers = teachers_table(tables["grades"], tables["schools"], stages)
    return {"intake": intake, "teachers": teachers,
            "staffing": staffing_table(teachers, st["staffing.attrition"],
                                       st["staffing.salary_per_teacher_year"]),
            "shrinking": shrinking_table(intake, tables["schools"], stages,
                                         st["shrinking.intake_below_classes"],
                                         st["shrinking.use_below"], st["shrinking.years"])}
