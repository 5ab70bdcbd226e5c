"""Earliest periods: the cone rule by a plain search, never later than any feasible schedule mines
a block (all schedules enumerated), and the LP with them held back: still above the optimum, equal
to the full LP with those columns fixed, below the plain LP where they bind, and on zuck_small."""
from __future__ import annotations

import numpy as np
import pytest

from solvers import bz, earliest, mip
from solvers.problem import CpitProblem, PcpspProblem, Precedence
from solvers.schedule import solve_schedule
from _schedule_cases import brute_force, precedence_feasible_periods


def deep_problem(seed: int, n: int = 7, T: int = 3, D: int = 1, R: int = 1) -> PcpspProblem:
    """A random instance whose cones are deep (each block needs the one before it and maybe another)
    and whose limits hold only part of a deep cone a period: earliest periods above 0."""
    rng = np.random.default_rng(seed)
    nodes, preds = [], []
    for b in range(1, n):
        for p in {b - 1, int(rng.integers(0, b))}:
            nodes.append(b)
            preds.append(p)
    prec = Precedence.from_arcs(n, nodes, preds)
    values = rng.normal(2.0, 10.0, size=(n, D)).round(2)
    coef = rng.uniform(1.0, 3.0, size=(n, D, R)).round(2)
    if D > 1:
        coef[:, 0, :] *= 0.5                     # the cheaper destination sets the least use
    upper = np.full((R, T), coef.min(axis=1).sum(axis=0).max() * rng.uniform(0.3, 0.45))
    lower = np.full((R, T), -np.inf)
    if D == 1:
        return CpitProblem(values[:, 0], prec, T, 0.1, coef[:, 0, :], lower, upper, name=f"deep{seed}")
    return PcpspProblem(values, prec, T, 0.1, coef, lower, upper, name=f"deep{seed}")


def cone_rule(problem) -> np.ndarray:
    """The rule as written: the first period whose summed limits hold the cone's least use."""
    n = problem.n_blocks
    use = problem.resource_coef.min(axis=1)
    cum = np.cumsum(problem.resource_upper, axis=1)
    out = np.zeros(n, dtype=np.int64)
    for b in range(n):
        cone, stack = {b}, [b]
        while stack:
            for p in problem.precedence.predecessors(stack.pop()):
                if int(p) not in cone:
                    cone.add(int(p))
                    stack.append(int(p))
        total = use[sorted(cone)].sum(axis=0)
        fits = np.all(total[:, None] <= cum + 1e-9, axis=0)
        out[b] = int(np.argmax(fits)) if fits.any() else problem.n_periods
    return out


def feasible_periods(problem):
    """Every feasible CPIT schedule as each block's period (-1: not mined)."""
    use = problem.resource_coef[:, 0, :]
    for p in precedence_feasible_periods(problem.precedence, problem.n_periods):
        per = np.array([use[p == t].sum(axis=0) for t in range(problem.n_periods)]).T
        if np.all(per <= problem.resource_upper + 1e-9):
            yield p


CASES = range(8)


@pytest.mark.parametrize("seed", CASES)
def test_earliest_periods_follow_the_cone_rule(seed):
    for D, R in ((1, 1), (2, 2)):
        problem = deep_problem(seed, D=D, R=R)
        assert earliest.earliest_periods(problem).tolist() == cone_rule(problem).tolist()


@pytest.mark.parametrize("seed", CASES)
def test_no_feasible_schedule_mines_a_block_before_its_earliest_period(seed):
    problem = deep_problem(seed)
    first = earliest.earliest_periods(problem)
    schedules = list(feasible_periods(problem))
    assert schedules
    latest_first = np.full(problem.n_blocks, problem.n_periods)      # earliest period seen per block
    for p in schedules:
        mined = p >= 0
        assert np.all(p[mined] >= first[mined])
        latest_first[mined] = np.minimum(latest_first[mined], p[mined])
    assert np.all(first <= latest_first)


def test_earliest_periods_bind_in_these_cases():
    """The cases above are not vacuous: blocks held back in each."""
    for seed in CASES:
        assert earliest.earliest_periods(deep_problem(seed)).max() >= 1


