"""Mining strategies side by side: high-grade, npv, green, and the NPV-resource frontier.

A strategy is a final pit plus a block schedule (`orepit.planning.scheduling`) with its switches:

    high-grade  NPV, no stockpile, no environmental price: ore the mill cannot take when it is
                mined goes to the dump (the value-maximizing cut-off)
    npv         NPV with the low-grade stockpile, no environmental price
    green       NPV net of environmental cost (carbon price, tailings, water, dumps, acid-forming
                waste), with the stockpile, a cumulative mining-recovery floor, no ore-grade material
                to the dump, every stockpiled tonne milled before the end, and a final-pit
                utilisation floor (the pit holds at least the given share of the deposit's
                ore-grade metal, and at least the economic ultimate pit's share, reached with a
                resource credit per tonne of metal so that the pit stays a closure problem)
    frontier    green's objective against metal recovered for rising utilisation floors

Every strategy of a comparison runs on the same mine: capacities are the user's, or derived once
from the economic ultimate pit; the number of periods follows from them (each strategy mines out
its own pit).  KPIs stand on one footing: ``npv`` is the economic NPV for every strategy,
``npv_after_environment`` the NPV net of environmental cost, ``objective`` what the strategy
maximised.
"""
from __future__ import annotations

import contextlib
import functools
import math
import time
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from solvers.closure import PseudoflowSolver
from solvers.errors import InfeasibleError, InputError

from orepit.planning.bound import bounded, plan_bound
from orepit.planning.budget import GREEN_BUDGET, first_guess, search_floor
from orepit.planning.forked import ForkedSeries, can_fork
from orepit.planning.layout import Layout, cut_layout, low_grade_edge, with_bins
from orepit.planning.pits import shell_core, utilisation_pit
from orepit.planning.plan_model import PlanSettings, pyomo_environ
from orepit.planning.rules import rule_prices
from orepit.planning.scheduling import StrategyPlan, plan_schedule
from orepit.valuation.deposit import Deposit

STRATEGY_NAMES = ("high-grade", "npv", "green")
RECOVERY_FLOOR = 0.95       # green: mining recovery (China's large open-pit copper mines: >= 0.95)
PARALLEL_ABOVE = 100_000    # blocks: larger deposits run their strategies side by side (`compare`)
BACKGROUND_NICE = 10        # side by side, the strategies green does not wait for yield the cores to
                            # green and npv (whose NPV green's budget needs): they run on idle time
LIFE_LIMIT = 100            # periods: capacities that need longer to move the economic pit are a mistake


@dataclass
class StrategyOptions:
    """Switches of one strategy (see the module docstring).  Floors and the budget are shares in [0, 1]."""

    stockpile: bool = True
    env_price: bool = False
    recovery_floor: float | None = None
    no_ore_to_dump: bool = False
    utilisation_floor: float | None = None
    co2_cap: float | None = None
    final_stockpile: str = "lost"
    budget: float | None = None


def strategy_key(name: str) -> str:
    """A strategy's suffix in column names: ``high-grade`` -> ``high_grade``."""
    return name.replace("-", "_")


def strategy_options(name: str, recovery_floor: float = RECOVERY_FLOOR, utilisation_floor: float | None = None,
                     budget: float | None = GREEN_BUDGET) -> StrategyOptions:
    """The switches of a named strategy.  Green: ``utilisation_floor`` is the least share of the
    deposit's ore-grade metal in its pit (None: the economic pit's share); ``budget`` the share of
    npv's economic NPV it may give up for more metal (None: no budget search)."""
    if name == "high-grade":
        return StrategyOptions(stockpile=False)
    if name == "npv":
        return StrategyOptions(stockpile=True)
    if name == "green":
        return StrategyOptions(stockpile=True, env_price=True, recovery_floor=recovery_floor, no_ore_to_dump=True,
                               utilisation_floor=utilisation_floor, final_stockpile="empty", budget=budget)
    raise InputError(f"unknown strategy '{name}' (choose from {', '.join(STRATEGY_NAMES)}, frontier)",
                     field="strategies")


