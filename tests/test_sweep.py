"""Sweeps: study-file checks, a 12-case sweep on a 2-worker LocalCluster equal to serial runs, a worker
killed mid-sweep, an interrupted client resumed, and the summary."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from orepit.study.sweep import finished_cases, local_cluster, run_case, run_sweep, worker_environment
from orepit.study.sweep_study import case_model, load_study, perturb_grades
from orepit.output.sweep_charts import write_sweep_charts
from orepit.study.sweep_summary import summarise
from solvers.errors import InputError
from orepit.data.files import write_model

ROOT = Path(__file__).resolve().parent.parent
EXCLUDE = {"seconds", "strategy_seconds", "worker"}          # per-run measurements, not results

STUDY = """\
[study]
name = "tiny"
strategies = ["npv", "green"]
realisations = 2

[deposit]
synthetic = { blocks = 3000, seed = 1 }

[plan]
periods = 12
target_life = 6

[grid]
"economics.elements.cu.price" = [7000.0, 8800.0, 10500.0]
"""


def write_study(folder: Path, text: str = STUDY, name: str = "study.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def study_path(tmp_path_factory) -> Path:
    return write_study(tmp_path_factory.mktemp("study"))


# the sweeps on a cluster: the same 12 cases on a shorter plan (6 periods), which solve faster; what
# they check (cluster runs equal serial ones, resume, a lost worker) does not depend on plan length
SWEEP_STUDY = STUDY.replace("periods = 12", "periods = 6").replace("target_life = 6", "target_life = 3")
assert SWEEP_STUDY.count("periods = 6") == 1 and "target_life = 3" in SWEEP_STUDY    # both edits took


@pytest.fixture(scope="module")
def sweep_path(tmp_path_factory) -> Path:
    return write_study(tmp_path_factory.mktemp("sweep"), SWEEP_STUDY)


@pytest.fixture(scope="module")
def serial(sweep_path) -> dict:
    """case id -> KPI rows of a serial run of SWEEP_STUDY (same process, no Dask)."""
    rows = {c.case_id: run_case(c.spec) for c in load_study(sweep_path).cases()}
    assert {r["status"] for rs in rows.values() for r in rs} == {"feasible"}
    return rows


def results_equal(out: Path, serial: dict) -> None:
    """Every case file holds exactly the serial run's rows (every column but timings)."""
    assert finished_cases(out) == set(serial)
    for cid, rows in serial.items():
        got = pd.read_parquet(out / "cases" / f"{cid}.parquet")
        want = pd.DataFrame(rows)
        assert len(got) == len(want) == 1
        for col in want.columns:
            if col in EXCLUDE:
                continue
            assert got[col].iloc[0] == want[col].iloc[0], (cid, col)


# ---------------------------------------------------------------------------------------------
# the study file

def check_error(tmp_path, text, *parts):
    path = write_study(tmp_path, text)
    with pytest.raises(InputError) as info:
        load_study(path)
    message = str(info.value)
    assert message.startswith("study.toml line "), message
    for part in parts:
        assert part in message, message
    return info.value


def test_study_expands_to_cases_with_stable_ids(study_path):
    study = load_study(study_path)
    cases = study.cases()
    assert len(cases) == 12
    assert len({c.case_id for c in cases}) == 12
    assert [c.case_id for c in load_study(study_path).cases()] == [c.case_id for c in cases]
    assert {(c.labels["strategy"], c.labels["realisation"], c.labels["seed"],
             c.labels["economics.elements.cu.price"]) for c in cases} == {
        (s, r, 1 + r, p) for s in ("npv", "green") for r in (0, 1) for p in (7000.0, 8800.0, 10500.0)}
    first = cases[0].spec
    assert first["economics"]["elements"]["cu"]["price"] == 7000.0
    assert first["setup"]["periods"] == 12 and first["setup"]["target_life"] == 6 and first["strategies"] == ["npv"]


