"""Mining strategies side by side: high-grade, npv, green, and the NPV-recovery frontier.

A strategy is a final pit plus a schedule (`orepit.planning.plan`) with its switches:

    high-grade  NPV, no stockpile, no environmental price: marginal ore the mill cannot
                take when it is mined goes to the dump (the value-maximizing cut-off)
    npv         NPV with the low-grade stockpile, no environmental price
    green       NPV net of environmental cost (carbon price, tailings, water, dumps, PAF), with
                the stockpile, a cumulative mining-recovery floor, no ore-grade material to the
                dump, and a final-pit utilisation floor (share of the deposit's metal inside the
                final pit, at least the given share and at least the economic ultimate pit's, reached
                with a resource credit per tonne of metal found by bisection, so that the pit stays
                a closure problem); every stockpiled tonne is milled before the end
    frontier    epsilon-constraint sweep: the best NPV for each required metal recovery (or CO2 cap)

Large pits are scheduled by mining cuts (bench x pushback, pushbacks grouped from nested
shells to a minimum tonnage), each split into parcels by grade bin; small ones block by block.
"""
from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from solvers.closure import PseudoflowSolver
from solvers.errors import InputError, InfeasibleError
from solvers.nested import nested_pits
from solvers.problem import Precedence

from orepit.valuation.deposit import Deposit
from orepit.valuation.destinations import DUMP, MILL, STOCKPILE
from orepit.planning.kpis import Simulation, simulate
from orepit.planning.plan import Bins, Parcels, Plan, PlanSettings, solve_plan

STRATEGY_NAMES = ("high-grade", "npv", "green")
#: green strategy defaults: cumulative mining-recovery floor (China's large open-pit copper mines:
#: mining recovery >= 0.95) and final-pit utilisation floor (share of the deposit's ore-grade metal)
RECOVERY_FLOOR = 0.95
UTILISATION_FLOOR = 0.9


@dataclass
class StrategyOptions:
    """Switches of one strategy (see the module docstring). Floors are shares in [0, 1]."""

    stockpile: bool = True
    env_price: bool = False
    recovery_floor: float | None = None
    no_ore_to_dump: bool = False
    utilisation_floor: float | None = None
    co2_cap: float | None = None
    final_stockpile: str | None = None     # None: the setup's; green: 'empty' (all stockpiled ore is milled)


def strategy_options(name: str, recovery_floor: float = RECOVERY_FLOOR,
                     utilisation_floor: float | None = UTILISATION_FLOOR) -> StrategyOptions:
    """The switches of a named strategy; the green floors are parameters (None: off)."""
    if name == "high-grade":
        return StrategyOptions(stockpile=False)
    if name == "npv":
        return StrategyOptions(stockpile=True)
    if name == "green":
        return StrategyOptions(stockpile=True, env_price=True, recovery_floor=recovery_floor, no_ore_to_dump=True,
                               utilisation_floor=utilisation_floor, final_stockpile="empty")
    raise InputError(f"unknown strategy '{name}' (choose from {', '.join(STRATEGY_NAMES)}, frontier)",
                     field="strategies")


@dataclass
class ScheduleSetup:
    """How the deposit is cut into schedulable units and the mine's capacities per period.

    periods: mining periods; tail_periods: processing-only periods after them (the mill works off the
    stockpile; no mining); discount_rate per period; mining_capacity, mill_capacity (t/period) and
    mill_hours (h/period): None derives them from the ultimate pit (`derive_capacities`); n_pushbacks: target
    number of pushbacks; n_bins: stockpile grade bins for ore; block_limit: schedule block by
    block when the pit has at most this many blocks; stockpile_loss per period; final_stockpile.
    """

    periods: int = 10
    tail_periods: int = 5
    discount_rate: float = PlanSettings.discount_rate
    mining_capacity: float | None = None
    mill_capacity: float | None = None
    mill_hours: float | None = None
    n_pushbacks: int = 5
    n_bins: int = 4
    block_limit: int = 400
    stockpile_loss: float = PlanSettings.stockpile_loss
    final_stockpile: str = "lost"
    time_limit: float = PlanSettings.time_limit
    mip_gap: float = PlanSettings.mip_gap
    threads: int | None = None


@dataclass
class StrategyResult:
    """One strategy's pit, schedule and simulated KPIs (per block: period and destination)."""

    name: str
    options: StrategyOptions
    pit: np.ndarray
    parcels: Parcels
    bins: Bins
    settings: PlanSettings
    plan: Plan
    simulation: Simulation
    block_period: np.ndarray
    block_destination: np.ndarray
    credit: float = 0.0
    seconds: float = 0.0

    @property
    def kpis(self) -> dict:
        return self.simulation.kpis


