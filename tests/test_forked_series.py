"""Several functions in one forked child (`orepit.planning.forked.ForkedSeries`): each result comes
back in order, an error stays with its function, and side by side npv and high-grade share the
economic pit's cuts (made once, in their child)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from orepit.planning.forked import ForkedSeries, can_fork
from solvers import InputError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _fail():
    raise InputError("capacity must be positive", field="mill_capacity")


@pytest.mark.parametrize("parallel", [True, False])
def test_each_result_comes_back_in_order_and_an_error_stays_with_its_function(parallel):
    if parallel and not can_fork(highs=False):
        pytest.skip("children are forked on Linux with two cores or more")
    series = ForkedSeries([os.getpid, _fail, lambda: [1, 2]], parallel, highs=False)
    assert series.forked == parallel
    jobs = [series.job(k) for k in range(3)]
    assert jobs[2].result() == [1, 2]                  # the later one first: the earlier ones are kept
    with pytest.raises(InputError) as caught:
        jobs[1].result()
    assert caught.value.field == "mill_capacity"
    assert (jobs[0].result() != os.getpid()) == parallel and jobs[0].forked == parallel


def test_the_work_after_the_first_yields_the_cores():
    if not can_fork(highs=False):
        pytest.skip("children are forked on Linux with two cores or more")
    here = os.nice(0)
    series = ForkedSeries([lambda: os.nice(0)] * 3, highs=False, nice=2, later_nice=7)
    assert [series.result(k) for k in range(3)] == [min(19, here + 2)] + [min(19, here + 7)] * 2


CUTS_ONCE = """
import json, os, tempfile
import orepit.planning.strategies as st
from orepit.valuation.deposit import value_deposit
from orepit.valuation.synthetic import default_economics, synthetic_deposit

log = tempfile.NamedTemporaryFile("r", delete=False).name
original = st.strategy_layouts
def logged(*args, **kwargs):
    with open(log, "a") as f:
        f.write(f"{os.getpid()}\\n")
    return original(*args, **kwargs)
st.strategy_layouts = logged
model = synthetic_deposit(6000, seed=3)
deposit = value_deposit(model, default_economics(model.block_size[2]))
st.PARALLEL_ABOVE = 0
results = st.compare(deposit)
pids = open(log).read().split()
print(json.dumps({"beside": {n: r.beside for n, r in results.items()},
                  "made_beside": sum(p != str(os.getpid()) for p in pids)}))
"""


def test_side_by_side_npv_and_high_grade_share_the_economic_pits_cuts():
    if sys.platform != "linux" or (os.cpu_count() or 1) < 2:
        pytest.skip("children are forked on Linux with two cores or more")
    out = subprocess.run([sys.executable, "-c", CUTS_ONCE], capture_output=True, text=True, cwd=ROOT,
                         env=dict(os.environ, MPLBACKEND="Agg"), timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["beside"] == {"high-grade": True, "npv": True, "green": False}
    assert got["made_beside"] == 1              # one child made them for both (was: one each)
