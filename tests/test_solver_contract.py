"""The contract every solver keeps: one `Result`, one progress signature, one `Deadline`."""
from __future__ import annotations

import json
import math
import time

import pytest

from solvers import bz, improve, heuristics, mip, schedule
from solvers.check import check_pit, check_schedule
from solvers.closure import max_closure
from solvers.deadline import Deadline
from solvers.highs import solve_pyomo
from solvers.nested import nested_closures
from solvers.problem import Precedence, Schedule, UpitProblem
from solvers.result import Result
from _schedule_cases import brute_force, random_problem


# ---- Deadline: pure arithmetic on a fake clock -----------------------------------------------

class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_deadline_counts_down_and_expires():
    clock = FakeClock()
    d = Deadline(10.0, clock=clock)
    assert d.left() == 10.0 and not d.expired()
    clock.now = 9.5
    assert d.left() == 0.5
    clock.now = 12.0
    assert d.left() == 0.0 and d.expired()
    assert Deadline(math.inf, clock=clock).left() == math.inf


def test_child_takes_a_share_of_what_is_left_after_the_reserve():
    clock = FakeClock()
    d = Deadline(100.0, clock=clock)
    clock.now = 20.0                                          # 80 s left
    assert d.child().seconds == 80.0
    assert d.child(share=0.5).seconds == 40.0
    assert d.child(share=0.5, reserve=10.0).seconds == 35.0
    assert d.child(maximum=15.0).seconds == 15.0
    clock.now = 99.0                                          # 1 s left: the minimum wins
    assert d.child(share=0.3, minimum=2.0).seconds == 2.0
    assert d.child(reserve=5.0).seconds == 0.0                # never negative
    child = d.child(share=0.3, minimum=2.0)
    clock.now = 100.5                                         # the parent has expired, the child not yet
    assert d.expired() and child.left() == pytest.approx(0.5)


def test_pipeline_splits_its_budget_as_named():
    """The shares of `solvers.schedule`: LP 30 % (at least 1 s), windows all or 30 % of the rest
    less the reserve, the exact MIP the rest less the reserve; a window at most its own limit."""
    clock = FakeClock()
    d = Deadline(100.0, clock=clock)
    lp = d.child(share=schedule.LP_SHARE, minimum=schedule.LP_MIN_SECONDS)
    assert lp.seconds == 30.0
    assert Deadline(2.0, clock=clock).child(share=schedule.LP_SHARE, minimum=schedule.LP_MIN_SECONDS).seconds == 1.0
    clock.now = 10.0                                          # the LP converged after 10 s: 90 s left
    large = d.child(reserve=schedule.RESERVE)
    small = d.child(share=schedule.WINDOW_SHARE_SMALL, reserve=schedule.RESERVE)
    assert large.seconds == 90.0 - schedule.RESERVE
    assert small.seconds == pytest.approx(0.3 * (90.0 - schedule.RESERVE))
    clock.now = 10.0 + small.seconds                          # the windows used their share
    assert d.child(reserve=schedule.RESERVE).seconds == pytest.approx(0.7 * (90.0 - schedule.RESERVE))
    window = small.child(reserve=improve.WINDOW_RESERVE, maximum=schedule.WINDOW_SECONDS)
    assert window.seconds == 0.0                              # the windows' budget is spent
    fresh = Deadline(60.0, clock=clock)
    assert fresh.child(reserve=improve.WINDOW_RESERVE, maximum=schedule.WINDOW_SECONDS).seconds == 30.0


def test_deadline_on_the_real_clock():
    d = Deadline(0.002)
    assert 0 < d.left() <= 0.002
    time.sleep(0.004)
    assert d.expired()


# ---- every solver returns a Result ---------------------------------------------------------

def _upit():
    prec = Precedence.from_arcs(4, [2, 2, 3], [0, 1, 2])     # 2 needs 0 and 1; 3 needs 2
    return UpitProblem([-1.0, -2.0, 4.0, 1.0], prec)          # the whole set is worth 2


def _pcpsp():
    return random_problem(seed=13, n=5, T=2, D=2, R=2)


def _pipeline():
    return schedule.solve_schedule(_pcpsp(), time_limit=30, threads=1)


def _toposort_checked():
    problem = _pcpsp()
    period, frac, _, _ = heuristics.best_toposort(problem, None)
    return check_schedule(problem, heuristics.to_schedule(period, frac))


