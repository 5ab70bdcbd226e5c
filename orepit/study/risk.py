"""The risk profile of fixed plans: each strategy's plan, built on the estimated grades, replayed on
realisations of the same deposit (one Dask task per realisation, like the sweeps).

`run_risk` builds the plans on the estimate (`orepit.study.pipeline.run_study`), draws realisations
0..N-1 of the grades (`orepit.valuation.realisations`), values each one as the estimate was valued
(same economics, environment and precedence) and replays every plan on it
(`orepit.planning.replay`): the sequence stays, grade control re-decides the destinations, the
capacities hold.  Every realisation is out of sample for these plans (none was built on it).
`risk_summary` gives per strategy P10, P50, P90 and the mean of each of `KPIS`, and the
probability of meeting the plan's mill target in each period.  Percentiles are numpy's (linear
interpolation between order statistics); P10 is the low value (90 % of realisations do better).

`build_stochastic` adds the two-stage stochastic green plan (`orepit.planning.stochastic`), built
on realisations N..N+R-1 (`build_realisations`): every realisation it is judged on (0..N-1) is out of
its sample, as for the deterministic plans, and it is replayed with them by the same grade
control.  `value_of_stochastic_solution` measures its VSS against the deterministic green plan.
"""
from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from solvers.errors import InfeasibleError, InputError
from solvers.result import FEASIBLE, OPTIMAL, Result

from orepit.data.atomic import atomic_path, write_text
from orepit.data.jsonable import jsonable
from orepit.data.model import BlockModel
from orepit.planning.bound import bounded, replay_bound
from orepit.planning.layout import low_grade_edge
from orepit.planning.replay import FixedPlan, fixed_plan, replay
from orepit.planning.stochastic import StochasticPlan, in_sample, sequence_value, stochastic_plan
from orepit.study.pipeline import Study
from orepit.study.sweep import limit_numba_threads, sweep_client
from orepit.valuation.deposit import Deposit, value_deposit
from orepit.valuation.economics import Economics
from orepit.valuation.environment import Environment
from orepit.valuation.realisations import GradeRealisations, Variogram

#: the KPIs whose distribution is summarised (names of `orepit.planning.simulation` KPIs)
KPIS = ("npv", "npv_after_environment", "metal_recovered", "ore_to_dump_tonnes", "co2_tonnes")
#: further KPIs kept per realisation in the table
MORE_KPIS = ("mining_recovery_rate", "utilisation_rate", "final_stockpile_t", "low_grade_tonnes_recovered",
             "life_of_mine_periods", "metal_fed")
PERIOD_COLUMNS = ("mill_t", "metal_fed_t", "metal_recovered_t", "cash_flow", "ore_to_dump_t")
TABLE, PERIODS, SUMMARY = "realisations.parquet", "realisation_periods.parquet", "risk.json"
#: the stochastic plan's name in the tables, and the deterministic plan it is measured against
STOCHASTIC, BASELINE = "stochastic", "green"
#: what grade control is assumed to know (risk.json settings.grade_control; docs/uncertainty.md)
GRADE_CONTROL = ("perfect: it knows each block's true (realised) grade when it decides the block's destination "
                 "(no ore or waste is misclassified), which is why the mean over the realisations can sit above "
                 "the plan's own figure on the estimate")


@dataclass
class RiskInputs:
    """What every realisation needs (sent to each Dask worker once)."""

    model: BlockModel
    economics: Economics
    environment: Environment
    precedence: object
    variogram: Variogram
    plans: dict


def risk_inputs(study: Study, economics: Economics, environment: Environment, variogram: Variogram) -> RiskInputs:
    """The fixed plans of ``study`` (built on the estimate) and what valuing a realisation needs."""
    deposit = study.deposit
    edge = low_grade_edge(deposit, study.pit)
    plans = {name: fixed_plan(deposit, name, r, edge) for name, r in study.results.items()}
    variogram.elements_of(deposit.model)            # an unknown grade column is named before any work
    return RiskInputs(deposit.model, economics, environment, deposit.precedence, variogram, plans)


