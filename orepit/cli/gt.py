"""``orepit gt MODEL --cutoffs 0:2:0.05 [--grade cu] [--unit %] [--mask COLUMN] [--out gt.csv]``.

Grade-tonnage table: tonnes at or above each cut-off, their tonnage-weighted mean grade and metal.
"""
from __future__ import annotations

import os

from solvers.errors import InputError

from orepit.cli import add_json_flag, emit
from orepit.valuation.gradetonnage import grade_tonnage, parse_cutoffs
from orepit.data.atomic import atomic_path
from orepit.cli.value import load_model


def register(sub):
    p = sub.add_parser("gt", help="grade-tonnage table for a vector of cut-offs")
    p.add_argument("model", help="block model (.parquet / .csv) or MineLib .blocks file")
    p.add_argument("--cutoffs", required=True, help="START:STOP:STEP (STOP included) or a comma list")
    p.add_argument("--grade", default=None, help="grade column (default: the model's first grade, else cu)")
    p.add_argument("--unit", default="%", choices=["%", "ppm", "g/t", "unit"], help="grade unit (default %%)")
    p.add_argument("--mask", default=None, metavar="COLUMN", help="only blocks where this column is true / non-zero")
    p.add_argument("--out", default=None, metavar="FILE.csv", help="write the table as CSV (atomically)")
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args) -> int:

    cutoffs = parse_cutoffs(args.cutoffs)
    model = load_model(args.model)
    grade = args.grade or (model.grades[0] if model.grades else "cu")
    mask = None
    if args.mask:
        if args.mask not in model:
            raise InputError(f"mask column '{args.mask}' not in the model (columns: {', '.join(model.columns)})",
                             path=args.model, field=args.mask)
        mask = model[args.mask].astype(bool)
    table = grade_tonnage(model, cutoffs, grade, mask=mask, grade_unit=args.unit)
    if args.out:
        if not os.fspath(args.out).lower().endswith(".csv"):
            raise InputError("--out must be a .csv file", path=args.out, field="--out")
        with atomic_path(args.out) as tmp:
            table.to_csv(tmp, index=False)
    payload = {"grade": grade, "unit": args.unit, "rows": table.to_dict(orient="list")}
    if args.out:
        payload["out"] = os.fspath(args.out)
    emit(args, payload, table.to_string(index=False, float_format=lambda v: f"{v:.6g}"))
    return 0
