"""Problem data for precedence-constrained optimization (domain-free).

A precedence graph says which nodes ("blocks") must be taken before another.
It is stored in compressed sparse rows: the predecessors of node ``b`` are
``indices[indptr[b]:indptr[b+1]]``.  Three problems share it (MineLib's
names): the maximum-weight closure ``UpitProblem``, and the scheduling problems
``CpitProblem`` and ``PcpspProblem`` (periods, destinations, discounting,
resource limits and general side constraints).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numba
import numpy as np

from .errors import InputError
from .toposort import topological_order

INDEX = np.int64          # arc offsets (indptr) and the arc lists given to `Precedence.from_arcs`


def node_dtype(n_nodes: int):
    """The integer type of node ids in a graph of ``n_nodes``: int32 (4 bytes an arc) while ids fit,
    else int64.  A mine's precedence has 10 to 40 arcs a block, so this halves its largest arrays."""
    return np.int32 if n_nodes <= np.iinfo(np.int32).max else np.int64


@dataclass(frozen=True, eq=False)
class Precedence:
    """Predecessor lists in CSR form: node -> nodes that must be taken first (``indptr`` int64,
    ``indices`` of `node_dtype`).

    >>> p = Precedence.from_arcs(3, [2, 2], [0, 1])   # node 2 needs 0 and 1
    >>> p.predecessors(2).tolist(), p.n_arcs
    ([0, 1], 2)
    """

    indptr: np.ndarray
    indices: np.ndarray

    def __post_init__(self):
        indptr = np.ascontiguousarray(self.indptr, dtype=INDEX)
        indices = np.asarray(self.indices)
        if indices.dtype.kind not in "iu":
            indices = indices.astype(INDEX)
        if indptr.ndim != 1 or indptr.size < 1 or indptr[0] != 0 or indptr[-1] != indices.size:
            raise InputError("precedence: indptr must start at 0 and end at the number of arcs")
        if np.any(np.diff(indptr) < 0):
            raise InputError("precedence: indptr must be non-decreasing")
        n = indptr.size - 1
        if indices.size and (indices.min() < 0 or indices.max() >= n):    # before narrowing the ids
            bad = int(indices[(indices < 0) | (indices >= n)][0])
            raise InputError(f"precedence: predecessor {bad} out of range (NBLOCKS {n})")
        indices = np.ascontiguousarray(indices, dtype=node_dtype(n))
        object.__setattr__(self, "indptr", indptr)
        object.__setattr__(self, "indices", indices)

    @classmethod
    def from_arcs(cls, n_nodes: int, nodes, predecessors) -> "Precedence":
        """Build from arc lists: ``predecessors[i]`` must be taken before ``nodes[i]``."""
        nodes = np.asarray(nodes, dtype=INDEX)
        preds = np.asarray(predecessors, dtype=INDEX)
        if nodes.shape != preds.shape:
            raise InputError("precedence: arc lists differ in length")
        if nodes.size and (nodes.min() < 0 or nodes.max() >= n_nodes):
            raise InputError(f"precedence: node out of range (NBLOCKS {n_nodes})")
        order = np.argsort(nodes, kind="stable")
        counts = np.bincount(nodes, minlength=n_nodes)
        indptr = np.zeros(n_nodes + 1, dtype=INDEX)
        np.cumsum(counts, out=indptr[1:])
        return cls(indptr, preds[order])

    @classmethod
    def empty(cls, n_nodes: int) -> "Precedence":
        return cls(np.zeros(n_nodes + 1, dtype=INDEX), np.zeros(0, dtype=node_dtype(n_nodes)))

    @property
    def n_nodes(self) -> int:
        return self.indptr.size - 1

    @property
    def n_arcs(self) -> int:
        return int(self.indices.size)

    def predecessors(self, node: int) -> np.ndarray:
        return self.indices[self.indptr[node]:self.indptr[node + 1]]

    def arcs(self) -> tuple[np.ndarray, np.ndarray]:
        """(node, predecessor) arrays of `node_dtype`, one entry per arc."""
        nodes = np.repeat(np.arange(self.n_nodes, dtype=self.indices.dtype), np.diff(self.indptr))
        return nodes, self.indices

    def group_arcs(self, group) -> tuple[np.ndarray, np.ndarray]:
        """The arcs between groups of nodes: (group, predecessor group) int64 arrays, each pair once
        (sorted), for every arc whose two nodes lie in different groups; ``group`` holds each node's
        group (>= 0) or -1 for a node in none (its arcs are left out).  One pass over the arcs of the
        grouped nodes, without the arc list of the whole graph.

        >>> Precedence.from_arcs(4, [2, 2, 3], [0, 1, 2]).group_arcs(np.array([0, 0, 1, -1]))
        (array([1]), array([0]))
        """
        group = np.ascontiguousarray(group, dtype=np.int64)
        if group.shape != (self.n_nodes,):
            raise InputError(f"group has {group.size} entries for {self.n_nodes} nodes", field="group")
        count = _group_arcs(self.indptr, self.indices, group, np.zeros(0, np.int64), np.zeros(0, np.int64))
        a, b = np.empty(count, np.int64), np.empty(count, np.int64)
        _group_arcs(self.indptr, self.indices, group, a, b)
        n_groups = int(group.max(initial=-1)) + 1
        pair = np.unique(a * n_groups + b)
        return pair // max(n_groups, 1), pair % max(n_groups, 1)

    def successors(self) -> "Precedence":
        """The reversed graph: node -> nodes that need it (built once per graph; do not modify)."""
        if "_successors" not in self.__dict__:
            indptr = np.zeros(self.n_nodes + 1, dtype=INDEX)
            np.cumsum(np.bincount(self.indices, minlength=self.n_nodes), out=indptr[1:])
            indices = np.empty(self.n_arcs, dtype=self.indices.dtype)
            _reverse(self.indptr, self.indices, indptr[:-1].copy(), indices)
            self.__dict__["_successors"] = Precedence(indptr, indices)
        return self.__dict__["_successors"]

    def topological_order(self) -> np.ndarray:
        """Nodes ordered so that every predecessor comes first (found once per graph).

        Raises `InputError` naming one cycle when the graph has one.
        """
        if "_order" not in self.__dict__:
            order = topological_order(self)
            order.flags.writeable = False
            self.__dict__["_order"] = order
        return self.__dict__["_order"]


