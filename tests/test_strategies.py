"""Strategies side by side on a small synthetic deposit: block schedules a mine can follow, one
KPI footing, the metal balance, green's rules and their prices, settings that make no sense."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from orepit.planning.budget import GREEN_BUDGET, MAX_PLANS, first_guess, search_floor
from orepit.planning.layout import cut_layout, low_grade_edge, margin_per_tonne
from orepit.planning.strategies import (STRATEGY_NAMES, ScheduleSetup, StrategyOptions, compare, derive_capacities,
                                        economic_share, frontier, run_strategy, strategy_layouts,
                                        strategy_options)
from orepit.planning.pits import credit_bracket, economic_pit, shell_core, utilisation_pit
from orepit.planning.verify import check_block_schedule, limits_of
from orepit.valuation.deposit import value_deposit
from orepit.valuation.destinations import DUMP, MILL, STOCKPILE
from orepit.valuation.synthetic import default_economics, synthetic_deposit
from solvers import InputError
from solvers.errors import InfeasibleError
from solvers.closure import PseudoflowSolver, is_closed, max_closure


@pytest.fixture(scope="module")
def deposit():
    model = synthetic_deposit(6000, seed=3)
    return value_deposit(model, default_economics(model.block_size[2]))


@pytest.fixture(scope="module")
def results(deposit):
    return compare(deposit, STRATEGY_NAMES)


@pytest.fixture(scope="module")
def economic(deposit):
    return max_closure(deposit.pit_values(False), deposit.precedence).solution


def test_every_block_schedule_keeps_every_slope_and_capacity(results, deposit):
    nodes, preds = deposit.precedence.arcs()
    ton = deposit.tonnage
    for name, r in results.items():
        period, dest = r.block_period, r.block_destination
        mined = period >= 0
        assert np.all(r.pit[mined]) and np.all(mined[r.pit & (ton > 0)]), name   # the pit, mined out
        assert not np.any(mined[nodes] & ((period[preds] < 0) | (period[preds] > period[nodes]))), name
        s = r.plan.settings
        by_period = np.bincount(period[mined], weights=ton[mined], minlength=s.periods)
        assert np.all(by_period <= s.per_period(s.mining_capacity) * (1 + 1e-9)), name
        milled = np.bincount(period[dest == MILL], weights=ton[dest == MILL], minlength=s.periods)
        reclaimed = r.simulation.periods["stockpile_out_t"].to_numpy()
        assert np.all(milled + reclaimed <= s.per_period(s.mill_capacity) * (1 + 1e-9)), name
        if not r.options.stockpile:
            assert not np.any(dest == STOCKPILE)
        assert r.plan.check.feasible and r.plan.check.status == "feasible"
        reclaim = {"tonnes": reclaimed, "hours": np.zeros(s.periods), "co2": np.zeros(s.periods)}
        reclaim["hours"] = r.simulation.periods["mill_hours"].to_numpy() - np.bincount(
            period[dest == MILL], weights=deposit.mill_hours[dest == MILL], minlength=s.periods)
        assert check_block_schedule(deposit.precedence, ton, deposit.mill_hours, deposit.co2_at_mining(), period, dest,
                                    limits_of(s), reclaim).feasible


def test_period_columns_keep_every_block_below_its_upper_neighbours(results, deposit):
    m = deposit.model
    cell = {(i, j, k): b for b, (i, j, k) in enumerate(zip(m.i.tolist(), m.j.tolist(), m.k.tolist()))}
    for name, r in results.items():
        for b in np.flatnonzero(r.block_period >= 0):
            above = cell.get((m.i[b], m.j[b], m.k[b] + 1))
            if above is not None and deposit.tonnage[above] > 0:
                assert 0 <= r.block_period[above] <= r.block_period[b], (name, b)


def test_one_footing_and_an_exact_metal_balance(results):
    for name, r in results.items():
        k = r.kpis
        assert k["npv"] == k["npv_economic"]
        assert k["objective"] == (k["npv_after_environment"] if r.options.env_price else k["npv"])
        assert k["environmental_cost"] == pytest.approx(k["npv"] - k["npv_after_environment"])
        parts = k["metal_recovered"] + k["metal_lost_in_processing"] + k["metal_sterilised"]
        assert parts == pytest.approx(k["deposit_ore_metal"], rel=1e-9)
        assert k["metal_sterilised"] == pytest.approx(k["metal_outside_pit"] + k["metal_dumped"]
                                                      + k["metal_stockpile_lost"] + k["metal_left_in_pit"], rel=1e-12)
        assert abs(k["metal_balance_residual"]) <= 1e-9 * k["deposit_ore_metal"]
        assert k["metal_left_in_pit"] == 0.0, name                   # every pit is mined out


def test_metal_of_every_element_is_summed_from_the_block_schedule_and_balances(results, deposit):
    """Per element (Cu and Au): recovered and fed metal equal a direct sum over the blocks milled and
    the share reclaimed of each stockpile (a pile is filled in one period, so it is reclaimed evenly);
    dumped metal, the deposit's ore-grade metal and the balance per element; the first element's
    per-element KPIs are the metal KPIs."""
    assert set(deposit.metals) == {"cu", "au"}
    for name, r in results.items():
        k, sched = r.kpis, r.plan.schedule
        dest, mined = sched.destination, sched.period >= 0
        piled = mined & (dest == STOCKPILE)
        put = np.bincount(sched.bin[piled], weights=deposit.tonnage[piled], minlength=sched.reclaim.shape[0])
        share = np.divide(sched.reclaim.sum(axis=1), put, out=np.zeros(put.size), where=put > 0)
        assert (share <= 1 + 1e-9).all()
        reclaimed = np.zeros(deposit.n_blocks)
        reclaimed[piled] = share[sched.bin[piled]]
        milled = np.where(mined & (dest == MILL), 1.0, reclaimed)
        for element, m in deposit.metals.items():
            ore_metal = np.where(deposit.ore, m.metal, 0.0)
            assert k[f"metal_recovered_{element}"] == pytest.approx((milled * m.recovered).sum(), rel=1e-9), name
            assert k[f"metal_fed_{element}"] == pytest.approx((milled * m.metal).sum(), rel=1e-9), name
            assert k[f"metal_dumped_{element}"] == pytest.approx(ore_metal[mined & (dest == DUMP)].sum(), rel=1e-9)
            assert k[f"deposit_ore_metal_{element}"] == pytest.approx(ore_metal.sum(), rel=1e-12)
            parts = (k[f"metal_recovered_{element}"] + k[f"metal_lost_in_processing_{element}"]
                     + k[f"metal_sterilised_{element}"])
            assert parts == pytest.approx(k[f"deposit_ore_metal_{element}"], rel=1e-9)
            assert abs(k[f"metal_balance_residual_{element}"]) <= 1e-9 * k[f"deposit_ore_metal_{element}"]
        for key in ("metal_recovered", "metal_sterilised", "metal_left_in_pit", "deposit_ore_metal"):
            assert k[f"{key}_cu"] == k[key]
        assert 0 < k["metal_recovered_au"] < 1e-3 * k["metal_recovered_cu"]      # t of gold, not of copper
    if any(r.kpis["metal_stockpile_lost"] > 0 for r in results.values()):
        assert any(r.kpis["metal_stockpile_lost_au"] > 0 for r in results.values())


def test_green_recovers_most_metal_keeps_its_rules_and_most_of_the_npv(results, deposit):
    green, npv, hg = results["green"].kpis, results["npv"].kpis, results["high-grade"].kpis
    assert green["metal_recovered"] > npv["metal_recovered"] > hg["metal_recovered"]
    assert green["mining_recovery_rate"] >= 0.95 and green["ore_to_dump_tonnes"] == 0.0
    assert green["final_stockpile_t"] == pytest.approx(0.0, abs=1e-3)
    assert green["npv"] >= (1 - GREEN_BUDGET) * npv["npv"] and green["npv_budget_target"] <= green["npv"]
    ore_metal = np.where(deposit.ore, deposit.metal, 0.0)
    assert ore_metal[results["green"].pit].sum() >= green["utilisation_floor"] * ore_metal.sum() * (1 - 1e-12)
    assert hg["ore_to_dump_tonnes"] > 0 and green["metal_sterilised"] < hg["metal_sterilised"]


def test_low_grade_recovered_means_milled_for_every_strategy(results, deposit, economic):
    edge = low_grade_edge(deposit, economic)
    low = deposit.ore & (margin_per_tonne(deposit) < edge)
    hg = results["high-grade"]
    milled = (hg.block_destination == MILL) & low
    assert hg.kpis["low_grade_tonnes_recovered"] == pytest.approx(deposit.tonnage[milled].sum(), rel=1e-9)
    for r in results.values():
        kept = low & np.isin(r.block_destination, (MILL, STOCKPILE))
        assert r.kpis["low_grade_tonnes_recovered"] <= deposit.tonnage[kept].sum() * (1 + 1e-9)


def test_the_budget_buys_metal_within_npvs_npv(results, deposit, economic):
    """Green without a budget stops at the economic pit's share; the budget buys a larger pit, more
    metal recovered, and keeps its NPV within the budget of npv's."""
    green, npv = results["green"], results["npv"]
    share = np.where(deposit.ore, deposit.metal, 0.0)[economic].sum() / deposit.metal[deposit.ore].sum()
    assert green.kpis["utilisation_floor"] > share and len(green.tried) >= 2
    plain = compare(deposit, ["green"], budget=None)["green"]
    assert plain.kpis["utilisation_floor"] == pytest.approx(share)
    assert green.kpis["metal_recovered"] > plain.kpis["metal_recovered"]
    assert plain.kpis["npv"] > green.kpis["npv"] >= green.kpis["npv_budget_target"]
    # the report's sentence gives the floor bought and what the pit chosen holds (at least the floor)
    held = np.where(deposit.ore, deposit.metal, 0.0)[green.pit].sum() / deposit.metal[deposit.ore].sum()
    assert held >= green.kpis["utilisation_floor"] - 1e-9
    assert f"floor of {100 * green.kpis['utilisation_floor']:.2f} %" in green.budget_reason
    assert green.budget_reason.endswith(f"(its pit holds {100 * held:.2f} %)")
    assert green.kpis["npv_budget_target"] == pytest.approx(npv.kpis["npv"] * (1 - GREEN_BUDGET))
    # only the chosen plan keeps its blocks; the other trials and the plan without the floor keep
    # what the frontier and the floor's price read (KPIs, credit, pit)
    others = [r for r in green.tried.values() if r is not green] + [green.without_floor]
    assert green.block_period.size == deposit.n_blocks and green.layout is not None
    assert others and all(r.layout is None and r.plan.schedule is None for r in others)
    assert all(r.pit.size == deposit.n_blocks and "npv" in r.kpis for r in others)


