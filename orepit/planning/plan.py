"""The green scheduling model: when each mining cut is mined and where its material goes.

Mining entities are *cuts* (a block, or a bench of a pushback), linked by
precedence.  Material entities are *parcels*: each parcel belongs to one cut
(a block is one parcel; a cut is split into parcels by grade bin) and is sent,
in fractions, to the mill, the low-grade stockpile or the dump in the
period its cut is mined.  Stockpiled material enters an inventory by grade bin
and is reclaimed to the mill in the same or a later period (linear grade-bin
formulation: a reclaimed tonne of bin g is worth the bin's tonnage-weighted
mean, known before solving).

Decision variables, for cut c, parcel p, bin g and period t = 0..T-1:

    w[c, t] in [0, 1]      share of cut c mined by the end of period t (binary for blocks)
    m, s, d[p, t] >= 0     share of parcel p sent to mill, stockpile, dump in period t
    r[g, t] >= 0           tonnes reclaimed from bin g to the mill in period t
    i[g, t] >= 0           tonnes in bin g at the end of period t

    m + s + d = w[c(p), t] - w[c(p), t-1];  w[c, t-1] <= w[c, t];  w[c, t] <= w[c', t] for c' before c
    i[g, t] = (1 - loss) i[g, t-1] + sum_{p in g} tonnes_p s[p, t] - r[g, t]
    capacities per period: mined t, mill t (direct + reclaim), mill hours, stockpile t, CO2 t

Objective (currency, discounted to period 0): sum_t (1 + rate)^-t [sum_p (v_mill m + v_sp s + v_dump d)
+ sum_g v_reclaim_g r] + final inventory (processed one period after the last, or lost).
Green constraints (each optional): cumulative mining-recovery floor on ore-grade tonnes,
no ore-grade parcel to the dump, minimum metal recovered, emission caps.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from solvers.errors import InputError, InfeasibleError
from solvers.highs import LinearModel
from solvers.problem import Precedence
from solvers.result import INFEASIBLE, Result

from orepit.valuation.destinations import DUMP, MILL, STOCKPILE


@dataclass
class Parcels:
    """Material the scheduler places (arrays of length n_parcels unless noted).

    cut            index of the cut that contains the parcel (0..n_cuts-1)
    tonnage        t
    metal          t of payable metal contained
    recovered      t of metal recovered if the parcel is milled
    ore            True for ore-grade parcels (above the cut-off)
    value          (n, 3) currency at mill / stockpile / dump, undiscounted, environmental cost included;
                   the stockpile value is the cost of mining and placing it (its revenue comes at reclaim)
    mill_hours     h to mill the whole parcel
    co2            (n, 3) t CO2 at mill / stockpile / dump
    bin            stockpile bin (0..n_bins-1), -1 if the parcel may not be stockpiled
    cut_precedence `Precedence` among cuts
    integer_cuts   True: a cut is mined whole in one period (block scheduling)
    low_grade      True for low-grade ore (ore-grade, but below the cut-off a high-grader mills)
    extras         name -> (n, 3) further per-destination totals reported as KPIs
                   (e.g. energy_kwh, water_m3, dump_ha), not optimized
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
    integer_cuts: bool = True
    low_grade: np.ndarray | None = None
    extras: dict = field(default_factory=dict)

    def __post_init__(self):
        n = np.asarray(self.tonnage).size
        self.low_grade = np.zeros(n, bool) if self.low_grade is None else np.asarray(self.low_grade, dtype=bool)
        self.extras = {k: np.asarray(v, dtype=np.float64).reshape(n, 3) for k, v in self.extras.items()}
        for name in ("cut", "bin"):
            setattr(self, name, np.asarray(getattr(self, name), dtype=np.int64))
        for name in ("tonnage", "metal", "recovered", "mill_hours"):
            setattr(self, name, np.asarray(getattr(self, name), dtype=np.float64))
        self.ore = np.asarray(self.ore, dtype=bool)
        self.value = np.asarray(self.value, dtype=np.float64).reshape(n, 3)
        self.co2 = np.asarray(self.co2, dtype=np.float64).reshape(n, 3)
        for name in ("cut", "metal", "recovered", "ore", "mill_hours", "bin", "low_grade"):
            if getattr(self, name).shape != (n,):
                raise InputError(f"parcels: {name} has {getattr(self, name).size} entries for {n} parcels")
        for name in ("tonnage", "metal", "recovered", "mill_hours", "value", "co2"):
            arr = getattr(self, name)
            if not np.isfinite(arr).all():
                raise InputError(f"parcels: {name} has a non-finite entry (parcel "
                                 f"{int(np.argwhere(~np.isfinite(arr))[0][0])})")
        if (self.tonnage < 0).any():
            raise InputError(f"parcels: negative tonnage (parcel {int(np.flatnonzero(self.tonnage < 0)[0])})")
        if n and (self.cut.min() < 0 or self.cut.max() >= self.n_cuts):
            raise InputError("parcels: cut index out of range")

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
    """Stockpile grade bins (arrays of length n_bins): what a reclaimed tonne is worth and needs.

    reclaim_value  currency per t reclaimed and milled (revenue - processing - rehandle - env. cost)
    recovered      t of metal recovered per t reclaimed
    metal          t of metal contained per t
    mill_hours     h per t
    co2            t CO2 per t reclaimed and milled
    low_grade      True for bins of low-grade ore
    extras         name -> per-t amounts on reclaim (like `Parcels.extras` at the mill)
    """

    reclaim_value: np.ndarray
    recovered: np.ndarray
    metal: np.ndarray
    mill_hours: np.ndarray
    co2: np.ndarray
    low_grade: np.ndarray | None = None
    extras: dict = field(default_factory=dict)

    def __post_init__(self):
        for name in ("reclaim_value", "recovered", "metal", "mill_hours", "co2"):
            setattr(self, name, np.asarray(getattr(self, name), dtype=np.float64))
        n = self.reclaim_value.size
        self.low_grade = np.zeros(n, bool) if self.low_grade is None else np.asarray(self.low_grade, dtype=bool)
        self.extras = {k: np.asarray(v, dtype=np.float64).reshape(n) for k, v in self.extras.items()}

    @classmethod
    def from_parcels(cls, parcels: Parcels, reclaim_value_per_t, rehandle_cost: float = 0.0,
                     rehandle_co2: float = 0.0) -> "Bins":
        """Tonnage-weighted means over the parcels of each bin.

        reclaim_value_per_t: per parcel, the value per tonne of milling it (revenue - processing -
        processing environmental cost; mining excluded, it was paid when stockpiled); rehandle_cost in
        currency/t and rehandle_co2 in t CO2/t are charged on reclaim.
        """
        g = parcels.bin
        keep = g >= 0
        nb = parcels.n_bins
        t = np.bincount(g[keep], weights=parcels.tonnage[keep], minlength=nb)
        safe = np.where(t > 0, t, 1.0)

        def mean(per_parcel_total):
            return np.bincount(g[keep], weights=per_parcel_total[keep], minlength=nb) / safe

        value = mean(np.asarray(reclaim_value_per_t) * parcels.tonnage) - rehandle_cost
        low = np.bincount(g[keep], weights=parcels.low_grade[keep].astype(float), minlength=nb) > 0
        extras = {k: mean(v[:, MILL]) for k, v in parcels.extras.items()}
        return cls(value, mean(parcels.recovered), mean(parcels.metal), mean(parcels.mill_hours),
                   mean(parcels.co2[:, MILL]) + rehandle_co2, low, extras)

    @classmethod
    def none(cls) -> "Bins":
        z = np.zeros(0)
        return cls(z, z, z, z, z)

    @property
    def n_bins(self) -> int:
        return self.reclaim_value.size