@numba.njit(cache=True)
def _reverse(indptr, indices, fill, out):
    """Write each node's successors, ascending, into ``out`` at ``fill[p]`` onwards (the reversed CSR)."""
    for b in range(indptr.size - 1):
        for k in range(indptr[b], indptr[b + 1]):
            p = indices[k]
            out[fill[p]] = b
            fill[p] += 1


@numba.njit(cache=True)
def _group_arcs(indptr, indices, group, out_a, out_b):
    """Count the arcs between different groups (>= 0); write (group, predecessor group) of each into
    ``out_a``/``out_b`` when they hold room (a node's repeated predecessor group written once in a row)."""
    m = 0
    write = out_a.size > 0
    for b in range(indptr.size - 1):
        g = group[b]
        if g < 0:
            continue
        last = -1
        for k in range(indptr[b], indptr[b + 1]):
            h = group[indices[k]]
            if h >= 0 and h != g and h != last:
                if write:
                    out_a[m] = g
                    out_b[m] = h
                m += 1
                last = h
    return m


def _as_limits(lower, upper, shape, what):
    lower = np.broadcast_to(np.asarray(lower, dtype=np.float64), shape).copy()
    upper = np.broadcast_to(np.asarray(upper, dtype=np.float64), shape).copy()
    if np.isnan(lower).any() or np.isnan(upper).any():
        raise InputError(f"{what}: limits must not be NaN")
    if np.any(lower > upper):
        r, t = np.argwhere(lower > upper)[0]
        raise InputError(f"{what} {r} period {t}: lower limit {lower[r, t]} above upper limit {upper[r, t]}")
    return lower, upper