@dataclass
class ScheduleSetup:
    """The mine every strategy shares, and how the deposit is cut into schedulable units.

    periods            periods at most (the life of mine follows from the capacities, up to this)
    target_life        periods over which derived capacities mill the economic pit's ore
    discount_rate      per period (0.08 = 8 %)
    mining_capacity    t mined per period; None: the economic pit in three quarters of target_life
    mill_capacity      t milled per period; None: 80 % of the economic pit's ore per period of
                       target_life (the mill is the bottleneck while mining: the stockpile pays)
    mill_hours         h of milling per period; None: fits the average hardness of that ore (+5 %)
    stockpile_capacity t held at any time (inf: none); stockpile_loss: share lost per period
    steady_mining      the fleet moves at least this share of the mining capacity each period until
                       the pit is out (None: it may slow down; a plan that cannot keep it, because it
                       must mill what it mines, slows down and says so)
    n_pushbacks        pushbacks (groups of nested shells) of a large pit
    n_bins             stockpile grade bins (margin per tonne quantiles of the pit's ore)
    sequence_bins      coarser grade bins of the cut model that sequences the mining (a smaller LP)
    block_limit        pits of at most this many blocks are scheduled block by block (a MIP)
    time_limit, mip_gap, threads   for HiGHS (s per solve, relative gap, threads; 0: HiGHS decides)
    bound_prices       prices tried for each plan's upper bound (`orepit.planning.bound`): the first 4
                       are the cut model's duals, scaled; column generation needs a few dozen more to
                       lower it (about a second each at 300,000 blocks x periods); the same on every
                       machine
    """

    periods: int = 40
    target_life: int = 10
    discount_rate: float = PlanSettings.discount_rate
    mining_capacity: float | None = None
    mill_capacity: float | None = None
    mill_hours: float | None = None
    stockpile_capacity: float = PlanSettings.stockpile_capacity
    stockpile_loss: float = PlanSettings.stockpile_loss
    steady_mining: float | None = 0.95
    n_pushbacks: int = 8
    n_bins: int = 12
    sequence_bins: int = 4
    block_limit: int = 100
    time_limit: float = PlanSettings.time_limit
    mip_gap: float = PlanSettings.mip_gap
    threads: int | None = PlanSettings.threads
    bound_prices: int = 4

    def __post_init__(self):
        check_setup(self)


def check_setup(setup: ScheduleSetup) -> None:
    """Refuse settings that make no sense, naming the option and the likely mistake."""
    if not isinstance(setup.periods, (int, np.integer)) or setup.periods < 1:
        raise InputError(f"periods: expected a whole number of periods >= 1, got {setup.periods!r}",
                         field="periods")
    if not isinstance(setup.target_life, (int, np.integer)) or setup.target_life < 1:
        raise InputError(f"target life: expected a whole number of periods >= 1, got {setup.target_life!r}",
                         field="target_life")
    rate = setup.discount_rate
    if not (isinstance(rate, (int, float)) and math.isfinite(rate)) or rate <= -1:
        raise InputError(f"discount rate {rate!r} per period must be a number above -1", field="discount_rate")
    if rate > 1:
        raise InputError(f"discount rate {rate:g} per period is {100 * rate:g} %; give it as a fraction "
                         f"(did you mean {rate / 100:g}?)", field="discount_rate")
    for name in ("mining_capacity", "mill_capacity", "mill_hours"):
        value = getattr(setup, name)
        if value is not None and not (isinstance(value, (int, float)) and value > 0):
            raise InputError(f"{name.replace('_', ' ')} must be positive (t or h per period), got {value!r}",
                             field=name)
    if not setup.stockpile_capacity > 0:
        raise InputError(f"stockpile capacity must be positive (t), got {setup.stockpile_capacity!r}",
                         field="stockpile_capacity")
    if setup.steady_mining is not None and not 0 < setup.steady_mining <= 1:
        raise InputError(f"steady mining must be a share in (0, 1] of the mining capacity, got {setup.steady_mining!r}",
                         field="steady_mining")
    if not 0 <= setup.stockpile_loss < 1:
        raise InputError(f"stockpile loss must be a share in [0, 1) per period, got {setup.stockpile_loss!r}",
                         field="stockpile_loss")
    for name, low in (("n_pushbacks", 1), ("bound_prices", 1), ("n_bins", 1), ("sequence_bins", 1), ("block_limit", 0)):
        if not isinstance(getattr(setup, name), (int, np.integer)) or getattr(setup, name) < low:
            raise InputError(f"{name} must be a whole number >= {low}, got {getattr(setup, name)!r}", field=name)


