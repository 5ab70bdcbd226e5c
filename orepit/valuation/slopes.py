"""Slope angles by geotechnical domain: the slope table.

A slope table maps the values of one block-model column (the domain: rock type, geotechnical zone)
to overall slope angles, each one angle or one angle per equal azimuth sector (the first centred on
north, then clockwise; the convention of ``--slope``).  It is the ``[slopes]`` table of a TOML file
(``--slope-table FILE.toml``, or the ``[slopes]`` table of an economics file)::

    [slopes]
    column = "rock"              # the block-model column naming the domain (after --columns mapping)
    default = 45                 # domains the table does not list (omit: an unlisted domain is an error)
    [slopes.angles]
    leached = 38
    host = [45, 50, 45, 40]      # north, east, south, west sectors

Domain values are compared as text (``1`` in the model matches the key ``"1"``).  How the angles
make the precedence: `orepit.valuation.precedence.precedence_from_geometry` (each block's arcs follow
its own domain's cone; the precedence is their transitive closure).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from solvers.errors import InputError

from orepit.data.toml import Checker, read_toml

KEYS = ("column", "default", "angles")


@dataclass(frozen=True)
class SlopeTable:
    """Slope angles (degrees in (0, 90]) per domain of ``column``; ``default`` for unlisted domains
    (None: an unlisted domain is an error); ``source``: the file it was read from (for messages)."""

    column: str
    angles: dict = field(default_factory=dict)          # domain (text) -> degrees or tuple of degrees
    default: float | tuple | None = None
    source: str | None = None

    @classmethod
    def from_toml(cls, path) -> "SlopeTable":
        """The ``[slopes]`` table of a TOML file; `InputError` naming the file, line and key."""
        table = cls.from_parameter_file(path, "slope table")
        if table is None:
            raise InputError("no [slopes] table (column = ..., [slopes.angles] domain = degrees)", path=path,
                             field="slopes")
        return table

    @classmethod
    def from_parameter_file(cls, path, what: str = "parameter") -> "SlopeTable | None":
        """The ``[slopes]`` table of a TOML file (also an economics file's), or None when it has none."""
        data, text = read_toml(path, what)
        return cls.from_dict(data["slopes"], Checker(path, text).within("slopes")) if "slopes" in data else None

    @classmethod
    def from_dict(cls, data, check: Checker | None = None) -> "SlopeTable":
        """From ``{"column": ..., "default": ..., "angles": {...}}`` (``check``: where it was read)."""
        check = Checker() if check is None else check
        check.table((), data, "with column, default and angles")
        check.keys(data, KEYS)
        if "column" not in data:
            raise check.error("column", "missing: the block-model column naming the domain")
        column = check.column("column", data["column"], optional=False)
        default = _angles(check, "default", data["default"]) if "default" in data else None
        table = check.table("angles", data.get("angles", {}), "domain -> degrees")
        angles = {str(name): _angles(check, ("angles", str(name)), value) for name, value in table.items()}
        if not angles and default is None:
            raise check.error("angles", "no domain has an angle and there is no default")
        return cls(column, angles, default, check.path)

    def to_dict(self) -> dict:
        """The table as ``from_dict`` reads it (JSON-ready; summary.json records it)."""
        plain = {"column": self.column, "angles": {k: _plain(v) for k, v in self.angles.items()}}
        if self.default is not None:
            plain["default"] = _plain(self.default)
        return plain

    def block_domains(self, model) -> tuple[np.ndarray, list]:
        """(index per block into the list, the list of distinct angle specifications) of a block
        model (anything with ``model[column]``, ``column in model`` and ``source``)."""
        where = dict(path=self.source, field=self.column)
        if self.column not in model:
            columns = ", ".join(getattr(model, "columns", []))
            raise InputError(f"column: the block model has no column '{self.column}' (columns: {columns})", **where)
        codes, uniques = pd.factorize(np.asarray(model[self.column]), sort=False)
        if (codes < 0).any():
            row = int(np.flatnonzero(codes < 0)[0])
            raise InputError(f"block {row}: {self.column} is missing (no domain)", **where)
        names = [str(u) for u in uniques]
        specs: list = []
        spec_of_name = np.empty(len(names), dtype=np.int32)
        for n, name in enumerate(names):
            spec = self.angles.get(name, self.default)
            if spec is None:
                row = int(np.flatnonzero(codes == n)[0])
                raise InputError(f"block {row}: {self.column} = {name!r} is not in [slopes.angles] and the table "
                                 f"has no default (listed: {', '.join(sorted(self.angles))})", **where)
            if spec not in specs:
                specs.append(spec)
            spec_of_name[n] = specs.index(spec)
        return spec_of_name[codes], specs


def slope_record(slope) -> dict:
    """How a study's slopes are recorded (summary.json): ``{"slope_deg": angles}`` or
    ``{"slope_table": SlopeTable.to_dict()}``."""
    return {"slope_table": slope.to_dict()} if isinstance(slope, SlopeTable) else {"slope_deg": slope}


def slope_from_record(record: dict, path=None):
    """The slope angles or `SlopeTable` of a `slope_record` (``path``: the file it was read from)."""
    if "slope_table" in record:
        return SlopeTable.from_dict(record["slope_table"], Checker(path, None, ("precedence", "slope_table")))
    if "slope_deg" not in record:
        raise InputError("precedence: neither slope_deg nor slope_table is recorded", path=path, field="precedence")
    return record["slope_deg"]


def _angles(check: Checker, key, value):
    """Degrees in (0, 90], or a non-empty list of them (one per equal azimuth sector) as a tuple."""
    if isinstance(value, list):
        if not value:
            raise check.error(key, "expected one angle or a list of angles per azimuth sector, got []")
        return tuple(float(check.number(key, v, 0.0, 90.0, open_low=True)) for v in value)
    return float(check.number(key, value, 0.0, 90.0, open_low=True))


def _plain(spec):
    return list(spec) if isinstance(spec, tuple) else spec
