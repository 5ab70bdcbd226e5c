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

`build_pyomo` writes this model in Pyomo (the one to read and extend) and
`solve_pyomo` solves it with HiGHS through ``pyomo.contrib.solver``.
`build_matrices` writes the identical model straight as sparse matrices (same
columns, same rows; proven equal by ``tests/test_mip.py``) for large instances,
and `solve_matrices` passes them to highspy.  Column order: ``w`` at
``b * T + t``, then ``y`` at ``n_w + (b * D + d) * T + t``.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .errors import InputError
from .lp import new_highs, set_threads
from .problem import PcpspProblem, Schedule
from .result import FEASIBLE, INFEASIBLE, OPTIMAL, TIME_LIMIT

INF = math.inf
EXTRA_OPTIONS: dict = {}   # extra HiGHS options for solve_matrices (name -> value)


# ----------------------------------------------------------------------------- Pyomo model

def build_pyomo(problem: PcpspProblem, relax: bool = False, fixed_period=None):
    """The Pyomo model of ``problem`` (CPIT or PCPSP).

    relax: continuous w in [0, 1] (the LP relaxation).
    fixed_period: optional array, block -> period it is fixed to (-1: fixed unmined,
    -2 or below: free).  Fixing sets w[b, t] = [t >= period] (y stays free).
    """
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

    if fixed_period is not None:
        fixed_period = np.asarray(fixed_period)
        for b in np.flatnonzero(fixed_period >= -1):
            p = int(fixed_period[b])
            for t in range(T):
                m.w[int(b), t].fix(1 if 0 <= p <= t else 0)
    return m


@dataclass
class MipSolution:
    """What a MIP/LP solve returns (maximization; money units of the objective).

    x: column values (None when no solution); status: 'optimal', 'time_limit',
    'feasible' or 'infeasible'; bound: proven upper bound; seconds: solve time (s).
    """

    x: np.ndarray | None
    objective: float
    bound: float
    status: str
    seconds: float
    info: dict = field(default_factory=dict)


def solve_pyomo(model, time_limit: float | None = None, mip_gap: float | None = None,
                threads: int | None = None, tee: bool = False):
    """Solve a Pyomo model with HiGHS through ``pyomo.contrib.solver`` (persistent 'highs').

    Returns (results, solver); the incumbent is loaded into the model's variables
    when one exists.  ``results.incumbent_objective`` / ``results.objective_bound``
    hold the incumbent and the dual bound.
    """
    from pyomo.contrib.solver.common.factory import SolverFactory
    import sys

    opt = SolverFactory("highs")
    kwargs = dict(load_solutions=False, raise_exception_on_nonoptimal_result=False)
    if time_limit is not None:
        kwargs["time_limit"] = float(time_limit)
    if mip_gap is not None:
        kwargs["rel_gap"] = float(mip_gap)
    if threads is not None:
        kwargs["threads"] = int(threads)
    if tee:
        kwargs["tee"] = [sys.stderr]
    results = opt.solve(model, **kwargs)
    if results.incumbent_objective is not None:
        results.solution_loader.load_vars()
    return results, opt


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

@dataclass
class LinearModel:
    """``max c x  s.t.  row_lower <= A x <= row_upper, col_lower <= x <= col_upper``.

    A is CSR (rows x columns); integer marks integer columns.  ``row_names`` is a list of
    (family, first index, count) telling which rows belong to which constraint family.
    """

    c: np.ndarray
    A: sp.csr_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray
    n_blocks: int
    n_destinations: int
    n_periods: int
    row_families: list = field(default_factory=list)

    @property
    def n_w(self) -> int:
        return self.n_blocks * self.n_periods

    @property
    def shape(self):
        return self.A.shape

    def fractions(self, x: np.ndarray) -> np.ndarray:
        """y[b, d, t] from a column vector."""
        return np.clip(x[self.n_w:].reshape(self.n_blocks, self.n_destinations, self.n_periods), 0.0, None)


def _wcol(b, t, T):
    return b * T + t


