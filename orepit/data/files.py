"""Block-model files by extension: one way in (`read_model`) and one way out (`write_model`), and
`open_model` for the MODEL argument of the command line (a file or a MineLib instance).

Formats: CSV (``.csv``, header row), Parquet (``.parquet``; orepit stores block size, origin,
grades and name in the schema metadata) and MineLib ``.blocks``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Mapping

from solvers.errors import InputError

from orepit.data.datasets import instance_path
from orepit.data.minelib import Instance, load_instance, read_blocks, write_blocks
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


@dataclass
class ModelSource:
    """What a MODEL argument names: a block-model file, a MineLib instance, or a MineLib ``.blocks``
    file that is both.  The block model is read on first use (`model`), so verbs that only need the
    instance's problem files never read its ``.blocks``."""

    path: str
    instance: Instance | None = None
    block_size: tuple | None = None      # (dx, dy, dz) in m, for files that do not state it

    @cached_property
    def model(self) -> BlockModel:
        """The block model (of the file, or of the instance's ``.blocks``)."""
        if self.instance is not None and not _is_model_file(self.path):
            return self.instance.blocks(block_size=self.block_size)
        return read_model(self.path, block_size=self.block_size)

    def minelib(self, what: str) -> Instance:
        """The MineLib instance; `InputError` saying that ``what`` needs one when MODEL is not one."""
        if self.instance is None:
            raise InputError(f"{what} needs a MineLib instance (a folder, path prefix or name with a .prec "
                             "file); this is a block-model file", path=self.path)
        return self.instance


def _is_model_file(path) -> bool:
    return os.fspath(path).lower().endswith(MODEL_SUFFIXES)


def open_model(path, *, block_size=None) -> ModelSource:
    """Open a MODEL: a block-model file (``.csv``, ``.parquet``, MineLib ``.blocks``), a MineLib
    instance (folder ``.../kd``, path prefix ``.../kd/kd`` or any of its files) or the name of an
    instance in the MineLib folder (``kd``, see `orepit.data.datasets`).

    block_size: (dx, dy, dz) in m for models that do not state it.  `InputError` (naming the path)
    when the path is none of these.  A new block-model format plugs in here and in `read_model`.
    """
    text = os.fspath(path)
    block_size = None if block_size is None else tuple(block_size)
    p = Path(text)
    if _is_model_file(text):
        if not p.exists():
            raise InputError("file not found", path=text)
        sibling_prec = p.with_suffix(".prec")
        instance = load_instance(p) if model_kind(text) == "blocks" and sibling_prec.exists() else None
        return ModelSource(text, instance, block_size)
    if not p.exists() and os.sep not in text and "/" not in text and not p.suffix:
        try:
            return ModelSource(text, load_instance(instance_path(text)), block_size)
        except InputError as exc:
            raise InputError(f"no such file or folder, nor a MineLib instance of that name ({exc})",
                             path=text) from None
    if not p.exists() and not p.with_name(p.name + ".prec").exists():
        raise InputError(f"{text}: no such file or folder (MODEL is a block model "
                         f"{'/'.join(MODEL_SUFFIXES)}, or a MineLib folder or path prefix)")
    return ModelSource(text, load_instance(p), block_size)


def write_model(model: BlockModel, path) -> None:
    """Write a block model as CSV or Parquet (by extension, with an ``id`` column), atomically."""
    kind = model_kind(path)
    if kind == "blocks":
        write_blocks(path, model)
        return
    meta = {"block_size": model.block_size, "origin": model.origin, "grades": list(model.grades),
            "name": model.name}
    write_table(model.frame, path, kind, meta if kind == "parquet" else None)
