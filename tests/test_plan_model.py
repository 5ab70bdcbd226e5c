"""The Pyomo plan model on hand-built sections: exact optima, each rule binding, the extension hook."""
from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest

from orepit.planning.layout import Bins, Parcels
from orepit.planning.plan_model import PlanSettings, build_plan_model, flow, solve_plan_model
from orepit.valuation.destinations import DUMP, MILL, STOCKPILE
from solvers import InfeasibleError, InputError, Precedence, TimeLimitError


def section(integer=True):
    """A 2D section, two blocks of 10 t: a low-grade block (1) sits on a high-grade block (0).

    Mill value (mining included): high grade 100, low grade 10; mining costs 5 (the value at the
    stockpile and at the dump).  Milling the low grade from the stockpile later earns 13 (its bin's
    reclaim value 1.3 per t).  Mill capacity 10 t per period, discount rate 50 % per period.
    High-grading mines both in period 0, mills the high grade and dumps the low grade: 95 (waiting
    for the high grade, 10 + 100 / 1.5 = 76.7, costs more).  With a stockpile the low grade is kept
    and milled in period 1: 100 - 5 + 13 / 1.5 = 103.67.
    """
    prec = Precedence.from_arcs(2, [0], [1])                   # block 0 needs block 1 (above it)
    value = np.array([[100.0, -5.0, -5.0], [10.0, -5.0, -5.0]])
    parcels = Parcels(cut=[0, 1], tonnage=[10.0, 10.0], metal=[1.0, 0.2], recovered=[0.9, 0.15],
                      ore=[True, True], value=value, mill_hours=[1.0, 1.0], co2=np.ones((2, 3)),
                      bin=[-1, 0], cut_precedence=prec, integer_cuts=integer,
                      extras={"water_m3": [[50.0, 0.0, 0.0], [50.0, 0.0, 0.0]]})
    bins = Bins(reclaim_value=[1.3], recovered=[0.015], metal=[0.02], mill_hours=[0.1], co2=[0.1],
                extras={"water_m3": [5.0]})
    return parcels, bins


def settings(**kw):
    base = dict(periods=2, discount_rate=0.5, mill_capacity=10.0, mining_capacity=20.0)
    base.update(kw)
    return PlanSettings(**base)


def solve(parcels, bins, s, **kw):
    model = build_plan_model(parcels, bins, s, **kw)
    return model, solve_plan_model(model)


def routes(model) -> dict:
    """(parcel, destination, period) -> share, for the routes the plan uses."""
    return {k: round(v.value, 9) for k, v in model.x.items() if (v.value or 0) > 1e-9}


def test_high_grading_dumps_the_low_grade_block_that_the_stockpile_saves():
    parcels, bins = section()
    hg, r = solve(parcels, bins, settings(stockpile=False))
    assert r.status == "optimal" and r.objective == pytest.approx(95.0)
    assert routes(hg) == {(0, MILL, 0): 1.0, (1, DUMP, 0): 1.0}
    green, r = solve(parcels, bins, settings(no_ore_to_dump=True, final_stockpile="empty"))
    assert r.objective == pytest.approx(100 - 5 + 13 / 1.5)
    assert routes(green) == {(0, MILL, 0): 1.0, (1, STOCKPILE, 0): 1.0}
    assert green.r[0, 1].value == pytest.approx(10.0)
    assert r.info["integer_variables"] == 4 and r.info["build_seconds"] >= 0


def test_each_rule_binds_on_the_section():
    """Without the stockpile the recovery floor and the no-ore-to-dump rule both force the low
    grade to the mill, which delays the high grade: the rule holds and the objective drops."""
    parcels, bins = section()
    _, free = solve(parcels, bins, settings(stockpile=False))
    for rule in (dict(recovery_floor=0.95), dict(no_ore_to_dump=True)):
        model, r = solve(parcels, bins, settings(stockpile=False, **rule))
        assert r.objective == pytest.approx(10 + 100 / 1.5) and r.objective < free.objective
        assert all(d != DUMP for (p, d, t) in routes(model))
    # the emission cap: each block emits 1 t CO2 wherever it goes; 1.5 t a period allow one block
    model, r = solve(parcels, bins, settings(stockpile=False, co2_cap=1.5))
    assert r.objective == pytest.approx(10 + 100 / 1.5) and r.objective < free.objective
    # a metal floor above what high-grading recovers (0.9 t) forces the low grade to the mill too
    model, r = solve(parcels, bins, settings(stockpile=False, metal_floor=1.0))
    assert r.objective == pytest.approx(10 + 100 / 1.5)


