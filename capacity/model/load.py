"""Load a model folder (docs/model-format.md) into typed tables, validating everything at the
edge.

The keys of model.toml and the columns of every table are declared in ``capacity/schema/``;
the rules between rows and tables are the checks of ``validate.py``. Columns derived from the
input (``x``, ``y`` in the model CRS, ``places`` from classes, declared defaults) are added
only once every check has passed. Every problem found is collected and raised together as one
:class:`InputError`, so ``capacity validate`` can list them all at once.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable

import geopandas as gpd
import pandas as pd
import pyproj
from pyproj.exceptions import CRSError

from .. import geo, schema
from ..errors import InputError, Problem, Problems
from ..ranges import value_warning
from ..runfolder import SAFE_NAME, inside, is_safe_name
from ..tomlspec import check, key_line, read_toml
from .settings import read_settings, tfr_path
from .tables import is_virtual, loops, or_empty, read_table, read_zones
from .validate import new_sites, places_classes_size, run_checks

KEYS = schema.keys("model")


@dataclass
class Stage:
    """One school stage: ages are completed years, inclusive."""

    name: str
    ages: tuple[int, int]
    enrolment: float
    class_size: int
    radius_m: float
    cost_per_place: float = 0.0
    compulsory: bool = False      # part of compulsory education (model.toml key, see schema)
    pupils_per_teacher: float | None = None   # staffing standard (teachers.csv)
    teachers_per_class: float | None = None   # used when pupils_per_teacher is absent

    def as_dict(self) -> dict[str, Any]:
        """The stage's model.toml keys (for the run manifest)."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "name"}
        return {**out, "ages": list(self.ages)}


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
    sites: pd.DataFrame | None = None  # candidate sites for `capacity plan` (None: none)
    grid_m: float = 500.0
    base_class_size: dict[str, int] = field(default_factory=dict)  # model's own, before edits
    targets: dict[str, float] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    anchors: pd.DataFrame | None = None            # area, indicator, variant, year, value, ...
    reported_enrolment: pd.DataFrame | None = None  # stage, year, pupils, fitted, source
    enrolment_by_grade: pd.DataFrame | None = None  # area_id, stage, grade, year, pupils
    settings: dict[str, Any] = field(default_factory=dict)  # SETTING_TABLES by dotted key
    datum: str = "wgs84"               # of the input lon/lat; the tables hold WGS84
    lang: str = "en"                   # [report] lang: default language of the outputs
    csv_bom: bool = False              # [report] csv_bom: default of `--csv-bom`
    caveats: dict[str, list[str]] = field(default_factory=dict)  # [report] caveats by lang
    tfr: dict[int, float] = field(default_factory=dict)  # [fertility] tfr: the model's path

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


