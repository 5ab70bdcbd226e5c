"""``orepit schedule MODEL --problem {cpit,pcpsp} --time-limit SECONDS``: production schedule.

Prints objective, bound, gap, status and seconds, each saying what it is (`result_lines`); progress
(phase, incumbent, bound) goes to stderr.  ``--out FILE.sol`` writes the schedule in MineLib format.
"""
from __future__ import annotations

import math
import sys
import time

from solvers.errors import CapacityError, InputError
from solvers.schedule import solve_schedule

from orepit.cli.options import MINELIB, add_json, add_model, add_quiet, add_solver, default_of, out_file
from orepit.cli.output import emit
from orepit.data.files import open_model
from orepit.data.minelib import limit_line, write_schedule
from orepit.output.wording import PLAN_STATUS, in_words

#: solve_schedule's time limit (s), threads and MIP gap: the defaults of the options
SOLVER_DEFAULTS = tuple(default_of(solve_schedule, name) for name in ("time_limit", "threads", "mip_gap"))


def register(sub):
    p = sub.add_parser("schedule", help="CPIT / PCPSP schedule with a proven bound (BZ LP, TopoSort, MIP)")
    add_model(p, MINELIB)
    p.add_argument("--problem", required=True, choices=["cpit", "pcpsp"], help="the problem to solve")
    add_solver(p, *SOLVER_DEFAULTS, "the whole run (reading, solving, writing)")
    p.add_argument("--out", type=out_file, metavar="FILE.sol",
                   help="write the schedule to this MineLib .sol file (default: not written)")
    add_quiet(p)
    add_json(p)
    p.set_defaults(func=run)


class _Progress:
    """Plain progress lines on stderr, at most one per second (and every phase change)."""

    def __init__(self, quiet: bool, t0: float):
        self.quiet, self.t0, self.last, self.phase = quiet, t0, -1.0, None

    def __call__(self, phase, incumbent, bound):
        now = time.perf_counter()
        kind = phase.split()[0]
        if self.quiet or (kind == self.phase and now - self.last < 1.0):
            return
        self.phase, self.last = kind, now
        inc = f"{incumbent:,.0f}" if incumbent is not None and math.isfinite(incumbent) else "-"
        bd = f"{bound:,.0f}" if bound is not None and math.isfinite(bound) else "-"
        print(f"[{now - self.t0:7.1f}s] {phase:<14} incumbent {inc:>16}  bound {bd:>16}",
              file=sys.stderr, flush=True)


def run(args) -> int:
    t0 = time.perf_counter()
    inst = open_model(args.model).minelib("orepit schedule")
    problem = inst.problem(args.problem)
    # the limit covers reading and writing too: keep a small margin for the output
    budget = args.time_limit - (time.perf_counter() - t0) - min(1.0, 0.03 * args.time_limit)
    if budget <= 0:
        raise InputError(f"--time-limit {args.time_limit} s is used up by reading the instance", field="time_limit")
    try:
        result = solve_schedule(problem, time_limit=budget, threads=args.threads, mip_gap=args.gap,
                                progress=_Progress(args.quiet, t0))
    except CapacityError as exc:        # named again with the file and line of the first limit
        path = inst.path(f".{args.problem.lower()}")
        resource, period, _ = exc.conflicts[0]
        raise CapacityError(exc.conflicts, path=path, line=limit_line(path, resource, period),
                            field="RESOURCE_CONSTRAINT_LIMITS") from None
    if args.out:
        write_schedule(args.out, result.solution)
    seconds = time.perf_counter() - t0
    out = {"instance": inst.name, "problem": args.problem, "objective": result.objective,
           "bound": result.bound, "gap": result.gap, "status": result.status, "seconds": seconds,
           "algorithm": result.algorithm, "out": args.out, "phases": result.info.get("phases", {})}
    lines = result_lines(result) + [f"seconds: {seconds:.1f}"] + ([f"out: {args.out}"] if args.out else [])
    emit(args, out, "\n".join(lines))
    return 0


#: MineLib block values carry no currency: the objective is in theirs
MONEY = "money units of the instance's block values (MineLib names no currency)"


def result_lines(result) -> list[str]:
    """Objective, bound, gap and status of a `solvers.result.Result` of `solve_schedule`, each with its
    unit and meaning: the bound is the LP relaxation's (Bienstock-Zuckerberg), tightened by the exact
    MIP's dual bound when the algorithm ran it (``+mip``)."""
    source = "LP relaxation (Bienstock-Zuckerberg)" + (", tightened by the MIP's dual bound"
                                                       if "mip" in result.algorithm.split("+") else "")
    return [f"objective: {result.objective:,.2f} (discounted value of the schedule, in {MONEY})",
            f"bound: {result.bound:,.2f} (upper bound from the {source}: no schedule is worth more)",
            f"gap: {100 * result.gap:.4f}% ((bound - objective) / objective)",
            f"status: {result.status}: {in_words(result.status, PLAN_STATUS)}"]
