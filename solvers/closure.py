"""Maximum-weight closure by Hochbaum's pseudoflow algorithm (lowest-label variant), in numba.

A closure is a set of nodes that contains every predecessor of each of its
nodes; the maximum-weight closure (the ultimate pit) is the closure of largest
total value.  The solver works on the graph with a source arc to each
positive node, a sink arc from each negative node and an infinite arc from each
node to each of its predecessors, and keeps a *normalized tree* pseudoflow
(Hochbaum 2008, "The pseudoflow algorithm", Oper. Res. 56(4); labelling rules
as in Chandran and Hochbaum 2009).  Strong roots are processed lowest label
first (``PseudoflowSolver.lowest_first``; highest-label first is available and
was 1.5-3 times slower on the MineLib instances here), last-in first-out within
a label.

Implementation notes
--------------------
* Flow lives only on tree arcs (an arc leaves the forest only when its flow
  drops to zero), so the state is O(nodes): parent, direction and flow of the
  arc to the parent.  Scanning for a merger arc only needs a node's
  predecessors, which is why implicit grid precedences (`solvers.patterns`)
  are solved without materialising arcs.
* Invariants: labels are valid (``l(a) <= l(b) + 1`` on residual arcs) and
  non-decreasing from a root down its tree, so a predecessor with label
  ``l - 1`` of a node in the processed region (the nodes of the root's label
  reachable from it) is always in another tree; with lowest-label selection
  that tree is weak.  A region with no merger arc is relabelled bottom-up.
  Gap rule: when no node has label ``l - 1``, strong trees at label ``l`` can
  never reach a deficit again and are lifted to the final label ``n``.
* Layout: the tree links, scan positions, bucket links and arc direction of a node share one
  32-byte row of an int32 table (`_PARENT` ... `_UP`), so visiting a node reads one cache line;
  labels have their own dense array, which the merger scan reads at the node's predecessors.
  The scan indexes labels with unsigned integers (numba then drops its negative-index check):
  the grid's solve on 2.8 M blocks took 3.8 s instead of 5.0 s with one array per field.
* Values are scaled to exact int64 when they have at most 6 decimals (and the
  scaled sum fits with headroom); otherwise float64 with a small tolerance.
  The reported objective is always ``math.fsum(values[pit])`` (taken by `solvers.exactsum.masked_fsum`).

Tie-breaking: nodes whose trees end with zero excess are left out, so among
several optimal closures the solver returns the *minimal* one (the
intersection of all maximum-weight closures; checked by brute force in
``tests/test_closure.py``).
"""
from __future__ import annotations

import math
import time
import numba
import numpy as np

from .errors import InputError
from .exactsum import masked_fsum
from .problem import Precedence
from .result import OPTIMAL, Result
from .patterns import GridPrecedence

MAX_SCALE = 10 ** 6
_INT_HEADROOM = 2.0 ** 60        # |scaled values| summed must stay below this


# --------------------------------------------------------------------------------------------
# numba kernel
# --------------------------------------------------------------------------------------------

# Columns of the int32 node table (one 32-byte row per node; see "Layout" above).
_PARENT, _FIRST_CHILD, _NEXT_SIB, _PREV_SIB, _NEXT_SCAN, _NEXT_ARC, _BNEXT, _UP = range(8)
_FIELDS = 8


@numba.njit(cache=True, inline="always")
def _unlink(x, node):
    p = node[x, _PARENT]
    ps = node[x, _PREV_SIB]
    ns = node[x, _NEXT_SIB]
    if ps != -1:
        node[ps, _NEXT_SIB] = ns
    else:
        node[p, _FIRST_CHILD] = ns
    if ns != -1:
        node[ns, _PREV_SIB] = ps
    node[x, _PARENT] = -1
    node[x, _NEXT_SIB] = -1
    node[x, _PREV_SIB] = -1


@numba.njit(cache=True, inline="always")
def _link(x, p, node):
    node[x, _PARENT] = p
    f = node[p, _FIRST_CHILD]
    node[x, _NEXT_SIB] = f
    node[x, _PREV_SIB] = -1
    if f != -1:
        node[f, _PREV_SIB] = x
    node[p, _FIRST_CHILD] = x


