"""``orepit compare [MODEL] --economics params.toml --strategies ... --out DIR``: strategies side by side.

Without a MODEL the built-in synthetic deposit is used (``orepit demo`` is compare on it, with
every strategy and the frontier; it shares the options of `add_study_options`).
"""
from __future__ import annotations

from solvers.errors import InputError

from orepit.cli.opening import (add_builtin_deposit, add_discount_rate, discount_rate_of, instance_slopes,
                                open_model_of, slope_of)
from orepit.cli.options import (MINELIB, MODEL_FILES, add_block_size, add_columns, add_json, add_mining_capacity,
                                add_model, add_parameter_files, add_quiet, add_slope, add_solver, count, default_of,
                                positive, share, out_folder)
from orepit.cli.output import emit
from orepit.data.atomic import writing_folder
from orepit.output.report import KPIS_MD, REPORT, write_kpis_markdown, write_report
from orepit.planning.strategies import STRATEGY_NAMES, ScheduleSetup, strategy_options
from orepit.study.pipeline import run_study, write_results
from orepit.valuation.economics import Economics
from orepit.valuation.environment import Environment
from orepit.valuation.synthetic import default_economics, synthetic_deposit

#: points of the NPV-recovery frontier when --strategies names it (run_study's default)
FRONTIER_POINTS = default_of(run_study, "frontier_points")


def register(sub):
    p = sub.add_parser("compare", help="high-grade, npv and green strategies side by side (KPI table, charts)")
    add_model(p, f"{MODEL_FILES}, or {MINELIB} (its .blocks and .prec) (default: the built-in synthetic "
                 "deposit, see --blocks)", optional=True)
    add_parameter_files(p, "the built-in deposit's; required with a MODEL", "the documented defaults")
    p.add_argument("--strategies", default=",".join(STRATEGY_NAMES), metavar="NAME[,NAME...]",
                   help=f"comma list of {', '.join(STRATEGY_NAMES)}, frontier")
    add_block_size(p)
    add_columns(p)
    add_builtin_deposit(p)
    add_study_options(p, "compare-out")
    p.set_defaults(func=run)


def add_study_options(p, out: str) -> None:
    """The plan, slope, solver and output options of compare and demo (defaults: `ScheduleSetup`,
    `strategy_options`, the precedence defaults)."""
    p.add_argument("--periods", type=count, default=ScheduleSetup.periods, metavar="N",
                   help="the most periods a plan may take; the life of mine follows from the capacities, and a "
                        "horizon too short to mine a pit out leaves metal in it, counted as sterilised [periods]")
    p.add_argument("--target-life", type=count, default=ScheduleSetup.target_life, metavar="N",
                   help="capacities derived from the economic pit mill its ore in about N periods [periods]")
    add_discount_rate(p)
    add_mining_capacity(p, "derived from the ultimate pit")
    p.add_argument("--mill-capacity", type=positive, metavar="T",
                   help="ore milled per period [t/period] (default: derived from the ultimate pit)")
    p.add_argument("--mill-hours", type=positive, metavar="H",
                   help="mill operating hours per period [h/period] (default: derived from the ultimate pit)")
    p.add_argument("--recovery-floor", type=share, metavar="FRACTION",
                   default=default_of(strategy_options, "recovery_floor"),
                   help="green: least cumulative mining recovery [fraction]")
    p.add_argument("--utilisation-floor", type=share, metavar="FRACTION",
                   default=default_of(strategy_options, "utilisation_floor"),
                   help="green: least share of the deposit's ore-grade metal inside the final pit (default: the "
                        "economic pit's share; the NPV budget may raise it) [fraction]")
    p.add_argument("--green-budget", type=share, metavar="FRACTION", default=default_of(strategy_options, "budget"),
                   help="green: the share of npv's economic NPV green may give up to take more of the deposit's "
                        "metal (0: none) [fraction]")
    add_slope(p, pattern=False, applies=" (for models without a MineLib .prec)")
    add_solver(p, ScheduleSetup.time_limit, ScheduleSetup.threads, ScheduleSetup.mip_gap,
               "each schedule solve (one per strategy and frontier point)")
    p.add_argument("--bound-prices", type=count, default=ScheduleSetup.bound_prices, metavar="N",
                   help="prices each plan's upper bound tries: more give a tighter bound (a smaller gap) in more "
                        "time, about 0.15 s a price per 20,000 blocks (docs/planning.md) [-]")
    p.add_argument("--out", default=out, type=out_folder, metavar="DIR", help="results folder")
    p.add_argument("--no-report", action="store_true", help="skip charts and report.html")
    add_quiet(p)
    add_json(p)


