"""A small, realistic, fake results folder (see docs/results_format.md), built with numpy only.

The deposit is a regular grid with a gently rolling surface (blocks above it are absent), a copper
blob with a rich core and a low-grade halo, a bowl-shaped pit that is closed under 45-degree
slopes (the pit floor rises at most one bench per column step), nested shells, and two made-up
schedules: ``high-grade`` mills only the rich core and dumps the halo, ``green`` stockpiles the
halo and reclaims it at the end.  Nothing here calls the solvers, so report tests do not depend on
them.
"""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from orepit.data.model import BlockModel
from orepit.data.files import write_model
from orepit.planning.strategies import price_of_green

DX, DY, DZ = 10.0, 10.0, 10.0  # block size (m)
DENSITY = 2.7  # t/m3
PRICE = 8800.0  # USD per t Cu
RECOVERY = 0.88
MINE, PROC, REHANDLE = 2.0, 9.0, 1.0  # USD/t
RATE = 0.08  # discount rate per period
STRATEGIES = {"high-grade": 0.45, "green": 0.15}  # strategy -> lowest Cu % it keeps (mill or stockpile)
KPI_KEYS = ("npv", "metal_recovered", "low_grade_tonnes_recovered", "metal_sterilised", "mining_recovery_rate",
            "processing_recovery_rate", "utilisation_rate", "ore_to_dump_tonnes", "co2_tonnes")


def fake_model(nx: int = 16, ny: int = 14, nz: int = 9, *, pit: bool = True) -> BlockModel:
    """The valued block model with pit, shells and two schedules (blocks.parquet content)."""
    ii, jj = np.meshgrid(np.arange(nx), np.arange(ny), indexing="xy")  # (ny, nx)
    top = (nz - 1 - (np.hypot(ii - 0.2 * nx, jj - 0.8 * ny) / max(nx, ny) * 2.2)).round().astype(int)
    top = np.clip(top, nz - 3, nz - 1)  # highest block index k in each column
    cols = []
    for k in range(nz):
        sel = top >= k
        cols.append(np.column_stack([ii[sel], jj[sel], np.full(sel.sum(), k)]))
    ijk = np.concatenate(cols)
    i, j, k = ijk.T
    cx, cy, cz = (nx - 1) / 2, (ny - 1) / 2, nz * 0.45
    r = np.sqrt(((i - cx) / (0.28 * nx)) ** 2 + ((j - cy) / (0.3 * ny)) ** 2 + ((k - cz) / (0.35 * nz)) ** 2)
    cu = 1.3 * np.exp(-1.8 * r ** 2) + 0.25 * np.exp(-0.35 * r ** 2)  # core + broad halo (%)
    tonnage = np.full(len(i), DX * DY * DZ * DENSITY)
    metal = tonnage * cu / 100.0
    depth = (top[j, i] - k).astype(float)
    mining = tonnage * (MINE + 0.05 * depth)
    value_mill = metal * RECOVERY * PRICE - mining - tonnage * PROC
    value_stockpile = value_mill - tonnage * REHANDLE
    value_dump = -mining
    bwi = 12.0 + 6.0 * (k < nz / 3)
    sulphur = np.where(r > 1.2, 3.0 * np.exp(-(r - 1.6) ** 2), 0.5)
    # bowl pit: floor index rises one bench per column of horizontal distance (45 degrees for dx = dz)
    dist = np.floor(np.hypot(i - cx, j - cy)).astype(int)
    floor = 1 + dist
    in_pit = (k >= floor) if pit else np.zeros(len(i), dtype=bool)
    shell = np.full(len(i), -1)
    for s, lift in reversed(list(enumerate((2, 1, 0)))):  # shell 0 is the smallest
        shell[(k >= floor + lift) & in_pit] = s
    env_cost = tonnage * (0.9 + 0.03 * depth + 0.4 * (sulphur > 1.0))  # at the mill; dump 0.3 of it
    frame = pd.DataFrame({"i": i, "j": j, "k": k, "tonnage": tonnage, "cu": cu,
                          "rock": np.where(k < nz / 3, "hard", "soft"), "bwi": bwi, "sulphur": sulphur,
                          "value_mill": value_mill, "value_stockpile": value_stockpile, "value_dump": value_dump,
                          "in_pit": in_pit, "shell": shell})
    # schedule: mine shell by shell, top down, about 6 periods of equal tonnage
    order = np.lexsort((-k, shell))
    order = order[in_pit[order]]
    n_periods = 6
    period = np.full(len(i), -1)
    period[order] = (np.arange(len(order)) * n_periods) // max(len(order), 1)
    for name, keep in STRATEGIES.items():
        dest = np.full(len(i), "", dtype=object)
        mined = period >= 0
        dest[mined] = "dump"
        if name == "high-grade":
            dest[mined & (cu >= keep)] = "mill"
        else:
            dest[mined & (cu >= 0.45)] = "mill"
            dest[mined & (cu >= keep) & (cu < 0.45)] = "stockpile"
        frame["period_" + name.replace("-", "_")] = period
        frame["destination_" + name.replace("-", "_")] = dest
        share = np.select([dest == "mill", dest == "stockpile", dest == "dump"], [1.0, 1.05, 0.3], np.nan)
        frame["env_cost_" + name.replace("-", "_")] = env_cost * share
    return BlockModel(frame, block_size=(DX, DY, DZ), origin=(0.0, 0.0, 0.0), grades=("cu",), name="fake-bowl")


