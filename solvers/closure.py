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
* Values are scaled to exact int64 when they have at most 6 decimals (and the
  scaled sum fits with headroom); otherwise float64 with a small tolerance.
  The reported objective is always ``math.fsum(values[pit])``.

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
from .problem import Precedence
from .result import OPTIMAL, Result
from .patterns import GridPrecedence

_I32 = np.int32
MAX_SCALE = 10 ** 6
_INT_HEADROOM = 2.0 ** 60        # |scaled values| summed must stay below this


# --------------------------------------------------------------------------------------------
# numba kernel
# --------------------------------------------------------------------------------------------

@numba.njit(cache=True)
def _unlink(x, parent, first_child, next_sib, prev_sib):
    p = parent[x]
    ps = prev_sib[x]
    ns = next_sib[x]
    if ps != -1:
        next_sib[ps] = ns
    else:
        first_child[p] = ns
    if ns != -1:
        prev_sib[ns] = ps
    parent[x] = -1
    next_sib[x] = -1
    prev_sib[x] = -1


@numba.njit(cache=True)
def _link(x, p, parent, first_child, next_sib, prev_sib):
    parent[x] = p
    f = first_child[p]
    next_sib[x] = f
    prev_sib[x] = -1
    if f != -1:
        prev_sib[f] = x
    first_child[p] = x


@numba.njit(cache=True)
def _bucket_add(x, lab, bnext, bhead, btail):
    bnext[x] = bhead[lab]
    if bhead[lab] == -1:
        btail[lab] = x
    bhead[lab] = x


@numba.njit(cache=True)
def _bucket_pop(lab, bnext, bhead, btail):
    x = bhead[lab]
    h = bnext[x]
    bhead[lab] = h
    if h == -1:
        btail[lab] = -1
    bnext[x] = -1
    return x


@numba.njit(cache=True)
def _lift_bucket(i, top, label, count, first_child, next_sib, stack, bnext, bhead, btail):
    """Gap at label i - 1: every tree rooted in bucket i can no longer reach a deficit."""
    while bhead[i] != -1:
        rr = _bucket_pop(i, bnext, bhead, btail)
        sp = 0
        stack[sp] = rr
        sp += 1
        while sp > 0:
            sp -= 1
            y = stack[sp]
            count[label[y]] -= 1
            label[y] = top
            c = first_child[y]
            while c != -1:
                stack[sp] = c
                sp += 1
                c = next_sib[c]


@numba.njit(cache=True)
def _find_merger(x, target, label, next_arc, grid, indptr, indices, off_lin):
    """A predecessor of x with label ``target`` (scan resumes at x's current arc); -1 if none.

    Grid mode: predecessors are ``x + off_lin[a]`` on a grid padded with inactive cells, so
    no bounds checks are needed (padding cells carry the final label and never match).
    """
    if grid:
        m = off_lin.size
        a = next_arc[x]
        while a < m:
            if label[x + off_lin[a]] == target:
                next_arc[x] = a
                return x + off_lin[a]
            a += 1
        next_arc[x] = m
        return -1
    start = indptr[x]
    end = indptr[x + 1]
    a = start + next_arc[x]
    while a < end:
        p = indices[a]
        if label[p] == target:
            next_arc[x] = a - start
            return p
        a += 1
    next_arc[x] = end - start
    return -1


@numba.njit(cache=True, inline="always")
def _skip_or_relabel(x, next_scan, next_sib, label, count, next_arc):
    """Advance x's child scan past children of another label; with none left, relabel x (returns 1)."""
    while next_scan[x] != -1 and label[next_scan[x]] != label[x]:
        next_scan[x] = next_sib[next_scan[x]]
    if next_scan[x] == -1:
        count[label[x]] -= 1
        label[x] += 1
        count[label[x]] += 1
        next_arc[x] = 0
        return 1
    return 0


