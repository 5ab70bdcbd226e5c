"""--columns on every verb that takes a MODEL, and the [columns] table of an economics file: an
export with its own column names (UTM centroids, density, no rock, work-index or sulphur column)
runs in one try, and its pit equals that of the same model written with i, j, k, tonnage."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from _example_model import COLUMNS, EXAMPLE
from orepit.cli import main
from orepit.data.files import read_model

ROOT = EXAMPLE.parent
ECONOMICS = ROOT / "economics_porphyry_blocks.toml"
NAMES = {"XC": "EAST_M", "YC": "NORTH_M", "ZC": "ELEV_M", "DENSITY": "SG_T_M3", "CU": "CU_PCT", "AU": "AU_GPT"}
MAPPING = "x=EAST_M,y=NORTH_M,z=ELEV_M,density=SG_T_M3,cu=CU_PCT,au=AU_GPT"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The example export under names no common-name lookup finds, economics in model names, and
    the same model written with grid indices and tonnage."""
    folder = tmp_path_factory.mktemp("columns")
    export = folder / "export.csv"
    pd.read_csv(EXAMPLE).rename(columns=NAMES).to_csv(export, index=False)
    text = ECONOMICS.read_text().replace('column = "CU"', 'column = "cu"').replace('column = "AU"', 'column = "au"')
    economics = folder / "economics.toml"
    economics.write_text(text)
    with_table = folder / "with_columns.toml"
    with_table.write_text(text + "\n[columns]\n" + "".join(f'{k} = "{v}"\n' for k, v in
                                                           (p.split("=") for p in MAPPING.split(","))))
    model = read_model(EXAMPLE, columns={"cu": "CU", "au": "AU"}, assumptions=[])
    plain = folder / "plain.csv"
    model.frame[["i", "j", "k", "tonnage", "cu", "au"]].to_csv(plain, index=False)
    return {"export": str(export), "economics": str(economics), "with_table": str(with_table), "plain": str(plain),
            "folder": folder}


def run_json(argv, capsys):
    code = main(argv + ["--json"])
    return code, json.loads(capsys.readouterr().out)


def test_pit_with_columns_equals_the_pit_of_the_indexed_model(files, capsys):
    slope = ["--slope", "45", "--benches", "8"]
    code, mapped = run_json(["pit", files["export"], "--columns", MAPPING, "--economics", files["economics"], *slope],
                            capsys)
    assert code == 0, mapped
    code, plain = run_json(["pit", files["plain"], "--economics", files["economics"], "--block-size", "100", "100",
                            "100", *slope], capsys)
    assert code == 0, plain
    assert mapped["blocks_in_pit"] == plain["blocks_in_pit"] > 0
    assert mapped["objective"] == pytest.approx(plain["objective"], rel=1e-12)
    # the same fields as on a MineLib instance (tests/test_cli_pit.py)
    assert set(mapped) == {"instance", "objective", "blocks_in_pit", "seconds", "total_seconds", "blocks", "arcs",
                           "exact"}


def test_without_the_mapping_the_export_is_refused_naming_what_is_missing(files, capsys):
    code, out = run_json(["pit", files["export"], "--economics", files["economics"]], capsys)
    assert code == 2
    assert "no block coordinates" in out["error"] and "export.csv" in out["error"]


def test_the_economics_files_columns_table_and_the_command_line_wins(files, capsys):
    code, table = run_json(["pit", files["export"], "--economics", files["with_table"]], capsys)
    assert code == 0, table
    code, given = run_json(["pit", files["export"], "--columns", MAPPING, "--economics", files["economics"]], capsys)
    assert table["objective"] == given["objective"]
    # the command line wins for the names it maps: gold from the copper column gives another pit
    code, other = run_json(["pit", files["export"], "--economics", files["with_table"], "--columns",
                            "au=CU_PCT,cu=AU_GPT"], capsys)
    assert code == 0 and other["objective"] != table["objective"]
    # and a TOML file given to --columns is read for its [columns] table
    code, from_file = run_json(["pit", files["export"], "--columns", files["with_table"], "--economics",
                                files["economics"]], capsys)
    assert from_file["objective"] == table["objective"]


def test_the_economics_grade_columns_are_found_by_name_without_a_mapping(files, tmp_path, capsys):
    """The economics name cu and au; the example file's CU and AU are found case-insensitively, by
    pit (and shells), value and compare alike."""
    code, found = run_json(["pit", str(EXAMPLE), "--economics", files["economics"]], capsys)
    assert code == 0, found
    code, mapped = run_json(["pit", str(EXAMPLE), "--columns", COLUMNS, "--economics", files["economics"]], capsys)
    assert found["objective"] == mapped["objective"] > 0
    code, out = run_json(["value", str(EXAMPLE), "--economics", files["economics"], "--out", str(tmp_path / "v.csv")],
                         capsys)
    assert code == 0, out
    assert {"cu", "au"} <= set(pd.read_csv(tmp_path / "v.csv", nrows=0).columns)
    code, out = run_json(["compare", str(EXAMPLE), "--economics", files["economics"], "--strategies", "high-grade",
                          "--out", str(tmp_path / "r"), "--no-report", "--quiet", "--threads", "1"], capsys)
    assert code == 0, out


