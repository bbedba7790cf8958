"""A scenario run's tables, written to and read back from an output folder.

The contract tables (DESIGN §8) keep exactly their names and columns. A run folder also holds
a few tables of our own that maps, reports and notebooks need without recomputing:
``zones.geojson`` (zone outlines, WGS84), ``components.csv`` (births, deaths, net migration per
zone and year), ``projects.csv`` (key projects after scenario edits) and ``manifest.json``
(scenario, model, stage settings, input hashes, versions, timings).
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

#: Contract tables and their columns, in order (DESIGN §8).
TABLES: dict[str, list[str]] = {
    "population": ["zone_id", "year", "sex", "age", "population"],
    "demand": ["zone_id", "year", "stage", "pupils"],
    "units": ["unit_id", "zone_id", "lon", "lat"],
    "capacity": ["school_id", "name", "year", "stage", "places", "lon", "lat"],
    "allocation": ["unit_id", "school_id", "year", "stage", "mode", "pupils", "distance_m"],
    "schools": ["school_id", "year", "stage", "mode", "places", "pupils", "utilisation"],
    "shortfall": ["zone_id", "year", "stage", "mode", "demand", "served", "shortfall",
                  "out_of_reach"],
    "summary": ["year", "stage", "mode", "demand", "places", "served", "shortfall",
                "out_of_reach"],
    "indicators": ["year", "indicator", "value", "target", "met"],
}

#: Tables of our own, also written to the run folder.
EXTRA_TABLES: dict[str, list[str]] = {
    "components": ["zone_id", "year", "births", "deaths", "net_migration"],
    "projects": ["project_id", "name", "kind", "stage", "school_id", "places", "open_year",
                 "cost", "lon", "lat"],
    "criticality": ["project_id", "name", "kind", "stage", "open_year", "places",
                    "extra_shortfall_if_dropped", "extra_shortfall_if_dropped_peak",
                    "peak_year", "latest_open_year_without_extra_shortfall",
                    "needed_by_horizon"],
}

_ID_COLUMNS = {"zone_id", "unit_id", "school_id", "project_id", "stage", "mode", "sex",
               "indicator", "name", "kind"}


@dataclass
class Result:
    """Every table of one scenario run (DataFrames; ``zones`` is a GeoDataFrame in WGS84)."""

    name: str
    tables: dict[str, pd.DataFrame]
    zones: gpd.GeoDataFrame
    manifest: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def __getattr__(self, item: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if item in tables:
            return tables[item]
        raise AttributeError(item)

    def __repr__(self) -> str:
        rows = ", ".join(f"{k}={len(v)}" for k, v in self.tables.items())
        return f"Result({self.name!r}, {rows})"

    @property
    def mode(self) -> str:
        """The scenario's allocation mode (both modes are always in the tables)."""
        return self.manifest.get("allocation_mode", "optimal")

    @property
    def stages(self) -> dict[str, dict[str, Any]]:
        """Stage settings used by the run (ages, enrolment, class_size, radius_m, cost)."""
        return self.manifest.get("stages", {})

    def write(self, out_dir: str | Path, *, writers: list | None = None) -> Path:
        """Write the run to ``out_dir/<name>/`` atomically; return that folder.

        Everything is written into a temporary sibling folder first and renamed into place
        only when complete, so a failed run never leaves a half-written folder.
        ``writers`` are extra callables ``f(result, folder)`` (workbook, maps, report).
        """
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        final = out_dir / self.name
        tmp = Path(tempfile.mkdtemp(prefix=f".{self.name}.", dir=out_dir))
        tmp.chmod(0o755)  # mkdtemp makes it private; a run folder is for sharing
        try:
            for key, cols in {**TABLES, **EXTRA_TABLES}.items():
                if key in self.tables:
                    frame = self.tables[key]
                    frame = frame[[c for c in cols if c in frame.columns]]
                    frame.to_csv(tmp / f"{key}.csv", index=False, float_format="%.6g")
            self.zones.to_crs("EPSG:4326").to_file(tmp / "zones.geojson", driver="GeoJSON")
            (tmp / "manifest.json").write_text(
                json.dumps(self.manifest, indent=2, ensure_ascii=False, default=str),
                encoding="utf-8")
            self.path = tmp
            for writer in writers or []:
                writer(self, tmp)
            if final.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{self.name}.old.", dir=out_dir))
                os.replace(final, old / "x")
                os.replace(tmp, final)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            self.path = None
            raise
        self.path = final
        return final


def read_result(path: str | Path) -> Result:
    """Reopen a run folder written by :meth:`Result.write` without recomputing."""
    from .errors import InputError

    path = Path(path)
    manifest_file = path / "manifest.json"
    if not manifest_file.is_file():
        raise InputError.single(path, "not a run folder: manifest.json is missing",
                                expected="a folder written by `capacity run`")
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    tables: dict[str, pd.DataFrame] = {}
    for key in {**TABLES, **EXTRA_TABLES}:
        file = path / f"{key}.csv"
        if file.is_file():
            dtypes = {c: "string" for c in _ID_COLUMNS}
            tables[key] = pd.read_csv(file, dtype=dtypes, keep_default_na=True)
    zones = gpd.read_file(path / "zones.geojson") if (path / "zones.geojson").is_file() \
        else gpd.GeoDataFrame({"zone_id": []}, geometry=[], crs="EPSG:4326")
    return Result(name=manifest.get("scenario", path.name), tables=tables, zones=zones,
                  manifest=manifest, path=path)
