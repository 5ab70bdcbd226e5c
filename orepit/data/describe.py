"""What a block model holds, in a few JSON-ready figures (``orepit info`` on a block-model file).

`describe` gives the grid (blocks, dims, block size in m, origin in m), the tonnage (t, when the
model has it) and each attribute column: its range for numbers, its distinct values for text and
categories (the first few, with their count).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from orepit.data.model import BlockModel, GRID, XYZ

#: how many distinct values of a text or categorical column `describe` lists
LISTED_VALUES = 8


def describe(model: BlockModel) -> dict:
    """``{"blocks", "dims", "block_size", "origin", "tonnage_t", "grades", "columns"}`` of ``model``;
    ``columns`` maps each attribute (not the grid indices or centres) to ``{"min", "max", "mean"}``
    for numbers, or ``{"values": [...], "distinct": n}`` for text and categories."""
    frame = model.frame
    columns = {}
    for name in frame.columns:
        if name in GRID or name in XYZ:
            continue
        column = frame[name]
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            values = column.to_numpy(dtype=np.float64)
            finite = values[np.isfinite(values)]
            columns[name] = ({"min": float(finite.min()), "max": float(finite.max()), "mean": float(finite.mean())}
                             if finite.size else {"min": None, "max": None, "mean": None})
        else:
            distinct = pd.unique(column.dropna().astype(str))
            columns[name] = {"values": sorted(distinct)[:LISTED_VALUES], "distinct": int(len(distinct))}
    return {"blocks": model.n_blocks, "dims": list(model.dims),
            "block_size": None if model.block_size is None else list(model.block_size),
            "origin": list(model.origin),
            "tonnage_t": float(frame["tonnage"].sum()) if "tonnage" in frame else None,
            "grades": list(model.grades), "columns": columns}
