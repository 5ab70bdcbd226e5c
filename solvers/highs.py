"""HiGHS in one place: the sparse model, its solve, the thread pool, the killable child process.

`LinearModel` is  max c x  s.t.  row_lower <= A x <= row_upper,  col_lower <= x <= col_upper,
some columns integer.  Columns are added in named groups (an index array of any shape comes
back) and rows as COO triplets in named families, so a model of 10^5 columns builds in well
under a second.  `LinearModel.solve` returns a `solvers.result.Result` whose ``solution`` is the
column vector x (None when HiGHS found none); for an LP, ``info["row_dual"]`` holds the row duals.
Before HiGHS sees the model, fixed columns (equal bounds) are removed with the rows they leave
empty, and so are free rows (-inf..inf) (exact presolve steps); every row is scaled to largest
|coefficient| 1 (tonnage rows are in the millions) and, when a cost exceeds `MAX_COST`, the
objective by a power of two (exact) to bring the largest cost below it.  `solve_pyomo` solves a
Pyomo model with HiGHS through ``pyomo.contrib.solver``.

>>> m = LinearModel()
>>> x = m.add_vars("x", 2, upper=[3, 4], integer=True)
>>> m.add_objective(x, [1.0, 1.0])
>>> rows = m.add_rows([0, 0], x, [1.0, 2.0], upper=[8.0])     # x0 + 2 x1 <= 8
>>> r = m.solve()
>>> (r.status, r.objective, m.solve(relax=True).objective)
('optimal', 5.0, 5.5)
"""
from __future__ import annotations

import atexit
import math
import os
import threading
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .deadline import Deadline
from .errors import InfeasibleError
from .result import FEASIBLE, INFEASIBLE, OPTIMAL, TIME_LIMIT, Result

INF = math.inf
# HiGHS calls costs above this excessively large (its simplex then fails on "excessive dual
# values", the more so once rows are scaled): larger objectives are scaled down to it.
MAX_COST = 1e6
# HiGHS' absolute MIP gap (its default), in the model's objective units: scaled with the objective.
MIP_ABS_GAP = 1e-6
# HiGHS refuses a time limit of 0 s: the least limit handed to it (s).
MIN_TIME_LIMIT = 0.01
# A child process (`LinearModel.solve(isolate=True)`) is killed this long (s) after its time
# limit: HiGHS stops by itself at the limit almost everywhere and its result then arrives within
# milliseconds; root cut separation can overrun by minutes, and then the child is killed.
CHILD_GRACE = 1.0
# How often (s) an isolated solve looks whether its caller asked it to stop.
STOP_POLL_SECONDS = 0.2


