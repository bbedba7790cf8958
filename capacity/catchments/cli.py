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
    print(console_text(result, folder, args.lang))
    return 0


def console_text(result, folder, lang: str | None = None) -> str:
    """What ``capacity catchments`` prints, in ``lang`` (default: the scenario's, else the
    model's; text/<lang>.toml [catchments_console])."""
    from ..report import labels as L

    state = result.state if hasattr(result, "state") else None
    lang = lang or (state and (state.scenario.lang or state.model.lang)) or "en"

    def c(key: str, **fields) -> str:
        return L.text("catchments_console", key, lang, **fields)

    lines = [c("wrote", folder=folder)]
    for r in result.tables["catchment_summary"].itertuples():
        moved = "" if r.pupils_moved is None or r.pupils_moved != r.pupils_moved else \
            c("moved", n=f"{int(r.pupils_moved):,}")
        status = L.TEXTS[lang]["catchments"].get("status_" + str(r.status).replace(" ", "_"),
                                                 str(r.status))
        lines.append("  " + c("stage", stage=r.stage if lang == "en"
                              else L.stage_label(r.stage, lang), year=r.year,
                              nearest=f"{r.shortfall_nearest:>7,}",
                              designed=f"{r.shortfall_designed:>7,}",
                              optimal=f"{r.shortfall_optimal:>7,}", n=r.catchments,
                              contiguous=f"{r.contiguous_share:.0%}", status=status,
                              gap=f"{r.gap:.1%}", seconds=f"{r.seconds:.1f}", moved=moved))
    if "current_issues" in result.tables and len(result.tables["current_issues"]):
        iss = result.tables["current_issues"]["issue"].value_counts()
        lines.append("  " + c("current", gap=iss.get("gap", 0), overlap=iss.get("overlap", 0)))
    return "\n".join(lines)