def test_a_changed_parameter_changes_the_ids_and_only_its_cases(tmp_path, study_path):
    before = {c.case_id for c in load_study(study_path).cases()}
    changed = write_study(tmp_path, STUDY.replace("10500.0]", "11000.0]"))
    after = {c.case_id for c in load_study(changed).cases()}
    assert len(before & after) == 8 and len(after - before) == 4


@pytest.mark.parametrize("edit, line, parts", [
    (lambda t: t + "\n[plans]\nperiods = 3\n", 16, ["plans: unknown section", "grid, plan, study"]),
    (lambda t: t.replace("target_life = 6", "target_lif = 6"), 11, ["unknown key 'plan.target_lif'", "target_life"]),
    (lambda t: t.replace("target_life = 6", "tail_periods = 3"), 11, ["plan.tail_periods: the life of mine now follows"]),
    (lambda t: t.replace("periods = 12", "periods = 0"), 10, ["plan.periods: expected an integer >= 1, got 0"]),
    (lambda t: t.replace("cu.price", "zn.price"), 14,
     ["grid.economics.elements.zn.price: unknown key 'zn' in economics.elements (known: au, cu)"]),
    (lambda t: t.replace('"economics.elements.cu.price"', '"econ.price"'), 14, ["grid.econ.price: unknown key"]),
    (lambda t: t.replace("7000.0,", "-1.0,"), 14,
     ["grid.economics.elements.cu.price: value -1.0: -1.0 is outside [0, inf]"]),
    (lambda t: t.replace("[7000.0, 8800.0, 10500.0]", "7000.0"), 14, ["expected a non-empty list of values"]),
    (lambda t: t.replace("8800.0", "7000.0"), 14, ["a value is listed twice"]),
    (lambda t: t + '"plan.recovery_floor" = [0.9, 1.5]\n', 15,
     ["grid.plan.recovery_floor: value 1.5: 1.5 is outside [0, 1]"]),
    (lambda t: t + '"environment.carbon_price" = [10]\n', 15,
     ["grid.environment.carbon_price: unknown key 'carbon_price'"]),
    (lambda t: t + '"economics.processing_cost_by_rock.host" = [9.0, -1.0]\n', 15,
     ["grid.economics.processing_cost_by_rock.host: value -1.0: -1.0 is outside [0, inf]"]),
    (lambda t: t.replace('"green"]', '"greenest"]'), 3, ["study.strategies: unknown strategy 'greenest'"]),
    (lambda t: t.replace("realisations = 2", "realisations = 0"), 4, ["study.realisations: expected an integer >= 1"]),
    (lambda t: t.replace("blocks = 3000, ", ""), 7, ["deposit.synthetic.blocks: missing"]),
    (lambda t: t.replace("seed = 1 }", 'seed = 1 }\neconomics = "nope.toml"'), 8,
     ["deposit.economics: no such file: ", "nope.toml"]),
    (lambda t: t.replace("seed = 1 }", 'seed = 1 }\nenvironment = ""'), 8,
     ["deposit.environment: expected a file name, got ''"]),
    (lambda t: t.replace("seed = 1 }", 'seed = 1 }\nvariogram = "nope.toml"'), 8,
     ["deposit.variogram: no such file: ", "nope.toml"]),
    (lambda t: t.replace("seed = 1 }", 'seed = 1 }\nvariogram = 3'), 8, ["deposit.variogram: expected a file name, got 3"]),
    (lambda t: t.replace("seed = 1 }", 'seed = 1 }\nvariogram = "v.toml"\ngrade_sigma = 0.2'), 9,
     ["deposit.grade_sigma: give either a variogram", "not both"]),
    (lambda t: t + "\n[economics]\nmining_cost = -2.0\n", 17, ["economics.mining_cost: -2.0 is outside [0, inf]"]),
    (lambda t: t + "\n[economics]\nmining_costs = 2.0\n", 17, ["unknown key 'economics.mining_costs' (known: ", "dump_cost"]),
    (lambda t: t + "\n[economics.elements.zn]\nprice = 2.0\n", 16, ["economics.elements.zn: unknown element"]),
    (lambda t: t + "\n[environment]\ncarbon_price_per_t_co2 = -5\n", 17,
     ["environment.carbon_price_per_t_co2: -5 is outside [0, inf]"]),
    (lambda t: t + '\n[environment]\ncurrency = "CNY"\n', 17,
     ["environment.currency: environmental costs in CNY but the economics in USD"]),
    (lambda t: t + "\n[economics]\nwaste_cost = 1.0\n", 17, ["economics.waste_cost was renamed economics.dump_cost"]),
    (lambda t: t + "\n[environment.surface_haul_km]\nmill = 2.0\nwaste = 1.0\n", 18,
     ["environment.surface_haul_km.waste was renamed environment.surface_haul_km.dump"]),
    (lambda t: t + '"environment.surface_haul_km.waste" = [1.0]\n', 15,
     ["grid.environment.surface_haul_km.waste was renamed grid.environment.surface_haul_km.dump"]),
    (lambda t: t + '"economics.extra_value.waste" = ["x"]\n', 15,
     ["grid.economics.extra_value.waste was renamed grid.economics.extra_value.dump"]),
])
def test_bad_study_files_name_file_line_and_key(tmp_path, edit, line, parts):
    err = check_error(tmp_path, edit(STUDY), f"study.toml line {line}: ", *parts)
    assert err.line == line and err.field


