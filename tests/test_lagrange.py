"""solvers.lagrange: the time-expanded closure against brute force, and the Lagrangian bound
against the LP relaxation it converges to and the integer optimum it must stay above."""
import numpy as np
import pytest

from solvers.highs import LinearModel
from solvers.lagrange import PeriodClosure, _master, _stalled, lagrangian_bound
from solvers.problem import Precedence
from solvers.result import OPTIMAL
from _schedule_cases import precedence_feasible_periods


def random_dag(rng, n):
    """A random precedence on n nodes: node i needs some of the nodes before it."""
    heads, preds = [], []
    for i in range(1, n):
        for j in rng.choice(i, size=min(i, int(rng.integers(0, 3))), replace=False):
            heads.append(i)
            preds.append(int(j))
    return Precedence.from_arcs(n, heads, preds)


def schedules(precedence, T, earliest=None, mine_all=False):
    """Every precedence-feasible period assignment (-1: unmined), every node mined with ``mine_all``
    and none before its ``earliest`` period."""
    for p in precedence_feasible_periods(precedence, T):
        if mine_all and (p < 0).any():
            continue
        if earliest is not None and np.any((p >= 0) & (p < earliest)):
            continue
        yield p


def value_of(values, period):
    mined = period >= 0
    return float(values[np.flatnonzero(mined), period[mined]].sum())


@pytest.mark.parametrize("seed", range(12))
def test_period_closure_is_the_best_schedule(seed):
    rng = np.random.default_rng(seed)
    n, T = 5, 3
    prec = random_dag(rng, n)
    values = rng.normal(size=(n, T)).round(2)
    earliest = None
    if seed % 3 == 1:                                  # earliest periods that never fall along an arc
        earliest = np.zeros(n, dtype=np.int64)
        for i in prec.topological_order():
            earliest[i] = max([int(rng.integers(0, 2))] + [earliest[p] for p in prec.predecessors(i)])
    mine_all = seed % 3 == 2
    feasible = list(schedules(prec, T, earliest, mine_all))
    best = max(value_of(values, p) for p in feasible)
    period = PeriodClosure(prec, T, earliest, mine_all).solve(values)
    assert any(np.array_equal(period, p) for p in feasible)
    assert value_of(values, period) == pytest.approx(best, abs=1e-9)


def capacitated(seed, n=6, T=3):
    """A small schedule problem: values per (node, period), tonnes per node, one capacity row per
    period.  Returns (precedence, values, tonnes, capacity)."""
    rng = np.random.default_rng(seed)
    prec = random_dag(rng, n)
    disc = 1.1 ** -np.arange(T)
    values = rng.normal(0.5, 1.0, size=n)[:, None] * disc[None, :]
    tonnes = rng.uniform(1.0, 3.0, size=n)
    capacity = np.full(T, 0.35 * tonnes.sum())
    return prec, values, tonnes, capacity


def pricing(prec, values, tonnes, T):
    closure = PeriodClosure(prec, T)

    def price(lam):
        priced = values - lam[None, :] * tonnes[:, None]
        period = closure.solve(priced)
        i = np.flatnonzero(period >= 0)
        use = np.bincount(period[i], weights=tonnes[i], minlength=T)
        return float(priced[i, period[i]].sum()), use, float(values[i, period[i]].sum())

    return price


def lp_value(prec, values, tonnes, capacity):
    """The LP relaxation in cumulative variables z[i, t] = share of i mined by the end of t."""
    n, T = values.shape
    lm = LinearModel()
    z = lm.add_vars("z", (n, T))
    gain = values - np.c_[values[:, 1:], np.zeros(n)]
    lm.add_objective(z, gain)
    lm.add_at_most(z[:, :-1], z[:, 1:], "once")
    heads, preds = prec.arcs()
    lm.add_at_most(z[heads], z[preds], "precedence")
    rows, cols, vals = [], [], []
    for t in range(T):
        for i in range(n):
            rows.append(t), cols.append(z[i, t]), vals.append(tonnes[i])
            if t:
                rows.append(t), cols.append(z[i, t - 1]), vals.append(-tonnes[i])
    lm.add_rows(rows, cols, vals, upper=capacity, family="capacity")
    return lm.solve().objective


