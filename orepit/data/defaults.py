"""Optional block attributes, their documented defaults, and how assumptions are reported.

Valuation reads a few attributes that many exported models lack.  `fill_defaults` adds each one
asked for, under its standard name, when the model has no such column (and fills blocks where the
column is empty); every default used is one line in the list of assumptions.  The defaults:

| name | default | unit | meaning of the default |
|---|---|---|---|
| ``rock`` | ``unknown`` | - | one rock type for every block: rock-dependent recoveries and costs do not apply |
| ``bwi`` | 14 | kWh/t | Bond work index in the middle of the usual range of porphyry ores (about 10-20) |
| ``sulphur`` | 0 | % S | no waste counts as potentially acid-forming |
| ``density`` | tonnage / block volume | t/m3 | derived, not assumed (needs the block size) |

Assumptions are returned, never printed here: a reader appends them to the caller's list, or,
when the caller gives none, issues one `AssumptionsWarning` that lists them all.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Iterable

import numpy as np
import pandas as pd

from solvers.errors import InputError

from orepit.data.model import BlockModel


@dataclass(frozen=True)
class Default:
    """The value an optional attribute takes when the model has none, with its unit and meaning."""
    value: object
    unit: str
    meaning: str


OPTIONAL_DEFAULTS = {
    "rock": Default("unknown", "", "one rock type for every block: rock-dependent recoveries and costs do not apply"),
    "bwi": Default(14.0, "kWh/t", "a Bond work index in the middle of the usual range of porphyry ores (10-20)"),
    "sulphur": Default(0.0, "%", "no waste counts as potentially acid-forming"),
}
DERIVED = ("density",)  # filled from other columns, not from a constant


class AssumptionsWarning(UserWarning):
    """One warning listing every assumption made while reading a block model (``.assumptions``)."""

    def __init__(self, assumptions: list[str], path=None):
        self.assumptions = list(assumptions)
        self.path = path
        where = f"{path}: " if path else ""
        super().__init__(where + "assumptions made reading the block model:\n"
                         + "\n".join(f"  - {a}" for a in self.assumptions))


def report(notes: list[str], assumptions: list | None, path=None) -> None:
    """Hand ``notes`` to the caller's list, or warn once when the caller gave no list."""
    if assumptions is not None:
        assumptions.extend(notes)
    elif notes:
        warnings.warn(AssumptionsWarning(notes, path), stacklevel=3)


def fill_defaults(frame: pd.DataFrame, names: Iterable[str], notes: list[str], block_volume=None) -> pd.DataFrame:
    """``frame`` with the optional attributes ``names`` filled where missing (one note per default used).

    ``names``: keys of `OPTIONAL_DEFAULTS` and ``density`` (tonnage / ``block_volume`` m3).
    """
    names = list(names)
    unknown = [n for n in names if n not in OPTIONAL_DEFAULTS and n not in DERIVED]
    if unknown:
        raise InputError(f"no default for {', '.join(unknown)} (defaults exist for "
                         f"{', '.join([*OPTIONAL_DEFAULTS, *DERIVED])})", field="defaults")
    frame = frame.copy()
    for name in names:
        if name == "density":
            if "density" in frame:
                continue
            if "tonnage" in frame and block_volume:
                frame["density"] = frame["tonnage"].to_numpy(dtype=np.float64) / block_volume
                notes.append(f"density: not in the model; tonnage / block volume ({block_volume:.10g} m3)")
            else:
                notes.append("density: not in the model, and not derived (it needs tonnage and the block size)")
            continue
        default = OPTIONAL_DEFAULTS[name]
        unit = f" {default.unit}" if default.unit else ""
        if name not in frame:
            frame[name] = default.value
            notes.append(f"{name}: not in the model; {default.value!r}{unit} for every block ({default.meaning})")
            continue
        empty = frame[name].isna().to_numpy()
        if empty.any():
            if isinstance(frame[name].dtype, pd.CategoricalDtype) and default.value not in frame[name].cat.categories:
                frame[name] = frame[name].cat.add_categories([default.value])
            frame.loc[empty, name] = default.value
            notes.append(f"{name}: empty in {int(empty.sum())} blocks; {default.value!r}{unit} there "
                         f"({default.meaning})")
    return frame


def with_defaults(model: BlockModel, names: Iterable[str], assumptions: list | None = None) -> BlockModel:
    """``model`` with the optional attributes ``names`` filled where missing (see `fill_defaults`).

    The assumptions go to ``assumptions`` when given, else into one `AssumptionsWarning`.
    """
    notes: list[str] = []
    volume = None if model.block_size is None else float(np.prod(model.block_size))
    frame = fill_defaults(model.frame, names, notes, volume)
    report(notes, assumptions, model.source)
    if not notes:
        return model
    return BlockModel(frame, block_size=model.block_size, origin=model.origin, grades=model.grades,
                      name=model.name, source=model.source)
