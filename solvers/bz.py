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
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .errors import InfeasibleError
from .lp import new_highs, set_threads
from .problem import PcpspProblem, Precedence
from .result import relative_gap
from .closure import PseudoflowSolver


@dataclass
class BZResult:
    """BZ outcome (objective units of the problem, seconds wall-clock).

    objective   value of the best feasible LP solution found (master)
    bound       best Lagrangian upper bound on the LP optimum
    y           LP fractions y[b, d, t] of that solution
    mu          side-row multipliers of the best bound
    iterations, seconds, history (per iteration: master value, bound, parts, seconds)
    """

    objective: float
    bound: float
    y: np.ndarray
    mu: np.ndarray
    iterations: int
    seconds: float
    converged: bool
    history: list = field(default_factory=list)

    @property
    def gap(self) -> float:
        return relative_gap(self.objective, self.bound)


class ChainLP:
    """The LP in chain variables: objective cz, side rows Az (lower <= Az z <= upper), closure graph."""

    def __init__(self, problem: PcpspProblem):
        n, T, D = problem.n_blocks, problem.n_periods, problem.n_destinations
        self.problem = problem
        self.n, self.T, self.D = n, T, D
        self.size = n * T * D
        disc = problem.discount_factors()
        # node id of (b, t, d) = b*T*D + t*D + d ; y-space coefficient per node
        cy = (problem.values[:, None, :] * disc[None, :, None]).ravel()          # (b, t, d)
        rows, cols, vals, lower, upper = [], [], [], [], []
        nrow = 0
        coef = problem.resource_coef
        keep = np.isfinite(problem.resource_lower) | np.isfinite(problem.resource_upper)
        for r in range(problem.n_resources):
            bb, dd = np.nonzero(coef[:, :, r])
            for t in range(T):
                if not keep[r, t]:
                    continue
                rows.append(np.full(bb.size, nrow))
                cols.append(bb * T * D + t * D + dd)
                vals.append(coef[bb, dd, r])
                lower.append(problem.resource_lower[r, t])
                upper.append(problem.resource_upper[r, t])
                nrow += 1
        side = problem.side
        if side.n_rows:
            rows.append(side.row + nrow)
            cols.append(side.block * T * D + side.period * D + side.destination)
            vals.append(side.coef)
            lower.extend(side.lower.tolist())
            upper.extend(side.upper.tolist())
            nrow += side.n_rows
        cat = (lambda parts, dt: np.concatenate(parts) if parts else np.zeros(0, dt))
        Ay = sp.csr_matrix((cat(vals, float), (cat(rows, np.int64), cat(cols, np.int64))),
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
        self.lower = np.asarray(lower, float)
        self.upper = np.asarray(upper, float)
        # closure arcs: node -> node it needs (its "predecessor" in closure terms)
        chain_from = k[(k % (T * D)) != T * D - 1]
        nodes, preds = problem.precedence.arcs()
        t = np.arange(T)
        pf = (nodes[:, None] * T * D + t[None, :] * D + D - 1).ravel()
        pt = (preds[:, None] * T * D + t[None, :] * D + D - 1).ravel()
        self.arc_from = np.r_[chain_from, pf]
        self.arc_to = np.r_[chain_from + 1, pt]
        self.graph = Precedence.from_arcs(self.size, self.arc_from, self.arc_to)

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


def _closure_solver(graph: Precedence):
    return PseudoflowSolver(graph)


def _solve_master(lp: ChainLP, part: np.ndarray, n_parts: int, threads: int | None):
    """Master LP over the partition; returns (value, lambda, row duals)."""
    import highspy

    P = sp.csr_matrix((np.ones(lp.size), (np.arange(lp.size), part)), shape=(lp.size, n_parts))
    c = P.T @ lp.cz
    A_side = (P.T @ lp.AzT).T.tocsr() if lp.Az.shape[0] else sp.csr_matrix((0, n_parts))
    pi, pj = part[lp.arc_from], part[lp.arc_to]
    cross = pi != pj
    key = np.unique(pi[cross] * n_parts + pj[cross])
    ai, aj = np.divmod(key, n_parts)
    m = ai.size
    A_arc = sp.csr_matrix((np.r_[np.ones(m), -np.ones(m)], (np.r_[np.arange(m), np.arange(m)], np.r_[ai, aj])),
                          shape=(m, n_parts))
    A = sp.vstack([A_side, A_arc]).tocsc()
    A.sort_indices()
    inf = highspy.kHighsInf
    lp_ = highspy.HighsLp()
    lp_.num_col_, lp_.num_row_ = n_parts, A.shape[0]
    lp_.col_cost_ = np.asarray(c, float)
    lp_.col_lower_ = np.zeros(n_parts)
    lp_.col_upper_ = np.ones(n_parts)
    lo = np.r_[np.where(np.isfinite(lp.lower), lp.lower, -inf), np.full(m, -inf)]
    hi = np.r_[np.where(np.isfinite(lp.upper), lp.upper, inf), np.zeros(m)]
    lp_.row_lower_, lp_.row_upper_ = lo, hi
    lp_.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp_.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp_.a_matrix_.index_ = A.indices.astype(np.int32)
    lp_.a_matrix_.value_ = A.data.astype(float)
    lp_.a_matrix_.num_col_, lp_.a_matrix_.num_row_ = n_parts, A.shape[0]
    lp_.sense_ = highspy.ObjSense.kMaximize
    h = new_highs()
    set_threads(h, threads)
    h.passModel(lp_)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise InfeasibleError(f"BZ master LP not solved ({h.modelStatusToString(h.getModelStatus())}); "
                              "the resource limits may admit no schedule (e.g. a lower limit in period 0)")
    sol = h.getSolution()
    lam = np.clip(np.asarray(sol.col_value), 0.0, 1.0)
    duals = np.asarray(sol.row_dual)[:lp.Az.shape[0]]
    return float(h.getInfo().objective_function_value), lam, duals


def solve_lp(problem: PcpspProblem, time_limit: float = 600.0, tol: float = 1e-7, max_iter: int = 500,
             threads: int | None = None, progress=None, closure=None) -> BZResult:
    """LP relaxation of CPIT / PCPSP by Bienstock-Zuckerberg.

    tol: stop when (bound - objective) / |objective| <= tol; time_limit in seconds.
    progress(iteration, objective, bound) is called per iteration.  closure: optional
    factory graph -> solver with ``solve(values)`` (default `solvers.closure.PseudoflowSolver`).
    """
    t0 = time.perf_counter()
    lp = ChainLP(problem)
    solver = (closure or _closure_solver)(lp.graph)
    nrow = lp.Az.shape[0]
    mu = np.zeros(nrow)
    best_bound, best_mu = math.inf, mu
    history = []
    # initial partition from the closure without side rows
    res = solver.solve(lp.cz.copy())
    part = res.pit.astype(np.int64)
    objective, lam, converged = -math.inf, None, False
    best_lam_part = None
    bound0 = float(res.objective)
    if nrow == 0:
        best_bound = bound0
    it = 0
    for it in range(1, max_iter + 1):
        part_ids, part = np.unique(part, return_inverse=True)
        n_parts = part_ids.size
        value, lam, duals = _solve_master(lp, part, n_parts, threads)
        if value >= objective:
            objective, best_lam_part = value, (lam.copy(), part.copy())
        mu, rhs_value = lp.lagrangian_rhs(duals)
        values = lp.cz - lp.Az.T @ mu
        res = solver.solve(values)
        bound = rhs_value + float(res.objective)
        if bound < best_bound:
            best_bound, best_mu = bound, mu
        history.append((it, value, bound, n_parts, time.perf_counter() - t0))
        if progress is not None:
            progress(it, objective, best_bound)
        if best_bound - objective <= tol * max(1.0, abs(objective)):
            converged = True
            break
        if time.perf_counter() - t0 > time_limit:
            break
        # refine: level sets of the master solution x closure membership
        level = np.unique(np.round(lam, 10), return_inverse=True)[1][part]
        part = level * 2 + res.pit.astype(np.int64)
    lam, part = best_lam_part
    z = lam[part]
    return BZResult(objective, best_bound, lp.fractions(z), best_mu, it, time.perf_counter() - t0,
                    converged, history)