def study_of(args, inputs, strategies, frontier_points: int = 0):
    """`run_study` on ``inputs`` (`study_inputs`) with `add_study_options`' plan, green, slope and
    solver options; ``frontier_points``: 0 for no NPV-recovery frontier."""
    model, econ, env, precedence, discount, slope = inputs
    setup = ScheduleSetup(periods=args.periods, target_life=args.target_life, discount_rate=discount,
                          mining_capacity=args.mining_capacity, mill_capacity=args.mill_capacity,
                          mill_hours=args.mill_hours, time_limit=args.time_limit, mip_gap=args.gap, threads=args.threads,
                          bound_prices=args.bound_prices)
    return run_study(model, econ, env, strategies, setup, frontier_points=frontier_points, slope=slope,
                     levels=args.benches, precedence=precedence, progress=not (args.quiet or args.json),
                     recovery_floor=args.recovery_floor, utilisation_floor=args.utilisation_floor,
                     budget=args.green_budget)


def strategy_names(text: str, extra: tuple = ()) -> list[str]:
    """The strategies of a --strategies comma list (of `STRATEGY_NAMES` and ``extra``); `InputError`
    naming an unknown one."""
    wanted = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in (*STRATEGY_NAMES, *extra)]
    if unknown or not wanted:
        raise InputError(f"unknown strategy {unknown[0] if unknown else '(none)'} "
                         f"(choose from {', '.join((*STRATEGY_NAMES, *extra))})", field="strategies")
    return wanted


def study_inputs(args):
    """(model, economics, environment, precedence, discount rate, slope angles or `SlopeTable`) from the
    arguments."""
    precedence, source = None, None
    if args.model is not None and not args.economics:
        raise InputError("--economics is required with a MODEL (see examples/*.toml)", field="economics")
    econ = Economics.from_toml(args.economics) if args.economics else None
    slope = slope_of(args)
    env = Environment.from_toml(args.environment) if args.environment else None
    if args.model is None:
        model = synthetic_deposit(args.blocks, seed=args.seed)
        econ = econ or default_economics(model.block_size[2])
    else:
        env = env or Environment(currency=econ.currency)
        source = open_model_of(args, economics=econ, environment=env)
        model = source.model
        if source.instance is not None:
            precedence = instance_slopes(source, slope).precedence()
    if model.block_size is None:
        raise InputError(f"the block size of {model.name or args.model} is unknown: give --block-size DX DY DZ",
                         field="block_size")
    env = env or Environment(currency=econ.currency)
    return model, econ, env, precedence, discount_rate_of(args, source), slope


def run(args) -> int:
    wanted = strategy_names(args.strategies, ("frontier",))
    points = FRONTIER_POINTS if "frontier" in wanted else 0
    study = study_of(args, study_inputs(args), [s for s in wanted if s != "frontier"], points)
    reporting = not args.no_report and bool(study.results)
    with writing_folder(args.out, f"orepit {args.verb}"):
        out = write_results(study, args.out, meanwhile=write_report if reporting else None)  # beside the block files
        kpis = (out / KPIS_MD).read_text(encoding="utf-8") if reporting else (    # the report wrote it
            write_kpis_markdown(out) if study.results else "")
    report = str(out / REPORT) if reporting else None
    payload = {"out": str(out), "report": report,
               "strategies": {n: r.kpis for n, r in study.results.items()},
               "frontier_points": 0 if study.frontier is None else int(len(study.frontier)),
               "warnings": study.warnings}
    notes = "".join(f"\nwarning: {w}" for w in study.warnings)
    emit(args, payload, kpis + notes + f"\n\nresults: {out}" + (f"\nreport: {report}" if report else ""))
    return 0
