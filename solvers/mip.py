"""Exact MIP of CPIT and PCPSP: the "mined by period t" model, in Pyomo and as matrices.

Variables (b block, d destination, t period 0..T-1):

    w[b, t] in {0, 1}   block b is mined by the end of period t (cumulative)
    y[b, d, t] >= 0     share of block b sent to destination d in period t

Constraints:

    mined_once   w[b, t-1] <= w[b, t]                     (once mined, stays mined)
    precedence   w[b, t]   <= w[p, t]                     (p a predecessor of b)
    split        sum_d y[b, d, t] = w[b, t] - w[b, t-1]   (w[b, -1] = 0)
    resource     lower[r, t] <= sum_{b, d} q[b, d, r] y[b, d, t] <= upper[r, t]
    side         lower[j] <= sum A[j, (b, d, t)] y[b, d, t] <= upper[j]   (PCPSP)

Objective: maximize sum P[b, d] y[b, d, t] / (1 + rate) ** t.

`build_pyomo` writes this model in Pyomo (the one to read and extend; solve it with
`solvers.highs.solve_pyomo`).  `build_matrices` writes the identical model straight as a
`solvers.highs.LinearModel` (same columns, same rows; proven equal by ``tests/test_mip.py``) for
large instances.  Column order: ``w`` at ``b * T + t``, then ``y`` at ``n_w + (b * D + d) * T + t``.
"""
from __future__ import annotations

import math

import numpy as np

from .highs import LinearModel
from .problem import PcpspProblem, Schedule

INF = math.inf


# ----------------------------------------------------------------------------- Pyomo model

def build_pyomo(problem: PcpspProblem, relax: bool = False):
    """The Pyomo model of ``problem`` (CPIT or PCPSP); relax: continuous w in [0, 1] (the LP relaxation)."""
    import pyomo.environ as pyo

    n, T, D, R = problem.n_blocks, problem.n_periods, problem.n_destinations, problem.n_resources
    disc = problem.discount_factors()
    nodes, preds = problem.precedence.arcs()
    m = pyo.ConcreteModel(name=problem.name or problem.kind)
    m.B = pyo.RangeSet(0, n - 1)
    m.T = pyo.RangeSet(0, T - 1)
    m.D = pyo.RangeSet(0, D - 1)
    m.arcs = pyo.Set(initialize=list(zip(nodes.tolist(), preds.tolist())), dimen=2, ordered=True)
    m.w = pyo.Var(m.B, m.T, domain=pyo.UnitInterval if relax else pyo.Binary)
    m.y = pyo.Var(m.B, m.D, m.T, domain=pyo.NonNegativeReals)

    @m.Constraint(m.B, m.T)
    def mined_once(m, b, t):
        return m.w[b, t - 1] <= m.w[b, t] if t > 0 else pyo.Constraint.Skip

    @m.Constraint(m.arcs, m.T)
    def precedence(m, b, p, t):
        return m.w[b, t] <= m.w[p, t]

    @m.Constraint(m.B, m.T)
    def split(m, b, t):
        mined_now = m.w[b, t] - m.w[b, t - 1] if t > 0 else m.w[b, t]
        return sum(m.y[b, d, t] for d in m.D) == mined_now

    coef = problem.resource_coef
    lower, upper = problem.resource_lower, problem.resource_upper
    users = [np.argwhere(coef[:, :, r] != 0) for r in range(R)]   # (block, destination) pairs

    m.R = pyo.RangeSet(0, R - 1) if R else pyo.Set(initialize=[])

    @m.Constraint(m.R, m.T)
    def resource(m, r, t):
        lo, hi = lower[r, t], upper[r, t]
        if not (math.isfinite(lo) or math.isfinite(hi)):
            return pyo.Constraint.Skip
        used = sum(float(coef[b, d, r]) * m.y[int(b), int(d), t] for b, d in users[r])
        return (lo if math.isfinite(lo) else None, used, hi if math.isfinite(hi) else None)

    side = problem.side
    m.J = pyo.RangeSet(0, side.n_rows - 1) if side.n_rows else pyo.Set(initialize=[])
    order = np.argsort(side.row, kind="stable")
    starts = np.searchsorted(side.row[order], np.arange(side.n_rows + 1))

    @m.Constraint(m.J)
    def side_constraint(m, j):
        k = order[starts[j]:starts[j + 1]]
        expr = sum(float(side.coef[i]) * m.y[int(side.block[i]), int(side.destination[i]), int(side.period[i])]
                   for i in k)
        lo, hi = side.lower[j], side.upper[j]
        return (lo if math.isfinite(lo) else None, expr, hi if math.isfinite(hi) else None)

    values = problem.values
    m.profit = pyo.Objective(
        expr=sum(float(values[b, d] * disc[t]) * m.y[b, d, t]
                 for b in range(n) for d in range(D) for t in range(T) if values[b, d] != 0),
        sense=pyo.maximize)

    return m


def schedule_from_pyomo(model, problem: PcpspProblem) -> Schedule:
    """The schedule held in a solved Pyomo model's y variables."""
    n, T, D = problem.n_blocks, problem.n_periods, problem.n_destinations
    y = np.zeros((n, D, T))
    for (b, d, t), var in model.y.items():
        y[b, d, t] = var.value or 0.0
    return schedule_from_fractions(y)


def schedule_from_fractions(y: np.ndarray, tol: float = 1e-9) -> Schedule:
    """Schedule rows for y[b, d, t] > tol (tiny negatives and noise dropped)."""
    b, d, t = np.nonzero(y > tol)
    return Schedule(b, d, t, y[b, d, t])


# ----------------------------------------------------------------------------- matrix path

def build_matrices(problem: PcpspProblem) -> LinearModel:
    """The model of `build_pyomo` as a `solvers.highs.LinearModel` (same columns and rows), built
    with numpy.  Column groups ``w`` (shape (blocks, periods)) and ``y`` (blocks, destinations,
    periods); row families mined_once, precedence, split, resource, side.  Solve it with
    ``.solve(...)`` (``relax=True`` for the LP relaxation); `fractions` reads y from the solution."""
    n, T, D = problem.n_blocks, problem.n_periods, problem.n_destinations
    lm = LinearModel()
    w = lm.add_vars("w", (n, T), upper=1.0, integer=True)
    y = lm.add_vars("y", (n, D, T), upper=INF)
    lm.add_objective(y, problem.values[:, :, None] * problem.discount_factors()[None, None, :])
    lm.add_at_most(w[:, :-1], w[:, 1:], "mined_once")
    nodes, preds = problem.precedence.arcs()
    lm.add_at_most(w[nodes], w[preds], "precedence")
    # split: sum_d y[b, d, t] - w[b, t] + w[b, t-1] = 0, row b * T + t
    row = np.arange(n * T).reshape(n, T)
    lm.add_rows(np.r_[np.broadcast_to(row[:, None, :], y.shape).ravel(), row.ravel(), row[:, 1:].ravel()],
                np.r_[y.ravel(), w.ravel(), w[:, :-1].ravel()],
                np.r_[np.ones(y.size), -np.ones(w.size), np.ones(n * (T - 1))], 0.0, 0.0, "split")
    lm.add_rows(*problem.resource_rows(y), family="resource")
    side = problem.side
    lm.add_rows(side.row, y[side.block, side.destination, side.period], side.coef, side.lower, side.upper,
                family="side")
    return lm


def fractions(lm: LinearModel, x: np.ndarray) -> np.ndarray:
    """y[b, d, t] from a column vector of a `build_matrices` model (tiny negatives clipped)."""
    return np.clip(x[lm.groups["y"]], 0.0, None)
