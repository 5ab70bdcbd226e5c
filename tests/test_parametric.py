"""Parametric closures: one pseudoflow state for rising values, against brute force and cold solves."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st

from solvers.closure import PseudoflowSolver, is_closed
from solvers.errors import InfeasibleError, InputError
from solvers.nested import nested_pits
from solvers.parametric import ParametricClosure, smallest_parameter
from solvers.patterns import GridPrecedence
from solvers.problem import Precedence

from test_closure import brute_force, dags


def closed_sets(precedence, n):
    """Every closed set of a small graph, one boolean row each."""
    masks = ((np.arange(1 << n)[:, None] >> np.arange(n)) & 1).astype(bool)
    nodes, preds = precedence.arcs()
    return masks[np.all(~masks[:, nodes] | masks[:, preds], axis=1)] if nodes.size else masks


def brute_smallest(a, b, q, target, precedence, start):
    """(pit, lam) of `smallest_parameter` by walking the upper envelope of all closed sets' value lines:
    the minimal maximum closure at start, else the minimal one just above each breakpoint in turn."""
    sets = closed_sets(precedence, a.size)
    A, B, Q = (sets.astype(np.float64) @ v for v in (a, b, q))
    lam = start
    line = A + lam * B
    opt = np.isclose(line, line.max(), rtol=0, atol=1e-9)
    if np.logical_and.reduce(sets[opt], axis=0) @ q >= target:
        return np.logical_and.reduce(sets[opt], axis=0), lam
    while True:
        steepest = opt & (B == B[opt].max())                # the maximum closures just above lam
        right = np.logical_and.reduce(sets[steepest], axis=0)
        if right @ q >= target:
            return right, lam
        steeper = B > right @ b
        if not steeper.any():
            return None, math.inf
        lam = float(np.min((right @ a - A[steeper]) / (B[steeper] - right @ b)))
        line = A + lam * B
        opt = np.isclose(line, line.max(), rtol=0, atol=1e-9)


def cold_bisection(a, b, q, target, solver, iterations=40, resolution=0.0):
    """The search `smallest_parameter` replaces: cold closures at doubling, then bisected, parameters
    (until the bracket is at most ``resolution * max(1, high)`` wide)."""
    low, high = 0.0, 1.0
    while q[solver.solve(a + high * b).solution].sum() < target:
        high *= 2.0
    for _ in range(iterations):
        if high - low <= resolution * max(1.0, high):
            break
        mid = 0.5 * (low + high)
        if q[solver.solve(a + mid * b).solution].sum() >= target:
            high = mid
        else:
            low = mid
    return solver.solve(a + high * b).solution, high


@settings(max_examples=120, deadline=None)
@given(dags(max_nodes=10), st.lists(st.integers(0, 6), min_size=10, max_size=10),
       st.lists(st.sampled_from([0.1, 0.25, 0.5, 1.0, 1 / 3, 1.7, 2.0, 3.5, math.pi]), min_size=1, max_size=7))
def test_each_solve_is_the_minimal_maximum_closure(case, slopes, params):
    a, prec = case
    b = np.array(slopes[:a.size], dtype=np.float64)
    closure = ParametricClosure(prec)
    for lam in sorted(set(params)):
        values = a + lam * b
        res = closure.solve(values)
        best, minimal = brute_force(values, prec)
        assert np.array_equal(res.solution, minimal), lam
        assert res.objective == pytest.approx(best, abs=1e-9)


def test_the_scale_widens_then_turns_to_float():
    prec = Precedence.from_arcs(3, [2, 2], [0, 1])
    closure = ParametricClosure(prec)
    seen = []
    for top in (5.5, 6.95, 7.0, 7 + 1 / 3):          # all three blocks: -1.5, -0.05, 0, +1/3
        res = closure.solve([-3.0, -4.0, top])
        seen.append((res.info["scale"], res.solution.tolist()))
    assert seen[0] == (10, [False, False, False])
    assert seen[1] == (100, [False, False, False])
    assert seen[2] == (100, [False, False, False])   # value exactly 0: the minimal closure leaves it out
    assert seen[3][0] is None and seen[3][1] == [True, True, True]


def test_falling_values_are_refused():
    closure = ParametricClosure(Precedence.from_arcs(2, [1], [0]))
    closure.solve([-1.0, 3.0])
    with pytest.raises(InputError, match="node 1 fell from 3.0 to 2.0"):
        closure.solve([-1.0, 2.0])


def test_masks_bind_over_the_whole_sequence():
    prec = Precedence.from_arcs(4, [1, 2, 3], [0, 0, 1])     # chain 3 -> 1 -> 0, and 2 -> 0
    within = np.array([True, False, True, False])
    closure = ParametricClosure(prec, within=within)
    for f in (1.0, 2.0, 5.0):
        pit = closure.solve(np.array([-4.0, -1.0, 1.0, 2.0]) * [1, 1, f, f]).solution
        assert not np.any(pit & ~within)
    assert pit.tolist() == [True, False, True, False]
    fixed = np.array([True, False, False, False])
    closure = ParametricClosure(prec, fixed=fixed)
    assert closure.solve([-4.0, -1.0, 0.5, 0.0]).solution.tolist() == [True, False, True, False]
    assert closure.solve([-4.0, -1.0, 0.5, 2.0]).solution.tolist() == [True, True, True, True]


@settings(max_examples=150, deadline=None)
@given(dags(max_nodes=9), st.lists(st.integers(0, 5), min_size=18, max_size=18), st.floats(0.0, 1.0),
       st.sampled_from([0.0, 0.5, 2.0]))
def test_smallest_parameter_matches_the_envelope_of_all_closures(case, numbers, share, start):
    a, prec = case
    n = a.size
    b = np.array(numbers[:n], dtype=np.float64)
    q = np.array(numbers[9:9 + n], dtype=np.float64)
    target = share * q.sum()
    expected, lam_expected = brute_smallest(a, b, q, target, prec, start)
    if expected is None:
        with pytest.raises(InfeasibleError):
            smallest_parameter(a, b, q, target, prec, start=start)
        return
    pit, lam = smallest_parameter(a, b, q, target, prec, start=start)
    assert lam == pytest.approx(lam_expected, rel=1e-9, abs=1e-9)
    assert np.array_equal(pit, expected) and is_closed(pit, prec)
    assert q[pit].sum() >= target


@settings(max_examples=60, deadline=None)
@given(dags(max_nodes=9), st.lists(st.integers(0, 5), min_size=9, max_size=9), st.floats(0.05, 1.0))
@example((np.array([0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0]), Precedence.from_arcs(7, [], [])),
         [0, 0, 0, 0, 0, 1, 2, 0, 0], 0.5)              # breakpoint at 0: the bisection ends near 0
def test_smallest_parameter_gives_the_cold_bisections_answer(case, numbers, share):
    a, prec = case
    q = np.array(numbers[:a.size], dtype=np.float64)
    target = share * q.sum()
    if target <= 0 or q[PseudoflowSolver(prec).solve(a).solution].sum() >= target:
        return
    pit, lam = smallest_parameter(a, q, q, target, prec)
    # bisected no finer than the bound below allows: a step of 1e-12 would leave values (here ~1)
    # under the solver's float tolerance, and the cold closure would miss nodes worth lam * q
    cold_pit, credit = cold_bisection(a, q, q, target, PseudoflowSolver(prec), resolution=2.0 ** -30)
    assert np.array_equal(pit, cold_pit)
    assert lam <= credit <= lam + 1e-9 * max(1.0, lam) + 2.0 ** -30 * max(1.0, credit)


@settings(max_examples=100, deadline=None)
@given(dags(max_nodes=9), st.lists(st.integers(0, 5), min_size=18, max_size=18), st.floats(0.0, 1.0),
       st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_smallest_parameter_continues_from_earlier_states_to_the_same_answer(case, numbers, first, second, below):
    """A search that continues from an earlier search's state (``states``) finds the same pit and
    parameter as a fresh one, and starts no fresh pseudoflow state of its own."""
    a, prec = case
    n = a.size
    b = np.array(numbers[:n], dtype=np.float64)
    q = np.array(numbers[9:9 + n], dtype=np.float64)
    states = {}
    try:
        smallest_parameter(a, b, q, first * q.sum(), prec, states=states)
        lam_cold = smallest_parameter(a, b, q, second * q.sum(), prec)[1]
    except InfeasibleError:
        return
    assert states and min(states) >= 0.0
    kept = min(states)
    start = max(kept, below * lam_cold)                 # a start at or above a state kept
    pit_cold, lam_cold = smallest_parameter(a, b, q, second * q.sum(), prec, start=start)
    counting = _StartCounting(prec)
    pit, lam = smallest_parameter(a, b, q, second * q.sum(), solver=counting, start=start, states=states)
    assert np.array_equal(pit, pit_cold) and lam == pytest.approx(lam_cold, rel=1e-9, abs=1e-12)
    assert counting.starts == 0
    assert len(states) == 1                             # one state kept
    if start > kept:
        assert min(states) == kept                      # the lowest: it serves any later start
    else:
        assert min(states) >= start                     # the one at the start itself, moved on


def test_a_state_at_the_start_itself_is_moved_on_not_copied():
    """A first closure made elsewhere at the search's start (e.g. green's values at no credit, made
    with the economic pit) is taken by the search, which starts no state of its own and leaves its
    own lower end in that state's place."""
    prec = Precedence.from_arcs(3, [2, 2], [0, 1])
    a, b, q = np.array([-1.0, -2.0, -3.0]), np.ones(3), np.ones(3)
    cold = smallest_parameter(a, b, q, 3.0, prec)
    counting = _StartCounting(prec)
    seed = ParametricClosure(counting)
    seed.closure(a)
    counting.starts = 0
    states = {0.0: seed}
    pit, lam = smallest_parameter(a, b, q, 3.0, solver=counting, states=states)
    assert np.array_equal(pit, cold[0]) and lam == cold[1] > 0
    assert counting.starts == 0
    assert list(states) != [0.0] and len(states) == 1 and 0.0 < min(states) <= lam