def build_realisations(judged: int, built: int) -> range:
    """The realisations the stochastic plan is built on: ``built`` of them after the ``judged``
    realisations 0..judged-1 every plan is replayed on (seeds (seed, r): disjoint streams)."""
    return range(judged, judged + built)


def check_baseline(strategies) -> None:
    """`InputError` (field ``stochastic``) when green is not among ``strategies`` (names)."""
    if BASELINE not in strategies:
        raise InputError("the stochastic plan is green's: add green to the strategies (or build none)",
                         field="stochastic")


def build_stochastic(study: Study, inputs: RiskInputs, judged: int, built: int,
                     extend=None) -> tuple[StochasticPlan, dict]:
    """The stochastic green plan on realisations `build_realisations` (judged, built), added to ``inputs.plans``
    as `STOCHASTIC`, and its in-sample figures (currency; means over the build realisations):
    ``bound`` the model's optimum, ``deterministic_sequence`` the deterministic cut model's sequence
    valued in the same model (so ``bound`` minus it is the VSS inside the model, >= 0; NaN when it
    cannot keep green's rules in every build realisation, `deterministic_sequence_value`), and per plan
    (stochastic, green) the mean NPV and NPV after environmental cost of the grade-control replay
    on the build realisations."""
    check_baseline(study.results)
    rows = build_realisations(judged, built)
    deposits = [realised_deposit(inputs, r) for r in rows]
    edge = low_grade_edge(study.deposit, study.pit)
    plan = stochastic_plan(study.deposit, deposits, study.results[BASELINE], study.setup, edge, extend, STOCHASTIC)
    inputs.plans[STOCHASTIC] = fixed_plan(study.deposit, STOCHASTIC, plan.result, edge)
    figures = {**plan.figures(), "lp_status": plan.solved.status, "realisations_built": [rows.start, rows.stop - 1],
               "deterministic_sequence": deterministic_sequence_value(plan)}
    green = plan.scores.get(0.0) or in_sample(deposits, inputs.plans[BASELINE])
    for key in ("npv", "npv_after_environment"):
        figures[f"{key}_in_sample"] = plan.scores[plan.blend][key]
        figures[f"{key}_in_sample_{BASELINE}"] = green[key]
    figures.update(in_sample_bound(deposits, inputs.plans[STOCHASTIC], study.results[BASELINE].plan.prices,
                                   study.setup.bound_prices))
    return plan, figures


def in_sample_bound(deposits: list[Deposit], fixed: FixedPlan, duals: dict, prices: int) -> dict:
    """The stochastic plan's in-sample figures against the best any sequence of its pit could do on
    the same realisations (`orepit.planning.bound.replay_bound`, ``prices`` prices from ``duals``, the
    deterministic green cut model's, on): ``in_sample_bound``
    (currency, on the plan's footing), ``in_sample_objective`` (the mean of its replays' objectives),
    ``in_sample_gap`` (relative), ``in_sample_bound_status`` (`bound_status`) and ``_seconds``.  A
    bound below the plan's own mean is an error (`orepit.planning.bound.bounded`)."""
    replays = [replay(d, fixed) for d in deposits]
    bound = replay_bound(deposits, fixed, replays, duals, prices)
    objective = float(np.mean([r.kpis["objective"] for r in replays]))
    checked = bounded(Result(FEASIBLE, objective, math.inf, 0.0), bound, 0.0)
    return {"in_sample_objective": objective, "in_sample_bound": bound.bound, "in_sample_gap": checked.gap,
            "in_sample_bound_status": bound_status(bound), "in_sample_bound_seconds": bound.seconds,
            **({"in_sample_bound_skipped": bound.info["skipped"]} if "skipped" in bound.info else {})}


def bound_status(bound: Result) -> str:
    """What a Lagrangian bound (`orepit.planning.bound.replay_bound`) is, in words: "relaxation
    solved" when it meets the value the relaxation reaches, "bound" when it is an upper bound only,
    "skipped: why" when it was not computed."""
    if "skipped" in bound.info:
        return f"skipped: {bound.info['skipped']}"
    return "relaxation solved" if bound.status == OPTIMAL else "bound"


