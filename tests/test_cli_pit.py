"""CLI verbs pit, shells and prec."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from orepit.cli import main


def test_pit_instance_json_and_solution_file(minelib, capsys, tmp_path):
    out_file = tmp_path / "kd.sol"
    code = main(["pit", str(minelib / "kd"), "--json", "--out", str(out_file)])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["objective"] == pytest.approx(652_195_036.915, rel=1e-6)
    assert out["blocks_in_pit"] == 12_154 and out["seconds"] >= 0
    from orepit.data.minelib import read_upit_solution
    assert read_upit_solution(out_file).size == 12_154
    assert main(["check", str(minelib / "kd"), str(out_file), "--problem", "upit", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["feasible"] is True


def test_pit_values_a_published_model_from_its_prices_costs_and_recoveries(minelib, capsys):
    """newman1's blocks as a block-model file, valued from its readme's prices, costs and recoveries
    (examples/newman1.toml) with its .prec's plus pattern: MineLib's published ultimate pit to 1e-6."""
    economics = Path(__file__).resolve().parents[1] / "examples" / "newman1.toml"
    code = main(["pit", str(minelib / "newman1" / "newman1.blocks"), "--economics", str(economics),
                 "--pattern", "plus", "--block-size", "20", "20", "20", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["arcs"] == 3922              # the arcs of newman1.prec
    assert out["objective"] == pytest.approx(26_086_899.026, rel=1e-6) and out["blocks_in_pit"] == 1059


def test_pit_text_output(minelib, capsys):
    assert main(["pit", str(minelib / "newman1")]) == 0
    text = capsys.readouterr().out
    assert "objective: 26,086,899.02" in text and "blocks_in_pit: 1059" in text


def test_pit_grid(tmp_path, capsys):
    values = -np.ones(4 * 3 * 3)
    values[1 + 4 * 1] = 20.0                     # a rich block in the bottom bench
    path = tmp_path / "grid.txt"
    path.write_text("\n".join(f"{v:g}" for v in values) + "\n")
    code = main(["pit", "--grid", str(path), "--dims", "4", "3", "3", "--block-size", "10", "10", "10",
                 "--slope", "45", "--benches", "2", "--json"])
    out = json.loads(capsys.readouterr().out)
    # the block, its plus pattern (5) and the plus of those two benches up (13 cells, clipped by the grid)
    assert code == 0 and out["blocks_in_pit"] > 1 and out["objective"] == 20 - (out["blocks_in_pit"] - 1)


def test_pit_and_shells_read_every_grid_format_alike(tmp_path, capsys):
    rng = np.random.default_rng(11)
    values = np.round(rng.normal(-1.0, 4.0, 6 * 5 * 4), 2)
    (tmp_path / "v.txt").write_text("\n".join(map(repr, values.tolist())) + "\n")
    np.save(tmp_path / "v.npy", values.reshape(4, 5, 6))
    import pyarrow as pa
    import pyarrow.parquet as pq
    pq.write_table(pa.table({"value": values}), tmp_path / "v.parquet")
    seen = []
    for name in ("v.txt", "v.npy", "v.parquet"):
        grid = ["--grid", str(tmp_path / name), "--dims", "6", "5", "4", "--json"]
        assert main(["pit", *grid, "--slope", "45", "--benches", "2"]) == 0
        pit = json.loads(capsys.readouterr().out)
        assert main(["shells", *grid, "--factors", "0.5,1,2", "--pattern", "plus"]) == 0
        shells = json.loads(capsys.readouterr().out)
        seen.append((pit["objective"], pit["blocks_in_pit"], [r["blocks"] for r in shells["table"]]))
    assert seen[0] == seen[1] == seen[2] and seen[0][1] > 0


def test_pit_grid_bad_value_names_line(tmp_path, capsys):
    path = tmp_path / "bad.txt"
    path.write_text("1\n2\nabc\n4\n")
    code = main(["pit", "--grid", str(path), "--dims", "2", "2", "1", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 2 and "bad.txt line 3" in out["error"] and "abc" in out["error"]
    path.write_text("1\n2\n3\n")
    assert main(["pit", "--grid", str(path), "--dims", "2", "2", "1", "--json"]) == 2
    assert "3 values for a grid of 4" in json.loads(capsys.readouterr().out)["error"]
    assert main(["pit", "--json"]) == 2
    capsys.readouterr()


def test_shells_instance_csv(minelib, tmp_path, capsys):
    out_file = tmp_path / "table.csv"
    code = main(["shells", str(minelib / "newman1"), "--factors", "0.5:1.5:0.25", "--mining-capacity", "1e6",
                 "--out", str(out_file), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["shells"] == 5 and out["discount_rate"] == 0.08
    rows = out["table"]
    assert [r["revenue_factor"] for r in rows] == [0.5, 0.75, 1.0, 1.25, 1.5]
    assert rows[2]["value"] == pytest.approx(26_086_899.026, rel=1e-9)
    assert all(a["blocks"] <= b["blocks"] for a, b in zip(rows, rows[1:]))
    assert all(r["worst_case_dv"] <= r["best_case_dv"] + 1e-6 for r in rows)
    import pandas as pd
    assert len(pd.read_csv(out_file)) == 5


def test_shells_discount_rate_is_the_option_else_the_instance_else_the_default(minelib, tmp_path, capsys):
    """kd's .pcpsp says 0.15 (newman1's 0.08 is also `ScheduleSetup`'s, so it cannot tell them apart)."""
    from orepit.planning.strategies import ScheduleSetup
    (tmp_path / "v.txt").write_text("1\n-1\n" * 4)
    for argv, rate in ([str(minelib / "kd")], 0.15), ([str(minelib / "kd"), "--discount-rate", "0.05"], 0.05), \
            (["--grid", str(tmp_path / "v.txt"), "--dims", "2", "2", "2"], ScheduleSetup.discount_rate):
        assert main(["shells", *argv, "--factors", "1", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["discount_rate"] == rate, argv
    assert ScheduleSetup.discount_rate not in (0.15, 0.05)


def test_shells_grid(tmp_path, capsys):
    values = np.linspace(-2, 3, 3 * 3 * 2)
    path = tmp_path / "v.txt"
    path.write_text("\n".join(map(str, values)))
    code = main(["shells", str(path), "--dims", "3", "3", "2", "--factors", "0.5,1,2", "--pattern", "plus",
                 "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and len(out["table"]) == 3


def test_prec_reproduces_newman1_and_needs_block_size(minelib, tmp_path, capsys):
    out_file = tmp_path / "n.prec"
    code = main(["prec", str(minelib / "newman1" / "newman1.blocks"), "--pattern", "plus", "--out", str(out_file),
                 "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["arcs"] == 3922
    ref = (minelib / "newman1" / "newman1.prec").read_text().replace("\r", "")
    assert out_file.read_text() == ref
    code = main(["prec", str(minelib / "newman1" / "newman1.blocks"), "--slope", "45", "--out", str(out_file),
                 "--json"])
    assert code == 2 and "block-size" in json.loads(capsys.readouterr().out)["error"]


def test_prec_kd(minelib, tmp_path, capsys):
    out_file = tmp_path / "kd.prec"
    code = main(["prec", str(minelib / "kd" / "kd.blocks"), "--block-size", "20", "20", "15", "--slope", "45",
                 "--benches", "8", "--out", str(out_file), "--json"])
    assert code == 0 and json.loads(capsys.readouterr().out)["arcs"] == 219_778
