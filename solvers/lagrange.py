"""Lagrangian upper bounds of schedules with coupling rows, by column generation.

The problem: maximize c(x) over the schedules x that respect precedence (every node mined in one
period, or never, its predecessors in the same period or before), subject to coupling rows
a(x) <= b (capacities, floors written as <=).  For any prices lam >= 0 on the rows,

    L(lam) = lam . b + max over schedules x of [c(x) - lam . a(x)]

is an upper bound on the optimum (weak duality: a schedule within the rows loses nothing by the
priced term).  When c and a add up per (node, period) the inner maximum is a maximum closure on
the time-expanded graph (`PeriodClosure`).

`lagrangian_bound` looks for low L by Dantzig-Wolfe column generation: a master LP chooses the
best convex combination of the schedules found so far (columns: their row use and objective)
within the rows; its row duals, moved only part of the way from the best prices so far (Wentges
smoothing, which steadies the first iterations), are the next prices to try, and the duals
themselves when the smoothed prices find no schedule the master lacks.  Every price tried
gives a bound; the best is returned, and the master's value is the best the relaxation is known
to reach.  When the two meet the relaxation is solved and its bound cannot be lowered.

>>> import numpy as np
>>> from solvers.problem import Precedence
>>> prec = Precedence.from_arcs(2, [1], [0])          # node 1 needs node 0
>>> pc = PeriodClosure(prec, 2)
>>> pc.solve(np.array([[-1.0, -1.0], [3.0, 2.0]])).tolist()      # both in period 0: -1 + 3
[0, 0]
"""
from __future__ import annotations

import math
import time

import numpy as np

from .closure import PseudoflowSolver
from .deadline import Deadline
from .errors import InputError
from .highs import LinearModel
from .problem import Precedence
from .result import FEASIBLE, OPTIMAL, Result

#: share of the way from the best prices so far towards the master's duals (Wentges smoothing)
STEP = 0.5
#: cost (in the master's largest column objective) of breaking a row by its own limit: caps the duals
PENALTY = 100.0
#: prices in a row that may fail to lower the bound and to raise the master's value (by ``tol`` in
#: all, each) before the search stops: while the master still rises, the columns are closing the gap
#: from below, and the bound follows (the demo's npv plan: 20 prices without a lower bound, then its
#: gap from 4.1 to 1.7 % by the 100th)
STALL = 20
#: a mix of columns breaking no row by more than this share of the row's width (``_master``) is within
#: the rows, unless the caller says how much each row allows (``lagrangian_bound``'s ``allowance``):
#: HiGHS' own primal feasibility tolerance.  A stricter test never saw green's master on the
#: demo as feasible (a slack of 2e-8: 59 t on a 3 Gt floor), so its search stopped, stalled, at 41 of 100
#: prices with a gap of 6.06 %, where this goes on to 100 and 3.58 %
FEASIBILITY = 1e-7


