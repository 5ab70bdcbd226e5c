"""``orepit info MODEL``: size and value range of a MineLib instance."""
from __future__ import annotations

from orepit.cli.options import MINELIB, add_json, add_model
from orepit.cli.output import emit
from orepit.data.files import open_model


def register(sub):
    p = sub.add_parser("info", help="blocks, arcs, periods, resources and value range of a MineLib instance")
    add_model(p, MINELIB)
    add_json(p)
    p.set_defaults(func=run)


def run(args) -> int:
    inst = open_model(args.model).minelib("orepit info")
    precedence = inst.precedence()
    out = {"instance": inst.name, "blocks": precedence.n_nodes, "arcs": precedence.n_arcs}
    problem = None
    for kind in ("pcpsp", "cpit", "upit"):
        if inst.path("." + kind).exists():
            problem = inst.problem(kind)
            break
    if problem is not None and kind != "upit":
        out.update(periods=problem.n_periods, destinations=problem.n_destinations,
                   resources=problem.n_resources, discount_rate=problem.discount_rate,
                   side_constraints=problem.side.n_rows)
    if problem is not None:
        values = problem.values
        out.update(value_min=float(values.min()), value_max=float(values.max()),
                   positive_blocks=int((values.max(axis=-1) if values.ndim > 1 else values).__gt__(0).sum()))
    out["files"] = sorted(p.name for p in inst.prefix.parent.glob(inst.name + "*"))
    emit(args, out)
    return 0
