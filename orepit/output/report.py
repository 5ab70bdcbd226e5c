"""One self-contained HTML report from a results folder (format: docs/results_format.md).

`write_report(folder)` renders the 3D views (`orepit.output.viz`) and charts (`orepit.output.charts`) as PNGs
into the folder and writes ``report.html`` beside them, with every image embedded as a base64
data URI, every table as HTML, and a rotatable destination view drawn by a short inline script
(`orepit.output.viz.interactive_html`): no network access, no external CSS or JavaScript.  All files are
written atomically.
"""
from __future__ import annotations

import base64
import html
import json
import math
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from solvers.errors import InputError

from orepit.output import charts, risk_charts
from orepit.output.numbers import format_columns, format_rows
from orepit.output.wording import BOUND_STATUS, PLAN_STATUS, deposit_title, footing, in_words
from orepit.data.schema import describe_column
from orepit.data.atomic import write_text
from orepit.planning.strategies import strategy_key
from orepit.output import viz
from orepit.version import __version__
from orepit.data.files import read_model

BLOCKS = "blocks.parquet"
#: file -> the columns the report needs (the format in docs/results_format.md has more).
REQUIRED = {
    "summary.json": (),
    BLOCKS: ("i", "j", "k", "tonnage"),
    "shells.csv": ("shell", "ore_t", "waste_t", "best_case", "worst_case"),
    "gradetonnage.csv": ("cutoff", "tonnes", "mean_grade"),
    "periods.csv": ("strategy", "period", "mined_t", "ore_mined_t", "mill_t", "stockpile_in_t", "dump_t",
                    "stockpile_balance_t", "cash_flow", "npv_cumulative", "co2_t"),
    "kpis.csv": ("strategy",),
}
OPTIONAL = {"frontier.csv": ("objective", "metal_recovered"), "risk.json": ()}


def _units(table: str) -> dict:
    """{KPI key: (label, unit, scale)} from lines ``key | label | unit | scale``."""
    out = {}
    for line in table.strip().splitlines():
        key, label, unit, scale = (part.strip() for part in line.split("|"))
        out[key] = (label, unit, float(scale))
    return out


#: KPI key -> (label, unit, scale) of the headline table; rates are fractions shown in %; ``M{cur}``:
#: millions of the deposit's currency.
KPI_UNITS = _units("""
npv | NPV (economic) | M{cur} | 1e-06
npv_after_environment | NPV after environmental cost | M{cur} | 1e-06
objective | objective (what the strategy maximised) | M{cur} | 1e-06
metal_recovered | metal recovered | t | 1
metal_sterilised | metal sterilised (outside the pit, dumped, left on the stockpile at the end, left in the pit) | t | 1
low_grade_tonnes_recovered | low-grade ore milled | kt | 0.001
mining_recovery_rate | mining recovery rate | % | 100
utilisation_rate | comprehensive utilisation rate | % | 100
ore_to_dump_tonnes | ore-grade tonnes to dump | kt | 0.001
co2_tonnes | CO2 | kt | 0.001
life_of_mine_periods | life of mine | periods | 1
""")
#: further KPIs shown under "all KPIs" with units (others are shown by name, as they are)
MORE_UNITS = _units("""
npv_economic | NPV (economic) | M{cur} | 1e-06
environmental_cost | environmental cost, discounted | M{cur} | 1e-06
price_of_green | price of green against npv (economic NPV given up) | M{cur} | 1e-06
metal_fed | metal fed to the mill | t | 1
metal_lost_in_processing | metal lost in processing | t | 1
metal_outside_pit | metal outside the final pit | t | 1
metal_dumped | metal dumped | t | 1
metal_left_in_pit | metal left in the pit | t | 1
metal_stockpile_lost | metal left on the stockpile at the end (not processed) | t | 1
deposit_ore_metal | ore-grade metal in the deposit | t | 1
metal_balance_residual | metal balance residual (deposit - recovered - lost - sterilised) | t | 1
processing_recovery_rate | processing recovery rate | % | 100
tonnes_moved | tonnes moved | kt | 0.001
mill_tonnes | tonnes milled | kt | 0.001
final_stockpile_t | final stockpile | kt | 0.001
strip_ratio | strip ratio | t/t | 1
co2_per_tonne_moved | CO2 per tonne moved | kg/t | 1000
co2_per_tonne_metal | CO2 per tonne of metal | t/t | 1
energy_kwh | energy | GWh | 1e-06
water_m3 | water | thousand m3 | 0.001
dump_ha | dump footprint | ha | 1
resource_credit | resource credit of the final pit | USD/t metal | 1
mining_periods | mining periods | periods | 1
utilisation_floor | utilisation floor: least share of the deposit's ore-grade metal in the pit | % | 100
green_budget | NPV budget: share of npv's economic NPV green may give up for metal | % | 100
npv_budget_target | economic NPV green must keep (its budget) | M{cur} | 1e-06
""")
for _key, _base in (("npv", "npv"), ("high_grade", "high-grade")):       # green against each base
    MORE_UNITS.update({
        f"price_of_green_vs_{_key}": (f"economic NPV given up against {_base}", "M{cur}", 1e-6),
        f"price_of_green_after_environment_vs_{_key}": (f"NPV after environmental cost given up against {_base}",
                                                        "M{cur}", 1e-6),
        f"extra_metal_vs_{_key}": (f"metal recovered beyond {_base}", "t", 1.0),
        f"cost_per_t_metal_saved_vs_{_key}": (f"economic NPV given up per extra t of metal, against {_base}",
                                              "USD/t", 1.0)})
