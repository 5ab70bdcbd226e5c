"""``orepit report RESULTS_DIR``: PNG views and charts plus one self-contained ``report.html``."""
from __future__ import annotations

from orepit.cli.options import add_json
from orepit.cli.output import emit
from orepit.data.atomic import refuse_incomplete
from orepit.output.report import make_report


def register(sub):
    p = sub.add_parser("report", help="render the 3D views and charts of a results folder and write report.html")
    p.add_argument("results_dir", metavar="RESULTS_DIR", help="folder written by 'orepit demo' or 'orepit compare' "
                                                              "(format: docs/results_format.md)")
    p.add_argument("--no-3d", dest="views", action="store_false",
                   help="skip the 3D views (charts and tables only)")
    add_json(p)
    p.set_defaults(func=run)


def run(args) -> int:
    refuse_incomplete(args.results_dir)         # the run writing it makes its own report
    out = make_report(args.results_dir, views=args.views)
    lines = [f"report: {out['report']}", f"images: {len(out['images'])} PNG files beside it",
             "seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in out["seconds"].items())]
    lines += [f"warning: {w}" for w in out["warnings"]]
    emit(args, out, "\n".join(lines))
    return 0