class _Plan:
    def __init__(self, npv):
        self.kpis = {"npv": npv}


@pytest.mark.parametrize("npv_at, expected", [
    (lambda f: 100.0 - 5.0 * (f - 0.5), 0.8),                      # the guess fits the budget
    (lambda f: 100.0 - 2.0 * (f - 0.5), 0.9),                      # leaves most of it: on to 0.9
    (lambda f: 100.0 - 2.0 * (f - 0.5) - (40.0 if f > 0.85 else 0.0), 0.8),    # 0.9 misses: 0.8 kept
    (lambda f: 100.0 - 40.0 * (f - 0.5), 0.5 + 0.85 * 3.0 / 12.0 * 0.3),   # one secant step back
    (lambda f: 100.0 if f == 0.5 else 90.0, 0.5),                 # neither: the economic share
    (lambda f: 95.0, 0.5)])                                       # over budget already at the economic share
def test_the_budget_search_guesses_then_steps_back_by_a_secant(npv_at, expected):
    """npv's NPV is 100 and the budget 3 %: green must keep 97.  The first guess is 0.8 of the metal;
    a step on from it goes at most as far again and half-way to all the metal; three plans at most."""
    tried = []

    def run(floor):
        tried.append(floor)
        return _Plan(npv_at(floor))

    search = search_floor(run, 0.5, 100.0, 0.03, lambda base, room: 0.8)
    assert search.target == pytest.approx(97.0) and search.reason
    assert search.floor == pytest.approx(expected)
    assert sorted(search.tried) == sorted(tried) and search.tried[search.floor].kpis["npv"] == npv_at(search.floor)
    assert len(tried) <= MAX_PLANS
    assert npv_at(search.floor) >= 97.0 or search.floor == 0.5