REPORT = "report.html"
#: the KPIs as Markdown (`write_kpis_markdown`: by ``orepit compare`` and with the report)
KPIS_MD = "kpis.md"


def _read(folder: Path, name: str, columns, only=None) -> pd.DataFrame | dict:
    path = folder / name
    try:
        if name.endswith(".json"):
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise InputError("expected a JSON object", path=path)
            return data
        if name.endswith(".parquet"):
            return read_model(path, only=only)
        frame = pd.read_csv(path)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - any reader failure is bad input
        raise InputError(f"cannot read: {exc}", path=path) from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)} (see docs/results_format.md)", path=path,
                         field=missing[0])
    return frame


def load_results(folder) -> dict:
    """Read and check every file of a results folder: {file name: DataFrame, dict or BlockModel}; of
    ``blocks.parquet`` the columns the views read (`orepit.output.viz.columns_read`)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("results folder not found", path=folder)
    absent = [name for name in REQUIRED if not (folder / name).is_file()]
    if absent:
        raise InputError(f"results folder lacks {', '.join(absent)} (see docs/results_format.md)",
                         path=folder, field=absent[0])
    data = {name: _read(folder, name, cols) for name, cols in REQUIRED.items() if name != BLOCKS}
    for name, cols in OPTIONAL.items():
        if (folder / name).is_file():
            data[name] = _read(folder, name, cols)
    data[BLOCKS] = _read(folder, BLOCKS, REQUIRED[BLOCKS], only=[*REQUIRED[BLOCKS], *viz.columns_read(strategies_of(data))])
    return data


def missing_views(model, names) -> list[str]:
    """Warnings for the documented blocks.parquet columns that are absent (their views are left out)."""
    wanted = {"in_pit": "pit view"}
    for name in names:
        key = strategy_key(name)
        wanted[f"period_{key}"] = f"{name} period view"
        wanted[f"destination_{key}"] = f"{name} destination view"
        wanted[f"env_cost_{key}"] = f"{name} environmental cost view"
    absent = [f"{col} ({view})" for col, view in wanted.items() if col not in model]
    if not absent:
        return []
    return [f"blocks.parquet has no column {', '.join(absent)}: left out (see docs/results_format.md)"]


def strategies_of(data: dict) -> list[str]:
    """Strategy names in kpis.csv order (then any others found in periods.csv)."""
    names = list(dict.fromkeys(data["kpis.csv"]["strategy"].astype(str)))
    return names + [s for s in dict.fromkeys(data["periods.csv"]["strategy"].astype(str)) if s not in names]


# -- HTML pieces ---------------------------------------------------------------------------------
_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0 auto;max-width:1250px;
padding:0 20px 40px;color:#222;line-height:1.45}
h1{margin-top:24px;border-bottom:3px solid #2ca02c}h2{margin-top:34px;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:10px 0;font-size:14px}
th,td{border:1px solid #ddd;padding:4px 9px;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:10px 18px;align-items:start}
figure{margin:14px 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:13px;color:#555}nav a{margin-right:14px}
.note{background:#fff7e0;border-left:4px solid #ff9f1c;padding:8px 12px}
.key{background:#eef7ee;border-left:4px solid #2ca02c;padding:8px 12px}
.muted{color:#777;font-size:13px}
"""


def _num(value) -> str:
    if isinstance(value, str):
        return html.escape(value)
    try:
        v = float(value)
    except (TypeError, ValueError):
        return html.escape(str(value))
    if v != v:
        return "&ndash;"
    if abs(v) < 1e-6:
        return "0"  # solver round-off (1e-10 t of metal) reads as noise
    if v == int(v) and abs(v) < 1e15:
        return f"{int(v):,}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.1f}" if abs(v) >= 10 else f"{v:.3g}"


def vss_html(risk: dict, currency: str) -> str:
    """The stochastic plan's value (risk.json's ``vss``) in one sentence; nothing when none was built."""
    vss = risk.get("vss")
    if not vss:
        return ""
    plan = risk.get("stochastic") or {}
    built, judged = plan.get("realisations_built", ["?", "?"]), risk["settings"]["realisations"]
    same = " (no blend of its sequence beat green's own plan in sample: it is that plan)" if plan.get("blend") == 0 else ""
    return (f"<p>Stochastic plan: one sequence for realisations {built[0]} to {built[1]}{same}, judged with the others "
            f"on the {judged} realisations above. Value of the stochastic solution against {vss['baseline']} (expected "
            f"economic NPV): {vss['absolute'] / 1e6:,.1f} M {html.escape(currency)} ({vss['percent']:+.2f} %); "
            f"P10 NPV {vss['p10_difference'] / 1e6:+,.1f} M. {html.escape(in_sample_text(plan, currency))}</p>")