def build_matrices(problem: PcpspProblem, relax: bool = False, fixed_period=None) -> LinearModel:
    """The model of `build_pyomo` as sparse matrices, built with numpy (same columns and rows)."""
    n, T, D, R = problem.n_blocks, problem.n_periods, problem.n_destinations, problem.n_resources
    nw = n * T
    ny = n * D * T
    disc = problem.discount_factors()
    rows, cols, vals, lo, hi = [], [], [], [], []
    families = []
    n_rows = 0

    def add(family, r, c, v, lower, upper):
        nonlocal n_rows
        families.append((family, n_rows, lower.size))
        rows.append(r + n_rows)
        cols.append(c)
        vals.append(v)
        lo.append(lower)
        hi.append(upper)
        n_rows += lower.size

    # mined_once: w[b, t-1] - w[b, t] <= 0, row k = b * (T-1) + (t-1)
    if T > 1:
        b, t = np.divmod(np.arange(n * (T - 1)), T - 1)
        t = t + 1
        k = np.arange(b.size)
        add("mined_once", np.r_[k, k], np.r_[_wcol(b, t - 1, T), _wcol(b, t, T)],
            np.r_[np.ones(k.size), -np.ones(k.size)], np.full(k.size, -INF), np.zeros(k.size))
    # precedence: w[b, t] - w[p, t] <= 0, row k = arc * T + t
    nodes, preds = problem.precedence.arcs()
    a, t = np.divmod(np.arange(nodes.size * T), T)
    k = np.arange(a.size)
    add("precedence", np.r_[k, k], np.r_[_wcol(nodes[a], t, T), _wcol(preds[a], t, T)],
        np.r_[np.ones(k.size), -np.ones(k.size)], np.full(k.size, -INF), np.zeros(k.size))
    # split: sum_d y[b, d, t] - w[b, t] + w[b, t-1] = 0, row k = b * T + t
    b, d, t = np.unravel_index(np.arange(ny), (n, D, T))
    ks = b * T + t
    bt, tt = np.divmod(np.arange(nw), T)
    later = tt > 0
    add("split", np.r_[ks, np.arange(nw), np.arange(nw)[later]],
        np.r_[nw + np.arange(ny), np.arange(nw), np.arange(nw)[later] - 1],
        np.r_[np.ones(ny), -np.ones(nw), np.ones(int(later.sum()))], np.zeros(nw), np.zeros(nw))
    # resource rows with a finite limit, row order (r, t)
    coef = problem.resource_coef
    keep = np.isfinite(problem.resource_lower) | np.isfinite(problem.resource_upper)
    row_of = np.full((R, T), -1)
    row_of[keep] = np.arange(int(keep.sum()))
    rr, cc, vv = [], [], []
    for r in range(R):
        bb, dd = np.nonzero(coef[:, :, r])
        for t in range(T):
            if row_of[r, t] < 0:
                continue
            rr.append(np.full(bb.size, row_of[r, t]))
            cc.append(nw + (bb * D + dd) * T + t)
            vv.append(coef[bb, dd, r])
    cat = (lambda parts, dt: np.concatenate(parts) if parts else np.zeros(0, dt))
    add("resource", cat(rr, np.int64), cat(cc, np.int64), cat(vv, float),
        problem.resource_lower[keep], problem.resource_upper[keep])
    side = problem.side
    if side.n_rows:
        add("side", side.row, nw + (side.block * D + side.destination) * T + side.period, side.coef,
            side.lower, side.upper)
    A = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(n_rows, nw + ny))
    A.sum_duplicates()
    c = np.zeros(nw + ny)
    c[nw:] = (problem.values[:, :, None] * disc[None, None, :]).ravel()
    col_lower = np.zeros(nw + ny)
    col_upper = np.r_[np.ones(nw), np.full(ny, INF)]
    integer = np.r_[np.full(nw, not relax), np.zeros(ny, bool)]
    lm = LinearModel(c, A, np.concatenate(lo), np.concatenate(hi), col_lower, col_upper, integer,
                     n, D, T, families)
    if fixed_period is not None:
        fix_periods(lm, fixed_period)
    return lm


def fix_periods(lm: LinearModel, fixed_period) -> None:
    """Fix w[b, t] = [0 <= period[b] <= t] for blocks with period >= -1 (bounds only)."""
    fixed_period = np.asarray(fixed_period)
    T = lm.n_periods
    for b in np.flatnonzero(fixed_period >= -1):
        p = fixed_period[b]
        v = ((np.arange(T) >= p) & (p >= 0)).astype(float)
        lm.col_lower[b * T:(b + 1) * T] = v
        lm.col_upper[b * T:(b + 1) * T] = v