class PeriodClosure:
    """The best schedule for values per (node, period), precedence kept, no other rows: a maximum
    closure on the time-expanded graph.  Node (i, t) of the graph means "i mined by the end of t";
    it needs (i, t+1) and (p, t) for every predecessor p.  earliest: per node, the first period it
    may be mined in (earlier periods are left out; none may fall along an arc); mine_all: every node
    is mined by the last period."""

    def __init__(self, precedence: Precedence, n_periods: int, earliest: np.ndarray | None = None,
                 mine_all: bool = False):
        n, T = precedence.n_nodes, int(n_periods)
        self.n, self.T = n, T
        node = np.arange(n * T, dtype=np.int64).reshape(n, T)
        heads, preds = precedence.arcs()
        t = np.arange(T)
        tail = np.r_[node[:, :-1].ravel(), (heads.astype(np.int64)[:, None] * T + t).ravel()]
        head = np.r_[node[:, 1:].ravel(), (preds.astype(np.int64)[:, None] * T + t).ravel()]
        self.solver = PseudoflowSolver(Precedence.from_arcs(n * T, tail, head))
        self.within = None
        if earliest is not None:
            earliest = np.asarray(earliest, dtype=np.int64)
            if np.any(earliest[heads] < earliest[preds]):
                raise InputError("earliest periods fall along an arc", field="earliest")
            self.within = (t[None, :] >= earliest[:, None]).ravel()
        self.fixed = (t[None, :] == T - 1).repeat(n, axis=0).ravel() if mine_all else None

    def solve(self, values: np.ndarray) -> np.ndarray:
        """Period of each node (-1: never) maximizing the sum of values[i, period_i] (unmined: 0)."""
        values = np.asarray(values, dtype=np.float64)
        if values.shape != (self.n, self.T):
            raise InputError(f"values have shape {values.shape}, expected ({self.n}, {self.T})", field="values")
        weight = values - np.c_[values[:, 1:], np.zeros(self.n)]        # "mined by t" pays v[t] - v[t+1]
        by_end = self.solver.solve(weight.ravel(), fixed=self.fixed, within=self.within).solution
        by_end = by_end.reshape(self.n, self.T)
        return np.where(by_end.any(axis=1), np.argmax(by_end, axis=1), -1)


def lagrangian_bound(price, rhs: np.ndarray, starts, columns=(), time_limit: float = 10.0,
                     max_iter: int = 100, tol: float = 1e-4, stall: int = STALL, progress=None,
                     allowance: np.ndarray | None = None) -> Result:
    """The lowest L(lam) found (module docstring), as a `Result`.

    price(lam) -> (reduced, use, objective): the best schedule at prices lam >= 0 (one per row of
    rhs), its reduced value max [c - lam . a] (>= 0: mining nothing is a schedule), row use a and
    objective c.  rhs: the rows' limits (a <= rhs; +inf rows are left out).  starts: price vectors
    to try first (e.g. the duals of a coarser model, scaled); columns: (use, objective) of schedules
    known to keep the rows (e.g. a plan's), so that the master LP is feasible from the start.
    allowance: per row, how far the master's mix may exceed the row's limit and still count as within
    it (the tolerance of whatever accepted those columns; ``FEASIBILITY`` of each row by default).
    Stops when bound and master meet within ``tol`` (relative), when ``stall`` prices in a row lowered
    the bound and raised the master's value by less than ``tol`` in all, after ``max_iter`` prices or
    at ``time_limit`` (s).
    progress(phase, incumbent, bound) after each price ("lagrange k", the master's value, the bound).

    Result: bound = the lowest L; objective = the master's value (what the relaxation is known to
    reach; -inf before a master is solved); status 'optimal' when they meet, 'feasible' otherwise;
    solution = the prices of the bound; info: ``iterations``, ``history`` ([(seconds, bound)]).
    """
    t0 = time.perf_counter()
    deadline = Deadline(time_limit)
    rhs = np.asarray(rhs, dtype=np.float64)
    rows = np.flatnonzero(np.isfinite(rhs))
    allowed = None if allowance is None else np.asarray(allowance, dtype=np.float64)[rows]
    cols, objs = [], []
    best, best_lam, master_value, history, iterations = math.inf, None, -math.inf, [], 0
    rising = []                               # the master's value at each price

    def close(gain):                          # below the tolerance, relative to the bound
        return gain <= tol * max(abs(best), 1.0)

    def try_prices(lam):
        nonlocal best, best_lam, iterations
        lam = np.where(np.isfinite(rhs), np.maximum(np.asarray(lam, dtype=np.float64), 0.0), 0.0)
        reduced, use, objective = price(lam)
        value = float(lam[rows] @ rhs[rows]) + float(reduced)
        iterations += 1
        cols.append(np.asarray(use, dtype=np.float64)[rows])
        objs.append(float(objective))
        if value < best:
            best, best_lam = value, lam
        history.append((time.perf_counter() - t0, best))
        rising.append(master_value)
        if progress is not None:
            progress(f"lagrange {iterations}", master_value, best)

    for use, objective in columns:
        cols.append(np.asarray(use, dtype=np.float64)[rows])
        objs.append(float(objective))
    for lam in starts:
        try_prices(lam)
        if deadline.expired() or iterations >= max_iter:
            break
    while iterations < max_iter and not deadline.expired() and cols and not _stalled(history, rising, stall, tol):
        duals = _master(cols, objs, rhs[rows], allowed)
        if duals is None:
            break
        master_value, y, sigma = duals
        if close(best - master_value):
            break
        lam = np.zeros(rhs.size)
        lam[rows] = y
        if best_lam is not None:
            try_prices(STEP * lam + (1 - STEP) * best_lam)
            if not close(objs[-1] - float(cols[-1] @ y) - sigma):
                continue                      # the smoothed prices found a column the master lacks
        try_prices(lam)                       # else the master's own duals (plain column generation)
    status = OPTIMAL if close(best - master_value) else FEASIBLE
    return Result(status, master_value, best, time.perf_counter() - t0, best_lam, "lagrangian column generation",
                  {"iterations": iterations, "history": history})


