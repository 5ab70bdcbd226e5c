"""One extraction sequence for many grade realisations: the two-stage stochastic schedule.

The deterministic planner (`orepit.planning.scheduling`) sequences the cuts for the estimated
grades.  Here the sequence is chosen for R realisations at once (`orepit.valuation.realisations`,
each valued like the estimate), to maximise the *expected* value over them:

    first stage   w[c, t]  the share of cut c mined by the end of period t: the sequence, one for
                  every realisation (mining capacity, precedence, mine-out and steady mining are on
                  it alone, as in the plan model)
    second stage  for each realisation s, the plan model's routes over that realisation's parcels
                  (x_s[p, d, t], r_s[g, t], inv_s[g, t]): the cut's blocks grouped by their
                  *realised* margin per tonne into the sequence's grade bins (quantiles of the
                  realisation's own ore, `orepit.planning.layout.cut_layout` with the estimate's
                  cuts), with every constraint of the plan model: mill tonnes and hours, stockpile,
                  and the strategy's rules (green: recovery floor, no ore-grade rock to the dump,
                  every stockpiled tonne milled by the end) **in every realisation**, not in
                  expectation
    objective     the mean over the realisations of the plan model's objective (green: NPV after
                  environmental cost, discounted)

The model is R plan models (`orepit.planning.plan_model.build_plan_model`, one Pyomo block per
realisation) whose cut shares are tied to the shared ``w``; the first-stage constraints are kept in
the first block only.  It is an LP over (pushback, bench) cuts like the deterministic cut model
(a MIP when cuts are single blocks), so its optimum is a proven upper bound on the in-sample
expected value, in this aggregated second stage, of every sequence the cut model allows, the
deterministic plan's cut sequence among them (`sequence_value` values a given one in it).

`stochastic_plan` puts the sequence, and its blends with the deterministic one, through the
planner's own steps 2-5 (blocks placed in time, routes, block destinations on the estimate, the
simulation and the independent check), so each is a block schedule like any strategy's, and keeps
the one (the deterministic plan among them) whose grade-control replay on the same realisations is
worth most.  Every candidate's blocks are placed as the deterministic plan's are (the better of two
block orders, `orepit.planning.sequencing.block_periods`), so the plan kept gains on the
deterministic one by its sequence alone.
`recourse_value` values a block schedule in the model's second stage (its blocks' periods fixed).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np

from solvers.errors import InfeasibleError, InputError
from solvers.result import Result

from orepit.planning.layout import Layout, cut_layout, price_units, regroup
from orepit.planning.plan_model import PlanSettings, build_plan_model, pyomo_environ, solve_plan_model
from orepit.planning.replay import FixedPlan, fixed_plan, replay
from orepit.planning.scheduling import one_hot, plan_schedule
from orepit.planning.strategies import ScheduleSetup, StrategyResult, plan_settings
from orepit.valuation.deposit import Deposit

#: plan-model constraints on the sequence alone: kept in the first realisation's block only
FIRST_STAGE = ("mined_once", "precedence", "mine_out", "mining", "steady_mining")
#: the candidate sequences besides the deterministic plan: b x the model's + (1 - b) x the deterministic
BLENDS = (1.0, 0.5, 0.25)
#: KPIs of the in-sample replay kept per candidate (`in_sample`); the plan kept has the best objective
IN_SAMPLE_KPIS = ("objective", "npv", "npv_after_environment")
#: HiGHS' algorithm for the model's two LPs (`solve_closest`): interior point with crossover, on the
#: built-in deposit's 20 realisations 3.7 and 4.6 times faster than the dual simplex (75 against 279
#: CPU s for the optimum, 98 against 449 for the tie-break), the same optimum to 11 digits and the
#: same tie-break solution (every column within 7e-7)
LP_METHOD = "ipm"
#: the price of mining a tonne in another period than the deterministic sequence, as a share of the
#: optimum's value per tonne of the pit (`solve_closest`): moving every tonne costs this share
TIE_PRICE = 1e-5


@dataclass
class Scenario:
    """One realisation in the model: its valued deposit and the sequence's cuts re-binned on it."""

    deposit: Deposit
    layout: Layout


