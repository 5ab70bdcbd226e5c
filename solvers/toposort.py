"""Topological order of a precedence graph (Kahn's algorithm), with cycle reporting."""
from __future__ import annotations

import numba
import numpy as np

from .errors import InputError


@numba.njit(cache=True)
def _kahn(indptr, indices, succ_ptr, succ_idx):
    n = indptr.size - 1
    remaining = np.empty(n, np.int64)
    order = np.empty(n, np.int64)
    head = 0
    tail = 0
    for b in range(n):
        remaining[b] = indptr[b + 1] - indptr[b]
        if remaining[b] == 0:
            order[tail] = b
            tail += 1
    while head < tail:
        b = order[head]
        head += 1
        for k in range(succ_ptr[b], succ_ptr[b + 1]):
            s = succ_idx[k]
            remaining[s] -= 1
            if remaining[s] == 0:
                order[tail] = s
                tail += 1
    return order[:tail]


def _find_cycle(precedence, stuck: np.ndarray) -> list[int]:
    """Walk predecessors among the stuck nodes until a node repeats."""
    in_stuck = np.zeros(precedence.n_nodes, dtype=bool)
    in_stuck[stuck] = True
    seen: dict[int, int] = {}
    path: list[int] = []
    node = int(stuck[0])
    while node not in seen:
        seen[node] = len(path)
        path.append(node)
        node = next(int(p) for p in precedence.predecessors(node) if in_stuck[p])
    cycle = path[seen[node]:]
    return cycle[::-1] + [cycle[-1]]


def topological_order(precedence) -> np.ndarray:
    """Nodes in an order where every predecessor comes before the node.

    Raises `InputError` naming one cycle (``a -> b -> ... -> a``, each arrow
    from a predecessor to the node that needs it) when there is one.

    >>> from solvers.problem import Precedence
    >>> topological_order(Precedence.from_arcs(3, [0, 1], [1, 2])).tolist()
    [2, 1, 0]
    """
    succ = precedence.successors()
    order = _kahn(precedence.indptr, precedence.indices, succ.indptr, succ.indices)
    if order.size < precedence.n_nodes:
        placed = np.zeros(precedence.n_nodes, dtype=bool)
        placed[order] = True
        cycle = _find_cycle(precedence, np.flatnonzero(~placed))
        raise InputError("precedence has a cycle: " + " -> ".join(map(str, cycle)), field="precedence")
    return order
