"""Values made ready for `json.dumps`: numpy scalars and arrays, tuples, keys, infinities."""
from __future__ import annotations

import math


def jsonable(value, nonfinite_as_text: bool = False):
    """``value`` with numpy scalars as Python numbers, arrays and tuples as lists, dict keys as text, and
    each infinite or NaN float as None (JSON null) or, with ``nonfinite_as_text``, as 'inf', '-inf', 'nan'."""
    if isinstance(value, dict):
        return {str(k): jsonable(v, nonfinite_as_text) for k, v in value.items()}
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()                  # numpy array or scalar
    if isinstance(value, (list, tuple)):
        return [jsonable(v, nonfinite_as_text) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value) if nonfinite_as_text else None
    return value
