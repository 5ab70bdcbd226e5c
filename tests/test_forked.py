"""Work in forked children (`orepit.planning.forked`): values and errors come back as they were, and
strategies run side by side give the very KPIs they give one by one."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from orepit.planning import forked
from orepit.planning.forked import Forked, can_fork
from solvers import InputError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SIDE_BY_SIDE = """
import json
import orepit.planning.strategies as st
from orepit.planning.forked import can_fork
from orepit.valuation.deposit import value_deposit
from orepit.valuation.synthetic import default_economics, synthetic_deposit

model = synthetic_deposit(6000, seed=3)
deposit = value_deposit(model, default_economics(model.block_size[2]))
assert can_fork()                                   # HiGHS has not run here yet: the children fork
st.PARALLEL_ABOVE = 0
forked = st.compare(deposit)
assert not can_fork()                               # now it has: the same comparison runs one by one
alone = st.compare(deposit)
kpis = lambda results: {n: {k: float(v) for k, v in r.kpis.items()} for n, r in results.items()}
print(json.dumps([kpis(forked), kpis(alone)]))
"""

BESIDE_TIMINGS = """
import json
import orepit.planning.strategies as st
from orepit.study.pipeline import run_study, summary
from orepit.valuation.synthetic import default_economics, synthetic_deposit

model = synthetic_deposit(6000, seed=3)
st.PARALLEL_ABOVE = 0
study = run_study(model, default_economics(model.block_size[2]), frontier_points=0, progress=False)
print(json.dumps({"beside": {n: r.beside for n, r in study.results.items()},
                  "seconds": {n: r.seconds for n, r in study.results.items()},
                  "timings": summary(study)["timings"]}))
"""

SHELLS_BESIDE = """
import json, os
import numpy as np
import orepit.study.pipeline as pl
from orepit.valuation.synthetic import default_economics, synthetic_deposit

original = pl._nested_shells
def tagged(deposit, setup):                         # the table says which process made it
    nested, shells, seconds = original(deposit, setup)
    return nested, shells.assign(pid=os.getpid()), seconds
pl._nested_shells = tagged
model = synthetic_deposit(6000, seed=3)
economics = default_economics(model.block_size[2])
runs = []
for above in (0, 10**12):                            # a large deposit's shells beside the strategies, then here
    pl.PARALLEL_ABOVE = above
    runs.append(pl.run_study(model, economics, strategies=("npv",), frontier_points=0, progress=False))
beside, here = runs
print(json.dumps({"made_in": [int(beside.shells.pid[0]), int(here.shells.pid[0]), os.getpid()],
                  "same_table": beside.shells.drop(columns="pid").equals(here.shells.drop(columns="pid")),
                  "same_shells": bool(np.array_equal(beside.shell, here.shell)),
                  "timed": beside.timings["nested shells"] > 0}))
