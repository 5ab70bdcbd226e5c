"""``orepit shells MODEL --factors 0.3:2.0:0.05``: nested pit shells and the pit-by-pit table.

MODEL is a MineLib instance, a block model with ``--economics`` (valued as by ``orepit pit``), or
a values file when ``--dims`` is given (grid options as for ``orepit pit``).  Definitions of the
table columns: `orepit.planning.pits`.  Tonnes are reported only when known: a value grid without
``--tonnage`` (or a MineLib instance without a tonnage column) counts blocks instead (``ore_blocks``,
``waste_blocks``, a mining rate in blocks per period).  ``--out table.csv`` writes the table.
"""
from __future__ import annotations

import os
import time

import numpy as np

from solvers.errors import InputError
from solvers.nested import parse_factors

from orepit.cli.opening import add_discount_rate, discount_rate_of, open_valued
from orepit.cli.options import (MINELIB, MODEL_FILES, add_json, add_mining_capacity, add_model, add_valuation,
                                out_file, positive)
from orepit.cli.output import emit
from orepit.cli.pit import add_grid_arguments, grid_problem
from orepit.data.atomic import write_text
from orepit.planning.pits import REVENUE_FACTORS, ShellInputs, instance_shell_inputs, nested_shells, pit_by_pit
from orepit.planning.strategies import ScheduleSetup
from orepit.valuation.destinations import DUMP, MILL


def register(sub):
    p = sub.add_parser("shells", help="nested pit shells for revenue factors and the pit-by-pit table")
    add_model(p, f"{MINELIB}; or {MODEL_FILES} with --economics; or a values file with --dims", optional=True)
    add_grid_arguments(p)
    add_valuation(p)
    p.add_argument("--factors", default=REVENUE_FACTORS, metavar="START:STOP:STEP",
                   help="revenue factors, start:stop:step (stop included) or a comma list; 1 = base price [-]")
    add_mining_capacity(p, f"the largest pit's tonnage over {ScheduleSetup.target_life} periods")
    add_discount_rate(p)
    p.add_argument("--tonnage", type=positive, metavar="T",
                   help="tonnage of each block of a value grid [t] (default: unknown: the table counts blocks, "
                        "not tonnes)")
    p.add_argument("--out", type=out_file, metavar="TABLE.csv",
                   help="write the pit-by-pit table as CSV (default: not written)")
    add_json(p)
    p.set_defaults(func=run)


def run(args) -> int:
    factors = parse_factors(args.factors)
    source = None
    if args.grid or args.dims:
        args.grid = args.grid or args.model
        if args.grid is None:
            raise InputError("give a values file with --dims", field="grid")
        values, precedence, name = grid_problem(args)
        nx, ny, nz = args.dims
        bench = np.repeat(np.arange(nz, dtype=np.int64), nx * ny)
        inputs = ShellInputs.from_values(values, args.tonnage, bench)
        tonnes_known = args.tonnage is not None
    else:
        if not args.model:
            raise InputError("orepit shells: give a MODEL or a values file with --dims")
        source, deposit = open_valued(args, "shells")
        if deposit is not None:
            v = deposit.values(bool(args.environment))
            process = np.where(np.isfinite(v[:, MILL]), v[:, MILL], v[:, DUMP])
            inputs = ShellInputs.from_destinations(v[:, DUMP], process, deposit.tonnage, deposit.model.k)
            precedence, name, tonnes_known = deposit.precedence, deposit.model.name or args.model, True
        else:
            inst = source.minelib("orepit shells")
            inputs, precedence = instance_shell_inputs(inst)
            name, tonnes_known = inst.name, "tonnage" in source.model
    discount = discount_rate_of(args, source)
    t0 = time.perf_counter()
    nested = nested_shells(inputs, precedence, factors)
    rate = args.mining_capacity
    if rate is None:
        # the largest pit mined over the default number of mining periods
        rate = max(float(inputs.tonnage[nested.solution >= 0].sum()) / ScheduleSetup.target_life, 1e-9)
    table = pit_by_pit(nested, inputs, rate, discount)
    unit = "t"
    if not tonnes_known:            # every block weighed 1: the "tonnes" are block counts
        table = table.rename(columns={"ore_t": "ore_blocks", "waste_t": "waste_blocks"})
        table[["ore_blocks", "waste_blocks"]] = table[["ore_blocks", "waste_blocks"]].round().astype("int64")
        unit = "blocks"
    seconds = time.perf_counter() - t0
    if args.out:
        write_text(args.out, table.to_csv(index=False))
    out = {"source": name, "shells": len(table), f"mining_rate_{unit}_per_period": rate,
           "discount_rate": discount, "seconds": seconds, "table": table.to_dict(orient="records")}
    lines = [f"{name}: {len(table)} shells, mining rate {rate:,.0f} {unit}/period, discount rate {discount:g}, "
             f"{seconds:.2f} s", table.to_string(index=False, float_format=lambda v: f"{v:,.2f}")]
    if args.out:
        out["out"] = os.fspath(args.out)
        lines.append(f"table written to {args.out}")
    emit(args, out, "\n".join(lines))
    return 0
