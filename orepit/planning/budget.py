"""How much of the resource green's NPV budget buys: the utilisation floor of the green pit.

Green may give up at most ``budget`` (a share) of npv's economic NPV to take more of the deposit's
ore-grade metal out of the ground.  Its final pit then holds the largest share of that metal whose
plan keeps ``npv(green) >= (1 - budget) * npv(npv)``: the epsilon-constraint point of the
NPV-resource frontier (`orepit.planning.strategies.frontier`).  A plan's NPV is known only from its
schedule, so the share is searched with few schedules:

1. green with the floor at the economic pit's share (``s0``, its cheapest pit), NPV ``G0``;
2. a first guess ``s1``: the largest resource credit whose added blocks cost (their economic value,
   discounted at mid-life) at most ``GUESS_SHARE`` of what is left of the budget (``G0 - target``);
3. green at ``s1``, then secant steps (``SECANT_SAFETY`` of the way to the target): back towards
   the largest share that kept the target when a share missed it, on beyond it (at most as far
   again, and half-way to all the metal) when none missed yet; they stop when a plan keeps the
   target with at most ``LEFT_OVER`` of the budget left, or after ``MAX_PLANS`` plans.  The
   largest share that kept the target is chosen (``s0`` when none did).

Every plan tried is kept, so the rule price and the frontier reuse them.  The closures of green's
values at rising credits share their work: each credit search and the first guess continue from
the pseudoflow state an earlier search left (``states``, `solvers.parametric.smallest_parameter`),
so only green's first search starts from scratch (the pits and credits are the same).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from solvers.errors import InfeasibleError
from solvers.parametric import ParametricClosure, state_below

GREEN_BUDGET = 0.03       # share of npv's economic NPV that green may give up for metal
GUESS_SHARE = 0.7         # the first guess spends this share of what is left of the budget
SECANT_SAFETY = 0.85      # the secant step aims this share of the way to the target
GUESS_STEPS = 60          # geometric steps of the first guess's resource credit
LEFT_OVER = 0.5           # a plan that keeps more than this share of the budget left is improved on
MAX_PLANS = 3             # green plans (full schedules) the search makes at most, s0's included
MIN_STEP = 1e-4           # shares of the metal: a smaller step is not tried


@dataclass
class BudgetSearch:
    """The floors tried, their plans' economic NPVs, and the one chosen.

    target: the NPV green must keep (currency); tried: {floor: `StrategyResult`}; floor: the chosen
    share; reason: one sentence for the report.
    """

    target: float
    floor: float
    reason: str
    tried: dict = field(default_factory=dict)


def first_guess(deposit, values: np.ndarray, pit0: np.ndarray, credit0: float, room: float,
                discount: float, life: int, solver, known: list | None = None, states: dict | None = None) -> float:
    """The share of the deposit's ore-grade metal in the largest pit ``values + credit * metal``
    whose blocks beyond ``pit0`` cost at most ``room`` (their economic value, discounted at mid-life).

    values: green's block values (currency); pit0: green's pit at the economic share, found with
    ``credit0`` (currency per t of metal); room: currency; discount: per period; life: periods of
    green's plan on ``pit0``.  The credit rises in `GUESS_STEPS` geometric steps on one parametric
    closure (`solvers.parametric.ParametricClosure`), so the sweep costs a few closures.  known: a
    list to which each (credit, share of the metal) solved is added (`orepit.planning.pits.credit_bracket`);
    states: {credit: `ParametricClosure`} of closures of ``values + credit * metal`` solved before, the
    sweep continuing from the one below its first credit (`solvers.parametric.state_below`).
    """
    ore_metal = deposit.ore_metal
    total = float(ore_metal.sum())
    if total <= 0 or room <= 0:
        return float(ore_metal[pit0].sum() / total) if total > 0 else 0.0
    economic = deposit.pit_values(False)
    factor = (1.0 + discount) ** -(0.5 * life)
    # above this credit every block holding ore-grade metal pays for any cover: nothing changes
    last = (float(np.abs(values).sum()) + 1.0) / float(ore_metal[ore_metal > 0].min())
    credit = max(credit0, last * 1e-9)
    growth = (last / credit) ** (1.0 / GUESS_STEPS)
    state = state_below(states, credit * growth) or ParametricClosure(solver)
    best = pit0
    for _ in range(GUESS_STEPS):
        credit *= growth
        pit = state.closure(values + credit * ore_metal) | pit0
        if known is not None:
            known.append((credit, float(ore_metal[pit].sum() / total)))
        if -float(economic[pit & ~pit0].sum()) * factor > room:
            break
        best = pit
    return float(ore_metal[best].sum() / total)


def search_floor(run, s0: float, npv_reference: float, budget: float, guess) -> BudgetSearch:
    """Choose green's utilisation floor within the NPV budget (see the module docstring).

    run(floor) -> `StrategyResult` of green at that floor; s0: the economic pit's share;
    npv_reference: npv's economic NPV; guess(base, room) -> the first-guess share, from green's
    plan at ``s0`` and the NPV (currency) the guess may spend.
    """
    target = npv_reference - budget * abs(npv_reference)
    base = run(s0)
    search = BudgetSearch(target, s0, "", {s0: base})
    g0 = base.kpis["npv"]
    if g0 < target:
        search.reason = (f"green at the economic pit's share of the metal already gives up "
                         f"{_share(npv_reference, g0)} of npv's NPV, more than its budget "
                         f"({100 * budget:g} %): the budget buys no more metal")
        return search
    share = guess(base, GUESS_SHARE * (g0 - target))
    if share <= s0 * (1 + 1e-9):
        search.reason = "no larger pit fits the budget"
        return search
    fit, miss = (s0, g0), None          # (share, NPV): the largest that keeps the target, the least that does not
    for _ in range(MAX_PLANS - 1):
        try:
            trial = run(share)
        except InfeasibleError:             # no pit holds that share of the metal: stop there
            break
        search.tried[share] = trial
        npv = trial.kpis["npv"]
        if npv >= target:
            fit = (share, npv)
            if npv - target <= LEFT_OVER * (g0 - target):
                break                       # most of the budget spent
        else:
            miss = (share, npv)
        share = _next_share(s0, g0, fit, miss, target)
        if share is None:
            break
    search.floor = fit[0]
    left = (fit[1] - target) / (g0 - target) if g0 > target else 0.0
    stop = (f"; {100 * left:.0f} % of the budget is left, but the search stops after {MAX_PLANS} plans"
            if left > LEFT_OVER else "")
    search.reason = (f"the budget buys a utilisation floor of {100 * fit[0]:.2f} % of the deposit's "
                     f"ore-grade metal{stop}" if fit[0] > s0 else "larger pits tried cost more than the budget")
    return search


def _next_share(s0: float, g0: float, fit: tuple, miss: tuple | None, target: float) -> float | None:
    """The next share to try: a secant step from ``fit`` (share, NPV) towards the target,
    `SECANT_SAFETY` of the way, back towards ``miss`` when a larger share missed, else on beyond
    ``fit`` along the line from (s0, g0), at most as far again and half-way to all the metal; None
    when the step is below `MIN_STEP`."""
    share, npv = fit
    if miss is not None:
        drop = npv - miss[1]
        step = SECANT_SAFETY * (npv - target) / drop * (miss[0] - share) if drop > 0 else 0.5 * (miss[0] - share)
    else:
        step = SECANT_SAFETY * (npv - target) / (g0 - npv) * (share - s0) if g0 > npv else math.inf
        step = min(step, share - s0, 0.5 * (1.0 - share))
    return share + step if step >= MIN_STEP else None


def _share(reference: float, value: float) -> str:
    return f"{100 * (reference - value) / abs(reference):.2f} %" if reference else "all"


__all__ = ["GREEN_BUDGET", "BudgetSearch", "first_guess", "search_floor"]
