"""Block-level local search along the precedence frontier: cone shifts and cone swaps between
adjacent periods.

A schedule gives each block a period (-1: not mined; here counted as period T, worth nothing).
Moving block b from period t one period earlier, to t - 1, takes along its *predecessor cone*:
b and every predecessor, transitively, that is also mined in t (they must come no later than b).
Moving block c from period s one period later, to s + 1 (s = T - 1: not mined any more), takes
along its *successor cone*: c and every successor, transitively, also mined in s.  Either move
keeps precedence; its gain is sum value[x] * (disc[new] - disc[old]) over the cone, and it is
kept when every resource of the two periods stays within its limits.

A cone that gains but does not fit (the earlier period is full) is paired with a successor cone
moved the other way (from t - 1 to t) that makes room: the pair is kept when the two gains sum
to more than zero, the two periods' limits hold after both, and no block of the later-moved cone
is a predecessor of a block of the earlier-moved one.  This is the ejection move of block
local search for open-pit scheduling (exchange of blocks between adjacent periods; e.g. Lamghari,
Dimitrakopoulos & Ferland 2014, Kenny, Li & Ernst 2017); sub-MIPs over period windows contain
it but on large instances stall before finding it.

Destination shares stay as they are (a block not mined takes its most valuable destination when
it enters), so a block's value and resource use are fixed numbers.  General side constraints are
not handled: a problem with any returns the schedule unchanged.  The caller verifies the result.
"""
from __future__ import annotations

import time

import numba
import numpy as np

from .problem import PcpspProblem

# Largest cone (blocks) a move may carry: deeper cones are skipped (they are MIP territory).
MAX_CONE = 400
# Most partner cones (that fit the limits with it) tried for one gaining cone in a pass: the
# partners are taken best first, and a clash check costs a cone's arcs.
MAX_TRIES = 50


@numba.njit(cache=True)
def _cone(root, when, t, ptr, idx, mark, stamp, out, max_cone):
    """Blocks of the cone of ``root`` (itself and, transitively, its neighbours in ``ptr``/``idx``
    with ``when == t``) written to ``out``; returns how many, or -1 when more than max_cone."""
    out[0] = root
    mark[root] = stamp
    size, head = 1, 0
    while head < size:
        x = out[head]
        head += 1
        for k in range(ptr[x], ptr[x + 1]):
            y = idx[k]
            if when[y] == t and mark[y] != stamp:
                if size >= max_cone:
                    return -1
                mark[y] = stamp
                out[size] = y
                size += 1
    return size


@numba.njit(cache=True)
def _fits(used, delta, sign, lower, upper, t, T):
    """Whether period t (t == T: not mined, no limits) keeps its limits with used + sign * delta."""
    if t >= T:
        return True
    for r in range(used.shape[0]):
        v = used[r, t] + sign * delta[r]
        if v > upper[r, t] + 1e-9 * max(1.0, abs(upper[r, t])):
            return False
        if v < lower[r, t] - 1e-9 * max(1.0, abs(lower[r, t])):
            return False
    return True


@numba.njit(cache=True)
def _pair_fits(used, da, db, lower, upper, s, t, T):
    """Limits of periods s (gets cone a, loses cone b) and t (loses a, gets b) after a swap."""
    R = used.shape[0]
    for r in range(R):
        for q in range(2):
            p = s if q == 0 else t
            if p >= T:
                continue
            v = used[r, p] + (da[r] - db[r] if q == 0 else db[r] - da[r])
            if v > upper[r, p] + 1e-9 * max(1.0, abs(upper[r, p])):
                return False
            if v < lower[r, p] - 1e-9 * max(1.0, abs(lower[r, p])):
                return False
    return True


@numba.njit(cache=True)
def _cone_sum(cone, k, value, use, dgain, delta):
    """The gain of moving the cone's k blocks, sum value[x] * dgain, returned; their resource use
    summed into ``delta`` (cleared first)."""
    gain = 0.0
    delta[:] = 0.0
    for i in range(k):
        x = cone[i]
        gain += value[x] * dgain
        for r in range(delta.size):
            delta[r] += use[x, r]
    return gain


