"""``orepit shells INSTANCE_OR_GRID --factors 0.3:2.0:0.05``: nested pit shells and the pit-by-pit table.

INSTANCE_OR_GRID is a MineLib instance, or a values file when ``--dims`` is
given (grid options as for ``orepit pit``).  Definitions of the table columns:
`orepit.planning.pits`.  ``--out table.csv`` writes the table.
"""
from __future__ import annotations

import os

import numpy as np

from solvers.errors import InputError

from orepit.cli import add_json_flag, emit
from orepit.cli.pit import add_grid_arguments, grid_problem
from solvers.nested import parse_factors
from orepit.planning.pits import ShellInputs, instance_shell_inputs
from orepit.planning.pits import nested_shells, pit_by_pit
from orepit.data.minelib import load_instance
from orepit.data.atomic import write_text


def register(sub):
    p = sub.add_parser("shells", help="nested pit shells for revenue factors and the pit-by-pit table")
    p.add_argument("source", nargs="?", help="MineLib instance, or a values file with --dims")
    add_grid_arguments(p)
    p.add_argument("--factors", default="0.3:2.0:0.05", help="start:stop:step or comma list (default 0.3:2.0:0.05)")
    p.add_argument("--mining-rate", type=float, default=None,
                   help="t per period (default: a tenth of the largest pit's tonnage)")
    p.add_argument("--discount-rate", type=float, default=None,
                   help="per period (default: the instance's DISCOUNT_RATE, else 0.10)")
    p.add_argument("--tonnage", type=float, default=1.0, help="t per block for value grids (default 1)")
    p.add_argument("--out", metavar="TABLE.csv", help="write the pit-by-pit table as CSV")
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args) -> int:


    factors = parse_factors(args.factors)
    discount = args.discount_rate
    if args.grid or args.dims:
        if args.grid is None:
            args.grid = args.source
        if args.grid is None:
            raise InputError("give a values file with --dims", field="grid")
        values, precedence, name = grid_problem(args)
        nx, ny, nz = args.dims
        bench = np.repeat(np.arange(nz, dtype=np.int64), nx * ny)
        inputs = ShellInputs.from_values(values, args.tonnage, bench)
    else:
        if not args.source:
            raise InputError("orepit shells: give an INSTANCE or a values file with --dims")

        inst = load_instance(args.source)
        inputs, precedence = instance_shell_inputs(inst)
        name = inst.name
        if discount is None and inst.path(".pcpsp").exists():
            discount = inst.pcpsp().discount_rate
    discount = 0.10 if discount is None else discount
    import time


    t0 = time.perf_counter()
    nested = nested_shells(inputs, precedence, factors)
    rate = args.mining_rate
    if rate is None:
        # a tenth of the largest pit, so the schedule spans about ten periods
        rate = max(float(inputs.tonnage[nested.solution >= 0].sum()) / 10.0, 1e-9)
    table = pit_by_pit(nested, inputs, rate, discount)
    nested.seconds = time.perf_counter() - t0
    if args.out:
        write_text(args.out, table.to_csv(index=False))
    out = {"source": name, "shells": len(table), "mining_rate_t_per_period": rate,
           "discount_rate": discount, "seconds": nested.seconds, "table": table.to_dict(orient="records")}
    if args.out:
        out["out"] = os.fspath(args.out)
    if args.json:
        emit(args, out)
    else:
        print(f"{name}: {len(table)} shells, mining rate {rate:,.0f} t/period, discount rate {discount:g}, "
              f"{nested.seconds:.2f} s")
        print(table.to_string(index=False, float_format=lambda v: f"{v:,.2f}"))
        if args.out:
            print(f"table written to {args.out}")
    return 0
