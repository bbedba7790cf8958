"""CSV files of the run folder, written by Arrow's CSV writer when that gives exactly the
bytes pandas' ``to_csv`` writes, else by pandas.

Arrow writes a long table several times faster (allocation.csv of the Tongzhou baseline:
0.06 s instead of 0.6 s). It gives pandas' bytes for integer and text columns (text as
:func:`capacity.result.csv_ready` makes every float column) when no header or text value
needs quoting (no comma, quote or line break) — the ids, names and numbers of a run. Any
other table (a bool or date column, a name with a comma) is written by pandas.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

#: Characters that make pandas (csv.QUOTE_MINIMAL) quote a field.
_QUOTED = re.compile(r'[,"\r\n]')


def write_csv(frame: pd.DataFrame, path: str | Path, bom: bool = False) -> None:
    """``frame.to_csv(path, index=False)`` (UTF-8, with a byte-order mark when ``bom``),
    by Arrow when the bytes are the same (see the module doc)."""
    encoding = "utf-8-sig" if bom else "utf-8"
    table = arrow_table(frame)
    if table is None:
        frame.to_csv(path, index=False, encoding=encoding)
        return
    import pyarrow.csv as pacsv

    with open(path, "wb") as out:
        out.write((",".join(map(str, frame.columns)) + os.linesep).encode(encoding))
        if len(frame):
            pacsv.write_csv(table, out, pacsv.WriteOptions(
                include_header=False, quoting_style="none", eol=os.linesep))


def arrow_table(frame: pd.DataFrame):
    """The frame as an Arrow table when Arrow writes what pandas writes, else None."""
    if frame.shape[1] < 2 or not all(isinstance(c, str) and not _QUOTED.search(c)
                                     for c in frame.columns):
        return None   # one column: pandas quotes an empty row; a name needing quotes
    for col in frame.columns:
        values = frame[col]
        if values.dtype.kind in "iu" or isinstance(values.dtype, (pd.Int64Dtype,
                                                                  pd.StringDtype)):
            continue
        if values.dtype.kind == "O" and pd.api.types.infer_dtype(values) in ("string",
                                                                             "empty"):
            continue
        if isinstance(values.dtype, pd.CategoricalDtype) and \
                pd.api.types.infer_dtype(values.cat.categories) in ("string", "empty"):
            continue   # text categories: Arrow writes each row's text ('' when missing)
        return None   # floats, bools, dates, other categories: pandas formats them its own way
    import pyarrow as pa
    import pyarrow.compute as pc

    table = pa.Table.from_pandas(frame, preserve_index=False)
    if any(len(c) == 0 for col in table.columns for c in col.chunks):
        # pyarrow's CSV writer writes raw buffers after an empty leading chunk (a frame
        # concatenated from parts, some empty): keep the non-empty chunks only
        table = pa.table({name: pa.chunked_array([c for c in col.chunks if len(c)], col.type)
                          for name, col in zip(table.column_names, table.columns)})
    for column in table.columns:
        if pa.types.is_dictionary(column.type):
            column = pa.chunked_array([c.dictionary for c in column.chunks],
                                      column.type.value_type)
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            if pc.any(pc.match_substring_regex(column, _QUOTED.pattern)).as_py():
                return None
        elif not pa.types.is_integer(column.type):
            return None
    return table


def fixed_decimals(values: np.ndarray, decimals: int) -> list[str]:
    """Each finite value as ``%.{decimals}f`` without trailing zeros ('-0' as '0'); ''
    for NaN and infinities."""
    fmt = f"%.{decimals}f"
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    # each distinct value (by its bits: 0.0 and -0.0 apart) formatted once: a long table
    # repeats its distances and shares
    distinct, inverse = np.unique(values[finite].view(np.int64), return_inverse=True)
    texts = np.array([("0" if (t := (fmt % v).rstrip("0").rstrip(".")) == "-0" else t)
                      for v in distinct.view(float).tolist()], dtype=object)
    text = texts[inverse.ravel()].tolist()
    if finite.all():
        return text
    out = np.full(len(values), "", dtype=object)
    out[finite] = text
    return out.tolist()


__all__ = ["write_csv", "arrow_table", "fixed_decimals"]
