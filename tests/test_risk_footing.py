"""What the risk figures say about themselves: the risk table's mill-target row says what its figure
is, too few realisations warn, a bound's status says what the bound is, and the footing (variogram,
CV, seed, realisations, out of sample, grade control) is read from risk.json."""
from __future__ import annotations

import math

from solvers.result import FEASIBLE, OPTIMAL, Result

from orepit.output.risk_charts import LEAST, TARGET_ROW, risk_footing, risk_table
from orepit.study.risk import KPIS, bound_status, realisation_warnings, risk_settings
from orepit.valuation.realisations import Variogram


def test_the_least_chance_of_a_mill_target_has_a_column_of_its_own():
    strategy = {f"{k}_{p}": 1.0 for k in KPIS for p in ("p10", "p50", "p90", "mean", "planned")}
    strategy["mill_target_probability"] = [1.0, 0.6, None, 0.9]          # null: a period without a target
    table = risk_table({"strategies": {"npv": strategy}}).set_index("KPI")
    assert table.loc[TARGET_ROW, LEAST] == 60.0
    assert table.loc[TARGET_ROW, ["P10", "P50", "P90", "mean"]].isna().all()       # not a mean over periods
    assert table[LEAST].drop(TARGET_ROW).isna().all()


def test_one_realisation_warns_and_several_do_not():
    [warning] = realisation_warnings(1)
    assert "P10, P50 and P90" in warning and "VSS" in warning and "several realisations" in warning
    assert realisation_warnings(2) == [] and realisation_warnings(10) == []


def test_a_bound_status_says_what_the_bound_is():
    assert bound_status(Result(FEASIBLE, 1.0, 2.0, 0.0)) == "bound"
    assert bound_status(Result(OPTIMAL, 2.0, 2.0, 0.0)) == "relaxation solved"
    skipped = Result(FEASIBLE, -math.inf, math.inf, 0.0, None, "not computed", {"skipped": "too many nodes"})
    assert bound_status(skipped) == "skipped: too many nodes"


def test_the_footing_names_variogram_seed_realisations_and_grade_control():
    variogram = Variogram(cv={"cu": 0.3, "au": 0.5}, seed=7, range_m=(180.0, 150.0, 80.0), nugget=0.1)
    settings = risk_settings(variogram, 10, 10)
    assert settings["realisations_judged"] == [0, 9] and settings["out_of_sample"] is True
    text = risk_footing({"settings": settings, "stochastic": {"realisations_built": [10, 19]}})
    for words in ("Realisations 0 to 9", "seed 7", "spherical variogram with ranges 180 x 150 x 80 m", "nugget 0.1",
                  "CV cu 0.3, au 0.5", "out of sample", "stochastic plan was built on realisations 10 to 19",
                  "true (realised) grade", "mean over the realisations can sit above"):
        assert words in text, words
    assert "stochastic" not in risk_footing({"settings": settings, "stochastic": None})
