"""Block models as exported: centroids under any names, the inferred grid, all problems at once."""
from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from orepit import BlockModel, InputError
from orepit.data.columns import parse_columns
from orepit.data.defaults import AssumptionsWarning, OPTIONAL_DEFAULTS
from orepit.data.files import read_model, write_model
from orepit.data.intake import model_from_table
from orepit.valuation.deposit import value_deposit
from orepit.valuation.synthetic import default_economics, synthetic_deposit

from _example_model import COLUMNS, DIMS, EXAMPLE, ORIGIN, SEED, example_csv_text


def _read(path, **kwargs):
    notes = []
    return read_model(path, assumptions=notes, **kwargs), notes


def test_example_file_is_the_generated_one():
    text = EXAMPLE.read_text()
    assert text == example_csv_text()
    assert len(text.encode()) < 1_000_000 and text.splitlines()[0] == "XC,YC,ZC,DENSITY,CU,AU"


def test_example_grid_is_inferred_from_utm_centroids():
    model, notes = _read(EXAMPLE, columns=parse_columns(COLUMNS), grades=["cu", "au"])
    assert model.origin == ORIGIN and model.block_size == (100.0, 100.0, 100.0) and model.dims == DIMS
    raw = pd.read_csv(EXAMPLE)
    assert model.n_blocks == len(raw)
    in_grid_order = raw.iloc[np.lexsort((raw["XC"], raw["YC"], raw["ZC"]))]      # the file's rows are z fastest
    np.testing.assert_array_equal(model["tonnage"], in_grid_order["DENSITY"].to_numpy() * 1e6)
    assert any("blocks numbered in grid order" in n for n in notes)
    # every block sits in the cell it came from in the generator
    source = synthetic_deposit(dims=DIMS, seed=SEED, air="remove")
    key = lambda m: m.i + 100 * (m.j + 100 * m.k)                      # noqa: E731
    mine = pd.Series(model["density"], index=key(model)).sort_index()
    theirs = pd.Series(source["density"].round(3), index=key(source)).sort_index()
    pd.testing.assert_series_equal(mine, theirs, check_names=False)
    assert any("origin and block size inferred" in n for n in notes)
    assert "tonnage: density x block volume (1000000 m3)" in notes


def _blocks():
    """A sparse 3 x 2 x 2 model with indices, and the same blocks by their UTM centroids."""
    ijk = pd.DataFrame({"i": [0, 1, 2, 0, 2, 1], "j": [0, 0, 0, 1, 1, 1], "k": [0, 0, 0, 1, 1, 1]})
    attrs = pd.DataFrame({"density": [2.6, 2.7, 2.5, 2.8, 2.65, 0.0], "cu": [0.5, 0.25, 0.0, 1.5, 0.75, 0.0],
                          "rock": ["ox", "fr", "fr", "ox", "hyp", "air"]})
    size, origin = (10.0, 12.5, 5.0), (500000.0, 7000000.0, 2000.0)
    xyz = pd.DataFrame({name: origin[a] + (ijk[c] + 0.5) * size[a]
                        for a, (name, c) in enumerate(zip(("XC", "YC", "ZC"), "ijk"))})
    return pd.concat([ijk, attrs], axis=1), pd.concat([xyz, attrs.rename(columns=str.upper)], axis=1), size, origin


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_centroid_and_index_paths_give_the_same_model(tmp_path, suffix):
    by_index, by_centroid, size, origin = _blocks()
    for name, table in (("index", by_index), ("centroid", by_centroid)):
        path = tmp_path / f"{name}{suffix}"
        table.to_csv(path, index=False) if suffix == ".csv" else table.to_parquet(path, index=False)
    a, _ = _read(tmp_path / f"index{suffix}", block_size=size, origin=origin, grades=["cu"])
    b, notes = _read(tmp_path / f"centroid{suffix}", columns={"rock": "ROCK"}, grades=["cu"])
    assert (a.block_size, a.origin, a.grades) == (b.block_size, b.origin, b.grades) == (size, origin, ("cu",))
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert a.columns == ["i", "j", "k", "density", "cu", "rock", "tonnage", "x", "y", "z"]
    # the rows in grid order (the table's last two are not): block (1, 1, 1) before (2, 1, 1)
    np.testing.assert_array_equal(a.i, [0, 1, 2, 0, 1, 2])
    np.testing.assert_allclose(b["tonnage"], by_index["density"].to_numpy()[[0, 1, 2, 3, 5, 4]] * 625.0)


