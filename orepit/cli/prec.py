"""``orepit prec MODEL --block-size DX DY DZ --slope DEG --benches N --out FILE.prec``.

Writes MineLib precedences from block geometry (minimal slope pattern, arcs only
to blocks that exist); ``--slope-table SLOPES.toml`` gives each geotechnical domain its own angles.
MODEL is a block model (``.csv``, ``.parquet``, ``.omf`` or a MineLib ``.blocks`` file) or a
MineLib instance.
``--pattern plus`` uses the five blocks above (MineLib newman1) instead of a slope cone.
"""
from __future__ import annotations

import os
import time

from solvers.errors import InputError

from orepit.cli.opening import open_model_of, slope_of
from orepit.cli.options import (MINELIB, MODEL_FILES, add_block_size, add_columns, add_json, add_model, add_slope,
                                out_file)
from orepit.cli.output import emit
from orepit.valuation.precedence import precedence_from_geometry, write_precedence


def register(sub):
    p = sub.add_parser("prec", help="MineLib .prec precedences from block geometry and slope angles")
    add_model(p, f"{MODEL_FILES}, or {MINELIB}")
    add_columns(p)
    add_block_size(p)
    add_slope(p)
    p.add_argument("--out", required=True, type=out_file, metavar="FILE.prec", help="output .prec file")
    add_json(p)
    p.set_defaults(func=run)


def run(args) -> int:
    t0 = time.perf_counter()
    blocks = open_model_of(args).model
    block_size = args.block_size or blocks.block_size
    if args.pattern is None and block_size is None:
        raise InputError("--block-size DX DY DZ is needed (the model does not state its block size)",
                         path=args.model, field="block_size")
    precedence = precedence_from_geometry(blocks, block_size=block_size, slope=slope_of(args),
                                          levels=args.benches, pattern=args.pattern)
    write_precedence(args.out, precedence)
    out = {"blocks": precedence.n_nodes, "arcs": precedence.n_arcs, "out": os.fspath(args.out),
           "seconds": time.perf_counter() - t0}
    emit(args, out)
    return 0
