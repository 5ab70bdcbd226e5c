"""Regular grids from block centroids: grid indices, origin and block size per axis.

Along each axis the distinct centroid values (values closer than a millionth of the model's span
are one value) must sit on one spacing: every gap between neighbouring values is a whole multiple
of the smallest gap (a sparse model skips cells, so gaps of 2 or 3 blocks are fine).  The block
size is then the span divided by the number of steps, and the origin (the lower corner of cell
0) half a block below the lowest centroid.  A centroid more than `TOLERANCE` of a block from a
block centre is off the grid.  A rotated grid, or sub-blocks given without their sizes, fail
this test and are refused with the spacings found.  A block size given that divides every spacing
(50 m for centroids 100 m apart) is refused too: it would leave every other cell empty.
"""
from __future__ import annotations

import numpy as np

from orepit.data.problems import Problems, listed

TOLERANCE = 1e-3  # of the block size: how far a centroid may be from its block centre
AXES = ("x", "y", "z")


class OffGrid(Exception):
    """The centroids along one axis are not on a regular grid (``rows``: where, 0-based)."""

    def __init__(self, message: str, rows=()):
        super().__init__(message)
        self.rows = np.asarray(rows, dtype=np.int64)


def fmt(value: float) -> str:
    """A length or coordinate for messages: up to 10 significant digits, no exponent for UTM values."""
    return f"{value:.10g}"


def snap(value: float) -> float:
    """``value`` without floating-point dust below a micrometre (9.999999999999998 -> 10.0)."""
    rounded = round(value, 6)
    return rounded if abs(rounded - value) <= 1e-9 * max(1.0, abs(value)) else value