def test_the_budget_search_says_how_much_of_the_budget_it_left():
    """Three plans at most: the last (0.9) keeps 99.2 of the 100, so 73 % of the budget of 3 is left
    unspent, and the reason says so; a plan that spends most of it (0.8 at 5 per unit) says nothing more."""
    search = search_floor(lambda f: _Plan(100.0 - 2.0 * (f - 0.5)), 0.5, 100.0, 0.03, lambda base, room: 0.8)
    assert search.floor == pytest.approx(0.9)
    assert search.reason == ("the budget buys a utilisation floor of 90.00 % of the deposit's ore-grade metal; "
                             "73 % of the budget is left, but the search stops after 3 plans")
    spent = search_floor(lambda f: _Plan(100.0 - 5.0 * (f - 0.5)), 0.5, 100.0, 0.03, lambda base, room: 0.8)
    assert spent.reason == "the budget buys a utilisation floor of 80.00 % of the deposit's ore-grade metal"


def test_the_budget_search_stops_at_a_share_no_pit_holds():
    def run(floor):
        if floor > 0.85:
            raise InfeasibleError("utilisation floor cannot be met", field="utilisation_floor")
        return _Plan(100.0 - 2.0 * (floor - 0.5))

    search = search_floor(run, 0.5, 100.0, 0.03, lambda base, room: 0.8)
    assert search.floor == 0.8 and sorted(search.tried) == [0.5, 0.8]