@pytest.mark.parametrize("seed", range(6))
def test_bound_converges_to_the_lp_and_stays_above_every_schedule(seed):
    """Seeds 0-2 start the master from the empty schedule; 3-5 from no schedule at all (its slacks
    keep it feasible until a schedule within the rows is found)."""
    T = 3
    prec, values, tonnes, capacity = capacitated(seed, T=T)
    best = max(value_of(values, p) for p in schedules(prec, T)
               if np.all(np.bincount(p[p >= 0], weights=tonnes[p >= 0], minlength=T) <= capacity + 1e-9))
    lp = lp_value(prec, values, tonnes, capacity)
    result = lagrangian_bound(pricing(prec, values, tonnes, T), capacity, [np.zeros(T)],
                              columns=[(np.zeros(T), 0.0)] if seed < 3 else [], time_limit=60, max_iter=500,
                              tol=1e-9, stall=500)
    assert result.bound >= lp - 1e-7 * max(1, abs(lp)) >= best - 1e-7
    assert result.objective <= lp + 1e-7 * max(1, abs(lp))         # the master is a point of the relaxation
    assert result.bound == pytest.approx(lp, rel=1e-5, abs=1e-6)
    assert result.status == OPTIMAL
    # every price tried gives a bound: the history only goes down
    history = [b for _, b in result.info["history"]]
    assert all(a >= b for a, b in zip(history, history[1:]))


def test_every_price_gives_a_bound_and_a_short_search_says_so():
    T = 3
    prec, values, tonnes, capacity = capacitated(4, T=T)
    lp = lp_value(prec, values, tonnes, capacity)
    price = pricing(prec, values, tonnes, T)
    for lam in (np.zeros(T), np.full(T, 0.3), np.array([2.0, 0.0, 1.0])):
        one = lagrangian_bound(price, capacity, [lam], max_iter=1)
        assert one.bound >= lp - 1e-9
        assert one.info["iterations"] == 1
    short = lagrangian_bound(price, capacity, [np.full(T, 5.0)], max_iter=1)
    assert short.status == "feasible" and short.bound > lp


def test_the_search_goes_on_while_the_master_rises():
    flat = [(k, 100.0) for k in range(30)]
    assert _stalled(flat, [50.0] * 30, stall=20, tol=1e-4)                  # neither side moves: stop
    assert not _stalled(flat, list(np.linspace(50.0, 60.0, 30)), stall=20, tol=1e-4)   # the master rises
    assert not _stalled(flat, [-np.inf] * 15 + [50.0] * 15, stall=20, tol=1e-4)      # it became feasible
    falling = [(k, 100.0 - k) for k in range(30)]
    assert not _stalled(falling, [50.0] * 30, stall=20, tol=1e-4)            # the bound falls


def test_a_mix_within_the_solvers_tolerance_is_within_the_rows():
    """The master's value counts once its mix breaks no row by more than HiGHS' tolerance (1e-7 of
    the row), as a plan solved by HiGHS does: 150 t short of a 3 Gt floor is within it, 30,000 t is not."""
    limit = np.array([-3e9])                                  # at least 3 Gt mined, written as use <= limit
    within = _master([np.array([-3e9 + 150.0])], [5.0], limit)
    assert within[0] == pytest.approx(5.0)
    beyond = _master([np.array([-3e9 + 3e4])], [5.0], limit)
    assert beyond[0] == -np.inf


def test_a_mix_within_what_the_caller_allows_is_within_the_rows():
    """A caller whose rows allow more than HiGHS' tolerance (a checker's 1e-6 of each limit) says so
    by ``allowance``: the one schedule there is, 1,500 t short of a 3 Gt floor, then counts."""
    limit = np.array([-3e9])
    short = np.array([-3e9 + 1500.0])

    def price(lam):                                           # that schedule, or mining nothing
        reduced = 5.0 - float(lam @ short)
        return (reduced, short, 5.0) if reduced > 0 else (0.0, np.zeros(1), 0.0)

    assert _master([short], [5.0], limit)[0] == -np.inf
    assert _master([short], [5.0], limit, np.array([3000.0]))[0] == pytest.approx(5.0)
    default = lagrangian_bound(price, limit, [np.zeros(1)], max_iter=3)
    allowed = lagrangian_bound(price, limit, [np.zeros(1)], max_iter=3, allowance=np.array([3000.0]))
    assert default.objective == -np.inf and allowed.objective == pytest.approx(5.0)
