"""Maximum closure by pseudoflow: brute force on small DAGs, exact scaling, MineLib optima."""
from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from solvers.closure import PseudoflowSolver, is_closed, max_closure, scale_values
from solvers.errors import InputError
from solvers.problem import Precedence


# ---- reference: all closed sets of a small graph -------------------------------------------------
def brute_force(values, precedence):
    """(best value, minimal optimal closure) by enumerating every subset (numpy reference)."""
    n = values.size
    masks = ((np.arange(1 << n)[:, None] >> np.arange(n)) & 1).astype(bool)
    nodes, preds = precedence.arcs()
    closed = np.all(~masks[:, nodes] | masks[:, preds], axis=1) if nodes.size else np.ones(len(masks), bool)
    sets = masks[closed]
    totals = sets.astype(np.float64) @ values
    best = totals.max()
    optimal = sets[np.isclose(totals, best, rtol=0, atol=1e-9)]
    return best, np.logical_and.reduce(optimal, axis=0)


@st.composite
def dags(draw, max_nodes=12, integral=True):
    n = draw(st.integers(1, max_nodes))
    order = draw(st.permutations(range(n)))
    density = draw(st.floats(0.0, 0.6))
    seeds = draw(st.lists(st.floats(0, 1), min_size=n * n, max_size=n * n))
    nodes, preds = [], []
    for a in range(n):
        for b in range(n):
            if order[a] < order[b] and seeds[a * n + b] < density:
                nodes.append(b)       # b needs a: a is taken first
                preds.append(a)
    if integral:
        values = draw(st.lists(st.integers(-20, 20), min_size=n, max_size=n))
    else:
        values = draw(st.lists(st.floats(-50, 50, allow_nan=False, allow_infinity=False), min_size=n, max_size=n))
    return np.array(values, dtype=np.float64), Precedence.from_arcs(n, nodes, preds)


@settings(max_examples=150, deadline=None)
@given(dags())
def test_integral_values_match_brute_force_and_minimal_closure(case):
    values, prec = case
    res = max_closure(values, prec)
    best, minimal = brute_force(values, prec)
    assert is_closed(res.solution, prec)
    assert res.objective == pytest.approx(best, abs=1e-9)
    assert np.array_equal(res.solution, minimal)          # documented tie-break: the minimal optimal closure
    assert res.status == "optimal" and res.bound == res.objective and res.info["n_in_pit"] == res.solution.sum()


@settings(max_examples=100, deadline=None)
@given(dags(integral=False))
def test_float_values_match_brute_force(case):
    values, prec = case
    res = max_closure(values, prec)
    best, _ = brute_force(values, prec)
    assert is_closed(res.solution, prec)
    assert res.objective == pytest.approx(best, rel=1e-9, abs=1e-7)


def test_decimal_values_are_solved_exactly():
    prec = Precedence.from_arcs(3, [2, 2], [0, 1])
    res = max_closure([-0.1, -0.2, 0.3], prec)        # 0.3 - 0.1 - 0.2 is 0 in decimals, not in floats
    assert res.info["exact"] and res.info["scale"] == 10
    assert not res.solution.any() and res.objective == 0.0


def test_scale_detection_and_refusals():
    scaled, scale = scale_values([1.5, -2.25, 3.0])
    assert scale == 100 and scaled.tolist() == [150, -225, 300]
    assert scale_values([1.0, 2.0])[1] == 1
    assert scale_values([np.pi, 1.0])[1] is None
    with pytest.raises(InputError, match="block 1 is nan"):
        scale_values([1.0, np.nan])
    with pytest.raises(InputError, match="inf"):
        max_closure([np.inf], Precedence.empty(1))
    with pytest.raises(InputError, match="too large"):
        scale_values([9e18, -9e18])


def test_scale_reads_every_chunk_and_holds_no_model_sized_temporaries():
    import tracemalloc
    n = 1_000_003                                       # several of scale_values' chunks, the last one short
    values = np.arange(n, dtype=np.float64) - n // 2
    values[-1] += 0.25                                  # the only fraction, in the last chunk; the sample skips it
    tracemalloc.start()
    scaled, scale = scale_values(values)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert scale == 100 and np.array_equal(scaled / 100, values)
    assert peak < 1.5 * scaled.nbytes                   # the result and small buffers (model-sized: 4x or more)
    values[n - 2] = np.nan
    with pytest.raises(InputError, match=f"block {n - 2} is nan"):
        scale_values(values)