def load_model(path: str | Path, overrides: dict[str, dict[str, Any]] | None = None, *,
               source: Path | None = None, allow_outside: bool = False) -> Model:
    """Load and validate a model folder (or its model.toml).

    ``overrides`` maps stage name to stage keys replacing the model's (scenario edits);
    their problems are reported at the lines of ``source``, the scenario file. ``[files]``
    may name files outside the model folder only with ``allow_outside``.
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
                                expected="model.toml (see docs/model-format.md)")
    conf, text = read_toml(toml_path)
    problems = Problems()
    label = "model.toml"
    check(conf, schema.toml_spec("model"), label, text, problems)
    for key in schema.children("model", ""):
        if key.required and key.path not in conf:
            problems.add(label, f"missing key {key.path!r}", column=key.path,
                         expected=key.expected)
    _number(conf, "base_year", text, problems, lambda v: f"base_year {v!r} is out of range")
    crs = _check_crs(conf.get("crs"), label, text, problems)
    demo = _table(conf, "demography")
    open_age = _number(demo, "demography.open_age", text, problems,
                       lambda v: f"open_age {v!r} is out of range")
    srb = _number(demo, "demography.srb", text, problems, lambda v: f"srb {v!r} is out of range")
    grid_m = _number(_table(conf, "units"), "units.grid_m", text, problems,
                     lambda v: f"units.grid_m = {v!r} is out of range")
    over = Origin(label, text)
    if source is not None and source.is_file():
        over = Origin(source.name, source.read_bytes().decode("utf-8-sig", "replace"))
    for key in schema.children("model", "targets"):
        if key.kind == "float":
            _number(_table(conf, "targets"), key.path, text, problems,
                    lambda v, k=key.path: f"{k} = {v!r} is out of range")
    stages = _stages(conf.get("stages", {}), overrides or {}, Origin(label, text), over,
                     open_age, problems)
    base_sizes = {k: v.class_size for k, v in
                  _stages(conf.get("stages", {}), {}, Origin(label, text), over, open_age,
                          Problems()).items()}
    files = _files(folder, _table(conf, "files"), label, text, problems, allow_outside)
    settings = read_settings(conf, text, problems, _number)
    tfr = tfr_path(_table(conf, "fertility").get("tfr"), KEYS["fertility.tfr"], label, text,
                   problems)
    problems.raise_if_any()
    datum = conf.get("datum", KEYS["datum"].default)
    encoding = _table(conf, "files").get("encoding", KEYS["files.encoding"].default)
    report = _table(conf, "report")

    tables: dict[str, pd.DataFrame | None] = {}
    for key in schema.file_keys():
        if key == "zones" or key not in files:
            continue
        tables[key] = read_table(files[key], files[key].name, schema.table(key), problems,
                                 encoding)
        if tables[key] is not None and "lon" in tables[key].columns:
            tables[key] = geo.lonlat_to_wgs84(tables[key], datum)
    notes: list[Problem] = []
    zones = read_zones(files["zones"], schema.table("zones"), crs, problems, notes, datum)
    if zones is None or any(t is None for t in tables.values()):
        problems.raise_if_any()
    damaged = bool(problems)  # cells with bad values: cross-checks are best effort

    mortality = tables["mortality"]
    model = Model(
        path=folder, name=conf["name"], base_year=conf["base_year"], crs=crs,
        open_age=int(open_age), srb=float(srb),
        migration_timing=demo.get("migration_timing",
                                  KEYS["demography.migration_timing"].default),
        stages=stages, zones=zones, population=tables["population"],
        fertility=tables["fertility"], mortality=mortality,
        mortality_kind=next(k for k in schema.table("mortality").one_of
                            if k in mortality.columns),
        migration=or_empty(tables.get("migration"), "migration"),
        housing=or_empty(tables.get("housing"), "housing"),
        units=tables.get("units"),
        schools=or_empty(tables.get("schools"), "schools"),
        projects=or_empty(tables.get("projects"), "projects"), sites=tables.get("sites"),
        grid_m=float(grid_m), base_class_size=base_sizes,
        targets=dict(_table(conf, "targets")), files=files, datum=datum,
        anchors=tables.get("anchors"), reported_enrolment=tables.get("reported_enrolment"),
        enrolment_by_grade=tables.get("enrolment_by_grade"), settings=settings,
        lang=report.get("lang", KEYS["report.lang"].default),
        csv_bom=bool(report.get("csv_bom", False)),
        caveats={lang: [str(c) for c in report.get(key) or []]
                 for lang, key in (("en", "caveats"), ("zh", "caveats_zh"))
                 if report.get(key)}, tfr=tfr)
    errors, warnings = run_checks(model, best_effort=damaged)
    warnings = notes + stage_warnings(model, overrides or {}, Origin(label, text), over) + warnings
    problems.extend(errors)
    problems.raise_if_any()
    _derive(model)
    model.warnings.extend(str(w) for w in warnings)
    return model


def stage_warnings(model: Model, overrides: dict[str, dict[str, Any]], origin: "Origin",
                   over: "Origin") -> list[Problem]:
    """Warnings for model.toml numbers (and the scenario's stage edits) outside their
    plausible ranges (``capacity.ranges``)."""
    out = [value_warning("model", path, value, origin.label, key_line(origin.text, path))
           for path, value in (("demography.srb", model.srb),
                               ("units.grid_m", model.grid_m if model.units is None else None))]
    for name, st in model.stages.items():
        for key in ("class_size", "radius_m", "enrolment", "cost_per_place"):
            src = over if key in overrides.get(name, {}) else origin
            path = f"stages.{name}.{key}"
            out.append(value_warning("model", f"stages.*.{key}", getattr(st, key), src.label,
                                     key_line(src.text, path), path))
    return [p for p in out if p is not None]


def _derive(model: Model) -> None:
    """Add the columns computed from the checked input: declared defaults, ``places`` from
    classes × the model's class size (tables sized in places or classes), and ``x``, ``y``
    in the model CRS (tables with lon/lat; of projects, the new sites)."""
    for name in schema.file_keys():
        frame, table = getattr(model, name), schema.table(name)
        if frame is None or name == "zones":  # zones: typed and reprojected when read
            continue
        frame = _with_defaults(frame, table)
        if "places" in table.any_of:
            frame = _with_places(frame, model.base_class_size)
        if table.col("lon") is not None:
            for col in ("lon", "lat"):   # optional (projects: new sites only): empty if absent
                if col not in frame.columns:
                    frame[col] = pd.Series(float("nan"), index=frame.index, dtype=float)
            rows = new_sites(frame) if "kind" in frame.columns else None
            frame["x"], frame["y"] = geo.points_xy(frame, model.crs, rows)
        setattr(model, name, frame)


def _with_defaults(frame: pd.DataFrame, table: schema.Schema) -> pd.DataFrame:
    """A copy in which empty cells and absent columns that declare a default take it."""
    frame = frame.copy()
    for col in table.cols:
        if col.default is not None:
            frame[col.name] = frame[col.name].fillna(col.default) if col.name in frame \
                else pd.Series(col.default, index=frame.index,   # typed as a read column
                               dtype="string" if col.kind in ("str", "choice") else None)
    return frame


def _with_places(frame: pd.DataFrame, class_size: dict[str, int]) -> pd.DataFrame:
    """``places``, or classes × the stage's class size where places is empty (else 0)."""
    places, classes, size = places_classes_size(frame, class_size)
    frame["places"] = places.fillna(classes * size).fillna(0).astype(float)
    return frame


def _table(conf: dict[str, Any], key: str) -> dict[str, Any]:
    value = conf.get(key, {})
    return value if isinstance(value, dict) else {}


def _number(table: dict[str, Any], path: str, text: str, problems: Problems,
            message: Callable[[Any], str]) -> Any:
    """A numeric key of model.toml within its declared bounds, else its default (reported;
    a value of the wrong type is reported by the spec check)."""
    key = KEYS[path]
    value = table.get(key.name, key.default)
    kind = int if key.kind == "int" else (int, float)
    if not isinstance(value, kind) or isinstance(value, bool):
        return key.default
    if not key.in_range(value):
        bounds = " and ".join(f"{w} {b:g}" for w, b in ((">=", key.min), ("<=", key.max),
                                                        (">", key.gt), ("<", key.lt))
                              if b is not None)
        problems.add("model.toml", message(value), row=key_line(text, path), column=path,
                     expected=key.expected or f"a finite number {bounds}")
        return key.default
    return value


def _files(folder: Path, files_conf: dict[str, Any], label: str, text: str,
           problems: Problems, allow_outside: bool = False) -> dict[str, Path]:
    """The table files named in [files] that exist; required ones must be named. A name
    may not leave the model folder (symlinks resolved) unless ``allow_outside``; GDAL
    virtual paths and URLs are refused (validation never opens a network connection)."""
    for key in schema.children("model", "files"):
        if key.required and key.name not in files_conf:
            problems.add(label, f"[files] has no {key.name!r} entry", column=key.path,
                         expected=f'{key.name} = "<file name>" (a projection needs it)')
    files: dict[str, Path] = {}
    for key, name in files_conf.items():
        if key in schema.file_keys() and isinstance(name, str):
            where = {"row": key_line(text, f"files.{key}"), "column": f"files.{key}"}
            fp = folder / name
            if is_virtual(name):
                problems.add(label, f"[files] {key} names {name!r}, a virtual path or URL",
                             **where, expected="a plain file in the model folder "
                             "(no /vsi… paths, URLs or .vrt files)")
            elif loops(fp):
                problems.add(label, f"[files] {key} names {name!r}, a symbolic link that "
                             "loops back on itself", **where,
                             expected="a file, or a link that ends at a file")
            elif not allow_outside and not inside(folder, fp):
                problems.add(label, f"[files] {key} names {name!r}, which leaves the model "
                             f"folder (it resolves to {fp.resolve()})", **where,
                             expected="a file inside the model folder, or run with "
                                      "--allow-outside-model")
            elif not fp.is_file():
                problems.add(label, f"[files] {key} names {name!r}, which does not exist",
                             **where, expected=f"a file {name!r} in {folder}")
            else:
                files[key] = fp
    return files


def _check_crs(value: Any, label: str, text: str, problems: Problems) -> str:
    expected = KEYS["crs"].expected
    if not isinstance(value, str):
        return "EPSG:32650"
    try:
        crs = pyproj.CRS.from_user_input(value)
    except CRSError:
        problems.add(label, f"crs {value!r} is not a known coordinate reference system",
                     row=key_line(text, "crs"), column="crs",
                     expected=expected)
        return "EPSG:32650"
    unit = crs.axis_info[0].unit_name if crs.axis_info else ""
    if not crs.is_projected or unit not in ("metre", "meter"):
        problems.add(label, f"crs {value!r} is not a projected CRS in metres",
                     row=key_line(text, "crs"), column="crs",
                     expected=expected)
        return "EPSG:32650"
    return value


@dataclass(frozen=True)
class Origin:
    """A TOML file's label and text, where problems with its keys are reported."""

    label: str
    text: str

    def add(self, problems: Problems, message: str, key: str, expected: str | None,
            line_of: str | None = None) -> None:
        where = line_of or key
        row = key_line(self.text, where) or header_line(self.text, where)
        problems.add(self.label, message, row=row, column=key, expected=expected)


def header_line(text: str, dotted: str) -> int | None:
    """The line of a table header ``[a.b]`` (parts bare or quoted)."""
    parts = dotted.split(".", 1)
    pattern = re.compile(r"^\s*\[\s*" + re.escape(parts[0]) + r"\s*\.\s*(\"?)"
                         + re.escape(parts[1] if len(parts) > 1 else "") + r"\1\s*\]")
    return next((i for i, line in enumerate(text.splitlines(), 1) if pattern.match(line)),
                None)


def _stages(conf: Any, overrides: dict[str, dict[str, Any]], model: Origin, over: Origin,
            open_age: int, problems: Problems) -> dict[str, Stage]:
    """The stages of model.toml with the scenario's ``overrides``; a problem with an
    overridden key is reported in the scenario (``over``)."""
    stages: dict[str, Stage] = {}
    if not isinstance(conf, dict):
        return stages
    spec = schema.children("model", "stages.*")
    numbers = [k for k in spec if k.kind in ("int", "float")]
    for name, raw in conf.items():
        if not is_safe_name(name):
            model.add(problems, f"stage name {name!r} cannot be a file name", f"stages.{name}",
                      SAFE_NAME)
            continue
        if not isinstance(raw, dict):
            continue
        edits = overrides.get(name, {})

        def origin(key: str) -> Origin:
            return over if key in edits else model

        defaults = {k.name: k.default_for(name) for k in spec if k.default_for(name) is not None}
        merged = {**defaults, **raw, **edits}
        where = f"stages.{name}"
        missing = [k.name for k in spec if k.required and k.name not in merged]
        for k in missing:
            model.add(problems, f"[{where}] has no {k!r}", f"{where}.{k}", f"{k} = ...",
                      line_of=where)
        if missing:
            continue
        ages = merged["ages"]
        if (not isinstance(ages, list) or len(ages) != 2
                or not all(isinstance(a, int) and not isinstance(a, bool) for a in ages)
                or not 0 <= ages[0] <= ages[1] < open_age):
            origin("ages").add(problems, f"{where}.ages {ages!r} is not a valid age range",
                               f"{where}.ages",
                               KEYS["stages.*.ages"].expected.format(open_age=open_age))
            continue
        bad = not isinstance(merged["compulsory"], bool)  # wrong type: reported by the spec
        for key in numbers:
            if key.name not in merged:      # optional, no default (e.g. pupils_per_teacher)
                continue
            value = merged[key.name]
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                bad = True  # wrong type: reported by the spec check
                continue
            if not key.in_range(value):
                origin(key.name).add(problems, f"{where}.{key.name} = {value!r} is out of "
                                     "range", f"{where}.{key.name}", key.expected)
                bad = True
        if bad:
            continue
        stages[name] = Stage(name, (ages[0], ages[1]), float(merged["enrolment"]),
                             int(merged["class_size"]), float(merged["radius_m"]),
                             float(merged["cost_per_place"]), merged["compulsory"],
                             *(None if merged.get(k) is None else float(merged[k])
                               for k in ("pupils_per_teacher", "teachers_per_class")))
    ordered = sorted(stages.values(), key=lambda s: s.ages)
    for a, b in zip(ordered, ordered[1:]):
        if b.ages[0] <= a.ages[1]:
            key = f"stages.{b.name}.ages"
            src = over if "ages" in overrides.get(b.name, {}) or \
                "ages" in overrides.get(a.name, {}) else model
            src.add(problems, f"stage ages overlap: {a.name} {list(a.ages)} and "
                    f"{b.name} {list(b.ages)}", key, "disjoint age ranges")
    for name in overrides:
        if name not in conf:
            over.add(problems, f"scenario overrides stage {name!r}, which the model lacks",
                     f"stages.{name}", "one of " + ", ".join(conf))
    return stages
