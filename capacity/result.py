"""A scenario run's tables, written to and read back from an output folder.

The contract tables (``docs/outputs.md``) keep exactly their names and columns. A run folder
also holds tables of our own that maps, reports and notebooks need without recomputing:
``zones.geojson`` (zone outlines, WGS84), ``components.csv`` (births, deaths, net migration
per zone and year), ``projects.csv`` (key projects after scenario edits), ``criticality.csv``
and ``manifest.json`` (scenario, model, stage settings, input hashes, versions, timings).

Report code asks the result for the run's rules (headline year, compulsory stages, children
of a stage's ages, service radius at a point) instead of restating them.
"""
from __future__ import annotations

import functools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import geopandas as gpd
import numpy as np
import pandas as pd

from .csvout import fixed_decimals, write_csv
from .writejobs import Job, SplitWriter, run_writers

#: Contract tables and their columns, in order (docs/outputs.md).
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
    "names": ["kind", "id", "name", "name_zh"],   # capacity/names.py
    # pupils by grade and what follows from them (capacity/grades.py, capacity/staffing.py)
    "grades": ["school_id", "year", "stage", "mode", "grade", "pupils"],
    "zone_grades": ["zone_id", "year", "stage", "grade", "pupils"],
    "intake": ["school_id", "stage", "year", "mode", "entrants", "classes_to_open"],
    "teachers": ["school_id", "stage", "year", "mode", "pupils", "classes", "rooms",
                 "rooms_short", "teachers"],
    "staffing": ["stage", "year", "mode", "pupils", "classes", "rooms_short", "teachers",
                 "posts_to_recruit", "salary_cny"],
    "shrinking": ["school_id", "stage", "mode", "reason", "first_year", "last_year",
                  "n_years", "years"],
    "progression": ["area_id", "stage", "grade", "year", "cohort_survival", "population",
                    "weight", "pupils"],                # capacity/progression.py
    # lasting surplus of places (capacity/surplus.py)
    "surplus": ["school_id", "stage", "mode", "zone_id", "year", "places", "pupils",
                "spare_places", "years_with_surplus", "surplus_years", "first_year_lasting",
                "freeable_places"],
    "surplus_zones": ["zone_id", "stage", "mode", "year", "demand", "places", "pupils",
                      "spare_places", "places_minus_demand", "first_year_lasting"],
}
ALL_TABLES: dict[str, list[str]] = {**TABLES, **EXTRA_TABLES}

#: Columns held as pandas categories in memory (a city-wide allocation table has 10^7 rows:
#: one small code per row instead of a string); written as plain text (docs/outputs.md).
CATEGORIES: dict[str, tuple[str, ...]] = {"allocation": ("unit_id", "school_id", "stage",
                                                        "mode")}

_ID_COLUMNS = {"zone_id", "unit_id", "school_id", "project_id", "stage", "mode", "sex",
               "indicator", "name", "kind", "id", "name_zh", "reason", "years", "surplus_years",
               "area_id"}

Writer = Callable[["Result", Path], Any]


