"""CSV and Parquet block-model tables."""
from __future__ import annotations

import csv
import itertools
import json
import os
import re
from typing import Iterable

import numpy as np
import pandas as pd

from solvers.errors import InputError

from orepit.data.atomic import atomic_path
from orepit.data.csv_text import write_csv

_META_KEY = b"orepit"


def read_table(path, kind: str, only: Iterable[str] | None = None, notes: list | None = None) -> pd.DataFrame:
    """Read a CSV (header row, after any lines starting with '#'; the separator sniffed from it,
    decimal commas as `_decimal_mark` says; UTF-8 or Windows-1252 text) or Parquet table; errors
    name the file.
    only: the names of the columns to read (those of them the file has; the others are not read);
    notes: receives one line for each assumption made (comment lines skipped, decimal commas,
    Windows-1252 text)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise InputError("file not found", path=path)
    wanted = None if only is None else set(only)
    try:
        if kind == "csv":
            return _read_csv(path, wanted, [] if notes is None else notes)
        return _read_parquet(path, wanted)
    except InputError:
        raise
    except pd.errors.ParserError as exc:  # pandas reports "line N" in its message
        raise InputError(f"cannot parse CSV: {exc}", path=path) from None
    except Exception as exc:  # noqa: BLE001 - any reader failure is bad input here
        raise InputError(f"cannot read {kind} table: {exc}", path=path) from None


def _read_csv(path: str, wanted: set | None, notes: list) -> pd.DataFrame:
    """A CSV table: UTF-8 text, else Windows-1252 (what software on Windows writes; ``notes`` says so).
    Lines starting with '#' above the header (an export's notes on its source, date and units) are
    skipped, and ``notes`` says which."""
    comments, head = _head(path)
    if comments and not head:
        raise InputError("no header row: every line that is not blank starts with '#'", path=path)
    if comments:
        notes.append(f"{_lines(comments)} above the header skipped (they start with '#')")
    sep = csv.Sniffer().sniff(head[0]).delimiter if head else ","
    decimal = _decimal_mark(head[1:], sep)
    if decimal == ",":
        notes.append("numbers with decimal commas (fields separated by ';', no number with a decimal point)")
    options = dict(sep=sep, decimal=decimal, engine="c", low_memory=False,
                   header=len(comments),                      # pandas counts no blank line here
                   usecols=None if wanted is None else wanted.__contains__)
    try:
        return pd.read_csv(path, encoding="utf-8", **options)
    except UnicodeDecodeError:
        pass
    not_utf8, not_cp1252 = _first_lines_not_in(path, ("utf-8", "cp1252"))
    if not_cp1252 is not None:
        raise InputError("text is neither UTF-8 nor Windows-1252: save the file as UTF-8", path=path,
                         line=not_cp1252)
    notes.append(f"text read as Windows-1252, not UTF-8 (line {not_utf8} is not UTF-8)")
    return pd.read_csv(path, encoding="cp1252", **options)


def _first_lines_not_in(path, encodings) -> list[int | None]:
    """For each encoding, the number of the first line of the file that is not text in it (None: none)."""
    first: list[int | None] = [None] * len(encodings)
    with open(path, "rb") as fh:
        for number, line in enumerate(fh, 1):
            for e, encoding in enumerate(encodings):
                if first[e] is None:
                    try:
                        line.decode(encoding)
                    except UnicodeDecodeError:
                        first[e] = number
            if None not in first:
                break
    return first


def _read_parquet(path: str, wanted: set | None) -> pd.DataFrame:
    """A Parquet table (the ``wanted`` columns, or all) as pandas reads it, one column at a time: the
    Arrow buffers of each are handed back to the system before the next is read, so that the peak
    is the frame and one column (a whole-table read held about twice the frame: 3.1 GB against
    1.5 GB for the report's columns at 10M blocks)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    source = pq.ParquetFile(path)
    schema = source.schema_arrow
    index = [c for c in (schema.pandas_metadata or {}).get("index_columns", []) if isinstance(c, str)]
    columns = {}
    for name in schema.names:
        if name not in index and (wanted is None or name in wanted):
            columns[name] = source.read(columns=[name]).to_pandas()[name]   # dtype as pandas wrote it
            pa.default_memory_pool().release_unused()
    frame = pd.DataFrame(columns, copy=False) if columns else pd.DataFrame(index=pd.RangeIndex(source.metadata.num_rows))
    if index:
        frame.index = source.read(columns=index).to_pandas().index
    return frame


def _head(path, lines: int = 1000) -> tuple[list[int], list[str]]:
    """(the numbers of the comment lines above the header, the header and up to ``lines`` non-blank
    lines after it) of a CSV file: the header is its first non-blank line not starting with '#'."""
    comments = []
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        for number, line in enumerate(fh, 1):
            text = line.strip().lstrip("\ufeff")       # a byte-order mark first (Excel's CSV UTF-8)
            if text and not text.startswith("#"):
                return comments, [line, *itertools.islice((x for x in fh if x.strip()), lines)]
            if text:
                comments.append(number)
    return comments, []


def _lines(numbers: list[int]) -> str:
    """'line 1' or 'lines 1-3' (numbers consecutive) or 'lines 1, 3 and 4'."""
    if len(numbers) == 1:
        return f"line {numbers[0]}"
    if numbers[-1] - numbers[0] == len(numbers) - 1:
        return f"lines {numbers[0]}-{numbers[-1]}"
    return "lines " + ", ".join(map(str, numbers[:-1])) + f" and {numbers[-1]}"


_COMMA_NUMBER = re.compile(r"\s*[+-]?\d*,\d+(?:[eE][+-]?\d+)?\s*")
_POINT_NUMBER = re.compile(r"\s*[+-]?\d*\.\d+(?:[eE][+-]?\d+)?\s*")


def _decimal_mark(rows: list[str], sep: str) -> str:
    """',' for a file that separates its fields with ';' and writes decimal commas (as spreadsheets
    do in many countries): among its data ``rows`` (the first of the file) some field is a number with
    a decimal comma (``2,747``) and none a number with a decimal point; else '.'."""
    if sep != ";":
        return "."
    comma = False
    for line in rows:
        for field in line.rstrip("\r\n").split(";"):
            if _POINT_NUMBER.fullmatch(field):
                return "."
            comma = comma or bool(_COMMA_NUMBER.fullmatch(field))
    return "," if comma else "."


def row_numbers(path, kind: str, n_rows: int) -> tuple[np.ndarray, str]:
    """(file number of each table row, what it counts): CSV lines (counted from 1 at the top of the
    file; the header, the comment lines above it (`_head`) and blank lines are no rows; a line ends
    at \\n, \\r\\n or \\r), or 1-based Parquet rows."""
    if kind != "csv":
        return np.arange(1, n_rows + 1), "row"
    with open(path, "rb") as fh:
        data = np.frombuffer(fh.read(), dtype=np.uint8)
    lone_cr = data == 13
    lone_cr[:-1] &= data[1:] != 10
    ends = np.flatnonzero((data == 10) | lone_cr)
    if data.size and (ends.size == 0 or ends[-1] != data.size - 1):
        ends = np.append(ends, data.size - 1)       # a last line without a line break
    starts = np.concatenate(([0], ends[:-1] + 1)).astype(np.int64)
    filled = np.flatnonzero(np.logical_or.reduceat(_FILLED[data], starts)) + 1 if ends.size else ends
    filled = filled[len(_head(path, lines=0)[0]):]   # not the comment lines above the header
    if filled.size == n_rows + 1:
        return filled[1:], "line"
    return np.arange(2, n_rows + 2), "line"     # quoted line breaks: one row per line assumed


_FILLED = np.ones(256, dtype=bool)
_FILLED[list(b" \t\n\r\x0b\x0c")] = False          # the bytes bytes.strip() removes


def read_parquet_meta(path) -> dict:
    """The orepit metadata (block size, origin, grades, name) stored in a Parquet file, if any."""
    import pyarrow.parquet as pq
    try:
        meta = pq.read_schema(os.fspath(path)).metadata or {}
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"cannot read Parquet schema: {exc}", path=path) from None
    raw = meta.get(_META_KEY)
    try:
        data = json.loads(raw) if raw else {}
    except (ValueError, UnicodeDecodeError):
        raise InputError("the orepit metadata in the Parquet schema is damaged", path=path) from None
    if not isinstance(data, dict):
        raise InputError("the orepit metadata in the Parquet schema is not a table", path=path)
    return data


def write_table(frame: pd.DataFrame, path, kind: str, meta: dict | None = None) -> None:
    """Write a block table with an ``id`` column first, atomically."""
    out = frame.copy(deep=False)                 # the new column goes into this frame only
    out.insert(0, "id", range(len(out)))
    if kind == "csv":
        write_csv(out, path)
        return
    with atomic_path(path) as tmp:
        import pyarrow as pa
        import pyarrow.parquet as pq
        table = pa.Table.from_pandas(out, preserve_index=False)
        schema_meta = dict(table.schema.metadata or {})
        schema_meta[_META_KEY] = json.dumps(meta or {}).encode()
        pq.write_table(table.replace_schema_metadata(schema_meta), tmp)
