"""The correctly rounded sum of the values of a masked set of nodes, in numba (domain-free).

`masked_fsum` ``(values, mask)`` equals ``math.fsum(values[mask])`` bit for bit (both return the
float64 nearest to the exact sum, ties to even) without building the subset or a Python float per
node: about 10 times faster at a million nodes, which matters where a sum is taken after every
step of a parametric sequence (`solvers.parametric`).  The algorithm is Shewchuk's exact partial
sums ("Adaptive precision floating-point arithmetic", Discrete Comput. Geom. 18, 1997), rounded at
the end as CPython's ``math.fsum`` does.  Values must be finite and their partial sums must not
overflow (``solvers.closure.scale_values`` checks sum |values| <= 1e300 for the solvers' values).
"""
from __future__ import annotations

import numba
import numpy as np

#: non-overlapping float64 partials never number more than about 2100 / 53; room for far more
_MAX_PARTIALS = 128


@numba.njit(cache=True)
def _masked_fsum(values, mask):
    partials = np.empty(_MAX_PARTIALS, np.float64)
    n = 0
    for k in range(values.size):
        if not mask[k]:
            continue
        x = values[k]
        i = 0
        for j in range(n):                  # x + partials, kept as exact non-overlapping partials
            y = partials[j]
            if abs(x) < abs(y):
                x, y = y, x
            hi = x + y
            lo = y - (hi - x)
            if lo != 0.0:
                partials[i] = lo
                i += 1
            x = hi
        if x != 0.0:
            partials[i] = x
            i += 1
        n = i
    if n == 0:
        return 0.0
    # the exact sum rounded once (as CPython's math.fsum: half-way cases to even)
    n -= 1
    hi = partials[n]
    lo = 0.0
    while n > 0:
        x = hi
        n -= 1
        y = partials[n]
        hi = x + y
        lo = y - (hi - x)
        if lo != 0.0:
            break
    if n > 0 and ((lo < 0.0 and partials[n - 1] < 0.0) or (lo > 0.0 and partials[n - 1] > 0.0)):
        y = lo * 2.0
        x = hi + y
        if y == x - hi:
            hi = x
    return hi


def masked_fsum(values, mask=None) -> float:
    """``math.fsum(values[mask])`` (values: float64 per node, any unit; mask: bool per node, None: all)."""
    values = np.ascontiguousarray(values, dtype=np.float64)
    mask = np.ones(values.shape, np.bool_) if mask is None else np.ascontiguousarray(mask, dtype=np.bool_)
    if mask.shape != values.shape:
        raise ValueError(f"mask {mask.shape} and values {values.shape} differ in shape")
    return float(_masked_fsum(values, mask))
