"""``orepit convert`` (CSV -> OMF -> CSV gives the same table; a converted model gives the same pit)
and ``orepit init`` (elements guessed from column names; on the demo deposit the starter file reads
back as the demo's own economics, and compare accepts it unchanged)."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from _example_model import COLUMNS, EXAMPLE
from orepit.cli import main
from orepit.data.starter import guess_elements
from orepit.valuation.economics import Economics
from orepit.valuation.synthetic import default_economics

ECONOMICS = EXAMPLE.parent / "economics_porphyry_blocks.toml"


def run_json(argv, capsys):
    code = main(argv + ["--json"])
    return code, json.loads(capsys.readouterr().out)


def test_csv_to_omf_to_csv_gives_the_same_table(tmp_path, capsys):
    omf, back, direct = (str(tmp_path / n) for n in ("m.omf", "back.csv", "direct.csv"))
    assert run_json(["convert", str(EXAMPLE), omf, "--columns", COLUMNS], capsys)[0] == 0
    assert run_json(["convert", omf, back], capsys)[0] == 0
    assert run_json(["convert", str(EXAMPLE), direct, "--columns", COLUMNS], capsys)[0] == 0
    assert open(back).read() == open(direct).read()
    table = pd.read_csv(back)
    source = pd.read_csv(EXAMPLE)
    source = source.iloc[np.lexsort((source["XC"], source["YC"], source["ZC"]))]     # blocks in grid order
    assert len(table) == len(source) and (table["x"].to_numpy() == source["XC"].to_numpy()).all()
    assert (table["cu"].to_numpy() == source["CU"].to_numpy()).all()


def test_a_converted_model_gives_the_same_pit(tmp_path, capsys):
    economics = tmp_path / "e.toml"
    economics.write_text(ECONOMICS.read_text().replace('"CU"', '"cu"').replace('"AU"', '"au"'))
    omf = str(tmp_path / "m.omf")
    assert run_json(["convert", str(EXAMPLE), omf, "--columns", COLUMNS], capsys)[0] == 0
    code, csv_pit = run_json(["pit", str(EXAMPLE), "--columns", COLUMNS, "--economics", str(economics)], capsys)
    assert code == 0, csv_pit
    code, omf_pit = run_json(["pit", omf, "--economics", str(economics)], capsys)
    assert code == 0, omf_pit
    assert omf_pit["blocks_in_pit"] == csv_pit["blocks_in_pit"] > 0
    assert omf_pit["objective"] == pytest.approx(csv_pit["objective"], rel=1e-12)


def test_convert_writes_vtk_and_refuses_bad_files(tmp_path, capsys):
    code, out = run_json(["convert", str(EXAMPLE), str(tmp_path / "m.vti")], capsys)
    assert code == 0 and out["blocks"] == 3641 and (tmp_path / "m.vti").stat().st_size > 0
    code, out = run_json(["convert", str(EXAMPLE), str(tmp_path / "m.xlsx")], capsys)
    assert code == 2 and "unknown block model format" in out["error"]
    code, out = run_json(["convert", str(tmp_path / "m.vti"), str(tmp_path / "n.csv")], capsys)
    assert code == 2 and ".vti files are written, not read" in out["error"]
    assert not (tmp_path / "n.csv").exists()


@pytest.mark.parametrize("columns, expected", [
    (["XC", "CU", "AU", "DENSITY"], [("cu", "CU", "%"), ("au", "AU", "g/t")]),
    (["cu_pct", "Au_ppm", "ag_gpt", "sulphur", "S", "rock"], [("cu", "cu_pct", "%"), ("au", "Au_ppm", "ppm"),
                                                              ("ag", "ag_gpt", "g/t")]),
    (["MO%", "Zn", "tonnage", "bwi"], [("mo", "MO%", "%"), ("zn", "Zn", "%")]),
    (["grade", "value", "x"], []),
])
def test_elements_are_guessed_from_column_names(columns, expected):
    assert [(e.name, e.column, e.grade_unit) for e in guess_elements(columns)] == expected


def test_init_on_the_demo_deposit_writes_its_economics_and_compare_accepts_it(tmp_path, capsys):
    deposit, params = str(tmp_path / "d.parquet"), tmp_path / "params.toml"
    assert run_json(["synth", "--blocks", "3000", "--seed", "4", "--out", deposit], capsys)[0] == 0
    code, out = run_json(["init", deposit, "--out", str(params)], capsys)
    assert code == 0 and out["elements"] == {"cu": {"column": "cu", "grade_unit": "%"},
                                             "au": {"column": "au", "grade_unit": "g/t"}}
    text = params.read_text()
    assert "mining_cost = 2.0" in text and "# reference_bench =" in text and "USD/t milled" in text
    from orepit.data.files import read_model
    dz = read_model(deposit).block_size[2]
    assert Economics.from_toml(params) == default_economics(dz)
    code, out = run_json(["compare", deposit, "--economics", str(params), "--strategies", "high-grade,npv",
                          "--out", str(tmp_path / "r"), "--no-report", "--time-limit", "60", "--threads", "1"], capsys)
    assert code == 0, out
    assert out["strategies"]["npv"]["metal_recovered"] > 0
    # an existing file is not overwritten
    code, out = run_json(["init", deposit, "--out", str(params)], capsys)
    assert code == 2 and "does not overwrite" in out["error"]


def test_init_on_an_export_writes_its_mapping_and_prices_to_set(tmp_path, capsys):
    export = tmp_path / "export.csv"
    frame = pd.read_csv(EXAMPLE).rename(columns={"XC": "E", "YC": "N", "ZC": "RL_M", "CU": "CU_PCT", "AU": "AG_GPT"})
    frame.to_csv(export, index=False)
    params = tmp_path / "p.toml"
    code, out = run_json(["init", str(export), "--columns", "x=E,y=N,z=RL_M", "--out", str(params)], capsys)
    assert code == 0 and out["elements"] == {"cu": {"column": "CU_PCT", "grade_unit": "%"},
                                             "ag": {"column": "AG_GPT", "grade_unit": "g/t"}}
    text = params.read_text()
    assert "SET the silver price" in text and '"x" = "E"' in text
    econ = Economics.from_toml(params)
    assert econ.elements["ag"].price == 0.0 and econ.elements["cu"].price == 8800.0
    # the file's [columns] table is enough for the next verb
    code, pit = run_json(["pit", str(export), "--economics", str(params)], capsys)
    assert code == 0 and pit["blocks_in_pit"] > 0
