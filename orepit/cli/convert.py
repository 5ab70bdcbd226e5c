"""``orepit convert IN OUT [--columns NAME=FILECOLUMN,...]``: a block model from one format to another.

The formats go by extension (`orepit.data.files`): read ``.csv``, ``.parquet``, ``.omf`` and MineLib
``.blocks``; write those and VTK ``.vti``/``.vtu``.  The model is read as every verb reads it
(column mapping, grid from centroids, sub-blocks regularised, tonnage from density), so the file
written holds orepit's names (``i, j, k, x, y, z, tonnage``, the mapped names) and every other
column under its own name.
"""
from __future__ import annotations

import os

from solvers.errors import InputError

from orepit.cli.options import add_block_size, add_columns, add_json, model_columns
from orepit.cli.output import emit
from orepit.data.files import READ_SUFFIXES, WRITE_SUFFIXES, read_model, write_model


def register(sub):
    p = sub.add_parser("convert", help="convert a block model between CSV, Parquet, OMF, MineLib .blocks and VTK")
    p.add_argument("source", metavar="IN", help=f"block model to read ({', '.join(READ_SUFFIXES)})")
    p.add_argument("target", metavar="OUT", help=f"file to write, format by extension ({', '.join(WRITE_SUFFIXES)})")
    add_columns(p)
    add_block_size(p)
    add_json(p)
    p.set_defaults(func=run)


def run(args) -> int:
    if os.path.abspath(args.source) == os.path.abspath(args.target):
        raise InputError("IN and OUT are the same file", path=args.target)
    model = read_model(args.source, columns=model_columns(args), block_size=args.block_size)
    write_model(model, args.target)
    out = {"source": os.fspath(args.source), "out": os.fspath(args.target), "blocks": model.n_blocks,
           "dims": list(model.dims), "block_size": None if model.block_size is None else list(model.block_size),
           "origin": list(model.origin), "columns": model.columns}
    emit(args, out, f"{args.source} -> {args.target}: {model.n_blocks} blocks in a "
                    f"{' x '.join(map(str, model.dims))} grid, columns {', '.join(model.columns)}")
    return 0