@pytest.mark.parametrize("verb, extra", [
    ("info", []),
    ("gt", ["--cutoffs", "0,0.5", "--grade", "cu"]),
    ("prec", ["--out", "OUT/x.prec"]),
    ("value", ["--economics", "ECON", "--out", "OUT/v.csv"]),
    ("shells", ["--economics", "ECON", "--factors", "0.5,1"]),
])
def test_every_model_verb_takes_columns(files, capsys, verb, extra):
    extra = [e.replace("OUT", str(files["folder"])).replace("ECON", files["economics"]) for e in extra]
    code, out = run_json([verb, files["export"], "--columns", MAPPING, *extra], capsys)
    assert code == 0, out
    code, refused = run_json([verb, files["export"], "--columns", "x=EAST_M,y=NOPE", *extra], capsys)
    assert code == 2 and "column mapping y=NOPE: 'NOPE' is not in the file" in refused["error"]


def test_info_on_a_block_model(files, capsys):
    code, out = run_json(["info", files["export"], "--columns", MAPPING], capsys)
    assert code == 0
    frame = pd.read_csv(files["export"])
    assert out["blocks"] == len(frame) and out["dims"] == [20, 20, 10] and out["block_size"] == [100.0] * 3
    assert out["origin"] == [500000.0, 7000000.0, 2000.0]
    assert out["tonnage_t"] == pytest.approx((frame["SG_T_M3"] * 1e6).sum(), rel=1e-12)
    assert out["columns"]["cu"]["max"] == frame["CU_PCT"].max()


def test_compare_takes_columns(files, capsys, tmp_path):
    code, out = run_json(["compare", files["export"], "--columns", MAPPING, "--economics", files["economics"],
                          "--strategies", "high-grade", "--out", str(tmp_path / "r"), "--no-report", "--quiet",
                          "--threads", "1"], capsys)
    assert code == 0, out
    assert out["strategies"]["high-grade"]["metal_recovered"] > 0


def test_a_mapping_for_a_minelib_instance_is_refused(minelib, capsys):
    code, out = run_json(["info", str(minelib / "kd"), "--columns", "x=XC"], capsys)
    assert code == 2 and "a column mapping applies to CSV, Parquet and OMF files" in out["error"]


def test_bad_columns_text_exits_2_naming_the_option(capsys):
    code, out = run_json(["gt", str(EXAMPLE), "--cutoffs", "0", "--columns", "x=XC,yYC"], capsys)
    assert code == 2 and "argument --columns: pair 2 'yYC' is not NAME=FILECOLUMN" in out["error"]
    code, out = run_json(["gt", str(EXAMPLE), "--cutoffs", "0", "--columns", "missing.toml"], capsys)
    assert code == 2 and "missing.toml: parameter file not found" in out["error"]


def test_shells_on_a_block_model_reports_tonnes_and_a_grid_without_tonnage_counts_blocks(files, capsys, tmp_path):
    code, out = run_json(["shells", files["export"], "--columns", MAPPING, "--economics", files["economics"],
                          "--factors", "1"], capsys)
    assert code == 0
    code, pit = run_json(["pit", files["export"], "--columns", MAPPING, "--economics", files["economics"]], capsys)
    row = out["table"][-1]
    assert row["blocks"] == pit["blocks_in_pit"] and row["value"] == pytest.approx(pit["objective"], rel=1e-9)
    assert row["ore_t"] + row["waste_t"] > 1e6 * row["blocks"]       # tonnes, not blocks
    grid = tmp_path / "v.txt"
    np.savetxt(grid, np.random.default_rng(2).normal(-1.0, 3.0, 5 * 4 * 3))
    code, out = run_json(["shells", "--grid", str(grid), "--dims", "5", "4", "3", "--factors", "1"], capsys)
    assert code == 0 and "ore_blocks" in out["table"][0] and "ore_t" not in out["table"][0]
    row = out["table"][-1]
    assert isinstance(row["ore_blocks"], int) and row["ore_blocks"] + row["waste_blocks"] == row["blocks"]
    assert "mining_rate_blocks_per_period" in out
    code, out = run_json(["shells", "--grid", str(grid), "--dims", "5", "4", "3", "--factors", "1", "--tonnage", "50"],
                         capsys)
    assert "ore_t" in out["table"][0] and "mining_rate_t_per_period" in out
