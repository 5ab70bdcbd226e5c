"""Dense value grids (orepit.data.values): text, .npy and Parquet give the same numbers; bad files name
the line or block."""
from __future__ import annotations

import numpy as np
import pytest

from solvers.errors import InputError

from orepit.data.values import read_values


@pytest.fixture
def numbers():
    rng = np.random.default_rng(5)
    return np.round(rng.normal(0.0, 1e5, 60), 2)


def test_every_format_gives_the_same_values(tmp_path, numbers):
    text = tmp_path / "v.txt"
    lines = [repr(float(v)) for v in numbers]
    lines[3:3] = ["", "# a comment line", "   "]
    lines[10] += "   # a comment after the value"
    text.write_text("\n".join(lines) + "\n")
    np.save(tmp_path / "flat.npy", numbers)
    np.save(tmp_path / "shaped.npy", numbers.reshape(3, 4, 5))          # (nz, ny, nx), C order
    np.save(tmp_path / "ints.npy", np.arange(60, dtype=np.int32))
    import pyarrow as pa
    import pyarrow.parquet as pq
    pq.write_table(pa.table({"v": numbers}), tmp_path / "one.parquet")
    pq.write_table(pa.table({"tonnes": np.ones(60), "value": numbers}), tmp_path / "named.parquet")
    for name in ("v.txt", "flat.npy", "shaped.npy", "one.parquet", "named.parquet"):
        got = read_values(tmp_path / name, 60)
        assert got.dtype == np.float64 and np.array_equal(got, numbers), name
    assert np.array_equal(read_values(tmp_path / "ints.npy", 60), np.arange(60.0))


@pytest.mark.parametrize("body, line, words", [
    ("1\n2\n\n# note\nabc\n4\n", 5, "value 'abc' is not a number"),
    ("1\n2 3\n4\n", 2, "expected one value per line"),
    ("1\n2\nnan\n4\n", 3, "not finite"),
    ("1\n\n2\n3\n-inf\n", 5, "not finite"),
])
def test_a_bad_text_file_names_its_line(tmp_path, body, line, words):
    path = tmp_path / "bad.txt"
    path.write_text(body)
    with pytest.raises(InputError) as err:
        read_values(path, 4)
    assert err.value.line == line and f"bad.txt line {line}" in str(err.value) and words in str(err.value)


def test_counts_types_and_missing_files_are_named(tmp_path, numbers):
    path = tmp_path / "v.txt"
    path.write_text("1\n2\n3\n")
    with pytest.raises(InputError, match="v.txt: 3 values for a grid of 4 blocks"):
        read_values(path, 4)
    path.write_text("")
    with pytest.raises(InputError, match="0 values for a grid of 4 blocks"):
        read_values(path, 4)
    with pytest.raises(InputError, match="values file not found"):
        read_values(tmp_path / "none.txt", 4)
    np.save(tmp_path / "s.npy", np.array(["a", "b"]))
    with pytest.raises(InputError, match="s.npy: a .npy of numbers is needed"):
        read_values(tmp_path / "s.npy", 2)
    (tmp_path / "broken.npy").write_bytes(b"not an array")
    with pytest.raises(InputError, match="broken.npy: cannot read .npy array"):
        read_values(tmp_path / "broken.npy", 2)
    bad = numbers.copy()
    bad[7] = np.inf
    np.save(tmp_path / "inf.npy", bad)
    with pytest.raises(InputError, match="inf.npy: value inf of block 7 is not finite"):
        read_values(tmp_path / "inf.npy", 60)


def test_parquet_columns_are_checked(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq
    pq.write_table(pa.table({"a": [1.0, 2.0], "b": [3.0, 4.0]}), tmp_path / "two.parquet")
    with pytest.raises(InputError, match="expected one column or a column named 'value', found a, b"):
        read_values(tmp_path / "two.parquet", 2)
    pq.write_table(pa.table({"value": ["x", "y"]}), tmp_path / "text.parquet")
    with pytest.raises(InputError, match="column 'value' is not numeric"):
        read_values(tmp_path / "text.parquet", 2)
    pq.write_table(pa.table({"value": pa.array([1.0, None, 3.0])}), tmp_path / "gap.parquet")
    with pytest.raises(InputError, match=r"value of block 1 \(row 2\) is missing"):
        read_values(tmp_path / "gap.parquet", 3)
    (tmp_path / "junk.parquet").write_text("no parquet here")
    with pytest.raises(InputError, match="junk.parquet: cannot read Parquet file"):
        read_values(tmp_path / "junk.parquet", 3)
