"""``orepit compare [MODEL_OR_INSTANCE] --economics params.toml --strategies ... --out DIR``."""
from __future__ import annotations

from pathlib import Path

from solvers.errors import InputError

from orepit.cli import add_json_flag, emit
from orepit.valuation.economics import Economics
from orepit.valuation.environment import Environment
from orepit.data.model import BlockModel
from orepit.valuation.synthetic import default_economics, synthetic_deposit
from orepit.data.minelib import load_instance
from orepit.study.pipeline import run_study, write_results
from orepit.planning.strategies import STRATEGY_NAMES, ScheduleSetup, kpi_table
from orepit.output.report import write_report
from orepit.data.atomic import atomic_path, write_text
from orepit.data.files import read_model


def register(sub):
    p = sub.add_parser("compare", help="high-grade, npv and green strategies side by side (KPI table, charts)")
    add_options(p)
    p.set_defaults(func=run)


def defaults() -> dict:
    """Every compare option at its default (the demo runs compare with these, save its own)."""
    import argparse
    parser = argparse.ArgumentParser(add_help=False)
    add_options(parser)
    return vars(parser.parse_args([]))


def add_options(p) -> None:
    """The compare verb's arguments."""
    p.add_argument("model", nargs="?", help="block model (.parquet, .csv), MineLib instance folder/prefix; "
                   "default: the built-in synthetic deposit")
    p.add_argument("--economics", help="economics TOML (default: the synthetic deposit's)")
    p.add_argument("--environment", help="environment TOML (default: documented defaults)")
    p.add_argument("--strategies", default="high-grade,npv,green",
                   help="comma list of high-grade, npv, green, frontier (default: %(default)s)")
    p.add_argument("--periods", type=int, default=10, help="mining periods (default: %(default)s)")
    p.add_argument("--tail-periods", type=int, default=5, help="processing-only periods after mining")
    p.add_argument("--discount-rate", type=float, default=0.08, help="per period (default: %(default)s)")
    p.add_argument("--mining-capacity", type=float, help="t per period (default: from the pit)")
    p.add_argument("--mill-capacity", type=float, help="t per period (default: from the pit)")
    p.add_argument("--mill-hours", type=float, help="h per period (default: from the pit)")
    p.add_argument("--recovery-floor", type=float, default=0.95, help="green mining-recovery floor")
    p.add_argument("--utilisation-floor", type=float, default=0.9, help="green final-pit metal share floor")
    p.add_argument("--blocks", type=float, default=20000, help="size of the built-in deposit (blocks)")
    p.add_argument("--seed", type=int, default=7, help="seed of the built-in deposit")
    p.add_argument("--block-size", type=float, nargs=3, metavar=("DX", "DY", "DZ"),
                   help="block size in m (for MineLib models that do not state it)")
    p.add_argument("--slope", type=float, default=45.0, help="slope angle (deg) for models without .prec")
    p.add_argument("--levels", type=int, default=4, help="benches of the slope pattern")
    p.add_argument("--out", default="compare-out", help="results folder (default: %(default)s)")
    p.add_argument("--no-report", action="store_true", help="skip charts and report.html")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    add_json_flag(p)


def load_model(args):
    """(model, economics, environment, precedence) from the arguments."""

    precedence = None
    if args.model is None:
        model = synthetic_deposit(args.blocks, seed=args.seed)
        econ = default_economics(model.block_size[2])
    else:
        path = Path(args.model)
        if path.suffix.lower() == ".parquet":
            model = read_model(path)
        elif path.suffix.lower() == ".csv":
            model = read_model(path, block_size=args.block_size)
        else:
            inst = load_instance(path)
            model = inst.blocks(block_size=args.block_size)
            precedence = inst.precedence()
        if not args.economics:
            raise InputError("--economics is required with a block model (see examples/*.toml)", field="economics")
        econ = None
    if args.economics:
        econ = Economics.from_toml(args.economics)
    if model.block_size is None:
        raise InputError(f"the block size of {model.name or args.model} is unknown: give --block-size DX DY DZ",
                         field="block_size")
    env = Environment.from_toml(args.environment) if args.environment else Environment(currency=econ.currency)
    return model, econ, env, precedence


def run(args) -> int:

    wanted = [s.strip() for s in args.strategies.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in (*STRATEGY_NAMES, "frontier")]
    if unknown or not wanted:
        raise InputError(f"unknown strategy {unknown[0] if unknown else '(none)'} "
                         f"(choose from {', '.join(STRATEGY_NAMES)}, frontier)", field="strategies")
    if args.periods < 1 or args.tail_periods < 0:
        raise InputError("--periods must be at least 1 and --tail-periods at least 0", field="periods")
    model, econ, env, precedence = load_model(args)
    setup = ScheduleSetup(periods=args.periods, tail_periods=args.tail_periods, discount_rate=args.discount_rate,
                          mining_capacity=args.mining_capacity, mill_capacity=args.mill_capacity,
                          mill_hours=args.mill_hours)
    study = run_study(model, econ, env, [s for s in wanted if s != "frontier"], setup,
                      frontier_points=10 if "frontier" in wanted else 0, slope=args.slope, levels=args.levels,
                      precedence=precedence, progress=not (args.quiet or args.json),
                      recovery_floor=args.recovery_floor, utilisation_floor=args.utilisation_floor)
    out = write_results(study, args.out)
    table = kpi_table(study.results)
    write_kpi_tables(table, out)
    report = None
    if not args.no_report and study.results:
        report = str(write_report(out))
    payload = {"out": str(out), "report": report,
               "strategies": {n: r.kpis for n, r in study.results.items()},
               "frontier_points": 0 if study.frontier is None else int(len(study.frontier))}
    if args.json:
        emit(args, payload)
    else:
        print(markdown_table(table))
        print(f"\nresults: {out}" + (f"\nreport: {report}" if report else ""))
    return 0


KPI_ROWS = ["npv", "npv_economic", "npv_after_environment", "metal_recovered", "low_grade_tonnes_recovered",
            "metal_sterilised", "metal_left_in_pit", "mining_recovery_rate", "processing_recovery_rate",
            "utilisation_rate", "ore_to_dump_tonnes", "strip_ratio", "co2_tonnes", "co2_per_tonne_metal",
            "price_of_green", "objective_solver", "objective_simulated"]


def markdown_table(table) -> str:
    """KPIs (rows) by strategy (columns) as a Markdown table."""
    rows = [k for k in KPI_ROWS if k in table.columns]
    names = list(table.index)
    lines = ["| KPI | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for k in rows:
        cells = []
        for n in names:
            v = float(table.loc[n, k])
            v = 0.0 if abs(v) < 1e-6 else v
            cells.append(f"{v:.4f}" if abs(v) < 10 and k.endswith(("rate",)) else f"{v:,.0f}" if abs(v) >= 100
                         else f"{v:.4g}")
        lines.append(f"| {k} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_kpi_tables(table, out: Path) -> None:
    """kpis_table.csv (KPIs by strategy) and kpis.md beside the results."""
    with atomic_path(out / "kpis_table.csv") as tmp:
        table.T.to_csv(tmp)
    write_text(out / "kpis.md", markdown_table(table) + "\n")