def _periods(model: BlockModel, name: str) -> pd.DataFrame:
    """Period table of one strategy: the stockpile is reclaimed in the last period (periods.csv rows)."""
    key = name.replace("-", "_")
    period, dest = model["period_" + key], model["destination_" + key]
    t, metal_t = model["tonnage"], model["tonnage"] * model["cu"] / 100
    n = int(period.max()) + 1
    stock_all = dest == "stockpile"
    rows, balance, npv = [], 0.0, 0.0
    for p in range(n):
        m = period == p
        mill, stock, dump = m & (dest == "mill"), m & stock_all, m & (dest == "dump")
        last = p == n - 1
        out_t = float(t[stock_all].sum()) if last else 0.0  # reclaimed to the mill
        out_metal = float(metal_t[stock_all].sum()) * RECOVERY if last else 0.0
        balance += float(t[stock].sum()) - out_t
        metal = float(metal_t[mill].sum()) * RECOVERY + out_metal
        cash = (float(model["value_mill"][mill].sum() + model["value_dump"][dump | stock].sum())
                + out_metal * PRICE - out_t * (PROC + REHANDLE))
        if name != "high-grade":
            cash -= float(model["env_cost_green"][m].sum())  # only the green plan prices the environment
        npv += cash / (1 + RATE) ** p
        ore = m & (model["value_mill"] > model["value_dump"])
        rows.append({"strategy": name, "period": p, "mined_t": float(t[m].sum()), "ore_mined_t": float(t[ore].sum()),
                     "mill_t": float(t[mill].sum()) + out_t, "stockpile_in_t": float(t[stock].sum()),
                     "stockpile_out_t": out_t, "dump_t": float(t[dump].sum()), "stockpile_balance_t": balance,
                     "cash_flow": cash, "npv_cumulative": npv,
                     "co2_t": float(t[m].sum()) * 0.003 + (float(t[mill].sum()) + out_t) * 0.02, "metal": metal})
    return pd.DataFrame(rows)