def in_sample_text(plan: dict, currency: str) -> str:
    """How far the stochastic plan (risk.json's ``stochastic``) may be from the best sequence on the
    realisations it was built on, in one sentence; nothing without that bound."""
    bound = plan.get("in_sample_bound")
    if bound is None:
        return ""
    if not math.isfinite(bound):
        return f"Its in-sample bound was not computed: {plan.get('in_sample_bound_skipped', 'no reason given')}."
    return (f"On the realisations it was built on, its mean objective (green's: NPV after environmental cost) is "
            f"{plan['in_sample_objective'] / 1e6:,.1f} M {currency}; no sequence of its pit that keeps its capacities "
            f"and rules on every one of them does better than {bound / 1e6:,.1f} M in the mean "
            f"(gap {100 * plan['in_sample_gap']:.2f} %).")


def table_html(frame: pd.DataFrame, max_rows: int = 200) -> str:
    """A DataFrame as a plain HTML table (numbers with thousands separators)."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{_num(v)}</td>" for v in row) + "</tr>"
                   for row in frame.head(max_rows).itertuples(index=False))
    more = f'<p class="muted">{len(frame) - max_rows} more rows in the CSV file.</p>' if len(frame) > max_rows else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


#: schema units that say nothing in a column header
_NO_UNIT = ("-", "index", "period", "bool", "blocks")


def with_units(frame: pd.DataFrame, kind: str, currency: str, grade: str | None = None) -> pd.DataFrame:
    """``frame`` (a table of ``kind``, `orepit.data.schema`) with each header followed by its unit;
    ``grade``: the grade unit (``% Cu``)."""
    names = {}
    for column in frame.columns:
        unit = (describe_column(kind, str(column), currency) or ("",))[0]
        unit = (grade or unit) if unit == "grade" else unit
        names[column] = f"{column} ({unit})" if unit and unit not in _NO_UNIT else str(column)
    return frame.rename(columns=names)


def data_table(frame: pd.DataFrame, kind: str, currency: str, grade: str | None = None) -> str:
    """A results table as HTML: units in the headers, one rounding rule per column."""
    return table_html(with_units(format_columns(frame, "–"), kind, currency, grade))


def _least_decimals(label: str) -> int:
    """Rates in % keep one decimal."""
    return 1 if label.endswith("(%)") else 0


def kpi_cells(table: pd.DataFrame, missing: str = "–") -> pd.DataFrame:
    """A `kpi_report_table` as text: one rounding rule per KPI (row)."""
    return format_rows(table, "KPI", _least_decimals, missing)


def kpis_markdown(kpis: pd.DataFrame, summary: dict) -> str:
    """kpis.md: the footing, then every KPI (rows, label and unit; the headline's first) by strategy, as the
    report shows them."""
    currency, metal, elements = currency_of(summary), metal_name(summary), element_units(summary)
    first = kpi_report_table(kpis, headline_keys(kpis, summary), metal, elements, currency)
    every = kpi_report_table(kpis, None, metal, elements, currency)
    table = kpi_cells(pd.concat([first, every[~every["KPI"].isin(first["KPI"])]], ignore_index=True), "-")
    lines = [f"# KPIs: {deposit_title(summary)}", "", footing(summary, currency), "",
             "| " + " | ".join(table.columns) + " |", "|---|" + "---:|" * (len(table.columns) - 1)]
    lines += ["| " + " | ".join(row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def write_kpis_markdown(folder) -> str:
    """Write ``kpis.md`` (`kpis_markdown`) from a results folder's kpis.csv and summary.json; return its text."""
    folder = Path(folder)
    text = kpis_markdown(_read(folder, "kpis.csv", REQUIRED["kpis.csv"]), _read(folder, "summary.json", ()))
    write_text(folder / KPIS_MD, text)
    return text


def image_html(path, caption: str) -> str:
    """An <img> with the PNG embedded as a data URI, and its caption."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    alt = html.escape(caption, quote=True)
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{alt}">'
            f"<figcaption>{html.escape(caption)} ({html.escape(Path(path).name)})</figcaption></figure>")


def _symbol(element) -> str:
    """An element as a chemist writes it (``cu`` -> ``Cu``); longer names as they are."""
    element = str(element)
    return element.capitalize() if len(element) <= 2 else element


def currency_of(summary: dict) -> str:
    """The deposit's currency, from summary.json (USD, the economics' default, where it is not stated)."""
    return (summary.get("deposit") or {}).get("currency", "USD")


def grade_unit(summary: dict) -> str | None:
    """The first element's grade unit with its symbol (``% Cu``), from summary.json; None when unknown."""
    deposit = summary.get("deposit") or {}
    unit = (deposit.get("grade_units") or {}).get(deposit.get("element"))
    return f"{unit} {metal_name(summary)}" if unit else None


def metal_name(summary: dict) -> str:
    """The element the metal KPIs without a suffix count (the first of the economics), from summary.json."""
    return _symbol((summary.get("deposit") or {}).get("element") or "metal")


#: grade units whose metal is shown in kg (gold, silver: tonnes would read 0.4 t); others in t
KG_GRADES = ("g/t", "ppm")


def element_units(summary: dict) -> dict:
    """element -> (symbol, unit its metal is shown in, factor from t) for every element that earns
    revenue, the first first (summary.json's ``deposit.elements`` and ``grade_units``)."""
    deposit = summary.get("deposit") or {}
    grades = deposit.get("grade_units") or {}
    elements = deposit.get("elements") or [deposit.get("element") or "metal"]
    return {str(e): (_symbol(e), *(("kg", 1000.0) if grades.get(e) in KG_GRADES else ("t", 1.0))) for e in elements}