@numba.njit(cache=True)
def _shift(cone, k, when, used, delta, src, dst):
    """Move the cone's k blocks from period src to dst, and their resource use ``delta`` with them."""
    for i in range(k):
        when[cone[i]] = dst
    for r in range(delta.size):
        used[r, dst] += delta[r]
        used[r, src] -= delta[r]


@numba.njit(cache=True)
def _search(pred_ptr, pred_idx, succ_ptr, succ_idx, when, value, use, disc, lower, upper,
            max_cone, max_tries, tol, passes, swaps, seconds_left):
    """Cone shifts and swaps between periods t - 1 and t, t = 1..T, until a pass moves nothing.
    when[b]: period, T for not mined (changed in place).  Returns (moves, swaps done, passes)."""
    n = when.size
    T = disc.size - 1
    R = use.shape[1]
    used = np.zeros((R, T + 1))
    for b in range(n):
        for r in range(R):
            used[r, when[b]] += use[b, r]
    mark = np.zeros(n, np.int64)
    mark_a = np.zeros(n, np.int64)
    stamp = 0
    da = np.zeros(R)
    db = np.zeros(R)
    cone_a = np.empty(max_cone, np.int64)
    cone_b = np.empty(max_cone, np.int64)
    delta = np.zeros(R)
    a_root = np.empty(n, np.int64)
    a_gain = np.empty(n)
    a_use = np.empty((n, R))
    b_root = np.empty(n, np.int64)
    b_gain = np.empty(n)
    b_use = np.empty((n, R))
    moves, pairs, done = 0, 0, 0
    start = 0.0
    with numba.objmode(start="f8"):
        start = time.perf_counter()
    for _ in range(passes):
        done += 1
        before = moves
        for t in range(1, T + 1):
            s = t - 1
            with numba.objmode(now="f8"):
                now = time.perf_counter()
            if now - start > seconds_left:
                return moves, pairs, done
            # predecessor cones from t to s: kept at once when they fit, else candidates
            na = 0
            for b in range(n):
                if when[b] != t:
                    continue
                stamp += 1
                k = _cone(b, when, t, pred_ptr, pred_idx, mark, stamp, cone_a, max_cone)
                if k < 0:
                    continue
                gain = _cone_sum(cone_a, k, value, use, disc[s] - disc[t], delta)
                if gain <= tol:
                    continue
                if _fits(used, delta, 1.0, lower, upper, s, T) and _fits(used, delta, -1.0, lower, upper, t, T):
                    _shift(cone_a, k, when, used, delta, t, s)
                    moves += 1
                    continue
                a_root[na] = b
                a_gain[na] = gain
                a_use[na] = delta
                na += 1
            # successor cones from s to t
            nb = 0
            for c in range(n):
                if when[c] != s:
                    continue
                stamp += 1
                k = _cone(c, when, s, succ_ptr, succ_idx, mark, stamp, cone_b, max_cone)
                if k < 0:
                    continue
                gain = _cone_sum(cone_b, k, value, use, disc[t] - disc[s], delta)
                if gain > tol and _fits(used, delta, 1.0, lower, upper, t, T) and \
                        _fits(used, delta, -1.0, lower, upper, s, T):
                    _shift(cone_b, k, when, used, delta, s, t)
                    moves += 1
                    continue
                b_root[nb] = c
                b_gain[nb] = gain
                b_use[nb] = delta
                nb += 1
            if not swaps or na == 0 or nb == 0:
                continue
            oa = np.argsort(-a_gain[:na])
            ob = np.argsort(-b_gain[:nb])
            for i in oa:
                if a_gain[i] + b_gain[ob[0]] <= tol:
                    break
                with numba.objmode(now="f8"):
                    now = time.perf_counter()
                if now - start > seconds_left:
                    return moves, pairs, done
                ka = -2                                  # cone a as it is now: found at the first fit
                gain_a = 0.0
                tries = 0
                for j in ob:
                    if (gain_a if ka >= 0 else a_gain[i]) + b_gain[j] <= tol or tries >= max_tries:
                        break
                    if not _pair_fits(used, da if ka >= 0 else a_use[i], b_use[j], lower, upper, s, t, T):
                        continue
                    if ka == -2:
                        stamp += 1
                        ka = _cone(a_root[i], when, t, pred_ptr, pred_idx, mark_a, stamp, cone_a, max_cone)
                        if ka < 0 or when[a_root[i]] != t:
                            break
                        gain_a = _cone_sum(cone_a, ka, value, use, disc[s] - disc[t], da)
                        continue_check = gain_a + b_gain[j] > tol and \
                            _pair_fits(used, da, b_use[j], lower, upper, s, t, T)
                        if not continue_check:
                            continue
                    tries += 1
                    stamp += 1
                    kb = _cone(b_root[j], when, s, succ_ptr, succ_idx, mark, stamp, cone_b, max_cone)
                    if kb < 0 or when[b_root[j]] != s:
                        continue
                    # cone b (marked with this stamp) must hold no predecessor of cone a
                    clash = False
                    for q in range(ka):
                        x = cone_a[q]
                        for m in range(pred_ptr[x], pred_ptr[x + 1]):
                            if mark[pred_idx[m]] == stamp:
                                clash = True
                                break
                        if clash:
                            break
                    if clash:
                        continue
                    gain = gain_a
                    db[:] = 0.0
                    for q in range(kb):
                        gain += value[cone_b[q]] * (disc[t] - disc[s])
                        db += use[cone_b[q]]
                    if gain <= tol or not _pair_fits(used, da, db, lower, upper, s, t, T):
                        continue
                    for q in range(ka):
                        when[cone_a[q]] = s
                    for q in range(kb):
                        when[cone_b[q]] = t
                    for r in range(R):
                        used[r, s] += da[r] - db[r]
                        used[r, t] += db[r] - da[r]
                    moves += 1
                    pairs += 1
                    break                                # cone a has moved: the next one
        if moves == before:
            break
    return moves, pairs, done