def _levels(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct values in increasing order, level of each value), merging near-equal values."""
    unique, inverse = np.unique(values, return_inverse=True)
    merge = 1e-6 * (unique[-1] - unique[0])
    group = np.concatenate([[0], np.cumsum(np.diff(unique) > merge)])
    levels = np.bincount(group, weights=unique) / np.bincount(group)
    return levels, group[inverse]


def _spacings(gaps: np.ndarray) -> str:
    """'10, 12.5 and 7.5' : the distinct gaps, most frequent first (at most six)."""
    values, counts = np.unique(np.round(gaps, 6), return_counts=True)
    order = np.lexsort((values, -counts))[:6]
    text = [f"{values[o]:g}" for o in order]
    return listed(text)


def _infer_size(values: np.ndarray, axis: str) -> tuple[float, float]:
    """(block size, lowest centroid) from the spacing of the centroids; `OffGrid` if irregular."""
    levels, level_of = _levels(values)
    if levels.size < 2:
        raise OffGrid(f"every {axis} centroid is {fmt(levels[0])} m, so the block size along {axis} cannot be "
                      f"inferred: give the block size")
    gaps = np.diff(levels)
    steps = np.rint(gaps / gaps.min())
    irregular = np.abs(gaps - steps * gaps.min()) > TOLERANCE * gaps.min()
    if irregular.any():
        common = np.unique(np.round(gaps, 6), return_counts=True)
        mode = common[0][np.argmax(common[1])]
        off_mode = np.abs(gaps / mode - np.rint(gaps / mode)) > TOLERANCE
        off_mode |= np.rint(gaps / mode) == 0
        bad = np.flatnonzero(off_mode if off_mode.any() else irregular) + 1
        raise OffGrid(f"{axis} centroids are not on a regular spacing: found spacings {_spacings(gaps)} m "
                      f"(a rotated grid, or sub-blocks without their size columns?)",
                      np.flatnonzero(np.isin(level_of, bad)))
    return snap((levels[-1] - levels[0]) / steps.sum()), levels[0]


def _levels_apart(index: np.ndarray) -> int:
    """The greatest common divisor of the gaps between the occupied grid levels (1 when no level is
    skipped everywhere); counted with `np.bincount` when the levels span no more than 8 per value."""
    shifted = index.astype(np.int64) - int(index.min())
    top = int(shifted.max())
    levels = np.flatnonzero(np.bincount(shifted)) if top <= 8 * shifted.size else np.unique(shifted)
    return int(np.gcd.reduce(np.diff(levels))) if levels.size > 1 else 1


def fit_axis(values, axis: str, size: float | None = None, origin: float | None = None):
    """(grid index of each value, origin, block size) along one axis; `OffGrid` when off the grid."""
    values = np.asarray(values, dtype=np.float64)
    given = size is not None
    if given:
        lowest = values.min()
    else:
        size, lowest = _infer_size(values, axis)        # one block between the nearest centroids
    if origin is None:
        origin = snap(lowest - size / 2)
    position = (values - origin) / size - 0.5
    index = np.rint(position)
    off = np.abs(position - index) > TOLERANCE
    if off.any():
        raise OffGrid(f"{axis} centroids are not at block centres of the grid with origin {fmt(origin)} m and "
                      f"block size {fmt(size)} m", np.flatnonzero(off))
    if (index < 0).any():
        raise OffGrid(f"{axis} centroids lie below the grid origin {fmt(origin)} m", np.flatnonzero(index < 0))
    apart = _levels_apart(index) if given else 1
    if apart > 1:
        raise OffGrid(f"{axis} centroids are {fmt(apart * size)} m apart or a multiple of it, {apart} blocks of the "
                      f"{fmt(size)} m given, so the cells between them would all be empty: is the block size "
                      f"along {axis} {fmt(apart * size)} m?")
    return index.astype(np.int64), float(origin), float(size)


def fit_grid(xyz: np.ndarray, problems: Problems, block_size=None, origin=None):
    """(indices (n, 3), origin, block size) of centroids ``xyz`` (n, 3), or None with the problems recorded.

    ``block_size`` and ``origin`` (three numbers each, m) are used when given, inferred otherwise.
    """
    index = np.zeros(xyz.shape, dtype=np.int64)
    corner, size, ok = [0.0] * 3, [0.0] * 3, True
    for a, axis in enumerate(AXES):
        try:
            index[:, a], corner[a], size[a] = fit_axis(
                xyz[:, a], axis, None if block_size is None else float(block_size[a]),
                None if origin is None else float(origin[a]))
        except OffGrid as exc:
            problems.add(axis, str(exc), exc.rows)
            ok = False
    return (index, tuple(corner), tuple(size)) if ok else None


def fit_indexed(ijk: np.ndarray, xyz: np.ndarray, problems: Problems, block_size=None, origin=None):
    """(origin, block size) of the grid on which centroids ``xyz`` (n, 3; m) sit at the centres of the
    cells their grid indices ``ijk`` (n, 3) name: x = origin + (i + 0.5) x size along each axis.
    ``block_size`` and ``origin`` are used when given, else fitted; None with the problems recorded."""
    corner, size, ok = [0.0] * 3, [0.0] * 3, True
    columns = ", ".join(problems.names.get(index, index) for index in "ijk")
    for a, (axis, index) in enumerate(zip(AXES, "ijk")):
        i, x = ijk[:, a].astype(np.float64), xyz[:, a]
        if block_size is not None:
            size[a] = float(block_size[a])
        elif np.ptp(i) == 0:
            problems.add(axis, f"every grid index {index} is {int(i[0])}, so the block size along {axis} cannot be "
                               "inferred: give the block size")
            ok = False
            continue
        else:                           # from the lowest and highest index, each the median of its blocks
            low, high = i.min(), i.max()
            size[a] = snap(float((np.median(x[i == high]) - np.median(x[i == low])) / (high - low)))
        if size[a] <= 0:
            problems.add(axis, f"{axis} centroids fall as the grid index {index} rises: orepit counts {index} up "
                               f"along {axis} (k = 0 the bottom bench); delete the index columns ({columns}) to "
                               "have the indices from the centroids")
            ok = False
            continue
        corner[a] = snap(float(np.median(x - (i + 0.5) * size[a]))) if origin is None else float(origin[a])
        expected = corner[a] + (i + 0.5) * size[a]
        off = np.flatnonzero(np.abs(x - expected) > TOLERANCE * size[a])
        if off.size:
            r = off[0]
            problems.add(axis, f"{axis} centroids are not at the centres of the cells their grid index {index} names: "
                               f"{problems.where([r])[0]} has {index} = {int(i[r])} and {axis} = {fmt(x[r])}, not "
                               f"{fmt(expected[r])} as on the grid with origin {fmt(corner[a])} m and blocks of "
                               f"{fmt(size[a])} m; delete the index columns ({columns}) to have the blocks placed "
                               "by their centroids, or the centroid columns", off)
            ok = False
    return (tuple(corner), tuple(size)) if ok else None