def reduce_fixed(lm: LinearModel):
    """Remove columns with equal bounds and rows left empty (exact presolve step).

    Returns (A, c, row_lower, row_upper, col_lower, col_upper, integer, keep_cols, x_fixed, offset).
    Raises `InputError` when an emptied row is violated by the fixed values.
    """
    fixed = lm.col_lower == lm.col_upper
    x_fixed = np.where(fixed, lm.col_lower, 0.0)
    keep = np.flatnonzero(~fixed)
    activity = lm.A @ x_fixed
    A = lm.A[:, keep].tocsr()
    row_lower = lm.row_lower - activity
    row_upper = lm.row_upper - activity
    nnz = np.diff(A.indptr)
    empty = nnz == 0
    tol = 1e-6 * np.maximum(1.0, np.abs(activity))
    bad = empty & ((row_lower > tol) | (row_upper < -tol))
    if bad.any():
        raise InputError(f"fixed values violate row {int(np.flatnonzero(bad)[0])} "
                         f"({_family(lm, int(np.flatnonzero(bad)[0]))})")
    rows = np.flatnonzero(~empty)
    return (A[rows], lm.c[keep], row_lower[rows], row_upper[rows], lm.col_lower[keep],
            lm.col_upper[keep], lm.integer[keep], keep, x_fixed, float(lm.c @ x_fixed))


def _family(lm: LinearModel, row: int) -> str:
    for name, first, count in lm.row_families:
        if first <= row < first + count:
            return f"{name} {row - first}"
    return "?"




def to_highs(A, c, row_lower, row_upper, col_lower, col_upper, integer):
    """A highspy model (maximize) from arrays."""
    import highspy

    h = new_highs()
    lp = highspy.HighsLp()
    lp.num_col_ = A.shape[1]
    lp.num_row_ = A.shape[0]
    inf = highspy.kHighsInf
    lp.col_cost_ = np.asarray(c, float)
    lp.col_lower_ = np.where(np.isfinite(col_lower), col_lower, -inf)
    lp.col_upper_ = np.where(np.isfinite(col_upper), col_upper, inf)
    lp.row_lower_ = np.where(np.isfinite(row_lower), row_lower, -inf)
    lp.row_upper_ = np.where(np.isfinite(row_upper), row_upper, inf)
    csc = A.tocsc()
    csc.sort_indices()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data.astype(float)
    lp.a_matrix_.num_col_ = A.shape[1]
    lp.a_matrix_.num_row_ = A.shape[0]
    lp.sense_ = highspy.ObjSense.kMaximize
    if np.any(integer):
        lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                           for i in integer]
    h.passModel(lp)
    return h


def solve_matrices(lm: LinearModel, time_limit: float | None = None, mip_gap: float | None = None,
                   threads: int | None = None, start: np.ndarray | None = None, log: bool = False,
                   on_progress=None, isolate: bool = False) -> MipSolution:
    """Solve a `LinearModel` with highspy (fixed columns removed first).

    start: full column vector of a feasible solution (MIP start); on_progress(incumbent, bound)
    is called on each improving solution.  isolate: solve in a child process that is stopped
    at the time limit (HiGHS' root cut separation can overrun its own limit by minutes);
    the last improving solution it reported is kept.
    """
    t0 = time.perf_counter()
    A, c, rl, ru, cl, cu, integer, keep, x_fixed, offset = reduce_fixed(lm)
    # scale each row to largest |coefficient| 1 (tonnage rows are in the millions)
    scale = 1.0 / np.maximum(abs(A).max(axis=1).toarray().ravel(), 1e-300)
    A = (sp.diags(scale) @ A).tocsr()
    arrays = (A, c, rl * scale, ru * scale, cl, cu, integer)
    opts = {"time_limit": time_limit, "mip_gap": mip_gap, "threads": threads, "log": log,
            "start": None if start is None else np.asarray(start, float)[keep]}
    build = time.perf_counter() - t0
    if isolate and time_limit is not None and np.any(integer):
        out = _run_isolated(arrays, opts, offset, on_progress, float(time_limit))
    else:
        out = _run_highs(arrays, opts, lambda kind, inc, bd, x: on_progress and on_progress(inc + offset,
                                                                                           bd + offset))
    x = None
    if out["x"] is not None:
        x = x_fixed.copy()
        x[keep] = out["x"]
    mip = bool(np.any(integer))
    objective = out["objective"] + offset if x is not None else -INF
    bound = out["bound"] + offset
    if mip and out["status"] == OPTIMAL:
        bound = max(bound, objective)
    return MipSolution(x, objective, bound, out["status"], time.perf_counter() - t0,
                       {"build_s": build, "rows": A.shape[0], "cols": A.shape[1], "nodes": out["nodes"]})


