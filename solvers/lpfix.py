"""LP-guided fixing: a MIP over all periods on the columns where the LP and the schedule disagree.

The neighbourhood of relaxation-induced neighbourhood search (RINS), on the cumulative columns
w[b, t] ("block b mined by the end of period t") of the exact model of `solvers.mip`: a column
whose LP value equals the schedule's (both 0 or both 1) is fixed to it, every other one is free,
and the destination fractions stay free.  The sub-MIP, started from the schedule, spans every
period at once, so it can make moves the period windows of `solvers.improve` cannot: a block
dropped from an early period while another one is added, or moved further than a window is wide.

When more than ``max_free`` columns disagree, the ``max_free`` of them furthest from the LP are
freed (ties by block).  Each round is solved in a HiGHS child process; after a gain the
neighbourhood is rebuilt from the new schedule and solved again, until a round gains nothing or
the time is up.  Every schedule adopted passes the independent checker first, and one that does
not gain is never adopted, so the schedule never gets worse.
"""
from __future__ import annotations

import copy
import time

import numpy as np

from .check import check_schedule
from .deadline import Deadline
from .heuristics import schedule_value, to_schedule
from .highs import LinearModel
from .improve import columns_to_schedule, schedule_columns
from .mip import build_matrices
from .problem import PcpspProblem

# An LP column within this of the schedule's 0 or 1 counts as agreeing (BZ's fractions carry noise).
AGREE_TOL = 1e-6
# A round is worth starting only with at least this many seconds left (s): presolve and the root.
MIN_ROUND_SECONDS = 5.0
# Seconds kept back from a round's limit (s), for checking and adopting its schedule.
ROUND_RESERVE = 1.0


def lp_cumulative(lp_y: np.ndarray) -> np.ndarray:
    """w[b, t]: the LP share of block b mined by the end of period t, from fractions y[b, d, t]."""
    return np.clip(np.cumsum(lp_y.sum(axis=1), axis=1), 0.0, 1.0)


def free_columns(period: np.ndarray, lp_w: np.ndarray, max_free: int) -> np.ndarray:
    """Boolean (blocks, periods): the w columns where the schedule (period[b], -1 unmined) and the
    LP's cumulative shares lp_w disagree, at most ``max_free`` of them (those furthest from the LP)."""
    T = lp_w.shape[1]
    w = ((np.arange(T)[None, :] >= period[:, None]) & (period[:, None] >= 0)).astype(float)
    distance = np.abs(lp_w - w)
    free = distance > AGREE_TOL
    if free.sum() > max_free:
        flat = distance.ravel()
        keep = np.argsort(-flat, kind="stable")[:max_free]
        free = np.zeros(flat.size, bool)
        free[keep] = True
        free = free.reshape(w.shape)
    return free


def neighbourhood_bounds(lm: LinearModel, period: np.ndarray, free: np.ndarray):
    """Column bounds of ``lm`` (a `solvers.mip.build_matrices` model): w fixed to the schedule
    except the ``free`` columns (0..1), y open only where its block may be mined in that period."""
    w, y = lm.groups["w"], lm.groups["y"]
    T = w.shape[1]
    lo = ((np.arange(T)[None, :] >= period[:, None]) & (period[:, None] >= 0)).astype(float)
    hi = lo.copy()
    lo[free], hi[free] = 0.0, 1.0
    col_lower, col_upper = lm.col_lower.copy(), lm.col_upper.copy()
    col_lower[w], col_upper[w] = lo, hi
    prev_lo = np.c_[np.zeros((lo.shape[0], 1)), lo[:, :-1]]
    col_lower[y] = 0.0
    col_upper[y] = np.where(((hi - prev_lo) > 0)[:, None, :], np.inf, 0.0)
    return col_lower, col_upper


def improve_lp_guided(problem: PcpspProblem, period: np.ndarray, frac: np.ndarray, lp_y: np.ndarray,
                      lm: LinearModel | None = None, time_limit: float = 120.0, threads: int | None = None,
                      mip_gap: float = 1e-4, max_free: int = 40000, progress=None):
    """Improve (period, frac) by LP-guided fixing; returns (period, frac, value, info).

    lp_y: LP fractions y[b, d, t] (`solvers.bz.solve_lp`'s solution); lm: the
    `solvers.mip.build_matrices` model of ``problem`` (built when None; not changed); time_limit:
    total seconds; max_free: most w columns freed in one round.  progress("lp-guided", value, +inf)
    after each round.  info: ``rounds`` (one row per round: free columns, seconds, status, gain),
    ``lp_guided_s``, ``stopped_by_time``.
    """
    t_start = time.perf_counter()
    deadline = Deadline(time_limit)
    lm = lm if lm is not None else build_matrices(problem)
    lp_w = lp_cumulative(lp_y)
    value = schedule_value(problem, period, frac)
    rounds: list = []
    while deadline.left() >= MIN_ROUND_SECONDS + ROUND_RESERVE:
        free = free_columns(period, lp_w, max_free)
        if not free.any():
            break
        view = copy.copy(lm)                          # the same rows and costs, this round's bounds
        view.col_lower, view.col_upper = neighbourhood_bounds(lm, period, free)
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