# ---------------------------------------------------------------------------------------------
# pits

def utilisation_pit(deposit: Deposit, values: np.ndarray, floor: float | None,
                    solver: PseudoflowSolver | None = None, iterations: int = 40) -> tuple[np.ndarray, float]:
    """The best pit holding at least ``floor`` of the deposit's ore-grade metal.

    Adds a credit (currency per t of metal) to every ore-grade block and bisects on it until the
    closure holds the required share; returns (pit mask, credit). Raises `InfeasibleError` when
    even the largest pit misses the floor.
    """
    solver = PseudoflowSolver(deposit.precedence) if solver is None else solver
    ore_metal = np.where(deposit.ore, deposit.metal, 0.0)
    total = ore_metal.sum()
    pit = solver.solve(values).solution
    if floor is None or total <= 0 or ore_metal[pit].sum() >= floor * total:
        return pit, 0.0
    full = solver.solve(np.where(deposit.ore, 1.0, 0.0) * 1e-9 + (ore_metal > 0) * 1.0).solution  # every ore block
    if ore_metal[full].sum() < floor * total - 1e-9 * total:
        raise InfeasibleError(f"utilisation floor {floor:.3f} cannot be met: no pit holds more than "
                              f"{ore_metal[full].sum() / total:.3f} of the deposit's metal")
    low, high = 0.0, 1.0
    while ore_metal[solver.solve(values + high * ore_metal).solution].sum() < floor * total:
        high *= 2.0
    for _ in range(iterations):
        mid = 0.5 * (low + high)
        if ore_metal[solver.solve(values + mid * ore_metal).solution].sum() >= floor * total:
            high = mid
        else:
            low = mid
    return solver.solve(values + high * ore_metal).solution, high


def pushbacks(deposit: Deposit, values: np.ndarray, pit: np.ndarray, n_pushbacks: int,
              solver: PseudoflowSolver | None = None) -> np.ndarray:
    """Pushback index per block (-1 outside ``pit``): nested shells at rising revenue factors inside
    the pit, grouped in order into about ``n_pushbacks`` groups of similar tonnage."""
    solver = PseudoflowSolver(deposit.precedence) if solver is None else solver
    positive = np.maximum(values, 0.0)
    negative = np.minimum(values, 0.0)
    factors = np.linspace(0.2, 1.0, 17)
    outside = ~pit
    big = np.abs(values).sum() + 1.0

    def value_at(f):
        return np.where(outside, -big, f * positive + negative)

    nested = nested_pits(value_at, factors, deposit.precedence, solver)
    shell = np.where(pit, np.where(nested.solution >= 0, nested.solution, factors.size), -1)
    tonnage = deposit.tonnage
    shell_t = np.bincount(shell[pit], weights=tonnage[pit], minlength=factors.size + 1)
    target = shell_t.sum() / max(1, n_pushbacks)
    group = np.zeros(shell_t.size, dtype=np.int64)
    current, acc = 0, 0.0
    for s, t in enumerate(shell_t):
        if acc >= target and t > 0 and current < n_pushbacks - 1:
            current, acc = current + 1, 0.0
        group[s] = current
        acc += t
    return np.where(pit, group[np.maximum(shell, 0)], -1)


# ---------------------------------------------------------------------------------------------
# units

def _bin_edges(deposit: Deposit, pit: np.ndarray, n_bins: int) -> np.ndarray:
    """Margin per tonne (currency/t) quantiles of ore tonnes in the pit: bin g holds [edge g, edge g+1)."""
    ore = deposit.ore & pit
    if not ore.any():
        return np.array([0.0, np.inf])
    per_t = deposit.margin[ore] / deposit.tonnage[ore]
    order = np.argsort(per_t)
    cum = np.cumsum(deposit.tonnage[ore][order])
    qs = [per_t[order][np.searchsorted(cum, q * cum[-1])] for q in np.arange(1, n_bins) / n_bins]
    return np.concatenate([[0.0], np.unique(qs), [np.inf]])