@dataclass(frozen=True, eq=False)
class UpitProblem:
    """Maximum-weight closure: choose a closed set of nodes of largest total value.

    values: value of each node (any unit, e.g. USD); precedence: `Precedence`.
    """

    values: np.ndarray
    precedence: Precedence
    name: str = ""

    def __post_init__(self):
        values = np.ascontiguousarray(self.values, dtype=np.float64)
        if values.ndim != 1 or values.size != self.precedence.n_nodes:
            raise InputError(f"UPIT: {values.size} values for {self.precedence.n_nodes} blocks")
        if not np.isfinite(values).all():
            b = int(np.flatnonzero(~np.isfinite(values))[0])
            raise InputError(f"UPIT: value of block {b} is {values[b]}")
        object.__setattr__(self, "values", values)

    @property
    def n_blocks(self) -> int:
        return self.values.size


@dataclass(frozen=True, eq=False)
class SideConstraints:
    """General side constraints ``lower[j] <= sum A[j, (b, d, t)] y[b, d, t] <= upper[j]`` in COO form."""

    block: np.ndarray
    destination: np.ndarray
    period: np.ndarray
    row: np.ndarray
    coef: np.ndarray
    lower: np.ndarray
    upper: np.ndarray

    @classmethod
    def none(cls) -> "SideConstraints":
        z = np.zeros(0, dtype=INDEX)
        f = np.zeros(0, dtype=np.float64)
        return cls(z, z, z, z, f, f, f)

    @property
    def n_rows(self) -> int:
        return int(self.lower.size)


@dataclass(frozen=True, eq=False)
class PcpspProblem:
    """Precedence-constrained production scheduling (MineLib PCPSP).

    Each block is mined at most once, in one period ``t = 0..n_periods-1``, and
    its tonnage is split over destinations in fractions summing to 1.

    values[b, d]         undiscounted profit of sending all of block b to d
    precedence           `Precedence` (a block's predecessors are mined by the same period)
    n_periods            number of periods
    discount_rate        per period: profit in period t is divided by (1 + rate) ** t
    resource_coef[b, d, r]  use of resource r when all of b goes to d
    resource_lower[r, t], resource_upper[r, t]   limits (-inf / +inf when absent)
    resource_kind[r, t]  'L', 'G' or 'I' as written in the file (for round trips)
    side                 `SideConstraints` (PCPSP general side constraints)
    """

    values: np.ndarray
    precedence: Precedence
    n_periods: int
    discount_rate: float
    resource_coef: np.ndarray
    resource_lower: np.ndarray
    resource_upper: np.ndarray
    resource_kind: np.ndarray | None = None
    side: SideConstraints = field(default_factory=SideConstraints.none)
    name: str = ""

    kind = "PCPSP"

    def __post_init__(self):
        values = np.ascontiguousarray(self.values, dtype=np.float64)
        if values.ndim == 1:
            values = values[:, None]
        n = self.precedence.n_nodes
        if values.ndim != 2 or values.shape[0] != n:
            raise InputError(f"{self.kind}: values have shape {values.shape}, expected ({n}, destinations)")
        if not np.isfinite(values).all():
            b = int(np.argwhere(~np.isfinite(values))[0][0])
            raise InputError(f"{self.kind}: objective value of block {b} is not finite")
        if int(self.n_periods) < 1:
            raise InputError(f"{self.kind}: NPERIODS must be at least 1, got {self.n_periods}")
        if not np.isfinite(self.discount_rate) or self.discount_rate <= -1:
            raise InputError(f"{self.kind}: DISCOUNT_RATE {self.discount_rate} is not a valid rate")
        n_dest = values.shape[1]
        coef = np.ascontiguousarray(self.resource_coef, dtype=np.float64)
        if coef.ndim == 2:
            coef = np.repeat(coef[:, None, :], n_dest, axis=1)
        if coef.ndim != 3 or coef.shape[:2] != (n, n_dest):
            raise InputError(f"{self.kind}: resource coefficients have shape {coef.shape}, expected ({n}, {n_dest}, resources)")
        shape = (coef.shape[2], int(self.n_periods))
        lower, upper = _as_limits(self.resource_lower, self.resource_upper, shape, "resource")
        kind = self.resource_kind
        if kind is None:
            kind = np.where(np.isinf(lower), "L", np.where(np.isinf(upper), "G", "I"))
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "n_periods", int(self.n_periods))
        object.__setattr__(self, "discount_rate", float(self.discount_rate))
        object.__setattr__(self, "resource_coef", coef)
        object.__setattr__(self, "resource_lower", lower)
        object.__setattr__(self, "resource_upper", upper)
        object.__setattr__(self, "resource_kind", np.asarray(kind, dtype="<U1"))

    @property
    def n_blocks(self) -> int:
        return self.values.shape[0]

    @property
    def n_destinations(self) -> int:
        return self.values.shape[1]

    @property
    def n_resources(self) -> int:
        return self.resource_coef.shape[2]

    def discount_factors(self) -> np.ndarray:
        """1 / (1 + rate) ** t for t = 0..n_periods-1."""
        return (1.0 + self.discount_rate) ** -np.arange(self.n_periods, dtype=np.float64)

    def resource_rows(self, column: np.ndarray):
        """The resource rows with a finite limit, one per (resource, period) in that order, as COO
        (rows, columns, coefficients, lower, upper); ``column[b, d, t]`` is the column of the share
        of block b sent to destination d in period t."""
        finite = np.isfinite(self.resource_lower) | np.isfinite(self.resource_upper)
        rows, cols, vals = [np.zeros(0, INDEX)], [np.zeros(0, INDEX)], [np.zeros(0)]
        for row, (r, t) in enumerate(np.argwhere(finite)):
            b, d = np.nonzero(self.resource_coef[:, :, r])
            rows.append(np.full(b.size, row))
            cols.append(column[b, d, t])
            vals.append(self.resource_coef[b, d, r])
        return (np.concatenate(rows), np.concatenate(cols), np.concatenate(vals), self.resource_lower[finite],
                self.resource_upper[finite])


