"""MIP-based improvement of a schedule over windows of periods, two or more at a time.

A window is a run of consecutive periods [t0, t1].  Blocks mined before t0 or
after t1 keep their period; blocks mined inside the window are free to move to
any period of the window (and, in the last window, blocks may also be added or
dropped: unmined blocks the LP mines are free too).  Destination fractions of
every block stay free.  The window model is the exact model of `solvers.mip`
with the other blocks fixed by bounds (fixed columns are removed before HiGHS
sees the model), started from the current schedule, so a window never makes
the schedule worse.

Windows over disjoint period ranges are compatible: a block free in the earlier
window stays before every block free in the later one, so both solutions can be
adopted together.  `improve_windows` therefore keeps ``workers`` window MIPs
running side by side (each in its own HiGHS child process, one thread each),
always on disjoint ranges, and merges each result into the current schedule as
it arrives: the blocks of the window take the window's periods and fractions,
and the periods no other window changed meanwhile take its destination
fractions too.  Every merged schedule is verified by the independent checker
before it is adopted.  A window that was solved to optimality is not solved
again until a schedule change near it; one stopped by its time limit is retried
with twice the limit (up to `MAX_LIMIT_DOUBLINGS` times); when every window of
one width is settled the windows widen by one period.  A window that frees only
the blocks near its period boundaries (``band_cone``) and was solved to
optimality without a gain is not settled yet: it is tried again with twice the
band, until the band holds every block of the window.
"""
from __future__ import annotations

import copy
import itertools
import math
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

import numpy as np

from .check import check_schedule
from .deadline import Deadline
from .frontier import near_boundary
from .heuristics import schedule_value, to_schedule
from .highs import LinearModel
from .mip import build_matrices, fractions
from .problem import PcpspProblem
from .result import OPTIMAL

# A window MIP is worth starting only with at least this many seconds left (s): HiGHS needs about
# a second to presolve and root-solve a window, and the rest of the budget is kept for the caller.
MIN_WINDOW_SECONDS = 2.0
# Seconds kept back from each window MIP's limit (s), for checking and adopting its schedule.
WINDOW_RESERVE = 1.0
# A window stopped by its time limit is retried with twice the limit, at most this many times
# while nothing near it changes (on kd, HiGHS' root heuristics can need 60-100 s to find a
# width-2 window's gain, far beyond a first limit of 30 s).
MAX_LIMIT_DOUBLINGS = 3


