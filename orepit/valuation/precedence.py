"""Precedence from geometry for block lists (sparse or irregular models).

The slope patterns of `solvers.patterns` materialised as CSR arcs between the
blocks that exist: block ``b`` at grid position ``(i, j, k)`` needs every
existing block at ``(i + di, j + dj, k + dk)`` for each offset of the
*minimal* pattern (offsets implied by chains of others removed first, then the
arcs restricted to blocks present).  This is the rule behind MineLib's
``kd.prec`` (20 x 20 x 15 m blocks, 45 degrees, 8 levels) and ``newman1.prec``
(the 'plus' pattern).
"""
from __future__ import annotations

import numba
import numpy as np

from solvers.errors import InputError
from solvers.patterns import implied_chains, minimal_pattern, named_pattern, slope_offsets
from solvers.problem import Precedence
from orepit.data.minelib import write_precedence as _write
from orepit.valuation.slopes import SlopeTable

#: Overall slope angle (degrees) when none is given.
SLOPE_DEGREES = 45.0
#: Benches the slope cone spans when none is given.  A cone over more benches follows the slope
#: angle more closely, at the cost of more arcs: on the 62,500-block demo deposit (40 m cubes, 45
#: degrees) the ultimate pit's value is 2.6 % above that of a 12-bench cone with 4 benches and 0.5 %
#: above it with 8 (1.7 times the arcs of 4); 8 is also the depth of MineLib's kd precedences.
SLOPE_BENCHES = 8


def pattern_offsets(block_size=None, slope=SLOPE_DEGREES, levels: int = SLOPE_BENCHES,
                    pattern: str | None = None, minimal: bool = True) -> np.ndarray:
    """Offsets (di, dj, dk) for a named pattern or a slope cone (degrees, over ``levels`` benches)."""
    if pattern is not None:
        off = named_pattern(pattern)
    else:
        if block_size is None:
            raise InputError("block size (dx, dy, dz in m) is needed for a slope pattern", field="block_size")
        off = slope_offsets(block_size, slope, levels)
    return minimal_pattern(off) if minimal else off


def precedence_from_indices(i, j, k, offsets) -> Precedence:
    """CSR precedence of blocks at grid indices (i, j, k) under a pattern of offsets.

    Arcs go only to blocks that exist; predecessors of each block are listed in
    ascending id order.  Duplicate positions raise `InputError`.  Blocks are found by a
    table of the padded grid's cells when it holds at most `TABLE_CELLS_PER_BLOCK` cells per
    block (dense models), else by binary search in the sorted cell keys; both in parallel.
    """
    off = np.asarray(offsets, dtype=np.int64).reshape(-1, 3)
    grid = _BlockGrid(i, j, k, off)
    if grid.n == 0:
        return Precedence.empty(0)
    return grid.arcs(_Patterns(grid, [off], [[_NO_CHAIN] * off.shape[0]]), np.zeros(0, np.int32))


