"""Exports that other software writes and a new user reads: size columns under other names, tonnes in
kt, grid indices beside centroids, and the messages for numbers orepit cannot read."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from orepit import InputError
from orepit.data.files import read_model
from orepit.data.table import read_table


def _read(path, **kwargs):
    notes = []
    return read_model(path, assumptions=notes, **kwargs), notes


def _read_10(path, **kwargs):
    """`_read` with 10 m blocks given (`_regular`: one row of blocks)."""
    return _read(path, block_size=(10, 10, 10), **kwargs)


def _sub_blocked():
    """Two 10 m parent cells side by side; the second split into eight 5 m sub-blocks."""
    rows = [(5.0, 5.0, 5.0, 10.0, 10.0, 10.0, 2.5, 1.0)]
    rows += [(15 + a, 5 + b, 5 + c, 5.0, 5.0, 5.0, 2.0, 2.0) for a in (-2.5, 2.5) for b in (-2.5, 2.5)
             for c in (-2.5, 2.5)]
    return pd.DataFrame(rows, columns=["XC", "YC", "ZC", "XINC", "YINC", "ZINC", "DENSITY", "CU"])


@pytest.mark.parametrize("names", [("XDIM", "YDIM", "ZDIM"), ("X_DIM", "Y_DIM", "Z_DIM"), ("x_dim", "y_dim", "z_dim"),
                                   ("XDim", "YDim", "ZDim"), ("_East", "_North", "_RL")])
def test_size_columns_under_their_common_spellings_regularise_the_sub_blocks(tmp_path, names):
    table = _sub_blocked().rename(columns=dict(zip(("XINC", "YINC", "ZINC"), names)))
    table.to_csv(tmp_path / "m.csv", index=False)
    model, notes = _read(tmp_path / "m.csv", grades=["cu"])
    assert model.block_size == (10.0, 10.0, 10.0) and model.n_blocks == 2
    np.testing.assert_allclose(model["tonnage"], [2500.0, 2000.0])       # every sub-block's tonnes, not 1 in 8
    assert any(n.startswith("sub-blocks: 9 blocks regularised to 2 parent blocks") for n in notes)


def test_size_columns_orepit_does_not_know_are_refused_with_the_mapping_to_give(tmp_path):
    table = _sub_blocked().rename(columns={"XINC": "X_WIDTH", "YINC": "Y_WIDTH", "ZINC": "Z_WIDTH"})
    table.to_csv(tmp_path / "m.csv", index=False)
    with pytest.raises(InputError) as err:
        _read(tmp_path / "m.csv")
    assert str(err.value) == ("m.csv: columns X_WIDTH, Y_WIDTH and Z_WIDTH look like block sizes that orepit does "
                              "not know by name: map with columns dx=X_WIDTH,dy=Y_WIDTH,dz=Z_WIDTH (--columns "
                              "dx=X_WIDTH,dy=Y_WIDTH,dz=Z_WIDTH on the command line)")
    model, _ = _read(tmp_path / "m.csv", columns={"dx": "X_WIDTH", "dy": "Y_WIDTH", "dz": "Z_WIDTH"})
    assert model.n_blocks == 2
    table.rename(columns={"X_WIDTH": "XINC", "Y_WIDTH": "YINC"}).to_csv(tmp_path / "m.csv", index=False)
    with pytest.raises(InputError, match=r"column Z_WIDTH looks like a block size .* map with columns dz=Z_WIDTH "):
        _read(tmp_path / "m.csv")
    table.drop(columns=["Y_WIDTH", "Z_WIDTH"]).rename(columns={"X_WIDTH": "ZINC_PCT"}).to_csv(tmp_path / "m.csv",
                                                                                           index=False)
    with pytest.raises(InputError, match="x centroids are not on a regular spacing"):   # ZINC_PCT: not a size
        _read(tmp_path / "m.csv")


def _regular(tonnes_factor=1.0, density=True):
    """Four 10 m blocks of 2.5 t/m3 with their tonnage (x ``tonnes_factor``)."""
    table = pd.DataFrame({"XC": [5.0, 15.0, 25.0, 35.0], "YC": 5.0, "ZC": 5.0, "DENSITY": 2.5,
                          "TONNES": 2500.0 * tonnes_factor})
    return table if density else table.drop(columns="DENSITY")


def test_tonnes_far_from_density_times_volume_are_refused_by_line(tmp_path):
    path = tmp_path / "m.csv"
    _regular(1e-3).to_csv(path, index=False)                   # tonnes in kt
    with pytest.raises(InputError) as err:
        _read_10(path)
    assert str(err.value) == (
        "m.csv line 2: column TONNES (tonnage): tonnages below 1/20 of density x block volume in most blocks "
        "(4 rows; clipping at the topography leaves a few blocks with less, not most); first 2.5 t at line 2, where "
        "2.5 t/m3 x 1000 m3 = 2500 t: is the tonnage in kt, or the density not in t/m3? (lines 2, 3, 4, 5)")
    table = _regular()
    table.loc[2, "TONNES"] = 2800.0                             # 12 % more than the block can hold
    table.to_csv(path, index=False)
    with pytest.raises(InputError, match=r"m.csv line 4: column TONNES \(tonnage\): tonnages above 1.1 x density x "
                                         r"block volume in 1 row \(a block holds at most its volume of rock\); first "
                                         r"2800 t at line 4"):
        _read_10(path)
    table.loc[2, "TONNES"], table.loc[3, "TONNES"] = 2700.0, 10.0   # 8 % more (rounding), one sliver (clipping)
    table.to_csv(path, index=False)
    model, _ = _read_10(path)
    assert model["tonnage"].tolist() == [2500.0, 2500.0, 2700.0, 10.0]
    _regular(0.5).to_csv(path, index=False)                     # clipped to half: fine
    assert _read_10(path)[0]["tonnage"].tolist() == [1250.0] * 4


def test_a_density_derived_from_tonnes_in_kt_is_refused_as_a_density_column_above_10_is(tmp_path):
    path = tmp_path / "m.csv"
    _regular(1e-3, density=False).to_csv(path, index=False)
    with pytest.raises(InputError, match=r"m.csv line 2: column TONNES \(tonnage\): tonnage / block volume \(the "
                                         r"density it implies\) is below 0.1 t/m3 in most blocks \(4 rows\); first "
                                         r"2.5 t / 1000 m3 = 0.0025 t/m3 at line 2: orepit reads tonnage in t"):
        _read_10(path, defaults=["density"])
    assert _read_10(path)[0]["tonnage"].tolist() == [2.5] * 4     # no density to derive: geometry studies go on
    _regular(5.0, density=False).to_csv(path, index=False)
    with pytest.raises(InputError, match=r"is above 10 t/m3 in 4 rows; first 12500 t / 1000 m3 = 12.5 t/m3"):
        _read_10(path, defaults=["density"])
    _regular(density=False).to_csv(path, index=False)
    assert _read_10(path, defaults=["density"])[0]["density"].tolist() == [2.5] * 4


def test_sub_blocks_tonnes_are_checked_against_their_own_volume(tmp_path):
    table = _sub_blocked().assign(TONNES=lambda t: t["DENSITY"] * t["XINC"] * t["YINC"] * t["ZINC"] / 1000)
    table.to_csv(tmp_path / "m.csv", index=False)
    with pytest.raises(InputError, match=r"tonnages below 1/20 of density x block volume in most blocks \(9 rows"):
        _read(tmp_path / "m.csv")


def _indexed(shift=0):
    """A sparse 3 x 2 x 2 model by its grid indices (from ``shift``) and its UTM centroids, 10 x 20 x 5 m."""
    ijk = np.array([[0, 0, 0], [1, 0, 0], [2, 0, 0], [0, 1, 1], [2, 1, 1]])
    xyz = np.array([500000.0, 7000000.0, 300.0]) + (ijk + 0.5) * [10.0, 20.0, 5.0]
    return pd.DataFrame({"I": ijk[:, 0] + shift, "J": ijk[:, 1] + shift, "K": ijk[:, 2] + shift, "XC": xyz[:, 0],
                         "YC": xyz[:, 1], "ZC": xyz[:, 2], "DENSITY": 2.5})


@pytest.mark.parametrize("shift", [0, 1])
def test_grid_indices_beside_centroids_give_the_grid(tmp_path, shift):
    _indexed(shift).to_csv(tmp_path / "m.csv", index=False)
    model, notes = _read(tmp_path / "m.csv")
    assert model.block_size == (10.0, 20.0, 5.0) and model.origin == (500000.0 - 10 * shift, 7000000.0 - 20 * shift,
                                                                        300.0 - 5 * shift)
    np.testing.assert_allclose(np.stack([model.x, model.y, model.z], axis=1), _indexed()[["XC", "YC", "ZC"]])
    assert model.i.min() == shift and model["tonnage"].tolist() == [2500.0] * 5
    assert any(n.startswith("grid: origin (") and n.endswith("from the centroids at the grid indices i, j, k")
               for n in notes)
    given, _ = _read(tmp_path / "m.csv", block_size=(10, 20, 5))      # the CLI's --block-size: the same model
    assert given.origin == model.origin


def test_grid_indices_that_disagree_with_the_centroids_are_refused_by_line(tmp_path):
    table = _indexed()
    table.loc[3, "I"] = 1
    table.to_csv(tmp_path / "m.csv", index=False)
    with pytest.raises(InputError, match=r"m.csv line 5: column XC \(x\): x centroids are not at the centres of the "
                                         r"cells their grid index i names: line 5 has i = 1 and x = 500005, not "
                                         r"500015 .* delete the index columns \(I, J, K\)"):
        _read(tmp_path / "m.csv")
    table = _indexed().assign(K=lambda t: 1 - t["K"])
    table.to_csv(tmp_path / "m.csv", index=False)
    with pytest.raises(InputError, match=r"z centroids fall as the grid index k rises"):
        _read(tmp_path / "m.csv")


ROWS = ["5,5,5,2.5,0.3", "15,5,5,2.5,0.4", "25,5,5,2.5,0.5"]      # XC, YC, ZC, DENSITY, CU of 10 m blocks


def _write(path, rows, sep=",", head="XC,YC,ZC,DENSITY,CU", above=(), encoding="utf-8"):
    lines = [*above, head.replace(",", sep), *(r.replace(",", sep) for r in rows)]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))


def test_numbers_orepit_cannot_read_are_quoted_with_their_line_and_a_hint(tmp_path):
    path = tmp_path / "m.csv"
    _write(path, [r.replace(".", "|") for r in ROWS], sep="\t")          # tabs and decimal commas: read
    path.write_text(path.read_text().replace("|", ","))
    model, notes = _read_10(path)
    assert model["density"].tolist() == [2.5, 2.5, 2.5]
    assert any("decimal commas (fields separated by tabs" in n for n in notes)
    path.write_text(path.read_text().replace("0,5\n", "0.5\n"))         # one decimal point: commas not read
    with pytest.raises(InputError, match=r"column DENSITY \(density\): values that are not finite numbers in 3 rows, "
                                         r"first '2,5' at line 2: a decimal comma\? orepit reads decimal commas only "
                                         r"in files whose fields are separated by ';', tabs or '\|'"):
        _read_10(path)
    path.write_text("XC;YC;ZC;DENSITY;CU\n5;5;2.005,5;2,5;0,3\n15;5;2.005,5;2,5;0,4\n")
    with pytest.raises(InputError, match=r"m.csv line 2: column ZC \(z\): values that are not finite numbers in 2 "
                                         r"rows, first '2.005,5' at line 2: thousands separators\? save the "
                                         r"numbers without them"):
        _read_10(path)
    _write(path, ["5,5,5,2.5,*", *ROWS[1:]])
    with pytest.raises(InputError, match=r"m.csv line 2: column CU \(cu\): values that are not finite numbers in 1 "
                                         r"row: '\*'$"):
        _read_10(path, grades=["cu"])


@pytest.mark.parametrize("code", ["-99", "-999", "-1e30", "-1.0E+30"])
def test_negative_values_are_quoted_and_codes_for_no_value_named(tmp_path, code):
    path = tmp_path / "m.csv"
    _write(path, [ROWS[0], ROWS[1][:-3] + code, ROWS[2][:-3] + code])
    value = re.escape(f"{float(code):g}")
    with pytest.raises(InputError, match=rf"m.csv line 3: column CU \(cu\): negative values in 2 rows, first {value} "
                                         rf"at line 3: {value} looks like a code for 'no value'; give those "
                                         r"blocks a value before reading \(0 for a grade outside the estimate\)"):
        _read_10(path, grades=["cu"])
    _write(path, [ROWS[0], ROWS[1][:-3] + "-0.5", ROWS[2]])
    with pytest.raises(InputError, match=r"m.csv line 3: column CU \(cu\): negative values in 1 row: -0.5$"):
        _read_10(path, grades=["cu"])


def test_a_title_line_shows_the_header_read(tmp_path):
    path = tmp_path / "m.csv"
    _write(path, ROWS, above=["Block model export from Deswik.CAD 2023.2"])
    with pytest.raises(InputError, match=r"m.csv: no block coordinates: .* the header read holds the columns Block, "
                                         r"model, export, from, Deswik.CAD, 2023.2 \(none of them is a name orepit "
                                         r"knows: .* a title line above it must start with '#'\)"):
        _read_10(path)


def test_utf16_is_refused_and_excels_separator_line_is_read(tmp_path):
    path = tmp_path / "m.csv"
    _write(path, ROWS, sep="\t", encoding="utf-16")
    with pytest.raises(InputError, match=r"m.csv line 1: text is UTF-16 \(as Excel saves 'Unicode text'\), not UTF-8 "
                                         r"or Windows-1252: save the file as 'CSV UTF-8'"):
        _read_10(path)
    _write(path, [r.replace(".", "|") for r in ROWS], sep=";", above=["sep=;"])
    path.write_text(path.read_text().replace("|", ","))
    model, notes = _read_10(path)
    assert model["density"].tolist() == [2.5] * 3 and notes[0] == "line 1 (Excel's 'sep=;') gives the field separator"
    path.write_text(path.read_text().replace("0,4", "-0,4"))
    with pytest.raises(InputError, match=r"m.csv line 4: column CU \(cu\): negative values in 1 row: -0.4$"):
        _read_10(path, grades=["cu"])


def test_a_column_named_twice_in_the_header_is_refused(tmp_path):
    """Two CU columns: pandas would read the second as CU.1 and the first be used without a word."""
    path = tmp_path / "twice.csv"
    path.write_text("# exported\nX,Y,Z,DENSITY,CU,CU\n0,0,0,2.7,0.5,0.7\n")
    with pytest.raises(InputError, match=r"twice\.csv line 2: .*column\(s\) CU more than once"):
        read_table(path, "csv")


def test_a_separator_at_the_end_of_each_line_adds_no_column(tmp_path):
    path = tmp_path / "trailing.csv"
    path.write_text("X,Y,Z,DENSITY,CU,\n0,0,0,2.7,0.5,\n10,0,0,2.7,0.6,\n")
    notes = []
    frame = read_table(path, "csv", notes=notes)
    assert list(frame.columns) == ["X", "Y", "Z", "DENSITY", "CU"]
    assert any("separator at the end of each line" in n for n in notes)


def test_a_model_table_with_another_extension_is_told_to_rename(tmp_path, capsys):
    from pathlib import Path

    from orepit.cli import main
    examples = Path(__file__).resolve().parent.parent / "examples"
    text = tmp_path / "blocks.txt"
    text.write_text((examples / "porphyry_blocks.csv").read_text())
    economics = str(examples / "economics_porphyry_blocks.toml")
    assert main(["pit", str(text), "--economics", economics]) == 2
    assert "must end in .csv, .parquet or .omf: rename it" in capsys.readouterr().err
    (tmp_path / "c.toml").write_text("x = 1\n")
    assert main(["pit", str(examples / "porphyry_blocks.csv"), "--economics", economics,
                 "--columns", str(tmp_path / "c.toml")]) == 2
    assert "c.toml: no [columns] table" in capsys.readouterr().err
