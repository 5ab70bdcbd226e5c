"""Block-level local search along the precedence frontier: cone shifts and cone swaps between
adjacent periods.

A schedule gives each block a period (-1: not mined; here counted as period T, worth nothing).
Moving block b from period t one period earlier, to t - 1, takes along its *predecessor cone*:
b and every predecessor, transitively, that is also mined in t (they must come no later than b).
Moving block c from period s one period later, to s + 1 (s = T - 1: not mined any more), takes
along its *successor cone*: c and every successor, transitively, also mined in s.  Either move
keeps precedence; its gain is sum value[x] * (disc[new] - disc[old]) over the cone, and it is
kept when every resource of the two periods stays within its limits.

A cone that gains but does not fit (the earlier period is full) makes room by moving cones of
the earlier period the other way (successor cones, least loss first) until it fits; the exchange
is kept when the gains sum to more than zero and both periods' limits hold, else undone.  A cone
holding a predecessor of the gaining cone cannot leave.  The mirror exchange follows: a cone
moving later (a loss) is kept when gaining predecessor cones of the later period fill its room.
These are the ejection moves of block local search for open-pit scheduling (exchanges of blocks
between adjacent periods; e.g. Lamghari, Dimitrakopoulos & Ferland 2014, Kenny, Li & Ernst
2017); sub-MIPs over period windows contain them but on large instances stall before finding
them.  `near_boundary` gives the blocks such moves reach, for windows restricted to them.

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
# Most partner cones tried to make room for one cone in a pass (those that would overfill its
# period are skipped): partners are taken least loss first, and a clash check costs a cone's arcs.
MAX_TRIES = 50


@numba.njit(cache=True)
def cone_blocks(root, when, t, ptr, idx, mark, stamp, out, max_cone):
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
def _below(used, add, remove, upper, t, T):
    """Whether period t (t == T: not mined, no limits) stays within its upper limits with
    used + add - remove."""
    if t >= T:
        return True
    for r in range(used.shape[0]):
        if used[r, t] + add[r] - remove[r] > upper[r, t] + 1e-9 * max(1.0, abs(upper[r, t])):
            return False
    return True


@numba.njit(cache=True)
def _make_room(cone_x, kx, gain_x, dx, src, dst, y_root, y_gain, y_use, oy, x_ptr, x_idx, y_ptr, y_idx, when,
               value, use, disc, used, lower, upper, mark, mark_x, stamp, cone_y, moved, dy, max_cone, max_tries,
               tol):
    """Make room in period dst for cone x (its kx blocks in period src; gain gain_x, resource use
    dx) by moving cones of dst the other way, to src (candidates y_root in the order oy, with the
    gains and uses they had when listed; a cone is y_root and its neighbours in y_ptr/y_idx in
    dst), until cone x fits both periods' limits; then x moves too and the moves are kept when
    the gains sum to more than tol, else every cone moved goes back.  A cone holding a
    neighbour of cone x in x_ptr/x_idx is skipped (it must stay on its side of x); cone x's
    blocks carry ``stamp`` in mark_x.  Returns (kept, the last stamp used)."""
    T = disc.size - 1
    R = dx.size
    x_stamp = stamp
    for q in range(kx):
        b = cone_x[q]
        for m in range(x_ptr[b], x_ptr[b + 1]):
            mark_x[x_idx[m]] = x_stamp
    gain = gain_x
    out, tries = 0, 0
    for j in oy:
        if tries >= max_tries or gain + y_gain[j] <= tol:
            break
        c = y_root[j]
        if when[c] != dst or mark_x[c] == x_stamp or not _below(used, y_use[j], dx, upper, src, T):
            continue
        tries += 1
        stamp += 1
        ky = cone_blocks(c, when, dst, y_ptr, y_idx, mark, stamp, cone_y, max_cone)
        if ky < 0:
            continue
        clash = False
        for q in range(ky):
            if mark_x[cone_y[q]] == x_stamp:
                clash = True
                break
        if clash:
            continue
        gy = _cone_sum(cone_y, ky, value, use, disc[src] - disc[dst], dy)
        if gain + gy <= tol or not _below(used, dy, dx, upper, src, T):
            continue
        _shift(cone_y, ky, when, used, dy, dst, src)
        moved[out:out + ky] = cone_y[:ky]
        out += ky
        gain += gy
        if _fits(used, dx, 1.0, lower, upper, dst, T) and _fits(used, dx, -1.0, lower, upper, src, T):
            _shift(cone_x, kx, when, used, dx, src, dst)
            return True, stamp
    for q in range(out):                                  # no room made: every cone moved goes back
        b = moved[q]
        when[b] = dst
        for r in range(R):
            used[r, src] -= use[b, r]
            used[r, dst] += use[b, r]
    return False, stamp


@numba.njit(cache=True)
def _exchanges(x_root, x_gain, nx, y_root, y_gain, y_use, ny, src, dst, x_ptr, x_idx, y_ptr, y_idx, when, value,
               use, disc, used, lower, upper, mark, mark_x, stamp, cone_x, cone_y, moved, dx, dy, max_cone,
               max_tries, tol, start, seconds_left):
    """`_make_room` for the listed cones x (roots x_root, moving src -> dst, best gain first) that
    gain but did not fit, with the listed cones y of dst as partners.  Returns (exchanges kept,
    the last stamp used, whether time ran out)."""
    kept_count = 0
    if nx == 0 or ny == 0:
        return 0, stamp, False
    ox = np.argsort(-x_gain[:nx])
    oy = np.argsort(-y_gain[:ny])
    for i in ox:
        if x_gain[i] + y_gain[oy[0]] <= tol:
            break
        with numba.objmode(now="f8"):
            now = time.perf_counter()
        if now - start > seconds_left:
            return kept_count, stamp, True
        if when[x_root[i]] != src:
            continue
        stamp += 1
        kx = cone_blocks(x_root[i], when, src, x_ptr, x_idx, mark_x, stamp, cone_x, max_cone)
        if kx < 0:
            continue
        gain_x = _cone_sum(cone_x, kx, value, use, disc[dst] - disc[src], dx)
        if gain_x + y_gain[oy[0]] <= tol:
            continue
        kept, stamp = _make_room(cone_x, kx, gain_x, dx, src, dst, y_root, y_gain, y_use, oy, x_ptr, x_idx, y_ptr,
                                 y_idx, when, value, use, disc, used, lower, upper, mark, mark_x, stamp, cone_y,
                                 moved, dy, max_cone, max_tries, tol)
        kept_count += kept
    return kept_count, stamp, False


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
    moved = np.empty(n, np.int64)
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
                k = cone_blocks(b, when, t, pred_ptr, pred_idx, mark, stamp, cone_a, max_cone)
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
                k = cone_blocks(c, when, s, succ_ptr, succ_idx, mark, stamp, cone_b, max_cone)
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
            # earlier cones making room by later ones, then later cones making room by earlier ones
            kept, stamp, late = _exchanges(a_root, a_gain, na, b_root, b_gain, b_use, nb, t, s, pred_ptr, pred_idx,
                                           succ_ptr, succ_idx, when, value, use, disc, used, lower, upper, mark,
                                           mark_a, stamp, cone_a, cone_b, moved, da, db, max_cone, max_tries, tol,
                                           start, seconds_left)
            moves, pairs = moves + kept, pairs + kept
            if late:
                return moves, pairs, done
            kept, stamp, late = _exchanges(b_root, b_gain, nb, a_root, a_gain, a_use, na, s, t, succ_ptr, succ_idx,
                                           pred_ptr, pred_idx, when, value, use, disc, used, lower, upper, mark,
                                           mark_a, stamp, cone_b, cone_a, moved, db, da, max_cone, max_tries, tol,
                                           start, seconds_left)
            moves, pairs = moves + kept, pairs + kept
            if late:
                return moves, pairs, done
        if moves == before:
            break
    return moves, pairs, done


@numba.njit(cache=True)
def _near_boundary(pred_ptr, pred_idx, succ_ptr, succ_idx, when, t0, t1, drop_last, max_cone):
    """Blocks of periods t0..t1 (in ``when``) whose successor cone within their period has at most
    max_cone blocks and may move later (period < t1, or drop_last), or whose predecessor cone
    within their period has at most max_cone blocks and may move earlier (period > t0)."""
    n = when.size
    mark = np.zeros(n, np.int64)
    out = np.empty(max_cone, np.int64)
    near = np.zeros(n, np.bool_)
    stamp = 0
    for b in range(n):
        p = when[b]
        if p < t0 or p > t1:
            continue
        if p < t1 or drop_last:
            stamp += 1
            if cone_blocks(b, when, p, succ_ptr, succ_idx, mark, stamp, out, max_cone) > 0:
                near[b] = True
                continue
        if p > t0:
            stamp += 1
            near[b] = cone_blocks(b, when, p, pred_ptr, pred_idx, mark, stamp, out, max_cone) > 0
    return near


def near_boundary(precedence, period: np.ndarray, t0: int, t1: int, max_cone: int,
                  drop_last: bool = False) -> np.ndarray:
    """Mask of the blocks of periods t0..t1 that can move to a neighbouring period of the window
    carrying at most ``max_cone`` blocks of their own period with them (their successor cone to
    move later, their predecessor cone to move earlier); drop_last: blocks of t1 may also be
    dropped (t1 is the last period).  period[b]: -1 not mined.

    >>> from solvers.problem import Precedence
    >>> chain = Precedence.from_arcs(3, [1, 2], [0, 1])          # 0 before 1 before 2
    >>> near_boundary(chain, np.array([0, 0, 0]), 0, 1, max_cone=2).tolist()
    [False, True, True]
    """
    succ = precedence.successors()
    return _near_boundary(precedence.indptr, precedence.indices, succ.indptr, succ.indices,
                          np.asarray(period, np.int64), int(t0), int(t1), bool(drop_last), int(max_cone))


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
