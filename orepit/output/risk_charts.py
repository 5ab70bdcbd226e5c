"""Charts and the table of a risk study (`orepit.study.risk`; matplotlib Agg, PNG, written atomically).

risk_cdf.png        cumulative distributions over the realisations of economic NPV, metal recovered
                    and CO2, one line per strategy, P10/P50/P90 marked (`sweep_charts.distributions`)
risk_mill_feed.png  per strategy: mill feed per period, P10-P90 band and P50 over the realisations,
                    and the plan's own feed on the estimate
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from solvers.errors import InputError

from orepit.output.charts import figure, save
from orepit.output.sweep_charts import COLOURS, distributions
from orepit.study.risk import KPIS, PERIODS, TABLE

#: KPI -> (label, scale) in the risk table of the report
LABELS = {"npv": ("economic NPV (M {cur})", 1e-6), "npv_after_environment": ("NPV after environmental cost (M {cur})", 1e-6),
          "metal_recovered": ("metal recovered (kt)", 1e-3), "ore_to_dump_tonnes": ("ore-grade rock to the dump (Mt)", 1e-6),
          "co2_tonnes": ("CO2 (Mt)", 1e-6)}


def mill_feed_bands(periods: pd.DataFrame, path) -> str:
    """Mill feed (Mt) per period, one panel per strategy: P10-P90 band, P50 line, the plan's feed dashed."""
    names = list(dict.fromkeys(periods["strategy"]))
    fig, axes = figure((400 * max(1, len(names)) + 100, 420), ncols=max(1, len(names)), sharey=True)
    for i, (ax, name) in enumerate(zip(axes, names)):
        rows = periods[periods["strategy"] == name]
        feed = rows.pivot_table(index="period", columns="realisation", values="mill_t").to_numpy(float) / 1e6
        t = np.arange(feed.shape[0])
        p10, p50, p90 = np.nanpercentile(feed, (10, 50, 90), axis=1)
        colour = COLOURS.get(name, f"C{i + 3}")
        ax.fill_between(t, p10, p90, color=colour, alpha=0.25, step="mid", label="P10-P90")
        ax.step(t, p50, where="mid", color=colour, label="P50")
        target = rows.groupby("period")["mill_target_t"].first().to_numpy(float) / 1e6
        ax.step(np.arange(target.size), target, where="mid", color="0.2", ls="--", lw=1, label="plan (estimate)")
        ax.set_title(name)
        ax.set_xlabel("period")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("mill feed (Mt)")
    axes[0].legend()
    fig.suptitle("Mill feed per period over the grade realisations")
    return save(fig, Path(path))


RISK_CHARTS = ("risk_cdf", "risk_mill_feed")  # the keys write_risk_charts returns


def write_risk_charts(folder, currency: str = "") -> dict[str, str]:
    """Both charts from ``folder``'s risk tables: {"risk_cdf": path, "risk_mill_feed": path}."""
    folder = Path(folder)
    missing = [name for name in (TABLE, PERIODS) if not (folder / name).is_file()]
    if missing:
        raise InputError(f"risk tables missing: {', '.join(missing)} (orepit risk writes them with risk.json)",
                         path=folder, field=missing[0])
    table, periods = pd.read_parquet(folder / TABLE), pd.read_parquet(folder / PERIODS)
    cdf = distributions(table.assign(npv_economic=table["npv"]), folder / "risk_cdf.png", currency, "realisations")
    return {"risk_cdf": cdf, "risk_mill_feed": mill_feed_bands(periods, folder / "risk_mill_feed.png")}


#: the risk table's row and column of the chance of meeting the plan's mill target
TARGET_ROW, LEAST = "chance of meeting the plan's mill target (% of realisations)", "least over the periods it mills"


def risk_table(risk: dict, currency: str = "") -> pd.DataFrame:
    """From risk.json: one row per strategy and KPI with the plan's figure, P10, P50, P90 and the mean
    over the realisations, and one row per strategy with, in a column of its own (`LEAST`), the least
    chance over the periods the plan mills of meeting that period's mill target."""
    rows = []
    for name, s in (risk.get("strategies") or {}).items():
        for key in KPIS:
            label, scale = LABELS[key]
            rows.append({"strategy": name, "KPI": label.format(cur=currency).replace(" )", ")"),
                         "plan (estimate)": s.get(f"{key}_planned", np.nan) * scale,
                         **{p.upper(): s[f"{key}_{p}"] * scale for p in ("p10", "p50", "p90")},
                         "mean": s[f"{key}_mean"] * scale})
        chance = np.array(s.get("mill_target_probability") or [np.nan], dtype=float)    # null: no target
        least = 100.0 * np.nanmin(chance) if np.isfinite(chance).any() else np.nan
        rows.append({"strategy": name, "KPI": TARGET_ROW, "plan (estimate)": 100.0, LEAST: least})
    return pd.DataFrame(rows)


def risk_footing(risk: dict) -> str:
    """What the risk figures stand on, from risk.json's ``settings`` (and ``stochastic``): the
    realisations, the variogram, CVs and seed, that every figure is out of sample, and what grade
    control is assumed to know."""
    s = risk["settings"]
    first, last = s["realisations_judged"]
    cv = ", ".join(f"{column} {value:g}" for column, value in s["cv"].items())
    built = (risk.get("stochastic") or {}).get("realisations_built")
    return (f"Realisations {first} to {last} of the grades: seed {s['seed']}, {s['model']} variogram with ranges "
            f"{' x '.join(f'{r:g}' for r in s['range_m'])} m, nugget {s['nugget']:g}, correlation "
            f"{s['correlation']:g}, CV {cv}. Every figure is out of sample: no plan was built on these realisations"
            + (f" (the stochastic plan was built on realisations {built[0]} to {built[1]})" if built else "")
            + f". Grade control is assumed {s['grade_control']}.")
