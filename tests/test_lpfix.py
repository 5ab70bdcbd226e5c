"""LP-guided fixing (solvers.lpfix): never worse, checked, a gain the period windows cannot find, and
left out where the exact MIP runs.

Instances of 3 periods and windows at most 2 wide keep the number of MIPs (each a child process of
about a second) small; every solve has a short time limit (s)."""
from __future__ import annotations

import time

import numpy as np
import pytest

from solvers import bz, heuristics, improve, lpfix, schedule
from solvers.check import check_schedule
from solvers.highs import LinearModel
from solvers.problem import CpitProblem, Precedence
from solvers.result import TIME_LIMIT, Result
from _schedule_cases import brute_force, random_problem


def early_block_to_swap(T: int = 3):
    """T blocks fill T periods (one tonne a period): block 0 (worth 1) in period 0, blocks 1..T-1
    (worth 10) in periods 1..T-1; block T (worth 5) is unmined.  No discounting.  The optimum swaps
    block 0 for block T (+4), which needs block 0 dropped from period 0: a window that is not the
    last keeps its blocks mined, and the last one (narrower than T) holds only blocks worth 10."""
    values = np.r_[1.0, np.full(T - 1, 10.0), 5.0]
    problem = CpitProblem(values, Precedence.empty(T + 1), T, 0.0, np.ones((T + 1, 1)),
                          np.full((1, T), -np.inf), np.ones((1, T)), name="swap")
    period = np.r_[np.arange(T), -1]
    frac = np.ones((T + 1, 1))
    return problem, period, frac


def test_finds_the_swap_the_windows_cannot():
    """The LP bound is the incumbent + 4; LP-guided fixing reaches it (so it is optimal), checked."""
    problem, period, frac = early_block_to_swap()
    value = heuristics.schedule_value(problem, period, frac)
    lp = bz.solve_lp(problem, time_limit=20)
    assert lp.bound == pytest.approx(value + 4.0)
    _, _, v_windows, winfo = improve.improve_windows(problem, period, frac, width=2, max_width=2, time_limit=60,
                                                     window_limit=10, threads=1,
                                                     lp_mined=lp.solution.sum(axis=(1, 2)) > 1e-6)
    assert v_windows == pytest.approx(value) and not winfo["stopped_by_time"]     # settled, no gain
    p2, f2, v2, info = lpfix.improve_lp_guided(problem, period, frac, lp.solution, time_limit=30, threads=1)
    assert v2 == pytest.approx(lp.bound)
    assert p2[0] == -1 and p2[-1] >= 0
    report = check_schedule(problem, heuristics.to_schedule(p2, f2))
    assert report.feasible and report.objective == pytest.approx(v2)
    assert max(row[4] for row in info["rounds"]) == pytest.approx(4.0)


def test_windows_resumed_with_memory_skip_what_is_settled():
    """A second call with the first's memory starts no window (all settled, schedule unchanged); once
    LP-guided fixing has changed every period, each window is solved again."""
    problem, period, frac = early_block_to_swap()
    memory: dict = {}
    kwargs = dict(width=2, max_width=2, time_limit=60, window_limit=10, threads=1, memory=memory)
    _, _, _, first = improve.improve_windows(problem, period, frac, **kwargs)
    assert first["windows"] and not first["stopped_by_time"]
    _, _, _, again = improve.improve_windows(problem, period, frac, **kwargs)
    assert again["windows"] == []
    lp = bz.solve_lp(problem, time_limit=20)
    p2, f2, _, _ = lpfix.improve_lp_guided(problem, period, frac, lp.solution, time_limit=30, threads=1)
    _, _, _, after = improve.improve_windows(problem, p2, f2, **kwargs)
    assert len(after["windows"]) >= problem.n_periods - 1


def test_windows_stop_starting_once_stalled():
    """stall_seconds=0: stalled from the start, so no window runs and the schedule is unchanged."""
    problem, period, frac = early_block_to_swap()
    period = np.r_[2, 0, 1, -1]                    # block 0 (worth 1) last: the last window swaps it
    value = heuristics.schedule_value(problem, period, frac)
    kwargs = dict(width=2, max_width=2, time_limit=60, window_limit=10, threads=1, lp_mined=np.ones(4, bool))
    _, _, v, info = improve.improve_windows(problem, period, frac, **kwargs)
    assert v > value and info["windows"] and not info["stalled"]
    _, _, v0, info0 = improve.improve_windows(problem, period, frac, stall_seconds=0.0, **kwargs)
    assert v0 == value and info0["windows"] == [] and info0["stalled"]


def window_that_finds_nothing(limits: list):
    """A stand-in for a window MIP's `LinearModel.solve`: records its time limit (s), waits until
    the limit or its stop event, and returns no solution."""
    def solve(self, time_limit, stop=None, **_):
        limits.append(time_limit)
        stop.wait(time_limit)
        return Result(TIME_LIMIT, -np.inf, np.inf, 0.0, None, "stand-in")
    return solve


def test_running_windows_are_stopped_once_stalled(monkeypatch):
    """A window MIP that would run to its 30 s limit without a gain is stopped at the 1 s stall: the
    call returns in seconds and its try does not count (the window keeps its 30 s limit)."""
    problem, period, frac = early_block_to_swap()
    limits: list = []
    monkeypatch.setattr(LinearModel, "solve", window_that_finds_nothing(limits))
    memory: dict = {}
    t0 = time.perf_counter()
    _, _, _, info = improve.improve_windows(problem, period, frac, width=2, max_width=2, time_limit=60,
                                            window_limit=30, threads=1, stall_seconds=1.0, memory=memory)
    assert time.perf_counter() - t0 < 10
    assert info["stalled"] and [row[4] for row in info["windows"]] == ["stopped"] and limits == [30]
    assert memory["tried"] == {}


