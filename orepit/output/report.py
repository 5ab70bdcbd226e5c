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
import os
import time
from pathlib import Path

import pandas as pd

from solvers.errors import InputError

from orepit.output import charts
from orepit.data.atomic import write_text
from orepit.data.model import BlockModel
from orepit.output.viz import strategy_key
from orepit.output import viz
from orepit.version import __version__
from orepit.data.files import read_model

#: file -> the columns the report uses (the format in docs/results_format.md has more).
REQUIRED = {
    "summary.json": (),
    "blocks.parquet": ("i", "j", "k", "tonnage"),
    "shells.csv": ("shell", "ore_t", "waste_t", "best_case", "worst_case"),
    "gradetonnage.csv": ("cutoff", "tonnes", "mean_grade"),
    "periods.csv": ("strategy", "period", "mill_t", "stockpile_in_t", "dump_t", "stockpile_balance_t",
                    "npv_cumulative", "co2_t"),
    "kpis.csv": ("strategy",),
}
OPTIONAL = {"frontier.csv": ("npv", "metal_recovered")}
#: KPI key -> (label, unit, scale); rates are fractions shown in %.
KPI_UNITS = {
    "npv": ("NPV", "MUSD", 1e-6),
    "metal_recovered": ("metal recovered", "t", 1.0),
    "low_grade_tonnes_recovered": ("low-grade ore recovered", "kt", 1e-3),
    "metal_sterilised": ("metal sterilised (left in pit walls or dumped)", "t", 1.0),
    "mining_recovery_rate": ("mining recovery rate", "%", 100.0),
    "processing_recovery_rate": ("processing recovery rate", "%", 100.0),
    "utilisation_rate": ("comprehensive utilisation rate", "%", 100.0),
    "ore_to_dump_tonnes": ("ore-grade tonnes to dump", "kt", 1e-3),
    "co2_tonnes": ("CO2", "kt", 1e-3),
}
#: further KPIs shown under "all KPIs" with units (others are shown by name, as they are)
MORE_UNITS = {
    "npv_economic": ("NPV before environmental cost", "MUSD", 1e-6),
    "npv_after_environment": ("NPV after environmental cost", "MUSD", 1e-6),
    "environmental_cost": ("environmental cost", "MUSD", 1e-6),
    "price_of_green": ("price of green (NPV given up)", "MUSD", 1e-6),
    "objective_solver": ("objective (solver)", "MUSD", 1e-6),
    "objective_simulated": ("objective (simulated)", "MUSD", 1e-6),
    "metal_fed": ("metal fed to the mill", "t", 1.0),
    "metal_outside_pit": ("metal outside the final pit", "t", 1.0),
    "metal_dumped": ("metal dumped", "t", 1.0),
    "metal_left_in_pit": ("metal left in the pit", "t", 1.0),
    "metal_stockpile_lost": ("metal lost on the stockpile", "t", 1.0),
    "ore_metal_kept": ("ore metal kept", "t", 1.0),
    "tonnes_moved": ("tonnes moved", "kt", 1e-3),
    "mill_tonnes": ("tonnes milled", "kt", 1e-3),
    "final_stockpile_t": ("final stockpile", "kt", 1e-3),
    "strip_ratio": ("strip ratio", "t/t", 1.0),
    "dilution": ("dilution", "%", 100.0),
    "co2_per_tonne_moved": ("CO2 per tonne moved", "kg/t", 1e3),
    "co2_per_tonne_metal": ("CO2 per tonne of metal", "t/t", 1.0),
    "energy_kwh": ("energy", "GWh", 1e-6),
    "water_m3": ("water", "thousand m3", 1e-3),
    "dump_ha": ("dump footprint", "ha", 1.0),
}
REPORT = "report.html"


