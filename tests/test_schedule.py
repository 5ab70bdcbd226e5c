"""The scheduling pipeline: verified schedules, honest bounds, newman1 beats the published schedules."""
from __future__ import annotations

import math

import numpy as np
import pytest

from solvers.check import check_schedule
from solvers.schedule import solve_schedule
from _schedule_cases import brute_force, random_problem



@pytest.mark.parametrize("case", [dict(seed=2, n=6, T=3), dict(seed=13, n=5, T=2, D=2, R=2)],
                         ids=["cpit", "pcpsp"])
def test_small_instance_is_solved_to_optimality(case):
    problem = random_problem(**case)
    res = solve_schedule(problem, time_limit=30, threads=1)
    report = check_schedule(problem, res.solution)
    assert report.feasible
    assert res.objective == pytest.approx(report.objective)
    assert res.objective == pytest.approx(brute_force(problem), rel=1e-6, abs=1e-6)
    assert res.status == "optimal"
    assert res.bound >= res.objective - 1e-6
    assert res.seconds < 30


# CI: newman1 with a short limit must reach the published MineLib schedules (CPIT through the command
# line: tests/test_cli_schedule.py, with the same bounds)
@pytest.mark.parametrize("kind,published", [("pcpsp", 23_658_229.88)])
def test_newman1_beats_published(instance, kind, published):
    from orepit.data.minelib import load_instance

    problem = load_instance(instance("newman1")).problem(kind)
    res = solve_schedule(problem, time_limit=20, threads=2)
    report = check_schedule(problem, res.solution)
    assert report.feasible, report.solution
    assert report.objective >= published
    assert res.objective <= res.bound
    assert res.bound <= 24_486_549 * (1 + 1e-6)          # at most the LP value
    assert res.bound >= 24_176_864.82 * (1 - 1e-9)       # the known optimum
    assert math.isfinite(res.gap) and res.seconds < 20 * 1.1
    summary = res.summary()
    assert set(summary) >= {"status", "objective", "bound", "gap", "seconds"}


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["cpit", "pcpsp"])
def test_newman1_near_optimal(instance, kind):
    from orepit.data.minelib import load_instance

    problem = load_instance(instance("newman1")).problem(kind)
    res = solve_schedule(problem, time_limit=300, threads=2)
    assert check_schedule(problem, res.solution).feasible
    assert res.objective >= 24_176_864.82 * (1 - 1e-3)


def test_capacities_infeasible_from_period_0_are_named():
    from solvers import InfeasibleError, Precedence
    from solvers.problem import CpitProblem
    prob = CpitProblem([5.0, 3.0], Precedence.empty(2), 2, 0.1, [[10.0], [20.0]],
                       [[50.0, 0.0]], [[np.inf, np.inf]])
    with pytest.raises(InfeasibleError, match=r"resource 0 period 0: needs at least 50 but mining every block uses "
                                              r"at most 30 \(short by 20\)"):
        solve_schedule(prob, time_limit=5)
    prob = CpitProblem([5.0, 3.0], Precedence.empty(2), 2, 0.1, [[10.0], [20.0]], -np.inf, [[-1.0, 5.0]])
    with pytest.raises(InfeasibleError, match=r"resource 0 period 0: limit -1 is below the least possible use 0"):
        solve_schedule(prob, time_limit=5)