def derive_capacities(deposit: Deposit, pit: np.ndarray, setup: ScheduleSetup) -> ScheduleSetup:
    """Fill unset capacities from the economic pit (see `ScheduleSetup`) and refuse capacities that
    would need more than `LIFE_LIMIT` periods to mine it or mill its ore (a unit mistake, such as a
    mill of 1,000 t for a pit of 280 Mt).  A horizon (``periods``) shorter than the capacities
    need is allowed: the plan then leaves ore in the pit and says so."""
    life = setup.target_life
    ton = deposit.tonnage
    ore_t = float(ton[pit & deposit.ore].sum())
    pit_t = float(ton[pit].sum())
    hours = float(deposit.mill_hours[pit & deposit.ore].sum())
    mill = setup.mill_capacity if setup.mill_capacity is not None else 0.8 * ore_t / life
    out = replace(setup,
                  mill_capacity=mill or math.inf,
                  mining_capacity=setup.mining_capacity if setup.mining_capacity is not None
                  else (pit_t / (0.75 * life) or math.inf),
                  mill_hours=setup.mill_hours if setup.mill_hours is not None
                  else (1.05 * hours / ore_t * mill if hours > 0 and ore_t > 0 else math.inf))
    need = pit_t / out.mining_capacity
    if need > LIFE_LIMIT:
        raise InputError(f"mining capacity {out.mining_capacity:,.6g} t per period would take {need:,.0f} periods "
                         f"to move the economic pit ({pit_t:,.6g} t), more than {LIFE_LIMIT}: is it in t per "
                         "period?", field="mining_capacity")
    need = ore_t / out.mill_capacity
    if need > LIFE_LIMIT:
        raise InputError(f"mill capacity {out.mill_capacity:,.6g} t per period would take {need:,.0f} periods "
                         f"to mill the economic pit's ore ({ore_t:,.6g} t), more than {LIFE_LIMIT}: is it in t per "
                         "period?", field="mill_capacity")
    return out


def plan_settings(setup: ScheduleSetup, options: StrategyOptions) -> PlanSettings:
    """The plan-model settings of a strategy on the mine (the horizon is set by `plan_schedule`)."""
    return PlanSettings(periods=1, discount_rate=setup.discount_rate, mining_capacity=setup.mining_capacity,
                        mill_capacity=setup.mill_capacity, mill_hours=setup.mill_hours, stockpile=options.stockpile,
                        stockpile_capacity=setup.stockpile_capacity, stockpile_loss=setup.stockpile_loss,
                        final_stockpile=options.final_stockpile, recovery_floor=options.recovery_floor,
                        no_ore_to_dump=options.no_ore_to_dump, co2_cap=options.co2_cap,
                        steady_mining=setup.steady_mining,
                        time_limit=setup.time_limit, mip_gap=setup.mip_gap, threads=setup.threads)


@dataclass
class StrategyResult:
    """One strategy's pit and verified block schedule, with its KPIs.

    block_period / block_destination: per block (-1 unmined; destination 0 mill, 1 stockpile, 2 dump);
    credit: the utilisation floor's resource credit (currency per t of metal; 0 when it does not bind);
    rules: what each green rule costs (`orepit.planning.rules.rule_prices`), when priced;
    without_floor: green's plan with its utilisation floor down to the economic pit's share, when the
    floor is above it (the floor's price, and a point of the frontier); tried: {floor: result} of
    every green plan the budget search made (points of the frontier); these two keep their KPIs,
    credit and pit but not their layout and block schedule (`without_blocks`); budget_reason: what the
    budget bought, in one sentence; beside: planned in a forked child beside green (`compare`; its
    ``seconds`` are that run's own).
    """

    name: str
    options: StrategyOptions
    pit: np.ndarray
    layout: Layout
    plan: StrategyPlan
    credit: float = 0.0
    seconds: float = 0.0
    rules: list = field(default_factory=list)
    without_floor: "StrategyResult | None" = None
    tried: dict = field(default_factory=dict)
    budget_reason: str = ""
    beside: bool = False

    @property
    def kpis(self) -> dict:
        return self.plan.simulation.kpis

    @property
    def simulation(self):
        return self.plan.simulation

    @property
    def block_period(self) -> np.ndarray:
        return self.plan.schedule.period

    @property
    def block_destination(self) -> np.ndarray:
        return self.plan.schedule.destination

    @property
    def block_pushback(self) -> np.ndarray:
        return self.layout.block_pushback

    def without_blocks(self) -> "StrategyResult":
        """This result without its cut layout and block schedule (about 64 bytes a block), for a plan
        kept only for its KPIs, credit and pit: a budget-search trial not chosen (a point of the
        frontier, the utilisation floor's price)."""
        return replace(self, layout=None, plan=replace(self.plan, schedule=None))