def precedence_by_domain(i, j, k, domain, patterns) -> Precedence:
    """CSR precedence of blocks at grid indices (i, j, k) when each block has its own slope pattern.

    domain: per block, the index of its pattern in ``patterns`` (full slope patterns, one per
    distinct cone; equal cones should share one index), or None when there is one pattern.  The rule: block b needs every existing
    block at b + o for each offset o of ``patterns[domain[b]]``, and the precedence is the
    transitive closure of these arcs, so a chain of arcs uses, leg by leg, the pattern of the block
    each leg starts from.  Fewer arcs give the same closure: every block has the arcs of its
    pattern's minimal offsets (`solvers.patterns.minimal_pattern`), and the arc of an offset the
    minimal pattern drops only when that offset's chain (`solvers.patterns.implied_chains`) fails
    at b: it leaves the grid, or a block on it (at b + m1 + ... + mi) is of a domain whose minimal
    pattern lacks the chain's next step.  Where the chain holds, the arc is implied through those
    blocks.  A cell inside the grid but absent from the model does not break a chain (the convention
    of `precedence_from_indices`).  With one angle for every block this is exactly
    `precedence_from_indices` on the minimal pattern.  Each block is decided in parallel (numba).
    """
    full = [np.asarray(p, dtype=np.int64).reshape(-1, 3) for p in patterns]
    chains = [implied_chains(p) for p in full]
    if len(full) == 1:          # one pattern: only a chain that can leave the grid can fail
        keep = [c.size == 0 or not _boxed(o, c) for o, c in zip(full[0], chains[0])]
        full, chains = [full[0][keep]], [[c for c, kept in zip(chains[0], keep) if kept]]
    reach = np.concatenate(full + [np.cumsum(c, axis=0) for cs in chains for c in cs if c.size]
                           + [_NO_CHAIN])
    grid = _BlockGrid(i, j, k, reach)
    if grid.n == 0:
        return Precedence.empty(0)
    domain = np.zeros(0, np.int32) if domain is None else np.ascontiguousarray(domain, dtype=np.int32).ravel()
    if domain.size and domain.size != grid.n:
        raise InputError(f"{domain.size} domains for {grid.n} blocks", field="domain")
    if domain.size and (domain.min() < 0 or domain.max() >= len(full)):
        raise InputError(f"domain indices must be in [0, {len(full)})", field="domain")
    return grid.arcs(_Patterns(grid, full, chains), domain)


def _boxed(offset, steps) -> bool:
    """Whether every partial sum of ``steps`` lies between 0 and ``offset`` on both horizontal axes
    (then, on a grid, the chain stays inside wherever its two ends are)."""
    sums = np.cumsum(steps, axis=0)[:, :2]
    low, high = np.minimum(0, offset[:2]), np.maximum(0, offset[:2])
    return bool(np.all((sums >= low) & (sums <= high)))


_NO_CHAIN = np.zeros((0, 3), dtype=np.int64)


class _Patterns:
    """Patterns as flat arrays for the kernels: the offsets of pattern c are entries
    ``start[c]:start[c + 1]`` (cell-key differences ``key``); entry e's chain holds cells
    ``cell[chain[e]:chain[e + 1]]``, from each of which the chain takes step ``step`` (an index into
    the distinct steps); ``minimal[c, s]``: step s is in pattern c's minimal pattern."""

    def __init__(self, grid, patterns, chains):
        self.start = np.zeros(len(patterns) + 1, dtype=np.int64)
        np.cumsum([p.shape[0] for p in patterns], out=self.start[1:])
        self.key = grid.keys(np.concatenate(patterns + [_NO_CHAIN]))
        steps = sorted({tuple(m) for cs in chains for c in cs for m in c.tolist()})
        index = {m: n for n, m in enumerate(steps)}
        self.minimal = np.zeros((len(patterns), max(len(steps), 1)), dtype=np.bool_)
        for c, p in enumerate(patterns):
            kept = [index[o] for o, ch in zip(map(tuple, p.tolist()), chains[c]) if ch.size == 0 and o in index]
            self.minimal[c, kept] = True
        entries = [ch for cs in chains for ch in cs]
        self.chain = np.zeros(len(entries) + 1, dtype=np.int64)
        np.cumsum([max(ch.shape[0] - 1, 0) for ch in entries], out=self.chain[1:])
        self.cell = grid.keys(np.concatenate([np.cumsum(ch, axis=0)[:-1] for ch in entries if ch.size] + [_NO_CHAIN]))
        self.step = np.array([index[tuple(m)] for ch in entries if ch.size for m in ch[1:].tolist()], dtype=np.int64)


#: Largest padded grid (cells per block) looked up through a table of cells rather than a search.
TABLE_CELLS_PER_BLOCK = 8


