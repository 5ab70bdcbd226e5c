"""The sparse LP/MIP builder: results state what they are; HiGHS thread counts may change."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from solvers import InfeasibleError
from solvers.lp import LinearModel


def _knapsack():
    m = LinearModel()
    x = m.add_vars("x", 2, upper=[3, 4], integer=True)
    m.set_objective(x, [1.0, 1.0])
    m.add_rows([0, 0], x, [1.0, 2.0], upper=[8.0])            # x0 + 2 x1 <= 8
    return m


def test_mip_and_its_relaxation():
    mip = _knapsack().solve()
    assert (mip.status, mip.objective, mip.bound, mip.gap) == ("optimal", 5.0, pytest.approx(5.0), 0.0)
    lp = _knapsack().solve(relax=True)
    assert lp.objective == pytest.approx(5.5) and lp.algorithm == "highs-lp"


def test_infeasible_model_raises():
    m = _knapsack()
    m.add_rows([0], m.groups["x"][:1], [1.0], lower=[10.0])
    with pytest.raises(InfeasibleError, match="no feasible solution"):
        m.solve()


def test_thread_count_may_change_between_solves():
    """HiGHS keeps one thread pool per process; a new count must not lose the solution."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from test_lp import _knapsack\n"
            "print([_knapsack().solve(threads=t).objective for t in (1, 2, None, 1)])")
    proc = subprocess.run([sys.executable, "-c", code, str(Path(__file__).parent)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[5.0, 5.0, 5.0, 5.0]"
