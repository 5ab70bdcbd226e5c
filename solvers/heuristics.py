"""Integer schedules from an LP solution: TopoSort-style greedy rounding.

Blocks are ordered by their expected extraction period under the LP (a block the
LP leaves partly unmined counts the missing share as period T), taken in that
order as soon as all predecessors are placed, and each is put in the earliest
period at or after its predecessors' periods where the resource upper limits
still hold.  For PCPSP the block's tonnage goes to destinations in order of
profit, each taking the share that fits.  Lower limits (G / I) and general side
constraints are not handled here: the caller verifies the schedule.
"""
from __future__ import annotations

import heapq

import numba
import numpy as np

from .problem import PcpspProblem, Schedule


def expected_period(problem: PcpspProblem, y: np.ndarray) -> np.ndarray:
    """E[period] per block under LP fractions y[b, d, t]; the unmined share counts as period T."""
    T = problem.n_periods
    share = y.sum(axis=1)                                  # (b, t)
    mined = share.sum(axis=1)
    return share @ np.arange(T) + T * np.clip(1.0 - mined, 0.0, None)


@numba.njit(cache=True)
def _greedy(indptr, indices, succ_ptr, succ_idx, key, cand, not_before, profit, order, coef, cap):
    """Core of TopoSort: returns period[b] (-1 unmined) and fractions[b, d]."""
    n = indptr.size - 1
    D = profit.shape[1]
    T = cap.shape[1]
    R = cap.shape[0]
    period = np.full(n, -1, np.int64)
    frac = np.zeros((n, D))
    rem = cap.copy()
    waiting = np.zeros(n, np.int64)
    for b in range(n):
        waiting[b] = indptr[b + 1] - indptr[b]
    heap = [(0.0, np.int64(0))]
    heap.pop()
    for b in range(n):
        if waiting[b] == 0:
            heapq.heappush(heap, (key[b], np.int64(b)))
    f = np.zeros(D)
    use = np.zeros(R)
    while len(heap) > 0:
        _, b = heapq.heappop(heap)
        earliest = not_before[b]
        ok = cand[b]
        for k in range(indptr[b], indptr[b + 1]):
            p = indices[k]
            if period[p] < 0:
                ok = False
                break
            if period[p] > earliest:
                earliest = period[p]
        if ok:
            for t in range(earliest, T):
                mass = 1.0
                use[:] = 0.0
                f[:] = 0.0
                for j in range(D):
                    d = order[b, j]
                    take = mass
                    for r in range(R):
                        q = coef[b, d, r]
                        if q > 0:
                            room = rem[r, t] - use[r]
                            if room <= 0:
                                take = 0.0
                            elif take * q > room:
                                take = room / q
                    if take > 1e-12:
                        f[d] = take
                        mass -= take
                        for r in range(R):
                            use[r] += take * coef[b, d, r]
                    if mass <= 1e-12:
                        break
                if mass <= 1e-9:
                    period[b] = t
                    s = 0.0
                    for d in range(D):
                        s += f[d]
                    for d in range(D):
                        frac[b, d] = f[d] / s
                    for r in range(R):
                        rem[r, t] -= use[r]
                    break
        for k in range(succ_ptr[b], succ_ptr[b + 1]):
            s = succ_idx[k]
            waiting[s] -= 1
            if waiting[s] == 0:
                heapq.heappush(heap, (key[s], s))
    return period, frac


def toposort_schedule(problem: PcpspProblem, key: np.ndarray, candidates: np.ndarray | None = None,
                      succ=None, not_before: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Greedy schedule in order of ``key`` (smaller first) over the ``candidates`` mask.

    not_before[b]: earliest period allowed for block b (default 0).

    Returns (period[b] with -1 for unmined, fractions[b, d]).
    """
    n = problem.n_blocks
    prec = problem.precedence
    succ = succ if succ is not None else prec.successors()
    cand = np.ones(n, bool) if candidates is None else np.asarray(candidates, bool)
    cap = np.where(np.isfinite(problem.resource_upper), problem.resource_upper, 1e300)
    # a block with negative coefficients frees capacity; the greedy treats it as using none
    coef = np.clip(problem.resource_coef, 0.0, None)
    nb = np.zeros(n, np.int64) if not_before is None else np.asarray(not_before, np.int64)
    return _greedy(prec.indptr, prec.indices, succ.indptr, succ.indices, np.asarray(key, float),
                   cand, nb, problem.values, np.argsort(-problem.values, axis=1, kind="stable"), coef, cap)


def schedule_value(problem: PcpspProblem, period: np.ndarray, frac: np.ndarray) -> float:
    """Discounted objective of a (period, fractions) schedule."""
    disc = problem.discount_factors()
    mined = period >= 0
    return float(((problem.values[mined] * frac[mined]).sum(axis=1) * disc[period[mined]]).sum())


def to_schedule(period: np.ndarray, frac: np.ndarray) -> Schedule:
    return Schedule.from_periods(period, frac)


def best_toposort(problem: PcpspProblem, y: np.ndarray | None, thresholds=(1e-6, 0.1, 0.3, 0.5, 0.7, 0.9),
                  ) -> tuple[np.ndarray, np.ndarray, float, dict]:
    """Run TopoSort for several keys and pit thresholds; return the best (period, frac, value, info).

    y: LP fractions y[b, d, t] (None: use the ultimate pit of best-destination values and
    block depth order, a weak start for when no LP is available).
    """
    succ = problem.precedence.successors()
    tried = []
    best = None
    if y is None:
        # no LP: a block's key is its depth (topological level); all blocks are candidates
        order = problem.precedence.topological_order()
        depth = np.zeros(problem.n_blocks)
        for b in order:
            pr = problem.precedence.predecessors(b)
            if pr.size:
                depth[b] = depth[pr].max() + 1
        keys = [("depth", depth)]
        masks = [("all", np.ones(problem.n_blocks, bool))]
        starts = [("any", None)]
    else:
        e = expected_period(problem, y)
        mined = y.sum(axis=(1, 2))
        T = problem.n_periods
        share = y.sum(axis=1)
        cum = np.cumsum(share, axis=1)
        half = np.where((cum >= 0.5).any(axis=1), np.argmax(cum >= 0.5, axis=1), T).astype(float)
        first = np.where((cum > 1e-6).any(axis=1), np.argmax(cum > 1e-6, axis=1), T).astype(float)
        keys = [("expected", e), ("expected_conditional", np.where(mined > 1e-9, (share @ np.arange(T)) /
                                                                    np.maximum(mined, 1e-12), T)),
                ("median", half + 1e-3 * e), ("first", first + 1e-3 * e)]
        masks = [(f"pit>={th}", mined >= th) for th in thresholds]
        starts = [("any", None), ("lp_first", np.minimum(first, T - 1)),
                  ("lp_floor", np.minimum(np.floor(e), T - 1))]
    for kname, key in keys:
        for mname, mask in masks:
            for sname, nb in starts:
                period, frac = toposort_schedule(problem, key, mask, succ, nb)
                value = schedule_value(problem, period, frac)
                tried.append((kname, mname, sname, value))
                if best is None or value > best[2]:
                    best = (period, frac, value, kname, mname, sname)
    return best[0], best[1], best[2], {"toposort_tried": len(tried), "toposort_key": best[3],
                                         "toposort_pit": best[4], "toposort_start": best[5]}