CASES = {
    # name: (run, reference optimum or None, the statuses it may give)
    "closure": (lambda: max_closure(_upit().values, _upit().precedence), 2.0, {"optimal"}),
    "nested": (lambda: nested_closures([0.0, 0.0, 4.0, 1.0], [1.0, 2.0, 0.0, 0.0], [0.5, 1.0],
                                       _upit().precedence), 2.0, {"optimal"}),
    "highs-lp": (lambda: mip.build_matrices(_pcpsp()).solve(relax=True, threads=1), None, {"optimal"}),
    "bz": (lambda: bz.solve_lp(_pcpsp()), None, {"optimal"}),
    "mip": (lambda: mip.build_matrices(_pcpsp()).solve(mip_gap=0.0, threads=1), "brute", {"optimal"}),
    "pyomo": (lambda: solve_pyomo(mip.build_pyomo(_pcpsp()), mip_gap=0.0, threads=1), "brute", {"optimal"}),
    "pipeline": (_pipeline, "brute", {"optimal"}),
    "check_pit": (lambda: check_pit(_upit(), [0, 1, 2, 3]), 2.0, {"feasible"}),
    "check_schedule": (_toposort_checked, None, {"feasible"}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_solver_returns_a_result_that_says_what_it_is(name):
    run, reference, statuses = CASES[name]
    res = run()
    assert type(res) is Result
    assert res.status in statuses and res.feasible and res.solution is not None
    assert math.isfinite(res.objective) and res.seconds >= 0 and res.algorithm
    if reference == "brute":
        reference = brute_force(_pcpsp())
    if reference is not None:
        assert res.objective == pytest.approx(reference, rel=1e-7, abs=1e-7)
    if name.startswith("check"):
        assert res.bound == math.inf and res.gap == math.inf   # a check proves no bound
        assert res.solution == [] and res.info["n_violations"] == 0
    else:
        assert res.bound >= res.objective - 1e-7 * max(1.0, abs(res.objective))
        assert res.gap <= 1e-4                                 # optimal: the gap asked for at most
    if name in ("highs-lp", "bz"):                            # both solve the same LP
        assert res.objective == pytest.approx(mip.build_matrices(_pcpsp()).solve(relax=True).objective, rel=1e-7)
    summary = res.summary()
    assert "solution" not in summary and summary["gap"] == res.gap and summary["status"] == res.status
    assert json.loads(json.dumps(summary)) == summary        # plain figures only, no arrays


def test_checker_status_and_violations():
    res = check_pit(_upit(), [2, 3])                          # 2 without its predecessors 0 and 1
    assert res.status == "infeasible" and not res.feasible and res.objective == 5.0
    assert res.info["n_violations"] == 2 and len(res.solution) == 2
    res = check_schedule(_pcpsp(), Schedule([0, 0], [0, 0], [0, 1], [1.0, 1.0]))
    assert res.status == "infeasible" and any("mined 2 times" in v for v in res.solution)


def test_statuses_short_of_optimal_state_their_bound():
    problem = random_problem(seed=11, n=8, T=3, D=2, R=2)
    full = bz.solve_lp(problem)
    stopped = bz.solve_lp(problem, time_limit=0.0)            # one iteration, then the limit
    capped = bz.solve_lp(problem, max_iter=1)
    assert full.status == "optimal" and full.info["iterations"] > 1
    assert stopped.status == "time_limit" and capped.status == "feasible"
    for res in (stopped, capped):
        assert res.info["iterations"] == 1 and res.feasible
        assert res.objective <= full.objective + 1e-9 and res.bound >= full.objective - 1e-9
        assert res.gap > 0


# ---- one progress signature --------------------------------------------------------------

def _recorder():
    calls = []
    return calls, lambda *args: calls.append(args)


def _assert_calls(calls, phase):
    assert calls, "no progress reported"
    for args in calls:
        assert len(args) == 3
        assert type(args[0]) is str and type(args[1]) is float and type(args[2]) is float, args
    assert any(args[0].startswith(phase) for args in calls)


def test_bz_progress():
    calls, progress = _recorder()
    res = bz.solve_lp(_pcpsp(), progress=progress)
    _assert_calls(calls, "lp")
    assert len(calls) == res.info["iterations"] and calls[-1][2] == res.bound


def test_mip_progress():
    calls, progress = _recorder()
    res = mip.build_matrices(random_problem(seed=3, n=6, T=3)).solve(mip_gap=0.0, threads=1, progress=progress)
    _assert_calls(calls, "mip")
    assert max(c[1] for c in calls) == pytest.approx(res.objective, rel=1e-9)


def test_window_progress():
    problem = random_problem(seed=10, n=6, T=3, D=2, R=2)
    period, frac, _, _ = heuristics.best_toposort(problem, None)
    calls, progress = _recorder()
    improve.improve_windows(problem, period, frac, time_limit=30, window_limit=10, threads=1, progress=progress)
    _assert_calls(calls, "window")
    assert all(c[2] == math.inf for c in calls)


def test_pipeline_progress():
    calls, progress = _recorder()
    res = schedule.solve_schedule(_pcpsp(), time_limit=30, threads=1, progress=progress)
    _assert_calls(calls, "lp")
    assert calls[-1][0] == "done" and calls[-1][1:] == pytest.approx((res.objective, res.bound), rel=1e-9)
    incumbents, bounds = [c[1] for c in calls], [c[2] for c in calls]
    assert incumbents[0] == -math.inf and incumbents == sorted(incumbents)      # never worse
    assert bounds == sorted(bounds, reverse=True)                               # never looser
    assert {c[0].split()[0] for c in calls} >= {"lp", "toposort", "done"}
