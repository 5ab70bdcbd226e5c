"""What each green rule costs: does it bind, and what NPV does it give up, per unit.

The rules: the cumulative mining-recovery floor, no ore-grade material to the dump, the emission
cap (per period and over the life) and the final-pit utilisation floor.

For the first three, the price is measured on the routing model of the strategy's own block
schedule (`orepit.planning.plan_model` with every block's period fixed, as in
`orepit.planning.scheduling` step 3): its objective with every rule, against its objective with
that one rule relaxed and the others kept (so a rule another one makes redundant does not bind).  The difference is what the rule costs given the mining sequence; the unit
is what the relaxed plan does that the rule forbids (t of ore-grade material dumped, t CO2 above
the cap, ...).  For the utilisation floor, which shapes the pit, the price is the difference of the
strategy's objective with the floor and with the economic pit's share of metal (no floor), per t
of ore-grade metal the larger pit holds; it needs a second schedule (``without_floor``).
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from solvers.errors import InfeasibleError

from orepit.planning.layout import price_units, regroup
from orepit.planning.plan_model import build_plan_model, solve_plan_model
from orepit.planning.scheduling import one_hot
from orepit.valuation.deposit import Deposit
from orepit.valuation.destinations import DUMP

#: a rule binds when relaxing it gains more than this share of the objective
BINDING_TOL = 1e-6


def rule_prices(deposit: Deposit, result, extend=None, without_floor=None) -> list[dict]:
    """One row per rule of ``result`` (a `StrategyResult`) that is switched on.

    Each row: rule, binding (bool), price (currency of objective given up), unit (what the price
    is per), per_unit (price / amount), amount (how much of it the relaxed plan would do).
    without_floor: the same strategy's result with the utilisation floor at the economic pit's share.
    """
    settings = result.plan.settings
    options = result.options
    env = options.env_price
    period = result.plan.schedule.period
    by_period, group_period = regroup(result.layout, period)
    parcels, bins = price_units(deposit, by_period, env)
    mined = one_hot(group_period, settings.periods)

    def solve(s):
        model = build_plan_model(parcels, bins, s, extend, mined=mined)
        return model, solve_plan_model(model)

    capped = settings.co2_cap is not None or settings.co2_total_cap is not None
    routes = result.plan.result.info.get("routes") or {}
    if capped or routes.get("objective") is None:
        base_model, base = solve(settings)
        base_objective = base.objective
    else:
        # the schedule's own routes stage (`orepit.planning.scheduling`, step 3) solved this very
        # model: its objective is the base (the model itself is needed for the emission cap only)
        base_model, base_objective = None, float(routes["objective"])
    rows = []

    def add(rule, relaxed_settings, unit, amount_of):
        try:
            model, relaxed = solve(relaxed_settings)
        except InfeasibleError:
            return
        price = relaxed.objective - base_objective
        amount = amount_of(model)
        binding = price > BINDING_TOL * max(1.0, abs(base_objective))
        rows.append({"rule": rule, "binding": bool(binding), "price": max(price, 0.0) if binding else 0.0,
                     "unit": unit, "amount": amount,
                     "per_unit": price / amount if binding and amount > 0 else math.nan})

    ore_t = np.where(parcels.ore, parcels.tonnage, 0.0)
    if settings.recovery_floor is not None:
        add("recovery floor", replace(settings, recovery_floor=None), "t of ore-grade material not kept",
            lambda m: max(0.0, _routed(m, ore_t, DUMP) - (1 - settings.recovery_floor) * _mined(m, ore_t)))
    if settings.no_ore_to_dump:
        add("no ore to dump", replace(settings, no_ore_to_dump=False),
            "t of ore-grade material dumped", lambda m: _routed(m, ore_t, DUMP))
    if settings.co2_cap is not None or settings.co2_total_cap is not None:
        add("emission cap", replace(settings, co2_cap=None, co2_total_cap=None), "t CO2 above the cap",
            lambda m: max(0.0, _co2(m, parcels, bins) - _co2(base_model, parcels, bins)))
    if options.utilisation_floor is not None:
        rows.append(_floor_row(deposit, result, without_floor))
    return rows


def _routed(m, amount, destination) -> float:
    return float(sum(amount[p] * (var.value or 0.0) for (p, d, t), var in m.x.items() if d == destination))


def _mined(m, amount) -> float:
    return float(sum(amount[p] * (var.value or 0.0) for (p, d, t), var in m.x.items()))


def _co2(m, parcels, bins) -> float:
    direct = sum(parcels.co2[p, d] * (var.value or 0.0) for (p, d, t), var in m.x.items())
    return float(direct + sum(bins.co2[g] * (var.value or 0.0) for (g, t), var in m.r.items()))


def _floor_row(deposit: Deposit, result, without_floor) -> dict:
    """The utilisation floor: it binds when it asks more than the economic pit holds (``without_floor``
    is then green's plan at that share)."""
    ore_metal = deposit.ore_metal
    row = {"rule": "utilisation floor", "binding": without_floor is not None, "price": 0.0,
           "unit": "t of ore-grade metal added to the pit", "amount": 0.0, "per_unit": math.nan,
           "credit": result.credit}
    if without_floor is not None:
        price = without_floor.kpis["objective"] - result.kpis["objective"]
        amount = float(ore_metal[result.pit].sum() - ore_metal[without_floor.pit].sum())
        row.update(price=price, amount=amount, per_unit=price / amount if amount > 0 else math.nan)
    return row

