"""A block schedule put to the independent checker (`solvers.check.check_schedule`).

The schedule becomes a MineLib-style PCPSP solution: every mined block goes whole, in one period,
to one destination (0 mill, 1 stockpile, 2 dump), under the block precedence (the slope cone) and
per-period resource limits: tonnes mined, tonnes and hours of direct mill feed (the mill's
capacity less what the plan reclaims from the stockpile in that period) and t CO2 (the cap less
the reclaim's share), each within `CAPACITY_TOL` of its limit.  The checker shares no code with
the planner; this module only states the problem, from plain per-block arrays, so that a results
folder can be checked from its files (`orepit check RESULTS`).
"""
from __future__ import annotations

import numpy as np

from solvers.check import check_schedule
from solvers.problem import PcpspProblem, Schedule
from solvers.result import Result

from orepit.valuation.destinations import MILL

#: relative tolerance of the capacity checks (of each limit)
CAPACITY_TOL = 1e-6


def limits_of(settings) -> dict:
    """The per-period limits of a `PlanSettings` a block schedule keeps (t, h; None when uncapped)."""
    per = settings.per_period
    return {"mining_capacity_t": per(settings.mining_capacity), "mill_capacity_t": per(settings.mill_capacity),
            "mill_hours_h": per(settings.mill_hours),
            "co2_cap_t": None if settings.co2_cap is None else per(settings.co2_cap)}


def reclaimed_feed(period, destination, mill_hours, co2, stockpile_out_t, mill_hours_h, co2_t, T: int) -> dict:
    """What the stockpile fed the mill per period, from a schedule's period totals: ``tonnes``
    (``stockpile_out_t``), ``hours`` and ``co2`` (the period's mill hours and t CO2 less those of the
    blocks themselves: their direct mill feed, their CO2 at mining).  period, destination, mill_hours:
    per block; co2: (n, 3) t CO2 at mining per destination; the totals: one value per period."""
    mined = period >= 0
    to_mill = mined & (destination == MILL)
    direct_h = np.bincount(period[to_mill], weights=mill_hours[to_mill], minlength=T)[:T]
    direct_co2 = np.bincount(period[mined], weights=co2[np.flatnonzero(mined), destination[mined]], minlength=T)[:T]
    return {"tonnes": np.asarray(stockpile_out_t, dtype=np.float64),
            "hours": np.asarray(mill_hours_h, dtype=np.float64) - direct_h,
            "co2": np.asarray(co2_t, dtype=np.float64) - direct_co2}


def schedule_problem(precedence, tonnage, mill_hours, co2, limits: dict, reclaimed: dict) -> PcpspProblem:
    """The PCPSP a block schedule must satisfy.

    tonnage, mill_hours: per block (t, h); co2: (n, 3) t CO2 emitted at mining per destination;
    limits: `limits_of`; reclaimed: per period, what the stockpile feeds the mill (``tonnes``,
    ``hours``, ``co2``).
    """
    tonnage = np.asarray(tonnage, dtype=np.float64)
    n, T = tonnage.size, len(limits["mining_capacity_t"])
    coefs, uppers = [], []

    def resource(coef, upper):
        upper = np.asarray(upper, dtype=np.float64)
        if np.isfinite(upper).any():
            coefs.append(coef)
            uppers.append(upper)

    resource(np.repeat(tonnage[:, None], 3, axis=1), limits["mining_capacity_t"])
    mill_only = np.zeros((n, 3))
    mill_only[:, MILL] = tonnage
    resource(mill_only, np.asarray(limits["mill_capacity_t"]) - reclaimed["tonnes"])
    hours = np.zeros((n, 3))
    hours[:, MILL] = mill_hours
    resource(hours, np.asarray(limits["mill_hours_h"]) - reclaimed["hours"])
    if limits.get("co2_cap_t") is not None:
        resource(np.asarray(co2, dtype=np.float64), np.asarray(limits["co2_cap_t"]) - reclaimed["co2"])
    coef = np.stack(coefs, axis=2) if coefs else np.zeros((n, 3, 0))
    upper = np.stack(uppers) if uppers else np.zeros((0, T))
    return PcpspProblem(np.zeros((n, 3)), precedence, T, 0.0, coef, np.full(upper.shape, -np.inf), upper,
                        name="block schedule")


def check_block_schedule(precedence, tonnage, mill_hours, co2, period, destination, limits: dict,
                         reclaimed: dict) -> Result:
    """The checker's `Result` on a block schedule: status 'feasible' or 'infeasible', the violations
    as its solution (precedence, one period and destination per block, capacities)."""
    period = np.asarray(period, dtype=np.int64)
    destination = np.asarray(destination, dtype=np.int64)
    problem = schedule_problem(precedence, tonnage, mill_hours, co2, limits, reclaimed)
    mined = period >= 0
    fractions = np.zeros((period.size, 3))
    fractions[mined, destination[mined]] = 1.0
    return check_schedule(problem, Schedule.from_periods(period, fractions), tol=CAPACITY_TOL)
