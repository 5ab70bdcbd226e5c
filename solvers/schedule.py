"""The scheduling pipeline for CPIT / PCPSP: bound, schedule, improve, verify.

    1. LP bound by Bienstock-Zuckerberg (`solvers.bz`), each block held unmined before its
       earliest period (`solvers.earliest`): a valid upper bound and the LP fractions that guide
       the rounding.
    2. TopoSort rounding (`solvers.heuristics`): a feasible schedule in a second.
    3. Improvement: MIPs over sliding time windows (`solvers.improve`), on large instances from
       TopoSort's schedule after block-level cone shifts and swaps (`solvers.frontier`), each
       window freeing only the blocks near the boundaries between its periods.  On small instances
       (at most ``exact_max_columns`` binaries) then the exact MIP of `solvers.mip` started from
       that schedule, whose dual bound tightens the LP bound, when the budget leaves it at least
       ``MIP_SHARE_MIN_SECONDS`` (else the windows get the time; the MIP runs only if they settle
       first).  On the others, when the windows stall (no gain for ``STALL_SECONDS``: the running
       windows are stopped) or settle, the cone shifts and swaps again; then the windows go on
       (those settled stay so unless the change reached them), after a gain with the stall limit,
       else to the end without it.
    4. Verification by the independent checker (`solvers.check`) before returning.
"""
from __future__ import annotations

import math
import os
import time

import numpy as np

from . import bz, earliest, frontier, heuristics, improve, mip
from .check import capacity_conflicts, check_schedule
from .deadline import Deadline
from .errors import CapacityError, TimeLimitError
from .problem import PcpspProblem
from .result import FEASIBLE, OPTIMAL, TIME_LIMIT, Result, relative_gap

# How the time limit is split (all in s or shares of the seconds left):
# the LP bound gets at most this share; BZ usually converges well within it, and the bound is
# worth little without time left to find schedules that approach it.
LP_SHARE = 0.3
# ... and at least this long: BZ needs a few iterations for any bound at all.
LP_MIN_SECONDS = 1.0
# On small instances (the exact MIP follows) the windows get this share of what is left; the exact
# MIP, which can prove optimality, gets the rest.  On large instances the windows get it all.
WINDOW_SHARE_SMALL = 0.3
# Kept back at the end for the final check of the schedule and the return to the caller.
RESERVE = 1.5
# The exact MIP is started only with at least this long to run: less is spent in HiGHS' presolve.
MIP_MIN_SECONDS = 1.5
# The exact MIP is given its share of the budget (1 - WINDOW_SHARE_SMALL) only when that share is at
# least this long (s); with less the windows get it all, and the exact MIP runs only on what they
# leave when they settle (at least MIP_MIN_SECONDS).  On newman1 (6,360 binaries, AMD EPYC 2 cores)
# HiGHS' presolve of the exact MIP alone takes 14 s and in 65 s it neither left the root nor
# improved the windows' schedule: with 30 s the pipeline ended at 24,068,120 (0.45 % short of the
# optimum) and with 90 s at 24,168,138, where windows alone reached 24,168,138 in 28 s and the
# optimum 24,176,865 at 77 s of 88 s.
MIP_SHARE_MIN_SECONDS = 120.0
# Window MIPs (`solvers.improve`): a window's first try gets this limit (s), doubled on retries;
# windows start two periods wide and widen, once every window of a width is settled, up to
# MAX_WINDOW_WIDTH.  With ``threads`` >= 2 that many windows run side by side, one thread each.
WINDOW_SECONDS = 30.0
MAX_WINDOW_WIDTH = 4
# On large models (more than ``exact_max_columns`` binaries: no exact MIP follows) the windows have
# stalled when none gained for this long (s); the running ones are then stopped for the cone shifts
# and swaps below.  (LP-guided fixing, MIPs on the columns where the LP and the schedule disagree,
# ran here until 2026-12-02: in the 900 s runs of kd CPIT, kd PCPSP and zuck_small CPIT its rounds of
# 11,000-23,000 free columns took 285, 325 and 171 s, nearly all stopped by their limits, for gains
# of 0, 1,004 and 0, one MIP at a time.)
STALL_SECONDS = 2 * WINDOW_SECONDS
# On large models, on TopoSort's schedule before the windows and each time the windows stall or
# settle: block-level cone shifts and swaps between adjacent periods (`solvers.frontier`), this
# share of the improvement time left (it usually ends sooner, when a pass moves nothing; kd: 0.14
# CPU s a pass).  FRONTIER False switches it off (and with it the stall: windows to the end).
FRONTIER = True
FRONTIER_SHARE = 0.1
FRONTIER_MIN_SECONDS = 2.0
# On large models a window frees only the blocks near the boundaries between its periods: those
# that can move to a neighbouring period carrying at most BAND_CONE blocks of their own period
# (`solvers.frontier.near_boundary`); the others keep their period.  On kd, from the frontier
# search's schedule, two-period windows of 30 s over periods 0-4 gained 65 K with the band (1,230-
# 1,450 of 1,680-2,290 blocks free) and 23 K whole.  A window solved to optimality without a gain
# is tried again with twice the band (`solvers.improve`): on zuck_small, whose 2-period band windows
# solve in seconds, from one 300 s schedule, 180 s: +115 K against +78 K with the band fixed at 20
# (+134 K whole); on kd the same within 1 K.  None: whole windows.
BAND_CONE = 20
# Window MIPs on large models stop at this relative gap (of the window's free columns' objective)
# instead of ``mip_gap``: on kd, from the same schedule, four of five band windows over periods 0-4
# stopped at once as optimal at a 1e-4 gap where at 1e-6 they gained 37 K in 30 s each.
WINDOW_GAP = 1e-6