def test_price_of_green_on_both_footings_and_per_tonne_saved(results):
    g, npv, hg = results["green"].kpis, results["npv"].kpis, results["high-grade"].kpis
    for base, key in ((npv, "npv"), (hg, "high_grade")):
        assert g[f"price_of_green_vs_{key}"] == pytest.approx(base["npv"] - g["npv"])
        assert g[f"price_of_green_after_environment_vs_{key}"] == pytest.approx(
            base["npv_after_environment"] - g["npv_after_environment"])
        extra = g["metal_recovered"] - base["metal_recovered"]
        assert g[f"extra_metal_vs_{key}"] == pytest.approx(extra)
        assert g[f"cost_per_t_metal_saved_vs_{key}"] == pytest.approx(g[f"price_of_green_vs_{key}"] / extra)
    assert g["price_of_green"] == g["price_of_green_vs_npv"]


def test_green_rules_are_reported_binding_or_not_with_a_price(results):
    rules = {row["rule"]: row for row in results["green"].rules}
    assert set(rules) == {"recovery floor", "no ore to dump", "utilisation floor"}
    assert not rules["recovery floor"]["binding"]            # no ore to the dump keeps every ore tonne anyway
    floor = rules["utilisation floor"]
    assert floor["binding"] and floor["credit"] > 0 and floor["price"] > 0 and floor["amount"] > 0
    assert floor["per_unit"] == pytest.approx(floor["price"] / floor["amount"])


def _mine(results, **more) -> ScheduleSetup:
    s = results["npv"].plan.settings
    return ScheduleSetup(mining_capacity=float(s.per_period(s.mining_capacity)[0]),
                         mill_capacity=float(s.per_period(s.mill_capacity)[0]),
                         mill_hours=float(s.per_period(s.mill_hours)[0]), **more)


def test_the_emission_cap_binds_and_holds_in_every_period(results, deposit):
    base = results["npv"]
    cap = 0.85 * base.simulation.periods["co2_t"].max()
    capped = run_strategy(deposit, "npv", _mine(results), replace(strategy_options("npv"), co2_cap=cap))
    assert capped.simulation.periods["co2_t"].max() <= cap * (1 + 1e-6)
    assert capped.kpis["npv"] < base.kpis["npv"]


