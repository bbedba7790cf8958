"""Excel workbooks for people: one sheet per table, labelled in English or Chinese.

Generic (the budget and the comparison both write with it): headers and values translated
with :mod:`.labels`, a bold frozen header row with a filter, number formats by column kind
(万元/亿元 units in Chinese), column widths fitted to the text, optional bold rows and a
README sheet of notes; every sheet prints landscape on A4 with the header row repeated on
every page, fitted to the page width unless that would print below 8 pt (then in column
groups: :mod:`.printing`).

Formulas: a view may come with formula templates (``formulas``) for some of its cells, so
that a planner who changes an assumption in Excel sees the totals follow. Templates name
columns, not cells: ``{col}`` is the cell of column ``col`` in the same row, ``{col@N}`` the
cell in the view's row ``N`` (0-based position), ``{col:all}`` the column's data range.
The computed value is stored with each formula as its cached result (pandas and other
readers see numbers), and the workbook asks for a full recalculation when opened. Only
these templates become formulas; text cells are written as values.
"""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from . import labels as L
from .frames import as_bool
from .printing import print_setup

#: Excel number formats by kind.
NUMBER_FORMATS = {"count": "#,##0", "year": "0", "rate": "0.0%", "cny": "#,##0",
                  "wan": "#,##0.0", "yi": "#,##0.00", "size": "0"}
#: Formats that differ in Chinese workbooks (the unit after the number).
NUMBER_FORMATS_ZH = {"wan": '#,##0.0"万元"', "yi": '#,##0.00"亿元"'}
#: Widest text column of a sheet (characters); longer texts wrap (keeps sheets printable).
TEXT_WIDTH = 24
#: Display width of a README description column and the points per wrapped line.
README_WIDTH, LINE_POINTS = 110, 15.0

