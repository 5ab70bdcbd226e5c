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

import time

import numpy as np

from . import mip
from .problem import PcpspProblem
from .heuristics import schedule_value
from .check import check_schedule
from .heuristics import schedule_value, to_schedule


def fix_outside_window(lm: mip.LinearModel, period: np.ndarray, t0: int, t1: int,
                       extra_free: np.ndarray | None = None) -> int:
    """Set column bounds of ``lm`` for the window [t0, t1]; returns the number of free blocks.

    period[b]: current period (-1 unmined).  extra_free: unmined blocks freed in the last window.
    """
    T, n, D = lm.n_periods, lm.n_blocks, lm.n_destinations
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
    lm.col_lower[:n * T] = lo.ravel()
    lm.col_upper[:n * T] = hi.ravel()
    # y[b, d, t] can be non-zero only where block b may be mined in period t
    prev_lo = np.c_[np.zeros((n, 1)), lo[:, :-1]]
    can = (hi - prev_lo) > 0                                   # (b, t)
    ny_hi = np.where(can[:, None, :], np.inf, 0.0)
    lm.col_lower[n * T:] = 0.0
    lm.col_upper[n * T:] = np.broadcast_to(ny_hi, (n, D, T)).ravel()
    return int(free.sum())


def improve_windows(problem: PcpspProblem, period: np.ndarray, frac: np.ndarray,
                    lm: mip.LinearModel | None = None, width: int = 2, time_limit: float = 120.0,
                    window_limit: float = 30.0, threads: int | None = None, mip_gap: float = 1e-4,
                    lp_mined: np.ndarray | None = None, progress=None, max_free: int = 8000,
                    passes: int = 3):
    """Improve (period, frac) by window MIPs; returns (period, frac, value, info).

    width: periods per window; window_limit: seconds per window MIP; time_limit: total seconds.
    lp_mined: blocks the LP (partly) mines, freed in the last window when unmined.
    progress(phase, incumbent) is called after each window.
    """

    t_start = time.perf_counter()
    T = problem.n_periods
    lm = lm if lm is not None else mip.build_matrices(problem)
    period = period.copy()
    frac = frac.copy()
    value = schedule_value(problem, period, frac)
    windows = [(t0, min(T - 1, t0 + width - 1)) for t0 in range(0, T - width + 1)] or [(0, T - 1)]
    log = []
    saved = lm.col_lower.copy(), lm.col_upper.copy()
    try:
        period, frac, value = _sweeps(problem, lm, period, frac, value, windows, passes, time_limit, t_start,
                                      window_limit, mip_gap, threads, lp_mined, max_free, progress, log)
    finally:                                   # the caller's model keeps its own bounds
        lm.col_lower[:], lm.col_upper[:] = saved
    return period, frac, value, {"windows": log, "improve_s": time.perf_counter() - t_start}


def _sweeps(problem, lm, period, frac, value, windows, passes, time_limit, t_start, window_limit, mip_gap,
            threads, lp_mined, max_free, progress, log):

    for sweep in range(passes):
        gained = 0.0
        for t0, t1 in (windows if sweep % 2 == 0 else windows[::-1]):
            left = time_limit - (time.perf_counter() - t_start)
            if left < 2.0:
                break
            n_free = fix_outside_window(lm, period, t0, t1, lp_mined)
            if n_free == 0 or n_free > max_free:
                continue
            start = schedule_columns(problem, period, frac)
            # in a child process: HiGHS' root cut separation can overrun its time limit
            sol = mip.solve_matrices(lm, time_limit=min(window_limit, left - 1.0), mip_gap=mip_gap,
                                     threads=threads, start=start, isolate=True)
            if sol.x is None:
                log.append((sweep, t0, t1, n_free, round(sol.seconds, 2), sol.status))
                continue
            new_period, new_frac = columns_to_schedule(lm, sol.x)
            new_value = schedule_value(problem, new_period, new_frac)
            log.append((sweep, t0, t1, n_free, round(sol.seconds, 2), new_value - value))
            if new_value > value + 1e-9 * max(1.0, abs(value)) and \
                    check_schedule(problem, to_schedule(new_period, new_frac)).feasible:
                gained += new_value - value
                period, frac, value = new_period, new_frac, new_value
            if progress is not None:
                progress(f"window {t0}-{t1}", value)
        if gained <= 1e-7 * max(1.0, abs(value)):
            break
    return period, frac, value


def schedule_columns(problem, period, frac):
    """The (w, y) column vector of `solvers.mip`'s layout for a (period, frac) schedule."""
    n, T, D = problem.n_blocks, problem.n_periods, problem.n_destinations
    y = np.zeros((n, D, T))
    mined = np.flatnonzero(period >= 0)
    y[mined, :, period[mined]] = frac[mined]
    w = np.cumsum(y.sum(axis=1), axis=1)
    return np.r_[np.clip(np.round(w, 9), 0, 1).ravel(), y.ravel()]


def columns_to_schedule(lm: mip.LinearModel, x: np.ndarray):
    """(period, frac) from a MIP column vector (blocks mined in one period)."""
    n, T = lm.n_blocks, lm.n_periods
    w = np.round(x[:n * T].reshape(n, T))
    y = lm.fractions(x)                                         # (b, d, t)
    mined = w[:, -1] > 0.5
    period = np.where(mined, np.argmax(w > 0.5, axis=1), -1)
    frac = np.zeros((n, lm.n_destinations))
    idx = np.flatnonzero(mined)
    f = y[idx, :, period[idx]]
    s = f.sum(axis=1, keepdims=True)
    frac[idx] = np.where(s > 0, f / np.where(s > 0, s, 1.0), 1.0 / lm.n_destinations)
    return period, frac
