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
from orepit.data.problems import listed

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
    Lines starting with '#' above the header (an export's notes on its source, date and units) and
    Vulcan's variable descriptions, types and defaults under it (`_preamble`) are skipped, and
    ``notes`` says which; Vulcan's defaults go to the frame's ``attrs["defaults"]`` ({column: text})."""
    _refuse_utf16(path)
    comments, described, sep, head = _preamble(path)
    if comments and not head:
        raise InputError("no header row: every line that is not blank starts with '#'", path=path)
    if comments and _EXCEL_SEP.fullmatch(_first_line(path, comments[0])):
        notes.append(f"line {comments[0]} (Excel's 'sep={sep}') gives the field separator")
    hashed = [n for n in comments if n != comments[0] or not _EXCEL_SEP.fullmatch(_first_line(path, n))]
    if hashed:
        notes.append(f"{_lines(hashed)} above the header skipped (they start with '#')")
    if described:
        notes.append(f"{_lines([n for _, _, n in described])} under the header skipped (Vulcan's variable "
                     f"{listed(kind for kind, _, _ in described)})")
    names = [name.strip() for name in next(csv.reader([head[0].lstrip("\ufeff")], delimiter=sep))]
    _refuse_repeated_names(names, path, next(n for n in itertools.count(1) if n not in comments))
    decimal = _decimal_mark(head[1 + len(described):], sep)
    if decimal == ",":
        notes.append(f"numbers with decimal commas (fields separated by {SEPARATOR_NAMES.get(sep, repr(sep))}, no "
                     "number with a decimal point)")
    options = dict(sep=sep, decimal=decimal, engine="c", low_memory=False, header=0,
                   skiprows=[n - 1 for n in _skipped(comments, described)],       # 0-based lines
                   usecols=None if wanted is None else wanted.__contains__)
    try:
        frame = pd.read_csv(path, encoding="utf-8", **options)
    except UnicodeDecodeError:
        not_utf8, not_cp1252 = _first_lines_not_in(path, ("utf-8", "cp1252"))
        if not_cp1252 is not None:
            raise InputError("text is neither UTF-8 nor Windows-1252: save the file as UTF-8", path=path,
                             line=not_cp1252) from None
        notes.append(f"text read as Windows-1252, not UTF-8 (line {not_utf8} is not UTF-8)")
        frame = pd.read_csv(path, encoding="cp1252", **options)
    unnamed = [c for c in frame.columns if str(c).startswith("Unnamed: ")] if "" in names else []
    if unnamed and frame[unnamed].isna().all().all():
        frame = frame.drop(columns=unnamed)
        notes.append("an empty column without a name skipped (a separator at the end of each line)")
    defaults = next((fields for kind, fields, _ in described if kind == "defaults"), None)
    if defaults is not None:
        frame.attrs["defaults"] = {name: value.strip() for name, value in zip(names[1:], defaults[1:])
                                   if name in frame.columns and value.strip()}   # the first: the line's name
    return frame


def _refuse_repeated_names(names: list[str], path, line: int) -> None:
    """`InputError` for a header that names a column twice (pandas would read the second as NAME.1 and
    orepit use the first, a silent guess)."""
    seen = {}
    for name in names:
        if name:
            seen[name] = seen.get(name, 0) + 1
    twice = [name for name, k in seen.items() if k > 1]
    if twice:
        raise InputError(f"the header names column(s) {listed(twice)} more than once: rename or remove the copies",
                         path=path, line=line, field=twice[0])


def _refuse_utf16(path) -> None:
    """`InputError` for UTF-16 text (Excel's 'Unicode text'): a byte-order mark, or NUL bytes, first."""
    with open(path, "rb") as fh:
        start = fh.read(1024)
    if start.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in start:
        raise InputError("text is UTF-16 (as Excel saves 'Unicode text'), not UTF-8 or Windows-1252: save the file "
                         "as 'CSV UTF-8'", path=path, line=1)


def _first_line(path, number: int) -> str:
    """Line ``number`` (from 1) of a text file, stripped."""
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        return next(itertools.islice(fh, number - 1, None), "").strip().lstrip("\ufeff")


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


def _preamble(path, lines: int = 1000):
    """What a CSV file holds before its first row: (comments, described, sep, head).

    comments: the numbers of the lines above the header that start with '#', and of Excel's
    first line ``sep=;`` (which gives ``sep``); the header is the first other non-blank line.  described: Vulcan's description, type and default lines
    directly under the header, as (``descriptions`` / ``types`` / ``defaults``, the line's fields,
    its number).  sep: the field separator, sniffed from the header.  head: the header and up to
    ``lines`` non-blank lines after it.  Lines are counted from 1 and end at \\n, \\r\\n or \\r.
    """
    comments, sep = [], None
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        numbered = enumerate(fh, 1)
        for number, line in numbered:
            text = line.strip().lstrip("\ufeff")       # a byte-order mark first (Excel's CSV UTF-8)
            excel = _EXCEL_SEP.fullmatch(text) if sep is None and not comments else None
            if excel:                                   # Excel's first line 'sep=;': no row, the separator
                comments.append(number)
                sep = excel.group(1)
                continue
            if text and not text.startswith("#"):
                rest = list(itertools.islice(((n, x) for n, x in numbered if x.strip()), max(lines, 3)))
                sep = sep or csv.Sniffer().sniff(line).delimiter
                return comments, _described(rest[:3], sep), sep, [line, *(x for _, x in rest[:lines])]
            if text:
                comments.append(number)
    return comments, [], ",", []


_EXCEL_SEP = re.compile(r"sep=(.)", re.IGNORECASE)

# Vulcan's "Model to CSV" writes three lines under the header: the variables' descriptions, types and
# defaults, each named in its first field ("Variable descriptions:"), the next six fields (the block's
# centroid, lengths and volume) empty.
_DESCRIBED = re.compile(r"(?:variable\s+)?(description|type|default)s?\s*:?", re.IGNORECASE)


def _described(lines: list[tuple[int, str]], sep: str) -> list[tuple[str, list[str], int]]:
    """Vulcan's description, type and default lines among the numbered ``lines`` under the header,
    from the first on: [(``descriptions`` / ``types`` / ``defaults``, the line's fields, its number)]."""
    found = []
    for number, line in lines:
        fields = next(csv.reader([line.rstrip("\r\n")], delimiter=sep), [])
        match = _DESCRIBED.fullmatch(fields[0].strip()) if fields else None
        if match is None or any(field.strip() for field in fields[1:7]):
            break
        found.append((match.group(1).lower() + "s", fields, number))
    return found


def _skipped(comments: list[int], described) -> list[int]:
    """The numbers of the lines `_preamble` found that are no rows: comments and Vulcan's lines."""
    return comments + [number for _, _, number in described]


def _lines(numbers: list[int]) -> str:
    """'line 1' or 'lines 1-3' (numbers consecutive) or 'lines 1, 3 and 4'."""
    if len(numbers) == 1:
        return f"line {numbers[0]}"
    if numbers[-1] - numbers[0] == len(numbers) - 1:
        return f"lines {numbers[0]}-{numbers[-1]}"
    return "lines " + listed(numbers)


_COMMA_NUMBER = re.compile(r"\s*[+-]?\d*,\d+(?:[eE][+-]?\d+)?\s*")
_POINT_NUMBER = re.compile(r"\s*[+-]?\d*\.\d+(?:[eE][+-]?\d+)?\s*")


#: how a field separator is named in messages
SEPARATOR_NAMES = {";": "';'", "\t": "tabs", "|": "'|'", ",": "','"}


def _decimal_mark(rows: list[str], sep: str) -> str:
    """',' for a file that separates its fields with ';', tabs or '|' and writes decimal commas (as
    spreadsheets do in many countries): among its data ``rows`` (the first of the file) some field is
    a number with a decimal comma (``2,747``) and none a number with a decimal point; else '.'."""
    if sep == ",":
        return "."
    comma = False
    for line in rows:
        for field in line.rstrip("\r\n").split(sep):
            if _POINT_NUMBER.fullmatch(field):
                return "."
            comma = comma or bool(_COMMA_NUMBER.fullmatch(field))
    return "," if comma else "."


def row_numbers(path, kind: str, n_rows: int) -> tuple[np.ndarray, str]:
    """(file number of each table row, what it counts): CSV lines (counted from 1 at the top of the
    file; the header, the comment lines above it, Vulcan's descriptions under it (`_preamble`) and
    blank lines are no rows; a line ends at \\n, \\r\\n or \\r), or 1-based Parquet rows."""
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
    comments, described, _, _ = _preamble(path, lines=0)
    filled = filled[~np.isin(filled, _skipped(comments, described))]   # comments, Vulcan's lines
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
