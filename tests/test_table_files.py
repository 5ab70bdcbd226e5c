"""CSV and Parquet block tables: '#' lines above the header and Vulcan's description lines under it skipped, the separator sniffed from the header (and decimal commas in a ';' file; UTF-8 or Windows-1252 text), line numbers of rows with blank lines and any
line ends, read by the C parser; Parquet read a column at a time, as pandas reads it."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from solvers.errors import InputError

from orepit.data.files import read_model
from orepit.data.table import read_table, row_numbers

ROWS = [("5", "5", "5", "1.5", "0.2"), ("15", "5", "5", "2", "0.4"), ("5", "15", "5", "3", "0.1"),
        ("15", "15", "5", "4", "0.3")]


def _write(path, sep, end, rows=ROWS, blank_after=(1,)):
    lines = [sep.join(("X", "Y", "Z", "TONNAGE", "CU"))]
    for n, row in enumerate(rows):
        lines.append(sep.join(row))
        if n in blank_after:
            lines.append("   ")
    path.write_bytes(end.join(lines).encode() + end.encode())


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
@pytest.mark.parametrize("end", ["\n", "\r\n"])
def test_separators_and_line_ends_give_the_same_model(tmp_path, sep, end):
    path = tmp_path / "m.csv"
    _write(path, sep, end)
    model = read_model(path, block_size=(10, 10, 10), assumptions=[])
    assert model.n_blocks == 4 and model.dims == (2, 2, 1)
    assert np.array_equal(np.sort(model["tonnage"]), [1.5, 2.0, 3.0, 4.0])
    assert np.allclose(np.sort(model["CU"]), [0.1, 0.2, 0.3, 0.4])


def test_decimal_commas_of_a_semicolon_file_are_read_and_stated(tmp_path):
    path = tmp_path / "m.csv"
    _write(path, ";", "\r\n", [tuple(f.replace(".", ",") for f in row) for row in ROWS])
    notes = []
    model = read_model(path, block_size=(10, 10, 10), assumptions=notes)
    assert np.array_equal(np.sort(model["tonnage"]), [1.5, 2.0, 3.0, 4.0])
    assert np.allclose(np.sort(model["CU"]), [0.1, 0.2, 0.3, 0.4])
    assert any("decimal commas" in note for note in notes)


def test_windows_1252_text_is_read_and_stated_and_other_bytes_named_by_line(tmp_path):
    path = tmp_path / "m.csv"
    lines = ["X,Y,Z,TONNAGE,Cu_%,Roche", *(",".join((*row, "granodiorite")) for row in ROWS)]
    lines[3] = lines[3].replace("granodiorite", "diorite à quartz")
    path.write_bytes("\r\n".join(lines).encode("cp1252"))
    notes = []
    model = read_model(path, block_size=(10, 10, 10), grades=("Cu_%",), assumptions=notes)
    assert np.allclose(np.sort(model["Cu_%"]), [0.1, 0.2, 0.3, 0.4])
    assert sorted(set(model["Roche"])) == ["diorite à quartz", "granodiorite"]
    assert any("Windows-1252" in note and "line 4" in note for note in notes)
    path.write_bytes(path.read_bytes().replace(b"granodiorite", b"grano\x81", 1))   # 0x81: no character there
    with pytest.raises(InputError, match=r"m.csv line 2: text is neither UTF-8 nor Windows-1252"):
        read_model(path, block_size=(10, 10, 10), assumptions=[])


def test_a_file_mixing_decimal_commas_and_points_is_refused_by_line(tmp_path):
    path = tmp_path / "m.csv"
    rows = [*ROWS[:3], ("15", "15", "5", "4", "0,3")]            # one comma among decimal points: no guess
    _write(path, ";", "\n", rows)
    with pytest.raises(InputError, match=r"m.csv line 6: column CU: values that are not finite numbers in 1 row"):
        read_model(path, block_size=(10, 10, 10), grades=("CU",), assumptions=[])


@pytest.mark.parametrize("end, bom", [("\n", ""), ("\r\n", "\ufeff"), ("\r", "")])
def test_comment_lines_above_the_header_are_skipped_stated_and_counted(tmp_path, end, bom):
    """An export's notes above the header ('# source, date, units') are skipped and said so; the
    lines of the rows below keep their numbers in the file."""
    path = tmp_path / "m.csv"
    _write(path, ",", end, [*ROWS[:3], ("15", "15", "5", "-4", "0.3")], blank_after=())
    text = path.read_bytes().decode()
    path.write_bytes(f"{bom}# exported 2026-11-01{end}{end}  # units: m, t{end}".encode() + text.encode())
    with pytest.raises(InputError, match=r"m.csv line 8: column TONNAGE \(tonnage\): negative values in 1 row"):
        read_model(path, block_size=(10, 10, 10), assumptions=[])
    assert row_numbers(path, "csv", 4)[0].tolist() == [5, 6, 7, 8]
    path.write_bytes(path.read_bytes().replace(b"-4", b"4"))
    notes = []
    model = read_model(path, block_size=(10, 10, 10), assumptions=notes)
    assert notes[0] == "lines 1 and 3 above the header skipped (they start with '#')"
    assert model.n_blocks == 4 and model.frame["tonnage"].tolist() == [1.5, 2.0, 3.0, 4.0]
    path.write_bytes(f"# notes{end}# only{end}".encode())
    with pytest.raises(InputError, match=r"m.csv: no header row: every line that is not blank starts with '#'"):
        read_model(path, block_size=(10, 10, 10), assumptions=[])


def test_a_units_row_under_the_header_is_refused_as_such(tmp_path):
    """Some packages write the units under the header; refused by name (not as five bad columns),
    while one text cell in line 2 is still that column's problem."""
    path = tmp_path / "m.csv"
    _write(path, ",", "\n", [("m", "m", "m", "t", "%"), *ROWS], blank_after=())
    with pytest.raises(InputError, match=r"m.csv line 2: the first row under the header holds text in every number "
                                         r"column \(m, m, m, t, %\): it looks like a units row; delete it"):
        read_model(path, block_size=(10, 10, 10), grades=("CU",), assumptions=[])
    _write(path, ",", "\n", [("5", "5", "5", "1.5", "%"), *ROWS[1:]], blank_after=())
    with pytest.raises(InputError, match=r"m.csv line 2: column CU: values that are not finite numbers in 1 row"):
        read_model(path, block_size=(10, 10, 10), grades=("CU",), assumptions=[])


