"""``orepit prec BLOCKS_FILE --block-size DX DY DZ --slope DEG --levels N --out FILE.prec``.

Writes MineLib precedences from block geometry (minimal slope pattern, arcs only
to blocks that exist).  BLOCKS_FILE is a MineLib ``.blocks`` file or a block
model (``.csv`` or ``.parquet`` with columns i, j, k).  ``--pattern plus`` uses
the five blocks above (MineLib newman1) instead of a slope cone.
"""
from __future__ import annotations

import os
import time

from solvers.errors import InputError

from orepit.cli import add_json_flag, emit
from orepit.cli.pit import parse_slope
from orepit.data.model import BlockModel
from orepit.data.minelib import read_blocks
from orepit.valuation.precedence import precedence_from_geometry, write_precedence
from orepit.data.files import read_model


def register(sub):
    p = sub.add_parser("prec", help="MineLib .prec precedences from block geometry and slope angles")
    p.add_argument("blocks", help="MineLib .blocks file or block model (.csv / .parquet with i, j, k)")
    p.add_argument("--block-size", nargs=3, type=float, metavar=("DX", "DY", "DZ"), default=None,
                   help="block size in m (default: the model's)")
    p.add_argument("--slope", default="45", help="slope angle in degrees, or comma list per azimuth sector")
    p.add_argument("--levels", type=int, default=8, help="benches the slope cone spans (default 8)")
    p.add_argument("--pattern", choices=["plus", "nine", "column"], default=None,
                   help="named pattern instead of a slope cone")
    p.add_argument("--out", required=True, metavar="FILE.prec", help="output .prec file")
    add_json_flag(p)
    p.set_defaults(func=run)


def load_blocks(path):

    if not os.path.exists(path):
        raise InputError("blocks file not found", path=path)
    lower = str(path).lower()
    if lower.endswith(".csv"):
        return read_model(path)
    if lower.endswith(".parquet"):
        return read_model(path)
    return read_blocks(path)


def run(args) -> int:

    t0 = time.perf_counter()
    blocks = load_blocks(args.blocks)
    block_size = args.block_size or blocks.block_size
    if args.pattern is None and block_size is None:
        raise InputError("--block-size DX DY DZ is needed (the model does not state its block size)",
                         path=args.blocks, field="block_size")
    precedence = precedence_from_geometry(blocks, block_size=block_size, slope=parse_slope(args.slope),
                                          levels=args.levels, pattern=args.pattern)
    write_precedence(args.out, precedence)
    out = {"blocks": precedence.n_nodes, "arcs": precedence.n_arcs, "out": os.fspath(args.out),
           "seconds": time.perf_counter() - t0}
    emit(args, out)
    return 0
