"""Earliest periods: the first period by which each block *can* be mined under the resource limits.

A block is mined by the end of period t only together with its whole predecessor cone (itself
and every predecessor, transitively).  Each block of the cone uses at least its smallest resource
coefficient over the destinations, and the periods 0..t allow at most the sum of their upper
limits.  So when, for some resource, the cone's least use exceeds that sum, no schedule mines the
block by period t: it cannot be mined before its *earliest period*

    earliest[b] = the first t with  sum over the cone of min_d coef[x, d, r]  <=  sum_{s<=t} upper[r, s]
                  for every resource r  (n_periods: never within the horizon).

This is the earliest-start reduction of the open-pit scheduling literature (e.g. Gaupp 2008;
Lambert, Brickey, Newman & Eurek 2014).  Fixing "mined by t" to 0 for t < earliest[b] removes no
schedule, so the LP with those fixings (`solvers.bz.solve_lp`'s ``earliest``) is still an upper
bound on every schedule, and a tighter one where the limits bind early: on zuck_small CPIT
851,568,738 against the plain LP's 854,190,248.

Only resources whose coefficients are all non-negative count (a negative use elsewhere could make
room).  A cone larger than ``max_visits`` blocks is counted only as far as it was explored, which
gives a smaller earliest period: weaker, never wrong.  Earliest periods never fall along an arc (a
block's cone holds its predecessors' cones).

>>> import numpy as np
>>> from solvers.problem import CpitProblem, Precedence
>>> prec = Precedence.from_arcs(3, [2, 2], [0, 1])        # block 2 needs 0 and 1
>>> p = CpitProblem(np.ones(3), prec, 3, 0.1, np.ones((3, 1)), -np.inf, 2.0)
>>> earliest_periods(p).tolist()                          # 2 a period: block 2's cone of 3 by period 1
[0, 0, 1]
"""
from __future__ import annotations

import numba
import numpy as np

from .frontier import cone_blocks
from .problem import PcpspProblem

# Most blocks of a cone explored (per block); beyond it the earliest period is taken from the part
# explored, which bounds the work on very large models (it grows as blocks x cone size).
MAX_VISITS = 200_000


@numba.njit(cache=True)
def _earliest(order, ptr, idx, use, cum_upper, max_visits, out):
    """For each block, in ``order`` (predecessors first): the first period t whose cumulative limits
    ``cum_upper[:, t]`` hold the least use ``use`` of its predecessor cone (``ptr``/``idx``:
    predecessor lists; at most ``max_visits`` blocks of it, `solvers.frontier.cone_blocks`), at
    least its predecessors' periods; written to ``out``."""
    n = ptr.size - 1
    n_res, n_per = cum_upper.shape
    anywhere = np.zeros(n, np.int64)            # the cone is not limited to one period here
    mark = np.zeros(n, np.int64)
    cone = np.empty(max(1, min(n, max_visits)), np.int64)
    total = np.empty(n_res)
    for i in range(order.size):
        b = order[i]
        size = cone_blocks(b, anywhere, 0, ptr, idx, mark, i + 1, cone, cone.size)
        if size < 0:                            # cut at max_visits: the part explored
            size = cone.size
        total[:] = 0.0
        for j in range(size):
            for r in range(n_res):
                total[r] += use[cone[j], r]
        t = 0
        while t < n_per:
            fits = True
            for r in range(n_res):
                if total[r] > cum_upper[r, t] * (1.0 + 1e-12) + 1e-9:
                    fits = False
                    break
            if fits:
                break
            t += 1
        for k in range(ptr[b], ptr[b + 1]):
            t = max(t, out[idx[k]])
        out[b] = t


def earliest_periods(problem: PcpspProblem, max_visits: int = MAX_VISITS) -> np.ndarray:
    """Each block's earliest period (int64, 0..n_periods; n_periods: it cannot be mined within the
    horizon), from the resources with non-negative coefficients and finite upper limits."""
    coef = problem.resource_coef
    usable = np.array([bool(np.all(coef[:, :, r] >= 0)) for r in range(problem.n_resources)], dtype=bool)
    out = np.zeros(problem.n_blocks, dtype=np.int64)
    if not usable.any() or problem.n_blocks == 0:
        return out
    use = np.ascontiguousarray(coef[:, :, usable].min(axis=1))
    upper = problem.resource_upper[usable]
    cum_upper = np.ascontiguousarray(np.cumsum(np.where(np.isfinite(upper), upper, np.inf), axis=1))
    prec = problem.precedence
    _earliest(prec.topological_order().astype(np.int64), prec.indptr, prec.indices, use, cum_upper,
              int(max_visits), out)
    return out