def _stalled(history, rising, stall: int, tol: float) -> bool:
    """The last ``stall`` prices lowered the bound, and raised the master's value, by less than
    ``tol`` (relative to the bound) in all."""
    if len(history) <= stall:
        return False
    before, now = history[-stall - 1][1], history[-1][1]
    low, high = rising[-stall - 1], rising[-1]
    risen = high - low if math.isfinite(high) and math.isfinite(low) else (math.inf if math.isfinite(high) else 0.0)
    return max(before - now, risen) <= tol * max(abs(now), 1.0)


def _master(cols, objs, limits, allowed=None):
    """The master LP: max sum_k objs_k alpha_k - PENALTY sum_i slack_i, sum_k use_k alpha_k - width_i
    slack_i <= limits_i, sum alpha = 1, alpha, slack >= 0 (width_i: |limit_i|, at least 1).  The slacks
    keep it feasible before a schedule within the rows is known (they cap the duals).  Returns (value
    of the columns' mix, -inf while it breaks a row by more than ``allowed`` (per row; ``FEASIBILITY``
    of the row's width when None); row duals >= 0; the convexity row's dual) or None when HiGHS finds
    no solution."""
    use = np.array(cols).T                                   # (rows, columns)
    m, K = use.shape
    lm = LinearModel()
    alpha = lm.add_vars("alpha", K, lower=0.0, upper=np.inf)       # no bound: its dual would hide the rows'
    slack = lm.add_vars("slack", m, lower=0.0, upper=np.inf)
    objs = np.asarray(objs, dtype=np.float64)
    scale = 1.0 / max(float(np.abs(objs).max(initial=0.0)), 1.0)     # largest cost 1 (currency in billions)
    lm.add_objective(alpha, objs * scale)
    lm.add_objective(slack, -PENALTY)
    r, k = np.nonzero(use)
    width = np.maximum(np.abs(limits), 1.0)
    lm.add_rows(np.r_[r, np.arange(m)], np.r_[alpha[k], slack], np.r_[use[r, k], -width], upper=limits,
                family="rows")
    lm.add_rows(np.zeros(K, dtype=np.int64), alpha, 1.0, lower=1.0, upper=1.0, family="convexity")
    res = lm.solve()
    if res.status != OPTIMAL:
        return None
    x = res.solution
    allowed = FEASIBILITY * width if allowed is None else allowed
    over = use @ x[alpha] - limits - allowed                   # the mix's own excess beyond what is allowed
    value = float(objs @ x[alpha]) if over.max(initial=0.0) <= 0.0 else -math.inf
    row_dual = res.info["row_dual"] / scale
    return value, np.maximum(row_dual[:m], 0.0), float(row_dual[m])
