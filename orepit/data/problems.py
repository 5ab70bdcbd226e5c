"""A block model's problems, gathered while reading so that one `InputError` reports them all."""
from __future__ import annotations

import numpy as np

from solvers.errors import InputError

SHOWN = 5  # rows named per problem


def listed(words) -> str:
    """'a', 'a and b' or 'a, b and c': words for a message."""
    words = [str(w) for w in words]
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else words[0]


class Problems:
    """Collects problems (column, message, rows) and raises them together.

    ``numbers`` gives, for each table row, its number in the file (1-based), and ``word`` what
    the number counts: ``line`` for a CSV file (the header is line 1), ``row`` for Parquet,
    ``cell`` for a grid format.  ``names`` maps model names to the file's column names, so that
    messages name the column as the user sees it.
    """

    def __init__(self, path=None, numbers=None, word: str = "line", names: dict | None = None):
        self.path = path
        self.numbers = None if numbers is None else np.asarray(numbers)
        self.word = word
        self.names = dict(names or {})
        self.items: list[tuple[str | None, str, str, int | None]] = []

    def __bool__(self) -> bool:
        return bool(self.items)

    def label(self, name: str) -> str:
        """The column as the file names it (with the model name when they differ)."""
        file_name = self.names.get(name, name)
        return f"column {file_name}" if file_name == name else f"column {file_name} ({name})"

    def where(self, rows) -> tuple[str, int | None]:
        """('lines 5, 9 and 3 more', first number) for table rows."""
        rows = np.asarray(rows, dtype=np.int64).ravel()
        if rows.size == 0:
            return "", None
        numbers = rows + 1 if self.numbers is None else self.numbers[rows]
        shown = ", ".join(str(int(v)) for v in numbers[:SHOWN])
        more = f" and {rows.size - SHOWN} more" if rows.size > SHOWN else ""
        plural = "s" if rows.size > 1 else ""
        return f"{self.word}{plural} {shown}{more}", int(numbers[0])

    def add(self, column: str | None, message: str, rows=()) -> None:
        """Record a problem of ``column`` (a model name, or None for the whole model)."""
        where, first = self.where(rows)
        text = (self.label(column) + ": " if column else "") + message
        self.items.append((column, text, where, first))

    def check(self, column: str, bad, what: str, first=None) -> bool:
        """Record ``what`` (e.g. 'negative values') for the rows where ``bad`` holds; True if none.
        first: gives, for the first such row (0-based), (its value as text, a hint or ''), quoted
        after the count."""
        rows = np.flatnonzero(np.asarray(bad))
        if rows.size:
            told = ""
            if first:
                value, hint = first(int(rows[0]))
                told = f", first {value} at {self.where(rows[:1])[0]}{hint}" if rows.size > 1 else f": {value}{hint}"
            self.add(column, f"{what} in {rows.size} row{'s' if rows.size > 1 else ''}{told}", rows)
        return rows.size == 0

    def raise_if_any(self) -> None:
        """One `InputError` listing every problem, or nothing."""
        if not self.items:
            return
        column, text, where, first = self.items[0]
        field = self.names.get(column, column) if column else None
        if len(self.items) == 1:
            line = first if self.word == "line" else None
            if where and where != f"line {line}":           # the one line is named in front already
                text += f" ({where})"
            raise InputError(text, path=self.path, line=line, field=field)
        lines = "\n".join(f"  - {t}" + (f" ({w})" if w else "") for _, t, w, _ in self.items)
        raise InputError(f"{len(self.items)} problems in the block model:\n{lines}", path=self.path, field=field)