def test_model_realisations_need_a_perturbation(tmp_path):
    text = STUDY.replace("synthetic = { blocks = 3000, seed = 1 }",
                         f'model = "study.toml"\neconomics = "{ROOT / "examples" / "economics_default.toml"}"')
    check_error(tmp_path, text, "study.realisations: 2 realisations of a given model need deposit.variogram (or "
                                "deposit.grade_sigma > 0)")


def test_grade_perturbation_is_mean_one_lognormal_and_seeded(tmp_path):
    from orepit.valuation.synthetic import synthetic_deposit
    model = synthetic_deposit(3000, seed=2)
    a = perturb_grades(model, ["cu", "au"], 0.3, seed=5, realisation=0)
    b = perturb_grades(model, ["cu", "au"], 0.3, seed=5, realisation=0)
    c = perturb_grades(model, ["cu", "au"], 0.3, seed=5, realisation=1)
    assert np.array_equal(a["cu"], b["cu"]) and not np.array_equal(a["cu"], c["cu"])
    assert np.array_equal(a["tonnage"], model["tonnage"])
    ore = model["cu"] > 0
    ratio = a["cu"][ore] / model["cu"][ore]
    assert np.std(np.log(ratio)) == pytest.approx(0.3, rel=0.05)
    assert np.mean(ratio) == pytest.approx(1.0, abs=0.03)
    assert np.all(a["cu"][~ore] == 0)


def test_a_given_model_with_realisations(tmp_path):
    from orepit.valuation.synthetic import default_economics, synthetic_deposit
    model = synthetic_deposit(3000, seed=2)
    write_model(model, tmp_path / "model.parquet")
    (tmp_path / "econ.toml").write_text(default_economics(model.block_size[2]).to_toml())
    text = STUDY.replace("synthetic = { blocks = 3000, seed = 1 }",
                         'model = "model.parquet"\neconomics = "econ.toml"\ngrade_sigma = 0.2\nperturb_seed = 3')
    cases = load_study(write_study(tmp_path, text)).cases()
    assert len(cases) == 12 and "seed" not in cases[0].labels
    m0, _ = case_model(cases[0].spec["deposit"])
    m1, _ = case_model(cases[2].spec["deposit"])            # realisation 1
    assert cases[2].labels["realisation"] == 1
    assert not np.array_equal(m0["cu"], m1["cu"]) and np.array_equal(m0["tonnage"], model["tonnage"])