class _BlockGrid:
    """Blocks at grid indices (i, j, k) as keys of a grid padded so that every offset of ``reach``
    stays inside it, with the lookup from a cell key to its block (a table or a sorted search)."""

    def __init__(self, i, j, k, reach):
        i, j, k = (np.asarray(a, dtype=np.int64).ravel() for a in (i, j, k))
        if not (i.size == j.size == k.size):
            raise InputError("block index columns i, j, k differ in length")
        self.n = n = i.size
        if n == 0:
            return
        if min(i.min(), j.min(), k.min()) < 0:
            raise InputError("block indices i, j, k must be non-negative")
        self.pad = pad = int(np.abs(reach).max()) if reach.size else 0
        self.nx, self.ny = int(i.max()) + 1, int(j.max()) + 1
        self.sx = sx = self.nx + 2 * pad
        self.sy = sy = self.ny + 2 * pad
        cells = sx * sy * (int(k.max()) + 1 + 2 * pad)
        self.key = key = (i + pad) + sx * ((j + pad) + sy * (k + pad))
        del i, j, k
        if cells <= TABLE_CELLS_PER_BLOCK * n:
            self.table = table = np.full(cells, -1, dtype=np.int64)
            table[key] = np.arange(n)
            clash = np.flatnonzero(table[key] != np.arange(n))
            self.sorted_keys = self.order = np.zeros(0, np.int64)
            if clash.size:
                _duplicate(key, int(table[key[clash[0]]]), int(clash[0]), pad, sx, sy)
        else:
            self.table = np.zeros(0, np.int64)
            self.order = order = np.argsort(key, kind="stable")
            self.sorted_keys = sorted_keys = key[order]
            dup = np.flatnonzero(np.diff(sorted_keys) == 0)
            if dup.size:
                _duplicate(key, int(order[dup[0]]), int(order[dup[0] + 1]), pad, sx, sy)

    def keys(self, offsets) -> np.ndarray:
        """Cell-key differences of (m, 3) offsets."""
        off = np.asarray(offsets, dtype=np.int64).reshape(-1, 3)
        return off[:, 0] + self.sx * (off[:, 1] + self.sy * off[:, 2])

    def arcs(self, patterns: "_Patterns", domain) -> Precedence:
        """CSR arcs of every block under the pattern of its domain (pattern 0 for every block when
        ``domain`` is empty)."""
        p = patterns
        bounds = np.array([self.sx, self.sy, self.pad, self.nx, self.ny], dtype=np.int64)
        args = (self.key, domain, p.key, p.start, p.chain, p.cell, p.step, p.minimal, bounds, self.table,
                self.sorted_keys, self.order)
        counts = np.empty(self.n, dtype=np.int64)
        _count_predecessors(*args, counts)
        indptr = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        del counts
        indices = np.empty(int(indptr[-1]), dtype=np.int64)
        _fill_predecessors(*args, indptr, indices)
        return Precedence(indptr, indices)


