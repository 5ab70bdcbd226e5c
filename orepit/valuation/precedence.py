"""Precedence from geometry for block lists (sparse or irregular models).

The slope patterns of `solvers.patterns` materialised as CSR arcs between the
blocks that exist: block ``b`` at grid position ``(i, j, k)`` needs every
existing block at ``(i + di, j + dj, k + dk)`` for each offset of the
*minimal* pattern (offsets implied by chains of others removed first, then the
arcs restricted to blocks present).  This is the rule behind MineLib's
``kd.prec`` (20 x 20 x 15 m blocks, 45 degrees, 8 levels) and ``newman1.prec``
(the 'plus' pattern).  With a `SlopeTable` each block's cone takes the angles of
its own geotechnical domain (`precedence_by_domain`: the rule and its exact
reduction).
"""
from __future__ import annotations

import numba
import numpy as np

from solvers.errors import InputError
from solvers.patterns import implied_chains, minimal_pattern, named_pattern, slope_offsets
from solvers.problem import Precedence, node_dtype
from orepit.data.minelib import write_precedence as _write
from orepit.valuation.slope_defaults import SLOPE_BENCHES, SLOPE_DEGREES
from orepit.valuation.slopes import SlopeTable


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
    return grid.arcs(_Neighbourhoods([off], minimal_only=True), np.zeros(0, np.int32))


def precedence_by_domain(i, j, k, domain, patterns) -> Precedence:
    """CSR precedence of blocks at grid indices (i, j, k) when each block has its own slope pattern.

    domain: per block, the index of its pattern in ``patterns`` (full slope patterns, one per
    distinct cone; equal cones should share one index), or None when there is one pattern.

    The rule: block b needs every existing block at b + o for each offset o of
    ``patterns[domain[b]]``; the precedence is the transitive closure of these arcs, so a chain of
    arcs uses, leg by leg, the pattern of the block each leg starts from.  Fewer arcs give the same
    closure: every block has the arcs of its pattern's minimal offsets (`minimal_pattern`), which
    are never dropped; the arc to b + o of a non-minimal offset o is dropped when b + o is reached
    from b by such minimal arcs through cells of b's neighbourhood (its pattern and the partial sums
    of `implied_chains`), each step taken by the minimal pattern of the block it leaves.  A block
    whose whole neighbourhood lies in the grid and in its own domain has only its minimal arcs (the
    chains of `implied_chains` then hold); the others are decided by that search.  A cell inside
    the grid but absent from the model counts as of b's domain (the convention of
    `precedence_from_indices`, which applies the minimal pattern whatever is absent): with one
    pattern this is exactly that function on the minimal pattern wherever the chains stay inside
    the grid.  Every block is decided in parallel (numba), with no Python loop over blocks.
    """
    full = [np.asarray(p, dtype=np.int64).reshape(-1, 3) for p in patterns]
    hoods = _Neighbourhoods(full)
    grid = _BlockGrid(i, j, k, hoods.cells)
    if grid.n == 0:
        return Precedence.empty(0)
    domain = np.zeros(0, np.int32) if domain is None else np.ascontiguousarray(domain, dtype=np.int32).ravel()
    if domain.size and domain.size != grid.n:
        raise InputError(f"{domain.size} domains for {grid.n} blocks", field="domain")
    if domain.size and (domain.min() < 0 or domain.max() >= len(full)):
        raise InputError(f"domain indices must be in [0, {len(full)})", field="domain")
    if not domain.size and len(full) > 1:
        raise InputError("several patterns need a domain per block", field="domain")
    return grid.arcs(hoods, domain)