@numba.njit(cache=True, inline="always")
def _bucket_add(x, lab, node, bhead):
    node[x, _BNEXT] = bhead[lab]
    bhead[lab] = x


@numba.njit(cache=True, inline="always")
def _bucket_pop(lab, node, bhead):
    x = bhead[lab]
    bhead[lab] = node[x, _BNEXT]
    node[x, _BNEXT] = -1
    return x


@numba.njit(cache=True)
def _lift_bucket(i, top, label, count, node, stack, bhead):
    """Gap at label i - 1: every tree rooted in bucket i can no longer reach a deficit."""
    while bhead[i] != -1:
        rr = _bucket_pop(i, node, bhead)
        sp = 0
        stack[sp] = rr
        sp += 1
        while sp > 0:
            sp -= 1
            y = stack[sp]
            count[label[y]] -= 1
            label[y] = top
            c = node[y, _FIRST_CHILD]
            while c != -1:
                stack[sp] = c
                sp += 1
                c = node[c, _NEXT_SIB]


@numba.njit(cache=True, inline="always")
def _find_merger(x, target, label, node, grid, indptr, indices, off_lin):
    """A predecessor of x with label ``target`` (scan resumes at x's current arc); -1 if none.

    Grid mode: predecessors are ``x + off_lin[a]`` on a grid padded with inactive cells, so
    no bounds checks are needed (padding cells carry the final label and never match).
    """
    if grid:
        m = off_lin.size
        a = node[x, _NEXT_ARC]
        while a < m:
            # the index made unsigned first and the node recomputed on a match: this form is the
            # faster (the 2.8 M grid's solve, alternating: 3.92-4.15 s against 4.17-4.27 s with the
            # signed node kept and cast in the index)
            p = np.uintp(x + off_lin[a])
            if label[p] == target:
                node[x, _NEXT_ARC] = a
                return x + off_lin[a]
            a += 1
        node[x, _NEXT_ARC] = m
        return -1
    start = indptr[x]
    end = indptr[x + 1]
    a = start + node[x, _NEXT_ARC]
    while a < end:
        p = indices[a]
        if label[np.uintp(p)] == target:
            node[x, _NEXT_ARC] = a - start
            return p
        a += 1
    node[x, _NEXT_ARC] = end - start
    return -1


@numba.njit(cache=True, inline="always")
def _skip_or_relabel(x, node, label, count):
    """Advance x's child scan past children of another label; with none left, relabel x (returns 1)."""
    c = node[x, _NEXT_SCAN]
    while c != -1 and label[c] != label[x]:
        c = node[c, _NEXT_SIB]
    node[x, _NEXT_SCAN] = c
    if c == -1:
        count[label[x]] -= 1
        label[x] += 1
        count[label[x]] += 1
        node[x, _NEXT_ARC] = 0
        return 1
    return 0


@numba.njit(cache=True, inline="always")
def _send_up(y, amt, tol, excess, g, node, label, bhead):
    """Send ``amt > 0`` from node y over the tree arc to its parent; returns what reaches the parent.

    An arc towards the parent (y needs it) takes any amount; an arc from the parent carries back at
    most its flow: the rest stays at y, whose arc is cut, and y becomes a strong root (the split).
    """
    if node[y, _UP]:
        g[y] += amt
        return amt
    cap = -g[y]
    if amt - cap > tol:
        g[y] = cap * 0
        excess[y] = amt - cap
        _unlink(y, node)
        _bucket_add(y, label[y], node, bhead)
        return cap
    g[y] += amt
    if g[y] > 0:
        g[y] = amt * 0
    return amt


@numba.njit(cache=True)
def _start(excess, tol, active):
    """A fresh state: every node its own root, inactive ones at the final label, strong ones
    (excess > tol) in bucket 1.  Returns the arrays of `_run` it makes: (g, node, label, bhead,
    count, stack).

    They are made here rather than by numpy, which asks the system for huge pages on large arrays:
    on the development machine the first write to those cost five times as much (a node table of
    3.7 M rows: 0.28 s against 0.05 s).
    """
    n = excess.size
    g = np.zeros_like(excess)
    node = np.empty((n, _FIELDS), np.int32)
    label = np.empty(n, np.int32)
    bhead = np.empty(n + 2, np.int32)
    bhead[:] = -1
    count = np.zeros(n + 2, np.int64)
    stack = np.empty(n, np.int32)
    for x in range(n):
        for f in range(_FIELDS):
            node[x, f] = -1
        node[x, _NEXT_ARC] = 0
        node[x, _UP] = 0
        if not active[x]:
            label[x] = n
        elif excess[x] > tol:
            label[x] = 1
            count[1] += 1
            _bucket_add(x, 1, node, bhead)
        else:
            label[x] = 0
            count[0] += 1
    return g, node, label, bhead, count, stack


