"""An upper bound on a strategy's objective: no block schedule of its pit, under its rules and over
its periods, can do better.

The bound is Lagrangian (`solvers.lagrange`): the rows that tie the blocks together are priced
instead of kept, and for any prices the best schedule is a maximum closure on the time-expanded
graph of the pit's blocks.  The rows priced, each per period unless stated:

    mining      t mined <= mining capacity
    steady      t mined by the end of the period >= the steady share of the capacity so far, or the
                whole pit (as far as the plan keeps it: the fleet is not asked to do better than that)
    mill        t milled, directly and from the stockpile <= mill capacity
    mill_hours  h of milling <= mill hours
    co2         t CO2 <= cap (when there is one); co2_total: over the life
    stockpile   t held at the end of the period <= stockpile capacity
    recovery    cumulative ore-grade t kept (mill, stockpile) >= floor x ore-grade t mined
    metal       t of metal recovered over the life >= metal floor (one row)

What the bound allows that a plan may not (so that it is an upper bound, not an estimate):

    - each stockpiled block's tonnes may be reclaimed on their own, in the period that suits them
      (a plan reclaims blended piles: a pile's mix is one of the choices the bound has);
    - blocks may be divided between periods and destinations (the prices' best convex mix);
    - the mill may stand idle once mining ends (no steady milling), and precedence through air
      blocks is not kept.

The whole pit is mined by the last period when the plan mines it all (else mining is optional).

The prices start from the duals of the strategy's cut model (`orepit.planning.scheduling`, step 1),
scaled, and column generation lowers the bound, ``prices`` tried in all (deterministic: the same
bound on any machine).  The footing is the strategy's own
objective (NPV, or NPV after environmental cost), discounted like the plan's.
"""
from __future__ import annotations

import math
import time

import numpy as np

from solvers.earliest import earliest_periods
from solvers.lagrange import STALL, PeriodClosure, lagrangian_bound
from solvers.problem import CpitProblem, Precedence
from solvers.result import FEASIBLE, OPTIMAL, Result

from orepit.planning.plan_model import PlanSettings
from orepit.planning.verify import CAPACITY_TOL
from orepit.valuation.deposit import Deposit
from orepit.valuation.destinations import DUMP, MILL, STOCKPILE

#: the priced rows, in order: per-period families, then the life-of-mine rows
PERIOD_ROWS = ("mining", "steady", "mill", "mill_hours", "co2", "stockpile", "recovery")
LIFE_ROWS = ("metal", "co2_total")
#: relative: a plan keeps its capacities within the checker's tolerance (1e-6 of each), so its objective
#: may pass the bound by as little; more means the relaxation misses something a plan may do
BOUND_TOL = 1e-5
#: the cut model's duals are tried at these multiples first (its capacities are coarser than the
#: blocks': lower prices usually give the lower bound)
START_SCALES = (1.0, 0.8, 0.65, 0.5)
#: (block, period) nodes above which no bound is computed: a price takes about 2.5 s per million nodes
#: (the default 4 prices 10 s here) and the graph's arrays a GB and more beyond
MAX_NODES = 1_000_000


