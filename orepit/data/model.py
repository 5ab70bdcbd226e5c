"""The block model: a columnar table of blocks on a (possibly sparse) regular grid.

A pandas DataFrame holds one row per block; numpy arrays come out.  Block ``b``
is row ``b`` (ids are 0..n-1).  Grid indices ``i, j, k`` count blocks along x, y
and z, with ``k = 0`` the bottom bench.  Coordinates ``x, y, z`` are block
centres in metres when the block size and origin are known; otherwise they
equal the indices.  Standard attribute names: ``tonnage`` (t), grade columns
named by element (for example ``cu`` in %, ``au`` in g/t; listed in
``grades``), ``rock`` (rock type), ``density`` (t/m3), ``sulphur`` (%),
``bwi`` (Bond work index, kWh/t).
"""
from __future__ import annotations

import os
from typing import Iterable

import numpy as np
import pandas as pd

from solvers.errors import InputError

GRID = ("i", "j", "k")
XYZ = ("x", "y", "z")

#: pandas 3 copies a column on its first write (copy on write), so a shallow copy of a frame is already
#: independent and saves a copy of every column (about 1 s and 300 MB per million blocks of a
#: scheduled model); pandas 2 needs the deep copy.
_COPY_ON_WRITE = int(pd.__version__.split(".")[0]) >= 3


