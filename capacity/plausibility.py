"""The plausibility post-step: is the run's population a forecast a demographer would sign?

``plausibility.csv`` (docs/plausibility.md) lists per projected year the district's implied
TFR, crude birth and death rates, births indexed to the first projected year beside the
model's anchors (``anchors.csv``: published figures of a country or region), women aged
20-39 and their change over ten years, and net migration by broad age band; rows carry the
range a check allows (``low``, ``high``) and its ``status``. Every value is computed from the
run (population, births, deaths) and the model's survival ratios and fertility schedule, so
it holds whatever produced the migration (counts, rates, housing). The thresholds are data:
``capacity/data/plausibility_thresholds.csv``. A value outside its range becomes one warning
per check in the manifest (``state.warnings``) and on the console.

The base-year calibration table (``calibration.csv``) is made by the same step:
:mod:`capacity.enrolment_check`.
"""
from __future__ import annotations

import csv
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .enrolment_check import calibration_table, calibration_warnings
from .plausibility_levels import (apply_level_checks, is_level_row, level_warnings,
                                  primary_growth_rows)
from .projection import survival
from .report.labels import area_label, text
from .registry import POST_STEPS

if TYPE_CHECKING:
    from .demography.ccm import Projection
    from .model import Model
    from .state import RunState

THRESHOLDS_FILE = Path(__file__).parent / "data" / "plausibility_thresholds.csv"
COLUMNS = ["year", "indicator", "value", "unit", "anchor", "anchor_source", "anchor_value",
           "low", "high", "status"]
#: Broad age bands of net migration (age at the end of the year; None = and over).
BANDS: tuple[tuple[int, int | None], ...] = ((0, 14), (15, 39), (40, 64), (65, None))
#: An anchor series' central value: the first of these variants present for the year (one
#: publication's series is not mixed with single reported figures).
CENTRAL = ("estimate", "medium", "reported")
UNITS = {"population": "persons", "births": "births", "births_index": "ratio",
         "tfr": "children per woman", "crude_birth_rate": "per 1000",
         "deaths_per_1000": "per 1000", "women_20_39": "persons",
         "women_20_39_change_10y": "share", "net_migration": "persons",
         "cohort_migration_min": "share per year"}
SEXES = ("women", "men")


@cache
def thresholds() -> dict[str, float]:
    """The thresholds of the checks, by name (``plausibility_thresholds.csv``)."""
    with THRESHOLDS_FILE.open(encoding="utf-8", newline="") as f:
        return {r["name"]: float(r["value"]) for r in csv.DictReader(f)}


def band_name(lo: int, hi: int | None) -> str:
    """``net_migration_15_39`` / ``net_migration_65_plus``."""
    return f"net_migration_{lo}_{hi}" if hi is not None else f"net_migration_{lo}_plus"


def fertility_shape(model: "Model") -> np.ndarray:
    """(A,) the district fertility schedule's age pattern, summing to 1 (the model's rows
    without zone_id; without such rows, the mean of all rows by age)."""
    f = model.fertility
    A = model.open_age + 1
    rows = f
    if "zone_id" in f.columns and f["zone_id"].isna().any():
        rows = f[f["zone_id"].isna()]
    shape = np.zeros(A)
    np.add.at(shape, rows["age"].to_numpy(int), rows["asfr"].to_numpy(float))
    return shape / shape.sum() if shape.sum() > 0 else shape


