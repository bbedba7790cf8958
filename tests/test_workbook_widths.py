"""Column widths of the workbooks (capacity.report.workbook): the display width of texts,
against pandas' string methods as the reference (the former implementation)."""
from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from capacity.report import workbook

cells = st.one_of(st.none(), st.text(alphabet=st.sampled_from(list("ab 1,.é—中文区（）万🙂\n")),
                                     max_size=12),
                  st.integers(-10**9, 10**9), st.floats(allow_nan=True, allow_infinity=False),
                  st.booleans())


def reference(values: pd.Series) -> int:
    s = values.dropna().astype("string")
    if s.empty:
        return 0
    return int((s.str.len() + s.str.count(r"[\u2e80-\uffff]")).max())


@settings(max_examples=200, deadline=None)
@given(st.lists(cells, max_size=8))
def test_text_width_as_pandas_counts(values: list) -> None:
    series = pd.Series(values, dtype=object)
    assert workbook._text_width(series) == reference(series)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=False, width=64), max_size=6),
       st.lists(st.one_of(st.none(), st.text(max_size=6)), max_size=6))
def test_text_width_typed_columns(floats: list, texts: list) -> None:
    for series in (pd.Series(floats, dtype="float64"), pd.Series(texts, dtype="str"),
                   pd.Series([None if f != f else int(f) % 1000 for f in floats],
                             dtype="Int64")):
        assert workbook._text_width(series) == reference(series)


def test_text_width_counts_cjk_double() -> None:
    assert workbook._text_width(pd.Series(["通州区", "ab", None])) == 6
    assert workbook._text_width(pd.Series([], dtype=object)) == 0
    assert workbook._lines("通州区通州区\nab", 5) == 4       # 12 wide in 4 → 3 lines, + 1