def test_realisations_of_one_deposit_with_a_variogram(tmp_path):
    """With deposit.variogram, the realisations of a parameter set are one deposit with other grades:
    same blocks and tonnes, same seed label, grades that differ, each with a mean near the estimate."""
    from orepit.valuation.synthetic import synthetic_deposit
    (tmp_path / "vg.toml").write_text('[variogram]\nrange_m = [200.0, 200.0, 100.0]\n[cv]\ncu = 0.3\n')
    text = STUDY.replace("synthetic = { blocks = 3000, seed = 1 }",
                         'synthetic = { blocks = 3000, seed = 1 }\nvariogram = "vg.toml"')
    cases = load_study(write_study(tmp_path, text)).cases()
    r0, r1 = (next(c for c in cases if c.labels["realisation"] == r) for r in (0, 1))
    assert r0.labels["seed"] == r1.labels["seed"] == 1 and r0.case_id != r1.case_id
    m0, _ = case_model(r0.spec["deposit"])
    m1, _ = case_model(r1.spec["deposit"])
    estimate = synthetic_deposit(3000, seed=1)
    assert np.array_equal(m0["tonnage"], estimate["tonnage"]) and np.array_equal(m1["tonnage"], estimate["tonnage"])
    assert not np.array_equal(m0["cu"], m1["cu"]) and np.array_equal(m0["au"], estimate["au"])
    for m in (m0, m1):
        assert m["cu"].sum() == pytest.approx(estimate["cu"].sum(), rel=0.1)
    (tmp_path / "vg.toml").write_text('[variogram]\nrange_m = [-1.0, 200.0, 100.0]\n[cv]\ncu = 0.3\n')
    with pytest.raises(InputError, match="vg.toml line 2: variogram.range_m: ranges must be positive"):
        load_study(tmp_path / "study.toml")


def test_what_the_model_can_confirm_is_checked_when_the_study_is_read(tmp_path, capsys):
    """A variogram CV on a column the deposit lacks (the check ``orepit risk`` makes), and a perturbed
    column the given model lacks, stop the sweep before any case is sent: exit 2, file, line, key."""
    from orepit.cli import main
    (tmp_path / "vg.toml").write_text('[variogram]\nrange_m = 200.0\n[cv]\ncu = 0.3\ncuu = 0.3\n')
    path = write_study(tmp_path, STUDY.replace("seed = 1 }", 'seed = 1 }\nvariogram = "vg.toml"'))
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--workers", "1"]) == 2
    assert "vg.toml line 5: cv.cuu: unknown element: " in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    model_study(tmp_path, 'perturb_columns = ["cu", "zz"]')
    check_error(tmp_path, (tmp_path / "study.toml").read_text(), "study.toml line 10: deposit.perturb_columns: "
                                                                 "the block model has no column 'zz'")


def test_the_npv_cost_threshold_has_one_check_and_is_written_in_the_summary(tmp_path, capsys):
    from orepit.cli import main
    path = write_study(tmp_path, STUDY)
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--npv-cost-pct", "-5"]) == 2
    assert "--npv-cost-pct: -5.0 is outside [0, 100]" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()                       # refused before any work
    out = fake_results(tmp_path, load_study(path))
    with pytest.raises(InputError, match="npv_cost_pct: 101.0 is outside"):
        summarise(out, npv_cost_pct=101.0)
    summary = summarise(out, npv_cost_pct=2.5)
    assert pd.read_csv(out / "summary.csv").set_index("strategy").loc["green", "npv_cost_threshold_pct"] == 2.5
    assert summary.set_index("strategy").loc["green", "npv_cost_threshold_pct"] == 2.5
    assert "NPV cost under 2.5 % (npv_cost_pct)" in (out / "summary.md").read_text()
    check_error(tmp_path, STUDY.replace("realisations = 2", "realisations = 2\nnpv_cost_pct = -5"),
                "study.toml line 5: study.npv_cost_pct: -5 is outside [0, 100]")


