"""`orepit.data.csv_text.write_csv` writes the very bytes ``pandas.DataFrame.to_csv(index=False)`` writes."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from orepit.data import csv_text
from orepit.data.csv_text import write_csv


def _floats(rng, n: int) -> np.ndarray:
    """Floats of every kind pandas formats differently: short and long decimals over 30 decades,
    whole numbers, random bit patterns, the edges of the range where Arrow's text is used."""
    exponent = np.floor(rng.uniform(-12, 20, n))
    full = rng.uniform(1, 10, n) * 10.0 ** exponent
    scale = 10.0 ** (rng.integers(0, 17, n) - exponent)
    with np.errstate(over="ignore", invalid="ignore"):
        short = np.round(full * scale) / scale
    bits = rng.integers(0, 2 ** 63, n, dtype=np.int64).view(np.float64)
    low, high = csv_text.SAME_AS_PYTHON
    edges = np.array([0.0, -0.0, 1.0, -3.0, 0.5, 1e-5, 1e15, 1e16, 2.0 ** 53, 1e22, 5e-324, np.inf, -np.inf, np.nan,
                      low, np.nextafter(low, 0), np.nextafter(low, 1), high, np.nextafter(high, 0),
                      np.nextafter(high, 0) - 0.5, high + 0.5, 1 / 3, 0.1 + 0.2, 123456.789])
    values = np.concatenate([full, short, bits, edges, -edges, rng.standard_normal(n) * 1e4])
    return rng.permutation(values)


def _frame(rng, n: int) -> pd.DataFrame:
    labels = ["mill", "dump", "", "a,b", 'say "hi"', "two\nlines", " lead", "trail ", "ünï", "x\ry"]
    values = _floats(rng, n)
    m = len(values)
    text = rng.choice(labels, m).astype(object)
    text[rng.random(m) < 0.1] = None
    return pd.DataFrame({
        "id": np.arange(m), "value": values, "ints": rng.integers(-2 ** 62, 2 ** 62, m),
        "small": rng.integers(0, 200, m).astype(np.uint8), "flag": rng.random(m) < 0.5,
        "rock": pd.Categorical(rng.choice(["granite", "ore, rich", np.nan], m, p=[0.5, 0.4, 0.1])),
        "destination": pd.Series(text, dtype="str"), "mixed": pd.Series(text, dtype=object),
        "f32": _to_float32(values), "half": np.round(values, 1), "all nan": np.full(m, np.nan),
    })


def _to_float32(values: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return values.astype(np.float32)


def _same_as_pandas(frame: pd.DataFrame, tmp_path) -> None:
    ours, theirs = tmp_path / "ours.csv", tmp_path / "pandas.csv"
    write_csv(frame, ours)
    frame.to_csv(theirs, index=False)
    a, b = ours.read_bytes(), theirs.read_bytes()
    if a != b:
        first = next(k for k, (x, y) in enumerate(zip(a, b)) if x != y) if min(len(a), len(b)) else 0
        pytest.fail(f"differs at byte {first}: ours {a[first - 40:first + 40]!r}, pandas {b[first - 40:first + 40]!r}")


def test_the_same_bytes_as_pandas_for_every_kind_of_value(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_text, "CHUNK", 1000)          # several chunks, one of them short
    _same_as_pandas(_frame(np.random.default_rng(7), 20_000), tmp_path)


def test_the_same_bytes_as_pandas_for_odd_shapes(tmp_path):
    rng = np.random.default_rng(3)
    frame = _frame(rng, 50)
    _same_as_pandas(frame.iloc[:0], tmp_path)                       # a header only
    _same_as_pandas(frame[["destination"]], tmp_path)               # one column: pandas quotes a lone ""
    _same_as_pandas(frame.rename(columns={"value": "a, b", "ints": 'q"'}), tmp_path)     # header quoted
    _same_as_pandas(pd.DataFrame({"a": [1.5, 2.0], "b": ["", ""]}), tmp_path)