#: metal KPIs (t) that kpis.csv also holds per element E as ``<key>_E``
METAL_KEYS = ("metal_recovered", "metal_fed", "metal_lost_in_processing", "metal_sterilised", "metal_outside_pit",
              "metal_dumped", "metal_stockpile_lost", "metal_left_in_pit", "deposit_ore_metal", "metal_balance_residual")


def per_element(kpis: pd.DataFrame, summary: dict) -> dict:
    """element -> (symbol, unit, factor) of the elements whose metal KPIs kpis.csv holds (``metal_recovered_E``)."""
    return {e: u for e, u in element_units(summary).items() if f"metal_recovered_{e}" in kpis.columns}


def metal_note(summary: dict, kpis: pd.DataFrame | None = None) -> str:
    """One sentence: which elements the metal KPIs count, in which unit, and what counts the first only."""
    units = element_units(summary)
    counted = per_element(kpis, summary) if kpis is not None else {}
    first = metal_name(summary)
    if len(counted) > 1:
        shown = ", ".join(f"{sym} in {unit}" for sym, unit, _ in counted.values())
        return (f"Metal KPIs are given for every element that earns revenue ({shown}; kpis.csv holds every "
                f"metal in t, as metal_recovered_E and so on); the rates, the headline and the frontier count "
                f"{first}, the first element of the economics.")
    others = [sym for e, (sym, _, _) in units.items() if sym != first]
    text = f"Metal KPIs count {first}, the first element of the economics"
    if others:
        text += f"; {', '.join(others)} {'earns' if len(others) == 1 else 'earn'} revenue in the NPV but " \
                f"{'is' if len(others) == 1 else 'are'} not counted as metal"
    return text + "."


def _element_key(key: str, elements: dict):
    """(metal KPI, element) when ``key`` is a metal KPI of one element (``metal_recovered_au``), else None."""
    for e in elements:
        base = key[:-len(e) - 1]
        if key.endswith(f"_{e}") and base in METAL_KEYS:
            return base, e
    return None


def headline_keys(kpis: pd.DataFrame, summary: dict) -> list[str]:
    """The headline KPI table's rows: `KPI_UNITS`, with the metal recovered and sterilised of every
    element after the first element's."""
    others = [e for e in per_element(kpis, summary) if _symbol(e) != metal_name(summary)]
    out = []
    for key in KPI_UNITS:
        out.append(key)
        if key in ("metal_recovered", "metal_sterilised"):
            out += [f"{key}_{e}" for e in others]
    return out


def kpi_report_table(kpis: pd.DataFrame, keys=None, metal: str | None = None, elements: dict | None = None,
                     currency: str = "USD") -> pd.DataFrame:
    """KPIs as rows (label with unit), strategies as columns, plus green minus high-grade when both
    exist.  ``keys``: the KPI columns to show, in order (default: all numeric ones but the per-element
    copies of the first element's metal KPIs); ``metal``: the element the metal KPIs without a suffix
    count, written after their unit (``t Cu``); ``elements``: {element: (symbol, unit, factor from t)}
    of the per-element metal KPIs (`element_units`); ``currency``: money's unit (``M{cur}``)."""
    frame = kpis.set_index(kpis["strategy"].astype(str)).drop(columns="strategy")
    elements = elements or {}
    if keys is None:
        keys = [k for k in frame.columns if not ((found := _element_key(k, elements)) and metal
                                                 and elements[found[1]][0] == metal)]
    rows = {}
    for key in [k for k in keys if k in frame.columns]:
        label, unit, scale = {**KPI_UNITS, **MORE_UNITS}.get(key, (key.replace("_", " "), "", 1.0))
        found = _element_key(key, elements)
        if found:
            symbol, unit, scale = elements[found[1]]
            label, unit = {**KPI_UNITS, **MORE_UNITS}[found[0]][0], f"{unit} {symbol}"
        elif metal and unit == "t" and "metal" in key:
            unit = f"t {metal}"
        unit = unit.format(cur=currency)
        values = pd.to_numeric(frame[key], errors="coerce") * scale
        if values.isna().all():
            continue  # a text column (a solver status, say) is not a KPI
        rows[f"{label} ({unit})" if unit else label] = values
    out = pd.DataFrame(rows, index=frame.index).T
    if {"green", "high-grade"} <= set(out.columns):
        out["green − high-grade"] = out["green"] - out["high-grade"]
    out.insert(0, "KPI", out.index)
    return out.reset_index(drop=True)


def _musd(value: float) -> str:
    return f"{abs(value) / 1e6:,.0f} M"