def run_strategy(deposit: Deposit, name: str, setup: ScheduleSetup, options: StrategyOptions | None = None,
                 solver: PseudoflowSolver | None = None, low_edge: float | None = None, extend=None,
                 economic_pit: np.ndarray | None = None, layouts: tuple[Layout, Layout] | None = None,
                 known=(), states: dict | None = None, cores: dict | None = None) -> StrategyResult:
    """Pit, cuts, block schedule and KPIs of one strategy on a mine whose capacities are set.

    low_edge: the low-grade margin per tonne (default: from the economic pit); extend(model): a plan
    model extension (`orepit.planning.plan_model`); economic_pit: the economic ultimate pit, if known;
    layouts: `strategy_layouts` of the strategy's pit, if known (strategies without environmental
    price and floor share the economic pit's); known: (credit, share) points of the strategy's
    values already solved, to narrow the utilisation pit's search (`utilisation_pit`); states: the
    pseudoflow states of those closures by credit, for the search to continue from (`utilisation_pit`);
    cores: {credit: (pit, first nested shell)} of the strategy's layouts made so far, read to solve the
    shells of this pit without what they already hold (`orepit.planning.pits.shell_core`; the cuts are
    the same) and given this one's.
    """
    start = time.perf_counter()
    options = strategy_options(name) if options is None else options
    solver = PseudoflowSolver(deposit.precedence) if solver is None else solver
    if economic_pit is None:
        economic_pit = solver.solve(deposit.pit_values(False)).solution
    if low_edge is None:
        low_edge = low_grade_edge(deposit, economic_pit)
    values = deposit.pit_values(options.env_price)
    floor = 0.0 if options.utilisation_floor is None and options.env_price else options.utilisation_floor
    if floor is not None:
        # a green pit never holds less of the resource than the economic ultimate pit
        floor = max(floor, economic_share(deposit, economic_pit) * (1 - 1e-12))
    if floor is None and not options.env_price:
        pit, credit = economic_pit, 0.0             # the closure of these values is the economic pit
    else:
        pit, credit = utilisation_pit(deposit, values, floor, solver, known, states)
    values = values + credit * deposit.ore_metal
    if layouts is None:
        sequence, routing = strategy_layouts(deposit, pit, values, setup, solver,
                                             None if cores is None else shell_core(cores, credit, pit))
        if cores is not None and not sequence.integer:
            cores[credit] = (pit, sequence.block_position == 0)
    else:
        sequence, routing = layouts
    plan = plan_schedule(deposit, pit, sequence, routing, plan_settings(setup, options), low_edge,
                         options.env_price, setup.periods, extend)
    plan.simulation.kpis["resource_credit"] = credit
    return StrategyResult(name, options, pit, routing, plan, credit, time.perf_counter() - start)


def strategy_layouts(deposit: Deposit, pit: np.ndarray, values: np.ndarray, setup: ScheduleSetup,
                     solver: PseudoflowSolver, core: np.ndarray | None = None) -> tuple[Layout, Layout]:
    """(sequence, routing): the cuts of ``pit`` (pushbacks from nested shells of ``values``) with
    ``setup.sequence_bins`` grade bins for the cut model, and the same cuts with ``setup.n_bins``.
    core: blocks known to lie in the first nested shell (`orepit.planning.pits.shell_core`)."""
    sequence = cut_layout(deposit, pit, values, setup.n_pushbacks, setup.sequence_bins, setup.block_limit, solver,
                          core=core)
    return sequence, with_bins(deposit, sequence, pit, setup.n_bins)