def test_one_state_is_kept_the_lowest():
    prec = Precedence.from_arcs(3, [2, 2], [0, 1])
    a, b, q = np.array([-1.0, -2.0, -3.0]), np.ones(3), np.ones(3)
    states = {}
    high = smallest_parameter(a, b, q, 3.0, prec, states=states)[1]
    low = smallest_parameter(a, b, q, 1.0, prec, states=states)[1]
    smallest_parameter(a, b, q, 3.0, prec, states=states, start=high)
    assert low < high and len(states) == 1 and min(states) <= low


class _StartCounting(PseudoflowSolver):
    starts = 0

    def start(self, scaled, active, tol):
        self.starts += 1
        return super().start(scaled, active, tol)


def test_infeasible_targets_and_bad_input():
    prec = Precedence.from_arcs(3, [1, 2], [0, 0])
    a = np.array([-5.0, 1.0, 1.0])
    with pytest.raises(InfeasibleError, match="exceeds"):
        smallest_parameter(a, [0, 1, 1], [1, 1, 1], 4.0, prec)
    with pytest.raises(InfeasibleError, match="largest holds 0"):
        smallest_parameter(a, [0, 0, 0], [0, 1, 1], 1.0, prec)   # no direction: the closure never grows
    with pytest.raises(InputError, match="direction of node 0"):
        smallest_parameter(a, [-1, 1, 1], [1, 1, 1], 1.0, prec)
    pit, lam = smallest_parameter(a, [0, 1, 1], [0, 1, 1], 2.0, prec)
    assert pit.all() and lam == pytest.approx(1.5)                 # -5 + 2 (1 + lam) = 0