def fake_results(folder: Path, study, cost_pct: float = 1.0) -> Path:
    """``folder/out`` holding made-up results of every case of ``study`` (no solve): green costs
    ``cost_pct`` % of npv's NPV for 10 % more metal; gaps: npv 2-3 %, green 8 %."""
    from orepit.study.sweep import write_case, write_manifest
    out = folder / "out"
    cases = study.cases()
    for c in cases:
        npv = 1e9 * c.labels["economics.elements.cu.price"] / 1e4 * (1 + 0.1 * c.labels["realisation"])
        green = c.labels["strategy"] == "green"
        row = {"case_id": c.case_id, **c.labels, "status": "feasible", "gap": 0.08 if green else 0.02 + 0.01 * c.labels["realisation"],
               "npv_economic": npv * (1 - cost_pct / 100 if green else 1), "npv_after_environment": npv,
               "metal_recovered": 1e6 * (1.1 if green else 1.0), "co2_tonnes": 1e7}
        write_case(out, c.case_id, [row])
    write_manifest(out, study, cases)
    return out


def test_the_summary_states_its_footing_and_the_optimality_gaps(tmp_path):
    """summary.md says what the spread is (plans re-optimised per case), how cases are weighed, the
    currency and discount rate, and whether green's NPV cost is within the plans' optimality gaps."""
    study = load_study(write_study(tmp_path, STUDY))
    summary = summarise(fake_results(tmp_path, study, cost_pct=1.0))
    text = (tmp_path / "out" / "summary.md").read_text()
    for part in ("| npv | 6 |", "| 2.0-3.0 |", "| green | 6 |", "| 8.0 |",
                 "millions of USD, discounted at 8 % per period",
                 "Each case's plan is optimised on its own parameters and grade realisation",
                 "not the spread of one fixed plan's outcomes",
                 "pool the grid points (economics.elements.cu.price: 3 values) with the 2 grade realisations",
                 "counts every grid point and realisation as equally likely",
                 "median NPV cost 1.00 %, within the plans' optimality gaps (green 8.0 %, npv 2.0-3.0 %), "
                 "i.e. solver slack"):
        assert part in text, part
    assert summary.set_index("strategy").loc["npv", ["gap_min_pct", "gap_max_pct"]].tolist() == \
        pytest.approx([2.0, 3.0])
    summarise(fake_results(tmp_path, study, cost_pct=9.0))
    assert "median NPV cost 9.00 %, beyond the plans' optimality gaps (green 8.0 %, npv 2.0-3.0 %)" \
        in (tmp_path / "out" / "summary.md").read_text()


def test_a_grid_over_a_green_switch_runs_npv_once(tmp_path, study_path):
    """plan.utilisation_floor changes green only: npv runs once per price and realisation (the very
    cases of the study without that key), counts once in its percentiles, and every green case
    pairs with its npv case."""
    study = load_study(write_study(tmp_path, STUDY + '"plan.utilisation_floor" = [0.5, 0.6]\n'))
    cases = study.cases()
    npv = [c for c in cases if c.labels["strategy"] == "npv"]
    assert len(cases) == len({c.case_id for c in cases}) == 18 and len(npv) == 6
    assert not any("plan.utilisation_floor" in c.labels for c in npv)
    assert {c.case_id for c in npv} == {c.case_id for c in load_study(study_path).cases()
                                        if c.labels["strategy"] == "npv"}
    summary = summarise(fake_results(tmp_path, study)).set_index("strategy")
    assert (summary.loc["npv", "cases"], summary.loc["green", "cases"], summary.loc["green", "pairs"]) == (6, 12, 12)
    assert summary.loc["green", "p_more_metal"] == 1.0


