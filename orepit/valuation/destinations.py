"""Where a mined block can go: the mill, the low-grade stockpile or the dump.

One vocabulary for the whole project: these names appear in column names (``value_dump_usd``,
``env_cost_dump_usd``, ``co2_dump_kg``), parameter keys (``surface_haul_km.dump``,
``extra_value.dump``), plans (the middle axis of ``Plan.sent``) and results (``destination_S``).
"Waste" names *material* below the cut-off (waste rock, ``waste_t``, the strip ratio); the place it
is sent to is the dump.
"""
from __future__ import annotations

#: destination indices (the order of every (n, 3) array)
MILL, STOCKPILE, DUMP = 0, 1, 2
#: destination names, in index order
DESTINATIONS = ("mill", "stockpile", "dump")
#: former destination names in parameter keys -> the current name
RENAMED_DESTINATIONS = {"waste": "dump"}


def destination_columns(pattern: str, unit: str = "") -> dict[str, str]:
    """Destination -> column name, from a pattern with ``{d}`` (destination) and ``{u}`` (unit),
    e.g. ``destination_columns("value_{d}_{u}", "usd")["dump"] == "value_dump_usd"``."""
    return {d: pattern.format(d=d, u=unit) for d in DESTINATIONS}