def improve_frontier(problem: PcpspProblem, period: np.ndarray, frac: np.ndarray, time_limit: float = 30.0,
                     passes: int = 50, swaps: bool = True, max_cone: int = MAX_CONE,
                     max_tries: int = MAX_TRIES):
    """Cone shifts and swaps (see the module docstring) on a feasible (period, frac) schedule;
    returns (period, frac, info), new arrays; the inputs are not changed.

    period[b]: period of block b (-1 not mined); frac[b, d]: destination shares.  time_limit (s)
    is checked once per period pair and gaining cone; passes: most sweeps over the periods; swaps:
    False for shifts only; max_cone: largest cone moved (blocks); max_tries: partners tried a cone.  info: ``moves`` (shifts and swaps kept), ``swaps``, ``passes``, ``frontier_s``.
    """
    t0 = time.perf_counter()
    period = np.asarray(period, np.int64).copy()
    frac = np.asarray(frac, np.float64).copy()
    if problem.side.n_rows:
        return period, frac, {"moves": 0, "swaps": 0, "passes": 0, "frontier_s": 0.0}
    T = problem.n_periods
    unmined = period < 0
    best = np.argmax(problem.values, axis=1)
    frac[unmined] = 0.0
    frac[np.flatnonzero(unmined), best[unmined]] = 1.0       # a block entering goes to its best destination
    value = (problem.values * frac).sum(axis=1)
    use = np.einsum("bd,bdr->br", frac, problem.resource_coef)
    disc = np.r_[problem.discount_factors(), 0.0]
    when = np.where(unmined, T, period)
    scale = float(np.abs(value).sum())
    tol = 1e-12 * max(1.0, scale)
    prec = problem.precedence
    succ = prec.successors()
    moves, pairs, done = _search(prec.indptr, prec.indices, succ.indptr, succ.indices, when, value,
                                 np.ascontiguousarray(use), disc, problem.resource_lower, problem.resource_upper,
                                 int(max_cone), int(max_tries), tol, int(passes), bool(swaps), float(time_limit))
    period = np.where(when >= T, -1, when)
    frac[(period < 0) & unmined] = 0.0                        # blocks that stayed out: as they came
    return period, frac, {"moves": int(moves), "swaps": int(pairs), "passes": int(done),
                          "frontier_s": time.perf_counter() - t0}
