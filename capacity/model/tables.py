"""Read model tables against their schema (``capacity/schema/``), collecting every problem
with its file, row and column.

Rows are reported as the line numbers a text editor shows (header = line 1). Reading only
types the cells; the rules between rows and tables are the checks of ``validate.py``.
"""
from __future__ import annotations

import csv
import errno
import difflib
import io
import os
import sys
from pathlib import Path
from typing import Callable

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import geo
from ..errors import Problem, Problems
from ..schema import Col, Schema, in_bounds
from ..schema import table as schema_table

TRUE = {"true", "1", "yes", "y", "t"}
FALSE = {"false", "0", "no", "n", "f"}

# a cell may be long (free text, WKT): no limit of its own beyond memory
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def read_csv_text(path: Path, label: str, problems: Problems, encoding: str = "utf-8"
                  ) -> pd.DataFrame | None:
    """Read a CSV as strings; report unreadable, undecodable or empty files and NUL bytes
    (at their line). ``encoding``:
    utf-8 (a BOM is dropped), gbk or gb18030 (model.toml ``[files] encoding``)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problems.add(label, f"cannot read file: {exc.strerror}")
        return None
    try:
        text = raw.decode("utf-8-sig" if encoding == "utf-8" else encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        if encoding == "utf-8":
            problems.add(label, f"file is not UTF-8 (byte 0x{raw[exc.start]:02x})", row=line,
                         expected="UTF-8 text; re-save the file as UTF-8 CSV, or declare "
                                  'its encoding in model.toml: [files] encoding = "gbk"')
        else:
            problems.add(label, f"file is not {encoding.upper()} (byte "
                         f"0x{raw[exc.start]:02x})", row=line,
                         expected=f"{encoding.upper()} text, as model.toml [files] encoding "
                                  "declares; or change the declaration")
        return None
    if not text.strip():
        problems.add(label, "file is empty", expected="a header row and data rows")
        return None
    nul = text.find("\x00")
    if nul >= 0:
        problems.add(label, "the file holds a NUL byte (\\0)", row=text.count("\n", 0, nul) + 1,
                     expected="plain text: re-save it as a CSV file (a NUL byte is left by "
                              "UTF-16, binary or damaged files)")
        return None
    parsed = _csv_rows(text, label, problems)
    if parsed is None:
        return None
    lines, rows = parsed
    header = [h.strip() for h in rows[0]]
    body, body_lines = rows[1:], lines[1:]
    bad = [i for i, r in enumerate(body) if r and len(r) != len(header)]
    for i in bad[:5]:
        problems.add(label, f"row has {len(body[i])} fields but the header has {len(header)}",
                     row=body_lines[i], expected="one field per header column")
    if bad:
        return None
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        problems.add(label, f"duplicate column name(s) {', '.join(dupes)}", row=1)
        return None
    keep = [i for i, r in enumerate(body) if any(c.strip() for c in r)]
    frame = pd.DataFrame([[c.strip() for c in body[i]] for i in keep], columns=header,
                         dtype=object)
    frame.index = pd.Index([body_lines[i] for i in keep], name="line")
    return frame


def _csv_rows(text: str, label: str, problems: Problems
              ) -> tuple[list[int], list[list[str]]] | None:
    """Parse CSV text into rows and the editor line each row starts on. Only CR and LF end
    lines (U+2028, U+0085 and the like are text inside a field); fields may be of any size."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[list[str]] = []
    lines: list[int] = []
    start = 1
    try:
        for row in reader:
            rows.append(row)
            lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        problems.add(label, f"malformed CSV: {exc}", row=start,
                     expected="comma-separated fields, quotes closed on the same row")
        return None
    return lines, rows