@numba.njit(cache=True)
def _scatter(array, positions, size, fill):
    """``array`` placed at ``positions`` of a new array of ``size`` entries, ``fill`` elsewhere
    (made by numba for the reason given in `_start`)."""
    out = np.empty(size, array.dtype)
    out[:] = fill
    for i in range(positions.size):
        out[positions[i]] = array[i]
    return out


@numba.njit(cache=True)
def _run(excess, g, node, label, bhead, count, stack, stats, tol, lowest_first, grid, indptr, indices,
         off_lin):
    """Process strong roots until none is left below the final label (the state is updated in place).

    stats: int64 [highest label with a root in a bucket, merges, relabels] (updated).
    """
    n = excess.size
    top = n
    highest = stats[0]
    merges = 0
    relabels = 0
    while True:
        # ---- next strong root: highest (or lowest) label first; gap: lift whole trees ----
        r = -1
        if lowest_first:
            i = 0
            while i <= highest and r == -1:
                if bhead[i] != -1:
                    if i == 0:
                        r = _bucket_pop(0, node, bhead)
                        count[0] -= 1
                        label[r] = 1
                        count[1] += 1
                        node[r, _NEXT_ARC] = 0
                    elif count[i - 1] > 0:
                        r = _bucket_pop(i, node, bhead)
                    else:
                        _lift_bucket(i, top, label, count, node, stack, bhead)
                i += 1
            if r == -1:
                break
        else:
            i = highest
            while i > 0:
                if bhead[i] != -1:
                    highest = i
                    if count[i - 1] > 0:
                        r = _bucket_pop(i, node, bhead)
                        break
                    _lift_bucket(i, top, label, count, node, stack, bhead)
                i -= 1
            if r == -1:
                if bhead[0] != -1:
                    r = _bucket_pop(0, node, bhead)
                    count[0] -= 1
                    label[r] = 1
                    count[1] += 1
                    node[r, _NEXT_ARC] = 0
                    highest = 1
                else:
                    break

        # ---- process root r: DFS over its region of label l ----
        lab = label[r]
        target = lab - 1
        x = r
        node[r, _NEXT_SCAN] = node[r, _FIRST_CHILD]
        v = _find_merger(x, target, label, node, grid, indptr, indices, off_lin)
        if v == -1:
            # check children of r
            relabels += _skip_or_relabel(x, node, label, count)
            while x != -1 and v == -1:
                while node[x, _NEXT_SCAN] != -1:
                    c = node[x, _NEXT_SCAN]
                    node[x, _NEXT_SCAN] = node[c, _NEXT_SIB]
                    x = c
                    node[x, _NEXT_SCAN] = node[x, _FIRST_CHILD]
                    v = _find_merger(x, target, label, node, grid, indptr, indices, off_lin)
                    if v != -1:
                        break
                    relabels += _skip_or_relabel(x, node, label, count)
                if v != -1:
                    break
                x = node[x, _PARENT]
                if x != -1:
                    relabels += _skip_or_relabel(x, node, label, count)
        if v == -1:
            _bucket_add(r, label[r], node, bhead)
            if lowest_first:
                if label[r] > highest:
                    highest = label[r]
            else:
                highest = label[r]
            continue

        # ---- merge: re-root r's tree at x, hang x under v ----
        merges += 1
        cur = x
        new_parent = v
        new_up = 1
        new_g = g[x] * 0
        while cur != -1:
            old_parent = node[cur, _PARENT]
            old_up = node[cur, _UP]
            old_g = g[cur]
            if old_parent != -1:
                _unlink(cur, node)
            _link(cur, new_parent, node)
            node[cur, _UP] = new_up
            g[cur] = new_g
            new_up = 1 - old_up
            new_g = -old_g
            new_parent = cur
            cur = old_parent

        # ---- push r's excess to the root of v's tree, splitting where flow runs out ----
        amt = excess[r]
        excess[r] = amt * 0
        y = r
        while True:
            p = node[y, _PARENT]
            if p == -1:
                before = excess[y]
                excess[y] = before + amt
                if before <= tol and excess[y] > tol:
                    _bucket_add(y, label[y], node, bhead)
                break
            sent = _send_up(y, amt, tol, excess, g, node, label, bhead)
            if sent < amt:
                amt = sent
                if amt <= tol:
                    break
            y = p

    stats[0] = highest
    stats[1] += merges
    stats[2] += relabels


