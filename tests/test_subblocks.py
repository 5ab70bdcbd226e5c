"""Sub-blocked models regularised to the parent grid: tonnes and metal conserved, majority rock."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from orepit import InputError
from orepit.data.files import read_model
from orepit.data.intake import model_from_table

PARENT = np.array([10.0, 10.0, 5.0])
ORIGIN = np.array([500000.0, 7000000.0, 1800.0])
SPLITS = [                                   # how a parent cell is cut: fractions of its size per axis
    ([0.5, 0.5], [0.5, 0.5], [0.5, 0.5]),    # 2 x 2 x 2
    ([1.0], [1.0], [0.5, 0.25, 0.25]),       # uneven benches
    ([0.25, 0.75], [1.0], [1.0]),            # uneven along x
    ([0.5, 0.5], [0.25, 0.25, 0.5], [1.0]),
]


def sub_blocked(seed: int, dims=(6, 5, 4)):
    """(sub-block table as exported, parent cell of each row): some cells split, some sub-blocks dropped."""
    rng = np.random.default_rng(seed)
    rows, parents = [], []
    for cell in np.ndindex(*dims):
        corner = ORIGIN + np.array(cell) * PARENT
        if rng.random() < 0.4:
            pieces = [([1.0], [1.0], [1.0])]
        else:
            pieces = [SPLITS[rng.integers(len(SPLITS))]]
        fx, fy, fz = pieces[0]
        for ox, wx in zip(np.cumsum([0] + fx[:-1]), fx):
            for oy, wy in zip(np.cumsum([0] + fy[:-1]), fy):
                for oz, wz in zip(np.cumsum([0] + fz[:-1]), fz):
                    if len(fx) * len(fy) * len(fz) > 1 and rng.random() < 0.1:
                        continue                       # air: a sub-block that is not there
                    size = PARENT * [wx, wy, wz]
                    centre = corner + PARENT * [ox, oy, oz] + size / 2
                    rows.append([*centre, *size, rng.uniform(2.2, 3.0), rng.gamma(1.0, 0.4), rng.gamma(1.0, 0.2),
                                 rng.choice(["oxide", "sulphide", "waste"]), int(rng.integers(1, 4))])
                    parents.append(cell)
    table = pd.DataFrame(rows, columns=["XC", "YC", "ZC", "XINC", "YINC", "ZINC", "DENSITY", "CU", "AU", "ROCK",
                                        "DOMAIN"])
    table["VOLUME"] = table["XINC"] * table["YINC"] * table["ZINC"]      # as Vulcan writes it, m3
    order = rng.permutation(len(table))
    return table.iloc[order].reset_index(drop=True), np.array(parents)[order]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tonnes_and_metal_are_conserved(seed):
    table, parent_of = sub_blocked(seed)
    notes = []
    model = model_from_table(table, grades=["cu", "au"], notes=notes)
    assert model.block_size == tuple(PARENT) and model.origin == tuple(ORIGIN)
    tonnes = (table["DENSITY"] * table["XINC"] * table["YINC"] * table["ZINC"]).to_numpy()
    t = model["tonnage"]
    assert t.sum() == pytest.approx(tonnes.sum(), rel=1e-9)
    for grade in ("cu", "au"):
        assert (t * model[grade]).sum() == pytest.approx((tonnes * table[grade.upper()]).sum(), rel=1e-9)
    # per parent cell, against a brute-force sum over its sub-blocks
    key = pd.Series(list(map(tuple, parent_of)))
    by_parent = pd.DataFrame({"key": key, "t": tonnes, "metal": tonnes * table["CU"],
                              "v": table["XINC"] * table["YINC"] * table["ZINC"]}).groupby("key").sum()
    mine = pd.DataFrame({"key": list(zip(model.i, model.j, model.k)), "t": t, "metal": t * model["cu"],
                         "density": model["density"], "v": model["VOLUME"]}).set_index("key").loc[by_parent.index]
    np.testing.assert_allclose(mine["t"], by_parent["t"], rtol=1e-12)
    np.testing.assert_allclose(mine["metal"], by_parent["metal"], rtol=1e-12)
    np.testing.assert_allclose(mine["density"], by_parent["t"] / by_parent["v"], rtol=1e-12)
    np.testing.assert_allclose(mine["v"], by_parent["v"], rtol=1e-12)     # a volume column is summed
    assert notes[-1].startswith(f"sub-blocks: {len(table)} blocks regularised to {model.n_blocks} parent blocks "
                                "of 10 x 10 x 5 m (origin 500000, 7000000, 1800 m, parent size = the largest")
    assert "sub-block size): tonnage and VOLUME summed, grades and other numeric columns tonnage-weighted" in notes[-1]


def test_categories_take_the_majority_tonnage():
    table, parent_of = sub_blocked(3)
    model = model_from_table(table, grades=["cu"])
    tonnes = table["DENSITY"] * table["XINC"] * table["YINC"] * table["ZINC"]
    where = {key: b for b, key in enumerate(zip(model.i, model.j, model.k))}
    for column, name in (("ROCK", "rock"), ("DOMAIN", "DOMAIN")):
        weights = pd.DataFrame({"key": list(map(tuple, parent_of)), "value": table[column], "t": tonnes})
        best = weights.groupby(["key", "value"])["t"].sum().groupby(level=0).idxmax()
        for key, (_, value) in best.items():
            assert model[name][where[key]] == value
    assert model.frame["DOMAIN"].dtype == np.int64


def test_a_given_parent_size_reblocks_a_regular_model():
    rng = np.random.default_rng(5)
    cells = np.array(list(np.ndindex(4, 4, 2)))
    small = pd.DataFrame({"X": 2.5 + 5 * cells[:, 0], "Y": 2.5 + 5 * cells[:, 1], "Z": 2.5 + 5 * cells[:, 2],
                          "DX": 5.0, "DY": 5.0, "DZ": 5.0, "TONNES": rng.uniform(100, 300, len(cells)),
                          "CU": rng.uniform(0, 2, len(cells))})
    model = model_from_table(small, block_size=(10, 10, 10), grades=["cu"])
    assert model.dims == (2, 2, 1) and model.n_blocks == 4 and model.origin == (0.0, 0.0, 0.0)
    assert model["tonnage"].sum() == pytest.approx(small["TONNES"].sum(), rel=1e-12)
    assert (model["tonnage"] * model["cu"]).sum() == pytest.approx((small["TONNES"] * small["CU"]).sum(), rel=1e-12)


def test_sub_blocks_crossing_a_parent_or_overlapping_are_named(tmp_path):
    table, _ = sub_blocked(6)
    moved = table.copy()
    half = moved.index[moved["XINC"] == 5.0][0]
    moved.loc[half, "XC"] += 2.5                              # now straddles two parent cells
    moved.to_csv(tmp_path / "m.csv", index=False)
    with pytest.raises(InputError) as err:
        read_model(tmp_path / "m.csv", grades=["cu"])
    assert str(err.value) == (f"m.csv line {half + 2}: column XINC (dx): sub-blocks cross a boundary of the parent "
                              "cells along x (parent size 10 m, origin 500000 m; give the parent block size and "
                              "origin)")
    full = table.index[table["XINC"] * table["YINC"] * table["ZINC"] == 500.0][0]
    pd.concat([table, table.loc[[full]]]).to_csv(tmp_path / "m.csv", index=False)
    with pytest.raises(InputError) as err:
        read_model(tmp_path / "m.csv", grades=["cu"])
    assert str(err.value).splitlines() == [
        "m.csv: 2 problems in the block model:",
        f"  - 1 sub-blocks share their centroid with another (lines {full + 2}, {len(table) + 2})",
        "  - sub-blocks overlap: 1 parent cells hold more sub-block volume than their own 500 m3 "
        f"(lines {full + 2}, {len(table) + 2})"]


def test_parent_origin_comes_from_the_full_blocks():
    """The lowest sub-block starts in the middle of its parent: the full blocks fix the parent grid."""
    table = pd.DataFrame({"X": [7.5, 15.0, 25.0], "Y": [5.0, 5.0, 5.0], "Z": [2.5, 2.5, 2.5],
                          "DX": [5.0, 10.0, 10.0], "DY": [10.0] * 3, "DZ": [5.0] * 3, "TONNAGE": [1.0, 2.0, 3.0]})
    model = model_from_table(table)
    assert model.origin == (0.0, 0.0, 0.0) and model.block_size == (10.0, 10.0, 5.0)
    assert model.i.tolist() == [0, 1, 2] and model["tonnage"].tolist() == [1.0, 2.0, 3.0]