class LinearModel:
    """``max c x  s.t.  row_lower <= A x <= row_upper, col_lower <= x <= col_upper`` (see module).

    groups: name -> column indices (as shaped when added); row_families: (name, first row, count).
    The bound arrays may be edited in place between solves (to fix or free columns).
    """

    def __init__(self):
        self.groups: dict[str, np.ndarray] = {}
        self.c = np.zeros(0)
        self.col_lower = np.zeros(0)
        self.col_upper = np.zeros(0)
        self.integer = np.zeros(0, bool)
        self.row_lower = np.zeros(0)
        self.row_upper = np.zeros(0)
        self.row_families: list[tuple[str, int, int]] = []
        self._coo: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._A = None

    @classmethod
    def from_arrays(cls, A, c, row_lower, row_upper, col_lower, col_upper, integer) -> "LinearModel":
        """A model from finished arrays (A: any scipy sparse matrix, rows x columns)."""
        lm = cls()
        n = A.shape[1]
        lm.add_vars("x", n)
        lm.c = np.asarray(c, dtype=np.float64).copy()
        lm.col_lower = np.asarray(col_lower, dtype=np.float64).copy()
        lm.col_upper = np.asarray(col_upper, dtype=np.float64).copy()
        lm.integer = np.asarray(integer, dtype=bool).copy()
        coo = sp.coo_matrix(A)
        lm.add_rows(coo.row, coo.col, coo.data, lower=np.asarray(row_lower, dtype=np.float64),
                    upper=np.asarray(row_upper, dtype=np.float64))
        return lm

    @property
    def n_vars(self) -> int:
        return self.c.size

    @property
    def n_rows(self) -> int:
        return self.row_lower.size

    def add_vars(self, name: str, shape, lower=0.0, upper=1.0, integer: bool = False) -> np.ndarray:
        """Add a group of columns with bounds; returns their indices with the given shape."""
        size = int(np.prod(shape))
        idx = np.arange(self.n_vars, self.n_vars + size).reshape(shape)

        def grow(arr, value):
            return np.concatenate([arr, np.broadcast_to(np.asarray(value, dtype=arr.dtype), (size,))])

        self.c = grow(self.c, 0.0)
        self.col_lower = grow(self.col_lower, lower)
        self.col_upper = grow(self.col_upper, upper)
        self.integer = grow(self.integer, bool(integer))
        self.groups[name] = idx
        self._A = None
        return idx

    def add_objective(self, cols, coefs) -> None:
        """Add ``coefs`` (broadcast to the shape of ``cols``) to the objective coefficients of ``cols``."""
        cols = np.asarray(cols, dtype=np.int64)
        np.add.at(self.c, cols.ravel(), np.broadcast_to(np.asarray(coefs, dtype=np.float64), cols.shape).ravel())

    def add_rows(self, rows, cols, vals, lower=-INF, upper=INF, family: str = "rows") -> np.ndarray:
        """Add rows given as COO entries; ``rows`` are local (0..m-1), m the length of the limit
        arrays (when both limits are scalars: the largest row + 1).  Returns their global ids."""
        rows = np.asarray(rows, dtype=np.int64).ravel()
        cols = np.asarray(cols, dtype=np.int64).ravel()
        vals = np.broadcast_to(np.asarray(vals, dtype=np.float64), cols.shape).ravel()
        sizes = [np.size(limit) for limit in (lower, upper) if np.ndim(limit)]
        m = max(sizes) if sizes else (int(rows.max()) + 1 if rows.size else 0)
        first = self.n_rows
        self._coo.append((rows + first, cols, vals))
        self.row_lower = np.r_[self.row_lower, np.broadcast_to(np.asarray(lower, dtype=np.float64), (m,))]
        self.row_upper = np.r_[self.row_upper, np.broadcast_to(np.asarray(upper, dtype=np.float64), (m,))]
        self.row_families.append((family, first, m))
        self._A = None
        return np.arange(first, first + m)

    def add_at_most(self, small, large, family: str) -> np.ndarray:
        """One row ``x[s] <= x[l]`` per pair of the equally shaped column arrays ``small``, ``large``."""
        small, large = np.asarray(small).ravel(), np.asarray(large).ravel()
        k = np.arange(small.size)
        return self.add_rows(np.r_[k, k], np.r_[small, large], np.r_[np.ones(k.size), -np.ones(k.size)],
                             upper=np.zeros(k.size), family=family)

    def fix(self, cols, value) -> None:
        """Fix columns to a value (both bounds)."""
        self.col_lower[cols] = value
        self.col_upper[cols] = value

    @property
    def A(self) -> sp.csr_matrix:
        """The constraint matrix (rows x columns), duplicate entries summed, zeros dropped."""
        if self._A is None:
            parts = list(zip(*self._coo)) or [[np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [np.zeros(0)]]
            rows, cols, vals = (np.concatenate(p) for p in parts)
            self._A = sp.csr_matrix((vals, (rows, cols)), shape=(self.n_rows, self.n_vars))
            self._A.sum_duplicates()
            self._A.eliminate_zeros()
        return self._A

    def family_of(self, row: int) -> str:
        """'family k' for global row ``row`` (k: its index in its family)."""
        for name, first, count in self.row_families:
            if first <= row < first + count:
                return f"{name} {row - first}"
        return "?"

    def to_highs(self, relax: bool = False):
        """A `highspy.Highs` holding the model as `solve` hands it over (fixed columns removed, scaled)."""
        return _pass_model(_reduce(self, relax).arrays)

    def solve(self, time_limit: float = INF, mip_gap: float = 1e-4, threads: int | None = None,
              relax: bool = False, start=None, progress=None, isolate: bool = False, log: bool = False,
              stop=None, method: str | None = None) -> Result:
        """Solve with HiGHS; returns a `Result` whose solution is the column vector (None if none found).

        time_limit (s); mip_gap: relative gap at which a MIP stops; threads: HiGHS threads (None:
        HiGHS decides); relax: drop integrality; start: full column vector of a feasible solution
        (MIP start); progress(phase, incumbent, bound) on each improving MIP solution (phase 'mip');
        isolate: solve a MIP with a finite time limit in a child process killed at the limit
        (HiGHS' root cut separation can overrun its own limit by minutes), keeping the last
        improving solution it reported; log: HiGHS' log on.  stop: a `threading.Event`; once it is
        set, an isolated solve kills its child and returns as at its time limit (checked every
        `STOP_POLL_SECONDS`).  method: HiGHS' LP algorithm (its ``solver`` option: ``"simplex"``,
        ``"ipm"``: interior point, then crossover to a vertex) of an LP; None, and for a MIP: HiGHS decides.
        """
        t0 = time.perf_counter()
        info = {"variables": self.n_vars, "rows": self.n_rows, "nonzeros": int(self.A.nnz)}
        try:
            red = _reduce(self, relax)
        except InfeasibleError as exc:
            return Result(INFEASIBLE, -INF, -INF, time.perf_counter() - t0, None, "highs-presolve",
                          dict(info, message=str(exc)))
        mip = bool(red.arrays.integer.any())
        info.update(integer_variables=0 if relax else int(self.integer.sum()),
                    build_seconds=time.perf_counter() - t0)
        opts = {"time_limit": float(time_limit), "mip_gap": float(mip_gap), "threads": threads, "log": log,
                "method": method,
                "abs_gap": MIP_ABS_GAP * red.obj_scale,
                "start": None if start is None else np.asarray(start, dtype=np.float64)[red.keep]}
        report = None
        if progress is not None:
            def report(incumbent, bound, x):
                progress("mip", float(red.unscale(incumbent)), float(red.unscale(bound)))
        if red.arrays.c.size == 0:            # every column fixed: nothing left for HiGHS
            out = {"x": np.zeros(0), "objective": 0.0, "bound": 0.0, "status": OPTIMAL, "nodes": 0,
                   "message": "all columns fixed", "row_dual": None}
        elif isolate and mip and math.isfinite(time_limit):
            out = _run_isolated(red.arrays, opts, report, float(time_limit), stop)
        else:
            out = _run(red.arrays, opts, report)
        x = None
        if out["x"] is not None:
            x = red.x_fixed.copy()
            x[red.keep] = out["x"]
        if out["row_dual"] is not None:
            info["row_dual"] = np.zeros(self.n_rows)
            info["row_dual"][red.rows] = out["row_dual"] * red.scale / red.obj_scale
        info.update(nodes=out["nodes"], message=out["message"], ipm_iterations=out.get("ipm_iterations", 0))
        return Result(out["status"], red.unscale(out["objective"]) if x is not None else -INF,
                      red.unscale(out["bound"]), time.perf_counter() - t0, x,
                      "highs-mip" if mip else "highs-lp", info)


@dataclass
class _Arrays:
    """What HiGHS is given: max c x, row_lower <= A x <= row_upper, col bounds, integer columns."""

    A: sp.csr_matrix
    c: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray


@dataclass
class _Reduced:
    """A model with fixed columns removed, rows and objective scaled: the arrays, and how to map back."""

    arrays: _Arrays
    keep: np.ndarray        # columns of the model kept
    rows: np.ndarray        # rows of the model kept
    scale: np.ndarray       # factor applied to each kept row
    x_fixed: np.ndarray     # full column vector: the fixed values, 0 elsewhere
    offset: float           # objective of the fixed columns
    obj_scale: float        # factor (a power of two) applied to the objective

    def unscale(self, value: float) -> float:
        """An objective value of the arrays in the model's units."""
        return value / self.obj_scale + self.offset


def _reduce(lm: LinearModel, relax: bool) -> _Reduced:
    """Remove fixed columns, the rows they leave empty and free rows (-inf..inf); scale each row to
    largest |coefficient| 1 and the objective by a power of two to largest |coefficient| at most
    `MAX_COST`.  Raises `InfeasibleError` when an emptied row is violated by the fixed values."""
    fixed = lm.col_lower == lm.col_upper
    x_fixed = np.where(fixed, lm.col_lower, 0.0)
    keep = np.flatnonzero(~fixed)
    activity = lm.A @ x_fixed
    A = lm.A[:, keep].tocsr()
    row_lower, row_upper = lm.row_lower - activity, lm.row_upper - activity
    empty = np.diff(A.indptr) == 0
    tol = 1e-6 * np.maximum(1.0, np.abs(activity))
    bad = np.flatnonzero(empty & ((row_lower > tol) | (row_upper < -tol)))
    if bad.size:
        raise InfeasibleError(f"the fixed values violate row {int(bad[0])} ({lm.family_of(int(bad[0]))})")
    rows = np.flatnonzero(~empty & (np.isfinite(row_lower) | np.isfinite(row_upper)))    # free rows go too
    A = A[rows]
    scale = 1.0 / np.maximum(abs(A).max(axis=1).toarray().ravel(), 1e-300) if rows.size else np.zeros(0)
    integer = lm.integer[keep] & (not relax)
    c = lm.c[keep]
    largest = float(np.abs(c).max(initial=0.0))
    obj_scale = 2.0 ** -math.ceil(math.log2(largest / MAX_COST)) if largest > MAX_COST else 1.0
    arrays = _Arrays((sp.diags(scale) @ A).tocsr(), c * obj_scale, row_lower[rows] * scale, row_upper[rows] * scale,
                     lm.col_lower[keep], lm.col_upper[keep], integer)
    return _Reduced(arrays, keep, rows, scale, x_fixed, float(lm.c @ x_fixed), obj_scale)


def _pass_model(a: _Arrays):
    """A new `highspy.Highs` holding the arrays (maximize)."""
    import highspy

    h = new_highs()
    lp = highspy.HighsLp()
    lp.num_row_, lp.num_col_ = a.A.shape
    inf = highspy.kHighsInf
    lp.col_cost_ = np.asarray(a.c, dtype=np.float64)
    lp.col_lower_ = np.where(np.isfinite(a.col_lower), a.col_lower, -inf)
    lp.col_upper_ = np.where(np.isfinite(a.col_upper), a.col_upper, inf)
    lp.row_lower_ = np.where(np.isfinite(a.row_lower), a.row_lower, -inf)
    lp.row_upper_ = np.where(np.isfinite(a.row_upper), a.row_upper, inf)
    csc = a.A.tocsc()
    csc.sort_indices()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data.astype(np.float64)
    lp.a_matrix_.num_row_, lp.a_matrix_.num_col_ = a.A.shape
    lp.sense_ = highspy.ObjSense.kMaximize
    if a.integer.any():
        lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                           for i in a.integer]
    h.passModel(lp)
    return h