@numba.njit(cache=True)
def _rises(new, old, active, node_map, rise, seeds):
    """rise[node_map[i]] = new[i] - old[i] at active nodes, 0 at the others (node_map empty: the
    identity), and the positions with a rise > 0 in ``seeds[:m]``.  Returns (m, -1), or (0, the first
    active node whose value fell) with rise partly written.  One pass over the nodes."""
    m = 0
    for i in range(new.size):
        x = node_map[i] if node_map.size else i
        d = new[i] - old[i]
        if not active[i]:
            d = d * 0
        elif d < 0:
            return 0, i
        elif d > 0:
            seeds[m] = x
            m += 1
        rise[x] = d
    return m, -1


@numba.njit(cache=True)
def _add_supply(rise, seeds, tol, excess, g, node, label, bhead, stats, pending, order):
    """Raise node supplies by ``rise >= 0`` and carry each rise along its tree to the root.

    seeds: the nodes with a rise > 0 (rise is 0 elsewhere).  Only they and their ancestors are
    visited (``pending`` is -1 everywhere on entry and on return; it counts a node's children not
    yet settled), children before their parent, so one pass moves every rise; an arc whose flow
    cannot carry it is cut and its lower end becomes a strong root (the split of the merge step).
    Nodes at the final label are in the closure already.  ``rise`` is used up (amounts gather at
    the visited nodes).
    """
    n = label.size
    m = 0
    for x in seeds:
        if label[x] < n:
            y = x
            while y != -1 and pending[y] < 0:
                pending[y] = 0
                order[m] = y
                m += 1
                y = node[y, _PARENT]
    for i in range(m):
        p = node[order[i], _PARENT]
        if p != -1:
            pending[p] += 1
    queue = np.empty(m, np.int32)
    sp = 0
    for i in range(m):
        if pending[order[i]] == 0:
            queue[sp] = order[i]
            sp += 1
    while sp > 0:
        sp -= 1
        y = queue[sp]
        amt = rise[y]
        p = node[y, _PARENT]
        if p == -1:
            if amt > 0:
                before = excess[y]
                excess[y] = before + amt
                if before <= tol and excess[y] > tol:
                    _bucket_add(y, label[y], node, bhead)
                    stats[0] = max(stats[0], label[y])
            continue
        if amt > 0:
            sent = _send_up(y, amt, tol, excess, g, node, label, bhead)
            if sent < amt:
                stats[0] = max(stats[0], label[y])
            rise[p] += sent
        pending[p] -= 1
        if pending[p] == 0:
            queue[sp] = p
            sp += 1
    for i in range(m):
        pending[order[i]] = -1


