"""A block schedule put to the independent checker (`solvers.check.check_schedule`).

The schedule becomes a MineLib-style PCPSP solution: every mined block goes whole, in one period,
to one destination (0 mill, 1 stockpile, 2 dump), under the deposit's block precedence (the slope
cone) and per-period resource limits: tonnes mined, tonnes and hours of direct mill feed (the
mill's capacity less what the plan reclaims from the stockpile in that period) and t CO2 (the cap
less the reclaim's share).  The checker shares no code with the planner.
"""
from __future__ import annotations

import numpy as np

from solvers.check import check_schedule
from solvers.problem import PcpspProblem, Schedule

from orepit.planning.plan_model import PlanSettings
from orepit.valuation.deposit import Deposit
from orepit.valuation.destinations import MILL

#: relative tolerance of the capacity checks (of each limit)
CAPACITY_TOL = 1e-6


def schedule_problem(deposit: Deposit, settings: PlanSettings, reclaimed: dict, n_periods: int) -> PcpspProblem:
    """The PCPSP a block schedule must satisfy.

    reclaimed: per period arrays of what the stockpile feeds the mill: ``tonnes``, ``hours``,
    ``co2`` (length n_periods).
    """
    n = deposit.n_blocks
    T = n_periods
    ton = deposit.tonnage
    values = np.nan_to_num(deposit.flows(False).at_mining, neginf=0.0)
    per = lambda v: np.broadcast_to(np.asarray(v, dtype=np.float64), (T,))   # noqa: E731
    coefs, uppers = [], []

    def resource(coef, upper):
        upper = per(upper)
        if np.isfinite(upper).any():
            coefs.append(coef)
            uppers.append(upper)

    resource(np.repeat(ton[:, None], 3, axis=1), per(settings.mining_capacity))
    mill_only = np.zeros((n, 3))
    mill_only[:, MILL] = ton
    resource(mill_only, per(settings.mill_capacity) - reclaimed["tonnes"])
    hours = np.zeros((n, 3))
    hours[:, MILL] = deposit.mill_hours
    resource(hours, per(settings.mill_hours) - reclaimed["hours"])
    if settings.co2_cap is not None:
        resource(deposit.co2_at_mining(), per(settings.co2_cap) - reclaimed["co2"])
    coef = np.stack(coefs, axis=2) if coefs else np.zeros((n, 3, 0))
    upper = np.stack(uppers) if uppers else np.zeros((0, T))
    return PcpspProblem(values, deposit.precedence, T, settings.discount_rate, coef,
                        np.full(upper.shape, -np.inf), upper, name="block schedule")


def check_block_schedule(deposit: Deposit, period: np.ndarray, destination: np.ndarray,
                         settings: PlanSettings, reclaimed: dict):
    """The checker's report on a block schedule (precedence, one period and destination per block,
    capacities within `CAPACITY_TOL`)."""
    T = len(reclaimed["tonnes"])
    problem = schedule_problem(deposit, settings, reclaimed, T)
    mined = period >= 0
    fractions = np.zeros((deposit.n_blocks, 3))
    fractions[mined, destination[mined]] = 1.0
    return check_schedule(problem, Schedule.from_periods(period, fractions), tol=CAPACITY_TOL)