def status_of(optimal: bool, infeasible: bool, timed_out: bool, has_solution: bool, why: str) -> str:
    """The one mapping of a solver's outcome to a `Result` status; ``why`` names the outcome when
    none fits (no solution, yet neither proven infeasible nor stopped by time: a solver failure)."""
    if infeasible:
        return INFEASIBLE
    if optimal and has_solution:
        return OPTIMAL
    if timed_out:
        return TIME_LIMIT
    if has_solution:
        return FEASIBLE
    raise RuntimeError(f"HiGHS stopped without a solution ({why})")


def _run(a: _Arrays, opts: dict, report=None) -> dict:
    """Solve the arrays with highspy in this process; report(incumbent, bound, x) on improving solutions."""
    import highspy

    h = _pass_model(a)
    h.setOptionValue("output_flag", bool(opts["log"]))
    set_threads(h, opts["threads"])
    h.setOptionValue("mip_rel_gap", opts["mip_gap"])
    h.setOptionValue("mip_abs_gap", opts["abs_gap"])
    mip = bool(a.integer.any())
    if opts.get("method") and not mip:          # a MIP's relaxations are left to HiGHS
        h.setOptionValue("solver", opts["method"])
    if mip and opts["start"] is not None:
        sol = highspy.HighsSolution()
        sol.col_value = opts["start"]
        sol.value_valid = True
        h.setSolution(sol)
    if mip and report is not None:
        def improving(event):
            try:
                out = event.data_out
                report(float(out.objective_function_value), float(out.mip_dual_bound),
                       np.asarray(out.mip_solution, dtype=np.float64))
            except Exception:  # noqa: BLE001 - reporting must never break a solve
                pass
        h.cbMipImprovingSolution.subscribe(improving)
    if math.isfinite(opts["time_limit"]):
        h.setOptionValue("time_limit", max(MIN_TIME_LIMIT, opts["time_limit"]))
        deadline = Deadline(opts["time_limit"])

        def interrupt(event):         # HiGHS does not consult its clock everywhere
            if deadline.expired():
                event.interrupt()
        for callback in (h.cbMipInterrupt, h.cbSimplexInterrupt):
            callback.subscribe(interrupt)
    h.run()
    S = highspy.HighsModelStatus
    model_status = h.getModelStatus()
    if model_status == S.kSolveError and not mip:
        # HiGHS' presolve can end an infeasible LP in a solve error: decide it without presolve
        h.setOptionValue("presolve", "off")
        h.run()
        model_status = h.getModelStatus()
    info = h.getInfo()
    solution = h.getSolution()
    has_x = info.primal_solution_status == 2               # kSolutionStatusFeasible
    objective = info.objective_function_value if has_x else -INF
    optimal = model_status == S.kOptimal
    message = "HiGHS: " + h.modelStatusToString(model_status)
    status = status_of(optimal, model_status in (S.kInfeasible, S.kUnboundedOrInfeasible),
                       model_status in (S.kTimeLimit, S.kInterrupt), has_x, message)
    if status == INFEASIBLE:
        bound = -INF
    elif mip:
        bound = info.mip_dual_bound if math.isfinite(info.mip_dual_bound) else INF
        bound = max(bound, objective) if optimal else bound
    else:
        bound = objective if optimal else INF
    dual = np.asarray(solution.row_dual) if not mip and optimal and solution.dual_valid else None
    return {"x": np.asarray(solution.col_value) if has_x else None, "objective": objective, "bound": bound,
            "status": status, "nodes": int(info.mip_node_count), "message": message, "row_dual": dual,
            "ipm_iterations": int(info.ipm_iteration_count)}


