"""The one HiGHS module: the sparse model builder, statuses, presolve, threads, the child process."""
from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from solvers import mip
from solvers.highs import LinearModel
from _schedule_cases import random_problem


def _knapsack():
    m = LinearModel()
    x = m.add_vars("x", 2, upper=[3, 4], integer=True)
    m.add_objective(x, [1.0, 1.0])
    m.add_rows([0, 0], x, [1.0, 2.0], upper=[8.0])            # x0 + 2 x1 <= 8
    return m


def test_mip_and_its_relaxation():
    mip_ = _knapsack().solve()
    assert (mip_.status, mip_.objective, mip_.bound, mip_.gap) == ("optimal", 5.0, pytest.approx(5.0), 0.0)
    x = mip_.solution
    assert x.sum() == 5.0 and x[0] + 2 * x[1] <= 8 and np.allclose(x, np.round(x))
    lp = _knapsack().solve(relax=True)
    assert lp.objective == pytest.approx(5.5) and lp.algorithm == "highs-lp"
    assert lp.info["row_dual"] == pytest.approx([0.5])          # the row binds: x1 = 2.5 is worth 1 per 2 units


def test_an_lp_by_interior_point_ends_on_the_simplex_optimum():
    """method="ipm" reaches HiGHS (interior-point iterations counted) and crosses over to a vertex
    with the simplex's objective and duals."""
    rng = np.random.default_rng(3)
    A = sp.random(40, 60, density=0.3, random_state=rng, data_rvs=lambda k: rng.uniform(0.1, 1.0, k))
    model = LinearModel.from_arrays(A, rng.uniform(0.0, 1.0, 60), np.full(40, -np.inf), np.full(40, 3.0),
                                    np.zeros(60), np.ones(60), np.zeros(60, bool))
    simplex, ipm = model.solve(method="simplex"), model.solve(method="ipm")
    assert simplex.info["ipm_iterations"] == 0 and ipm.info["ipm_iterations"] > 0
    assert ipm.status == "optimal" and ipm.objective == pytest.approx(simplex.objective, rel=1e-9)
    assert ipm.info["row_dual"] == pytest.approx(simplex.info["row_dual"])
    # a MIP stays a MIP: the method is for LPs only
    assert _knapsack().solve(method="ipm").objective == 5.0


def test_infeasible_model_says_so():
    m = _knapsack()
    m.add_rows([0], m.groups["x"][:1], [1.0], lower=[10.0])
    res = m.solve()
    assert res.status == "infeasible" and res.solution is None and not res.feasible
    assert res.objective == -np.inf and "Infeasible" in res.info["message"]


def test_fixed_columns_are_removed_and_a_violated_emptied_row_is_named():
    m = _knapsack()
    m.fix(m.groups["x"], [3.0, 1.0])                       # x0 + 2 x1 = 5 <= 8: fine, nothing left to solve
    res = m.solve()
    assert (res.status, res.objective, res.solution.tolist()) == ("optimal", 4.0, [3.0, 1.0])
    m.add_rows([0], m.groups["x"][1:], [1.0], lower=[2.0], family="floor")
    res = m.solve()
    assert res.status == "infeasible" and "row 1 (floor 0)" in res.info["message"]


@pytest.mark.parametrize("money", [1.0, 1e9])
def test_rows_and_objective_are_scaled_and_answers_scaled_back(money):
    """Tonnage rows (coefficients in the millions) and dollar costs up to 1e9: the same answer and
    dual as the model in small units."""
    m = LinearModel()
    x = m.add_vars("x", 2, upper=10.0)
    m.add_objective(x, [3.0 * money, 2.0 * money])
    m.add_rows([0, 0], x, [2e6, 1e6], upper=[8e6])         # 2 x0 + x1 <= 8 (in millions)
    res = m.solve()
    assert res.objective == pytest.approx(16.0 * money, rel=1e-12)      # x = (0, 8)
    assert res.info["row_dual"][0] == pytest.approx(2e-6 * money, rel=1e-9)