@numba.njit(cache=True)
def _pseudoflow(excess_in, tol, active, lowest_first, grid, indptr, indices, off_lin):
    """Highest-label pseudoflow for maximum closure; returns (in_closure, merges, relabels)."""
    n = excess_in.size
    top = n  # final label: node can no longer reach a deficit
    excess = excess_in.copy()
    g = np.zeros_like(excess)          # flow from node towards its parent (signed)
    up = np.zeros(n, np.bool_)         # True: node needs its parent (arc node -> parent is infinite)
    parent = np.full(n, -1, np.int32)
    first_child = np.full(n, -1, np.int32)
    next_sib = np.full(n, -1, np.int32)
    prev_sib = np.full(n, -1, np.int32)
    next_scan = np.full(n, -1, np.int32)
    next_arc = np.zeros(n, np.int32)
    label = np.zeros(n, np.int32)
    bnext = np.full(n, -1, np.int32)
    bhead = np.full(n + 2, -1, np.int32)
    btail = np.full(n + 2, -1, np.int32)
    count = np.zeros(n + 2, np.int64)
    stack = np.empty(n, np.int32)

    for x in range(n):
        if not active[x]:
            label[x] = top
        elif excess[x] > tol:
            label[x] = 1
            count[1] += 1
            _bucket_add(x, 1, bnext, bhead, btail)
        else:
            count[0] += 1
    highest = 1

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
                        r = _bucket_pop(0, bnext, bhead, btail)
                        count[0] -= 1
                        label[r] = 1
                        count[1] += 1
                        next_arc[r] = 0
                    elif count[i - 1] > 0:
                        r = _bucket_pop(i, bnext, bhead, btail)
                    else:
                        _lift_bucket(i, top, label, count, first_child, next_sib, stack, bnext, bhead, btail)
                i += 1
            if r == -1:
                break
        else:
            i = highest
            while i > 0:
                if bhead[i] != -1:
                    highest = i
                    if count[i - 1] > 0:
                        r = _bucket_pop(i, bnext, bhead, btail)
                        break
                    _lift_bucket(i, top, label, count, first_child, next_sib, stack, bnext, bhead, btail)
                i -= 1
            if r == -1:
                if bhead[0] != -1:
                    r = _bucket_pop(0, bnext, bhead, btail)
                    count[0] -= 1
                    label[r] = 1
                    count[1] += 1
                    next_arc[r] = 0
                    highest = 1
                else:
                    break

        # ---- process root r: DFS over its region of label l ----
        lab = label[r]
        target = lab - 1
        x = r
        next_scan[r] = first_child[r]
        v = _find_merger(x, target, label, next_arc, grid, indptr, indices, off_lin)
        if v == -1:
            # check children of r
            relabels += _skip_or_relabel(x, next_scan, next_sib, label, count, next_arc)
            while x != -1 and v == -1:
                while next_scan[x] != -1:
                    c = next_scan[x]
                    next_scan[x] = next_sib[c]
                    x = c
                    next_scan[x] = first_child[x]
                    v = _find_merger(x, target, label, next_arc, grid, indptr, indices, off_lin)
                    if v != -1:
                        break
                    relabels += _skip_or_relabel(x, next_scan, next_sib, label, count, next_arc)
                if v != -1:
                    break
                x = parent[x]
                if x != -1:
                    relabels += _skip_or_relabel(x, next_scan, next_sib, label, count, next_arc)
        if v == -1:
            _bucket_add(r, label[r], bnext, bhead, btail)
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
        new_up = True
        new_g = g[x] * 0
        while cur != -1:
            old_parent = parent[cur]
            old_up = up[cur]
            old_g = g[cur]
            if old_parent != -1:
                _unlink(cur, parent, first_child, next_sib, prev_sib)
            _link(cur, new_parent, parent, first_child, next_sib, prev_sib)
            up[cur] = new_up
            g[cur] = new_g
            new_up = not old_up
            new_g = -old_g
            new_parent = cur
            cur = old_parent

        # ---- push r's excess to the root of v's tree, splitting where flow runs out ----
        amt = excess[r]
        excess[r] = amt * 0
        y = r
        while True:
            p = parent[y]
            if p == -1:
                before = excess[y]
                excess[y] = before + amt
                if before <= tol and excess[y] > tol:
                    _bucket_add(y, label[y], bnext, bhead, btail)
                break
            if up[y]:
                g[y] += amt
            else:
                cap = -g[y]
                if amt - cap > tol:
                    g[y] = cap * 0
                    excess[y] = amt - cap
                    _unlink(y, parent, first_child, next_sib, prev_sib)
                    _bucket_add(y, label[y], bnext, bhead, btail)
                    amt = cap
                    if amt <= tol:
                        break
                else:
                    g[y] += amt
                    if g[y] > 0:
                        g[y] = amt * 0
            y = p

    pit = np.zeros(n, np.bool_)
    for x in range(n):
        pit[x] = active[x] and label[x] >= top
    return pit, merges, relabels


# --------------------------------------------------------------------------------------------
# value scaling
# --------------------------------------------------------------------------------------------

