"""orepit.planning.bound: the upper bound on a strategy's objective.

On a small pit the bound is squeezed between the exact integer plan model (every block mined whole
in one period, stockpiled blocks reclaimed on their own) and its LP relaxation, for settings where
each priced row binds; on the strategies of a study it is above the plan's own objective."""
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from solvers.closure import PseudoflowSolver

from orepit.planning.bound import Relaxation, plan_bound
from orepit.planning.layout import cut_layout, pile_means, price_units
from orepit.planning.plan_model import PlanSettings, build_plan_model, solve_plan_model
from orepit.planning.strategies import ScheduleSetup, compare
from orepit.valuation.deposit import value_deposit
from orepit.valuation.synthetic import default_economics, synthetic_deposit


@pytest.fixture(scope="module")
def small():
    model = synthetic_deposit(dims=(8, 8, 5), seed=4)
    deposit = value_deposit(model, default_economics(model.block_size[2]))
    pit = PseudoflowSolver(deposit.precedence).solve(deposit.pit_values(False)).solution
    assert 30 <= int((pit & (deposit.tonnage > 0)).sum()) <= 150
    return deposit, pit


def block_units(deposit, pit, env_price, integer):
    """(parcels, bins) with one cut and one pile per block (cuts numbered in block order), whole
    blocks in whole periods when ``integer``."""
    layout = cut_layout(deposit, pit, deposit.pit_values(False), 1, 1, block_limit=10**6)
    parcels, _ = price_units(deposit, layout, env_price)
    pile = np.where(deposit.ore, layout.block_parcel, -1)
    bins = pile_means(deposit, pile, deposit.flows(env_price).at_reclaim)
    parcels = replace(parcels, bin=np.where(parcels.ore, np.arange(parcels.n_parcels), -1), integer_cuts=integer)
    return parcels, bins


def block_model(deposit, pit, settings, env_price, integer):
    """The plan model of `block_units`: its optimum with whole blocks in whole periods (``integer``;
    destinations may still be split), or its LP relaxation."""
    return solve_plan_model(build_plan_model(*block_units(deposit, pit, env_price, integer), settings)).objective


def nothing_mined(T):
    """The simulation of a plan that mines nothing (the bound's first column)."""
    names = ["mined_t", "mill_t", "mill_hours", "co2_t", "stockpile_balance_t", "ore_recovered_t", "ore_mined_t"]
    return pd.DataFrame({k: np.zeros(T) for k in names}), {"objective": 0.0, "metal_recovered": 0.0}


def settings_cases(deposit, pit):
    """name -> (settings, environmental price, the rows that bind: settings that drop them)."""
    ton = deposit.tonnage[pit].sum()
    ore_t = deposit.tonnage[pit & deposit.ore].sum()
    hours = deposit.mill_hours[pit & deposit.ore].sum()
    co2 = deposit.co2[pit].max(axis=1).sum()
    metal = deposit.recovered[pit & deposit.ore].sum()
    base = PlanSettings(periods=3, discount_rate=0.1, mining_capacity=0.4 * ton, mill_capacity=0.2 * ore_t,
                        stockpile=True, stockpile_loss=0.1, final_stockpile="process", time_limit=60, mip_gap=1e-7)
    inf = float("inf")
    return {
        "mining and mill": (base, False, {"mill_capacity": inf, "stockpile_loss": 0.0}),
        "stockpile room": (replace(base, stockpile_capacity=0.05 * ore_t), False, {"stockpile_capacity": inf}),
        "mill hours, lost": (replace(base, mill_capacity=0.5 * ore_t, mill_hours=0.15 * hours, final_stockpile="lost"),
                             False, {"mill_hours": inf}),
        "co2 caps, empty": (replace(base, co2_cap=0.08 * co2, co2_total_cap=0.2 * co2, final_stockpile="empty"), True,
                            {"co2_cap": None, "co2_total_cap": None}),
        "recovery floor": (replace(base, recovery_floor=0.97, stockpile=False), True, {"recovery_floor": None}),
        "metal floor, lost": (replace(base, metal_floor=0.83 * metal, final_stockpile="lost"), False,
                              {"metal_floor": None}),
    }


@pytest.mark.parametrize("case", ["mining and mill", "stockpile room", "mill hours, lost", "co2 caps, empty",
                                  "recovery floor", "metal floor, lost"])