def test_a_truncated_cone_gives_a_smaller_earliest_period_never_a_larger_one():
    problem = deep_problem(3, n=7, T=3)
    full = earliest.earliest_periods(problem)
    cut = earliest.earliest_periods(problem, max_visits=2)
    assert np.all(cut <= full) and np.any(cut < full)
    nodes, preds = problem.precedence.arcs()
    assert np.all(cut[nodes] >= cut[preds])                           # never falls along an arc


def test_a_block_is_never_held_back_less_than_its_predecessors():
    """With the cones cut to the blocks themselves, block 1 alone would fit period 0; block 0,
    which it needs, does not."""
    prec = Precedence.from_arcs(3, [1, 2], [0, 1])                     # 2 needs 1 needs 0
    problem = CpitProblem(np.ones(3), prec, 3, 0.1, np.array([[3.0], [1.0], [1.0]]), -np.inf, 2.0)
    assert earliest.earliest_periods(problem).tolist() == [1, 1, 2]
    assert earliest.earliest_periods(problem, max_visits=1).tolist() == [1, 1, 1]


def test_negative_resource_coefficients_count_for_nothing():
    prec = Precedence.from_arcs(3, [1, 2], [0, 1])
    coef = np.array([[2.0], [2.0], [-1.0]])
    problem = CpitProblem(np.ones(3), prec, 3, 0.1, coef, -np.inf, 2.0)
    assert earliest.earliest_periods(problem).tolist() == [0, 0, 0]


@pytest.mark.parametrize("seed", CASES)
@pytest.mark.parametrize("D,R", [(1, 1), (2, 2)])
def test_lp_held_back_is_the_fixed_full_lp_and_above_the_optimum(seed, D, R):
    problem = deep_problem(seed, n=6, D=D, R=R)
    first = earliest.earliest_periods(problem)
    held = bz.solve_lp(problem, earliest=first)
    plain = bz.solve_lp(problem)
    lm = mip.build_matrices(problem)
    early = np.arange(problem.n_periods)[None, :] < first[:, None]             # (b, t)
    lm.fix(lm.groups["w"][early], 0.0)                                        # not mined by t
    full = lm.solve(relax=True, threads=1)
    assert held.status == "optimal"
    assert held.objective == pytest.approx(full.objective, rel=1e-7, abs=1e-7)
    assert held.bound >= brute_force(problem) - 1e-6
    assert held.bound <= plain.bound + 1e-6


def test_holding_back_tightens_the_lp_where_it_binds():
    tighter = 0
    for seed in CASES:
        problem = deep_problem(seed, n=6)
        held = bz.solve_lp(problem, earliest=earliest.earliest_periods(problem))
        tighter += held.bound < bz.solve_lp(problem).bound - 1e-6
    assert tighter >= 3


def test_the_schedule_pipeline_holds_blocks_back():
    problem = deep_problem(5, n=7)
    res = solve_schedule(problem, time_limit=30, threads=1)
    plain = bz.solve_lp(problem)
    assert res.info["lp"]["blocks_held_back"] == int(np.count_nonzero(earliest.earliest_periods(problem)))
    assert res.info["lp"]["bound"] < plain.bound - 1e-6
    assert res.objective == pytest.approx(brute_force(problem), rel=1e-6)


@pytest.mark.slow        # 20 s: CI runs it after the suite
def test_zuck_small_cpit_bound_below_the_published_lp_and_above_the_best_known(instance):
    from orepit.data.minelib import load_instance

    problem = load_instance(instance("zuck_small")).problem("cpit")
    first = earliest.earliest_periods(problem)
    assert np.bincount(first).tolist() == [7502, 742, 387, 263, 199, 138, 104, 42, 23]
    res = bz.solve_lp(problem, time_limit=600, earliest=first)
    assert res.status == "optimal"
    assert res.bound == pytest.approx(851_568_738, rel=1e-6)
    assert 848_112_016 < res.bound < 854_182_396            # best known schedule < bound < MineLib's LP
