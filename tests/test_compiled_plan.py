"""A plan model translated once (`CompiledPlan`): each solve's bounds empty the piles by its period,
and HiGHS gets the arrays of the model re-translated after `empty_piles_by` (same order, same values)."""
from __future__ import annotations

import numpy as np
import pytest

from orepit.planning import scheduling
from orepit.planning.plan_model import CompiledPlan, PlanSettings, build_plan_model, empty_piles_by, solve_plan_model
from orepit.planning.strategies import compare
from orepit.valuation.deposit import value_deposit
from orepit.valuation.synthetic import default_economics, synthetic_deposit
from solvers import InfeasibleError
from solvers.highs import _reduce

from test_plan_model import section

MINED = np.array([[1.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]])     # both blocks in period 0


def piles_model(empty_by=None):
    """The section of `tests.test_plan_model` mined in period 0, over 4 periods: the high grade fills
    the mill (10 t), the low grade (10 t) waits on the stockpile, which must end empty; after mining
    the mill takes at least half its capacity until the piles are empty.  Piles empty from period
    k: k = 0 is infeasible; k = 1, 2 reclaim 10 t in period 1: 95 + 13 / 1.5; k = 3 must reclaim
    5 t in periods 1 and 2: 95 + 6.5 / 1.5 + 6.5 / 2.25."""
    parcels, bins = section(integer=False)
    s = PlanSettings(periods=4, discount_rate=0.5, mill_capacity=10.0, mining_capacity=20.0, no_ore_to_dump=True,
                     final_stockpile="empty", steady_milling=0.5, empty_by=empty_by)
    return build_plan_model(parcels, bins, s, mined=MINED)


def assert_same_arrays(a, b):
    """Two `solvers.highs._reduce` results hand HiGHS the same arrays, bit for bit."""
    for name in ("c", "row_lower", "row_upper", "col_lower", "col_upper", "integer"):
        assert np.array_equal(getattr(a.arrays, name), getattr(b.arrays, name)), name
    A, B = a.arrays.A, b.arrays.A
    assert A.shape == B.shape and A.nnz == B.nnz
    for name in ("indptr", "indices", "data"):
        assert np.array_equal(getattr(A, name), getattr(B, name)), name
    assert a.obj_scale == b.obj_scale and a.offset == b.offset


def test_each_solve_empties_the_piles_by_its_period():
    model = piles_model()
    plan = CompiledPlan(model, piles=True)
    late = 95 + 6.5 / 1.5 + 6.5 / 2.25
    for k, value in {1: 95 + 13 / 1.5, 3: late, 2: 95 + 13 / 1.5, None: late}.items():
        r = plan.solve(empty_by=k)
        assert r.objective == pytest.approx(value, rel=1e-9)
        # bit for bit the objective of the model built with that period and translated anew
        assert r.objective == solve_plan_model(piles_model(empty_by=k)).objective
        assert r.info["translate_seconds"] == plan.translate_seconds and r.info["variables"] > 0
    with pytest.raises(InfeasibleError, match="stockpile empty at the end"):
        plan.solve(empty_by=0)
    # the last solve's values and duals are on the model: a steady_milling row dropped has no dual
    plan.solve(empty_by=2)
    assert model.r[0, 1].value == pytest.approx(10.0) and model.inv[0, 1].value == pytest.approx(0.0)
    assert model.steady_milling[1] in model.dual and model.steady_milling[2] not in model.dual
    plan.solve(empty_by=3)
    assert model.r[0, 1].value == pytest.approx(5.0) and model.dual[model.steady_milling[2]] < 0


def test_the_arrays_are_those_of_the_model_translated_again():
    plan = CompiledPlan(piles_model(), piles=True)
    for k in (0, 1, 2, 3, None):
        again = piles_model()
        if k is not None:
            empty_piles_by(again, k)
        assert_same_arrays(_reduce(plan.linear_model(k), False), _reduce(CompiledPlan(again).linear_model(), False))


@pytest.fixture(scope="module")
def reclaim_call():
    """The arguments of the last model of green's plan on a small synthetic deposit."""
    calls = []
    original = scheduling._reclaim

    def spy(*args):
        calls.append(args)
        return original(*args)

    model = synthetic_deposit(2000, seed=3)
    deposit = value_deposit(model, default_economics(model.block_size[2]))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(scheduling, "_reclaim", spy)
        compare(deposit, ["green"], budget=None)
    assert calls
    return calls[0]


def test_the_bisection_hands_highs_the_arrays_of_each_period(reclaim_call):
    (parcels, piles, mined, route, whole), settings, extend, last = reclaim_call
    steady = scheduling.replace(settings, steady_milling=scheduling.STEADY_MILLING)
    plan = CompiledPlan(build_plan_model(parcels, piles, steady, extend, mined=mined, route=route, whole=whole),
                        piles=True)
    assert plan.inv_col.size and (plan.steady_rows >= 0).sum() > 1
    for k in range(last, settings.periods):
        again = build_plan_model(parcels, piles, steady, extend, mined=mined, route=route, whole=whole)
        empty_piles_by(again, k)
        assert_same_arrays(_reduce(plan.linear_model(k), False), _reduce(CompiledPlan(again).linear_model(), False))


def test_the_bisection_loads_the_plan_of_the_period_it_found(reclaim_call):
    units, settings, extend, last = reclaim_call
    model, best = scheduling._reclaim(units, settings, extend, last)
    found = best.info["empty_by"]
    assert last < found < settings.periods - 1
    parcels, piles, mined, route, whole = units
    steady = scheduling.replace(settings, steady_milling=scheduling.STEADY_MILLING)
    again = build_plan_model(parcels, piles, steady, extend, mined=mined, route=route, whole=whole)
    empty_piles_by(again, found)
    alone = solve_plan_model(again)
    assert best.objective == alone.objective
    for name in ("x", "r", "inv"):
        mine, theirs = getattr(model, name), getattr(again, name)
        assert all(mine[k].value == theirs[k].value and mine[k].fixed == theirs[k].fixed for k in theirs), name