@dataclass
class Result:
    """Every table of one scenario run. A table the run did not make is ``None``
    (``capacity project`` makes only population and components)."""

    name: str
    zones: gpd.GeoDataFrame                 # zone_id, name, radius_scale, geometry (WGS84)
    manifest: dict[str, Any] = field(default_factory=dict)
    population: pd.DataFrame | None = None  # zone_id, year, sex, age, population
    demand: pd.DataFrame | None = None      # zone_id, year, stage, pupils (expected)
    units: pd.DataFrame | None = None       # unit_id, zone_id, lon, lat
    capacity: pd.DataFrame | None = None    # places per open school, stage and year
    allocation: pd.DataFrame | None = None  # unit → school flows (empty school: unserved)
    schools: pd.DataFrame | None = None     # places, pupils, utilisation per school
    shortfall: pd.DataFrame | None = None   # per zone, year, stage and mode
    summary: pd.DataFrame | None = None     # per year, stage and mode
    indicators: pd.DataFrame | None = None  # the scenario's mode, beside [targets]
    components: pd.DataFrame | None = None  # births, deaths, net migration per zone-year
    projects: pd.DataFrame | None = None    # key projects after scenario edits
    criticality: pd.DataFrame | None = None  # per key project (post-step)
    names: pd.DataFrame | None = None       # kind, id, name, name_zh (capacity/names.py)
    grades: pd.DataFrame | None = None      # pupils per school × grade × year (post-step)
    zone_grades: pd.DataFrame | None = None  # expected pupils per zone × grade × year
    intake: pd.DataFrame | None = None      # entrants and classes to open per school
    teachers: pd.DataFrame | None = None    # classes, rooms, teachers per school
    staffing: pd.DataFrame | None = None    # district teachers and posts to recruit
    shrinking: pd.DataFrame | None = None   # schools with falling intake or low use
    progression: pd.DataFrame | None = None  # cohort survival beside the population method
    surplus: pd.DataFrame | None = None     # school-stages with a lasting surplus, by year
    surplus_zones: pd.DataFrame | None = None  # spare places per zone × stage × year
    extras: dict[str, pd.DataFrame] = field(default_factory=dict)  # tables of custom steps
    path: Path | None = None

    @classmethod
    def from_tables(cls, name: str, tables: dict[str, pd.DataFrame],
                    zones: gpd.GeoDataFrame, manifest: dict[str, Any] | None = None,
                    path: Path | None = None) -> "Result":
        """A result from a ``{table name: DataFrame}`` mapping; names that are not
        :data:`ALL_TABLES` (tables of custom post-steps) go to ``extras``."""
        from .runfolder import is_safe_name

        known = {k: v for k, v in tables.items() if k in ALL_TABLES}
        extras = {k: v for k, v in tables.items() if k not in ALL_TABLES}
        bad = [k for k in extras if not is_safe_name(k)]
        if bad:
            raise ValueError(f"table names must be safe file names: {', '.join(bad)}")
        return cls(name=name, zones=zones, manifest=dict(manifest or {}), path=path,
                   extras=extras, **known)

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables this run has, by name: :data:`ALL_TABLES` order, then ``extras``."""
        own = {k: getattr(self, k) for k in ALL_TABLES if getattr(self, k) is not None}
        return {**own, **self.extras}

    def __repr__(self) -> str:
        rows = ", ".join(f"{k}={len(v)}" for k, v in self.tables.items())
        return f"Result({self.name!r}, {rows})"

    # -- the run's rules, answered from the manifest and tables -------------------------
    @property
    def mode(self) -> str:
        """The scenario's allocation mode (every registered mode is in the tables)."""
        return self.manifest.get("allocation_mode", "optimal")

    @property
    def stages(self) -> dict[str, dict[str, Any]]:
        """Stage settings used by the run (ages, enrolment, class_size, radius_m, cost…)."""
        return self.manifest.get("stages", {})

    @property
    def years(self) -> list[int]:
        """Years of the run, base year to horizon."""
        for key in ("summary", "population", "demand"):
            frame = getattr(self, key)
            if frame is not None and len(frame):
                return sorted(int(y) for y in frame["year"].unique())
        return []

    @property
    def report_year(self) -> int | None:
        """The headline year: resolved by the run from the scenario (docs/scenarios.md)."""
        years = self.years
        if not years:
            return None
        wanted = self.manifest.get("report_year")
        return int(wanted) if wanted is not None and int(wanted) in years else years[-1]

    @property
    def compulsory_stages(self) -> list[str]:
        """Stages whose ``compulsory`` setting is true (docs/model-format.md)."""
        from .stages import is_compulsory

        return [s for s, d in self.stages.items() if is_compulsory(s, d.get("compulsory"))]

    def headline_mode(self, stage: str) -> str:
        """The mode the stage's shortfall is headlined under: compulsory stages follow the
        catchment rule, others the scenario's mode (:func:`capacity.stages.headline_mode`)."""
        from .stages import headline_mode, is_compulsory

        modes = self.manifest.get("modes") or [self.mode, "catchment"]
        if self.summary is not None and "mode" in self.summary.columns:
            modes = list(pd.unique(self.summary["mode"].dropna().astype(str)))
        flag = self.stages.get(stage, {}).get("compulsory")
        return headline_mode(is_compulsory(stage, flag), self.mode, modes)

    def stage_ages(self, stage: str) -> tuple[int, int] | None:
        """(first, last) completed years of age of a stage, or None if unknown."""
        ages = self.stages.get(stage, {}).get("ages")
        return (int(ages[0]), int(ages[-1])) if ages else None

    def children(self, stage: str) -> pd.DataFrame:
        """Children of the stage's ages per zone and year: zone_id, year, children."""
        from .demand import children_table

        return children_table(self.population, self.stage_ages(stage))

    def radius_at(self, stage: str, points: gpd.GeoSeries) -> np.ndarray:
        """Service radius (metres) of the stage at points: the stage's ``radius_m`` × the
        ``radius_scale`` of the zone holding (or nearest to) each point."""
        from .distances import zone_scale_at

        radius = float(self.stages.get(stage, {}).get("radius_m", np.nan))
        if not self.manifest.get("zone_radius_scale", True):
            return np.full(len(points), radius)
        return radius * zone_scale_at(self.zones, points)

    # -- writing -------------------------------------------------------------------------
    def write(self, out_dir: str | Path, *, writers: list[Writer] | None = None,
              format: str = "csv", modes: list[str] | None = None,
              workers: int = 1, bom: bool | None = None) -> Path:
        """Write the run to ``out_dir/<name>/`` atomically; return that folder.

        Everything is written into a temporary sibling folder first and renamed into place
        only when complete, so a failed run never leaves a half-written folder.
        ``writers`` are extra callables ``f(result, folder)`` (workbook, maps, report).
        ``format`` "parquet" writes the tables as Parquet (zstd, ids as categories: several
        times faster and smaller than CSV); ``modes`` keeps only those allocation modes
        in the tables that have a ``mode`` column. ``bom`` writes CSVs as UTF-8 with a
        byte-order mark (Excel on Chinese Windows); None: the manifest's ``csv_bom``.
        With ``workers`` > 1 each table and each writer's jobs run side by side in forked
        processes, the longest first (:mod:`capacity.writejobs`); they write different
        files. Each job's seconds go to ``manifest["timings"]``: ``write`` (wall clock) and
        ``write_cpu`` (CPU), by job name; ``write_s`` is the whole write.
        """
        if format not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}")
        from .runfolder import atomic_folder

        if bom is None:
            bom = bool(self.manifest.get("csv_bom", False))

        out_dir = Path(out_dir)
        try:
            with atomic_folder(out_dir, self.name) as tmp:
                self.path = tmp
                t0, timings = time.perf_counter(), self.manifest.setdefault("timings", {})
                run_writers(self, tmp, [TableWriter(format, modes, bom), *(writers or [])],
                            workers if len(self.tables.get("allocation", ())) else 1,
                            timings=timings)
                timings["write_s"] = round(time.perf_counter() - t0, 3)
                write_manifest(self, tmp)
        except BaseException:
            self.path = None
            raise
        final = out_dir / self.name
        self.path = final
        return final


