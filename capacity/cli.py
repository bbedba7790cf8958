"""Command line (docs/cli.md): validate, project, run, compare, map, migration-residual,
calibrate-migration, backtest, ensemble, plan, catchments, report.

Exit codes: 0 success, 2 bad input (every problem printed as file:row:column: message),
1 internal error.
"""
from __future__ import annotations

import argparse
import sys
import traceback
import warnings
from pathlib import Path

from .errors import InputError
from .progress import Progress, print_warnings


def main(argv: list[str] | None = None) -> int:
    """The command line; ``argv`` None: this process's arguments, and the process is the
    command: it then skips the garbage collection of everything at exit (``gc.freeze``;
    the operating system frees the memory), a few tenths of a second after a run."""
    if argv is None:
        try:
            return _main(argv)
        finally:
            import gc

            gc.freeze()
    return _main(argv)


def _main(argv: list[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        check_outputs(args)
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


#: Options naming a file to write, per command; every other command's ``-o`` is a folder.
FILE_OUTPUTS = {"migration-residual": ("out", "groups"), "calibrate-migration": ("out", "fit")}


def check_outputs(args: argparse.Namespace) -> None:
    """Every command's outputs checked before any work (capacity.runfolder.check_out_dir):
    an existing file, a read-only folder or a path under a file as ``-o`` is exit 2."""
    from .runfolder import check_out_dir, check_out_file

    files = FILE_OUTPUTS.get(args.command)
    for key in files or ():
        if getattr(args, key, None):
            check_out_file(getattr(args, key), "-o" if key == "out" else f"--{key}")
    if files is None and getattr(args, "out", None):
        check_out_dir(args.out)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="capacity", description="School-place capacity planner: "
                                "project pupils, assign them to schools, report shortfalls.")
    from . import __version__

    p.add_argument("--version", action="version", version=f"capacity {__version__}")
    sub = p.add_subparsers(metavar="COMMAND", dest="command")
    v = sub.add_parser("validate", help="check a model folder or scenario file")
    v.add_argument("path", help="MODEL_DIR or SCENARIO.toml")
    _outside_option(v)
    _lang_option(v, "the summary")
    v.set_defaults(func=cmd_validate)
    pr = sub.add_parser("project", help="population projection only")
    pr.add_argument("scenario")
    pr.add_argument("-o", "--out", required=True, help="output folder")
    _outside_option(pr)
    _lang_option(pr, "the summary")
    pr.set_defaults(func=cmd_project)
    r = sub.add_parser("run", help="the whole pipeline, one subfolder per scenario")
    r.add_argument("scenarios", nargs="+")
    r.add_argument("-o", "--out", required=True, help="output folder")
    _outside_option(r)
    r.add_argument("--lang", choices=("en", "zh"), default=None,
                   help="language of the report, maps, workbook and summary (default: the "
                        "scenario's [report] lang, else the model's, else en)")
    r.add_argument("--csv-bom", action="store_true", default=None,
                   help="write CSVs as UTF-8 with a byte-order mark, for Excel on Chinese "
                        "Windows (default: [report] csv_bom of the scenario or model)")
    r.add_argument("--no-criticality", action="store_true",
                   help="skip the per-project criticality re-runs (faster)")
    r.add_argument("--no-maps", action="store_true", help="skip maps and report.html")
    r.add_argument("--format", choices=("csv", "parquet"), default="csv",
                   help="format of the run folder's tables (parquet: zstd, much smaller and "
                        "faster for large districts; capacity.load_result reads both)")
    r.add_argument("--scenario-mode-only", action="store_true",
                   help="write only the scenario's allocation mode in the tables")
    r.add_argument("--workers", type=int, default=None, metavar="N",
                   help="processes for the solves and for writing the outputs "
                        "(default: every core)")
    r.set_defaults(func=cmd_run)
    c = sub.add_parser("compare", help="compare run folders side by side")
    c.add_argument("runs", nargs="+")
    c.add_argument("-o", "--out", required=True)
    c.add_argument("--lang", choices=("en", "zh"), default=None,
                   help="language of compare.xlsx (default: the runs' language, else en)")
    c.set_defaults(func=cmd_compare)
    m = sub.add_parser("map", help="catchment map of a run (PNG, SVG and HTML)")
    m.add_argument("run")
    m.add_argument("--stage", required=True)
    m.add_argument("--year", type=int, required=True)
    m.add_argument("--mode", choices=("optimal", "catchment"), default=None)
    m.add_argument("--rings", action="store_true",
                   help="draw each school's service radius on the static map")
    _lang_option(m, "the maps (default: the run's)")
    m.set_defaults(func=cmd_map)
    from .commands import backtest, migration, report

    migration.add_parsers(sub)
    backtest.add_parser(sub)
    report.add_parser(sub)
    from .ensemble.cli import add_parser as add_ensemble

    add_ensemble(sub)
    from .catchments.cli import add_parser as add_catchments

    add_catchments(sub)
    pl = sub.add_parser("plan", help="where and when to build: new schools, temporary "
                        "places, transport (docs/plan.md)")
    pl.add_argument("scenario")
    pl.add_argument("-o", "--out", required=True, help="output folder")
    pl.add_argument("--stage", action="append", default=None, help="plan only this stage "
                    "(repeatable; default: every stage)")
    pl.add_argument("--time-limit", type=float, default=None, metavar="S",
                    help="solver seconds per stage (default: model.toml plan.time_limit_s)")
    pl.add_argument("--draws", type=int, default=0, metavar="N",
                    help="one plan for every future: schools chosen once for N draws of the "
                         "scenario's ensemble (default 0: the deterministic plan)")
    pl.add_argument("--seed", type=int, default=0, help="seed of the draws (as ensemble)")
    pl.add_argument("--lang", choices=("en", "zh"), default=None,
                    help="language of report.html, plan.xlsx and plan_map.png (default: the "
                         "scenario's [report] lang, else the model's, else en)")
    pl.set_defaults(func=cmd_plan)
    return p


def cmd_plan(args: argparse.Namespace) -> int:
    from .plan.run import make_plan
    from .plan.write import plan_name, write_plan
    from .runfolder import check_out_dir
    from .scenario import load_scenario

    from .options import check as check_options

    check_options("plan", {"--draws": args.draws, "--seed": args.seed})
    check_out_dir(args.out, names=[plan_name(load_scenario(args.scenario).name)])
    progress = Progress()
    with warnings.catch_warnings(record=True):
        plan = make_plan(args.scenario, stages=args.stage, progress=progress,
                         time_limit_s=args.time_limit, draws=args.draws, seed=args.seed)
    progress.done()
    folder = write_plan(plan, args.out, lang=args.lang)
    from .plan.write import plan_lang
    from .report.plan_section import plan_console

    print(plan_console(plan.summary, folder, plan_lang(plan, args.lang)))
    return 0


def _lang_option(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--lang", choices=("en", "zh"), default=None,
                   help=f"language of {what} (default: the scenario's [report] lang, else "
                        "the model's, else en)")


def _cli(key: str, lang: str, **fields) -> str:
    """A [cli] text of the catalogues in ``lang``."""
    from .report import labels as L

    return L.text("cli", key, lang, **fields)


def _outside_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--allow-outside-model", action="store_true",
                   help="let model.toml [files] name files outside the model folder")