def test_grid_precedence_agrees_with_cold_solves():
    rng = np.random.default_rng(3)
    prec = GridPrecedence.from_slope((9, 7, 5), (10.0, 10.0, 10.0), 45.0, 2)
    revenue = np.maximum(rng.normal(0, 3, prec.n_nodes), 0).round(2)
    cost = rng.uniform(0.5, 2.0, prec.n_nodes).round(2)
    solver = PseudoflowSolver(prec)
    closure = ParametricClosure(solver)
    for f in np.linspace(0.2, 3.0, 12):
        values = f * revenue - cost
        assert np.array_equal(closure.solve(values).solution, solver.solve(values).solution)
    pit, lam = smallest_parameter(-cost, revenue, revenue, 0.8 * revenue.sum(), solver=solver)
    cold_pit, credit = cold_bisection(-cost, revenue, revenue, 0.8 * revenue.sum(), solver)
    assert np.array_equal(pit, cold_pit) and credit == pytest.approx(lam, rel=1e-9)


@pytest.mark.parametrize("name", ["kd", "newman1"])
def test_minelib_shells_and_credit_equal_cold_solves(minelib, name):
    from orepit.data.minelib import load_instance
    from orepit.planning.pits import instance_shell_inputs

    inputs, prec = instance_shell_inputs(load_instance(minelib / name))
    solver = PseudoflowSolver(prec)
    factors = np.round(np.arange(0.3, 2.01, 0.05), 2)
    nested = nested_pits(inputs.values, factors, prec, solver)
    assert nested.status == "optimal"
    for i, f in enumerate(factors):
        cold = solver.solve(inputs.values(f))
        assert np.array_equal((nested.solution >= 0) & (nested.solution <= i), cold.solution), f
        assert nested.info["objectives"][i] == cold.objective
    values, revenue = inputs.values(0.5), np.maximum(inputs.margin, 0.0)
    target = 0.5 * (revenue[solver.solve(values).solution].sum() + revenue.sum())
    pit, lam = smallest_parameter(values, revenue, revenue, target, solver=solver)
    cold_pit, credit = cold_bisection(values, revenue, revenue, target, solver)
    # the bisection stops above the breakpoint: by its step, and by the solver's float tolerance (a
    # closure worth less than it is not taken), about 1e-10 of the credit here
    assert np.array_equal(pit, cold_pit) and lam <= credit == pytest.approx(lam, rel=1e-8)
    assert revenue[pit].sum() >= target and lam > 0
    assert revenue[solver.solve(values + 0.999 * lam * revenue).solution].sum() < target


