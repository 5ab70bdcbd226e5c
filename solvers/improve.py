"""MIP-based improvement of a schedule over sliding time windows.

A window is a run of consecutive periods [t0, t1].  Blocks mined before t0 or
after t1 keep their period; blocks mined inside the window are free to move to
any period of the window (and, in the last window, blocks may also be added or
dropped: unmined blocks the LP mines are free too).  Destination fractions of
every block stay free.  The window model is the exact model of `solvers.mip`
with the other blocks fixed by bounds (fixed columns are removed before HiGHS
sees the model), started from the current schedule, so a window never makes
the schedule worse.
"""
from __future__ import annotations

import math
import time

import numpy as np

from .check import check_schedule
from .deadline import Deadline
from .heuristics import schedule_value, to_schedule
from .highs import LinearModel
from .mip import build_matrices, fractions
from .problem import PcpspProblem

# A window MIP is worth starting only with at least this many seconds left (s): HiGHS needs about
# a second to presolve and root-solve a window, and the rest of the budget is kept for the caller.
MIN_WINDOW_SECONDS = 2.0
# Seconds kept back from each window MIP's limit (s), for checking and adopting its schedule.
WINDOW_RESERVE = 1.0


def fix_outside_window(lm: LinearModel, period: np.ndarray, t0: int, t1: int,
                       extra_free: np.ndarray | None = None) -> int:
    """Set column bounds of ``lm`` (a `solvers.mip.build_matrices` model) for the window [t0, t1];
    returns the number of free blocks.

    period[b]: current period (-1 unmined).  extra_free: unmined blocks freed in the last window.
    """
    w, y = lm.groups["w"], lm.groups["y"]
    n, D, T = y.shape
    last = t1 == T - 1
    free = (period >= t0) & (period <= t1)
    if last and extra_free is not None:
        free |= extra_free & (period < 0)
    t = np.arange(T)
    # w bounds: fixed blocks w[b, t] = [0 <= p <= t]; free blocks 0 before t0, 1 from t1 on
    # (last window: free from t0 on)
    fixed_w = ((t[None, :] >= period[:, None]) & (period[:, None] >= 0)).astype(float)
    lo = fixed_w.copy()
    hi = fixed_w.copy()
    fb = np.flatnonzero(free)
    lo[np.ix_(fb, np.arange(T))] = 0.0
    hi[np.ix_(fb, np.arange(T))] = 0.0
    hi[np.ix_(fb, np.flatnonzero(t >= t0))] = 1.0
    if not last:
        lo[np.ix_(fb, np.flatnonzero(t >= t1))] = 1.0
    lm.col_lower[w] = lo
    lm.col_upper[w] = hi
    # y[b, d, t] can be non-zero only where block b may be mined in period t
    prev_lo = np.c_[np.zeros((n, 1)), lo[:, :-1]]
    can = (hi - prev_lo) > 0                                   # (b, t)
    lm.col_lower[y] = 0.0
    lm.col_upper[y] = np.where(can[:, None, :], np.inf, 0.0)
    return int(free.sum())


def improve_windows(problem: PcpspProblem, period: np.ndarray, frac: np.ndarray,
                    lm: LinearModel | None = None, width: int = 2, time_limit: float = 120.0,
                    window_limit: float = 30.0, threads: int | None = None, mip_gap: float = 1e-4,
                    lp_mined: np.ndarray | None = None, progress=None, max_free: int = 8000,
                    passes: int = 3):
    """Improve (period, frac) by window MIPs; returns (period, frac, value, info).

    lm: the `solvers.mip.build_matrices` model of ``problem`` (built when None; its bounds are
    restored on return).  width: periods per window; window_limit: seconds per window MIP;
    time_limit: total seconds.  lp_mined: blocks the LP (partly) mines, freed in the last window
    when unmined.  progress(f"window {t0}-{t1}", value, +inf) is called after each window.
    """
    t_start = time.perf_counter()
    deadline = Deadline(time_limit)
    T = problem.n_periods
    lm = lm if lm is not None else build_matrices(problem)
    value = schedule_value(problem, period, frac)
    windows = [(t0, min(T - 1, t0 + width - 1)) for t0 in range(0, T - width + 1)] or [(0, T - 1)]
    log = []
    saved = lm.col_lower.copy(), lm.col_upper.copy()
    try:
        for sweep in range(passes):
            before = value
            for t0, t1 in (windows if sweep % 2 == 0 else windows[::-1]):
                if deadline.left() < MIN_WINDOW_SECONDS:
                    break
                n_free = fix_outside_window(lm, period, t0, t1, lp_mined)
                if n_free == 0 or n_free > max_free:
                    continue
                # in a child process: HiGHS' root cut separation can overrun its time limit
                sol = lm.solve(time_limit=deadline.child(reserve=WINDOW_RESERVE, maximum=window_limit).seconds,
                               mip_gap=mip_gap, threads=threads, start=schedule_columns(lm, period, frac),
                               isolate=True)
                if sol.solution is None:
                    log.append((sweep, t0, t1, n_free, round(sol.seconds, 2), sol.status))
                    continue
                new_period, new_frac = columns_to_schedule(lm, sol.solution)
                new_value = schedule_value(problem, new_period, new_frac)
                log.append((sweep, t0, t1, n_free, round(sol.seconds, 2), new_value - value))
                if new_value > value + 1e-9 * max(1.0, abs(value)) and \
                        check_schedule(problem, to_schedule(new_period, new_frac)).feasible:
                    period, frac, value = new_period, new_frac, new_value
                if progress is not None:
                    progress(f"window {t0}-{t1}", float(value), math.inf)
            if value - before <= 1e-7 * max(1.0, abs(value)):
                break
    finally:                                   # the caller's model keeps its own bounds
        lm.col_lower[:], lm.col_upper[:] = saved
    return period, frac, value, {"windows": log, "improve_s": time.perf_counter() - t_start}


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