def cmd_validate(args: argparse.Namespace) -> int:
    from .chain import resolve_scenario
    from .inputs import load_inputs
    from .scenario import default_scenario

    path = Path(args.path)
    # a scenario file, or a model folder (or its model.toml) alone
    scenario = default_scenario(path) if path.suffix != ".toml" or path.name == "model.toml" \
        else resolve_scenario(path)
    model = load_inputs(scenario, allow_outside_model=args.allow_outside_model)
    if "uncertainty" in scenario.raw:     # checked as `capacity ensemble` checks it
        from .ensemble.api import checked_uncertainty

        checked_uncertainty(scenario, model)
    lang = args.lang or scenario.lang or model.lang or "en"
    if scenario.path is not None:
        from .names import in_lang
        from .report import labels as L

        print(_cli("valid", lang, scenario=in_lang(scenario.name, scenario.name_zh, lang),
                   horizon=scenario.horizon, mode=scenario.mode if lang == "en"
                   else L.mode_label(scenario.mode, lang)))
    print(model_summary(model, lang))
    for w in model.warnings:
        print(f"warning: {w}", file=sys.stderr)
    return 0


def model_summary(model, lang: str | None = None) -> str:
    """One screen: zones, population, schools and places per stage, projects (in ``lang``,
    default the model's [report] lang; capacity/report/console.py)."""
    from .report.console import model_summary as summary

    return summary(model, lang)


