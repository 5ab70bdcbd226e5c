"""From a plan over cuts to a block schedule a mine can follow.

`block_periods`: the cut model says what share of each cut is mined by the end of each period.
Each block gets an *expected period* from its position in its cut (inner shells first): the
moment its cut's cumulative mined share passes the block's place in the cut.  Blocks are then
scheduled one by one in order of expected period, each in the earliest period at or after the
periods of all its predecessors (the slope cone) in which the mining capacity still has room
(TopoSort, `solvers.heuristics`); then single blocks move in time where that pays (`solvers.shift`).
The result keeps every block precedence and every period's mining capacity exactly.

`block_destinations`: the destination model says what share of each parcel goes to the mill, the
stockpile and the dump in each period.  The blocks of a parcel mined in a period take these shares
best margin first (mill, then stockpile, then dump); a block straddling two shares goes to the
mill only while the period's mill (tonnes and hours) has room for it, and otherwise to the next
route, with the stockpile taking a block that straddles the stockpile and the dump.
"""
from __future__ import annotations

import numpy as np

from solvers.errors import InputError
from solvers.heuristics import toposort_schedule
from solvers.problem import PcpspProblem
from solvers.shift import shift_periods

from orepit.planning.layout import Layout, margin_per_tonne
from orepit.valuation.deposit import Deposit
from orepit.valuation.destinations import DUMP, MILL, STOCKPILE


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
    T = W.shape[1]
    rows = W[c]                                                       # (blocks, T)
    reached = rows >= q[:, None] - 1e-9
    t = np.where(reached.any(axis=1), np.argmax(reached, axis=1), T)
    prev = np.where(t > 0, rows[np.arange(t.size), np.maximum(t - 1, 0)], 0.0)
    now = rows[np.arange(t.size), np.minimum(t, T - 1)]
    frac = np.clip((q - prev) / np.maximum(now - prev, 1e-12), 0.0, 1.0)
    out[order] = np.where(t < T, t + frac, np.inf)
    return out


def block_periods(deposit: Deposit, layout: Layout, pit: np.ndarray, mined_by: np.ndarray,
                  capacity: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Period of every block of ``pit`` (-1 when it does not fit in ``capacity``'s periods).

    mined_by[c, t]: the cut model's cumulative mined share; capacity[t]: t that may be mined in
    period t (its length is the horizon); value: per block (currency), for `solvers.shift`.
    Blocks are taken in order of expected period and placed as early as their predecessors and the
    capacity allow (not before their cut's period when cuts are single blocks, whose periods the
    model decided); blocks of the pit outside every cut (air) weigh nothing and go as soon as their
    predecessors do.  Then, for cuts of many blocks, blocks of negative value wait and blocks of
    positive value move up where precedence and capacity allow.
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
    problem = PcpspProblem(values=np.zeros((n, 1)), precedence=deposit.precedence,
                           n_periods=capacity.size, discount_rate=0.0,
                           resource_coef=deposit.tonnage[:, None, None], resource_lower=np.full((1, capacity.size), -np.inf),
                           resource_upper=np.where(np.isfinite(capacity), capacity, np.inf)[None, :])
    candidates = np.asarray(pit, dtype=bool)
    if not_before is not None:
        candidates = candidates & (not_before < capacity.size)
    period, _ = toposort_schedule(problem, key, candidates, not_before=not_before)
    if not layout.integer:
        shift_periods(deposit.precedence, period, deposit.tonnage, capacity, value)
    return period


def block_destinations(deposit: Deposit, layout: Layout, period: np.ndarray, shares: np.ndarray,
                       mill_budget: np.ndarray, hours_budget: np.ndarray, stockpile: bool,
                       ore_to_dump: bool) -> np.ndarray:
    """Destination of every mined block (-1 unmined) from the shares of the destination model.

    layout.block_parcel groups the blocks that share a parcel and a period; shares[q, d] is the share
    of group q the model sends to destination d.  Within a group, blocks take the shares best margin
    first (mill, stockpile, dump).  In each period the mill then takes its blocks, best margin first
    and those wholly inside a mill share before those straddling one, while the direct feed fits
    ``mill_budget[t]`` t and ``hours_budget[t]`` h (the capacity less the planned reclaim); the rest
    go to the stockpile (``stockpile``) or else the dump (``ore_to_dump``).  Blocks of the pit
    outside every group (air) go to the dump.
    """
    n = deposit.n_blocks
    dest = np.full(n, -1, dtype=np.int64)
    ton = deposit.tonnage
    hours = deposit.mill_hours
    group = layout.block_parcel
    mined = np.flatnonzero(period >= 0)
    dest[mined] = DUMP
    mined = mined[group[mined] >= 0]
    if mined.size == 0:
        return dest
    per_t = margin_per_tonne(deposit)
    order = mined[np.lexsort((mined, -per_t[mined], group[mined]))]
    g = group[order]
    t_o = ton[order]
    first = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    start_of = np.repeat(np.cumsum(t_o)[first] - t_o[first], np.diff(np.r_[first, g.size]))
    end = np.cumsum(t_o) - start_of
    start = end - t_o
    total = np.bincount(g, weights=t_o, minlength=shares.shape[0])
    want = shares[g] / np.maximum(shares[g].sum(axis=1, keepdims=True), 1e-300) * total[g][:, None]
    tol = 1e-9 * np.maximum(total[g], 1.0)
    edge_mill, edge_stock = want[:, MILL], want[:, MILL] + want[:, STOCKPILE]
    whole = end <= edge_mill + tol
    straddle = ~whole & (start < edge_mill - tol)
    rest = np.where((start < edge_stock - tol) | (want[:, DUMP] <= tol), STOCKPILE, DUMP)
    ore = deposit.ore[order]
    fallback = np.where(ore & stockpile & (layout.block_bin[order] >= 0), STOCKPILE,
                        np.where(~ore | ore_to_dump, DUMP, MILL))
    rest = np.where(rest == STOCKPILE, np.where(ore & stockpile, STOCKPILE, fallback), rest)
    choice = np.where(whole | straddle, MILL, rest)
    p = period[order]
    for t in np.unique(p):
        at = np.flatnonzero((p == t) & (choice == MILL))
        if at.size == 0:
            continue
        at = at[np.lexsort((-per_t[order[at]], straddle[at]))]
        fits = (np.cumsum(t_o[at]) <= mill_budget[t] * (1 + 1e-12) + 1e-9) & \
            (np.cumsum(hours[order[at]]) <= hours_budget[t] * (1 + 1e-12) + 1e-9)
        fits = np.cumprod(fits).astype(bool)                          # the best prefix that fits
        choice[at[~fits]] = np.where(straddle[at[~fits]], rest[at[~fits]], fallback[at[~fits]])
    dest[order] = choice
    return dest
