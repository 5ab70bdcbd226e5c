"""Which file column holds which model attribute: the column mapping and the common names.

A mapping is ``{model name: file column}``, for example ``{"x": "XC", "density": "DENSITY"}``.  It
comes from Python, from the command line as text (``x=XC,y=YC,z=ZC``, `parse_columns`) or from the
``[columns]`` table of a parameter file (`columns_from_toml`).

Model names that no mapping names are looked up among the file's columns under their common names
(`COMMON_NAMES`, case-insensitive): an explicit mapping always wins, and a name that two file
columns could hold is an error, never a guess.  Grade columns asked for by name (``grades``) are
matched case-insensitively too (``cu`` finds ``CU``).
"""
from __future__ import annotations

import difflib
import os
import re
from typing import Iterable, Mapping

from solvers.errors import InputError

from orepit.data.toml import key_line, read_toml

#: model name -> names it is found under in a file without a mapping (compared in lower case).
COMMON_NAMES = {
    "i": ("i",), "j": ("j",), "k": ("k",),
    "x": ("x", "xc", "xcentre", "xcenter", "x_centre", "x_center", "centroid_x", "xmid", "easting", "east"),
    "y": ("y", "yc", "ycentre", "ycenter", "y_centre", "y_center", "centroid_y", "ymid", "northing", "north"),
    "z": ("z", "zc", "zcentre", "zcenter", "z_centre", "z_center", "centroid_z", "zmid", "elevation", "rl"),
    "dx": ("dx", "xinc", "xlength", "x_length", "xsize", "x_size", "size_x", "dim_x", "xdim", "x_dim", "_east"),
    "dy": ("dy", "yinc", "ylength", "y_length", "ysize", "y_size", "size_y", "dim_y", "ydim", "y_dim", "_north"),
    "dz": ("dz", "zinc", "zlength", "z_length", "zsize", "z_size", "size_z", "dim_z", "zdim", "z_dim", "_rl"),
    "tonnage": ("tonnage", "tonnes", "tons", "tonne"),
    "density": ("density", "dens", "sg", "bulk_density", "bd"),
    "rock": ("rock", "rocktype", "rock_type", "lith", "lithology"),
    "bwi": ("bwi", "work_index", "bond_wi"),
    "sulphur": ("sulphur", "sulfur"),
}
COORDINATES = ("x", "y", "z")
SIZES = ("dx", "dy", "dz")
INDICES = ("i", "j", "k")
_NAME = re.compile(r"^[^=,\s][^=,]*$")
# A column name that reads as a block size along one axis once letters alone are kept: ``X_WIDTH``,
# ``Size X``, ``BLOCK_XSIZE``, ``dX`` (group 1 or 2: the axis).
_SIZE_WORD = r"(?:inc|incr|dim|dims|dimension|size|len|length|width|extent)"
_SIZE_LIKE = re.compile(rf"(?:block|blk|sub|cell)?(?:([xyz]){_SIZE_WORD}|(?:d|{_SIZE_WORD})([xyz]))m?")


def parse_columns(text: str, *, source: str = "--columns") -> dict[str, str]:
    """``{model name: file column}`` from ``NAME=FILECOLUMN,NAME=FILECOLUMN,...``.

    Spaces around names are ignored; a file column may hold spaces inside (``cu=Cu pct``).

    >>> parse_columns("x=XC, y=YC,z=ZC,cu=CU")
    {'x': 'XC', 'y': 'YC', 'z': 'ZC', 'cu': 'CU'}
    """
    if not isinstance(text, str) or not text.strip():
        raise InputError("expected NAME=FILECOLUMN pairs separated by commas, got nothing", field=source)
    mapping: dict[str, str] = {}
    for n, item in enumerate(text.split(","), 1):
        name, eq, column = (part.strip() for part in item.partition("="))
        if not eq or not name or not column:
            raise InputError(f"pair {n} '{item.strip()}' is not NAME=FILECOLUMN "
                             f"(for example x=XC,y=YC,z=ZC,density=DENSITY)", field=source)
        if "=" in column:
            raise InputError(f"pair {n} '{item.strip()}' has two '=' (separate pairs with commas)", field=source)
        if name in mapping:
            raise InputError(f"'{name}' is mapped twice (to '{mapping[name]}' and '{column}')", field=source)
        mapping[name] = column
    return check_columns(mapping, source=source)


def columns_from_toml(data: Mapping, path=None, text: str | None = None) -> dict[str, str]:
    """The ``[columns]`` table of a parsed parameter file (``{}`` when there is none).

    ``text`` (the file's text) lets errors name the line.
    """
    table = data.get("columns", {})
    if not isinstance(table, Mapping):
        raise InputError("columns: expected a table [columns] with lines NAME = \"FILECOLUMN\"", path=path,
                         line=key_line(text, None, "columns"), field="columns")
    for name, column in table.items():
        if not isinstance(column, str) or not column.strip():
            raise InputError(f"columns.{name}: expected the name of a file column in quotes, got {column!r}",
                             path=path, line=key_line(text, "columns", name), field=f"columns.{name}")
    return check_columns({str(k): v.strip() for k, v in table.items()}, path=path, source="columns",
                         line_of=lambda name: key_line(text, "columns", name))


def read_columns(path) -> dict[str, str]:
    """The ``[columns]`` table of a TOML parameter file."""
    data, text = read_toml(path, "parameter")
    return columns_from_toml(data, path=os.fspath(path), text=text)


