"""``orepit check MODEL SOLUTION --problem {upit,cpit,pcpsp}``: independent check of a MineLib solution;
``orepit check RESULTS``: of every block schedule in a results folder (``orepit compare``/``demo``)."""
from __future__ import annotations

from pathlib import Path

from solvers.check import check_pit, check_schedule
from solvers.errors import InputError

from orepit.cli.options import MINELIB, add_json, add_model
from orepit.cli.output import emit
from orepit.data.files import open_model
from orepit.data.minelib import read_schedule, read_upit_solution
from orepit.study.check import check_results


def register(sub):
    p = sub.add_parser("check", help="objective and every violation of a MineLib solution file, or of the block "
                                     "schedules of a results folder")
    add_model(p, f"{MINELIB}, or a results folder of orepit compare/demo (then no SOLUTION)")
    p.add_argument("solution", metavar="SOLUTION", nargs="?",
                   help=".sol file (absolute, relative to the current folder or to the instance's)")
    p.add_argument("--problem", choices=["upit", "cpit", "pcpsp"],
                   help="the problem SOLUTION solves (default: none; required with a SOLUTION)")
    add_json(p)
    p.set_defaults(func=run)


def solution_path(inst, name: str) -> Path:
    """The solution file: as given if it exists, else inside the instance's folder."""
    path = Path(name)
    if path.exists() or path.is_absolute():
        return path
    inside = inst.prefix.parent / name
    if inside.exists():
        return inside
    raise InputError(f"solution file not found (looked in the current folder and in {inst.prefix.parent})",
                     path=name)


def run_results(args) -> int:
    """Every strategy's block schedule of a results folder; exit 1 when one breaks a rule."""
    checked = check_results(args.model)
    out = {"results": args.model, "strategies": {name: {"feasible": r.feasible, "violations": r.solution,
                                                        "n_violations": r.info["n_violations"]}
                                                 for name, r in checked.items()}}
    lines = []
    for name, r in checked.items():
        lines.append(f"{name}: {'feasible' if r.feasible else 'INFEASIBLE'} ({r.info['n_violations']} violations)")
        lines.extend(f"  violation: {v}" for v in r.solution)
    emit(args, out, "\n".join(lines))
    return 0 if all(r.feasible for r in checked.values()) else 1


def run(args) -> int:
    if Path(args.model).is_dir() and (Path(args.model) / "summary.json").is_file():
        if args.solution or args.problem:
            raise InputError("a results folder is checked as a whole: give no SOLUTION and no --problem",
                             path=args.model, field="solution")
        return run_results(args)
    if not args.solution or not args.problem:
        raise InputError("a MineLib check needs a SOLUTION file and --problem {upit,cpit,pcpsp} (both required), "
                         "or MODEL a results folder", field="solution")
    inst = open_model(args.model).minelib("orepit check")
    problem = inst.problem(args.problem)
    path = solution_path(inst, args.solution)
    if args.problem == "upit":
        report = check_pit(problem, read_upit_solution(path, problem.n_blocks))
    else:
        report = check_schedule(problem, read_schedule(path))
    out = {"instance": inst.name, "problem": args.problem, "solution": str(path), "objective": report.objective,
           "feasible": report.feasible, "violations": report.solution, "n_violations": report.info["n_violations"]}
    if args.json:
        emit(args, out)
    else:
        print(f"objective: {report.objective:,.6f}")
        print(f"feasible: {report.feasible}")
        for v in report.solution:
            print(f"violation: {v}")
        if report.info["n_violations"] > len(report.solution):
            print(f"... {report.info['n_violations'] - len(report.solution)} more violations")
    return 0