def compare(deposit: Deposit, names=STRATEGY_NAMES, setup: ScheduleSetup | None = None,
            recovery_floor: float = RECOVERY_FLOOR, utilisation_floor: float | None = None,
            budget: float | None = GREEN_BUDGET, solver: PseudoflowSolver | None = None, phase=None,
            extend=None, economic_pit: np.ndarray | None = None, green_states: dict | None = None) -> dict:
    """Run several strategies on one mine (capacities derived once, from the economic ultimate pit,
    where not given) and add the price of green to green's KPIs (`price_of_green`).

    Green's NPV budget is measured against npv's plan (run for it when npv is not among ``names``;
    it is then not returned).  The strategies without environmental price share the economic pit
    and its cuts.  On a deposit of more than `PARALLEL_ABOVE` blocks the other strategies run side
    by side with green, each in a forked child process (`orepit.planning.forked`; the results are
    the same, and a phase then times the wait for its strategy): one child makes the economic pit's
    cuts once and plans npv on them at green's priority, then the others on the time green leaves
    idle (`BACKGROUND_NICE`).  solver: a `PseudoflowSolver` on the
    deposit's precedence to reuse; phase(name): a context manager around each strategy (progress
    bars, timings); extend: a plan-model extension; economic_pit: the economic ultimate pit, if known;
    green_states: pseudoflow states of green's closures already made, for its credit searches to
    continue from (`orepit.planning.pits.economic_pit`).
    """
    setup = ScheduleSetup() if setup is None else setup
    solver = PseudoflowSolver(deposit.precedence) if solver is None else solver
    economic = solver.solve(deposit.pit_values(False)).solution if economic_pit is None else economic_pit
    setup = derive_capacities(deposit, economic, setup)
    edge = low_grade_edge(deposit, economic)
    others = [n for n in names if n != "green"]
    if "green" in names and "npv" not in names and budget is not None:
        others.append("npv")
    parallel = deposit.n_blocks > PARALLEL_ABOVE and "green" in names and can_fork()
    # one by one, the strategies share the economic pit's cuts; side by side one child makes them,
    # so that green starts at once, and plans the strategies on them one after another, npv first
    @functools.cache
    def shared_cuts():
        return strategy_layouts(deposit, economic, deposit.pit_values(False), setup, solver) \
            if len(others) > 1 else None

    if not parallel:
        shared_cuts()                  # before the strategies, untimed; side by side: the child's first

    def plan(name):
        start = time.perf_counter()
        options = strategy_options(name, recovery_floor, utilisation_floor, budget)
        result = run_strategy(deposit, name, setup, options, solver, edge, extend, economic, shared_cuts())
        bound_strategy(deposit, result, setup)
        result.seconds = time.perf_counter() - start        # the cuts' time counts for the one that made them
        return result

    if parallel and others:
        pyomo_environ()         # imported once here, not in each child (green needs it too)
    order = sorted(others, key=lambda name: name != "npv") if parallel else others   # npv first: green waits for it
    series = ForkedSeries([lambda name=name: plan(name) for name in order], parallel and bool(order),
                          nice=0 if order[:1] == ["npv"] else BACKGROUND_NICE, later_nice=BACKGROUND_NICE)
    jobs = {name: series.job(k) for k, name in enumerate(order)}
    results = {}
    greens = ["green"] if "green" in names else []
    for name in [*greens, *others] if parallel else [*others, *greens]:   # side by side: green here first
        with phase(name) if phase else contextlib.nullcontext():
            if name == "green":
                options = strategy_options(name, recovery_floor, utilisation_floor, budget)
                results[name] = run_green(deposit, setup, options, solver, edge, extend, economic,
                                          jobs["npv"].result if "npv" in jobs else None, green_states)
            else:
                results[name] = jobs[name].result()
                results[name].beside = jobs[name].forked
    results = {name: results[name] for name in names}
    price_of_green(results)
    return results