class FlowState:
    """A normalized-tree pseudoflow on ``excess.size`` nodes, kept between solves (arrays as in `_run`).

    ``run`` processes strong roots until none is left; ``raise_supply`` adds non-negative supply
    and keeps the labels, so the next ``run`` continues from the previous optimum (the parametric
    property of pseudoflow, Hochbaum 2008, section 9); ``copy`` snapshots the whole state.
    """

    _ARRAYS = ("excess", "g", "node", "label", "bhead", "count", "stack", "stats")
    #: the array written before it is read in each `run` and `raise_supply` (not copied by `copy`)
    _SCRATCH = "stack"

    def __init__(self, excess, active, tol):
        self.tol = tol
        self.excess = excess                       # supply of each root (0 at other nodes)
        # g: flow from a node towards its parent (signed); node: tree links, scan positions,
        # bucket links and arc direction (_UP: 1 when the node needs its parent, an infinite arc to
        # it), one row per node, -1 for "none"; bhead/count: bucket heads and nodes per label
        self.g, self.node, self.label, self.bhead, self.count, self.stack = _start(excess, tol, active)
        self.stats = np.array([1, 0, 0], np.int64)
        self._rise = None                          # scratch: the rise of each node's supply
        self._seeds = None                         # scratch: the nodes whose supply rises
        self._pending = None                       # scratch of `_add_supply`, -1 between calls

    def run(self, lowest_first, grid, indptr, indices, off_lin) -> None:
        _run(*(getattr(self, a) for a in self._ARRAYS), self.tol, lowest_first, grid, indptr, indices, off_lin)

    def raise_supply(self, new, old, active, node_map) -> int:
        """Raise the supplies from ``old`` to ``new`` values (one per problem node, the state's units)
        at the ``active`` nodes; node_map: each node's position in the state (empty: the same).
        Returns -1, or the first active node whose value fell (the state is then unchanged)."""
        if self._rise is None or self._rise.dtype != self.excess.dtype:
            self._rise = np.zeros_like(self.excess)
            self._seeds = np.empty(self.excess.size, np.int32)
        if self._pending is None:
            self._pending = np.full(self.excess.size, -1, np.int32)
        m, fell = _rises(new, old, active, node_map, self._rise, self._seeds)
        if fell < 0:
            _add_supply(self._rise, self._seeds[:m], self.tol, self.excess, self.g, self.node, self.label,
                        self.bhead, self.stats, self._pending, self.stack)
        return int(fell)

    def in_closure(self) -> np.ndarray:
        """Nodes at the final label (inactive nodes too: the caller masks them out)."""
        return self.label >= self.label.size

    def copy(self) -> "FlowState":
        twin = object.__new__(FlowState)
        twin.tol = self.tol
        twin._rise = twin._seeds = twin._pending = None
        for name in self._ARRAYS:
            array = getattr(self, name)
            setattr(twin, name, np.empty_like(array) if name == self._SCRATCH else array.copy())
        return twin

    def rescale(self, factor, tol) -> None:
        """Multiply every amount by ``factor``: an int keeps exact int64 amounts, a float converts them
        to float64 (tolerance ``tol`` from then on)."""
        if isinstance(factor, int):
            self.excess *= factor
            self.g *= factor
        else:
            self.excess = self.excess * float(factor)
            self.g = self.g * float(factor)
        self.tol = tol

    @property
    def merges(self) -> int:
        return int(self.stats[1])

    @property
    def relabels(self) -> int:
        return int(self.stats[2])


# --------------------------------------------------------------------------------------------
# value scaling
# --------------------------------------------------------------------------------------------

_CHUNK = 1 << 16    # values per step of scale_values' passes: one small buffer, not model-sized temporaries
                    # (fresh large numpy arrays get huge pages, slow to write first: see `_start`)


def _abs_sum(v) -> float:
    """Sum of |v| through one small buffer (NaN if a value is NaN, inf if one is infinite)."""
    buf = np.empty(min(_CHUNK, v.size))
    total = 0.0
    for s in range(0, v.size, _CHUNK):
        c = v[s:s + _CHUNK]
        total += float(np.abs(c, out=buf[:c.size]).sum())
    return total


def _scaled_exactly(v, scale, out) -> bool:
    """Fill int64 ``out`` with round(v * scale); whether round(v * scale) / scale == v for every value."""
    buf = np.empty(min(_CHUNK, v.size))
    for s in range(0, v.size, _CHUNK):
        c = v[s:s + _CHUNK]
        b = np.round(np.multiply(c, scale, out=buf[:c.size]), out=buf[:c.size])
        out[s:s + c.size] = b
        if not np.array_equal(np.divide(b, scale, out=b), c):
            return False
    return True