def _duplicate(key, first, second, pad, sx, sy):
    """Raise the error naming the grid position two blocks share."""
    cell = int(key[second])
    i, j, k = cell % sx - pad, (cell // sx) % sy - pad, cell // (sx * sy) - pad
    raise InputError(f"two blocks at grid position (i, j, k) = ({i}, {j}, {k}) (blocks {min(first, second)} "
                     f"and {max(first, second)})", field="i,j,k")


@numba.njit(cache=True, inline="always")
def _block_at(cell, table, sorted_keys, order):
    """The block at a padded-grid cell key, or -1."""
    if table.size:
        return table[cell]
    pos = np.searchsorted(sorted_keys, cell)
    if pos < sorted_keys.size and sorted_keys[pos] == cell:
        return order[pos]
    return -1


@numba.njit(cache=True, inline="always")
def _needs(b, e, key, domain, chain, cell, step, minimal, bounds, table, sorted_keys, order):
    """Whether block b needs the arc of pattern entry e itself: e has no chain, or the chain leaves
    the grid (bounds: padded sizes sx, sy, the padding, the grid's nx, ny), or a block on it is of a
    domain whose minimal pattern lacks the chain's next step."""
    for c in range(chain[e], chain[e + 1]):
        at = key[b] + cell[c]
        ci, cj = at % bounds[0] - bounds[2], (at // bounds[0]) % bounds[1] - bounds[2]
        if ci < 0 or ci >= bounds[3] or cj < 0 or cj >= bounds[4]:
            return True
        p = _block_at(at, table, sorted_keys, order)
        if p >= 0 and not minimal[domain[p], step[c]]:
            return True
    return chain[e] == chain[e + 1]


@numba.njit(parallel=True, cache=True)
def _count_predecessors(key, domain, off_key, start, chain, cell, step, minimal, bounds, table, sorted_keys, order,
                        counts):
    for b in numba.prange(key.size):
        d = domain[b] if domain.size else 0
        c = 0
        for e in range(start[d], start[d + 1]):
            if _block_at(key[b] + off_key[e], table, sorted_keys, order) >= 0 and \
                    _needs(b, e, key, domain, chain, cell, step, minimal, bounds, table, sorted_keys, order):
                c += 1
        counts[b] = c


@numba.njit(parallel=True, cache=True)
def _fill_predecessors(key, domain, off_key, start, chain, cell, step, minimal, bounds, table, sorted_keys, order,
                       indptr, indices):
    """Each block's predecessors into indices[indptr[b]:indptr[b + 1]], ascending (insertion sort)."""
    for b in numba.prange(key.size):
        d = domain[b] if domain.size else 0
        first = indptr[b]
        m = first
        for e in range(start[d], start[d + 1]):
            p = _block_at(key[b] + off_key[e], table, sorted_keys, order)
            if p >= 0 and _needs(b, e, key, domain, chain, cell, step, minimal, bounds, table, sorted_keys, order):
                q = m
                while q > first and indices[q - 1] > p:
                    indices[q] = indices[q - 1]
                    q -= 1
                indices[q] = p
                m += 1


def precedence_from_geometry(blocks, block_size=None, slope=SLOPE_DEGREES, levels: int = SLOPE_BENCHES,
                             pattern: str | None = None, offsets=None) -> Precedence:
    """Precedence of a `BlockModel` (or anything with i, j, k arrays) from slope geometry.

    block_size: (dx, dy, dz) in m (defaults to the model's); slope: degrees, or
    one angle per azimuth sector (see `solvers.patterns.slope_offsets`), or a
    `SlopeTable` of angles per domain (each block's cone takes its own domain's
    angles; `precedence_by_domain` gives the rule); levels: benches the cone
    spans; pattern: a named pattern ('plus', 'nine', 'column') instead of a cone;
    offsets: an explicit pattern (used as given, after minimal-pattern reduction).
    """
    if block_size is None:
        block_size = getattr(blocks, "block_size", None)
    if offsets is not None or pattern is not None:
        if isinstance(slope, SlopeTable):
            raise InputError("a slope table gives the slope cones: no pattern or offsets with it", field="pattern")
        off = minimal_pattern(offsets) if offsets is not None else pattern_offsets(pattern=pattern)
        return precedence_from_indices(blocks["i"], blocks["j"], blocks["k"], off)
    if block_size is None:
        raise InputError("block size (dx, dy, dz in m) is needed for a slope pattern", field="block_size")
    if isinstance(slope, SlopeTable):
        spec, specs = slope.block_domains(blocks)
    else:
        spec, specs = None, [slope]
    patterns, index = [], []
    for angles in specs:                # domains whose cones are equal share one pattern
        cone = slope_offsets(block_size, angles, levels)
        same = [n for n, p in enumerate(patterns) if np.array_equal(p, cone)]
        index.append(same[0] if same else len(patterns))
        if not same:
            patterns.append(cone)
    domain = None if len(patterns) == 1 else np.asarray(index, dtype=np.int32)[spec]
    return precedence_by_domain(blocks["i"], blocks["j"], blocks["k"], domain, patterns)


def write_precedence(path, precedence: Precedence) -> None:
    """Write a MineLib ``.prec`` file (through `orepit.data.minelib`)."""
    _write(path, precedence)