@dataclass
class PlanSettings:
    """Scheduling settings (per period = per year unless stated).

    periods            number of periods T
    discount_rate      per period
    mining_capacity    t mined per period (scalar or one per period); inf: none
    mill_capacity      t milled per period (direct + reclaimed)
    mill_hours         h of milling per period; inf: none
    stockpile          allow the low-grade stockpile
    stockpile_capacity t held at the end of any period; inf: none
    stockpile_loss     share of the inventory lost (degraded) each period
    final_stockpile    'process' (milled one period after the last, discounted), 'lost', or
                       'empty' (every stockpiled tonne must be milled within the periods)
    recovery_floor     rho: cumulative ore-grade t to mill or stockpile >= rho x ore-grade t mined (None: off)
    no_ore_to_dump     forbid sending ore-grade parcels to the dump
    metal_floor        t of metal recovered over the life of mine, at least (None: off)
    co2_cap            t CO2 per period, at most (None: off)
    co2_total_cap      t CO2 over the life of mine, at most (None: off)
    time_limit, mip_gap, threads   for HiGHS
    """

    periods: int = 10
    discount_rate: float = 0.08
    mining_capacity: float | np.ndarray = math.inf
    mill_capacity: float | np.ndarray = math.inf
    mill_hours: float | np.ndarray = math.inf
    stockpile: bool = True
    stockpile_capacity: float = math.inf
    stockpile_loss: float = 0.0
    final_stockpile: str = "process"
    recovery_floor: float | None = None
    no_ore_to_dump: bool = False
    metal_floor: float | None = None
    co2_cap: float | None = None
    co2_total_cap: float | None = None
    time_limit: float = 120.0
    mip_gap: float = 1e-4
    threads: int | None = None

    def __post_init__(self):
        if int(self.periods) < 1:
            raise InputError(f"periods must be at least 1, got {self.periods}", field="periods")
        if self.final_stockpile not in ("process", "lost", "empty"):
            raise InputError(f"final_stockpile must be 'process', 'lost' or 'empty', got {self.final_stockpile!r}",
                             field="final_stockpile")
        if self.recovery_floor is not None and not 0 <= self.recovery_floor <= 1:
            raise InputError(f"recovery_floor must be in [0, 1], got {self.recovery_floor}", field="recovery_floor")
        if not 0 <= self.stockpile_loss < 1:
            raise InputError(f"stockpile_loss must be in [0, 1), got {self.stockpile_loss}", field="stockpile_loss")
        if self.discount_rate <= -1:
            raise InputError(f"discount_rate must be above -1, got {self.discount_rate}", field="discount_rate")

    def per_period(self, value) -> np.ndarray:
        return np.broadcast_to(np.asarray(value, dtype=np.float64), (self.periods,)).copy()

    def discount(self) -> np.ndarray:
        """(1 + rate)^-t for t = 0..T (the last entry prices the final stockpile)."""
        return (1.0 + self.discount_rate) ** -np.arange(self.periods + 1, dtype=np.float64)


