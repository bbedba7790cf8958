"""``capacity migration-residual`` and ``capacity calibrate-migration`` (docs/cli.md).

* migration-residual: the annual net migration (or, with ``--out-rate``, the inflow) by sex
  and single age that carries one census into the next (``capacity.demography``'s cohort
  residual), written as a model's migration table.
* calibrate-migration: the one free level of a model's migration (a factor on
  migration.csv's exit rates, keeping their age pattern; an age-neutral exit rate when it
  has ``inflow`` but no exit rates; else a factor on ``net``) so that the
  model's own projection meets target totals; prints the fit and writes the re-levelled
  migration table.
"""
from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np
import pandas as pd

from capacity.commands.inputs import (births_between, read_births, read_file, read_life_table,
                                      read_targets, write_csv_atomic)
from capacity.demography import calibrate_level, cohort_residual, spread_to_zones
from capacity.errors import InputError
from capacity.options import check as check_options, check_column, default, described

__all__ = ["add_parsers", "cmd_migration_residual", "cmd_calibrate_migration",
           "model_arrays"]


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register both commands on the CLI's subparsers."""
    r = sub.add_parser("migration-residual", help="net migration by age from two censuses")
    r.add_argument("census1", help="earlier census CSV (sex, ages, population, year)")
    r.add_argument("census2", help="later census CSV, same age groups")
    src = r.add_mutually_exclusive_group(required=True)
    src.add_argument("--model", help="model folder: its survival, SRB and zones")
    src.add_argument("--life-table", help="CSV sex,age,sx (or mx/qx/Lx)")
    r.add_argument("--births", required=True, help="CSV year,births for each year between")
    r.add_argument("--srb", type=float, default=None,
                   help=described("migration-residual", "--srb"))
    r.add_argument("--out-rate", type=float, default=None, metavar="RATE",
                   help=described("migration-residual", "--out-rate"))
    r.add_argument("--nonneg", choices=("auto", "yes", "no"), default="auto",
                   help="keep migrants ≥ 0: where the census allows (auto), everywhere "
                        "(yes: an error if a cohort lost people), or nowhere (no)")
    r.add_argument("--zone-id", default="district",
                   help="zone_id of the rows without --model (default: district)")
    r.add_argument("--groups", default=None, metavar="CSV",
                   help="also write the census-2 groups: observed, no migration, fitted")
    r.add_argument("-o", "--out", required=True, help="migration CSV to write")
    r.set_defaults(func=cmd_migration_residual)

    c = sub.add_parser("calibrate-migration",
                       help="fit a model's migration level to target totals")
    c.add_argument("model", help="model folder")
    c.add_argument("--targets", required=True,
                   help="CSV year,total[,weight]; years from the census date (31 Dec 2023 of a "
                        "1 November census = 2023.1667)")
    c.add_argument("--inflow-scale", type=float,
                   default=float(default("calibrate-migration", "--inflow-scale")),
                   help=described("calibrate-migration", "--inflow-scale"))
    c.add_argument("--exit-ages-from", type=int,
                   default=default("calibrate-migration", "--exit-ages-from"),
                   help=described("calibrate-migration", "--exit-ages-from"))
    c.add_argument("-o", "--out", default=None,
                   help="write the re-levelled migration table here (default: only print)")
    c.add_argument("--fit", default=None, metavar="CSV",
                   help="write year, target, fitted, error, pct_error here")
    c.set_defaults(func=cmd_calibrate_migration)


def read_census_pair(args: argparse.Namespace, command: str
                     ) -> tuple[tuple[str, str], pd.DataFrame, pd.DataFrame, dict[int, float]]:
    """The two censuses (checked: same age groups, the later one after the earlier) and the
    births of every year between them; every problem names its file, row and column."""
    from capacity.demography.census import read_census

    files = (str(args.census1), str(args.census2))
    c1, c2 = read_file(args.census1, "census"), read_file(args.census2, "census")
    births = read_births(args.births)
    check_same_groups(c1, c2, files)
    first, second = read_census(c1, file=files[0]), read_census(c2, file=files[1])
    for c, frame in ((first, c1), (second, c2)):
        if c.year is None:
            raise InputError.single(c.file, "no year column", row=1, column="year",
                                    expected="a column year (or census_year) with the "
                                             "census year")
    year_col = "year" if "year" in c2.columns else "census_year"
    found = check_column(command, "CENSUS2", "year", [second.year], c2.index[:1], files[1],
                         {"year1": first.year})
    if found:
        raise InputError([replace(p, column=year_col) for p in found])
    return files, c1, c2, births_between(births, str(args.births), command, first.year,
                                         second.year)