def _run_highs(arrays, opts, report=None) -> dict:
    """Solve reduced arrays with highspy; report(kind, incumbent, bound, x) on improving solutions."""
    import highspy

    A, c, rl, ru, cl, cu, integer = arrays
    h = to_highs(A, c, rl, ru, cl, cu, integer)
    h.setOptionValue("output_flag", bool(opts.get("log")))
    set_threads(h, opts.get("threads"))
    for key, val in EXTRA_OPTIONS.items():
        h.setOptionValue(key, val)
    time_limit = opts.get("time_limit")
    if time_limit is not None:
        h.setOptionValue("time_limit", max(0.01, float(time_limit)))
    if opts.get("mip_gap") is not None:
        h.setOptionValue("mip_rel_gap", float(opts["mip_gap"]))
    mip = bool(np.any(integer))
    if opts.get("start") is not None and mip:
        sol = highspy.HighsSolution()
        sol.col_value = opts["start"]
        sol.value_valid = True
        h.setSolution(sol)
    if report is not None and mip:
        def _improving(event):
            try:
                out = event.data_out
                report("improving", float(out.objective_function_value), float(out.mip_dual_bound),
                       np.asarray(out.mip_solution, float))
            except Exception:  # noqa: BLE001 - reporting must never break a solve
                pass
        h.cbMipImprovingSolution.subscribe(_improving)
    if time_limit is not None:
        # HiGHS does not consult its clock everywhere: also interrupt from its callbacks
        stop_at = time.perf_counter() + float(time_limit)

        def _interrupt(event):
            if time.perf_counter() > stop_at:
                event.interrupt()
        for cb in (h.cbMipInterrupt, h.cbSimplexInterrupt):
            cb.subscribe(_interrupt)
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    has_x = info.primal_solution_status == 2
    objective = info.objective_function_value if has_x else -INF
    if status == highspy.HighsModelStatus.kOptimal:
        st = OPTIMAL
        bound = info.mip_dual_bound if mip else objective
    elif status == highspy.HighsModelStatus.kInfeasible:
        st, bound = INFEASIBLE, -INF
    else:
        st = TIME_LIMIT if status == highspy.HighsModelStatus.kTimeLimit else FEASIBLE
        bound = info.mip_dual_bound if mip and math.isfinite(info.mip_dual_bound) else INF
    return {"x": np.asarray(h.getSolution().col_value) if has_x else None, "objective": objective,
            "bound": bound, "status": st, "nodes": int(info.mip_node_count)}


def _child_main() -> None:
    """Entry of the child process of `_run_isolated`: read the model from stdin, stream
    improving solutions and the final result to stdout (length-prefixed pickles)."""
    import pickle
    import struct
    import sys

    import os

    # messages go to the original stdout; anything HiGHS prints goes to /dev/null
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    arrays, opts = pickle.load(sys.stdin.buffer)

    def send(msg):
        data = pickle.dumps(msg, protocol=pickle.HIGHEST_PROTOCOL)
        out.write(struct.pack("<Q", len(data)) + data)
        out.flush()

    send(("done", _run_highs(arrays, opts, lambda kind, inc, bd, x: send(("improving", inc, bd, x)))))


def _run_isolated(arrays, opts, offset, on_progress, time_limit: float) -> dict:
    """Run `_run_highs` in a child Python process, stopped (killed) at the time limit."""
    import os
    import pickle
    import queue
    import struct
    import subprocess
    import sys
    import threading

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.Popen([sys.executable, "-c", "from solvers.mip import _child_main; _child_main()"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    deadline = time.perf_counter() + time_limit + 1.0
    messages: queue.Queue = queue.Queue()

    def reader():
        try:
            while True:
                head = proc.stdout.read(8)
                if len(head) < 8:
                    break
                messages.put(pickle.loads(proc.stdout.read(struct.unpack("<Q", head)[0])))
        except Exception:  # noqa: BLE001 - a killed child ends the stream
            pass
        messages.put(None)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    best = {"x": None, "objective": -INF, "bound": INF, "status": TIME_LIMIT, "nodes": -1}
    try:
        proc.stdin.write(pickle.dumps((arrays, opts), protocol=pickle.HIGHEST_PROTOCOL))
        proc.stdin.close()
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                break
            try:
                msg = messages.get(timeout=left)
            except queue.Empty:
                break
            if msg is None:
                break
            if msg[0] == "done":
                best = msg[1]
                break
            _, inc, bd, x = msg
            if inc > best["objective"]:
                best.update(x=x, objective=inc, bound=bd)
            if on_progress is not None:
                on_progress(inc + offset, bd + offset)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(5)
        thread.join(1)
    return best


def column_vector(lm: LinearModel, problem: PcpspProblem, schedule: Schedule) -> np.ndarray:
    """The column vector (w, y) of a schedule in ``lm``'s layout."""
    n, T, D = problem.n_blocks, problem.n_periods, problem.n_destinations
    y = schedule.dense(n, D, T)
    w = np.cumsum(y.sum(axis=1), axis=1)
    return np.r_[np.clip(np.round(w, 9), 0, 1).ravel(), y.ravel()]
