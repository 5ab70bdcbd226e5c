"""Sub-blocked models (Datamine, Vulcan and similar exports) regularised to their parent grid.

A sub-blocked model holds parent cells of one size, some of them split into sub-blocks of varying
size; each row gives a block's centroid ``x, y, z`` and its size ``dx, dy, dz`` (m).  Every
sub-block is assigned to the parent cell that holds its centroid and must lie inside it.  Per
parent cell:

- ``tonnage`` is the sum of the sub-blocks' tonnages;
- ``density`` (when present) is that tonnage over the sub-blocks' volume (empty space not counted);
- a numeric column named ``volume`` (any case; Vulcan writes one, in m3) is summed, as tonnage is;
- every other numeric (float) column - grades, work index, sulphur - is the tonnage-weighted mean,
  so that tonnage x grade (metal) is conserved; a parent without tonnage takes the volume-weighted
  mean;
- every categorical, text, integer or boolean column (rock type, domain codes) takes the value
  that holds the most tonnage (the most volume when the parent has no tonnage).

The parent block size is given, or inferred as the largest sub-block size along each axis.  The
parent origin is given, or inferred from the full-size blocks (which sit on the parent grid), or
else from the lowest sub-block corner.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from orepit.data.grid import AXES, TOLERANCE, fmt, snap
from orepit.data.problems import Problems

SIZES = ("dx", "dy", "dz")
# Columns (their names in lower case) summed over a parent's sub-blocks, as tonnage is: quantities of
# the block, not of its rock (Vulcan's exports carry each block's volume, m3).
SUMMED = ("volume",)


def parent_origin(corner: np.ndarray, size: np.ndarray, parent: float) -> float:
    """Lower corner of the parent grid along one axis, from the sub-blocks' lower corners."""
    full = np.abs(size - parent) <= TOLERANCE * parent
    lowest = corner.min()
    if not full.any():
        return snap(lowest)
    phase = corner[full][0]
    return snap(phase - np.ceil((phase - lowest) / parent - TOLERANCE) * parent)


def regularise(frame: pd.DataFrame, problems: Problems, parent_size=None, origin=None):
    """(parent-block table with i, j, k, x, y, z, origin, parent size), or None with the problems recorded.

    ``frame`` has columns x, y, z, dx, dy, dz (m) and ``tonnage`` (t); sizes and tonnage are
    checked by the caller.
    """
    n = len(frame)
    centre = frame[list(AXES)].to_numpy(dtype=np.float64)
    sizes = frame[list(SIZES)].to_numpy(dtype=np.float64)
    parent = sizes.max(axis=0) if parent_size is None else np.asarray(parent_size, dtype=np.float64)
    parent = np.array([snap(p) for p in parent])
    index = np.zeros((n, 3), dtype=np.int64)
    corner0 = np.zeros(3)
    ok = True
    for a, axis in enumerate(AXES):
        low = centre[:, a] - sizes[:, a] / 2
        corner0[a] = parent_origin(low, sizes[:, a], parent[a]) if origin is None else float(origin[a])
        index[:, a] = np.floor((centre[:, a] - corner0[a]) / parent[a]).astype(np.int64)
        cell_low = corner0[a] + index[:, a] * parent[a]
        tol = TOLERANCE * parent[a]
        outside = (low < cell_low - tol) | (low + sizes[:, a] > cell_low + parent[a] + tol) | (index[:, a] < 0)
        if outside.any():
            problems.add(SIZES[a], f"sub-blocks cross a boundary of the parent cells along {axis} (parent size "
                                   f"{fmt(parent[a])} m, origin {fmt(corner0[a])} m; give the parent block size and "
                                   f"origin)", np.flatnonzero(outside))
            ok = False
    if not ok:
        return None
    same = frame.duplicated(list(AXES), keep=False).to_numpy()
    if same.any():
        problems.add(None, f"{int(same.sum()) - int(frame[same].duplicated(list(AXES)).sum())} sub-blocks share "
                           "their centroid with another", np.flatnonzero(same))
    dims = index.max(axis=0) + 1
    cell = index[:, 0] + dims[0] * (index[:, 1] + dims[1] * index[:, 2])
    volume = sizes.prod(axis=1)
    cells, group = np.unique(cell, return_inverse=True)
    filled = np.bincount(group, weights=volume)
    over = filled > parent.prod() * (1 + 1e-6)
    if over.any():
        problems.add(None, f"sub-blocks overlap: {int(over.sum())} parent cells hold more sub-block volume than "
                           f"their own {fmt(parent.prod())} m3", np.flatnonzero(over[group]))
    if problems:
        return None
    out = _aggregate(frame.drop(columns=[*AXES, *SIZES, "id"], errors="ignore"), group, volume, filled)
    i, j, k = cells % dims[0], (cells // dims[0]) % dims[1], cells // (dims[0] * dims[1])
    grid = {"i": i, "j": j, "k": k}
    for a, axis in enumerate(AXES):
        grid[axis] = corner0[a] + ((i, j, k)[a] + 0.5) * parent[a]
    parents = pd.concat([pd.DataFrame(grid), out], axis=1)
    return parents, tuple(float(c) for c in corner0), tuple(float(p) for p in parent)


def _aggregate(frame: pd.DataFrame, group: np.ndarray, volume: np.ndarray, filled: np.ndarray) -> pd.DataFrame:
    """One row per parent (``group`` numbers them 0..m-1) from the sub-block attributes."""
    m = filled.size
    tonnage = frame["tonnage"].to_numpy(dtype=np.float64)
    tonnes = np.bincount(group, weights=tonnage, minlength=m)
    columns, added = {}, summed(frame)
    for name in frame.columns:
        s = frame[name]
        if name == "tonnage":
            columns[name] = tonnes
        elif name == "density":
            columns[name] = np.where(filled > 0, tonnes / np.where(filled > 0, filled, 1), 0.0)
        elif name in added:
            columns[name] = np.bincount(group, weights=s.to_numpy(dtype=np.float64), minlength=m)
        elif pd.api.types.is_float_dtype(s.dtype):
            v = s.to_numpy(dtype=np.float64)
            by_t = np.bincount(group, weights=tonnage * v, minlength=m) / np.where(tonnes > 0, tonnes, 1)
            by_v = np.bincount(group, weights=volume * v, minlength=m) / filled
            columns[name] = np.where(tonnes > 0, by_t, by_v)
        else:
            columns[name] = _majority(s, group, tonnage, volume)
    return pd.DataFrame(columns)


def summed(frame: pd.DataFrame) -> list[str]:
    """The columns of ``frame`` summed over a parent's sub-blocks besides tonnage: the numeric ones
    named in `SUMMED`."""
    return [c for c in frame.columns if str(c).lower() in SUMMED and pd.api.types.is_numeric_dtype(frame[c].dtype)]


def _majority(values: pd.Series, group: np.ndarray, tonnage: np.ndarray, volume: np.ndarray) -> pd.Series:
    """Per parent, the value holding the most tonnage (then the most volume)."""
    codes, labels = pd.factorize(values, sort=True)
    table = pd.DataFrame({"g": group, "c": codes, "t": tonnage, "v": volume}).groupby(["g", "c"], sort=True).sum()
    table = table.reset_index().sort_values(["g", "t", "v", "c"], ascending=[True, False, False, True])
    best = table.drop_duplicates("g")["c"].to_numpy()
    chosen = pd.Series(labels.take(np.where(best < 0, 0, best)), dtype=values.dtype)
    if (best < 0).any():
        chosen[best < 0] = None
    return chosen