def deterministic_sequence_value(plan: StochasticPlan) -> float:
    """The deterministic cut sequence valued in the stochastic model (currency); NaN without one, or
    when its second stage has no routes keeping the rules in every realisation (measured: CV 0.8,
    500 m ranges, no steady mining, 30,000 blocks: the deterministic sequence keeps green's rules
    on the estimate but not in every build realisation; the model's own sequence keeps them)."""
    if plan.deterministic is None:
        return math.nan
    try:
        return sequence_value(plan.model, plan.deterministic)
    except InfeasibleError:
        return math.nan


def value_of_stochastic_solution(summary: dict) -> dict:
    """VSS out of sample: the stochastic plan's expected (mean) NPV over the judged realisations
    minus the deterministic green plan's (``absolute``, currency; ``percent`` of green's), the same
    on the NPV after environmental cost, and the difference of their P10 NPVs."""
    s, g = summary[STOCHASTIC], summary[BASELINE]
    out = {"baseline": BASELINE}
    for key, suffix in (("npv", ""), ("npv_after_environment", "_after_environment")):
        diff = s[f"{key}_mean"] - g[f"{key}_mean"]
        out[f"absolute{suffix}"] = diff
        out[f"percent{suffix}"] = 100.0 * diff / abs(g[f"{key}_mean"]) if g[f"{key}_mean"] else math.nan
    out["p10_difference"] = s["npv_p10"] - g["npv_p10"]
    return out


def realisation_warnings(judged: int) -> list[str]:
    """Warnings on the number of realisations the plans are judged on (nothing is refused)."""
    if judged >= 2:
        return []
    return [f"{judged} realisation: P10, P50 and P90 are that one realisation's figures and the VSS rests on one "
            "draw; percentiles and the VSS need several realisations (--realisations)"]


def risk_settings(variogram: Variogram, judged: int, built: int) -> dict:
    """risk.json's ``settings``: the realisations judged ([first, last]; out of sample for every plan)
    and built on (the stochastic plan's count), the variogram, CVs and seed, what grade control knows."""
    return {"realisations": judged, "realisations_judged": [0, judged - 1], "out_of_sample": True,
            "seed": variogram.seed, "model": variogram.model, "range_m": variogram.range_m,
            "nugget": variogram.nugget, "cv": variogram.cv, "correlation": variogram.correlation,
            "stochastic_realisations": built, "grade_control": GRADE_CONTROL}


def realised_deposit(inputs: RiskInputs, r: int) -> Deposit:
    """Grade realisation ``r``, valued as the estimate was (same economics, environment and precedence)."""
    sims = GradeRealisations(inputs.model, inputs.variogram)
    return value_deposit(sims.model(r), inputs.economics, inputs.environment, inputs.precedence)


def replay_realisation(inputs: RiskInputs, r: int) -> tuple[list[dict], list[dict]]:
    """Realisation ``r``: one row per strategy (KPIs) and one per strategy and period (mill feed and
    whether the plan's mill target is met)."""
    deposit = realised_deposit(inputs, r)
    rows, period_rows = [], []
    for name, plan in inputs.plans.items():
        result = replay(deposit, plan)
        k = result.kpis
        rows.append({"realisation": r, "strategy": name, **{key: float(k[key]) for key in KPIS + MORE_KPIS},
                     "mill_targets_met": int(result.target_met.sum()), "mill_targets": int(result.target_met.size)})
        periods = result.simulation.periods
        met = dict(zip(plan.target_periods.tolist(), result.target_met.tolist()))
        for t in range(len(periods)):
            target = float(plan.mill_target[t]) if t < plan.mill_target.size else math.nan
            period_rows.append({"realisation": r, "strategy": name, "period": t,
                                **{c: float(periods[c].iloc[t]) for c in PERIOD_COLUMNS}, "mill_target_t": target,
                                "mill_target_met": met.get(t)})
    return rows, period_rows


def _risk_task(inputs: RiskInputs, r: int, numba_threads: int = 1):
    """The Dask task: `replay_realisation` with numba on ``numba_threads`` threads in this worker."""
    limit_numba_threads(numba_threads)
    return replay_realisation(inputs, r)


