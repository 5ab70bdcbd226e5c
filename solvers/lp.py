"""A small sparse LP/MIP builder solved by HiGHS (highspy), for models built from arrays.

Variables are added in named groups (numpy index arrays come back) and
constraints as COO triplets, so a model of 10^5 variables is built in well
under a second.  `solve` returns an `LpResult` that states what it is:
optimal, or feasible with its bound and gap, or infeasible.

>>> m = LinearModel()
>>> x = m.add_vars("x", 2, upper=[3, 4], integer=True)
>>> m.set_objective(x, [1.0, 1.0])
>>> rows = m.add_rows([0, 0], x, [1.0, 2.0], upper=[8.0])     # x0 + 2 x1 <= 8
>>> r = m.solve()
>>> (r.status, r.objective)
('optimal', 5.0)
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from .errors import InfeasibleError
from .result import FEASIBLE, OPTIMAL, TIME_LIMIT, Result


_BANNER_SHOWN = False


def new_highs():
    """A `highspy.Highs` instance with output off.  HiGHS prints a banner on stdout when the
    first instance of a process is made; it is sent to stderr so that stdout stays clean (JSON)."""
    import os
    import sys

    import highspy

    global _BANNER_SHOWN
    if _BANNER_SHOWN:
        h = highspy.Highs()
    else:
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            os.dup2(2, 1)
            h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            _BANNER_SHOWN = True
    h.setOptionValue("output_flag", False)
    return h


_THREADS_IN_USE: list = []   # the thread count of HiGHS' process-wide pool, once one is made


def set_threads(h, threads: int | None) -> None:
    """Set HiGHS' ``threads`` option (None or 0: HiGHS decides).  HiGHS keeps one thread pool per
    process and a later solve asking for another count ends without a solution, so the pool is
    dropped first whenever the count changes."""
    import highspy

    wanted = int(threads or 0)
    if _THREADS_IN_USE and _THREADS_IN_USE[0] != wanted:
        reset = getattr(highspy.Highs, "resetGlobalScheduler", None)
        if reset is not None:
            reset(True)
    _THREADS_IN_USE[:] = [wanted]
    if wanted:
        h.setOptionValue("threads", wanted)


@dataclass
class LpResult(Result):
    """`Result` plus the variable values ``x`` (in the order variables were added)."""

    x: np.ndarray = field(default_factory=lambda: np.zeros(0))


class LinearModel:
    """Maximize ``c @ x`` subject to ``row_lower <= A @ x <= row_upper`` and variable bounds."""

    def __init__(self):
        self.n_vars = 0
        self.groups: dict[str, np.ndarray] = {}
        self._lower: list[np.ndarray] = []
        self._upper: list[np.ndarray] = []
        self._integer: list[np.ndarray] = []
        self._cost = {}
        self.n_rows = 0
        self._rows: list[np.ndarray] = []
        self._cols: list[np.ndarray] = []
        self._vals: list[np.ndarray] = []
        self._row_lower: list[np.ndarray] = []
        self._row_upper: list[np.ndarray] = []
        self.objective_constant = 0.0

    def add_vars(self, name: str, shape, lower=0.0, upper=1.0, integer: bool = False) -> np.ndarray:
        """Add a group of variables; returns their column indices with the given shape."""
        size = int(np.prod(shape))
        idx = np.arange(self.n_vars, self.n_vars + size).reshape(shape)
        self.n_vars += size
        self._lower.append(np.broadcast_to(np.asarray(lower, dtype=np.float64), (size,)).copy())
        self._upper.append(np.broadcast_to(np.asarray(upper, dtype=np.float64), (size,)).copy())
        self._integer.append(np.full(size, bool(integer)))
        self.groups[name] = idx
        return idx

    def set_objective(self, cols, coefs) -> None:
        """Add ``coefs`` to the objective coefficients of ``cols`` (accumulates)."""
        cols = np.asarray(cols, dtype=np.int64)
        coefs = np.broadcast_to(np.asarray(coefs, dtype=np.float64), cols.shape).ravel()
        self._cost[len(self._cost)] = (cols.ravel(), coefs)

    def add_rows(self, rows, cols, vals, lower=-np.inf, upper=np.inf) -> np.ndarray:
        """Add constraints given as COO entries; ``rows`` are local (0..m-1). Returns global row ids."""
        rows = np.asarray(rows, dtype=np.int64).ravel()
        cols = np.asarray(cols, dtype=np.int64).ravel()
        vals = np.broadcast_to(np.asarray(vals, dtype=np.float64), cols.shape).ravel()
        m = int(max(np.size(lower), np.size(upper), rows.max() + 1 if rows.size else 0))
        self._rows.append(rows + self.n_rows)
        self._cols.append(cols)
        self._vals.append(vals)
        self._row_lower.append(np.broadcast_to(np.asarray(lower, dtype=np.float64), (m,)).copy())
        self._row_upper.append(np.broadcast_to(np.asarray(upper, dtype=np.float64), (m,)).copy())
        ids = np.arange(self.n_rows, self.n_rows + m)
        self.n_rows += m
        return ids

    def fix(self, cols, value) -> None:
        """Fix variables to a value (both bounds)."""
        lower, upper = np.concatenate(self._lower), np.concatenate(self._upper)
        lower[cols] = value
        upper[cols] = value
        self._lower, self._upper = [lower], [upper]

    def arrays(self):
        """(cost, col_lower, col_upper, integer, A as CSC (indptr, indices, data), row_lower, row_upper)."""
        from scipy.sparse import coo_matrix
        cost = np.zeros(self.n_vars)
        for cols, vals in self._cost.values():
            np.add.at(cost, cols, vals)
        rows = np.concatenate(self._rows) if self._rows else np.zeros(0, np.int64)
        cols = np.concatenate(self._cols) if self._cols else np.zeros(0, np.int64)
        vals = np.concatenate(self._vals) if self._vals else np.zeros(0)
        a = coo_matrix((vals, (rows, cols)), shape=(self.n_rows, self.n_vars)).tocsc()
        a.sum_duplicates()
        return (cost, np.concatenate(self._lower), np.concatenate(self._upper), np.concatenate(self._integer),
                a, np.concatenate(self._row_lower) if self._row_lower else np.zeros(0),
                np.concatenate(self._row_upper) if self._row_upper else np.zeros(0))

    def solve(self, time_limit: float = math.inf, mip_gap: float = 1e-4, threads: int | None = None,
              relax: bool = False, log: bool = False) -> LpResult:
        """Solve with HiGHS. ``relax`` drops integrality. Raises `InfeasibleError` when infeasible."""
        import highspy

        start = time.perf_counter()
        cost, lo, up, integer, a, rlo, rup = self.arrays()
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.n_vars, self.n_rows
        lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, lo, up
        lp.row_lower_, lp.row_upper_ = rlo, rup
        lp.sense_ = highspy.ObjSense.kMaximize
        lp.offset_ = self.objective_constant
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = a.indptr, a.indices, a.data
        is_mip = bool(integer.any()) and not relax
        if is_mip:
            lp.integrality_ = [highspy.HighsVarType.kInteger if v else highspy.HighsVarType.kContinuous
                               for v in integer]
        h = new_highs()
        h.setOptionValue("output_flag", bool(log))
        if math.isfinite(time_limit):
            h.setOptionValue("time_limit", float(time_limit))
        h.setOptionValue("mip_rel_gap", float(mip_gap))
        set_threads(h, threads)
        build = time.perf_counter() - start
        h.passModel(lp)
        h.run()
        status = h.getModelStatus()
        info = h.getInfo()
        S = highspy.HighsModelStatus
        seconds = time.perf_counter() - start
        details = {"build_seconds": build, "variables": self.n_vars, "rows": self.n_rows, "nonzeros": int(a.nnz),
                   "integer_variables": int(integer.sum()) if is_mip else 0, "highs_status": h.modelStatusToString(status)}
        if status in (S.kInfeasible, S.kUnboundedOrInfeasible):
            raise InfeasibleError("the model has no feasible solution (HiGHS: "
                                  f"{h.modelStatusToString(status)})")
        has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
        if not has_solution:
            raise InfeasibleError(f"HiGHS found no feasible solution ({h.modelStatusToString(status)}, "
                                  f"{seconds:.1f} s); raise the time limit")
        x = np.asarray(h.getSolution().col_value)
        objective = float(info.objective_function_value)
        if is_mip:
            bound = float(info.mip_dual_bound)
            state = OPTIMAL if status == S.kOptimal else (TIME_LIMIT if status == S.kTimeLimit else FEASIBLE)
        else:
            bound = objective if status == S.kOptimal else math.inf
            state = OPTIMAL if status == S.kOptimal else FEASIBLE
        return LpResult(state, objective, bound, seconds, "highs-mip" if is_mip else "highs-lp", details, x)
