"""orepit.planning.bound.replay_bound: the upper bound on a plan's mean objective over grade
realisations, every sequence of its pit with its destinations decided on each realisation.

It lies above each strategy's own replays (grade control keeping the plan's rules), a plan whose
replay breaks a rule gets no bound and says where, one sequence for two realisations is worth no
more than one for each, and two copies of one realisation bound as that realisation alone."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from orepit.planning.bound import replay_bound
from orepit.planning.plan_model import solve_plan_model
from orepit.planning.stochastic import build_stochastic_model
from orepit.planning.layout import low_grade_edge
from orepit.planning.replay import FixedPlan, fixed_plan, replay
from orepit.planning.strategies import ScheduleSetup, compare
from orepit.valuation.deposit import value_deposit
from orepit.valuation.destinations import STOCKPILE
from orepit.valuation.realisations import GradeRealisations, Variogram
from orepit.valuation.synthetic import default_economics, synthetic_deposit


@pytest.fixture(scope="module")
def setting():
    model = synthetic_deposit(dims=(10, 10, 6), seed=4)
    econ = default_economics(model.block_size[2])
    deposit = value_deposit(model, econ)
    results = compare(deposit, setup=ScheduleSetup(bound_prices=4, block_limit=0, time_limit=20), budget=None)
    sims = GradeRealisations(model, Variogram(cv={"cu": 0.5}, seed=5))
    realised = [value_deposit(sims.model(r), econ, precedence=deposit.precedence) for r in range(3)]
    pit = next(iter(results.values())).pit
    edge = low_grade_edge(deposit, pit)
    plans = {name: fixed_plan(deposit, name, r, edge) for name, r in results.items()}
    return deposit, results, realised, plans


def bound_of(realised, plan, **kw):
    return replay_bound(realised, plan, [replay(d, plan) for d in realised], **kw)


def test_the_bound_lies_above_every_plan_replayed_on_the_realisations(setting):
    _, results, realised, plans = setting
    bounded = 0
    for name, plan in plans.items():
        replays = [replay(d, plan) for d in realised]
        b = replay_bound(realised, plan, replays, results[name].plan.prices, prices=8)
        if "skipped" in b.info:
            assert "grade control breaks the plan's" in b.info["skipped"], name
            continue
        bounded += 1
        mean = np.mean([r.kpis["objective"] for r in replays])
        assert mean <= b.bound * (1 + 1e-9), name
        assert b.bound < mean * 1.5, name               # a bound, not a number out of reach
    assert bounded >= 2


def test_one_sequence_for_two_realisations_is_worth_no_more_than_one_for_each(setting):
    _, _, realised, plans = setting
    plan = plans["npv"]
    converged = dict(prices=300, tol=1e-7)
    alone = [bound_of([d], plan, **converged).bound for d in realised[:2]]
    both = bound_of(realised[:2], plan, **converged).bound
    assert both <= np.mean(alone) * (1 + 1e-5)
    twice = bound_of([realised[0], realised[0]], plan, **converged).bound
    assert twice == pytest.approx(alone[0], rel=1e-4)           # within column generation's convergence


def test_a_plan_whose_replay_breaks_its_rules_gets_no_bound(setting):
    _, _, realised, plans = setting
    plan = plans["npv"]
    strict = replace(plan, settings=replace(plan.settings, mill_capacity=plan.settings.mill_capacity * 0.5))
    result = replay_bound(realised, strict, [replay(d, plan) for d in realised])
    assert result.bound == float("inf")
    assert "on realisation 0 of the 3 grade control breaks the plan's mill in period" in result.info["skipped"]
    dumps = plans["high-grade"]                      # no stockpile: its replays dump ore-grade rock
    green_rule = replace(dumps, settings=replace(dumps.settings, no_ore_to_dump=True))
    result = replay_bound(realised, green_rule, [replay(d, dumps) for d in realised])
    assert "grade control breaks the plan's rule of no ore to the dump" in result.info["skipped"]


@pytest.fixture(scope="module")
def small():
    from solvers.closure import PseudoflowSolver
    model = synthetic_deposit(dims=(8, 8, 5), seed=4)
    econ = default_economics(model.block_size[2])
    deposit = value_deposit(model, econ)
    pit = PseudoflowSolver(deposit.precedence).solve(deposit.pit_values(False)).solution
    sims = GradeRealisations(model, Variogram(cv={"cu": 0.5}, seed=5))
    return deposit, pit, [value_deposit(sims.model(r), econ, precedence=deposit.precedence) for r in range(3)]


@pytest.mark.parametrize("case", ["mining and mill", "stockpile room", "recovery floor", "mill hours, lost",
                                  "no ore to the dump, lost"])
def test_the_bound_lies_between_the_two_stage_block_mip_and_its_lp(small, case):
    """The exact stochastic model with one cut and one pile per block: every block mined whole in
    one period, the same for all realisations, its destinations and reclaims each realisation's."""
    from test_plan_bound import block_units, settings_cases
    deposit, pit, realised = small
    cases = settings_cases(deposit, pit)
    base = cases["mill hours, lost"][0]
    cases["no ore to the dump, lost"] = (replace(base, no_ore_to_dump=True, stockpile_loss=0.0), True, None)
    settings, env_price, _ = cases[case]

    def two_stage(integer):
        model = build_stochastic_model([block_units(d, pit, env_price, integer) for d in realised], settings)
        return solve_plan_model(model).objective

    nothing = FixedPlan("nothing", np.full(deposit.n_blocks, -1), pit, np.zeros(settings.periods),
                        np.zeros(settings.periods), np.zeros(2), settings, 0.0, env_price)
    bound = replay_bound(realised, nothing, [], prices=400, tol=1e-7).bound
    assert two_stage(True) <= bound * (1 + 1e-7)
    assert bound <= two_stage(False) * (1 + 1e-4)


