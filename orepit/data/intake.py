"""From a table as exported (any column names) to a validated `BlockModel`.

The steps, in order: match columns (`orepit.data.columns`); check the values of every known
column; place the blocks on the grid - by their grid indices ``i, j, k`` when the table has them,
else by their centroids ``x, y, z`` (`orepit.data.grid`), regularising sub-blocks to the parent
grid when block sizes ``dx, dy, dz`` vary (`orepit.data.subblocks`); tonnage = density x block
volume when there is no tonnage; optional attributes filled from their defaults when asked
(`orepit.data.defaults`); the blocks put in the order of their ``id`` column when the table has
one, else in grid order (x fastest, then y, then z from the bottom bench), so that a model gives
the same results however its rows were ordered by the software that exported it.  Every problem
found is reported together in one `InputError` (by the file's line numbers); every assumption
made is one line in ``notes``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from orepit.data.columns import COMMON_NAMES, COORDINATES, INDICES, SIZES, resolve_columns, unused_sizes
from orepit.data.defaults import fill_defaults
from orepit.data.hints import absent_hint, number_hint
from orepit.data.grid import TOLERANCE, fit_grid, fit_indexed, fmt, snap
from orepit.data.model import BlockModel, grid_position
from orepit.data.problems import Problems, listed
from orepit.data.subblocks import regularise, summed
from orepit.data.tonnage import DENSEST, check_tonnage

#: numeric model columns and what their values must be: 'any' finite, 'nonneg' >= 0, 'pos' > 0, 'index'
RULES = {**{c: "any" for c in COORDINATES}, **{c: "pos" for c in SIZES}, **{c: "index" for c in INDICES},
         "tonnage": "nonneg", "density": "nonneg", "bwi": "nonneg", "sulphur": "nonneg"}
OPTIONAL_NUMERIC = ("bwi", "sulphur")
FARTHEST = 1e9  # m: no coordinate or block size is larger
LARGEST = 1e15  # no tonnage, density, grade or other attribute is larger


def _fmt3(values, sep=" x ") -> str:
    return sep.join(fmt(v) for v in values)


def model_from_table(table: pd.DataFrame, *, columns=None, block_size=None, origin=None, grades=(),
                     defaults=(), name: str = "", source=None, numbers=None, word: str = "line",
                     notes: list | None = None) -> BlockModel:
    """A `BlockModel` from a raw table.

    columns: ``{model name: file column}``; block_size, origin: (three numbers, m) when known
    (for a sub-blocked model: of the parent cells); grades: names of grade columns; defaults:
    optional attributes to fill when missing (`orepit.data.defaults`); numbers, word: the file
    number of each row and what it counts (``line`` for CSV) for messages; notes: list that
    receives the assumptions made.
    """
    notes = [] if notes is None else notes
    grades = (grades,) if isinstance(grades, str) else tuple(grades)
    rename, found, mapping_problems = resolve_columns(table.columns, columns, [g for g in grades if isinstance(g, str)])
    frame = table.rename(columns=rename)
    problems = Problems(source, numbers, word, {model: file for file, model in rename.items()})
    for message in mapping_problems:
        problems.add(None, message)
    _refuse_unused_sizes(table.columns, rename, frame, grades, problems)
    if found:
        notes.append("columns found by their common names: " + ", ".join(f"{m}={f}" for m, f in found.items()))
    if not len(frame):
        problems.add(None, "the file holds no blocks")
    problems.raise_if_any()
    _refuse_units_row(frame, problems, grades)
    unset = {rename.get(file, file): value for file, value in _numbers(table.attrs.get("defaults", {})).items()}
    geometry_ok = _check_values(frame, problems, grades, defaults, unset)
    frame, size, corner = _place(frame, problems, geometry_ok, block_size, origin, notes, "density" in defaults)
    problems.raise_if_any()
    if "tonnage" not in frame:
        _tonnage_from_density(frame, None if size is None else float(np.prod(size)), "block", notes)
    if defaults:
        frame = fill_defaults(frame, defaults, notes, None if size is None else float(np.prod(size)))
    return BlockModel(in_block_order(frame, notes), block_size=size, origin=corner, grades=grades, name=name,
                      source=source)


def in_block_order(frame: pd.DataFrame, notes: list) -> pd.DataFrame:
    """The table with its rows in the order of its block numbers: an ``id`` column that numbers the
    blocks 0..n-1 (as orepit writes it, and as a precedence file beside it refers to them), else
    grid order (`orepit.data.model.grid_position`), with a note when that moved any row.  Other ids
    are left for `BlockModel` to refuse."""
    n = len(frame)
    if "id" in frame:
        ids = pd.to_numeric(frame["id"], errors="coerce").to_numpy()
        if not np.array_equal(np.sort(ids), np.arange(n)):
            return frame
        order = np.argsort(ids)
        what = "by their id column"
    else:
        order = np.argsort(grid_position(frame["i"].to_numpy(), frame["j"].to_numpy(), frame["k"].to_numpy()),
                           kind="stable")
        what = "in grid order (x fastest, then y, then z from the bottom bench)"
    if (order == np.arange(n)).all():
        return frame
    notes.append(f"blocks numbered {what}, not in the order of the file's rows")
    return frame.iloc[order].drop(columns="id", errors="ignore").reset_index(drop=True)


def _refuse_unused_sizes(file_columns, rename, frame, grades, problems: Problems) -> None:
    """Refuse columns that look like block sizes (`unused_sizes`) when dx, dy, dz are not all found:
    read without them, sub-blocks would be taken for blocks of a finer grid."""
    unused = unused_sizes(file_columns, rename, grades)
    if unused and not all(c in frame for c in SIZES):
        pairs = ",".join(f"{size}={column}" for column, size in unused.items())
        what = "columns {} look like block sizes" if len(unused) > 1 else "column {} looks like a block size"
        problems.add(None, what.format(listed(unused)) + f" that orepit does not know by name: map with columns "
                           f"{pairs} (--columns {pairs} on the command line)")


def _refuse_units_row(frame: pd.DataFrame, problems: Problems, grades) -> None:
    """Refuse a first row that holds text in every known number column while the rows below hold
    numbers: the units row some packages write under the header (``m, m, m, t/m3, %``)."""
    names = _number_columns(frame, grades)
    if len(frame) < 2 or not names:
        return
    head = frame.iloc[:2][names]
    text = [str(v).strip() for v in head.iloc[0]]
    numeric = head.apply(pd.to_numeric, errors="coerce")
    if head.iloc[0].notna().all() and all(text) and numeric.iloc[0].isna().all() and numeric.iloc[1].notna().all():
        problems.add(None, f"the first row under the header holds text in every number column "
                           f"({', '.join(text)}): it looks like a units row; delete it (orepit reads lengths in "
                           f"m, density in t/m3 and grades in the units of the economics file)", [0])
        problems.raise_if_any()


def _number_columns(frame: pd.DataFrame, grades) -> list[str]:
    """The model's columns that must hold numbers: those with a rule (`RULES`) and the grades."""
    return [c for c in frame.columns if c in RULES or c in grades]


