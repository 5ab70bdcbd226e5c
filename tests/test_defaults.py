"""Every plan default lives once, in its owner (`ScheduleSetup`, `PlanSettings`, the green floors of
`orepit.planning.strategies`, the green budget of `orepit.planning.budget`, the slope of `orepit.valuation.precedence`); functions and study files take
theirs from there."""
from __future__ import annotations

import inspect
from dataclasses import asdict

from orepit.planning.plan_model import PlanSettings
from orepit.planning.budget import GREEN_BUDGET
from orepit.planning.strategies import RECOVERY_FLOOR, ScheduleSetup, compare, frontier, strategy_options
from orepit.study.pipeline import run_study
from orepit.study.sweep_study import parse_study
from orepit.valuation.deposit import value_deposit
from orepit.valuation.precedence import precedence_from_geometry
from orepit.valuation.slope_defaults import SLOPE_BENCHES, SLOPE_DEGREES


def _defaults(function) -> dict:
    return {k: p.default for k, p in inspect.signature(function).parameters.items()}


def test_functions_take_their_defaults_from_the_owners():
    for function in (strategy_options, compare, run_study):
        d = _defaults(function)
        assert (d["recovery_floor"], d["utilisation_floor"], d["budget"]) == (RECOVERY_FLOOR, None, GREEN_BUDGET), \
            function
    for function in (compare, run_study, frontier):
        assert _defaults(function)["setup"] is None                  # None: ScheduleSetup()
    for function in (value_deposit, run_study, precedence_from_geometry):
        assert (_defaults(function)["slope"], _defaults(function)["levels"]) == (SLOPE_DEGREES, SLOPE_BENCHES)
    green = strategy_options("green")
    assert (green.recovery_floor, green.utilisation_floor, green.budget) == (RECOVERY_FLOOR, None, GREEN_BUDGET)
    setup, plan = ScheduleSetup(), PlanSettings(periods=1)
    for name in ("discount_rate", "time_limit", "mip_gap", "stockpile_loss", "stockpile_capacity", "threads"):
        assert getattr(setup, name) == getattr(plan, name), name


def test_a_study_without_a_plan_takes_the_owners_defaults():
    study = parse_study({"study": {"strategies": ["green"]}, "deposit": {"synthetic": {"blocks": 1000, "seed": 1}}})
    (case,) = study.cases()
    assert asdict(ScheduleSetup(**case.spec["setup"])) == asdict(ScheduleSetup())
    assert case.spec["setup"]["periods"] == ScheduleSetup().periods
    assert (case.spec["recovery_floor"], case.spec["utilisation_floor"], case.spec["green_budget"]) == (
        RECOVERY_FLOOR, None, GREEN_BUDGET)
    assert (case.spec["deposit"]["slope"], case.spec["deposit"]["levels"]) == (SLOPE_DEGREES, SLOPE_BENCHES)