class _Neighbourhoods:
    """The patterns as flat arrays for the kernels.

    Pattern c's offsets are entries ``start[c]:start[c + 1]`` (``entries``): its minimal ones up to
    ``minimal_end[c]``, then those whose chain (`implied_chains`) lies between 0 and the offset on
    both horizontal axes ("boxed": on a grid it stays inside wherever its ends are) up to
    ``boxed_end[c]``, then the others.  ``guard[c]:guard[c + 1]`` index the cells of its chains
    (offsets ``cells``).  Its neighbourhood is the cells ``region[c]:region[c + 1]`` (the first is
    (0, 0, 0), then the pattern and chain cells by height), spanning ``extent[c]`` = (min di, max di,
    min dj, max dj); ``slot[e]``: the neighbourhood cell of entry e; the cells of c's neighbourhood
    reached from its cell r by the minimal offsets of pattern d are
    ``step[step_start[q]:step_start[q + 1]]``, q = (region[c] + r) * len(patterns) + d."""

    def __init__(self, patterns, minimal_only: bool = False):
        n = len(patterns)
        entries, ends, hoods, guards = [], [], [], []
        for p in patterns:
            chains = [np.zeros((0, 3), np.int64)] * p.shape[0] if minimal_only else implied_chains(p)
            kind = np.array([0 if c.size == 0 else 1 if _boxed(o, c) else 2 for o, c in zip(p, chains)], dtype=int)
            order = np.argsort(kind, kind="stable")
            entries.append(p[order])
            ends.append(np.searchsorted(kind[order], [1, 2]))
            sums = sorted({tuple(o) for c in chains if c.size for o in np.cumsum(c, axis=0)[:-1].tolist()})
            hood = sorted(set(sums) | {tuple(o) for o in p.tolist()}, key=lambda c: (c[2], c))
            hoods.append([(0, 0, 0)] + hood)
            guards.append(sums)
        self.entries = np.concatenate(entries + [np.zeros((0, 3), np.int64)])
        self.start = _starts([e.shape[0] for e in entries])
        self.minimal_end = self.start[:-1] + np.array([e[0] for e in ends], dtype=np.int64).reshape(n)
        self.boxed_end = self.start[:-1] + np.array([e[1] for e in ends], dtype=np.int64).reshape(n)
        self.region = _starts([len(h) for h in hoods])
        self.guard = self.region[-1] + _starts([len(g) for g in guards])
        self.cells = np.array([c for h in hoods for c in h] + [c for g in guards for c in g],
                              dtype=np.int64).reshape(-1, 3)
        self.extent = np.array([[min(c[0] for c in h), max(c[0] for c in h), min(c[1] for c in h),
                                 max(c[1] for c in h)] for h in hoods], dtype=np.int64).reshape(n, 4)
        index = [{c: r for r, c in enumerate(h)} for h in hoods]
        self.slot = np.array([index[c][tuple(o)] for c, e in enumerate(entries) for o in e.tolist()],
                             dtype=np.int64)
        minimal = [e[:m[0]] for e, m in zip(entries, ends)]
        targets = [[_targets(np.array(h, dtype=np.int64), steps) for steps in minimal] for h in hoods]
        # the cells reached from neighbourhood cell r of pattern c by the minimal offsets of pattern d:
        # step[step_start[(region[c] + r) * n + d]:...] (neighbourhood cells of c)
        self.step_start = _starts([len(t) for c, h in enumerate(hoods) for r in range(len(h))
                                   for t in (targets[c][d][r] for d in range(n))])
        self.step = np.array([v for c, h in enumerate(hoods) for r in range(len(h)) for d in range(n)
                              for v in targets[c][d][r]], dtype=np.int64)


def _targets(hood: np.ndarray, steps: np.ndarray) -> list:
    """For each cell of ``hood``, the hood cells (indices) that ``steps`` lead to."""
    base = hood.min(axis=0) - np.abs(steps).max(initial=0) - 1
    span = hood.max(axis=0) - base + np.abs(steps).max(initial=0) + 2

    def code(c):
        c = c - base
        return c[..., 0] + span[0] * (c[..., 1] + span[1] * c[..., 2])

    keys = code(hood)
    order = np.argsort(keys)
    reached = code(hood[:, None, :] + steps[None, :, :]) if steps.size else np.zeros((len(hood), 0), np.int64)
    pos = np.minimum(np.searchsorted(keys[order], reached), len(keys) - 1)
    hit = keys[order][pos] == reached
    return [order[pos[r][hit[r]]].tolist() for r in range(len(hood))]


def _starts(sizes) -> np.ndarray:
    """[0, s0, s0 + s1, ...]: where each of consecutive runs of these sizes starts, and the end."""
    out = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=out[1:])
    return out


def _boxed(offset, steps) -> bool:
    """Whether every partial sum of ``steps`` lies between 0 and ``offset`` on both horizontal axes."""
    sums = np.cumsum(steps, axis=0)[:, :2]
    low, high = np.minimum(0, offset[:2]), np.maximum(0, offset[:2])
    return bool(np.all((sums >= low) & (sums <= high)))


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

    def arcs(self, hoods: "_Neighbourhoods", domain) -> Precedence:
        """CSR arcs of every block under the pattern of its domain (pattern 0 for every block when
        ``domain`` is empty; see `precedence_by_domain`)."""
        h = hoods
        bounds = np.array([self.sx, self.sy, self.pad, self.nx, self.ny], dtype=np.int64)
        look = np.empty(self.n, dtype=np.bool_)
        args = (self.key, domain, self.keys(h.entries), h.start, h.minimal_end, h.boxed_end, h.slot, self.keys(h.cells),
                h.region, h.guard, h.extent, h.step_start, h.step, bounds, self.table, self.sorted_keys, self.order,
                look)
        counts = np.empty(self.n, dtype=np.int64)
        _count_predecessors(*args, counts)
        indptr = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        del counts
        indices = np.empty(int(indptr[-1]), dtype=node_dtype(self.n))
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