"""


def _last_line_of(script: str, drop_env=()) -> str:
    """Run ``script`` in a fresh interpreter (where HiGHS has not run, so children fork) and return
    the last line it printed; skipped where children are not forked (not Linux, one core)."""
    if sys.platform != "linux" or (os.cpu_count() or 1) < 2:
        pytest.skip("children are forked on Linux with two cores or more")
    env = {k: v for k, v in os.environ.items() if k not in drop_env}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT,
                         env=dict(env, MPLBACKEND="Agg"), timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip().splitlines()[-1]


def _fail():
    raise InputError("capacity must be positive", path="mine.toml", line=3, field="mill_capacity")


def test_a_forked_value_and_error_come_back_whole():
    job = Forked(lambda: {"npv": 1.5, "pit": [True, False]})
    assert job.result() == {"npv": 1.5, "pit": [True, False]}
    here = Forked(_fail, parallel=False)
    for _ in range(2):                          # run here once; asked again, the same error
        with pytest.raises(InputError, match="capacity must be positive"):
            here.result()
    with pytest.raises(InputError) as caught:
        Forked(_fail).result()
    assert caught.value.field == "mill_capacity" and caught.value.line == 3
    assert str(caught.value) == "mine.toml line 3: capacity must be positive"


def test_a_child_does_its_own_work_itself():
    if not can_fork(highs=False):
        pytest.skip("children are forked on Linux with two cores or more")
    inner = Forked(lambda: (lambda job: (job.forked, job.result()))(Forked(os.getpid, highs=False)), highs=False)
    assert inner.forked
    forked_again, pid = inner.result()
    assert not forked_again and pid != os.getpid()          # the child's own pid: it ran the work itself


def test_a_background_child_yields_the_cores():
    if not can_fork(highs=False):
        pytest.skip("children are forked on Linux with two cores or more")
    here = os.nice(0)
    assert Forked(lambda: os.nice(0), highs=False, nice=5).result() == min(19, here + 5)
    assert Forked(lambda: os.nice(0), highs=False).result() == here


def test_no_child_is_forked_when_memory_cannot_hold_another_copy(monkeypatch):
    available, resident = forked.memory()
    if not can_fork(highs=False) or not resident:
        pytest.skip("children are forked on Linux with two cores or more")
    assert available >= resident > 0
    monkeypatch.setattr(forked, "memory", lambda: (1.9 * resident, resident))
    assert not can_fork() and not can_fork(highs=False)
    job = Forked(os.getpid, highs=False)
    assert not job.forked and job.result() == os.getpid()      # the work runs here instead


def test_a_child_whose_own_memory_is_known_forks_where_a_copy_would_not_fit(monkeypatch):
    resident = forked.memory()[1]
    if not can_fork(highs=False) or not resident:
        pytest.skip("children are forked on Linux with two cores or more")
    monkeypatch.setattr(forked, "memory", lambda: (1.9 * resident, resident))
    assert not can_fork(highs=False)                                    # another copy would not fit
    assert can_fork(highs=False, own=0.9 * resident)                    # what the work holds does
    assert not can_fork(highs=False, own=resident)
    job = Forked(os.getpid, highs=False, own=0.5 * resident)
    assert job.forked and job.result() != os.getpid()


def test_strategies_side_by_side_give_the_same_kpis_as_one_by_one():
    forked, alone = json.loads(_last_line_of(SIDE_BY_SIDE))
    assert set(forked) == {"high-grade", "npv", "green"}
    assert forked == alone


FORK_AFTER_KERNEL = """
import numba
import numpy as np
from orepit.planning.forked import Forked
from orepit.valuation.gradetonnage import grade_tonnage
from orepit.valuation.synthetic import synthetic_deposit

model = synthetic_deposit(3000, seed=2)
cutoffs = np.linspace(0.0, 1.0, 11)
here = grade_tonnage(model, cutoffs, grade="cu")             # a parallel kernel runs here first
there = Forked(lambda: grade_tonnage(model, cutoffs, grade="cu"), highs=False)
assert there.forked
assert there.result().equals(here)
print(numba.threading_layer())
"""


def test_a_child_forked_after_a_parallel_kernel_runs_one_too():
    assert _last_line_of(FORK_AFTER_KERNEL, drop_env=("NUMBA_THREADING_LAYER",)) == "workqueue"


def test_a_strategy_beside_green_is_timed_by_its_own_run():
    got = json.loads(_last_line_of(BESIDE_TIMINGS))
    assert got["beside"] == {"high-grade": True, "npv": True, "green": False}
    for name in ("high-grade", "npv"):      # not the wait for it after green (about nothing)
        assert got["timings"][f"schedule {name}"] == got["seconds"][name] > 0.05


def test_the_shells_of_a_large_deposit_are_made_beside_the_strategies_the_same():
    got = json.loads(_last_line_of(SHELLS_BESIDE))
    beside, here, parent = got["made_in"]
    assert beside != parent and here == parent
    assert got["same_table"] and got["same_shells"] and got["timed"]
