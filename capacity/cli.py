"""Command line (docs/cli.md): validate, project, run, compare, map, plan.

Exit codes: 0 success, 2 bad input (every problem printed as file:row:column: message),
1 internal error.
"""
from __future__ import annotations

import argparse
import sys
import traceback
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError
from .progress import Progress


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=FutureWarning)
            return args.func(args) or 0
    except InputError as exc:
        print(f"error: {len(exc.problems)} problem(s) in the input:", file=sys.stderr)
        for p in exc.problems:
            print(f"  {p}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and the like
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception:  # an internal error: say so, keep the details for a bug report
        print("internal error (please report it with the text below):", file=sys.stderr)
        traceback.print_exc()
        return 1


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="capacity", description="School-place capacity planner: "
                                "project pupils, assign them to schools, report shortfalls.")
    from . import __version__

    p.add_argument("--version", action="version", version=f"capacity {__version__}")
    sub = p.add_subparsers(metavar="COMMAND")
    v = sub.add_parser("validate", help="check a model folder or scenario file")
    v.add_argument("path", help="MODEL_DIR or SCENARIO.toml")
    v.set_defaults(func=cmd_validate)
    pr = sub.add_parser("project", help="population projection only")
    pr.add_argument("scenario")
    pr.add_argument("-o", "--out", required=True, help="output folder")
    pr.set_defaults(func=cmd_project)
    r = sub.add_parser("run", help="the whole pipeline, one subfolder per scenario")
    r.add_argument("scenarios", nargs="+")
    r.add_argument("-o", "--out", required=True, help="output folder")
    r.add_argument("--lang", choices=("en", "zh"), default=None,
                   help="labels of budget.xlsx (default: the scenario's [report] lang, or en)")
    r.add_argument("--no-criticality", action="store_true",
                   help="skip the per-project criticality re-runs (faster)")
    r.add_argument("--no-maps", action="store_true", help="skip maps and report.html")
    r.add_argument("--format", choices=("csv", "parquet"), default="csv",
                   help="format of the run folder's tables (parquet: zstd, much smaller and "
                        "faster for large districts; capacity.load_result reads both)")
    r.add_argument("--scenario-mode-only", action="store_true",
                   help="write only the scenario's allocation mode in the tables")
    r.add_argument("--workers", type=int, default=None, metavar="N",
                   help="processes for the solves (default: every core)")
    r.set_defaults(func=cmd_run)
    c = sub.add_parser("compare", help="compare run folders side by side")
    c.add_argument("runs", nargs="+")
    c.add_argument("-o", "--out", required=True)
    c.set_defaults(func=cmd_compare)
    m = sub.add_parser("map", help="catchment map of a run (PNG, SVG and HTML)")
    m.add_argument("run")
    m.add_argument("--stage", required=True)
    m.add_argument("--year", type=int, required=True)
    m.add_argument("--mode", choices=("optimal", "catchment"), default=None)
    m.add_argument("--rings", action="store_true",
                   help="draw each school's service radius on the static map")
    m.set_defaults(func=cmd_map)
    pl = sub.add_parser("plan", help="where and when to build: new schools, temporary "
                        "places, transport (docs/plan.md)")
    pl.add_argument("scenario")
    pl.add_argument("-o", "--out", required=True, help="output folder")
    pl.add_argument("--stage", action="append", default=None, help="plan only this stage "
                    "(repeatable; default: every stage)")
    pl.add_argument("--time-limit", type=float, default=None, metavar="S",
                    help="solver seconds per stage (default: model.toml plan.time_limit_s)")
    pl.set_defaults(func=cmd_plan)
    return p