def cmd_migration_residual(args: argparse.Namespace) -> int:
    check_options("migration-residual", {"--srb": args.srb, "--out-rate": args.out_rate})
    files, c1, c2, births = read_census_pair(args, "migration-residual")
    model = None
    if args.model:
        from capacity.model import load_model
        from capacity.projection import survival

        model = load_model(args.model)
        sx, srb = survival(model), model.srb
    else:
        sx, srb = read_life_table(args.life_table), 1.06
    srb = args.srb if args.srb is not None else srb
    rates = None
    if args.out_rate is not None:
        rates = np.full(sx.shape, args.out_rate)
    nonneg = {"auto": "auto", "yes": True, "no": False}[args.nonneg]
    try:
        fit = cohort_residual(c1, c2, sx, births=births, srb=srb, out_rates=rates,
                              nonneg=nonneg, files=files)
    except InputError as exc:
        raise _with_rows(exc, c2, files[1]) from None
    table = fit.table
    if model is not None:
        pop = model.population.groupby("zone_id")["count"].sum()
        rows = spread_to_zones(table, pop.reindex(model.zone_ids))
    else:
        rows = table.assign(zone_id=args.zone_id)[["zone_id", "sex", "age", "net"]]
    rows["net"] = rows["net"].round(6)
    if rates is not None:
        rows = rows.rename(columns={"net": "inflow"})
        if (rows["inflow"] < 0).any():
            rows["inflow"] = rows["inflow"].clip(lower=0.0)
            print("note: negative inflow at some ages set to 0 (cohorts that lost people "
                  "beyond the exit rate)")
        rows["out_rate"] = args.out_rate
    if args.groups:
        write_csv_atomic(fit.groups, args.groups)
    path = write_csv_atomic(rows, args.out)
    col = "inflow" if rates is not None else "net"
    net = fit.net.sum(axis=0)
    peak = int(np.argmax(net))
    print(f"{fit.year1}→{fit.year2}: {col} {fit.net.sum():,.0f} a year "
          f"(F {fit.net[0].sum():,.0f}, M {fit.net[1].sum():,.0f}), peak at age {peak}; "
          f"smoothing λ = {fit.lam:.3g}; largest group miss "
          f"{(fit.groups['fitted'] - fit.groups['observed']).abs().max():,.0f}")
    print(f"wrote {path} ({len(rows)} rows)")
    return 0


def _row_label(r: pd.Series, columns: pd.Index) -> str:
    """A census row's age group as the labels of ``AgeGroups`` ("0", "1-4", "85+")."""
    if "age_group" in columns:
        return str(r["age_group"]).strip()
    if "age_from" in columns:
        a, e = int(r["age_from"]), r.get("age_to")
        return f"{a}+" if pd.isna(e) else (str(a) if int(e) == a else f"{a}-{int(e)}")
    return str(r.get("age", ""))


def check_same_groups(census1: pd.DataFrame, census2: pd.DataFrame,
                      files: tuple[str, str]) -> None:
    """InputError at the first row of the later census whose age group the earlier one lacks
    (both tables must have the same groups)."""
    from capacity.demography.census import read_census

    c1 = read_census(census1, file=files[0])
    c2 = read_census(census2, file=files[1])
    if c1.groups == c2.groups:
        return
    known = set(c1.groups.labels)
    for line, r in census2.iterrows():
        label = _row_label(r, census2.columns)
        if label not in known:
            col = "age_group" if "age_group" in census2.columns else (
                "age_from" if "age_from" in census2.columns else "age")
            raise InputError.single(files[1], f"age group {label} is not a group of "
                                    f"{files[0]}", row=_line(census2, line), column=col,
                                    expected="the same groups: " + ", ".join(c1.groups.labels))
    raise InputError.single(files[1], f"age groups {c2.groups.labels} differ from "
                            f"{files[0]}'s", row=_line(census2, census2.index[0]),
                            column="age", expected=str(c1.groups.labels))


def _line(frame: pd.DataFrame, label) -> int:
    """The file line of a row: the index of a frame read by ``read_file``, else label + 2."""
    return int(label) if frame.index.name == "line" else int(label) + 2


def _with_rows(exc: InputError, census2: pd.DataFrame, file: str) -> InputError:
    """Add the census-2 row to a negative-residual error (the first group named in it)."""
    p = exc.problems[0]
    if p.row is not None or p.file != file or "migration in " not in p.message:
        return exc
    first = p.message.split("migration in ", 1)[1].split(" (", 1)[0]   # e.g. "F 40-44"
    for line, r in census2.iterrows():
        label = _row_label(r, census2.columns)
        if f"{str(r.get('sex', '')).strip().upper()[:1]} {label}" == first:
            return InputError.single(file, p.message, row=_line(census2, line),
                                     column=p.column, expected=p.expected)
    return exc


