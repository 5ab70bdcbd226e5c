"""Charts of a sweep for the report (matplotlib Agg, PNG, written atomically).

npv_vs_metal.png   economic NPV (M currency) against metal recovered (kt), one colour per strategy
distributions.png  cumulative distributions of NPV, metal and CO2 over the cases, P10/P50/P90 marked
green_tradeoff.png per paired case: metal gained (kt) against NPV cost (%) of green over its baseline
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from orepit.output.charts import figure, save
from orepit.study.sweep_summary import feasible, load_results, pairs

COLOURS = {"high-grade": "#d62728", "npv": "#1f77b4", "green": "#2ca02c"}
PANELS = (("npv_economic", "economic NPV (M {cur})", 1e6), ("metal_recovered", "metal recovered (kt)", 1e3),
          ("co2_tonnes", "CO2 (Mt)", 1e6))


def _colour(name: str, i: int) -> str:
    return COLOURS.get(name, f"C{i + 3}")


def npv_vs_metal(table: pd.DataFrame, path, currency: str = "") -> str:
    """Scatter of economic NPV against metal recovered, one point per case, coloured by strategy."""
    fig, (ax,) = figure((800, 550))
    for i, (name, part) in enumerate(table.groupby("strategy", sort=False)):
        ax.scatter(part["metal_recovered"] / 1e3, part["npv_economic"] / 1e6, s=28, alpha=0.8,
                   color=_colour(name, i), label=f"{name} ({len(part)})")
    ax.set_xlabel("metal recovered (kt)")
    ax.set_ylabel(f"economic NPV (M {currency})".replace(" )", ")"))
    ax.set_title("NPV against metal recovered, per case")
    ax.grid(alpha=0.3)
    ax.legend()
    return save(fig, Path(path))


def distributions(table: pd.DataFrame, path, currency: str = "", over: str = "cases") -> str:
    """Empirical cumulative distributions of NPV, metal and CO2 per strategy, P10/P50/P90 marked;
    ``over``: what the table's rows are (cases of a sweep, realisations of a risk study)."""
    fig, axes = figure((1200, 420), ncols=len(PANELS))
    for ax, (col, label, scale) in zip(axes, PANELS):
        for i, (name, part) in enumerate(table.groupby("strategy", sort=False)):
            v = np.sort(part[col].to_numpy(dtype=float)) / scale
            if not v.size:
                continue
            ax.step(v, np.arange(1, v.size + 1) / v.size, where="post", color=_colour(name, i), label=name)
            ax.plot(np.percentile(v, (10, 50, 90)), (0.1, 0.5, 0.9), "o", color=_colour(name, i), ms=4)
        ax.set_xlabel(label.format(cur=currency).replace(" )", ")"))
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f"share of {over} at or below")
    axes[0].legend()
    fig.suptitle(f"Distributions over the {over} (dots: P10, P50, P90)")
    return save(fig, Path(path))


def green_tradeoff(paired: pd.DataFrame, path, npv_cost_pct: float, baseline: str) -> str:
    """Metal gained against NPV cost of green over its baseline, the accepted region shaded."""
    fig, (ax,) = figure((800, 550))
    x = paired["npv_cost_pct"].to_numpy(dtype=float)
    y = paired["metal_gain"].to_numpy(dtype=float) / 1e3
    ok = np.isfinite(x) & np.isfinite(y)
    x_lo, x_hi = (float(x[ok].min()), float(x[ok].max())) if ok.any() else (0.0, npv_cost_pct)
    y_lo, y_hi = (float(y[ok].min()), float(y[ok].max())) if ok.any() else (-1.0, 1.0)
    x_lo, x_hi = min(x_lo, 0.0, npv_cost_pct), max(x_hi, npv_cost_pct)
    y_lo, y_hi = min(y_lo, 0.0), max(y_hi, 0.0)
    pad_x, pad_y = 0.08 * max(x_hi - x_lo, 1.0), 0.08 * max(y_hi - y_lo, 1.0)
    ax.set_xlim(x_lo - pad_x, x_hi + pad_x)
    ax.set_ylim(y_lo - pad_y, y_hi + pad_y)
    ax.fill_between([x_lo - pad_x, npv_cost_pct], 0.0, y_hi + pad_y, color="#2ca02c", alpha=0.08,
                    label=f"more metal, NPV cost < {npv_cost_pct:g} %")
    ax.axvline(npv_cost_pct, color="#2ca02c", lw=1, ls="--")
    ax.axhline(0.0, color="0.4", lw=0.8)
    ax.scatter(x, y, s=30, color=COLOURS["green"], zorder=3)
    ax.set_xlabel(f"NPV cost against {baseline} (%)")
    ax.set_ylabel(f"metal gained against {baseline} (kt)")
    ax.set_title(f"green against {baseline}, per case")
    ax.grid(alpha=0.3)
    ax.legend()
    return save(fig, Path(path))


def write_charts(table: pd.DataFrame, folder, baseline: str, npv_cost_pct: float, currency: str = "") -> list[str]:
    """Every chart of a sweep into ``folder`` (money in millions of ``currency``); returns the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [npv_vs_metal(table, folder / "npv_vs_metal.png", currency),
             distributions(table, folder / "distributions.png", currency)]
    names = set(table["strategy"])
    if "green" in names and baseline in names and baseline != "green":
        paths.append(green_tradeoff(pairs(table, "green", baseline), folder / "green_tradeoff.png",
                                    npv_cost_pct, baseline))
    return paths


def write_sweep_charts(out_dir, summary: pd.DataFrame) -> list[str]:
    """The charts of a summarised sweep (`orepit.study.sweep_summary.summarise`) in ``OUT/charts``."""
    out = Path(out_dir)
    return write_charts(feasible(load_results(out)), out / "charts", summary.attrs["baseline"],
                        summary.attrs["npv_cost_pct"], summary.attrs.get("currency", ""))