def cmd_plan(args: argparse.Namespace) -> int:
    from .plan.run import make_plan
    from .plan.write import write_plan

    progress = Progress()
    with warnings.catch_warnings(record=True):
        plan = make_plan(args.scenario, stages=args.stage, progress=progress,
                         time_limit_s=args.time_limit)
    progress.done()
    folder = write_plan(plan, args.out)
    print(f"wrote {folder}")
    for r in plan.summary.itertuples():
        print(f"  {r.stage:<13} {r.new_schools:>3} new schools ({r.new_places:,} places, "
              f"CNY {r.capital_cny / 1e8:,.2f} 亿), {r.temporary_place_years:,.0f} temporary "
              f"place-years, {r.transport_pupil_years:,.0f} transported pupil-years; "
              f"unserved {r.unserved_before:,} → {r.unserved_after:,.0f} pupil-years "
              f"({r.unreachable:,.0f} out of every option's reach); gap {r.gap:.1%}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from .model import load_model
    from .scenario import load_scenario
    from .supply import build_supply

    path = Path(args.path)
    if path.suffix == ".toml" and path.name != "model.toml":
        scenario = load_scenario(path)
        model = load_model(scenario.model, overrides=scenario.stages)
        build_supply(model, scenario, np.arange(model.base_year, scenario.horizon + 1))
        print(f"scenario {scenario.name!r}: valid (horizon {scenario.horizon}, "
              f"mode {scenario.mode})")
    else:
        model = load_model(path)
    print(model_summary(model))
    for w in model.warnings:
        print(f"warning: {w}", file=sys.stderr)
    return 0


def model_summary(model) -> str:
    """One screen: zones, population, schools and places per stage, projects."""
    pop = model.population
    lines = [f"model {model.name!r} ({model.path})",
             f"  base year {model.base_year}, CRS {model.crs}, open age {model.open_age}",
             f"  zones: {len(model.zones)}",
             f"  population {model.base_year}: {pop['count'].sum():,.0f} "
             f"(F {pop.loc[pop['sex'] == 'F', 'count'].sum():,.0f}, "
             f"M {pop.loc[pop['sex'] == 'M', 'count'].sum():,.0f})",
             f"  mortality given as {model.mortality_kind}; net migration rows: "
             f"{len(model.migration)}; housing developments: {len(model.housing)}",
             f"  demand units: {len(model.units) if model.units is not None else 'grid'}",
             "  stage         ages   children  schools    places  radius_m  projects  "
             "project places"]
    both = pop.groupby("age")["count"].sum()
    for name, st in model.stages.items():
        kids = both.loc[st.ages[0]:st.ages[1]].sum()
        s = model.schools[model.schools["stage"] == name] if len(model.schools) else pop[:0]
        pj = model.projects[model.projects["stage"] == name] if len(model.projects) else pop[:0]
        lines.append(f"  {name:<12} {st.ages[0]:>2}-{st.ages[1]:<2} {kids:>10,.0f} "
                     f"{len(s):>8} {s['places'].sum() if len(s) else 0:>9,.0f} "
                     f"{st.radius_m:>9,.0f} {len(pj):>9} "
                     f"{pj['places'].sum() if len(pj) else 0:>15,.0f}")
    scale = model.zones["radius_scale"]
    if (scale != 1).any():
        lines.append("  radius_m is multiplied by the zones' radius_scale: " + ", ".join(
            f"×{v:g} in {n} zone{'s' if n > 1 else ''}"
            for v, n in scale[scale != 1].value_counts().sort_index().items()))
    return "\n".join(lines)


def cmd_project(args: argparse.Namespace) -> int:
    from .chain import project_population

    progress = Progress()
    with warnings.catch_warnings(record=True):
        result = project_population(args.scenario, progress)
    progress.done()
    folder = result.write(args.out)
    _print_warnings(result.manifest.get("warnings", []))
    tot = result.population.groupby("year")["population"].sum()
    print(f"wrote {folder}: population {int(tot.index[0])} {tot.iloc[0]:,.0f} → "
          f"{int(tot.index[-1])} {tot.iloc[-1]:,.0f}")
    return 0


def _print_warnings(notes: list[str]) -> None:
    for w in notes[:10]:
        print(f"warning: {w}", file=sys.stderr)
    if len(notes) > 10:
        print(f"warning: ... and {len(notes) - 10} more (see manifest.json)", file=sys.stderr)


def writers_for(result, lang: str | None = None, maps: bool = True) -> list:
    """Writers of the workbook, maps and report for ``Result.write``."""
    from .report.budget import write_budget

    chosen = lang or result.manifest.get("lang") or "en"
    out = [lambda r, folder: write_budget(r, folder, lang=chosen,
                                          criticality=r.tables.get("criticality"))]
    if maps:
        from .report.html import write_all

        out.append(write_all)
    return out


def cmd_run(args: argparse.Namespace) -> int:
    from .chain import run
    from .scenario import load_scenario

    scenarios = [load_scenario(p) for p in args.scenarios]   # all checked before any work
    names = [s.name for s in scenarios]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError.single(args.scenarios[names.index(dupes[0])],
                                f"scenario name {dupes[0]!r} is used more than once",
                                column="name", expected="a unique name per scenario")
    if args.workers is not None and args.workers < 1:
        raise InputError.single("--workers", f"{args.workers} is not a number of processes",
                                expected="a whole number >= 1")
    for scenario in scenarios:
        progress = Progress()
        progress(f"{scenario.name}: starting")
        with warnings.catch_warnings(record=True):
            result = run(scenario, progress=progress, criticality=not args.no_criticality,
                         workers=args.workers)
        progress(f"{scenario.name}: writing tables, workbook, maps")
        folder = result.write(args.out, writers=writers_for(result, args.lang,
                                                             maps=not args.no_maps),
                              format=args.format,
                              modes=[result.mode] if args.scenario_mode_only else None)
        progress.done()
        _print_warnings(result.manifest.get("warnings", []))
        sys.stderr.flush()
        print(headline(result, folder), flush=True)
    return 0


def headline(result, folder: Path) -> str:
    """Per stage: the worst year's shortfall and the zones where it falls."""
    mode = result.mode
    short = result.shortfall[result.shortfall["mode"] == mode]
    summary = result.summary[result.summary["mode"] == mode]
    names = dict(zip(result.zones["zone_id"], result.zones["name"]))
    lines = [f"{result.name}: wrote {folder} ({result.manifest['timings']['total_s']:.1f} s)",
             f"  {'stage':<13}{'worst year':>10}{'shortfall':>11}{'of demand':>11}"
             f"{'out of reach':>14}  where (top zones)"]
    for stage, g in summary.groupby("stage", sort=False):
        worst = g.loc[g["shortfall"].idxmax()]
        z = short[(short["stage"] == stage) & (short["year"] == worst["year"])] \
            .nlargest(3, "shortfall")
        where = ", ".join(f"{names.get(r.zone_id, r.zone_id)} {r.shortfall:,}"
                          for r in z.itertuples() if r.shortfall > 0) or "-"
        share = worst["shortfall"] / worst["demand"] if worst["demand"] else 0.0
        lines.append(f"  {stage:<13}{int(worst['year']):>10}{int(worst['shortfall']):>11,}"
                     f"{share:>11.1%}{int(worst['out_of_reach']):>14,}  {where}")
    return "\n".join(lines)


def cmd_compare(args: argparse.Namespace) -> int:
    from .report.compare import format_compare, write_compare
    from .result import read_result

    results = [read_result(p) for p in args.runs if Path(p).resolve() != Path(args.out).resolve()]
    folder = write_compare(results, args.out)
    from .report.compare import compare

    print(format_compare(compare(results)))
    print(f"wrote {folder}")
    return 0


def cmd_map(args: argparse.Namespace) -> int:
    from .report.maps import map_command

    paths = map_command(args.run, args.stage, args.year, mode=args.mode, rings=args.rings)
    for p in paths:
        print(f"wrote {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
