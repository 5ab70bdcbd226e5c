"""Small random CPIT / PCPSP instances and a brute-force optimum, for the scheduling tests."""
from __future__ import annotations

import itertools

import numpy as np
from scipy.optimize import linprog

from solvers.problem import CpitProblem, PcpspProblem, Precedence


def random_problem(seed: int, n: int = 5, T: int = 2, D: int = 1, R: int = 1, rate: float = 0.1):
    """A random instance: arcs only from higher to lower block ids (acyclic), L limits that bind."""
    rng = np.random.default_rng(seed)
    nodes, preds = [], []
    for b in range(1, n):
        for p in rng.choice(b, size=min(b, rng.integers(0, 3)), replace=False):
            nodes.append(b)
            preds.append(int(p))
    prec = Precedence.from_arcs(n, nodes, preds)
    values = rng.normal(0.0, 10.0, size=(n, D)).round(2)
    coef = rng.uniform(1.0, 5.0, size=(n, D, R)).round(2)
    upper = np.full((R, T), coef.sum(axis=(0, 1)).max() / D * rng.uniform(0.25, 0.6))
    lower = np.full((R, T), -np.inf)
    if D == 1:
        return CpitProblem(values[:, 0], prec, T, rate, coef[:, 0, :], lower, upper, name=f"rand{seed}")
    return PcpspProblem(values, prec, T, rate, coef, lower, upper, name=f"rand{seed}")


def precedence_feasible_periods(precedence, n_periods: int):
    """Every assignment of a period (-1: not mined) to each node of ``precedence`` that keeps it: a
    mined node has each predecessor mined no later.  Nothing else (resource limits) is looked at."""
    nodes, preds = precedence.arcs()
    for periods in itertools.product(range(-1, n_periods), repeat=precedence.n_nodes):
        p = np.array(periods)
        mined = p >= 0
        if not np.any(mined[nodes] & (~mined[preds] | (p[preds] > p[nodes]))):
            yield p


def brute_force(problem: PcpspProblem) -> float:
    """Optimum by enumerating each block's period (or unmined); destinations by a small LP."""
    T, D, R = problem.n_periods, problem.n_destinations, problem.n_resources
    disc = problem.discount_factors()
    best = -np.inf
    for p in precedence_feasible_periods(problem.precedence, T):
        mined = p >= 0
        blocks = np.flatnonzero(mined)
        if blocks.size == 0:
            best = max(best, 0.0)
            continue
        # variables y[k, d] for mined block k; max sum value * disc * y
        nv = blocks.size * D
        c = -(problem.values[blocks] * disc[p[blocks]][:, None]).ravel()
        A_eq = np.zeros((blocks.size, nv))
        for k in range(blocks.size):
            A_eq[k, k * D:(k + 1) * D] = 1.0
        A_ub, b_ub = [], []
        for r in range(R):
            for t in range(T):
                row = np.zeros(nv)
                for k, b in enumerate(blocks):
                    if p[b] == t:
                        row[k * D:(k + 1) * D] = problem.resource_coef[b, :, r]
                if np.isfinite(problem.resource_upper[r, t]):
                    A_ub.append(row)
                    b_ub.append(problem.resource_upper[r, t])
        res = linprog(c, A_ub=np.array(A_ub) if A_ub else None, b_ub=b_ub or None, A_eq=A_eq,
                      b_eq=np.ones(blocks.size), bounds=(0, None), method="highs")
        if res.status == 0:
            best = max(best, -res.fun)
    return best