def test_the_recovery_floor_and_no_ore_to_dump_bind_on_a_mine_without_stockpile(results, deposit):
    """High-grading dumps ore the mill cannot take; a floor of 95 % (or no ore to the dump) makes the
    same mine keep it, milling as it mines (the fleet may slow down in all three): the rule holds and
    the NPV drops."""
    mine = _mine(results, steady_mining=None)
    free = run_strategy(deposit, "high-grade", mine, strategy_options("high-grade"))
    assert free.kpis["mining_recovery_rate"] < 0.95
    floored = run_strategy(deposit, "high-grade", mine, replace(strategy_options("high-grade"), recovery_floor=0.95))
    assert floored.kpis["mining_recovery_rate"] >= 0.95 and floored.kpis["npv"] < free.kpis["npv"]
    kept = run_strategy(deposit, "high-grade", mine, replace(strategy_options("high-grade"), no_ore_to_dump=True))
    assert kept.kpis["ore_to_dump_tonnes"] == 0.0 and kept.kpis["npv"] < free.kpis["npv"]


def test_utilisation_pit_reaches_the_floor_with_the_smallest_credit(deposit):
    values = deposit.pit_values(True)
    ore_metal = np.where(deposit.ore, deposit.metal, 0.0)
    pit, credit = utilisation_pit(deposit, values, 0.9)
    assert is_closed(pit, deposit.precedence)
    assert ore_metal[pit].sum() >= 0.9 * ore_metal.sum() * (1 - 1e-12)
    smaller = max_closure(values + 0.98 * credit * ore_metal, deposit.precedence).solution
    assert ore_metal[smaller].sum() < 0.9 * ore_metal.sum()


def test_known_credits_narrow_the_utilisation_search_and_change_nothing(deposit):
    values = deposit.pit_values(True)
    total = deposit.ore_metal.sum()
    solver = PseudoflowSolver(deposit.precedence)
    known = [(c, deposit.ore_metal[solver.solve(values + c * deposit.ore_metal).solution].sum() / total)
             for c in (0.0, 500.0, 2000.0, 8000.0, 32000.0)]
    for floor in (0.85, 0.9, 0.95):
        start, step = credit_bracket(known, floor)
        assert start > 0 and step < 1e6     # the points bracket every floor tried
        counts = []
        for points in ((), known):
            counting = _CountingSolver(deposit.precedence)
            counts.append((utilisation_pit(deposit, values, floor, counting, points), counting.advances))
        (cold, cold_advances), (warm, warm_advances) = counts
        np.testing.assert_array_equal(warm[0], cold[0])
        assert warm[1] == cold[1]                       # the very same breakpoint, bit for bit
        assert warm_advances < cold_advances
    assert credit_bracket(known, 1e-9) == (0.0, 1.0)    # nothing below the floor: the full search


def test_green_searches_continue_from_the_states_before_and_change_nothing(deposit, economic):
    """The credit searches and the first guess of green's budget search continue from the pseudoflow
    state of the search before (``states``): the same pits and credits bit for bit, no fresh solve."""
    values = deposit.pit_values(True)
    ore_metal = deposit.ore_metal
    share = ore_metal[economic].sum() / ore_metal.sum()
    states = {}
    pit0, credit0 = utilisation_pit(deposit, values, share, PseudoflowSolver(deposit.precedence), (), states)
    assert states and max(states) <= credit0
    known = [(credit0, ore_metal[pit0].sum() / ore_metal.sum())]     # the next searches start at credit0
    for floor in (share + 0.02, share + 0.05):
        cold = utilisation_pit(deposit, values, floor, None, known)
        counting = _CountingSolver(deposit.precedence)
        warm = utilisation_pit(deposit, values, floor, counting, known, states)
        np.testing.assert_array_equal(warm[0], cold[0])
        assert warm[1] == cold[1] and counting.starts == 0
    guess = [first_guess(deposit, values, pit0, credit0, 1e8, 0.08, 10, solver, [], given)
             for solver, given in ((PseudoflowSolver(deposit.precedence), None), (counting, states))]
    assert guess[0] == guess[1] > share and counting.starts == 0