def headline(kpis: pd.DataFrame, currency: str = "USD", metal: str = "metal") -> str:
    """What green does against npv and against high-grade: metal, then NPV on both footings, then
    the economic NPV given up per tonne of metal saved from sterilisation (green's KPIs against
    each base, `orepit.planning.strategies.price_of_green`, as kpis.csv holds them)."""
    frame = kpis.set_index(kpis["strategy"].astype(str))
    if "green" not in frame.index:
        return ""
    g = frame.loc["green"]
    parts = []
    for base in ("npv", "high-grade"):
        key = strategy_key(base)
        if base not in frame.index or f"extra_metal_vs_{key}" not in frame.columns:
            continue
        extra = float(g[f"extra_metal_vs_{key}"])
        econ = -float(g[f"price_of_green_vs_{key}"])
        env = -float(g[f"price_of_green_after_environment_vs_{key}"])
        text = (f"Against <b>{base}</b>, green {'recovers' if extra >= 0 else 'loses'} {abs(extra):,.0f} t "
                f"{'more' if extra >= 0 else 'less'} {html.escape(metal)}; its economic NPV is {_musd(econ)} {currency} "
                f"{'higher' if econ >= 0 else 'lower'} ({100 * float(g['npv']) / float(frame.loc[base, 'npv']):.1f} % "
                f"of {base}'s) and its NPV after environmental cost {_musd(env)} {currency} "
                f"{'higher' if env >= 0 else 'lower'}")
        if extra > 0 and econ < 0:
            text += (f"; each extra tonne of {html.escape(metal)} costs {float(g[f'cost_per_t_metal_saved_vs_{key}']):,.0f} "
                     f"{currency} of economic NPV (what an incentive for low-grade ore would have to cover)")
        parts.append(text + ".")
    return "<p class='key'>" + " ".join(parts) + "</p>" if parts else ""


def rules_table(summary: dict) -> pd.DataFrame:
    """Green's rules from summary.json: whether each binds and what it costs (currency of the study)."""
    currency = currency_of(summary)
    rows = []
    for row in ((summary.get("strategies") or {}).get("green") or {}).get("rules") or []:
        binds = bool(row.get("binding"))
        per = row.get("per_unit")
        rows.append({"rule": row.get("rule"), "binds": "yes" if binds else "no",
                     f"NPV given up (M {currency})": f"{(row.get('price') or 0.0) / 1e6:,.1f}",
                     "per unit": f"{per:,.2f} {currency} per {row.get('unit')}" if binds and per is not None
                     and per == per else "-"})
    return pd.DataFrame(rows)


def metal_balance(kpis: pd.DataFrame, metal: str | None = None, element: str = "", unit: str = "t",
                  scale: float = 1.0) -> pd.DataFrame:
    """Per strategy: where the deposit's ore-grade metal goes (``unit`` of ``metal``; the KPIs without
    a suffix, or those of ``element``, scaled from t by ``scale``); the parts add up to the deposit."""
    keys = ["deposit_ore_metal", "metal_recovered", "metal_lost_in_processing", "metal_outside_pit",
            "metal_dumped", "metal_stockpile_lost", "metal_left_in_pit"]
    keys = [f"{k}_{element}" if element else k for k in keys]
    frame = kpis.set_index(kpis["strategy"].astype(str))
    if not set(keys) <= set(frame.columns):
        return pd.DataFrame()
    out = frame[keys].astype(float).T * scale
    out.insert(0, f"metal ({unit} {metal})" if metal else f"metal ({unit})",
               ["ore-grade metal in the deposit", "recovered", "lost in processing",
                "sterilised: outside the final pit", "sterilised: dumped",
                "sterilised: left on the stockpile at the end (not processed)", "sterilised: left in the pit"])
    return out.reset_index(drop=True)


def metal_balances(kpis: pd.DataFrame, summary: dict) -> str:
    """The metal balance tables: the first element's, then one per further element (HTML)."""
    first = metal_name(summary)
    tables = [metal_balance(kpis, first)] + [metal_balance(kpis, symbol, e, unit, scale)
                                             for e, (symbol, unit, scale) in per_element(kpis, summary).items()
                                             if symbol != first]
    return "".join(table_html(format_columns(t, "–")) for t in tables if len(t))


def budget_note(summary: dict, kpis: pd.DataFrame, currency: str) -> str:
    """A paragraph on what green's NPV budget bought (its utilisation floor): the reason from
    summary.json, the figures from kpis.csv (as the KPI tables show them)."""
    reason = ((summary.get("strategies") or {}).get("green") or {}).get("budget")
    if not reason:
        return ""
    text = f"Green's final pit: {html.escape(reason)}."
    rows = kpis[kpis["strategy"].astype(str) == "green"]
    green = rows.iloc[0] if len(rows) else pd.Series(dtype=float)
    if pd.notna(green.get("green_budget")) and pd.notna(green.get("npv_budget_target")):
        text = (f"Green may give up {100 * green['green_budget']:g} % of npv's economic NPV to take more of the "
                f"deposit's metal out of the ground: it must keep {green['npv_budget_target'] / 1e6:,.1f} M {currency}, "
                f"and keeps {green['npv'] / 1e6:,.1f} M {currency}. " + text)
    return f"<p>{text}</p>"