def test_irregular_spacing_is_refused_with_the_spacings_and_lines(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("XC,YC,ZC,TONNES\n5,5,5,1\n15,5,5,1\n25,5,5,1\n37.5,5,5,1\n47.5,5,5,1\n15,15,15,1\n")
    with pytest.raises(InputError) as err:
        read_model(path)
    assert str(err.value) == ("m.csv line 5: column XC (x): x centroids are not on a regular spacing: found "
                              "spacings 10 and 12.5 m (a rotated grid, or sub-blocks without their size "
                              "columns?)")
    assert err.value.line == 5 and err.value.field == "XC"


def test_rotated_grid_is_refused_on_both_axes(tmp_path):
    i, j = np.meshgrid(np.arange(5), np.arange(4), indexing="ij")
    angle = np.radians(30)
    x = 10 * (i + 0.5) * np.cos(angle) - 10 * (j + 0.5) * np.sin(angle)
    y = 10 * (i + 0.5) * np.sin(angle) + 10 * (j + 0.5) * np.cos(angle)
    pd.DataFrame({"X": x.ravel() + 1e5, "Y": y.ravel() + 2e5, "Z": 5.0, "DENSITY": 2.7}).to_csv(
        tmp_path / "r.csv", index=False)
    with pytest.raises(InputError) as err:
        read_model(tmp_path / "r.csv", block_size=(10, 10, 10))
    text = str(err.value)
    assert text.startswith("r.csv: 2 problems in the block model:")
    assert "column X (x): x centroids are not at block centres of the grid with origin" in text
    assert "column Y (y): y centroids are not at block centres" in text
    with pytest.raises(InputError, match="x centroids are not on a regular spacing: found spacings"):
        read_model(tmp_path / "r.csv")


def test_every_problem_at_once_with_file_lines(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("XC,YC,ZC,DENSITY,CU,BWI\n"                # line 1
                    "5,5,5,2.7,0.5,12\n"                      # 2
                    "\n"                                      # 3 (blank: skipped, still counted)
                    "15,5,5,-2.7,0.5,12\n"                    # 4
                    "25,5,5,2.7,,12\n"                        # 5
                    "35,five,5,2.7,0.5,12\n"                  # 6
                    "45,5,5,2.7,0.5,hard\n"                   # 7
                    "55,5,5,2.7,-1,-3\n")                     # 8
    with pytest.raises(InputError) as err:
        read_model(path, grades=["cu"], columns={"au": "AU"})
    assert str(err.value) == ("m.csv: column mapping au=AU: 'AU' is not in the file "
                              "(file columns: XC, YC, ZC, DENSITY, CU, BWI)")
    with pytest.raises(InputError) as err:
        read_model(path, grades=["cu"])
    assert str(err.value).splitlines() == [
        "m.csv: 6 problems in the block model:",
        "  - column YC (y): values that are not finite numbers in 1 row: 'five' (line 6)",
        "  - column DENSITY (density): negative values in 1 row: -2.7 (line 4)",
        "  - column CU (cu): missing values in 1 row (line 5)",
        "  - column CU (cu): negative values in 1 row: -1 (line 8)",
        "  - column BWI (bwi): values that are not finite numbers in 1 row: 'hard' (line 7)",
        "  - column BWI (bwi): negative values in 1 row: -3 (line 8)",
    ]


def test_grid_problems_and_value_problems_together(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("X,Y,Z,TONNAGE\n5,5,5,1\n15,5,5,-1\n15,15,15,1\n27,5,5,1\n")
    with pytest.raises(InputError) as err:
        read_model(path)
    assert str(err.value).splitlines() == [
        "m.csv: 2 problems in the block model:",
        "  - column TONNAGE (tonnage): negative values in 1 row: -1 (line 3)",
        "  - column X (x): x centroids are not on a regular spacing: found spacings 10 and 12 m (a rotated grid, "
        "or sub-blocks without their size columns?) (line 5)",
    ]
    path.write_text("X,Y,Z,TONNAGE\n5,5,5,1\n15,5,5,1\n15,5,5,1\n25,15,15,1\n")
    with pytest.raises(InputError, match=r"1 grid cells hold more than one block, first \(i, j, k\) = \(1, 0, 0\) "
                                         r"\(lines 3, 4\)"):
        read_model(path)


def test_one_bench_needs_the_block_size(tmp_path):
    path = tmp_path / "m.csv"
    pd.DataFrame({"X": [5.0, 15.0], "Y": [5.0, 5.0], "Z": [7.5, 7.5], "TONNAGE": [1.0, 2.0]}).to_csv(path, index=False)
    with pytest.raises(InputError, match="every y centroid is 5 m, so the block size along y cannot be inferred"):
        read_model(path)
    model, notes = _read(path, block_size=(10, 10, 15))
    assert model.origin == (0.0, 0.0, 0.0) and model.dims == (2, 1, 1)
    assert notes == ["columns found by their common names: x=X, y=Y, z=Z, tonnage=TONNAGE",
                     "grid: origin inferred from the centroids: origin (0, 0, 0) m, blocks 10 x 10 x 15 m, "
                     "2 blocks in a 2 x 1 x 1 grid"]
    with pytest.raises(InputError, match="z centroids are not at block centres of the grid with origin 0 m and "
                                         "block size 10 m"):
        read_model(path, block_size=(10, 10, 10), origin=(0, 0, 0))


def test_a_block_size_that_divides_the_centroid_spacing_is_refused(tmp_path):
    path = tmp_path / "m.csv"
    x, y = np.meshgrid([50.0, 150.0, 350.0], [50.0, 150.0], indexing="ij")        # 100 m blocks, one column absent
    pd.DataFrame({"X": x.ravel(), "Y": y.ravel(), "Z": 50.0, "TONNAGE": 1.0}).to_csv(path, index=False)
    model, _ = _read(path, block_size=(100, 100, 100))
    assert model.dims == (4, 2, 1)
    with pytest.raises(InputError) as err:
        read_model(path, block_size=(50, 100, 100), assumptions=[])        # a sub-block's size given for the block's
    assert str(err.value) == ("m.csv: column X (x): x centroids are 100 m apart or a multiple of it, 2 blocks of "
                              "the 50 m given, so the cells between them would all be empty: is the block size "
                              "along x 100 m?")


def test_a_density_in_kg_per_m3_is_refused_by_line(tmp_path):
    path = tmp_path / "m.csv"
    frame = pd.DataFrame({"X": [5.0, 15.0, 25.0], "Y": 5.0, "Z": 5.0, "DENSITY": [2.7, 5.3, 2650.0]})
    frame.to_csv(path, index=False)
    with pytest.raises(InputError) as err:
        read_model(path, block_size=(10, 10, 10), assumptions=[])
    assert str(err.value) == ("m.csv line 4: column DENSITY (density): densities above 10 t/m3 (orepit reads "
                              "density in t/m3: 2.7, not 2700 kg/m3) in 1 row")
    frame.loc[2, "DENSITY"] = 2.65                                       # magnetite's 5.3 t/m3 passes
    frame.to_csv(path, index=False)
    assert np.allclose(read_model(path, block_size=(10, 10, 10), assumptions=[])["tonnage"], [2700, 5300, 2650])


def test_assumptions_are_one_warning_or_the_callers_list(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("XC,YC,ZC,SG,Cu,BWI\n5,5,5,2.7,0.5,12\n15,5,5,2.5,0.1,\n")
    with pytest.warns(AssumptionsWarning) as caught:
        model = read_model(path, block_size=(10, 10, 10), grades=["cu"], defaults=OPTIONAL_DEFAULTS)
    assert len(caught) == 1
    assumptions = caught[0].message.assumptions
    assert assumptions[0] == "columns found by their common names: x=XC, y=YC, z=ZC, density=SG, bwi=BWI, cu=Cu"
    assert "bwi: empty in 1 blocks; 14.0 kWh/t there (a Bond work index in the middle of the usual range of " \
           "porphyry ores (10-20))" in assumptions
    assert any(a.startswith("rock: not in the model; 'unknown' for every block") for a in assumptions)
    assert any(a.startswith("sulphur: not in the model; 0.0 % for every block") for a in assumptions)
    assert model["bwi"].tolist() == [12.0, 14.0] and model["rock"].tolist() == ["unknown"] * 2
    assert model["tonnage"].tolist() == [2700.0, 2500.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        notes = []
        read_model(path, block_size=(10, 10, 10), assumptions=notes, defaults=["bwi"])
        assert len(notes) == 4
    with pytest.raises(InputError, match="bwi: values that are not finite|missing values"):
        read_model(path, block_size=(10, 10, 10), assumptions=[])      # without the default, empty is a problem


def test_example_is_valued_with_defaults():
    model, notes = _read(EXAMPLE, columns=parse_columns(COLUMNS), grades=["cu", "au"],
                         defaults=[*OPTIONAL_DEFAULTS, "density"])
    econ = default_economics(model.block_size[2])     # the synthetic deposit's, without its rock tables
    econ = replace(econ, rock_column=None, processing_cost_by_rock={}, not_processable=[],
                   elements={name: replace(e, recovery_by_rock={}) for name, e in econ.elements.items()})
    deposit = value_deposit(model, econ)
    metal = model["tonnage"] * model["cu"] / 100
    np.testing.assert_allclose(deposit.metal, metal, rtol=1e-12)
    assert np.isfinite(deposit.margin).all() and (deposit.margin > 0).any()


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_inferred_grid_recovers_any_sparse_regular_grid(data):
    size = [data.draw(st.sampled_from([0.5, 2.0, 5.0, 10.0, 12.5, 20.0, 31.25])) for _ in range(3)]
    origin = [data.draw(st.integers(-10 ** 6, 10 ** 7)) * 0.5 for _ in range(3)]
    dims = [data.draw(st.integers(2, 6)) for _ in range(3)]
    cells = np.array(np.meshgrid(*[np.arange(d) for d in dims], indexing="ij")).reshape(3, -1).T
    keep = np.array(data.draw(st.lists(st.booleans(), min_size=len(cells), max_size=len(cells))))
    keep[[0, -1]] = True                                       # the corners fix origin and extent
    cells = cells[keep]
    order = np.array(data.draw(st.permutations(range(len(cells)))))
    cells = cells[order]
    xyz = np.asarray(origin) + (cells + 0.5) * np.asarray(size)
    table = pd.DataFrame({"x": xyz[:, 0], "y": xyz[:, 1], "z": xyz[:, 2], "tonnage": 1.0})
    gaps = [np.diff(np.unique(cells[:, a])) for a in range(3)]
    if any(np.any(g % g.min()) for g in gaps):       # e.g. levels 0, 2, 5: no gap is the block size
        with pytest.raises(InputError, match="not on a regular spacing"):
            model_from_table(table)
        return
    model = model_from_table(table)
    # a sparse axis whose kept cells are all k steps apart reads as blocks k times as large
    steps = np.array([np.gcd.reduce(np.diff(np.unique(cells[:, a]))) for a in range(3)])
    np.testing.assert_allclose(model.block_size, np.asarray(size) * steps)
    grid_order = np.lexsort((cells[:, 0], cells[:, 1], cells[:, 2]))      # the model's rows, whatever the table's
    np.testing.assert_allclose(np.stack([model.x, model.y, model.z], axis=1), xyz[grid_order], rtol=0, atol=1e-6)
    np.testing.assert_allclose(model.origin, np.asarray(origin) + np.asarray(size) * (1 - steps) / 2, atol=1e-9)
    np.testing.assert_array_equal(np.stack([model.i, model.j, model.k], axis=1), cells[grid_order] // steps)


def test_density_from_tonnage_when_asked(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("X,Y,Z,TONNES\n5,5,5,2700\n15,5,5,0\n5,15,15,2500\n")
    model, notes = _read(path, defaults=["density"])
    assert model["density"].tolist() == [2.7, 0.0, 2.5]
    assert notes[-1] == "density: not in the model; tonnage / block volume (1000 m3)"
    model, notes = _read(path)
    assert "density" not in model


def test_with_defaults_on_a_model_and_a_minelib_file(tmp_path):
    from orepit.data.defaults import with_defaults
    model = BlockModel(_blocks()[0].drop(columns=["rock"]), block_size=(10, 12.5, 5), grades=["cu"])
    notes = []
    filled = with_defaults(model, ["rock", "bwi"], notes)
    assert filled["rock"].tolist() == ["unknown"] * 6 and filled["bwi"].tolist() == [14.0] * 6
    assert len(notes) == 2 and "rock" not in model
    assert with_defaults(filled, ["rock", "bwi"], notes) is filled and len(notes) == 2
    write_model(model.assign(tonnage=np.ones(6)), tmp_path / "m.blocks")
    back, notes = _read(tmp_path / "m.blocks", defaults=["sulphur"])
    assert back["sulphur"].tolist() == [0.0] * 6 and notes[0].startswith("sulphur: not in the model")


def test_a_model_file_in_another_row_order_reads_as_the_same_model(tmp_path):
    """orepit's own block file sorted by grade (its ``id`` column travelling with the rows) reads back
    as the model written: the ids number the blocks (a precedence file may refer to them), whatever
    the grid order; ids that do not number the blocks 0..n-1 are refused as before."""
    model = synthetic_deposit(n_blocks=400, seed=3)
    write_model(model, tmp_path / "m.parquet")
    table = pd.read_parquet(tmp_path / "m.parquet")
    by_grade = table.sort_values("cu", ascending=False, kind="stable")
    by_grade.to_parquet(tmp_path / "by_grade.parquet", index=False)
    back, notes = _read(tmp_path / "by_grade.parquet")
    pd.testing.assert_frame_equal(back.frame[model.columns], model.frame, check_dtype=False)
    assert any(n.startswith("blocks numbered by their id column") for n in notes)
    numbered = by_grade.assign(id=np.arange(len(table)))                 # block 0 the richest
    numbered.to_parquet(tmp_path / "numbered.parquet", index=False)
    back, notes = _read(tmp_path / "numbered.parquet")
    np.testing.assert_array_equal(back["cu"], numbered["cu"])
    assert not any(n.startswith("blocks numbered") for n in notes)
    by_grade.assign(id=by_grade["id"] + 1).to_parquet(tmp_path / "bad.parquet", index=False)
    with pytest.raises(InputError, match="block ids must be 0"):
        _read(tmp_path / "bad.parquet")