def cohort_residual(proj: "Projection", sx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """District net migration by sex and age at the end of each step, from the population
    alone: ``R = E − sx · C`` with ``C`` the cohort at the start (births of the year for age
    0, age a−1 for 0 < a < ω, ages ω−1 and ω for the open group). Returns ``(R, C)``, each
    (T, 2, A). Migrants are counted net of their own deaths within the year."""
    pop = proj.population.sum(axis=1)                 # (T+1, 2, A)
    start, end = pop[:-1], pop[1:]
    cohort = np.empty_like(start)
    cohort[..., 0] = proj.births.sum(axis=1)
    cohort[..., 1:] = start[..., :-1]
    cohort[..., -1] += start[..., -1]
    return end - np.broadcast_to(sx, cohort.shape) * cohort, cohort


def measures(proj: "Projection", years: np.ndarray, sx: np.ndarray, shape: np.ndarray,
             min_cohort: float = 100.0) -> tuple[pd.DataFrame, list[tuple[int, int] | None]]:
    """Per year (base year to horizon) the district measures of :data:`UNITS` and
    :data:`BANDS`; and per year the (sex, age at the end) of the cohort with the lowest
    migration rate (None in the base year or without a cohort of ``min_cohort``)."""
    pop = proj.population.sum(axis=1)                 # (Y, 2, A)
    total = pop.sum(axis=(1, 2))
    mid = (total[:-1] + total[1:]) / 2
    births = proj.births.sum(axis=(1, 2))
    deaths = proj.deaths.sum(axis=(1, 2))
    exposure = (pop[:-1, 0] + pop[1:, 0]) / 2         # (T, A) women, mean of start and end
    denom = exposure @ shape
    w2039 = pop[:, 0, 20:40].sum(axis=1)
    resid, cohort = cohort_residual(proj, sx)
    nan = np.full(1, np.nan)
    out = pd.DataFrame({"year": years.astype(int), "population": total})
    out["births"] = np.r_[nan, births]
    out["births_index"] = out["births"] / births[0] if len(births) and births[0] > 0 \
        else np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        out["tfr"] = np.r_[nan, np.where(denom > 0, births / denom, np.nan)]
        out["crude_birth_rate"] = np.r_[nan, 1000 * births / mid]
        out["deaths_per_1000"] = np.r_[nan, 1000 * deaths / mid]
    out["women_20_39"] = w2039
    change = np.full(len(years), np.nan)
    if len(years) > 10:
        with np.errstate(divide="ignore", invalid="ignore"):
            change[10:] = w2039[10:] / w2039[:-10] - 1
    out["women_20_39_change_10y"] = change
    out["net_migration"] = np.r_[nan, proj.migration.sum(axis=(1, 2))]
    A = resid.shape[-1]
    for lo, hi in BANDS:
        top = A if hi is None else min(hi + 1, A)
        out[band_name(lo, hi)] = np.r_[nan, resid[..., lo:top].sum(axis=(1, 2))]
    rate = np.full(resid.shape, np.inf)
    inner = (slice(None), slice(None), slice(1, A - 1))
    ok = cohort[inner] >= min_cohort
    rate[inner] = np.where(ok, resid[inner] / np.where(ok, cohort[inner], 1), np.inf)
    flat = rate.reshape(len(rate), -1)
    at = flat.argmin(axis=1)
    found = np.isfinite(flat[np.arange(len(flat)), at])
    lowest = np.r_[nan, np.where(found, flat[np.arange(len(flat)), at], np.nan)]
    worst: list[tuple[int, int] | None] = [None] + [
        (int(i // A), int(i % A)) if f else None for i, f in zip(at, found)]
    out["cohort_migration_min"] = lowest
    return out, worst


def central(anchors: pd.DataFrame | None, indicator: str) -> dict[str, pd.DataFrame]:
    """Per area the central series of ``indicator``: year → value, source (see
    :data:`CENTRAL`)."""
    if anchors is None or not len(anchors):
        return {}
    a = anchors[(anchors["indicator"] == indicator) & anchors["variant"].isin(CENTRAL)]
    a = a.assign(_rank=a["variant"].map({v: i for i, v in enumerate(CENTRAL)}))
    a = a.sort_values(["area", "year", "_rank"]).drop_duplicates(["area", "year"])
    return {str(area): g.set_index(g["year"].astype(int))[["value", "source"]]
            for area, g in a.groupby("area", sort=False)}


def tfr_interval(anchors: pd.DataFrame | None, area: str, percent: int
                 ) -> dict[int, tuple[float, float]]:
    """year → (lower ÷ central, upper ÷ central) of the area's TFR interval."""
    if anchors is None or not len(anchors):
        return {}
    mid = central(anchors, "tfr").get(area)
    a = anchors[(anchors["indicator"] == "tfr") & (anchors["area"] == area)]
    lo = a[a["variant"] == f"lower_{percent}"].set_index("year")["value"]
    hi = a[a["variant"] == f"upper_{percent}"].set_index("year")["value"]
    if mid is None:
        return {}
    return {int(y): (lo[y] / mid.at[y, "value"], hi[y] / mid.at[y, "value"])
            for y in lo.index.intersection(hi.index) if y in mid.index
            and mid.at[y, "value"] > 0}


def _status(value: float, low: float, high: float) -> str | None:
    if np.isnan(low) and np.isnan(high) or np.isnan(value):
        return None
    return "below" if value < low else "above" if value > high else "ok"


def plausibility_table(wide: pd.DataFrame, anchors: pd.DataFrame | None,
                       th: dict[str, float]) -> pd.DataFrame:
    """The long table of :data:`COLUMNS` from :func:`measures` and the anchors."""
    rows: list[dict] = []
    base = int(wide["year"].iloc[1]) if len(wide) > 1 else None
    anchored = {k: central(anchors, k) for k in ("births", "crude_birth_rate", "tfr")}
    intervals = {area: tfr_interval(anchors, area, int(th["births_index_interval"]))
                 for area in anchored["births"]}
    for col in wide.columns.drop("year"):
        indicator = col
        unit = UNITS.get(col, "persons")
        series = anchored.get("births" if col == "births_index" else col, {}) \
            if col in ("births_index", "crude_birth_rate", "tfr") else {}
        for year, value in zip(wide["year"].astype(int), wide[col]):
            if pd.isna(value):
                continue
            low, high = np.nan, np.nan
            if col == "crude_birth_rate":
                low, high = th["cbr_min"], th["cbr_max"]
            elif col == "women_20_39_change_10y":
                low = th["women_20_39_change_10y_min"]
            elif col == "cohort_migration_min":
                low = th["cohort_migration_min"]
            hits = []
            for area, s in series.items():
                if year not in s.index:
                    continue
                av = float(s.at[year, "value"])
                lo_, hi_ = low, high
                if col == "births_index":   # 1 by definition in the base year itself
                    if year == base or base not in s.index or s.at[base, "value"] <= 0:
                        continue
                    av = av / float(s.at[base, "value"])
                    ratio = intervals[area].get(year)
                    tol = th["births_index_tolerance"]
                    lo_, hi_ = (av * ratio[0], av * ratio[1]) if ratio else \
                        (av * (1 - tol), av * (1 + tol))
                hits.append((area, str(s.at[year, "source"]), av, lo_, hi_))
            if not hits:
                hits = [(None, None, np.nan, low, high)]
            for area, source, av, lo_, hi_ in hits:
                rows.append({"year": year, "indicator": indicator, "value": float(value),
                             "unit": unit, "anchor": area, "anchor_source": source,
                             "anchor_value": av, "low": lo_, "high": hi_,
                             "status": _status(float(value), lo_, hi_)})
    table = pd.DataFrame(rows, columns=COLUMNS)
    return apply_level_checks(table, wide, anchors, th)


def _years(years: list[int], lang: str = "en") -> str:
    """``2021`` / ``2021–2024`` / ``3 years between 2021 and 2024`` (zh: with 年)."""
    years = sorted(set(years))
    unit = "年" if lang == "zh" else ""
    if len(years) == 1:
        return f"{years[0]}{unit}"
    if years[-1] - years[0] + 1 == len(years):
        return f"{years[0]}–{years[-1]}{unit}"
    return text("plausibility_warnings", "years_between", lang, n=len(years), first=years[0],
                last=years[-1])


def plausibility_warnings(table: pd.DataFrame, worst: dict[int, tuple[int, int] | None],
                          th: dict[str, float]) -> list[str]:
    """One bilingual sentence ("English / 中文", text/<lang>.toml [plausibility_warnings])
    per failed check (indicator × anchor × direction); thresholds and the anchors' figures
    named, see docs/plausibility.md."""
    out: list[str] = []
    bad = table[table["status"].isin(["below", "above"]) & ~is_level_row(table)]
    for (ind, area, status), g in bad.groupby(["indicator", "anchor", "status"], sort=False,
                                              dropna=False):
        years = g["year"].astype(int).tolist()
        pick = g.loc[g["value"].idxmin() if status == "below" else g["value"].idxmax()]
        y = int(pick["year"])
        out.append(" / ".join(_warning(table, ind, area, status, years, pick, y, worst, th, lang)
                              for lang in ("en", "zh")))
    return out


def _warning(table: pd.DataFrame, ind: str, area: object, status: str, years: list[int],
             pick: pd.Series, y: int, worst: dict[int, tuple[int, int] | None],
             th: dict[str, float], lang: str) -> str:
    def w(key: str, **fields) -> str:
        return text("plausibility_warnings", key, lang, **fields)

    yrs = _years(years, lang)
    where = w(status)
    if ind == "crude_birth_rate":
        limit = th["cbr_min"] if status == "below" else th["cbr_max"]
        anchor_rows = table[(table["indicator"] == ind) & table["anchor"].notna()]
        ranges = w("list_sep").join(
            f"{area_label(a, lang)} {r['anchor_value'].min():.2f}–{r['anchor_value'].max():.2f}"
            for a, r in anchor_rows.groupby("anchor", sort=False))
        return (w("cbr", status=where, limit=f"{limit:g}", years=yrs, value=f"{pick['value']:.1f}",
                  year=y) + (w("cbr_anchors", ranges=ranges) if ranges else ""))
    if ind == "births_index":
        return w("births_index", status=where, area=area_label(area, lang), years=yrs,
                 value=f"{pick['value']:.2f}", year=y, anchor=f"{pick['anchor_value']:.2f}",
                 low=f"{pick['low']:.2f}", high=f"{pick['high']:.2f}")
    if ind == "women_20_39_change_10y":
        return w("women", share=f"{-th[ind + '_min']:.0%}", years=yrs,
                 value=f"{pick['value']:+.0%}", year=y)
    if ind == "cohort_migration_min":
        who = worst.get(y)
        cohort = (w("cohort", sex=w(f"sex_{SEXES[who[0]]}"), age=who[1] - 1, next=who[1]) if who
                  else w("a_cohort"))
        return w("cohort_loss", share=f"{-th[ind]:.0%}", years=yrs, cohort=cohort, year=y,
                 value=f"{pick['value']:+.1%}")
    return w("other", indicator=ind, status=where, years=yrs)


@POST_STEPS.register("plausibility")
def plausibility(state: "RunState") -> None:
    """``state.tables["plausibility"]`` and ``["calibration"]``; failed checks are added to
    ``state.warnings`` (prefixed ``plausibility:``)."""
    th = thresholds()
    state.say("plausibility checks and base-year calibration")
    wide, worst = measures(state.projection, state.years, survival(state.model),
                           fertility_shape(state.model), th["cohort_min_population"])
    table = plausibility_table(wide, state.model.anchors, th)
    grow = primary_growth_rows(state.projection, state.years, state.model, th)
    if grow:
        table = pd.concat([table, pd.DataFrame(grow, columns=COLUMNS)], ignore_index=True)
    state.tables["plausibility"] = table
    notes = plausibility_warnings(table, dict(zip(wide["year"].astype(int), worst)), th)
    notes += level_warnings(table)
    if state.zone_pupils is not None:
        cal = calibration_table(state)
        state.tables["calibration"] = cal
        notes += calibration_warnings(cal, th["enrolment_validation_tolerance"])
    state.warnings.extend(f"plausibility: {n} (docs/plausibility.md)" for n in notes)