def test_a_pile_worth_less_than_nothing_may_be_left_when_grade_control_empties_the_stockpile(small):
    """Grade control mills such piles after the plan's periods, more discounted than just after
    the last: the bound may leave them instead (worth 0), never less than grade control gets."""
    from test_plan_bound import settings_cases

    from orepit.planning.bound import PROCESS_OR_LOST, Relaxation
    deposit, pit, _ = small
    settings = replace(settings_cases(deposit, pit)["mining and mill"][0], final_stockpile="empty")
    T = settings.periods
    for final, reclaimed in ((None, T - 1), (PROCESS_OR_LOST, T + 1)):
        relaxation = Relaxation(deposit, pit, settings, False, {"mined_t": np.zeros(T)}, final=final)
        relaxation.at_reclaim = -np.abs(relaxation.at_reclaim) - 1.0
        _, _, _, reclaim = relaxation.node_values(np.zeros(relaxation.rhs.size))
        stocked = relaxation.allowed[:, STOCKPILE]
        assert stocked.any() and (reclaim[stocked, T - 1] == reclaimed).all()


@pytest.mark.parametrize("over", [5e-7, 2e-6])
def test_a_replay_the_checker_would_accept_is_within_the_rows(setting, over):
    """As for a plan (`test_plan_bound`): a replay feeding the mill 5e-7 over its limit is a column
    within the rows of every realisation (the checker allows 1e-6 of it), so the master's value is
    that replay's (given one no sequence reaches); 2e-6 over, the replay breaks the plan and no bound is made."""
    from types import SimpleNamespace
    _, _, realised, plans = setting
    plan = plans["npv"]
    real = replay(realised[0], plan)
    periods = real.simulation.periods.copy()
    periods.loc[0, "mill_t"] = plan.settings.per_period(plan.settings.mill_capacity)[0] * (1 + over)
    kpis = dict(real.kpis, objective=1e15)
    fake = SimpleNamespace(simulation=SimpleNamespace(periods=periods, kpis=kpis), kpis=kpis)
    result = replay_bound([realised[0], realised[0]], plan, [fake, fake], prices=2)
    if over < 1e-6:
        assert "skipped" not in result.info and result.objective == 1e15
    else:
        assert "grade control breaks the plan's mill in period 0" in result.info["skipped"]