def run_risk(inputs: RiskInputs, realisations: int, *, serial: bool = False, client=None,
             scheduler: str | None = None, workers: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Replay every plan on realisations 0..realisations-1: (table, periods), sorted by realisation
    and strategy.  ``serial``: in this process; otherwise on ``client``, on the Dask scheduler at
    ``scheduler``, or on a new local cluster of ``workers`` processes (`orepit.study.sweep.sweep_client`)."""
    if isinstance(realisations, bool) or not isinstance(realisations, int) or realisations < 1:
        raise InputError(f"the number of realisations must be an integer >= 1, got {realisations!r}",
                         field="realisations")
    if serial:
        parts = [replay_realisation(inputs, r) for r in range(realisations)]
    elif client is not None:
        parts = _on(client, inputs, realisations)
    else:
        with sweep_client(scheduler, workers) as c:
            parts = _on(c, inputs, realisations)
    table = pd.DataFrame([row for rows, _ in parts for row in rows])
    periods = pd.DataFrame([row for _, rows in parts for row in rows])
    return table, periods


def _on(client, inputs: RiskInputs, realisations: int) -> list:
    # a key of its own (hash=False): the same inputs scattered again, by a second run on the same
    # client, must not take the key the scheduler is still releasing from the first ("lost data")
    shared = client.scatter(inputs, broadcast=True, hash=False)
    futures = [client.submit(_risk_task, shared, r, key=f"orepit-risk-{os.getpid()}-{time.time_ns()}-{r}")
               for r in range(realisations)]
    return client.gather(futures)


def risk_summary(table: pd.DataFrame, periods: pd.DataFrame, plans: dict[str, FixedPlan], references: dict) -> dict:
    """Per strategy: ``<kpi>_p10``, ``_p50``, ``_p90``, ``_mean`` of each of `KPIS`, ``<kpi>_<label>``
    for each reference (``references``: label -> {strategy: KPIs}, e.g. ``planned``: the plan's own
    figures, ``on_estimate``: the plan replayed on the estimate), ``expected_npv_out_of_sample``
    (mean economic NPV over the realisations), ``realisations``, ``mill_target_t`` (per plan period:
    what the plan mills on the estimate) and ``mill_target_probability`` (per plan period: share of
    realisations in which the plan's mill target is met, `orepit.planning.replay`; NaN, null in
    JSON, in a period in which the plan mills nothing: it has no target)."""
    out = {}
    for name in plans:
        rows = table[table["strategy"] == name]
        entry = {"realisations": int(len(rows))}
        for key in KPIS:
            values = rows[key].to_numpy(dtype=float)
            p10, p50, p90 = np.percentile(values, (10, 50, 90))
            entry.update({f"{key}_p10": p10, f"{key}_p50": p50, f"{key}_p90": p90, f"{key}_mean": values.mean()})
            entry.update({f"{key}_{label}": float(kpis[name][key]) for label, kpis in references.items()})
        entry["expected_npv_out_of_sample"] = entry["npv_mean"]
        mine = periods[(periods["strategy"] == name) & periods["mill_target_met"].notna()]
        chance = mine.groupby("period")["mill_target_met"].mean().astype(float)
        entry["mill_target_probability"] = [chance.get(t, math.nan) for t in range(plans[name].mill_target.size)]
        entry["mill_target_t"] = plans[name].mill_target.tolist()
        out[name] = entry
    return out


def write_risk(out, table: pd.DataFrame, periods: pd.DataFrame, summary: dict, settings: dict,
               stochastic: dict | None = None, vss: dict | None = None, warnings: list[str] = ()) -> Path:
    """``OUT/realisations.parquet``, ``OUT/realisation_periods.parquet`` and ``OUT/risk.json`` (each
    written atomically; docs/results_format.md); ``stochastic``: the stochastic plan's summary and
    ``vss`` its value (`value_of_stochastic_solution`), null when none was built; ``warnings``: text."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for frame, name in ((table, TABLE), (periods, PERIODS)):
        with atomic_path(out / name) as tmp:
            frame.to_parquet(tmp, index=False)
    write_text(out / SUMMARY, json.dumps(jsonable({"strategies": summary, "stochastic": stochastic, "vss": vss,
                                                       "settings": settings, "warnings": list(warnings)}), indent=2) + "\n")
    return out

