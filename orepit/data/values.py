"""Dense value grids: one number per block of a regular grid, read at the speed of the file.

Grid order: block ``(i, j, k)`` of an ``nx x ny x nz`` grid is number ``i + nx * (j + ny * k)``,
x fastest, then y, then z, ``k = 0`` the bottom bench (as `solvers.patterns`).  Formats, by the
file name's ending:

* text (any other ending): one number per line; blank lines and ``#`` comments are skipped.
  Parsed by numpy's C reader (about 0.15 s for 2.8 million lines here); only a bad file is read
  a second time, line by line, to name the first bad line.
* ``.npy``: a numpy array of n numbers, flat or shaped ``(nz, ny, nx)`` in C order; memory-mapped.
* ``.parquet``: one numeric column (or the column named ``value``) of n rows, read with pyarrow.
"""
from __future__ import annotations

import os
import warnings

import numpy as np

from solvers.errors import InputError


def read_values(path, n: int) -> np.ndarray:
    """The ``n`` block values (float64) of a dense grid file, in grid order (see the module docstring).

    Raises `InputError` naming the file, and the line of a text file, when a value is not a finite
    number or the count is not ``n``.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise InputError("values file not found", path=path)
    lower = path.lower()
    if lower.endswith(".npy"):
        values = _read_npy(path)
    elif lower.endswith(".parquet"):
        values = _read_parquet(path)
    else:
        values = _read_text(path)
    if values.size != n:
        raise InputError(f"{values.size} values for a grid of {n} blocks", path=path, field="value")
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        where = {"line": _line_of_row(path, row)} if not lower.endswith((".npy", ".parquet")) else {}
        raise InputError(f"value {values[row]} of block {row} is not finite", path=path, field="value", **where)
    return values


def _read_text(path) -> np.ndarray:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)       # an empty file: counted by the caller
            values = np.loadtxt(path, dtype=np.float64, comments="#", ndmin=1, encoding="latin-1")
    except ValueError:
        raise _first_bad_line(path) from None
    if values.ndim != 1:
        raise _first_bad_line(path)
    return values


def _data_lines(path):
    """(file line number, text) of each line holding data (not blank, not only a comment)."""
    with open(path, encoding="latin-1") as fh:
        for number, line in enumerate(fh, 1):
            text = line.split("#", 1)[0].strip()
            if text:
                yield number, text


def _first_bad_line(path) -> InputError:
    """The error naming the first line that is not one number (read line by line: the slow path)."""
    for number, text in _data_lines(path):
        fields = text.split()
        if len(fields) != 1:
            return InputError("expected one value per line", path=path, line=number, field="value")
        try:
            float(fields[0])
        except ValueError:
            return InputError(f"value '{fields[0]}' is not a number", path=path, line=number, field="value")
    return InputError("cannot read the values", path=path)


def _line_of_row(path, row: int) -> int:
    """File line of the ``row``-th value (0-based) of a text file."""
    for i, (number, _) in enumerate(_data_lines(path)):
        if i == row:
            return number
    return row + 1


def _read_npy(path) -> np.ndarray:
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise InputError(f"cannot read .npy array: {exc}", path=path) from None
    if array.dtype.kind not in "fiub":
        raise InputError(f"a .npy of numbers is needed, got dtype {array.dtype}", path=path, field="value")
    return np.asarray(array.reshape(-1), dtype=np.float64)


def _read_parquet(path) -> np.ndarray:
    import pyarrow.parquet as pq
    import pyarrow.types as kinds
    try:
        schema = pq.read_schema(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure is bad input here
        raise InputError(f"cannot read Parquet file: {exc}", path=path) from None
    names = list(schema.names)
    if len(names) != 1 and "value" not in names:
        raise InputError(f"expected one column or a column named 'value', found {', '.join(names)}",
                         path=path, field="value")
    name = names[0] if len(names) == 1 else "value"
    column = pq.read_table(path, columns=[name]).column(0)
    if not (kinds.is_integer(column.type) or kinds.is_floating(column.type)):
        raise InputError(f"column '{name}' is not numeric ({column.type})", path=path, field=name)
    if column.null_count:
        row = int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0])
        raise InputError(f"value of block {row} (row {row + 1}) is missing", path=path, field=name)
    return column.to_numpy().astype(np.float64, copy=False)
