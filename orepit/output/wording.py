"""Sentences the report, kpis.md and ``orepit schedule`` share: the NPV's footing, the deposit's
title and what a solver status means (no heavy imports: the command line reads it too)."""
from __future__ import annotations

from pathlib import Path

#: a plan's status (`solvers.result`) in words
PLAN_STATUS = {"optimal": "optimal (within the gap asked for)",
               "feasible": "feasible, not proven optimal",
               "time_limit": "stopped by the time limit: the best schedule found, not proven optimal",
               "infeasible": "infeasible"}
#: the status of the model that gives a plan's upper bound (a relaxation) in words
BOUND_STATUS = {"optimal": "relaxation solved",
                "feasible": "bound (not proven tight)",
                "time_limit": "bound at the time limit (not proven tight)"}


def in_words(status, words: dict) -> str:
    """``status`` as ``words`` say it (as it is when they do not)."""
    return words.get(status, str(status))


def deposit_title(summary: dict) -> str:
    """The deposit's name; else its model file's stem (``deposit.source``); else ``unnamed deposit``."""
    deposit = summary.get("deposit") or {}
    if deposit.get("name"):
        return str(deposit["name"])
    return Path(deposit["source"]).stem if deposit.get("source") else "unnamed deposit"


def _amount(values, unit: str, scale: float = 1e-6) -> str:
    """One capacity as the plans used it (``from A to B`` when it changes); None: not limited."""
    known = sorted({round(float(v) * scale, 1) for v in values if v is not None})
    if not known:
        return "not limited"
    return f"{known[0]:,.1f} {unit}" if len(known) == 1 else f"from {known[0]:,.1f} to {known[-1]:,.1f} {unit}"


def _used(summary: dict, setup_key: str, plan_key: str) -> list:
    """Every value of one capacity: per period in each plan's settings, else the study's setup."""
    values = [v for s in (summary.get("strategies") or {}).values() if isinstance(s, dict)
              for v in ((s.get("settings") or {}).get(plan_key) or [])]
    return values or [(summary.get("setup") or {}).get(setup_key)]


def footing(summary: dict, currency: str) -> str:
    """One paragraph: what the NPV is in, how it discounts, what a period is, the capacities per period."""
    setup = summary.get("setup") or {}
    text = f"Footing: money in {currency} (M{currency}: millions of {currency})."
    rate = setup.get("discount_rate")
    if rate is not None:
        text += (f" The NPV discounts the cash flow of period t by 1/(1 + {float(rate):g})^t: periods are counted "
                 f"from 0 and period 0 is not discounted. The discount rate, {100 * float(rate):g} %, is per period.")
    text += (" A period is one step of the schedule (a year with the built-in economics, whose discount rate is "
             "per year); tonnes and capacities are per period.")
    if setup:
        text += (f" Capacities per period as the plans used them: mining "
                 f"{_amount(_used(summary, 'mining_capacity', 'mining_capacity_t'), 'Mt')}, mill "
                 f"{_amount(_used(summary, 'mill_capacity', 'mill_capacity_t'), 'Mt')}, mill time "
                 f"{_amount(_used(summary, 'mill_hours', 'mill_hours_h'), 'thousand h', 1e-3)}.")
    return text