VULCAN_HEAD = ("centroid_x,centroid_y,centroid_z,dim_x,dim_y,dim_z,volume,density,cu,domain",
               'Variable descriptions:,,,,,,,Dry bulk density,"Copper grade, %",Estimation domain',
               "Variable types:,,,,,,,float,float,name",
               "Variable defaults:,,,,,,,2.7,-99,none")


def _write_vulcan(path, end, cu=("0.2", "0.4", "0.1", "0.3")):
    """A block model as Vulcan's 'Model to CSV' writes it: the header, then the variables'
    descriptions, types and defaults (the first seven fields empty but the first), then the blocks."""
    rows = [f"{x},{y},5,10,10,10,1000,2.5,{c},{'ore' if float(c) > 0.15 else 'waste'}"
            for (x, y, *_), c in zip(ROWS, cu)]
    path.write_bytes(end.join([*VULCAN_HEAD, *rows]).encode() + end.encode())


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_vulcan_description_lines_under_the_header_are_skipped_stated_and_counted(tmp_path, end):
    """Vulcan's lines 2-4 (descriptions, types, defaults) are no blocks: skipped and said so, the
    rows keep their file lines, and the defaults are kept with the table."""
    path = tmp_path / "m.csv"
    _write_vulcan(path, end)
    notes = []
    table = read_table(path, "csv", notes=notes)
    assert notes == ["lines 2-4 under the header skipped (Vulcan's variable descriptions, types and defaults)"]
    assert table["cu"].tolist() == [0.2, 0.4, 0.1, 0.3] and table["centroid_x"].dtype.kind in "if"   # numbers, not text
    assert table.attrs["defaults"] == {"density": "2.7", "cu": "-99", "domain": "none"}
    assert row_numbers(path, "csv", 4)[0].tolist() == [5, 6, 7, 8]
    notes = []
    model = read_model(path, grades=("cu",), assumptions=notes)
    assert model.block_size == (10.0, 10.0, 10.0) and model.frame["tonnage"].tolist() == [2500.0] * 4
    assert model.frame["domain"].tolist() == ["ore", "ore", "waste", "ore"]


