"""Units and meanings of the columns of a results folder (its ``schema.csv``; docs/results_format.md).

`RESULT_COLUMNS` holds, per file kind, ``(pattern, unit, meaning)`` rows: the pattern is a regular
expression matched against the whole column name, whose groups ``S`` (a strategy key, ``-`` written
as ``_``), ``D`` (a destination) and ``E`` (an element of the economics, ``cu``) fill the meaning; ``{cur}`` in a unit is the folder's
currency.  `schema` gives one row per column of each table; columns that come from the source
block model and are not named here (grades, domains, ...) are described as such.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable, Mapping

import pandas as pd

from orepit.data.atomic import atomic_path

_S = r"(?P<S>\w+?)"
_D = r"(?P<D>mill|stockpile|dump)"
_E = r"(?P<E>\w+?)"
_IDX = "index"

#: file kind -> (column pattern, unit, meaning); first match wins
RESULT_COLUMNS = {
    "blocks": [
        ("id", _IDX, "block number, 0 to n - 1 (the row)"),
        ("i|j|k", _IDX, "grid position along x, y, z (east, north, up); k = 0 is the bottom bench"),
        ("x|y|z", "m", "block centre, in the model's coordinates"),
        ("tonnage", "t", "tonnes of the block; 0 for air"),
        ("density", "t/m3", "dry bulk density"),
        ("rock", "-", "rock type"),
        ("bwi", "kWh/t", "Bond work index"),
        ("sulphur", "%", "total sulphur (acid-forming potential of waste)"),
        (f"value_{_D}", "{cur}", "economic value of the block sent to the {D}, not discounted by period "
                                 "(value_stockpile: the mill margin deferred by the economics' stockpile delay, "
                                 "less rehandle); empty where it cannot go"),
        ("in_pit", "bool", "inside the economic ultimate pit"),
        ("shell", _IDX, "smallest nested shell that holds the block, from 0; -1 outside every shell"),
        ("mill_hours", "h", "hours of mill time the block needs if milled"),
        (f"co2_{_D}_t", "t CO2", "emitted when the block is mined and sent to the {D}"),
        (f"period_{_S}", "period", "period in which strategy {S} mines the block, from 0; -1 unmined"),
        (f"destination_{_S}", "-", "where strategy {S} sends the block: mill, stockpile, dump; empty unmined"),
        (f"pushback_{_S}", _IDX, "pushback (phase) of the block in strategy {S}, from 0; -1 unmined"),
        (f"value_{_S}", "{cur}", "undiscounted cash strategy {S} earns from the block at its destination: "
                                 "value_mill or value_dump; stockpiled, its mining cost plus, when reclaimed, its "
                                 "margin less rehandle; empty unmined"),
        (f"env_cost_{_S}", "{cur}", "environmental cost of the block at the destination strategy {S} sends it to "
                                    "(undiscounted); empty unmined"),
    ],
    "periods": [
        ("strategy", "-", "strategy name"),
        ("period", "period", "period, from 0"),
        ("mined_t", "t", "rock mined (ore and waste)"),
        ("ore_mined_t", "t", "ore-grade rock mined"),
        ("waste_mined_t", "t", "rock below the marginal cut-off mined"),
        ("mill_direct_t", "t", "mined and milled directly"),
        ("stockpile_in_t", "t", "put on the low-grade stockpile"),
        ("stockpile_out_t", "t", "reclaimed from the stockpile and milled"),
        ("stockpile_lost_t", "t", "lost from the stockpile (degradation)"),
        ("stockpile_balance_t", "t", "stockpile inventory at the end of the period"),
        ("dump_t", "t", "sent to the dump"),
        ("ore_to_dump_t", "t", "ore-grade rock sent to the dump"),
        ("ore_recovered_t", "t", "ore-grade rock sent to the mill or the stockpile"),
        ("low_grade_milled_t", "t", "low-grade ore milled, directly or reclaimed from the stockpile"),
        ("mill_t", "t", "milled: direct feed plus stockpile reclaim"),
        ("mill_hours", "h", "mill hours used"),
        ("metal_fed_t", "t", "metal fed to the mill"),
        ("metal_recovered_t", "t", "metal recovered"),
        ("metal_dumped_t", "t", "ore-grade metal sent to the dump"),
        ("metal_stockpile_lost_t", "t", "metal lost from the stockpile"),
        (f"metal_fed_{_E}_t", "t", "metal of element {E} fed to the mill"),
        (f"metal_recovered_{_E}_t", "t", "metal of element {E} recovered"),
        (f"metal_dumped_{_E}_t", "t", "ore-grade metal of element {E} sent to the dump"),
        (f"metal_stockpile_lost_{_E}_t", "t", "metal of element {E} lost from the stockpile"),
        ("cash_flow", "{cur}", "undiscounted economic cash flow"),
        ("cash_flow_after_environment", "{cur}", "undiscounted cash flow net of environmental cost"),
        ("discounted_cash_flow", "{cur}", "cash_flow discounted to period 0"),
        ("discounted_cash_flow_after_environment", "{cur}", "cash_flow_after_environment discounted"),
        ("npv_cumulative", "{cur}", "discounted cash flow summed up to this period"),
        ("npv_after_environment_cumulative", "{cur}", "discounted cash flow after environment, summed"),
        ("co2_t", "t CO2", "emissions of the period"),
        ("co2_cumulative_t", "t CO2", "emissions summed up to this period"),
        ("energy_kwh", "kWh", "process energy"),
        ("water_m3", "m3", "fresh water"),
        ("dump_ha", "ha", "dump area added"),
    ],
    "shells": [
        ("shell", _IDX, "shell number, from 1, smallest first"),
        ("revenue_factor", "-", "price multiplier of the shell (1 = base price)"),
        ("blocks", "blocks", "blocks inside the shell"),
        ("ore_t", "t", "ore-grade tonnes inside the shell"),
        ("waste_t", "t", "other tonnes inside the shell"),
        ("strip_ratio", "t/t", "waste_t / ore_t"),
        ("value", "{cur}", "undiscounted value of the shell at base price"),
        ("best_case", "{cur}", "discounted value mining shell by shell, bench by bench"),
        ("worst_case", "{cur}", "discounted value mining the shell bench by bench from the top"),
    ],
    "gradetonnage": [
        ("cutoff", "grade", "cut-off grade, in the first element's grade unit"),
        ("tonnes", "t", "tonnes at or above the cut-off"),
        ("mean_grade", "grade", "their tonnage-weighted mean grade"),
        ("metal", "t", "contained metal"),
    ],
    "kpis": [
        ("strategy", "-", "strategy name"),
        ("npv|npv_economic", "{cur}", "economic net present value"),
        ("npv_after_environment", "{cur}", "NPV net of environmental cost"),
        ("environmental_cost", "{cur}", "npv - npv_after_environment"),
        ("objective", "{cur}", "what the strategy maximised (green: npv_after_environment)"),
        ("metal_recovered", "t", "metal produced over the life of mine"),
        ("metal_fed", "t", "metal fed to the mill"),
        ("metal_lost_in_processing", "t", "metal_fed - metal_recovered"),
        ("metal_sterilised", "t", "ore-grade metal outside the pit, dumped, lost from stockpiles or left in the pit"),
        ("metal_outside_pit", "t", "ore-grade metal outside the final pit"),
        ("metal_dumped", "t", "ore-grade metal sent to the dump"),
        ("metal_stockpile_lost", "t", "metal lost from (or left on) the stockpile"),
        ("metal_left_in_pit", "t", "ore-grade metal inside the pit left unmined"),
        ("deposit_ore_metal", "t", "ore-grade metal of the deposit"),
        ("metal_balance_residual", "t", "deposit metal - (recovered + lost in processing + sterilised): 0"),
        *((f"{key}_{_E}", "t", f"as {key}, for element {{E}}") for key in (
            "metal_recovered", "metal_fed", "metal_lost_in_processing", "metal_sterilised", "metal_outside_pit",
            "metal_dumped", "metal_stockpile_lost", "metal_left_in_pit", "deposit_ore_metal",
            "metal_balance_residual")),
        ("low_grade_tonnes_recovered", "t", "low-grade ore milled (directly or from the stockpile) instead of dumped"),
        ("mining_recovery_rate", "fraction", "ore-grade tonnes to mill or stockpile / ore-grade tonnes mined"),
        ("processing_recovery_rate", "fraction", "metal recovered / metal fed"),
        ("utilisation_rate", "fraction", "comprehensive utilisation: metal recovered / deposit ore metal"),
        ("strip_ratio", "t/t", "waste mined / ore mined"),
        ("ore_to_dump_tonnes", "t", "ore-grade tonnes sent to the dump"),
        ("tonnes_moved", "t", "rock mined"),
        ("mill_tonnes", "t", "tonnes milled"),
        ("final_stockpile_t", "t", "left on the stockpile at the end"),
        ("co2_tonnes", "t CO2", "life-of-mine emissions"),
        ("co2_per_tonne_moved", "t CO2/t", "co2_tonnes / tonnes_moved"),
        ("co2_per_tonne_metal", "t CO2/t", "co2_tonnes / metal_recovered"),
        ("life_of_mine_periods", "periods", "periods until mining and milling end"),
        ("mining_periods", "periods", "periods until mining ends"),
        ("energy_kwh", "kWh", "process energy"),
        ("water_m3", "m3", "fresh water"),
        ("dump_ha", "ha", "dump area"),
        ("resource_credit", "{cur}/t", "credit per tonne of ore-grade metal that makes the pit hold the "
                                       "utilisation floor (0: does not bind)"),
        ("utilisation_floor", "fraction", "green: least share of the deposit's ore-grade metal in its final pit"),
        ("green_budget", "fraction", "green: share of npv's economic NPV it may give up for more metal"),
        ("npv_budget_target", "{cur}", "green: the economic NPV it must keep"),
        (f"price_of_green_vs_{_S}", "{cur}", "economic NPV green gives up against {S}"),
        (f"price_of_green_after_environment_vs_{_S}", "{cur}", "NPV after environment green gives up against {S}"),
        (f"extra_metal_vs_{_S}", "t", "metal green recovers more than {S}"),
        (f"cost_per_t_metal_saved_vs_{_S}", "{cur}/t", "economic NPV given up per extra tonne against {S}"),
        ("price_of_green", "{cur}", "price_of_green_vs_npv"),
    ],
    "frontier": [
        ("utilisation_floor", "fraction", "the plan's utilisation floor"),
        ("objective", "{cur}", "NPV after environmental cost the plan maximised"),
        ("npv", "{cur}", "economic NPV"),
        ("npv_after_environment", "{cur}", "NPV net of environmental cost"),
        ("metal_recovered", "t", "metal produced"),
        ("co2_t", "t CO2", "life-of-mine emissions"),
        ("resource_credit", "{cur}/t", "credit per tonne of ore-grade metal that holds the floor"),
        ("green", "bool", "green's own plan"),
        ("dominated", "bool", "another point has a higher objective and more metal"),
    ],
    "realisations": [            # orepit risk: a plan replayed on one grade realisation
        ("realisation", _IDX, "grade realisation, from 0"),
        ("strategy", "-", "strategy name (stochastic: the stochastic green plan)"),
        ("npv", "{cur}", "economic NPV of the replay"),
        ("npv_after_environment", "{cur}", "its NPV net of environmental cost"),
        ("metal_recovered|metal_fed", "t", "metal recovered, fed to the mill (the first element)"),
        ("ore_to_dump_tonnes|final_stockpile_t|low_grade_tonnes_recovered", "t", "as in kpis.csv, for the replay"),
        ("co2_tonnes", "t CO2", "life-of-mine emissions of the replay"),
        ("mining_recovery_rate|utilisation_rate", "fraction", "as in kpis.csv, for the replay"),
        ("life_of_mine_periods", "periods", "periods until the replay's last milling"),
        ("mill_targets", "periods", "periods in which the plan mills on the estimate (each has a mill target)"),
        ("mill_targets_met", "periods", "of them, those whose cumulative mill target the replay meets"),
    ],
    "realisation_periods": [
        ("realisation", _IDX, "grade realisation, from 0"),
        ("strategy", "-", "strategy name"),
        ("period", "period", "period, from 0"),
        ("mill_t", "t", "milled in the period"),
        ("metal_fed_t|metal_recovered_t", "t", "metal fed to the mill, recovered (the first element)"),
        ("cash_flow", "{cur}", "undiscounted economic cash flow"),
        ("ore_to_dump_t", "t", "ore-grade rock sent to the dump"),
        ("mill_target_t", "t", "the plan's mill feed on the estimate (the target)"),
        ("mill_target_met", "bool", "cumulative feed by the period's end meets the target; empty: no target"),
    ],
}
#: unit and meaning of a block column that comes from the source model
MODEL_ATTRIBUTE = ("as in the source model", "attribute of the source block model (grades in the economics' "
                                             "grade units)")


UNDESCRIBED = ("", "not described")


def describe_column(kind: str, column: str, currency: str) -> tuple[str, str] | None:
    """(unit, meaning) of ``column`` in a table of ``kind`` (a key of `RESULT_COLUMNS`), or None."""
    for pattern, unit, meaning in RESULT_COLUMNS[kind]:
        m = re.fullmatch(pattern, column)
        if m:
            return unit.replace("{cur}", currency), meaning.format(**m.groupdict())
    return None


def schema(tables: Mapping[str, Iterable[str]], currency: str) -> pd.DataFrame:
    """``file, column, unit, meaning``: one row per column of each table (``{file name: columns}``;
    the kind is the file name up to its first dot).  Block columns not in `RESULT_COLUMNS` are
    attributes of the source model; other unknown columns are marked `UNDESCRIBED` (the tests
    keep that from happening)."""
    rows = []
    for file, columns in tables.items():
        kind = file.split(".")[0]
        for column in columns:
            found = describe_column(kind, column, currency) if kind in RESULT_COLUMNS else None
            rows.append((file, column, *(found or (MODEL_ATTRIBUTE if kind == "blocks" else UNDESCRIBED))))
    return pd.DataFrame(rows, columns=["file", "column", "unit", "meaning"])


#: the formats the scheduled block model is written in (``blocks`` + suffix), and the other tables
BLOCK_FORMATS = (".parquet", ".csv", ".omf", ".vti")
TABLES = ("periods.csv", "shells.csv", "gradetonnage.csv", "kpis.csv", "frontier.csv")
#: the tables ``orepit risk`` adds (Parquet)
RISK_TABLES = ("realisations.parquet", "realisation_periods.parquet")
SCHEMA_FILE = "schema.csv"


def write_schema(folder, currency: str) -> Path:
    """Write ``schema.csv`` for the tables of a results folder (those present; the block rows,
    file ``blocks.*``, hold for every format of the block model, read from ``blocks.parquet``, the one
    written first), atomically; returns its path."""
    import pyarrow.parquet as pq
    folder = Path(folder)
    tables = {"blocks.*": pq.read_schema(folder / "blocks.parquet").names}
    tables.update((name, pd.read_csv(folder / name, nrows=0).columns) for name in TABLES if (folder / name).exists())
    tables.update((name, pq.read_schema(folder / name).names) for name in RISK_TABLES if (folder / name).exists())
    path = folder / SCHEMA_FILE
    with atomic_path(path) as tmp:
        schema(tables, currency).to_csv(tmp, index=False)
    return path