def test_mining_can_be_fixed_and_routes_too():
    parcels, bins = section(integer=False)
    mined = np.array([[1.0, 0.0], [1.0, 0.0]])                  # both blocks in period 0
    model, r = solve(parcels, bins, settings(), mined=mined)
    assert not hasattr(model, "w") and r.info["integer_variables"] == 0
    assert r.objective == pytest.approx(100 - 5 + 13 / 1.5)
    model, r = solve(parcels, bins, settings(), mined=mined, route=np.array([MILL, DUMP]))
    assert r.objective == pytest.approx(95.0) and routes(model) == {(0, MILL, 0): 1.0, (1, DUMP, 0): 1.0}
    with pytest.raises(InfeasibleError, match="parcel 1 has nowhere to go in period 0"):
        solve(parcels, bins, settings(no_ore_to_dump=True), mined=mined, route=np.array([MILL, DUMP]))


def test_piles_are_emptied_by_the_period_asked_or_the_plan_is_infeasible():
    """Both blocks mined in period 0: the mill takes the high grade, the low grade waits on the
    stockpile; it can be milled in period 1, not in period 0."""
    parcels, bins = section()
    rules = dict(periods=3, final_stockpile="empty", no_ore_to_dump=True, mine_out_by=0)
    _, r = solve(parcels, bins, settings(empty_by=1, **rules))
    assert r.objective == pytest.approx(100 - 5 + 13 / 1.5)
    with pytest.raises(InfeasibleError, match="stockpile empty at the end"):
        solve(parcels, bins, settings(empty_by=0, **rules))


def test_the_extension_hook_adds_a_water_cap_that_binds():
    """The docs' example: water is spent where ore is milled; a cap of 60 m3 a period leaves room
    for one block (50 m3) and a fifth of the other: the rest of the low grade waits on the
    stockpile for the next period."""
    parcels, bins = section()

    def water_cap(m, cap_m3=60.0):
        water = m.units.parcels.extras["water_m3"][:, MILL]
        per_t = m.units.bins.extras["water_m3"]
        m.water_cap = pyo.Constraint(m.T, rule=lambda m, t: flow(m, water, MILL, t)
                                     + sum(float(per_t[g]) * m.r[g, t] for g in m.G) <= cap_m3)

    _, free = solve(parcels, bins, settings(mill_capacity=20.0))
    model, capped = solve(parcels, bins, settings(mill_capacity=20.0), extend=water_cap)
    assert free.objective == pytest.approx(110.0)
    assert capped.objective == pytest.approx(100 + 0.2 * 10 - 0.8 * 5 + 8 * 1.3 / 1.5)
    for t in range(2):
        used = sum(parcels.extras["water_m3"][p, MILL] * model.x[p, MILL, t].value
                   for p in range(2) if (p, MILL, t) in model.x) + 5.0 * model.r[0, t].value
        assert used <= 60.0 + 1e-6


def test_duals_of_an_lp_are_kept_on_the_model():
    parcels, bins = section(integer=False)
    model, r = solve(parcels, bins, settings(stockpile=False), mined=np.array([[1.0, 0.0], [1.0, 0.0]]))
    assert r.status == "optimal"
    # one more t of mill capacity in period 0 would mill a t of the low grade instead of dumping it
    assert model.dual[model.mill[0]] == pytest.approx((10.0 + 5.0) / 10.0, rel=1e-6)


def test_no_plan_names_what_to_check():
    parcels, bins = section()
    with pytest.raises(InfeasibleError, match="metal floor 5 t"):
        solve(parcels, bins, settings(metal_floor=5.0))
    with pytest.raises(InfeasibleError, match="the whole pit mined by period 0"):
        solve(parcels, bins, settings(mining_capacity=10.0, mine_out_by=0))


def test_a_solve_out_of_time_without_a_plan_is_not_called_infeasible(monkeypatch):
    """HiGHS stopped by its time limit before any plan (a slow or loaded machine): the error says so
    and is no `InfeasibleError`, which callers answer by planning otherwise (a fleet that slows
    down, a stockpile left full), so the plan would depend on the machine's load."""
    from solvers.highs import LinearModel
    from solvers.result import TIME_LIMIT, Result

    monkeypatch.setattr(LinearModel, "solve", lambda self, **kw: Result(TIME_LIMIT, -np.inf, np.inf, 5.0, None,
                                                                        "highs", {}))
    parcels, bins = section()
    with pytest.raises(TimeLimitError, match="within the time limit of 5 s") as caught:
        model = build_plan_model(parcels, bins, settings())
        solve_plan_model(model, time_limit=5.0)
    assert not isinstance(caught.value, InfeasibleError)


def test_bad_settings_are_named():
    with pytest.raises(InputError, match="periods must be at least 1"):
        PlanSettings(periods=0)
    with pytest.raises(InputError, match=r"recovery_floor must be in \[0, 1\], got 1.5"):
        PlanSettings(periods=1, recovery_floor=1.5)
    with pytest.raises(InputError, match="final_stockpile must be one of process, lost, empty, got 'burn'"):
        PlanSettings(periods=1, final_stockpile="burn")
    with pytest.raises(InputError, match=r"discount_rate must be in \(-1, 1\] per period, got 8"):
        PlanSettings(periods=1, discount_rate=8)
    with pytest.raises(InputError, match="empty_by must be a period 0..1"):
        PlanSettings(periods=2, empty_by=2)