#: Blocks per parallel task of the precedence kernels (each task has one scratch array).
CHUNK = 4096


@numba.njit(cache=True)
def _looks(b, key, domain, start, minimal_end, boxed_end, cell, guard, extent, bounds, table, sorted_keys, order):
    """Whether block b's non-minimal arcs need a search: its chains pass a block of another domain,
    or a chain that is not boxed may leave the grid.  Otherwise its minimal arcs imply the rest."""
    d = domain[b] if domain.size else 0
    if start[d + 1] == minimal_end[d]:
        return False
    if domain.size:
        for r in range(guard[d], guard[d + 1]):
            p = _block_at(key[b] + cell[r], table, sorted_keys, order)
            if p >= 0 and domain[p] != d:
                return True
    if boxed_end[d] == start[d + 1]:
        return False
    sx, sy, pad, nx, ny = bounds[0], bounds[1], bounds[2], bounds[3], bounds[4]
    bi, bj = key[b] % sx - pad, (key[b] // sx) % sy - pad
    return not (bi + extent[d, 0] >= 0 and bi + extent[d, 1] < nx and bj + extent[d, 2] >= 0
                and bj + extent[d, 3] < ny)


@numba.njit(cache=True)
def _search(b, key, domain, region, cell, step_start, step, bounds, table, sorted_keys, order, reached):
    """Mark in ``reached`` the neighbourhood cells of block b reached from b by minimal arcs, each
    step by the minimal pattern of the block it leaves (see `precedence_by_domain`)."""
    d = domain[b] if domain.size else 0
    sx, sy, pad, nx, ny = bounds[0], bounds[1], bounds[2], bounds[3], bounds[4]
    size = region[d + 1] - region[d]
    reached[:size] = False
    reached[0] = True
    for r in range(size):
        if not reached[r]:
            continue
        at = key[b] + cell[region[d] + r]
        ci, cj = at % sx - pad, (at // sx) % sy - pad
        if ci < 0 or ci >= nx or cj < 0 or cj >= ny:
            continue                                    # outside the grid: no block, no arcs
        p = _block_at(at, table, sorted_keys, order)
        e = domain[p] if p >= 0 and domain.size else d  # an absent cell counts as b's domain
        q = (region[d] + r) * (region.size - 1) + e
        for s in range(step_start[q], step_start[q + 1]):
            reached[step[s]] = True


@numba.njit(parallel=True, cache=True)
def _count_predecessors(key, domain, off_key, start, minimal_end, boxed_end, slot, cell, region, guard, extent,
                        step_start, step, bounds, table, sorted_keys, order, look, counts):
    """Arcs per block; ``look[b]``: whether b has arcs beyond its minimal ones (for `_fill_predecessors`)."""
    width = np.max(region[1:] - region[:-1])
    for chunk in numba.prange((key.size + CHUNK - 1) // CHUNK):
        reached = np.empty(width, dtype=np.bool_)
        for b in range(chunk * CHUNK, min(key.size, (chunk + 1) * CHUNK)):
            d = domain[b] if domain.size else 0
            look[b] = _looks(b, key, domain, start, minimal_end, boxed_end, cell, guard, extent, bounds, table,
                             sorted_keys, order)
            if look[b]:
                _search(b, key, domain, region, cell, step_start, step, bounds, table, sorted_keys, order, reached)
            c = extra = 0
            for e in range(start[d], start[d + 1] if look[b] else minimal_end[d]):
                if (e < minimal_end[d] or not reached[slot[e]]) and \
                        _block_at(key[b] + off_key[e], table, sorted_keys, order) >= 0:
                    c += 1
                    extra += e >= minimal_end[d]
            counts[b] = c
            look[b] = extra > 0                         # the fill pass searches again only where it adds arcs


@numba.njit(parallel=True, cache=True)
def _fill_predecessors(key, domain, off_key, start, minimal_end, boxed_end, slot, cell, region, guard, extent,
                       step_start, step, bounds, table, sorted_keys, order, look, indptr, indices):
    """Each block's predecessors into indices[indptr[b]:indptr[b + 1]], ascending (insertion sort)."""
    width = np.max(region[1:] - region[:-1])
    for chunk in numba.prange((key.size + CHUNK - 1) // CHUNK):
        reached = np.empty(width, dtype=np.bool_)
        for b in range(chunk * CHUNK, min(key.size, (chunk + 1) * CHUNK)):
            d = domain[b] if domain.size else 0
            if look[b]:
                _search(b, key, domain, region, cell, step_start, step, bounds, table, sorted_keys, order, reached)
            first = indptr[b]
            m = first
            for e in range(start[d], start[d + 1] if look[b] else minimal_end[d]):
                if e >= minimal_end[d] and reached[slot[e]]:
                    continue
                p = _block_at(key[b] + off_key[e], table, sorted_keys, order)
                if p >= 0:
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