def scenarios(deposits: list[Deposit], pit: np.ndarray, sequence: Layout, setup: ScheduleSetup) -> list[Scenario]:
    """The realisations' layouts: ``sequence``'s cuts (same pushbacks, benches and block order) with
    each realisation's ore grouped into ``setup.sequence_bins`` bins of its own realised margin."""
    if not deposits:
        raise InputError("the stochastic schedule needs at least one realisation", field="realisations")
    shells = (sequence.block_pushback, sequence.block_position)
    zeros = np.zeros(sequence.block_cut.size)
    return [Scenario(d, cut_layout(d, pit, zeros, 1, setup.sequence_bins, setup.block_limit, shells=shells))
            for d in deposits]


def build_stochastic_model(units: list, settings: PlanSettings, extend=None):
    """The two-stage model of the module docstring.  units: (parcels, bins) per realisation
    (`orepit.planning.layout.price_units`).  The model's ``w[c, t]`` is the shared sequence;
    block ``realisation_s`` is realisation s's plan model; ``profit`` the mean of their objectives.
    HiGHS has the plan model's time limit once per realisation (``settings.time_limit`` x R)."""
    pyo = pyomo_environ()
    started = time.perf_counter()
    top = pyo.ConcreteModel(name="orepit stochastic plan")
    top.settings = replace(settings, time_limit=settings.time_limit * len(units))
    n_c = units[0][0].n_cuts
    top.C = pyo.RangeSet(0, n_c - 1)
    top.T = pyo.RangeSet(0, settings.periods - 1)
    top.w = pyo.Var(top.C, top.T, domain=pyo.Binary if units[0][0].integer_cuts else pyo.UnitInterval)
    blocks = []
    for s, (parcels, bins) in enumerate(units):
        if parcels.n_cuts != n_c:
            raise InputError(f"realisation {s} has {parcels.n_cuts} cuts, the first {n_c}", field="cuts")
        sub = build_plan_model(parcels, bins, settings, extend)
        sub.profit.deactivate()
        for name in FIRST_STAGE if s else ():
            if hasattr(sub, name):
                getattr(sub, name).deactivate()
        top.add_component(f"realisation_{s}", sub)
        blocks.append(sub)
    top.same_sequence = pyo.Constraint(range(len(blocks)), top.C, top.T,
                                       rule=lambda m, s, c, t: blocks[s].w[c, t] == m.w[c, t])
    top.profit = pyo.Objective(sense=pyo.maximize, expr=sum(b.profit.expr for b in blocks) / len(blocks))
    top.realisations = blocks
    top.construct_seconds = time.perf_counter() - started
    return top


def solve_closest(model, towards: np.ndarray | None, tonnage: np.ndarray) -> Result:
    """Solve the two-stage model (its optimum: the bound), then again with a price on the tonnes
    mined in another period than ``towards[c, t]`` says (the deterministic cut model's sequence;
    None: keep the first optimum): maximise expected value - p sum_c,t tonnage_c |w[c, t] -
    towards[c, t]|, p = `TIE_PRICE` x optimum / pit tonnes.  The LP has many optima or near-optima,
    and the block placement that follows (`orepit.planning.sequencing`) turns each into blocks with
    a loss of its own; the price keeps the deterministic sequence wherever the realisations do not
    pay for another.  Returns the first solve's `Result` (objective: the optimum), with
    ``info["distance_t"]`` the tonnes moved and ``info["value_kept"]`` the expected value of the
    sequence kept (<= the optimum); the model holds that sequence."""
    pyo = pyomo_environ()
    best = solve_plan_model(model, method=LP_METHOD)
    if towards is None:
        return best
    m = model
    target = {key: float(np.clip(towards[key[0], min(key[1], towards.shape[1] - 1)], 0.0, 1.0)) for key in m.w}
    m.tie_up = pyo.Var(m.C, m.T, domain=pyo.NonNegativeReals)
    m.tie_down = pyo.Var(m.C, m.T, domain=pyo.NonNegativeReals)
    m.tie_gap = pyo.Constraint(m.C, m.T, rule=lambda m, c, t:
                               m.w[c, t] - target[c, t] == m.tie_up[c, t] - m.tie_down[c, t])
    price = TIE_PRICE * abs(best.objective) / max(float(tonnage.sum()), 1e-300)
    distance = sum(float(tonnage[c]) * (m.tie_up[c, t] + m.tie_down[c, t]) for c in m.C for t in m.T if tonnage[c])
    m.tie_objective = pyo.Objective(sense=pyo.maximize, expr=m.profit.expr - price * distance)
    m.profit.deactivate()
    try:
        closest = solve_plan_model(m, method=LP_METHOD)
        best.info["distance_t"] = float(pyo.value(distance))
    finally:
        m.profit.activate()
        for name in ("tie_objective", "tie_gap", "tie_up", "tie_down"):
            m.del_component(name)
    best.info["value_kept"] = float(pyo.value(m.profit))
    best.seconds += closest.seconds
    return best


