"""BlockModel: construction, validation rules, CSV/Parquet round trips."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from orepit import BlockModel, InputError
from solvers import Precedence
from orepit.data.files import read_model, write_model


def _frame(**extra):
    data = {"i": [0, 1, 0, 1], "j": [0, 0, 1, 1], "k": [0, 0, 0, 0], "tonnage": [100.0, 120.0, 90.0, 80.0],
            "cu": [0.5, 0.2, 0.0, 1.1], "rock": ["ox", "ox", "fr", "fr"]}
    data.update(extra)
    return pd.DataFrame(data)


def test_coordinates_from_block_size_and_origin():
    m = BlockModel(_frame(), block_size=(10, 20, 5), origin=(1000, 2000, 300), grades=["cu"])
    np.testing.assert_allclose(m.x, [1005, 1015, 1005, 1015])
    np.testing.assert_allclose(m.y, [2010, 2010, 2030, 2030])
    np.testing.assert_allclose(m.z, 302.5)
    assert m.dims == (2, 2, 1) and m.is_dense and m.n_blocks == 4


@pytest.mark.parametrize("change,message", [
    (dict(tonnage=[100.0, np.nan, 90.0, 80.0]), "block 1: tonnage nan is not a finite non-negative number"),
    (dict(tonnage=[100.0, 1.0, -90.0, 80.0]), "block 2: tonnage -90.0 is not a finite non-negative number"),
    (dict(cu=[0.5, np.nan, 0.0, 1.1]), "block 1: grade cu = nan is not a finite non-negative number"),
    (dict(id=[0, 1, 1, 3]), "duplicate block id 1"),
    (dict(id=[0, 1, 2, 5]), "block ids must be 0..3 in order; row 3 has id 5"),
    (dict(i=[0, 1, 0, 0]), "block 3: two blocks at grid position (i, j, k) = (0, 1, 0)"),
    (dict(k=[0, 0, -1, 0]), "block 2: grid index k = -1 is not a non-negative integer"),
    (dict(i=[0, 1.5, 0, 1]), "block 1: grid index i = 1.5 is not a non-negative integer"),
    (dict(x=[5.0, 15.0, 5.0, 99.0]), "block 3: coordinate x = 99.0 does not match grid index i = 1 (expected 15.0)"),
])
def test_validation_names_block_and_field(change, message):
    with pytest.raises(InputError) as err:
        BlockModel(_frame(**change), block_size=(10, 10, 10), grades=["cu"], source="model.csv")
    assert str(err.value) == "model.csv: " + message


def test_missing_columns_are_named():
    with pytest.raises(InputError, match="missing grid index column 'k'"):
        BlockModel(_frame().drop(columns="k"))
    with pytest.raises(InputError, match="missing grade column 'au'"):
        BlockModel(_frame(), grades=["au"])
    with pytest.raises(KeyError, match="has no column 'au'"):
        BlockModel(_frame())["au"]


def test_csv_and_parquet_round_trip_with_mapping(tmp_path):
    m = BlockModel(_frame(), block_size=(10, 10, 5), origin=(100, 0, 0), grades=["cu"], name="t")
    write_model(m, tmp_path / "m.csv")
    write_model(m, tmp_path / "m.parquet")
    back = read_model(tmp_path / "m.parquet")
    assert back.block_size == m.block_size and back.origin == m.origin and back.grades == ("cu",)
    pd.testing.assert_frame_equal(back.frame, m.frame)
    raw = pd.read_csv(tmp_path / "m.csv").rename(columns={"tonnage": "TONNES", "cu": "CU_PCT"})
    raw.to_csv(tmp_path / "other.csv", index=False)
    mapped = read_model(tmp_path / "other.csv", columns={"tonnage": "TONNES", "cu": "CU_PCT"},
                                 block_size=(10, 10, 5), origin=(100, 0, 0), grades=["cu"])
    pd.testing.assert_frame_equal(mapped.frame, m.frame, check_dtype=False)
    with pytest.raises(InputError, match="other.csv: column mapping au=AU: 'AU' is not in the file"):
        read_model(tmp_path / "other.csv", columns={"au": "AU"})
    with pytest.raises(InputError, match="nothere.csv: file not found"):
        read_model(tmp_path / "nothere.csv")


def test_assign_and_subset_keep_validation():
    m = BlockModel(_frame())
    m2 = m.assign(value=np.arange(4.0))
    assert "value" in m2 and "value" not in m
    sub = m2.subset(m2["cu"] > 0.3)
    assert sub.n_blocks == 2 and sub["parent_id"].tolist() == [0, 3]
    with pytest.raises(InputError, match="tonnage"):
        m.assign(tonnage=[1.0, 2.0, -3.0, 4.0])


def test_precedence_csr_and_topological_order():
    p = Precedence.from_arcs(4, [3, 3, 2], [1, 2, 0])
    assert p.predecessors(3).tolist() == [1, 2] and p.n_arcs == 3
    order = p.topological_order().tolist()
    assert all(order.index(q) < order.index(b) for b in range(4) for q in p.predecessors(b))
    with pytest.raises(InputError, match=r"precedence has a cycle: (1 -> 2 -> 1|2 -> 1 -> 2)"):
        Precedence.from_arcs(3, [2, 1], [1, 2]).topological_order()
    with pytest.raises(InputError, match="predecessor 7 out of range"):
        Precedence(np.array([0, 1]), np.array([7]))


def test_the_model_does_not_share_writes_with_the_callers_frame():
    frame = pd.DataFrame({"i": [0, 1], "j": [0, 0], "k": [0, 0], "tonnage": [10.0, 12.0], "cu": [0.5, 0.7]})
    model = BlockModel(frame, block_size=(10, 10, 5), grades=["cu"])
    frame.loc[0, "cu"] = 9.0
    frame["tonnage"] *= 2.0
    frame.iloc[1, frame.columns.get_loc("i")] = 5
    assert model["cu"].tolist() == [0.5, 0.7] and model["tonnage"].tolist() == [10.0, 12.0]
    assert model["i"].tolist() == [0, 1]


def test_the_frame_shares_the_models_columns_and_not_writes_to_them():
    model = BlockModel(pd.DataFrame({"i": [0, 1], "j": [0, 0], "k": [0, 0], "cu": [0.5, 0.7]}), grades=["cu"])
    frame = model.frame
    if int(pd.__version__.split(".")[0]) >= 3:     # copy on write: no copy of the table until a write
        assert np.shares_memory(frame["cu"].to_numpy(), model["cu"])
    frame.loc[0, "cu"] = 9.0
    frame["i"] += 3
    assert model["cu"].tolist() == [0.5, 0.7] and model["i"].tolist() == [0, 1]