def plan_notes(periods: pd.DataFrame, frontier: pd.DataFrame | None, summary: dict | None = None,
               currency: str = "USD") -> list[str]:
    """Sentences an engineer signing off the plan must read: a mill idling in mid-life, a tail that
    mills at a loss on the strategy's own footing (summary.json's ``footing``), a frontier point that
    beats green on both counts or npv on economic NPV."""
    notes = []
    strategies = (summary or {}).get("strategies") or {}
    for name, rows in periods.groupby("strategy", sort=False):
        rows = rows.sort_values("period")
        mill = rows["mill_t"].to_numpy(float)
        active = np.flatnonzero(mill > 0)
        if active.size:
            top = mill.max()
            idle = [int(p) for p, m in zip(rows["period"], mill)
                    if active[0] <= p <= active[-1] and m < 0.5 * top]
            if idle:
                ore = rows.set_index("period").loc[idle, "ore_mined_t"].sum()
                notes.append(f"{name}: the mill runs under half its largest load in period(s) "
                             f"{', '.join(map(str, idle))} (ore mined then: {ore / 1e6:,.1f} Mt; the pit is being "
                             "stripped and the stockpile cannot fill the gap).")
        footing = (strategies.get(name) or {}).get("footing", "economic")
        cash = "cash_flow_after_environment" if footing != "economic" and "cash_flow_after_environment" in rows \
            else "cash_flow"
        tail = rows[(rows["mined_t"] <= 0) & (rows["mill_t"] > 0)]
        losing = tail[tail[cash] < 0]
        if len(losing):
            which = ", ".join(map(str, losing["period"]))
            notes.append(f"{name}: after mining ends, {'periods' if len(losing) > 1 else 'period'} {which} "
                         f"{'mill' if len(losing) > 1 else 'mills'} the last stockpile at a loss of "
                         f"{-losing[cash].sum() / 1e6:,.1f} M{currency} (undiscounted, "
                         f"{'after environmental cost' if cash != 'cash_flow' else 'economic'}, the footing of its "
                         "objective): its rules send every ore-grade tonne to the mill.")
    if frontier is not None and {"green", "dominated"} <= set(frontier.columns):
        if frontier["green"].astype(bool).any() and frontier.loc[frontier["green"].astype(bool), "dominated"].any():
            notes.append("A point of the frontier has more metal and a higher objective than green's own: green's "
                         "schedule is a heuristic's, not proven optimal, and that point's pit does better.")
    npv_plan = (strategies.get("npv") or {}).get("npv")
    if frontier is not None and "npv" in frontier.columns and len(frontier) and npv_plan is not None:
        best = frontier.loc[frontier["npv"].idxmax()]
        if best["npv"] > npv_plan + 1e-9 * abs(npv_plan):
            notes.append(f"A point of the frontier (utilisation floor {best['utilisation_floor']:.3f}, under green's "
                         f"rules) has a higher economic NPV than npv's own plan: {best['npv'] / 1e6:,.1f} against "
                         f"{npv_plan / 1e6:,.1f} M{currency}. npv's schedule is a heuristic's, within the gap to its "
                         "bound, not proven optimal.")
    return notes


def bound_table(summary: dict, currency: str) -> pd.DataFrame:
    """Per strategy (summary.json): its objective, the upper bound no schedule of its pit beats under
    its rules (`orepit.planning.bound`), the gap between them and the plan's status."""
    rows = []
    for name, s in (summary.get("strategies") or {}).items():
        if isinstance(s, dict) and "objective" in s:
            bound, gap = s.get("bound"), s.get("gap")
            rows.append({"strategy": name, f"objective (M{currency})": _million(s["objective"]),
                         f"upper bound (M{currency})": _million(bound),
                         "gap (%)": "n/a" if gap is None else f"{100 * float(gap):.2f}",
                         "status": in_words(s.get("status"), PLAN_STATUS)})
    return pd.DataFrame(rows)


