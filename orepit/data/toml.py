"""TOML parameter and study files: reading them, finding the line of a key, checking values.

Every parameter file (economics, environment, study) is read with `read_toml` and checked with a
`Checker`, so that every mistake is an `InputError` worded the same way and naming the file, the
line of the key and the key (``economics.toml line 7: mining_cost: -1.0 is outside [0, inf]``).
"""
from __future__ import annotations

import math
import os
import re
import tomllib
import warnings
from dataclasses import fields

from solvers.errors import InputError


def read_toml(path, what: str) -> tuple[dict, str]:
    """(data, text) of a TOML file; ``what`` names the kind of file in messages (e.g. 'economics')."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as fh:
            text = fh.read().decode("utf-8-sig", errors="replace")     # -sig: a byte-order mark is skipped
    except OSError as exc:
        raise InputError(f"cannot read {what} file: {exc.strerror}", path=path) from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise InputError(f"not valid TOML: {exc}", path=path, line=int(m.group(1)) if m else None) from None


# ---------------------------------------------------------------------------------------------
# where a key is

_KEY_PART = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_DOTTED = rf"{_KEY_PART}(?:\s*\.\s*{_KEY_PART})*"


def _split_key(text: str) -> tuple:
    """``a."b.c".d`` -> ('a', 'b.c', 'd')."""
    return tuple(p.strip()[1:-1] if p.strip()[:1] in "\"'" else p.strip()
                 for p in re.findall(_KEY_PART, text))


def key_lines(text: str) -> dict[tuple, int]:
    """Every key path of a TOML text (tables, assignments, inline-table keys) -> its 1-based line."""
    found: dict[tuple, int] = {}
    table: tuple = ()
    header = re.compile(rf"^\s*\[\[?\s*({_DOTTED})\s*\]\]?")
    assign = re.compile(rf"^\s*({_DOTTED})\s*=\s*(.*)$")
    inline = re.compile(rf"({_DOTTED})\s*=")
    for n, line in enumerate(text.splitlines(), start=1):
        m = header.match(line)
        if m:
            table = _split_key(m.group(1))
            found.setdefault(table, n)
            continue
        m = assign.match(line)
        if m:
            path = table + _split_key(m.group(1))
            found.setdefault(path, n)
            rest = m.group(2).strip()
            if rest.startswith("{"):
                for km in inline.finditer(rest):
                    found.setdefault(path + _split_key(km.group(1)), n)
    return found


def key_path(key) -> tuple:
    """A key as a tuple of parts: ``"a.b"`` -> ('a', 'b'); a tuple stays as it is."""
    return tuple(str(p) for p in key) if isinstance(key, tuple) else tuple(str(key).split("."))


def line_of(text: str | None, key) -> int | None:
    """1-based line of a (dotted) key in a TOML text, or of its nearest enclosing table or key
    written in the text; None when neither is."""
    return _line_in(key_lines(text) if text else {}, key_path(key))


def _line_in(lines: dict, parts: tuple) -> int | None:
    for n in range(len(parts), 0, -1):
        if parts[:n] in lines:
            return lines[parts[:n]]
    return None


# ---------------------------------------------------------------------------------------------
# checking values

class UnitSlipWarning(UserWarning):
    """A parameter whose size suggests it was written in another unit (g/kWh for kg/kWh, % for a fraction)."""


class Checker:
    """Checks the values of one parameter file; each failure is an `InputError` naming the file,
    the line of the key and the key.

    path, text: the file and its text (both optional: values built in Python have neither);
    prefix: the table the checked keys sit in (a study file's ``economics``), prepended to them.
    """

    def __init__(self, path=None, text: str | None = None, prefix: tuple = ()):
        self.path = None if path is None else os.fspath(path)
        self.lines = key_lines(text) if text else {}
        self.prefix = tuple(prefix)

    def within(self, *prefix: str) -> "Checker":
        """The same file, checking keys inside the table ``prefix``."""
        inner = Checker(self.path, None, self.prefix + prefix)
        inner.lines = self.lines
        return inner

    def line(self, key) -> int | None:
        return _line_in(self.lines, self.prefix + key_path(key))

    def name(self, key) -> str:
        """The key as written in messages (dotted, with the prefix)."""
        return ".".join(self.prefix + key_path(key))

    def error(self, key, message: str) -> InputError:
        """``FILE line N: KEY: message``."""
        name = self.name(key)
        return InputError(f"{name}: {message}", path=self.path, line=self.line(key), field=name)

    def warn(self, key, message: str) -> None:
        """A `UnitSlipWarning` worded like `error` (``FILE line N: KEY: message``): a value that is valid
        but whose size suggests another unit."""
        warnings.warn(str(self.error(key, message)), UnitSlipWarning, stacklevel=3)

    def number(self, key, value, low: float = -math.inf, high: float = math.inf, *, open_low: bool = False,
               optional: bool = False, minus_inf: bool = False):
        """A finite number in [low, high] (``open_low``: low excluded); ``optional``: None allowed;
        ``minus_inf``: -inf allowed."""
        if value is None and optional:
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(key, f"expected a number, got {value!r}")
        if minus_inf and value == -math.inf:
            return value
        if not math.isfinite(value):
            raise self.error(key, f"expected a finite number, got {value!r}")
        if value < low or value > high or (open_low and value == low):
            raise self.error(key, f"{value!r} is outside {'(' if open_low else '['}{low:g}, {high:g}]")
        return value

    def integer(self, key, value, low: int = 0, high: int = 2 ** 62) -> int:
        """An integer in [low, high]."""
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            bound = f">= {low}" if high >= 2 ** 62 else f"in [{low}, {high}]"
            raise self.error(key, f"expected an integer {bound}, got {value!r}")
        return value

    def column(self, key, value, optional: bool = True):
        """A block-model column name (None allowed when ``optional``)."""
        if value is None and optional:
            return value
        if not isinstance(value, str) or not value:
            raise self.error(key, f"expected a column name, got {value!r}")
        return value

    def currency(self, key, value) -> str:
        """A currency code such as USD."""
        if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{1,8}", value):
            raise self.error(key, f"expected a currency code such as USD, got {value!r}")
        return value

    def choice(self, key, value, choices):
        """One of ``choices``."""
        if value not in choices:
            raise self.error(key, f"expected one of {', '.join(map(str, choices))}, got {value!r}")
        return value

    def table(self, key, value, what: str) -> dict:
        """A table (dict); ``what`` says what it maps, e.g. 'destination -> km'."""
        if not isinstance(value, dict):
            raise self.error(key, f"expected a table {what}")
        return value

    def keys(self, table: dict, known, at: tuple = (), renamed: dict | None = None) -> None:
        """Every key of ``table`` (the table at key path ``at``) is known; a key whose path is in
        ``renamed`` ({old path: new path}) says its new name, any other unknown key lists the known ones."""
        known = list(known)
        for key in table:
            path = at + (key,)
            if renamed and path in renamed:
                raise self.renamed(path, renamed[path])
            if key not in known:
                name = self.name(path)
                raise InputError(f"unknown key '{name}' (known: {', '.join(sorted(map(str, known)))})",
                                 path=self.path, line=self.line(path), field=name)

    def renamed(self, key, new_key) -> InputError:
        """``FILE line N: OLD was renamed NEW``, for a key of a former version."""
        old, new = self.name(key), self.name(new_key)
        return InputError(f"{old} was renamed {new}", path=self.path, line=self.line(key), field=old)


# ---------------------------------------------------------------------------------------------
# parameter sets

class TomlParameters:
    """Base of a dataclass of parameters read from a TOML file whose keys are its field names.

    A subclass sets ``FILE_KIND`` (names the file in messages, e.g. 'economics') and ``RENAMED_KEYS``
    ({former key path: key path}), defines ``validate(check)``, and may override ``_read_field`` to turn
    a table read from a file into the field's value.  ``OTHER_TABLES`` names tables the file may hold
    for another reader (the economics file's ``[columns]``, read by `orepit.data.columns`); they are
    skipped here.
    """

    FILE_KIND = "parameter"
    RENAMED_KEYS: dict = {}
    OTHER_TABLES: tuple = ()

    @classmethod
    def from_toml(cls, path):
        """Read a TOML file; every mistake is an `InputError` naming the file, line and key."""
        data, text = read_toml(path, cls.FILE_KIND)
        return cls.from_dict(data, Checker(path, text))

    @classmethod
    def from_dict(cls, data: dict, check: Checker | None = None):
        """From a dict with field names as keys (the missing ones take their defaults); unknown and
        renamed keys are an `InputError` (``check``: where the dict was read from, for messages)."""
        check = Checker() if check is None else check
        check.keys(data, [f.name for f in fields(cls)] + list(cls.OTHER_TABLES), renamed=cls.RENAMED_KEYS)
        params = cls.__new__(cls)
        defaults = cls()
        for f in fields(cls):
            default = getattr(defaults, f.name)
            setattr(params, f.name, cls._read_field(f.name, data[f.name], default, check) if f.name in data
                    else default)
        params.validate(check)
        params.source_check = check     # for checks that need the block model, made later (not a field)
        return params

    @property
    def source_file(self) -> str | None:
        """The settings file these parameters were read from (None: made in Python)."""
        check = getattr(self, "source_check", None)
        return check.path if check is not None and check.path else None

    def error(self, key, message: str, path=None) -> InputError:
        """An `InputError` about ``key`` (a name or a tuple of table names and key) naming the settings
        file and line it was read from; ``path`` (e.g. the block model's) when it was made in Python."""
        if self.source_file:
            return self.source_check.error(key, message)
        name = ".".join(key) if isinstance(key, tuple) else key
        return InputError(f"{name}: {message}", path=path, field=name)

    @classmethod
    def _read_field(cls, name: str, value, default, check: Checker):
        """The value of field ``name`` given ``value`` in a file (``default``: the field's default)."""
        return value


def key_line(text: str | None, table: str | None, key: str) -> int | None:
    """1-based line of ``key`` inside ``[table]`` (or of the ``[key]`` header), if found."""
    if not text:
        return None
    return key_lines(text).get((table, key) if table is not None else (key,))
