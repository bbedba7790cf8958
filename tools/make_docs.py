"""Regenerate the schema tables of docs/model-format.md and docs/scenarios.md.

The tables between ``<!-- schema:NAME -->`` and ``<!-- /schema -->`` are written from the
CSV files of ``capacity/schema/``; the prose around them is left alone.

    python tools/make_docs.py           # rewrite stale docs
    python tools/make_docs.py --check   # exit 1 if any doc is stale
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from capacity.schema.docs import stale  # noqa: E402


def main(argv: list[str]) -> int:
    check = "--check" in argv
    paths = stale(ROOT, write=not check)
    for p in paths:
        print(f"{'stale' if check else 'updated'}: {p.relative_to(ROOT)}")
    return 1 if check and paths else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
