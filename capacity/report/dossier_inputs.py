"""The folders a dossier is made from, read and checked (docs/cli.md, ``capacity report``).

A run folder (``capacity run``), optionally a plan folder (``capacity plan``) and an ensemble
folder (``capacity ensemble``). Only their files are read, nothing is recomputed; a missing
file or column is an :class:`~capacity.errors.InputError` naming the folder, the file and the
fix. Optional plan columns (``name_zh``, ``zone_id``, ``places``, ``open_year``…) may be
absent: the plan folder's format is the plan command's (docs/plan.md). A run written with
``--format parquet`` is read from its ``.parquet`` tables.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import InputError, Problems

#: file → columns a dossier needs, per kind of folder (plan.csv's other columns optional).
NEEDS = {
    "run": {"manifest.json": (), "summary.csv": ("year", "stage", "mode", "demand",
                                                 "shortfall")},
    "costing": {"budget_cost.csv": ("id", "stage", "kind", "zone_id", "zone_name", "places",
                                    "first_year", "open_year", "last_year", "pupil_years",
                                    "cost_cny", "basis"),
                "budget_cost_by_year.csv": ("year", "year_status", "stage", "kind",
                                            "cost_cny")},
    "plan": {"plan.csv": ("stage", "kind"), "plan_by_year.csv": ("year", "stage", "kind",
                                                                 "cost_cny")},
    "ensemble": {"ensemble.json": (), "probability.csv": ("zone_id", "stage", "year",
                                                         "p_shortfall"),
                 "risk.csv": ("zone_id", "stage", "year", "p_short_gt_1000"),
                 "quantiles.csv": ("zone_id", "stage", "year", "measure", "p90"),
                 "budget.csv": ("zone_id", "stage", "places_p80")},
}
WHAT = {"run": "a run folder (capacity run … -o OUT: OUT/<scenario>)",
        "costing": "a run folder written with its budget (capacity run, not the Python API "
                   "without writers)",
        "plan": "a plan folder (capacity plan … -o OUT: OUT/<scenario>-plan)",
        "ensemble": "an ensemble folder (capacity ensemble … -o OUT: OUT/<scenario>-ensemble)"}


@dataclass
class Folder:
    """One folder's files: CSVs as frames, JSON as dicts, and its report.html if any."""

    path: Path
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    report: str | None = None


@dataclass
class Inputs:
    """The dossier's folders (plan and ensemble optional)."""

    run: Folder
    plan: Folder | None
    ensemble: Folder | None

    @property
    def manifest(self) -> dict:
        return self.run.meta


def read_folder(path: str | Path, kinds: tuple[str, ...], problems: Problems) -> Folder:
    """Read the files ``NEEDS[kind]`` lists for each kind (problems collected)."""
    folder = Folder(Path(path))
    if not folder.path.is_dir():
        problems.add(path, "is not a folder", expected=WHAT[kinds[0]])
        return folder
    for kind in kinds:
        for name, cols in NEEDS[kind].items():
            file = folder.path / name
            parquet = file.with_suffix(".parquet")
            if name.endswith(".csv") and not file.is_file() and parquet.is_file():
                file = parquet                     # capacity run --format parquet
            if not file.is_file():
                problems.add(file, f"missing: {folder.path.name} is not {WHAT[kind]}",
                             expected=WHAT[kind])
                continue
            try:
                if name.endswith(".json"):
                    folder.meta.update(json.loads(file.read_text(encoding="utf-8")))
                    continue
                frame = pd.read_parquet(file) if file.suffix == ".parquet" else \
                    pd.read_csv(file, encoding="utf-8-sig")
            except (ValueError, UnicodeDecodeError, OSError) as exc:
                problems.add(file, f"cannot be read ({exc})", expected=WHAT[kind])
                continue
            missing = [c for c in cols if c not in frame.columns]
            if missing:
                problems.add(file, "lacks columns " + ", ".join(missing), column=missing[0],
                             expected=f"the columns of {WHAT[kind]} (docs/outputs.md)")
            folder.tables[name.removesuffix(".csv")] = frame
    report = folder.path / "report.html"
    if report.is_file():
        folder.report = report.read_text(encoding="utf-8")
    return folder


def read_inputs(run: str | Path, plan: str | Path | None = None,
                ensemble: str | Path | None = None) -> Inputs:
    """The dossier's folders, every problem of all of them in one InputError."""
    problems = Problems()
    out = Inputs(read_folder(run, ("run",) if plan else ("run", "costing"), problems),
                 read_folder(plan, ("plan",), problems) if plan else None,
                 read_folder(ensemble, ("ensemble",), problems) if ensemble else None)
    problems.raise_if_any()
    return out
