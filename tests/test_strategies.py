"""Strategies side by side on a small synthetic deposit: green terms, floors, frontier."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from orepit.valuation.deposit import value_deposit
from orepit.planning.strategies import (STRATEGY_NAMES, ScheduleSetup, StrategyOptions, compare, frontier, run_strategy,
                               strategy_options, utilisation_pit)
from orepit.valuation.synthetic import default_economics, synthetic_deposit
from solvers.closure import is_closed


@pytest.fixture(scope="module")
def deposit():
    model = synthetic_deposit(6000, seed=3)
    return value_deposit(model, default_economics(model.block_size[2]))


@pytest.fixture(scope="module")
def results(deposit):
    return compare(deposit, STRATEGY_NAMES, ScheduleSetup(periods=6, tail_periods=3))


def test_every_strategy_is_feasible_and_simulation_reproduces_solver(results):
    for name, r in results.items():
        assert r.simulation.feasible, (name, r.simulation.violations)
        assert r.plan.result.status == "optimal"
        assert r.kpis["objective_simulated"] == pytest.approx(r.kpis["objective_solver"], rel=1e-6)


def test_green_meets_its_floors_and_dumps_no_ore(results, deposit):
    green = results["green"]
    assert green.kpis["ore_to_dump_tonnes"] == pytest.approx(0.0, abs=1e-6)
    assert green.kpis["mining_recovery_rate"] >= 0.95 - 1e-9
    ore_metal = np.where(deposit.ore, deposit.metal, 0.0)
    assert ore_metal[green.pit].sum() >= 0.9 * ore_metal.sum() * (1 - 1e-9)
    assert green.kpis["final_stockpile_t"] == pytest.approx(0.0, abs=1e-3)
    # high-grading dumps ore-grade material that the green plan keeps
    hg = results["high-grade"]
    assert hg.kpis["ore_to_dump_tonnes"] > 0
    assert green.kpis["metal_sterilised"] < hg.kpis["metal_sterilised"]


def test_block_destinations_follow_the_plan(results, deposit):
    for r in results.values():
        mined = r.block_period >= 0
        assert np.all(r.pit[mined])
        assert np.all(r.block_destination[mined] >= 0) and np.all(r.block_destination[~mined] == -1)
    assert not np.any(results["high-grade"].block_destination == 1)   # no stockpile when high-grading


def test_green_with_every_term_off_is_the_npv_strategy(deposit, results):
    off = StrategyOptions(stockpile=True, env_price=False, recovery_floor=None, no_ore_to_dump=False,
                          utilisation_floor=None, final_stockpile=None)
    assert off == strategy_options("npv")
    base = results["npv"]
    mine = replace(ScheduleSetup(periods=6, tail_periods=3), mining_capacity=float(base.settings.mining_capacity[0]),
                   mill_capacity=float(base.settings.mill_capacity), mill_hours=float(base.settings.mill_hours))
    again = run_strategy(deposit, "green-off", mine, off)
    assert again.plan.result.objective == pytest.approx(base.plan.result.objective, rel=1e-9)
    np.testing.assert_array_equal(again.pit, base.pit)


def test_utilisation_pit_reaches_the_floor_with_the_smallest_credit(deposit):
    values = deposit.pit_values(True)
    ore_metal = np.where(deposit.ore, deposit.metal, 0.0)
    pit, credit = utilisation_pit(deposit, values, 0.9)
    assert is_closed(pit, deposit.precedence)
    assert ore_metal[pit].sum() >= 0.9 * ore_metal.sum() * (1 - 1e-12)
    from solvers.closure import max_closure
    smaller = max_closure(values + 0.98 * credit * ore_metal, deposit.precedence).solution
    assert ore_metal[smaller].sum() < 0.9 * ore_metal.sum()


def test_frontier_points_are_feasible_and_non_dominated(deposit):
    table = frontier(deposit, ScheduleSetup(periods=6, tail_periods=3), points=8, axis="metal")
    assert len(table) >= 8
    assert table["feasible"].all() and not table["dominated"].any()
    assert np.all(np.diff(table["metal_recovered"]) >= -1e-6)
    assert np.all(np.diff(table["npv"]) <= 1e-6 * abs(table["npv"]).max())


def test_block_view_matches_the_plan_tonnes(results, deposit):
    ton = deposit.tonnage
    for r in results.values():
        mined = r.block_period >= 0
        by_period = np.bincount(r.block_period[mined], weights=ton[mined], minlength=r.settings.periods)
        plan = r.simulation.periods["mined_t"].to_numpy()
        # each parcel is off by at most one block per (period, destination) chunk
        assert np.abs(by_period - plan).sum() <= 0.05 * plan.sum()
