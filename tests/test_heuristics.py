"""TopoSort rounding and window improvement: feasible under the independent checker, never worse."""
from __future__ import annotations

import numpy as np
import pytest

from solvers import bz, heuristics, improve, mip
from solvers.check import check_schedule
from _schedule_cases import brute_force, random_problem

CASES = [dict(seed=s, n=6, T=3, D=1, R=1) for s in range(3)] + [dict(seed=10 + s, n=6, T=3, D=2, R=2) for s in range(3)]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"seed{c['seed']}")
def test_toposort_is_feasible(case):
    problem = random_problem(**case)
    lp = bz.solve_lp(problem)
    period, frac, value, info = heuristics.best_toposort(problem, lp.solution)
    report = check_schedule(problem, heuristics.to_schedule(period, frac))
    assert report.feasible, report.violations
    assert report.objective == pytest.approx(value, rel=1e-9, abs=1e-9)
    assert value <= lp.bound + 1e-6


def test_toposort_without_lp_is_feasible():
    problem = random_problem(seed=4, n=6, T=3, D=2, R=2)
    period, frac, value, _ = heuristics.best_toposort(problem, None)
    assert check_schedule(problem, heuristics.to_schedule(period, frac)).feasible


def test_expected_period():
    problem = random_problem(seed=1, n=2, T=3)
    y = np.zeros((2, 1, 3))
    y[0, 0, 1] = 1.0              # block 0 mined in period 1
    y[1, 0, 2] = 0.5              # block 1 half mined in period 2, half never (counts as 3)
    assert heuristics.expected_period(problem, y).tolist() == [1.0, 2.5]


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("case", CASES[:2] + CASES[3:5], ids=lambda c: f"seed{c['seed']}")
def test_windows_improve_to_feasible_never_worse(case, workers):
    problem = random_problem(**case)
    lp = bz.solve_lp(problem)
    period, frac, value, _ = heuristics.best_toposort(problem, lp.solution)
    p2, f2, v2, info = improve.improve_windows(problem, period, frac, width=2, time_limit=30, window_limit=10,
                                               threads=1, workers=workers,
                                               lp_mined=lp.solution.sum(axis=(1, 2)) > 1e-6)
    report = check_schedule(problem, heuristics.to_schedule(p2, f2))
    assert report.feasible, report.violations
    assert v2 >= value - 1e-9
    assert v2 <= brute_force(problem) + 1e-6


def test_windows_are_solved_again_only_after_a_gain_and_widen_once_settled():
    """A settled window is not solved again from the same schedule (only after some window gained),
    and the windows widen to max_width once every narrower one is settled."""
    problem = random_problem(seed=11, n=6, T=3, D=2, R=2)
    lp = bz.solve_lp(problem)
    period, frac, value, _ = heuristics.best_toposort(problem, lp.solution)
    _, _, v2, info = improve.improve_windows(problem, period, frac, width=2, max_width=3, time_limit=120,
                                             window_limit=10, threads=1,
                                             lp_mined=lp.solution.sum(axis=(1, 2)) > 1e-6)
    log = info["windows"]
    assert info["width"] == 3 and not info["stopped_by_time"]
    assert (0, 2) in [row[:2] for row in log] and v2 > value + 1e-6
    for i, row in enumerate(log):
        later = [j for j in range(i + 1, len(log)) if log[j][:2] == row[:2]]
        if later:                                      # solved again: some window gained in between
            assert any(r[5] > 0 for r in log[i:later[0]]), log
    last = {row[:2]: row for row in log}
    assert all(r[4] == "optimal" and r[5] == 0.0 for r in last.values()), log   # every window settled


@pytest.mark.parametrize("seed", range(6))
def test_disjoint_windows_merge_to_a_feasible_schedule(seed):
    """Two windows over disjoint period ranges, solved from the same schedule, merged: feasible, and
    (CPIT) worth the start plus both gains: what lets `improve_windows` run them side by side."""
    problem = random_problem(seed=seed, n=12, T=4)
    period, frac, value, _ = heuristics.best_toposort(problem, None)
    lm = mip.build_matrices(problem)
    merged_period, merged_frac, total = period, frac, value
    for t0, t1 in [(0, 1), (2, 3)]:
        lower, upper, free = improve.window_bounds(lm, period, t0, t1, np.ones(problem.n_blocks, bool))
        lm.col_lower, lm.col_upper = lower, upper
        sol = lm.solve(mip_gap=0.0, threads=1, start=improve.schedule_columns(lm, period, frac))
        new_period, new_frac = improve.columns_to_schedule(lm, sol.solution)
        assert (new_period[~free] == period[~free]).all()
        total += heuristics.schedule_value(problem, new_period, new_frac) - value
        merged_period, merged_frac = improve.merge_window(merged_period, merged_frac, new_period, new_frac, free,
                                                          np.zeros(0, int))
    report = check_schedule(problem, heuristics.to_schedule(merged_period, merged_frac))
    assert report.feasible, report.violations
    assert report.objective == pytest.approx(total, rel=1e-9, abs=1e-9)


def test_merge_takes_destinations_only_in_calm_periods():
    """A window MIP may change the destinations of blocks outside it (their periods stay fixed); the
    merge takes them in the periods no other window changed meanwhile (``calm``), and only there."""
    problem = random_problem(seed=13, n=8, T=3, D=2, R=2)
    period, frac, _, _ = heuristics.best_toposort(problem, bz.solve_lp(problem).solution)
    lm = mip.build_matrices(problem)
    lm.col_lower, lm.col_upper, free = improve.window_bounds(lm, period, 0, 0, None)
    sol = lm.solve(mip_gap=0.0, threads=1, start=improve.schedule_columns(lm, period, frac))
    new_period, new_frac = improve.columns_to_schedule(lm, sol.solution)
    moved = ~free & (period >= 0) & (np.abs(new_frac - frac) > 1e-6).any(axis=1)
    assert moved.any()                                   # the case binds: a block outside changes destination
    all_calm = improve.merge_window(period, frac, new_period, new_frac, free, np.arange(problem.n_periods))
    assert np.array_equal(all_calm[0], new_period) and np.array_equal(all_calm[1], new_frac)
    busy = period[np.flatnonzero(moved)[0]]              # another window changed this period meanwhile
    merged_period, merged_frac = improve.merge_window(period, frac, new_period, new_frac, free,
                                                      np.setdiff1d(np.arange(problem.n_periods), [busy]))
    kept = ~free & (period == busy)
    assert np.array_equal(merged_frac[kept], frac[kept]) and np.array_equal(merged_frac[~kept], new_frac[~kept])
    assert check_schedule(problem, heuristics.to_schedule(merged_period, merged_frac)).feasible


def test_columns_round_trip():
    problem = random_problem(seed=12, n=5, T=2, D=2, R=2)
    lm = mip.build_matrices(problem)
    sol = lm.solve(mip_gap=0.0, threads=1)
    period, frac = improve.columns_to_schedule(lm, sol.solution)
    np.testing.assert_allclose(improve.schedule_columns(lm, period, frac), sol.solution, atol=1e-7)
    assert heuristics.schedule_value(problem, period, frac) == pytest.approx(sol.objective, rel=1e-7, abs=1e-7)