def _million(value):
    """A currency amount in millions for a table (n/a when unknown)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "n/a"
    return f"{v / 1e6:,.1f}" if math.isfinite(v) else "n/a"


def solver_table(summary: dict) -> pd.DataFrame:
    """Per strategy and model solved (summary.json): status, seconds, size."""
    rows = []
    for name, info in (summary.get("strategies") or {}).items():
        if not isinstance(info, dict):
            continue
        for stage, s in (info.get("stages") or {}).items():
            if isinstance(s, dict):
                status = in_words(s.get("status"), BOUND_STATUS if stage == "bound" else {})
                rows.append({"strategy": name, "model": stage, "status": status,
                             "seconds": s.get("seconds"), "variables": s.get("variables"),
                             "integer variables": s.get("integer_variables")})
    return pd.DataFrame(rows)


def _section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{html.escape(title)}</h2>{body}</section>'


# -- the report ----------------------------------------------------------------------------------
def make_report(results_dir, *, window_size=None, chart_size=charts.SIZE, views: bool = True,
                interactive: bool = True) -> dict:
    """Write the PNGs and ``report.html`` into ``results_dir``.

    Returns {"report": path, "images": {name: path}, "seconds": {"views", "charts", "total"},
    "warnings": [...], "interactive": bool}.  ``views=False`` skips the 3D views (charts and tables
    only); ``interactive=False`` leaves out the rotatable destination view (inline canvas script).
    """
    t0 = time.perf_counter()
    folder = Path(results_dir)
    data = load_results(folder)
    summary, model, kpis, periods = data["summary.json"], data["blocks.parquet"], data["kpis.csv"], data["periods.csv"]
    deposit = summary.get("deposit") or {}
    currency = currency_of(summary)
    names = strategies_of(data)
    warnings: list[str] = missing_views(model, names) if views else []
    images: dict[str, str] = {}
    extra = ""
    t1 = time.perf_counter()
    if views:
        try:
            images.update(viz.render_all(model, folder, names, window_size=window_size or viz.WINDOW,
                                         warnings=warnings, currency=currency))
            if interactive:
                extra = viz.interactive_html(model, names)
        except InputError:
            raise
        except Exception as exc:  # noqa: BLE001 - a machine without OpenGL still gets charts and tables
            warnings.append(f"3D views could not be rendered ({type(exc).__name__}: {exc}); "
                            "see docs/getting_started.md for the system packages VTK needs")
    t2 = time.perf_counter()
    first = deposit.get("element")
    unit = grade_unit(summary)        # the grade-tonnage curve's grade is the first element's
    images["gradetonnage"] = charts.grade_tonnage_chart(data["gradetonnage.csv"], folder / "chart_gradetonnage.png",
                                                        size=chart_size, **({"grade_unit": unit} if unit else {}))
    images["pit_by_pit"] = charts.pit_by_pit_chart(data["shells.csv"], folder / "chart_pit_by_pit.png",
                                                   currency=currency, size=chart_size)
    setup = summary.get("setup") or {}
    images["tonnes"] = charts.tonnes_by_destination_chart(periods, folder / "chart_tonnes_by_destination.png",
                                                          mining_capacity=setup.get("mining_capacity"),
                                                          mill_capacity=setup.get("mill_capacity"), size=chart_size)
    images["stockpile"] = charts.stockpile_chart(periods, folder / "chart_stockpile.png", size=chart_size)
    images["npv_co2"] = charts.npv_co2_chart(periods, folder / "chart_npv_co2.png", currency=currency,
                                             size=chart_size)
    if "frontier.csv" in data:
        images["frontier"] = charts.frontier_chart(data["frontier.csv"], folder / "chart_frontier.png", kpis=kpis,
                                                   metal=metal_name(summary) if first else "", currency=currency,
                                                   size=chart_size)
    if "risk.json" in data:
        images.update(risk_charts.write_risk_charts(folder, currency))
    t3 = time.perf_counter()
    page = _html(summary, data, names, images, warnings, extra)
    path = folder / REPORT
    write_text(path, page)
    write_text(folder / KPIS_MD, kpis_markdown(kpis, summary))
    for written in [path, folder / KPIS_MD, *images.values()]:
        os.chmod(written, 0o644)  # readable by a web server or a colleague, like any report
    return {"report": str(path), "images": images, "warnings": warnings, "interactive": bool(extra),
            "seconds": {"views": t2 - t1, "charts": t3 - t2, "total": time.perf_counter() - t0}}


def write_report(results_dir, **kwargs) -> Path:
    """Write ``report.html`` (and its PNGs) into ``results_dir``; return the report's path."""
    return Path(make_report(results_dir, **kwargs)["report"])


