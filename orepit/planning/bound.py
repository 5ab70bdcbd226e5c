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

from solvers.check import slack
from solvers.earliest import earliest_periods
from solvers.lagrange import STALL, PeriodClosure, lagrangian_bound
from solvers.problem import CpitProblem, Precedence
from solvers.result import FEASIBLE, OPTIMAL, Result

from orepit.planning.plan_model import PlanSettings
from orepit.planning.replay import FixedPlan, Replay
from orepit.planning.verify import CAPACITY_TOL
from orepit.valuation.deposit import Deposit
from orepit.valuation.destinations import DUMP, MILL, STOCKPILE

#: the priced rows, in order: per-period families, then the life-of-mine rows
PERIOD_ROWS = ("mining", "steady", "mill", "mill_hours", "co2", "stockpile", "recovery")
LIFE_ROWS = ("metal", "co2_total")
#: rows of the plan's rules, in tonnes (the others are capacities, as the checker takes them)
RULE_ROWS = ("steady", "recovery")
#: relative: a plan keeps its capacities within the checker's tolerance (1e-6 of each), so its objective
#: may pass the bound by as little; more means the relaxation misses something a plan may do
BOUND_TOL = 1e-5
#: the cut model's duals are tried at these multiples first (its capacities are coarser than the
#: blocks': lower prices usually give the lower bound)
START_SCALES = (1.0, 0.8, 0.65, 0.5)
#: `Relaxation`'s ``final``: a stockpiled tonne left at the end may be processed after it or lost,
#: whichever is worth more (what grade control's replay of a plan that empties its stockpile may do:
#: `replay_bound`)
PROCESS_OR_LOST = "process or lost"
#: `replay_bound`: realisations x (block, period) nodes above this are not bounded (each realisation
#: holds a few arrays of a value per node: about 50 bytes a node in all)
MAX_NODE_VALUES = 20_000_000
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
                              max_iter=prices, tol=tol, stall=max(STALL, prices // 5),
                              allowance=relaxation.allowance)
    result.info["nodes"] = relaxation.n * relaxation.T
    result.seconds = time.perf_counter() - started          # the graph's making too
    return result


