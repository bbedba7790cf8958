"""The README's migration and backtest sections (method, figures, uncertainty)."""
from __future__ import annotations

import numpy as np
import pandas as pd


def _band(net: np.ndarray, lo: int, hi: int) -> float:
    return float(net[:, lo:hi + 1].sum())


def migration_section(minfo: dict, bt: pd.DataFrame, housing: pd.DataFrame, srb: float) -> str:
    fit = minfo["fit"]
    inflow = minfo["inflow"]
    births = minfo["births"]
    lv = minfo["levels"]
    f = minfo["fitted"]["baseline"]
    g = fit.groups
    child = g[g.age_from < 15]
    child_miss = (child.fitted - child.observed).abs().max()
    bd = minfo["bd"]
    bands = [(0, 14), (15, 19), (20, 29), (30, 44), (45, 64), (65, 100)]
    band_txt = ", ".join(f"{lo}-{hi if hi < 100 else '100+'}: {_band(inflow, lo, hi):,.0f}"
                         for lo, hi in bands)
    peak = int(np.argmax(inflow.sum(axis=0)))
    cols = [c for c in bt.columns if c not in ("method", "circular")]
    head = "| method | circular | " + " | ".join(cols) + " |"
    rows = "\n".join(f"| {r['method']} | {'yes' if r['circular'] else 'no'} | " +
                     " | ".join(f"{r[c]:+.1f}" for c in cols) + " |" for _, r in bt.iterrows())
    notes = "\n".join(f"- `{m}`: {n}" for m, n in bt.attrs["notes"].items())
    hu = int(housing.units.sum())
    return f"""## Migration (migration.csv) and housing (housing.csv)

**Method.** Migration keeps its shape: migration.csv holds an **inflow** schedule in counts
(zone x sex x single age) and an **out_rate**, the share of the residents of every zone, sex
and age that leaves each year (docs/projection.md §2), so a shrinking cohort is not emptied
by a fixed number of leavers.

1. *Inflow = the 2010-2020 cohort residual* (`capacity.demography.cohort_residual`, the
   same computation as `capacity migration-residual`): the 2010 census (S13, 5-year groups)
   is graduated to single ages and carried to 1 November 2020 with the model's survival
   ratios (the 2020 life table, used for the whole decade) and the births below; the
   constant annual net migration by sex x single age that closes the gap to the 2020 census
   (S13) is solved by penalised least squares (smoothing lambda = {fit.lam:.3g} by generalised
   cross-validation). Result: **{fit.net.sum():,.0f} net migrants a year** (women
   {fit.net[0].sum():,.0f}, men {fit.net[1].sum():,.0f}), peak at age {peak}; by age band
   {band_txt}. A second, smaller peak at 45-60 is in the data (the cohorts aged 35-50 in
   2010 grew by 20-30 %); its source (parents following children, relocations into the
   sub-centre) is not known. Ages where the residual is negative (a few cohorts at 80+,
   {float(np.minimum(fit.net, 0).sum()):,.0f} a year in all) are set to 0 in the inflow;
   zones by 2020 population share.
2. *Exits fitted to 2021-2024.* The totals stopped growing after 2020 (census 1,840,295;
   end-2023 1,845,000, S17; end-2024 1,846,000, S16). Keeping the 2010s inflow and the
   housing in-movers of housing.csv ({len(housing)} developments, {hu:,} units, an
   illustrative pipeline, estimate), one age-neutral exit rate is fitted with
   `capacity.demography.calibrate_level` (the same as `capacity calibrate-migration
   models/tongzhou --targets models/tongzhou/migration_targets.csv`) so that the engine's
   projection of this model meets both year-end totals (31 December = model year + 2/12) in
   least squares: **out_rate = {minfo['level']:.4f} a year** ({100 * minfo['level']:.2f} %).
   Fit: {', '.join(f"{r.year:.2f}: {r.fitted:,.0f} vs {r.target:,.0f} ({r.pct_error:+.2f} %)" for r in f.itertuples())}.
   Path of the fit run: {', '.join(f'{y}: {v:,.0f}' for y, v in minfo['path'].items())}.
   Births / deaths / net migration: {', '.join(f'{y}: {b:,.0f} / {d:,.0f} / {m:+,.0f}' for y, (b, d, m) in bd.items())}.

**Alternatives** (scenarios, each refitted to the same totals): half the residual inflow,
`scenarios/half-inflow.toml`, exit rate {lv['half-inflow']:.4f}; exits only at ages 15+
(children move only with the inflow), `scenarios/exits-15plus.toml`, exit rate
{lv['exits-15plus']:.4f} at 15+.

**Births 2011-2020** (needed by the residual; no Tongzhou series is published; estimate):
{', '.join(f'{y}: {v:,}' for y, v in births.items())}. 2014 and 2016-2019 are the sources'
resident-birth estimates (Beijing resident births x Tongzhou's population share x 1.015,
±15 % or more); 2010 is the census-year birth rate 6.48 per 1000 x the 2010 census; 2011-2013
are linear between 2010 and 2014, 2015 between 2014 and 2016; 2020 is the census age-0 count
13,032 / sx[0]. The files of `backtest/` hold the series.

**Uncertainty.** The weakest links are *child migration* and *the 2011-2020 births*: the
residual at ages 0-9 is whatever the births series leaves unexplained (a 10 % error in the
births moves the child inflow by about 1,300 a year), and the smoothing fits the child groups
only to within {child_miss:,.0f} persons. The split of the 2020s' near-zero net migration into
the 2010s' inflow and a {100 * minfo['level']:.1f} % exit rate is an assumption (two
censuses identify net migration only): half the inflow with fewer exits, or exits only
of adults, meet the same totals with a different age structure (the scenarios above). The
2010s' survival is the 2020 life table (mortality was somewhat higher, so the residual at
older ages is slightly low). Housing in-movers come on top of the inflow from 2021.
An age-neutral exit rate removes children at the adults' rate while the residual brings few
school-age children (the 0-14 band above is mostly under age 5), so school-age cohorts shrink by about
{100 * minfo['level']:.1f} % a year; if children rarely leave without being replaced, the
exits-15plus scenario is the better guide for school places.

## Backtest 2010 -> 2020 (`capacity backtest`)

The 2010 census projected to 1 November 2020 with each migration method (the births above,
the model's survival and SRB {srb:.4f}), compared with the 2020 census: MAPE over the 5-year
groups and over the school-stage ages (both sexes), the error of each stage's age group and
of the total, in % of the census (projected − observed). Inputs in `backtest/`; rerun
with the command in `tools/build_tongzhou/backtest.py`.

{head}
|{'---|' * (len(cols) + 2)}
{rows}

{notes}

`residual` is **circular** here: it is fitted to the 2020 census's age groups, so its
error only shows what the graduation's smoothing leaves (the child groups, where the
births series is weakest). `schedule` is the model's migration as it is and is partly
circular (its inflow is the same residual); its exit rate is the 2021-2024 fit, and applied
to the 2010s it loses a quarter of the growth — the exits describe the post-2020 regime,
not the 2010s. `profile` is the honest test of a method that uses only totals (the 2016
and 2018 year-end totals and the 2020 census total, never its ages): a standard age profile
misses the school-age groups by tens of percent, and the year-end estimates before 2020 run
below the census line (from the 2018 figure to the census is a growth of {(bt.attrs['c20'] - bt.attrs['t2018']) / (1 + 10 / 12):,.0f}
a year), so no single count meets all three totals. `none` shows how
much of the 2020 population migration built. A backtest on one
period can show whether a method reproduces the age structure of that period; it cannot
show that the 2010s' migration (a decade of sub-centre construction) will continue, nor
measure the error of births after 2020, nor validate the exit rate, which is fitted to the
only post-2020 data there are.
"""