def _read(folder: Path, name: str, columns) -> pd.DataFrame | dict:
    path = folder / name
    try:
        if name.endswith(".json"):
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise InputError("expected a JSON object", path=path)
            return data
        if name.endswith(".parquet"):
            return read_model(path)
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
    """Read and check every file of a results folder: {file name: DataFrame, dict or BlockModel}."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("results folder not found", path=folder)
    absent = [name for name in REQUIRED if not (folder / name).is_file()]
    if absent:
        raise InputError(f"results folder lacks {', '.join(absent)} (see docs/results_format.md)",
                         path=folder, field=absent[0])
    data = {name: _read(folder, name, cols) for name, cols in REQUIRED.items()}
    for name, cols in OPTIONAL.items():
        if (folder / name).is_file():
            data[name] = _read(folder, name, cols)
    return data


def missing_views(model, names) -> list[str]:
    """Warnings for the documented blocks.parquet columns that are absent (their views are left out)."""
    wanted = {"in_pit": "pit view", "env_cost": "environmental cost view"}
    for name in names:
        key = strategy_key(name)
        wanted[f"period_{key}"] = f"{name} period view"
        wanted[f"destination_{key}"] = f"{name} destination view"
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


def table_html(frame: pd.DataFrame, max_rows: int = 200) -> str:
    """A DataFrame as a plain HTML table (numbers with thousands separators)."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{_num(v)}</td>" for v in row) + "</tr>"
                   for row in frame.head(max_rows).itertuples(index=False))
    more = f'<p class="muted">{len(frame) - max_rows} more rows in the CSV file.</p>' if len(frame) > max_rows else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def image_html(path, caption: str) -> str:
    """An <img> with the PNG embedded as a data URI, and its caption."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    alt = html.escape(caption, quote=True)
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{alt}">'
            f"<figcaption>{html.escape(caption)} ({html.escape(Path(path).name)})</figcaption></figure>")


def kpi_report_table(kpis: pd.DataFrame, keys=None) -> pd.DataFrame:
    """KPIs as rows (label with unit), strategies as columns, plus green minus high-grade when both
    exist.  ``keys``: the KPI columns to show, in order (default: all numeric ones)."""
    frame = kpis.set_index(kpis["strategy"].astype(str)).drop(columns="strategy")
    rows = {}
    for key in (frame.columns if keys is None else [k for k in keys if k in frame.columns]):
        label, unit, scale = {**KPI_UNITS, **MORE_UNITS}.get(key, (key.replace("_", " "), "", 1.0))
        values = pd.to_numeric(frame[key], errors="coerce") * scale
        if values.isna().all():
            continue  # a text column (a solver status, say) is not a KPI
        rows[f"{label} ({unit})" if unit else label] = values
    out = pd.DataFrame(rows, index=frame.index).T
    if {"green", "high-grade"} <= set(out.columns):
        out["green − high-grade"] = out["green"] - out["high-grade"]
    out.insert(0, "KPI", out.index)
    return out.reset_index(drop=True)


#: KPI -> (scale, phrase when green is higher, phrase when lower); {v} is the absolute difference
_CHANGES = {
    "metal_recovered": (1.0, "recovers {v} t more metal", "recovers {v} t less metal"),
    "low_grade_tonnes_recovered": (1e-3, "processes {v} kt more low-grade ore", "processes {v} kt less low-grade ore"),
    "ore_to_dump_tonnes": (1e-3, "sends {v} kt more ore-grade rock to the dump",
                           "sends {v} kt less ore-grade rock to the dump"),
    "npv": (1e-6, "adds {v} MUSD of NPV", "gives up {v} MUSD of NPV"),
    "co2_tonnes": (1e-3, "emits {v} kt more CO2", "emits {v} kt less CO2"),
}


def _key_message(kpis: pd.DataFrame) -> str:
    """One sentence: what the green plan does differently from the high-grade plan."""
    frame = kpis.set_index(kpis["strategy"].astype(str))
    if not {"green", "high-grade"} <= set(frame.index):
        return ""
    parts = []
    for key, (scale, up, down) in _CHANGES.items():
        if key not in frame:
            continue
        delta = (pd.to_numeric(frame.loc["green", key], errors="coerce")
                 - pd.to_numeric(frame.loc["high-grade", key], errors="coerce")) * scale
        if delta != delta:
            continue
        v = f"{abs(delta):,.0f}" if abs(delta) >= 100 else f"{abs(delta):,.2f}"
        parts.append((up if delta >= 0 else down).format(v=v))
    if not parts:
        return ""
    return "<p class='key'>Against the high-grade plan, the green plan " + ", ".join(parts) + ".</p>"


def solver_table(summary: dict) -> pd.DataFrame:
    """Per strategy, from summary.json when present: solver status, seconds and model size."""
    rows = []
    for name, info in (summary.get("strategies") or {}).items():
        if not isinstance(info, dict):
            continue
        row = {"strategy": name}
        for key in ("status", "seconds"):
            if key in info:
                row[key] = info[key]
        size = info.get("model_size")
        if isinstance(size, dict):
            row.update({k: v for k, v in size.items() if isinstance(v, (int, float, str))})
        if len(row) > 1:
            rows.append(row)
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
    names = strategies_of(data)
    warnings: list[str] = missing_views(model, names) if views else []
    images: dict[str, str] = {}
    extra = ""
    t1 = time.perf_counter()
    if views:
        try:
            images.update(viz.render_all(model, folder, names, window_size=window_size or viz.WINDOW,
                                         warnings=warnings))
            if interactive:
                extra = viz.interactive_html(model, names)
        except InputError:
            raise
        except Exception as exc:  # noqa: BLE001 - a machine without OpenGL still gets charts and tables
            warnings.append(f"3D views could not be rendered ({type(exc).__name__}: {exc}); "
                            "see docs/getting_started.md for the system packages VTK needs")
    t2 = time.perf_counter()
    images["gradetonnage"] = charts.grade_tonnage_chart(data["gradetonnage.csv"], folder / "chart_gradetonnage.png",
                                                        size=chart_size)
    images["pit_by_pit"] = charts.pit_by_pit_chart(data["shells.csv"], folder / "chart_pit_by_pit.png", size=chart_size)
    images["tonnes"] = charts.tonnes_by_destination_chart(periods, folder / "chart_tonnes_by_destination.png",
                                                          size=chart_size)
    images["stockpile"] = charts.stockpile_chart(periods, folder / "chart_stockpile.png", size=chart_size)
    images["npv_co2"] = charts.npv_co2_chart(periods, folder / "chart_npv_co2.png", size=chart_size)
    if "frontier.csv" in data:
        images["frontier"] = charts.frontier_chart(data["frontier.csv"], folder / "chart_frontier.png", kpis=kpis,
                                                   size=chart_size)
    t3 = time.perf_counter()
    page = _html(summary, data, names, images, warnings, extra)
    path = folder / REPORT
    write_text(path, page)
    for written in [path, *images.values()]:
        os.chmod(written, 0o644)  # readable by a web server or a colleague, like any report
    return {"report": str(path), "images": images, "warnings": warnings, "interactive": bool(extra),
            "seconds": {"views": t2 - t1, "charts": t3 - t2, "total": time.perf_counter() - t0}}


def write_report(results_dir, **kwargs) -> Path:
    """Write ``report.html`` (and its PNGs) into ``results_dir``; return the report's path."""
    return Path(make_report(results_dir, **kwargs)["report"])