@dataclass(frozen=True, eq=False)
class CpitProblem(PcpspProblem):
    """Constrained pit limit problem (MineLib CPIT): a `PcpspProblem` with one destination.

    values may be given as a vector (one value per block); resource_coef as (blocks, resources).
    """

    kind = "CPIT"

    def __post_init__(self):
        super().__post_init__()
        if self.n_destinations != 1:
            raise InputError(f"CPIT: one destination expected, got {self.n_destinations}")
        if self.side.n_rows:
            raise InputError("CPIT: general side constraints belong to PCPSP")


@dataclass(frozen=True, eq=False)
class Schedule:
    """A solution to CPIT or PCPSP as MineLib writes it: one row per (block, destination, period).

    fraction is the share of the block's tonnage sent to that destination in that
    period; rows with zero fraction may be omitted.  For CPIT the destination is 0.
    """

    block: np.ndarray
    destination: np.ndarray
    period: np.ndarray
    fraction: np.ndarray

    def __post_init__(self):
        for name, dtype in (("block", INDEX), ("destination", INDEX), ("period", INDEX), ("fraction", np.float64)):
            object.__setattr__(self, name, np.ascontiguousarray(getattr(self, name), dtype=dtype))
        n = self.block.size
        if not (self.destination.size == self.period.size == self.fraction.size == n):
            raise InputError("schedule: block, destination, period and fraction differ in length")

    @classmethod
    def from_periods(cls, period, fractions=None) -> "Schedule":
        """From the period each block is mined in (-1: not mined) and, optionally,
        its destination fractions ``fractions[b, d]`` (default: all to destination 0)."""
        period = np.asarray(period, dtype=INDEX)
        mined = np.flatnonzero(period >= 0)
        if fractions is None:
            return cls(mined, np.zeros(mined.size, INDEX), period[mined], np.ones(mined.size))
        fractions = np.asarray(fractions, dtype=np.float64)
        b, d = np.nonzero(fractions[mined] > 0)
        blocks = mined[b]
        return cls(blocks, d, period[blocks], fractions[blocks, d])
