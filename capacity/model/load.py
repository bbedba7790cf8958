"""Load a model folder (DESIGN §3) into typed tables, validating everything at the edge.

Every problem found is collected and raised together as one :class:`InputError`, so
``capacity validate`` can list them all at once.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
from pyproj.exceptions import CRSError

from ..errors import InputError, Problems
from ..tomlspec import check, key_line, read_toml
from .tables import Col, Schema, read_table, report_rows

STAGE_KEYS = {"ages": list, "enrolment": float, "class_size": int, "radius_m": float,
              "cost_per_place": float}
TARGET_KEYS = {"year": int, "kindergarten_enrolment_rate": float,
               "inclusive_kindergarten_coverage": float, "nearby_enrolment_rate": float,
               "primary_enrolment_rate": float, "junior_enrolment_rate": float,
               "senior_enrolment_rate": float}
FILE_KEYS = ("zones", "population", "fertility", "mortality", "migration", "housing",
             "units", "schools", "projects")
REQUIRED_FILES = ("zones", "population", "fertility", "mortality")
MODEL_SPEC = {
    "name": str, "description": str, "base_year": int, "crs": str,
    "demography": {"open_age": int, "srb": float, "migration_timing": ("even", "end")},
    "files": {k: str for k in FILE_KEYS},
    "units": {"grid_m": float},
    "stages": {"*": STAGE_KEYS},
    "targets": TARGET_KEYS,
}
MORTALITY_KINDS = ("sx", "mx", "qx", "Lx")


@dataclass
class Stage:
    """One school stage: ages are completed years, inclusive."""

    name: str
    ages: tuple[int, int]
    enrolment: float
    class_size: int
    radius_m: float
    cost_per_place: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"ages": list(self.ages), "enrolment": self.enrolment,
                "class_size": self.class_size, "radius_m": self.radius_m,
                "cost_per_place": self.cost_per_place}


@dataclass
class Model:
    """A district model: settings and typed tables (coordinates also in the model CRS: x, y)."""

    path: Path
    name: str
    base_year: int
    crs: str
    open_age: int
    srb: float
    migration_timing: str
    stages: dict[str, Stage]
    zones: gpd.GeoDataFrame            # zone_id, name, radius_scale, geometry (model CRS)
    population: pd.DataFrame           # zone_id, sex, age, count
    fertility: pd.DataFrame            # age, asfr, zone_id (NA = district schedule)
    mortality: pd.DataFrame            # sex, age, <mortality_kind>
    mortality_kind: str
    migration: pd.DataFrame            # zone_id, sex, age, net
    housing: pd.DataFrame              # development_id, zone_id, x, y, units, completion_year, ...
    units: pd.DataFrame | None         # unit_id, zone_id, lon, lat, weight, x, y (None: grid)
    schools: pd.DataFrame              # school_id, name, stage, lon, lat, x, y, places, inclusive
    projects: pd.DataFrame             # project_id, name, kind, stage, school_id, x, y, places, ...
    grid_m: float = 500.0
    base_class_size: dict[str, int] = field(default_factory=dict)  # model's own, before edits
    targets: dict[str, float] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def zone_ids(self) -> list[str]:
        return list(self.zones["zone_id"])

    def file_hashes(self) -> dict[str, str]:
        """SHA-256 of every input file (for the run manifest)."""
        out = {"model.toml": _sha256(self.path / "model.toml")}
        out.update({k: _sha256(p) for k, p in self.files.items()})
        return out


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


SEX = Col("sex", "choice", choices=("F", "M"))
ZONE = Col("zone_id")
SCHEMAS: dict[str, Schema] = {
    "population": Schema([ZONE, SEX, Col("age", "int", min=0), Col("count", "float", min=0)],
                         unique=("zone_id", "sex", "age")),
    "fertility": Schema([Col("age", "int", min=0), Col("asfr", "float", min=0, lt=0.5)],
                        extra={"zone_id": Col("zone_id", required=False, allow_empty=True)}),
    "mortality": Schema([SEX, Col("age", "int", min=0)], one_of=MORTALITY_KINDS,
                        unique=("sex", "age"),
                        extra={"sx": Col("sx", "float", gt=0, max=1),
                               "mx": Col("mx", "float", min=0),
                               "qx": Col("qx", "float", min=0, max=1),
                               "Lx": Col("Lx", "float", min=0)}),
    "migration": Schema([ZONE, SEX, Col("age", "int", min=0), Col("net", "float")],
                        unique=("zone_id", "sex", "age")),
    "housing": Schema([Col("development_id"), ZONE, Col("lon", "float"), Col("lat", "float"),
                       Col("units", "float", min=0), Col("completion_year", "int")],
                      unique=("development_id",),
                      extra={"persons_per_unit": Col("persons_per_unit", "float", gt=0,
                                                     allow_empty=True, required=False),
                             "ramp_years": Col("ramp_years", "int", min=1, allow_empty=True,
                                               required=False)}),
    "units": Schema([Col("unit_id"), ZONE, Col("lon", "float"), Col("lat", "float"),
                     Col("weight", "float", min=0)], unique=("unit_id",)),
    "schools": Schema([Col("school_id"), Col("name"), Col("stage"), Col("lon", "float"),
                       Col("lat", "float")], any_of=("places", "classes"),
                      unique=("school_id", "stage"),
                      extra={"places": Col("places", "float", min=0, required=False,
                                           allow_empty=True),
                             "classes": Col("classes", "float", min=0, required=False,
                                            allow_empty=True),
                             "inclusive": Col("inclusive", "bool", required=False,
                                              allow_empty=True),
                             "group_id": Col("group_id", required=False, allow_empty=True)}),
    "projects": Schema([Col("project_id"), Col("name"),
                        Col("kind", "choice", choices=("new", "expansion")), Col("stage"),
                        Col("open_year", "int")], any_of=("places", "classes"),
                       unique=("project_id",),
                       extra={"school_id": Col("school_id", required=False, allow_empty=True),
                              "lon": Col("lon", "float", required=False, allow_empty=True),
                              "lat": Col("lat", "float", required=False, allow_empty=True),
                              "places": Col("places", "float", min=0, required=False,
                                            allow_empty=True),
                              "classes": Col("classes", "float", min=0, required=False,
                                             allow_empty=True),
                              "cost": Col("cost", "float", min=0, required=False,
                                          allow_empty=True)}),
}
DEFAULT_STAGE_FIELDS = {"enrolment": 1.0, "cost_per_place": 0.0}


def load_model(path: str | Path, overrides: dict[str, dict[str, Any]] | None = None) -> Model:
    """Load and validate a model folder (or its model.toml).

    ``overrides`` maps stage name to stage keys replacing the model's (scenario edits).
    Raises :class:`InputError` listing every problem found.
    """
    path = Path(path)
    folder = path.parent if path.is_file() else path
    toml_path = folder / "model.toml"
    if not folder.is_dir():
        raise InputError.single(folder, "model folder not found",
                                expected="a folder holding model.toml")
    if not toml_path.is_file():
        raise InputError.single(toml_path, "model.toml not found in the model folder",
                                expected="model.toml (see DESIGN §3)")
    conf, text = read_toml(toml_path)
    problems = Problems()
    label = "model.toml"
    check(conf, MODEL_SPEC, label, text, problems)
    for key in ("name", "base_year", "crs"):
        if key not in conf:
            problems.add(label, f"missing key {key!r}", column=key,
                         expected={"name": "a string", "base_year": "an integer year",
                                   "crs": 'a projected CRS such as "EPSG:32650"'}[key])
    crs = _check_crs(conf.get("crs"), label, text, problems)
    demo = conf.get("demography", {}) if isinstance(conf.get("demography"), dict) else {}
    open_age = demo.get("open_age", 100)
    if not isinstance(open_age, int) or not 1 <= open_age <= 130:
        problems.add(label, f"open_age {open_age!r} is out of range",
                     row=key_line(text, "demography.open_age"), column="demography.open_age",
                     expected="an integer between 1 and 130")
        open_age = 100
    srb = demo.get("srb", 1.06)
    if not isinstance(srb, (int, float)) or not 0.5 <= srb <= 2:
        problems.add(label, f"srb {srb!r} is out of range", row=key_line(text, "demography.srb"),
                     column="demography.srb", expected="male births per female birth, 0.5–2")
        srb = 1.06
    stages = _stages(conf.get("stages", {}), overrides or {}, label, text, open_age, problems)
    base_sizes = {k: v.class_size for k, v in
                  _stages(conf.get("stages", {}), {}, label, text, open_age, Problems()).items()}
    files_conf = conf.get("files", {}) if isinstance(conf.get("files"), dict) else {}
    files: dict[str, Path] = {}
    for key in REQUIRED_FILES:
        if key not in files_conf:
            problems.add(label, f"[files] has no {key!r} entry", column=f"files.{key}",
                         expected=f'{key} = "<file name>" (a projection needs it)')
    for key, name in files_conf.items():
        if key in FILE_KEYS and isinstance(name, str):
            fp = folder / name
            if not fp.is_file():
                problems.add(label, f"[files] {key} names {name!r}, which does not exist",
                             row=key_line(text, f"files.{key}"), column=f"files.{key}",
                             expected=f"a file {name!r} in {folder}")
            else:
                files[key] = fp
    problems.raise_if_any()

    tables: dict[str, pd.DataFrame | None] = {}
    for key in FILE_KEYS:
        if key == "zones" or key not in files:
            continue
        tables[key] = read_table(files[key], files[key].name, SCHEMAS[key], problems)
    zones = _read_zones(files["zones"], crs, problems)
    if zones is None or any(t is None for t in tables.values()):
        problems.raise_if_any()
    damaged = bool(problems)  # cells with bad values: cross-checks are best effort

    grid_m = float(conf.get("units", {}).get("grid_m", 500.0))
    model = Model(
        path=folder, name=conf["name"], base_year=conf["base_year"], crs=crs,
        open_age=open_age, srb=float(srb),
        migration_timing=demo.get("migration_timing", "even"), stages=stages, zones=zones,
        population=tables["population"], fertility=tables["fertility"],
        mortality=tables["mortality"],
        mortality_kind=next(k for k in MORTALITY_KINDS if k in tables["mortality"].columns),
        migration=_or_empty(tables.get("migration"), ["zone_id", "sex", "age", "net"]),
        housing=_or_empty(tables.get("housing"), ["development_id", "zone_id", "lon", "lat",
                                                  "units", "completion_year"]),
        units=tables.get("units"),
        schools=_or_empty(tables.get("schools"), ["school_id", "name", "stage", "lon", "lat",
                                                  "places"]),
        projects=_or_empty(tables.get("projects"), ["project_id", "name", "kind", "stage",
                                                    "open_year", "places"]),
        grid_m=grid_m, base_class_size=base_sizes, targets={k: v for k, v in conf.get("targets", {}).items()},
        files=files)
    from .validate import validate_tables

    try:
        validate_tables(model, problems)
    except (ValueError, TypeError, KeyError):
        if not damaged:
            raise
    problems.raise_if_any()
    return model


def _or_empty(frame: pd.DataFrame | None, columns: list[str]) -> pd.DataFrame:
    return frame if frame is not None else pd.DataFrame({c: [] for c in columns})


def _check_crs(value: Any, label: str, text: str, problems: Problems) -> str:
    if not isinstance(value, str):
        return "EPSG:32650"
    try:
        crs = pyproj.CRS.from_user_input(value)
    except CRSError:
        problems.add(label, f"crs {value!r} is not a known coordinate reference system",
                     row=key_line(text, "crs"), column="crs",
                     expected='a projected CRS in metres, e.g. "EPSG:32650" (UTM 50N)')
        return "EPSG:32650"
    unit = crs.axis_info[0].unit_name if crs.axis_info else ""
    if not crs.is_projected or unit not in ("metre", "meter"):
        problems.add(label, f"crs {value!r} is not a projected CRS in metres",
                     row=key_line(text, "crs"), column="crs",
                     expected='a projected CRS in metres, e.g. "EPSG:32650" (UTM 50N)')
        return "EPSG:32650"
    return value


def _stages(conf: Any, overrides: dict[str, dict[str, Any]], label: str, text: str,
            open_age: int, problems: Problems) -> dict[str, Stage]:
    stages: dict[str, Stage] = {}
    if not isinstance(conf, dict):
        return stages
    for name, raw in conf.items():
        if not isinstance(raw, dict):
            continue
        merged = {**DEFAULT_STAGE_FIELDS, **raw, **overrides.get(name, {})}
        where = f"stages.{name}"
        missing = [k for k in ("ages", "class_size", "radius_m") if k not in merged]
        for k in missing:
            problems.add(label, f"[{where}] has no {k!r}", row=key_line(text, where),
                         column=f"{where}.{k}", expected=f"{k} = ...")
        if missing:
            continue
        ages = merged["ages"]
        if (not isinstance(ages, list) or len(ages) != 2
                or not all(isinstance(a, int) and not isinstance(a, bool) for a in ages)
                or not 0 <= ages[0] <= ages[1] < open_age):
            problems.add(label, f"{where}.ages {ages!r} is not a valid age range",
                         row=key_line(text, f"{where}.ages"), column=f"{where}.ages",
                         expected=f"[first, last] completed years, 0 <= first <= last < {open_age}")
            continue
        checks = [("enrolment", lambda v: 0 < v <= 1.5, "a share in (0, 1.5]"),
                  ("class_size", lambda v: v > 0 and v == int(v), "a positive whole number"),
                  ("radius_m", lambda v: v > 0, "a positive distance in metres"),
                  ("cost_per_place", lambda v: v >= 0, "CNY >= 0")]
        bad = False
        for key, ok, exp in checks:
            if not isinstance(merged[key], (int, float)) or isinstance(merged[key], bool):
                bad = True  # wrong type: reported by the spec check
                continue
            if not ok(merged[key]):
                problems.add(label, f"{where}.{key} = {merged[key]!r} is out of range",
                             row=key_line(text, f"{where}.{key}"), column=f"{where}.{key}",
                             expected=exp)
                bad = True
        if bad:
            continue
        stages[name] = Stage(name, (ages[0], ages[1]), float(merged["enrolment"]),
                             int(merged["class_size"]), float(merged["radius_m"]),
                             float(merged["cost_per_place"]))
    ordered = sorted(stages.values(), key=lambda s: s.ages)
    for a, b in zip(ordered, ordered[1:]):
        if b.ages[0] <= a.ages[1]:
            problems.add(label, f"stage ages overlap: {a.name} {list(a.ages)} and "
                         f"{b.name} {list(b.ages)}", row=key_line(text, f"stages.{b.name}.ages"),
                         column=f"stages.{b.name}.ages", expected="disjoint age ranges")
    for name in overrides:
        if name not in conf:
            problems.add(label, f"scenario overrides stage {name!r}, which the model lacks",
                         column=f"stages.{name}", expected="one of " + ", ".join(conf))
    return stages


def _read_zones(path: Path, crs: str, problems: Problems) -> gpd.GeoDataFrame | None:
    label = path.name
    try:
        zones = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        problems.add(label, f"cannot read zones: {str(exc).splitlines()[0]}",
                     expected="a GeoJSON/GeoPackage of polygons with zone_id and name")
        return None
    before = len(problems.items)
    if zones.empty:
        problems.add(label, "no zones in file", expected="at least one polygon")
        return None
    for col in ("zone_id", "name"):
        if col not in zones.columns:
            problems.add(label, f"missing property {col!r}", column=col,
                         expected="every feature has zone_id and name")
    if zones.crs is None:
        problems.add(label, "coordinate reference system not declared",
                     expected="a CRS in the file (GeoJSON is WGS84 by definition; "
                              "set it when writing)")
    if len(problems.items) > before:
        return None
    scale = zones["radius_scale"] if "radius_scale" in zones.columns else None
    zones = zones[["zone_id", "name", "geometry"]].copy()
    zones["zone_id"] = zones["zone_id"].astype("string")
    rows = pd.Series(range(1, len(zones) + 1), index=zones.index)
    zones["radius_scale"] = 1.0
    if scale is not None:  # optional: factor on every stage's radius_m for the zone's units
        num = pd.to_numeric(scale, errors="coerce").astype(float)
        bad = scale.notna() & ~(np.isfinite(num) & (num > 0))
        for i in rows[bad]:
            problems.add(label, f"radius_scale {scale.iloc[i - 1]!r} is not a positive number",
                         row=int(i), column="radius_scale",
                         expected="a positive factor on every stage's radius_m, e.g. 2 for "
                                  "towns served by school bus (empty = 1)")
        zones["radius_scale"] = num.where(scale.notna() & ~bad, 1.0)
    for i in rows[zones["zone_id"].isna()]:
        problems.add(label, "feature has no zone_id", row=int(i), column="zone_id",
                     expected="a unique zone id")
    for i in rows[zones["zone_id"].duplicated()]:
        problems.add(label, f"duplicate zone_id {zones['zone_id'].iloc[i - 1]!r}", row=int(i),
                     column="zone_id", expected="unique zone ids")
    kinds = zones.geometry.geom_type
    for i in rows[~kinds.isin(["Polygon", "MultiPolygon"])]:
        problems.add(label, f"zone geometry is {kinds.iloc[i - 1]}", row=int(i),
                     column="geometry", expected="Polygon or MultiPolygon")
    zones = zones.to_crs(crs)
    invalid = ~zones.geometry.is_valid
    zones.loc[invalid, "geometry"] = zones.geometry[invalid].make_valid()
    zones.index = pd.RangeIndex(len(zones))
    return zones


def to_model_xy(lon: np.ndarray, lat: np.ndarray, crs: str,
                source_crs: str = "EPSG:4326") -> tuple[np.ndarray, np.ndarray]:
    """Project coordinates to the model CRS (vectorised)."""
    t = pyproj.Transformer.from_crs(source_crs, crs, always_xy=True)
    return t.transform(np.asarray(lon, float), np.asarray(lat, float))
