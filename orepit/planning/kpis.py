"""Key performance indicators from an independent, period-by-period simulation of a plan.

The simulation re-reads only the decisions of a `Plan` (what was mined, where
each parcel went, what was reclaimed) and the parcel data; it recomputes the
stockpile inventory, cash flows, metal and emissions itself, checks every
capacity and balance, and prices the plan.  Its NPV must equal the solver's
objective: a disagreement means the model and the simulation disagree about
the mine, and is reported.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from orepit.planning.plan import Bins, Parcels, Plan, PlanSettings
from orepit.valuation.destinations import DUMP, MILL, STOCKPILE

TOL = 1e-6


@dataclass
class Simulation:
    """periods: one row per period (t, currency, t CO2 ...); kpis: life-of-mine figures;
    violations: what the plan breaks (empty when feasible)."""

    periods: pd.DataFrame
    kpis: dict
    violations: list[str] = field(default_factory=list)

    @property
    def feasible(self) -> bool:
        return not self.violations


def _limit(value, periods):
    return np.broadcast_to(np.asarray(value, dtype=np.float64), (periods,))


def simulate(parcels: Parcels, bins: Bins, settings: PlanSettings, plan: Plan,
             deposit_ore_metal: float | None = None, check_objective: bool = True) -> Simulation:
    """Simulate ``plan`` period by period; return per-period table, KPIs and violations.

    deposit_ore_metal: t of metal in ore-grade material of the whole deposit (inside and outside
    the final pit, whose blocks are the parcels), the base of the utilisation rate and of metal
    sterilised; default: the parcels' ore metal.  check_objective: compare the simulated NPV with
    the solver's objective (off when the plan is re-priced with other values).

    Metal sterilised = ore-grade metal outside the final pit + ore-grade metal dumped + metal lost
    from the stockpile (degradation, and the final inventory when it is not processed).  Ore-grade
    metal inside the pit but not mined within the horizon is reported as ``metal_left_in_pit``.
    """
    T = settings.periods
    disc = settings.discount()
    ton = parcels.tonnage
    violations: list[str] = []
    mined, sent, reclaim = plan.mined, plan.sent, plan.reclaim
    n_g = bins.n_bins

    # the plan's own consistency: each parcel goes where its cut's mined share goes, once at most
    share = sent.sum(axis=1)                                    # (parcel, t)
    gap = np.abs(share - mined[parcels.cut])
    if gap.max(initial=0) > TOL:
        p, t = np.unravel_index(np.argmax(gap), gap.shape)
        violations.append(f"parcel {p} period {t}: {share[p, t]:.6g} sent but its cut mined {mined[parcels.cut[p], t]:.6g}")
    total = mined.sum(axis=1)
    if total.max(initial=0) > 1 + TOL or mined.min(initial=0) < -TOL:
        violations.append(f"cut {int(np.argmax(total))} mined {total.max():.6g} times")
    cum = np.cumsum(mined, axis=1)
    nodes, preds = parcels.cut_precedence.arcs()
    if nodes.size:
        over = cum[nodes] - cum[preds]
        if over.max(initial=0) > TOL:
            a, t = np.unravel_index(np.argmax(over), over.shape)
            violations.append(f"precedence: by period {t} cut {nodes[a]} is {cum[nodes[a], t]:.6g} mined but "
                              f"cut {preds[a]} before it only {cum[preds[a], t]:.6g}")
    if not settings.stockpile and sent[:, STOCKPILE].sum() > TOL:
        violations.append("material sent to the stockpile, which is switched off")
    if (sent[parcels.bin < 0, STOCKPILE].sum() > TOL):
        violations.append("a parcel without a stockpile bin was stockpiled")

    rows = []
    inventory = np.zeros(n_g)
    value_parcel = parcels.value
    for t in range(T):
        s_t = sent[:, :, t]                                     # (parcel, dest) shares
        tonnes = s_t * ton[:, None]
        into = np.bincount(parcels.bin[parcels.bin >= 0], weights=tonnes[parcels.bin >= 0, STOCKPILE],
                           minlength=n_g) if n_g else np.zeros(0)
        lost = settings.stockpile_loss * inventory
        available = inventory - lost + into
        r_t = reclaim[:, t] if n_g else np.zeros(0)
        short = r_t - available
        if short.max(initial=0) > TOL * max(1.0, available.max(initial=0)):
            g = int(np.argmax(short))
            violations.append(f"period {t}: reclaims {r_t[g]:.6g} t from bin {g} holding {available[g]:.6g} t")
        inventory = np.maximum(available - r_t, 0.0)
        cash = float((s_t * value_parcel).sum() + (r_t * bins.reclaim_value).sum())
        co2 = float((s_t * parcels.co2).sum() + (r_t * bins.co2).sum())
        ore = parcels.ore
        row = {
            "period": t,
            "mined_t": float(tonnes.sum()),
            "ore_mined_t": float(tonnes[ore].sum()),
            "mill_direct_t": float(tonnes[:, MILL].sum()),
            "stockpile_in_t": float(tonnes[:, STOCKPILE].sum()),
            "stockpile_out_t": float(r_t.sum()),
            "stockpile_lost_t": float(lost.sum()),
            "stockpile_balance_t": float(inventory.sum()),
            "dump_t": float(tonnes[:, DUMP].sum()),
            "ore_to_dump_t": float(tonnes[ore, DUMP].sum()),
            "ore_recovered_t": float(tonnes[ore, MILL].sum() + tonnes[ore, STOCKPILE].sum()),
            "waste_to_mill_t": float(tonnes[~ore, MILL].sum()),
            "low_grade_milled_t": float(tonnes[parcels.low_grade, MILL].sum() + r_t[bins.low_grade].sum()),
            "mill_hours": float((s_t[:, MILL] * parcels.mill_hours).sum() + (r_t * bins.mill_hours).sum()),
            "metal_fed_t": float((s_t[:, MILL] * parcels.metal).sum() + (r_t * bins.metal).sum()),
            "metal": float((s_t[:, MILL] * parcels.recovered).sum() + (r_t * bins.recovered).sum()),
            "metal_stockpile_lost_t": float((lost * bins.metal).sum()),
            "cash_flow": cash,
            "discounted_cash_flow": cash * disc[t],
            "co2_t": co2,
        }
        for name, arr in parcels.extras.items():
            row[name] = float((s_t * arr).sum() + (r_t * bins.extras.get(name, 0.0)).sum())
        row["mill_t"] = row["mill_direct_t"] + row["stockpile_out_t"]
        rows.append(row)

        # capacities
        for key, limit, label in (("mined_t", settings.mining_capacity, "mining"),
                                  ("mill_t", settings.mill_capacity, "mill"),
                                  ("mill_hours", settings.mill_hours, "mill hours"),
                                  ("co2_t", math.inf if settings.co2_cap is None else settings.co2_cap, "CO2")):
            cap = float(_limit(limit, T)[t])
            if row[key] > cap + TOL * max(1.0, cap):
                violations.append(f"period {t}: {label} {row[key]:.10g} above its capacity {cap:.10g}")
        if row["stockpile_balance_t"] > settings.stockpile_capacity * (1 + TOL) + TOL:
            violations.append(f"period {t}: stockpile holds {row['stockpile_balance_t']:.10g} t, "
                              f"above its capacity {settings.stockpile_capacity:.10g}")
        if settings.no_ore_to_dump and row["ore_to_dump_t"] > TOL * max(1.0, row["mined_t"]):
            violations.append(f"period {t}: {row['ore_to_dump_t']:.6g} t of ore-grade material dumped")

    periods = pd.DataFrame(rows)
    # the final inventory: processed one period after the last, or lost
    processed = settings.final_stockpile == "process"
    if settings.final_stockpile == "empty" and inventory.sum() > TOL * max(1.0, float(periods["mined_t"].sum())):
        violations.append(f"{inventory.sum():.6g} t left on the stockpile, which must end empty")
    final_cash = float((inventory * bins.reclaim_value).sum()) if processed else 0.0
    final_metal = float((inventory * bins.recovered).sum()) if processed else 0.0
    final_co2 = float((inventory * bins.co2).sum()) if processed else 0.0
    final_low = float(inventory[bins.low_grade].sum()) if processed and n_g else 0.0
    final_fed = float((inventory * bins.metal).sum()) if processed else 0.0
    final_lost_metal = 0.0 if processed else float((inventory * bins.metal).sum())
    npv_by_period = periods["discounted_cash_flow"].cumsum()
    periods["npv_cumulative"] = npv_by_period
    periods["co2_cumulative_t"] = periods["co2_t"].cumsum()
    npv = math.fsum(periods["discounted_cash_flow"].tolist() + [final_cash * disc[T]])

    if settings.recovery_floor is not None:
        ore_rec = np.cumsum(periods["ore_recovered_t"].to_numpy())
        ore_mined = np.cumsum(periods["ore_mined_t"].to_numpy())
        bad = np.flatnonzero(ore_rec < settings.recovery_floor * ore_mined - TOL * np.maximum(1.0, ore_mined))
        if bad.size:
            violations.append(f"by period {bad[0]}: mining recovery {ore_rec[bad[0]] / ore_mined[bad[0]]:.4f} "
                              f"below the floor {settings.recovery_floor}")

    metal = float(periods["metal"].sum()) + final_metal
    metal_fed = float(periods["metal_fed_t"].sum()) + final_fed
    ore_mask = parcels.ore
    ore_metal_parcels = float(parcels.metal[ore_mask].sum())
    deposit = ore_metal_parcels if deposit_ore_metal is None else float(deposit_ore_metal)
    ore_metal_mined = float((sent[ore_mask].sum(axis=2) * parcels.metal[ore_mask, None]).sum())
    ore_metal_kept = float((sent[ore_mask][:, (MILL, STOCKPILE)].sum(axis=(1, 2)) * parcels.metal[ore_mask]).sum())
    moved = float(periods["mined_t"].sum())
    ore_mined = float(periods["ore_mined_t"].sum())
    ore_recovered = float(periods["ore_recovered_t"].sum())
    mill_total = float(periods["mill_t"].sum()) + (float(inventory.sum()) if processed else 0.0)
    co2_total = float(periods["co2_t"].sum()) + final_co2
    ore_metal_dumped = float((sent[ore_mask][:, DUMP].sum(axis=1) * parcels.metal[ore_mask]).sum())
    stockpile_lost = float(periods["metal_stockpile_lost_t"].sum()) + final_lost_metal
    kpis = {
        "npv": npv,
        "metal_recovered": metal,
        "metal_fed": metal_fed,
        "low_grade_tonnes_recovered": float(periods["low_grade_milled_t"].sum()) + final_low,
        "metal_sterilised": max(0.0, deposit - ore_metal_parcels) + ore_metal_dumped + stockpile_lost,
        "metal_outside_pit": max(0.0, deposit - ore_metal_parcels),
        "metal_dumped": ore_metal_dumped,
        "metal_stockpile_lost": stockpile_lost,
        "metal_left_in_pit": max(0.0, ore_metal_parcels - ore_metal_mined),
        "ore_metal_kept": ore_metal_kept,
        "mining_recovery_rate": ore_recovered / ore_mined if ore_mined > 0 else 1.0,
        "processing_recovery_rate": metal / metal_fed if metal_fed > 0 else 0.0,
        "utilisation_rate": metal / deposit if deposit > 0 else 0.0,
        "dilution": float(periods["waste_to_mill_t"].sum()) / mill_total if mill_total > 0 else 0.0,
        "strip_ratio": float(periods["dump_t"].sum() - periods["ore_to_dump_t"].sum())
        / max(ore_mined, 1e-12) if ore_mined > 0 else math.inf,
        "ore_to_dump_tonnes": float(periods["ore_to_dump_t"].sum()),
        "tonnes_moved": moved,
        "mill_tonnes": mill_total,
        "final_stockpile_t": float(inventory.sum()),
        "co2_tonnes": co2_total,
        "co2_per_tonne_moved": co2_total / moved if moved > 0 else 0.0,
        "co2_per_tonne_metal": co2_total / metal if metal > 0 else math.inf,
    }
    for name in parcels.extras:
        kpis[name] = float(periods[name].sum()) + (float((inventory * bins.extras.get(name, 0.0)).sum())
                                                   if processed else 0.0)
    objective = plan.result.objective
    kpis["objective_solver"] = objective
    kpis["objective_simulated"] = npv
    if check_objective and abs(objective - npv) > 1e-6 * max(1.0, abs(npv)):
        violations.append(f"simulated NPV {npv:.10g} differs from the solver's objective {objective:.10g}")
    return Simulation(periods, kpis, violations)