def run_green(deposit: Deposit, setup: ScheduleSetup, options: StrategyOptions, solver: PseudoflowSolver,
              low_edge: float, extend, economic_pit: np.ndarray, npv=None, states: dict | None = None
              ) -> StrategyResult:
    """Green with its utilisation floor chosen by its NPV budget against npv's economic NPV
    (`orepit.planning.budget.search_floor`), never below ``options.utilisation_floor`` nor the
    economic pit's share; what each green rule costs is priced on the plan chosen.

    npv: None, or a function returning npv's `StrategyResult`, called once green's first plan is made
    (npv may be running meanwhile); states: {credit: `solvers.parametric.ParametricClosure`} of green's
    values' closures made before (`orepit.planning.pits.economic_pit`), for its searches to continue
    from (used up)."""
    share = economic_share(deposit, economic_pit)
    s0 = max(options.utilisation_floor or 0.0, share)

    known = []              # (credit, share of the metal) of green's closures solved so far
    states = {} if states is None else states   # credit -> pseudoflow state, for the next search to continue from
    cores = {}              # credit -> (pit, first nested shell) of green's layouts, for the next one's shells

    def run(floor):
        result = run_strategy(deposit, "green", setup, replace(options, utilisation_floor=floor), solver, low_edge,
                              extend, economic_pit, known=known, states=states, cores=cores)
        known.append((result.credit, economic_share(deposit, result.pit)))
        return result

    if options.budget is None or npv is None:
        result = run(s0)
        result.tried, result.budget_reason = {s0: result}, "no NPV budget: the floor is as set"
    else:
        values = deposit.pit_values(True)
        first = run(s0)             # needs nothing of npv's plan

        def guess(base, room):
            return first_guess(deposit, values, base.pit, base.credit, room, setup.discount_rate,
                               max(1, base.kpis["mining_periods"]), solver, known, states)

        search = search_floor(lambda floor: first if floor == s0 else run(floor), s0, npv().kpis["npv"],
                              options.budget, guess)
        result = search.tried[search.floor]
        held = economic_share(deposit, result.pit)
        result.tried, result.budget_reason = search.tried, f"{search.reason} (its pit holds {100 * held:.2f} %)"
        result.kpis["npv_budget_target"] = search.target
        result.kpis["green_budget"] = options.budget
    result.kpis["utilisation_floor"] = result.options.utilisation_floor
    if result.options.utilisation_floor > share * (1 + 1e-9):
        # the floor is above what the economic pit holds: green without it, at that share
        result.without_floor = result.tried.get(share) or run(share)
    result.rules = rule_prices(deposit, result, extend, result.without_floor)
    bound_strategy(deposit, result, setup)
    # the trials not chosen stay as frontier points and the floor's price: their KPIs, not their blocks
    result.tried = {floor: r if r is result else r.without_blocks() for floor, r in result.tried.items()}
    if result.without_floor is not None:
        result.without_floor = result.without_floor.without_blocks()
    return result


def bound_strategy(deposit: Deposit, result: StrategyResult, setup: ScheduleSetup) -> None:
    """Give the strategy's plan its upper bound (`orepit.planning.bound`): ``result.plan.result`` then
    states its bound and gap, and is 'optimal' when they meet within ``setup.mip_gap``."""
    plan = result.plan
    bound = plan_bound(deposit, result.pit, plan.settings, result.options.env_price, plan.simulation.periods,
                       plan.simulation.kpis, plan.prices, setup.bound_prices)
    plan.result = bounded(plan.result, bound, setup.mip_gap)


def price_of_green(results: dict) -> None:
    """Add to green's KPIs what green costs against npv and against high-grade, on both footings:
    ``price_of_green_vs_<base>`` (economic NPV given up, currency), ``..._after_environment``,
    ``extra_metal_vs_<base>`` (t of metal green recovers more) and ``cost_per_t_metal_saved_vs_<base>``
    (economic NPV given up per extra tonne recovered: the figure an incentive for low-grade ore would
    have to cover; NaN when green recovers no more).  ``price_of_green`` is the one against npv."""
    green = results.get("green")
    if green is None:
        return
    k = green.kpis
    for base_name in ("npv", "high-grade"):
        base = results.get(base_name)
        if base is None:
            continue
        key = strategy_key(base_name)
        b = base.kpis
        price = b["npv"] - k["npv"]
        extra = k["metal_recovered"] - b["metal_recovered"]
        k[f"price_of_green_vs_{key}"] = price
        k[f"price_of_green_after_environment_vs_{key}"] = b["npv_after_environment"] - k["npv_after_environment"]
        k[f"extra_metal_vs_{key}"] = extra
        k[f"cost_per_t_metal_saved_vs_{key}"] = price / extra if extra > 0 else math.nan
    if "price_of_green_vs_npv" in k:
        k["price_of_green"] = k["price_of_green_vs_npv"]


