"""The scheduling pipeline for CPIT / PCPSP: bound, schedule, improve, verify.

    1. LP bound by Bienstock-Zuckerberg (`solvers.bz`): a valid upper bound and
       the LP fractions that guide the rounding.
    2. TopoSort rounding (`solvers.heuristics`): a feasible schedule in a second.
    3. Improvement: MIPs over sliding time windows (`solvers.improve`); on small
       instances (at most ``exact_max_columns`` binaries) then the exact MIP of
       `solvers.mip` started from that schedule, whose dual bound tightens the LP bound.
    4. Verification by the independent checker (`solvers.check`) before returning.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass


from . import bz, heuristics, improve, mip
from .check import capacity_conflicts, check_schedule
from .errors import InfeasibleError
from .problem import PcpspProblem, Schedule
from .result import FEASIBLE, OPTIMAL, TIME_LIMIT, Result, relative_gap


@dataclass
class ScheduleResult(Result):
    """`Result` with the verified ``schedule`` (a `solvers.problem.Schedule`)."""

    schedule: Schedule | None = None

    def summary(self) -> dict:
        out = {k: getattr(self, k) for k in ("status", "objective", "bound", "seconds", "algorithm")}
        out["gap"] = self.gap
        out["info"] = self.info
        return out


def solve_schedule(problem: PcpspProblem, time_limit: float = 900.0, threads: int | None = None,
                   mip_gap: float = 1e-4, progress=None, exact_max_columns: int = 20000,
                   lp_share: float = 0.3) -> ScheduleResult:
    """Best schedule found within ``time_limit`` seconds, with a proven bound.

    threads: HiGHS threads; mip_gap: relative gap at which the search stops (status
    'optimal' when reached); progress(phase, incumbent, bound) is called between steps;
    lp_share: at most this share of the time goes to the LP bound.
    """
    conflicts = capacity_conflicts(problem)
    if conflicts:
        raise InfeasibleError("capacities cannot be met: " + "; ".join(conflicts[:5]), field="resource")
    t0 = time.perf_counter()
    deadline = t0 + float(time_limit)
    left = lambda: deadline - time.perf_counter()  # noqa: E731
    info: dict = {"blocks": problem.n_blocks, "periods": problem.n_periods,
                  "destinations": problem.n_destinations, "phases": {}}
    state = {"objective": -math.inf, "bound": math.inf}

    def tell(phase, objective=None, bound=None):
        if objective is not None:
            state["objective"] = max(state["objective"], objective)
        if bound is not None:
            state["bound"] = min(state["bound"], bound)
        if progress is not None:
            progress(phase, state["objective"], state["bound"])

    # 1. LP bound
    tp = time.perf_counter()
    lp = bz.solve_lp(problem, time_limit=max(1.0, lp_share * time_limit), threads=threads,
                     progress=lambda it, o, b: tell(f"lp {it}", None, b))
    info["phases"]["lp_s"] = time.perf_counter() - tp
    info["lp"] = {"objective": lp.objective, "bound": lp.bound, "iterations": lp.iterations,
                  "converged": lp.converged}
    tell("lp", None, lp.bound)

    # 2. TopoSort
    tp = time.perf_counter()
    period, frac, value, tinfo = heuristics.best_toposort(problem, lp.y)
    info["phases"]["toposort_s"] = time.perf_counter() - tp
    info["toposort"] = dict(tinfo, objective=value)
    if not check_schedule(problem, heuristics.to_schedule(period, frac)).feasible:
        period, frac, value = None, None, -math.inf      # lower limits or side rows: leave it to the MIP
    else:
        tell("toposort", value)

    # 3. improvement
    tp = time.perf_counter()
    lm = mip.build_matrices(problem)
    info["phases"]["build_s"] = time.perf_counter() - tp
    info["model"] = {"rows": lm.shape[0], "columns": lm.shape[1]}
    small = lm.n_w <= exact_max_columns
    lp_mined = lp.y.sum(axis=(1, 2)) > 1e-6
    tp = time.perf_counter()
    if period is not None:
        budget = left() * (0.3 if small else 1.0) - 2.0
        width, window_limit = 2, 20.0
        log = []
        while budget > 1.0:
            tw = time.perf_counter()
            period, frac, new_value, winfo = improve.improve_windows(
                problem, period, frac, lm=lm, width=width, time_limit=budget, window_limit=window_limit,
                threads=threads, lp_mined=lp_mined, progress=lambda ph, v: tell(ph, v), passes=4)
            log.extend(winfo["windows"])
            budget -= time.perf_counter() - tw
            if new_value <= value + 1e-7 * abs(value):
                if width >= min(4, problem.n_periods):
                    break
                width, window_limit = width + 1, window_limit * 1.5
            value = new_value
        info["improve_stopped_by_time"] = budget <= 1.0
        info["windows"] = len(log)
        info["window_width"] = width
    info["phases"]["improve_s"] = time.perf_counter() - tp
    bound, mip_status = state["bound"], None
    if small and left() > 3.0:
        tp = time.perf_counter()
        start = None if period is None else improve.schedule_columns(problem, period, frac)
        sol = mip.solve_matrices(lm, time_limit=left() - 1.5, mip_gap=mip_gap, threads=threads, start=start,
                                 on_progress=lambda inc, bd: tell("mip", inc, bd), isolate=True)
        info["phases"]["mip_s"] = time.perf_counter() - tp
        info["mip"] = {"objective": sol.objective, "bound": sol.bound, "status": sol.status,
                       "nodes": sol.info.get("nodes")}
        if sol.x is not None:
            p2, f2 = improve.columns_to_schedule(lm, sol.x)
            v2 = heuristics.schedule_value(problem, p2, f2)
            if v2 > value and check_schedule(problem, heuristics.to_schedule(p2, f2)).feasible:
                period, frac, value = p2, f2, v2
        if math.isfinite(sol.bound):
            bound = min(bound, sol.bound)
        mip_status = sol.status
    if period is None:
        raise InfeasibleError(f"no feasible schedule found within the time limit of {time_limit:g} s; the best "
                              f"bound found is {state['bound']:,.6g}; raise the time limit", field="time_limit")

    # 4. verify
    schedule = heuristics.to_schedule(period, frac)
    report = check_schedule(problem, schedule)
    if not report.feasible:
        raise RuntimeError("schedule failed the independent check: " + "; ".join(report.violations[:3]))
    objective = report.objective
    bound = max(bound, objective) if mip_status == OPTIMAL else bound
    gap = relative_gap(objective, bound)
    if gap <= mip_gap or mip_status == OPTIMAL:
        status = OPTIMAL
    elif left() <= 2.0 or info.get("improve_stopped_by_time"):
        status = TIME_LIMIT
    else:
        status = FEASIBLE
    tell("done", objective, bound)
    return ScheduleResult(status, objective, bound, time.perf_counter() - t0,
                          "bz+toposort+windows" + ("+mip" if mip_status else ""), info, schedule)
