"""How a worksheet prints: A4 landscape, never below 8 pt (issue 23).

Fitting a sheet to the page width shrinks it by printable width ÷ sheet width; an 18-column
sheet came out near 5 pt. A sheet whose fit-to-width scale keeps the default 11 pt font at
:data:`MIN_POINTS` or more is fitted to the width as before; a wider one prints at the
smallest scale that keeps :data:`MIN_POINTS` (73 %) across several pages wide, its key
columns (ids and names at the left) repeated on every page, so each page is a column group
that still says which row it is. The header row repeats on every page down.

Widths follow Excel's rule for the default font (Calibri 11, 7-pixel digits): a column
``w`` characters wide is ``trunc(7w + 5)`` pixels, 0.75 pt each.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

#: A4 landscape width (pt) and the left and right margins (inches) the sheets print with.
PAGE_POINTS, MARGIN_INCHES = 841.89, 0.4
#: The workbooks' font size (openpyxl's default, Calibri 11) and the smallest printed size.
FONT_POINTS, MIN_POINTS = 11.0, 8.0
#: Smallest print scale (percent) that keeps the font at MIN_POINTS.
MIN_SCALE = math.ceil(100 * MIN_POINTS / FONT_POINTS)
#: Columns that say which row it is (repeated at the left of every page when a sheet is
#: split into column groups), as the views name them.
KEY_COLUMNS = ("id", "zone_id", "zone_name", "school_id", "school_name", "name", "project_id",
               "stage", "year", "scenario", "indicator", "mode", "kind")


def column_points(width: float | None) -> float:
    """Printed width (pt, at 100 %) of a column ``width`` characters wide (None: Excel's
    default 8.43)."""
    w = 8.43 if width is None else float(width)
    return math.trunc(7 * w + 5) * 0.75


def printable_points() -> float:
    """Width of A4 landscape inside the margins (pt)."""
    return PAGE_POINTS - 2 * 72 * MARGIN_INCHES


def fit_scale(widths: Sequence[float | None]) -> float:
    """The scale (1 = 100 %) at which columns of ``widths`` fit one page wide (at most 1)."""
    total = sum(column_points(w) for w in widths)
    return min(1.0, printable_points() / total) if total else 1.0


def key_count(columns: Sequence[str], widths: Sequence[float | None]) -> int:
    """How many leading columns are key columns (:data:`KEY_COLUMNS`), no wider together
    than 40 % of a page at :data:`MIN_SCALE`."""
    room = 0.4 * printable_points() / (MIN_SCALE / 100)
    n, used = 0, 0.0
    for col, w in zip(columns, widths):
        used += column_points(w)
        if col not in KEY_COLUMNS or used > room:
            break
        n += 1
    return n


def print_setup(ws, columns: Sequence[str] | None = None) -> None:
    """Landscape A4, narrow margins, header row repeated, page numbers; one page wide when
    that keeps :data:`MIN_POINTS`, else split into column groups (module docstring).
    ``columns``: the view's column names (for the key columns)."""
    from openpyxl.utils import get_column_letter

    widths = [ws.column_dimensions[get_column_letter(j)].width
              for j in range(1, ws.max_column + 1)]
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.print_title_rows = "1:1"
    ws.print_options.gridLines = False
    ws.page_margins.left = ws.page_margins.right = MARGIN_INCHES
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    ws.oddFooter.center.text = "&P / &N"
    fit = fit_scale(widths)
    if fit * FONT_POINTS >= MIN_POINTS:
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        return
    ws.sheet_properties.pageSetUpPr.fitToPage = False
    ws.page_setup.scale = MIN_SCALE
    ws.page_setup.pageOrder = "overThenDown"        # a row's column groups side by side
    keys = key_count(list(columns or []), widths)
    if keys:
        ws.print_title_cols = f"A:{get_column_letter(keys)}"


def printed_points(ws) -> float:
    """The font size a sheet prints at (pt): when fitted to N pages wide, the scale at which
    its columns fill N pages (at most 100 %); else its scale."""
    from openpyxl.utils import get_column_letter

    setup = ws.sheet_properties.pageSetUpPr
    pages = int(ws.page_setup.fitToWidth or 0)
    if setup is not None and setup.fitToPage and pages > 0:
        widths = [ws.column_dimensions[get_column_letter(j)].width
                  for j in range(1, ws.max_column + 1)]
        return FONT_POINTS * min(1.0, pages * fit_scale(widths))
    return FONT_POINTS * (ws.page_setup.scale or 100) / 100
