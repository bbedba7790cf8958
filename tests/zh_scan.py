"""The Latin-script words a reader of a Chinese output would see: in HTML (visible text, not
tags, scripts or styles), SVG figures (matplotlib keeps each text as a comment), workbook
cells and console output; ids in id columns, units, EPSG codes, quantile names and file
names are allowed (:data:`ALLOWED`, :func:`allowed`). Used by tests/test_zh_scan.py and by
hand: ``python tests/zh_scan.py FOLDER...`` prints what it finds."""
from __future__ import annotations

import re
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

#: A Latin-script token: letters, then letters, digits, dots, dashes, slashes, underscores.
TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9_.\-/²]*")
#: Words a Chinese reader meets as they are: units, codes, quantiles, standard names.
ALLOWED = {"km", "km²", "m", "EPSG", "WGS84", "GCJ-02", "BD-09", "CGCS2000", "MILP", "LNS",
           "P5", "P10", "P25", "P50", "P75", "P80", "P90", "P95", "ESS", "TFR", "WPP", "UN",
           "GB", "PDF", "HTML", "CSV", "Excel", "ID", "JavaScript"}
#: File names, paths and setting names (``model.toml``, ``docs/plan.md``,
#: ``[stages.primary] cost_per_place``): where a reader is told to look, typed as written.
FILE = re.compile(r".*\.(csv|xlsx|html|png|svg|json|md|toml|geojson|parquet|pdf)$|.*/.*"
                  r"|[a-z0-9]+([._][a-z0-9]+)+")
#: Typed as written: the program's command lines (``capacity run … -o DIR``), settings
#: (``[allocation] mode = "designed"``), source ids (S13) and HTML entities.
COMMAND = re.compile(r"capacity( (run|plan|compare|ensemble|catchments|map|validate|report))?\b"
                     r"|(?<!\w)--?[a-z][a-z-]*\b|\[[a-z_.]+\]( [a-z_]+ = \"[a-z_]+\")?"
                     r"|\b[a-z_]+(?= = )|\bS\d+\b|&[a-z]+;")
#: Headers of id columns (cells below them may hold ids).
ID_HEADER = re.compile(r"编号|代码|\bid\b|_id\b", re.I)


def allowed(word: str) -> bool:
    """True for a word the allow-list accepts outside id columns."""
    word = word.rstrip(".-/")
    return (word in ALLOWED or bool(FILE.fullmatch(word)) or bool(re.fullmatch(r"P\d+", word))
            or bool(re.fullmatch(r"EPSG:?\d*", word)))


def words(text: str) -> list[str]:
    """The Latin words of ``text`` the allow-list does not accept."""
    return [w for w in TOKEN.findall(COMMAND.sub(" ", text)) if not allowed(w)]


class _Visible(HTMLParser):
    """Visible text of a page; cells of table columns headed like an id are skipped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.skip = 0
        self.texts: list[str] = []
        self.headers: list[list[str]] = []   # per open table: its header texts
        self.col = -1
        self.cell: list[str] | None = None
        self.header_cell = False

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self.skip += 1
        elif tag == "table":
            self.headers.append([])
        elif tag == "tr":
            self.col = -1
        elif tag in ("td", "th"):
            self.col += 1
            self.cell, self.header_cell = [], tag == "th"

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template"):
            self.skip = max(self.skip - 1, 0)
        elif tag == "table" and self.headers:
            self.headers.pop()
        elif tag in ("td", "th") and self.cell is not None:
            text = " ".join(self.cell)
            heads = self.headers[-1] if self.headers else []
            if self.header_cell and heads is not None and len(heads) == self.col:
                heads.append(text)
            id_column = (not self.header_cell and self.col < len(heads)
                         and ID_HEADER.search(heads[self.col]))
            if not id_column:
                self.texts.append(text)
            self.cell = None

    def handle_data(self, data):
        if self.skip:
            return
        if self.cell is not None:
            self.cell.append(data)
        else:
            self.texts.append(data)


def html_words(text: str) -> list[str]:
    parser = _Visible()
    parser.feed(text)
    return [w for t in parser.texts for w in words(t)]


def svg_words(text: str) -> list[str]:
    """Texts of a matplotlib SVG (each drawn text is kept as a comment)."""
    from html import unescape

    return [w for c in re.findall(r"<!-- (.*?) -->", text, re.S) for w in words(unescape(c))]


def model_text_columns() -> set[tuple[str, str]]:
    """(sheet, header) of columns that show the model's own free text as written: the
    data-basis sheet's notes are model.toml's comments, in the model author's language."""
    from capacity.report import labels as L

    return {(L.sheet_label("data_basis", "zh"), L.column_label("note", "zh"))}


def workbook_words(path: Path) -> list[str]:
    import openpyxl

    book = openpyxl.load_workbook(path)
    found = [w for name in book.sheetnames for w in words(name)]
    as_written = model_text_columns()
    for ws in book.worksheets:
        id_cols: set[int] = set()
        for row in ws.iter_rows():
            for c in row:
                if not isinstance(c.value, str) or c.value.startswith("="):
                    continue
                if c.row == 1 and (ID_HEADER.search(c.value)
                                   or (ws.title, c.value) in as_written):
                    id_cols.add(c.column)
                    continue
                if c.column in id_cols:
                    continue
                found += words(c.value)
        for h in (ws.oddHeader, ws.oddFooter):
            for part in (h.left, h.center, h.right):
                found += words(re.sub(r"&[A-Z]|&\"[^\"]*\"|&\d+", " ", part.text or ""))
    return found


def scan(paths) -> Counter:
    """``{(file name, word): count}`` over every .html, .svg and .xlsx under ``paths``."""
    out: Counter = Counter()
    for root in map(Path, paths):
        for f in sorted(root.rglob("*")) if root.is_dir() else [root]:
            suffix = f.suffix.lower()
            if suffix == ".html":
                found = html_words(f.read_text(encoding="utf-8"))
            elif suffix == ".svg":
                found = svg_words(f.read_text(encoding="utf-8"))
            elif suffix == ".xlsx":
                found = workbook_words(f)
            else:
                continue
            out.update((f"{f.parent.name}/{f.name}", w) for w in found)
    return out


if __name__ == "__main__":
    found = scan(sys.argv[1:])
    for (name, word), n in sorted(found.items(), key=lambda kv: -kv[1]):
        print(f"{n:6} {name:28} {word}")
    print(f"{sum(found.values())} Latin words ({len(found)} distinct per file)")