def frontier_step(problem: PcpspProblem, period, frac, value: float, seconds_left: float):
    """`solvers.frontier`'s cone shifts and swaps on the schedule, for FRONTIER_SHARE of
    ``seconds_left`` (s), at least FRONTIER_MIN_SECONDS of it; the result is adopted when it gains and passes the checker.  Returns
    (period, frac, value, info) with info: moves, swaps, passes, frontier_s, gain."""
    seconds = min(seconds_left, max(FRONTIER_MIN_SECONDS, FRONTIER_SHARE * seconds_left))
    p2, f2, info = frontier.improve_frontier(problem, period, frac, time_limit=seconds)
    v2 = heuristics.schedule_value(problem, p2, f2)
    info["gain"] = 0.0
    if v2 - value > 1e-9 * max(1.0, abs(value)) and check_schedule(problem, heuristics.to_schedule(p2, f2)).feasible:
        info["gain"] = v2 - value
        return p2, f2, v2, info
    return period, frac, value, info


def window_share(small: bool, seconds_left: float) -> float:
    """Share of ``seconds_left`` (s, after the reserve) that the windows get: all of it on large
    models and on small ones whose exact MIP would get less than MIP_SHARE_MIN_SECONDS, else
    WINDOW_SHARE_SMALL."""
    if small and (1.0 - WINDOW_SHARE_SMALL) * seconds_left >= MIP_SHARE_MIN_SECONDS:
        return WINDOW_SHARE_SMALL
    return 1.0