def _numbers(texts: dict) -> dict:
    """The entries of ``{column: text}`` that are numbers, as floats."""
    values = {name: pd.to_numeric(text, errors="coerce") for name, text in texts.items()}
    return {name: float(value) for name, value in values.items() if np.isfinite(value)}


def _check_values(frame: pd.DataFrame, problems: Problems, grades, defaults, unset: dict) -> bool:
    """Check (and make numeric) every known column; False when a geometry column is bad.
    unset: {column: the value the file's software writes where a variable was never set (Vulcan's
    defaults, -99 say)}: negative values that are all that value are named so."""
    geometry_ok = True
    for name in _number_columns(frame, grades):
        raw = frame[name]
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
        missing = raw.isna().to_numpy()
        rule = RULES.get(name, "nonneg")
        ok = problems.check(name, ~missing & ~np.isfinite(values), "values that are not finite numbers",
                            lambda row: (f"'{raw.iloc[row]}'", number_hint(str(raw.iloc[row]))))
        if not (name in OPTIONAL_NUMERIC and name in defaults):
            ok &= problems.check(name, missing, "missing values")
        if rule in ("any", "pos"):
            ok &= problems.check(name, np.abs(values) > FARTHEST, f"lengths beyond {FARTHEST:.0e} m")
        if rule == "nonneg":
            negative = values < 0
            default = unset.get(name)
            never_set = default is not None and default < 0 and bool(np.all(values[negative] == default))
            ok &= problems.check(name, negative, "negative values" + (
                f" ({default:g}, the file's default for this variable: blocks never given a value; give them "
                f"one, 0 for a grade outside the estimate, before reading)" if never_set else ""),
                None if never_set else lambda row: (f"{values[row]:g}", absent_hint(values[row])))
            ok &= problems.check(name, values > LARGEST, f"values beyond {LARGEST:.0e}")
        if name == "density":
            ok &= problems.check(name, values > DENSEST, f"densities above {DENSEST:g} t/m3 (orepit reads "
                                 f"density in t/m3: 2.7, not 2700 kg/m3)")
        elif rule == "pos":
            ok &= problems.check(name, values <= 0, "sizes that are not positive")
        elif rule == "index":
            ok &= problems.check(name, (values < 0) | (values != np.round(values)) | (values > 2 ** 40),
                                 "grid indices that are not whole numbers from 0 to 2^40")
        if rule != "nonneg":
            geometry_ok &= ok
        if ok:
            frame[name] = values.astype(np.int64) if rule == "index" else values
    return geometry_ok


