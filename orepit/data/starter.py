"""A commented starter economics file for a block model (``orepit init``).

`guess_elements` reads the payable elements from the model's column names (``CU``, ``cu_pct``,
``AU_GPT``, ``Ag_ppm``, ``AUPPB``, ``Zn%``: the element symbol first, the grade unit from a marker in
the name (``PCT``/``%``, ``PPM``, ``PPB``, ``GPT``/``G_T``/``g/t``) or, without one, from the element:
g/t for precious metals, % for the others; each reason says which).  `starter_text` writes the TOML
text: every key of the economics with its value and unit (keys without a value as comments), one
``[elements.NAME]`` table per element and the ``[columns]`` table of the mapping used.  Values
come from the caller (the owner's defaults); an element without a known price gets price 0 and a
line saying to set it.  Every value is a starting point for the user to confirm.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, replace
from typing import Mapping

from orepit.data.columns import COMMON_NAMES
from orepit.data.model import BlockModel

#: element symbol -> name, for the symbols a grade column's name may start with
ELEMENTS = {"cu": "copper", "au": "gold", "ag": "silver", "mo": "molybdenum", "zn": "zinc", "pb": "lead",
            "ni": "nickel", "co": "cobalt", "pt": "platinum", "pd": "palladium", "sn": "tin", "w": "tungsten",
            "li": "lithium", "u": "uranium"}
PRECIOUS = ("au", "ag", "pt", "pd")
#: a unit marker in the column name (a word after the symbol, or glued to it: ``AUPPM``) -> grade unit
UNIT_SUFFIXES = {"pct": "%", "percent": "%", "%": "%", "gpt": "g/t", "gt": "g/t", "g/t": "g/t", "ppm": "ppm",
                 "ppb": "ppb"}
#: economics key -> what it is and its unit (cur: the file's currency)
KEY_NOTES = {
    "currency": "currency of every money value below",
    "rock_column": "block-model column with the rock type (none: one rock type)",
    "mining_cost": "cur/t mined at the reference bench",
    "mining_cost_per_bench": "cur/t more per bench below the reference bench",
    "reference_bench": "bench index k of the pit exit (default: the model's top bench)",
    "mining_cost_factor_column": "column of a per-block mining-cost multiplier (default: none)",
    "processing_cost": "cur/t milled",
    "not_processable": "rock types the mill cannot take",
    "infeasible_value": "cur/t at a destination a block cannot go to",
    "dump_cost": "cur/t placed on the dump, on top of mining",
    "stockpile_rehandle_cost": "cur/t reclaimed from the low-grade stockpile",
    "stockpile_delay_years": "years between mining a stockpiled block and milling it",
    "discount_rate": "fraction per year, discounts only the stockpile's deferred value",
    "bwi_column": "Bond work index column, kWh/t (default: none, no grinding term)",
    "bond_f80_um": "feed size, 80 % passing, micrometres",
    "bond_p80_um": "product size, 80 % passing, micrometres",
    "grinding_energy_price": "cur/kWh of grinding energy",
    "mill_power_kw": "installed grinding power, kW: gives mill hours (needs bwi_column)",
    "column": "block-model grade column",
    "grade_unit": "%, ppm, ppb or g/t",
    "price": "cur per price_unit of metal",
    "price_unit": "t, kg, lb, oz (troy) or g",
    "selling_cost": "cur per price_unit: refining, freight, royalties",
    "recovery": "fraction of the metal the mill recovers",
}


@dataclass(frozen=True)
class GuessedElement:
    """An element read from a column name: ``name`` (symbol), ``column``, ``grade_unit`` and why."""
    name: str
    column: str
    grade_unit: str
    reason: str


def guess_elements(columns) -> list[GuessedElement]:
    """The payable elements among ``columns`` (model attributes such as x, density or sulphur are
    not elements), in column order; one column per element (the first; its reason names the others).  ``columns``: names, or
    ``{model column: file column}`` when the model renamed them (the file's name is read)."""
    attributes = {alias for aliases in COMMON_NAMES.values() for alias in aliases} | {"s", "id"}
    named = dict(columns) if isinstance(columns, Mapping) else {c: c for c in columns}
    found: dict[str, GuessedElement] = {}
    others: dict[str, list[str]] = {}                  # further columns of an element found, not used
    for column, name in named.items():
        lower = str(name).strip().lower()
        if str(column).strip().lower() in attributes:
            continue
        parts = [p for p in re.split(r"[^a-z0-9/%]+|(?<=[a-z])(?=%)", lower) if p]
        glued = re.fullmatch(rf"([a-z]{{1,2}})({'|'.join(map(re.escape, UNIT_SUFFIXES))})", parts[0]) if parts else None
        if glued and glued.group(1) in ELEMENTS:               # AUPPM: symbol and unit in one word
            parts = [glued.group(1), glued.group(2), *parts[1:]]
        if lower in attributes or not parts or parts[0] not in ELEMENTS:
            continue
        if parts[0] in found:
            others.setdefault(parts[0], []).append(str(name))
            continue
        symbol = parts[0]
        words = parts[1:] + [a + b for a, b in zip(parts[1:], parts[2:])]       # G_T: two words
        suffix = next((UNIT_SUFFIXES[w] for w in words if w in UNIT_SUFFIXES), None)
        suffix = suffix or ("%" if "%" in lower else None)
        unit = suffix or ("g/t" if symbol in PRECIOUS else "%")
        why = f"column {name}: {ELEMENTS[symbol]}, grade in {unit} " + (
            "(from the column name)" if suffix else
            f"(no unit in the column name: assumed {unit}, the usual unit for {ELEMENTS[symbol]})")
        found[symbol] = GuessedElement(symbol, str(column), unit, why)
    for symbol, names in others.items():
        first = found[symbol]
        found[symbol] = replace(first, reason=f"{first.reason}; other {ELEMENTS[symbol]} columns, not used: "
                                              f"{', '.join(names)} (set column to use one)")
    return list(found.values())


def _value(v) -> str:
    """A TOML value."""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float) and math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(map(_value, v)) + "]"
    return json.dumps(v) if isinstance(v, str) else repr(v)


