"""`orepit.data.files.open_model`: the one loader of the command line's MODEL argument."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from solvers.errors import InputError

from orepit.cli import main
from orepit.data.datasets import ENV_VAR
from orepit.data.files import open_model, write_model
from orepit.valuation.synthetic import synthetic_deposit


@pytest.mark.parametrize("form", ["folder", "prefix", "problem file", "name"])
def test_a_minelib_instance_in_every_form(minelib, monkeypatch, form):
    monkeypatch.setenv(ENV_VAR, str(minelib))
    path = {"folder": minelib / "kd", "prefix": minelib / "kd" / "kd", "problem file": minelib / "kd" / "kd.cpit",
            "name": "kd"}[form]
    source = open_model(path)
    assert source.instance.name == "kd" and source.minelib("x") is source.instance
    assert "model" not in vars(source)                       # the .blocks are read only when asked for
    assert source.model.n_blocks == 14153 and source.model.block_size == (20.0, 20.0, 15.0)


def test_a_blocks_file_with_and_without_its_instance(minelib, tmp_path):
    beside = open_model(minelib / "newman1" / "newman1.blocks", block_size=(10, 10, 10))
    assert beside.instance.name == "newman1" and beside.model.block_size == (10.0, 10.0, 10.0)
    alone = tmp_path / "newman1.blocks"
    shutil.copy(minelib / "newman1" / "newman1.blocks", alone)
    source = open_model(alone)
    assert source.instance is None and source.model.n_blocks == beside.model.n_blocks
    with pytest.raises(InputError, match="orepit pit needs a MineLib instance") as err:
        source.minelib("orepit pit")
    assert str(err.value).startswith("newman1.blocks: ")


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_block_model_files(tmp_path, suffix):
    model = synthetic_deposit(dims=(6, 5, 4), seed=3)
    write_model(model, tmp_path / f"d{suffix}")
    source = open_model(tmp_path / f"d{suffix}", block_size=model.block_size if suffix == ".csv" else None)
    assert source.instance is None
    assert source.model.n_blocks == model.n_blocks
    np.testing.assert_allclose(source.model["cu"], model["cu"])
    assert source.model.block_size == pytest.approx(model.block_size)   # CSV: the given one


@pytest.mark.parametrize("path, message", [
    ("missing.parquet", "missing.parquet: file not found"),
    ("no/such/folder", "no/such/folder: no such file or folder"),
    ("nosuchinstance", "nosuchinstance: no such file or folder, nor a MineLib instance of that name"),
])
def test_what_is_not_a_model_is_named(tmp_path, monkeypatch, path, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as err:
        open_model(path)
    assert str(err.value).startswith(message)


def test_every_verb_reads_model_through_it(minelib, tmp_path, capsys):
    """Verbs that took only block-model files now take an instance, and instance verbs a name."""
    assert main(["gt", str(minelib / "kd"), "--cutoffs", "0,0.5", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"]["tonnes"][0] > 0
    model = tmp_path / "d.parquet"
    write_model(synthetic_deposit(dims=(6, 5, 4), seed=3), model)
    assert main(["info", str(model), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["blocks"] == 6 * 5 * 4
    for verb in ("pit", "shells"):
        assert main([verb, str(model), "--json"]) == 2
        assert f"orepit {verb} on a block-model file needs --economics" in json.loads(capsys.readouterr().out)["error"]
