"""What the scheduling model schedules: mining cuts, parcels of material and stockpile bins.

A *cut* is what is mined together: one block (small pits, scheduled block by block) or one bench
of one pushback.  A *parcel* is the material of one cut in one grade bin (ore) or its waste: every
block of a parcel is ore-grade, or none is.  A *stockpile bin* gathers the ore of one grade bin.
Cut precedence is the block precedence projected on cuts, plus the rule that a bench of a pushback
is mined after the same bench of the pushback before it.

Within a cut, blocks are ordered by the nested shell they belong to (inner shells first): the
position a block takes when its cut is mined in several periods (`orepit.planning.sequencing`).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from solvers.closure import PseudoflowSolver
from solvers.errors import InputError
from solvers.problem import Precedence

from orepit.planning.pits import pushbacks
from orepit.valuation.deposit import Deposit
from orepit.valuation.destinations import MILL


@dataclass
class Parcels:
    """Material the scheduling model places (arrays of length n_parcels unless noted).

    cut            index of the cut that holds the parcel (0..n_cuts-1)
    tonnage        t
    metal          t of metal contained (the deposit's first element)
    recovered      t of metal recovered if the parcel is milled
    ore            True for ore-grade parcels (milling pays before mining cost)
    value          (n, 3) currency at mill / stockpile / dump, undiscounted; the stockpile column is
                   the cost of mining and placing it (its revenue comes at reclaim, through the bins)
    mill_hours     h to mill the whole parcel
    co2            (n, 3) t CO2 at mill / stockpile / dump (stockpile: at mining; milling at reclaim)
    bin            stockpile bin (0..n_bins-1), -1 for waste
    cut_precedence `Precedence` among cuts
    integer_cuts   True: a cut is mined whole in one period (block-by-block scheduling)
    extras         name -> (n, 3) further per-destination totals reported as KPIs
                   (energy_kwh, water_m3, dump_ha) and available to model extensions
    """

    cut: np.ndarray
    tonnage: np.ndarray
    metal: np.ndarray
    recovered: np.ndarray
    ore: np.ndarray
    value: np.ndarray
    mill_hours: np.ndarray
    co2: np.ndarray
    bin: np.ndarray
    cut_precedence: Precedence
    integer_cuts: bool = False
    extras: dict = field(default_factory=dict)

    def __post_init__(self):
        n = np.asarray(self.tonnage).size
        self.extras = {k: np.asarray(v, dtype=np.float64).reshape(n, 3) for k, v in self.extras.items()}
        for name in ("cut", "bin"):
            setattr(self, name, np.asarray(getattr(self, name), dtype=np.int64))
        for name in ("tonnage", "metal", "recovered", "mill_hours"):
            setattr(self, name, np.asarray(getattr(self, name), dtype=np.float64))
        self.ore = np.asarray(self.ore, dtype=bool)
        self.value = np.asarray(self.value, dtype=np.float64).reshape(n, 3)
        self.co2 = np.asarray(self.co2, dtype=np.float64).reshape(n, 3)
        for name in ("cut", "metal", "recovered", "ore", "mill_hours", "bin"):
            if getattr(self, name).shape != (n,):
                raise InputError(f"parcels: {name} has {getattr(self, name).size} entries for {n} parcels",
                                 field=name)
        for name in ("tonnage", "metal", "recovered", "mill_hours", "value", "co2"):
            arr = getattr(self, name)
            if not np.isfinite(arr).all():
                raise InputError(f"parcels: {name} has a non-finite entry (parcel "
                                 f"{int(np.argwhere(~np.isfinite(arr))[0][0])})", field=name)
        if (self.tonnage < 0).any():
            raise InputError(f"parcels: negative tonnage (parcel {int(np.flatnonzero(self.tonnage < 0)[0])})",
                             field="tonnage")
        if n and (self.cut.min() < 0 or self.cut.max() >= self.n_cuts):
            raise InputError("parcels: cut index out of range", field="cut")
        if np.any(self.bin[~self.ore] >= 0):
            raise InputError("parcels: a waste parcel has a stockpile bin", field="bin")

    @property
    def n_parcels(self) -> int:
        return self.tonnage.size

    @property
    def n_cuts(self) -> int:
        return self.cut_precedence.n_nodes

    @property
    def n_bins(self) -> int:
        return int(self.bin.max()) + 1 if self.bin.size and self.bin.max() >= 0 else 0


@dataclass
class Bins:
    """Stockpile grade bins (arrays of length n_bins): what a reclaimed tonne is worth and needs,
    as the tonnage-weighted mean of the bin's parcels.

    reclaim_value  currency per t reclaimed and milled (revenue - processing - rehandle - env. cost)
    recovered      t of metal recovered per t reclaimed
    metal          t of metal contained per t
    mill_hours     h per t
    co2            t CO2 per t reclaimed and milled
    extras         name -> per-t amounts on reclaim (as `Parcels.extras` at the mill)
    """

    reclaim_value: np.ndarray
    recovered: np.ndarray
    metal: np.ndarray
    mill_hours: np.ndarray
    co2: np.ndarray
    extras: dict = field(default_factory=dict)

    def __post_init__(self):
        for name in ("reclaim_value", "recovered", "metal", "mill_hours", "co2"):
            setattr(self, name, np.asarray(getattr(self, name), dtype=np.float64))
        n = self.reclaim_value.size
        self.extras = {k: np.asarray(v, dtype=np.float64).reshape(n) for k, v in self.extras.items()}

    @property
    def n_bins(self) -> int:
        return self.reclaim_value.size


@dataclass
class Layout:
    """How a pit's blocks form cuts, parcels and bins (independent of prices).

    block_cut, block_parcel, block_bin: per block, -1 outside the pit (or zero tonnage; bin -1 for
    waste); block_position: order of a block within its cut (smaller first: inner shells first);
    block_pushback: pushback index (-1 outside); parcel_cut, parcel_bin, parcel_ore: per parcel;
    cut_precedence among cuts; integer: one cut per block (small pits).
    """

    block_cut: np.ndarray
    block_parcel: np.ndarray
    block_bin: np.ndarray
    block_position: np.ndarray
    block_pushback: np.ndarray
    parcel_cut: np.ndarray
    parcel_bin: np.ndarray
    parcel_ore: np.ndarray
    cut_precedence: Precedence
    integer: bool

    @property
    def n_parcels(self) -> int:
        return self.parcel_cut.size

    @property
    def n_cuts(self) -> int:
        return self.cut_precedence.n_nodes


def margin_per_tonne(deposit: Deposit) -> np.ndarray:
    """Margin of milling per tonne (currency/t; 0 for air)."""
    ton = deposit.tonnage
    return np.where(ton > 0, deposit.margin / np.where(ton > 0, ton, 1.0), 0.0)


def low_grade_edge(deposit: Deposit, pit: np.ndarray) -> float:
    """The margin per tonne (currency/t) that splits the ore tonnes of ``pit`` in two halves.

    Ore below it is *low-grade*: computed once, on the economic ultimate pit, it is the one
    definition of low-grade ore for every strategy of a comparison.
    """
    return float(bin_edges(deposit, pit, 2)[1])


def bin_edges(deposit: Deposit, pit: np.ndarray, n_bins: int, by_value: bool = False) -> np.ndarray:
    """Margin per tonne (currency/t) quantiles of the ore in ``pit``: bin g is [edge g, edge g+1).

    Quantiles of tonnes, or (``by_value``) of tonnes and margin together, each counted half: rich ore
    then gets narrower bins, so what is stockpiled in a bin is worth close to the bin's mean."""
    ore = deposit.ore & pit
    if not ore.any():
        return np.array([0.0, np.inf])
    per_t = margin_per_tonne(deposit)[ore]
    order = np.argsort(per_t, kind="stable")
    weight = deposit.tonnage[ore][order]
    if by_value:
        margin = deposit.margin[ore][order]
        weight = weight / weight.sum() + margin / max(margin.sum(), 1e-300)
    cum = np.cumsum(weight)
    qs = [per_t[order][np.searchsorted(cum, q * cum[-1])] for q in np.arange(1, n_bins) / n_bins]
    return np.concatenate([[0.0], np.unique(qs), [np.inf]])


def cut_layout(deposit: Deposit, pit: np.ndarray, values: np.ndarray, n_pushbacks: int, n_bins: int,
               block_limit: int, solver: PseudoflowSolver | None = None, shells=None, core=None) -> Layout:
    """Cuts, parcels and bins of ``pit``.

    Block by block when the pit has at most ``block_limit`` blocks (integer cuts); otherwise cuts
    are (pushback, bench), pushbacks grouped from nested shells of ``values`` to about
    ``n_pushbacks`` of similar tonnage, and each cut is split into parcels by grade bin (``n_bins``
    margin-per-tonne quantiles of the pit's ore, `with_bins`).  shells: (pushback, shell) per block
    from an earlier layout of the same pit, to reuse its cuts with other bins; core: blocks known to
    lie in the first of the nested shells (`orepit.planning.pits.pushbacks`: the same cuts, sooner).
    """
    n = deposit.n_blocks
    blocks = np.flatnonzero(pit & (deposit.tonnage > 0))
    block_cut = np.full(n, -1, dtype=np.int64)
    integer = blocks.size <= block_limit
    bench = deposit.model.k
    if integer:
        block_cut[blocks] = np.arange(blocks.size)
        pushback = np.where(pit, 0, -1)
        shell = np.where(pit, 0, -1)
    else:
        pushback, shell = pushbacks(deposit, values, pit, n_pushbacks, solver, core=core) if shells is None \
            else shells
        n_k = int(bench.max()) + 1
        uniq, cut_idx = np.unique(pushback[blocks] * n_k + bench[blocks], return_inverse=True)
        block_cut[blocks] = cut_idx
    a, b = deposit.precedence.group_arcs(block_cut)
    n_cuts = int(block_cut.max()) + 1
    if not integer:                                                   # same bench, previous pushback
        lookup = {int(k): c for c, k in enumerate(uniq)}
        extra = [(c, lookup[int(k) - n_k]) for c, k in enumerate(uniq) if int(k) - n_k in lookup]
        if extra:
            ea, eb = np.array(extra).T
            a, b = np.concatenate([a, ea]), np.concatenate([b, eb])
    pair = np.unique(a * n_cuts + b)
    cut_precedence = transitive_reduction(Precedence.from_arcs(n_cuts, pair // n_cuts, pair % n_cuts))
    return Layout(block_cut=block_cut, block_position=np.where(pit, shell, -1).astype(np.int64),
                  block_pushback=np.where(pit, pushback, -1).astype(np.int64), cut_precedence=cut_precedence,
                  integer=integer, **_parcels(deposit, block_cut, integer, pit, n_bins))


def with_bins(deposit: Deposit, layout: Layout, pit: np.ndarray, n_bins: int) -> Layout:
    """``layout`` (of ``pit``) with its cuts split into parcels by ``n_bins`` grade bins (margin-per-tonne
    quantiles of the pit's ore, `bin_edges` by value; one parcel per block when cuts are blocks): its
    cuts, block order and cut precedence are kept as they are."""
    return replace(layout, **_parcels(deposit, layout.block_cut, layout.integer, pit, n_bins))


def _parcels(deposit: Deposit, block_cut: np.ndarray, integer: bool, pit: np.ndarray, n_bins: int) -> dict:
    """The parcel fields of a `Layout` whose cuts are ``block_cut``: cuts split by grade bin."""
    blocks = np.flatnonzero(block_cut >= 0)
    edges = bin_edges(deposit, pit, n_bins, by_value=True)
    ore = deposit.ore
    grade_bin = np.where(ore, np.clip(np.searchsorted(edges, margin_per_tonne(deposit), side="right") - 1, 0,
                                      edges.size - 2), -1)
    if integer:
        key = np.arange(blocks.size)                                  # one parcel per block
    else:
        key = block_cut[blocks] * (n_bins + 1) + (grade_bin[blocks] + 1)
    parcel_key, parcel_of = np.unique(key, return_inverse=True)
    block_parcel = np.full(block_cut.size, -1, dtype=np.int64)
    block_parcel[blocks] = parcel_of
    first = np.zeros(parcel_key.size, dtype=np.int64)
    first[parcel_of[::-1]] = blocks[::-1]                             # a representative block per parcel
    return dict(block_parcel=block_parcel, block_bin=np.where(block_parcel >= 0, grade_bin, -1),
                parcel_cut=block_cut[first], parcel_bin=grade_bin[first], parcel_ore=ore[first])


def transitive_reduction(precedence: Precedence, max_nodes: int = 5000) -> Precedence:
    """The same precedence without the arcs that chains of other arcs imply (fewer model rows).

    Graphs of more than ``max_nodes`` nodes are returned as they are.
    """
    n = precedence.n_nodes
    if n > max_nodes or precedence.n_arcs == 0:
        return precedence
    reach = np.zeros((n, n), dtype=bool)          # reach[u, v]: v must be mined before u
    keep_nodes, keep_preds = [], []
    for u in precedence.topological_order():
        preds = precedence.predecessors(u)
        implied = reach[preds].any(axis=0) if preds.size else np.zeros(n, bool)
        direct = preds[~implied[preds]]
        keep_nodes.extend([u] * direct.size)
        keep_preds.extend(direct.tolist())
        reach[u] = implied
        reach[u, preds] = True
    return Precedence.from_arcs(n, keep_nodes, keep_preds)


def regroup(layout: Layout, group: np.ndarray) -> tuple[Layout, np.ndarray]:
    """The layout with each parcel split by ``group`` (an integer label per block, e.g. the block's
    period): parcels become (parcel, label) groups.  Returns (layout, label of each new parcel)."""
    has = layout.block_parcel >= 0
    width = int(group[has].max(initial=0)) + 2                      # labels -1 .. max, shifted by one
    key = np.where(has, layout.block_parcel * width + group + 1, -1)
    uniq, inverse = np.unique(key[has], return_inverse=True)
    block_parcel = np.full(key.size, -1, dtype=np.int64)
    block_parcel[has] = inverse
    parent = uniq // width
    label = uniq % width - 1
    return replace(layout, block_parcel=block_parcel, parcel_cut=layout.parcel_cut[parent],
                   parcel_bin=layout.parcel_bin[parent], parcel_ore=layout.parcel_ore[parent], integer=False), label


def price_units(deposit: Deposit, layout: Layout, env_price: bool) -> tuple[Parcels, Bins]:
    """Parcels and stockpile bins of a layout, valued with or without the environmental price.

    The stockpile route is paid for at mining (mining, placing, its share of the environmental
    cost); its margin, less rehandle and the milling route's environmental cost, comes at reclaim.
    """
    has = layout.block_parcel >= 0
    idx = layout.block_parcel[has]
    n_p = layout.n_parcels

    def total(arr):
        arr = np.asarray(arr, dtype=np.float64)
        if arr.ndim == 1:
            return np.bincount(idx, weights=arr[has], minlength=n_p)
        return np.stack([np.bincount(idx, weights=arr[has, d], minlength=n_p) for d in range(arr.shape[1])], axis=1)

    flows = deposit.flows(env_price)
    value = total(np.where(np.isfinite(flows.at_mining), flows.at_mining, 0.0))
    co2 = total(deposit.co2_at_mining())
    extras = {k: total(v) for k, v in deposit.extras_at_mining().items()}
    parcels = Parcels(cut=layout.parcel_cut, tonnage=total(deposit.tonnage), metal=total(deposit.metal),
                      recovered=total(deposit.recovered), ore=layout.parcel_ore, value=value,
                      mill_hours=total(deposit.mill_hours), co2=co2, bin=layout.parcel_bin,
                      cut_precedence=layout.cut_precedence, integer_cuts=layout.integer, extras=extras)
    bins = pile_means(deposit, layout.block_bin, flows.at_reclaim)
    return parcels, bins


def pile_means(deposit: Deposit, pile: np.ndarray, reclaim_value: np.ndarray) -> Bins:
    """What a reclaimed tonne of each pile is worth and needs: tonnage-weighted means over the blocks
    labelled ``pile`` (0..n-1; -1 none)."""
    g = pile
    keep = g >= 0
    nb = int(g.max()) + 1 if g.size and g.max() >= 0 else 0
    t = np.bincount(g[keep], weights=deposit.tonnage[keep], minlength=nb)
    safe = np.where(t > 0, t, 1.0)

    def mean(per_block_total):
        return np.bincount(g[keep], weights=np.asarray(per_block_total)[keep], minlength=nb) / safe

    extras = {k: mean(v[:, MILL]) for k, v in deposit.extras.items()}
    return Bins(mean(reclaim_value), mean(deposit.recovered), mean(deposit.metal), mean(deposit.mill_hours),
                mean(deposit.co2[:, MILL]), extras)

