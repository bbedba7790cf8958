"""Excel workbooks for people: one sheet per table, labelled in English or Chinese.

Generic (the budget and the comparison both write with it): headers and values translated
with :mod:`.labels`, a bold frozen header row with a filter, number formats by column kind,
column widths fitted to the text, optional bold rows and a README sheet of notes.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from . import labels as L
from .frames import as_bool

#: Excel number formats by kind.
NUMBER_FORMATS = {"count": "#,##0", "year": "0", "rate": "0.0%", "cny": "#,##0",
                  "wan": "#,##0.0", "yi": "#,##0.00", "size": "0"}

#: Kind of each known column (columns not listed: text, or counts when numeric).
COLUMN_KINDS = {
    "year": "year", "peak_year": "year", "open_year": "year", "worst_year": "year",
    "latest_open_year_without_extra_shortfall": "year",
    "shortfall_rate": "rate", "value": "rate", "target": "rate",
    "class_size": "size", "cost_per_place_cny": "cny", "cost_cny": "cny",
    "cost_wan_cny": "wan", "cost_yi_cny": "yi",
}


def column_kind(column: str) -> str | None:
    """Number-format kind of a column (None: let the value decide)."""
    if column in COLUMN_KINDS:
        return COLUMN_KINDS[column]
    base = column.removesuffix("_target")
    if base in L.INDICATORS or base.endswith(("_rate", "_coverage")):
        return "rate"
    return None


def for_people(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Translate values (stages, modes, indicators, yes/no) and headers for a worksheet."""
    out = frame.copy()
    for col in out.columns:
        if col == "stage":
            out[col] = out[col].astype("string").map(lambda s: L.stage_label(s, lang)
                                                     if pd.notna(s) else s)
        elif col == "mode":
            out[col] = out[col].astype("string").map(lambda s: L.mode_label(s, lang)
                                                     if pd.notna(s) else s)
        elif col == "indicator":
            out[col] = out[col].astype("string").map(lambda s: L.indicator_label(s, lang)
                                                     if pd.notna(s) else s)
        elif col == "met" or col.endswith("_met"):
            b = as_bool(out[col])
            out[col] = b.map({True: L.word("yes", lang), False: L.word("no", lang)}
                             ).astype("string")
    # pandas' Excel writer wants plain NaN/None, not pd.NA
    out = out.astype({c: "float" for c in out.columns
                      if str(out[c].dtype) in ("Int64", "Float64")})
    out = out.astype({c: "object" for c in out.columns if str(out[c].dtype) in
                      ("string", "str", "boolean")}).where(out.notna(), None)
    out.columns = [L.column_label(c, lang) for c in frame.columns]
    return out


def _text_width(values: pd.Series) -> int:
    """Display width of the longest text (CJK characters count double)."""
    s = values.dropna().astype("string")
    if s.empty:
        return 0
    return int((s.str.len() + s.str.count(r"[\u2e80-\uffff]")).max())


def _format_sheet(ws, frame: pd.DataFrame, shown: pd.DataFrame,
                  formats: Mapping[str, str | None], bold_rows: pd.Series | None) -> None:
    """Bold wrapped header, frozen header row, filter, number formats, fitted widths."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    header_font, fill = Font(bold=True), PatternFill("solid", fgColor="DDE5F0")
    wrap = Alignment(wrap_text=True, vertical="top")
    for cell in ws[1]:
        cell.font, cell.fill, cell.alignment = header_font, fill, wrap
    ws.freeze_panes = "A2"
    if ws.max_row > 1:
        ws.auto_filter.ref = ws.dimensions
    for j, col in enumerate(frame.columns, start=1):
        values = frame[col]
        kind = formats.get(col) or column_kind(col)
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if kind is None and numeric:
            kind = "count"
        fmt = NUMBER_FORMATS.get(kind) if kind else None
        if fmt:
            for (cell,) in ws.iter_rows(min_row=2, max_row=ws.max_row, min_col=j, max_col=j):
                cell.number_format = fmt
        if numeric and values.notna().any():
            big = float(np.nanmax(np.abs(values.astype("float"))))
            width = len(f"{big:,.2f}") + 1 if kind in ("rate", "yi", "wan") else \
                len(f"{big:,.0f}") + 1
        else:
            width = _text_width(shown.iloc[:, j - 1])
        header = _text_width(pd.Series([shown.columns[j - 1]]))
        ws.column_dimensions[get_column_letter(j)].width = min(
            max(width, min(header, 24), 6) + 2, 60)
    if bold_rows is not None and bold_rows.any():
        bold = Font(bold=True)
        for i in np.flatnonzero(bold_rows.to_numpy(bool)):
            for cell in ws[int(i) + 2]:
                cell.font = bold


def _write_notes(xw: pd.ExcelWriter, notes: list[tuple[str, str]], lang: str) -> None:
    from openpyxl.styles import Alignment, Font

    readme = pd.DataFrame(notes, columns=[L.word("item", lang), L.word("description", lang)])
    name = L.sheet_label("readme", lang)
    readme.to_excel(xw, sheet_name=name, index=False)
    ws = xw.sheets[name]
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 110
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def write_workbook(path: str | Path, views: Mapping[str, pd.DataFrame], *, lang: str = "en",
                   notes: list[tuple[str, str]] | None = None,
                   formats: Mapping[str, Mapping[str, str | None]] | None = None,
                   bold_rows: Mapping[str, pd.Series] | None = None) -> Path:
    """Write ``views`` (one sheet each, labelled in ``lang``) and a notes sheet to ``path``.

    Written to a temporary file first and renamed, so a failure leaves no broken workbook.
    ``formats`` maps view → column → number-format kind (:data:`NUMBER_FORMATS`) to override
    the defaults; ``bold_rows`` maps view → boolean mask of rows to bolden (totals).
    """
    L.check_lang(lang)
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    formats, bold_rows = formats or {}, bold_rows or {}
    try:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
            if notes is not None:
                _write_notes(xw, notes, lang)
            for view, frame in views.items():
                shown = for_people(frame, lang)
                name = L.sheet_label(view, lang)
                shown.to_excel(xw, sheet_name=name, index=False)
                _format_sheet(xw.sheets[name], frame, shown, formats.get(view, {}),
                              bold_rows.get(view))
            for ws in xw.sheets.values():
                as_text(ws)
        reproducible_zip(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


#: First characters that make a spreadsheet read a text as a formula (or a DDE call).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def as_text(ws) -> int:
    """Type every text cell of a worksheet that a spreadsheet could take for a formula
    (a zone named ``=HYPERLINK(...)``) as a string shown with a quote prefix, so it stays
    text in Excel and LibreOffice. Returns the number of cells changed."""
    n = 0
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
                cell.data_type = "s"
                cell.quotePrefix = True
                n += 1
    return n


def reproducible_zip(path: Path) -> None:
    """Make an Office file byte-identical for identical content: fixed entry times, and no
    creation/modification timestamps in ``docProps/core.xml`` (openpyxl stamps "now")."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as z:
        entries = [(i, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in entries:
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"<dcterms:(created|modified)[^>]*>[^<]*</dcterms:\1>", b"",
                              data)
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            z.writestr(fixed, data)
