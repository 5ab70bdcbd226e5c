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
def _allocate(b, t, order, coef, rem, f, use):
    """Split block b over destinations in preference order within the room left in period t;
    fills f (fractions) and use (resources) and returns the share that did not fit."""
    D, R = order.shape[1], rem.shape[0]
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
    return mass


@numba.njit(cache=True)
def _greedy(indptr, indices, succ_ptr, succ_idx, key, cand, not_before, order, coef, cap, strict):
    """Core of TopoSort: returns period[b] (-1 unmined) and fractions[b, d].

    strict: a block first looks for the earliest period where all of it fits its first
    destination choice, and only then for any split.
    """
    n = indptr.size - 1
    D = order.shape[1]
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
            earliest = max(earliest, period[p])
        for attempt in range(2 if strict else 1):
            if not ok or period[b] >= 0:
                break
            for t in range(earliest, T):
                left = _allocate(b, t, order, coef, rem, f, use)
                whole = f[order[b, 0]] >= 1.0 - 1e-9
                if left <= 1e-9 and (whole or attempt == 1 or not strict):
                    period[b] = t
                    frac[b] = f / f.sum()
                    for r in range(R):
                        rem[r, t] -= use[r]
                    break
        for k in range(succ_ptr[b], succ_ptr[b + 1]):
            s = succ_idx[k]
            waiting[s] -= 1
            if waiting[s] == 0:
                heapq.heappush(heap, (key[s], np.int64(s)))
    return period, frac


def toposort_schedule(problem: PcpspProblem, key: np.ndarray, candidates: np.ndarray | None = None,
                      not_before: np.ndarray | None = None, preference: np.ndarray | None = None,
                      strict: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Greedy schedule in order of ``key`` (smaller first) over the ``candidates`` mask.

    not_before[b]: earliest period allowed for block b (default 0).
    preference[b, d]: destination preference score (default: profit); strict: wait for a
    period where the whole block fits its preferred destination when there is one.

    Returns (period[b] with -1 for unmined, fractions[b, d]).
    """
    n = problem.n_blocks
    prec = problem.precedence
    succ = prec.successors()                          # built once per graph (`Precedence.successors`)
    cand = np.ones(n, bool) if candidates is None else np.asarray(candidates, bool)
    cap = np.where(np.isfinite(problem.resource_upper), problem.resource_upper, 1e300)
    # a block with negative coefficients frees capacity; the greedy treats it as using none
    coef = np.clip(problem.resource_coef, 0.0, None)
    nb = np.zeros(n, np.int64) if not_before is None else np.asarray(not_before, np.int64)
    return _greedy(prec.indptr, prec.indices, succ.indptr, succ.indices, np.asarray(key, float),
                   cand, nb, np.argsort(-(problem.values if preference is None else preference), axis=1,
                                        kind="stable"), coef, cap, bool(strict))


def schedule_value(problem: PcpspProblem, period: np.ndarray, frac: np.ndarray) -> float:
    """Discounted objective of a (period, fractions) schedule."""
    disc = problem.discount_factors()
    mined = period >= 0
    return float(((problem.values[mined] * frac[mined]).sum(axis=1) * disc[period[mined]]).sum())


def to_schedule(period: np.ndarray, frac: np.ndarray) -> Schedule:
    return Schedule.from_periods(period, frac)


def best_toposort(problem: PcpspProblem, y: np.ndarray | None, thresholds=(1e-6, 0.3, 0.6, 0.9),
                  ) -> tuple[np.ndarray, np.ndarray, float, dict]:
    """Run TopoSort for several orders, pit thresholds, earliest periods and destination rules;
    return the best (period, frac, value, info).

    y: LP fractions y[b, d, t] (None: blocks in topological-depth order, all candidates,
    a weak start for when no LP is available).
    """
    T = problem.n_periods
    if y is None:
        order = problem.precedence.topological_order()
        depth = np.zeros(problem.n_blocks)
        for b in order:
            pr = problem.precedence.predecessors(b)
            if pr.size:
                depth[b] = depth[pr].max() + 1
        keys = [("depth", depth)]
        masks = [("all", np.ones(problem.n_blocks, bool))]
        starts = [("any", None)]
        rules = [("profit", None, False)]
    else:
        e = expected_period(problem, y)
        mined = y.sum(axis=(1, 2))
        share = y.sum(axis=1)
        cum = np.cumsum(share, axis=1)
        half = np.where((cum >= 0.5).any(axis=1), np.argmax(cum >= 0.5, axis=1), T).astype(float)
        first = np.where((cum > 1e-6).any(axis=1), np.argmax(cum > 1e-6, axis=1), T).astype(float)
        conditional = np.where(mined > 1e-9, (share @ np.arange(T)) / np.maximum(mined, 1e-12), T)
        keys = [("expected", e), ("conditional", conditional), ("median", half + 1e-3 * e),
                ("first", first + 1e-3 * e)]
        masks = [(f"pit>={th}", mined >= th) for th in thresholds]
        starts = [("any", None), ("lp_first", np.minimum(first, T - 1)),
                  ("lp_floor", np.minimum(np.floor(e), T - 1))]
        rules = [("profit", None, False)]
        if problem.n_destinations > 1:
            # LP destination shares first, profit to break ties
            lp_pref = y.sum(axis=2) + 1e-9 * np.sign(problem.values)
            rules += [("lp", lp_pref, False), ("lp_strict", lp_pref, True)]
    best, tried = None, 0
    for kname, key in keys:
        for mname, mask in masks:
            for sname, nb in starts:
                for rname, pref, strict in rules:
                    period, frac = toposort_schedule(problem, key, mask, nb, pref, strict)
                    value = schedule_value(problem, period, frac)
                    tried += 1
                    if best is None or value > best[2]:
                        best = (period, frac, value, kname, mname, sname, rname)
    return best[0], best[1], best[2], {"toposort_tried": tried, "toposort_key": best[3], "toposort_pit": best[4],
                                         "toposort_start": best[5], "toposort_destinations": best[6]}