def window_bounds(lm: LinearModel, period: np.ndarray, t0: int, t1: int,
                  extra_free: np.ndarray | None = None,
                  movable: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column bounds of ``lm`` (a `solvers.mip.build_matrices` model) for the window [t0, t1]:
    returns (col_lower, col_upper, free) with free[b] True for the blocks free to move.

    period[b]: current period (-1 unmined).  extra_free: unmined blocks freed in the last window.
    movable: when given, only these blocks of the window are free (the others keep their period).
    """
    T = lm.groups["w"].shape[1]
    last = t1 == T - 1
    free = (period >= t0) & (period <= t1)
    if movable is not None:
        free &= movable
    if last and extra_free is not None:
        free |= extra_free & (period < 0)
    t = np.arange(T)
    # w bounds: fixed blocks w[b, t] = [0 <= p <= t]; free blocks 0 before t0, 1 from t1 on
    # (last window: free from t0 on)
    lo = mined_by(period, T)
    hi = lo.copy()
    lo[free] = 0.0
    hi[free] = t >= t0
    if not last:
        lo[free] = t >= t1
    return (*column_bounds(lm, lo, hi), free)


def mined_by(period: np.ndarray, T: int) -> np.ndarray:
    """w[b, t] of a schedule (0.0 or 1.0): block b mined by the end of period t (period[b], -1 unmined)."""
    return ((np.arange(T)[None, :] >= period[:, None]) & (period[:, None] >= 0)).astype(float)


def column_bounds(lm: LinearModel, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column bounds of ``lm`` (a `solvers.mip.build_matrices` model) with w[b, t] in [lo, hi] and
    y[b, d, t] open only where block b may be mined in period t (hi[b, t] > lo[b, t - 1])."""
    w, y = lm.groups["w"], lm.groups["y"]
    col_lower, col_upper = lm.col_lower.copy(), lm.col_upper.copy()
    col_lower[w], col_upper[w] = lo, hi
    prev_lo = np.c_[np.zeros((lo.shape[0], 1)), lo[:, :-1]]
    col_lower[y] = 0.0
    col_upper[y] = np.where(((hi - prev_lo) > 0)[:, None, :], np.inf, 0.0)
    return col_lower, col_upper


def improve_windows(problem: PcpspProblem, period: np.ndarray, frac: np.ndarray,
                    lm: LinearModel | None = None, width: int = 2, max_width: int | None = None,
                    time_limit: float = 120.0, window_limit: float = 30.0, threads: int | None = None,
                    workers: int = 1, mip_gap: float = 1e-4, lp_mined: np.ndarray | None = None,
                    progress=None, max_free: int = 8000, stall_seconds: float = math.inf,
                    memory: dict | None = None, band_cone: int | None = None):
    """Improve (period, frac) by window MIPs; returns (period, frac, value, info).

    lm: the `solvers.mip.build_matrices` model of ``problem`` (built when None; not changed).
    width: periods per window at the start, widened up to max_width (default: width);
    window_limit: seconds of a window MIP's first try; time_limit: total seconds.  workers:
    window MIPs run side by side on disjoint period ranges, each with ``threads`` HiGHS threads
    when workers is 1, else one.  lp_mined: blocks the LP (partly) mines, freed in the last
    window when unmined.  progress(f"window {t0}-{t1}", value, +inf) after each window.
    info: ``windows`` (one row per window MIP: t0, t1, free blocks, seconds, status, gain),
    ``improve_s``, ``busy_s`` (the window MIPs' seconds summed: busy_s / improve_s is the average
    number running), ``stopped_by_time``, ``width`` (the widest width tried), ``stalled``: no
    window gained for ``stall_seconds`` (then no window is started and those running are stopped,
    logged with status 'stopped'; such a try does not count, the window keeps its limit for the
    next call: the caller's next phase gets the time instead of windows running on for minutes).
    memory: a dict kept by the caller between calls on the same problem and lm: settled windows stay
    settled until the schedule changes near them (also by a change made between the calls).
    band_cone: when given, a window frees only the blocks near the boundaries between its periods,
    those that can move to a neighbouring period of the window carrying at most this many blocks
    of their own period (`solvers.frontier.near_boundary`); the others keep their period.  A
    window solved to optimality without a gain is tried again with twice the band, until the band
    holds every block of the window; only then is it settled.
    """
    t_start = time.perf_counter()
    deadline = Deadline(time_limit)
    T = problem.n_periods
    max_width = min(T, max(width, max_width or width))
    width = min(width, T)
    lm = lm if lm is not None else build_matrices(problem)
    lm.A                                           # built once here, shared by every window's copy
    value = schedule_value(problem, period, frac)
    memory = {} if memory is None else memory
    stamp = memory.setdefault("stamp", np.zeros(T, np.int64))  # bumped for each period whose blocks changed
    tried = memory.setdefault("tried", {})         # window -> (stamps near it, doublings, settled, band doublings)
    started = memory.setdefault("started", {})     # window -> when it was last started
    order = memory.setdefault("order", itertools.count())
    if "period" in memory:
        touch(stamp, memory["period"], memory["frac"], period, frac)
    running: dict = {}             # future -> (window, free, stamps at start, doublings, stop event, band grows)
    log: list = []
    job_threads = threads if workers <= 1 else 1
    last_gain = time.perf_counter()

    def stalled():
        return time.perf_counter() - last_gain >= stall_seconds

    def near(t0, t1, stamps=stamp):
        return tuple(stamps[max(0, t0 - 1):t1 + 2])

    def settled(key):
        """The window was settled (optimal, or out of retries) and nothing near it changed since."""
        seen = tried.get(key)
        return seen is not None and seen[2] and seen[0] == near(*key)

    def time_for_one():
        return deadline.left() >= MIN_WINDOW_SECONDS + WINDOW_RESERVE and not stalled()

    def next_window():
        busy = [job[0] for job in running.values()]
        for w in range(width, max_width + 1):
            best = None
            for t0 in range(0, T - w + 1):
                key = (t0, t0 + w - 1)
                if settled(key):
                    continue
                if any(key[0] <= b1 and b0 <= key[1] for b0, b1 in busy):
                    continue
                if best is None or started.get(key, -1) < started.get(best, -1):
                    best = key
            if best is not None:
                return best
            if not all(settled((t0, t0 + w - 1)) for t0 in range(0, T - w + 1)):
                return None                          # this width is busy, not settled: wait
        return None

    def launch(pool, key):
        t0, t1 = key
        seen = tried.get(key)
        widened = 0 if seen is None else seen[3]
        movable = None if band_cone is None else \
            near_boundary(problem.precedence, period, t0, t1, band_cone << widened, drop_last=t1 == T - 1)
        lower, upper, free = window_bounds(lm, period, t0, t1, lp_mined, movable)
        # a band narrower than the whole window grows when it is solved without a gain
        grows = movable is not None and not movable[(period >= t0) & (period <= t1)].all()
        # a window keeps its limit once it needed a longer one; twice that when nothing changed
        doublings = 0 if seen is None else min(MAX_LIMIT_DOUBLINGS, seen[1] + (seen[0] == near(*key)))
        started[key] = next(order)
        n_free = int(free.sum())
        # no block, or too many: settled (a window with blocks has some whose cone of 1 block fits any band)
        if n_free == 0 or n_free > max_free:
            tried[key] = (near(*key), 0, True, widened)
            return
        view = copy.copy(lm)                       # the same rows and costs, this window's bounds
        view.col_lower, view.col_upper = lower, upper
        limit = deadline.child(reserve=WINDOW_RESERVE, maximum=window_limit * 2 ** doublings).seconds
        start = schedule_columns(lm, period, frac)
        stop = threading.Event()
        # in a child process: HiGHS' root cut separation can overrun its time limit
        job = pool.submit(view.solve, time_limit=limit, mip_gap=mip_gap, threads=job_threads,
                          start=start, isolate=True, stop=stop)
        running[job] = (key, free, stamp.copy(), doublings, stop, grows)

    def merge(job):
        nonlocal period, frac, value, last_gain
        key, free, stamps_then, doublings, stop, grows = running.pop(job)
        sol = job.result()
        gain = 0.0
        if sol.solution is not None:
            new_period, new_frac = columns_to_schedule(lm, sol.solution)
            # destination fractions too of the periods no other window changed meanwhile
            cand_period, cand_frac = merge_window(period, frac, new_period, new_frac, free,
                                                  np.flatnonzero(stamp == stamps_then))
            cand_value = schedule_value(problem, cand_period, cand_frac)
            gain = cand_value - value
            if gain > 1e-9 * max(1.0, abs(value)) and \
                    check_schedule(problem, to_schedule(cand_period, cand_frac)).feasible:
                touch(stamp, period, frac, cand_period, cand_frac)
                period, frac, value = cand_period, cand_frac, cand_value
                last_gain = time.perf_counter()
            else:
                gain = 0.0
        finished = sol.status == OPTIMAL or doublings >= MAX_LIMIT_DOUBLINGS
        widened = tried[key][3] if key in tried else 0
        # a window that just gained is changed near itself: it is tried again from the new schedule
        stamps = near(*key, stamps_then) if gain == 0.0 else None
        if sol.status == OPTIMAL and gain == 0.0 and grows:     # nothing in this band: twice the band next,
            finished, widened, stamps = False, widened + 1, None   # with the same time limit
        status = "stopped" if stop.is_set() and sol.status != OPTIMAL else sol.status
        if status != "stopped" or gain > 0.0:          # a stopped try without gain does not count
            tried[key] = (stamps, doublings, finished, widened)
        log.append((key[0], key[1], int(free.sum()), round(sol.seconds, 2), status, gain))
        if progress is not None:
            progress(f"window {key[0]}-{key[1]}", float(value), math.inf)

    widest = width
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        while True:
            while len(running) < max(1, workers) and time_for_one():
                key = next_window()
                if key is None:
                    break
                widest = max(widest, key[1] - key[0] + 1)
                launch(pool, key)
            if not running:
                if not time_for_one() or next_window() is None:
                    break
                continue
            until_stall = last_gain + stall_seconds - time.perf_counter()       # inf: never
            if until_stall <= 0:               # stalled: stop the windows, the caller's next phase gets the time
                for job in running.values():
                    job[4].set()
            # wake at the stall at the latest, to stop the windows then
            done, _ = wait(list(running), return_when=FIRST_COMPLETED,
                           timeout=until_stall if 0 < until_stall < math.inf else None)
            for job in done:
                merge(job)
    memory["period"], memory["frac"] = period, frac
    return period, frac, value, {"windows": log, "improve_s": time.perf_counter() - t_start, "width": widest,
                                 "busy_s": sum(row[3] for row in log),
                                 "stopped_by_time": deadline.left() < MIN_WINDOW_SECONDS + WINDOW_RESERVE,
                                 "stalled": stalled()}


def touch(stamp: np.ndarray, period: np.ndarray, frac: np.ndarray, new_period: np.ndarray,
          new_frac: np.ndarray) -> None:
    """Bump stamp[t] for each period t that a block changed by (period, frac) -> (new_period, new_frac)
    left or entered."""
    changed = (new_period != period) | (np.abs(new_frac - frac) > 1e-12).any(axis=1)
    touched = np.r_[period[changed], new_period[changed]]
    stamp[np.unique(touched[touched >= 0])] += 1


def merge_window(period: np.ndarray, frac: np.ndarray, new_period: np.ndarray, new_frac: np.ndarray,
                 free: np.ndarray, calm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The schedule (period, frac) with a window's solution (new_period, new_frac) merged in: the
    window's free blocks take their new period and fractions, and the other blocks mined in a
    ``calm`` period (one no other window changed since this one started) their new fractions."""
    period, frac = period.copy(), frac.copy()
    period[free], frac[free] = new_period[free], new_frac[free]
    keep = ~free & np.isin(period, calm)
    frac[keep] = new_frac[keep]
    return period, frac


def schedule_columns(lm: LinearModel, period: np.ndarray, frac: np.ndarray) -> np.ndarray:
    """The column vector of a `solvers.mip.build_matrices` model for a (period, frac) schedule."""
    w, y_cols = lm.groups["w"], lm.groups["y"]
    n, D, T = y_cols.shape
    y = np.zeros((n, D, T))
    mined = np.flatnonzero(period >= 0)
    y[mined, :, period[mined]] = frac[mined]
    x = np.zeros(lm.n_vars)
    x[y_cols] = y
    x[w] = np.clip(np.round(np.cumsum(y.sum(axis=1), axis=1), 9), 0, 1)
    return x


def columns_to_schedule(lm: LinearModel, x: np.ndarray):
    """(period, frac) from a column vector of a `solvers.mip.build_matrices` model (blocks mined in
    one period)."""
    w = np.round(x[lm.groups["w"]])
    y = fractions(lm, x)                                        # (b, d, t)
    n, D, _ = y.shape
    mined = w[:, -1] > 0.5
    period = np.where(mined, np.argmax(w > 0.5, axis=1), -1)
    frac = np.zeros((n, D))
    idx = np.flatnonzero(mined)
    f = y[idx, :, period[idx]]
    s = f.sum(axis=1, keepdims=True)
    frac[idx] = np.where(s > 0, f / np.where(s > 0, s, 1.0), 1.0 / D)
    return period, frac