def sequence_value(model, mined_by: np.ndarray) -> float:
    """The solved model's objective with the sequence fixed to ``mined_by[c, t]`` (share of cut c mined
    by the end of period t, e.g. the deterministic cut model's): the mean second-stage value of that
    sequence over the model's realisations (currency).  The model's sequence is freed again and
    keeps its own values (those of the second stage are the fixed sequence's)."""
    T = mined_by.shape[1]
    own = {key: var.value for key, var in model.w.items()}
    for (c, t), var in model.w.items():
        var.fix(float(np.clip(mined_by[c, min(t, T - 1)], 0.0, 1.0)))
    try:
        return solve_plan_model(model).objective
    finally:
        for key, var in model.w.items():
            var.unfix()
            var.set_value(own[key], skip_validation=True)


@dataclass
class StochasticPlan:
    """The stochastic schedule (`stochastic_plan`).

    result     `StrategyResult` of the block schedule (placed, routed and checked on the estimate)
    model      the solved two-stage model (its ``w``: the sequence; `sequence_value` re-solves it)
    sequence   the cuts of the estimate the model sequences (`Layout`, the sequence's grade bins)
    cases      the realisations it was built on (`Scenario`)
    solved     the model's `Result` (`solve_closest`)
    bound      its proven bound (an LP's optimum; a MIP's best bound), the mean over the
               realisations of the objective (currency): an upper bound on the in-sample expected
               value of every sequence the model allows (NaN when not proven)
    deterministic  the deterministic cut model's sequence w[c, t] on the estimate with the same
               settings (None when it has none): the one the model is compared with in sample
    blend      b of the plan kept (1: the model's sequence; 0: the deterministic plan itself)
    scores     per candidate b: the in-sample replay's means (`in_sample`)
    tried      per candidate b: its `StrategyResult`
    """

    result: StrategyResult
    model: object
    sequence: Layout
    cases: list
    solved: Result
    deterministic: np.ndarray | None
    blend: float
    scores: dict
    tried: dict

    @property
    def bound(self) -> float:
        return self.solved.bound if math.isfinite(self.solved.bound) else math.nan

    def figures(self) -> dict:
        """JSON-ready: the bound, the expected value of the sequence kept and the tonnes it mines in
        another period than the deterministic sequence, horizon, the model's variables, seconds."""
        info = self.solved.info
        return {"bound": self.bound, "optimum": self.solved.objective, "blend": self.blend,
                "candidates": {f"{b:g}": s for b, s in self.scores.items()},
                "sequence_value": info.get("value_kept", self.solved.objective),
                "moved_t": info.get("distance_t", math.nan), "realisations": len(self.cases),
                "periods": int(self.model.settings.periods), "variables": info["variables"],
                "seconds": self.solved.seconds}