class TableWriter(SplitWriter):
    """Every table (one job each, costed by its cells) and ``zones.geojson``; the caller
    writes ``manifest.json`` last."""

    def __init__(self, format: str = "csv", modes: list[str] | None = None,
                 bom: bool = False) -> None:
        self.format, self.modes, self.bom = format, modes, bom

    def jobs(self, result: Result) -> list[Job]:
        out = [Job(f"{key}.{self.format}", functools.partial(self.table, key),
                   SECONDS_PER_CELL * frame.size) for key, frame in result.tables.items()]
        return out + [Job("zones.geojson", write_zones, 0.01)]

    def table(self, key: str, result: Result, folder: Path) -> None:
        frame = result.tables[key]
        cols = ALL_TABLES.get(key, list(frame.columns))
        frame = frame[[c for c in cols if c in frame.columns]]
        if self.modes is not None and "mode" in frame.columns:
            frame = frame[frame["mode"].isin(self.modes)]
        _write_table(frame, folder / f"{key}.{self.format}", self.format, self.bom)


#: Estimated seconds to write one table cell as CSV (orders the write jobs).
SECONDS_PER_CELL = 1e-7


def write_zones(result: Result, folder: Path) -> None:
    """``zones.geojson``: the zone outlines in WGS84."""
    result.zones.to_crs("EPSG:4326").to_file(folder / "zones.geojson", driver="GeoJSON")


def write_manifest(result: Result, folder: Path) -> None:
    """``manifest.json``: the run's manifest."""
    (folder / "manifest.json").write_text(
        json.dumps(result.manifest, indent=2, ensure_ascii=False, default=str),
        encoding="utf-8")


FORMATS = ("csv", "parquet")


#: Decimals kept for float columns in CSV (others: :data:`DEFAULT_DECIMALS`); values are
#: written positionally (never in scientific notation), trailing zeros trimmed, and a
#: column of whole numbers is written as integers.
DECIMALS = {"lon": 7, "lat": 7, "distance_m": 2}
DEFAULT_DECIMALS = 6


