"""The independent checker reproduces MineLib's published objective values and finds violations."""
from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

from orepit.data.minelib import load_instance, read_schedule, read_upit_solution
from solvers import CpitProblem, PcpspProblem, Precedence, Schedule, SideConstraints, UpitProblem
from solvers.check import check_pit, check_schedule
from solvers.errors import InputError

# README: published values (UPIT optimum, CPIT best, PCPSP best)
PUBLISHED = {
    "newman1": (26_086_899.026, 23_483_671.15, 23_658_229.88),
    "zuck_small": (1_422_726_897.735, 788_652_599.55, 872_372_964.88),
    "kd": (652_195_036.915, 396_858_192.50, 406_871_206.21),
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_solutions_are_feasible_with_published_objective(instance, name):
    inst = load_instance(instance(name))
    upit, cpit, pcpsp = PUBLISHED[name]
    report = check_pit(inst.upit(), read_upit_solution(inst.path("_upit.sol")))
    assert report.feasible and report.objective == pytest.approx(upit, rel=1e-6)
    for kind, value in (("cpit", cpit), ("pcpsp", pcpsp)):
        report = check_schedule(inst.problem(kind), read_schedule(inst.path(f"_{kind}_gmunoz120723.sol")))
        assert report.feasible, report.solution
        assert report.objective == pytest.approx(value, rel=1e-6)


def test_lp_relaxation_is_reported_fractional_with_its_value(instance):
    inst = load_instance(instance("newman1"))
    report = check_schedule(inst.cpit(), read_schedule(inst.path(".LPcpit")))
    assert not report.feasible
    assert report.objective == pytest.approx(24_486_184, rel=1e-6)
    assert "must be 0 or 1" in report.solution[0]


def _small():
    # block 2 needs 0 and 1; block 3 needs 2
    prec = Precedence.from_arcs(4, [2, 2, 3], [0, 1, 2])
    values = np.array([[-1.0, 2.0], [-1.0, -0.5], [-2.0, 8.0], [-1.0, 5.0]])
    coef = np.zeros((4, 2, 2))
    coef[:, :, 0] = 1.0          # resource 0: blocks mined
    coef[:, 1, 1] = 1.0          # resource 1: blocks processed
    side = SideConstraints(np.array([3]), np.array([1]), np.array([1]), np.array([0]), np.array([1.0]),
                           np.array([-np.inf]), np.array([0.0]))
    return PcpspProblem(values, prec, 2, 0.1, coef, -np.inf, [[3, 3], [1, 2]], side=side)


def test_violations_are_each_named():
    prob = _small()
    # block 3 before its predecessor 2; two blocks processed in period 0 (limit 1); 4 mined in period 1 (limit 3)
    sched = Schedule([0, 1, 2, 3, 0], [1, 0, 1, 1, 1], [0, 0, 1, 0, 1], [1, 1, 1, 1, 0.5])
    report = check_schedule(prob, sched)
    text = "\n".join(report.solution)
    assert not report.feasible
    assert "block 0: mined 1.5 times" in text
    assert "block 0 period 1: mined fraction 0.5" in text
    assert "resource 1 period 0: uses 2, above the limit 1 by 1" in text
    sched = Schedule([0, 1, 2, 3], [1, 0, 1, 1], [0, 0, 1, 0], [1, 1, 1, 1])
    report = check_schedule(prob, sched)
    text = "\n".join(report.solution)
    assert "precedence: block 3 mined in period 0 but its predecessor 2 in period 1" in text
    sched = Schedule([0, 1, 2, 3], [1, 0, 1, 1], [0, 0, 1, 1], [1, 1, 1, 1])
    report = check_schedule(prob, sched)
    assert report.solution == ["side constraint 0: 1 above its limit 0"]


def _brute_force(prob):
    """Objective of every integral schedule of a tiny problem, by enumeration (independent evaluation)."""
    n, d, t = prob.n_blocks, prob.n_destinations, prob.n_periods
    best = {}
    for periods in itertools.product(range(-1, t), repeat=n):
        for dests in itertools.product(range(d), repeat=n):
            ok = all(periods[b] < 0 or (0 <= periods[p] <= periods[b])
                     for b in range(n) for p in prob.precedence.predecessors(b))
            use = np.zeros((prob.n_resources, t))
            value = 0.0
            for b in range(n):
                if periods[b] >= 0:
                    use[:, periods[b]] += prob.resource_coef[b, dests[b]]
                    value += prob.values[b, dests[b]] / (1 + prob.discount_rate) ** periods[b]
            ok &= bool(np.all(use <= prob.resource_upper + 1e-9) and np.all(use >= prob.resource_lower - 1e-9))
            best[(periods, dests)] = (ok, value)
    return best


def test_checker_agrees_with_brute_force_on_every_schedule():
    prec = Precedence.from_arcs(3, [2, 2], [0, 1])
    prob = CpitProblem([3.0, -1.0, 4.0], prec, 2, 0.2, np.ones((3, 1)), -np.inf, [[2, 2]])
    for (periods, dests), (ok, value) in _brute_force(prob).items():
        report = check_schedule(prob, Schedule.from_periods(periods))
        assert report.feasible == ok, (periods, report.solution)
        assert report.objective == pytest.approx(value, abs=1e-12)


def test_pit_check_lists_open_arcs():
    prob = UpitProblem([-1.0, -1.0, 5.0], Precedence.from_arcs(3, [2, 2], [0, 1]))
    report = check_pit(prob, np.array([False, True, True]))
    assert report.objective == 4.0 and report.info["n_violations"] == 1
    assert report.solution == ["precedence: block 2 in pit but its predecessor 0 is not"]


def test_precedence_checks_list_late_arcs_in_arc_order_as_a_reference_does():
    # random graphs and schedules: the CSR pass names the same arcs, in the same order, and counts
    # them all, as the per-arc reference (every arc's periods compared at once)
    rng = np.random.default_rng(7)
    for _ in range(20):
        n, T = int(rng.integers(5, 60)), 4
        nodes = rng.integers(1, n, 3 * n)
        preds = (nodes * rng.random(nodes.size)).astype(int)           # a predecessor has a smaller id
        prec = Precedence.from_arcs(n, nodes, preds)
        period = rng.integers(-1, T, n)
        problem = CpitProblem(rng.normal(size=n), prec, T, 0.1, np.ones((n, 1)), np.zeros((1, T)),
                              np.full((1, T), 1e9))
        result = check_schedule(problem, Schedule.from_periods(period))
        when = np.where(period >= 0, period, T)
        a_node, a_pred = prec.arcs()
        late = np.flatnonzero(when[a_pred] > when[a_node])
        named = [re.match(r"precedence: block (\d+) mined in period \d+ but its predecessor (\d+) ", m).groups()
                 for m in result.solution]
        assert result.info["n_violations"] == late.size
        assert named == [(str(a_node[a]), str(a_pred[a])) for a in late[:len(named)]]
        assert len(named) == min(late.size, 50)
        pit = period >= 0
        r = check_pit(UpitProblem(rng.normal(size=n), prec), pit)
        assert r.info["n_violations"] == int(np.sum(pit[a_node] & ~pit[a_pred]))


def test_precedence_keeps_node_ids_in_four_bytes_and_checks_them_before_narrowing():
    prec = Precedence(np.array([0, 0, 1, 3]), np.array([0, 0, 1], dtype=np.int64))
    assert prec.indices.dtype == np.int32 and prec.indptr.dtype == np.int64
    assert prec.successors().indices.dtype == np.int32
    # 2**32 + 1 would wrap to 1 (a valid id) if it were narrowed first
    with pytest.raises(InputError, match="predecessor 4294967297 out of range"):
        Precedence(np.array([0, 0, 1, 3]), np.array([0, 2**32 + 1, 1], dtype=np.int64))


def test_group_arcs_are_the_arcs_between_different_groups_each_once():
    """Against the arc list of the whole graph, filtered and made unique in numpy."""
    rng = np.random.default_rng(2)
    for _ in range(60):
        n = int(rng.integers(1, 80))
        prec = Precedence.from_arcs(n, rng.integers(0, n, 4 * n), rng.integers(0, n, 4 * n))
        group = rng.integers(-1, int(rng.integers(1, 12)), n)
        nodes, preds = prec.arcs()
        keep = (group[nodes] >= 0) & (group[preds] >= 0) & (group[nodes] != group[preds])
        expected = sorted(set(zip(group[nodes[keep]].tolist(), group[preds[keep]].tolist())))
        a, b = prec.group_arcs(group)
        assert list(zip(a.tolist(), b.tolist())) == expected
    with pytest.raises(InputError, match="group has 2 entries for 3 nodes"):
        Precedence.from_arcs(3, [2], [0]).group_arcs([0, 1])


def test_successors_are_the_reversed_arcs_in_ascending_order():
    rng = np.random.default_rng(1)
    for _ in range(30):
        n = int(rng.integers(1, 80))
        prec = Precedence.from_arcs(n, rng.integers(0, n, 4 * n), rng.integers(0, n, 4 * n))
        nodes, preds = prec.arcs()
        reference = Precedence.from_arcs(n, preds, nodes)
        assert np.array_equal(prec.successors().indptr, reference.indptr)
        assert np.array_equal(prec.successors().indices, reference.indices)
