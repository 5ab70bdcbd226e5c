"""LP-guided fixing (the neighbourhood of RINS): one MIP over every period on the disagreements.

On the cumulative columns w[b, t] ("block b mined by the end of period t") of the exact model of
`solvers.mip`, a column whose LP value agrees with the schedule's is fixed to it and the others
are free (destination fractions stay free).  Spanning every period, the sub-MIP can make moves
the windows of `solvers.improve` cannot, e.g. drop a block from an early period to mine another.
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


def free_columns(period: np.ndarray, lp_w: np.ndarray, max_free: int) -> np.ndarray:
    """Boolean (blocks, periods): where the schedule's w (period[b], -1 unmined) and the LP's
    lp_w differ by more than AGREE_TOL, at most ``max_free`` of them (the furthest from the LP)."""
    distance = np.abs(lp_w - mined_by(period, lp_w.shape[1]))
    free = distance > AGREE_TOL
    if free.sum() > max_free:
        keep = np.argsort(-distance.ravel(), kind="stable")[:max_free]
        free = np.zeros(distance.size, bool)
        free[keep] = True
        free = free.reshape(distance.shape)
    return free


def improve_lp_guided(problem: PcpspProblem, period: np.ndarray, frac: np.ndarray, lp_y: np.ndarray,
                      lm: LinearModel | None = None, time_limit: float = 120.0, threads: int | None = None,
                      mip_gap: float = 1e-4, max_free: int = 40000, progress=None):
    """Improve (period, frac) by LP-guided fixing within ``time_limit`` seconds; returns
    (period, frac, value, info).

    lp_y: LP fractions y[b, d, t] (`solvers.bz.solve_lp`'s solution); lm: the
    `solvers.mip.build_matrices` model of ``problem`` (built when None; not changed); max_free: most
    w columns freed in one round.  Each round is one sub-MIP in a HiGHS child process, started from
    the schedule; a schedule that gains and passes the independent checker is adopted and the
    neighbourhood rebuilt from it, until a round gains nothing or the time is up.
    progress("lp-guided", value, +inf) after each round.  info: ``rounds`` (one row per round: free
    columns, seconds, status, gain), ``lp_guided_s``, ``stopped_by_time``.
    """
    t_start = time.perf_counter()
    deadline = Deadline(time_limit)
    lm = lm if lm is not None else build_matrices(problem)
    lp_w = np.clip(np.cumsum(lp_y.sum(axis=1), axis=1), 0.0, 1.0)
    value = schedule_value(problem, period, frac)
    rounds: list = []
    while deadline.left() >= MIN_ROUND_SECONDS + ROUND_RESERVE:
        free = free_columns(period, lp_w, max_free)
        if not free.any():
            break
        lo = mined_by(period, lp_w.shape[1])
        hi = lo.copy()
        lo[free], hi[free] = 0.0, 1.0
        view = copy.copy(lm)                          # the same rows and costs, this round's bounds
        view.col_lower, view.col_upper = column_bounds(lm, lo, hi)
        sol = view.solve(time_limit=deadline.child(reserve=ROUND_RESERVE).seconds, mip_gap=mip_gap,
                         threads=threads, start=schedule_columns(lm, period, frac), isolate=True)
        gain = 0.0
        if sol.solution is not None:
            new_period, new_frac = columns_to_schedule(lm, sol.solution)
            new_value = schedule_value(problem, new_period, new_frac)
            if new_value - value > 1e-9 * max(1.0, abs(value)) and \
                    check_schedule(problem, to_schedule(new_period, new_frac)).feasible:
                gain = new_value - value
                period, frac, value = new_period, new_frac, new_value
        rounds.append((int(free.sum()), round(sol.seconds, 2), sol.status, gain))
        if progress is not None:
            progress("lp-guided", float(value), np.inf)
        if gain == 0.0:
            break
    return period, frac, value, {"rounds": rounds, "lp_guided_s": time.perf_counter() - t_start,
                                 "stopped_by_time": deadline.left() < MIN_ROUND_SECONDS + ROUND_RESERVE}
