"""What a value that orepit refuses may be: a decimal comma, thousands separators, a code for 'no value'."""
from __future__ import annotations

import re

_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+(?:[eE][+-]?\d+)?")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:[.,' ]\d{3})+(?:[.,]\d+)?")
#: values that exports write where a block has no value (Datamine's -1e30, the -99 of many packages)
ABSENT_CODES = (-99.0, -999.0, -9999.0, -99999.0)


def number_hint(text: str) -> str:
    """': a decimal comma? ...' when ``text`` (not a number) reads as one written in a spreadsheet's
    local style, else ''."""
    text = text.strip()
    if _DECIMAL_COMMA.fullmatch(text):
        return (": a decimal comma? orepit reads decimal commas only in files whose fields are separated by ';', "
                "tabs or '|' and whose first 1,000 rows hold a number with a decimal comma and none with a decimal "
                "point; save the file with decimal points")
    if _THOUSANDS.fullmatch(text):
        return ": thousands separators? save the numbers without them (2050.5, not 2.050,5 or 2,050.5)"
    return ""


def absent_hint(value: float) -> str:
    """': -99 looks like a code for no value ...' for the codes exports write for no value, else ''."""
    if value in ABSENT_CODES or value <= -1e20:
        return (f": {value:g} looks like a code for 'no value'; give those blocks a value before reading "
                "(0 for a grade outside the estimate)")
    return ""