def _convert(series: pd.Series, col: Col, label: str, problems: Problems) -> pd.Series:
    """Convert one string column to its kind, reporting each bad cell (first 10)."""
    empty = series.isna() | (series.astype(str) == "")
    bad_lines: list[tuple[int, str, str]] = []
    if col.kind in ("int", "float"):
        values = pd.to_numeric(series.where(~empty), errors="coerce").astype(float)
        not_number = ~empty & values.isna()
        bad_lines += [(i, f"{series[i]!r} is not a number", "") for i in series.index[not_number]]
        nonfinite = ~empty & ~not_number & ~np.isfinite(values.fillna(0))
        bad_lines += [(i, f"{series[i]!r} is not finite", "") for i in series.index[nonfinite]]
        if col.kind == "int":
            frac = ~empty & values.notna() & np.isfinite(values) & (values != np.round(values))
            bad_lines += [(i, f"{series[i]!r} is not a whole number", "")
                          for i in series.index[frac]]
        ok = values.notna() & np.isfinite(values)
        for bound, test, word in ((col.min, lambda v, b: v < b, ">="),
                                  (col.max, lambda v, b: v > b, "<="),
                                  (col.gt, lambda v, b: v <= b, ">"),
                                  (col.lt, lambda v, b: v >= b, "<")):
            if bound is not None:
                out = ok & test(values, bound)
                bad_lines += [(i, f"value {series[i]} is out of range", f"{word} {bound:g}")
                              for i in series.index[out]]
        result = values
    elif col.kind == "bool":
        low = series.astype(str).str.lower()
        good = low.isin(TRUE | FALSE)
        bad_lines += [(i, f"{series[i]!r} is not true/false", "")
                      for i in series.index[~empty & ~good]]
        result = pd.Series(np.where(low.isin(TRUE), True, False), index=series.index,
                           dtype="boolean").where(~empty)
    elif col.kind == "choice":
        good = series.isin(col.choices)
        for i in series.index[~empty & ~good]:
            close = difflib.get_close_matches(str(series[i]), col.choices, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            bad_lines.append((i, f"{series[i]!r} is not allowed{hint}", ""))
        result = series.astype("string")
    else:
        result = series.astype("string")
    if not col.allow_empty:
        bad_lines += [(i, "value is missing", "") for i in series.index[empty]]
    for line, msg, exp in sorted(bad_lines)[:10]:
        problems.add(label, msg, row=int(line), column=col.name,
                     expected=exp or col.expected or _describe(col))
    if len(bad_lines) > 10:
        problems.add(label, f"... and {len(bad_lines) - 10} more bad values", column=col.name)
    return result


def _describe(col: Col) -> str:
    if col.kind == "choice":
        return "one of " + ", ".join(col.choices)
    if col.kind == "bool":
        return "true/false, 1/0 or yes/no"
    if col.kind in ("int", "float"):
        word = "a whole number" if col.kind == "int" else "a number"
        parts = [f">= {col.min:g}" if col.min is not None else "",
                 f"> {col.gt:g}" if col.gt is not None else "",
                 f"<= {col.max:g}" if col.max is not None else "",
                 f"< {col.lt:g}" if col.lt is not None else ""]
        bounds = " and ".join(p for p in parts if p)
        return f"{word} {bounds}".strip()
    return "text"


def read_table(path: Path, label: str, schema: Schema, problems: Problems,
               encoding: str = "utf-8") -> pd.DataFrame | None:
    """Read and type a table; returns None when it is unusable (problems are recorded)."""
    frame = read_csv_text(path, label, problems, encoding)
    if frame is None:
        return None
    return type_frame(frame, label, schema, problems)


def type_frame(frame: pd.DataFrame, label: str, schema: Schema, problems: Problems
               ) -> pd.DataFrame | None:
    """Type a table of text cells (index: the rows' line numbers) against its schema,
    recording every bad cell; None when a required column is missing."""
    ok = True
    present = list(frame.columns)
    for col in schema.columns:
        if col.required and col.name not in present:
            close = difflib.get_close_matches(col.name, present, n=1)
            hint = f"; found {close[0]!r}, a misspelling?" if close else ""
            problems.add(label, f"missing column {col.name!r}{hint}", row=1, column=col.name,
                         expected="columns " + ", ".join(c.name for c in schema.columns
                                                         if c.required))
            ok = False
    for group, exactly in ((schema.one_of, True), (schema.any_of, False)):
        if group:
            found = [c for c in group if c in present]
            if not found or (exactly and len(found) > 1):
                what = "none" if not found else "several: " + ", ".join(found)
                problems.add(label, f"needs {'exactly' if exactly else 'at least'} one of the "
                             f"columns {', '.join(group)} ({what} given)", row=1,
                             expected="one of " + ", ".join(group))
                ok = False
    if not ok:
        return None
    out = {}
    for name in present:
        col = schema.col(name) or Col(name, "str", required=False, allow_empty=True)
        out[name] = _convert(frame[name], col, label, problems)
    typed = pd.DataFrame(out, index=frame.index)
    if schema.unique and all(c in typed.columns for c in schema.unique):
        dup = typed.duplicated(list(schema.unique), keep="first")
        for line in typed.index[dup][:10]:
            key = ", ".join(f"{c}={typed.at[line, c]}" for c in schema.unique)
            first = typed.index[(typed[list(schema.unique)] ==
                                 typed.loc[line, list(schema.unique)]).all(axis=1)][0]
            problems.add(label, f"duplicate row for {key} (first at line {first})",
                         row=int(line), column=schema.unique[0],
                         expected="one row per " + " × ".join(schema.unique))
    return typed


def flag_rows(label: str, frame: pd.DataFrame, mask: pd.Series | np.ndarray, column: str,
              message: Callable[[pd.Series], str], expected: str, limit: int = 10
              ) -> list[Problem]:
    """One problem per flagged row (first ``limit``), then a count of the rest."""
    mask = np.asarray(mask, dtype=bool)
    idx = frame.index[mask]
    out = [Problem(label, message(frame.loc[line]), int(line), column, expected)
           for line in idx[:limit]]
    if len(idx) > limit:
        out.append(Problem(label, f"... and {len(idx) - limit} more rows like this",
                           column=column))
    return out


def read_zones(path: Path, schema: Schema, crs: str, problems: Problems,
               warnings: list[Problem] | None = None,
               datum: str = "wgs84") -> gpd.GeoDataFrame | None:
    """Read the zone polygons (any OGR format), reproject them to ``crs`` and type their
    declared properties; None when unusable (problems are recorded; repaired polygons are
    added to ``warnings``). A VRT file, which may point anywhere, is refused. Lon/lat
    polygons are taken to be in ``datum`` (model.toml ``datum``) and converted to WGS84
    first."""
    label = path.name
    warnings = [] if warnings is None else warnings
    with path.open("rb") as f:
        head = f.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<OGRVRTDataSource") or b"/vsi" in head[:200]:
        problems.add(label, "zones file is a GDAL virtual dataset", expected="a GeoJSON or "
                     "GeoPackage file holding the polygons themselves")
        return None
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
    props = [c.name for c in schema.columns if c.kind != "geometry"]
    for col in props:
        if col not in zones.columns:
            problems.add(label, f"missing property {col!r}", column=col,
                         expected="every feature has " + " and ".join(props))
    if zones.crs is None:
        problems.add(label, "coordinate reference system not declared",
                     expected="a CRS in the file (GeoJSON is WGS84 by definition; "
                              "set it when writing)")
    if len(problems.items) > before:
        return None
    optional = [c for c in schema.cols if not c.required]
    given = {c.name: zones[c.name] for c in optional if c.name in zones.columns}
    zones = zones[props + ["geometry"]].copy()
    zones["zone_id"] = zones["zone_id"].astype("string")
    rows = pd.Series(range(1, len(zones) + 1), index=zones.index)
    for col in optional:  # numeric properties (radius_scale): empty = the default
        if col.kind == "str":
            zones[col.name] = pd.Series(given[col.name], dtype="string") \
                if col.name in given else pd.Series(pd.NA, index=zones.index, dtype="string")
            continue
        zones[col.name] = col.default
        raw = given.get(col.name)
        if raw is None:
            continue
        num = pd.to_numeric(raw, errors="coerce").astype(float)
        bad = raw.notna() & ~(np.isfinite(num) & num.map(lambda v: in_bounds(v, col)))
        what = ("a positive number" + (f" up to {col.max:g}" if col.max is not None else "")
                if (col.gt, col.min, col.lt) == (0, None, None) else _describe(col))
        for i in rows[bad]:
            problems.add(label, f"{col.name} {raw.iloc[i - 1]!r} is not {what}",
                         row=int(i), column=col.name, expected=col.expected or _describe(col))
        zones[col.name] = num.where(raw.notna() & ~bad, col.default)
    for i in rows[zones["zone_id"].isna()]:
        problems.add(label, "feature has no zone_id", row=int(i), column="zone_id",
                     expected="a unique zone id")
    for i in rows[zones["zone_id"].duplicated()]:
        problems.add(label, f"duplicate zone_id {zones['zone_id'].iloc[i - 1]!r}", row=int(i),
                     column="zone_id", expected="unique zone ids")
    kinds = zones.geometry.geom_type
    empty = zones.geometry.isna() | zones.geometry.is_empty
    for i in rows[empty]:
        problems.add(label, "zone geometry is empty", row=int(i), column="geometry",
                     expected="a Polygon or MultiPolygon with coordinates")
    for i in rows[~empty & ~kinds.isin(["Polygon", "MultiPolygon"])]:
        problems.add(label, f"zone geometry is {kinds.iloc[i - 1]}", row=int(i),
                     column="geometry", expected="Polygon or MultiPolygon")
    if zones.crs.is_geographic:
        zones["geometry"] = geo.geometry_to_wgs84(zones.geometry, datum)
    if len(problems.items) > before or not _placed(zones, rows, crs, label, problems):
        return None
    invalid = ~zones.geometry.is_valid
    for i in rows[invalid]:
        warnings.append(Problem(label, "zone polygon is invalid (e.g. self-intersecting); "
                                "repaired with make_valid", int(i), "geometry",
                                "a valid polygon (check its outline)", level="warning"))
    zones = zones.to_crs(crs)
    invalid = ~zones.geometry.is_valid
    zones.loc[invalid, "geometry"] = zones.geometry[invalid].make_valid()
    zones.index = pd.RangeIndex(len(zones))
    return zones


def _placed(zones: gpd.GeoDataFrame, rows: pd.Series, crs: str, label: str,
            problems: Problems) -> bool:
    """Whether the zones lie where their declared CRS and the model CRS say: longitudes and
    latitudes in range, inside the model CRS's area of use, covering more than a hectare
    (else swapped lon/lat or a wrong declared CRS, reported on the zones file)."""
    import pyproj

    hint = "check the lon/lat order and the CRS the file declares"
    ll = zones.to_crs("EPSG:4326").geometry.bounds
    bad = ~(np.isfinite(ll).all(axis=1) & (ll["minx"] >= -180) & (ll["maxx"] <= 180)
            & (ll["miny"] >= -90) & (ll["maxy"] <= 90))
    for i in rows[bad.to_numpy()][:5]:
        b = zones.geometry.iloc[i - 1].bounds
        problems.add(label, f"zone coordinates ({b[0]:.6g}, {b[1]:.6g}) are not a longitude/"
                     f"latitude in the declared CRS {zones.crs.to_string()}", row=int(i),
                     column="geometry", expected=hint)
    if bad.any():
        return False
    area = pyproj.CRS.from_user_input(crs).area_of_use
    if area is not None:
        margin = 5.0
        out = ((ll["maxx"] < area.west - margin) | (ll["minx"] > area.east + margin)
               | (ll["maxy"] < area.south - margin) | (ll["miny"] > area.north + margin))
        for i in rows[out.to_numpy()][:5]:
            r = ll.iloc[i - 1]
            problems.add(label, f"zone lies at lon {r['minx']:.4f}, lat {r['miny']:.4f}, outside "
                         f"the area of the model CRS {crs} ({area.name})", row=int(i),
                         column="geometry", expected=hint)
        if out.any():
            return False
    total = float(zones.to_crs(crs).geometry.area.sum())
    if total < 1e4:
        problems.add(label, f"the zones cover only {total:.3g} m² in the model CRS",
                     column="geometry", expected=hint + " (degrees declared as metres?)")
        return False
    return True


def or_empty(frame: pd.DataFrame | None, table: str) -> pd.DataFrame:
    """The table, or (absent = empty) one with no rows and its schema's columns, typed as a
    read file's: every column outside a group, and the first of ``one_of``/``any_of`` (the
    presence of the others selects a method, e.g. migration ``inflow``)."""
    if frame is not None:
        return frame
    t = schema_table(table)
    names = [c.name for c in t.cols if not c.group] + list(t.one_of[:1]) + list(t.any_of[:1])
    cols = [c.name for c in t.cols if c.name in names]   # in schema order
    return type_frame(pd.DataFrame({c: pd.Series([], dtype=object) for c in cols}), table,
                      t, Problems())


def loops(path: Path) -> bool:
    """Whether ``path`` is, or goes through, a loop of symbolic links."""
    try:
        os.stat(path)
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False


def is_virtual(name: str) -> bool:
    """A GDAL virtual file system path, a URL or a VRT file (which may point anywhere)."""
    low = name.strip().lower().replace("\\", "/")
    return ("/vsi" in low or low.startswith("vsi") or "://" in low or low.endswith(".vrt")
            or low.startswith(("http:", "https:", "ftp:")))
