"""LP relaxation of CPIT / PCPSP at scale: the Bienstock-Zuckerberg (BZ) algorithm.

The LP is written in "chain" variables: per block the (period, destination) pairs
are ordered (0,0), (0,1), .., (0,D-1), (1,0), .. and z[b, t, d] is the share of
block b mined up to and including pair (t, d).  Then y[b, d, t] = z[b, t, d] minus
the previous z in the chain, every constraint of the model is either a closure arc
(z[k] <= z[k+1] along the chain, z[b, t, D-1] <= z[p, t, D-1] for predecessors p)
or a side row (resources, general side constraints).  This is the same LP as the
relaxation of `solvers.mip` (a bijection of the feasible sets).

BZ alternates
  * the master LP: z constant on each part of a partition of the nodes (one
    variable per part, side rows, closure arcs between parts), solved by highspy;
  * the pricing problem: with the master's side-row duals mu, a maximum closure on
    the time-expanded graph with node values c - A^T mu (`solvers.closure`).
Each pricing gives the Lagrangian upper bound mu . rhs + closure value, valid for
any mu of the right sign; the master gives a feasible LP solution (lower bound).
The partition is refined by the level sets of the master solution intersected with
the new closure, until the two meet.
"""
from __future__ import annotations

import math
import time

import numpy as np
import scipy.sparse as sp

from .closure import PseudoflowSolver
from .deadline import Deadline
from .errors import InfeasibleError
from .highs import LinearModel
from .problem import PcpspProblem, Precedence
from .result import FEASIBLE, OPTIMAL, TIME_LIMIT, Result


class ChainLP:
    """The LP in chain variables: objective cz, side rows Az (lower <= Az z <= upper), closure graph;
    ``fixed`` (bool per node, or None): the nodes held at 0, those of periods before a block's
    earliest period (`solvers.earliest`)."""

    def __init__(self, problem: PcpspProblem, earliest: np.ndarray | None = None):
        n, T, D = problem.n_blocks, problem.n_periods, problem.n_destinations
        self.problem = problem
        self.n, self.T, self.D = n, T, D
        self.size = n * T * D
        disc = problem.discount_factors()
        # node id of (b, t, d) = b*T*D + t*D + d ; y-space coefficient per node
        cy = (problem.values[:, None, :] * disc[None, :, None]).ravel()          # (b, t, d)
        node = np.arange(self.size).reshape(n, T, D).transpose(0, 2, 1)           # node of y[b, d, t]
        rows, cols, vals, lower, upper = problem.resource_rows(node)
        side = problem.side
        nrow = lower.size + side.n_rows
        Ay = sp.csr_matrix((np.r_[vals, side.coef],
                            (np.r_[rows, side.row + lower.size], np.r_[cols, node[side.block, side.destination,
                                                                                   side.period]])),
                           shape=(nrow, self.size))
        # y = M z with M[k, k] = 1, M[k, k-1] = -1 inside a block's chain
        k = np.arange(self.size)
        inner = (k % (T * D)) != 0
        M = sp.csr_matrix((np.r_[np.ones(self.size), -np.ones(int(inner.sum()))],
                           (np.r_[k, k[inner]], np.r_[k, k[inner] - 1])), shape=(self.size, self.size))
        self.M = M
        self.Az = (Ay @ M).tocsc()
        self.AzT = self.Az.T.tocsr()
        self.cz = M.T @ cy
        self.lower = np.r_[lower, side.lower]
        self.upper = np.r_[upper, side.upper]
        # closure arcs: node -> node it needs (its "predecessor" in closure terms)
        chain_from = k[(k % (T * D)) != T * D - 1]
        nodes, preds = problem.precedence.arcs()
        t = np.arange(T)
        pf = (nodes[:, None] * T * D + t[None, :] * D + D - 1).ravel()
        pt = (preds[:, None] * T * D + t[None, :] * D + D - 1).ravel()
        self.arc_from = np.r_[chain_from, pf]
        self.arc_to = np.r_[chain_from + 1, pt]
        self.graph = Precedence.from_arcs(self.size, self.arc_from, self.arc_to)
        self.fixed = None
        if earliest is not None and np.any(np.asarray(earliest) > 0):
            early = t[None, :] < np.asarray(earliest, dtype=np.int64)[:, None]             # (b, t)
            self.fixed = np.repeat(early[:, :, None], D, axis=2).ravel()

    def closure_values(self, values: np.ndarray) -> np.ndarray:
        """Node values for the closure, the fixed nodes priced out: each below minus the sum of every
        positive value, so no maximum closure holds one (and with it every node that needs it)."""
        if self.fixed is None:
            return values
        values = values.copy()
        values[self.fixed] = -(1.0 + np.maximum(values[~self.fixed], 0.0).sum())
        return values

    def split_fixed(self, part: np.ndarray) -> np.ndarray:
        """The partition refined so that no part mixes fixed and free nodes."""
        return part if self.fixed is None else part * 2 + self.fixed

    def fractions(self, z: np.ndarray) -> np.ndarray:
        """y[b, d, t] from chain values z."""
        y = (self.M @ z).reshape(self.n, self.T, self.D)
        return np.clip(y, 0.0, None).transpose(0, 2, 1).copy()

    def lagrangian_rhs(self, mu: np.ndarray) -> tuple[np.ndarray, float]:
        """Clip mu to the signs allowed by finite limits and return (mu, mu . rhs)."""
        mu = np.where((mu > 0) & ~np.isfinite(self.upper), 0.0, mu)
        mu = np.where((mu < 0) & ~np.isfinite(self.lower), 0.0, mu)
        rhs = np.where(mu > 0, self.upper, np.where(mu < 0, self.lower, 0.0))
        return mu, float(mu @ np.where(mu != 0, rhs, 0.0))


