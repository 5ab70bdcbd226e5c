"""Key performance indicators from a period-by-period simulation of a block schedule.

The simulation reads only the block schedule (period and destination of every block, and the
tonnes reclaimed from each stockpile bin in each period) and the valued deposit; it recomputes
cash flows, metal, emissions and the stockpile inventory itself, checks every capacity and rule,
and prices the plan on both footings: the economic NPV (``npv``) and the NPV after environmental
cost (``npv_after_environment``), for every strategy alike.

Stockpiles blend: each pile (``BlockSchedule.bin``: the ore of one grade bin stockpiled in one
period) is mixed, so a reclaimed tonne carries the pile's average of every quantity (metal,
recoverable metal, value, hours, emissions, ...).  Inventory degrades by ``stockpile_loss`` per period.

Metal balance (ore-grade metal, t), exact by construction and reported for the first element
(``metal_recovered``, ...) and for every element E that earns revenue (``metal_recovered_E``, ...):

    deposit ore metal = recovered + lost in processing + sterilised
    sterilised        = outside the final pit + dumped + lost from stockpiles + left in the pit

The rates (processing recovery, utilisation, CO2 per tonne of metal) count the first element.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from orepit.planning.layout import margin_per_tonne
from orepit.planning.plan_model import PlanSettings
from orepit.valuation.deposit import Deposit
from orepit.valuation.destinations import DUMP, MILL, STOCKPILE

TOL = 1e-6          # relative tolerance of capacity checks


@dataclass
class BlockSchedule:
    """What a mine follows: per block its period (-1 unmined) and destination (0 mill, 1 stockpile,
    2 dump; -1 unmined) and stockpile bin (-1 none), and the t reclaimed from each bin per period."""

    period: np.ndarray
    destination: np.ndarray
    bin: np.ndarray
    reclaim: np.ndarray

    @property
    def n_periods(self) -> int:
        return self.reclaim.shape[1]


@dataclass
class Simulation:
    """periods: one row per period; kpis: life-of-mine figures; violations: what the schedule breaks."""

    periods: pd.DataFrame
    kpis: dict
    violations: list[str] = field(default_factory=list)

    @property
    def feasible(self) -> bool:
        return not self.violations


def simulate(deposit: Deposit, schedule: BlockSchedule, settings: PlanSettings, pit: np.ndarray,
             low_grade_edge: float, env_price: bool) -> Simulation:
    """Simulate ``schedule`` period by period (see the module docstring).

    pit: the strategy's final pit (blocks outside it hold the metal "outside the final pit");
    low_grade_edge: margin per tonne below which ore is low-grade (currency/t, one value for all
    strategies); env_price: the footing of the strategy's own objective (``objective`` KPI).
    """
    T = schedule.n_periods
    n_g = schedule.reclaim.shape[0]
    disc = (1.0 + settings.discount_rate) ** -np.arange(T + 1, dtype=np.float64)
    ton = deposit.tonnage
    ore = deposit.ore
    low = ore & (margin_per_tonne(deposit) < low_grade_edge)
    econ, green = deposit.flows(False), deposit.flows(True)
    period, dest = schedule.period, schedule.destination
    # what each block brings when mined, at its own destination (the periods pick their blocks)
    at_dest = (np.arange(ton.size), np.maximum(dest, 0))
    cash, cash_env = econ.at_mining[at_dest], green.at_mining[at_dest]
    co2_mine = deposit.co2_at_mining()[at_dest]
    extras_mine = {name: arr[at_dest] for name, arr in deposit.extras_at_mining().items()}
    violations: list[str] = []
    mined = period >= 0
    if np.any(mined & (dest < 0)) or np.any(~mined & (dest >= 0)):
        violations.append("a block has a period but no destination, or a destination but no period")
    if np.any(mined & ~pit):
        violations.append(f"{int((mined & ~pit).sum())} blocks mined outside the final pit")
    to_stock = mined & (dest == STOCKPILE)
    if np.any(to_stock & (schedule.bin < 0)):
        violations.append("a block without a stockpile bin was stockpiled")
    if np.any(mined & (dest != DUMP) & ~ore):
        violations.append(f"{int((mined & (dest != DUMP) & ~ore).sum())} waste blocks milled or stockpiled")

    # what each stockpiled block brings to its pile (proportional quantities, per block)
    metals = metal_sets(deposit)
    stock_q = {"tonnes": ton, "value": np.where(to_stock, econ.at_reclaim, 0.0),
               "value_env": np.where(to_stock, green.at_reclaim, 0.0),
               "hours": deposit.mill_hours, "co2": deposit.co2[:, MILL], "low_grade": np.where(low, ton, 0.0)}
    for s, (metal, recovered) in metals.items():
        stock_q[f"metal{s}"], stock_q[f"recovered{s}"] = metal, recovered
    for name, arr in deposit.extras.items():
        stock_q[f"x_{name}"] = arr[:, MILL]
    pools = {k: np.zeros(n_g) for k in stock_q}
    limits = {"mining": settings.per_period(settings.mining_capacity),
              "mill": settings.per_period(settings.mill_capacity),
              "mill hours": settings.per_period(settings.mill_hours),
              "CO2": settings.per_period(math.inf if settings.co2_cap is None else settings.co2_cap)}
    rows = []
    for t in range(T):
        now = period == t
        d_mill, d_stock, d_dump = now & (dest == MILL), now & (dest == STOCKPILE), now & (dest == DUMP)
        # the piles: degrade, receive, then give what is reclaimed (blended)
        lost = {k: settings.stockpile_loss * pools[k] for k in pools}
        for k in pools:
            pools[k] = pools[k] - lost[k] + (np.bincount(schedule.bin[d_stock], weights=stock_q[k][d_stock],
                                                         minlength=n_g) if n_g else np.zeros(0))
        r_t = schedule.reclaim[:, t] if n_g else np.zeros(0)
        held = pools["tonnes"]
        safe = np.where(held > 0, held, 1.0)
        short = r_t - held
        if short.max(initial=0.0) > TOL * max(1.0, held.max(initial=0.0)):
            g = int(np.argmax(short))
            violations.append(f"period {t}: reclaims {r_t[g]:.6g} t from bin {g}, which holds {held[g]:.6g} t")
        share = np.clip(np.where(held > 0, r_t / safe, 0.0), 0.0, 1.0)
        out = {k: share * pools[k] for k in pools}
        for k in pools:
            pools[k] = pools[k] - out[k]
        row = {
            "period": t,
            "mined_t": float(ton[now].sum()),
            "ore_mined_t": float(ton[now & ore].sum()),
            "waste_mined_t": float(ton[now & ~ore].sum()),
            "mill_direct_t": float(ton[d_mill].sum()),
            "stockpile_in_t": float(ton[d_stock].sum()),
            "stockpile_out_t": float(out["tonnes"].sum()),
            "stockpile_lost_t": float(lost["tonnes"].sum()),
            "stockpile_balance_t": float(pools["tonnes"].sum()),
            "dump_t": float(ton[d_dump].sum()),
            "ore_to_dump_t": float(ton[d_dump & ore].sum()),
            "ore_recovered_t": float(ton[(d_mill | d_stock) & ore].sum()),
            "low_grade_milled_t": float(ton[d_mill & low].sum() + out["low_grade"].sum()),
            "mill_hours": float(deposit.mill_hours[d_mill].sum() + out["hours"].sum()),
            **_metal_flows(metals, d_mill, d_dump & ore, out, lost),
            "cash_flow": float(np.where(now, cash, 0.0).sum() + out["value"].sum()),
            "cash_flow_after_environment": float(np.where(now, cash_env, 0.0).sum() + out["value_env"].sum()),
            "co2_t": float(np.where(now, co2_mine, 0.0).sum() + out["co2"].sum()),
        }
        for name, arr in extras_mine.items():
            row[name] = float(np.where(now, arr, 0.0).sum() + out[f"x_{name}"].sum())
        row["mill_t"] = row["mill_direct_t"] + row["stockpile_out_t"]
        row["discounted_cash_flow"] = row["cash_flow"] * disc[t]
        row["discounted_cash_flow_after_environment"] = row["cash_flow_after_environment"] * disc[t]
        rows.append(row)
        for label, key in (("mining", "mined_t"), ("mill", "mill_t"), ("mill hours", "mill_hours"), ("CO2", "co2_t")):
            cap = float(limits[label][t])
            if row[key] > cap + TOL * max(1.0, cap):
                violations.append(f"period {t}: {label} {row[key]:.10g} above its capacity {cap:.10g}")
        if row["stockpile_balance_t"] > settings.stockpile_capacity * (1 + TOL) + TOL:
            violations.append(f"period {t}: the stockpile holds {row['stockpile_balance_t']:.10g} t, above its "
                              f"capacity {settings.stockpile_capacity:.10g}")
        if settings.no_ore_to_dump and row["ore_to_dump_t"] > TOL * max(1.0, row["mined_t"]):
            violations.append(f"period {t}: {row['ore_to_dump_t']:.6g} t of ore-grade material dumped")

    periods = pd.DataFrame(rows)
    left = float(pools["tonnes"].sum())
    processed = settings.final_stockpile == "process"
    if settings.final_stockpile == "empty" and left > TOL * max(1.0, float(periods["mined_t"].sum())):
        violations.append(f"{left:.6g} t left on the stockpile, which must end empty")
    if settings.recovery_floor is not None:
        kept = np.cumsum(periods["ore_recovered_t"].to_numpy())
        ore_mined = np.cumsum(periods["ore_mined_t"].to_numpy())
        bad = np.flatnonzero(kept < settings.recovery_floor * ore_mined - TOL * np.maximum(1.0, ore_mined))
        if bad.size:
            violations.append(f"by period {bad[0]}: mining recovery {kept[bad[0]] / ore_mined[bad[0]]:.4f} below "
                              f"the floor {settings.recovery_floor}")
    final = {k: (pools[k].sum() if processed else 0.0) for k in pools}
    periods["npv_cumulative"] = periods["discounted_cash_flow"].cumsum()
    periods["npv_after_environment_cumulative"] = periods["discounted_cash_flow_after_environment"].cumsum()
    periods["co2_cumulative_t"] = periods["co2_t"].cumsum()
    npv = math.fsum(periods["discounted_cash_flow"].tolist() + [final["value"] * disc[T]])
    npv_env = math.fsum(periods["discounted_cash_flow_after_environment"].tolist() + [final["value_env"] * disc[T]])
    kpis = _kpis(deposit, schedule, periods, pit, final, pools, processed)
    kpis.update(npv=npv, npv_economic=npv, npv_after_environment=npv_env, environmental_cost=npv - npv_env,
                objective=npv_env if env_price else npv)
    return Simulation(periods, kpis, violations)


def metal_sets(deposit: Deposit) -> dict:
    """KPI suffix -> (t of metal per block, t recovered if milled): ``""`` for the first element
    (the metal KPIs without a suffix), then ``"_E"`` for every element E that earns revenue."""
    out = {"": (deposit.metal, deposit.recovered)}
    out.update({f"_{name}": (m.metal, m.recovered) for name, m in deposit.metals.items()})
    return out


def _metal_flows(metals: dict, milled: np.ndarray, ore_dumped: np.ndarray, out: dict, lost: dict) -> dict:
    """One period's metal of every set (`metal_sets`), t: fed and recovered (milled directly or
    reclaimed, ``out``), ore-grade metal dumped, and lost from the stockpiles (``lost``)."""
    row = {}
    for s, (metal, recovered) in metals.items():
        row[f"metal_fed{s}_t"] = float(metal[milled].sum() + out[f"metal{s}"].sum())
        row[f"metal_recovered{s}_t"] = float(recovered[milled].sum() + out[f"recovered{s}"].sum())
        row[f"metal_dumped{s}_t"] = float(metal[ore_dumped].sum())
        row[f"metal_stockpile_lost{s}_t"] = float(lost[f"metal{s}"].sum())
    return row


def _metal_balance(ore: np.ndarray, metal: np.ndarray, s: str, mined, pit, col, final, pools, processed) -> dict:
    """Where the ore-grade metal of one set (suffix ``s``, see `metal_sets`) goes, t; the parts add up."""
    ore_metal = np.where(ore, metal, 0.0)
    deposit_metal = math.fsum(ore_metal.tolist())
    outside = math.fsum(ore_metal[~pit].tolist())
    left_in_pit = math.fsum(ore_metal[pit & ~mined].tolist())
    recovered = col(f"metal_recovered{s}_t") + final[f"recovered{s}"]
    fed = col(f"metal_fed{s}_t") + final[f"metal{s}"]
    stock_lost = col(f"metal_stockpile_lost{s}_t") + (0.0 if processed else float(pools[f"metal{s}"].sum()))
    dumped = col(f"metal_dumped{s}_t")
    sterilised = outside + dumped + stock_lost + left_in_pit
    parts = {"metal_recovered": recovered, "metal_fed": fed, "metal_lost_in_processing": fed - recovered,
             "metal_sterilised": sterilised, "metal_outside_pit": outside, "metal_dumped": dumped,
             "metal_stockpile_lost": stock_lost, "metal_left_in_pit": left_in_pit, "deposit_ore_metal": deposit_metal,
             "metal_balance_residual": deposit_metal - (recovered + (fed - recovered) + sterilised)}
    return {f"{key}{s}": value for key, value in parts.items()}


def _kpis(deposit, schedule, periods, pit, final, pools, processed) -> dict:
    """Life-of-mine figures and the metal balance of every metal set (see the module docstring)."""
    mined = schedule.period >= 0
    col = lambda name: math.fsum(periods[name].tolist())            # noqa: E731
    balances = {s: _metal_balance(deposit.ore, metal, s, mined, pit, col, final, pools, processed)
                for s, (metal, _) in metal_sets(deposit).items()}
    first = balances.pop("")
    recovered, fed, deposit_metal = first["metal_recovered"], first["metal_fed"], first["deposit_ore_metal"]
    ore_mined, moved = col("ore_mined_t"), col("mined_t")
    active = periods.index[(periods["mined_t"] > 0) | (periods["mill_t"] > 0)]
    mining = periods.index[periods["mined_t"] > 0]
    co2 = col("co2_t") + final["co2"]
    mill_total = col("mill_t") + final["tonnes"]
    out = {
        **first,
        "low_grade_tonnes_recovered": col("low_grade_milled_t") + final["low_grade"],
        "mining_recovery_rate": col("ore_recovered_t") / ore_mined if ore_mined > 0 else 1.0,
        "processing_recovery_rate": recovered / fed if fed > 0 else 0.0,
        "utilisation_rate": recovered / deposit_metal if deposit_metal > 0 else 0.0,
        "strip_ratio": col("waste_mined_t") / ore_mined if ore_mined > 0 else math.inf,
        "ore_to_dump_tonnes": col("ore_to_dump_t"),
        "tonnes_moved": moved,
        "mill_tonnes": mill_total,
        "final_stockpile_t": float(pools["tonnes"].sum()),
        "co2_tonnes": co2,
        "co2_per_tonne_moved": co2 / moved if moved > 0 else 0.0,
        "co2_per_tonne_metal": co2 / recovered if recovered > 0 else math.inf,
        "life_of_mine_periods": int(active.max()) + 1 if len(active) else 0,
        "mining_periods": int(mining.max()) + 1 if len(mining) else 0,
    }
    for name in deposit.extras:
        out[name] = col(name) + final.get(f"x_{name}", 0.0)
    for balance in balances.values():
        out.update(balance)
    return out