def economic_share(deposit: Deposit, economic_pit: np.ndarray) -> float:
    """Share of the deposit's ore-grade metal inside the economic ultimate pit."""
    ore_metal = deposit.ore_metal
    total = ore_metal.sum()
    return float(ore_metal[economic_pit].sum() / total) if total > 0 else 0.0


def frontier(deposit: Deposit, setup: ScheduleSetup | None = None, points: int = 4,
             recovery_floor: float = RECOVERY_FLOOR, green_floor: float | None = None,
             solver: PseudoflowSolver | None = None, extend=None, known: dict | None = None,
             economic_pit: np.ndarray | None = None) -> pd.DataFrame:
    """Green's objective (NPV after environmental cost) against metal recovered, for utilisation
    floors from the economic pit's share of the deposit's metal to the largest attainable share;
    green's own floor (None: the economic pit's share) is one of the points (``green`` True).

    Returns one row per floor: utilisation_floor, objective, npv, npv_after_environment,
    metal_recovered, co2_t, resource_credit, green, dominated (another point has at least the
    objective and the metal, and more of one).  known: {floor: `StrategyResult`} already computed
    (green's budget search, `StrategyResult.tried`) are points of their own, taken as they are;
    economic_pit: the economic ultimate pit, if known.
    """
    setup = ScheduleSetup() if setup is None else setup
    solver = PseudoflowSolver(deposit.precedence) if solver is None else solver
    economic = solver.solve(deposit.pit_values(False)).solution if economic_pit is None else economic_pit
    setup = derive_capacities(deposit, economic, setup)
    edge = low_grade_edge(deposit, economic)
    ore_metal = deposit.ore_metal
    total = ore_metal.sum()
    low = economic_share(deposit, economic)
    high = float(ore_metal[solver.solve((ore_metal > 0) * 1.0).solution].sum() / total) if total > 0 else 0.0
    green_floor = low if green_floor is None else max(green_floor, low)
    known = {round(float(k), 12): v for k, v in (known or {}).items()}
    floors = np.unique(np.round(np.r_[np.linspace(low, low + 0.98 * (high - low), points), green_floor, list(known)], 12))
    rows = []
    for floor in floors:
        r = known.get(round(float(floor), 12))
        if r is None:
            try:
                r = run_strategy(deposit, "green", setup, strategy_options("green", recovery_floor, float(floor)),
                                 solver, edge, extend, economic)
            except InfeasibleError:
                continue
        k = r.kpis
        rows.append({"utilisation_floor": float(floor), "objective": k["objective"], "npv": k["npv"],
                     "npv_after_environment": k["npv_after_environment"], "metal_recovered": k["metal_recovered"],
                     "co2_t": k["co2_tonnes"], "resource_credit": r.credit,
                     "green": bool(math.isclose(floor, green_floor))})
    table = pd.DataFrame(rows)
    table["dominated"] = dominated(table["objective"].to_numpy(), table["metal_recovered"].to_numpy()) \
        if len(table) else np.zeros(0, bool)
    return table


def dominated(objective: np.ndarray, metal: np.ndarray) -> np.ndarray:
    """True where another point is at least as good on both, and better on one (relative 1e-7)."""
    tol_o = 1e-7 * np.maximum(1.0, np.abs(objective))
    tol_m = 1e-7 * np.maximum(1.0, np.abs(metal))
    out = np.zeros(objective.size, dtype=bool)
    for i in range(objective.size):
        geq = (objective >= objective[i] - tol_o[i]) & (metal >= metal[i] - tol_m[i])
        better = (objective > objective[i] + tol_o[i]) | (metal > metal[i] + tol_m[i])
        out[i] = bool(np.any(geq & better))
    return out


def kpi_table(results: dict) -> pd.DataFrame:
    """One row per strategy, KPI columns."""
    return pd.DataFrame({name: r.kpis for name, r in results.items()}).T.rename_axis("strategy")
