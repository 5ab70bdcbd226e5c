"""``orepit risk [MODEL] --realisations N --out DIR``: each strategy's plan, built on the estimated
grades, replayed on realisations of the same deposit (the risk profile of a fixed plan, on Dask).

Without a MODEL the built-in synthetic deposit is used.  The results folder is compare's (the plans
on the estimate) plus the risk tables, charts and a risk section in report.html.  With green among
the strategies, the stochastic green plan (one sequence for ``--stochastic R`` other realisations,
`orepit.planning.stochastic`) is replayed with them and its VSS measured.
"""
from __future__ import annotations

import time

from orepit.cli.compare import add_study_options, strategy_names, study_inputs, study_of
from orepit.cli.opening import add_builtin_deposit
from orepit.cli.options import (MINELIB, MODEL_FILES, add_block_size, add_cluster, add_columns, add_model,
                                add_parameter_files, check_cluster, count, natural)
from orepit.cli.output import emit
from orepit.data.atomic import writing_folder
from orepit.data.schema import write_schema
from orepit.output.report import in_sample_text, make_report, write_kpis_markdown
from orepit.output.risk_charts import RISK_CHARTS, risk_footing, write_risk_charts
from orepit.planning.replay import replay
from orepit.planning.strategies import STRATEGY_NAMES
from orepit.study.pipeline import write_results
from orepit.study.risk import BASELINE, KPIS, STOCHASTIC, build_stochastic, check_baseline, realisation_warnings, \
    risk_inputs, risk_settings, risk_summary, run_risk, value_of_stochastic_solution, write_risk
from orepit.valuation.realisations import Variogram

#: the CV of the first element's grade when no variogram file is given (Variogram's own default)
DEFAULT_CV = next(iter(Variogram().cv.values()))


def register(sub):
    p = sub.add_parser("risk", help="risk profile of each strategy's plan, replayed on grade realisations of "
                                    "one deposit (Dask; P10/P50/P90 of NPV, metal, CO2)")
    add_model(p, f"{MODEL_FILES}, or {MINELIB} (default: the built-in synthetic deposit, see --blocks)",
              optional=True)
    add_columns(p)
    add_parameter_files(p, "the built-in deposit's; required with a MODEL", "the documented defaults")
    p.add_argument("--strategies", default=",".join(STRATEGY_NAMES), metavar="NAME[,NAME...]",
                   help=f"comma list of {', '.join(STRATEGY_NAMES)}")
    p.add_argument("--realisations", type=count, metavar="N",
                   help="grade realisations each plan is replayed on [-] (default: the variogram file's "
                        f"realisations, else {Variogram.realisations})")
    p.add_argument("--variogram", metavar="VARIOGRAM.toml",
                   help="grade uncertainty: variogram, CV per grade column, seed (TOML, docs/uncertainty.md) "
                        f"(default: Variogram's defaults with CV {DEFAULT_CV:g} on the first element's grade)")
    p.add_argument("--stochastic", type=natural, metavar="R",
                   help="build the stochastic green plan on R realisations other than those every plan is judged "
                        "on, and measure its VSS; 0: none [-] (default: as many as --realisations, when green is "
                        "among the strategies)")
    add_cluster(p)
    add_block_size(p)
    add_builtin_deposit(p)
    add_study_options(p, "risk-out")
    p.set_defaults(func=run)


