"""``orepit value MODEL --economics params.toml [--environment env.toml] --out valued.parquet``.

Values every block at each destination (mill, low-grade stockpile, dump), every term in its
own column with its unit; with ``--environment`` (or ``--green``, the documented defaults) adds the
environmental terms and the net value per destination.  MODEL is a block model (``.parquet``,
``.csv``, ``.omf``, MineLib ``.blocks``) or a MineLib instance.  The output (``.parquet`` or ``.csv``) holds
the model's columns followed by the value columns, written atomically.
"""
from __future__ import annotations

import os
import time

import numpy as np

from solvers.errors import InputError

from orepit.cli.opening import open_model_of
from orepit.cli.options import (MINELIB, MODEL_FILES, add_block_size, add_columns, add_json, add_model,
                                add_parameter_files, check_table_out, out_file)
from orepit.cli.output import emit
from orepit.data.files import write_model
from orepit.valuation.destinations import destination_columns
from orepit.valuation.economics import Economics, block_values
from orepit.valuation.environment import Environment, environmental_costs
from orepit.valuation.net import net_values


def register(sub):
    p = sub.add_parser("value", help="block values per destination (mill, stockpile, dump), every term a column")
    add_model(p, f"{MODEL_FILES}, or {MINELIB} (its .blocks)")
    add_parameter_files(p, None, "none: no environmental terms")
    p.add_argument("--green", action="store_true",
                   help="add environmental terms with the documented default parameters")
    add_block_size(p)
    add_columns(p)
    p.add_argument("--out", required=True, type=out_file, metavar="FILE", help="output table (.parquet or .csv)")
    add_json(p)
    p.set_defaults(func=run)


def run(args) -> int:

    t0 = time.perf_counter()
    check_table_out(args.out)
    econ = Economics.from_toml(args.economics)
    env = None
    if args.environment:
        env = Environment.from_toml(args.environment)
    elif args.green:
        env = Environment(currency=econ.currency)
    if env is not None and env.currency != econ.currency:
        raise InputError(f"economics are in {econ.currency} but the environment file uses {env.currency}",
                         path=args.environment, field="currency")
    model = open_model_of(args, economics=econ, environment=env).model
    values = block_values(model, econ)
    columns = {c: values[c].to_numpy() for c in values.columns}
    summary = {"blocks": model.n_blocks, "currency": econ.currency}
    vcols = destination_columns("value_{d}_{u}", econ.unit)
    if env is not None:
        for table in (environmental_costs(model, env), net_values(model, econ, env)):
            columns.update((c, table[c].to_numpy()) for c in table.columns)
        vcols = destination_columns("net_{d}_{u}", econ.unit)
        summary["co2_t_if_all_milled"] = float(columns["co2_mill_kg"].sum() / 1000.0)
    clash = [c for c in columns if c in model]
    if clash:
        raise InputError(f"model already has column(s) {clash}; rename them before valuing", path=args.model,
                         field=clash[0])
    out_model = model.assign(**columns)
    write_model(out_model, args.out)
    stacked = np.vstack([columns[c] for c in vcols.values()])
    best = np.argmax(stacked, axis=0)
    for i, d in enumerate(vcols):
        summary[f"best_{d}_blocks"] = int((best == i).sum())
    finite = np.where(np.isfinite(stacked), stacked, -np.inf).max(axis=0)
    summary["positive_value_blocks"] = int((finite > 0).sum())
    summary["value_of_positive_blocks"] = float(finite[finite > 0].sum())
    summary.update(columns=list(columns), out=os.fspath(args.out), seconds=round(time.perf_counter() - t0, 3))
    text = "\n".join([f"{model.n_blocks} blocks valued ({econ.currency}); wrote {args.out}",
                      "best destination: " + ", ".join(f"{d} {summary[f'best_{d}_blocks']}" for d in vcols),
                      f"blocks with positive value: {summary['positive_value_blocks']} "
                      f"(sum {summary['value_of_positive_blocks']:,.0f} {econ.currency})"])
    emit(args, summary, text)
    return 0
