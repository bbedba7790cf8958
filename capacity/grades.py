"""Single-year ages → grades, and pupils by school × grade and zone × grade (docs/outputs.md).

The rule (docs/outputs.md, "Grades"): the population's completed ages are counted at the
reference date R (``[school_year] reference_date``); grade g (1 = entry grade) of a stage
entering at age E holds the children whose completed age at the cut-off date C of the same
calendar year (``[school_year] cutoff``, end of that day) is E + g − 1. With births even over
the year, f = (R − C) ÷ 365 days:

- R after C (f ≥ 0): of age a at R, a share 1 − f was already a at C, f was a − 1, so
  grade g = (1 − f)·P[E+g−1] + f·P[E+g];
- R before C (f < 0, h = −f): a share h turns a + 1 by C, so
  grade g = (1 − h)·P[E+g−1] + h·P[E+g−2].

Pupils of a stage are split among its grades by these children's shares, zone by zone (a
demand unit's age mix is its zone's), and through the allocation's own flows school by
school, so it works for any allocation mode; school counts are whole pupils rounded by
largest remainder within each school, so grade sums equal the stage totals exactly.
"""
from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .demand import largest_remainder
from .model.settings import month_day
from .registry import POST_STEPS
from .stages import stage_grades

if TYPE_CHECKING:
    from .model import Model, Stage
    from .state import RunState


def year_fraction(reference: str, cutoff: str) -> float:
    """f = (R − C) ÷ 365 with C the end of the cut-off day: in (−1, 1), days of a
    non-leap year ("11-01" and "08-31": 61/365)."""
    def day(md: str) -> int:
        m, d = month_day(md)
        return datetime.date(2001, m, d).timetuple().tm_yday

    return (day(reference) - (day(cutoff) + 1)) / 365.0


def grade_weights(stage: "Stage", f: float, n_ages: int) -> np.ndarray:
    """(G, A) weights: children of grade g = Σ_a W[g, a] · P[a] (module docstring rule)."""
    first = stage.ages[0]
    G = stage_grades(stage)
    W = np.zeros((G, n_ages))
    g = np.arange(G)
    own = first + g
    other = own + 1 if f >= 0 else own - 1
    share = abs(f)
    ok = (other >= 0) & (other < n_ages)
    W[g, np.minimum(own, n_ages - 1)] += 1 - share
    W[g[ok], other[ok]] += share
    return W


def grade_shares(population: np.ndarray, model: "Model") -> dict[str, np.ndarray]:
    """Per stage, (Y, Z, G) shares of each grade among the stage's grades (each zone-year
    sums to 1; equal shares where no child lives). ``population`` is (Y, Z, 2, A)."""
    both = population.sum(axis=2)
    f = year_fraction(model.settings["school_year.reference_date"],
                      model.settings["school_year.cutoff"])
    out = {}
    for name, stage in model.stages.items():
        kids = both @ grade_weights(stage, f, both.shape[-1]).T        # (Y, Z, G)
        total = kids.sum(axis=-1, keepdims=True)
        G = kids.shape[-1]
        out[name] = np.divide(kids, total, out=np.full_like(kids, 1.0 / G), where=total > 0)
    return out


def zone_grades_table(state: "RunState", shares: dict[str, np.ndarray]) -> pd.DataFrame:
    """zone_grades.csv: zone_id, year, stage, grade, pupils (expected, as demand.csv)."""
    zone_ids = np.array(state.model.zone_ids, dtype=object)
    parts = []
    for k, (stage, s) in enumerate(shares.items()):
        Y, Z, G = s.shape
        pupils = state.zone_pupils[:, :, k, None] * s
        parts.append(pd.DataFrame({
            "zone_id": np.repeat(np.tile(zone_ids, Y), G),
            "year": np.repeat(state.years, Z * G), "stage": stage,
            "grade": np.tile(np.arange(1, G + 1), Y * Z), "pupils": pupils.ravel()}))
    return pd.concat(parts, ignore_index=True)


def split_by_grade(by_zone: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Whole pupils (S, G) of each school by grade: its pupils from each zone (S, Z) times
    the zone's grade shares (Z, G), rounded by largest remainder within each school, so each
    row sums to the school's (whole) pupils exactly."""
    return largest_remainder(by_zone @ shares, np.zeros(shares.shape[-1], np.int64), 1)


def school_grades_table(state: "RunState", shares: dict[str, np.ndarray]) -> pd.DataFrame:
    """grades.csv: school_id, year, stage, mode, grade, pupils (whole; each school's grades
    sum to its pupils in schools.csv). Every allocation mode, from its flows."""
    site_ids = state.supply.sites["school_id"].to_numpy(object)
    zone_of_unit = state.units["zone"].to_numpy()
    Z = len(state.model.zones)
    cols: dict[str, list] = {c: [] for c in ("site", "year", "stage", "mode", "grade",
                                             "pupils")}
    for (stage, mode), per_year in state.allocations.items():
        sel = np.flatnonzero(state.site_mask(stage))
        G = shares[stage].shape[-1]
        for y, a in enumerate(per_year):
            by_zone = np.bincount(a.school * Z + zone_of_unit[a.unit], weights=a.pupils,
                                  minlength=sel.size * Z).reshape(sel.size, Z)
            whole = split_by_grade(by_zone, shares[stage][y])
            site, grade = np.nonzero(np.repeat(by_zone.sum(axis=1) > 0, G).reshape(-1, G))
            n = site.size
            for key, value in (("site", sel[site]), ("year", np.full(n, state.years[y])),
                               ("stage", np.full(n, stage, object)),
                               ("mode", np.full(n, mode, object)), ("grade", grade + 1),
                               ("pupils", whole[site, grade])):
                cols[key].append(value)
    out = {k: np.concatenate(v) for k, v in cols.items()}
    return pd.DataFrame({"school_id": site_ids[out.pop("site")], **out})


@POST_STEPS.register("grades")
def grades(state: "RunState") -> None:
    """Post-step: ``grades`` and ``zone_grades``, then intake, teachers, staffing and
    shrinking (:mod:`capacity.staffing`) into ``state.tables``."""
    from .staffing import staffing_tables

    shares = grade_shares(state.projection.population, state.model)
    state.tables["zone_grades"] = zone_grades_table(state, shares)
    state.tables["grades"] = school_grades_table(state, shares)
    state.tables.update(staffing_tables(state.tables, state.model))
    observed = state.model.enrolment_by_grade
    if observed is not None and len(observed):
        from .progression import progression_table

        state.tables["progression"] = progression_table(
            observed, state.tables["zone_grades"], state.tables["grades"], state.scenario.mode)
