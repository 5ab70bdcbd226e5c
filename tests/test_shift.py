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