def test_the_economic_pit_made_from_greens_first_closure_hands_it_to_greens_search(deposit, economic):
    """`economic_pit` with ``green_states`` finds the same economic pit by raising green's closure at
    no credit, and green's first credit search continues from that closure: the same pit and credit
    as a search from scratch, and no fresh solve."""
    states = {}
    result = economic_pit(deposit, None, states)
    np.testing.assert_array_equal(result.solution, economic)
    assert result.objective == pytest.approx(deposit.pit_values(False)[economic].sum(), rel=1e-12)
    assert list(states) == [0.0]
    np.testing.assert_array_equal(states[0.0].closure(deposit.pit_values(True)),
                                  max_closure(deposit.pit_values(True), deposit.precedence).solution)
    share = economic_share(deposit, economic)
    cold = utilisation_pit(deposit, deposit.pit_values(True), share)
    counting = _CountingSolver(deposit.precedence)
    states = {}
    economic_pit(deposit, counting, states)
    counting.starts = 0
    warm = utilisation_pit(deposit, deposit.pit_values(True), share, counting, (), states)
    np.testing.assert_array_equal(warm[0], cold[0])
    assert warm[1] == cold[1] > 0 and counting.starts == 0
    assert economic_pit(deposit, None, None).objective == result.objective


def test_the_routing_layout_keeps_the_sequence_layouts_cuts(deposit, economic):
    setup = derive_capacities(deposit, economic, ScheduleSetup())
    values = deposit.pit_values(False)
    sequence, routing = strategy_layouts(deposit, economic, values, setup, PseudoflowSolver(deposit.precedence))
    assert not routing.integer and routing.cut_precedence is sequence.cut_precedence
    again = cut_layout(deposit, economic, values, setup.n_pushbacks, setup.n_bins, setup.block_limit,
                       shells=(sequence.block_pushback, sequence.block_position))
    for name in ("block_cut", "block_parcel", "block_bin", "block_position", "block_pushback", "parcel_cut",
                 "parcel_bin", "parcel_ore"):
        np.testing.assert_array_equal(getattr(routing, name), getattr(again, name), err_msg=name)
    np.testing.assert_array_equal(routing.cut_precedence.indptr, again.cut_precedence.indptr)
    np.testing.assert_array_equal(routing.cut_precedence.indices, again.cut_precedence.indices)
    assert routing.n_parcels > sequence.n_parcels          # finer grade bins, the same cuts


def test_a_green_plan_solves_its_shells_from_the_last_plans_first_shell(results, deposit, economic):
    """Green's plans at rising floors: each layout's first shell is kept (by credit), and the next
    plan's nested shells start from it; the cuts and the plan are those made from scratch."""
    mine, share = _mine(results), economic_share(deposit, economic)
    solver = PseudoflowSolver(deposit.precedence)
    cores = {}
    plans = [run_strategy(deposit, "green", mine, strategy_options("green", utilisation_floor=floor), solver,
                          economic_pit=economic, cores=cores) for floor in (share, share + 0.03)]
    assert len(cores) == 2 and plans[1].credit > plans[0].credit
    core = shell_core({plans[0].credit: cores[plans[0].credit]}, plans[1].credit, plans[1].pit)
    assert core is not None and core.any()
    fresh = run_strategy(deposit, "green", mine, strategy_options("green", utilisation_floor=share + 0.03),
                         PseudoflowSolver(deposit.precedence), economic_pit=economic)
    assert fresh.credit == plans[1].credit and fresh.kpis.keys() == plans[1].kpis.keys()
    for key, value in fresh.kpis.items():
        assert value == plans[1].kpis[key] or (value != value and plans[1].kpis[key] != plans[1].kpis[key]), key
    for name in ("block_cut", "block_parcel", "block_position", "block_pushback"):
        np.testing.assert_array_equal(getattr(fresh.layout, name), getattr(plans[1].layout, name), err_msg=name)
    np.testing.assert_array_equal(fresh.block_period, plans[1].block_period)
    np.testing.assert_array_equal(fresh.block_destination, plans[1].block_destination)
    assert shell_core(cores, plans[0].credit, plans[0].pit) is cores[plans[0].credit][1]
    assert shell_core(cores, plans[0].credit - 1.0, plans[0].pit) is None       # no pit at a lower credit