def grid_position(i: np.ndarray, j: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Linear grid position i + nx * (j + ny * k) of blocks with grid indices i, j, k (nx, ny: the
    largest i and j plus one): grid order is x fastest, then y, then z from the bottom bench."""
    if len(i) == 0:
        return np.zeros(0, np.int64)
    nx, ny = int(i.max()) + 1, int(j.max()) + 1
    return i + nx * (j + ny * k)


class BlockModel:
    """A validated block model.

    Parameters
    ----------
    frame : DataFrame with columns i, j, k (grid indices) and any attributes;
        an ``id`` column, if present, must be 0..n-1 in order and is dropped.
    block_size : (dx, dy, dz) in metres, when the grid is regular.
    origin : (x0, y0, z0) in metres: the corner of block (0, 0, 0). Default (0, 0, 0).
    grades : names of grade columns (checked for NaN and negative values).
    name, source : labels used in messages.

    >>> m = BlockModel(pd.DataFrame({"i": [0, 1], "j": [0, 0], "k": [0, 0], "tonnage": [10.0, 12.0]}),
    ...                block_size=(10, 10, 5))
    >>> m.n_blocks, m["tonnage"].sum(), m.x.tolist()
    (2, 22.0, [5.0, 15.0])
    """

    def __init__(self, frame: pd.DataFrame, *, block_size=None, origin=None,
                 grades: Iterable[str] = (), name: str = "", source: str | os.PathLike | None = None):
        self.name = name
        self.source = None if source is None else os.fspath(source)
        try:
            self.block_size = None if block_size is None else tuple(float(v) for v in block_size)
            self.origin = (0.0, 0.0, 0.0) if origin is None else tuple(float(v) for v in origin)
        except (TypeError, ValueError):
            raise InputError(f"block size {block_size!r} and origin {origin!r} must be three numbers (m)",
                             path=source, field="block_size") from None
        if self.origin is not None and (len(self.origin) != 3 or not np.isfinite(self.origin).all()):
            raise InputError(f"origin {self.origin} must be three finite coordinates (m)", path=source, field="origin")
        if isinstance(grades, str) or not all(isinstance(g, str) for g in grades):
            raise InputError(f"grades must be a list of column names, got {grades!r}", path=source, field="grades")
        self.grades = tuple(grades)
        self._frame = self._validated(frame.copy(deep=not _COPY_ON_WRITE))

    # -- validation -------------------------------------------------------------------------
    def _fail(self, message, field=None, row=None):
        raise InputError(message if row is None else f"block {row}: {message}",
                         path=self.source, field=field)

    def _validated(self, frame: pd.DataFrame) -> pd.DataFrame:
        n = len(frame)
        if "id" in frame.columns:
            ids = frame["id"].to_numpy()
            dup = pd.Index(ids).duplicated()
            if dup.any():
                self._fail(f"duplicate block id {ids[np.flatnonzero(dup)[0]]}", field="id")
            if not np.array_equal(ids, np.arange(n)):
                bad = int(np.flatnonzero(ids != np.arange(n))[0])
                self._fail(f"block ids must be 0..{n - 1} in order; row {bad} has id {ids[bad]}", field="id")
            frame = frame.drop(columns="id")
        frame = frame.reset_index(drop=True)
        for col in GRID:
            if col not in frame.columns:
                self._fail(f"missing grid index column '{col}'", field=col)
            values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64)
            bad = ~np.isfinite(values) | (values != np.round(values)) | (values < 0) | (values > 2 ** 40)
            if bad.any():
                r = int(np.flatnonzero(bad)[0])
                self._fail(f"grid index {col} = {frame[col].iloc[r]} is not a non-negative integer", col, r)
            frame[col] = values.astype(np.int64)
        if n:
            key = grid_position(frame["i"].to_numpy(), frame["j"].to_numpy(), frame["k"].to_numpy())
            dup = pd.Index(key).duplicated()
            if dup.any():
                r = int(np.flatnonzero(dup)[0])
                self._fail(f"two blocks at grid position (i, j, k) = "
                           f"({frame['i'][r]}, {frame['j'][r]}, {frame['k'][r]})", "i,j,k", r)
        if "tonnage" in frame.columns:
            t = pd.to_numeric(frame["tonnage"], errors="coerce").to_numpy(dtype=np.float64)
            bad = ~np.isfinite(t) | (t < 0)
            if bad.any():
                r = int(np.flatnonzero(bad)[0])
                self._fail(f"tonnage {frame['tonnage'].iloc[r]} is not a finite non-negative number", "tonnage", r)
            frame["tonnage"] = t
        for g in self.grades:
            if g not in frame.columns:
                self._fail(f"missing grade column '{g}'", field=g)
            v = pd.to_numeric(frame[g], errors="coerce").to_numpy(dtype=np.float64)
            bad = ~np.isfinite(v) | (v < 0)
            if bad.any():
                r = int(np.flatnonzero(bad)[0])
                self._fail(f"grade {g} = {frame[g].iloc[r]} is not a finite non-negative number", g, r)
            frame[g] = v
        if self.block_size is not None:
            if len(self.block_size) != 3 or not (np.isfinite(self.block_size).all() and min(self.block_size) > 0):
                self._fail(f"block size {self.block_size} must be three positive lengths (m)", "block_size")
            for axis, col in enumerate(XYZ):
                expect = self.origin[axis] + (frame[GRID[axis]].to_numpy() + 0.5) * self.block_size[axis]
                if col in frame.columns:
                    got = frame[col].to_numpy(dtype=np.float64)
                    off = ~np.isclose(got, expect, rtol=0, atol=1e-6 * self.block_size[axis])
                    if off.any():
                        r = int(np.flatnonzero(off)[0])
                        self._fail(f"coordinate {col} = {got[r]} does not match grid index "
                                   f"{GRID[axis]} = {frame[GRID[axis]][r]} (expected {expect[r]})", col, r)
                else:
                    frame[col] = expect
        else:
            for axis, col in enumerate(XYZ):
                if col not in frame.columns:
                    frame[col] = frame[GRID[axis]].astype(np.float64)
        return frame

    # -- access -----------------------------------------------------------------------------
    @property
    def frame(self) -> pd.DataFrame:
        """A copy of the underlying table (one row per block): under pandas 3's copy on write a
        shallow one, which costs no memory until a column of it is written."""
        return self._frame.copy(deep=not _COPY_ON_WRITE)

    @property
    def n_blocks(self) -> int:
        return len(self._frame)

    def __len__(self) -> int:
        return self.n_blocks

    @property
    def columns(self) -> list[str]:
        return list(self._frame.columns)

    def __contains__(self, name: str) -> bool:
        return name in self._frame.columns

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._frame.columns:
            raise KeyError(f"block model{' ' + self.name if self.name else ''} has no column '{name}' "
                           f"(columns: {', '.join(self.columns)})")
        return self._frame[name].to_numpy()

    i = property(lambda self: self["i"])
    j = property(lambda self: self["j"])
    k = property(lambda self: self["k"])
    x = property(lambda self: self["x"].astype(np.float64))
    y = property(lambda self: self["y"].astype(np.float64))
    z = property(lambda self: self["z"].astype(np.float64))

    @property
    def dims(self) -> tuple[int, int, int]:
        """Grid extent (nx, ny, nz) covering every block."""
        if not self.n_blocks:
            return (0, 0, 0)
        return tuple(int(self._frame[c].max()) + 1 for c in GRID)

    @property
    def is_dense(self) -> bool:
        """True when every grid cell holds exactly one block, in x-fastest order."""
        nx, ny, nz = self.dims
        if nx * ny * nz != self.n_blocks:
            return False
        return bool(np.array_equal(self.grid_index(), np.arange(self.n_blocks)))

    def grid_index(self) -> np.ndarray:
        """Linear grid position i + nx * (j + ny * k) of every block (`grid_position`)."""
        return grid_position(self.i, self.j, self.k)

    def assign(self, **columns) -> "BlockModel":
        """A new model with columns added or replaced (arrays of length n_blocks)."""
        frame = self._frame.assign(**{k: np.asarray(v) for k, v in columns.items()})
        return BlockModel(frame, block_size=self.block_size, origin=self.origin, grades=self.grades,
                          name=self.name, source=self.source)

    def subset(self, mask) -> "BlockModel":
        """The blocks where mask is True, renumbered 0..m-1 (column 'parent_id' keeps the old id)."""
        mask = np.asarray(mask, dtype=bool)
        frame = self._frame.loc[mask].assign(parent_id=np.flatnonzero(mask))
        return BlockModel(frame, block_size=self.block_size, origin=self.origin, grades=self.grades,
                          name=self.name, source=self.source)

    def __repr__(self) -> str:
        size = "x".join(f"{v:g}" for v in self.block_size) + " m" if self.block_size else "unknown size"
        return (f"BlockModel({self.name or 'unnamed'}: {self.n_blocks} blocks, grid {self.dims}, "
                f"blocks {size}, columns {self.columns})")