def run(args) -> int:
    check_cluster(args)
    start = time.perf_counter()
    names = strategy_names(args.strategies)
    variogram = Variogram.from_toml(args.variogram) if args.variogram else None
    inputs = study_inputs(args)
    model, econ, env = inputs[:3]
    if variogram is None:
        variogram = Variogram(cv={econ.elements[next(iter(econ.elements))].column: DEFAULT_CV})
    variogram.elements_of(model)
    n = args.realisations or variogram.realisations
    built = (n if BASELINE in names else 0) if args.stochastic is None else args.stochastic
    if built:
        check_baseline(names)
    study = study_of(args, inputs, names)
    planned = time.perf_counter()
    with writing_folder(args.out, "orepit risk"):     # an interrupted run leaves the folder marked
        replays = risk_inputs(study, econ, env, variogram)
        stochastic, in_sample = build_stochastic(study, replays, n, built) if built else (None, None)
        own = {name: r.kpis for name, r in study.results.items()}
        if stochastic is not None:          # its block schedule beside the others: orepit check reads it
            study.results[STOCHASTIC] = stochastic.result
        out = write_results(study, args.out)
        stochastic_seconds = time.perf_counter() - planned            # with writing the plans' results
        table, periods = run_risk(replays, n, scheduler=args.scheduler, workers=args.workers)
        replayed = time.perf_counter()
        if stochastic is not None:
            own[STOCHASTIC] = stochastic.result.kpis
        references = {"planned": own,
                      "on_estimate": {name: replay(study.deposit, plan).kpis for name, plan in replays.plans.items()}}
        summary = risk_summary(table, periods, replays.plans, references)
        vss = None
        if stochastic is not None:
            vss = value_of_stochastic_solution(summary)
            summary[STOCHASTIC].update(in_sample)
        settings = {**risk_settings(variogram, n, built),
                    "seconds": {"plans": planned - start, "stochastic": stochastic_seconds,
                                "realisations": replayed - planned - stochastic_seconds}}
        warnings = study.warnings + realisation_warnings(n)
        summary, stochastic_summary = ({k: v for k, v in summary.items() if k != STOCHASTIC}, summary.get(STOCHASTIC))
        write_risk(out, table, periods, summary, settings, stochastic_summary, vss, warnings)
        write_schema(out, econ.currency)                    # with the risk tables' columns now
        if args.no_report:                          # the report writes kpis.md with the others
            report, charts = None, write_risk_charts(out, econ.currency)
            write_kpis_markdown(out)
        else:                                       # the report draws the risk charts with the others
            made = make_report(out)
            report, charts = made["report"], {k: made["images"][k] for k in RISK_CHARTS}
    payload = {"out": str(out), "report": report, "charts": charts, "realisations": n, "strategies": summary,
               "stochastic": stochastic_summary, "vss": vss, "warnings": warnings,
               "seconds": round(time.perf_counter() - start, 3)}
    text = markdown({**summary, **({STOCHASTIC: stochastic_summary} if stochastic_summary else {})}, econ.currency)
    if vss is not None:
        text += (f"\n\nVSS (stochastic minus green, expected NPV over the {n} judged realisations): "
                 f"{vss['absolute'] / 1e6:,.3f} M {econ.currency} ({vss['percent']:+.3f} %); "
                 f"P10 NPV difference {vss['p10_difference'] / 1e6:,.3f} M {econ.currency}\n"
                 + in_sample_text(stochastic_summary, econ.currency))
    text += "\n\n" + risk_footing({"settings": settings, "stochastic": stochastic_summary})
    notes = "".join(f"\nwarning: {w}" for w in warnings)
    emit(args, payload, text + f"\n\nresults: {out}" + (f"\nreport: {report}" if report else "") + notes)
    return 0


def markdown(summary: dict, currency: str) -> str:
    """P10 / P50 / P90 (and the plan's figure on the estimate) per strategy and KPI, in millions."""
    lines = [f"| strategy | KPI (millions; {currency} or t) | plan | P10 | P50 | P90 | mean |", "|---|---|---:|---:|---:|---:|---:|"]
    for name, s in summary.items():
        for key in KPIS:
            cells = [s[f"{key}_{p}"] / 1e6 for p in ("planned", "p10", "p50", "p90", "mean")]
            lines.append(f"| {name} | {key} | " + " | ".join(f"{v:,.3f}" for v in cells) + " |")
    return "\n".join(lines)
