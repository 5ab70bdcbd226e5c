"""Exact CPIT / PCPSP MIP: Pyomo model and matrix path agree with each other and with brute force."""
from __future__ import annotations

import numpy as np
import pytest

from solvers import mip
from solvers.check import check_schedule
from solvers.highs import solve_pyomo
from _schedule_cases import brute_force, random_problem

CASES = [dict(seed=s, n=5, T=2, D=1, R=1) for s in range(4)] + \
        [dict(seed=10 + s, n=4, T=2, D=2, R=2) for s in range(3)] + [dict(seed=20, n=4, T=3, D=1, R=1)]


def _canonical(A, lo, hi):
    """Rows as sorted tuples, sign-normalized (first coefficient positive), then sorted."""
    A = A.tocsr()
    rows = []
    for i in range(A.shape[0]):
        idx = A.indices[A.indptr[i]:A.indptr[i + 1]]
        val = A.data[A.indptr[i]:A.indptr[i + 1]]
        keep = val != 0
        idx, val = idx[keep], val[keep]
        order = np.argsort(idx)
        idx, val = idx[order], val[order]
        l, h = lo[i], hi[i]
        if val.size and val[0] < 0:
            val, l, h = -val, -h, -l
        rows.append((tuple(idx.tolist()), tuple(np.round(val, 9).tolist()), round(float(l), 9), round(float(h), 9)))
    return sorted(rows)


def _pyomo_highs_lp(problem, relax=False):
    """The model Pyomo hands to HiGHS, with columns in the matrix path's order."""
    from pyomo.contrib.solver.common.factory import SolverFactory

    m = mip.build_pyomo(problem, relax=relax)
    opt = SolverFactory("highs")
    opt.set_instance(m)
    lp = opt._solver_model.getLp()
    T, D = problem.n_periods, problem.n_destinations
    nw = problem.n_blocks * T
    col = np.empty(lp.num_col_, dtype=np.int64)
    for (b, t), v in m.w.items():
        col[opt._pyomo_var_to_solver_var_map[id(v)]] = b * T + t
    for (b, d, t), v in m.y.items():
        col[opt._pyomo_var_to_solver_var_map[id(v)]] = nw + (b * D + d) * T + t
    import scipy.sparse as sp
    a = lp.a_matrix_
    kind = sp.csr_matrix if str(a.format_).endswith("kRowwise") else sp.csc_matrix
    A = kind((np.asarray(a.value_), np.asarray(a.index_), np.asarray(a.start_)),
             shape=(lp.num_row_, lp.num_col_)).tocsc()
    perm = np.empty_like(col)
    perm[col] = np.arange(col.size)
    A = A[:, perm]
    c = np.asarray(lp.col_cost_)[perm]
    lo = np.where(np.asarray(lp.row_lower_) <= -1e30, -np.inf, lp.row_lower_)
    hi = np.where(np.asarray(lp.row_upper_) >= 1e30, np.inf, lp.row_upper_)
    sense = 1.0 if str(lp.sense_).endswith("kMaximize") else -1.0
    cl, cu = np.asarray(lp.col_lower_)[perm], np.asarray(lp.col_upper_)[perm]
    integer = np.asarray([str(v).endswith("kInteger") for v in lp.integrality_])[perm] \
        if len(lp.integrality_) else np.zeros(col.size, bool)
    return A, sense * c, lo, hi, cl, cu, integer


@pytest.mark.parametrize("case", CASES[:3] + CASES[4:6], ids=lambda c: f"seed{c['seed']}")
def test_matrix_path_is_the_pyomo_model(case):
    problem = random_problem(**case)
    A, c, lo, hi, cl, cu, integer = _pyomo_highs_lp(problem)
    lm = mip.build_matrices(problem)
    np.testing.assert_allclose(c, lm.c)
    np.testing.assert_array_equal(cl, lm.col_lower)
    np.testing.assert_array_equal(np.where(cu >= 1e30, np.inf, cu), lm.col_upper)
    np.testing.assert_array_equal(integer, lm.integer)
    assert _canonical(A, lo, hi) == _canonical(lm.A, lm.row_lower, lm.row_upper)


def test_matrix_path_is_the_pyomo_model_newman1(instance):
    from orepit.data.minelib import load_instance

    problem = load_instance(instance("newman1")).pcpsp()
    A, c, lo, hi, *_ = _pyomo_highs_lp(problem, relax=True)
    lm = mip.build_matrices(problem)
    np.testing.assert_allclose(c, lm.c)
    assert _canonical(A, lo, hi) == _canonical(lm.A, lm.row_lower, lm.row_upper)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"seed{c['seed']}")
def test_mip_equals_brute_force(case):
    problem = random_problem(**case)
    best = brute_force(problem)
    lm = mip.build_matrices(problem)
    sol = lm.solve(mip_gap=0.0, threads=1)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(best, rel=1e-7, abs=1e-6)
    schedule = mip.schedule_from_fractions(mip.fractions(lm, sol.solution))
    report = check_schedule(problem, schedule)
    assert report.feasible, report.violations
    assert report.objective == pytest.approx(best, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("case", CASES[:2] + CASES[4:5], ids=lambda c: f"seed{c['seed']}")
def test_pyomo_solve_equals_brute_force(case):
    problem = random_problem(**case)
    model = mip.build_pyomo(problem)
    res = solve_pyomo(model, mip_gap=0.0, threads=1, time_limit=60)
    assert res.status == "optimal" and res.solution is model
    assert res.objective == pytest.approx(brute_force(problem), rel=1e-7, abs=1e-6)
    assert res.bound >= res.objective - 1e-6
    report = check_schedule(problem, mip.schedule_from_pyomo(model, problem))
    assert report.feasible, report.violations
