"""Slope patterns, minimum search patterns and the implicit grid precedence."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from solvers.closure import PseudoflowSolver, is_closed, max_closure
from solvers.errors import InputError
from solvers.patterns import GridPrecedence, minimal_pattern, named_pattern, slope_offsets


def test_one_level_45_degrees_on_cubes_is_the_plus_pattern():
    off = slope_offsets((10, 10, 10), 45, 1)
    assert sorted(map(tuple, off.tolist())) == sorted(map(tuple, named_pattern("plus").tolist()))


def test_boundary_is_included_and_block_size_matters():
    # 20 x 20 x 15 m at 45 deg: level 4 reaches 60 m, so (3, 0) (60 m) is in, (2, 2) (56.6 m) in, (3, 1) out
    off = {tuple(o) for o in slope_offsets((20, 20, 15), 45, 4).tolist()}
    assert (3, 0, 4) in off and (2, 2, 4) in off and (3, 1, 4) not in off and (1, 0, 1) not in off
    steep = slope_offsets((10, 10, 10), 90, 3)          # vertical walls: the column only
    assert steep.tolist() == [[0, 0, 1], [0, 0, 2], [0, 0, 3]]


def test_sector_angles_equal_to_a_scalar_give_the_same_cone():
    a = slope_offsets((10, 12, 8), 40, 5)
    b = slope_offsets((10, 12, 8), [40, 40, 40, 40], 5)
    assert np.array_equal(a, b)
    # steeper to the north (sector 0) removes northern offsets only
    c = {tuple(o) for o in slope_offsets((10, 10, 10), [60, 45, 45, 45], 2).tolist()}
    assert (0, 1, 1) not in c and (0, -1, 1) in c and (1, 0, 1) in c


def test_bad_pattern_inputs():
    with pytest.raises(InputError, match="block size"):
        slope_offsets((0, 1, 1), 45, 1)
    with pytest.raises(InputError, match="slope"):
        slope_offsets((1, 1, 1), 0, 1)
    with pytest.raises(InputError, match="levels"):
        slope_offsets((1, 1, 1), 45, 0)
    with pytest.raises(InputError, match="dk > 0"):
        GridPrecedence((2, 2, 2), [[0, 0, 0]])
    with pytest.raises(InputError, match="unknown pattern"):
        named_pattern("star")


def _reach(offsets, max_k):
    """All offsets reachable by chains of pattern offsets up to height max_k."""
    reach = {0: {(0, 0)}}
    for k in range(1, max_k + 1):
        reach[k] = {(a + di, b + dj) for di, dj, dk in offsets for (a, b) in reach.get(k - dk, ()) if dk <= k}
    return reach


@pytest.mark.parametrize("size,slope,levels", [((10, 10, 10), 45, 8), ((20, 20, 15), 45, 8), ((5, 8, 6), 38, 6)])
def test_minimal_pattern_generates_the_cone_and_is_irreducible(size, slope, levels):
    cone = slope_offsets(size, slope, levels)
    mini = minimal_pattern(cone)
    assert len(mini) < len(cone)
    reach = _reach(mini.tolist(), levels)
    assert all((di, dj) in reach[dk] for di, dj, dk in cone.tolist())   # same closure as the cone
    assert np.array_equal(minimal_pattern(mini), mini)                  # nothing left to remove
    assert np.array_equal(minimal_pattern(named_pattern("plus")), named_pattern("plus"))


@st.composite
def grids(draw):
    dims = (draw(st.integers(1, 6)), draw(st.integers(1, 6)), draw(st.integers(1, 5)))
    pattern = draw(st.sampled_from(["plus", "nine", "cone"]))
    offsets = minimal_pattern(slope_offsets((10, 10, 10), 45, 3)) if pattern == "cone" else named_pattern(pattern)
    n = dims[0] * dims[1] * dims[2]
    values = np.array(draw(st.lists(st.integers(-9, 6), min_size=n, max_size=n)), dtype=np.float64)
    mask = None
    if draw(st.booleans()):
        mask = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    return dims, offsets, values, mask


@settings(max_examples=80, deadline=None)
@given(grids())
def test_implicit_grid_gives_the_same_pit_as_its_csr(case):
    dims, offsets, values, mask = case
    grid = GridPrecedence(dims, offsets, mask)
    csr = grid.to_precedence()
    assert grid.n_arcs == csr.n_arcs
    a = PseudoflowSolver(grid).solve(values)
    v = values if mask is None else np.where(mask, values, -1.0)   # absent cells never enter
    b = max_closure(v, csr)
    if mask is not None:
        b.solution &= mask
    assert a.objective == pytest.approx(float(values[b.solution].sum()))
    assert np.array_equal(a.solution, b.solution)
    assert is_closed(a.solution, csr)
    if mask is not None:
        assert not a.solution[~mask].any()


def test_grid_order_is_x_fastest_and_predecessors_above():
    grid = GridPrecedence((3, 2, 2), [[0, 0, 1]])
    nodes, preds = grid.arcs()
    assert sorted(zip(nodes.tolist(), preds.tolist())) == [(b, b + 6) for b in range(6)]
    # a rich bottom block at the grid edge pulls in only the blocks above it inside the grid
    values = -np.ones(12)
    values[0] = 10
    res = PseudoflowSolver(GridPrecedence((3, 2, 2), named_pattern("plus"))).solve(values)
    assert np.flatnonzero(res.solution).tolist() == [0, 6, 7, 9] and res.objective == 7