def test_synthetic_deposit_shells_and_credit_equal_cold_solves():
    """Float values (factors in thirds: no decimal scale) on a valued synthetic deposit with air."""
    from orepit.valuation.deposit import value_deposit
    from orepit.valuation.synthetic import default_economics, synthetic_deposit

    model = synthetic_deposit(6_000, seed=3)
    deposit = value_deposit(model, default_economics(model.block_size[2]))
    solver = PseudoflowSolver(deposit.precedence)
    margin = np.where(deposit.processable, deposit.margin, 0.0)
    factors = np.arange(1, 13) / 3.0

    def values(f):
        return np.maximum(f * margin, 0.0) - deposit.mining

    nested = nested_pits(values, factors, None, solver)
    sizes = []
    for i, f in enumerate(factors):
        cold = solver.solve(values(f))
        assert not cold.info["exact"]
        assert np.array_equal((nested.solution >= 0) & (nested.solution <= i), cold.solution), f
        assert nested.info["objectives"][i] == pytest.approx(cold.objective, rel=1e-12)
        sizes.append(int(cold.solution.sum()))
    assert len(set(sizes)) >= 6                      # the shells do grow along the factors
    metal, green = deposit.recovered, deposit.pit_values(True)
    target = float(metal[solver.solve(deposit.pit_values(False)).solution].sum())
    pit, lam = smallest_parameter(green, metal, metal, target, solver=solver)
    cold_pit, credit = cold_bisection(green, metal, metal, target, solver)
    assert lam > 0 and metal[pit].sum() >= target and np.array_equal(pit, cold_pit)
    assert lam <= credit == pytest.approx(lam, rel=1e-8)