#: Kind of each known column (columns not listed: text, or counts when numeric).
COLUMN_KINDS = {
    "year": "year", "peak_year": "year", "open_year": "year", "worst_year": "year",
    "first_year": "year", "last_year": "year",
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
        elif col == "kind":                                 # new / expansion
            out[col] = out[col].astype("string").map(lambda s: L.word(s, lang)
                                                     if pd.notna(s) else s)
        elif col == "met" or col.endswith("_met") or pd.api.types.is_bool_dtype(out[col]):
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


#: Characters that take two columns (CJK and other wide scripts, full-width forms).
WIDE = re.compile("[\u2e80-\uffff]")


def _str_width(text: str) -> int:
    """Display width of a text (CJK characters count double)."""
    return len(text) + len(WIDE.findall(text))


def _text_width(values: pd.Series) -> int:
    """Display width of the longest text (CJK characters count double)."""
    return max(map(_str_width, values.dropna().astype(str)), default=0)


def _lines(text: str, width: float) -> int:
    """Wrapped lines of ``text`` in a column ``width`` characters wide (CJK count double)."""
    import math

    return sum(max(1, math.ceil(_str_width(part) / max(width - 1, 1)))
               for part in str(text).split("\n"))


def _format_sheet(ws, frame: pd.DataFrame, shown: pd.DataFrame,
                  formats: Mapping[str, str | None], bold_rows: pd.Series | None,
                  lang: str = "en") -> None:
    """Bold wrapped header, frozen header row, filter, number formats, fitted widths,
    print setup."""
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
        fmt = ((NUMBER_FORMATS_ZH if lang == "zh" else {}).get(kind)
               or NUMBER_FORMATS.get(kind)) if kind else None
        if fmt:
            for (cell,) in ws.iter_rows(min_row=2, max_row=ws.max_row, min_col=j, max_col=j):
                cell.number_format = fmt
        if numeric and values.notna().any():
            big = float(np.nanmax(np.abs(values.astype("float"))))
            width = len(f"{big:,.2f}") + 1 if kind in ("rate", "yi", "wan") else \
                len(f"{big:,.0f}") + 1
        else:
            width = _text_width(shown.iloc[:, j - 1])
        if fmt and kind in NUMBER_FORMATS_ZH and lang == "zh":
            width += 2                                      # the unit after the number
        header = _str_width(str(shown.columns[j - 1]))
        if not numeric and width > TEXT_WIDTH:    # long texts wrap in a narrower column
            width = TEXT_WIDTH
            for (cell,) in ws.iter_rows(min_row=2, max_row=ws.max_row, min_col=j, max_col=j):
                cell.alignment = wrap
        ws.column_dimensions[get_column_letter(j)].width = min(
            max(width, min(header, 24), 6) + 2, 60)
    widths = [ws.column_dimensions[get_column_letter(j)].width
              for j in range(1, len(frame.columns) + 1)]
    ws.row_dimensions[1].height = LINE_POINTS * max(
        [_lines(h, w) for h, w in zip(shown.columns, widths)] + [1])
    print_setup(ws, list(frame.columns))
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
    ws.column_dimensions["B"].width = README_WIDTH
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        # explicit heights: wrapped text is shown whole whatever the program
        ws.row_dimensions[row[0].row].height = LINE_POINTS * max(
            _lines(row[0].value or "", 28), _lines(row[1].value or "", README_WIDTH))
    print_setup(ws)


def write_workbook(path: str | Path, views: Mapping[str, pd.DataFrame], *, lang: str = "en",
                   notes: list[tuple[str, str]] | None = None,
                   formats: Mapping[str, Mapping[str, str | None]] | None = None,
                   bold_rows: Mapping[str, pd.Series] | None = None,
                   formulas: Mapping[str, pd.DataFrame] | None = None) -> Path:
    """Write ``views`` (one sheet each, labelled in ``lang``) and a notes sheet to ``path``.

    Written to a temporary file first and renamed, so a failure leaves no broken workbook.
    ``formats`` maps view → column → number-format kind (:data:`NUMBER_FORMATS`) to override
    the defaults; ``bold_rows`` maps view → boolean mask of rows to bolden (totals);
    ``formulas`` maps view → formula templates (see the module docstring): a frame with the
    view's index and some of its columns, None where the cell keeps its value.
    """
    L.check_lang(lang)
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    formats, bold_rows, formulas = formats or {}, bold_rows or {}, formulas or {}
    cached: dict[str, dict[str, float]] = {}
    try:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
            if notes is not None:
                _write_notes(xw, notes, lang)
            for view, frame in views.items():
                shown = for_people(frame, lang)
                name = L.sheet_label(view, lang)
                shown.to_excel(xw, sheet_name=name, index=False)
                ws = xw.sheets[name]
                _format_sheet(ws, frame, shown, formats.get(view, {}), bold_rows.get(view),
                              lang)
                as_text(ws)               # user text never becomes a formula ...
                if view in formulas:      # ... and our own formulas are written after
                    sheet_xml = f"xl/worksheets/sheet{len(xw.sheets)}.xml"
                    cached[sheet_xml] = write_formulas(ws, frame, formulas[view])
            if notes is not None:
                as_text(xw.sheets[next(iter(xw.sheets))])
        if cached:
            store_cached_values(tmp, cached)
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


def write_formulas(ws, frame: pd.DataFrame, templates: pd.DataFrame) -> dict[str, float]:
    """Write the templates' cells as formulas; return cell → computed value (the view's)."""
    import re

    from openpyxl.utils import get_column_letter

    columns = list(frame.columns)
    last = len(frame) + 1

    def render(template: str, row: int) -> str:
        def cell(match: re.Match) -> str:
            letter = get_column_letter(columns.index(match.group(1)) + 1)
            if match.group(3):
                return f"${letter}$2:${letter}${last}"
            return f"{letter}{(int(match.group(2)) if match.group(2) else row) + 2}"
        return re.sub(r"\{(\w+)(?:@(\d+))?(:all)?\}", cell, template)

    values: dict[str, float] = {}
    for pos, (_, row) in enumerate(templates.reindex(frame.index).iterrows()):
        for col, template in row.items():
            if template is None or pd.isna(template):
                continue
            j = columns.index(col) + 1
            ws.cell(pos + 2, j).value = render(str(template), pos)   # our own formula
            value = frame[col].iloc[pos]
            if pd.notna(value):
                values[f"{get_column_letter(j)}{pos + 2}"] = float(value)
    return values


def store_cached_values(path: Path, cached: Mapping[str, Mapping[str, float]]) -> None:
    """Put each formula's computed value into the sheet XML as its cached result (openpyxl
    writes formulas without one), so readers that do not calculate still see numbers."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as z:
        entries = [(i, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in entries:
            cells = cached.get(info.filename)
            if cells:
                def fill(m: re.Match) -> bytes:
                    ref = m.group(1).decode()
                    if ref not in cells:
                        return m.group(0)
                    return m.group(0)[:-len(b"<v /></c>")] + \
                        f"<v>{cells[ref]!r}</v></c>".encode()
                data = re.sub(rb'<c r="([A-Z]+\d+)"[^>]*><f>[^<]*</f><v /></c>', fill, data)
            z.writestr(info, data)


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