def scale_values(values) -> tuple[np.ndarray, int | None]:
    """Values as exact int64 multiples of ``1/scale`` when possible.

    Returns ``(scaled, scale)``: int64 array and scale (1, 10, ..., 1e6), or the
    float64 values and ``None`` when no decimal scale up to 1e6 represents them
    exactly.  Raises `InputError` on NaN/inf or values too large for int64 or float.
    """
    v = np.ascontiguousarray(values, dtype=np.float64)
    if v.ndim != 1:
        raise InputError(f"values must be one-dimensional, got shape {v.shape}")
    bad = ~np.isfinite(v)
    if bad.any():
        b = int(np.flatnonzero(bad)[0])
        raise InputError(f"value of block {b} is {v[b]}", field="values")
    total = float(np.abs(v).sum()) if v.size else 0.0
    if not math.isfinite(total) or total > 1e300:
        raise InputError(f"values too large: sum of |values| = {total}", field="values")
    sample = v[::max(1, v.size // 2048)]     # rejects most scales without a full pass
    scale = 1
    while scale <= MAX_SCALE:
        if total * scale >= _INT_HEADROOM:
            break
        if np.array_equal(np.round(sample * scale) / scale, sample):
            r = np.round(v * scale)
            if np.array_equal(r / scale, v):
                return r.astype(np.int64), scale
        scale *= 10
    if scale == 1:  # integral-looking but even unscaled beyond int64 headroom
        if np.array_equal(np.round(v), v):
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
            # pad the grid with inactive cells (sides and top) so every offset stays inside
            nx, ny, nz = precedence.dims
            off = precedence.offsets
            px = int(np.abs(off[:, 0]).max(initial=0))
            py = int(np.abs(off[:, 1]).max(initial=0))
            pz = int(off[:, 2].max(initial=0))
            gx, gy, gz = nx + 2 * px, ny + 2 * py, nz + pz
            if gx * gy * gz >= 2 ** 31 - 2:
                raise InputError(f"grid {precedence.dims} with its pattern padding exceeds 2^31 cells")
            i = np.arange(nx, dtype=np.int64) + px
            j = np.arange(ny, dtype=np.int64) + py
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
        values = np.ascontiguousarray(values, dtype=np.float64)
        if values.shape != (self.n_nodes,):
            raise InputError(f"{values.size} values for {self.n_nodes} blocks", field="values")
        scaled, scale = scale_values(values)
        active = np.ones(self.n_nodes, dtype=np.bool_) if self._present is None else self._present.copy()
        if fixed is not None:
            fixed = np.asarray(fixed, dtype=bool)
            if fixed.shape != (self.n_nodes,):
                raise InputError(f"fixed mask has {fixed.size} entries for {self.n_nodes} blocks")
            active &= ~fixed
        if within is not None:
            within = np.asarray(within, dtype=bool)
            if within.shape != (self.n_nodes,):
                raise InputError(f"within mask has {within.size} entries for {self.n_nodes} blocks")
            active &= within
        if scale is None:
            tol = float(np.abs(values).max(initial=0.0)) * 1e-12 * max(1.0, math.log2(max(self.n_nodes, 2)))
            tol = np.float64(tol)
        else:
            tol = np.int64(0)
        if self._grid:
            padded = np.zeros(self._n_padded, dtype=scaled.dtype)
            padded[self._map] = scaled
            on = np.zeros(self._n_padded, dtype=np.bool_)
            on[self._map] = active
            del active
            pit, merges, relabels = _pseudoflow(padded, tol, on, self.lowest_first, True, *self._args)
            del padded, on
            pit = pit[self._map]
        else:
            pit, merges, relabels = _pseudoflow(scaled, tol, active, self.lowest_first, False, *self._args)
        if fixed is not None:
            pit |= fixed
        objective = math.fsum(values[pit])
        seconds = time.perf_counter() - t0
        info = {"n_in_pit": int(pit.sum()), "n_arcs": self.n_arcs, "scale": scale, "exact": scale is not None,
                "merges": int(merges), "relabels": int(relabels), "n_nodes": self.n_nodes}
        return Result(OPTIMAL, objective, objective, seconds, pit, self.algorithm, info)


def max_closure(values, precedence) -> Result:
    """Maximum-weight closure of ``values`` under ``precedence`` (see `PseudoflowSolver`)."""
    return PseudoflowSolver(precedence).solve(values)


def is_closed(pit, precedence: Precedence) -> bool:
    """True when every predecessor of every node in ``pit`` is in ``pit``."""
    pit = np.asarray(pit, dtype=bool)
    nodes, preds = precedence.arcs()
    return bool(np.all(~pit[nodes] | pit[preds]))
