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

**Method.** Migration is two gross flows (docs/projection.md §2): an **inflow** schedule in
counts (zone x sex x single age) and an **out_rate**, the share of the residents of every
zone, sex and age that leaves each year, so a shrinking cohort is not emptied by a fixed
number of leavers. Two censuses identify *net* migration only; the split into gross flows
rests on the stated exit age pattern and on one calibration on the child component.

1. *Exit age pattern* (estimate): the Rogers & Castro (1981, IIASA RR-81-30) model schedule
   with their "fundamental" parameters (a1 = 0.02, alpha1 = 0.1, a2 = 0.06, alpha2 = 0.1,
   mu2 = 20, lambda2 = 0.4) — a childhood component that falls with age at the same rate
   as the labour-force component (children leave with their parents: the family relation
   alpha1 = alpha2), a labour-force peak at about age 23 — and the elderly constant c set to
   0 instead of 0.003 (`capacity.demography.ROGERS_CASTRO_EXITS`): the 2010-2020 residual
   shows a small net *inflow* at 65+, which any c > 0 turns into a net outflow at the exit
   levels that meet the 2021-2024 totals. Normalised so that its level is the crude exit
   rate on the 2020 census population. Same pattern for both sexes.
2. *Gross inflow = net residual + exits of the 2010s* (`capacity.demography.cohort_residual`
   with `out_rates`): the 2010 census (S13,
   5-year groups) is graduated to single ages and carried to 1 November 2020 with the
   model's survival ratios (the 2020 life table, used for the whole decade), the births
   below and exits at the pattern of 1. with a crude rate of **{100 * minfo['l10']:.2f} %** a
   year; the constant annual inflow by sex x single age that closes the gap to the 2020
   census is solved by penalised least squares (lambda = {fit.lam:.3g}, generalised
   cross-validation). So the 2010s' *net* migration by age is the census residual, and the
   inflow is gross: **{fit.net.sum():,.0f} a year** (women {fit.net[0].sum():,.0f}, men
   {fit.net[1].sum():,.0f}), peak at age {peak}; by age band {band_txt}. Ages with a negative
   inflow ({float(np.minimum(fit.net, 0).sum()):,.0f} a year in all) are set to 0; zones by
   2020 population share.
3. *Exit level fitted to 2021-2024.* The totals stopped growing after 2020 (census 1,840,295;
   end-2023 1,845,000, S17; end-2024 1,846,000, S16). Keeping the gross inflow and the
   housing in-movers of housing.csv ({len(housing)} developments, {hu:,} units, an
   illustrative pipeline, estimate), the exit level is fitted with
   `capacity.demography.calibrate_level` (kind "rate", component = the pattern of 1.) so
   that the engine's projection (with the anchored births of the Fertility section) meets
   both year-end totals (31 December = model year + 2/12) in least squares: **crude exit rate
   {100 * minfo['level']:.2f} % a year** (age 0: {100 * minfo['rates'][0, 0]:.1f} %, 10:
   {100 * minfo['rates'][0, 10]:.1f} %, 23: {100 * minfo['rates'][0, 23]:.1f} %, 40:
   {100 * minfo['rates'][0, 40]:.1f} %, 65: {100 * minfo['rates'][0, 65]:.2f} %, 80:
   {100 * minfo['rates'][0, 80]:.2f} %). Exits rose from the 2010s' {100 * minfo['l10']:.2f} %
   to {100 * minfo['level']:.2f} %: Beijing's population control after 2017 is the likely
   reason (an interpretation, not a measured figure).
   Fit: {'; '.join(f"{r.year:.2f}: {r.fitted:,.0f} vs {r.target:,.0f} ({r.pct_error:+.2f} %)" for r in f.itertuples())}.
   Path of the fit run: {', '.join(f'{y}: {v:,.0f}' for y, v in minfo['path'].items())}.
   Births / deaths / net migration: {', '.join(f'{y}: {b:,.0f} / {d:,.0f} / {m:+,.0f}' for y, (b, d, m) in bd.items())}.
4. *The 2010s' exit level* ({100 * minfo['l10']:.2f} %) is the one level the totals cannot
   identify: it is calibrated so that the model's residents aged 6-11 grow from 1 November
   2020 to 1 November 2022 as Tongzhou's primary pupils do by grade progression
   (x {minfo['grade']['growth']:.4f}: the 2020-21 grades 1-4 (of {minfo['grade']['pupils_2020']:,.0f} pupils in grades 1-6, S71) move to grades
   3-6 at Beijing's two-year cohort ratio {minfo['grade']['ratio']:.4f} (Beijing 2022 enrolled, S40, less its
   2021-2022 entrants, over its 2020-21 grades 1-4, S71), plus 2021 and 2022 entrants
   {minfo['grade']['entrants_2021']:,.0f} and {minfo['grade']['entrants_2022']:,.0f} (Tongzhou's 2020 grade 1 x Beijing's entrant ratios):
   {minfo['grade']['pupils_2022']:,.0f} pupils in 2022-23). The model's primary-age residents grow
   x {minfo['primary_growth']:.4f}. This is a calibration, not a check; the independent check is
   the 65+ sign below.
5. *Check, 65+:* net migration at 65+ in the fit run (cohort residual of the run, net of
   migrants' deaths) {', '.join(f'{y}: {v:+,.0f}' for y, v in minfo['net65'].items())} a year, against the
   2010-2020 census residual {minfo['net65_10s']:+,.0f} a year: the same sign (a small net inflow).

**Alternatives** (scenarios, each refitted to the same totals): half the gross inflow,
`scenarios/half-inflow.toml`, exit level x {lv['half-inflow'] / lv['baseline']:.4f} (`exit_scale`); exits only at ages
15+ (children move only with the inflow), `scenarios/exits-15plus.toml`, exit level
x {lv['exits-15plus'] / lv['baseline']:.4f} at 15+.

**Births 2011-2020** (needed by the residual; no Tongzhou series is published; estimate):
{', '.join(f'{y}: {v:,}' for y, v in births.items())}. 2014 and 2016-2019 are the sources'
resident-birth estimates (Beijing resident births x Tongzhou's population share x 1.015,
±15 % or more); 2010 is the census-year birth rate 6.48 per 1000 x the 2010 census; 2011-2013
are linear between 2010 and 2014, 2015 between 2014 and 2016; 2020 is the census age-0 count
13,032 / sx[0]. The files of `backtest/` hold the series.

**Uncertainty.** The weakest links are *child migration* and *the 2011-2020 births*: the
residual at ages 0-9 is whatever the births series leaves unexplained (a 10 % error in the
births moves the child inflow by about 1,300 a year), and the smoothing fits the child groups
only to within {child_miss:,.0f} persons. The split of net migration into gross flows rests
on the exit age pattern (a model schedule, not a Tongzhou measurement) and on the
grade-progression calibration of the 2010s' exit level. The ensemble (docs/ensemble.md)
draws the exit level, the exit age pattern (towards age-neutral) and the inflow/exit split,
and weights every draw by its fit to the 2021-2024 totals and births. The 2010s' survival is
the 2020 life table (mortality was somewhat higher, so the residual at older ages is
slightly low). Housing in-movers come on top of the inflow from 2021 (young families; no
co-resident grandparents: an assumption).

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
circular (its inflow is the same residual); its exit rates are the 2021-2024 fit, and
applied to the 2010s they lose much of the growth — the exits describe the post-2020
regime, not the 2010s. `profile` is the honest test of a method that uses only totals (the 2016
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