def cmd_project(args: argparse.Namespace) -> int:
    from .chain import project_population

    progress = Progress()
    with warnings.catch_warnings(record=True):
        result = project_population(args.scenario, progress,
                                    allow_outside_model=args.allow_outside_model)
    progress.done()
    folder = result.write(args.out)
    from .report.money import people

    lang = args.lang or result.manifest.get("lang") or "en"   # the scenario's, else the model's
    print_warnings(result.manifest.get("warnings", []), lang)
    tot = result.population.groupby("year")["population"].sum()
    print(_cli("projected", lang, folder=folder, first=int(tot.index[0]),
               start=people(tot.iloc[0], lang), last=int(tot.index[-1]),
               end=people(tot.iloc[-1], lang)))
    return 0


def writers_for(result, lang: str | None = None, maps: bool = True) -> list:
    """Writers of the workbook, maps and report for ``Result.write``."""
    from .report.budget import write_budget

    chosen = lang or result.manifest.get("lang") or "en"
    result.manifest["lang"] = chosen           # maps and report follow the workbook

    def budget(r, folder):
        return write_budget(r, folder, lang=chosen, criticality=r.tables.get("criticality"))

    budget.job_name, budget.cost = "budget.xlsx", 0.6   # capacity.writejobs: name, seconds
    out = [budget]
    if maps:
        from .report.deliverables import write_all

        out.append(write_all)
    return out


def cmd_run(args: argparse.Namespace) -> int:
    from .chain import run
    from .scenario import load_scenario

    from .runfolder import check_out_dir

    scenarios = [load_scenario(p) for p in args.scenarios]   # all checked before any work
    names = [s.name for s in scenarios]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError.single(args.scenarios[names.index(dupes[0])],
                                f"scenario name {dupes[0]!r} is used more than once",
                                column="name", expected="a unique name per scenario")
    check_out_dir(args.out, names=names)
    if args.workers is not None and args.workers < 1:
        raise InputError.single("--workers", f"{args.workers} is not a number of processes",
                                expected="a whole number >= 1")
    for scenario in scenarios:
        if args.lang:
            scenario.lang = args.lang          # --lang wins over the scenario and the model
        if args.csv_bom:
            scenario.csv_bom = True
        progress = Progress()
        progress(f"{scenario.name}: starting")
        with warnings.catch_warnings(record=True):
            result = run(scenario, progress=progress, criticality=not args.no_criticality,
                         workers=args.workers, allow_outside_model=args.allow_outside_model)
        progress(f"{scenario.name}: writing tables, workbook, maps")
        folder = result.write(args.out, writers=writers_for(result, args.lang,
                                                             maps=not args.no_maps),
                              format=args.format,
                              modes=[result.mode] if args.scenario_mode_only else None,
                              workers=result.manifest.get("workers", 1))
        progress.done()
        print_warnings(result.manifest.get("warnings", []), result.manifest.get("lang") or "en")
        sys.stderr.flush()
        print(headline(result, folder), flush=True)
    return 0


def headline(result, folder: Path) -> str:
    """Per stage: the worst year's shortfall and the zones where it falls, in the run's
    language (capacity/report/console.py)."""
    from .report.console import headline as lines

    return lines(result, folder)


def cmd_compare(args: argparse.Namespace) -> int:
    from .report.compare import console_text, write_compare
    from .result import read_result, require_pipeline

    results = [require_pipeline(read_result(p)) for p in args.runs
               if Path(p).resolve() != Path(args.out).resolve()]
    langs = {r.manifest.get("lang") or "en" for r in results}
    lang = args.lang or (langs.pop() if len(langs) == 1 else "en")
    folder = write_compare(results, args.out, lang=lang)
    from .report import labels as L

    print(console_text(results, lang))
    print(L.text("compare_console", "wrote", lang, folder=folder))
    return 0


def cmd_map(args: argparse.Namespace) -> int:
    from .report.maps import map_command

    from .report.catchment import result_lang
    from .result import read_result

    paths = map_command(args.run, args.stage, args.year, mode=args.mode, rings=args.rings,
                        lang=args.lang)
    lang = args.lang or result_lang(read_result(args.run))
    for p in paths:
        print(_cli("wrote", lang, path=p))
    return 0


if __name__ == "__main__":
    sys.exit(main())
