"""anchors.csv and reported_enrolment.csv: the model's plausibility inputs.

``anchors.csv`` holds published figures a run is held against (docs/plausibility.md): UN WPP
2024 for China (births, crude birth rate, TFR with its probabilistic 80 % and 95 %
intervals; sources/wpp2024_china.csv, CC BY 3.0 IGO) and Beijing's reported births and crude
birth rates (sources/beijing_births.csv, re-posts of official statistics). They are copied,
not changed: one long table ``area, indicator, variant, year, value, unit, source, note``.

``reported_enrolment.csv`` holds Tongzhou's reported pupils per stage and school year
(sources/education_stats.csv, metric ``enrolled``), with ``fitted = true`` where the model's
enrolment rate was derived from that figure (tools/build_tongzhou/stages.py: the primary
rate is the 2020-21 pupils ÷ the census ages 6-11).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .common import BASE_YEAR, SRC, Sources, write_csv

ANCHOR_COLUMNS = ["area", "indicator", "variant", "year", "value", "unit", "source", "note"]
#: education_stats.csv stage → model stage (the model's senior stage is general senior high)
STAGE_OF = {"kindergarten": "kindergarten", "primary": "primary", "junior": "junior",
            "senior_general": "senior"}
#: (stage, year) whose figure the model's enrolment rate was fitted to (stages.py)
FITTED = {("primary", 2020)}


def build_anchors(src: Path = SRC) -> pd.DataFrame:
    """The two anchor source files as one table, rows in source order."""
    wpp = pd.read_csv(src / "wpp2024_china.csv", dtype=str, keep_default_na=False)
    wpp = wpp.assign(note="UN WPP 2024, CC BY 3.0 IGO")
    bj = pd.read_csv(src / "beijing_births.csv", dtype=str, keep_default_na=False)
    bj = bj.assign(variant="reported",
                   note=[f"{f}; {n}" if n else f for f, n in zip(bj["flag"], bj["note"])])
    return pd.concat([wpp[ANCHOR_COLUMNS], bj[ANCHOR_COLUMNS]], ignore_index=True)


def district_anchors(minfo: dict) -> pd.DataFrame:
    """Beijing's crude birth rates of the years anchors.csv lacks (births_fertility.csv) and
    the model's own level anchors (derived, README Migration/Fertility): Tongzhou's births
    per head ÷ Beijing's (2020 census age 0), the 2010-2020 census residual at 65+ and the
    grade-progression growth of primary pupils 2020 -> 2022."""
    g = minfo["grade"]
    have = {2021, 2023, 2024}   # beijing_births.csv (S81)
    rows = [("Beijing", "crude_birth_rate", "reported", y, f"{v:g}", "per 1000",
             "S23 (births_fertility.csv resident_birth_rate)", "reported; 常住人口出生率")
            for y, v in minfo["cbr"].items() if y not in have]
    rows += [
        ("Beijing", "births_per_head_ratio", "estimate", 2020, f"{minfo['births_ratio']:.4f}",
         "ratio", "S13 (births_fertility.csv age0_share_over_population_share)",
         "Tongzhou's age-0 share of Beijing / its population share, 2020 census; derived"),
        ("Tongzhou (2010-2020 census residual)", "net_migration_65_plus", "estimate", 2020,
         f"{minfo['net65_10s']:.0f}", "persons a year",
         "S13 censuses 2010, 2020; cohort residual (models/tongzhou/README.md, Migration)",
         "net migrants aged 65+ a year; derived; the check uses its sign"),
        ("Tongzhou (grade progression)", "primary_residents_growth", "estimate", 2022,
         f"{g['growth']:.4f}", "ratio to 2020",
         "S71, S38, S40 (models/tongzhou/README.md, Migration 4.)",
         "primary pupils 2022-23 / 2020-21 by Beijing's grade progression; derived; the "
         "model's 2010s exit level is calibrated to it"),
    ]
    return pd.DataFrame(rows, columns=ANCHOR_COLUMNS)


def build_reported_enrolment(s: Sources) -> pd.DataFrame:
    """Tongzhou's reported pupils per model stage and year (metric ``enrolled``)."""
    e = s.edu
    e = e[(e.area == "Tongzhou") & (e.metric == "enrolled") & e.stage.isin(list(STAGE_OF))]
    out = pd.DataFrame({
        "stage": e.stage.map(STAGE_OF), "year": e.year.astype(int),
        "pupils": e.value.astype(float).round().astype(int),
        "fitted": [str((STAGE_OF[st], int(y)) in FITTED).lower()
                   for st, y in zip(e.stage, e.year)],
        "source": e.source_id, "note": [f"school year {sy}; {n}" if isinstance(n, str) and n
                                        else f"school year {sy}"
                                        for sy, n in zip(e.school_year, e.note)]})
    order = out.stage.map({k: i for i, k in enumerate(STAGE_OF.values())})
    return out.assign(_o=order).sort_values(["year", "_o"], kind="stable") \
        .drop(columns="_o").reset_index(drop=True)


