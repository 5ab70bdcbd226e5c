"""Precedence from block geometry: reproduces MineLib kd.prec and newman1.prec, sparse models."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from orepit.data.model import BlockModel
from orepit.valuation.precedence import pattern_offsets, precedence_from_geometry, precedence_from_indices, write_precedence
from solvers.errors import InputError
from solvers.patterns import GridPrecedence, minimal_pattern, named_pattern, slope_offsets


def _arc_set(prec):
    nodes, preds = prec.arcs()
    return set(zip(nodes.tolist(), preds.tolist()))


def test_kd_prec_arc_for_arc(minelib):
    from orepit.data.minelib import read_blocks, read_precedence

    blocks = read_blocks(minelib / "kd" / "kd.blocks")
    prec = precedence_from_geometry(blocks, block_size=(20, 20, 15), slope=45, levels=8)
    ref = read_precedence(minelib / "kd" / "kd.prec")
    assert prec.n_arcs == ref.n_arcs == 219_778
    assert np.array_equal(prec.indptr, ref.indptr)
    assert _arc_set(prec) == _arc_set(ref)


def test_newman1_prec_plus_pattern(minelib):
    from orepit.data.minelib import read_blocks, read_precedence

    blocks = read_blocks(minelib / "newman1" / "newman1.blocks")
    prec = precedence_from_geometry(blocks, pattern="plus")
    ref = read_precedence(minelib / "newman1" / "newman1.prec")
    assert prec.n_arcs == ref.n_arcs == 3_922
    assert np.array_equal(prec.indptr, ref.indptr) and np.array_equal(prec.indices, ref.indices)


def test_dense_grid_matches_the_implicit_grid_precedence():
    dims = (5, 4, 4)
    off = minimal_pattern(slope_offsets((10, 10, 8), 42, 4))
    ids = np.arange(np.prod(dims))
    i, j, k = ids % 5, (ids // 5) % 4, ids // 20
    prec = precedence_from_indices(i, j, k, off)
    assert _arc_set(prec) == _arc_set(GridPrecedence(dims, off).to_precedence())


def test_sparse_model_arcs_only_to_existing_blocks_and_reduction_first():
    # column of three blocks plus a block two levels up beside it; the middle side block is missing
    frame = pd.DataFrame({"i": [1, 1, 1, 2], "j": [0, 0, 0, 0], "k": [0, 1, 2, 2]})
    model = BlockModel(frame, block_size=(10, 10, 10))
    prec = precedence_from_geometry(model, slope=45, levels=2)
    # (1, 0, 1) needs (2, 0, 2) through the plus pattern; block 0 needs only block 1 (its arc to (2,0,2)
    # is implied by the reduced pattern, which is applied before restricting to existing blocks)
    assert sorted(_arc_set(prec)) == [(0, 1), (1, 2), (1, 3)]


def test_pattern_offsets_and_errors(tmp_path):
    assert np.array_equal(pattern_offsets(pattern="plus"), named_pattern("plus"))
    with pytest.raises(InputError, match="block size"):
        pattern_offsets(None, 45, 8)
    with pytest.raises(InputError, match="two blocks at grid position"):
        precedence_from_indices([0, 0], [0, 0], [1, 1], named_pattern("plus"))
    prec = precedence_from_indices([0, 0], [0, 0], [0, 1], named_pattern("plus"))
    path = tmp_path / "two.prec"
    write_precedence(path, prec)
    from orepit.data.minelib import read_precedence
    back = read_precedence(path)
    assert _arc_set(back) == {(0, 1)}


@settings(max_examples=25, deadline=None, derandomize=True)
@given(st.integers(0, 5), st.integers(0, 5), st.integers(0, 3), st.integers(0, 10_000))
def test_slope_precedence_is_invariant_under_translation(di, dj, dk, seed):
    """Shifting every block by the same grid offset gives the same arcs between the same blocks."""
    rng = np.random.default_rng(seed)
    cells = rng.choice(6 * 6 * 4, size=40, replace=False)
    i, j, k = cells % 6, (cells // 6) % 6, cells // 36
    offsets = pattern_offsets((20.0, 20.0, 15.0), 45.0, 3)
    a = precedence_from_indices(i, j, k, offsets)
    b = precedence_from_indices(i + di, j + dj, k + dk, offsets)
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.indices, b.indices)


@pytest.mark.parametrize("lookup", ["table", "search"])
@settings(max_examples=30, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10_000), share=st.floats(0.05, 1.0))
def test_arcs_equal_a_dictionary_of_positions(lookup, seed, share):
    """Both lookups (table of cells, binary search) give the arcs of a plain dictionary of positions,
    each block's predecessors ascending, block ids in a random order."""
    import orepit.valuation.precedence as geometry
    rng = np.random.default_rng(seed)
    dims = (7, 5, 6)
    cells = rng.permutation(np.prod(dims))[:max(1, int(share * np.prod(dims)))]
    i, j, k = cells % 7, (cells // 7) % 5, cells // 35
    offsets = pattern_offsets((10.0, 10.0, 10.0), 45.0, 3)
    at = {(a, b, c): block for block, (a, b, c) in enumerate(zip(i.tolist(), j.tolist(), k.tolist()))}
    expected = [sorted(at[(a + di, b + dj, c + dk)] for di, dj, dk in offsets.tolist()
                       if (a + di, b + dj, c + dk) in at) for a, b, c in zip(i.tolist(), j.tolist(), k.tolist())]
    limit = geometry.TABLE_CELLS_PER_BLOCK
    geometry.TABLE_CELLS_PER_BLOCK = 10 ** 9 if lookup == "table" else 0
    try:
        prec = precedence_from_indices(i, j, k, offsets)
        with pytest.raises(InputError, match=r"two blocks at grid position \(i, j, k\) = \(%d, %d, %d\)"
                                             % (i[-1], j[-1], k[-1])):
            precedence_from_indices(np.append(i, i[-1]), np.append(j, j[-1]), np.append(k, k[-1]), offsets)
    finally:
        geometry.TABLE_CELLS_PER_BLOCK = limit
    assert [prec.predecessors(b).tolist() for b in range(cells.size)] == expected