def _solve_master(lp: ChainLP, part: np.ndarray, n_parts: int, threads: int | None):
    """Master LP over the partition (a part of fixed nodes held at 0); returns (value, lambda,
    side-row duals)."""
    P = sp.csr_matrix((np.ones(lp.size), (np.arange(lp.size), part)), shape=(lp.size, n_parts))
    master = LinearModel()
    lam = master.add_vars("part", n_parts)
    if lp.fixed is not None:
        master.fix(lam[np.unique(part[lp.fixed])], 0.0)
    master.add_objective(lam, P.T @ lp.cz)
    side = (P.T @ lp.AzT).T.tocoo()
    master.add_rows(side.row, side.col, side.data, lp.lower, lp.upper, "side")
    pi, pj = part[lp.arc_from], part[lp.arc_to]
    cross = pi != pj
    ai, aj = np.divmod(np.unique(pi[cross] * n_parts + pj[cross]), n_parts)
    master.add_at_most(ai, aj, "arc")
    res = master.solve(threads=threads)
    if res.status != OPTIMAL:
        raise InfeasibleError(f"BZ master LP not solved ({res.info['message']}); the resource limits may "
                              "admit no schedule (e.g. a lower limit in period 0)")
    return res.objective, np.clip(res.solution, 0.0, 1.0), res.info["row_dual"][:lp.lower.size]


def solve_lp(problem: PcpspProblem, time_limit: float = 600.0, tol: float = 1e-7, max_iter: int = 500,
             threads: int | None = None, progress=None, earliest: np.ndarray | None = None) -> Result:
    """LP relaxation of CPIT / PCPSP by Bienstock-Zuckerberg.

    earliest: each block's earliest period (`solvers.earliest.earliest_periods`); the LP then holds
    every block unmined before it.  No schedule is lost, so the bound stays valid for every
    schedule, and it is tighter where the resource limits bind early (None: the plain LP).

    Returns a `Result`: solution = LP fractions y[b, d, t] of the best master solution (its
    value is ``objective``); bound = best Lagrangian upper bound on the LP optimum; status
    'optimal' when (bound - objective) / max(|objective|, 1) <= tol, 'time_limit' when stopped by
    ``time_limit`` (s), 'feasible' after ``max_iter`` iterations.  info: ``mu`` (side-row
    multipliers of the best bound), ``iterations``, ``history`` (per iteration: iteration, master
    value, bound, parts, seconds).  progress(f"lp {iteration}", objective, bound) per iteration.
    """
    t0 = time.perf_counter()
    deadline = Deadline(time_limit)
    lp = ChainLP(problem, earliest)
    solver = PseudoflowSolver(lp.graph)
    nrow = lp.Az.shape[0]
    best_bound, best_mu = math.inf, np.zeros(nrow)
    history = []
    # initial partition from the closure without side rows
    res = solver.solve(lp.closure_values(lp.cz.copy()))
    part = lp.split_fixed(res.solution.astype(np.int64))
    objective, status = -math.inf, FEASIBLE
    best_lam_part = None
    if nrow == 0:
        best_bound = res.objective
    it = 0
    for it in range(1, max_iter + 1):
        part_ids, part = np.unique(part, return_inverse=True)
        n_parts = part_ids.size
        value, lam, duals = _solve_master(lp, part, n_parts, threads)
        if value >= objective:
            objective, best_lam_part = value, (lam.copy(), part.copy())
        mu, rhs_value = lp.lagrangian_rhs(duals)
        res = solver.solve(lp.closure_values(lp.cz - lp.Az.T @ mu))
        bound = rhs_value + res.objective
        if bound < best_bound:
            best_bound, best_mu = bound, mu
        history.append((it, value, bound, n_parts, time.perf_counter() - t0))
        if progress is not None:
            progress(f"lp {it}", float(objective), float(best_bound))
        if best_bound - objective <= tol * max(1.0, abs(objective)):
            status = OPTIMAL
            break
        if deadline.expired():
            status = TIME_LIMIT
            break
        # refine: level sets of the master solution x closure membership
        level = np.unique(np.round(lam, 10), return_inverse=True)[1][part]
        part = lp.split_fixed(level * 2 + res.solution.astype(np.int64))
    lam, part = best_lam_part
    return Result(status, objective, best_bound, time.perf_counter() - t0, lp.fractions(lam[part]),
                  "bienstock-zuckerberg", {"mu": best_mu, "iterations": it, "history": history})
