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


def two_periods(values, tonnes, arcs, period):
    """A CPIT of two periods of two tonnes each, 10 % discount; arcs as (block, predecessor)."""
    nodes, preds = zip(*arcs) if arcs else ((), ())
    n = len(values)
    problem = CpitProblem(np.array(values, float), Precedence.from_arcs(n, list(nodes), list(preds)), 2, 0.1,
                          np.array(tonnes, float).reshape(n, 1), np.full((1, 2), -np.inf), np.full((1, 2), 2.0),
                          name="ejection")
    return problem, np.array(period), np.ones((n, 1))


def test_a_cone_makes_room_by_moving_two_cones_out():
    """Blocks 0 and 1 (worth 1, one tonne each) fill period 0; block 2 (worth 10) under waste block 3
    (one tonne each) wait in period 1.  Only both blocks of period 0 leaving, as two cones, make room
    for the two-tonne cone of block 2: one partner cone is not enough."""
    problem, period, frac = two_periods([1, 1, 10, -1], [1, 1, 1, 1], [(2, 3)], [0, 0, 1, 1])
    p2, f2, info = frontier.improve_frontier(problem, period, frac)
    assert p2.tolist() == [1, 1, 0, 0]
    assert info["swaps"] == 1
    report = check_schedule(problem, heuristics.to_schedule(p2, f2))
    assert report.feasible and report.objective == pytest.approx(brute_force(problem))


def test_a_cone_moving_later_makes_room_for_two():
    """Block 0 (worth 1, two tonnes) fills period 0; blocks 1 and 2 (worth 10, one tonne each) fill
    period 1.  Neither gaining block alone can take block 0's place (period 1 would then hold three
    tonnes): block 0 moves later when both move earlier."""
    problem, period, frac = two_periods([1, 10, 10], [2, 1, 1], [], [0, 1, 1])
    p2, f2, info = frontier.improve_frontier(problem, period, frac)
    assert p2.tolist() == [1, 0, 0]
    report = check_schedule(problem, heuristics.to_schedule(p2, f2))
    assert report.feasible and report.objective == pytest.approx(brute_force(problem))


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
    """solve_schedule on a model above exact_max_columns, with windows that find nothing (a
    stand-in): the frontier search makes the exchange, and its gain is logged."""
    from solvers import improve, schedule

    problem, period, frac = full_periods()
    value = heuristics.schedule_value(problem, period, frac)
    settled = {"windows": [], "busy_s": 0.0, "width": 2, "stopped_by_time": False, "stalled": False}
    monkeypatch.setattr(heuristics, "best_toposort", lambda p, y: (period.copy(), frac.copy(), value, {}))
    monkeypatch.setattr(improve, "improve_windows", lambda p, per, fr, **kw: (per, fr, heuristics.schedule_value(
        p, per, fr), dict(settled)))
    res = schedule.solve_schedule(problem, time_limit=60, threads=1, exact_max_columns=0)
    assert res.objective == pytest.approx(brute_force(problem))
    assert res.info["frontier_log"][0]["gain"] == pytest.approx(res.objective - value)
    assert check_schedule(problem, res.solution).feasible


def cone_size(problem, period, b, later):
    """Blocks of b's successor (later) or predecessor cone within its period, by plain search."""
    adj = problem.precedence.successors() if later else problem.precedence
    seen, todo = {b}, [b]
    while todo:
        x = todo.pop()
        for y in adj.predecessors(x):            # the listed neighbours (successors in `successors()`)
            if period[y] == period[b] and int(y) not in seen:
                seen.add(int(y))
                todo.append(int(y))
    return len(seen)


@pytest.mark.parametrize("seed", range(4))
def test_near_boundary_matches_a_plain_search(seed):
    problem = random_problem(seed, n=40, T=3)
    rng = np.random.default_rng(seed)
    period = rng.integers(-1, 3, size=problem.n_blocks)
    for t0, t1, k in [(0, 1, 1), (0, 1, 3), (1, 2, 2), (0, 2, 2)]:
        near = frontier.near_boundary(problem.precedence, period, t0, t1, k, drop_last=t1 == 2)
        expect = [t0 <= p <= t1 and ((p < t1 or t1 == 2) and cone_size(problem, period, b, True) <= k
                                     or p > t0 and cone_size(problem, period, b, False) <= k)
                  for b, p in enumerate(period)]
        assert near.tolist() == expect


def deep_cone():
    """Three periods with room to spare; block 3 (worth 100) in period 1 under a chain of three waste
    blocks (2, 1, 0, worth -1 each) also in period 1: the gain moves the four-block cone to period 0."""
    prec = Precedence.from_arcs(4, [1, 2, 3], [0, 1, 2])
    problem = CpitProblem(np.array([-1.0, -1.0, -1.0, 100.0]), prec, 3, 0.1, np.ones((4, 1)),
                          np.full((1, 3), -np.inf), np.full((1, 3), 10.0), name="deep")
    return problem, np.array([1, 1, 1, 1]), np.ones((4, 1))


@pytest.mark.parametrize("band_cone", [None, 4, 3])
def test_band_windows_free_only_blocks_near_the_boundary_and_grow(band_cone):
    """A window whose band holds cones of at most 3 blocks keeps block 3 (cone of 4) where it is;
    solved without a gain, the window is tried again with twice the band, which moves it."""
    from solvers import improve

    problem, period, frac = deep_cone()
    p2, _, value, info = improve.improve_windows(problem, period, frac, width=2, time_limit=30, window_limit=10,
                                                 threads=1, band_cone=band_cone)
    assert p2.tolist() == [0, 0, 0, 0]
    windows = [row for row in info["windows"] if row[:2] == (0, 1)]          # (t0, t1, free blocks, s, status, gain)
    if band_cone == 3:
        assert [row[2] for row in windows[:2]] == [3, 4] and windows[0][4:] == ("optimal", 0.0)
        assert windows[1][5] > 0
    else:
        assert windows[0][2] == 4 and windows[0][5] > 0


def test_pipeline_gives_large_models_band_windows_with_a_tight_gap(monkeypatch):
    """solve_schedule passes BAND_CONE and WINDOW_GAP to the windows of a model above
    exact_max_columns, and whole windows at mip_gap to one that gets the exact MIP."""
    from solvers import improve, schedule

    seen = []
    real = improve.improve_windows

    def spy(*args, **kwargs):
        seen.append((kwargs["band_cone"], kwargs["mip_gap"]))
        return real(*args, **kwargs)

    monkeypatch.setattr(improve, "improve_windows", spy)
    problem, _, _ = deep_cone()
    schedule.solve_schedule(problem, time_limit=20, threads=1, exact_max_columns=0)
    assert seen[0] == (schedule.BAND_CONE, schedule.WINDOW_GAP)
    seen.clear()
    schedule.solve_schedule(problem, time_limit=20, threads=1, mip_gap=1e-4)
    assert seen[0] == (None, 1e-4)
