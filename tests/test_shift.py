"""Shifting single nodes in time (`solvers.shift`): precedence and capacities keep holding, the
discounted value never falls, and each move is one a brute force over single moves finds."""
from __future__ import annotations

import doctest

import numpy as np
import pytest

import solvers.shift
from solvers.problem import Precedence
from solvers.shift import shift_periods


def _random_case(seed: int, n: int = 12, T: int = 4):
    rng = np.random.default_rng(seed)
    tails, heads = [], []
    for b in range(1, n):                                   # node b needs some earlier nodes
        for a in rng.choice(b, size=min(b, rng.integers(0, 3)), replace=False):
            tails.append(b)
            heads.append(int(a))
    prec = Precedence.from_arcs(n, tails, heads)
    weight = rng.uniform(1.0, 3.0, n)
    capacity = np.full(T, weight.sum() / T * 1.6)
    period = np.full(n, -1, dtype=np.int64)
    used = np.zeros(T)
    for b in range(n):                                      # a feasible schedule, predecessors first
        need = max([period[a] for a in heads_of(tails, heads, b)], default=0)
        for t in range(need, T):
            if used[t] + weight[b] <= capacity[t]:
                period[b], used[t] = t, used[t] + weight[b]
                break
    return prec, period, weight, capacity, rng.normal(0.0, 5.0, n)


def heads_of(tails, heads, b):
    return [h for t, h in zip(tails, heads) if t == b]


def _feasible(prec, period, weight, capacity) -> bool:
    nodes, preds = prec.arcs()
    taken = period[nodes] >= 0
    if np.any(taken & ((period[preds] < 0) | (period[preds] > period[nodes]))):
        return False
    used = np.bincount(period[period >= 0], weights=weight[period >= 0], minlength=capacity.size)
    return bool(np.all(used <= capacity + 1e-9))


def _value(period, value, rate=0.1):
    taken = period >= 0
    return float(np.sum(value[taken] * (1 + rate) ** -period[taken]))


@pytest.mark.parametrize("seed", range(8))
def test_shifts_keep_every_constraint_and_never_lose_value(seed):
    prec, period, weight, capacity, value = _random_case(seed)
    assert _feasible(prec, period, weight, capacity)
    before = _value(period, value)
    shifted = period.copy()
    moves = shift_periods(prec, shifted, weight, capacity, value)
    assert _feasible(prec, shifted, weight, capacity)
    assert _value(shifted, value) >= before - 1e-9
    assert (moves > 0) == bool(np.any(shifted != period))
    # no single move the rule allows is left: a negative node cannot go later, a positive one earlier
    used = np.bincount(shifted[shifted >= 0], weights=weight[shifted >= 0], minlength=capacity.size)
    for b in np.flatnonzero(shifted >= 0):
        for t in range(capacity.size):
            if t == shifted[b] or used[t] + weight[b] > capacity[t]:
                continue
            trial = shifted.copy()
            trial[b] = t
            if _feasible(prec, trial, weight, capacity):
                gain = value[b] * ((1.1) ** -t - (1.1) ** -shifted[b])
                assert gain <= 1e-9, (b, t)


def test_the_docstring_example_runs():
    assert doctest.testmod(solvers.shift).failed == 0


def test_expected_periods_equal_the_whole_matrix_formula():
    # the per-block pass gives, bit for bit, what comparing every block with every period at once gives
    from types import SimpleNamespace

    from orepit.planning.sequencing import expected_periods
    rng = np.random.default_rng(3)
    for _ in range(10):
        n, cuts, T = 200, 7, int(rng.integers(1, 9))
        layout = SimpleNamespace(block_cut=rng.integers(-1, cuts, n), block_position=rng.integers(0, 5, n))
        tonnage = rng.uniform(0, 10, n) * (rng.random(n) > 0.1)
        mined_by = np.cumsum(rng.uniform(0, 0.4, (cuts, T)), axis=1)
        out = expected_periods(layout, tonnage, mined_by)
        blocks = np.flatnonzero(layout.block_cut >= 0)
        order = blocks[np.lexsort((blocks, layout.block_position[blocks], layout.block_cut[blocks]))]
        c, t_b = layout.block_cut[order], tonnage[order]
        total = np.bincount(c, weights=t_b, minlength=cuts)
        before = np.cumsum(t_b) - t_b
        start = np.zeros(cuts)
        first = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
        start[c[first]] = before[first]
        q = np.where(total[c] > 0, (before - start[c] + 0.5 * t_b) / np.where(total > 0, total, 1.0)[c], 0.5)
        rows = np.clip(np.maximum.accumulate(mined_by, axis=1), 0.0, 1.0)[c]
        reached = rows >= q[:, None] - 1e-9
        t = np.where(reached.any(axis=1), np.argmax(reached, axis=1), T)
        prev = np.where(t > 0, rows[np.arange(t.size), np.maximum(t - 1, 0)], 0.0)
        now = rows[np.arange(t.size), np.minimum(t, T - 1)]
        frac = np.clip((q - prev) / np.maximum(now - prev, 1e-12), 0.0, 1.0)
        assert np.array_equal(out[order], np.where(t < T, t + frac, np.inf))
        assert np.isinf(out[layout.block_cut < 0]).all()
