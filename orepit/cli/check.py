"""``orepit check INSTANCE SOLUTION --problem {upit,cpit,pcpsp}``: independent solution check."""
from __future__ import annotations

from pathlib import Path

from solvers.errors import InputError

from orepit.cli import add_json_flag, emit
from solvers.check import check_pit, check_schedule
from orepit.data.minelib import load_instance, read_schedule, read_upit_solution


def register(sub):
    p = sub.add_parser("check", help="objective and every violation of a MineLib solution file")
    p.add_argument("instance", help="MineLib folder or path prefix, e.g. ../shared/minelib/kd")
    p.add_argument("solution", help=".sol file (absolute, relative to the current folder or to the instance's)")
    p.add_argument("--problem", required=True, choices=["upit", "cpit", "pcpsp"])
    add_json_flag(p)
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


def run(args) -> int:


    inst = load_instance(args.instance)
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
