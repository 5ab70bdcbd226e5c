"""Window MIPs (solvers.improve) resumed with their memory, stopped once stalled, and the pipeline's
choice between the exact MIP (small models) and windows alone (large ones).

Instances of 3 periods and windows at most 2 wide keep the number of MIPs (each a child process of
about a second) small; every solve has a short time limit (s)."""
from __future__ import annotations

import time

import numpy as np
import pytest

from solvers import heuristics, improve, schedule
from solvers.check import check_schedule
from solvers.highs import LinearModel
from solvers.problem import CpitProblem, Precedence
from solvers.result import TIME_LIMIT, Result


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


def test_windows_resumed_with_memory_skip_what_is_settled():
    """A second call with the first's memory starts no window (all settled, schedule unchanged); once
    a change between the calls has reached every period, each window is solved again."""
    problem, period, frac = early_block_to_swap()
    memory: dict = {}
    kwargs = dict(width=2, max_width=2, time_limit=60, window_limit=10, threads=1, memory=memory)
    _, _, _, first = improve.improve_windows(problem, period, frac, **kwargs)
    assert first["windows"] and not first["stopped_by_time"]
    _, _, _, again = improve.improve_windows(problem, period, frac, **kwargs)
    assert again["windows"] == []
    p2 = np.array([-1, 2, 1, 0])                   # every period changed: block 3 in 0, blocks 1 and 2 swapped
    _, _, _, after = improve.improve_windows(problem, p2, frac, **kwargs)
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


def settled_at_once(monkeypatch):
    """`early_block_to_swap` with TopoSort returning its schedule and windows that settle at once
    without a gain; returns (problem, value, the windows' time limits as they are called)."""
    problem, period, frac = early_block_to_swap()
    value = heuristics.schedule_value(problem, period, frac)
    settled = {"windows": [], "busy_s": 0.0, "width": 2, "stopped_by_time": False, "stalled": False}
    limits = []

    def windows(p, per, fr, **kw):
        limits.append(kw["time_limit"])
        return per, fr, value, dict(settled)
    monkeypatch.setattr(heuristics, "best_toposort", lambda p, y: (period.copy(), frac.copy(), value, {}))
    monkeypatch.setattr(improve, "improve_windows", windows)
    return problem, value, limits


def test_short_budgets_of_small_instances_go_to_the_windows(monkeypatch):
    """A small model gets the exact MIP after 30 % of windows only when the MIP's part is at least
    MIP_SHARE_MIN_SECONDS; with 20 s the windows get nearly all of it."""
    problem, _, limits = settled_at_once(monkeypatch)
    res = schedule.solve_schedule(problem, time_limit=20, threads=1)
    assert limits[0] > 0.9 * (20 - res.info["phases"]["lp_s"] - schedule.RESERVE)
    assert res.info["mip"]["status"] == "optimal"             # the windows settled: the MIP still runs
    left = schedule.MIP_SHARE_MIN_SECONDS / (1 - schedule.WINDOW_SHARE_SMALL)
    assert schedule.window_share(True, left) == schedule.WINDOW_SHARE_SMALL
    assert schedule.window_share(True, 0.99 * left) == 1.0
    assert schedule.window_share(False, 10 * left) == 1.0


def test_pipeline_leaves_small_instances_to_the_exact_mip(monkeypatch):
    """Windows that settle at once without a gain: a model above exact_max_columns gets no exact MIP;
    a small one gets the exact MIP, which finds the swap."""
    problem, value, _ = settled_at_once(monkeypatch)
    large = schedule.solve_schedule(problem, time_limit=20, threads=1, exact_max_columns=0)
    assert "mip" not in large.info and check_schedule(problem, large.solution).feasible
    small = schedule.solve_schedule(problem, time_limit=20, threads=1)
    assert small.info["mip"]["status"] == "optimal" and small.objective == pytest.approx(value + 4.0)
