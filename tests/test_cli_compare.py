"""`orepit compare` and `orepit demo`: JSON contract, results folder checked block by block, one KPI footing."""
from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from orepit.cli import main

KPI_KEYS = ["npv", "npv_economic", "npv_after_environment", "objective", "metal_recovered",
            "low_grade_tonnes_recovered", "metal_sterilised", "metal_left_in_pit", "mining_recovery_rate",
            "ore_to_dump_tonnes", "co2_tonnes", "life_of_mine_periods", "metal_balance_residual"]


@pytest.mark.slow
def test_compare_kd_json(tmp_path, minelib, capsys):
    root = __import__("pathlib").Path(__file__).resolve().parent.parent
    code = main(["compare", str(minelib / "kd"), "--economics", str(root / "examples" / "kd_green.toml"),
                 "--environment", str(root / "examples" / "environment_minelib.toml"),
                 "--discount-rate", "0.15", "--out", str(tmp_path / "kd"), "--no-report", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert set(out["strategies"]) == {"high-grade", "npv", "green"}
    for name, kpis in out["strategies"].items():
        for key in KPI_KEYS:
            assert key in kpis, (name, key)
        assert kpis["npv"] == kpis["npv_economic"] and kpis["metal_left_in_pit"] == 0.0
        assert abs(kpis["metal_balance_residual"]) <= 1e-9 * kpis["deposit_ore_metal"]
    assert main(["check", str(tmp_path / "kd")]) == 0                    # every block schedule, from the files
    assert "feasible (0 violations)" in capsys.readouterr().out
    green = out["strategies"]["green"]
    assert green["ore_to_dump_tonnes"] == pytest.approx(0, abs=1e-6) and green["mining_recovery_rate"] >= 0.95
    assert out["strategies"]["high-grade"]["ore_to_dump_tonnes"] > 0
    npv, hg = out["strategies"]["npv"], out["strategies"]["high-grade"]
    assert green["metal_recovered"] > npv["metal_recovered"] > hg["metal_recovered"]
    assert green["npv"] >= green["npv_budget_target"] == pytest.approx(0.97 * npv["npv"])
    table = pd.read_csv(tmp_path / "kd" / "kpis_table.csv", index_col=0)
    assert list(table.columns) == ["high-grade", "npv", "green"]
    md = (tmp_path / "kd" / "kpis.md").read_text()        # written without the report too, as the report writes it
    assert md.startswith("# KPIs: ") and "Footing: money in" in md and "\n| KPI |" in md


def test_demo_writes_a_results_folder(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "orepit", "demo", "--blocks", "4000",
                           "--out", str(tmp_path / "demo"), "--no-report", "--json", "--quiet"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("\n") == 1 and "HiGHS" not in proc.stderr       # one JSON object, no banner
    out = json.loads(proc.stdout)
    assert out["frontier_points"] >= 4
    for name in ("summary.json", "blocks.parquet", "shells.csv", "gradetonnage.csv", "periods.csv", "kpis.csv",
                 "frontier.csv"):
        assert (tmp_path / "demo" / name).exists(), name
    periods = pd.read_csv(tmp_path / "demo" / "periods.csv")
    for _, rows in periods.groupby("strategy"):
        bal = rows["stockpile_balance_t"].to_numpy()
        prev = [0.0, *bal[:-1]]
        expected = prev + rows["stockpile_in_t"] - rows["stockpile_out_t"] - rows["stockpile_lost_t"]
        assert abs(expected - bal).max() <= 1e-6 * max(1.0, bal.max())


def test_compare_bad_input_exits_2(tmp_path, capsys):
    assert main(["compare", "--strategies", "green,bogus", "--json"]) == 2
    assert "unknown strategy bogus" in json.loads(capsys.readouterr().out)["error"]
    (tmp_path / "e.toml").write_text("mining_cost = 1.0\nbogus_key = 3\n")
    assert main(["compare", "--economics", str(tmp_path / "e.toml"), "--blocks", "2000", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "e.toml line 2: unknown key 'bogus_key'" in err


def test_compare_on_a_csv_exported_from_elsewhere(tmp_path, capsys):
    """The example CSV of centroids (no rock, work-index or sulphur column) with its example files:
    green recovers the most metal within its NPV budget, dumps no ore, and every plan checks."""
    root = __import__("pathlib").Path(__file__).resolve().parent.parent / "examples"
    code = main(["compare", str(root / "porphyry_blocks.csv"), "--economics", str(root / "economics_porphyry_blocks.toml"),
                 "--environment", str(root / "environment_porphyry_blocks.toml"), "--out", str(tmp_path / "p"),
                 "--no-report", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    green, npv, hg = (out["strategies"][s] for s in ("green", "npv", "high-grade"))
    assert green["metal_recovered"] > npv["metal_recovered"] > hg["metal_recovered"]
    assert green["npv"] >= 0.97 * npv["npv"] and green["ore_to_dump_tonnes"] == 0.0
    assert green["mining_recovery_rate"] >= 0.95 and hg["ore_to_dump_tonnes"] > 0
    assert main(["check", str(tmp_path / "p")]) == 0


def test_the_plans_do_not_depend_on_the_order_of_the_files_rows(tmp_path, capsys):
    """The example CSV and the same blocks exported in another row order give the same plans: the
    blocks are read in grid order (`orepit.data.intake.in_block_order`)."""
    root = __import__("pathlib").Path(__file__).resolve().parent.parent / "examples"
    table = pd.read_csv(root / "porphyry_blocks.csv")
    shuffled = tmp_path / "shuffled.csv"
    table.sample(frac=1.0, random_state=3).to_csv(shuffled, index=False)
    kpis = []
    for path in (root / "porphyry_blocks.csv", shuffled):
        code = main(["compare", str(path), "--economics", str(root / "economics_porphyry_blocks.toml"),
                     "--out", str(tmp_path / path.stem), "--no-report", "--quiet", "--json"])
        assert code == 0
        kpis.append(json.loads(capsys.readouterr().out)["strategies"])
    assert kpis[0] == kpis[1]
    assert set(kpis[0]) == {"high-grade", "npv", "green"}
    blocks = [pd.read_parquet(tmp_path / stem / "blocks.parquet") for stem in ("porphyry_blocks", "shuffled")]
    pd.testing.assert_frame_equal(*blocks)


def test_more_bound_prices_give_a_tighter_bound(tmp_path, capsys):
    bounds = {}
    for prices in ("4", "40"):
        out = tmp_path / prices
        code = main(["compare", "--blocks", "4000", "--strategies", "npv", "--bound-prices", prices, "--out", str(out),
                     "--no-report", "--json"])
        capsys.readouterr()
        assert code == 0
        summary = json.loads((out / "summary.json").read_text())["strategies"]["npv"]
        assert 4 <= summary["stages"]["bound"]["iterations"] <= int(prices)
        bounds[prices] = (summary["bound"], summary["objective"])
    assert bounds["40"][1] == bounds["4"][1]                       # the same plan
    assert bounds["4"][1] <= bounds["40"][0] < bounds["4"][0]
    assert main(["compare", "--blocks", "4000", "--bound-prices", "0", "--json"]) == 2
    assert "argument --bound-prices: must be at least 1, got 0" in json.loads(capsys.readouterr().out)["error"]
