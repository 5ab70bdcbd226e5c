"""Shifting single nodes of a precedence-feasible schedule in time: costs later, gains earlier.

A schedule gives each node a period (-1: not taken).  A node of negative value moves to the latest
period no later than any of its successors' periods, and a node of positive value to the earliest
period no earlier than any of its predecessors' periods, where the capacity of that period still
has room for its weight.  With discount factors falling in time, every move raises
sum value[b] * discount[period[b]]; precedence and capacities keep holding.  Passes alternate
(negative nodes bottom-up, positive nodes top-down) until nothing moves or ``passes`` are done.

>>> import numpy as np
>>> from solvers.problem import Precedence
>>> prec = Precedence.from_arcs(3, [2], [0])                  # node 2 needs node 0
>>> period = np.array([0, 0, 1])
>>> shift_periods(prec, period, weight=np.ones(3), capacity=np.array([2.0, 2.0]),
...               value=np.array([-1.0, -1.0, 5.0]))
2

"""
from __future__ import annotations

import numba
import numpy as np

from .errors import InputError
from .problem import Precedence


@numba.njit(cache=True)
def _move(b, periods, period, used, weight, capacity):
    """Move node b to the first of ``periods`` with room for its weight; 1 if it moved, else 0."""
    for t in periods:
        if used[t] + weight[b] <= capacity[t]:
            used[period[b]] -= weight[b]
            used[t] += weight[b]
            period[b] = t
            return 1
    return 0


@numba.njit(cache=True)
def _shift(order, indptr, indices, succ_ptr, succ_idx, period, weight, capacity, value, passes):
    T = capacity.size
    used = np.zeros(T)
    for b in range(period.size):
        if period[b] >= 0:
            used[period[b]] += weight[b]
    moved = 0
    for _ in range(passes):
        before = moved
        for k in range(order.size - 1, -1, -1):                  # costs later, successors first
            b = order[k]
            if period[b] < 0 or value[b] >= 0:
                continue
            latest = T - 1
            for s in range(succ_ptr[b], succ_ptr[b + 1]):
                q = period[succ_idx[s]]
                if 0 <= q < latest:
                    latest = q
            moved += _move(b, range(latest, period[b], -1), period, used, weight, capacity)
        for k in range(order.size):                               # gains earlier, predecessors first
            b = order[k]
            if period[b] < 0 or value[b] <= 0:
                continue
            earliest = 0
            for p in range(indptr[b], indptr[b + 1]):
                q = period[indices[p]]
                if q > earliest:
                    earliest = q
            moved += _move(b, range(earliest, period[b]), period, used, weight, capacity)
        if moved == before:
            break
    return moved


def shift_periods(precedence: Precedence, period: np.ndarray, weight, capacity, value, passes: int = 10) -> int:
    """Improve ``period`` in place (see the module docstring); returns the number of moves.

    period: int64 per node (-1 not taken), precedence-feasible; weight: per node, in the unit of
    ``capacity`` (one number per period); value: per node, undiscounted.
    """
    if period.dtype != np.int64 or period.shape != (precedence.n_nodes,):
        raise InputError("period must be an int64 array with one entry per node", field="period")
    weight = np.ascontiguousarray(weight, dtype=np.float64)
    capacity = np.ascontiguousarray(capacity, dtype=np.float64)
    value = np.ascontiguousarray(value, dtype=np.float64)
    succ = precedence.successors()
    return int(_shift(precedence.topological_order(), precedence.indptr, precedence.indices, succ.indptr,
                      succ.indices, period, weight, capacity, value, int(passes)))
