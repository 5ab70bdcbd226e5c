"""``orepit pit``: the ultimate pit of a MineLib instance, a block model or a dense value grid.

    orepit pit MODEL [--json] [--out FILE.sol]
    orepit pit MODEL.csv --economics E.toml [--environment ENV.toml] [--columns x=XC,...] --slope 45 --benches 8
    orepit pit --grid VALUES_FILE --dims NX NY NZ --block-size DX DY DZ --slope 45 --benches 8

A values file (`orepit.data.values`) holds one block value per line in grid order: x fastest,
then y, then z from the bottom bench (block (i, j, k) is line i + nx * (j + ny * k) + 1, not
counting blank and comment lines); or it is a ``.npy`` array or a one-column ``.parquet`` table in
the same order.

A ``--grid`` run loads no pandas (the model path imports `orepit.cli.opening` when it runs), so
that the command starts as fast as the closure solver it calls.
"""
from __future__ import annotations

import os
import time

from solvers.closure import PseudoflowSolver
from solvers.errors import InputError
from solvers.patterns import GridPrecedence, minimal_pattern, named_pattern, slope_offsets

from orepit.cli.options import (MINELIB, MODEL_FILES, add_block_size, add_dims, add_json, add_model, add_slope,
                                add_valuation, default_of, show, out_file)
from orepit.cli.output import emit
from orepit.data.values import read_values


def add_grid_arguments(p) -> None:
    """Options describing a dense grid and its slope pattern (shared with ``shells``)."""
    p.add_argument("--grid", metavar="VALUES_FILE",
                   help="dense grid of block values instead of MODEL: one number per line in grid order, "
                        "x fastest, then y, then z from the bottom bench (block (i, j, k) is value "
                        "i + NX*(j + NY*k), counted from 0); or a .npy array or one-column .parquet table in "
                        "that order [value units] (default: none)")
    add_dims(p, "none; needed with --grid")
    add_block_size(p, f"{show(default_of(slope_offsets, 'block_size'))} for a --grid")
    add_slope(p, applies=" (for a --grid or a block-model file; a MineLib instance has its .prec)")


def register(sub):
    p = sub.add_parser("pit", help="ultimate pit (maximum-value closure) of an instance, a block model or a "
                                   "value grid")
    add_model(p, f"{MINELIB}; or {MODEL_FILES} with --economics; or give --grid", optional=True)
    add_grid_arguments(p)
    add_valuation(p)
    p.add_argument("--out", type=out_file, metavar="FILE.sol",
                   help="write the pit as a MineLib UPIT solution (block ids) "
                                                    "(default: not written)")
    add_json(p)
    p.set_defaults(func=run)


def grid_problem(args):
    """(values, GridPrecedence, label) from the grid options."""
    if args.dims is None:
        raise InputError("--grid needs --dims NX NY NZ", field="dims")
    nx, ny, nz = args.dims
    if args.pattern:
        offsets = named_pattern(args.pattern)
    else:
        if args.slope_table:
            raise InputError("--slope-table needs a block model with a domain column, not a --grid of values",
                             field="slope-table")
        block_size = args.block_size or default_of(slope_offsets, "block_size")
        offsets = minimal_pattern(slope_offsets(block_size, args.slope, args.benches))
    values = read_values(args.grid, nx * ny * nz)
    return values, GridPrecedence((nx, ny, nz), offsets), os.path.basename(args.grid)


def run(args) -> int:
    t0 = time.perf_counter()
    if args.grid:
        if args.model:
            raise InputError("give either a MODEL or --grid VALUES_FILE, not both")
        values, precedence, name = grid_problem(args)
    else:
        if not args.model:
            raise InputError("orepit pit: give a MODEL or --grid VALUES_FILE")
        from orepit.cli.opening import model_problem     # the domain, pandas with it: not for a --grid
        values, precedence, name = model_problem(args, "pit")
    result = PseudoflowSolver(precedence).solve(values)
    if args.out:
        from orepit.data.minelib import write_upit_solution     # likewise
        write_upit_solution(args.out, result.solution)
    out = {"instance": name, "objective": result.objective, "blocks_in_pit": result.info["n_in_pit"],
           "seconds": result.seconds, "total_seconds": time.perf_counter() - t0,
           "blocks": int(values.size), "arcs": result.info["n_arcs"], "exact": result.info["exact"]}
    lines = [f"objective: {result.objective:,.6f}", f"blocks_in_pit: {out['blocks_in_pit']} of {values.size}",
             f"seconds: {result.seconds:.3f} (total {out['total_seconds']:.3f})"]
    if args.out:
        out["out"] = args.out
        lines.append(f"pit written to {args.out}")
    emit(args, out, "\n".join(lines))
    return 0
