"""The columns of a block model as arrays over grid cells, for the grid formats (OMF, VTK)."""
from __future__ import annotations

from typing import Iterator, NamedTuple

import numpy as np
import pandas as pd

from orepit.data.model import BlockModel

GEOMETRY = ("i", "j", "k", "x", "y", "z")  # carried by the grid itself


class CellColumn(NamedTuple):
    name: str
    values: np.ndarray        # numbers, or codes into ``labels`` (-1 = empty)
    labels: list[str] | None  # None for a numeric column


def category_codes(s: pd.Series) -> tuple[np.ndarray, list[str]]:
    """(code of each value, -1 when empty; labels as text) of a categorical or text column."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s.cat.codes.to_numpy().astype(np.int64), [str(c) for c in s.cat.categories]
    codes, labels = pd.factorize(s)
    return codes.astype(np.int64), [str(v) for v in labels]


def column_labels(model: BlockModel) -> Iterator[tuple[str, list[str]]]:
    """(name, labels) of every categorical or text column, in `cell_columns`' order and with its labels."""
    frame = model.frame
    for name in frame.columns:
        if name not in GEOMETRY and frame[name].dtype.kind not in "fiub":
            yield name, category_codes(frame[name])[1]


def cell_columns(model: BlockModel, whole_grid: bool) -> Iterator[CellColumn]:
    """Every column but the geometry, per block or (``whole_grid``) per cell of the x-fastest grid.

    Cells without a block hold NaN (floats), 0 (integers, booleans) or -1 (codes).  One column at a
    time, and a dense model's numeric columns as they are (its blocks are its cells): a writer that
    uses each column and lets it go holds one column's copy at most.
    """
    frame = model.frame
    cells = model.grid_index() if whole_grid and not model.is_dense else None
    n_cells = int(np.prod(model.dims))
    for name in frame.columns:
        if name in GEOMETRY:
            continue
        s = frame[name]
        if s.dtype.kind in "fiub":
            values, labels = s.to_numpy(), None
            fill = np.nan if values.dtype.kind == "f" else 0
        else:
            (values, labels), fill = category_codes(s), -1
        if cells is not None:
            dense = np.full(n_cells, fill, dtype=values.dtype)
            dense[cells] = values
            values = dense
        yield CellColumn(name, values, labels)