def _missing(names, frame) -> str:
    return ", ".join(f"{n} (looked for {', '.join(a.upper() for a in COMMON_NAMES[n])})" for n in names
                     if n not in frame)


def _place(frame, problems, geometry_ok, block_size, origin, notes, derive_density=False):
    """(table with grid indices i, j, k, block size, origin); problems recorded when it cannot be placed.
    derive_density: whether density will be tonnage / block volume (`check_tonnage`)."""
    def present(group):
        return [c for c in group if c in frame]

    if len(present(INDICES)) == 3:
        if geometry_ok and len(present(COORDINATES)) == 3 and (block_size is None or origin is None):
            frame, block_size, origin = _indexed_grid(frame, problems, block_size, origin, notes)
        if geometry_ok and frame is not None:
            _check_cells(frame, problems)
            check_tonnage(frame, None if block_size is None else float(np.prod(block_size)), problems,
                          derive_density)
        return frame, block_size, origin
    if len(present(COORDINATES)) < 3:
        if present(INDICES):
            problems.add(None, f"grid indices incomplete: no {_missing(INDICES, frame)}")
        else:
            header = ", ".join(str(problems.names.get(c, c)) for c in frame.columns)
            title = "" if any(c in COMMON_NAMES for c in frame.columns) else (
                " (none of them is a name orepit knows: is the header the file's first line that does not start "
                "with '#'? a title line above it must start with '#')")
            problems.add(None, "no block coordinates: the model needs centroid columns x, y, z (or grid indices "
                               f"i, j, k); missing {_missing(COORDINATES, frame)}; map them with columns x=..., "
                               f"y=..., z=...; the header read holds the columns {header}{title}")
        return frame, None, None
    if 0 < len(present(SIZES)) < 3:
        problems.add(None, f"block sizes incomplete: no {_missing(SIZES, frame)}")
        return frame, None, None
    if not geometry_ok:
        return frame, None, None
    if present(INDICES):
        frame = frame.drop(columns=present(INDICES))
        notes.append("grid indices: the incomplete index columns are ignored; indices come from the centroids")
    sub_blocked = len(present(SIZES)) == 3 and _sub_blocked(frame, block_size)
    if sub_blocked:
        check_tonnage(frame, frame[list(SIZES)].to_numpy(dtype=np.float64).prod(axis=1), problems, derive_density)
    with np.errstate(over="ignore", invalid="ignore"):     # out-of-range values are recorded problems already
        frame, size, corner = (_regularise if sub_blocked else _fit)(frame, problems, block_size, origin, notes)
    if frame is not None:
        _check_cells(frame, problems)
        if not sub_blocked:
            check_tonnage(frame, float(np.prod(size)), problems, derive_density)
    return frame, size, corner


def _indexed_grid(frame, problems, block_size, origin, notes):
    """(table, block size, origin) of a table with both grid indices and centroids: the grid on which
    the centroids sit at their cells' centres (`fit_indexed`), the centroids left for `BlockModel` to
    place exactly.  Centroids that equal the indices (orepit's own files of a model without a block
    size) are left as they are."""
    ijk = frame[list(INDICES)].to_numpy(dtype=np.int64)
    xyz = frame[list(COORDINATES)].to_numpy(dtype=np.float64)
    if block_size is None and origin is None and np.array_equal(ijk, xyz):
        return frame, None, None
    fit = fit_indexed(ijk, xyz, problems, block_size, origin)
    if fit is None:
        return None, None, None
    corner, size = fit
    notes.append(f"grid: origin ({_fmt3(corner, ', ')}) m and blocks {_fmt3(size)} m from the centroids at the "
                 "grid indices i, j, k")
    return frame.drop(columns=list(COORDINATES)), size, corner