def model_arrays(model, horizon: int, *, inflow_scale: float = 1.0) -> dict:
    """pop0, sx, asfr, counts (T, Z, 2, A; housing in-movers included), table_counts
    (Z, 2, A; migration.csv only) and exit rates of a model's default scenario projected to
    ``horizon`` (the arrays ``capacity project`` would use)."""
    from capacity.projection import fertility, migration, out_rates, pivot, survival
    from capacity.scenario import default_scenario

    sc = default_scenario(model.path, horizon)
    sc.inflow_scale = inflow_scale
    steps = np.arange(model.base_year + 1, horizon + 1)
    A = model.open_age + 1
    mig = model.migration
    table = np.zeros((len(model.zone_ids), 2, A))
    for col, f in (("net", 1.0), ("inflow", inflow_scale)):
        if col in mig.columns:
            table += f * pivot(mig.fillna({col: 0.0}), col, model.zone_ids, A)
    return {"pop0": pivot(model.population, "count", model.zone_ids, A),
            "table_counts": table,
            "sx": survival(model), "asfr": fertility(model, sc, steps),
            "counts": migration(model, sc, steps), "rates": out_rates(model, sc),
            "timing": model.migration_timing}


def _fit_exits(arr: dict, mig: pd.DataFrame, targets, args: argparse.Namespace,
               common: dict, A: int):
    """Rate-based migration: a factor on migration.csv's exit rates (their age pattern
    kept), or without them an age-neutral exit rate; exits only at ``--exit-ages-from``+.
    Returns (fit, what was fitted, the re-levelled table)."""
    older = (np.arange(A) >= args.exit_ages_from).astype(float)
    rates = arr["rates"]
    pattern = rates is not None and np.any(rates > 0)
    out = mig.copy()
    if "inflow" in out.columns:
        out["inflow"] = out["inflow"] * args.inflow_scale
    if pattern:
        fit = calibrate_level(arr["pop0"], arr["sx"], arr["asfr"], arr["counts"], targets,
                              kind="rate", component=rates * older, bounds=(0.0, 10.0),
                              **common)
        what = (f"exit rates × {fit.level:.6f} (exit_scale; migration.csv's age pattern "
                f"kept){f' at ages {args.exit_ages_from}+' if args.exit_ages_from else ''}")
        out["out_rate"] = np.where(out["age"] >= args.exit_ages_from,
                                   (out["out_rate"] * fit.level).round(6), 0.0)
        return fit, what, out
    comp = np.broadcast_to(older, (2, A))
    fit = calibrate_level(arr["pop0"], arr["sx"], arr["asfr"], arr["counts"], targets,
                          kind="rate", component=comp, bounds=(0.0, 0.5), **common)
    what = (f"age-neutral exit rate {fit.level:.6f} a year"
            f"{f' at ages {args.exit_ages_from}+' if args.exit_ages_from else ''}")
    out["out_rate"] = np.where(out["age"] >= args.exit_ages_from, round(fit.level, 6), 0.0)
    return fit, what, out


def cmd_calibrate_migration(args: argparse.Namespace) -> int:
    from capacity.model import load_model

    check_options("calibrate-migration", {"--inflow-scale": args.inflow_scale,
                                          "--exit-ages-from": args.exit_ages_from})
    model = load_model(args.model)
    context = {"base_year": model.base_year, "open_age": model.open_age}
    check_options("calibrate-migration", {"--exit-ages-from": args.exit_ages_from}, context)
    targets, weights = read_targets(args.targets, "calibrate-migration", "--targets", context)
    horizon = int(np.floor(max(targets))) + 1
    arr = model_arrays(model, horizon, inflow_scale=args.inflow_scale)
    mig = model.migration
    A = model.open_age + 1
    rate_based = "out_rate" in mig.columns or "inflow" in mig.columns
    common = dict(base_year=model.base_year, srb=model.srb, timing=arr["timing"],
                  weights=weights, file=str(args.targets))
    if rate_based:
        fit, what, out = _fit_exits(arr, mig, targets, args, common, A)
    else:
        from capacity.projection import pivot

        net = pivot(mig, "net", model.zone_ids, A)
        fixed = arr["counts"] - net[None]
        fit = calibrate_level(arr["pop0"], arr["sx"], arr["asfr"], fixed, targets,
                              kind="count", component=net, bounds=(-10.0, 10.0), **common)
        what = f"migration.csv net × {fit.level:.6f}"
        out = mig.copy()
        out["net"] = (out["net"] * fit.level).round(6)
    frame = fit.to_frame()
    print(f"{model.name}: {what}")
    print(frame.to_string(index=False, formatters={
        "year": "{:.4f}".format, "target": "{:,.0f}".format, "fitted": "{:,.0f}".format,
        "error": "{:+,.0f}".format, "pct_error": "{:+.3f} %".format}))
    if args.fit:
        write_csv_atomic(frame, args.fit)
    if args.out:
        out = out.drop(columns=[c for c in out.columns if c not in
                                ("zone_id", "sex", "age", "net", "inflow", "out_rate", "flag")])
        print(f"wrote {write_csv_atomic(out, args.out)}")
    return 0