def _html(summary: dict, data: dict, names: list[str], images: dict, warnings: list[str], interactive: str = "") -> str:
    deposit = summary.get("deposit", {}) or {}
    pit = summary.get("pit", {}) or {}
    title = f"orepit report: {deposit.get('name') or 'deposit'}"
    img = lambda key, caption: image_html(images[key], caption) if key in images else ""  # noqa: E731
    size = deposit.get("block_size")
    facts = [f"{_num(deposit.get('n_blocks', data['blocks.parquet'].n_blocks))} blocks"]
    if size:
        facts.append("blocks " + " x ".join(f"{float(v):g}" for v in size) + " m")
    if pit:
        facts.append(f"ultimate pit {_num(pit.get('blocks'))} blocks, value {_num(pit.get('objective'))} USD, "
                     f"solved in {float(pit.get('seconds', 0)):.2f} s")
    facts.append("strategies: " + ", ".join(html.escape(n) for n in names))
    grid = lambda *parts: '<div class="grid">' + "".join(parts) + "</div>"  # noqa: E731
    sections = [
        ("kpis", "Strategies compared",
         _key_message(data["kpis.csv"]) + table_html(kpi_report_table(data["kpis.csv"], list(KPI_UNITS)))
         + "<details><summary>all KPIs</summary>" + table_html(kpi_report_table(data["kpis.csv"])) + "</details>"
         + "<p class='muted'>Rates are in % (mining recovery: ore-grade tonnes sent to mill or stockpile over "
           "ore-grade tonnes mined). Definitions: docs/concepts.md.</p>"),
        ("model", "Block model",
         grid(img("grade", "Block model coloured by copper grade, the quarter nearest the viewer cut away"),
              img("gradetonnage", "Grade-tonnage curve"))
         + "<details><summary>grade-tonnage table</summary>" + table_html(data["gradetonnage.csv"]) + "</details>"),
        ("pit", "Ultimate pit and nested shells",
         grid(img("pit", "Ultimate pit shell over topography, coloured by depth"),
              img("pit_by_pit", "Pit-by-pit graph: tonnes per shell and best/worst-case discounted value"))
         + table_html(data["shells.csv"])),
        ("schedule", "Schedules",
         grid(*[img("periods " + n, f"{n}: blocks coloured by extraction period") for n in names],
              img("tonnes", "Tonnes per period by destination"),
              img("stockpile", "Low-grade stockpile balance"),
              img("npv_co2", "Cumulative NPV and CO2 per strategy"))
         + "<details><summary>period table</summary>" + table_html(data["periods.csv"]) + "</details>"),
        ("destinations", "Destinations: what each plan does with the ore",
         img("destinations", "Mined blocks by destination, strategies side by side; magenta: ore-grade blocks "
                             "sent to the dump")
         + ("<h3>Rotate it yourself</h3>" + interactive if interactive else "")),
        ("environment", "Environmental cost",
         grid(img("env_cost", "Environmental cost per tonne of the blocks in the pit"))),
    ]
    if "frontier" in images:
        sections.append(("frontier", "NPV-recovery frontier",
                         img("frontier", "NPV against metal recovered along the epsilon-constraint sweep")
                         + table_html(data["frontier.csv"])))
    timings = summary.get("timings") or {}
    solves = solver_table(summary)
    if timings or len(solves):
        body = table_html(pd.DataFrame({"phase": list(timings), "seconds": [float(v) for v in timings.values()]})) \
            if timings else ""
        if len(solves):
            body += "<h3>Schedule models</h3>" + table_html(solves)
        sections.append(("timings", "Run time", body))
    nav = "".join(f'<a href="#{a}">{html.escape(t)}</a>' for a, t, _ in sections)
    notes = "".join(f"<p class='note'>{html.escape(w)}</p>" for w in warnings)
    body = "".join(_section(a, t, b) for a, t, b in sections)
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{html.escape(title)}</title><link rel=\"icon\" href=\"data:,\"><style>{_CSS}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><p>{'; '.join(facts)}.</p><nav>{nav}</nav>{notes}{body}"
            f"<p class='muted'>Written by orepit {_version()}; open offline, everything is embedded.</p>"
            f"</body></html>\n")


def _version() -> str:
    return __version__
