"""Nested pits over revenue factors and the pit-by-pit table."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from orepit.planning.pits import ShellInputs, nested_shells, pit_by_pit, ultimate_pit
from solvers.closure import is_closed, max_closure
from solvers.errors import InputError
from solvers.nested import nested_closures, nested_pits, parse_factors, pit_of_shells
from solvers.problem import Precedence

from test_closure import dags


@settings(max_examples=60, deadline=None)
@given(dags(max_nodes=10), st.lists(st.integers(0, 30), min_size=10, max_size=10),
       st.lists(st.floats(0.1, 3.0), min_size=1, max_size=6))
def test_nested_closures_are_nested_and_optimal(case, revenue, factors):
    cost, prec = case
    n = cost.size
    revenue = np.array(revenue[:n], dtype=np.float64)
    res = nested_closures(revenue, cost, factors, prec)
    pits = [pit_of_shells(res.solution, i) for i in range(len(res.info["factors"]))]
    assert np.all(np.diff(res.info["factors"]) > 0)
    for a, b in zip(pits, pits[1:]):
        assert not np.any(a & ~b)                       # nested
    assert res.status == "optimal" and res.bound == res.objective == res.info["objectives"][-1]
    for f, pit, obj in zip(res.info["factors"], pits, res.info["objectives"]):
        values = f * revenue - cost
        assert is_closed(pit, prec)
        assert obj == pytest.approx(max_closure(values, prec).objective, abs=1e-7)
        assert obj == pytest.approx(float(values[pit].sum()), abs=1e-7)


@settings(max_examples=40, deadline=None)
@given(dags(max_nodes=9), st.lists(st.integers(-10, 10), min_size=9, max_size=9))
def test_nested_even_with_negative_revenue(case, revenue):
    cost, prec = case
    revenue = np.array(revenue[:cost.size], dtype=np.float64)
    res = nested_closures(revenue, cost, [0.5, 1.0, 1.5, 2.0], prec)
    pits = [pit_of_shells(res.solution, i) for i in range(4)]
    for a, b in zip(pits, pits[1:]):
        assert not np.any(a & ~b) and is_closed(b, prec)
    # the last pit contains the others, so it may fall short of the maximum closure: the bound says so
    best = max_closure(2.0 * revenue - cost, prec).objective
    assert res.bound == pytest.approx(best) and res.objective <= best + 1e-9
    assert res.status == ("optimal" if (revenue >= 0).all() else "feasible")


@settings(max_examples=60, deadline=None)
@given(dags(max_nodes=10), st.lists(st.integers(0, 30), min_size=10, max_size=10), st.floats(0.0, 2.0))
def test_nested_within_a_closed_set_are_the_shells_of_the_set_alone(case, revenue, size):
    """Solved within a closed set, the shells are those of the values with every node outside the
    set priced out, whatever the outside nodes are worth."""
    cost, prec = case
    n = cost.size
    revenue = np.array(revenue[:n], dtype=np.float64)
    within = max_closure(size * revenue - cost, prec).solution
    big = np.abs(revenue).sum() * 2.0 + np.abs(cost).sum() + 1.0
    factors = [0.3, 0.8, 1.5, 2.5]
    alone = nested_pits(lambda f: f * revenue - cost, factors, prec, within=within)
    priced_out = nested_pits(lambda f: np.where(within, f * revenue - cost, -big), factors, prec)
    assert np.array_equal(alone.solution, priced_out.solution)
    assert alone.status == "optimal" and alone.objective == pytest.approx(priced_out.objective)


@given(dags(max_nodes=10), st.lists(st.integers(0, 30), min_size=10, max_size=10), st.floats(0.0, 2.0),
       st.floats(0.0, 1.0))
def test_nested_pits_from_a_core_are_the_pits_without_it(case, revenue, size, rise):
    """A core (the first pit of values nowhere above these, within a smaller closed set) changes
    nothing but the nodes the solves work on."""
    cost, prec = case
    n = cost.size
    revenue = np.array(revenue[:n], dtype=np.float64)
    within = max_closure(size * revenue - cost, prec).solution
    smaller = max_closure((size - rise) * revenue - cost, prec).solution & within
    factors = [0.3, 0.8, 1.5, 2.5]
    earlier = nested_pits(lambda f: f * (1 - rise / 2) * revenue - cost, factors, prec, within=smaller)
    core = earlier.solution == 0
    fresh = nested_pits(lambda f: f * revenue - cost, factors, prec, within=within)
    reused = nested_pits(lambda f: f * revenue - cost, factors, prec, within=within, core=core)
    assert np.array_equal(fresh.solution, reused.solution)
    assert reused.objective == fresh.objective and reused.info["core_nodes"] == int(core.sum())


def test_a_core_outside_the_bounding_set_is_refused():
    prec = Precedence.from_arcs(2, [1], [0])
    with pytest.raises(InputError, match="core"):
        nested_pits(lambda f: np.array([f, f]), [1.0], prec, within=np.array([True, False]),
                    core=np.array([False, True]))


def test_parse_factors():
    assert parse_factors("0.3:2.0:0.05").size == 35
    assert parse_factors("0.3:2.0:0.05")[-1] == pytest.approx(2.0)
    assert parse_factors("1.5,0.5,1").tolist() == [0.5, 1.0, 1.5]
    with pytest.raises(InputError, match="start:stop:step"):
        parse_factors("1:0:0.1")
    with pytest.raises(InputError):
        parse_factors("a,b")


def test_pit_by_pit_hand_computed():
    # two columns; block ids: 0 (bottom, ore) under 1 (waste); 2 (bottom, low-grade ore) under 3 (waste)
    prec = Precedence.from_arcs(4, [0, 2], [1, 3])
    inputs = ShellInputs(margin=np.array([30.0, -1.0, 12.0, -1.0]), mining_cost=np.array([2.0, 10.0, 2.0, 10.0]),
                         tonnage=np.array([100.0, 100.0, 100.0, 100.0]), bench=np.array([0, 1, 0, 1]))
    nested = nested_shells(inputs, prec, [0.5, 1.0])
    # f = 0.5: column 0 is worth 15 - 2 - 10 = 3 > 0, column 1 is 6 - 12 < 0; f = 1: column 1 is 12 - 12 = 0 (left out)
    assert nested.solution.tolist() == [0, 0, -1, -1]
    nested = nested_shells(inputs, prec, [0.5, 1.5])
    assert nested.solution.tolist() == [0, 0, 1, 1]
    table = pit_by_pit(nested, inputs, mining_rate=100.0, discount_rate=0.1)
    row1, row2 = table.iloc[0], table.iloc[1]
    assert row1.ore_t == 100 and row1.waste_t == 100 and row1.strip_ratio == 1.0
    assert row1.value == 18.0 and row2.value == 18.0 + 0.0
    # best case: shell 1 top first (block 1 in period 0, block 0 in period 1), then block 3 (2), block 2 (3);
    # a block's period is the tonnes mined before it over the rate, discounted by 1.1 ** -period
    best = -10 + 28 / 1.1 - 10 / 1.1 ** 2 + 10 / 1.1 ** 3
    # worst case: bench 1 (blocks 1, 3) then bench 0 (blocks 0, 2)
    worst = -10 - 10 / 1.1 + 28 / 1.1 ** 2 + 10 / 1.1 ** 3
    assert row2.best_case_dv == pytest.approx(best) and row2.worst_case_dv == pytest.approx(worst)
    assert row1.best_case_dv == pytest.approx(-10 + 28 / 1.1) == row1.worst_case_dv
    with pytest.raises(InputError, match="mining rate"):
        pit_by_pit(nested, inputs, mining_rate=0, discount_rate=0.1)


def test_ultimate_pit_of_values_and_model():
    from orepit.data.model import BlockModel
    import pandas as pd

    frame = pd.DataFrame({"i": [0, 1, 2, 1], "j": [0, 0, 0, 0], "k": [1, 1, 1, 0], "value": [-1.0, -1.0, -1.0, 5.0]})
    model = BlockModel(frame, block_size=(10, 10, 10))
    res = ultimate_pit(model, {"pattern": "column"})
    assert res.solution.tolist() == [False, True, False, True] and res.objective == 4.0
    res = ultimate_pit(model, {"slope": 45, "levels": 1})      # the plus pattern: both side neighbours too
    assert res.solution.all() and res.objective == 2.0
    assert ultimate_pit(np.array([1.0, -2.0]), Precedence.from_arcs(2, [0], [1])).objective == 0.0
    assert math.isfinite(res.seconds)


def test_shell_inputs_validation():
    with pytest.raises(InputError, match="tonnage has 1 entries"):
        ShellInputs(np.zeros(2), np.zeros(2), np.zeros(1), np.zeros(2))
    inp = ShellInputs.from_destinations([-5.0, -5.0], [10.0, -8.0], [1.0, 1.0], [0, 0])
    assert inp.values(1.0).tolist() == [10.0, -5.0]
