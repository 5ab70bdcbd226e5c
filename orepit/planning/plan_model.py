"""The scheduling model, in Pyomo: when each mining cut is mined and where its material goes.

This file is the model a researcher reads and extends.  Mining entities are *cuts* (a bench of a
pushback, or a single block in small pits), linked by precedence.  Material entities are *parcels*:
the ore of one grade bin (or the waste) of one cut.  In each period a parcel's mined share is sent,
in fractions, to the mill, the low-grade stockpile or the dump.  Stockpiled ore joins the inventory
of its *pile* (a grade bin) and is reclaimed to the mill later.

Sets: C cuts, P parcels, G piles, T periods 0..T-1, D destinations (0 mill, 1 stockpile, 2 dump),
and ``routes``: the (parcel, destination, period) triples that may carry material (waste only goes
to the dump; ore goes to the stockpile only when there is one and to the dump only when allowed).
Variables (shares are fractions of a cut or parcel; tonnes in t):

    w[c, t] in [0, 1]   share of cut c mined by the end of period t (binary when cuts are integer)
    x[p, d, t] >= 0     share of parcel p sent to destination d in period t, for (p, d, t) in routes
    r[g, t] >= 0        t reclaimed from pile g to the mill in period t
    inv[g, t] >= 0      t held in pile g at the end of period t

Constraints (names as in the model):

    mined_once     w[c, t-1] <= w[c, t]
    precedence     w[c, t] <= w[c', t]                 for every cut c' that must be mined before c
    mine_out       w[c, t_out] = 1                     (the whole pit mined by period t_out, when asked)
    steady_mining  t mined by the end of t >= f x (capacity of periods 0..t), or the whole pit
                   (the fleet works at capacity until the pit is out, when asked)
    steady_milling mill feed >= f x mill capacity in every period after mining ends and before the
                   piles must be empty (the mill works off the stockpile without standing idle)
    split          sum_d x[p, d, t] = w[c(p), t] - w[c(p), t-1]   (a cut's parcels are mined together)
    mining         sum_c tonnes_c (w[c, t] - w[c, t-1]) <= mining capacity of period t
    mill           sum_p tonnes_p x[p, mill, t] + sum_g r[g, t] <= mill capacity
    mill_hours     sum_p hours_p x[p, mill, t] + sum_g hours_g r[g, t] <= mill hours
    stockpile_room sum_g inv[g, t] <= stockpile capacity
    balance        inv[g, t] = (1 - loss) inv[g, t-1] + sum_{p in g} tonnes_p x[p, stockpile, t] - r[g, t]
    co2            t CO2 of period t <= cap;  co2_total: over the life <= cap
    recovery_floor kept[t] = kept[t-1] + ore-grade t to mill or stockpile - rho x ore-grade t mined,
                   kept >= 0 (the cumulative mining recovery is at least rho in every period)
    metal_floor    t of metal recovered over the life >= floor
    final_stockpile inv[g, t] = 0 from ``empty_by`` (default: the last period) on, when every
                   stockpiled tonne must be milled

When the mining is already decided (``mined[p, t]``: the share of parcel p mined in period t) the
model has no cut variables: ``split`` reads sum_d x[p, d, t] = mined[p, t] and only routes and
stockpiles are left to decide; ``route[p]`` may also fix a parcel's one destination (-1: free), and
``whole[p]`` make its routes binary (a single block goes to one destination, whole).

Objective (currency, discounted to period 0): sum_t (1 + rate)^-t [sum_{p, d} value[p, d] x[p, d, t]
+ sum_g reclaim_value_g r[g, t]] (+ the final inventory, milled one period after the last, when the
settings say so).

Extending the model: `build_plan_model(parcels, bins, settings, extend=f)` calls ``f(model)`` once
the model is built; ``f`` adds variables, constraints or expressions.  ``model.units.parcels`` and
``model.units.bins`` hold the data (`orepit.planning.layout`), ``model.settings`` the settings, and
`flow` sums a per-parcel quantity over the routes to one destination in one period.  The
extension is part of every model a schedule solves, so the plan keeps it.  Example, a cap on fresh
water per period (m3; water is spent where ore is milled)::

    def water_cap(m, cap_m3=4.0e7):
        water = m.units.parcels.extras["water_m3"][:, MILL]          # m3 if the whole parcel is milled
        per_t = m.units.bins.extras["water_m3"]                      # m3 per t reclaimed
        m.water_cap = pyo.Constraint(m.T, rule=lambda m, t: flow(m, water, MILL, t)
                                     + sum(float(per_t[g]) * m.r[g, t] for g in m.G) <= cap_m3)

`solve_plan_model` compiles the model to matrices with Pyomo's standard-form compiler and solves
them with HiGHS (`solvers.highs`), then loads the values (and, for LPs, the row duals) back into it.
`CompiledPlan` does the same in two steps, translate once and solve often: a model whose piles must
be empty by a period to be found is solved for each period tried by changing bounds only.
Pyomo is imported on first use, here only.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from solvers.errors import InfeasibleError, InputError, TimeLimitError
from solvers.highs import LinearModel
from solvers.result import TIME_LIMIT, Result

from orepit.planning.layout import Bins, Parcels
from orepit.valuation.destinations import DUMP, MILL, STOCKPILE

FINAL_STOCKPILE_RULES = ("process", "lost", "empty")
#: MIPs with more integer variables than this run in a child process HiGHS cannot overrun (its root
#: cut separation can ignore the time limit); smaller ones run here, without the start-up cost
ISOLATE_ABOVE = 1000


@dataclass
class PlanSettings:
    """Settings of one scheduling model (per period = per year unless stated).

    periods            number of periods T of the model
    discount_rate      per period (0.08 = 8 %)
    mining_capacity    t mined per period (a number or one per period); inf: none
    mill_capacity      t milled per period (direct + reclaimed)
    mill_hours         h of milling per period; inf: none
    stockpile          the low-grade stockpile may be used
    stockpile_capacity t held at the end of any period; inf: none
    stockpile_loss     share of the inventory lost (degraded) each period
    final_stockpile    'process' (milled one period after the last, discounted), 'lost', or
                       'empty' (every stockpiled tonne is milled within the periods)
    mine_out_by        every cut is mined by the end of this period (None: mining is optional)
    steady_mining      f: with mine_out_by, the tonnes mined by the end of each period are at least f
                       of the mining capacity of the periods so far, until the pit is out (cumulative:
                       the fleet does not stand idle, but one period may dip after periods ahead); None: free
    steady_milling     f: with the mining decided, mill at least f of the mill's capacity in each
                       period after mining until the piles must be empty (`empty_piles_by`); None: free
    empty_by           with final_stockpile 'empty': the piles are empty from this period on
                       (None: the last period)
    recovery_floor     cumulative ore-grade t to mill or stockpile >= floor x ore-grade t mined (None: off)
    no_ore_to_dump     ore-grade parcels may not go to the dump
    metal_floor        t of metal recovered over the life, at least (None: off)
    co2_cap            t CO2 per period, at most (None: off)
    co2_total_cap      t CO2 over the life, at most (None: off)
    time_limit, mip_gap, threads   for HiGHS (s, relative gap, threads; 0 = HiGHS decides)
    """

    periods: int
    discount_rate: float = 0.08
    mining_capacity: float | np.ndarray = math.inf
    mill_capacity: float | np.ndarray = math.inf
    mill_hours: float | np.ndarray = math.inf
    stockpile: bool = True
    stockpile_capacity: float = math.inf
    stockpile_loss: float = 0.0
    final_stockpile: str = "lost"
    mine_out_by: int | None = None
    steady_mining: float | None = None
    steady_milling: float | None = None
    empty_by: int | None = None
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
        self.periods = int(self.periods)
        if self.final_stockpile not in FINAL_STOCKPILE_RULES:
            raise InputError(f"final_stockpile must be one of {', '.join(FINAL_STOCKPILE_RULES)}, "
                             f"got {self.final_stockpile!r}", field="final_stockpile")
        if self.recovery_floor is not None and not 0 <= self.recovery_floor <= 1:
            raise InputError(f"recovery_floor must be in [0, 1], got {self.recovery_floor}", field="recovery_floor")
        if not 0 <= self.stockpile_loss < 1:
            raise InputError(f"stockpile_loss must be in [0, 1), got {self.stockpile_loss}", field="stockpile_loss")
        if not -1 < self.discount_rate <= 1:
            raise InputError(f"discount_rate must be in (-1, 1] per period, got {self.discount_rate}",
                             field="discount_rate")
        if self.empty_by is not None and not 0 <= self.empty_by < self.periods:
            raise InputError(f"empty_by must be a period 0..{self.periods - 1}, got {self.empty_by}", field="empty_by")
        if self.mine_out_by is not None and not 0 <= self.mine_out_by < self.periods:
            raise InputError(f"mine_out_by must be a period 0..{self.periods - 1}, got {self.mine_out_by}",
                             field="mine_out_by")

    def per_period(self, value) -> np.ndarray:
        """A capacity as one value per period."""
        return np.broadcast_to(np.asarray(value, dtype=np.float64), (self.periods,)).copy()

    def discount(self) -> np.ndarray:
        """(1 + rate)^-t for t = 0..T (the last entry prices a final stockpile milled after the end)."""
        return (1.0 + self.discount_rate) ** -np.arange(self.periods + 1, dtype=np.float64)


def pyomo_environ():
    """pyomo.environ, imported on first use (here and nowhere else; `orepit.planning.stochastic` takes it from here)."""
    import pyomo.environ as pyo
    return pyo


class _Units:
    """The data of a model: ``parcels`` and ``bins`` (the piles)."""

    def __init__(self, parcels: Parcels, bins: Bins):
        self.parcels = parcels
        self.bins = bins


def allowed_routes(parcels: Parcels, settings: PlanSettings) -> np.ndarray:
    """(n_parcels, 3) True where a parcel may go: waste to the dump only; ore to the mill, to the
    stockpile when there is one (and the parcel has a bin), to the dump unless ``no_ore_to_dump``."""
    ore = parcels.ore
    out = np.zeros((parcels.n_parcels, 3), dtype=bool)
    out[:, MILL] = ore
    out[:, STOCKPILE] = ore & (parcels.bin >= 0) & settings.stockpile
    out[:, DUMP] = ~ore | (not settings.no_ore_to_dump)
    return out


def flow(m, amount: np.ndarray, destination: int, t: int):
    """sum_p amount[p] x[p, destination, t] over the routes that exist (a Pyomo expression)."""
    return sum(float(amount[p]) * m.x[p, destination, t] for p in m.into[destination, t] if amount[p])


def build_plan_model(parcels: Parcels, bins: Bins, settings: PlanSettings, extend=None, mined=None, route=None,
                     whole=None):
    """The Pyomo model of the module docstring.

    extend(model): adds to it; mined[p, t]: the parcels' mining when it is decided (then the model
    only routes material); route[p]: a parcel's one destination when that is decided too (-1: free);
    whole[p]: True for parcels sent whole to one destination (binary routes).
    """
    pyo = pyomo_environ()
    started = time.perf_counter()
    T = settings.periods
    n_c, n_p, n_g = parcels.n_cuts, parcels.n_parcels, bins.n_bins
    if parcels.n_bins > n_g:
        raise InputError(f"parcels use {parcels.n_bins} stockpile bins but {n_g} are described", field="bins")
    allowed = allowed_routes(parcels, settings)
    if route is not None:
        route = np.asarray(route)
        fixed = np.zeros_like(allowed)
        fixed[np.arange(n_p), np.maximum(route, 0)] = True
        allowed &= np.where((route >= 0)[:, None], fixed, True)
    active = np.ones((n_p, T), dtype=bool) if mined is None else np.asarray(mined) > 0
    if mined is not None and np.asarray(mined).shape != (n_p, T):
        raise InputError(f"mined shares have shape {np.shape(mined)}, expected ({n_p}, {T})", field="mined")
    p_idx, d_idx, t_idx = np.nonzero(allowed[:, :, None] & active[:, None, :])
    m = pyo.ConcreteModel(name="orepit plan")
    m.units = _Units(parcels, bins)
    m.settings = settings
    m.C = pyo.RangeSet(0, n_c - 1)
    m.P = pyo.RangeSet(0, n_p - 1)
    m.G = pyo.Set(initialize=range(n_g))
    m.T = pyo.RangeSet(0, T - 1)
    m.D = pyo.Set(initialize=(MILL, STOCKPILE, DUMP))
    m.routes = pyo.Set(initialize=list(zip(p_idx.tolist(), d_idx.tolist(), t_idx.tolist())), dimen=3)
    m.x = pyo.Var(m.routes, domain=pyo.NonNegativeReals)
    if whole is not None:
        for p, d, t in zip(p_idx.tolist(), d_idx.tolist(), t_idx.tolist()):
            if whole[p]:
                m.x[p, d, t].domain = pyo.Binary
    m.r = pyo.Var(m.G, m.T, domain=pyo.NonNegativeReals)
    m.inv = pyo.Var(m.G, m.T, domain=pyo.NonNegativeReals)
    into = {(d, t): [] for d in (MILL, STOCKPILE, DUMP) for t in range(T)}
    a_p, a_t = np.nonzero(active)
    out_of = {(p, t): [] for p, t in zip(a_p.tolist(), a_t.tolist())}
    for p, d, t in zip(p_idx.tolist(), d_idx.tolist(), t_idx.tolist()):
        into[d, t].append(p)
        out_of[p, t].append(d)
    m.into = into                                                       # (d, t) -> parcels with that route
    ton = parcels.tonnage

    def mill_feed(m, t):
        return flow(m, ton, MILL, t) + sum(m.r[g, t] for g in m.G)

    if mined is None:
        m.w = pyo.Var(m.C, m.T, domain=pyo.Binary if parcels.integer_cuts else pyo.UnitInterval)
        cut = parcels.cut.tolist()

        def mined_share(m, p, t):
            c = cut[p]
            return m.w[c, t] - m.w[c, t - 1] if t > 0 else m.w[c, t]

        m.mined_once = pyo.Constraint(m.C, m.T, rule=lambda m, c, t: m.w[c, t - 1] <= m.w[c, t] if t > 0
                                      else pyo.Constraint.Skip)
        nodes, preds = parcels.cut_precedence.arcs()
        m.arcs = pyo.Set(initialize=list(zip(nodes.tolist(), preds.tolist())), dimen=2, ordered=True)
        m.precedence = pyo.Constraint(m.arcs, m.T, rule=lambda m, c, before, t: m.w[c, t] <= m.w[before, t])
        if settings.mine_out_by is not None:
            m.mine_out = pyo.Constraint(m.C, rule=lambda m, c: m.w[c, settings.mine_out_by] == 1)
        cut_t = np.bincount(parcels.cut, weights=ton, minlength=n_c)
        _capped(m, "mining", settings.mining_capacity,
                lambda m, t: sum(float(cut_t[c]) * (m.w[c, t] - m.w[c, t - 1] if t > 0 else m.w[c, t])
                                 for c in m.C if cut_t[c]))
        if settings.steady_mining is not None and settings.mine_out_by is not None:
            # the fleet works at its capacity until the pit is out: mined by the end of t >= f x what
            # the capacity could have moved by then, or the whole pit
            cap_sum = np.cumsum(settings.per_period(settings.mining_capacity))
            total = float(cut_t.sum())
            m.steady_mining = pyo.Constraint(list(range(settings.mine_out_by)), rule=lambda m, t: sum(
                float(cut_t[c]) * m.w[c, t] for c in m.C if cut_t[c])
                >= min(total, settings.steady_mining * float(cap_sum[t])))
    else:
        share = np.asarray(mined, dtype=np.float64)

        def mined_share(m, p, t):
            return float(share[p, t])

    def split(m, p, t):
        if not out_of[p, t]:
            raise InfeasibleError(f"no feasible plan: parcel {p} has nowhere to go in period {t} "
                                  f"({_hint(settings)})", field="routes")
        return sum(m.x[p, d, t] for d in out_of[p, t]) == mined_share(m, p, t)

    m.split = pyo.Constraint(list(out_of), rule=split)
    _capped(m, "mill", settings.mill_capacity, lambda m, t: mill_feed(m, t))
    _capped(m, "mill_hours", settings.mill_hours,
            lambda m, t: flow(m, parcels.mill_hours, MILL, t)
            + sum(float(bins.mill_hours[g]) * m.r[g, t] for g in m.G))
    if settings.steady_milling is not None and mined is not None:
        last_mining = int(np.flatnonzero(share.sum(axis=0) > 0).max(initial=-1))
        cap = settings.per_period(settings.mill_capacity)
        m.steady_milling = pyo.Constraint(list(range(last_mining + 1, T)), rule=lambda m, t:
                                          mill_feed(m, t) >= settings.steady_milling * float(cap[t]))
    if settings.stockpile:
        _capped(m, "stockpile_room", settings.stockpile_capacity, lambda m, t: sum(m.inv[g, t] for g in m.G))

    def co2_of(m, t):
        return (sum(flow(m, parcels.co2[:, d], d, t) for d in (MILL, STOCKPILE, DUMP))
                + sum(float(bins.co2[g]) * m.r[g, t] for g in m.G))

    if settings.co2_cap is not None:
        _capped(m, "co2", settings.co2_cap, co2_of)
    keep = 1.0 - settings.stockpile_loss
    to_pile = {(g, t): [] for g in range(n_g) for t in range(T)}
    for t in range(T):
        for p in into[STOCKPILE, t]:
            to_pile[int(parcels.bin[p]), t].append(p)
    m.balance = pyo.Constraint(m.G, m.T, rule=lambda m, g, t: m.inv[g, t] == (keep * m.inv[g, t - 1] if t > 0 else 0)
                               + sum(float(ton[p]) * m.x[p, STOCKPILE, t] for p in to_pile[g, t]) - m.r[g, t])
    if settings.recovery_floor is not None and parcels.ore.any():
        rho = float(settings.recovery_floor)
        ore_t = np.where(parcels.ore, ton, 0.0)
        m.kept = pyo.Var(m.T, domain=pyo.NonNegativeReals)
        m.recovery_floor = pyo.Constraint(m.T, rule=lambda m, t: m.kept[t] == (m.kept[t - 1] if t > 0 else 0)
                                          + (1 - rho) * (flow(m, ore_t, MILL, t) + flow(m, ore_t, STOCKPILE, t))
                                          - rho * flow(m, ore_t, DUMP, t))
    final_share = 1.0 if settings.final_stockpile == "process" else 0.0
    if settings.metal_floor is not None:
        m.metal_floor = pyo.Constraint(expr=sum(flow(m, parcels.recovered, MILL, t) for t in m.T) + sum(
            float(bins.recovered[g]) * (m.r[g, t] + (final_share * m.inv[g, t] if t == T - 1 else 0))
            for g in m.G for t in m.T) >= float(settings.metal_floor))
    if settings.co2_total_cap is not None:
        m.co2_total = pyo.Constraint(expr=sum(co2_of(m, t) for t in m.T) + final_share * sum(
            float(bins.co2[g]) * m.inv[g, T - 1] for g in m.G) <= float(settings.co2_total_cap))
    if settings.final_stockpile == "empty":
        empty_piles_by(m, T - 1 if settings.empty_by is None else settings.empty_by)
    if not settings.stockpile:
        for g in range(n_g):
            for t in range(T):
                m.r[g, t].fix(0.0)
                m.inv[g, t].fix(0.0)
    disc = settings.discount()
    value = parcels.value
    final = float(disc[T]) * final_share
    m.profit = pyo.Objective(sense=pyo.maximize, expr=(
        sum(float(value[p, d] * disc[t]) * m.x[p, d, t] for p, d, t in m.routes if value[p, d])
        + sum(float(bins.reclaim_value[g] * disc[t]) * m.r[g, t] for g in m.G for t in m.T)
        + final * sum(float(bins.reclaim_value[g]) * m.inv[g, T - 1] for g in m.G)))
    if extend is not None:
        extend(m)
    m.construct_seconds = time.perf_counter() - started
    return m


def empty_piles_by(m, period: int) -> None:
    """Piles empty from ``period`` on; the mill works at its steady share from the end of mining up
    to that period (when the model has ``steady_milling``)."""
    for (g, t), var in m.inv.items():
        if t >= period:
            var.fix(0.0)
        elif var.fixed and m.settings.stockpile:
            var.unfix()
    if hasattr(m, "steady_milling"):
        for t, con in m.steady_milling.items():
            con.activate() if t < period else con.deactivate()


def _capped(m, name: str, limits, body) -> None:
    """Constraint ``name``: body(m, t) <= limit of period t, for the periods with a finite limit."""
    pyo = pyomo_environ()
    limits = m.settings.per_period(limits)
    finite = [t for t in range(m.settings.periods) if math.isfinite(limits[t])]

    def rule(m, t):
        lhs = body(m, t)
        if isinstance(lhs, (int, float)):                               # nothing to decide in period t
            if lhs > limits[t] * (1 + 1e-9) + 1e-9:
                raise InfeasibleError(f"no feasible plan: {name} period {t} needs {lhs:.6g}, above {limits[t]:.6g}",
                                      field=name)
            return pyo.Constraint.Skip
        return lhs <= float(limits[t])

    setattr(m, name, pyo.Constraint(finite, rule=rule))


def solve_plan_model(model, time_limit: float | None = None, mip_gap: float | None = None,
                     threads: int | None = None, method: str | None = None) -> Result:
    """Solve a plan model with HiGHS and load the solution (and LP duals) into it.

    Returns the `Result` (objective in currency, discounted; ``info``: ``construct_seconds`` the Pyomo
    model's construction, ``translate_seconds`` its translation to matrices, ``build_seconds`` the
    two together, ``solve_seconds`` HiGHS; ``seconds`` all of it).  An LP's row duals are stored on the model
    as ``model.dual`` (a `Suffix`: currency per unit of the constraint's right-hand side).
    Raises `InfeasibleError` naming the settings to look at when there is no feasible plan, and
    `TimeLimitError` when HiGHS found none within the time limit.  method:
    HiGHS' LP algorithm (`solvers.highs.LinearModel.solve`; None: HiGHS decides).
    """
    return CompiledPlan(model).solve(time_limit=time_limit, mip_gap=mip_gap, threads=threads, method=method)


class CompiledPlan:
    """A plan model translated once to arrays (Pyomo's standard-form compiler) and solved as often as
    asked, each time with its piles empty from a chosen period on, without translating it again.

    With ``piles``, the inventories ``inv`` (when there is a stockpile) are translated unfixed and
    every ``steady_milling`` row active, whatever the model's state; ``solve(empty_by=k)`` then fixes
    the columns of inv[g, t] to 0 for t >= k and frees the rows of steady_milling[t] for t >= k, so
    that HiGHS gets the arrays of the model re-translated after `empty_piles_by(model, k)`.
    ``empty_by=None`` solves the model as it stood when translated.
    """

    def __init__(self, model, piles: bool = False):
        from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

        pyo = pyomo_environ()
        t0 = time.perf_counter()
        self.model = model
        stockpile = model.settings.stockpile
        vary = [v for v in model.inv.values() if v.fixed] if piles and stockpile else []
        steady = dict(model.steady_milling.items()) if piles and hasattr(model, "steady_milling") else {}
        inactive = [con for con in steady.values() if not con.active]
        for v in vary:
            v.unfix()
        for con in inactive:
            con.activate()
        try:
            form = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None)
        finally:
            for v in vary:
                v.fix()
            for con in inactive:
                con.deactivate()
        if form.objectives and form.objectives[0].sense != pyo.maximize:
            raise InputError("the plan model's objective must be maximized", field="objective")
        self.columns = columns = form.columns
        A = form.A.tocsr()
        rhs = np.asarray(form.rhs, dtype=np.float64)
        sense = np.array([s for _, s in form.rows], dtype=np.int64)
        rows = list(form.rows)
        self._check_emptied(np.diff(A.indptr) == 0, rhs, sense, rows)
        keep = np.flatnonzero(np.diff(A.indptr) > 0)
        if keep.size < len(rows):                                     # every variable of the row is fixed
            A, rhs, sense, rows = A[keep], rhs[keep], sense[keep], [rows[i] for i in keep]
        self.rows, self.rhs, self.sense = rows, rhs, sense
        integer = np.array([v.is_integer() for v in columns], dtype=bool)
        self.lm = LinearModel.from_arrays(
            A, np.asarray(form.c.toarray()).ravel() if columns else np.zeros(0),
            np.where(sense <= 0, rhs, -np.inf), np.where(sense >= 0, rhs, np.inf),
            [-np.inf if v.lb is None else v.lb for v in columns], [np.inf if v.ub is None else v.ub for v in columns],
            integer)
        self.offset = float(form.c_offset[0]) if len(form.c_offset) else 0.0
        self._bounds = (self.lm.col_lower.copy(), self.lm.col_upper.copy(), self.lm.row_lower.copy(),
                        self.lm.row_upper.copy())
        A = self.lm.A
        self._pattern = sp.csr_matrix((np.ones(A.nnz), A.indices, A.indptr), shape=A.shape) if piles else None
        # what a solve may change: the columns of inv[g, t] (-1: none) and the period of each row of
        # steady_milling (-1: another row); the columns fixed and the rows free as translated
        self.inv_col = np.zeros((0, 0), dtype=np.int64)
        self.steady_rows = np.full(len(rows), -1, dtype=np.int64)
        self.fixed_as_built, self.fixed_values = np.zeros(0, dtype=np.int64), np.zeros(0)
        if piles:
            column = {id(v): j for j, v in enumerate(columns)}
            self.inv_col = np.array([[column.get(id(model.inv[g, t]), -1) for t in model.T] for g in model.G],
                                    dtype=np.int64).reshape(len(model.G), model.settings.periods)
            built = [(column[id(v)], float(v.value)) for v in vary if id(v) in column]
            self.fixed_as_built = np.array([j for j, _ in built], dtype=np.int64)
            self.fixed_values = np.array([x for _, x in built], dtype=np.float64)
            where = {id(con): t for t, con in steady.items()}
            self.steady_rows = np.array([where.get(id(con), -1) for con, _ in rows], dtype=np.int64)
        self.free_as_built = np.isin(self.steady_rows, [t for t, con in steady.items() if not con.active])
        self.translate_seconds = time.perf_counter() - t0

    def _check_emptied(self, empty: np.ndarray, rhs: np.ndarray, sense: np.ndarray, rows: list) -> None:
        """Raise `InfeasibleError` naming the first row without a free variable that cannot hold."""
        slack = 1e-6 * np.maximum(1.0, np.abs(rhs))
        bad = empty & (((sense <= 0) & (rhs > slack)) | ((sense >= 0) & (rhs < -slack)))
        if bad.any():
            con = rows[int(np.flatnonzero(bad)[0])][0]
            raise InfeasibleError(f"no feasible plan: {con.name} cannot hold ({_hint(self.model.settings)})")

    def changes(self, empty_by: int | None = None):
        """(fixed columns, their values, free rows mask) of a solve: inv[g, t] fixed to 0 and
        steady_milling[t] free for t >= ``empty_by``; None: the model's state as translated."""
        if empty_by is None:
            return self.fixed_as_built, self.fixed_values, self.free_as_built
        fixed = self.inv_col[:, empty_by:].ravel()
        return fixed[fixed >= 0], np.zeros(int((fixed >= 0).sum())), self.steady_rows >= empty_by

    def linear_model(self, empty_by: int | None = None) -> LinearModel:
        """The translated `LinearModel` with the bounds of a solve (`changes`): fixed columns with
        equal bounds, free rows -inf..inf (`solvers.highs` drops both before HiGHS sees the model)."""
        fixed, values, free = self.changes(empty_by)
        col_lower, col_upper, row_lower, row_upper = (b.copy() for b in self._bounds)
        col_lower[fixed] = col_upper[fixed] = values
        row_lower[free], row_upper[free] = -np.inf, np.inf
        lm = self.lm
        lm.col_lower, lm.col_upper, lm.row_lower, lm.row_upper = col_lower, col_upper, row_lower, row_upper
        return lm

    def solve(self, empty_by: int | None = None, time_limit: float | None = None, mip_gap: float | None = None,
              threads: int | None = None, load: bool = True, method: str | None = None) -> Result:
        """Solve with the piles empty from ``empty_by`` on (`changes`); load the solution into the
        model unless ``load`` is False (then `load` it later).  The `Result` is `solve_plan_model`'s;
        ``info`` also holds ``empty_by`` and ``kept_rows`` (the rows HiGHS was given)."""
        t0 = time.perf_counter()
        settings = self.model.settings
        lm = self.linear_model(empty_by)
        cols, values, free = self.changes(empty_by)
        fixed = np.zeros(lm.n_vars, dtype=bool)
        fixed[cols] = True
        entries = self._pattern @ (~fixed).astype(np.float64) if cols.size else np.diff(lm.A.indptr)
        emptied = ~free & (entries == 0)                              # entries: of each row, in free columns
        if emptied.any():                                             # every variable of the row is fixed now
            x_fixed = np.zeros(lm.n_vars)
            x_fixed[cols] = values
            self._check_emptied(emptied, self.rhs - lm.A @ x_fixed, self.sense, self.rows)
        integer = lm.integer & ~fixed
        limit = settings.time_limit if time_limit is None else time_limit
        result = lm.solve(time_limit=limit,
                          mip_gap=settings.mip_gap if mip_gap is None else mip_gap,
                          threads=settings.threads if threads is None else threads,
                          isolate=int(integer.sum()) > ISOLATE_ABOVE, method=method)
        result.objective += self.offset
        result.bound += self.offset
        if result.solution is None and result.status == TIME_LIMIT:
            raise TimeLimitError(f"no plan found within the time limit of {limit:g} s ({int(integer.sum())} integer "
                                 f"variables); raise the time limit (--time-limit)", field="time_limit")
        if result.solution is None:
            raise InfeasibleError(f"no feasible plan ({result.info.get('highs_status', result.status)}; "
                                  f"{_hint(settings)})")
        kept = np.flatnonzero(~emptied & ~free)
        construct = float(getattr(self.model, "construct_seconds", 0.0))
        solve = time.perf_counter() - t0
        result.info.update(construct_seconds=construct, translate_seconds=self.translate_seconds,
                           build_seconds=construct + self.translate_seconds, solve_seconds=solve,
                           variables=int((~fixed).sum()), rows=int(kept.size), nonzeros=int(entries[kept].sum()),
                           integer_variables=int(integer.sum()), empty_by=empty_by, kept_rows=kept)
        result.seconds = construct + self.translate_seconds + solve
        if load:
            self.load(result)
        return result

    def load(self, result: Result) -> None:
        """Put a solve's values into the model's variables and, for an LP, its row duals into
        ``model.dual`` (a `Suffix`)."""
        pyo = pyomo_environ()
        model = self.model
        for var, value in zip(self.columns, np.asarray(result.solution).tolist()):
            var.set_value(value, skip_validation=True)
        duals = result.info.get("row_dual")
        if duals is not None and not result.info["integer_variables"]:
            if not hasattr(model, "dual"):
                model.dual = pyo.Suffix(direction=pyo.Suffix.IMPORT)
            model.dual.clear()
            kept = result.info["kept_rows"]
            for i, y in zip(kept.tolist(), np.asarray(duals)[kept].tolist()):
                con = self.rows[i][0]
                model.dual[con] = model.dual.get(con, 0.0) + y


def _hint(settings: PlanSettings) -> str:
    """Which requirements to look at when no plan is feasible."""
    hints = []
    if settings.mine_out_by is not None:
        hints.append(f"the whole pit mined by period {settings.mine_out_by}")
    if settings.metal_floor is not None:
        hints.append(f"metal floor {settings.metal_floor:g} t")
    if settings.co2_cap is not None:
        hints.append(f"CO2 cap {settings.co2_cap:g} t per period")
    if settings.co2_total_cap is not None:
        hints.append(f"CO2 cap {settings.co2_total_cap:g} t over the life")
    if settings.recovery_floor is not None:
        hints.append(f"recovery floor {settings.recovery_floor:g}")
    if settings.final_stockpile == "empty":
        hints.append("stockpile empty at the end")
    return "check " + ", ".join(hints) if hints else "check the capacities"
