"""Bienstock-Zuckerberg LP: equals the full LP solved by HiGHS, bound valid, published LP values."""
from __future__ import annotations


import numpy as np
import pytest

from solvers import bz, mip
from _schedule_cases import random_problem


def _full_lp(problem, threads=1):
    lp = mip.build_matrices(problem).solve(relax=True, threads=threads)
    assert lp.status == "optimal"
    return lp.objective


@pytest.mark.parametrize("case", [dict(seed=s, n=8, T=3, D=1, R=1) for s in range(3)] +
                         [dict(seed=10 + s, n=8, T=3, D=2, R=2) for s in range(3)], ids=lambda c: f"seed{c['seed']}")
def test_bz_equals_full_lp_random(case):
    problem = random_problem(**case)
    res = bz.solve_lp(problem)
    lp = _full_lp(problem)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(lp, rel=1e-7, abs=1e-7)
    assert res.bound >= lp - 1e-6 * max(1, abs(lp))


def test_bz_fractions_are_feasible_lp_solution():
    problem = random_problem(seed=11, n=8, T=3, D=2, R=2)
    res = bz.solve_lp(problem)
    y = res.solution                                              # (b, d, t)
    disc = problem.discount_factors()
    assert float((problem.values[:, :, None] * disc * y).sum()) == pytest.approx(res.objective, rel=1e-7)
    use = np.einsum("bdr,bdt->rt", problem.resource_coef, y)
    assert np.all(use <= problem.resource_upper + 1e-6)
    w = np.cumsum(y.sum(axis=1), axis=1)
    nodes, preds = problem.precedence.arcs()
    assert np.all(w[nodes] <= w[preds] + 1e-7)
    assert np.all(w <= 1 + 1e-7)


@pytest.mark.parametrize("kind,published", [("cpit", 24_486_184), ("pcpsp", 24_486_549)])
def test_bz_equals_highs_lp_newman1(instance, kind, published):
    from orepit.data.minelib import load_instance

    problem = load_instance(instance("newman1")).problem(kind)
    res = bz.solve_lp(problem)
    lp = _full_lp(problem, threads=2)
    assert lp == pytest.approx(published, rel=1e-6)         # the full LP is MineLib's published relaxation
    assert res.status == "optimal"
    assert res.objective == pytest.approx(lp, rel=1e-6)
    assert res.bound == pytest.approx(lp, rel=1e-6)
    assert res.bound >= lp * (1 - 1e-9)
    assert res.objective == pytest.approx(published, rel=1e-3)


@pytest.mark.parametrize("name,kind,published", [
    pytest.param("kd", "cpit", 409_498_555, marks=pytest.mark.slow),   # 20 s: CI runs it after the suite
    # BZ on a PCPSP against its published LP value is checked in the fast suite on newman1 (above)
    pytest.param("kd", "pcpsp", 410_891_003, marks=pytest.mark.slow),   # 40 s: CI runs it after the suite
    pytest.param("zuck_small", "cpit", 854_182_396, marks=pytest.mark.slow),   # 30 s: CI runs it after the suite
    pytest.param("zuck_small", "pcpsp", 905_878_172, marks=pytest.mark.slow)])   # 1.5 min: CI runs it after the suite
def test_bz_matches_published_lp(instance, name, kind, published):
    from orepit.data.minelib import load_instance

    problem = load_instance(instance(name)).problem(kind)
    res = bz.solve_lp(problem, time_limit=600)
    assert res.status == "optimal"
    assert res.bound == pytest.approx(published, rel=1e-3)
    assert res.bound >= res.objective