def plan_bound(deposit: Deposit, pit: np.ndarray, settings: PlanSettings, env_price: bool, periods_table,
               kpis: dict, duals: dict | None = None, prices: int = 4, tol: float = 1e-4) -> Result:
    """The bound on a strategy's objective (module docstring) as a `Result` whose ``bound`` it is.

    pit: the strategy's pit; settings: the plan's `PlanSettings` (its periods, capacities and rules);
    env_price: the strategy's footing; periods_table, kpis: the plan's simulation (its row use, a
    schedule the master LP starts from); duals: {row family: per-period duals} of the cut model;
    prices: how many prices to try (the first ones the cut model's duals, scaled); tol: stop sooner
    when bound and relaxation meet (`solvers.lagrange.lagrangian_bound`).  ``objective`` is the best
    the relaxation was found to reach (the master LP's value), ``info["nodes"]`` the size of the
    time-expanded graph; a pit too large for the graph (`MAX_NODES`) gives bound +inf with
    ``info["skipped"]`` saying so.
    """
    started = time.perf_counter()
    n = int(np.count_nonzero(pit & (deposit.tonnage > 0)))
    if n * settings.periods > MAX_NODES:                # before any of the graph is made
        return Result(FEASIBLE, -math.inf, math.inf, 0.0, None, "not computed",
                      {"skipped": f"{n} blocks x {settings.periods} periods is more than {MAX_NODES:,} nodes",
                       "nodes": n * settings.periods})
    relaxation = Relaxation(deposit, pit, settings, env_price, periods_table)
    first = relaxation.prices(duals or {})
    starts = [first * s for s in START_SCALES] if first.any() else [first]
    result = lagrangian_bound(relaxation.price, relaxation.rhs, starts,
                              columns=[relaxation.use_of_plan(periods_table, kpis)], time_limit=math.inf,
                              max_iter=prices, tol=tol, stall=max(STALL, prices // 5))
    result.info["nodes"] = relaxation.n * relaxation.T
    result.seconds = time.perf_counter() - started          # the graph's making too
    return result


class Relaxation:
    """The priced problem of one plan: its rows' limits (``rhs``, +inf where absent) and `price`."""

    def __init__(self, deposit: Deposit, pit: np.ndarray, settings: PlanSettings, env_price: bool, plan_periods):
        S = settings
        T = S.periods
        self.settings, self.T = S, T
        blocks = np.flatnonzero(pit & (deposit.tonnage > 0))
        self.n = n = blocks.size
        group = np.full(deposit.n_blocks, -1, dtype=np.int64)
        group[blocks] = np.arange(n)
        heads, preds = deposit.precedence.group_arcs(group)
        precedence = Precedence.from_arcs(n, heads, preds)
        flows = deposit.flows(env_price)
        self.ton = deposit.tonnage[blocks]
        self.hours = deposit.mill_hours[blocks]
        self.at_mining = flows.at_mining[blocks]
        self.at_reclaim = flows.at_reclaim[blocks]
        self.co2 = deposit.co2_at_mining()[blocks]
        self.co2_reclaim = deposit.co2[blocks, MILL]
        self.recovered = deposit.recovered[blocks]
        ore = deposit.ore[blocks]
        self.ore_t = np.where(ore, self.ton, 0.0)
        allowed = np.isfinite(self.at_mining)
        allowed[:, MILL] &= ore
        allowed[:, STOCKPILE] &= ore & S.stockpile & np.isfinite(self.at_reclaim)
        allowed[:, DUMP] &= ~ore | (not S.no_ore_to_dump)
        self.allowed = allowed
        self.disc = S.discount()
        # (block, period, destination): the objective of mining it then and there, the same at any price
        self.gain = self.disc[None, :T, None] * np.where(allowed, self.at_mining, 0.0)[:, None, :]
        per = S.per_period
        whole = float(self.ton.sum())
        mined = np.cumsum(np.asarray(plan_periods["mined_t"], dtype=np.float64))[:T]
        steady = np.full(T, math.inf)
        if S.steady_mining is not None:
            steady = -np.minimum(np.minimum(S.steady_mining * np.cumsum(per(S.mining_capacity)), whole), mined)
        limits = {"mining": per(S.mining_capacity), "steady": steady, "mill": per(S.mill_capacity),
                  "mill_hours": per(S.mill_hours), "co2": per(math.inf if S.co2_cap is None else S.co2_cap),
                  "stockpile": per(S.stockpile_capacity if S.stockpile else math.inf),
                  "recovery": np.zeros(T) if S.recovery_floor is not None else np.full(T, math.inf),
                  "metal": [-S.metal_floor if S.metal_floor is not None else math.inf],
                  "co2_total": [S.co2_total_cap if S.co2_total_cap is not None else math.inf]}
        self.rhs = np.concatenate([np.asarray(limits[k], dtype=np.float64) for k in PERIOD_ROWS + LIFE_ROWS])
        earliest = None
        mining = per(S.mining_capacity) * (1 + CAPACITY_TOL)        # what a plan may mine (`verify`)
        if n and np.isfinite(mining).all():
            earliest = np.minimum(earliest_periods(CpitProblem(np.zeros(n), precedence, T, 0.0, self.ton[:, None],
                                                               -np.inf, mining[None, :])), T - 1)
        mine_all = bool(mined[-1] >= whole * (1 - 1e-9)) if T else False
        self.closure = PeriodClosure(precedence, T, earliest, mine_all)

    def split(self, lam: np.ndarray) -> dict:
        """Row family -> its prices (per period, or one)."""
        T = self.T
        out = {k: lam[i * T:(i + 1) * T] for i, k in enumerate(PERIOD_ROWS)}
        out.update({k: float(lam[len(PERIOD_ROWS) * T + j]) for j, k in enumerate(LIFE_ROWS)})
        return out

    def prices(self, duals: dict) -> np.ndarray:
        """A price vector from {family: per-period duals} (shorter: the rest 0; missing: 0)."""
        T = self.T
        lam = np.zeros(self.rhs.size)
        for i, k in enumerate(PERIOD_ROWS):
            d = np.abs(np.asarray(duals.get(k, ()), dtype=np.float64))[:T]
            lam[i * T:i * T + d.size] = d
        for j, k in enumerate(LIFE_ROWS):
            lam[len(PERIOD_ROWS) * T + j] = abs(float(duals.get(k, 0.0)))
        return np.where(np.isfinite(self.rhs), lam, 0.0)

    def use_of_plan(self, periods, kpis: dict) -> tuple[np.ndarray, float]:
        """(row use, objective) of a plan from its simulation (`orepit.planning.simulation`)."""
        rho = self.settings.recovery_floor or 0.0
        kept = periods["ore_recovered_t"].to_numpy()
        dumped = periods["ore_mined_t"].to_numpy() - kept
        T = self.T
        rows = {"mining": periods["mined_t"], "steady": -np.cumsum(periods["mined_t"]), "mill": periods["mill_t"],
                "mill_hours": periods["mill_hours"], "co2": periods["co2_t"],
                "stockpile": periods["stockpile_balance_t"],
                "recovery": -np.cumsum((1 - rho) * kept - rho * dumped)}
        use = [np.asarray(rows[k], dtype=np.float64)[:T] for k in PERIOD_ROWS]
        use += [[-float(kpis.get("metal_recovered", 0.0))], [float(np.sum(periods["co2_t"]))]]
        return np.concatenate(use), float(kpis["objective"])

    def price(self, lam: np.ndarray):
        """The best schedule at prices ``lam``: (reduced value, row use, objective) (`lagrangian_bound`)."""
        S, T, n = self.settings, self.T, self.n
        p = self.split(lam)
        rho = S.recovery_floor or 0.0
        later = np.cumsum(p["recovery"][::-1])[::-1]               # recovery prices of periods t.. on
        co2_price = p["co2"] + p["co2_total"]
        value = np.full((n, T, 3), -np.inf)
        gain = self.gain.copy()                                     # the objective, unpriced
        reclaim = np.full((n, T), T, dtype=np.int64)                # period reclaimed (T: never)
        for t in range(T):
            mined = -(p["mining"][t] - p["steady"][t:].sum()) * self.ton
            kept = (1 - rho) * self.ore_t * later[t]
            value[:, t, MILL] = gain[:, t, MILL] + mined - (p["mill"][t] * self.ton + p["mill_hours"][t] * self.hours
                                                           + co2_price[t] * self.co2[:, MILL]
                                                           - p["metal"] * self.recovered) + kept
            value[:, t, DUMP] = gain[:, t, DUMP] + mined - co2_price[t] * self.co2[:, DUMP] \
                - rho * self.ore_t * later[t]
            if S.stockpile:
                best, earned, when = self._best_reclaim(p, co2_price, t)
                value[:, t, STOCKPILE] = gain[:, t, STOCKPILE] + mined - co2_price[t] * self.co2[:, STOCKPILE] \
                    + kept + best
                gain[:, t, STOCKPILE] += earned
                reclaim[:, t] = when
        value = np.where(self.allowed[:, None, :], value, -np.inf)
        dest = np.argmax(value, axis=2)
        best_value = np.take_along_axis(value, dest[:, :, None], axis=2)[:, :, 0]
        period = self.closure.solve(np.where(np.isfinite(best_value), best_value, -1e300))
        i = np.flatnonzero(period >= 0)
        t, d = period[i], dest[i, period[i]]
        reduced = float(best_value[i, t].sum())
        objective = float(gain[i, t, d].sum())
        return reduced, self._use(i, t, d, reclaim[i, t]), objective

    def _best_reclaim(self, p: dict, co2_price: np.ndarray, t: int):
        """For blocks stockpiled in period t: (best priced value of their reclaim, its unpriced
        value, the period chosen; T: never reclaimed) over reclaims in periods t..T-1 and none.
        p: the prices by row family; co2_price: per period, of a t CO2 (per period and life)."""
        S, T, disc = self.settings, self.T, self.disc
        keep = 1.0 - S.stockpile_loss
        best = np.full(self.n, -np.inf)
        earned = np.zeros(self.n)
        when = np.full(self.n, T, dtype=np.int64)
        held = np.zeros(self.n)                  # stockpile price paid while the tonnes wait
        for s in range(t, T + 1):
            f = keep ** (s - t)
            if s < T:
                pay = f * disc[s] * self.at_reclaim
                priced = pay - f * (p["mill"][s] * self.ton + p["mill_hours"][s] * self.hours
                                    + co2_price[s] * self.co2_reclaim - p["metal"] * self.recovered) - held
            elif S.final_stockpile == "empty":
                break
            elif S.final_stockpile == "process":           # milled one period after the last
                f = keep ** (T - 1 - t)
                pay = f * disc[T] * self.at_reclaim
                priced = pay - f * (p["co2_total"] * self.co2_reclaim - p["metal"] * self.recovered) - held
            else:                                           # lost
                pay = np.zeros(self.n)
                priced = -held
            better = priced > best
            best = np.where(better, priced, best)
            earned = np.where(better, pay, earned)
            when = np.where(better, s, when)
            if s < T:
                held = held + p["stockpile"][s] * self.ton * f
        return best, earned, when

    def _use(self, i, t, d, s) -> np.ndarray:
        """Row use of blocks i mined in periods t to destinations d (stockpiled: reclaimed in s)."""
        S, T = self.settings, self.T
        keep = 1.0 - S.stockpile_loss
        rho = S.recovery_floor or 0.0
        ton, hours = self.ton[i], self.hours[i]

        def per_period(at, weights):
            return np.bincount(at, weights=weights, minlength=T)[:T]

        mill, stock = d == MILL, d == STOCKPILE
        back = stock & (s < T)                                       # reclaimed within the periods
        f = np.where(back, keep ** np.maximum(s - t, 0), 0.0)
        sb = np.minimum(s, T - 1)                                    # f is 0 where s is T
        held = np.zeros(T)
        for u in range(T):
            waiting = stock & (t <= u) & (u < s)
            held[u] = float((ton[waiting] * keep ** (u - t[waiting])).sum())
        ore = self.ore_t[i]
        kept = per_period(t, np.where(d != DUMP, (1 - rho) * ore, -rho * ore))
        final = stock & (s >= T) & (S.final_stockpile == "process")
        f_final = np.where(final, keep ** np.maximum(T - 1 - t, 0), 0.0)
        co2 = per_period(t, self.co2[i, d]) + per_period(sb, f * self.co2_reclaim[i])
        rows = {"mining": per_period(t, ton), "steady": -np.cumsum(per_period(t, ton)),
                "mill": per_period(t, np.where(mill, ton, 0.0)) + per_period(sb, f * ton),
                "mill_hours": per_period(t, np.where(mill, hours, 0.0)) + per_period(sb, f * hours),
                "co2": co2, "stockpile": held, "recovery": -np.cumsum(kept)}
        metal = float((self.recovered[i] * (mill + f + f_final)).sum())
        co2_total = float(co2.sum() + (f_final * self.co2_reclaim[i]).sum())
        return np.concatenate([rows[k] for k in PERIOD_ROWS] + [[-metal], [co2_total]])


#: the plan model's rows (`orepit.planning.plan_model`) whose duals price the bound's rows
MODEL_ROWS = {"mining": "mining", "mill": "mill", "mill_hours": "mill_hours", "co2": "co2",
              "stockpile": "stockpile_room", "metal": "metal_floor", "co2_total": "co2_total"}


def cut_model_prices(model) -> dict:
    """{row family: duals} of a solved plan-model LP (none for a MIP): per period, or one value.
    The recovery floor's rows (running balances) become the prices of its cumulative rows."""
    dual = getattr(model, "dual", None)
    if dual is None or not isinstance(getattr(model, "settings", None), PlanSettings):
        return {}
    out = {}
    for family, name in MODEL_ROWS.items():
        rows = getattr(model, name, None)
        if rows is None:
            continue
        if rows.is_indexed():
            values = np.zeros(model.settings.periods)
            for t, row in rows.items():
                values[t] = dual.get(row, 0.0)
            out[family] = values
        else:
            out[family] = float(dual.get(rows, 0.0))
    balance = getattr(model, "recovery_floor", None)
    if balance is not None:
        pi = np.array([dual.get(balance[t], 0.0) if t in balance else 0.0 for t in range(model.settings.periods)])
        out["recovery"] = np.abs(pi - np.r_[pi[1:], 0.0])
    return out


def bounded(result: Result, bound: Result, mip_gap: float) -> Result:
    """``result`` (a plan's) with ``bound``'s upper bound: 'optimal' when within ``mip_gap``."""
    if bound.bound < result.objective - BOUND_TOL * max(abs(result.objective), 1.0):
        raise RuntimeError(f"the plan's objective {result.objective:,.2f} is above its upper bound "
                           f"{bound.bound:,.2f}: the relaxation misses something the plan may do")
    value = max(bound.bound, result.objective)
    status = OPTIMAL if (value - result.objective) <= mip_gap * max(abs(result.objective), 1.0) else result.status
    figures = {"status": bound.status, "bound": bound.bound, "relaxation_reaches": bound.objective,
               "seconds": bound.seconds, "iterations": bound.info.get("iterations", 0)}
    figures.update({k: bound.info[k] for k in ("nodes", "skipped") if k in bound.info})
    info = dict(result.info, bound=figures)
    return Result(status, result.objective, value, result.seconds + bound.seconds, result.solution,
                  result.algorithm, info)
