"""Block-model files by extension: one way in (`read_model`) and one way out (`write_model`).

Formats: CSV (``.csv``, header row), Parquet (``.parquet``; orepit stores block size, origin,
grades and name in the schema metadata) and MineLib ``.blocks``.
"""
from __future__ import annotations

import os
from typing import Mapping

from solvers.errors import InputError

from orepit.data.minelib import read_blocks, write_blocks
from orepit.data.model import BlockModel
from orepit.data.table import read_parquet_meta, read_table, write_table

MODEL_SUFFIXES = (".csv", ".parquet", ".blocks")


def model_kind(path) -> str:
    """'csv', 'parquet' or 'blocks' from the file name; `InputError` otherwise."""
    lower = os.fspath(path).lower()
    for suffix in MODEL_SUFFIXES:
        if lower.endswith(suffix):
            return suffix[1:]
    raise InputError(f"unknown block model format (expected {', '.join(MODEL_SUFFIXES)})", path=path)


def read_model(path, *, columns: Mapping[str, str] | None = None, block_size=None, **kwargs) -> BlockModel:
    """Read a block model file.

    columns: {file column: model column} renames (CSV and Parquet); block_size (dx, dy, dz) in m
    for files that do not state it; further keywords go to `BlockModel` (grades, origin, name).
    """
    kind = model_kind(path)
    if not os.path.exists(path):
        raise InputError("file not found", path=path)
    if block_size is not None:
        kwargs["block_size"] = tuple(block_size)
    if kind == "blocks":
        return read_blocks(path, block_size=kwargs.get("block_size"))
    if kind == "parquet":
        meta = read_parquet_meta(path)
        for key in ("block_size", "origin", "grades", "name"):
            if key in meta and key not in kwargs:
                kwargs[key] = meta[key]
    return BlockModel.from_frame(read_table(path, kind), columns, source=path, **kwargs)


def write_model(model: BlockModel, path) -> None:
    """Write a block model as CSV or Parquet (by extension, with an ``id`` column), atomically."""
    kind = model_kind(path)
    if kind == "blocks":
        write_blocks(path, model)
        return
    meta = {"block_size": model.block_size, "origin": model.origin, "grades": list(model.grades),
            "name": model.name}
    write_table(model.frame, path, kind, meta if kind == "parquet" else None)
