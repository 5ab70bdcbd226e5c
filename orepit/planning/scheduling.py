"""One strategy's block schedule, from the cut model to a verified plan a mine can follow.

    1. sequence   the plan model (`orepit.planning.plan_model`) over cuts: when each cut is mined
                  and where its parcels go (an LP over cuts; a MIP when cuts are single blocks)
    2. blocks     each block's period from its cut's mined shares and its place in the cut, kept
                  below its upper neighbours and within the mining capacity (`sequencing`)
    3. routes     the plan model again with the blocks' mining fixed: destinations and reclaim
    4. blocks     each block's destination from those shares, within the mill's room (`sequencing`)
    5. reclaim    the plan model with every block fixed: the reclaim from each pile (the ore of one
                  grade bin stockpiled in one period, whose make-up is then known exactly)
    6. check      the simulation (`orepit.planning.simulation`) and the independent checker
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

from orepit.planning.layout import Layout, pile_means, price_units, regroup
from orepit.planning.plan_model import PlanSettings, build_plan_model, solve_plan_model
from orepit.planning.sequencing import block_destinations, block_periods
from orepit.planning.simulation import BlockSchedule, Simulation, simulate
from orepit.planning.verify import check_block_schedule
from orepit.valuation.deposit import Deposit
from orepit.valuation.destinations import DUMP, MILL, STOCKPILE

OVERFLOW_PERIODS = 3        # periods after the planned horizon for blocks the capacity pushes later


@dataclass
class StrategyPlan:
    """A verified block schedule and how it was obtained.

    schedule     `BlockSchedule` (period, destination, stockpile bin per block; reclaim per bin and period)
    simulation   KPIs and per-period table (`orepit.planning.simulation.Simulation`)
    settings     the `PlanSettings` of the schedule's horizon
    result       `Result`: status 'feasible' (a heuristic disaggregation of the cut model; no proven
                 bound), objective on the strategy's own footing; ``info`` holds each stage's
                 status, objective and seconds and the cut model's objective
    check        the independent checker's report
    warnings     sentences for the report (horizon too short, blocks left in the pit, ...)
    """

    schedule: BlockSchedule
    simulation: Simulation
    settings: PlanSettings
    result: Result
    check: object
    warnings: list = field(default_factory=list)


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
                  low_grade_edge: float, env_price: bool, max_periods: int, extend=None) -> StrategyPlan:
    """Steps 1-6 of the module docstring for one strategy.

    sequence: the layout the cut model sequences (coarse grade bins keep it small); routing: the same
    cuts with the grade bins the destinations and stockpiles use; settings: the strategy's
    `PlanSettings` (``periods`` and ``mine_out_by`` are set here from `horizon`); extend(model): a
    plan-model extension applied to every model solved.
    """
    t0 = time.perf_counter()
    stages, warnings = {}, []
    periods, out_by = horizon(deposit, pit, settings, max_periods)
    if out_by is None:
        warnings.append(f"the horizon of {max_periods} periods is too short to mine the whole pit at the mining "
                        f"capacity; ore-grade metal left in the pit is counted as sterilised")
    first = replace(settings, periods=periods, mine_out_by=out_by)
    parcels, bins = price_units(deposit, sequence, env_price)
    model = build_plan_model(parcels, bins, first, extend)
    stages["sequence"] = solve_plan_model(model)
    W = _values2(model.w, parcels.n_cuts, periods)

    longer = min(max_periods, periods + OVERFLOW_PERIODS)
    routes = replace(settings, periods=longer, mine_out_by=None)
    period = block_periods(deposit, sequence, pit, W, routes.per_period(routes.mining_capacity),
                           deposit.pit_values(env_price))
    unplaced = pit & (deposit.tonnage > 0) & (period < 0)
    if unplaced.any():
        warnings.append(f"{int(unplaced.sum())} blocks of the pit do not fit in {longer} periods at the mining "
                        "capacity and stay in the ground (their ore-grade metal is counted as sterilised)")

    # 3. routes and reclaim, each (parcel, period) group of blocks mined in its period
    by_period, group_period = regroup(routing, period)
    grouped, bins = price_units(deposit, by_period, env_price)
    model = build_plan_model(grouped, bins, routes, extend, mined=one_hot(group_period, longer))
    stages["routes"] = solve_plan_model(model)
    x = np.zeros((grouped.n_parcels, 3))
    for (q, d, t), var in model.x.items():
        x[q, d] += var.value or 0.0
    reclaim = _values2(model.r, bins.n_bins, longer)
    mill_budget = routes.per_period(routes.mill_capacity) - reclaim.sum(axis=0)
    hours_budget = routes.per_period(routes.mill_hours) - bins.mill_hours @ reclaim
    dest = block_destinations(deposit, by_period, period, x, mill_budget, hours_budget, routes.stockpile,
                              not routes.no_ore_to_dump)

    # 5. reclaim with every block fixed; each pile (grade bin x period stockpiled) is known exactly
    exact, label = regroup(routing, np.where(period >= 0, period * 3 + np.maximum(dest, 0), -1))
    fixed, _ = price_units(deposit, exact, env_price)
    cell = np.where(dest == STOCKPILE, routing.block_bin * longer + period, -1)
    pile = np.unique(cell, return_inverse=True)[1] - (1 if (cell < 0).any() else 0)
    pile = np.where(cell >= 0, pile, -1)
    group_pile = np.full(fixed.n_parcels, -1, dtype=np.int64)
    group_pile[exact.block_parcel[cell >= 0]] = pile[cell >= 0]
    piles = pile_means(deposit, pile, deposit.flows(env_price).at_reclaim)
    group_period = np.where(label >= 0, label // 3, -1)
    reclaim_units = (replace(fixed, bin=group_pile), piles, one_hot(group_period, longer),
                     np.where(label >= 0, label % 3, DUMP))
    model, stages["reclaim"] = _reclaim(reclaim_units, routes, extend, int(period.max(initial=0)))
    schedule = BlockSchedule(period, dest, pile, _values2(model.r, piles.n_bins, longer))
    sim = simulate(deposit, schedule, routes, pit, low_grade_edge, env_price)
    if sim.violations:
        raise RuntimeError("the block schedule breaks its own rules: " + "; ".join(sim.violations[:3]))
    reclaimed = {"tonnes": sim.periods["stockpile_out_t"].to_numpy(),
                 "hours": sim.periods["mill_hours"].to_numpy() - _direct(deposit, schedule, "hours", longer),
                 "co2": sim.periods["co2_t"].to_numpy() - _direct(deposit, schedule, "co2", longer)}
    check = check_block_schedule(deposit, period, dest, routes, reclaimed)
    if not check.feasible:
        raise RuntimeError("the block schedule failed the independent check: " + "; ".join(check.solution[:3]))
    info = {name: {"status": r.status, "objective": r.objective, "seconds": r.seconds,
                   "build_seconds": r.info.get("build_seconds"), "variables": r.info.get("variables"),
                   "integer_variables": r.info.get("integer_variables")} for name, r in stages.items()}
    info["cut_model_objective"] = stages["sequence"].objective
    info["periods"] = longer
    result = Result(status=FEASIBLE, objective=sim.kpis["objective"], bound=math.inf,
                    seconds=time.perf_counter() - t0, info=info,
                    algorithm="block-mip+routes" if sequence.integer else "cut-lp+toposort+routes")
    return StrategyPlan(schedule, sim, routes, result, check, warnings)


def _reclaim(units, settings: PlanSettings, extend, last_mining: int):
    """Solve the reclaim model (every block fixed).  When the piles must end empty, the mill works
    them off at full rate once mining ends: they must be empty by the earliest period that allows
    (a closing mine does not keep a part-loaded mill running), found by bisection."""
    parcels, piles, mined, route = units

    def attempt(empty_by):
        s = settings if empty_by is None else replace(settings, empty_by=empty_by)
        model = build_plan_model(parcels, piles, s, extend, mined=mined, route=route)
        return model, solve_plan_model(model)

    if settings.final_stockpile != "empty" or piles.n_bins == 0:
        return attempt(None)
    low, high = last_mining, settings.periods - 1
    best = attempt(high)                                  # infeasible here: no plan at all
    while low < high:
        mid = (low + high) // 2
        try:
            best, high = attempt(mid), mid
        except InfeasibleError:
            low = mid + 1
    return best


def one_hot(group_period: np.ndarray, T: int) -> np.ndarray:
    """mined[q, t] = 1 in the period of group q (never when -1)."""
    out = np.zeros((group_period.size, T))
    has = group_period >= 0
    out[np.flatnonzero(has), group_period[has]] = 1.0
    return out


def _values2(var, n: int, T: int) -> np.ndarray:
    return np.array([[var[i, t].value or 0.0 for t in range(T)] for i in range(n)]).reshape(n, T)


def _reclaim(units, settings: PlanSettings, extend, last_mining: int):
    """Solve the reclaim model (every block fixed).  When the piles must end empty, the mill works
    them off at full rate once mining ends: they must be empty by the earliest period that allows
    (a closing mine does not keep a part-loaded mill running), found by bisection."""
    parcels, piles, mined, route = units

    def attempt(empty_by):
        s = settings if empty_by is None else replace(settings, empty_by=empty_by)
        model = build_plan_model(parcels, piles, s, extend, mined=mined, route=route)
        return model, solve_plan_model(model)

    if settings.final_stockpile != "empty" or piles.n_bins == 0:
        return attempt(None)
    low, high = last_mining, settings.periods - 1
    best = attempt(high)                                  # infeasible here: no plan at all
    while low < high:
        mid = (low + high) // 2
        try:
            best, high = attempt(mid), mid
        except InfeasibleError:
            low = mid + 1
    return best


def one_hot(group_period: np.ndarray, T: int) -> np.ndarray:
    """mined[q, t] = 1 in the period of group q (never when -1)."""
    out = np.zeros((group_period.size, T))
    has = group_period >= 0
    out[np.flatnonzero(has), group_period[has]] = 1.0
    return out


def _values2(var, n: int, T: int) -> np.ndarray:
    return np.array([[var[i, t].value or 0.0 for t in range(T)] for i in range(n)]).reshape(n, T)


def _integral_periods(layout: Layout, W: np.ndarray) -> np.ndarray:
    """Block periods of a block-by-block (integer) plan: the first period its cut is mined by."""
    done = W > 0.5
    cut_period = np.where(done.any(axis=1), np.argmax(done, axis=1), -1)
    return np.where(layout.block_cut >= 0, cut_period[np.maximum(layout.block_cut, 0)], -1)


def _direct(deposit: Deposit, schedule: BlockSchedule, what: str, T: int) -> np.ndarray:
    """Per period, the mill hours (``hours``) or t CO2 (``co2``) of the blocks themselves (not reclaim)."""
    mined = schedule.period >= 0
    if what == "hours":
        amount = np.where(schedule.destination == MILL, deposit.mill_hours, 0.0)
    else:
        amount = deposit.co2_at_mining()[np.arange(deposit.n_blocks), np.maximum(schedule.destination, 0)]
    return np.bincount(schedule.period[mined], weights=amount[mined], minlength=T)[:T]

