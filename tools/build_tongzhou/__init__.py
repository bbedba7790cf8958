"""Build the embedded default model ``models/tongzhou`` from ``models/tongzhou/sources``.

Usage, from the repository root::

    python -m tools.build_tongzhou [--out models/tongzhou]

The build reads ONLY ``models/tongzhou/sources/`` (copies of the shared facts, and the
build's own parameter tables with their flags and sources) and writes zones.geojson,
population.csv, fertility.csv, mortality.csv, migration.csv, housing.csv, units.csv,
schools.csv, projects.csv, model.toml and README.md into ``--out``.  One module per table.

It is deterministic: fixed float formatting, sorted rows, no timestamps, fixed RNG seeds.
Re-running it reproduces every file byte for byte (tests/test_tongzhou_data.py checks this).

Every number is either a sourced fact (source ids S1..S79 of sources/SOURCES.md, PLAN =
sources/plan_2021_2025_excerpt.txt) or an estimate labelled as such in the output files and
README.  The methods are described next to the code and in the generated README.
"""
from tools.build_tongzhou.build import build

__all__ = ["build"]