def _line(key: str, value, currency: str, note: str | None = None) -> str:
    text = (note or KEY_NOTES.get(key, "")).replace("cur/", f"{currency}/").replace("cur per", f"{currency} per")
    assignment = f"# {key} =" if value is None else f"{key} = {_value(value)}"
    return f"{assignment:<36}# {text}" if text else assignment


def starter_text(model: BlockModel, start: Mapping, columns: Mapping[str, str] | None = None,
                 source: str = "") -> tuple[str, list[GuessedElement]]:
    """(the commented TOML text of a starter economics file for ``model``, the elements found).

    start: the economics to start from as plain values (``{key: value}``, ``elements`` as
    ``{name: {key: value}}``; the owner's defaults); its rock-type tables and ``not_processable``
    keep only the rock types the model has, its rock and work-index columns are named only when the
    model has them.  columns: the column mapping the model was read with, written as ``[columns]``.
    """
    currency = start.get("currency", "USD")
    frame = model.frame
    rocks = set(frame["rock"].astype(str)) if "rock" in frame else set()
    file_names = dict(columns or {})
    elements = guess_elements({c: file_names.get(c, c) for c in model.columns if c not in ("i", "j", "k", "x", "y", "z")})
    lines = [f"# Starter economics for {source or model.name or 'the block model'}, written by orepit init.",
             "# Every value is a starting point (docs/parameters.md gives sources): confirm each one.",
             f"# Elements found: {'; '.join(e.reason for e in elements) or 'none (add [elements.NAME] tables)'}."]
    for key, value in start.items():
        if key in ("elements", "extra_value") or isinstance(value, dict):
            continue
        if key == "rock_column":
            value = value if value in frame else None
        elif key in ("bwi_column", "mill_power_kw"):       # mill hours need a work index
            value = value if start.get("bwi_column") in frame else None
        elif key == "not_processable":
            value = [r for r in value if r in rocks]
        lines.append(_line(key, value, currency))
    for key, table in start.items():
        kept = {r: v for r, v in table.items() if r in rocks} if isinstance(table, dict) and key != "elements" else {}
        if kept:
            lines += ["", f"[{key}]", *(f"{json.dumps(r)} = {_value(v)}" for r, v in kept.items())]
    presets = start.get("elements", {})
    for element in elements:
        preset = dict(presets.get(element.name, {}))
        by_rock = {r: v for r, v in preset.pop("recovery_by_rock", {}).items() if r in rocks}
        lines += ["", f"[elements.{element.name}]", _line("column", element.column, currency),
                  _line("grade_unit", element.grade_unit, currency)]
        if preset:
            lines += [_line(k, preset[k], currency) for k in ("price", "price_unit", "selling_cost", "recovery")]
        else:
            unit = "oz" if element.grade_unit in ("g/t", "ppb") else "t"
            lines += [_line("price", 0.0, currency, f"SET the {ELEMENTS[element.name]} price, {currency}/{unit}: "
                                                      "0 earns nothing"),
                      _line("price_unit", unit, currency), _line("selling_cost", 0.0, currency),
                      _line("recovery", 0.0, currency, "SET the mill's recovery (fraction)")]
        if by_rock:
            lines += ["", f"[elements.{element.name}.recovery_by_rock]",
                      *(f"{json.dumps(r)} = {_value(v)}" for r, v in by_rock.items())]
    if columns:
        lines += ["", "[columns]                           # which file column holds which model attribute",
                  *(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in columns.items())]
    return "\n".join(lines) + "\n", elements
