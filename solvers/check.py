"""Independent checking of solutions: objective exactly as MineLib defines it, and every violation.

This module shares no code with the solvers it checks: it recomputes
everything from the problem data and the solution rows.

Both checks return a `solvers.result.Result`: status 'feasible' (no violation) or 'infeasible';
objective = the solution's value; bound = +inf (a check proves no bound); solution = the
violation messages (the first `MAX_LISTED`, empty when feasible); ``info["n_violations"]`` =
how many violations in all.
"""
from __future__ import annotations

import math
import time

import numba
import numpy as np

from .errors import InputError
from .problem import PcpspProblem, Schedule, UpitProblem
from .result import FEASIBLE, INFEASIBLE, Result

MAX_LISTED = 50


class _Violations:
    def __init__(self):
        self.messages: list[str] = []
        self.count = 0
        self.start = time.perf_counter()

    def add(self, message: str, count: int = 1):
        self.count += count
        if len(self.messages) < MAX_LISTED:
            self.messages.append(message)

    def report(self, objective: float) -> Result:
        return Result(INFEASIBLE if self.count else FEASIBLE, objective, math.inf, time.perf_counter() - self.start,
                      self.messages, "check", {"n_violations": self.count})


@numba.njit(cache=True)
def _late_arcs(indptr, indices, when, limit):
    """Arcs whose predecessor comes after its node (``when[p] > when[b]``), read from the CSR arrays
    without one temporary per arc: (how many, the first ``limit`` as (node, predecessor) rows in arc order)."""
    first = np.empty((limit, 2), np.int64)
    count = 0
    for b in range(indptr.size - 1):
        for k in range(indptr[b], indptr[b + 1]):
            p = indices[k]
            if when[p] > when[b]:
                if count < limit:
                    first[count, 0] = b
                    first[count, 1] = p
                count += 1
    return count, first[:min(count, limit)]


def slack(limit, tol: float):
    """How far past ``limit`` (a number or an array) the checker still accepts: ``tol`` of it, at least
    ``tol`` (inf where the limit is)."""
    return tol * np.maximum(1.0, np.abs(limit))


def check_pit(problem: UpitProblem, pit) -> Result:
    """Check a pit (block ids or boolean mask): objective = sum of its block values; violations =
    arcs whose block is in the pit but whose predecessor is not.

    >>> from solvers.problem import Precedence, UpitProblem
    >>> prob = UpitProblem([-1.0, 3.0], Precedence.from_arcs(2, [1], [0]))
    >>> r = check_pit(prob, [1]); (r.status, r.objective, r.info["n_violations"])
    ('infeasible', 3.0, 1)
    """
    n = problem.n_blocks
    pit = np.asarray(pit)
    if pit.dtype == bool:
        if pit.size != n:
            raise InputError(f"pit mask has {pit.size} entries for {n} blocks")
        mask = pit
    else:
        pit = pit.astype(np.int64)
        if pit.size and (pit.min() < 0 or pit.max() >= n):
            raise InputError(f"pit lists block {int(pit[(pit < 0) | (pit >= n)][0])} out of range (NBLOCKS {n})")
        mask = np.zeros(n, dtype=bool)
        mask[pit] = True
    found = _Violations()
    prec = problem.precedence
    count, late = _late_arcs(prec.indptr, prec.indices, (~mask).view(np.uint8), MAX_LISTED)   # outside: later
    for b, p in late.tolist():
        found.add(f"precedence: block {b} in pit but its predecessor {p} is not")
    found.count = int(count)
    return found.report(math.fsum(problem.values[mask].tolist()))


# Published MineLib solutions carry solver round-off in their fractions (kd PCPSP block 1651 is
# 0.999984 mined): fractions within 1e-4 of 0 or 1 count as integral.
FRACTION_TOL = 1e-4