def model_study(folder: Path, extra: str = "") -> Path:
    """STUDY on a given model (model.parquet, econ.toml, grade_sigma 0.2), one price, one realisation."""
    from orepit.valuation.synthetic import default_economics, synthetic_deposit
    model = synthetic_deposit(3000, seed=2)
    write_model(model, folder / "model.parquet")
    (folder / "econ.toml").write_text(default_economics(model.block_size[2]).to_toml())
    text = STUDY.replace("synthetic = { blocks = 3000, seed = 1 }",
                         f'model = "model.parquet"\neconomics = "econ.toml"\ngrade_sigma = 0.2\n{extra}')
    text = text.replace("realisations = 2", "realisations = 1").replace("[7000.0, 8800.0, 10500.0]", "[8800.0]")
    return write_study(folder, text)


def test_cli_reports_a_bad_study_with_exit_status_2(tmp_path, capsys):
    from orepit.cli import main
    path = write_study(tmp_path, STUDY.replace("periods = 12", "periods = 0"))
    assert main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 2
    assert "study.toml line 10: plan.periods" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_serial_case_after_other_highs_solves_in_the_process(study_path):
    """HiGHS keeps one thread pool per process: a case (threads = 1) after a solve with HiGHS' own
    thread count still solves, and a later solve with another count too."""
    from orepit.study.pipeline import run_study
    from orepit.planning.strategies import ScheduleSetup
    from orepit.valuation.synthetic import default_economics, synthetic_deposit

    model = synthetic_deposit(3000, seed=1)

    def solve(threads):
        study = run_study(model, default_economics(model.block_size[2]), None, ["npv"],
                          ScheduleSetup(target_life=6, threads=threads), frontier_points=0, progress=False)
        return study.results["npv"].plan.result.status

    assert solve(None) == "feasible"
    case = load_study(study_path).cases()[0]
    assert run_case(case.spec)[0]["status"] == "feasible"
    assert solve(2) == "feasible"


# ---------------------------------------------------------------------------------------------
# on a cluster

def test_workers_get_single_threads_and_the_shared_numba_cache(tmp_path):
    from distributed import Client
    cache = str(tmp_path / "numba")
    assert worker_environment(cache)["NUMBA_CACHE_DIR"] == cache
    with local_cluster(1, numba_cache=cache) as cluster, Client(cluster) as client:
        env = client.run(lambda: {k: os.environ.get(k) for k in ("NUMBA_NUM_THREADS", "NUMBA_CACHE_DIR",
                                                                "OMP_NUM_THREADS")})
    (got,) = env.values()
    assert got == {"NUMBA_NUM_THREADS": "1", "NUMBA_CACHE_DIR": cache, "OMP_NUM_THREADS": "1"}