def _child_main() -> None:
    """Entry of the child process of `_run_isolated`: read the arrays from stdin, stream improving
    solutions and the final result to stdout (length-prefixed pickles)."""
    import pickle
    import struct
    import sys

    import highspy  # noqa: F401 - loaded before the arrays arrive: a spare child waits ready

    # messages go to the original stdout; anything HiGHS prints goes to /dev/null
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    arrays, opts = pickle.load(sys.stdin.buffer)

    def send(msg):
        data = pickle.dumps(msg, protocol=pickle.HIGHEST_PROTOCOL)
        out.write(struct.pack("<Q", len(data)) + data)
        out.flush()

    try:
        send(("done", _run(arrays, opts, lambda inc, bd, x: send(("improving", inc, bd, x)))))
    except RuntimeError as exc:
        send(("failed", str(exc)))


_SPARE: list = []      # [(pid of the process that started it, a child started ahead)]
_SPARE_LOCK = threading.Lock()      # isolated solves side by side in threads take and leave one spare


def _new_spare_lock() -> None:
    """A forked child gets a lock of its own (its parent's may have been held by another thread)."""
    global _SPARE_LOCK
    _SPARE_LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_spare_lock)


def _take_child():
    """A child process for `_run_isolated`, waiting for its arrays on stdin: the spare started ahead,
    if this process has one, else a new one; a new spare is started for the next isolated solve.  A
    child takes about a second to start Python and import HiGHS; the spare does it while this
    process builds and solves its next models (it waits idle, and ends when this process does).
    Threads take their children one at a time, so a process keeps one spare, not one per thread."""

    with _SPARE_LOCK:
        spare = _SPARE.pop() if _SPARE else None
        if spare is not None and (spare[0] != os.getpid() or spare[1].poll() is not None):
            spare = None                    # a forked copy of another process's spare, or a dead one
        proc = spare[1] if spare is not None else _start_child()
        _SPARE.append((os.getpid(), _start_child()))
    return proc