def test_bound_lies_between_the_block_mip_and_its_lp(small, case):
    deposit, pit = small
    settings, env_price, binding = settings_cases(deposit, pit)[case]
    mip = block_model(deposit, pit, settings, env_price, integer=True)
    lp = block_model(deposit, pit, settings, env_price, integer=False)
    for name, off in binding.items():                  # each row of the case binds: without it the LP gains
        assert block_model(deposit, pit, replace(settings, **{name: off}), env_price, integer=False) > lp * 1.001, name
    periods, kpis = nothing_mined(settings.periods)
    bound = plan_bound(deposit, pit, settings, env_price, periods, kpis, None, prices=400, tol=1e-7)
    assert mip <= bound.bound * (1 + 1e-7)
    assert bound.bound <= lp * (1 + 1e-4)             # converged: as tight as the LP, or tighter (earliest periods)


def test_every_strategy_states_its_bound_and_gap(small):
    deposit, _ = small
    results = compare(deposit, setup=ScheduleSetup(bound_prices=8, block_limit=0, time_limit=20), budget=None)
    for name, r in results.items():
        result = r.plan.result
        assert np.isfinite(result.bound), name
        assert result.bound >= result.objective == pytest.approx(r.kpis["objective"])
        assert 0 <= result.gap < 0.5
        assert result.info["bound"]["iterations"] >= 1
        assert result.status in ("feasible", "optimal")


def test_a_pit_too_large_for_the_graph_says_so_instead_of_a_bound(small, monkeypatch):
    from orepit.planning import bound as module
    deposit, pit = small
    settings = settings_cases(deposit, pit)["mining and mill"][0]
    monkeypatch.setattr(module, "MAX_NODES", 10)
    periods, kpis = nothing_mined(settings.periods)
    result = plan_bound(deposit, pit, settings, False, periods, kpis)
    assert result.bound == float("inf") and "more than 10 nodes" in result.info["skipped"]


@pytest.mark.parametrize("prices", [0, 2.5, "12"])
def test_a_bound_budget_that_is_not_a_whole_number_of_prices_is_refused(prices):
    from solvers.errors import InputError
    with pytest.raises(InputError, match="bound_prices must be a whole number >= 1"):
        ScheduleSetup(bound_prices=prices)


def test_the_bound_is_the_same_on_every_run(small):
    deposit, pit = small
    settings = settings_cases(deposit, pit)["stockpile room"][0]
    periods, kpis = nothing_mined(settings.periods)
    first, again = (plan_bound(deposit, pit, settings, False, periods, kpis, None, prices=6) for _ in range(2))
    assert first.bound == again.bound and first.info["iterations"] == again.info["iterations"] == 6


def test_a_bound_below_the_plan_is_an_error_not_a_clamp():
    from solvers.result import Result

    from orepit.planning.bound import bounded
    plan = Result("feasible", 100.0, float("inf"), 1.0)
    assert bounded(plan, Result("feasible", 90.0, 100.0 + 1e-4, 0.5), mip_gap=1e-4).status == "optimal"
    assert bounded(plan, Result("feasible", 90.0, 120.0, 0.5), mip_gap=1e-4).gap == pytest.approx(0.2)
    with pytest.raises(RuntimeError, match="above its upper bound"):
        bounded(plan, Result("feasible", 90.0, 99.0, 0.5), mip_gap=1e-4)


@pytest.mark.parametrize("over, counted", [(5e-7, True), (2e-6, False)])
def test_a_plan_the_checker_accepts_is_within_the_relaxations_rows(small, over, counted):
    """The master takes the plan's column as the checker takes the plan: a mill fed 5e-7 over its
    limit is within (the checker allows 1e-6 of it; HiGHS' own 1e-7 would not), 2e-6 over is not.
    The plan is given an objective no schedule reaches, so the master's value is the plan's or none."""
    deposit, pit = small
    settings = settings_cases(deposit, pit)["mining and mill"][0]
    periods, kpis = nothing_mined(settings.periods)
    periods.loc[0, ["mined_t", "mill_t", "ore_mined_t", "ore_recovered_t"]] = \
        settings.per_period(settings.mill_capacity)[0] * (1 + over)
    kpis["objective"] = 1e15
    assert Relaxation(deposit, pit, settings, False, periods).broken_by(periods, kpis) == ("" if counted else
                                                                                            "mill in period 0")
    result = plan_bound(deposit, pit, settings, False, periods, kpis, None, prices=2)
    assert result.objective == (1e15 if counted else -np.inf)
