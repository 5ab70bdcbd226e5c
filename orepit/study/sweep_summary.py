"""Summary of a sweep's results folder: distributions per strategy, green against its baseline, charts.

`summarise(out_dir)` reads ``OUT/cases/*.parquet`` (only the cases listed in ``OUT/cases.csv``, when
present, so stale files from an edited study are left out) and writes ``summary.csv``,
``summary.md`` and ``charts/*.png``.

Percentiles: P10 is the 10th percentile over the cases (90 % of cases reach at least that value),
P50 the median, P90 the 90th percentile.  NPV is the economic NPV (``npv_economic``, currency; the
same plan priced without environmental cost, so strategies compare on one footing); metal recovered
in t; CO2 in t over the life of mine.

Green against its baseline (``npv``, else ``high-grade``): cases are paired on everything but the
strategy (grid values and realisation).  NPV cost (%) = 100 (NPV_base - NPV_green) / |NPV_base|;
``p_more_metal_within_cost`` is the share of pairs where green recovers more metal at an NPV cost
under ``npv_cost_pct`` (written beside it as ``npv_cost_threshold_pct``).  summary.md sets the median
NPV cost against the plans' optimality gaps (within them it is solver slack) and states its footing:
plans re-optimised per case, grid points and realisations weighed alike, currency, discount rate.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from solvers.errors import InputError

from orepit.data.atomic import atomic_path, write_text
from orepit.study.sweep_study import GRID_SECTIONS, NPV_COST_PCT, npv_cost_threshold

METRICS = {"npv": "npv_economic", "npv_after_env": "npv_after_environment", "metal": "metal_recovered",
           "co2": "co2_tonnes"}
PERCENTILES = (10, 50, 90)
NOT_LABELS = {"case_id", "strategy", "status", "error", "feasible", "seconds", "worker"}


def load_results(out_dir) -> pd.DataFrame:
    """One row per case and strategy, from ``OUT/cases`` (the current study's cases only)."""
    out = Path(out_dir)
    files = sorted(p for p in (out / "cases").glob("*.parquet") if not p.name.startswith("."))
    manifest = out / "cases.csv"
    if manifest.exists():
        wanted = set(pd.read_csv(manifest, dtype={"case_id": str})["case_id"])
        files = [p for p in files if p.stem in wanted]
    if not files:
        raise InputError(f"no case results in {out / 'cases'} (run 'orepit sweep' first)", path=out)
    return pd.concat([pd.read_parquet(p) for p in files], ignore_index=True)


def feasible(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of cases that found a plan (infeasible cases are left out of the statistics)."""
    return table[table["status"] != "infeasible"] if "status" in table else table


def label_columns(table: pd.DataFrame) -> list[str]:
    """Columns naming a case apart from its strategy: realisation, seed, grid keys (dotted)."""
    return [c for c in table.columns if c in ("realisation", "seed") or c.split(".")[0] in GRID_SECTIONS]


def pairs(table: pd.DataFrame, strategy: str, baseline: str) -> pd.DataFrame:
    """Per parameter set and realisation: the strategy's and the baseline's metrics side by side.

    Cases pair on the baseline's labels: a grid over green's switches leaves them out of npv's cases
    (`SweepStudy.cases`), so each green case pairs with the one npv case it was measured against."""
    keys = label_columns(table)
    a = table.loc[table["strategy"] == strategy, keys + list(METRICS.values())]
    b = table.loc[table["strategy"] == baseline]
    keys = [k for k in keys if b.empty or b[k].notna().any()]
    joined = a.merge(b[keys + list(METRICS.values())], on=keys, suffixes=("", "_base"))
    base = joined["npv_economic_base"]
    joined["npv_cost_pct"] = 100.0 * (base - joined["npv_economic"]) / base.abs().where(base.abs() > 0)
    joined["metal_gain"] = joined["metal_recovered"] - joined["metal_recovered_base"]
    return joined


def summarise(out_dir, npv_cost_pct: float | None = None, baseline: str | None = None) -> pd.DataFrame:
    """Per strategy: cases, P10/P50/P90 of NPV, NPV after environment, metal and CO2, and the range of
    the plans' optimality gaps (%); for each other strategy against the baseline: P(more metal),
    P(more metal at NPV cost < ``npv_cost_pct`` %, written as ``npv_cost_threshold_pct``) and the
    median NPV cost.  Writes summary.csv and summary.md in ``out_dir`` (the charts:
    `orepit.output.sweep_charts.write_sweep_charts`).

    ``npv_cost_pct`` and ``baseline`` default to the study's (``OUT/study.json``), else
    `orepit.study.sweep_study.NPV_COST_PCT` and npv.
    """
    out = Path(out_dir)
    study = {}
    if (out / "study.json").exists():
        study = json.loads((out / "study.json").read_text(encoding="utf-8"))
    npv_cost_pct = npv_cost_threshold(study.get("npv_cost_pct", NPV_COST_PCT) if npv_cost_pct is None
                                      else npv_cost_pct, key=("npv_cost_pct",))
    table = load_results(out)
    ok = feasible(table)
    names = [s for s in ("high-grade", "npv", "green") if s in set(table["strategy"])]
    names += sorted(set(table["strategy"]) - set(names))
    baseline = baseline or study.get("baseline") or ("npv" if "npv" in names else "high-grade")
    rows = []
    for name in names:
        mine = ok[ok["strategy"] == name]
        row = {"strategy": name, "cases": int((table["strategy"] == name).sum()),
               "infeasible": int((table["strategy"] == name).sum() - len(mine))}
        for short, col in METRICS.items():
            values = mine[col].to_numpy(dtype=float) if col in mine else np.array([])
            for q in PERCENTILES:
                row[f"{short}_p{q}"] = float(np.percentile(values, q)) if values.size else np.nan
        gaps = 100.0 * mine["gap"].to_numpy(dtype=float) if "gap" in mine else np.array([])
        gaps = gaps[np.isfinite(gaps)]
        row["gap_min_pct"], row["gap_max_pct"] = (gaps.min(), gaps.max()) if gaps.size else (np.nan, np.nan)
        if name != baseline and baseline in names:
            p = pairs(ok, name, baseline)
            n = len(p)
            more = p["metal_gain"] > 0
            row["baseline"] = baseline
            row["pairs"] = n
            row["p_more_metal"] = float(more.mean()) if n else np.nan
            row["npv_cost_threshold_pct"] = npv_cost_pct
            row["p_more_metal_within_cost"] = float((more & (p["npv_cost_pct"] < npv_cost_pct)).mean()) if n else np.nan
            row["npv_cost_pct_p50"] = float(p["npv_cost_pct"].median()) if n else np.nan
        rows.append(row)
    summary = pd.DataFrame(rows)
    summary.attrs.update(npv_cost_pct=npv_cost_pct, baseline=baseline, grid=study.get("grid", {}),
                         realisations=study.get("realisations"),
                         currency=", ".join(map(str, used(table, study, "economics.currency"))),
                         discount_rates=used(table, study, "plan.discount_rate"))
    with atomic_path(out / "summary.csv") as tmp:
        summary.to_csv(tmp, index=False)
    write_text(out / "summary.md", markdown(summary, study.get("name", out.name)))
    return summary


def used(table: pd.DataFrame, study: dict, key: str) -> list:
    """The values of a dotted study key the cases used: its grid label, else the study's value."""
    if key in table:
        return sorted(set(table[key].dropna()))
    node = study
    for part in key.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return [] if node is None else [node]


def _money(v: float) -> str:
    return "-" if not np.isfinite(v) else f"{v / 1e6:,.1f}"


def _tonnes(v: float, scale: float = 1e3) -> str:
    return "-" if not np.isfinite(v) else f"{v / scale:,.1f}"


def _gaps(r) -> str:
    low, high = r["gap_min_pct"], r["gap_max_pct"]
    return "-" if not np.isfinite(high) else f"{low:.1f}-{high:.1f}" if high - low >= 0.05 else f"{high:.1f}"


def _slack(r, base) -> str:
    """The median NPV cost of ``r`` against the optimality gaps of its plans and the baseline's."""
    slack = np.nanmax([r["gap_max_pct"], base["gap_max_pct"]])
    if not np.isfinite(slack):
        return ""
    gaps = f"{r['strategy']} {_gaps(r)} %, {base.name} {_gaps(base)} %"
    if abs(r["npv_cost_pct_p50"]) <= slack:
        return f", within the plans' optimality gaps ({gaps}), i.e. solver slack: these plans cannot tell it from zero"
    return f", beyond the plans' optimality gaps ({gaps})"


def markdown(summary: pd.DataFrame, name: str = "") -> str:
    """The summary as Markdown: a percentile table, what the cases stand for (its ``attrs``: currency,
    discount rates, grid, realisations) and each strategy against the baseline."""
    a = summary.attrs
    baseline, threshold = a["baseline"], a["npv_cost_pct"]
    lines = [f"# Sweep summary{': ' + name if name else ''}", "",
             "P10 / P50 / P90 over the cases (10th, 50th, 90th percentile); gap: the range of the plans' "
             "optimality gaps.", "",
             "| strategy | cases | NPV P10 | NPV P50 | NPV P90 | metal P10 | metal P50 | metal P90 "
             "| CO2 P10 | CO2 P50 | CO2 P90 | gap % |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for _, r in summary.iterrows():
        lines.append(f"| {r['strategy']} | {r['cases']} | " + " | ".join(
            [_money(r[f"npv_p{q}"]) for q in PERCENTILES] + [_tonnes(r[f"metal_p{q}"]) for q in PERCENTILES]
            + [_tonnes(r[f"co2_p{q}"], 1e6) for q in PERCENTILES] + [_gaps(r)]) + " |")
    rates = ", ".join(f"{100 * v:g} %" for v in a.get("discount_rates", [])) or "the plans' rate"
    grid = "; ".join(f"{k}: {len(v)} values" for k, v in a.get("grid", {}).items()) or "no grid"
    lines += ["", f"NPV: economic NPV in millions of {a.get('currency') or 'the study currency'}, discounted at "
              f"{rates} per period; metal recovered in kt; CO2 in Mt.", "",
              "Each case's plan is optimised on its own parameters and grade realisation: the spread is that of "
              "plans re-optimised for each case, not the spread of one fixed plan's outcomes (`orepit risk` "
              f"replays fixed plans). The percentiles pool the grid points ({grid}) with the "
              f"{a.get('realisations') or 'study'} grade realisations, and \"% of cases\" counts every grid "
              "point and realisation as equally likely.", ""]
    if "p_more_metal" in summary:
        base = summary.set_index("strategy").loc[baseline]
        for _, r in summary[summary["p_more_metal"].notna()].iterrows():
            lines.append(f"- **{r['strategy']}** against **{baseline}** ({int(r['pairs'])} paired cases): "
                         f"recovers more metal in {100 * r['p_more_metal']:.0f} % of cases; more metal at an NPV "
                         f"cost under {threshold:g} % (npv_cost_pct) in {100 * r['p_more_metal_within_cost']:.0f} % "
                         f"(median NPV cost {r['npv_cost_pct_p50']:.2f} %{_slack(r, base)}).")
    infeasible = summary[summary["infeasible"] > 0]
    for _, r in infeasible.iterrows():
        lines.append(f"- {r['strategy']}: {int(r['infeasible'])} infeasible case(s) left out of the percentiles.")
    return "\n".join(lines) + "\n"