@pytest.mark.slow
def test_sweep_on_two_workers_equals_serial_runs(sweep_path, serial, tmp_path):
    from distributed import Client
    out = tmp_path / "out"
    with local_cluster(2) as cluster, Client(cluster) as client:
        report = run_sweep(sweep_path, out, client=client, progress=False)
    assert (report.cases, report.computed, report.skipped, report.failed) == (12, 12, 0, {})
    results_equal(out, serial)
    workers = {pd.read_parquet(p)["worker"].iloc[0] for p in (out / "cases").glob("*.parquet")}
    assert len(workers) == 2                                  # both workers took cases
    log = [line.split("\t")[0] for line in (out / "computed.log").read_text().splitlines()]
    assert sorted(log) == sorted(serial)
    # a second run finds everything done and computes nothing (no cluster is even started)
    again = run_sweep(sweep_path, out, progress=False)
    assert (again.computed, again.skipped) == (0, 12)
    # summary: percentiles over the serial rows, files and charts written
    summary = summarise(out)
    write_sweep_charts(out, summary)
    rows = pd.DataFrame([r for rows in serial.values() for r in rows])
    for strategy in ("npv", "green"):
        mine = rows[rows["strategy"] == strategy]
        got = summary.set_index("strategy").loc[strategy]
        assert got["cases"] == 6
        for q in (10, 50, 90):
            assert got[f"npv_p{q}"] == pytest.approx(np.percentile(mine["npv_economic"], q))
            assert got[f"metal_p{q}"] == pytest.approx(np.percentile(mine["metal_recovered"], q))
            assert got[f"co2_p{q}"] == pytest.approx(np.percentile(mine["co2_tonnes"], q))
    keys = ["realisation", "economics.elements.cu.price"]
    paired = rows[rows.strategy == "green"].merge(rows[rows.strategy == "npv"], on=keys, suffixes=("", "_b"))
    cost = 100 * (paired["npv_economic_b"] - paired["npv_economic"]) / paired["npv_economic_b"].abs()
    more = paired["metal_recovered"] > paired["metal_recovered_b"]
    green = summary.set_index("strategy").loc["green"]
    assert green["p_more_metal"] == pytest.approx(more.mean())
    assert green["p_more_metal_within_cost"] == pytest.approx((more & (cost < 5.0)).mean())
    for name in ("summary.csv", "summary.md", "charts/npv_vs_metal.png", "charts/distributions.png",
                 "charts/green_tradeoff.png"):
        assert (out / name).stat().st_size > 100, name
    assert "| green | 6 |" in (out / "summary.md").read_text()


@pytest.mark.slow            # 32 s: CI runs it after the suite (`.ci/run`), keeping the suite under 15 min
def test_a_worker_killed_mid_sweep_changes_nothing(sweep_path, serial, tmp_path):
    from distributed import Client
    out = tmp_path / "out"
    killed = {}
    with local_cluster(2) as cluster, Client(cluster) as client:
        def kill_one(case_id, done, total):
            if killed:
                return
            busy = {w: tasks for w, tasks in client.processing().items() if tasks}
            pids = client.run(os.getpid)
            victim = next(iter(busy)) if busy else next(iter(pids))
            killed.update(address=victim, pid=pids[victim], busy=bool(busy.get(victim)), done=done)
            os.kill(pids[victim], signal.SIGKILL)

        report = run_sweep(sweep_path, out, client=client, progress=False, on_result=kill_one)
        alive = client.run(os.getpid)
    assert killed["busy"] and killed["done"] < 12             # it died holding a case, mid-sweep
    assert killed["pid"] not in alive.values()
    assert (report.computed, report.failed) == (12, {})
    log = [line.split("\t")[0] for line in (out / "computed.log").read_text().splitlines()]
    assert sorted(log) == sorted(serial)                       # every case exactly once
    results_equal(out, serial)


def _cli(study: Path, out: Path, *extra):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    # a child inherits an ignored SIGINT (Dask clusters earlier in the run may leave it ignored in this
    # process), and then Ctrl-C would not reach the CLI: give the child the default disposition
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return subprocess.Popen([sys.executable, "-m", "orepit", "sweep", str(study), "--out", str(out), *extra],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True)
    finally:
        signal.signal(signal.SIGINT, before)


