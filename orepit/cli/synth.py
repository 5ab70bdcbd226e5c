"""``orepit synth --blocks 1e6 --seed 7 --out deposit.parquet [--economics-out params.toml]``.

Writes a seeded synthetic porphyry Cu-Au block model (see `orepit.valuation.synthetic`), and optionally the
default economics for it as TOML.
"""
from __future__ import annotations

import os
import time

from solvers.errors import InputError

from orepit.cli import add_json_flag, emit
from orepit.data.atomic import write_text
from orepit.data.files import write_model
from orepit.valuation.synthetic import default_economics, synthetic_deposit
from orepit.cli.value import _output_kind


def _count(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"--blocks {text!r}: expected a number such as 1e6", field="--blocks") from None
    if not 1e3 <= value <= 1e8:
        raise InputError(f"--blocks {text!r}: expected between 1e3 and 1e8", field="--blocks")
    return value


def register(sub):
    p = sub.add_parser("synth", help="write a seeded synthetic porphyry Cu-Au block model")
    p.add_argument("--blocks", default="1e6", help="approximate number of blocks (default 1e6)")
    p.add_argument("--dims", nargs=3, type=int, metavar=("NX", "NY", "NZ"), default=None,
                   help="grid dimensions instead of --blocks")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--air", choices=["zero", "remove"], default="zero",
                   help="air blocks above topography: zero tonnage (default) or removed")
    p.add_argument("--out", required=True, metavar="FILE", help="output model (.parquet or .csv)")
    p.add_argument("--economics-out", default=None, metavar="PARAMS.toml",
                   help="also write the default economics for the deposit")
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args) -> int:

    t0 = time.perf_counter()
    kind = _output_kind(args.out)
    if args.seed < 0:
        raise InputError(f"--seed {args.seed}: expected a non-negative integer", field="--seed")
    if args.dims is not None:
        model = synthetic_deposit(dims=tuple(args.dims), seed=args.seed, air=args.air)
    else:
        model = synthetic_deposit(_count(args.blocks), seed=args.seed, air=args.air)
    write_model(model, args.out)
    out = {"blocks": model.n_blocks, "dims": list(model.dims), "block_size_m": list(model.block_size),
           "seed": args.seed, "tonnage_t": float(model["tonnage"].sum()), "out": os.fspath(args.out)}
    if args.economics_out:
        write_text(args.economics_out, default_economics(model.block_size[2]).to_toml())
        out["economics_out"] = os.fspath(args.economics_out)
    out["seconds"] = round(time.perf_counter() - t0, 3)
    emit(args, out)
    return 0