def test_pipeline_uses_it_once_the_windows_settle(monkeypatch):
    """The pipeline from the same schedule (TopoSort replaced by it, no exact MIP, windows at most 2
    periods wide so that they cannot swap): the optimum."""
    problem, period, frac = early_block_to_swap()
    value = heuristics.schedule_value(problem, period, frac)
    monkeypatch.setattr(heuristics, "best_toposort", lambda p, y: (period.copy(), frac.copy(), value, {}))
    monkeypatch.setattr(schedule, "MAX_WINDOW_WIDTH", 2)
    res = schedule.solve_schedule(problem, time_limit=60, threads=1, exact_max_columns=0)
    assert res.objective == pytest.approx(value + 4.0)
    assert max(row[4] for row in res.info["lp_guided_log"]) == pytest.approx(4.0)
    assert check_schedule(problem, res.solution).feasible
    assert "mip" not in res.info


def test_pipeline_leaves_small_instances_to_the_exact_mip(monkeypatch):
    """Windows that settle at once without a gain: a model above exact_max_columns gets LP-guided
    fixing (here a stand-in that records the call) and no exact MIP; a small one gets no LP-guided
    fixing, and the exact MIP finds the swap."""
    problem, period, frac = early_block_to_swap()
    value = heuristics.schedule_value(problem, period, frac)
    settled = {"windows": [], "busy_s": 0.0, "width": 2, "stopped_by_time": False, "stalled": False}
    calls = []
    monkeypatch.setattr(heuristics, "best_toposort", lambda p, y: (period.copy(), frac.copy(), value, {}))
    monkeypatch.setattr(improve, "improve_windows", lambda p, per, fr, **kw: (per, fr, value, dict(settled)))
    monkeypatch.setattr(lpfix, "improve_lp_guided",
                        lambda p, per, fr, y, **kw: calls.append(kw["time_limit"]) or (per, fr, value, {"rounds": []}))
    large = schedule.solve_schedule(problem, time_limit=20, threads=1, exact_max_columns=0)
    assert len(calls) == 1 and "mip" not in large.info and large.objective == pytest.approx(value)
    small = schedule.solve_schedule(problem, time_limit=20, threads=1)
    assert len(calls) == 1
    assert small.info["mip"]["status"] == "optimal" and small.objective == pytest.approx(value + 4.0)
    assert small.info["lp_guided_log"] == []


# random instances on which TopoSort falls short of the optimum (brute force)
@pytest.mark.parametrize("case", [dict(seed=6, n=5, T=3), dict(seed=15, n=5, T=3),
                                  dict(seed=2, n=5, T=3, D=2, R=2), dict(seed=14, n=5, T=3, D=2, R=2)],
                         ids=lambda c: f"D{c.get('D', 1)}-seed{c['seed']}")
def test_gains_never_beyond_the_optimum_and_checked(case):
    problem = random_problem(**case)
    lp = bz.solve_lp(problem, time_limit=20)
    period, frac, value, _ = heuristics.best_toposort(problem, lp.solution)
    optimum = brute_force(problem)
    assert value < optimum - 1e-6
    p2, f2, v2, info = lpfix.improve_lp_guided(problem, period, frac, lp.solution, time_limit=30, threads=1)
    report = check_schedule(problem, heuristics.to_schedule(p2, f2))
    assert report.feasible, report.violations
    assert report.objective == pytest.approx(v2, rel=1e-9, abs=1e-9)
    assert value + 1e-6 < v2 <= optimum + 1e-6
    assert all(row[4] >= 0.0 for row in info["rounds"])


def test_free_columns_are_the_disagreements_furthest_first():
    period = np.array([0, 1, -1])
    lp_w = np.array([[1.0, 1.0, 1.0],          # agrees
                     [0.5, 1.0, 1.0],          # period 1: w[1, 0] = 0 vs 0.5
                     [0.0, 0.0, 0.9]])         # unmined: w[2, 2] = 0 vs 0.9
    assert np.argwhere(lpfix.free_columns(period, lp_w, 10)).tolist() == [[1, 0], [2, 2]]
    assert np.argwhere(lpfix.free_columns(period, lp_w, 1)).tolist() == [[2, 2]]


def test_a_window_frees_every_disagreement_of_its_blocks_only():
    """Window [1, 1]: block 1 disagrees there, so its period-0 column is freed too; block 2 disagrees
    only in period 2, so none of its columns is."""
    period = np.array([0, 0, -1])
    lp_w = np.array([[1.0, 1.0, 1.0],          # agrees
                     [0.0, 0.5, 1.0],          # period 0: disagrees in periods 0 and 1
                     [0.0, 0.0, 0.9]])         # unmined: disagrees in period 2
    assert np.argwhere(lpfix.free_columns(period, lp_w, 10, 1, 1)).tolist() == [[1, 0], [1, 1]]
    assert np.argwhere(lpfix.free_columns(period, lp_w, 10, 2, 2)).tolist() == [[2, 2]]
    assert lpfix.windows_by_disagreement(period, lp_w, 2) == [(0, 1), (1, 2)]     # masses 1.5, 1.4
    assert lpfix.windows_by_disagreement(period, lp_w, 5) == [(0, 2)]
