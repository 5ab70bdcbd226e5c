"""A block model's tonnage against its density and block volume: tonnes in kt, or a density in kg/m3,
refused before they value a deposit a thousand times too small or too large.

A block holds at most its volume of rock: tonnage (t) may be below density (t/m3) x block volume
(m3), as for a block clipped at the topography, but not more than `ABOVE` times it (rounding of the
density).  Clipping leaves a few blocks with a sliver of their volume, not most of them: tonnage
below `BELOW` x density x volume in over half of the blocks that hold both is refused.  Without a
density column, a density derived from the tonnage (tonnage / block volume, when asked for) must
lie in the range a density column must: at most `DENSEST` in every block, and not below `LIGHTEST`
in most blocks.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from orepit.data.grid import fmt
from orepit.data.problems import Problems

DENSEST = 10.0      # t/m3: no rock is denser (massive sulphides and iron ores: 4-5.5)
LIGHTEST = 0.1      # t/m3: no rock is lighter in most of a model (coal 1.2-1.5, dry soil 1.1)
ABOVE = 1.1         # tonnage / (density x volume) allowed above 1 (densities rounded)
BELOW = 1 / 20      # tonnage / (density x volume) below which most blocks are not clipped but in another unit


def check_tonnage(frame: pd.DataFrame, volume, problems: Problems, derive_density: bool = False) -> None:
    """Record tonnages that density x ``volume`` (m3: one number, or one per row) cannot explain, and,
    without a density column when ``derive_density`` (density = tonnage / volume to come), densities
    outside the range; nothing when the tonnage or the volume is unknown, or a value is not a number
    (recorded already)."""
    if volume is None or any(frame[c].dtype.kind != "f" for c in ("tonnage", "density") if c in frame):
        return
    if "tonnage" not in frame:
        return
    tonnes = frame["tonnage"].to_numpy(dtype=np.float64)
    volume = np.broadcast_to(np.asarray(volume, dtype=np.float64), tonnes.shape)
    if "density" in frame:
        density = frame["density"].to_numpy(dtype=np.float64)
        expected = density * volume
        over = tonnes > ABOVE * expected
        bad = over if over.any() else _most(tonnes > 0, tonnes < BELOW * expected, expected > 0)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            what = (f"above {ABOVE:g} x density x block volume in {_rows(bad)} (a block holds at most its volume "
                    f"of rock)" if over.any() else f"below 1/{1 / BELOW:g} of density x block volume in most blocks "
                    f"({_rows(bad)}; clipping at the topography leaves a few blocks with less, not most)")
            problems.add("tonnage", f"tonnages {what}; first {fmt(tonnes[row])} t at {problems.where([row])[0]}, where "
                                    f"{fmt(density[row])} t/m3 x {fmt(volume[row])} m3 = {fmt(expected[row])} t: is "
                                    f"the tonnage in kt, or the density not in t/m3?", np.flatnonzero(bad))
        return
    if not derive_density:
        return
    implied = tonnes / volume
    over = implied > DENSEST
    bad = over if over.any() else _most(tonnes > 0, implied < LIGHTEST, volume > 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        what = f"above {DENSEST:g} t/m3 in {_rows(bad)}" if over.any() else \
            f"below {LIGHTEST:g} t/m3 in most blocks ({_rows(bad)})"
        problems.add("tonnage", f"tonnage / block volume (the density it implies) is {what}; first "
                                f"{fmt(tonnes[row])} t / {fmt(volume[row])} m3 = {implied[row]:.3g} t/m3 at "
                                f"{problems.where([row])[0]}: "
                                "orepit reads tonnage in t (is it in kt?)", np.flatnonzero(bad))


def _rows(bad: np.ndarray) -> str:
    n = int(bad.sum())
    return f"{n} row{'s' if n > 1 else ''}"


def _most(held: np.ndarray, low: np.ndarray, known: np.ndarray) -> np.ndarray:
    """``low`` where it holds in over half of the rows that are ``held`` and ``known``; else none."""
    counted = held & known
    low = low & counted
    return low if low.sum() * 2 > counted.sum() else np.zeros_like(low)