class _CountingSolver(PseudoflowSolver):
    advances = 0
    starts = 0

    def advance(self, state, active):
        self.advances += 1
        return super().advance(state, active)

    def start(self, scaled, active, tol):
        self.starts += 1
        return super().start(scaled, active, tol)


def test_green_with_every_term_off_is_the_npv_strategy(deposit, results):
    off = StrategyOptions(stockpile=True, env_price=False, recovery_floor=None, no_ore_to_dump=False,
                          utilisation_floor=None, final_stockpile="lost", budget=None)
    assert off == strategy_options("npv")
    again = run_strategy(deposit, "green-off", _mine(results), off)
    assert again.kpis["npv"] == pytest.approx(results["npv"].kpis["npv"], rel=1e-9)
    np.testing.assert_array_equal(again.block_period, results["npv"].block_period)


def test_frontier_holds_greens_point_and_rises_in_metal(deposit):
    table = frontier(deposit, points=4)
    assert table["green"].sum() == 1 and len(table) >= 4
    assert np.all(np.diff(table["utilisation_floor"]) > 0)
    assert np.all(np.diff(table["metal_recovered"]) >= -1e-6 * table["metal_recovered"].max())
    dominated = table[table["dominated"]]
    assert not dominated["green"].any()


def test_a_short_horizon_leaves_metal_in_the_pit_and_says_so(deposit):
    r = compare(deposit, ["npv"], ScheduleSetup(periods=4))["npv"]
    assert r.kpis["metal_left_in_pit"] > 0
    assert any("too short" in w or "stay in the ground" in w for w in r.plan.warnings)
    k = r.kpis
    assert k["metal_recovered"] + k["metal_lost_in_processing"] + k["metal_sterilised"] == pytest.approx(
        k["deposit_ore_metal"], rel=1e-9)


@pytest.mark.parametrize("settings, message", [
    (dict(discount_rate=8), "discount rate 8 per period is 800 %; give it as a fraction (did you mean 0.08?)"),
    (dict(discount_rate=-1), "discount rate -1 per period must be a number above -1"),
    (dict(mill_capacity=0.0), "mill capacity must be positive"),
    (dict(mining_capacity=-5.0), "mining capacity must be positive"),
    (dict(periods=0), "periods: expected a whole number of periods >= 1"),
])
def test_settings_that_make_no_sense_are_refused(settings, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        ScheduleSetup(**settings)


@pytest.mark.parametrize("settings, field, message", [
    (dict(mining_capacity=1000.0), "mining_capacity", "mining capacity 1,000 t per period would take"),
    (dict(mill_capacity=1000.0), "mill_capacity", "mill capacity 1,000 t per period would take"),
])
def test_capacities_that_cannot_move_the_pit_are_refused(deposit, economic, settings, field, message):
    with pytest.raises(InputError, match=message) as err:
        derive_capacities(deposit, economic, ScheduleSetup(**settings))
    assert err.value.field == field and "more than 100: is it in t per period?" in str(err.value)
    assert math.isfinite(derive_capacities(deposit, economic, ScheduleSetup()).mining_capacity)


def test_a_plan_that_leaves_ore_on_the_stockpile_says_so(results):
    """npv's rule for the final stockpile is 'lost': what it leaves there is never milled, and its
    warnings say how much; green must empty its stockpile and has no such warning."""
    npv, green = results["npv"], results["green"]
    left = npv.kpis["final_stockpile_t"]
    assert left > 0
    said = [w for w in npv.plan.warnings if "left on the stockpile at the end and never milled" in w]
    assert said == [f"{left / 1e6:,.1f} Mt of ore are left on the stockpile at the end and never milled (the plan's "
                    "rule for the final stockpile is 'lost'): their ore-grade metal is counted as sterilised"]
    assert not any("never milled" in w for w in green.plan.warnings)
