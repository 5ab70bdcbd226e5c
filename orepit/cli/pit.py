"""``orepit pit``: the ultimate pit of a MineLib instance or of a dense value grid.

    orepit pit INSTANCE [--json] [--out FILE.sol]
    orepit pit --grid VALUES_FILE --dims NX NY NZ --block-size DX DY DZ --slope 45 --benches 8

A values file holds one block value per line (x fastest, then y, then z; z = 0
the bottom bench), or is a ``.npy`` array.
"""
from __future__ import annotations

import os
import time

import numpy as np

from solvers.errors import InputError

from orepit.cli import add_json_flag, emit
from solvers.patterns import GridPrecedence, minimal_pattern, named_pattern, slope_offsets
from solvers.closure import PseudoflowSolver
from orepit.data.minelib import load_instance
from orepit.data.minelib import write_upit_solution


def add_grid_arguments(p) -> None:
    """Options describing a dense grid and its slope pattern (shared with ``shells``)."""
    p.add_argument("--grid", metavar="VALUES_FILE", help="dense grid of block values, one per line (or .npy)")
    p.add_argument("--dims", nargs=3, type=int, metavar=("NX", "NY", "NZ"), help="grid size in blocks")
    p.add_argument("--block-size", nargs=3, type=float, metavar=("DX", "DY", "DZ"), default=None,
                   help="block size in m (default 1 1 1)")
    p.add_argument("--slope", default="45", help="overall slope angle in degrees, or comma list per azimuth "
                                                 "sector starting north, clockwise (default 45)")
    p.add_argument("--benches", type=int, default=8, help="benches the slope pattern spans (default 8)")
    p.add_argument("--pattern", choices=["plus", "nine", "column"], default=None,
                   help="named pattern instead of a slope cone (plus: 5 blocks above, as MineLib newman1)")


def register(sub):
    p = sub.add_parser("pit", help="ultimate pit (maximum-value closure) of an instance or a value grid")
    p.add_argument("instance", nargs="?", help="MineLib folder or path prefix, e.g. ../shared/minelib/kd")
    add_grid_arguments(p)
    p.add_argument("--out", metavar="FILE.sol", help="write the pit as a MineLib UPIT solution (block ids)")
    add_json_flag(p)
    p.set_defaults(func=run)


def parse_slope(text: str):
    try:
        angles = [float(t) for t in str(text).split(",") if t.strip()]
    except ValueError:
        raise InputError(f"--slope '{text}' must be a number or a comma list of numbers (degrees)",
                         field="slope") from None
    if not angles:
        raise InputError("--slope needs at least one angle", field="slope")
    return angles[0] if len(angles) == 1 else angles


def read_grid_values(path, n: int) -> np.ndarray:
    """Block values from a text file (one per line) or a ``.npy`` file; exactly ``n`` of them."""
    import pandas as pd

    if not os.path.exists(path):
        raise InputError("values file not found", path=path)
    if str(path).endswith(".npy"):
        values = np.load(path, allow_pickle=False).astype(np.float64).ravel()
    else:
        try:
            frame = pd.read_csv(path, header=None, sep=r"\s+", dtype=str, engine="c", comment="#",
                                skip_blank_lines=True)
        except pd.errors.EmptyDataError:
            raise InputError("values file is empty", path=path) from None
        except pd.errors.ParserError as exc:
            raise InputError(f"expected one value per line ({exc})", path=path) from None
        if frame.shape[1] != 1:
            row = int(np.flatnonzero(frame.iloc[:, 1:].notna().any(axis=1).to_numpy())[0])
            raise InputError("expected one value per line", path=path, line=row + 1, field="value")
        numbers = pd.to_numeric(frame.iloc[:, 0], errors="coerce").to_numpy(dtype=np.float64)
        bad = np.isnan(numbers)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise InputError(f"value '{frame.iloc[row, 0]}' is not a number", path=path, line=row + 1, field="value")
        values = numbers
    if values.size != n:
        raise InputError(f"{values.size} values for a grid of {n} blocks", path=path, field="value")
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(f"value {values[row]} is not finite", path=path, line=row + 1, field="value")
    return values


def grid_problem(args):
    """(values, GridPrecedence, label) from the grid options."""

    if args.dims is None:
        raise InputError("--grid needs --dims NX NY NZ", field="dims")
    if min(args.dims) < 1:
        raise InputError(f"--dims {args.dims} must be positive", field="dims")
    nx, ny, nz = args.dims
    if args.pattern:
        offsets = named_pattern(args.pattern)
    else:
        block_size = args.block_size or (1.0, 1.0, 1.0)
        offsets = minimal_pattern(slope_offsets(block_size, parse_slope(args.slope), args.benches))
    values = read_grid_values(args.grid, nx * ny * nz)
    return values, GridPrecedence((nx, ny, nz), offsets), os.path.basename(args.grid)


def run(args) -> int:

    t0 = time.perf_counter()
    if args.grid:
        if args.instance:
            raise InputError("give either an INSTANCE or --grid VALUES_FILE, not both")
        values, precedence, name = grid_problem(args)
    else:
        if not args.instance:
            raise InputError("orepit pit: give an INSTANCE or --grid VALUES_FILE")

        inst = load_instance(args.instance)
        problem = inst.upit()
        values, precedence, name = problem.values, problem.precedence, inst.name
    result = PseudoflowSolver(precedence).solve(values)
    if args.out:
        write_upit_solution(args.out, result.solution)
    out = {"instance": name, "objective": result.objective, "blocks_in_pit": result.info["n_in_pit"],
           "seconds": result.seconds, "total_seconds": time.perf_counter() - t0,
           "blocks": int(values.size), "arcs": result.info["n_arcs"], "exact": result.info["exact"]}
    if args.out:
        out["out"] = args.out
    if args.json:
        emit(args, out)
    else:
        print(f"objective: {result.objective:,.6f}")
        print(f"blocks_in_pit: {out['blocks_in_pit']} of {values.size}")
        print(f"seconds: {result.seconds:.3f} (total {out['total_seconds']:.3f})")
        if args.out:
            print(f"pit written to {args.out}")
    return 0
