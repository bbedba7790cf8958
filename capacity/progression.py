"""Grade progression (cohort-survival) forecast from observed enrolment by grade, blended
with the population method (docs/outputs.md, "progression.csv").

- Ratio: r_g = Σ_t E[g+1, t+1] ÷ Σ_t E[g, t] over the observed pairs of consecutive years
  (pooled, per area and stage).
- Forecast from the last observed year T: E[1, t] = the population method's grade 1 (entry
  comes from the children, not from enrolment); E[g+1, t+1] = r_g · E[g, t].
- Blend, h = t − T years ahead: w_h = max(0, 1 − h ÷ (B + 1)) on the cohort-survival count,
  1 − w_h on the population method's, with B = ``blend_years`` (3: ¾, ½, ¼, then 0).
- Backtest: fit on the years up to T − k, forecast years T − k + 1 … T from the observed
  grade 1, compare with what was observed (mean absolute percentage error per grade).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

KEYS = ["area_id", "stage"]
BLEND_YEARS = 3


def ratios(observed: pd.DataFrame) -> pd.DataFrame:
    """area_id, stage, grade (from), ratio: pooled grade progression ratios."""
    o = observed[KEYS + ["grade", "year", "pupils"]]
    nxt = o.assign(grade=o["grade"] - 1, year=o["year"] - 1).rename(columns={"pupils": "next"})
    pairs = o.merge(nxt, on=KEYS + ["grade", "year"])
    g = pairs.groupby(KEYS + ["grade"], as_index=False)[["pupils", "next"]].sum()
    g["ratio"] = g["next"] / g["pupils"].where(g["pupils"] > 0)
    return g[KEYS + ["grade", "ratio"]]


def forecast(observed: pd.DataFrame, entrants: pd.DataFrame, years: list[int],
             r: pd.DataFrame | None = None) -> pd.DataFrame:
    """area_id, stage, grade, year, pupils: cohort survival from each area's last observed
    year over ``years`` (entrants: area_id, stage, year, pupils of grade 1)."""
    r = ratios(observed) if r is None else r
    rows = []
    for (area, stage), obs in observed.groupby(KEYS, sort=False):
        last = int(obs["year"].max())
        cur = obs[obs["year"] == last].set_index("grade")["pupils"]
        G = int(obs["grade"].max())
        ratio = r[(r["area_id"] == area) & (r["stage"] == stage)].set_index("grade")["ratio"]
        cur = cur.reindex(range(1, G + 1)).to_numpy(float)
        rate = ratio.reindex(range(1, G)).to_numpy(float)
        entry = entrants[(entrants["area_id"] == area) & (entrants["stage"] == stage)] \
            .set_index("year")["pupils"]
        for year in (y for y in sorted(years) if y > last):
            cur = np.r_[entry.get(year, np.nan), rate * cur[:-1]]
            rows.append(pd.DataFrame({"area_id": area, "stage": stage,
                                      "grade": np.arange(1, G + 1), "year": year,
                                      "pupils": cur}))
            last = year
    cols = KEYS + ["grade", "year", "pupils"]
    return pd.concat(rows, ignore_index=True)[cols] if rows else pd.DataFrame(columns=cols)


def blend(cohort: pd.DataFrame, population: pd.DataFrame, last_observed: pd.Series,
          blend_years: int = BLEND_YEARS) -> pd.DataFrame:
    """area_id, stage, grade, year, cohort_survival, population, weight, pupils (blended).
    ``last_observed``: last observed year by (area_id, stage)."""
    m = population.rename(columns={"pupils": "population"}).merge(
        cohort.rename(columns={"pupils": "cohort_survival"}), on=KEYS + ["grade", "year"],
        how="left")
    last = last_observed.rename("last").reset_index()
    m = m.merge(last, on=KEYS, how="inner")
    h = m["year"] - m["last"]
    m["weight"] = np.clip(1 - h / (blend_years + 1), 0, 1).where(h > 0, 0.0)
    m.loc[m["cohort_survival"].isna(), "weight"] = 0.0
    m["pupils"] = m["weight"] * m["cohort_survival"].fillna(0) + (1 - m["weight"]) * \
        m["population"]
    return m[KEYS + ["grade", "year", "cohort_survival", "population", "weight", "pupils"]]


def backtest(observed: pd.DataFrame, hold_out: int = 1) -> pd.DataFrame:
    """area_id, stage, grade, years, mape: fit on all but the last ``hold_out`` observed
    years, forecast them from the observed grade 1, compare (grades 2 and up)."""
    last = observed.groupby(KEYS)["year"].transform("max")
    fit = observed[observed["year"] <= last - hold_out]
    test = observed[observed["year"] > last - hold_out]
    entry = test[test["grade"] == 1][KEYS + ["year", "pupils"]]
    f = forecast(fit, entry, sorted(test["year"].unique()), ratios(fit))
    m = test.merge(f, on=KEYS + ["grade", "year"], suffixes=("", "_forecast"))
    m = m[m["grade"] > 1]
    m["ape"] = (m["pupils_forecast"] - m["pupils"]).abs() / m["pupils"]
    return m.groupby(KEYS + ["grade"], as_index=False).agg(years=("year", "size"),
                                                            mape=("ape", "mean"))


def progression_table(observed: pd.DataFrame, zone_grades: pd.DataFrame,
                      grades: pd.DataFrame, mode: str, blend_years: int = BLEND_YEARS
                      ) -> pd.DataFrame:
    """progression.csv for the areas of ``observed`` (zone ids, school ids of the scenario's
    mode, or "district"): the population method's grades, the cohort-survival forecast
    and their blend (module docstring)."""
    cols = ["grade", "year", "pupils"]
    district = zone_grades.groupby(["stage"] + cols[:2], as_index=False)["pupils"].sum()
    population = pd.concat([
        zone_grades.rename(columns={"zone_id": "area_id"})[KEYS + cols],
        district.assign(area_id="district")[KEYS + cols],
        grades[grades["mode"] == mode].rename(columns={"school_id": "area_id"})[KEYS + cols]],
        ignore_index=True)
    areas = observed[KEYS].drop_duplicates()
    population = population.merge(areas, on=KEYS)
    entry = population[population["grade"] == 1][KEYS + ["year", "pupils"]]
    cohort = forecast(observed, entry, sorted(population["year"].unique()))
    last = observed.groupby(KEYS)["year"].max()
    return blend(cohort, population, last, blend_years)
