"""One strategy's block schedule, from the cut model to a verified plan a mine can follow.

    1. sequence   the plan model (`orepit.planning.plan_model`) over cuts: when each cut is mined
                  and where its parcels go (an LP over cuts; a MIP when cuts are single blocks)
    2. blocks     each block's period from its cut's mined shares and its place in the cut, kept
                  below its upper neighbours, within the mining capacity and at about the pace the
                  cut model mines, in the better of two block orders (`sequencing`)
    3. routes     the plan model again with the blocks' mining fixed, over (parcel, period) groups:
                  what share of each group goes to the mill, the stockpile and the dump
    4. blocks     a MIP: a group the routes send one way keeps that route; every block of the other
                  groups goes whole to one destination (a binary choice), with every capacity, rule
                  and extension kept exactly, and the reclaim from each pile (the ore of one grade
                  bin stockpiled in one period, or one such block: its make-up is known exactly)
    5. check      the simulation (`orepit.planning.simulation`) and the independent checker
                  (`orepit.planning.verify`) must both find the schedule feasible.

The horizon follows from the capacities: enough periods to mine the whole pit at the mining
capacity and to mill what the stockpile holds when mining ends, at most ``max_periods``.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np

from solvers.errors import InfeasibleError
from solvers.result import FEASIBLE, Result

from orepit.planning.bound import cut_model_prices
from orepit.planning.layout import Layout, pile_means, price_units, regroup
from orepit.planning.plan_model import (CompiledPlan, PlanSettings, build_plan_model, empty_piles_by,
                                        solve_plan_model)
from orepit.planning.sequencing import block_periods
from orepit.planning.simulation import BlockSchedule, Simulation, simulate
from orepit.planning.verify import check_block_schedule, limits_of, reclaimed_feed
from orepit.valuation.deposit import Deposit
from orepit.valuation.destinations import DUMP, STOCKPILE

OVERFLOW_PERIODS = 3        # periods after the planned horizon for blocks the capacity pushes later
STEADY_MILLING = 0.95       # after mining, a plan that mills all its ore keeps the mill this full
LEFT_ON_STOCKPILE = 1e-6     # share of the tonnes mined: a plan leaving more on the stockpile for good says so
PACE_ALLOWANCE = 1.05       # the blocks may be mined this much faster than the cut model mines, per
                            # period (room for whole blocks); more wastes ore a mill cannot take


@dataclass
class StrategyPlan:
    """A verified block schedule and how it was obtained.

    schedule     `BlockSchedule` (period, destination, stockpile bin per block; reclaim per bin and period)
    simulation   KPIs and per-period table (`orepit.planning.simulation.Simulation`)
    settings     the `PlanSettings` of the schedule's horizon
    result       `Result`: status 'feasible' (a heuristic disaggregation of the cut model), objective
                 on the strategy's own footing, bound +inf until `orepit.planning.bound` gives one;
                 ``info`` holds each stage's status, objective and seconds and the cut model's objective
    check        the independent checker's report
    warnings     sentences for the report (horizon too short, blocks left in the pit, ...)
    prices       {row family: per-period duals} of the cut model (LP), the bound's first prices
    """

    schedule: BlockSchedule
    simulation: Simulation
    settings: PlanSettings
    result: Result
    check: object
    warnings: list = field(default_factory=list)
    prices: dict = field(default_factory=dict)


def horizon(deposit: Deposit, pit: np.ndarray, settings: PlanSettings, max_periods: int) -> tuple[int, int | None]:
    """(periods of the cut model, period by which the whole pit is mined or None when it cannot be).

    Mining periods = pit tonnes / mining capacity (rounded up); then the periods the mill needs for
    the ore it cannot take while mining (when there is a stockpile); plus one period of slack.
    """
    ton = deposit.tonnage
    cap = float(np.min(settings.per_period(settings.mining_capacity)))
    mill = float(np.min(settings.per_period(settings.mill_capacity)))
    pit_t = float(ton[pit].sum())
    ore_t = float(ton[pit & deposit.ore].sum())
    mine = max(1, math.ceil(pit_t / cap * (1 + 1e-9))) if math.isfinite(cap) and cap > 0 else 1
    tail = 0
    if settings.stockpile and math.isfinite(mill) and mill > 0:
        tail = max(0, math.ceil((ore_t - mill * mine) / mill * (1 + 1e-9)))
    periods = min(max_periods, mine + tail + 1)
    return periods, (periods - 1 if mine <= periods else None)


def plan_schedule(deposit: Deposit, pit: np.ndarray, sequence: Layout, routing: Layout, settings: PlanSettings,
                  low_grade_edge: float, env_price: bool, max_periods: int, extend=None,
                  sequence_model=None, sequence_solve=solve_plan_model) -> StrategyPlan:
    """Steps 1-5 of the module docstring for one strategy.

    sequence: the layout the cut model sequences (coarse grade bins keep it small); routing: the same
    cuts with the grade bins the destinations and stockpiles use; settings: the strategy's
    `PlanSettings` (``periods`` and ``mine_out_by`` are set here from `horizon`); extend(model): a
    plan-model extension applied to every model solved; sequence_model(settings): builds step 1's
    model in place of the plan model over ``sequence``'s parcels (its ``w[c, t]``: the cuts' mined
    shares), and sequence_solve(model) solves it in place of `solve_plan_model` (raising
    `InfeasibleError` as it does), e.g. the stochastic model of `orepit.planning.stochastic`.
    """
    t0 = time.perf_counter()
    stages, warnings = {}, []
    periods, out_by = horizon(deposit, pit, settings, max_periods)
    if out_by is None:
        warnings.append(f"the horizon of {max_periods} periods is too short to mine the whole pit at the mining "
                        f"capacity; ore-grade metal left in the pit is counted as sterilised")
    if sequence_model is None:
        parcels, bins = price_units(deposit, sequence, env_price)

        def sequence_model(first):
            return build_plan_model(parcels, bins, first, extend)

    steady = settings.steady_mining
    while True:        # a plan that must mill what it mines may need to slow down, or more periods
        first = replace(settings, periods=periods, mine_out_by=out_by, steady_mining=steady)
        model = sequence_model(first)
        try:
            stages["sequence"] = sequence_solve(model)
            break
        except InfeasibleError:
            if steady is not None:
                steady = None
                warnings.append(f"the fleet cannot work at {100 * settings.steady_mining:.0f} % of its capacity "
                                "throughout (its rules or the horizon do not allow it): it slows down")
                continue
            if out_by is None:
                raise
            if periods >= max_periods:                     # the horizon cannot hold the whole pit
                out_by = None
                warnings.append(f"the horizon of {max_periods} periods is too short to mine the whole pit; "
                                "ore-grade metal left in the pit is counted as sterilised")
                continue
            periods = min(max_periods, periods + max(2, periods // 2))
            out_by = periods - 1
    W = _values2(model.w, sequence.n_cuts, periods)
    prices = cut_model_prices(model)

    longer = min(max_periods, periods + OVERFLOW_PERIODS)
    routes = replace(settings, periods=longer, mine_out_by=None)
    period, order = block_periods(deposit, sequence, pit, W, _pace(deposit, sequence, W, routes),
                                  deposit.pit_values(env_price), settings.discount_rate, _must_mill(deposit, routes))
    unplaced = pit & (deposit.tonnage > 0) & (period < 0)
    if unplaced.any():
        warnings.append(f"{int(unplaced.sum())} blocks of the pit do not fit in {longer} periods at the mining "
                        "capacity and stay in the ground (their ore-grade metal is counted as sterilised)")

    # 3-5. routes, then destinations and reclaim; a stockpile that must end empty but cannot
    # within the horizon is left as it is (its metal counted as lost) and the plan says so
    try:
        model, units, group_of = _routes_and_destinations(deposit, routing, period, routes, env_price, extend,
                                                          stages)
    except InfeasibleError:
        if routes.final_stockpile != "empty":
            raise
        routes = replace(routes, final_stockpile="lost")
        warnings.append(f"the horizon of {max_periods} periods is too short to mill every stockpiled tonne; what is "
                        "left on the stockpile at the end is counted as lost")
        model, units, group_of = _routes_and_destinations(deposit, routing, period, routes, env_price, extend,
                                                          stages)
    dest, pile = _decided(model, units, group_of, period)
    schedule = BlockSchedule(period, dest, pile, _values2(model.r, units[1].n_bins, longer))
    sim = simulate(deposit, schedule, routes, pit, low_grade_edge, env_price)
    if sim.violations:
        raise RuntimeError("the block schedule breaks its own rules: " + "; ".join(sim.violations[:3]))
    left = sim.kpis["final_stockpile_t"]
    if settings.final_stockpile == "lost" and left > LEFT_ON_STOCKPILE * max(1.0, float(sim.periods["mined_t"].sum())):
        warnings.append(f"{left / 1e6:,.1f} Mt of ore are left on the stockpile at the end and never milled (the "
                        "plan's rule for the final stockpile is 'lost'): their ore-grade metal is counted as sterilised")
    co2 = deposit.co2_at_mining()
    reclaimed = reclaimed_feed(period, dest, deposit.mill_hours, co2, sim.periods["stockpile_out_t"],
                               sim.periods["mill_hours"], sim.periods["co2_t"], longer)
    check = check_block_schedule(deposit.precedence, deposit.tonnage, deposit.mill_hours, co2, period, dest,
                                 limits_of(routes), reclaimed)
    if not check.feasible:
        raise RuntimeError("the block schedule failed the independent check: " + "; ".join(check.solution[:3]))
    info = {name: {"status": r.status, "objective": r.objective, "seconds": r.seconds,
                   "build_seconds": r.info.get("build_seconds"), "solve_seconds": r.info.get("solve_seconds"),
                   "variables": r.info.get("variables"), "integer_variables": r.info.get("integer_variables")}
            for name, r in stages.items()}
    info["cut_model_objective"] = stages["sequence"].objective
    info["periods"] = longer
    info["block_order"] = order
    result = Result(status=FEASIBLE, objective=sim.kpis["objective"], bound=math.inf,
                    seconds=time.perf_counter() - t0, info=info,
                    algorithm="block-mip+routes" if sequence.integer else "cut-lp+toposort+routes+block-mip")
    return StrategyPlan(schedule, sim, routes, result, check, warnings, prices)


def _routes_and_destinations(deposit: Deposit, routing: Layout, period: np.ndarray, routes: PlanSettings,
                             env_price: bool, extend, stages: dict):
    """Steps 3 and 4 of the module docstring: (the solved last model, its units, group and pile of
    each block)."""
    longer = routes.periods
    by_period, group_period = regroup(routing, period)
    grouped, bins = price_units(deposit, by_period, env_price)
    model = build_plan_model(grouped, bins, routes, extend, mined=one_hot(group_period, longer))
    stages["routes"] = solve_plan_model(model)
    share = np.zeros((grouped.n_parcels, 3))
    for (q, d, t), var in model.x.items():
        share[q, d] += var.value or 0.0
    # a group the routes send one way keeps it; the blocks of the other groups are decided one by
    # one (binary); every pile's make-up is then known exactly
    units, group_of = _final_units(deposit, routing, by_period, period, share, env_price, longer)
    last = int(period.max(initial=0))
    try:
        model, stages["destinations"] = _reclaim(units, routes, extend, last)
    except InfeasibleError:           # whole blocks do not fit: let every block of the ore choose
        units, group_of = _final_units(deposit, routing, by_period, period, share, env_price, longer, free_ore=True)
        model, stages["destinations"] = _reclaim(units, routes, extend, last)
    return model, units, group_of


def _final_units(deposit: Deposit, routing: Layout, by_period: Layout, period: np.ndarray, share: np.ndarray,
                 env_price: bool, T: int, free_ore: bool = False):
    """The units of the last model: groups the routes send one way (route fixed), the single blocks
    of the other groups (binary routes; with ``free_ore``, of every ore group), and the piles: the
    ore of one grade bin stockpiled in one period, and one pile for each single block.  Returns
    ((parcels, piles, mined, route, whole), (group of each block, pile of each block))."""
    group = by_period.block_parcel
    n = deposit.n_blocks
    blocks = np.arange(n)
    has = (group >= 0) & (period >= 0)
    g0 = np.maximum(group, 0)
    pure = (share.max(axis=1) >= 1.0 - 1e-9) & ~(free_ore & by_period.parcel_ore)
    in_pure = has & pure[g0]
    label = np.where(in_pure, period * 3 + np.argmax(share, axis=1)[g0], 3 * T + blocks)
    exact, glabel = regroup(routing, np.where(has, label, -1))
    parcels, _ = price_units(deposit, exact, env_price)
    single = glabel >= 3 * T
    gperiod = np.where(single, period[np.maximum(glabel - 3 * T, 0)], np.where(glabel >= 0, glabel // 3, -1))
    route = np.where(single | (glabel < 0), -1, glabel % 3)
    g = exact.block_parcel
    gb = np.maximum(g, 0)
    stocked = (g >= 0) & ~single[gb] & (route[gb] == STOCKPILE)
    n_cells = T * (int(routing.block_bin.max(initial=0)) + 1)
    cell = np.where(stocked, routing.block_bin * T + period, -1)
    cell = np.where((g >= 0) & single[gb] & (routing.block_bin >= 0), n_cells + blocks, cell)
    uniq, pile = np.unique(cell, return_inverse=True)
    pile = np.where(cell >= 0, pile - int((uniq < 0).any()), -1)
    group_pile = np.full(parcels.n_parcels, -1, dtype=np.int64)
    group_pile[g[pile >= 0]] = pile[pile >= 0]
    piles = pile_means(deposit, pile, deposit.flows(env_price).at_reclaim)
    return (replace(parcels, bin=group_pile), piles, one_hot(gperiod, T), route, single), (g, pile)


def _decided(model, units, group_of, period: np.ndarray):
    """(destination, pile) of every block from the solved last model (air in the pit: the dump)."""
    _, _, _, route, single = units
    g, pile = group_of
    chosen = np.where(route >= 0, route, DUMP)
    for (q, d, t), var in model.x.items():
        if single[q] and (var.value or 0.0) > 0.5:
            chosen[q] = d
    dest = np.where(period >= 0, np.where(g >= 0, chosen[np.maximum(g, 0)], DUMP), -1)
    return dest, np.where(dest == STOCKPILE, pile, -1)


WHOLE_BLOCK_ROOM = 0.97     # share of the mill a plan without stockpile fills with what it must keep:
                            # the rest leaves room to choose whole blocks that meet the rule


def _pace(deposit: Deposit, sequence: Layout, W: np.ndarray, settings: PlanSettings) -> np.ndarray:
    """t the blocks may take per period: the cut model's own pace times `PACE_ALLOWANCE`, within the
    mining capacity (after the cut model's horizon: the capacity)."""
    cap = settings.per_period(settings.mining_capacity)
    has = sequence.block_cut >= 0
    cut_t = np.bincount(sequence.block_cut[has], weights=deposit.tonnage[has], minlength=W.shape[0])
    pace = np.maximum(np.diff(np.c_[np.zeros(W.shape[0]), W], axis=1), 0.0).T @ cut_t
    cap[:pace.size] = np.minimum(cap[:pace.size], PACE_ALLOWANCE * pace)
    return cap


def _must_mill(deposit: Deposit, settings: PlanSettings) -> list:
    """Without a stockpile, a plan that keeps ore (recovery floor, no ore to the dump) mills it when
    it is mined: the ore-grade tonnes and hours mined in a period, times the share kept, fit in
    `WHOLE_BLOCK_ROOM` of the mill."""
    if settings.stockpile:
        return []
    keep = 1.0 if settings.no_ore_to_dump else settings.recovery_floor
    if not keep:
        return []
    ore = deposit.ore
    room = WHOLE_BLOCK_ROOM
    return [(np.where(ore, deposit.tonnage, 0.0) * keep, room * settings.per_period(settings.mill_capacity)),
            (np.where(ore, deposit.mill_hours, 0.0) * keep, room * settings.per_period(settings.mill_hours))]


def _reclaim(units, settings: PlanSettings, extend, last_mining: int):
    """Solve the last model.  When the piles must end empty, the mill works them off at full rate
    once mining ends (a closing mine does not keep a part-loaded mill running): they must be empty by
    the earliest period that allows, found from the stockpile left when mining ends and confirmed by
    bisection on one model, translated once (`CompiledPlan`: each attempt changes bounds only)."""
    parcels, piles, mined, route, whole = units
    steady = replace(settings, steady_milling=STEADY_MILLING) if settings.final_stockpile == "empty" else settings
    model = build_plan_model(parcels, piles, steady, extend, mined=mined, route=route, whole=whole)
    if settings.final_stockpile != "empty" or piles.n_bins == 0:
        return model, solve_plan_model(model)
    plan = CompiledPlan(model, piles=True)

    def attempt(empty_by):
        return plan.solve(empty_by=empty_by, load=False)

    high = settings.periods - 1
    try:
        best = attempt(high)
    except InfeasibleError:           # the mill cannot stay that full (its hours bind): no steady tail
        model = build_plan_model(parcels, piles, settings, extend, mined=mined, route=route, whole=whole)
        return model, solve_plan_model(model)
    held = sum(best.solution[j] if j >= 0 else 0.0 for j in plan.inv_col[:, last_mining].tolist())  # inv[g, t]
    mill = float(settings.per_period(settings.mill_capacity)[min(last_mining + 1, high)])
    guess = min(high, last_mining + 1 + math.ceil(held / (STEADY_MILLING * mill) * (1 + 1e-9))) \
        if math.isfinite(mill) and mill > 0 else high
    low, found = last_mining, high
    for period in sorted({guess, min(high, guess + 1)}):          # usually enough
        if period < found:
            try:
                best, found = attempt(period), period
                break
            except InfeasibleError:
                low = period + 1
    while low < found:
        mid = (low + found) // 2
        try:
            best, found = attempt(mid), mid
        except InfeasibleError:
            low = mid + 1
    empty_piles_by(model, found)      # the model states the plan it holds: piles empty from ``found`` on
    plan.load(best)
    return model, best


def one_hot(group_period: np.ndarray, T: int) -> np.ndarray:
    """mined[q, t] = 1 in the period of group q (never when -1)."""
    out = np.zeros((group_period.size, T))
    has = group_period >= 0
    out[np.flatnonzero(has), group_period[has]] = 1.0
    return out


def _values2(var, n: int, T: int) -> np.ndarray:
    return np.array([[var[i, t].value or 0.0 for t in range(T)] for i in range(n)]).reshape(n, T)
