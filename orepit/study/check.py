"""Check a results folder's block schedules against the model's precedence and capacities.

Everything comes from the folder's own files (docs/results_format.md): the block model with each
strategy's period and destination and each block's tonnes, mill hours and CO2 (``blocks.parquet``),
the reclaim per period (``periods.csv``), the limits and the precedence source (``summary.json``:
the slope cone, or the slope table by domain, the study used, or ``precedence.prec`` beside it).  The check itself is the
independent checker's (`orepit.planning.verify`).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from solvers.errors import InputError
from solvers.result import Result

from orepit.data.atomic import refuse_incomplete
from orepit.data.files import read_model
from orepit.data.minelib import read_precedence
from orepit.planning.strategies import strategy_key
from orepit.planning.verify import check_block_schedule, reclaimed_feed
from orepit.valuation.destinations import DESTINATIONS
from orepit.valuation.precedence import precedence_from_geometry
from orepit.valuation.slopes import slope_from_record

NEEDED = ("summary.json", "blocks.parquet", "periods.csv")
DESTINATION_CODE = {name: k for k, name in enumerate(DESTINATIONS)}


def check_results(folder) -> dict[str, Result]:
    """The checker's `Result` per strategy of a results folder (see the module docstring)."""
    folder = Path(folder)
    refuse_incomplete(folder)
    missing = [name for name in NEEDED if not (folder / name).is_file()]
    if missing:
        raise InputError(f"not a results folder: no {', '.join(missing)}", path=folder)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    model = read_model(folder / "blocks.parquet")
    periods = pd.read_csv(folder / "periods.csv")
    source = summary.get("precedence") or {}
    if source.get("from") == "file":
        precedence = read_precedence(folder / source["file"], n_blocks=model.n_blocks)
    elif source.get("from") == "geometry":
        slope = slope_from_record(source, folder / "summary.json")
        precedence = precedence_from_geometry(model, block_size=model.block_size, slope=slope, levels=source["benches"])
    else:
        raise InputError("summary.json does not say which precedence the study used (field 'precedence')",
                         path=folder / "summary.json", field="precedence")
    for column in ("tonnage", "mill_hours", *[f"co2_{d}_t" for d in DESTINATIONS]):
        if column not in model:
            raise InputError(f"blocks.parquet has no column {column}", path=folder / "blocks.parquet", field=column)
    tonnage, hours = model["tonnage"].astype(float), model["mill_hours"].astype(float)
    co2 = np.stack([model[f"co2_{d}_t"].astype(float) for d in DESTINATIONS], axis=1)
    out = {}
    for name, info in (summary.get("strategies") or {}).items():
        key = strategy_key(name)
        if f"period_{key}" not in model or "settings" not in info:
            raise InputError(f"no block schedule of strategy {name} (period_{key} in blocks.parquet, settings in "
                             "summary.json)", path=folder, field=name)
        period = model[f"period_{key}"].astype(np.int64)
        names = model[f"destination_{key}"].astype(str)
        dest = np.array([DESTINATION_CODE.get(v, -1) for v in names.tolist()], dtype=np.int64)
        if np.any((period >= 0) & (dest < 0)):
            bad = int(np.flatnonzero((period >= 0) & (dest < 0))[0])
            raise InputError(f"block {bad} of {name} is mined but its destination is {names[bad]!r}",
                             path=folder / "blocks.parquet", field=f"destination_{key}")
        limits = {k: None if v is None else np.asarray(v, dtype=np.float64) for k, v in info["settings"].items()
                  if k != "periods"}
        T = int(info["settings"]["periods"])
        rows = periods[periods["strategy"] == name].sort_values("period")
        reclaimed = reclaimed_feed(period, dest, hours, co2, *(_per_period(rows, c, T) for c in
                                                               ("stockpile_out_t", "mill_hours", "co2_t")), T)
        out[name] = check_block_schedule(precedence, tonnage, hours, co2, period, dest, limits, reclaimed)
    return out


def _per_period(rows: pd.DataFrame, column: str, T: int) -> np.ndarray:
    values = np.zeros(T)
    values[rows["period"].to_numpy(int)] = rows[column].to_numpy(float)
    return values
