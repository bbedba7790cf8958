"""``capacity catchments``: options, and what it prints (docs/cli.md)."""
from __future__ import annotations

import argparse
import re
import sys
import warnings

from ..errors import InputError
from ..progress import Progress


def add_parser(sub) -> None:
    """Register ``capacity catchments`` on the CLI's subcommands."""
    c = sub.add_parser("catchments", help="designed catchments (划片): each unit to one "
                       "school, contiguous, within reach, sized to places (docs/catchments.md)")
    c.add_argument("scenario")
    c.add_argument("-o", "--out", required=True, help="output folder")
    c.add_argument("--stage", action="append", default=None,
                   help="design this stage (repeatable; default: every stage)")
    when = c.add_mutually_exclusive_group()
    when.add_argument("--year", type=int, default=None,
                      help="one map for this year (default: the scenario's report year)")
    when.add_argument("--years", default=None, metavar="A-B",
                      help="one map for the years A to B (places respected in every year)")
    c.add_argument("--each-year", action="store_true",
                   help="with --years: a map per year, each changing as few pupils' schools "
                        "as the first two objectives allow")
    c.add_argument("--current", default=None, metavar="FILE",
                   help="the bureau's catchment polygons (GeoJSON, GeoPackage, Shapefile; a "
                        "school_id column): pupils moved are counted from it")
    c.add_argument("--time-limit", type=float, default=None, metavar="S",
                   help="solver seconds per map (default: model.toml catchments.time_limit_s)")
    c.add_argument("--lang", choices=("en", "zh"), default=None,
                   help="language of the maps (default: the scenario's, else the model's)")
    c.set_defaults(func=cmd_catchments)


def span(args: argparse.Namespace) -> tuple[int, int] | None:
    """The years asked for: (Y, Y), (A, B), or None (the report year)."""
    if args.year is not None:
        return args.year, args.year
    if args.years is None:
        if args.each_year:
            raise InputError.single("--each-year", "needs --years A-B",
                                    expected="--years 2026-2028 --each-year")
        return None
    m = re.fullmatch(r"\s*(\d{4})\s*[-–]\s*(\d{4})\s*", args.years)
    if not m or int(m.group(1)) > int(m.group(2)):
        raise InputError.single("--years", f"{args.years!r} is not a span of years",
                                expected="A-B with A ≤ B, e.g. 2026-2028")
    return int(m.group(1)), int(m.group(2))


def cmd_catchments(args: argparse.Namespace) -> int:
    from .run import make_catchments
    from .write import write_catchments

    years = span(args)
    progress = Progress()
    with warnings.catch_warnings(record=True):
        result = make_catchments(args.scenario, args.stage, years, args.each_year,
                                 args.current, args.time_limit, progress)
        progress("catchments: writing")
        folder = write_catchments(result, args.out, args.lang)
    progress.done()
    sys.stderr.flush()
    print(f"wrote {folder}")
    s = result.tables["catchment_summary"]
    for r in s.itertuples():
        moved = "" if r.pupils_moved is None or r.pupils_moved != r.pupils_moved else \
            f", {int(r.pupils_moved):,} pupils moved"
        print(f"  {r.stage:<13}{r.year} shortfall nearest {r.shortfall_nearest:>7,} "
              f"designed {r.shortfall_designed:>7,} optimal {r.shortfall_optimal:>7,}; "
              f"{r.catchments} catchments, {r.contiguous_share:.0%} contiguous; "
              f"{r.status}, gap {r.gap:.1%}, {r.seconds:.1f} s{moved}")
    if "current_issues" in result.tables and len(result.tables["current_issues"]):
        iss = result.tables["current_issues"]["issue"].value_counts()
        print(f"  current map: {iss.get('gap', 0)} units in no polygon, "
              f"{iss.get('overlap', 0)} in several (current_issues.csv)")
    return 0