def stochastic_plan(estimate: Deposit, deposits: list[Deposit], base: StrategyResult, setup: ScheduleSetup,
                    low_edge: float, extend=None, name: str = "stochastic", blends=BLENDS) -> StochasticPlan:
    """The stochastic schedule of ``base``'s strategy (its pit, cuts, options and rules) over the
    realisations ``deposits`` (valued like ``estimate``).

    The model's sequence (`solve_closest`) and its blends with the deterministic one, b x stochastic
    + (1 - b) x deterministic for each b of ``blends``, are each placed, routed and checked on the
    estimate by `orepit.planning.scheduling.plan_schedule` (which lengthens the horizon, or lets
    the fleet slow down, as for the deterministic plan when the model has no feasible sequence);
    ``base`` (the deterministic plan, b = 0) is a candidate too.  Every blend is a sequence of the
    model worth at least the deterministic one in it (the recourse is concave in the sequence).  The
    plan kept is the candidate whose
    grade-control replay (`orepit.planning.replay`) on the same ``deposits`` has the highest mean
    objective: chosen in sample, never on a realisation it is judged on."""
    routing = base.layout
    sequence = cut_layout(estimate, base.pit, np.zeros(estimate.n_blocks), 1, setup.sequence_bins, setup.block_limit,
                          shells=(routing.block_pushback, routing.block_position))
    cases = scenarios(deposits, base.pit, sequence, setup)
    units = [price_units(c.deposit, c.layout, base.options.env_price) for c in cases]
    parcels, bins = price_units(estimate, sequence, base.options.env_price)
    tonnage = np.bincount(parcels.cut, weights=parcels.tonnage, minlength=parcels.n_cuts)
    models, outcomes = {}, {}           # per settings tried: the model, and its solve (or why none)

    def build(first):
        if repr(first) not in models:
            models[repr(first)] = build_stochastic_model(units, first, extend)
        return models[repr(first)]

    def solve(model):
        key = repr(model.settings)
        if key not in outcomes:
            try:
                towards = _deterministic(parcels, bins, model.settings, extend)
                solved = solve_closest(model, towards, tonnage)
                outcomes[key] = (solved, towards, {k: v.value for k, v in model.w.items()}, model)
            except InfeasibleError as error:
                outcomes[key] = error
        if isinstance(outcomes[key], InfeasibleError):
            raise outcomes[key]
        return outcomes[key][0]

    def candidate(b: float) -> StrategyResult:
        def solve_blend(model):
            solved = solve(model)
            _, towards, own, _ = outcomes[repr(model.settings)]
            for key, var in model.w.items():
                var.set_value(own[key] if towards is None else
                              b * own[key] + (1 - b) * towards[key[0], key[1]], skip_validation=True)
            return solved

        plan = plan_schedule(estimate, base.pit, sequence, routing, plan_settings(setup, base.options), low_edge,
                             base.options.env_price, setup.periods, extend, sequence_model=build,
                             sequence_solve=solve_blend)
        plan.simulation.kpis["resource_credit"] = base.credit
        return StrategyResult(name, base.options, base.pit, routing, plan, base.credit, plan.result.seconds)

    tried = {float(b): candidate(b) for b in blends}
    solved, towards, own, model = next(o for o in outcomes.values() if not isinstance(o, InfeasibleError))
    if towards is not None:
        tried[0.0] = StrategyResult(name, base.options, base.pit, routing, base.plan, base.credit, base.seconds)
    scores = {b: in_sample(deposits, fixed_plan(estimate, name, r, low_edge)) for b, r in tried.items()}
    chosen = max(scores, key=lambda b: (scores[b]["objective"], b))
    for key, var in model.w.items():        # the model holds its own sequence again, not the last blend's
        var.set_value(own[key], skip_validation=True)
    return StochasticPlan(tried[chosen], model, sequence, cases, solved, towards, chosen, scores, tried)


def in_sample(deposits: list[Deposit], plan: FixedPlan) -> dict:
    """Means over ``deposits`` of the grade-control replay's KPIs `IN_SAMPLE_KPIS` (currency)."""
    kpis = [replay(d, plan).kpis for d in deposits]
    return {key: float(np.mean([k[key] for k in kpis])) for key in IN_SAMPLE_KPIS}


def _deterministic(parcels, bins, settings: PlanSettings, extend) -> np.ndarray | None:
    """The deterministic cut model's sequence w[c, t] on the estimate's parcels with ``settings``
    (None when it has none)."""
    model = build_plan_model(parcels, bins, settings, extend)
    try:
        solve_plan_model(model)
    except InfeasibleError:
        return None
    return np.array([[model.w[c, t].value or 0.0 for t in model.T] for c in model.C]).reshape(len(model.C), -1)


def recourse_value(cases: list[Scenario], period: np.ndarray, settings: PlanSettings, env_price: bool,
                   extend=None) -> np.ndarray:
    """Per realisation: the plan model's value (currency, discounted) of the block schedule whose
    blocks are mined in ``period`` (-1: not mined), the routes and stockpiles chosen for that
    realisation over the (cut, realised bin, period) groups, with ``settings``' rules (its
    horizon must hold the schedule); NaN where no routes keep the rules."""
    out = np.full(len(cases), np.nan)
    for s, case in enumerate(cases):
        grouped, group_period = regroup(case.layout, period)
        parcels, bins = price_units(case.deposit, grouped, env_price)
        model = build_plan_model(parcels, bins, settings, extend, mined=one_hot(group_period, settings.periods))
        try:
            out[s] = solve_plan_model(model).objective
        except InfeasibleError:
            continue
    return out