def test_solver_is_reusable_and_checks_length():
    prec = Precedence.from_arcs(4, [1, 2, 3], [0, 1, 1])
    solver = PseudoflowSolver(prec)
    assert solver.solve([-1, -1, 3, -5]).solution.tolist() == [True, True, True, False]
    assert solver.solve([-1, -1, 1, 1]).solution.tolist() == [False, False, False, False]
    assert solver.solve([2, -1, 0, 0]).solution.tolist() == [True, False, False, False]
    with pytest.raises(InputError, match="3 values for 4 blocks"):
        solver.solve([1, 2, 3])
    with pytest.raises(InputError, match="Precedence or GridPrecedence"):
        PseudoflowSolver([[1, 2]])


def test_cycles_are_taken_whole_and_fixed_warm_start():
    prec = Precedence.from_arcs(3, [0, 1, 2], [1, 0, 1])   # 0 <-> 1 cycle, 2 needs 1
    assert max_closure([3, -1, -5], prec).solution.tolist() == [True, True, False]
    assert max_closure([3, -4, 0], prec).solution.tolist() == [False, False, False]
    res = PseudoflowSolver(prec).solve([3, -4, 2], fixed=np.array([True, True, False]))
    assert res.solution.tolist() == [True, True, True] and res.objective == 1.0


def test_result_summary_is_json_ready():
    res = max_closure([1.0], Precedence.empty(1))
    s = res.summary()
    assert "solution" not in s and s["info"]["n_in_pit"] == 1 and s["algorithm"] == "pseudoflow"
    assert json.loads(json.dumps(s)) == s


PUBLISHED = {"newman1": 26_086_899.026, "zuck_small": 1_422_726_897.735, "kd": 652_195_036.915}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_minelib_published_optimum_and_solution(minelib, name):
    from orepit.data.minelib import load_instance, read_upit_solution
    from solvers.check import check_pit

    problem = load_instance(minelib / name).upit()
    res = max_closure(problem.values, problem.precedence)
    assert res.objective == pytest.approx(PUBLISHED[name], rel=1e-6)
    report = check_pit(problem, res.solution)
    assert report.feasible and report.objective == pytest.approx(res.objective, rel=1e-12)
    published = read_upit_solution(minelib / name / f"{name}_upit.sol", problem.n_blocks)
    mask = np.zeros(problem.n_blocks, bool)
    mask[published] = True
    assert res.objective == pytest.approx(float(np.sum(problem.values[mask])), rel=1e-12)
    assert np.array_equal(res.solution, mask)


@settings(max_examples=80, deadline=None)
@given(dags())
def test_highest_label_variant_agrees(case):
    values, prec = case
    solver = PseudoflowSolver(prec)
    solver.lowest_first = False
    res = solver.solve(values)
    best, minimal = brute_force(values, prec)
    assert res.objective == pytest.approx(best, abs=1e-9) and np.array_equal(res.solution, minimal)


def test_within_restricts_to_a_closed_set():
    prec = Precedence.from_arcs(4, [1, 2, 3], [0, 0, 1])     # chain 3 -> 1 -> 0, and 2 -> 0
    solver = PseudoflowSolver(prec)
    full = solver.solve([-1.0, -1.0, 3.0, 5.0])
    assert full.solution.all()
    res = solver.solve([-1.0, -1.0, 3.0, 5.0], within=np.array([True, False, True, False]))
    assert res.solution.tolist() == [True, False, True, False] and res.objective == 2.0
    with pytest.raises(InputError, match="within mask"):
        solver.solve([0.0] * 4, within=[True])


def test_numerical_edge_cases():
    chain = Precedence.from_arcs(3, [1, 2], [0, 1])                      # 2 needs 1 needs 0
    empty = max_closure(np.array([-1.0, -2.0, -3.0]), chain)
    assert empty.info["n_in_pit"] == 0 and empty.objective == 0.0 and empty.status == "optimal"
    everything = max_closure(np.array([1.0, 2.0, 3.0]), chain)
    assert everything.solution.all() and everything.objective == 6.0
    ties = max_closure(np.array([-1.0, 0.0, 1.0]), chain)                # value 0 either way: minimal pit
    assert ties.info["n_in_pit"] == 0 and ties.objective == 0.0
    single = max_closure(np.array([5.0]), Precedence.empty(1))
    assert single.solution.tolist() == [True]
    huge = max_closure(np.array([-4e15, 9e15, 1e15]), chain)              # near the int64 scaling limit
    assert huge.objective == pytest.approx(6e15, rel=1e-12) and huge.solution.all()
