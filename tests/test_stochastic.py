"""The stochastic green schedule (orepit.planning.stochastic, orepit.study.risk.build_stochastic): a
checked block schedule, its model's bound over the deterministic sequence, the plan kept at least
the deterministic one in sample (its blocks placed as the deterministic plan's are), disjoint build
and judgement realisations, and one realisation equal to the estimate giving the deterministic plan
back."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from solvers.errors import InfeasibleError, InputError

from orepit.study import risk
from orepit.planning.stochastic import BLENDS, in_sample, recourse_value, sequence_value
from orepit.planning.strategies import ScheduleSetup
from orepit.study.pipeline import run_study
from orepit.study.risk import BASELINE, build_realisations, build_stochastic, risk_inputs
from orepit.valuation.environment import Environment
from orepit.valuation.realisations import GradeRealisations, Variogram
from orepit.valuation.synthetic import default_economics, synthetic_deposit

JUDGED, BUILT = 3, 3


@pytest.fixture(scope="module")
def setting():
    model = synthetic_deposit(3000, seed=1)
    econ = default_economics(model.block_size[2])
    env = Environment(currency=econ.currency)
    study = run_study(model, econ, env, ["npv", "green"], ScheduleSetup(target_life=5), frontier_points=0,
                      progress=False)
    inputs = risk_inputs(study, econ, env, Variogram(cv={"cu": 0.3}, seed=3))
    plan, figures = build_stochastic(study, inputs, JUDGED, BUILT)
    return study, inputs, plan, figures


def test_the_plan_is_a_checked_block_schedule_of_greens_pit(setting):
    study, inputs, plan, _ = setting
    green, mine = study.results[BASELINE], plan.result
    assert mine.plan.check.feasible and not mine.simulation.violations       # the independent checker passed
    mined = mine.block_period >= 0
    assert not np.any(mined & ~green.pit) and mined.sum() >= (green.block_period >= 0).sum() * 0.99
    assert mine.kpis["ore_to_dump_tonnes"] == pytest.approx(0.0, abs=1e-6)    # green's rules hold on the estimate
    assert "stochastic" in inputs.plans


def test_the_bound_is_above_the_deterministic_sequence_in_the_same_model(setting):
    _, _, plan, figures = setting
    # an LP: the bound is its optimum; the deterministic cut sequence is one of its feasible sequences
    assert plan.bound == pytest.approx(plan.solved.objective, rel=1e-12)
    assert figures["deterministic_sequence"] <= plan.bound * (1 + 1e-9)
    assert figures["sequence_value"] <= plan.bound * (1 + 1e-9)
    # measured on this deposit: the realisations pay for another sequence (0.3 % more in the model)
    assert figures["deterministic_sequence"] < plan.bound * (1 - 1e-3)
    # a blend of the two sequences is worth at least the deterministic one (the recourse is concave)
    half = 0.5 * (plan.deterministic + _sequence(plan.model))
    assert sequence_value(plan.model, half) >= figures["deterministic_sequence"] * (1 - 1e-9)


def _sequence(model) -> np.ndarray:
    return np.array([[model.w[c, t].value for t in model.T] for c in model.C])


def test_the_plan_kept_is_at_least_the_deterministic_plan_in_sample(setting):
    study, inputs, plan, figures = setting
    deposits = [c.deposit for c in plan.cases]
    green = in_sample(deposits, inputs.plans[BASELINE])
    assert plan.scores[0.0] == pytest.approx(green, rel=1e-12)                 # the deterministic plan, replayed
    assert set(plan.scores) == {*map(float, BLENDS), 0.0}
    assert plan.scores[plan.blend]["objective"] >= green["objective"]
    assert figures["npv_after_environment_in_sample"] >= figures["npv_after_environment_in_sample_green"]
    # measured, every candidate placed in the same order (cones pulled): every blend, the model's own
    # sequence too (12.538 against 12.526 G USD), is worth more in sample than the deterministic plan,
    # and a blend is kept (b = 0.5, 12.540): the sequence's own gain
    assert min(plan.scores[float(b)]["objective"] for b in BLENDS) > green["objective"]
    assert plan.blend > 0 and plan.scores[plan.blend]["objective"] > green["objective"]
    assert {r.plan.result.info["block_order"] for r in plan.tried.values()} == {"pulled"}
    # the plan kept is also worth more in the model's own second stage over its block periods
    settings = plan.result.plan.settings
    mine = recourse_value(plan.cases, plan.result.block_period, settings, True)
    theirs = recourse_value(plan.cases, study.results[BASELINE].block_period, settings, True)
    assert np.isfinite(mine).all() and mine.mean() > theirs.mean()


def test_build_and_judgement_realisations_are_disjoint(setting):
    _, inputs, plan, figures = setting
    built = build_realisations(JUDGED, BUILT)
    assert list(built) == [3, 4, 5] and not set(built) & set(range(JUDGED))
    assert figures["realisations_built"] == [3, 5] and len(plan.cases) == BUILT
    sims = GradeRealisations(inputs.model, inputs.variogram)
    judged = [sims.grades(r)["cu"] for r in range(JUDGED)]
    for r, case in zip(built, plan.cases):
        cu = case.deposit.model["cu"]
        assert np.array_equal(cu, sims.grades(r)["cu"])                       # seeded stream (seed, r)
        assert not any(np.allclose(cu, other) for other in judged)


def test_one_realisation_equal_to_the_estimate_gives_the_deterministic_plan(setting):
    study, inputs, _, _ = setting
    exact = replace(inputs, variogram=Variogram(cv={"cu": 0.0}, seed=3), plans=dict(inputs.plans))
    plan, figures = build_stochastic(study, exact, JUDGED, 1)
    green = study.results[BASELINE]
    assert plan.bound == pytest.approx(green.plan.result.info["cut_model_objective"], rel=1e-9)
    assert figures["deterministic_sequence"] == pytest.approx(plan.bound, rel=1e-9)
    assert figures["moved_t"] == pytest.approx(0.0, abs=1e-6 * study.deposit.tonnage.sum())
    # every blend is the deterministic sequence, placed as green's blocks are: green's plan itself
    assert np.array_equal(plan.result.block_period, green.block_period)
    assert plan.result.kpis["objective"] == pytest.approx(green.kpis["objective"], rel=1e-12)


def test_a_deterministic_sequence_the_realisations_cannot_keep_is_valued_nan(setting, monkeypatch):
    _, _, plan, _ = setting

    def infeasible(model, mined_by):
        raise InfeasibleError("no feasible plan (a realisation's ore below the recovery floor)")

    monkeypatch.setattr(risk, "sequence_value", infeasible)
    assert np.isnan(risk.deterministic_sequence_value(plan))
    assert np.isnan(risk.deterministic_sequence_value(replace(plan, deterministic=None)))


def test_the_stochastic_plan_needs_green(setting):
    study, inputs, _, _ = setting
    without = replace(study, results={"npv": study.results["npv"]})
    with pytest.raises(InputError) as err:
        build_stochastic(without, inputs, JUDGED, 1)
    assert err.value.field == "stochastic"


def test_the_plan_states_how_far_it_may_be_from_the_best_sequence_in_sample(setting):
    _, _, plan, figures = setting
    # its objective in sample is green's footing, the mean of its replays on the build realisations
    assert figures["in_sample_objective"] == pytest.approx(figures["npv_after_environment_in_sample"], rel=1e-12)
    assert figures["in_sample_objective"] <= figures["in_sample_bound"] < figures["in_sample_objective"] * 1.3
    assert figures["in_sample_gap"] == pytest.approx(
        (figures["in_sample_bound"] - figures["in_sample_objective"]) / figures["in_sample_objective"])