def scale_values(values, smallest: int = 1) -> tuple[np.ndarray, int | None]:
    """Values as exact int64 multiples of ``1/scale`` when possible.

    Returns ``(scaled, scale)``: int64 array and scale (``smallest``, then 10 times as much, up
    to 1e6), or the float64 values and ``None`` when no such decimal scale represents them
    exactly.  Raises `InputError` on NaN/inf or values too large for int64 or float.
    """
    v = np.ascontiguousarray(values, dtype=np.float64)
    if v.ndim != 1:
        raise InputError(f"values must be one-dimensional, got shape {v.shape}")
    total = _abs_sum(v)
    if not total <= 1e300:                   # NaN, inf or too large
        bad = np.flatnonzero(~np.isfinite(v))
        if bad.size:
            raise InputError(f"value of block {bad[0]} is {v[bad[0]]}", field="values")
        raise InputError(f"values too large: sum of |values| = {total}", field="values")
    sample = v[::max(1, v.size // 2048)]     # rejects most scales without a full pass
    scaled = np.empty(v.size, np.int64)
    scale = smallest
    while scale <= MAX_SCALE:
        if total * scale >= _INT_HEADROOM:
            break
        if np.array_equal(np.round(sample * scale) / scale, sample) and _scaled_exactly(v, scale, scaled):
            return scaled, scale
        scale *= 10
    if scale == smallest:  # integral-looking but even at the smallest scale beyond int64 headroom
        if np.array_equal(np.round(v * scale) / scale, v):
            raise InputError(f"values too large to solve exactly: sum of |values| = {total:.6g} "
                             f"exceeds {_INT_HEADROOM:.3g}", field="values")
    return v.copy(), None


# --------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------

class PseudoflowSolver:
    """Maximum closure on a fixed precedence, solved for many value vectors.

    precedence: `solvers.problem.Precedence` (explicit CSR: predecessors of each
    node) or `solvers.patterns.GridPrecedence` (implicit slope pattern on a grid).

    >>> from solvers.problem import Precedence
    >>> s = PseudoflowSolver(Precedence.from_arcs(3, [2, 2], [0, 1]))
    >>> r = s.solve([-1.0, -2.0, 5.0]); r.solution.tolist(), r.objective
    ([True, True, True], 2.0)
    """

    algorithm = "pseudoflow"
    #: process strong roots lowest label first (False: highest label first, as HPF)
    lowest_first = True

    def __init__(self, precedence):
        self.precedence = precedence
        empty = np.zeros(0, np.int64)
        if isinstance(precedence, GridPrecedence):
            self._grid = True
            self.n_nodes = precedence.n_nodes
            # pad the grid with inactive cells so every offset stays inside: px cells after each
            # row, py rows after each bench, pz benches on top.  Offsets point up (dk >= 1), so an
            # offset running off a row's (bench's) start lands in the padding after the row (bench)
            # before it, and the padding serves both sides.
            nx, ny, nz = precedence.dims
            off = precedence.offsets
            px = int(np.abs(off[:, 0]).max(initial=0))
            py = int(np.abs(off[:, 1]).max(initial=0))
            pz = int(off[:, 2].max(initial=0))
            gx, gy, gz = nx + px, ny + py, nz + pz
            if gx * gy * gz >= 2 ** 31 - 2:
                raise InputError(f"grid {precedence.dims} with its pattern padding exceeds 2^31 cells")
            i = np.arange(nx, dtype=np.int64)
            j = np.arange(ny, dtype=np.int64)
            k = np.arange(nz, dtype=np.int64)
            self._map = (i[None, None, :] + gx * (j[None, :, None] + gy * k[:, None, None])).ravel()
            self._n_padded = gx * gy * gz
            lin = np.ascontiguousarray(off[:, 0] + gx * (off[:, 1] + gy * off[:, 2]), dtype=np.int64)
            self._args = (np.zeros(1, np.int64), empty, lin)
            self._present = precedence.present_mask
        elif isinstance(precedence, Precedence):
            self._grid = False
            self.n_nodes = precedence.n_nodes
            if self.n_nodes >= 2 ** 31 - 2:
                raise InputError(f"precedence: {self.n_nodes} nodes exceed the solver limit of 2^31")
            self._args = (precedence.indptr, precedence.indices, empty)
            self._present = None
        else:
            raise InputError(f"precedence must be a Precedence or GridPrecedence, got {type(precedence).__name__}")
        self._n_arcs = None

    @property
    def n_arcs(self) -> int:
        if self._n_arcs is None:
            self._n_arcs = int(self.precedence.n_arcs)
        return self._n_arcs

    def solve(self, values, fixed=None, within=None) -> Result:
        """Maximum-weight closure for ``values`` (one per node, any unit).

        Returns a `Result` with status 'optimal': solution = boolean mask of the nodes in the
        closure; objective = bound = exact float sum of their values; info: ``n_in_pit`` (nodes
        in the closure), ``n_arcs`` (precedence arcs of the graph, implicit arcs counted),
        ``exact`` and ``scale`` (values solved as exact integers times 1/scale), ``merges``,
        ``relabels`` and ``n_nodes``.

        fixed: optional boolean mask of nodes already taken (a closed set, e.g.
        a smaller nested pit): they are kept in the pit and their arcs are
        dropped.  within: optional boolean mask of a closed set (e.g. a larger
        nested pit) the answer must lie in; nodes outside are left out.  These
        are warm starts for parametric solves (`solvers.nested` uses ``fixed``).
        """
        t0 = time.perf_counter()
        values = self.check_values(values)
        scaled, scale = scale_values(values)
        active = self.active_mask(fixed, within)
        tol = np.int64(0) if scale is not None else self.tolerance(values)
        state = self.start(scaled, active, tol)
        del scaled
        pit = self.advance(state, active)
        if fixed is not None:
            pit |= fixed
        objective = masked_fsum(values, pit)
        seconds = time.perf_counter() - t0
        info = {"n_in_pit": int(pit.sum()), "n_arcs": self.n_arcs, "scale": scale, "exact": scale is not None,
                "merges": state.merges, "relabels": state.relabels, "n_nodes": self.n_nodes}
        return Result(OPTIMAL, objective, objective, seconds, pit, self.algorithm, info)

    # ---- the steps of a solve, shared with `solvers.parametric` ----

    def check_values(self, values) -> np.ndarray:
        """``values`` as a float64 vector of one value per node (`InputError` otherwise)."""
        values = np.ascontiguousarray(values, dtype=np.float64)
        if values.shape != (self.n_nodes,):
            raise InputError(f"{values.size} values for {self.n_nodes} blocks", field="values")
        return values

    def active_mask(self, fixed=None, within=None) -> np.ndarray:
        """Nodes the solve decides on: present, not ``fixed`` in, and ``within`` (masks, see `solve`)."""
        active = np.ones(self.n_nodes, dtype=np.bool_) if self._present is None else self._present.copy()
        for name, mask, keep in (("fixed", fixed, False), ("within", within, True)):
            if mask is None:
                continue
            mask = np.asarray(mask, dtype=bool)
            if mask.shape != (self.n_nodes,):
                raise InputError(f"{name} mask has {mask.size} entries for {self.n_nodes} blocks")
            active &= mask if keep else ~mask
        return active

    def tolerance(self, values) -> np.float64:
        """Float tolerance of a solve of these values: 1e-12 of the largest |value| per log2(nodes)."""
        top = max(float(values.max(initial=0.0)), -float(values.min(initial=0.0)))     # max |value|, no copy
        return np.float64(top * 1e-12 * max(1.0, math.log2(max(self.n_nodes, 2))))

    @property
    def node_map(self) -> np.ndarray:
        """Each node's position in the kernel's node order (empty: the same order)."""
        return self._map if self._grid else np.zeros(0, np.int64)

    def padded(self, array, fill=0) -> np.ndarray:
        """A per-node array in the kernel's node order (grids: padded with inactive cells)."""
        if not self._grid:
            return array
        return _scatter(array, self._map, self._n_padded, array.dtype.type(fill))

    def start(self, scaled, active, tol) -> FlowState:
        """A fresh pseudoflow state for exact (int64) or float64 ``scaled`` values."""
        return FlowState(self.padded(scaled), self.padded(active, False), tol)

    def advance(self, state: FlowState, active) -> np.ndarray:
        """Run ``state`` to optimality; the minimal maximum closure among the ``active`` nodes."""
        state.run(self.lowest_first, self._grid, *self._args)
        pit = state.in_closure()
        if self._grid:
            pit = pit[self._map]
        return pit & active


def max_closure(values, precedence) -> Result:
    """Maximum-weight closure of ``values`` under ``precedence`` (see `PseudoflowSolver`)."""
    return PseudoflowSolver(precedence).solve(values)


def is_closed(pit, precedence: Precedence) -> bool:
    """True when every predecessor of every node in ``pit`` is in ``pit``."""
    pit = np.asarray(pit, dtype=bool)
    nodes, preds = precedence.arcs()
    return bool(np.all(~pit[nodes] | pit[preds]))
