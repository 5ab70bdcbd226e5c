"""``orepit info MODEL``: size and value range of a MineLib instance, or what a block model holds."""
from __future__ import annotations

from orepit.cli.opening import open_model_of
from orepit.cli.options import MINELIB, MODEL_FILES, add_block_size, add_columns, add_json, add_model
from orepit.cli.output import emit
from orepit.data.describe import describe


def register(sub):
    p = sub.add_parser("info", help="blocks, arcs, periods, resources and value range of a MineLib instance; "
                                    "grid, tonnage and columns of a block model")
    add_model(p, f"{MINELIB}, or {MODEL_FILES}")
    add_columns(p)
    add_block_size(p)
    add_json(p)
    p.set_defaults(func=run)


def run(args) -> int:
    source = open_model_of(args)
    if source.instance is None:
        return _block_model(args, source.model)
    inst = source.instance
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


def _block_model(args, model) -> int:
    out = {"model": args.model, **describe(model)}
    size = "unknown (give --block-size)" if model.block_size is None else " x ".join(f"{v:g}" for v in model.block_size)
    lines = [f"model: {args.model}", f"blocks: {out['blocks']} in a {' x '.join(map(str, out['dims']))} grid",
             f"block size: {size} m", "origin: " + ", ".join(f"{v:,.2f}" for v in model.origin) + " m (lower corner)"]
    if out["tonnage_t"] is not None:
        lines.append(f"tonnage: {out['tonnage_t']:,.0f} t")
    lines.append("columns:")
    for name, stats in out["columns"].items():
        if "values" in stats:
            more = ", ..." if stats["distinct"] > len(stats["values"]) else ""
            lines.append(f"  {name}: {stats['distinct']} values ({', '.join(stats['values'])}{more})")
        elif stats["min"] is None:
            lines.append(f"  {name}: no finite values")
        else:
            lines.append(f"  {name}: {stats['min']:.6g} to {stats['max']:.6g}, mean {stats['mean']:.6g}")
    emit(args, out, "\n".join(lines))
    return 0
