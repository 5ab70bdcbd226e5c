"""Frontier local search (solvers.frontier): cone swaps find the exchange shifts cannot, moves keep
precedence and limits (checked), never lose value, and stay below the brute-force optimum."""
from __future__ import annotations

import numpy as np
import pytest

from solvers import frontier, heuristics
from solvers.check import check_schedule
from solvers.problem import CpitProblem, Precedence
from _schedule_cases import brute_force, random_problem


def full_periods():
    """Two periods of one tonne each, 10 % discount.  Block 0 (worth 1, one tonne) in period 0; block 1
    (worth 10, one tonne) in period 1 under waste block 2 (worth -1, no tonnes, also in period 1).
    The only gain exchanges them: block 1 with its waste cone into period 0, block 0 out to period 1."""
    prec = Precedence.from_arcs(3, [1], [2])
    problem = CpitProblem(np.array([1.0, 10.0, -1.0]), prec, 2, 0.1, np.array([[1.0], [1.0], [0.0]]),
                          np.full((1, 2), -np.inf), np.ones((1, 2)), name="exchange")
    return problem, np.array([0, 1, 1]), np.ones((3, 1))


def test_swap_exchanges_a_cone_with_a_block_of_the_full_period():
    problem, period, frac = full_periods()
    p2, f2, info = frontier.improve_frontier(problem, period, frac)
    assert p2.tolist() == [1, 0, 0]
    assert info["swaps"] == 1
    report = check_schedule(problem, heuristics.to_schedule(p2, f2))
    assert report.feasible
    assert report.objective == pytest.approx(brute_force(problem))
    assert period.tolist() == [0, 1, 1]                             # the input is left as it was


def test_shifts_alone_cannot_exchange():
    problem, period, frac = full_periods()
    p2, _, info = frontier.improve_frontier(problem, period, frac, swaps=False)
    assert p2.tolist() == [0, 1, 1] and info["moves"] == 0


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("D", [1, 2])
def test_random_schedules_gain_checked_and_below_the_optimum(seed, D):
    """From a weak start (TopoSort in block order), the result passes the checker, is worth at least
    the start and at most the brute-force optimum (CPIT, and PCPSP with two destinations and two
    resources: destination shares kept)."""
    problem = random_problem(seed, n=5, T=2, D=D, R=D)
    period, frac = heuristics.toposort_schedule(problem, np.arange(problem.n_blocks, dtype=float))
    start = heuristics.schedule_value(problem, period, frac)
    p2, f2, _ = frontier.improve_frontier(problem, period, frac)
    report = check_schedule(problem, heuristics.to_schedule(p2, f2))
    assert report.feasible, report.solution
    assert report.objective >= start - 1e-9
    assert report.objective <= brute_force(problem) + 1e-6


def test_a_gain_on_some_random_case():
    """Over the random cases, the search gains somewhere (a search that never moves fails this)."""
    gains = []
    for seed in range(8):
        problem = random_problem(seed, n=5, T=2)
        period, frac = heuristics.toposort_schedule(problem, np.arange(problem.n_blocks, dtype=float))
        p2, f2, _ = frontier.improve_frontier(problem, period, frac)
        gains.append(heuristics.schedule_value(problem, p2, f2) - heuristics.schedule_value(problem, period, frac))
    assert max(gains) > 1e-6


def test_pipeline_runs_it_when_the_windows_end_without_a_gain(monkeypatch):
    """solve_schedule on a model above exact_max_columns, with windows and LP-guided fixing that find
    nothing (stand-ins): the frontier search makes the exchange, and its gain is logged."""
    from solvers import improve, lpfix, schedule

    problem, period, frac = full_periods()
    value = heuristics.schedule_value(problem, period, frac)
    settled = {"windows": [], "busy_s": 0.0, "width": 2, "stopped_by_time": False, "stalled": False}
    monkeypatch.setattr(heuristics, "best_toposort", lambda p, y: (period.copy(), frac.copy(), value, {}))
    monkeypatch.setattr(improve, "improve_windows", lambda p, per, fr, **kw: (per, fr, heuristics.schedule_value(
        p, per, fr), dict(settled)))
    monkeypatch.setattr(lpfix, "improve_lp_guided",
                        lambda p, per, fr, y, **kw: (per, fr, heuristics.schedule_value(p, per, fr), {"rounds": []}))
    res = schedule.solve_schedule(problem, time_limit=60, threads=1, exact_max_columns=0)
    assert res.objective == pytest.approx(brute_force(problem))
    assert res.info["frontier_log"][0]["gain"] == pytest.approx(res.objective - value)
    assert check_schedule(problem, res.solution).feasible
