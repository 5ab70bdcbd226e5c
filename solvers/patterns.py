"""Slope patterns on regular block grids and the implicit grid precedence.

Grid order: block ``(i, j, k)`` has id ``i + nx * (j + ny * k)`` (x fastest, then
y, then z), ``k = 0`` is the bottom bench.  A pattern is an array of offsets
``(di, dj, dk)`` with ``dk > 0``: block ``(i, j, k)`` needs block
``(i + di, j + dj, k + dk)`` (its predecessors are above it).  Blocks outside
the grid impose nothing, so a pit may reach the grid edge.

Slope cones follow the usual rule (e.g. MineLib kd): for each level
``k = 1..levels`` above a block, the blocks whose horizontal offset satisfies
``(dx*di)^2 + (dy*dj)^2 <= (dz*k / tan(slope))^2`` (boundary included).  A
*minimum search pattern* (Caccetta and Giannini 1988) keeps only the offsets not
implied by chains of other offsets (`minimal_pattern`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import InputError
from .problem import Precedence

NAMED_PATTERNS = {
    # same column and its four side neighbours one level up (MineLib newman1, "+")
    "plus": np.array([[0, 0, 1], [-1, 0, 1], [1, 0, 1], [0, -1, 1], [0, 1, 1]], dtype=np.int64),
    # same column only (vertical precedence)
    "column": np.array([[0, 0, 1]], dtype=np.int64),
    # the 3 x 3 blocks one level up ("1-9" pattern)
    "nine": np.array([[di, dj, 1] for dj in (-1, 0, 1) for di in (-1, 0, 1)], dtype=np.int64),
}


def named_pattern(name: str) -> np.ndarray:
    """Offsets of a named pattern: 'plus' (1-5, newman1), 'nine' (1-9) or 'column'."""
    try:
        return NAMED_PATTERNS[name].copy()
    except KeyError:
        raise InputError(f"unknown pattern '{name}' (known: {', '.join(NAMED_PATTERNS)})", field="pattern") from None


def _sector_angle(slope, di, dj, dx, dy) -> float:
    """Slope angle (degrees) that applies to horizontal offset (di, dj)."""
    if np.ndim(slope) == 0:
        return float(slope)
    angles = np.asarray(slope, dtype=np.float64)
    m = angles.size
    # azimuth clockwise from north (+y), sector s centred on s * 360/m degrees
    az = math.degrees(math.atan2(di * dx, dj * dy)) % 360.0
    s = int(math.floor((az + 180.0 / m) / (360.0 / m))) % m
    return float(angles[s])


def slope_offsets(block_size=(1.0, 1.0, 1.0), slope=45.0, levels: int = 1, tol: float = 1e-9) -> np.ndarray:
    """All offsets (di, dj, dk) of the slope cone over ``levels`` benches.

    block_size: (dx, dy, dz) in metres.  slope: overall slope angle in degrees
    from horizontal, or a sequence of m angles for m equal azimuth sectors
    (sector 0 centred on north = +y, then clockwise).  For level dk the offsets
    with ``(dx*di)^2 + (dy*dj)^2 <= (dz*dk / tan(angle))^2`` are kept (boundary
    included, relative tolerance ``tol``).  Returned sorted by dk, then distance.
    """
    dx, dy, dz = (float(v) for v in block_size)
    if min(dx, dy, dz) <= 0:
        raise InputError(f"block size {block_size} must be three positive lengths (m)", field="block_size")
    angles = np.atleast_1d(np.asarray(slope, dtype=np.float64))
    if angles.size == 0 or np.any(~np.isfinite(angles)) or np.any(angles <= 0) or np.any(angles > 90):
        raise InputError(f"slope angle(s) {slope} must be in (0, 90] degrees", field="slope")
    levels = int(levels)
    if levels < 1:
        raise InputError(f"levels must be at least 1, got {levels}", field="levels")
    out = []
    min_angle = float(angles.min())
    for k in range(1, levels + 1):
        reach = dz * k / math.tan(math.radians(min_angle)) if min_angle < 90 else 0.0
        ri = int(math.floor(reach / dx + 1e-9))
        rj = int(math.floor(reach / dy + 1e-9))
        for dj in range(-rj, rj + 1):
            for di in range(-ri, ri + 1):
                ang = _sector_angle(slope, di, dj, dx, dy)
                r = 0.0 if ang >= 90 else dz * k / math.tan(math.radians(ang))
                d2 = (dx * di) ** 2 + (dy * dj) ** 2
                if d2 <= r * r * (1 + tol) + tol:
                    out.append((di, dj, k, d2))
    out.sort(key=lambda t: (t[2], t[3], t[1], t[0]))
    return np.array([t[:3] for t in out], dtype=np.int64).reshape(-1, 3)


def minimal_pattern(offsets) -> np.ndarray:
    """Offsets not implied by a chain of two or more other offsets (transitive reduction).

    An offset o is dropped when o = a1 + a2 + ... (at least two terms, each in the
    pattern); since every dk > 0 the chains are finite.  Order of kept offsets is kept.
    """
    off = _check_offsets(offsets)
    if off.size == 0:
        return off
    max_k = int(off[:, 2].max())
    by_level: dict[int, set] = {}
    for di, dj, dk in off.tolist():
        by_level.setdefault(dk, set()).add((di, dj))
    # reach[k]: horizontal offsets reachable at height k by sums of >= 1 pattern offsets
    reach: list[set] = [set() for _ in range(max_k + 1)]
    # reach2[k]: reachable by sums of >= 2 offsets
    reach2: list[set] = [set() for _ in range(max_k + 1)]
    for k in range(1, max_k + 1):
        r1 = set(by_level.get(k, ()))
        r2 = set()
        for a_k, a_set in by_level.items():
            rest = k - a_k
            if rest < 1:
                continue
            base = reach[rest]
            for (ai, aj) in a_set:
                for (bi, bj) in base:
                    r2.add((ai + bi, aj + bj))
        reach[k] = r1 | r2
        reach2[k] = r2
    keep = [not ((di, dj) in reach2[dk]) for di, dj, dk in off.tolist()]
    return off[np.array(keep, dtype=bool)]


def implied_chains(offsets) -> list[np.ndarray]:
    """For each offset of a pattern (in its order), how the minimal pattern implies it.

    An offset `minimal_pattern` keeps gets an empty (0, 3) array; one it drops gets the steps
    (q, 3), q >= 2, of a chain of minimal offsets summing to it: one whose partial sums lie between 0
    and the offset on both horizontal axes when there is one (on a grid it then stays inside wherever
    its ends are), else any; then the shortest (ties: partial sums inside the pattern first, then the
    lowest).  Block b reaches b + o through the blocks at the partial
    sums b + m1, b + m1 + m2, ..., each taking the next step.
    """
    full = _check_offsets(offsets)
    kept = minimal_pattern(full)
    steps = [tuple(o) for o in kept.tolist()]
    inside = {tuple(o) for o in full.tolist()}
    top = int(full[:, 2].max()) if full.size else 0
    # best[s] = (rank, the last step) of the chain of minimal offsets chosen for s; rank = (not boxed, steps):
    # a boxed chain has every partial sum between 0 and s, axis by axis, so on a grid it stays inside
    # whenever its two ends are inside
    best: dict = {}
    level: list[list] = [[] for _ in range(top + 1)]
    for k in range(1, top + 1):
        found: dict = {}
        for m in steps:
            if m[2] == k:
                found[m] = ((0, 1, 0, 0, m), m)
                continue
            if m[2] > k:
                continue
            for a in level[k - m[2]]:
                t = (a[0] + m[0], a[1] + m[1], k)
                boxed = best[a][0][0] == 0 and _between(a, t)
                rank = (0 if boxed else 1, best[a][0][1] + 1, a not in inside, a[2], a)
                if t not in found or rank < found[t][0]:
                    found[t] = (rank, m)
        best.update(found)
        level[k] = list(found)
    kept_set = set(steps)
    chains = []
    for o in full.tolist():
        o = tuple(o)
        chain = []
        while o not in kept_set:                # walk back the last steps to a minimal offset
            m = best[o][1]
            chain.append(m)
            o = (o[0] - m[0], o[1] - m[1], o[2] - m[2])
        if chain:
            chain.append(o)
        chains.append(np.array(chain[::-1], dtype=np.int64).reshape(-1, 3))
    return chains


def _between(a, t) -> bool:
    """Whether offset a lies between 0 and t on each horizontal axis."""
    return all(min(0, tv) <= av <= max(0, tv) for av, tv in zip(a[:2], t[:2]))


def _check_offsets(offsets) -> np.ndarray:
    off = np.asarray(offsets, dtype=np.int64)
    if off.size == 0:
        return off.reshape(0, 3)
    if off.ndim != 2 or off.shape[1] != 3:
        raise InputError(f"offsets must have shape (m, 3), got {off.shape}", field="offsets")
    if np.any(off[:, 2] <= 0):
        raise InputError("offsets must point upwards (dk > 0)", field="offsets")
    _, first = np.unique(off, axis=0, return_index=True)
    return off[np.sort(first)]


@dataclass(frozen=True, eq=False)
class GridPrecedence:
    """Implicit precedence on a regular grid: block (i, j, k) needs (i+di, j+dj, k+dk).

    dims: (nx, ny, nz) blocks; offsets: (m, 3) pattern with dk > 0; present_mask:
    optional boolean per grid cell; absent cells (air) are never in the pit and
    impose nothing.  Node ids are ``i + nx * (j + ny * k)``.
    """

    dims: tuple
    offsets: np.ndarray
    present_mask: np.ndarray | None = None

    def __post_init__(self):
        dims = tuple(int(v) for v in self.dims)
        if len(dims) != 3 or min(dims) < 1:
            raise InputError(f"grid dims {self.dims} must be three positive counts", field="dims")
        if dims[0] * dims[1] * dims[2] >= 2 ** 31 - 2:
            raise InputError(f"grid {dims} has too many cells (limit 2^31)", field="dims")
        off = _check_offsets(self.offsets)
        object.__setattr__(self, "dims", dims)
        object.__setattr__(self, "offsets", off)
        if self.present_mask is not None:
            mask = np.ascontiguousarray(self.present_mask, dtype=bool).reshape(-1)
            if mask.size != self.n_nodes:
                raise InputError(f"present_mask has {mask.size} cells for a grid of {self.n_nodes}")
            object.__setattr__(self, "present_mask", mask)

    @property
    def n_nodes(self) -> int:
        nx, ny, nz = self.dims
        return nx * ny * nz

    @property
    def n_arcs(self) -> int:
        """Number of arcs the pattern implies inside the grid (between present cells)."""
        nx, ny, nz = self.dims
        if self.present_mask is None:
            return int(sum(max(0, nx - abs(di)) * max(0, ny - abs(dj)) * max(0, nz - dk)
                           for di, dj, dk in self.offsets.tolist()))
        return int(self.arcs()[0].size)

    def arcs(self) -> tuple[np.ndarray, np.ndarray]:
        """(node, predecessor) arrays of all arcs (materialised; for small grids and tests)."""
        nx, ny, nz = self.dims
        ids = np.arange(self.n_nodes, dtype=np.int64)
        i, j, k = ids % nx, (ids // nx) % ny, ids // (nx * ny)
        nodes, preds = [], []
        for di, dj, dk in self.offsets.tolist():
            ok = (i + di >= 0) & (i + di < nx) & (j + dj >= 0) & (j + dj < ny) & (k + dk < nz)
            src = ids[ok]
            dst = src + di + nx * (dj + ny * dk)
            if self.present_mask is not None:
                keep = self.present_mask[src] & self.present_mask[dst]
                src, dst = src[keep], dst[keep]
            nodes.append(src)
            preds.append(dst)
        if not nodes:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(nodes), np.concatenate(preds)

    def to_precedence(self) -> Precedence:
        """The same precedence as explicit CSR arcs."""
        nodes, preds = self.arcs()
        return Precedence.from_arcs(self.n_nodes, nodes, preds)

    @classmethod
    def from_slope(cls, dims, block_size, slope=45.0, levels: int = 8, present_mask=None) -> "GridPrecedence":
        """Grid precedence of the minimal pattern of a slope cone (see `slope_offsets`)."""
        return cls(dims, minimal_pattern(slope_offsets(block_size, slope, levels)), present_mask)
