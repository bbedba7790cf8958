"""``capacity ensemble``: the command's options and what it prints (docs/cli.md)."""
from __future__ import annotations

import argparse
import sys
import warnings

from ..errors import InputError
from ..progress import Progress


def add_parser(sub) -> None:
    """Register ``capacity ensemble`` on the CLI's subcommands."""
    e = sub.add_parser("ensemble", help="N draws of a scenario's uncertain inputs: "
                       "quantiles, shortfall probabilities, fan charts, budget at P50/P80/P90")
    e.add_argument("scenario")
    e.add_argument("-o", "--out", required=True, help="output folder")
    e.add_argument("--draws", type=int, default=100, metavar="N", help="draws (default 100)")
    e.add_argument("--seed", type=int, default=0, metavar="S",
                   help="seed: the same seed gives the same draws on any cluster (default 0)")
    where = e.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None, metavar="K",
                       help="local worker processes (default: every core)")
    where.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                       help="an existing dask.distributed scheduler to run on")
    e.add_argument("--batch", type=int, default=None, metavar="B",
                   help="draws per task (default: about four tasks per worker, at most 16)")
    e.add_argument("--year", type=int, default=None,
                   help="year of the probability map (default: the scenario's report year)")
    e.add_argument("--only-draw", type=int, default=None, metavar="I",
                   help="re-run draw I alone through the whole chain into OUT/<scenario>-draw-I/")
    e.set_defaults(func=cmd_ensemble)


def cmd_ensemble(args: argparse.Namespace) -> int:
    from .api import ensemble, run_draw

    for name in ("draws", "batch"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise InputError.single(f"--{name}", f"{value} is not valid",
                                    expected="a whole number >= 1")
    if args.seed < 0:
        raise InputError.single("--seed", f"{args.seed} is negative", expected="a seed >= 0")
    if args.only_draw is not None:
        with warnings.catch_warnings(record=True):
            result = run_draw(args.scenario, args.only_draw, args.seed)
        folder = result.write(args.out)
        print(f"draw {args.only_draw} (seed {args.seed}): wrote {folder}")
        return 0
    progress = Progress()
    with warnings.catch_warnings(record=True):
        result = ensemble(args.scenario, args.draws, args.seed, workers=args.workers,
                          scheduler=args.scheduler, batch=args.batch, progress=progress)
    progress("writing tables and report")
    folder = result.write(args.out, year=args.year)
    progress.done()
    sys.stderr.flush()
    print(headline(result, folder), flush=True)
    return 0


def headline(result, folder) -> str:
    """The worst year per stage with its P10/P50/P90 district shortfall."""
    m = result.manifest
    lines = [f"{result.scenario}: {m['draws']} draws (seed {m['seed']}, "
             f"{m['cluster']['workers']} workers) in {m['timings']['total_s']:.1f} s: wrote "
             f"{folder}",
             f"  {'stage':<13}{'worst year':>10}{'P10':>9}{'P50':>9}{'P90':>9}"
             f"{'deterministic':>15}"]
    for r in result.worst_years().itertuples():
        lines.append(f"  {r.stage:<13}{r.year:>10}{r.p10:>9,.0f}{r.p50:>9,.0f}{r.p90:>9,.0f}"
                     f"{r.deterministic:>15,.0f}")
    return "\n".join(lines)
