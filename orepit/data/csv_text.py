"""Tables as CSV text, byte for byte what ``pandas.DataFrame.to_csv(path, index=False)`` writes, faster.

pandas formats every value in Python (each float through ``str``) and writes the rows through the
``csv`` module; on a million blocks with forty columns that takes tens of seconds.  Here a column
becomes text in bulk: whole numbers and booleans through Arrow; floats through Arrow's shortest
round-trip digits where they read the same as Python's (non-integral, 1e-4 <= |x| < 1e9), whole
ones below 1e16 as integers and ``.0``, and through numpy's ``str`` (what pandas uses) elsewhere;
text and categories by formatting each distinct value once with the ``csv`` module (quoted where
pandas quotes it).  Empty values (NaN, None) are empty fields, as pandas' default ``na_rep``.  Rows
are joined by Arrow, a chunk at a time.

Frames of fewer than two columns (where the ``csv`` module quotes a lone empty field) are written
by pandas itself.
"""
from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd

from orepit.data.atomic import atomic_path

CHUNK = 1 << 16          # rows formatted and written at a time
SAME_AS_PYTHON = (1e-4, 1e9)   # |x| where Arrow's float text equals Python's (non-integral x)
WHOLE_BELOW = 1e16             # |x| of whole floats that Python writes as their integer and ".0"


def write_csv(frame: pd.DataFrame, path) -> None:
    """Write ``frame`` as ``frame.to_csv(path, index=False)`` would, atomically."""
    with atomic_path(path) as tmp:
        if frame.shape[1] < 2 or isinstance(frame.columns, pd.MultiIndex):
            frame.to_csv(tmp, index=False)
            return
        with open(tmp, "wb") as fh:
            fh.write(_row(list(frame.columns)).encode("utf-8"))
            for start in range(0, len(frame), CHUNK):
                part = frame.iloc[start:start + CHUNK]
                _write_lines(fh, [_column_text(part[name]) for name in part.columns])


def _row(fields) -> str:
    """One CSV row as the ``csv`` module writes it for pandas (minimal quoting, ``\\n`` ends it)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(fields)
    return out.getvalue()


def _field(value) -> str:
    """One field of a row of several (``""`` alone would be quoted in a row of one)."""
    return _row([value, ""])[:-2]


def _column_text(s: pd.Series):
    """The CSV fields of one column, as an Arrow string array."""
    import pyarrow as pa
    import pyarrow.compute as pc
    kind = s.dtype.kind if isinstance(s.dtype, np.dtype) else "O"     # extension types: by value
    if kind in "iu":
        return pc.cast(pa.array(s.to_numpy()), pa.string())
    if kind == "b":
        return pa.array(np.array(["False", "True"], dtype=object)[s.to_numpy().astype(np.int8)], pa.string())
    if kind == "f":
        return _float_text(s.to_numpy())
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    labels = np.array([_field(v) for v in uniques] + [""], dtype=object)      # code -1 (empty): ""
    return pa.array(labels[codes], pa.string())


def _float_text(values: np.ndarray):
    """Floats as pandas writes them: numpy's shortest text (of the float's own width), NaN empty.
    float64 in bulk: whole numbers below `WHOLE_BELOW` as Arrow's integer text and ``.0``, non-integral ones in
    `SAME_AS_PYTHON` as Arrow's float text, NaN empty; the rest (infinities, -0.0, very small or large
    values) through numpy."""
    import pyarrow as pa
    import pyarrow.compute as pc
    if values.dtype != np.float64:
        return pa.array(_numpy_text(values), pa.string())
    with np.errstate(invalid="ignore"):
        size = np.abs(values)
        nan = np.isnan(values)
        integral = values == np.floor(values)
        whole = integral & (size < WHOLE_BELOW) & ~((values == 0) & np.signbit(values))      # not -0.0
        arrow = (size >= SAME_AS_PYTHON[0]) & (size < SAME_AS_PYTHON[1]) & ~integral
    own = ~(nan | whole | arrow)
    text = pc.cast(pa.array(values), pa.string())
    if whole.any():
        digits = pc.cast(pa.array(values[whole].astype(np.int64)), pa.string())
        text = pc.replace_with_mask(text, pa.array(whole), pc.binary_join_element_wise(digits, "0", "."))
    if nan.any():
        text = pc.replace_with_mask(text, pa.array(nan), pa.array(np.full(int(nan.sum()), ""), pa.string()))
    if own.any():
        text = pc.replace_with_mask(text, pa.array(own), pa.array(_numpy_text(values[own]), pa.string()))
    return text


def _numpy_text(values: np.ndarray) -> np.ndarray:
    """Floats as text through numpy's ``str`` (as pandas does), NaN as an empty field."""
    text = values.astype(str).astype(object)
    text[np.isnan(values)] = ""
    return text


def _write_lines(fh, columns) -> None:
    """Join the columns' fields by commas, each row ending in ``\\n``, and write them."""
    import pyarrow as pa
    import pyarrow.compute as pc
    rows = pc.binary_join_element_wise(*columns, ",")
    lines = pc.binary_join_element_wise(rows, pa.scalar("", pa.string()), "\n")
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[lines.offset:lines.offset + len(lines) + 1]
    fh.write(memoryview(lines.buffers()[2])[offsets[0]:offsets[-1]])