def _html(summary: dict, data: dict, names: list[str], images: dict, warnings: list[str], interactive: str = "") -> str:
    deposit = summary.get("deposit", {}) or {}
    pit = summary.get("pit", {}) or {}
    title = f"orepit report: {deposit_title(summary)}"
    img = lambda key, caption: image_html(images[key], caption) if key in images else ""  # noqa: E731
    size = deposit.get("block_size")
    facts = [f"{_num(deposit.get('n_blocks', data['blocks.parquet'].n_blocks))} blocks"]
    if size:
        facts.append("blocks " + " x ".join(f"{float(v):g}" for v in size) + " m")
    if pit:
        facts.append(f"ultimate pit {_num(pit.get('blocks'))} blocks, value {_num(pit.get('objective'))} "
                     f"{html.escape(currency_of(summary))}, "
                     f"solved in {float(pit.get('seconds', 0)):.2f} s")
    facts.append("strategies: " + ", ".join(html.escape(n) for n in names))
    grid = lambda *parts: '<div class="grid">' + "".join(parts) + "</div>"  # noqa: E731
    rules = rules_table(summary)
    currency, metal = currency_of(summary), metal_name(summary)
    elements = element_units(summary)
    sections = [
        ("kpis", "Strategies compared",
         headline(data["kpis.csv"], currency, metal)
         + table_html(kpi_cells(kpi_report_table(data["kpis.csv"], headline_keys(data["kpis.csv"], summary), metal,
                                                 elements, currency)))
         + f"<p class='key'>{html.escape(footing(summary, currency))}</p>"
         + "<details><summary>all KPIs</summary>"
         + table_html(kpi_cells(kpi_report_table(data["kpis.csv"], None, metal, elements, currency))) + "</details>"
         + "<p class='muted'>Every KPI is computed from the block schedule (each block's period and "
           "destination, checked against every slope and capacity). NPV is the economic NPV for every "
           "strategy; the NPV after environmental cost prices the same plan with the environmental cost; "
           "the objective is what the strategy maximised. Rates are in % (mining recovery: ore-grade tonnes "
           "sent to mill or stockpile over ore-grade tonnes mined; comprehensive utilisation: metal recovered "
           "over the deposit's ore-grade metal). " + html.escape(metal_note(summary, data["kpis.csv"])) + "</p>"
         + "<h3>How far each plan may be from the best possible</h3>"
         + table_html(bound_table(summary, currency))
         + "<p class='muted'>The upper bound is what no block schedule of the strategy's pit can beat under "
           "its rules and capacities over its periods (a Lagrangian relaxation: stockpiled blocks may be "
           "reclaimed unblended, blocks divided between periods); the gap is (bound - objective) / "
           "objective. It is a guarantee, not an estimate: the true distance to the best plan is at most "
           "the gap, and may be much less.</p>"),
        ("balance", "Where the metal goes",
         metal_balances(data["kpis.csv"], summary)
         + "<p class='muted'>For every strategy and element: ore-grade metal in the deposit = recovered + lost in "
           "processing + sterilised.</p>"
         + ("<h3>Green's rules: do they bind, what do they cost?</h3>" + table_html(rules)
            + "<p class='muted'>Recovery floor, no ore to the dump and the emission cap are priced on the routes "
              "of green's own mining sequence (objective with the rule, against the rule relaxed); the "
              "utilisation floor by the green plan without it.</p>" if len(rules) else "")
         + budget_note(summary, data["kpis.csv"], currency)),
        ("model", "Block model",
         grid(img("grade", f"Block model coloured by {html.escape(_symbol(viz.grade_column(data['blocks.parquet'])))} "
                              "grade, the quarter nearest the viewer cut away"),
              img("gradetonnage", "Grade-tonnage curve of the whole deposit (every block, inside the pit or "
                                       "not) at round cut-offs"))
         + "<details><summary>grade-tonnage table</summary>"
         + data_table(data["gradetonnage.csv"], "gradetonnage", currency, grade_unit(summary)) + "</details>"),
        ("pit", "Ultimate pit and nested shells",
         grid(img("pit", "Ultimate pit shell over topography, coloured by depth"),
              img("pit_by_pit", "Pit-by-pit graph: tonnes per shell and best/worst-case discounted value"))
         + data_table(data["shells.csv"], "shells", currency)),
        ("schedule", "Schedules",
         grid(*[img("periods " + n, f"{n}: blocks coloured by extraction period") for n in names],
              img("tonnes", "Tonnes per period by destination"),
              img("stockpile", "Low-grade stockpile balance"),
              img("npv_co2", "Cumulative NPV and CO2 per strategy"))
         + "<details><summary>period table</summary>" + data_table(data["periods.csv"], "periods", currency)
         + "</details>"),
        ("destinations", "Destinations: what each plan does with the ore",
         grid(*[img("destinations " + n, f"{n}: mined blocks by destination; magenta: ore-grade blocks sent to "
                                         "the dump") for n in names])
         + ("<h3>Rotate it yourself</h3>" + interactive if interactive else "")),
        ("environment", "Environmental cost",
         grid(*[img("env_cost " + n, f"{n}: environmental cost per tonne of the blocks it mines, at the "
                                     "destinations it sends them to") for n in names])
         + f"<p class='muted'>Each block's environmental cost ({html.escape(currency)}, undiscounted) at the "
           "destination the strategy sends it to, per tonne (column env_cost_S of blocks.parquet); one colour "
           "scale for every strategy. The NPV after environmental cost discounts these costs in the period "
           "each is paid.</p>"),
    ]
    if "frontier" in images:
        sections.append(("frontier", "How much does more metal cost?",
                         img("frontier", "Green's objective (NPV after environmental cost) against metal recovered "
                                         "as the final pit must hold more of the deposit's metal")
                         + data_table(data["frontier.csv"], "frontier", currency)))
    if "risk.json" in data:
        risk = data["risk.json"]
        plans = {**risk.get("strategies", {}), **({"stochastic": risk["stochastic"]} if risk.get("stochastic") else {})}
        sections.append(("risk", "Grade risk: each plan replayed on realisations of the deposit",
                         f"<p class='key'>{html.escape(risk_charts.risk_footing(risk))}</p>"
                         + table_html(risk_charts.risk_table({"strategies": plans}, currency)) + vss_html(risk, currency)
                         + grid(img("risk_cdf", "Distributions over the realisations (dots: P10, P50, P90)"),
                                img("risk_mill_feed", "Mill feed per period: P10-P90 band, P50, the plan's feed"))))
    timings = summary.get("timings") or {}
    solves = solver_table(summary)
    if timings or len(solves):
        body = table_html(format_columns(pd.DataFrame({"phase": list(timings),
                                                       "seconds": [float(v) for v in timings.values()]}), "–")) \
            if timings else ""
        if len(solves):
            body += "<h3>Schedule models</h3>" + table_html(format_columns(solves, "–"))
        sections.append(("timings", "Run time", body))
    nav = "".join(f'<a href="#{a}">{html.escape(t)}</a>' for a, t, _ in sections)
    said = list(summary.get("warnings") or []) + plan_notes(data["periods.csv"], data.get("frontier.csv"), summary, currency)
    notes = "".join(f"<p class='note'>{html.escape(w)}</p>" for w in [*said, *warnings])
    body = "".join(_section(a, t, b) for a, t, b in sections)
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{html.escape(title)}</title><link rel=\"icon\" href=\"data:,\"><style>{_CSS}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><p>{'; '.join(facts)}.</p><nav>{nav}</nav>{notes}{body}"
            f"<p class='muted'>Written by orepit {_version()}; open offline, everything is embedded.</p>"
            f"</body></html>\n")


def _version() -> str:
    return __version__