def check_schedule(problem: PcpspProblem, schedule: Schedule, tol: float = 1e-6,
                   fraction_tol: float = FRACTION_TOL) -> Result:
    """Check a CPIT/PCPSP schedule against every constraint of the MineLib model.

    Objective: sum over rows (b, d, t, f) of values[b, d] * f / (1 + rate) ** t.
    Violations: rows out of range; a block's mined fraction in a period not 0 or 1
    (x integral); a block mined more than once; cumulative precedence
    (sum_{s<=t} x[b, s] <= sum_{s<=t} x[p, s]); resource limits per period;
    general side constraints.  ``tol`` is relative to each limit; ``fraction_tol`` is
    the absolute tolerance on fractions (0, 1 and sums of fractions).
    """
    n, n_dest, n_per = problem.n_blocks, problem.n_destinations, problem.n_periods
    s = schedule
    found = _Violations()
    for name, arr, hi in (("block", s.block, n), ("destination", s.destination, n_dest), ("period", s.period, n_per)):
        bad = np.flatnonzero((arr < 0) | (arr >= hi))
        if bad.size:
            raise InputError(f"solution row {bad[0] + 1}: {name} {arr[bad[0]]} out of range (0..{hi - 1})",
                             field=name)
    ftol = fraction_tol
    if np.any(s.fraction < -ftol) or np.any(s.fraction > 1 + ftol) or not np.isfinite(s.fraction).all():
        r = int(np.flatnonzero(~((s.fraction >= -ftol) & (s.fraction <= 1 + ftol)))[0])
        found.add(f"row {r + 1}: fraction {s.fraction[r]} outside [0, 1]")

    # x[b, t] = sum_d y[b, d, t], aggregated by (block, period)
    key = s.block * n_per + s.period
    uniq, inv = np.unique(key, return_inverse=True)
    x = np.bincount(inv, weights=s.fraction, minlength=uniq.size)
    xb, xt = uniq // n_per, uniq % n_per
    nonzero = x > ftol
    frac_bad = np.flatnonzero(nonzero & (np.abs(x - 1.0) > ftol))
    for i in frac_bad[:MAX_LISTED]:
        found.add(f"block {xb[i]} period {xt[i]}: mined fraction {x[i]:.6g} (must be 0 or 1)")
    found.count += max(0, frac_bad.size - MAX_LISTED)
    total = np.bincount(xb, weights=x, minlength=n)
    over = np.flatnonzero(total > 1 + ftol)
    for b in over[:MAX_LISTED]:
        found.add(f"block {b}: mined {total[b]:.6g} times in all (at most once)")
    found.count += max(0, over.size - MAX_LISTED)

    # cumulative precedence, on the mined period when integral, on cumulative fractions otherwise
    if frac_bad.size == 0 and over.size == 0:
        period = np.full(n, n_per, dtype=np.int64)  # n_per = never mined
        np.minimum.at(period, xb[nonzero], xt[nonzero])
        prec = problem.precedence
        count, late = _late_arcs(prec.indptr, prec.indices, period, MAX_LISTED)
        for b, p in late.tolist():
            when = "never" if period[p] == n_per else f"in period {period[p]}"
            found.add(f"precedence: block {b} mined in period {period[b]} but its predecessor {p} {when}")
        found.count += max(0, count - MAX_LISTED)
    else:
        nodes, preds = problem.precedence.arcs()
        cum = np.zeros((n, n_per))
        np.add.at(cum, (xb, xt), x)
        np.cumsum(cum, axis=1, out=cum)
        gap = cum[nodes] - cum[preds]
        bad_arc, bad_t = np.nonzero(gap > ftol)
        for a, t in list(zip(bad_arc, bad_t))[:MAX_LISTED]:
            found.add(f"precedence: by period {t} block {nodes[a]} is {cum[nodes[a], t]:.6g} mined but its "
                      f"predecessor {preds[a]} only {cum[preds[a], t]:.6g}")
        found.count += max(0, bad_arc.size - MAX_LISTED)

    # resources per period
    if problem.n_resources:
        use = np.zeros((problem.n_resources, n_per))
        for r in range(problem.n_resources):
            use[r] = np.bincount(s.period, weights=problem.resource_coef[s.block, s.destination, r] * s.fraction,
                                 minlength=n_per)
        lo, hi = problem.resource_lower, problem.resource_upper
        for r, t in zip(*np.nonzero(use > hi + slack(hi, tol))):
            found.add(f"resource {r} period {t}: uses {use[r, t]:.10g}, above the limit {hi[r, t]:.10g} "
                      f"by {use[r, t] - hi[r, t]:.6g}")
        for r, t in zip(*np.nonzero(use < lo - slack(lo, tol))):
            found.add(f"resource {r} period {t}: uses {use[r, t]:.10g}, below the limit {lo[r, t]:.10g} "
                      f"by {lo[r, t] - use[r, t]:.6g}")

    # general side constraints: A y
    side = problem.side
    if side.n_rows:
        ykey = (s.block * n_dest + s.destination) * n_per + s.period
        order = np.argsort(ykey)
        ykey_sorted, yval = ykey[order], s.fraction[order]
        akey = (side.block * n_dest + side.destination) * n_per + side.period
        pos = np.clip(np.searchsorted(ykey_sorted, akey), 0, max(ykey_sorted.size - 1, 0))
        hit = (ykey_sorted.size > 0) & (ykey_sorted[pos] == akey) if ykey_sorted.size else np.zeros(akey.size, bool)
        contrib = np.where(hit, side.coef * (yval[pos] if yval.size else 0.0), 0.0)
        lhs = np.bincount(side.row, weights=contrib, minlength=side.n_rows)
        for j in range(side.n_rows):
            if lhs[j] > side.upper[j] + slack(side.upper[j], tol):
                found.add(f"side constraint {j}: {lhs[j]:.10g} above its limit {side.upper[j]:.10g}")
            if lhs[j] < side.lower[j] - slack(side.lower[j], tol):
                found.add(f"side constraint {j}: {lhs[j]:.10g} below its limit {side.lower[j]:.10g}")

    disc = problem.discount_factors()
    objective = math.fsum((problem.values[s.block, s.destination] * s.fraction * disc[s.period]).tolist())
    return found.report(objective)


def capacity_conflicts(problem: PcpspProblem) -> list[tuple[int, int, str]]:
    """Resource limits no schedule can meet, whatever it mines: a lower limit above what mining
    every block to its most demanding destination would use, or an upper limit below what mining
    nothing would use (zero).  One ``(resource, period, message)`` each; the message names the
    resource, the period and the shortfall."""
    out = []
    coef = problem.resource_coef
    most = np.maximum(coef, 0.0).max(axis=1).sum(axis=0)        # per resource: everything, greediest
    least = np.minimum(coef, 0.0).min(axis=1).sum(axis=0)       # per resource: the most negative use
    for r in range(problem.n_resources):
        for t in range(problem.n_periods):
            lo, hi = problem.resource_lower[r, t], problem.resource_upper[r, t]
            if lo > most[r] + slack(lo, 1e-9):
                out.append((r, t, f"resource {r} period {t}: needs at least {lo:.10g} but mining every block uses "
                                  f"at most {most[r]:.10g} (short by {lo - most[r]:.6g})"))
            if hi < min(0.0, least[r]) - slack(hi, 1e-9):
                out.append((r, t, f"resource {r} period {t}: limit {hi:.10g} is below the least possible use "
                                  f"{min(0.0, least[r]):.10g} (by {min(0.0, least[r]) - hi:.6g})"))
    return out
