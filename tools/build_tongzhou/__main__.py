"""``python -m tools.build_tongzhou [--out DIR]``: rebuild the Tongzhou model."""
from __future__ import annotations

import argparse

from tools.build_tongzhou.build import DEFAULT_OUT, build


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.build_tongzhou",
                                 description="Build models/tongzhou from models/tongzhou/sources.")
    ap.add_argument("--out", default=str(DEFAULT_OUT),
                    help="output folder (default: models/tongzhou)")
    args = ap.parse_args(argv)
    build(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
