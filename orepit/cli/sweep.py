"""``orepit sweep STUDY.toml --out DIR [--scheduler ADDRESS] [--workers N] [--json]``."""
from __future__ import annotations

from pathlib import Path

from orepit.cli.options import add_cluster, add_json, add_quiet, check_cluster, natural, out_folder
from orepit.cli.output import emit
from orepit.output.sweep_charts import write_sweep_charts
from orepit.study.sweep import ALLOWED_FAILURES, run_sweep
from orepit.study.sweep_study import load_study, npv_cost_threshold
from orepit.study.sweep_summary import summarise


def register(sub):
    p = sub.add_parser("sweep", help="scenario and uncertainty study on Dask (resumable; summary and charts)")
    p.add_argument("study", metavar="STUDY.toml",
                   help="study file (TOML; see docs/sweeps.md and examples/study_small.toml); it holds the "
                        "plan and solver settings of every case (plan.time_limit, plan.mip_gap)")
    p.add_argument("--out", required=True, type=out_folder, metavar="DIR",
                   help="results folder; re-running skips the cases already in it")
    add_cluster(p)
    p.add_argument("--numba-cache", metavar="DIR", help="numba cache folder shared by the workers "
                   "(default: $NUMBA_CACHE_DIR or ~/.cache/orepit/numba)")
    p.add_argument("--allowed-failures", type=natural, default=ALLOWED_FAILURES, metavar="N",
                   help="times a case may lose its worker before it is reported failed (local cluster) [times]")
    p.add_argument("--npv-cost-pct", type=float, metavar="PCT",
                   help="summary: NPV cost threshold in [0, 100] [%%] (default: the study's npv_cost_pct)")
    p.add_argument("--no-summary", action="store_true", help="skip summary.csv, summary.md and charts")
    add_quiet(p)
    add_json(p)
    p.set_defaults(func=run)


def run(args) -> int:
    check_cluster(args)
    if args.npv_cost_pct is not None:                       # the study file's check, before any work
        npv_cost_threshold(args.npv_cost_pct, key=("--npv-cost-pct",))
    study = load_study(args.study)
    report = run_sweep(study, args.out, scheduler=args.scheduler, workers=args.workers,
                       progress=not (args.quiet or args.json), numba_cache=args.numba_cache,
                       allowed_failures=args.allowed_failures)
    summary = None
    if not args.no_summary and report.cases > len(report.failed):
        summary = summarise(args.out, npv_cost_pct=args.npv_cost_pct, baseline=study.baseline)
        write_sweep_charts(args.out, summary)
    payload = {"out": report.out, "cases": report.cases, "skipped": report.skipped, "computed": report.computed,
               "failed": report.failed, "seconds": round(report.seconds, 3),
               "cases_per_minute": round(report.cases_per_minute, 2),
               "summary": None if summary is None else
               summary.astype(object).where(summary.notna(), None).to_dict(orient="records")}
    if args.json:
        emit(args, payload)
    else:
        print(f"{report.cases} cases: {report.computed} computed, {report.skipped} already done, "
              f"{len(report.failed)} failed" + (f" ({report.cases_per_minute:.1f} cases/min)" if report.computed
                                                 else ""))
        if summary is not None:
            print((Path(args.out) / "summary.md").read_text(encoding="utf-8"))
        for cid, message in report.failed.items():
            print(f"failed: {cid}: {message}")
        print(f"results: {report.out}")
    return 1 if report.failed else 0