@dataclass
class Layout:
    """How the pit's blocks form cuts and parcels (independent of prices).

    block_parcel: parcel of each block (-1 outside the pit or zero tonnage); parcel_cut, parcel_bin,
    parcel_ore, parcel_low: per parcel; cut_precedence among cuts; integer: block-by-block cuts.
    """

    block_parcel: np.ndarray
    parcel_cut: np.ndarray
    parcel_bin: np.ndarray
    parcel_ore: np.ndarray
    parcel_low: np.ndarray
    cut_precedence: Precedence
    integer: bool
    low_edge: float

    @property
    def n_parcels(self) -> int:
        return self.parcel_cut.size


def cut_layout(deposit: Deposit, pit: np.ndarray, values: np.ndarray, setup: ScheduleSetup,
               solver: PseudoflowSolver | None = None) -> Layout:
    """Cuts and parcels of ``pit``: block by block when the pit is small (``block_limit``), else
    cuts = (pushback, bench) split into parcels by grade bin (waste is its own parcel).
    Low-grade ore: the lower half of the pit's ore tonnes by margin per tonne."""
    ton = deposit.tonnage
    blocks = np.flatnonzero(pit & (ton > 0))
    edges = _bin_edges(deposit, pit, setup.n_bins)
    per_t = np.where(ton > 0, deposit.margin / np.where(ton > 0, ton, 1.0), 0.0)
    ore = deposit.ore
    grade_bin = np.where(ore, np.clip(np.searchsorted(edges, per_t, side="right") - 1, 0, edges.size - 2), -1)
    low_edge = float(_bin_edges(deposit, pit, 2)[1])
    low = ore & (per_t < low_edge)
    cut_of_block = np.full(deposit.n_blocks, -1, dtype=np.int64)
    integer = blocks.size <= setup.block_limit
    if integer:
        cut_of_block[blocks] = np.arange(blocks.size)
        key = np.arange(blocks.size)  # one parcel per block
    else:
        pb = pushbacks(deposit, values, pit, setup.n_pushbacks, solver)
        n_k = int(deposit.model.k.max()) + 1
        uniq, cut_idx = np.unique(pb[blocks] * n_k + deposit.model.k[blocks], return_inverse=True)
        cut_of_block[blocks] = cut_idx
        key = cut_idx * (setup.n_bins + 1) + (grade_bin[blocks] + 1)
    parcel_key, parcel_of = np.unique(key, return_inverse=True)
    n_p = parcel_key.size
    block_parcel = np.full(deposit.n_blocks, -1, dtype=np.int64)
    block_parcel[blocks] = parcel_of
    first = np.zeros(n_p, dtype=np.int64)
    first[parcel_of[::-1]] = blocks[::-1]                     # a representative block per parcel
    # cut precedence: block arcs projected on cuts, plus the previous pushback's same bench
    nodes, preds = deposit.precedence.arcs()
    keep = (cut_of_block[nodes] >= 0) & (cut_of_block[preds] >= 0) & (cut_of_block[nodes] != cut_of_block[preds])
    a, b = cut_of_block[nodes[keep]], cut_of_block[preds[keep]]
    n_cuts = int(cut_of_block.max()) + 1
    if not integer:
        lookup = {int(key_): c for c, key_ in enumerate(uniq)}
        extra = [(c, lookup[int(key_) - n_k]) for c, key_ in enumerate(uniq) if int(key_) - n_k in lookup]
        if extra:
            ea, eb = np.array(extra).T
            a, b = np.concatenate([a, ea]), np.concatenate([b, eb])
    pair = np.unique(a * n_cuts + b)
    low_share = np.bincount(parcel_of, weights=low[blocks].astype(float), minlength=n_p)
    return Layout(block_parcel, cut_of_block[first], grade_bin[first], ore[first],
                  low_share > 0.5 * np.bincount(parcel_of, minlength=n_p),
                  Precedence.from_arcs(n_cuts, pair // n_cuts, pair % n_cuts), integer, low_edge)


def price_units(deposit: Deposit, layout: Layout, env_price: bool) -> tuple[Parcels, Bins]:
    """Parcels and stockpile bins of a layout, valued with or without the environmental price.

    The stockpile route's value at mining time is its cost (mining, extra haulage); its margin,
    less rehandle and the milling route's environmental cost, comes at reclaim through the bins.
    """
    has = layout.block_parcel >= 0
    idx = layout.block_parcel[has]
    n_p = layout.n_parcels

    def total(arr):
        arr = np.asarray(arr, dtype=np.float64)
        if arr.ndim == 1:
            return np.bincount(idx, weights=arr[has], minlength=n_p)
        return np.stack([np.bincount(idx, weights=arr[has, d], minlength=n_p) for d in range(arr.shape[1])], axis=1)

    w = 1.0 if env_price else 0.0
    route = deposit.values(env_price)
    value = total(np.where(np.isfinite(route), route, 0.0))
    value[:, STOCKPILE] = total(-deposit.mining - w * (deposit.env[:, STOCKPILE] - deposit.env[:, MILL]))
    co2 = total(deposit.co2)
    co2[:, STOCKPILE] = total(deposit.co2[:, STOCKPILE] - deposit.co2[:, MILL])
    waste = ~layout.parcel_ore
    value[waste, MILL] = np.minimum(value[waste, MILL], value[waste, DUMP])   # waste is never milled for profit
    extras = {k: total(v) for k, v in deposit.extras.items()}
    for v in extras.values():
        v[:, STOCKPILE] = 0.0                                 # energy and water are spent at reclaim
    parcels = Parcels(cut=layout.parcel_cut, tonnage=total(deposit.tonnage), metal=total(deposit.metal),
                      recovered=total(deposit.recovered), ore=layout.parcel_ore, value=value,
                      mill_hours=total(deposit.mill_hours), co2=co2, bin=layout.parcel_bin,
                      cut_precedence=layout.cut_precedence, integer_cuts=layout.integer,
                      low_grade=layout.parcel_low, extras=extras)
    per_t = np.where(parcels.tonnage > 0, parcels.tonnage, 1.0)
    reclaim = total(deposit.margin - deposit.rehandle - w * deposit.env[:, MILL]) / per_t
    return parcels, Bins.from_parcels(parcels, reclaim)


# ---------------------------------------------------------------------------------------------
# capacities and strategies

def derive_capacities(deposit: Deposit, pit: np.ndarray, setup: ScheduleSetup) -> ScheduleSetup:
    """Fill unset capacities from the pit: mining can move the pit in three quarters of the mining
    periods; the mill takes 80 % of the pit's ore over the mining periods (so it is the bottleneck
    while mining and the stockpile pays off in the tail); mill hours fit the average ore hardness."""
    T = setup.periods
    ore_t = deposit.tonnage[pit & deposit.ore].sum()
    pit_t = deposit.tonnage[pit].sum()
    hours = deposit.mill_hours[pit & deposit.ore].sum()
    mill = setup.mill_capacity if setup.mill_capacity is not None else 0.8 * ore_t / T
    return replace(setup,
                   mill_capacity=mill,
                   mining_capacity=setup.mining_capacity if setup.mining_capacity is not None
                   else pit_t / (0.75 * T),
                   mill_hours=setup.mill_hours if setup.mill_hours is not None
                   else (1.05 * hours / ore_t * mill if hours > 0 else math.inf))


def plan_settings(setup: ScheduleSetup, options: StrategyOptions) -> PlanSettings:
    periods = setup.periods + setup.tail_periods
    mining = np.concatenate([np.full(setup.periods, float(setup.mining_capacity)), np.zeros(setup.tail_periods)])
    return PlanSettings(periods=periods, discount_rate=setup.discount_rate,
                        mining_capacity=mining, mill_capacity=setup.mill_capacity,
                        mill_hours=setup.mill_hours, stockpile=options.stockpile,
                        stockpile_loss=setup.stockpile_loss,
                        final_stockpile=options.final_stockpile or setup.final_stockpile,
                        recovery_floor=options.recovery_floor, no_ore_to_dump=options.no_ore_to_dump,
                        co2_cap=options.co2_cap, time_limit=setup.time_limit, mip_gap=setup.mip_gap,
                        threads=setup.threads)


def run_strategy(deposit: Deposit, name: str, setup: ScheduleSetup, options: StrategyOptions | None = None,
                 solver: PseudoflowSolver | None = None, **overrides) -> StrategyResult:
    """Pit, units, schedule and simulation of one strategy; ``overrides`` set `PlanSettings` fields.

    KPIs include ``npv`` (the strategy's own objective), ``npv_economic`` (the same plan without
    environmental cost), ``npv_after_environment`` (with it) and ``environmental_cost`` (their
    difference, discounted), so that strategies compare on both footings.
    """
    start = time.perf_counter()
    options = strategy_options(name) if options is None else options
    solver = PseudoflowSolver(deposit.precedence) if solver is None else solver
    values = deposit.pit_values(options.env_price)
    ore_metal = np.where(deposit.ore, deposit.metal, 0.0)
    floor = options.utilisation_floor
    if floor is not None and ore_metal.sum() > 0:
        # a green pit never holds less of the resource than the economic ultimate pit
        economic = solver.solve(deposit.pit_values(False)).solution
        floor = max(floor, float(ore_metal[economic].sum() / ore_metal.sum()) * (1 - 1e-12))
    pit, credit = utilisation_pit(deposit, values, floor, solver)
    setup = derive_capacities(deposit, pit, setup)
    layout = cut_layout(deposit, pit, values + credit * ore_metal, setup, solver)
    parcels, bins = price_units(deposit, layout, options.env_price)
    settings = plan_settings(setup, options)
    deposit_metal = float(ore_metal.sum())
    settings = replace(settings, **overrides)
    plan = solve_plan(parcels, bins, settings)
    sim = simulate(parcels, bins, settings, plan, deposit_ore_metal=deposit_metal)
    for env_price, key in ((False, "npv_economic"), (True, "npv_after_environment")):
        p2, b2 = price_units(deposit, layout, env_price)
        sim.kpis[key] = simulate(p2, b2, settings, plan, deposit_metal, check_objective=False).kpis["npv"]
    sim.kpis["environmental_cost"] = sim.kpis["npv_economic"] - sim.kpis["npv_after_environment"]
    sim.kpis["resource_credit"] = credit
    block_period, block_dest = block_schedule(deposit, layout, plan)
    return StrategyResult(name, options, pit, parcels, bins, settings, plan, sim, block_period, block_dest,
                          credit, time.perf_counter() - start)


def block_schedule(deposit: Deposit, layout: Layout, plan: Plan) -> tuple[np.ndarray, np.ndarray]:
    """Period and destination of every block (-1 when unmined), consistent with the plan's tonnages.

    Each parcel's mined tonnes form a sequence of chunks (period by period; within a period mill,
    then stockpile, then dump); its blocks, best margin per tonne first, take the chunk in which
    the middle of their tonnage falls.  Exact for block scheduling; for mining cuts the block view
    matches the plan's tonnes per period and destination to within one block per chunk.
    """
    n = deposit.n_blocks
    period = np.full(n, -1, dtype=np.int64)
    dest = np.full(n, -1, dtype=np.int64)
    bp = layout.block_parcel
    blocks = np.flatnonzero(bp >= 0)
    if blocks.size == 0:
        return period, dest
    ton = deposit.tonnage
    per_t = deposit.margin / np.where(ton > 0, ton, 1.0)
    order = blocks[np.lexsort((-per_t[blocks], bp[blocks]))]     # by parcel, best first
    starts = np.searchsorted(bp[order], np.arange(layout.n_parcels))
    ends = np.searchsorted(bp[order], np.arange(layout.n_parcels), side="right")
    for p in range(layout.n_parcels):
        members = order[starts[p]:ends[p]]
        if members.size == 0:
            continue
        shares = plan.sent[p].T.reshape(-1)                      # (t, d) in period-major order
        if shares.sum() <= 1e-9:
            continue
        edges = np.cumsum(shares)                                # fractions of the parcel
        t_members = ton[members]
        mid = (np.cumsum(t_members) - 0.5 * t_members) / max(t_members.sum(), 1e-300)
        chunk = np.searchsorted(edges, mid, side="right")
        mined = chunk < shares.size
        chunk = np.minimum(chunk, shares.size - 1)
        period[members[mined]] = chunk[mined] // 3
        dest[members[mined]] = chunk[mined] % 3
    return period, dest


def compare(deposit: Deposit, names=STRATEGY_NAMES, setup: ScheduleSetup | None = None,
            recovery_floor: float = RECOVERY_FLOOR, utilisation_floor: float | None = UTILISATION_FLOOR,
            solver: PseudoflowSolver | None = None, phase=None) -> dict:
    """Run several strategies on one deposit with the same mine (capacities derived once, from the
    economic ultimate pit, where not given); adds ``price_of_green`` (economic NPV given up against
    the npv strategy or, without it, against high-grade) to each KPI table.

    solver: a `PseudoflowSolver` on the deposit's precedence to reuse; phase(name): a context
    manager wrapped around each strategy's run (progress bars, timings).
    """
    setup = ScheduleSetup() if setup is None else setup
    solver = PseudoflowSolver(deposit.precedence) if solver is None else solver
    if None in (setup.mining_capacity, setup.mill_capacity, setup.mill_hours):
        setup = derive_capacities(deposit, solver.solve(deposit.pit_values(False)).solution, setup)
    results = {}
    for name in names:
        with phase(name) if phase else contextlib.nullcontext():
            results[name] = run_strategy(deposit, name, setup,
                                         strategy_options(name, recovery_floor, utilisation_floor), solver)
    base = results.get("npv") or results.get("high-grade")
    for r in results.values():
        r.kpis["price_of_green"] = base.kpis["npv_economic"] - r.kpis["npv_economic"] if base is not None else 0.0
    return results


def frontier(deposit: Deposit, setup: ScheduleSetup | None = None, points: int = 8, axis: str = "metal",
             options: StrategyOptions | None = None) -> pd.DataFrame:
    """Epsilon-constraint sweep: best NPV for required metal recovered (``axis='metal'``) or for a
    life-of-mine CO2 cap (``axis='co2'``), on the npv strategy's pit and units.

    Returns one row per point (npv, metal_recovered, co2_t, epsilon, feasible, dominated), each plan
    checked by the simulation; the extreme is found with a large weight on metal (or CO2).
    """
    if axis not in ("metal", "co2"):
        raise InputError(f"frontier axis must be 'metal' or 'co2', got {axis!r}", field="axis")
    setup = ScheduleSetup() if setup is None else setup
    options = strategy_options("npv") if options is None else options
    solver = PseudoflowSolver(deposit.precedence)
    base = run_strategy(deposit, "npv", setup, options, solver)
    parcels, bins, settings = base.parcels, base.bins, base.settings
    best = base.kpis
    # the other extreme: most metal (or least CO2) attainable, found with a dominant weight
    weight = 1e3 * max(abs(parcels.value).max(), 1.0) / max(parcels.recovered.max() if axis == "metal"
                                                             else parcels.co2.max(), 1e-9)
    extreme = _weighted(parcels, bins, settings, axis, weight)
    lo, hi = (best["metal_recovered"], extreme["metal_recovered"]) if axis == "metal" else \
        (best["co2_tonnes"], extreme["co2_tonnes"])
    rows = []
    for eps in np.linspace(lo, hi, points):
        kw = {"metal_floor": eps * (1 - 1e-9)} if axis == "metal" else {"co2_total_cap": eps * (1 + 1e-9)}
        s = replace(settings, **kw)
        try:
            plan = solve_plan(parcels, bins, s)
        except InfeasibleError:
            continue
        sim = simulate(parcels, bins, s, plan)
        rows.append({"point": len(rows), "epsilon": eps, "npv": sim.kpis["npv"],
                     "metal_recovered": sim.kpis["metal_recovered"], "co2_t": sim.kpis["co2_tonnes"],
                     "feasible": sim.feasible, "status": plan.result.status})
    table = pd.DataFrame(rows)
    table["dominated"] = _dominated(table, axis)
    return table


def _weighted(parcels, bins, settings, axis, weight):
    """KPIs of the plan maximizing NPV + weight x metal (or - weight x CO2)."""
    p = replace(parcels, value=parcels.value.copy())
    b = replace(bins, reclaim_value=bins.reclaim_value.copy())
    if axis == "metal":
        p.value[:, MILL] += weight * parcels.recovered
        b.reclaim_value += weight * bins.recovered
    else:
        p.value -= weight * parcels.co2
        b.reclaim_value -= weight * bins.co2
    plan = solve_plan(p, b, settings)
    return simulate(p, b, settings, plan).kpis


def _dominated(table: pd.DataFrame, axis: str) -> np.ndarray:
    """True where another point is at least as good on both NPV and the second objective, better on one."""
    if table.empty:
        return np.zeros(0, dtype=bool)
    npv = table["npv"].to_numpy()
    other = table["metal_recovered"].to_numpy() if axis == "metal" else -table["co2_t"].to_numpy()
    tol = 1e-7 * np.maximum(1.0, np.abs(npv))
    out = np.zeros(len(table), dtype=bool)
    for i in range(len(table)):
        better_eq = (npv >= npv[i] - tol) & (other >= other[i] - 1e-7 * max(1.0, abs(other[i])))
        strictly = (npv > npv[i] + tol) | (other > other[i] + 1e-7 * max(1.0, abs(other[i])))
        out[i] = bool(np.any(better_eq & strictly))
    return out


def kpi_table(results: dict) -> pd.DataFrame:
    """One row per strategy, KPI columns."""
    return pd.DataFrame({name: r.kpis for name, r in results.items()}).T.rename_axis("strategy")
