"""``orepit init MODEL --out PARAMS.toml``: a commented starter economics file from the model's columns.

Elements are guessed from the column names (`orepit.data.starter`), every economics key is
written with the default it starts from (the built-in deposit's, `orepit.valuation.synthetic.
default_economics`, for the model's bench height) and its unit, and the column mapping used goes
into a ``[columns]`` table, so that ``orepit compare MODEL --economics PARAMS.toml`` reads the model
the same way.  An existing file is not overwritten.
"""
from __future__ import annotations

import os
from dataclasses import asdict

from solvers.errors import InputError

from orepit.cli.opening import open_model_of
from orepit.cli.options import MODEL_FILES, add_block_size, add_columns, add_json, add_model, model_columns, out_file
from orepit.cli.output import emit
from orepit.data.atomic import write_text
from orepit.data.starter import starter_text
from orepit.valuation.synthetic import default_economics


def register(sub):
    p = sub.add_parser("init", help="a commented starter economics file from a block model's columns")
    add_model(p, MODEL_FILES)
    add_columns(p)
    add_block_size(p)
    p.add_argument("--out", required=True, type=out_file, metavar="PARAMS.toml",
                   help="the economics file to write (not overwritten)")
    add_json(p)
    p.set_defaults(func=run)


def run(args) -> int:
    if not os.fspath(args.out).lower().endswith(".toml"):
        raise InputError("--out must be a .toml file", path=args.out, field="--out")
    if os.path.exists(args.out):
        raise InputError("file exists; orepit init does not overwrite (remove it or choose another --out)",
                         path=args.out, field="--out")
    columns = model_columns(args)
    model = open_model_of(args).model
    bench = model.block_size[2] if model.block_size else 15.0
    text, found = starter_text(model, asdict(default_economics(bench)), columns, source=os.path.basename(args.model))
    write_text(args.out, text)
    emit(args, {"out": os.fspath(args.out), "elements": {e.name: {"column": e.column, "grade_unit": e.grade_unit}
                                                          for e in found}},
         f"wrote {args.out}: " + ("; ".join(e.reason for e in found) or "no elements found")
         + "; confirm every value before use")
    return 0
