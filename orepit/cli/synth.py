"""``orepit synth --blocks 1e6 --seed 7 --out deposit.parquet [--economics-out params.toml]``.

Writes a seeded synthetic porphyry Cu-Au block model (see `orepit.valuation.synthetic`; by default
the built-in deposit of ``orepit demo``), and optionally the default economics for it as TOML.
"""
from __future__ import annotations

import os
import time

from orepit.cli.opening import add_builtin_deposit
from orepit.cli.options import add_dims, add_json, check_table_out, default_of, out_file
from orepit.cli.output import emit
from orepit.data.atomic import write_text
from orepit.data.files import write_model
from orepit.valuation.synthetic import default_economics, synthetic_deposit


def register(sub):
    p = sub.add_parser("synth", help="write a seeded synthetic porphyry Cu-Au block model")
    add_builtin_deposit(p)
    add_dims(p, "from --blocks")
    p.add_argument("--air", choices=["zero", "remove"], default=default_of(synthetic_deposit, "air"),
                   help="air blocks above topography: zero tonnage, or removed")
    p.add_argument("--out", required=True, type=out_file, metavar="FILE", help="output model (.parquet or .csv)")
    p.add_argument("--economics-out", metavar="ECONOMICS.toml",
                   help="also write the default economics for the deposit (default: not written)")
    add_json(p)
    p.set_defaults(func=run)


def run(args) -> int:
    t0 = time.perf_counter()
    check_table_out(args.out)
    if args.dims is not None:
        model = synthetic_deposit(dims=tuple(args.dims), seed=args.seed, air=args.air)
    else:
        model = synthetic_deposit(args.blocks, seed=args.seed, air=args.air)
    write_model(model, args.out)
    out = {"blocks": model.n_blocks, "dims": list(model.dims), "block_size_m": list(model.block_size),
           "seed": args.seed, "tonnage_t": float(model["tonnage"].sum()), "out": os.fspath(args.out)}
    if args.economics_out:
        write_text(args.economics_out, default_economics(model.block_size[2]).to_toml())
        out["economics_out"] = os.fspath(args.economics_out)
    out["seconds"] = round(time.perf_counter() - t0, 3)
    emit(args, out)
    return 0
