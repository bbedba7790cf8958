"""``capacity ensemble``: the command's options and what it prints (docs/cli.md)."""
from __future__ import annotations

import argparse
import sys
import warnings

from ..options import check as check_options, default, described
from ..progress import Progress, print_warnings


def add_parser(sub) -> None:
    """Register ``capacity ensemble`` on the CLI's subcommands (help texts and bounds:
    capacity/schema/commands/options.csv)."""
    e = sub.add_parser("ensemble", help="N draws of a scenario's uncertain inputs: "
                       "quantiles, shortfall probabilities, fan charts, budget at P50/P80/P90")
    e.add_argument("scenario")
    e.add_argument("-o", "--out", required=True, help="output folder")
    e.add_argument("--draws", type=int, default=default("ensemble", "--draws"), metavar="N",
                   help=described("ensemble", "--draws"))
    e.add_argument("--seed", type=int, default=default("ensemble", "--seed"), metavar="S",
                   help=described("ensemble", "--seed"))
    where = e.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None, metavar="K",
                       help=described("ensemble", "--workers"))
    where.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                       help=described("ensemble", "--scheduler"))
    e.add_argument("--batch", type=int, default=None, metavar="B",
                   help=described("ensemble", "--batch"))
    e.add_argument("--year", type=int, default=None, help=described("ensemble", "--year"))
    e.add_argument("--only-draw", type=int, default=None, metavar="I",
                   help=described("ensemble", "--only-draw"))
    e.add_argument("--lang", choices=("en", "zh"), default=None,
                   help="language of report.html, the charts and the summary (default: the "
                        "scenario's [report] lang, else the model's, else en)")
    e.set_defaults(func=cmd_ensemble)


def cmd_ensemble(args: argparse.Namespace) -> int:
    from .api import ensemble, run_draw

    check_options("ensemble", {"--draws": args.draws, "--seed": args.seed,
                               "--workers": args.workers, "--batch": args.batch,
                               "--scheduler": args.scheduler, "--year": args.year,
                               "--only-draw": args.only_draw})
    if args.only_draw is not None:
        with warnings.catch_warnings(record=True):
            result = run_draw(args.scenario, args.only_draw, args.seed)
        folder = result.write(args.out)
        print(f"draw {args.only_draw} (seed {args.seed}): wrote {folder}")
        return 0
    progress = Progress()
    with warnings.catch_warnings(record=True):
        result = ensemble(args.scenario, args.draws, args.seed, workers=args.workers,
                          scheduler=args.scheduler, batch=args.batch, progress=progress,
                          year=args.year, lang=args.lang)
    progress("writing tables and report")
    folder = result.write(args.out)
    progress.done()
    print_warnings(result.manifest.get("warnings", []), result.manifest.get("lang") or "en")
    sys.stderr.flush()
    print(headline(result, folder), flush=True)
    return 0


def headline(result, folder) -> str:
    """The worst year per stage with its P10/P50/P90 district shortfall, in the ensemble's
    language (text/<lang>.toml [ensemble] console_*)."""
    from ..names import scenario_name
    from ..report import labels as L
    from ..report.console import row as console_row
    from .report import ensemble_lang, t

    m = result.manifest
    lang = ensemble_lang(result)
    widths = [13, 12, 9, 9, 9, 15]
    lines = [t("console_wrote", lang, scenario=scenario_name(m, lang) or result.scenario,
               draws=m["draws"], seed=m["seed"], workers=m["cluster"]["workers"],
               seconds=f"{m['timings']['total_s']:.1f}", folder=folder),
             "  " + console_row(t("console_header", lang).split("|"), widths)]
    for r in result.worst_years().itertuples():
        stage = r.stage if lang == "en" else L.stage_label(r.stage, lang)
        lines.append("  " + console_row([stage, r.year, f"{r.p10:,.0f}", f"{r.p50:,.0f}",
                                         f"{r.p90:,.0f}", f"{r.deterministic:,.0f}"], widths))
    return "\n".join(lines)
