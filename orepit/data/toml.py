"""Reading TOML parameter and study files with errors that name the file and line."""
from __future__ import annotations

import os
import re
import tomllib

from solvers.errors import InputError


def read_toml(path, what: str) -> tuple[dict, str]:
    """(data, text) of a TOML file; ``what`` names the kind of file in messages (e.g. 'economics')."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as fh:
            text = fh.read().decode("utf-8", errors="replace")
    except OSError as exc:
        raise InputError(f"cannot read {what} file: {exc.strerror}", path=path) from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise InputError(f"not valid TOML: {exc}", path=path, line=int(m.group(1)) if m else None) from None


def key_line(text: str | None, table: str | None, key: str) -> int | None:
    """1-based line of ``key = ...`` inside ``[table]`` (or of the ``[key]`` header), if found."""
    if not text:
        return None
    start = 0
    if table is not None:
        header = re.search(rf"^\s*\[\s*{re.escape(table)}\s*\]", text, re.M)
        if header is None:
            return None
        start = header.end()
    m = re.compile(rf'^\s*(?:"{re.escape(key)}"|{re.escape(key)})\s*=|^\s*\[\s*{re.escape(key)}\s*\]',
                   re.M).search(text, start)
    return None if m is None else text.count("\n", 0, m.start()) + 1
