"""CLI verbs value, gt and synth (in process, through orepit.cli.main)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from orepit.cli import main
from orepit.data.files import read_model

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _json(capsys, argv, status=0):
    code = main(argv + ["--json"])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == status, out
    return json.loads(out[-1])


def test_synth_value_gt_round_trip(tmp_path, capsys):
    model, econ, valued, gt = (tmp_path / n for n in ("d.parquet", "e.toml", "v.parquet", "gt.csv"))
    out = _json(capsys, ["synth", "--blocks", "2e3", "--seed", "7", "--out", str(model), "--economics-out", str(econ)])
    assert out["blocks"] == read_model(model).n_blocks
    out = _json(capsys, ["value", str(model), "--economics", str(econ), "--green", "--out", str(valued)])
    v = read_model(valued)
    for col in ("value_mill_usd", "value_stockpile_usd", "value_dump_usd", "env_cost_mill_usd", "net_mill_usd",
                "haul_co2_dump_kg", "paf_cost_usd"):
        assert col in v
    np.testing.assert_allclose(v["net_dump_usd"], v["value_dump_usd"] - v["env_cost_dump_usd"])
    assert v.block_size == read_model(model).block_size
    out = _json(capsys, ["gt", str(valued), "--cutoffs", "0:1:0.25", "--grade", "cu", "--out", str(gt)])
    table = pd.read_csv(gt)
    assert table["cutoff"].tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert out["rows"]["tonnes"][0] == pytest.approx(float(v["tonnage"].sum()))


def test_value_minelib_newman1(instance, tmp_path, capsys):
    out_path = tmp_path / "n.csv"
    _json(capsys, ["value", f"{instance('newman1')}.blocks", "--economics", str(EXAMPLES / "newman1.toml"),
                   "--out", str(out_path)])
    t = pd.read_csv(out_path)
    ok = t["rock"].astype(str) != "0"
    assert (t["value_mill_usd"] - t["value_proc"])[ok].abs().max() < 1e-3
    assert (t["value_dump_usd"] - t["value_extracc"]).abs().max() < 1e-3


def test_gt_minelib_kd(instance, capsys):
    out = _json(capsys, ["gt", f"{instance('kd')}.blocks", "--cutoffs", "0,0.5"])
    assert out["grade"] == "cu" and out["rows"]["tonnes"][0] > out["rows"]["tonnes"][1] > 0


def test_bad_inputs_exit_2_and_name_the_problem(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("currency = 'USD'\nprice = 3\n")
    model = tmp_path / "d.parquet"
    assert main(["synth", "--dims", "6", "6", "3", "--out", str(model)]) == 0
    capsys.readouterr()
    out = _json(capsys, ["value", str(model), "--economics", str(bad), "--out", str(tmp_path / "v.parquet")], 2)
    assert "bad.toml line 2" in out["error"] and "price" in out["error"]
    assert not (tmp_path / "v.parquet").exists()
    out = _json(capsys, ["gt", str(model), "--cutoffs", "1:0:0.1"], 2)
    assert "cut-offs" in out["error"]
    out = _json(capsys, ["gt", str(tmp_path / "missing.parquet"), "--cutoffs", "0:1:0.1"], 2)
    assert "missing.parquet" in out["error"]
    out = _json(capsys, ["synth", "--blocks", "ten", "--out", str(tmp_path / "x.parquet")], 2)
    assert "--blocks" in out["error"]
    out = _json(capsys, ["value", str(model), "--economics", str(EXAMPLES / "economics_default.toml"),
                         "--out", str(tmp_path / "v.txt")], 2)
    assert ".parquet or .csv" in out["error"]
    out = _json(capsys, ["synth", "--blocks", "2e3", "--out", str(tmp_path / "s.vti")], 2)   # writable, but not a table
    assert ".parquet or .csv" in out["error"] and not (tmp_path / "s.vti").exists()