def _sub_blocked(frame, block_size) -> bool:
    """True when block sizes vary, or are smaller than the given (parent) block size."""
    sizes = frame[list(SIZES)].to_numpy(dtype=np.float64)
    varies = (sizes.max(axis=0) - sizes.min(axis=0) > TOLERANCE * sizes.max(axis=0)).any()
    smaller = block_size is not None and (np.asarray(block_size, float) > sizes.max(axis=0) * (1 + TOLERANCE)).any()
    return bool(varies or smaller)


def _fit(frame, problems, block_size, origin, notes):
    """Grid indices of a regular model from its centroids (sizes, when given, fix the block size)."""
    if all(c in frame for c in SIZES):
        sizes = tuple(snap(float(frame[c].iloc[0])) for c in SIZES)
        if block_size is not None and not np.allclose(sizes, block_size, rtol=TOLERANCE):
            problems.add(None, f"the block size columns say {_fmt3(sizes)} m but the block size given is "
                               f"{_fmt3(block_size)} m (a larger given size regularises to it)")
            return None, None, None
        block_size = sizes
    fit = fit_grid(frame[list(COORDINATES)].to_numpy(dtype=np.float64), problems, block_size, origin)
    if fit is None:
        return None, None, None
    index, corner, size = fit
    inferred = [what for what, given in (("origin", origin), ("block size", block_size)) if given is None]
    if inferred:
        dims = index.max(axis=0) + 1
        notes.append(f"grid: {' and '.join(inferred)} inferred from the centroids: origin ({_fmt3(corner, ', ')}) m, "
                     f"blocks {_fmt3(size)} m, {len(frame)} blocks in a {_fmt3(dims)} grid")
    rest = frame.drop(columns=[*COORDINATES, *SIZES], errors="ignore")
    return pd.concat([pd.DataFrame(index, columns=list(INDICES), index=frame.index), rest], axis=1), size, corner


def _regularise(frame, problems, block_size, origin, notes):
    """Parent blocks of a sub-blocked model (tonnage from density per sub-block first)."""
    n = len(frame)
    if any(frame[c].dtype.kind != "f" for c in ("tonnage", "density") if c in frame):
        return None, None, None                     # weights that are not numbers: their problems are recorded
    frame = frame.copy()
    volume = frame[list(SIZES)].to_numpy(dtype=np.float64).prod(axis=1)
    temporary = "tonnage" not in frame and "density" not in frame
    if temporary:
        frame["tonnage"] = 0.0          # no weights: volume-weighted means and majorities
    elif "tonnage" not in frame:
        _tonnage_from_density(frame, volume, "sub-block", notes)
    result = regularise(frame, problems, block_size, origin)
    if result is None:
        return None, None, None
    parents, corner, size = result
    if temporary:
        parents = parents.drop(columns="tonnage")
    parent = "" if block_size is not None else ", parent size = the largest sub-block size"
    notes.append(f"sub-blocks: {n} blocks regularised to {len(parents)} parent blocks of {_fmt3(size)} m "
                 f"(origin {_fmt3(corner, ', ')} m{parent}): {' and '.join(['tonnage', *summed(parents)])} summed, "
                 "grades and other numeric columns tonnage-weighted, categorical columns by majority tonnage")
    return parents.drop(columns=list(COORDINATES)), size, corner


def _tonnage_from_density(frame, volume, what: str, notes) -> None:
    """Add ``tonnage`` = density x volume (m3, scalar or per row), with a note."""
    if "density" in frame and volume is not None:
        frame["tonnage"] = frame["density"].to_numpy(dtype=np.float64) * volume
        size = f" ({fmt(volume)} m3)" if np.isscalar(volume) else ""
        notes.append(f"tonnage: density x {what} volume{size}")
    elif "density" in frame:
        notes.append("tonnage: not computed from density because the block size is unknown (give it)")
    else:
        notes.append(f"tonnage: the model has no tonnage or density column (looked for "
                     f"{', '.join(a.upper() for a in COMMON_NAMES['tonnage'] + COMMON_NAMES['density'])}); "
                     "valuation needs one")


def _check_cells(frame, problems) -> None:
    """Record grid cells that hold more than one block."""
    ijk = frame[list(INDICES)].to_numpy(dtype=np.int64)
    span = ijk.max(axis=0) + 1
    key = ijk[:, 0] + span[0] * (ijk[:, 1] + span[1] * ijk[:, 2])
    shared = pd.Index(key).duplicated(keep=False)
    if shared.any():
        first = np.flatnonzero(shared)[0]
        problems.add(None, f"{int(pd.Index(key[shared]).nunique())} grid cells hold more than one block, first "
                           f"(i, j, k) = ({', '.join(str(v) for v in ijk[first])})", np.flatnonzero(shared))