def csv_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """Float columns as lossless text: see :data:`DECIMALS`."""
    out = frame.copy(deep=False)     # columns are replaced, never changed in place
    for col in out.columns:
        values = out[col]
        if values.dtype.kind != "f":
            continue
        v = values.to_numpy(float)
        finite = np.isfinite(v)
        if finite.any() and not np.isinf(v).any() and \
                (v[finite] == np.round(v[finite])).all() and np.abs(v[finite]).max() < 2**53:
            out[col] = values.astype("Int64")
            continue
        text = fixed_decimals(v, DECIMALS.get(col, DEFAULT_DECIMALS))
        out[col] = pd.Series(text, index=out.index, dtype=object)
    return out


def _write_table(frame: pd.DataFrame, path: Path, format: str, bom: bool = False) -> None:
    if format == "csv":
        write_csv(csv_ready(frame), path, bom)
        return
    ids = frame.columns.intersection(sorted(_ID_COLUMNS))   # the other columns not copied
    frame = frame.assign(**{col: frame[col].astype("category") for col in ids})
    frame.to_parquet(path, index=False, compression="zstd")


def _read_table(path: Path) -> pd.DataFrame:
    """A table as the run made it: ids as text, :data:`CATEGORIES` as categories."""
    coded = CATEGORIES.get(path.stem, ())
    dtypes = {c: "category" if c in coded else "string" for c in _ID_COLUMNS}
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path)
        for col in frame.columns.intersection(sorted(_ID_COLUMNS)):
            frame[col] = frame[col].astype(dtypes[col])
        return frame
    return pd.read_csv(path, dtype=dtypes, keep_default_na=True, encoding="utf-8-sig")


#: Tables of the whole pipeline (``capacity run``), which compare and map read.
PIPELINE_TABLES = ("demand", "summary", "shortfall", "allocation", "capacity", "units")


def require_pipeline(result: Result) -> Result:
    """``result`` when its folder holds the whole pipeline's tables, else InputError
    naming the first one missing (a ``capacity project`` folder has population only)."""
    from .errors import InputError

    for key in PIPELINE_TABLES:
        if key not in result.tables:
            raise InputError.single(result.path or result.name, f"{key}.csv is missing: not "
                                    "a folder of the whole pipeline", expected="a folder "
                                    "written by `capacity run` (not `capacity project`)")
    return result


def read_result(path: str | Path) -> Result:
    """Reopen a run folder written by :meth:`Result.write` without recomputing."""
    from .errors import InputError

    path = Path(path)
    manifest_file = path / "manifest.json"
    if not manifest_file.is_file():
        raise InputError.single(path, "not a run folder: manifest.json is missing",
                                expected="a folder written by `capacity run`")
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError.single(manifest_file, f"not valid JSON: {exc.msg}", row=exc.lineno,
                                column=str(exc.colno), expected="the manifest.json "
                                "`capacity run` wrote (run the scenario again)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError.single(manifest_file, f"cannot be read: {exc}",
                                expected="the manifest.json `capacity run` wrote") from None
    if not isinstance(manifest, dict):
        raise InputError.single(manifest_file, "not a run's manifest (not a JSON object)",
                                expected="the manifest.json `capacity run` wrote")
    tables: dict[str, pd.DataFrame] = {}
    for key in [*ALL_TABLES, *manifest.get("extra_tables", [])]:
        for fmt in FORMATS:
            file = path / f"{key}.{fmt}"
            if file.is_file():
                try:
                    tables[key] = _read_table(file)
                except Exception as exc:    # pandas' and Arrow's parser errors vary
                    raise InputError.single(file, "cannot be read as a table: "
                                            f"{str(exc).splitlines()[0] if str(exc) else exc}",
                                            expected="the table `capacity run` wrote "
                                            "(run the scenario again)") from None
                break
    zones = gpd.read_file(path / "zones.geojson") if (path / "zones.geojson").is_file() \
        else gpd.GeoDataFrame({"zone_id": []}, geometry=[], crs="EPSG:4326")
    return Result.from_tables(manifest.get("scenario", path.name), tables, zones, manifest,
                              path=path)


__all__ = ["Result", "read_result", "require_pipeline", "TABLES", "EXTRA_TABLES", "ALL_TABLES", "CATEGORIES"]
