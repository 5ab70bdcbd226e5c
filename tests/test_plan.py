"""The green scheduling model on hand-built sections, checked by the independent simulation."""
from __future__ import annotations

import numpy as np
import pytest

from orepit.planning.kpis import simulate
from orepit.planning.plan import Bins, Parcels, PlanSettings, solve_plan
from orepit.valuation.destinations import DUMP, MILL, STOCKPILE
from solvers import InfeasibleError, InputError, Precedence


def section():
    """A 2D section, two blocks of 10 t: a low-grade block (1) sits on a high-grade block (0).

    Mill value (USD, mining included): high grade 100, low grade 10; mining costs 5 (the value at the
    stockpile and at the dump). Milling the low-grade block later earns 15 - 2 rehandle = 13.
    Mill capacity 10 t per period, discount rate 50 % per period, 2 periods.
    High-grading mines both in period 0 (mill 100, dump the low grade: 95), because waiting for the
    high-grade block (10 + 100/1.5 = 76.7) costs more. With a stockpile, the low grade is kept and
    milled in period 1: 100 - 5 + 13/1.5 = 103.67.
    """
    prec = Precedence.from_arcs(2, [0], [1])        # block 0 needs block 1 (above it)
    value = np.array([[100.0, -5.0, -5.0], [10.0, -5.0, -5.0]])
    parcels = Parcels(cut=[0, 1], tonnage=[10.0, 10.0], metal=[1.0, 0.2], recovered=[0.9, 0.15],
                      ore=[True, True], value=value, mill_hours=[1.0, 1.0], co2=np.ones((2, 3)),
                      bin=[-1, 0], cut_precedence=prec, integer_cuts=True, low_grade=[False, True])
    bins = Bins.from_parcels(parcels, reclaim_value_per_t=[10.5, 1.5], rehandle_cost=0.2)
    return parcels, bins


def settings(**kw):
    base = dict(periods=2, discount_rate=0.5, mill_capacity=10.0, mining_capacity=20.0)
    base.update(kw)
    return PlanSettings(**base)


def test_high_grading_dumps_the_low_grade_block_that_the_stockpile_saves():
    parcels, bins = section()
    hg = solve_plan(parcels, bins, settings(stockpile=False))
    assert hg.result.status == "optimal"
    assert hg.result.objective == pytest.approx(95.0)
    assert hg.parcel_destination().tolist() == [MILL, DUMP]
    green = solve_plan(parcels, bins, settings(stockpile=True, no_ore_to_dump=True, recovery_floor=0.95))
    assert green.result.objective == pytest.approx(100 - 5 + 13 / 1.5)
    assert green.parcel_destination().tolist() == [MILL, STOCKPILE]
    assert green.reclaim[0].tolist() == pytest.approx([0.0, 10.0])
    for plan, s in ((hg, settings(stockpile=False)), (green, settings(no_ore_to_dump=True, recovery_floor=0.95))):
        sim = simulate(parcels, bins, s, plan)
        assert sim.feasible, sim.violations
        assert sim.kpis["objective_simulated"] == pytest.approx(plan.result.objective, rel=1e-6)
    sim_hg = simulate(parcels, bins, settings(stockpile=False), hg)
    sim_green = simulate(parcels, bins, settings(), green)
    assert sim_hg.kpis["ore_to_dump_tonnes"] == 10.0 and sim_green.kpis["ore_to_dump_tonnes"] == 0.0
    assert sim_hg.kpis["low_grade_tonnes_recovered"] == 0.0
    assert sim_green.kpis["low_grade_tonnes_recovered"] == pytest.approx(10.0)
    assert sim_green.kpis["metal_recovered"] > sim_hg.kpis["metal_recovered"]
    assert sim_hg.kpis["mining_recovery_rate"] == pytest.approx(0.5)
    assert sim_green.kpis["mining_recovery_rate"] == pytest.approx(1.0)


def test_stockpile_mass_balance_every_period():
    parcels, bins = section()
    plan = solve_plan(parcels, bins, settings(periods=3, stockpile_loss=0.1, final_stockpile="process"))
    sim = simulate(parcels, bins, settings(periods=3, stockpile_loss=0.1), plan)
    p = sim.periods
    balance = p["stockpile_balance_t"].to_numpy()
    before = np.concatenate([[0.0], balance[:-1]])
    np.testing.assert_allclose(before + p["stockpile_in_t"] - p["stockpile_out_t"] - p["stockpile_lost_t"], balance,
                               atol=1e-9)
    assert sim.feasible and sim.kpis["npv"] == pytest.approx(plan.result.objective, rel=1e-6)


def test_final_stockpile_lost_or_processed():
    parcels, bins = section()
    # only one period: the low grade can be stockpiled but only processed after the end
    processed = solve_plan(parcels, bins, settings(periods=1, final_stockpile="process"))
    lost = solve_plan(parcels, bins, settings(periods=1, final_stockpile="lost"))
    assert processed.result.objective == pytest.approx(100 - 5 + 13 / 1.5)
    assert lost.result.objective == pytest.approx(95.0)
    sim = simulate(parcels, bins, settings(periods=1, final_stockpile="lost"), lost)
    assert sim.feasible and sim.kpis["objective_simulated"] == pytest.approx(95.0)


def test_simulation_flags_a_broken_plan():
    parcels, bins = section()
    plan = solve_plan(parcels, bins, settings())
    plan.reclaim[0, 1] += 5.0                      # reclaim more than the bin holds
    plan.sent[0, MILL, 0] = 0.0                     # block mined but sent nowhere
    sim = simulate(parcels, bins, settings(), plan)
    text = " | ".join(sim.violations)
    assert "reclaims 15 t from bin 0 holding 10 t" in text
    assert "parcel 0 period 0: 0 sent but its cut mined 1" in text
    assert "differs from the solver's objective" in text


def test_infeasible_requirements_are_explained():
    parcels, bins = section()
    with pytest.raises(InfeasibleError, match="metal floor 5 t vs 1.05 t recoverable"):
        solve_plan(parcels, bins, settings(metal_floor=5.0))


def test_single_block_single_period_and_air():
    prec = Precedence.empty(2)
    parcels = Parcels(cut=[0, 1], tonnage=[10.0, 0.0], metal=[1.0, 0.0], recovered=[0.9, 0.0], ore=[True, False],
                      value=[[50.0, -5.0, -5.0], [0.0, 0.0, 0.0]], mill_hours=[1.0, 0.0], co2=np.zeros((2, 3)),
                      bin=[0, -1], cut_precedence=prec)
    bins = Bins.from_parcels(parcels, reclaim_value_per_t=[5.5, 0.0])
    plan = solve_plan(parcels, bins, PlanSettings(periods=1, discount_rate=0.1, mill_capacity=10.0))
    assert plan.result.objective == pytest.approx(50.0) and plan.parcel_destination()[0] == MILL
    sim = simulate(parcels, bins, PlanSettings(periods=1, discount_rate=0.1, mill_capacity=10.0), plan)
    assert sim.feasible and sim.kpis["npv"] == pytest.approx(50.0)


def test_bad_settings_are_named():
    with pytest.raises(InputError, match="periods must be at least 1"):
        PlanSettings(periods=0)
    with pytest.raises(InputError, match="recovery_floor must be in \\[0, 1\\], got 1.5"):
        PlanSettings(recovery_floor=1.5)
    with pytest.raises(InputError, match="final_stockpile must be 'process', 'lost' or 'empty', got 'burn'"):
        PlanSettings(final_stockpile="burn")
