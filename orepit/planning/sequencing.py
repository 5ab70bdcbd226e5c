"""From a plan over cuts to a block schedule a mine can follow.

`block_periods`: the cut model says what share of each cut is mined by the end of each period.
Each block gets an *expected period* from its position in its cut (inner shells first): the
moment its cut's cumulative mined share passes the block's place in the cut.  Blocks are then
scheduled one by one in order of a key, each in the earliest period at or after the periods of
all its predecessors (the slope cone) in which the mining capacity still has room (TopoSort,
`solvers.heuristics`); then single blocks move in time where that pays (`solvers.shift`).  Two
orders are placed (`ORDERS`): by expected period, and with the slope cone of every block worth
mining pulled forward to it (`pulled_keys`); the placement whose discounted block value is the
higher is kept (of two that place all the pit's blocks).  The result keeps every block precedence and every period's mining capacity exactly.
"""
from __future__ import annotations

import numba
import numpy as np

from solvers.errors import InputError
from solvers.heuristics import toposort_schedule
from solvers.problem import PcpspProblem
from solvers.shift import shift_periods

from orepit.planning.layout import Layout
from orepit.valuation.deposit import Deposit


def expected_periods(layout: Layout, tonnage: np.ndarray, mined_by: np.ndarray) -> np.ndarray:
    """Fractional expected period of every block of the layout (inf outside it or never reached).

    mined_by[c, t]: share of cut c mined by the end of period t (non-decreasing in t).  A block whose
    middle tonne sits at share q of its cut (blocks ordered by ``layout.block_position``) is expected
    at t + (q - W[c, t-1]) / (W[c, t] - W[c, t-1]) for the period t in which W crosses q.
    """
    n = layout.block_cut.size
    out = np.full(n, np.inf)
    blocks = np.flatnonzero(layout.block_cut >= 0)
    if blocks.size == 0:
        return out
    cut = layout.block_cut[blocks]
    order = blocks[np.lexsort((blocks, layout.block_position[blocks], cut))]
    c = layout.block_cut[order]
    t_b = tonnage[order]
    cut_total = np.bincount(c, weights=t_b, minlength=mined_by.shape[0])
    before = np.cumsum(t_b) - t_b
    start = np.zeros(mined_by.shape[0])
    first = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
    start[c[first]] = before[first]
    safe = np.where(cut_total > 0, cut_total, 1.0)
    q = np.where(cut_total[c] > 0, (before - start[c] + 0.5 * t_b) / safe[c], 0.5)
    W = np.clip(np.maximum.accumulate(mined_by, axis=1), 0.0, 1.0)
    out[order] = _crossings(c, q, W)
    return out


@numba.njit(cache=True)
def _crossings(cut, q, W):
    """Per block: t + the share of period t's advance of its cut's ``W[cut, t]`` past the block's
    place ``q``, for the first period t in which it reaches q; inf when it never does.  One pass per
    block, with no (blocks x periods) temporary."""
    T = W.shape[1]
    out = np.empty(q.size)
    for i in range(q.size):
        row = W[cut[i]]
        t = T
        for s in range(T):
            if row[s] >= q[i] - 1e-9:
                t = s
                break
        if t == T:
            out[i] = np.inf
            continue
        prev = row[t - 1] if t > 0 else 0.0
        frac = (q[i] - prev) / max(row[t] - prev, 1e-12)
        out[i] = t + min(max(frac, 0.0), 1.0)
    return out


#: the block orders `block_periods` places, first kept on a tie
ORDERS = ("expected", "pulled")


def pulled_keys(precedence, key: np.ndarray, inside: np.ndarray, pulls: np.ndarray) -> np.ndarray:
    """``key`` (expected periods) lowered so that no block of ``inside`` comes after a block of
    ``inside & pulls`` that needs it: key[p] = min(key[p], key[b]) for every such b whose slope cone
    holds p (through blocks that do not pull too).  ``pulls``: the blocks worth mining, whose cones
    the cut model means to be mined with them; a waste block's own key pulls nothing.

    The cut model's precedence binds cuts by their mined shares only, so it may mine a cut in step
    with the cut above it although the first blocks of the lower cut need the last blocks of the
    upper one; ordered by their own expected periods, those predecessors take their place late and
    the capacity of the period the model meant goes to other blocks (measured on a 3,000-block
    deposit: a blocked cut mined wholly a period late).  Pulled, the cone of a block the model
    mines early is mined with it."""
    own = np.where(inside & pulls, key, np.inf).astype(np.float64)
    passed = np.full(key.size, np.inf)
    _pull(precedence.indptr, precedence.indices, precedence.topological_order(), own, passed)
    return np.where(inside, np.minimum(key, passed), key)


