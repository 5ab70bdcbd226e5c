"""``orepit gt MODEL --cutoffs 0:2:0.05 [--grade cu] [--unit %] [--mask in_pit] [--out gt.csv]``.

Grade-tonnage table: tonnes at or above each cut-off, their tonnage-weighted mean grade and metal.
"""
from __future__ import annotations

import os

from solvers.errors import InputError

from orepit.cli.opening import open_model_of
from orepit.cli.options import MINELIB, MODEL_FILES, add_columns, add_json, add_model, default_of, out_file
from orepit.cli.output import emit
from orepit.data.atomic import atomic_path
from orepit.valuation.gradetonnage import METAL_UNITS, grade_tonnage, parse_cutoffs


def register(sub):
    p = sub.add_parser("gt", help="grade-tonnage table for a vector of cut-offs")
    add_model(p, f"{MODEL_FILES}, or {MINELIB} (its .blocks)")
    add_columns(p)
    p.add_argument("--cutoffs", required=True, metavar="START:STOP:STEP",
                   help="cut-off grades, start:stop:step (stop included) or a comma list [grade unit]")
    p.add_argument("--grade", metavar="COLUMN", help="grade column (default: the model's first grade, else "
                                                     f"{default_of(grade_tonnage, 'grade')})")
    p.add_argument("--unit", default=default_of(grade_tonnage, "grade_unit"), choices=list(METAL_UNITS),
                   help="unit of the grade column")
    p.add_argument("--mask", metavar="COLUMN", help="only blocks where this column is true / non-zero "
                                                    "(default: every block)")
    p.add_argument("--out", type=out_file, metavar="FILE.csv", help="write the table as CSV (default: not written)")
    add_json(p)
    p.set_defaults(func=run)


def run(args) -> int:
    cutoffs = parse_cutoffs(args.cutoffs)
    model = open_model_of(args, grades=[args.grade]).model
    grade = args.grade or (model.grades[0] if model.grades else default_of(grade_tonnage, "grade"))
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
