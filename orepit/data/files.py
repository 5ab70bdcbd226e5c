"""Block-model files by extension: one way in (`read_model`) and one way out (`write_model`).

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
from typing import Iterable, Mapping

from solvers.errors import InputError

from orepit.data.defaults import report, with_defaults
from orepit.data.intake import model_from_table
from orepit.data.minelib import read_blocks, write_blocks
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
               assumptions: list | None = None) -> BlockModel:
    """Read a block model file (CSV, Parquet, OMF or MineLib ``.blocks``).

    columns: ``{model name: file column}`` (`orepit.data.columns.parse_columns` reads the
    ``x=XC,y=YC`` text); block_size, origin: (dx, dy, dz) and (x0, y0, z0) in m when the file
    does not state them (inferred from centroids otherwise; for sub-blocked models, of the
    parent cells); grades: grade column names; defaults: optional attributes to fill when
    missing (`orepit.data.defaults.OPTIONAL_DEFAULTS`, and ``density``).

    Every assumption made (columns found by name, inferred grid, tonnage from density,
    defaults used) is appended to ``assumptions`` when a list is given, else issued as one
    `orepit.data.defaults.AssumptionsWarning`.
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
            numbers, word = None, "block"
        else:
            table = read_table(path, kind)
            stated = read_parquet_meta(path) if kind == "parquet" else {}
            numbers, word = row_numbers(path, kind, len(table))
        given = {"block_size": block_size, "origin": origin, "grades": grades, "name": name}
        given = {key: stated.get(key) if value is None else value for key, value in given.items()}
        model = model_from_table(table, columns=columns, block_size=given["block_size"], origin=given["origin"],
                                 grades=given["grades"] or (), defaults=defaults, name=given["name"] or "",
                                 source=path, numbers=numbers, word=word, notes=notes)
    report(notes, assumptions, path)
    return model


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
