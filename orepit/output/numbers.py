"""How the report and kpis.md write numbers: one rounding rule per table row or column.

`decimals` picks the decimals of a whole row or column from its largest value (three significant
figures of it, whole numbers from 100 up), or, when fewer (or one more, below 100), the fewest that
write every value exactly (counts; 88 for 88.00000000000001; cut-offs 0.025, 0.05, ... to 1).  `cell` writes a value with them: thousands separators,
solver round-off (7e-08 t) as 0, never ``-0``, a missing value as ``missing``.
"""
from __future__ import annotations

import math

import pandas as pd

#: most decimals a value is written with
MOST = 6
#: smaller values are solver round-off, written as 0
TINY = 1e-6


def _finite(values) -> list[float]:
    out = []
    for v in values:
        if isinstance(v, (bool, str)) or v is None:
            continue
        try:
            f = float(v)
        except (TypeError, ValueError):
            continue
        if math.isfinite(f):
            out.append(0.0 if abs(f) < TINY else f)
    return out


def _exact(values: list[float], most: int = 4) -> int | None:
    """The fewest decimals (at most ``most``) that write every value exactly, or None."""
    for d in range(most + 1):
        if all(abs(v * 10 ** d - round(v * 10 ** d)) <= 1e-9 * max(1.0, abs(v * 10 ** d)) for v in values):
            return d
    return None


def decimals(values, least: int = 0) -> int:
    """Decimals for every number of ``values`` (a table row or column), at least ``least``."""
    found = _finite(values)
    top = max((abs(v) for v in found), default=0.0)
    d = 0 if top >= 100 or top == 0 else min(MOST, 2 - int(math.floor(math.log10(top))))
    exact = _exact(found)
    return max(exact if exact is not None and (exact <= d or exact == d + 1 and top < 100) else d, least)


def cell(value, places: int, missing: str = "-") -> str:
    """``value`` with ``places`` decimals and thousands separators; text as it is."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return missing if value is None else str(value)
    if not math.isfinite(v):
        return missing if v != v else str(v)
    v = 0.0 if abs(v) < TINY else v
    text = f"{v:,.{places}f}"
    return text[1:] if text.startswith("-") and float(text.replace(",", "")) == 0 else text


def format_columns(frame: pd.DataFrame, missing: str = "-") -> pd.DataFrame:
    """Every column of ``frame`` as text, one rounding rule per column."""
    return pd.DataFrame({c: [cell(v, decimals(frame[c]), missing) for v in frame[c]] for c in frame.columns},
                        index=frame.index)


def format_rows(frame: pd.DataFrame, label: str, least=lambda name: 0, missing: str = "-") -> pd.DataFrame:
    """Every row of ``frame`` as text, one rounding rule per row (its ``label`` column kept as it is);
    ``least(label)``: the fewest decimals of that row."""
    rows = []
    for _, row in frame.iterrows():
        values = row.drop(label)
        d = decimals(values, least(str(row[label])))
        rows.append({label: row[label], **{c: cell(v, d, missing) for c, v in values.items()}})
    return pd.DataFrame(rows, columns=frame.columns)