def replay_bound(deposits: list[Deposit], plan: FixedPlan, replays: list[Replay], duals: dict | None = None,
                 prices: int = 4, tol: float = 1e-4) -> Result:
    """An upper bound on the mean objective over the realisations ``deposits`` (valued like the
    estimate: same blocks and precedence) of every block sequence of ``plan``'s pit and horizon whose
    destinations, decided on each realisation, keep the plan's capacities and rules in every one of
    them (as the stochastic model asks).  What is left on the stockpile at the end follows the plan's
    rule, except where the plan must empty it: grade control's replay then mills it in periods after
    the plan's (`orepit.planning.replay.EXTRA_PERIODS`), which the bound takes as processed just after
    the last period (sooner, and without the mill's limit) or lost, whichever is worth more.  As
    `plan_bound` otherwise: the sequences mine at least as fast as the plan (its steady mining), the
    whole pit when the plan does.  The rows of every realisation are priced, and the best sequence at
    those prices is one maximum closure on the mean of the realisations' best values per (block,
    period).

    replays: the plan's own replays on ``deposits`` (`orepit.planning.replay`), the master's first
    column; grade control does not enforce the rules, so where a replay breaks one the plan is not
    among the sequences bounded and the bound is not computed (``info["skipped"]`` says where).
    duals: the cut model's, as for `plan_bound` (the same prices in every realisation to start
    with).  On the plan's footing (``plan.env_price``), currency."""
    started = time.perf_counter()
    pit, T, R = plan.pit, plan.settings.periods, len(deposits)
    n = int(np.count_nonzero(pit & (deposits[0].tonnage > 0)))

    def skipped(why):
        return Result(FEASIBLE, -math.inf, math.inf, time.perf_counter() - started, None, "not computed",
                      {"skipped": why, "nodes": n * T})

    if n * T * R > MAX_NODE_VALUES:                     # every realisation holds a value per node
        return skipped(f"{n} blocks x {T} periods x {R} realisations is more than {MAX_NODE_VALUES:,} node values")
    mined = np.bincount(plan.period[plan.period >= 0], weights=deposits[0].tonnage[plan.period >= 0], minlength=T)
    final = PROCESS_OR_LOST if plan.settings.final_stockpile == "empty" else None      # as `replay` does
    first = Relaxation(deposits[0], pit, plan.settings, plan.env_price, {"mined_t": mined[:T]}, final=final)
    parts = [first] + [Relaxation(d, pit, plan.settings, plan.env_price, {"mined_t": mined[:T]}, first.closure,
                                  final) for d in deposits[1:]]
    for r, (part, rep) in enumerate(zip(parts, replays)):
        broken = part.broken_by(rep.simulation.periods, rep.kpis)
        if broken:
            return skipped(f"on realisation {r} of the {R} grade control breaks the plan's {broken}")
    mean = MeanRelaxation(parts)
    lam = first.prices(duals or {})
    starts = [np.tile(lam * s, R) for s in START_SCALES] if lam.any() else [np.tile(lam, R)]
    result = lagrangian_bound(mean.price, mean.rhs, starts, columns=[mean.use_of_replays(replays)] if replays else [],
                              time_limit=math.inf, max_iter=prices, tol=tol, stall=max(STALL, prices // 5),
                              allowance=mean.allowance)
    result.info["nodes"] = n * T
    result.seconds = time.perf_counter() - started
    return result


class MeanRelaxation:
    """The priced problem of one sequence over several realisations (`replay_bound`): the rows of
    realisation r are ``parts[r]``'s, priced by their own slice of the price vector; the objective,
    the row use and the limits are the realisations' over their number (a mean)."""

    def __init__(self, parts: list["Relaxation"]):
        self.parts = parts
        self.k = parts[0].rhs.size
        self.rhs = np.concatenate([p.rhs for p in parts]) / len(parts)
        self.allowance = np.concatenate([p.allowance for p in parts]) / len(parts)

    def price(self, lam: np.ndarray):
        """(reduced value, row use, objective) of the best sequence at prices ``lam`` (`lagrangian_bound`)."""
        R, k = len(self.parts), self.k
        values = [p.node_values(lam[r * k:(r + 1) * k]) for r, p in enumerate(self.parts)]
        weight = sum(np.where(np.isfinite(v[0]), v[0], -1e300) for v in values) / R
        period = self.parts[0].closure.solve(weight)
        cols = [p.column(period, *v) for p, v in zip(self.parts, values)]
        return (sum(c[0] for c in cols) / R, np.concatenate([c[1] for c in cols]) / R,
                sum(c[2] for c in cols) / R)

    def use_of_replays(self, replays: list[Replay]) -> tuple[np.ndarray, float]:
        """(row use, objective) of a plan's replays, one per realisation in order."""
        cols = [p.use_of_plan(r.simulation.periods, r.kpis) for p, r in zip(self.parts, replays)]
        return np.concatenate([c[0] for c in cols]) / len(cols), float(np.mean([c[1] for c in cols]))


class Relaxation:
    """The priced problem of one plan: its rows' limits (``rhs``, +inf where absent) and `price`."""

    def __init__(self, deposit: Deposit, pit: np.ndarray, settings: PlanSettings, env_price: bool, plan_periods,
                 closure: PeriodClosure | None = None, final: str | None = None):
        """closure: the time-expanded graph of another `Relaxation` of the same pit, settings and plan
        periods (shared instead of made again); final: what a stockpiled tonne left at the end may
        become, the settings' ``final_stockpile`` by default, or `PROCESS_OR_LOST`."""
        S = settings
        self.final = final or S.final_stockpile
        T = S.periods
        self.settings, self.T = S, T
        blocks = np.flatnonzero(pit & (deposit.tonnage > 0))
        self.n = blocks.size
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
        # how far a plan may break each row and still be accepted: the checker's tolerance on capacities
        # (`verify`), at least ``rule_slack`` (t) on the rules' rows (their limits are floors or zero)
        self.rule_slack = CAPACITY_TOL * max(whole, 1.0)
        rule = np.r_[np.isin(np.repeat(PERIOD_ROWS, T), RULE_ROWS), np.zeros(len(LIFE_ROWS), dtype=bool)]
        self.allowance = np.where(rule, np.maximum(slack(self.rhs, CAPACITY_TOL), self.rule_slack),
                                  slack(self.rhs, CAPACITY_TOL))
        self.closure = closure or self._graph(deposit, blocks, mined, whole)

    def _graph(self, deposit: Deposit, blocks: np.ndarray, mined: np.ndarray, whole: float) -> PeriodClosure:
        """The time-expanded graph of ``blocks`` (the pit's): earliest periods from the mining
        capacity, the pit mined out when the plan mines it all."""
        S, T, n = self.settings, self.T, self.n
        group = np.full(deposit.n_blocks, -1, dtype=np.int64)
        group[blocks] = np.arange(n)
        precedence = Precedence.from_arcs(n, *deposit.precedence.group_arcs(group))
        earliest = None
        mining = S.per_period(S.mining_capacity) * (1 + CAPACITY_TOL)        # what a plan may mine (`verify`)
        if n and np.isfinite(mining).all():
            earliest = np.minimum(earliest_periods(CpitProblem(np.zeros(n), precedence, T, 0.0, self.ton[:, None],
                                                               -np.inf, mining[None, :])), T - 1)
        mine_all = bool(mined[-1] >= whole * (1 - 1e-9)) if T else False
        return PeriodClosure(precedence, T, earliest, mine_all)

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

    def broken_by(self, periods, kpis: dict) -> str:
        """The first row a plan's simulation breaks by more than its ``allowance``, as 'family in period
        t' ('' when none), or the rule of no ore to the dump."""
        use, _ = self.use_of_plan(periods, kpis)
        over = np.flatnonzero(use > self.rhs + self.allowance)
        names = [f"{k} in period {t}" for k in PERIOD_ROWS for t in range(self.T)] + list(LIFE_ROWS)
        if over.size:
            return names[over[0]]
        dumped = periods["ore_mined_t"].to_numpy() - periods["ore_recovered_t"].to_numpy()
        if self.settings.no_ore_to_dump and dumped.sum() > self.rule_slack:
            return f"rule of no ore to the dump (period {int(np.argmax(dumped))})"
        return ""

    def price(self, lam: np.ndarray):
        """The best schedule at prices ``lam``: (reduced value, row use, objective) (`lagrangian_bound`)."""
        values = self.node_values(lam)
        period = self.closure.solve(np.where(np.isfinite(values[0]), values[0], -1e300))
        return self.column(period, *values)

    def column(self, period: np.ndarray, best_value, dest, gain, reclaim):
        """(reduced value, row use, objective) of mining each block in ``period`` (-1: not at all) at
        the prices `node_values` gave ``best_value`` ... ``reclaim`` for."""
        i = np.flatnonzero(period >= 0)
        t, d = period[i], dest[i, period[i]]
        return float(best_value[i, t].sum()), self._use(i, t, d, reclaim[i, t]), float(gain[i, t].sum())

    def node_values(self, lam: np.ndarray):
        """At prices ``lam``, per (block, period) mined: the best priced value (-inf: not allowed), the
        destination that gives it, the objective there (unpriced), and the period a block stockpiled
        is reclaimed in (T: processed after the end, T + 1: never)."""
        S, T, n = self.settings, self.T, self.n
        p = self.split(lam)
        rho = S.recovery_floor or 0.0
        later = np.cumsum(p["recovery"][::-1])[::-1]               # recovery prices of periods t.. on
        co2_price = p["co2"] + p["co2_total"]
        value = np.full((n, T, 3), -np.inf)
        gain = self.gain.copy()                                     # the objective, unpriced
        reclaim = np.full((n, T), T + 1, dtype=np.int64)            # period reclaimed (T + 1: never)
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
        return best_value, dest, np.take_along_axis(gain, dest[:, :, None], axis=2)[:, :, 0], reclaim

    def _best_reclaim(self, p: dict, co2_price: np.ndarray, t: int):
        """For blocks stockpiled in period t: (best priced value of their reclaim, its unpriced
        value, the period chosen; T: processed after the end, T + 1: never) over reclaims in periods
        t..T-1 and what ``final`` allows at the end.
        p: the prices by row family; co2_price: per period, of a t CO2 (per period and life)."""
        S, T, disc = self.settings, self.T, self.disc
        keep = 1.0 - S.stockpile_loss
        best = np.full(self.n, -np.inf)
        earned = np.zeros(self.n)
        when = np.full(self.n, T + 1, dtype=np.int64)
        held = np.zeros(self.n)                  # stockpile price paid while the tonnes wait
        final = {"process": (T,), "lost": (T + 1,), PROCESS_OR_LOST: (T, T + 1)}.get(self.final, ())
        for s in [*range(t, T), *final]:
            f = keep ** (s - t)
            if s < T:
                pay = f * disc[s] * self.at_reclaim
                priced = pay - f * (p["mill"][s] * self.ton + p["mill_hours"][s] * self.hours
                                    + co2_price[s] * self.co2_reclaim - p["metal"] * self.recovered) - held
            elif s == T:                                    # milled one period after the last
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
        final = stock & (s == T)                                     # processed after the end
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
