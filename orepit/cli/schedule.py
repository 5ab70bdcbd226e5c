"""``orepit schedule INSTANCE --problem {cpit,pcpsp} --time-limit SECONDS``: production schedule.

Prints objective, bound, gap, status and seconds; progress (phase, incumbent,
bound) goes to stderr.  ``--out FILE.sol`` writes the schedule in MineLib format.
"""
from __future__ import annotations

import math
import sys
import time
from pathlib import Path

from solvers.errors import InputError

from orepit.cli import add_json_flag, emit
from orepit.data.minelib import load_instance
from orepit.data.datasets import instance_path
from solvers.schedule import solve_schedule
from orepit.data.minelib import write_schedule


def register(sub):
    p = sub.add_parser("schedule", help="CPIT / PCPSP schedule with a proven bound (BZ LP, TopoSort, MIP)")
    p.add_argument("instance", help="MineLib folder, path prefix or instance name (e.g. kd)")
    p.add_argument("--problem", required=True, choices=["cpit", "pcpsp"])
    p.add_argument("--time-limit", type=float, default=900.0, help="wall-clock seconds (default 900)")
    p.add_argument("--threads", type=int, default=None, help="HiGHS threads (default: HiGHS' choice)")
    p.add_argument("--gap", type=float, default=1e-4, help="relative gap to stop at (default 1e-4)")
    p.add_argument("--out", default=None, help="write the schedule to this .sol file")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    add_json_flag(p)
    p.set_defaults(func=run)


def _instance(name: str):

    if not Path(name).exists() and "/" not in name and "\\" not in name:
        return load_instance(instance_path(name))
    return load_instance(name)


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
    if args.time_limit <= 0:
        raise InputError(f"--time-limit must be positive, got {args.time_limit}")
    if args.threads is not None and args.threads < 1:
        raise InputError(f"--threads must be at least 1, got {args.threads}")
    inst = _instance(args.instance)
    problem = inst.problem(args.problem)
    # the limit covers reading and writing too: keep a small margin for the output
    budget = args.time_limit - (time.perf_counter() - t0) - min(1.0, 0.03 * args.time_limit)
    if budget <= 0:
        raise InputError(f"--time-limit {args.time_limit} s is used up by reading the instance")
    result = solve_schedule(problem, time_limit=budget, threads=args.threads, mip_gap=args.gap,
                            progress=_Progress(args.quiet, t0))
    if args.out:
        write_schedule(args.out, result.solution)
    seconds = time.perf_counter() - t0
    out = {"instance": inst.name, "problem": args.problem, "objective": result.objective,
           "bound": result.bound, "gap": result.gap, "status": result.status, "seconds": seconds,
           "algorithm": result.algorithm, "out": args.out, "phases": result.info.get("phases", {})}
    if args.json:
        emit(args, out)
    else:
        print(f"objective: {result.objective:,.2f}")
        print(f"bound: {result.bound:,.2f}")
        print(f"gap: {100 * result.gap:.4f}%")
        print(f"status: {result.status}")
        print(f"seconds: {seconds:.1f}")
        if args.out:
            print(f"out: {args.out}")
    return 0