def cpu_seconds() -> float:
    """CPU seconds used so far by this process and its finished child processes (the window MIPs)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def solve_schedule(problem: PcpspProblem, time_limit: float = 900.0, threads: int | None = None,
                   mip_gap: float = 1e-4, progress=None, exact_max_columns: int = 20000) -> Result:
    """Best schedule found within ``time_limit`` seconds, with a proven bound.

    Returns a `Result`: solution = the verified `solvers.problem.Schedule`; objective = its
    value by the independent checker; bound = the best of the LP bound and the exact MIP's dual
    bound; status 'optimal' when the gap is at most ``mip_gap``, 'time_limit' when time ran out
    first, else 'feasible'.  info: model sizes, per-phase seconds (``phases``) and figures (``lp``,
    ``toposort``, ``mip``).  threads: HiGHS threads; progress(phase, incumbent, bound) is called
    between steps (phases 'lp N', 'toposort', 'frontier', 'window T0-T1', 'mip', 'done').
    exact_max_columns: a model with at most this many binaries gets the exact MIP after the windows;
    a larger one gets band windows (``BAND_CONE``) and the cone shifts and swaps when they stall.
    """
    conflicts = capacity_conflicts(problem)
    if conflicts:
        raise CapacityError(conflicts)
    t0 = time.perf_counter()
    deadline = Deadline(time_limit)
    info: dict = {"blocks": problem.n_blocks, "periods": problem.n_periods,
                  "destinations": problem.n_destinations, "phases": {}}
    state = {"objective": -math.inf, "bound": math.inf}

    def tell(phase, objective=-math.inf, bound=math.inf):
        state["objective"] = max(state["objective"], objective)
        state["bound"] = min(state["bound"], bound)
        if progress is not None:
            progress(phase, float(state["objective"]), float(state["bound"]))

    # 1. LP bound, every block held unmined before its earliest period
    tp = time.perf_counter()
    first = earliest.earliest_periods(problem)
    lp = bz.solve_lp(problem, time_limit=deadline.child(share=LP_SHARE, minimum=LP_MIN_SECONDS).seconds,
                     threads=threads, progress=lambda phase, lp_value, bound: tell(phase, bound=bound), earliest=first)
    info["phases"]["lp_s"] = time.perf_counter() - tp
    info["lp"] = {"objective": lp.objective, "bound": lp.bound, "iterations": lp.info["iterations"],
                  "status": lp.status, "blocks_held_back": int(np.count_nonzero(first))}
    tell("lp", bound=lp.bound)

    # 2. TopoSort
    tp = time.perf_counter()
    period, frac, value, tinfo = heuristics.best_toposort(problem, lp.solution)
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
    info["model"] = {"rows": lm.n_rows, "columns": lm.n_vars}
    small = lm.groups["w"].size <= exact_max_columns
    lp_mined = lp.solution.sum(axis=(1, 2)) > 1e-6
    tp = time.perf_counter()
    cpu0 = cpu_seconds()
    if period is not None:
        improving = deadline.child(share=window_share(small, deadline.left() - RESERVE), reserve=RESERVE)
        # infinite: windows alone to the end (small models, or large ones without the cone search)
        stall = STALL_SECONDS if FRONTIER and not small else math.inf
        log, busy, width, memory, searches = [], 0.0, 2, {}, []
        if FRONTIER and not small:                         # TopoSort's schedule, before any window
            period, frac, value, finfo = frontier_step(problem, period, frac, value, improving.left())
            searches.append(finfo)
            tell("frontier", value)
        while True:
            period, frac, value, winfo = improve.improve_windows(
                problem, period, frac, lm=lm, width=2, max_width=MAX_WINDOW_WIDTH, time_limit=improving.left(),
                window_limit=WINDOW_SECONDS, threads=threads, workers=max(1, threads or 1), lp_mined=lp_mined,
                progress=lambda phase, v, _: tell(phase, v), stall_seconds=stall, memory=memory,
                band_cone=None if small else BAND_CONE, mip_gap=mip_gap if small else min(mip_gap, WINDOW_GAP))
            log, busy, width = log + winfo["windows"], busy + winfo["busy_s"], max(width, winfo["width"])
            if winfo["stopped_by_time"] or not math.isfinite(stall):
                break
            period, frac, value, finfo = frontier_step(problem, period, frac, value, improving.left())
            searches.append(finfo)
            tell("frontier", value)
            if finfo["gain"] <= 0.0:
                if not winfo["stalled"]:
                    break                              # every window settled and no gain from the search
                stall = math.inf                       # the windows alone for the rest
        info["improve_stopped_by_time"] = winfo["stopped_by_time"]
        info["windows"] = len(log)
        info["window_width"] = width
        info["improve_log"] = log
        info["frontier_log"] = searches
        info["phases"]["windows_busy_s"] = busy
    info["phases"]["improve_cpu_s"] = cpu_seconds() - cpu0
    info["phases"]["improve_s"] = time.perf_counter() - tp
    bound, mip_status = state["bound"], None
    exact = deadline.child(reserve=RESERVE)
    if small and exact.seconds >= MIP_MIN_SECONDS:
        tp = time.perf_counter()
        start = None if period is None else improve.schedule_columns(lm, period, frac)
        sol = lm.solve(time_limit=exact.seconds, mip_gap=mip_gap, threads=threads, start=start,
                       progress=lambda phase, inc, bd: tell(phase, inc, bd), isolate=True)
        info["phases"]["mip_s"] = time.perf_counter() - tp
        info["mip"] = {"objective": sol.objective, "bound": sol.bound, "status": sol.status,
                       "nodes": sol.info.get("nodes")}
        if sol.solution is not None:
            p2, f2 = improve.columns_to_schedule(lm, sol.solution)
            v2 = heuristics.schedule_value(problem, p2, f2)
            if v2 > value and check_schedule(problem, heuristics.to_schedule(p2, f2)).feasible:
                period, frac, value = p2, f2, v2
        if math.isfinite(sol.bound):
            bound = min(bound, sol.bound)
        mip_status = sol.status
    if period is None:
        raise TimeLimitError(f"no feasible schedule found within the time limit of {time_limit:g} s; the best "
                             f"bound found is {state['bound']:,.6g}; raise the time limit", field="time_limit")

    # 4. verify
    schedule = heuristics.to_schedule(period, frac)
    report = check_schedule(problem, schedule)
    if not report.feasible:
        raise RuntimeError("schedule failed the independent check: " + "; ".join(report.solution[:3]))
    objective = report.objective
    bound = max(bound, objective) if mip_status == OPTIMAL else bound
    if relative_gap(objective, bound) <= mip_gap or mip_status == OPTIMAL:
        status = OPTIMAL
    elif mip_status == TIME_LIMIT or info.get("improve_stopped_by_time") or deadline.left() <= RESERVE:
        status = TIME_LIMIT
    else:
        status = FEASIBLE
    tell("done", objective, bound)
    return Result(status, objective, bound, time.perf_counter() - t0, schedule,
                  "bz+toposort+windows" + ("+mip" if mip_status else ""), info)