def test_grades_left_at_vulcans_default_are_named_as_never_set(tmp_path):
    """Blocks outside the estimate keep Vulcan's default (-99): refused, with the default named, at
    their file lines; a negative grade that is not the default gets the plain message."""
    path = tmp_path / "m.csv"
    _write_vulcan(path, "\r\n", cu=("0.2", "-99", "0.1", "-99"))
    with pytest.raises(InputError, match=r"m.csv line 6: column cu: negative values \(-99, the file's default for this "
                                         r"variable: blocks never given a value; give them one, 0 for a grade "
                                         r"outside the estimate, before reading\) in 2 rows \(lines 6, 8\)"):
        read_model(path, grades=("cu",), assumptions=[])
    _write_vulcan(path, "\r\n", cu=("0.2", "-99", "0.1", "-1"))
    with pytest.raises(InputError, match=r"m.csv line 6: column cu: negative values in 2 rows, first -99 at line 6: "
                                         r"-99 looks like a code for 'no value'; give those blocks a value before "
                                         r"reading \(0 for a grade outside the estimate\) \(lines 6, 8\)$"):
        read_model(path, grades=("cu",), assumptions=[])


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_a_bad_row_is_named_by_its_file_line(tmp_path, end):
    path = tmp_path / "m.csv"
    rows = [*ROWS[:3], ("15", "15", "5", "-4", "0.3")]
    _write(path, ";", end, rows, blank_after=(0, 1))
    assert row_numbers(path, "csv", 4)[0].tolist() == [2, 4, 6, 7]
    with pytest.raises(InputError, match=r"m.csv line 7: column TONNAGE \(tonnage\): negative values in 1 row"):
        read_model(path, block_size=(10, 10, 10), assumptions=[])


def test_row_numbers_of_a_large_table_are_fast_and_right(tmp_path):
    path = tmp_path / "big.csv"
    body = "".join(f"{i},{i % 7}\n" + ("\n" if i % 1000 == 0 else "") for i in range(200_000))
    path.write_text("a,b\n" + body)
    numbers, word = row_numbers(path, "csv", 200_000)
    rows = np.arange(200_000)
    expected = 2 + rows + (rows + 999) // 1000        # a blank line after rows 0, 1000, 2000, ...
    assert word == "line" and np.array_equal(numbers, expected)


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".omf"])
def test_only_the_columns_asked_for_are_kept_with_the_grades(tmp_path, suffix):
    from orepit.data.files import write_model
    from orepit.valuation.synthetic import synthetic_deposit
    model = synthetic_deposit(dims=(4, 3, 2), seed=1)
    write_model(model, tmp_path / f"m{suffix}")
    back = read_model(tmp_path / f"m{suffix}", only=["i", "j", "k", "tonnage", "no_such_column"],
                      grades=None if suffix != ".csv" else model.grades, assumptions=[])
    assert set(back.columns) == {"i", "j", "k", "x", "y", "z", "tonnage", *model.grades}
    assert np.array_equal(back["tonnage"], model["tonnage"]) and np.array_equal(back["cu"], model["cu"])


@pytest.mark.parametrize("index", [None, pd.Index([10, 20, 30], name="bid"), pd.RangeIndex(5, 8),
                                   pd.MultiIndex.from_tuples([(1, 2), (1, 3), (2, 2)], names=["a", "b"])])
@pytest.mark.parametrize("keep_index", [None, False])
def test_a_parquet_table_read_a_column_at_a_time_is_what_pandas_reads(tmp_path, index, keep_index):
    """Nullable integers, categories, text with a gap, any index pandas wrote: all of the table and a
    choice of its columns, the same frame as ``pd.read_parquet``."""
    frame = pd.DataFrame({"x": [1, 2, 3], "rock": pd.Categorical(["ox", "sulph", "ox"]), "note": ["a", None, "c"],
                          "cu": [0.1, np.nan, 0.3], "n": pd.array([1, None, 3], dtype="Int64")})
    if index is not None:
        frame.index = index
    path = tmp_path / "m.parquet"
    frame.to_parquet(path, index=keep_index)
    pd.testing.assert_frame_equal(read_table(path, "parquet"), pd.read_parquet(path))
    pd.testing.assert_frame_equal(read_table(path, "parquet", only=["n", "note", "absent"]),
                                  pd.read_parquet(path, columns=["note", "n"]))


def test_a_parquet_table_without_pandas_metadata_reads_as_pandas_reads_it(tmp_path):
    path = tmp_path / "m.parquet"
    pq.write_table(pa.table({"X": [5.0, 15.0], "CU": [0.2, 0.4], "ROCK": ["ox", "ox"]}), path)
    pd.testing.assert_frame_equal(read_table(path, "parquet"), pd.read_parquet(path))
