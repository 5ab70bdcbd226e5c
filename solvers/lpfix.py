"""LP-guided fixing (the neighbourhood of RINS, Danna et al. 2005), a few periods at a time.

On the cumulative columns w[b, t] ("block b mined by the end of period t") of the exact model of
`solvers.mip`, a column whose LP value is within AGREE_TOL of the schedule's 0 or 1 agrees with it
(so a fractional LP column always disagrees).  One round takes a window of ``width`` consecutive
periods, frees every disagreeing column of each block that disagrees inside the window (in any
period, so a block can be dropped from an early period for one the LP mines later) and fixes the
rest to the schedule (destination fractions stay free).  Over all periods at once the freed set is
too large for a sub-MIP to finish (kd: 23,066 columns, no gain in 60 s); one window's share is a
sub-MIP of a few thousand columns.  Rounds take the windows in order of disagreement mass.
"""
from __future__ import annotations

import copy
import time

import numpy as np

from .check import check_schedule
from .deadline import Deadline
from .heuristics import schedule_value, to_schedule
from .highs import LinearModel
from .improve import column_bounds, columns_to_schedule, mined_by, schedule_columns
from .mip import build_matrices
from .problem import PcpspProblem

# An LP column within this of the schedule's 0 or 1 agrees with it (BZ's fractions carry noise).
AGREE_TOL = 1e-6
# A round is started only with at least this many seconds left (s): presolve and the root.
MIN_ROUND_SECONDS = 5.0
# Seconds kept back from a round's limit (s), for checking and adopting its schedule.
ROUND_RESERVE = 1.0


def free_columns(period: np.ndarray, lp_w: np.ndarray, max_free: int, t0: int = 0, t1: int | None = None) -> np.ndarray:
    """Boolean (blocks, periods): the columns where the schedule's w (period[b], -1 unmined) and the
    LP's lp_w differ by more than AGREE_TOL, of the blocks with such a column in periods [t0, t1]
    (t1 None: the last period); at most ``max_free`` of them (the furthest from the LP)."""
    distance = np.abs(lp_w - mined_by(period, lp_w.shape[1]))
    free = distance > AGREE_TOL
    free &= free[:, t0:None if t1 is None else t1 + 1].any(axis=1)[:, None]
    if free.sum() > max_free:
        keep = np.argsort(-np.where(free, distance, -1.0).ravel(), kind="stable")[:max_free]
        free = np.zeros(distance.size, bool)
        free[keep] = True
        free = free.reshape(distance.shape)
    return free


def windows_by_disagreement(period: np.ndarray, lp_w: np.ndarray, width: int) -> list[tuple[int, int]]:
    """The windows [t0, t0 + width - 1] of consecutive periods, largest LP-schedule disagreement
    (sum of |lp_w - w| over the window's columns) first."""
    T = lp_w.shape[1]
    width = min(width, T)
    per_period = np.abs(lp_w - mined_by(period, T)).sum(axis=0)
    mass = {(t0, t0 + width - 1): per_period[t0:t0 + width].sum() for t0 in range(T - width + 1)}
    return sorted(mass, key=lambda w: -mass[w])


def improve_lp_guided(problem: PcpspProblem, period: np.ndarray, frac: np.ndarray, lp_y: np.ndarray,
                      lm: LinearModel | None = None, time_limit: float = 120.0, threads: int | None = None,
                      mip_gap: float = 1e-4, max_free: int = 40000, width: int = 3, round_limit: float = 30.0,
                      progress=None):
    """Improve (period, frac) by LP-guided fixing within ``time_limit`` seconds; returns
    (period, frac, value, info).

    lp_y: LP fractions y[b, d, t] (`solvers.bz.solve_lp`'s solution); lm: the
    `solvers.mip.build_matrices` model of ``problem`` (built when None; not changed); width: periods
    a window spans; max_free: most w columns freed in one round; round_limit: seconds a round may
    take.  Each round is one sub-MIP in a HiGHS child process, started from the schedule; a
    schedule that gains and passes the independent checker is adopted.  Passes over the windows
    (in order of disagreement mass, from the current schedule) repeat until a pass gains nothing or
    the time is up.  progress("lp-guided", value, +inf) after each round.  info: ``rounds`` (one
    row per round: window (t0, t1), free columns, seconds, status, gain), ``lp_guided_s``,
    ``stopped_by_time``.
    """
    t_start = time.perf_counter()
    deadline = Deadline(time_limit)
    lm = lm if lm is not None else build_matrices(problem)
    lp_w = np.clip(np.cumsum(lp_y.sum(axis=1), axis=1), 0.0, 1.0)
    value = schedule_value(problem, period, frac)
    rounds: list = []
    gained = True
    while gained:
        gained = False
        for t0, t1 in windows_by_disagreement(period, lp_w, width):
            if deadline.left() < MIN_ROUND_SECONDS + ROUND_RESERVE:
                break
            free = free_columns(period, lp_w, max_free, t0, t1)
            if not free.any():
                continue
            lo = mined_by(period, lp_w.shape[1])
            hi = lo.copy()
            lo[free], hi[free] = 0.0, 1.0
            view = copy.copy(lm)                      # the same rows and costs, this round's bounds
            view.col_lower, view.col_upper = column_bounds(lm, lo, hi)
            limit = min(round_limit, deadline.child(reserve=ROUND_RESERVE).seconds)
            sol = view.solve(time_limit=limit, mip_gap=mip_gap, threads=threads,
                             start=schedule_columns(lm, period, frac), isolate=True)
            gain = 0.0
            if sol.solution is not None:
                new_period, new_frac = columns_to_schedule(lm, sol.solution)
                new_value = schedule_value(problem, new_period, new_frac)
                if new_value - value > 1e-9 * max(1.0, abs(value)) and \
                        check_schedule(problem, to_schedule(new_period, new_frac)).feasible:
                    gain = new_value - value
                    period, frac, value, gained = new_period, new_frac, new_value, True
            rounds.append(((t0, t1), int(free.sum()), round(sol.seconds, 2), sol.status, gain))
            if progress is not None:
                progress("lp-guided", float(value), np.inf)
    return period, frac, value, {"rounds": rounds, "lp_guided_s": time.perf_counter() - t_start,
                                 "stopped_by_time": deadline.left() < MIN_ROUND_SECONDS + ROUND_RESERVE}