def _stop_group(proc) -> None:
    """Stop what is left of a CLI run started in its own session (its worker processes)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@pytest.mark.slow            # 34 s: CI runs it after the suite (`.ci/run`), keeping the suite under 15 min
def test_an_interrupted_sweep_resumes_with_only_the_missing_cases(sweep_path, serial, tmp_path):
    out = tmp_path / "out"
    proc = _cli(sweep_path, out, "--workers", "1", "--quiet", "--no-summary")
    try:
        deadline = time.monotonic() + 120
        while len(finished_cases(out)) < 3 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        for _ in range(60):                                    # Ctrl-C, again until it stops (a loaded
            proc.send_signal(signal.SIGINT)                    # machine may deliver the first one late)
            try:
                proc.communicate(timeout=1)
                break
            except subprocess.TimeoutExpired:
                continue
    finally:
        _stop_group(proc)
    first = finished_cases(out)
    assert 3 <= len(first) < 12
    assert not list((out / "cases").glob(".*"))               # no partial file left behind
    mtimes = {cid: (out / "cases" / f"{cid}.parquet").stat().st_mtime_ns for cid in first}
    logged = len((out / "computed.log").read_text().splitlines())

    proc = _cli(sweep_path, out, "--workers", "2", "--json")
    try:
        stdout, stderr = proc.communicate(timeout=180)
    finally:
        _stop_group(proc)
    assert proc.returncode == 0, stderr.decode()
    payload = json.loads(stdout)
    assert (payload["cases"], payload["skipped"], payload["computed"]) == (12, len(first), 12 - len(first))
    second = [line.split("\t")[0] for line in (out / "computed.log").read_text().splitlines()[logged:]]
    assert sorted(second) == sorted(set(serial) - first)      # only the missing cases were computed
    assert all((out / "cases" / f"{cid}.parquet").stat().st_mtime_ns == t for cid, t in mtimes.items())
    results_equal(out, serial)
    assert {row["strategy"] for row in payload["summary"]} == {"npv", "green"}


def test_a_worker_that_imported_numba_before_its_environment_still_compiles():
    """A local worker gets its environment (one numba thread) after its process started, and the
    ``orepit`` script, the program's main module, is imported again there first, numba with it: the
    task reads numba's settings again before the thread pool starts, so later compilations agree."""
    code = ("import os\nimport numba\n"                          # numba's settings read: 2 threads
            "os.environ['NUMBA_NUM_THREADS'] = '1'\n"             # the worker's environment arrives
            "from orepit.study.sweep import limit_numba_threads\n"
            "limit_numba_threads(1)\n"
            "add = numba.njit(lambda x: x + 1)\n"
            "print(add(1), numba.get_num_threads(), numba.config.NUMBA_NUM_THREADS)\n")
    env = {**os.environ, "NUMBA_NUM_THREADS": "2"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert (proc.returncode, proc.stdout.split()) == (0, ["2", "1", "1"]), proc.stderr[-600:]


def test_a_failing_case_is_reported_and_retried_next_time(tmp_path):
    from distributed import Client

    study = load_study(model_study(tmp_path))
    (tmp_path / "model.parquet").unlink()                       # gone after the study was read
    out = tmp_path / "out"
    with local_cluster(1) as cluster, Client(cluster) as client:
        report = run_sweep(study, out, client=client, progress=False)
    assert (report.cases, report.computed, len(report.failed)) == (2, 0, 2)
    assert all("model.parquet" in message for message in report.failed.values())
    assert finished_cases(out) == set()                        # nothing written: the next run retries
    failed = (out / "failed.log").read_text().splitlines()
    assert sorted(line.split("\t")[0] for line in failed) == sorted(report.failed)


def test_a_minelib_instance_with_perturbed_grades(minelib, tmp_path):
    text = f"""
[study]
strategies = ["npv"]
realisations = 2

[deposit]
model = "{minelib / 'newman1'}"
economics = "{ROOT / 'examples' / 'newman1.toml'}"
environment = "{ROOT / 'examples' / 'environment_minelib.toml'}"
block_size = [20.0, 20.0, 20.0]
grade_sigma = 0.2

[plan]
target_life = 6
"""
    cases = load_study(write_study(tmp_path, text)).cases()
    assert [c.labels["realisation"] for c in cases] == [0, 1]
    rows = [run_case(c.spec)[0] for c in cases]
    assert [r["status"] for r in rows] == ["feasible", "feasible"]
    assert rows[0]["npv"] != rows[1]["npv"]                 # the realisations differ
    model, precedence = case_model(cases[0].spec["deposit"])
    assert precedence is not None and model.n_blocks == precedence.n_nodes