def columns_argument(text: str) -> dict[str, str]:
    """The mapping a ``--columns`` option gives: ``NAME=FILECOLUMN,...`` pairs, or the path of a TOML
    file (``.toml``) whose ``[columns]`` table holds them."""
    if isinstance(text, str) and text.strip().lower().endswith(".toml") and "=" not in text:
        if not os.path.isfile(text.strip()):
            raise InputError("parameter file not found (--columns takes NAME=FILECOLUMN pairs or a TOML file "
                             "with a [columns] table)", path=text.strip(), field="--columns")
        found = read_columns(text.strip())
        if not found:
            raise InputError("no [columns] table: --columns takes NAME=FILECOLUMN pairs or a TOML file whose "
                             "[columns] table holds them", path=text.strip(), field="--columns")
        return found
    return parse_columns(text)


def combined_columns(given: Mapping[str, str] | None = None, parameter_files: Iterable = ()) -> dict[str, str]:
    """The column mapping of a run: the ``[columns]`` tables of ``parameter_files`` (None entries are
    skipped), then ``given`` (the command line's); a later mapping wins for the model names it names.

    >>> combined_columns({"cu": "CU_PCT"})
    {'cu': 'CU_PCT'}
    """
    merged: dict[str, str] = {}
    for path in parameter_files:
        if path is not None:
            merged.update(read_columns(path))
    merged.update(given or {})
    return check_columns(merged)


def check_columns(mapping: Mapping[str, str], *, path=None, source: str = "columns", line_of=None) -> dict[str, str]:
    """A valid mapping: names and columns are non-empty text, no file column is mapped twice, and no
    name stands for a model attribute without being it (`_attribute_meant`).
    line_of: the file line of a model name (a parameter file's ``[columns]`` table), for the errors."""
    if not isinstance(mapping, Mapping):
        raise InputError(f"column mapping must be {{model name: file column}}, got {mapping!r}", path=path,
                         field=source)
    seen: dict[str, str] = {}
    for name, column in mapping.items():
        def refuse(message):
            return InputError(message, path=path, line=line_of(name) if line_of else None, field=source)
        if not isinstance(name, str) or not _NAME.match(name) or name != name.strip():
            raise refuse(f"model name {name!r} must be text without '=' or ','")
        if not isinstance(column, str) or not column.strip():
            raise refuse(f"{name}: file column {column!r} must be a non-empty name")
        if column in seen:
            raise refuse(f"file column '{column}' is mapped twice (to '{seen[column]}' and '{name}')")
        meant = _attribute_meant(name)
        if meant:
            raise refuse(f"model name '{name}' in {name}={column}: did you mean {meant}={column}? (model names: "
                         f"{', '.join(COMMON_NAMES)}, or a grade's own name)")
        seen[column] = name
    return dict(mapping)


def _attribute_meant(name: str) -> str | None:
    """The model attribute a mapped name stands for without being it: one of its common names
    (``tonnes``, ``sg``, ``easting``) or a near spelling of a long one (``densty``); else None."""
    if name in COMMON_NAMES:
        return None
    lower = name.lower()
    for attribute, aliases in COMMON_NAMES.items():
        if lower in aliases:
            return attribute
    close = difflib.get_close_matches(lower, [a for a in COMMON_NAMES if len(a) >= 5], n=1, cutoff=0.8)
    return close[0] if close else None


def resolve_columns(file_columns: Iterable[str], mapping: Mapping[str, str] | None,
                    grades: Iterable[str] = ()) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """Match model names to file columns.

    Returns ``(rename, found, problems)``: ``rename`` is ``{file column: model name}`` for every
    column that changes name, ``found`` the ``{model name: file column}`` pairs found by their
    common names (not by the mapping), ``problems`` one message per mapping that cannot be met.
    A mapped column is found case-insensitively when the exact name is absent.
    """
    columns = [str(c) for c in file_columns]
    by_lower: dict[str, list[str]] = {}
    for c in columns:
        by_lower.setdefault(c.strip().lower(), []).append(c)
    mapping = dict(mapping or {})
    rename, found, problems = {}, {}, []
    taken = set()
    for name, column in mapping.items():
        hits = [column] if column in columns else by_lower.get(column.strip().lower(), [])
        if len(hits) != 1:
            what = "is not in the file" if not hits else f"matches several columns ({', '.join(hits)})"
            problems.append(f"column mapping {name}={column}: '{column}' {what} (file columns: {', '.join(columns)})")
            continue
        rename[hits[0]] = name
        taken.add(hits[0])
    for name in list(COMMON_NAMES) + [g for g in grades if g not in COMMON_NAMES]:
        if name in mapping or name in columns and name not in taken:
            continue
        aliases = COMMON_NAMES.get(name, (name.lower(),))
        hits = [c for alias in aliases for c in by_lower.get(alias, []) if c not in taken]
        if len(hits) > 1:
            problems.append(f"{name}: several columns could hold it ({', '.join(hits)}); "
                            f"choose one with a column mapping {name}=COLUMN")
        elif hits:
            rename[hits[0]] = name
            found[name] = hits[0]
            taken.add(hits[0])
    for source, name in rename.items():
        if name in columns and name not in rename:
            problems.append(f"column '{source}' is mapped to '{name}' but the file has a column '{name}' too; "
                            f"map '{name}' to another name")
    return rename, found, problems


def unused_sizes(file_columns: Iterable[str], rename: Mapping[str, str], grades: Iterable[str] = ()) -> dict[str, str]:
    """``{file column: model size name}`` of the columns that look like block sizes (`_SIZE_LIKE`:
    ``X_WIDTH`` -> ``dx``) but hold no model attribute: not matched (``rename``, `resolve_columns`),
    not named as one already, not a grade."""
    used = set(rename) | set(COMMON_NAMES) | set(grades)
    found = {}
    for column in map(str, file_columns):
        match = _SIZE_LIKE.fullmatch(re.sub(r"[^a-z]", "", column.lower()))
        if match and column not in used:
            found[column] = "d" + (match.group(1) or match.group(2))
    return found