@numba.njit(cache=True)
def _pull(indptr, indices, order, own, passed):
    """In reverse topological order, each block passes the smaller of its own pulling key and the key
    passed to it on to its predecessors (``passed[p]``: the least key of the blocks that need p)."""
    for i in range(order.size - 1, -1, -1):
        b = order[i]
        k = min(own[b], passed[b])
        for j in range(indptr[b], indptr[b + 1]):
            p = indices[j]
            if k < passed[p]:
                passed[p] = k


def block_periods(deposit: Deposit, layout: Layout, pit: np.ndarray, mined_by: np.ndarray,
                  capacity: np.ndarray, value: np.ndarray, discount_rate: float,
                  also=()) -> tuple[np.ndarray, str]:
    """(period of every block of ``pit``, -1 when it does not fit in ``capacity``'s periods; the
    order of `ORDERS` kept).

    mined_by[c, t]: the cut model's cumulative mined share; capacity[t]: t that may be mined in
    period t (its length is the horizon); value: per block (currency), for `solvers.shift` and to
    choose between the orders; discount_rate: per period; also: further (use per block, limit per
    period) pairs every period must keep (e.g. the ore a plan without a stockpile must mill).
    Blocks are taken in order of their key and placed as early as their predecessors and the
    capacity allow (not before their cut's period when cuts are single blocks, whose periods the
    model decided: then only the expected order); blocks of the pit outside every cut (air) weigh
    nothing and go as soon as their predecessors do.  Then, for cuts of many blocks, blocks of
    negative value wait and blocks of positive value move up where precedence and capacity allow.
    Kept: the placement that leaves the fewest tonnes of the pit unplaced, then the one with the
    highest `discounted_value`.
    """
    n = deposit.n_blocks
    capacity = np.asarray(capacity, dtype=np.float64)
    if capacity.ndim != 1 or not np.all(capacity >= 0):
        raise InputError("mining capacity must be one non-negative number per period", field="mining_capacity")
    in_cut = layout.block_cut >= 0
    not_before = None
    if layout.integer:
        done = mined_by > 0.5
        cut_period = np.where(done.any(axis=1), np.argmax(done, axis=1), capacity.size)
        expected = np.where(in_cut, cut_period[np.maximum(layout.block_cut, 0)], np.inf).astype(np.float64)
        not_before = np.where(in_cut & np.isfinite(expected), np.minimum(expected, capacity.size), 0).astype(np.int64)
    else:
        expected = expected_periods(layout, deposit.tonnage, mined_by)
    key = np.where(in_cut, np.where(np.isfinite(expected), expected, capacity.size + 1.0), 0.0)
    keys = {"expected": key}
    if not layout.integer:
        keys["pulled"] = pulled_keys(deposit.precedence, key, np.asarray(pit, dtype=bool) & in_cut, value > 0)
    uses = [deposit.tonnage] + [np.asarray(u, dtype=np.float64) for u, _ in also]
    limits = [capacity] + [np.broadcast_to(np.asarray(c, dtype=np.float64), capacity.shape) for _, c in also]
    problem = PcpspProblem(values=np.zeros((n, 1)), precedence=deposit.precedence,
                           n_periods=capacity.size, discount_rate=0.0,
                           resource_coef=np.stack(uses, axis=1)[:, None, :],
                           resource_lower=np.full((len(uses), capacity.size), -np.inf),
                           resource_upper=np.stack([np.where(np.isfinite(c), c, np.inf) for c in limits]))
    candidates = np.asarray(pit, dtype=bool)
    if not_before is not None:
        candidates = candidates & (not_before < capacity.size)
    best = None
    for name in (o for o in ORDERS if o in keys):
        period, _ = toposort_schedule(problem, keys[name], candidates, not_before=not_before)
        if not layout.integer and not also and (period >= 0).any():
            last = int(period.max())               # moving blocks in time must not lengthen the mine's life
            shift_periods(deposit.precedence, period, deposit.tonnage, capacity[:last + 1], value)
        left = float(deposit.tonnage[candidates & (period < 0)].sum())     # t that did not fit
        score = (-left, discounted_value(period, value, discount_rate))
        if best is None or score > best[0]:
            best = (score, period, name)
    return best[1], best[2]


def discounted_value(period: np.ndarray, value: np.ndarray, discount_rate: float) -> float:
    """Sum over the blocks placed (period >= 0) of value x (1 + discount_rate)^-period (currency):
    how `block_periods` ranks two placements of the same blocks."""
    placed = period >= 0
    return float(np.sum(value[placed] * (1.0 + discount_rate) ** -period[placed]))