def write_anchors(anchors: pd.DataFrame, enrolment: pd.DataFrame, out: Path) -> None:
    write_csv(anchors, out / "anchors.csv")
    write_csv(enrolment, out / "reported_enrolment.csv")


def readme_section(anchors: pd.DataFrame, enrolment: pd.DataFrame) -> str:
    """The model README's section on the plausibility inputs."""
    n_wpp = int((anchors.area == "China").sum())
    n_level = int(anchors.indicator.isin(["births_per_head_ratio", "net_migration_65_plus",
                                          "primary_residents_growth"]).sum())
    kind = {"true": "calibration (the rate was fitted to it)", "false": "validation"}
    early = "not compared (before the base year)"
    rows = "\n".join(f"| {r.stage} | {r.year} | {r.pupils:,} | "
                     f"{kind[r.fitted] if r.year >= BASE_YEAR else early} | {r.source} |"
                     for r in enrolment.itertuples())
    return f"""## Plausibility inputs: anchors.csv and reported_enrolment.csv

Every run writes `plausibility.csv` and `calibration.csv` and warns when the projection leaves
the ranges these published figures support (docs/plausibility.md). Both files are built from
`sources/` by `tools/build_tongzhou/anchors.py`; they are model inputs, not code.

- `anchors.csv` ({len(anchors)} rows): {n_wpp} rows of UN World Population Prospects 2024 for
  China (S80, `sources/wpp2024_china.csv`: births, crude birth rate, TFR, estimates to 2023 and the
  medium variant with the probabilistic 80 % and 95 % TFR intervals from 2024; taken from the
  R package `wpp2024`, data licence CC BY 3.0 IGO, United Nations, Department of Economic and
  Social Affairs, Population Division (2024)), {len(anchors) - n_wpp - n_level} rows of Beijing
  resident births and crude birth rates and China's 2023-2024 births
  (S81, `sources/beijing_births.csv`: re-posts of official statistics, each row names its page;
  reported but not verified against the original bulletins), and {n_level} derived rows for the
  level checks: Tongzhou's births per head ÷ Beijing's (1.0151, 2020 census age 0: every
  year's births are held to Beijing's crude birth rate x the run's population x this
  ratio, ±10 %), the 2010-2020 census residual at 65+ (its sign is held) and the
  grade-progression growth of primary pupils 2020 -> 2022 (Migration 4.; a calibration
  for the baseline, a check for scenarios). The WPP and Beijing rows describe China and
  Beijing, not Tongzhou: runs use them as trends (births indexed to the first projected
  year), ranges (crude birth rate) and, through the ratio, levels.
- `reported_enrolment.csv`: Tongzhou's reported pupils (`education_stats.csv`, metric
  `enrolled`; general senior high as `senior`). `calibration.csv` compares the run's pupils
  with the rows whose year the run covers (the base year 2020 on); a rate fitted to a figure
  reproduces it by construction, so that row is labelled a calibration, not a validation.

| stage | year | reported pupils | in calibration.csv | source |
|---|---|---|---|---|
{rows}
"""