def _start_child():
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    return subprocess.Popen([sys.executable, "-c", "from solvers.highs import _child_main; _child_main()"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)


def _drop_spare() -> None:
    """At exit: end this process's spare child (a forked copy leaves its parent's alone)."""

    while _SPARE:
        pid, proc = _SPARE.pop()
        if pid == os.getpid() and proc.poll() is None:
            proc.kill()
            proc.wait(5)


atexit.register(_drop_spare)


def _run_isolated(a: _Arrays, opts: dict, report, time_limit: float, stop=None) -> dict:
    """`_run` in a child Python process, killed `CHILD_GRACE` seconds after the time limit or once
    ``stop`` (a `threading.Event`, optional) is set."""
    import pickle
    import queue
    import struct
    import threading

    proc = _take_child()
    deadline = Deadline(time_limit + CHILD_GRACE)
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
    best = {"x": None, "objective": -INF, "bound": INF, "status": TIME_LIMIT, "nodes": -1,
            "message": "child process stopped at the time limit", "row_dual": None}
    try:
        proc.stdin.write(pickle.dumps((a, opts), protocol=pickle.HIGHEST_PROTOCOL))
        proc.stdin.close()
        while not deadline.expired() and not (stop is not None and stop.is_set()):
            try:
                msg = messages.get(timeout=deadline.left() if stop is None else
                                   min(deadline.left(), STOP_POLL_SECONDS))
            except queue.Empty:
                continue                   # the loop's condition decides: time up or stopped
            if msg is None:
                break
            if msg[0] == "done":
                best = msg[1]
                break
            if msg[0] == "failed":
                raise RuntimeError(msg[1])
            _, inc, bd, x = msg
            if inc > best["objective"]:
                best.update(x=x, objective=inc, bound=bd)
            if report is not None:
                report(inc, bd, x)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(5)
        thread.join(1)
    return best


_BANNER_SHOWN = False


def new_highs():
    """A `highspy.Highs` instance with output off.  HiGHS prints a banner on stdout when the first
    instance of a process is made; it is sent to stderr so that stdout stays clean (JSON)."""
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


def use_threads(threads: int | None) -> int:
    """The HiGHS thread count for ``threads`` (None or 0: 0, HiGHS decides).  HiGHS keeps one thread
    pool per process and a later solve asking for another count ends without a solution, so the
    pool is dropped first whenever the count changes."""
    import highspy

    wanted = int(threads or 0)
    if _THREADS_IN_USE and _THREADS_IN_USE[0] != wanted:
        reset = getattr(highspy.Highs, "resetGlobalScheduler", None)
        if reset is not None:
            reset(True)
    _THREADS_IN_USE[:] = [wanted]
    return wanted


def set_threads(h, threads: int | None) -> None:
    """Set HiGHS' ``threads`` option on ``h`` (see `use_threads`)."""
    wanted = use_threads(threads)
    if wanted:
        h.setOptionValue("threads", wanted)


def solve_pyomo(model, time_limit: float = INF, mip_gap: float | None = None, threads: int | None = None,
                log: bool = False) -> Result:
    """Solve a Pyomo model with HiGHS through ``pyomo.contrib.solver`` (persistent 'highs').

    The `Result`'s solution is ``model`` itself, its variables holding the incumbent (None when
    HiGHS found none); bound is HiGHS' dual bound (+inf when unknown).
    """
    import sys

    from pyomo.contrib.solver.common.factory import SolverFactory
    from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition

    t0 = time.perf_counter()
    kwargs = dict(load_solutions=False, raise_exception_on_nonoptimal_result=False)
    if math.isfinite(time_limit):
        kwargs["time_limit"] = float(time_limit)
    if mip_gap is not None:
        kwargs["rel_gap"] = float(mip_gap)
    if use_threads(threads):
        kwargs["threads"] = int(threads)
    if log:
        kwargs["tee"] = [sys.stderr]
    results = SolverFactory("highs").solve(model, **kwargs)
    found = results.incumbent_objective is not None
    if found:
        results.solution_loader.load_vars()
    why = results.termination_condition
    status = status_of(results.solution_status == SolutionStatus.optimal,
                       why in (TerminationCondition.provenInfeasible, TerminationCondition.infeasibleOrUnbounded),
                       why == TerminationCondition.maxTimeLimit, found, f"Pyomo: {why.name}")
    bound = -INF if status == INFEASIBLE else (INF if results.objective_bound is None else results.objective_bound)
    return Result(status, results.incumbent_objective if found else -INF, bound, time.perf_counter() - t0,
                  model if found else None, "highs-pyomo", {"message": f"Pyomo: {why.name}"})