def test_thread_count_may_change_between_solves():
    """HiGHS keeps one thread pool per process; a new count must not lose the solution."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from test_highs import _knapsack\n"
            "print([_knapsack().solve(threads=t).objective for t in (1, 2, None, 1)])")
    proc = subprocess.run([sys.executable, "-c", code, str(Path(__file__).parent)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[5.0, 5.0, 5.0, 5.0]"


def market_split(m: int = 4, n: int = 30, seed: int = 0) -> LinearModel:
    """Cornuejols and Dawande's market split (find binary x with A x = b, b half of A's row sums),
    with slack columns so that x = 0 is feasible: branch and bound needs far more than 30 s."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 100, (m, n)).astype(float)
    b = np.floor(a.sum(axis=1) / 2)
    A = sp.csr_matrix(np.hstack([a, np.eye(m), -np.eye(m)]))
    c = np.r_[np.zeros(n), -np.ones(2 * m)]                  # minimise the slacks
    return LinearModel.from_arrays(A, c, b, b, np.zeros(n + 2 * m), np.r_[np.ones(n), np.full(2 * m, np.inf)],
                                   np.r_[np.ones(n, bool), np.zeros(2 * m, bool)])


def test_isolated_solve_ends_soon_after_its_stop_event():
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    res = market_split().solve(time_limit=30, mip_gap=0.0, threads=1, isolate=True, stop=stop)
    assert res.status == "time_limit" and res.seconds < 5


def test_isolated_solve_matches_and_keeps_time_limit():
    lm = mip.build_matrices(random_problem(seed=3, n=5, T=2))
    direct = lm.solve(mip_gap=0.0, threads=1)
    calls = []
    isolated = lm.solve(mip_gap=0.0, threads=1, time_limit=30, isolate=True,
                        progress=lambda *args: calls.append(args))
    assert isolated.objective == pytest.approx(direct.objective, rel=1e-9) and isolated.status == "optimal"
    assert isolated.seconds < 30
    assert calls and all(phase == "mip" and isinstance(i, float) and isinstance(b, float) for phase, i, b in calls)
    assert calls[-1][1] == pytest.approx(direct.objective, rel=1e-9)


def test_an_isolated_solve_takes_the_spare_child_the_last_one_started():
    """Each isolated solve leaves a child started ahead (Python and HiGHS loaded) for the next one,
    which takes it; a forked process never takes its parent's spare; at exit it is ended."""
    import os

    from solvers import highs

    lm = mip.build_matrices(random_problem(seed=3, n=5, T=2))
    first = lm.solve(mip_gap=0.0, threads=1, time_limit=30, isolate=True)
    (owner, spare), = highs._SPARE
    assert owner == os.getpid() and spare.poll() is None            # waiting for the next arrays
    second = lm.solve(mip_gap=0.0, threads=1, time_limit=30, isolate=True)
    assert second.objective == first.objective and spare.wait(5) is not None    # it solved and ended
    (_, next_spare), = highs._SPARE
    assert next_spare is not spare
    highs._SPARE[:] = [(os.getpid() + 1, next_spare)]              # as a forked child sees it
    assert highs._take_child() is not next_spare
    highs._SPARE.append((os.getpid(), next_spare))
    highs._drop_spare()
    assert not highs._SPARE and next_spare.poll() is not None


def test_threads_taking_children_at_once_leave_one_spare():
    """Isolated solves side by side in threads (`improve_windows(workers=2)`) take their children one
    at a time: the process keeps one spare child, not one per thread."""
    import threading

    from solvers import highs

    taken = []
    for _ in range(3):
        start = threading.Barrier(2)

        def take():
            start.wait()
            taken.append(highs._take_child())

        threads = [threading.Thread(target=take) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(highs._SPARE) == 1
    for proc in taken:
        proc.kill()
        proc.wait(5)
    highs._drop_spare()