def make_results(folder, *, nx: int = 16, ny: int = 14, nz: int = 9, frontier: bool = True,
                 pit: bool = True) -> Path:
    """Write a complete fake results folder and return its path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model = fake_model(nx, ny, nz, pit=pit)
    write_model(model, folder / "blocks.parquet")
    periods = pd.concat([_periods(model, s) for s in STRATEGIES], ignore_index=True)
    periods.to_csv(folder / "periods.csv", index=False)
    t, cu = model["tonnage"], model["cu"]
    ore = model["value_mill"] > model["value_dump"]
    total_metal = float((t * cu / 100).sum())
    kpis = {}
    for name in STRATEGIES:
        key = name.replace("-", "_")
        dest = model["destination_" + key]
        per = periods[periods.strategy == name]
        kept = (dest == "mill") | (dest == "stockpile")
        mined_ore = ore & (dest != "")
        kpis[name] = {
            "npv": float(per.npv_cumulative.iloc[-1]),
            "npv_after_environment": 0.9 * float(per.npv_cumulative.iloc[-1]),
            "objective": (0.9 if name == "green" else 1.0) * float(per.npv_cumulative.iloc[-1]),
            "metal_recovered": float(per.metal.sum()),
            "low_grade_tonnes_recovered": float(t[(dest == "stockpile")].sum()),
            "metal_sterilised": float((t * cu / 100)[(dest == "") | (ore & (dest == "dump"))].sum()),
            "mining_recovery_rate": float(t[mined_ore & kept].sum() / max(t[mined_ore].sum(), 1.0)),
            "processing_recovery_rate": RECOVERY,
            "utilisation_rate": float(per.metal.sum() / total_metal),
            "ore_to_dump_tonnes": float(t[ore & (dest == "dump")].sum()),
            "co2_tonnes": float(per.co2_t.sum()),
        }
    price_of_green({name: SimpleNamespace(kpis=k) for name, k in kpis.items()})    # green against high-grade
    kpi_frame = pd.DataFrame([{"strategy": s, **v} for s, v in kpis.items()])
    kpi_frame.to_csv(folder / "kpis.csv", index=False)
    # pit-by-pit table
    shells = []
    for s in range(int(model["shell"].max()) + 1):
        inside = (model["shell"] >= 0) & (model["shell"] <= s)
        ore_t = float(t[inside & ore].sum())
        waste_t = float(t[inside & ~ore].sum())
        value = float(np.maximum(model["value_mill"], model["value_dump"])[inside].sum())
        shells.append({"shell": s, "revenue_factor": 0.6 + 0.2 * s, "ore_t": ore_t, "waste_t": waste_t,
                       "strip_ratio": waste_t / max(ore_t, 1.0), "value": value, "best_case": value * 0.82,
                       "worst_case": value * (0.74 - 0.03 * s)})
    pd.DataFrame(shells).to_csv(folder / "shells.csv", index=False)
    cutoffs = np.round(np.arange(0.0, 1.6, 0.05), 2)
    gt = []
    for c in cutoffs:
        m = cu >= c
        tonnes = float(t[m].sum())
        metal = float((t * cu / 100)[m].sum())
        gt.append({"cutoff": c, "tonnes": tonnes, "mean_grade": 100 * metal / tonnes if tonnes else 0.0,
                   "metal": metal})
    pd.DataFrame(gt).to_csv(folder / "gradetonnage.csv", index=False)
    if frontier:
        lo, hi = kpis["high-grade"], kpis["green"]
        w = np.linspace(0.0, 1.0, 9)
        objective = hi["objective"] * (1 - 0.08 * w ** 2)
        pd.DataFrame({"utilisation_floor": 0.8 + 0.02 * np.arange(9), "objective": objective,
                      "npv": objective / 0.9, "npv_after_environment": objective,
                      "metal_recovered": lo["metal_recovered"] + (hi["metal_recovered"] - lo["metal_recovered"]) * w,
                      "co2_t": lo["co2_tonnes"] + (hi["co2_tonnes"] - lo["co2_tonnes"]) * w,
                      "green": np.arange(9) == 0, "dominated": np.zeros(9, bool)}
                     ).to_csv(folder / "frontier.csv", index=False)
    summary = {"deposit": {"name": model.name, "n_blocks": model.n_blocks, "block_size": [DX, DY, DZ]},
               "pit": {"objective": float(np.maximum(model["value_mill"], model["value_dump"])[model["in_pit"]].sum()),
                       "blocks": int(model["in_pit"].sum()), "seconds": 0.01},
               "strategies": kpis,
               "timings": {"deposit": 0.1, "values": 0.05, "pit": 0.01, "schedule high-grade": 1.2,
                           "schedule green": 2.3}}
    (folder / "summary.json").write_text(json.dumps(summary, indent=2))
    return folder
