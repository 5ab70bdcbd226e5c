"""Planning charts with matplotlib (Agg canvas, no display, no pyplot state).

Each function takes tables in the results-folder format (docs/results_format.md), writes one PNG of
``size`` pixels atomically and returns its path.  Tonnes are shown in Mt or kt, money in millions of the deposit's currency (MUSD by default).
"""
from __future__ import annotations

import os

import numpy as np
import pandas as pd

from solvers.errors import InputError

from orepit.data.atomic import atomic_path
from orepit.output.numbers import cell, decimals

SIZE = (900, 500)  # default image size (width, height) in pixels
DPI = 100
DEST_COLOURS = {"mill": "#d62728", "stockpile": "#ff9f1c", "dump": "#9a9a9a"}
STRATEGY_COLOURS = {"high-grade": "#d62728", "npv": "#1f77b4", "green": "#2ca02c"}


def _need(frame: pd.DataFrame, what: str, *columns: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{what} has no column(s) {', '.join(missing)}", field=missing[0])


def figure(size, ncols: int = 1, nrows: int = 1, **kw):
    """(figure, axes) of ``ncols`` panels side by side, ``size`` (width, height) in pixels, on an Agg
    canvas (matplotlib is imported here, on first use, and nowhere else); with ``nrows`` > 1 the axes
    are rows of panels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size[0] / DPI, size[1] / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes[0] if nrows == 1 else axes


def period_axis(ax) -> None:
    """Periods on the x axis: integer ticks only."""
    from matplotlib.ticker import MaxNLocator

    ax.set_xlabel("period")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def axis_labels(fig) -> str:
    """Every axis title of ``fig``, ``x: ...; y: ...`` panel by panel (what the PNG's ``axes`` text says)."""
    labels = [f"{axis}: {text}" for ax in fig.axes for axis, text in (("x", ax.get_xlabel()), ("y", ax.get_ylabel()))
              if text]
    return "; ".join(dict.fromkeys(labels))


def save(fig, path) -> str:
    """Write ``fig`` as PNG, atomically, its axis titles in the text metadata (key ``axes``); returns the path."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI, metadata={"axes": axis_labels(fig)})
    return os.fspath(path)


def _thousands(axis) -> None:
    """Tick labels as plain numbers with thousands separators (no 1e6 offset)."""
    axis.set_major_formatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 100 else f"{v:g}")


def _colour(name: str, index: int) -> str:
    return STRATEGY_COLOURS.get(name, f"C{index % 10}")


def grade_tonnage_chart(gt: pd.DataFrame, path, *, grade_unit: str = "% Cu", size=SIZE) -> str:
    """Tonnes above cut-off (Mt, left axis) and their mean grade (right axis) against cut-off."""
    _need(gt, "grade-tonnage table", "cutoff", "tonnes", "mean_grade")
    fig, (ax,) = figure(size)
    ax.plot(gt["cutoff"], gt["tonnes"] / 1e6, color="#1f77b4", lw=2, label="tonnes above cut-off")
    ax.set_xlabel(f"cut-off grade ({grade_unit})")
    ax.set_ylabel("tonnes above cut-off (Mt)", color="#1f77b4")
    _thousands(ax.yaxis)
    ax.grid(alpha=0.3)
    ax2 = ax.twinx()
    mean = gt["mean_grade"].where(gt["tonnes"] > 0)  # no grade where nothing is above the cut-off
    ax2.plot(gt["cutoff"], mean, color="#d62728", lw=2, ls="--", label="mean grade")
    ax2.set_ylabel(f"mean grade above cut-off ({grade_unit})", color="#d62728")
    ax.set_title("grade-tonnage curve")
    return save(fig, path)


def pit_by_pit_chart(shells: pd.DataFrame, path, *, currency: str = "USD", size=SIZE) -> str:
    """Pit-by-pit graph: ore and waste tonnes per shell (bars, Mt) and best/worst-case value (millions of
    ``currency``)."""
    _need(shells, "shell table", "shell", "ore_t", "waste_t", "best_case", "worst_case")
    fig, (ax,) = figure(size)
    x = np.arange(len(shells))
    ax.bar(x, shells["ore_t"] / 1e6, color="#d9a441", label="ore")
    ax.bar(x, shells["waste_t"] / 1e6, bottom=shells["ore_t"] / 1e6, color="#b0b0b0", label="waste")
    ax.set_xlabel("pit shell (revenue factor)")
    labels = [f"{s}" + (f"\n({rf:.2f})" if "revenue_factor" in shells else "")
              for s, rf in zip(shells["shell"], shells.get("revenue_factor", shells["shell"]))]
    step = max(1, len(x) // 12)
    ax.set_xticks(x[::step], labels[::step])
    ax.set_ylabel("tonnes in shell (Mt)")
    ax2 = ax.twinx()
    ax2.plot(x, shells["best_case"] / 1e6, "o-", color="#2ca02c", lw=2, label="best case")
    ax2.plot(x, shells["worst_case"] / 1e6, "s-", color="#9467bd", lw=2, label="worst case")
    if "value" in shells:
        ax2.plot(x, shells["value"] / 1e6, ":", color="black", lw=1, label="undiscounted")
    ax2.set_ylabel(f"value (M{currency})")
    _thousands(ax.yaxis)
    _thousands(ax2.yaxis)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper left", fontsize=8)
    ax.set_title("pit-by-pit graph")
    return save(fig, path)


def _strategies(periods: pd.DataFrame) -> list[str]:
    _need(periods, "period table", "strategy", "period")
    return list(dict.fromkeys(periods["strategy"]))


def _stack(ax, x, parts, capacity, label: str) -> None:
    """Stacked bars (t, drawn in Mt) of ``parts`` [(label, tonnes, colour, hatch)] and the capacity line."""
    bottom = np.zeros(len(x))
    for name, values, colour, hatch in parts:
        v = values / 1e6
        ax.bar(x, v, bottom=bottom, color=colour, hatch=hatch, edgecolor=DEST_COLOURS["mill"] if hatch else None,
               label=name)
        bottom += v
    if capacity:
        ax.axhline(float(capacity) / 1e6, color="black", ls="--", lw=1, label=label)
    ax.grid(axis="y", alpha=0.3)
    period_axis(ax)


def tonnes_by_destination_chart(periods: pd.DataFrame, path, *, mining_capacity=None, mill_capacity=None,
                                size=SIZE) -> str:
    """Per strategy (a column of panels): top, the tonnes mined each period (Mt) by destination (mill
    direct, stockpile, dump; they add up to ``mined_t``) against ``mining_capacity``; bottom, the mill
    feed, mined ore milled directly plus stockpile reclaimed (hatched), against ``mill_capacity``."""
    _need(periods, "period table", "mill_t", "stockpile_in_t", "dump_t")
    names = _strategies(periods)
    fig, axes = figure(size, ncols=len(names), nrows=2, sharey="row", sharex="col")
    for top, low, name in zip(axes[0], axes[1], names):
        rows = periods[periods["strategy"] == name].sort_values("period")
        reclaim = rows["stockpile_out_t"].to_numpy(float) if "stockpile_out_t" in rows else np.zeros(len(rows))
        direct = rows["mill_t"].to_numpy(float) - reclaim
        mill = ("mill (direct)", direct, DEST_COLOURS["mill"], None)
        _stack(top, rows["period"], (mill, ("stockpile", rows["stockpile_in_t"].to_numpy(float),
                                            DEST_COLOURS["stockpile"], None),
                                     ("dump", rows["dump_t"].to_numpy(float), DEST_COLOURS["dump"], None)),
               mining_capacity, "mining capacity")
        _stack(low, rows["period"], (mill, ("reclaimed from the stockpile", reclaim, "white", "////")),
               mill_capacity, "mill capacity")
        top.set_title(name)
        top.set_xlabel("")
    axes[0][0].set_ylabel("mined (Mt)")
    axes[1][0].set_ylabel("mill feed (Mt)")
    axes[0][0].legend(fontsize=7)
    axes[1][0].legend(fontsize=7)
    return save(fig, path)


def stockpile_chart(periods: pd.DataFrame, path, *, size=SIZE) -> str:
    """Low-grade stockpile balance at the end of each period (Mt), one line per strategy."""
    _need(periods, "period table", "stockpile_balance_t")
    fig, (ax,) = figure(size)
    for n, name in enumerate(_strategies(periods)):
        rows = periods[periods["strategy"] == name].sort_values("period")
        ax.step(rows["period"], rows["stockpile_balance_t"] / 1e6, where="post", lw=2, color=_colour(name, n),
                label=name)
    period_axis(ax)
    ax.set_ylabel("stockpile balance (Mt)")
    ax.set_title("low-grade stockpile balance (end of period)")
    ax.grid(alpha=0.3)
    ax.legend()
    return save(fig, path)


def npv_co2_chart(periods: pd.DataFrame, path, *, currency: str = "USD", size=SIZE) -> str:
    """Cumulative NPV (millions of ``currency``; solid: economic, dashed: after environmental cost, when the table has
    it) and cumulative CO2 (kt) per strategy, two panels: every strategy on the same two footings."""
    _need(periods, "period table", "npv_cumulative", "co2_t")
    fig, (a1, a2) = figure(size, ncols=2)
    for n, name in enumerate(_strategies(periods)):
        rows = periods[periods["strategy"] == name].sort_values("period")
        c = _colour(name, n)
        a1.plot(rows["period"], rows["npv_cumulative"] / 1e6, "o-", color=c, label=f"{name}, economic")
        if "npv_after_environment_cumulative" in rows:
            a1.plot(rows["period"], rows["npv_after_environment_cumulative"] / 1e6, "--", color=c,
                    label=f"{name}, after environment")
        a2.plot(rows["period"], rows["co2_t"].cumsum() / 1e3, "o-", color=c, label=name)
    _thousands(a1.yaxis)
    _thousands(a2.yaxis)
    a1.set_title("cumulative NPV")
    a1.set_ylabel(f"M{currency}")
    a2.set_title("cumulative CO$_2$")
    a2.set_ylabel("kt CO$_2$")
    for ax in (a1, a2):
        period_axis(ax)
        ax.grid(alpha=0.3)
    a1.legend(fontsize=7)
    return save(fig, path)


def frontier_chart(frontier: pd.DataFrame, path, *, kpis: pd.DataFrame | None = None, metal: str = "",
                   currency: str = "USD", size=SIZE) -> str:
    """Green's objective (NPV after environmental cost, millions of ``currency``) against metal recovered (t of ``metal``,
    the first element) as the final-pit utilisation floor rises; green's own point starred, the
    other strategies marked on the same footing."""
    _need(frontier, "frontier table", "objective", "metal_recovered")
    fig, (ax,) = figure(size)
    f = frontier.sort_values("metal_recovered")
    ax.plot(f["metal_recovered"], f["objective"] / 1e6, "o-", color="#555555", label="utilisation floor raised")
    if "utilisation_floor" in f:
        places = decimals(f["utilisation_floor"])      # one rule for every label: 0.997 is not 1.00
        for row in f.itertuples():
            ax.annotate(cell(row.utilisation_floor, places), (row.metal_recovered, row.objective / 1e6), fontsize=7,
                        textcoords="offset points", xytext=(4, 4))
    if "green" in f and f["green"].any():
        g = f[f["green"].astype(bool)].iloc[0]
        ax.plot(g["metal_recovered"], g["objective"] / 1e6, "*", ms=18, color=_colour("green", 2),
                label="green (its own floor)")
    if kpis is not None and {"strategy", "npv_after_environment", "metal_recovered"} <= set(kpis.columns):
        for n, row in enumerate(kpis.itertuples()):
            if row.strategy != "green":
                ax.plot(row.metal_recovered, row.npv_after_environment / 1e6, "D", ms=8,
                        color=_colour(row.strategy, n), label=row.strategy)
    ax.set_xlabel(f"metal recovered (t {metal})" if metal else "metal recovered (t)")
    ax.set_ylabel(f"NPV after environmental cost (M{currency})")
    _thousands(ax.xaxis)
    _thousands(ax.yaxis)
    ax.set_title("green's objective against metal recovered")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save(fig, path)
