"""``capacity report RUN [--plan PLAN] [--ensemble ENS] -o DIR [--lang zh|en]``: the dossier
(``DIR/dossier.html`` and ``DIR/dossier.pdf``) — an A4 summary page, then the detail
sections of the run, plan and ensemble (capacity/report/dossier.py; docs/cli.md)."""
from __future__ import annotations

import argparse

__all__ = ["add_parser", "cmd_report"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser("report", help="one document for a funding request: an A4 summary "
                       "page, then the run, plan and ensemble (HTML and PDF)")
    r.add_argument("run", help="a run folder (capacity run … -o OUT: OUT/<scenario>)")
    r.add_argument("--plan", default=None, help="a plan folder (capacity plan): what to "
                   "build and the request by year come from it (default: the run's costing)")
    r.add_argument("--ensemble", default=None, help="an ensemble folder (capacity ensemble): "
                   "P80/P90 places and how sure, in words")
    r.add_argument("-o", "--out", required=True, help="output folder (dossier.html and "
                   "dossier.pdf are written into it; its other files are left alone)")
    r.add_argument("--lang", choices=("en", "zh"), default=None,
                   help="language of the dossier (default: the run's, else en)")
    r.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    from capacity.report import labels as L
    from capacity.report.dossier import write_dossier
    from capacity.report.pdf import page_count

    pdf, lang = write_dossier(args.run, args.out, plan=args.plan, ensemble=args.ensemble,
                              lang=args.lang)
    print(L.text("dossier", "wrote", lang, html=pdf.with_suffix(".html"), pdf=pdf,
                 pages=page_count(pdf)))
    return 0
