"""Block-model files by extension: one way in (`read_model`) and one way out (`write_model`), and
`open_model` for the MODEL argument of the command line (a file or a MineLib instance).

| extension | read | write | format |
|---|---|---|---|
| ``.csv`` | yes | yes | header row; any column names (`orepit.data.columns`) |
| ``.parquet`` | yes | yes | orepit keeps block size, origin, grades and name in the schema metadata |
| ``.omf`` | yes | yes | Open Mining Format v1 block model (`orepit.data.omf_file`) |
| ``.blocks`` | yes | yes | MineLib (`orepit.data.minelib`) |
| ``.vti``, ``.vtu`` | no | yes | VTK XML image or unstructured grid for ParaView and pyvista (`orepit.data.vtk_file`) |

CSV, Parquet and OMF tables go through `orepit.data.intake.model_from_table`: columns matched by a
mapping or their common names, every problem reported in one `InputError`, grid inferred from
centroids, sub-blocks regularised, tonnage from density.  See docs/block_models.md.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Iterable, Mapping

from solvers.errors import InputError

from orepit.data.datasets import instance_path
from orepit.data.defaults import report, with_defaults
from orepit.data.intake import model_from_table
from orepit.data.minelib import Instance, load_instance, read_blocks, write_blocks
from orepit.data.model import BlockModel
from orepit.data.omf_file import read_omf, write_omf
from orepit.data.table import read_parquet_meta, read_table, row_numbers, write_table
from orepit.data.vtk_file import write_vti, write_vtu

READ_SUFFIXES = (".csv", ".parquet", ".omf", ".blocks")
WRITE_SUFFIXES = (".csv", ".parquet", ".omf", ".blocks", ".vti", ".vtu")


def model_kind(path) -> str:
    """'csv', 'parquet', 'omf', 'blocks', 'vti' or 'vtu' from the file name; `InputError` otherwise."""
    lower = os.fspath(path).lower()
    for suffix in WRITE_SUFFIXES:
        if lower.endswith(suffix):
            return suffix[1:]
    raise InputError(f"unknown block model format (expected {', '.join(WRITE_SUFFIXES)})", path=path)


def read_model(path, *, columns: Mapping[str, str] | None = None, block_size=None, origin=None,
               grades: Iterable[str] | None = None, name: str | None = None, defaults: Iterable[str] = (),
               assumptions: list | None = None, only: Iterable[str] | None = None) -> BlockModel:
    """Read a block model file (CSV, Parquet, OMF or MineLib ``.blocks``).

    columns: ``{model name: file column}`` (`orepit.data.columns.parse_columns` reads the
    ``x=XC,y=YC`` text); block_size, origin: (dx, dy, dz) and (x0, y0, z0) in m when the file
    does not state them (inferred from centroids otherwise; for sub-blocked models, of the
    parent cells); grades: grade column names; defaults: optional attributes to fill when
    missing (`orepit.data.defaults.OPTIONAL_DEFAULTS`, and ``density``).

    Every assumption made (columns found by name, inferred grid, tonnage from density,
    defaults used) is appended to ``assumptions`` when a list is given, else issued as one
    `orepit.data.defaults.AssumptionsWarning`.

    only: the names of the file columns to keep from a CSV, Parquet or OMF table (those of them the
    file has, and the grade columns, given or stated); CSV and Parquet read no other column: a reader
    that needs a few columns of a large table holds those alone.
    """
    kind = model_kind(path)
    if f".{kind}" not in READ_SUFFIXES:
        raise InputError(f".{kind} files are written, not read (orepit reads {', '.join(READ_SUFFIXES)})", path=path)
    if not os.path.exists(path):
        raise InputError("file not found", path=path)
    notes: list[str] = []
    if kind == "blocks":
        if columns:
            raise InputError("a column mapping applies to CSV, Parquet and OMF files, not MineLib .blocks", path=path)
        model = with_defaults(read_blocks(path, block_size=None if block_size is None else tuple(block_size)),
                              defaults, notes)
    else:
        if kind == "omf":
            table, stated, notes = read_omf(path)
            table = table if only is None else table[[c for c in table.columns if c in _kept(only, grades, stated)]]
            numbers, word = None, "block"
        else:
            stated = read_parquet_meta(path) if kind == "parquet" else {}
            table = read_table(path, kind, None if only is None else _kept(only, grades, stated), notes)
            numbers, word = row_numbers(path, kind, len(table))
        given = {"block_size": block_size, "origin": origin, "grades": grades, "name": name}
        given = {key: stated.get(key) if value is None else value for key, value in given.items()}
        model = model_from_table(table, columns=columns, block_size=given["block_size"], origin=given["origin"],
                                 grades=given["grades"] or (), defaults=defaults, name=given["name"] or "",
                                 source=path, numbers=numbers, word=word, notes=notes)
    report(notes, assumptions, path)
    return model


def _kept(only: Iterable[str], grades: Iterable[str] | None, stated: dict) -> set[str]:
    """The columns `read_model` keeps: ``only`` and the grade columns (given, else the file's)."""
    return {*only, *(grades or stated.get("grades") or ())}


@dataclass
class ModelSource:
    """What a MODEL argument names: a block-model file, a MineLib instance, or a MineLib ``.blocks``
    file that is both.  The block model is read on first use (`model`), so verbs that only need the
    instance's problem files never read its ``.blocks``."""

    path: str
    instance: Instance | None = None
    block_size: tuple | None = None      # (dx, dy, dz) in m, for files that do not state it
    columns: dict | None = None          # {model name: file column} (`orepit.data.columns`)
    grades: tuple | None = None          # grade columns the run needs (found by name, case-insensitively)
    defaults: tuple = ()                 # optional attributes filled when missing (`orepit.data.defaults`)

    def __post_init__(self):
        if self.columns and (self.instance is not None or model_kind(self.path) == "blocks"):
            raise InputError("a column mapping applies to CSV, Parquet and OMF files, not a MineLib instance",
                             path=self.path, field="columns")

    @cached_property
    def model(self) -> BlockModel:
        """The block model (of the file, or of the instance's ``.blocks``)."""
        if self.instance is not None and not _is_model_file(self.path):
            return with_defaults(self.instance.blocks(block_size=self.block_size), self.defaults)
        return read_model(self.path, block_size=self.block_size, columns=self.columns,
                          grades=self.grades or None, defaults=self.defaults)

    def minelib(self, what: str) -> Instance:
        """The MineLib instance; `InputError` saying that ``what`` needs one when MODEL is not one."""
        if self.instance is None:
            raise InputError(f"{what} needs a MineLib instance (a folder, path prefix or name with a .prec "
                             "file); this is a block-model file", path=self.path)
        return self.instance


def _is_model_file(path) -> bool:
    return os.fspath(path).lower().endswith(READ_SUFFIXES)


def open_model(path, *, block_size=None, columns: Mapping[str, str] | None = None,
               grades: Iterable[str] | None = None, defaults: Iterable[str] = ()) -> ModelSource:
    """Open a MODEL: a block-model file (``.csv``, ``.parquet``, ``.omf``, MineLib ``.blocks``), a MineLib
    instance (folder ``.../kd``, path prefix ``.../kd/kd`` or any of its files) or the name of an
    instance in the MineLib folder (``kd``, see `orepit.data.datasets`).

    block_size: (dx, dy, dz) in m for models that do not state it; columns: ``{model name: file
    column}`` for CSV, Parquet and OMF files; grades: grade columns to look for by name; defaults:
    optional attributes to fill with their documented defaults when the model lacks them.
    `InputError` (naming the path) when the path is none of these.  A new block-model format plugs
    in here and in `read_model`.
    """
    text = os.fspath(path)
    block_size = None if block_size is None else tuple(block_size)
    given = {"block_size": block_size, "columns": dict(columns) if columns else None,
             "grades": tuple(grades) if grades else None, "defaults": tuple(defaults)}
    p = Path(text)
    if _is_model_file(text):
        if not p.exists():
            raise InputError("file not found", path=text)
        sibling_prec = p.with_suffix(".prec")
        instance = load_instance(p) if model_kind(text) == "blocks" and sibling_prec.exists() else None
        return ModelSource(text, instance, **given)
    if not p.exists() and os.sep not in text and "/" not in text and not p.suffix:
        try:
            return ModelSource(text, load_instance(instance_path(text)), **given)
        except InputError as exc:
            raise InputError(f"no such file or folder, nor a MineLib instance of that name ({exc})",
                             path=text) from None
    if not p.exists() and not p.with_name(p.name + ".prec").exists():
        raise InputError(f"{text}: no such file or folder (MODEL is a block model "
                         f"{'/'.join(READ_SUFFIXES)}, or a MineLib folder or path prefix)")
    return ModelSource(text, load_instance(p), **given)


def write_model(model: BlockModel, path) -> None:
    """Write a block model by extension (see the table above), atomically."""
    kind = model_kind(path)
    if kind == "blocks":
        write_blocks(path, model)
    elif kind == "omf":
        write_omf(model, path)
    elif kind == "vti":
        write_vti(model, path)
    elif kind == "vtu":
        write_vtu(model, path)
    else:
        meta = {"block_size": model.block_size, "origin": model.origin, "grades": list(model.grades),
                "name": model.name}
        write_table(model.frame, path, kind, meta if kind == "parquet" else None)