@dataclass
class Plan:
    """A schedule of parcels, and what the solver said of it.

    mined[c, t]          share of cut c mined in period t
    sent[p, d, t]        share of parcel p sent to destination d (mill, stockpile, dump) in period t
    reclaim[g, t]        t reclaimed from bin g to the mill in period t
    result               `solvers.result.Result` (status, objective, bound, gap, seconds)
    """

    mined: np.ndarray
    sent: np.ndarray
    reclaim: np.ndarray
    result: Result
    model_size: dict = field(default_factory=dict)

    def parcel_destination(self) -> np.ndarray:
        """Main destination of each parcel (0 mill, 1 stockpile, 2 dump; -1 not mined)."""
        share = self.sent.sum(axis=2)
        dest = np.argmax(share, axis=1)
        return np.where(share.sum(axis=1) > 0.5, dest, -1)


def solve_plan(parcels: Parcels, bins: Bins, settings: PlanSettings) -> Plan:
    """Build the scheduling model of the module docstring and solve it with HiGHS."""
    T = int(settings.periods)
    n_c, n_p, n_g = parcels.n_cuts, parcels.n_parcels, bins.n_bins
    if parcels.n_bins > n_g:
        raise InputError(f"parcels use {parcels.n_bins} stockpile bins but {n_g} are described")
    disc = settings.discount()
    lm = LinearModel()
    w = lm.add_vars("w", (n_c, T), integer=parcels.integer_cuts)
    x = lm.add_vars("sent", (n_p, 3, T))
    r = lm.add_vars("reclaim", (n_g, T), upper=np.inf)
    inv = lm.add_vars("inventory", (n_g, T), upper=np.inf)

    # destinations allowed
    forbid = np.zeros((n_p, 3), dtype=bool)
    forbid[:, STOCKPILE] = (parcels.bin < 0) | (not settings.stockpile)
    if settings.no_ore_to_dump:
        forbid[:, DUMP] |= parcels.ore
    closed = x[forbid]
    if closed.size:
        lm.fix(closed.ravel(), 0.0)
    if not settings.stockpile and n_g:
        lm.fix(np.concatenate([r.ravel(), inv.ravel()]), 0.0)

    # w[c, t-1] <= w[c, t]
    if T > 1:
        k = n_c * (T - 1)
        rows = np.arange(k)
        lm.add_rows(np.concatenate([rows, rows]), np.concatenate([w[:, :-1].ravel(), w[:, 1:].ravel()]),
                    np.concatenate([np.ones(k), -np.ones(k)]), upper=np.zeros(k))
    # precedence w[c, t] <= w[pred, t]
    nodes, preds = parcels.cut_precedence.arcs()
    if nodes.size:
        k = nodes.size * T
        rows = np.arange(k)
        lm.add_rows(np.concatenate([rows, rows]), np.concatenate([w[nodes].ravel(), w[preds].ravel()]),
                    np.concatenate([np.ones(k), -np.ones(k)]), upper=np.zeros(k))
    # m + s + d = w[c, t] - w[c, t-1]  (one row per parcel and period)
    rows_pt = np.arange(n_p * T).reshape(n_p, T)
    cols = [x[:, 0, :], x[:, 1, :], x[:, 2, :], w[parcels.cut, :]]
    vals = [1.0, 1.0, 1.0, -1.0]
    rr = [rows_pt] * 4
    if T > 1:
        cols.append(w[parcels.cut, :-1])
        vals.append(1.0)
        rr.append(rows_pt[:, 1:])
    lm.add_rows(np.concatenate([a.ravel() for a in rr]), np.concatenate([c.ravel() for c in cols]),
                np.concatenate([np.full(c.size, v) for c, v in zip(cols, vals)]),
                lower=np.zeros(n_p * T), upper=np.zeros(n_p * T))
    ton = parcels.tonnage
    period_rows = np.arange(T)

    def per_period_rows(parcel_coef, dest_list, bin_coef=None, inv_coef=None, lower=-np.inf, upper=np.inf):
        """One row per period: sum_p parcel_coef[p] x[p, d, t] (+ bins) within [lower, upper]."""
        rr_, cc_, vv_ = [], [], []
        for d in dest_list:
            coef = parcel_coef[:, d] if parcel_coef.ndim == 2 else parcel_coef
            nz = np.flatnonzero(coef)
            rr_.append(np.tile(period_rows, nz.size))
            cc_.append(x[nz, d, :].ravel())
            vv_.append(np.repeat(coef[nz], T))
        for var, coef in ((r, bin_coef), (inv, inv_coef)):
            if coef is not None and n_g:
                rr_.append(np.tile(period_rows, n_g))
                cc_.append(var.ravel())
                vv_.append(np.repeat(coef, T))
        lm.add_rows(np.concatenate(rr_), np.concatenate(cc_), np.concatenate(vv_),
                    lower=settings.per_period(lower), upper=settings.per_period(upper))

    per_period_rows(ton, (MILL, STOCKPILE, DUMP), upper=settings.mining_capacity)
    per_period_rows(ton, (MILL,), bin_coef=np.ones(n_g), upper=settings.mill_capacity)
    if np.any(np.isfinite(settings.per_period(settings.mill_hours))):
        per_period_rows(parcels.mill_hours, (MILL,), bin_coef=bins.mill_hours, upper=settings.mill_hours)
    if settings.stockpile and n_g and math.isfinite(settings.stockpile_capacity):
        per_period_rows(np.zeros(n_p), (), inv_coef=np.ones(n_g), upper=settings.stockpile_capacity)
    if settings.co2_cap is not None:
        per_period_rows(parcels.co2, (MILL, STOCKPILE, DUMP), bin_coef=bins.co2, upper=settings.co2_cap)

    # stockpile balance: i[g,t] - (1-loss) i[g,t-1] - sum_{p in g} ton_p s[p,t] + r[g,t] = 0
    if settings.stockpile and n_g:
        in_bin = np.flatnonzero(parcels.bin >= 0)
        brow = np.arange(n_g * T).reshape(n_g, T)
        rr_ = [brow, brow, np.repeat(brow[parcels.bin[in_bin]], 1, axis=0)]
        cc_ = [inv, r, x[in_bin, STOCKPILE, :]]
        vv_ = [np.ones(inv.size), np.ones(r.size), -np.repeat(ton[in_bin], T)]
        if T > 1:
            rr_.append(brow[:, 1:])
            cc_.append(inv[:, :-1])
            vv_.append(np.full(n_g * (T - 1), -(1.0 - settings.stockpile_loss)))
        lm.add_rows(np.concatenate([a.ravel() for a in rr_]), np.concatenate([c.ravel() for c in cc_]),
                    np.concatenate([np.ravel(v) for v in vv_]), lower=np.zeros(n_g * T), upper=np.zeros(n_g * T))

    # recovery floor, cumulative: sum_{tau<=t} sum_{ore} ton ((1-rho)(m+s) - rho d) >= 0
    if settings.recovery_floor is not None and parcels.ore.any():
        rho = settings.recovery_floor
        ore = np.flatnonzero(parcels.ore)
        rr_, cc_, vv_ = [], [], []
        for t in range(T):
            for d, factor in ((MILL, 1 - rho), (STOCKPILE, 1 - rho), (DUMP, -rho)):
                cols_t = x[ore, d, : t + 1].ravel()
                rr_.append(np.full(cols_t.size, t))
                cc_.append(cols_t)
                vv_.append(np.repeat(ton[ore] * factor, t + 1))
        lm.add_rows(np.concatenate(rr_), np.concatenate(cc_), np.concatenate(vv_), lower=np.zeros(T))

    # life-of-mine rows: metal floor, total CO2 cap
    final = disc[T] if settings.final_stockpile == "process" else 0.0
    final_share = 1.0 if settings.final_stockpile == "process" else 0.0
    last_inv = inv[:, T - 1] if n_g else np.zeros(0, np.int64)
    if settings.final_stockpile == "empty" and n_g:
        lm.fix(last_inv, 0.0)
    if settings.metal_floor is not None:
        cols_ = [x[:, MILL, :].ravel(), r.ravel(), last_inv]
        vals_ = [np.repeat(parcels.recovered, T), np.repeat(bins.recovered, T), bins.recovered * final_share]
        lm.add_rows(np.zeros(sum(c.size for c in cols_), np.int64), np.concatenate(cols_), np.concatenate(vals_),
                    lower=[settings.metal_floor])
    if settings.co2_total_cap is not None:
        cols_ = [x[:, d, :].ravel() for d in range(3)] + [r.ravel(), last_inv]
        vals_ = [np.repeat(parcels.co2[:, d], T) for d in range(3)] + [np.repeat(bins.co2, T),
                                                                         bins.co2 * final_share]
        lm.add_rows(np.zeros(sum(c.size for c in cols_), np.int64), np.concatenate(cols_), np.concatenate(vals_),
                    upper=[settings.co2_total_cap])

    # objective
    df = disc[:T]
    for d in range(3):
        lm.add_objective(x[:, d, :], parcels.value[:, d][:, None] * df[None, :])
    if n_g:
        lm.add_objective(r, bins.reclaim_value[:, None] * df[None, :])
        if final:
            lm.add_objective(last_inv, bins.reclaim_value * final)

    result = lm.solve(time_limit=settings.time_limit, mip_gap=settings.mip_gap, threads=settings.threads)
    if result.solution is None:
        found = "none exists" if result.status == INFEASIBLE else "none found in time; raise the time limit"
        raise InfeasibleError(f"no feasible schedule: {found} ({result.info['message']}). "
                              f"{_diagnose(parcels, settings)}")
    sol = result.solution
    wv = np.clip(sol[w], 0.0, 1.0)
    if parcels.integer_cuts:
        wv = np.round(wv)
    mined = np.diff(np.concatenate([np.zeros((n_c, 1)), wv], axis=1), axis=1)
    sent = np.clip(sol[x], 0.0, None)
    reclaim = np.clip(sol[r], 0.0, None) if n_g else np.zeros((0, T))
    result.algorithm = "green-plan/" + result.algorithm
    size = {"cuts": n_c, "parcels": n_p, "bins": n_g, "periods": T, **{k: v for k, v in result.info.items()
                                                                        if k in ("variables", "rows", "nonzeros",
                                                                                 "integer_variables")}}
    return Plan(mined, sent, reclaim, result, size)


def _diagnose(parcels: Parcels, settings: PlanSettings) -> str:
    """A hint at which requirement cannot be met."""
    hints = []
    if settings.metal_floor is not None:
        hints.append(f"metal floor {settings.metal_floor:g} t vs {parcels.recovered.sum():g} t recoverable in all")
    if settings.co2_cap is not None:
        hints.append(f"CO2 cap {settings.co2_cap:g} t per period")
    if settings.recovery_floor is not None:
        hints.append(f"recovery floor {settings.recovery_floor:g}")
    return "Check: " + "; ".join(hints) if hints else "Check the capacities."
