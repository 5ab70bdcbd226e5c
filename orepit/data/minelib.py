"""MineLib files: ``.blocks``, ``.prec``, ``.upit``, ``.cpit``, ``.pcpsp`` and ``.sol``.

Follows the MineLib format specification 1.0 (Espinoza et al., 2012): lines
starting with ``%`` are comments; fields are separated by spaces, tabs or
colons (runs count as one); keywords may be written with spaces or
underscores (``NRESOURCE SIDE CONSTRAINTS`` = ``NRESOURCE_SIDE_CONSTRAINTS``);
CRLF line ends are accepted.  Every error is an `InputError` naming the file,
the line and the field.  Writers produce files the readers read back exactly.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from solvers.errors import InputError
from solvers.problem import (CpitProblem, PcpspProblem, Precedence, Schedule, SideConstraints,
                             UpitProblem)

from orepit.data.model import BlockModel
from orepit.data.atomic import write_text

_SEP = re.compile(r"[ \t:]+")

#: Column names of the ``.blocks`` files of known instances (after id x y z).
KNOWN_BLOCK_COLUMNS = {
    "newman1": ["rock", "grade", "tonnage", "min_caf", "value_extracc", "value_proc", "apriori_process"],
    "kd": ["tonnage", "blockvalue", "destination", "cu", "process_profit"],
    "zuck_small": ["cost", "value", "tonnage", "ore_tonnes"],
}
KNOWN_GRADES = {"newman1": ["grade"], "kd": ["cu"]}
#: Block size (m) where the instance's readme states it.
KNOWN_BLOCK_SIZE = {"kd": (20.0, 20.0, 15.0)}


# ---------------------------------------------------------------------------------------------
# reading helpers

def _read_lines(path) -> list[tuple[int, str]]:
    """(line number, text) of the file's non-empty, non-comment lines, separators normalised."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise InputError("file not found", path=path) from None
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", path=path) from None
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(f"byte {data[exc.start]:#04x} is not ASCII text", path=path, line=line) from None
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        s = line.strip(" \t:\r")
        if s and not s.startswith("%"):
            out.append((number, s))
    return out


def _int(token: str, path, line: int, field: str) -> int:
    try:
        return int(token)
    except ValueError:
        raise InputError(f"{field} '{token}' is not an integer", path=path, line=line, field=field) from None


def _float(token: str, path, line: int, field: str) -> float:
    try:
        value = float(token)
    except ValueError:
        raise InputError(f"{field} '{token}' is not a number", path=path, line=line, field=field) from None
    if not np.isfinite(value):
        raise InputError(f"{field} is {token}", path=path, line=line, field=field)
    return value


def _check_range(value: int, hi: int, path, line: int, field: str, what: str):
    if not 0 <= value < hi:
        raise InputError(f"{field} {value} out of range ({what} {hi})", path=path, line=line, field=field)


def _fmt(value: float) -> str:
    """Shortest text that reads back to the same float (integers without a decimal point)."""
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


# ---------------------------------------------------------------------------------------------
# .prec

def read_precedence(path, n_blocks: int | None = None) -> Precedence:
    """Read a ``.prec`` file: lines ``b n p1 ... pn`` (predecessors of b).

    Every block 0..n_blocks-1 must have exactly one line (n_blocks defaults to
    the number of lines).
    """
    lines = _read_lines(path)
    n = len(lines) if n_blocks is None else int(n_blocks)
    counts = np.full(n, -1, dtype=np.int64)
    pieces: list[list[str]] = [[]] * n
    for number, text in lines:
        tokens = _SEP.split(text)
        if len(tokens) < 2:
            raise InputError("expected 'block count predecessors...'", path=path, line=number, field="count")
        b = _int(tokens[0], path, number, "block")
        _check_range(b, n, path, number, "block", "NBLOCKS")
        k = _int(tokens[1], path, number, "count")
        if k < 0 or len(tokens) != k + 2:
            raise InputError(f"block {b} declares {k} predecessors but lists {len(tokens) - 2}",
                             path=path, line=number, field="count")
        if counts[b] >= 0:
            raise InputError(f"block {b} has a second line", path=path, line=number, field="block")
        counts[b] = k
        pieces[b] = tokens[2:]
        for t in tokens[2:]:
            if not t.isdigit():
                raise InputError(f"predecessor '{t}' is not a block id", path=path, line=number, field="predecessor")
    missing = np.flatnonzero(counts < 0)
    if missing.size:
        last = lines[-1][0] if lines else 0
        raise InputError(f"{missing.size} of {n} blocks have no line (first: block {missing[0]}); "
                         f"the file may be truncated", path=path, line=last, field="block")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    flat = [t for p in pieces for t in p]
    indices = np.array(flat, dtype=np.int64) if flat else np.zeros(0, np.int64)
    line_of = {int(_SEP.split(text)[0]): num for num, text in lines}
    bad = np.flatnonzero(indices >= n)
    if bad.size:
        block = int(np.searchsorted(indptr, bad[0], side="right") - 1)
        raise InputError(f"predecessor {indices[bad[0]]} out of range (NBLOCKS {n})",
                         path=path, line=line_of[block], field="predecessor")
    precedence = Precedence(indptr, indices)
    try:
        precedence.topological_order()
    except InputError as exc:   # name the line of the cycle's first block
        first = int(exc.reason.split(": ", 1)[1].split(" -> ")[0])
        raise InputError(exc.reason, path=path, line=line_of[first], field="predecessor") from None
    return precedence


def write_precedence(path, precedence: Precedence) -> None:
    """Write a ``.prec`` file (one line per block), atomically."""
    rows = []
    for b in range(precedence.n_nodes):
        preds = precedence.predecessors(b)
        rows.append(" ".join([str(b), str(preds.size), *map(str, preds.tolist())]))
    write_text(path, "\n".join(rows) + "\n")


# ---------------------------------------------------------------------------------------------
# .upit / .cpit / .pcpsp

_HEADER_INT = ("NBLOCKS", "NPERIODS", "NDESTINATIONS", "NRESOURCE_SIDE_CONSTRAINTS", "NGENERAL_SIDE_CONSTRAINTS")
_SECTIONS = ("OBJECTIVE_FUNCTION", "RESOURCE_CONSTRAINT_LIMITS", "RESOURCE_CONSTRAINT_COEFFICIENTS",
             "GENERAL_CONSTRAINT_COEFFICIENTS", "GENERAL_CONSTRAINT_LIMITS")
_KINDS = ("UPIT", "CPIT", "PCPSP")


def _split_keyword(text: str):
    """('KEYWORD', 'rest') for a keyword line, None for a data line."""
    if not text[0].isalpha():
        return None
    if ":" in text:
        key, rest = text.split(":", 1)
    else:
        key, rest = text, ""
    return re.sub(r"\s+", "_", key.strip()).upper(), rest.strip(" \t:")


def _parse_sections(path):
    header: dict[str, tuple[str, int]] = {}
    sections: dict[str, list[tuple[int, list[str]]]] = {}
    current = None
    ended = False
    for number, text in _read_lines(path):
        kw = _split_keyword(text)
        if ended:
            raise InputError("text after EOF", path=path, line=number)
        if kw is not None:
            key, rest = kw
            if key == "EOF":
                ended = True
                current = None
            elif key in _SECTIONS:
                if key in sections:
                    raise InputError(f"section {key} appears twice", path=path, line=number, field=key)
                if "NBLOCKS" not in header:
                    raise InputError(f"section {key} comes before NBLOCKS", path=path, line=number, field=key)
                sections[key] = []
                current = key
            elif key in _HEADER_INT or key in ("NAME", "TYPE", "DISCOUNT_RATE"):
                if current is not None:
                    raise InputError(f"header field {key} inside section {current}", path=path, line=number,
                                     field=key)
                if key in header:
                    raise InputError(f"header field {key} appears twice", path=path, line=number, field=key)
                header[key] = (rest, number)
            else:
                raise InputError(f"unknown keyword '{key}'", path=path, line=number, field=key)
        else:
            if current is None:
                raise InputError("data line outside any section", path=path, line=number)
            sections[current].append((number, _SEP.split(text)))
    return header, sections


def _table(rows, widths, names, path, key):
    """Check each row's field count; return an array (rows x max width) of floats plus line numbers."""
    lines = np.array([n for n, _ in rows], dtype=np.int64)
    out = np.full((len(rows), max(widths)), np.nan)
    for idx, (number, tokens) in enumerate(rows):
        if len(tokens) not in widths:
            want = " or ".join(map(str, sorted(set(widths))))
            raise InputError(f"{key}: expected {want} fields ({' '.join(names)}), found {len(tokens)}",
                             path=path, line=number, field=names[min(len(tokens), len(names) - 1)])
        for c, tok in enumerate(tokens):
            if c < len(names) and names[c] == "type":
                out[idx, c] = "LGI".index(tok.upper()) if tok.upper() in ("L", "G", "I") else _bad_type(tok, path, number)
            else:
                out[idx, c] = _float(tok, path, number, names[c] if c < len(names) else names[-1])
    return out, lines


def _bad_type(token, path, line):
    raise InputError(f"limit type '{token}' must be L, G or I", path=path, line=line, field="type")


def _ids(col, lines, hi, path, field, what):
    """Integer ids from a float column, checked integral and in range."""
    ok = np.isfinite(col) & (col == np.round(col)) & (col >= 0) & (col < hi)
    if not ok.all():
        r = int(np.flatnonzero(~ok)[0])
        raise InputError(f"{field} {col[r]:g} out of range ({what} {hi})" if col[r] == round(col[r])
                         else f"{field} {col[r]} is not an integer", path=path, line=int(lines[r]), field=field)
    return col.astype(np.int64)


def _once(keys, lines, total, path, field):
    """Each key (flat index) appears exactly once over 0..total-1."""
    order = np.argsort(keys, kind="stable")
    dup = np.flatnonzero(np.diff(keys[order]) == 0)
    if dup.size:
        r = order[dup[0] + 1]
        raise InputError(f"{field} appears twice", path=path, line=int(lines[r]), field=field)
    if keys.size != total:
        missing = np.setdiff1d(np.arange(total), keys)[0]
        return int(missing)
    return None


def _limits(rows, n_rows, n_cols, path, key, names):
    """Parse limit rows ``r [t] type v1 [v2]`` -> lower, upper, kind arrays of shape (n_rows, n_cols)."""
    has_t = n_cols is not None
    width = 3 + has_t
    table, lines = _table(rows, (width, width + 1), names, path, key)
    r = _ids(table[:, 0], lines, n_rows, path, names[0], "rows" if not has_t else "NRESOURCE_SIDE_CONSTRAINTS")
    t = _ids(table[:, 1], lines, n_cols, path, "period", "NPERIODS") if has_t else np.zeros_like(r)
    cols = n_cols if has_t else 1
    missing = _once(r * cols + t, lines, n_rows * cols, path, key + " entry")
    if missing is not None:
        last = int(lines[-1]) if lines.size else None
        where = f"resource {missing // cols} period {missing % cols}" if has_t else f"row {missing}"
        raise InputError(f"{key}: no limit for {where} (every limit must be given)", path=path, line=last, field=key)
    kind_code = table[:, width - 2].astype(int)
    v1, v2 = table[:, width - 1], table[:, width] if table.shape[1] > width else np.full(len(rows), np.nan)
    for idx in range(len(rows)):
        need_two = kind_code[idx] == 2
        if need_two == np.isnan(v2[idx]):
            raise InputError(f"{key}: type {'LGI'[kind_code[idx]]} takes {'two values' if need_two else 'one value'}",
                             path=path, line=int(lines[idx]), field="limit")
    lower = np.where(kind_code == 0, -np.inf, v1)
    upper = np.where(kind_code == 0, v1, np.where(kind_code == 1, np.inf, v2))
    shape = (n_rows, cols)
    out_l, out_u, out_k = np.empty(shape), np.empty(shape), np.empty(shape, dtype="<U1")
    out_l[r, t], out_u[r, t], out_k[r, t] = lower, upper, np.array(list("LGI"))[kind_code]
    bad = np.flatnonzero(lower > upper)
    if bad.size:
        raise InputError(f"{key}: lower limit {lower[bad[0]]} above upper limit {upper[bad[0]]}",
                         path=path, line=int(lines[bad[0]]), field="limit")
    return out_l, out_u, out_k


def limit_line(path, resource: int, period: int) -> int | None:
    """File line of the RESOURCE_CONSTRAINT_LIMITS row of ``resource`` in ``period`` (None if absent)."""
    _, sections = _parse_sections(os.fspath(path))
    for number, tokens in sections.get("RESOURCE_CONSTRAINT_LIMITS", []):
        try:
            if [int(float(tok)) for tok in tokens[:2]] == [resource, period]:
                return number
        except ValueError:
            continue
    return None


def read_problem(path, precedence: Precedence | None = None) -> UpitProblem | CpitProblem | PcpspProblem:
    """Read a ``.upit``, ``.cpit`` or ``.pcpsp`` file (the TYPE field decides).

    The precedence is read from the ``.prec`` file beside it (same name) unless given.
    """
    path = os.fspath(path)
    header, sections = _parse_sections(path)

    def need(key):
        if key not in header:
            raise InputError(f"missing header field {key}", path=path, field=key)
        return header[key]

    def need_int(key, minimum):
        text, number = need(key)
        value = _int(text, path, number, key)
        if value < minimum:
            raise InputError(f"{key} must be at least {minimum}, got {value}", path=path, line=number, field=key)
        return value

    kind_text, kind_line = need("TYPE")
    kind = kind_text.upper()
    if kind not in _KINDS:
        raise InputError(f"TYPE '{kind_text}' must be UPIT, CPIT or PCPSP", path=path, line=kind_line, field="TYPE")
    name = header.get("NAME", ("", 0))[0]
    n = need_int("NBLOCKS", 1)
    n_dest = need_int("NDESTINATIONS", 1) if kind == "PCPSP" else 1
    if "OBJECTIVE_FUNCTION" not in sections:
        raise InputError("missing section OBJECTIVE_FUNCTION", path=path, field="OBJECTIVE_FUNCTION")
    table, lines = _table(sections["OBJECTIVE_FUNCTION"], (1 + n_dest,),
                          ["block"] + [f"value[{d}]" for d in range(n_dest)], path, "OBJECTIVE_FUNCTION")
    blocks = _ids(table[:, 0], lines, n, path, "block", "NBLOCKS")
    missing = _once(blocks, lines, n, path, "block")
    if missing is not None:
        last = int(lines[-1]) if lines.size else None
        raise InputError(f"OBJECTIVE_FUNCTION: no line for block {missing} ({lines.size} of {n} blocks); "
                         f"the file may be truncated", path=path, line=last, field="block")
    values = np.empty((n, n_dest))
    values[blocks] = table[:, 1:]
    if precedence is None:
        precedence = read_precedence(_sibling(path, ".prec"), n_blocks=n)
    elif precedence.n_nodes != n:
        raise InputError(f"precedence has {precedence.n_nodes} blocks, NBLOCKS is {n}", path=path, field="NBLOCKS")
    if kind == "UPIT":
        return UpitProblem(values[:, 0], precedence, name=name)

    n_periods = need_int("NPERIODS", 1)
    n_res = need_int("NRESOURCE_SIDE_CONSTRAINTS", 0)
    rate_text, rate_line = need("DISCOUNT_RATE")
    rate = _float(rate_text, path, rate_line, "DISCOUNT_RATE")
    lower, upper, kinds = _limits(sections.get("RESOURCE_CONSTRAINT_LIMITS", []), n_res, n_periods, path,
                                  "RESOURCE_CONSTRAINT_LIMITS", ["resource", "period", "type", "v1", "v2"])
    coef = np.zeros((n, n_dest, n_res))
    rows = sections.get("RESOURCE_CONSTRAINT_COEFFICIENTS", [])
    if rows:
        if kind == "CPIT":
            table, lines = _table(rows, (3,), ["block", "resource", "coefficient"], path,
                                  "RESOURCE_CONSTRAINT_COEFFICIENTS")
            b = _ids(table[:, 0], lines, n, path, "block", "NBLOCKS")
            r = _ids(table[:, 1], lines, n_res, path, "resource", "NRESOURCE_SIDE_CONSTRAINTS")
            d = np.zeros_like(b)
        else:
            table, lines = _table(rows, (4,), ["block", "destination", "resource", "coefficient"], path,
                                  "RESOURCE_CONSTRAINT_COEFFICIENTS")
            b = _ids(table[:, 0], lines, n, path, "block", "NBLOCKS")
            d = _ids(table[:, 1], lines, n_dest, path, "destination", "NDESTINATIONS")
            r = _ids(table[:, 2], lines, n_res, path, "resource", "NRESOURCE_SIDE_CONSTRAINTS")
        _once_only(((b * n_dest) + d) * max(n_res, 1) + r, lines, path, "coefficient")
        coef[b, d, r] = table[:, -1]
    if kind == "CPIT":
        if "GENERAL_CONSTRAINT_COEFFICIENTS" in sections or "GENERAL_CONSTRAINT_LIMITS" in sections:
            raise InputError("CPIT has no general side constraints (they belong to PCPSP)", path=path)
        return CpitProblem(values, precedence, n_periods, rate, coef, lower, upper, kinds, name=name)

    n_side = need_int("NGENERAL_SIDE_CONSTRAINTS", 0)
    side = SideConstraints.none()
    if n_side:
        table, lines = _table(sections.get("GENERAL_CONSTRAINT_COEFFICIENTS", []), (5,),
                              ["block", "destination", "period", "row", "coefficient"], path,
                              "GENERAL_CONSTRAINT_COEFFICIENTS")
        sb = _ids(table[:, 0], lines, n, path, "block", "NBLOCKS")
        sd = _ids(table[:, 1], lines, n_dest, path, "destination", "NDESTINATIONS")
        st = _ids(table[:, 2], lines, n_periods, path, "period", "NPERIODS")
        sj = _ids(table[:, 3], lines, n_side, path, "row", "NGENERAL_SIDE_CONSTRAINTS")
        slo, sup, _ = _limits(sections.get("GENERAL_CONSTRAINT_LIMITS", []), n_side, None, path,
                              "GENERAL_CONSTRAINT_LIMITS", ["row", "type", "v1", "v2"])
        side = SideConstraints(sb, sd, st, sj, table[:, 4], slo[:, 0], sup[:, 0])
    elif sections.get("GENERAL_CONSTRAINT_COEFFICIENTS") or sections.get("GENERAL_CONSTRAINT_LIMITS"):
        raise InputError("general constraint data given but NGENERAL_SIDE_CONSTRAINTS is 0", path=path,
                         field="NGENERAL_SIDE_CONSTRAINTS")
    return PcpspProblem(values, precedence, n_periods, rate, coef, lower, upper, kinds, side, name=name)


def _once_only(keys, lines, path, field):
    order = np.argsort(keys, kind="stable")
    dup = np.flatnonzero(np.diff(keys[order]) == 0)
    if dup.size:
        r = order[dup[0] + 1]
        raise InputError(f"{field} given twice for the same entry", path=path, line=int(lines[r]), field=field)


def _sibling(path, suffix) -> str:
    return os.fspath(Path(path).with_suffix(suffix))


def write_problem(path, problem) -> None:
    """Write a UPIT, CPIT or PCPSP problem file (not its ``.prec``), atomically."""
    out = [f"NAME: {problem.name or Path(path).stem}"]
    if isinstance(problem, UpitProblem):
        out += ["TYPE: UPIT", f"NBLOCKS: {problem.n_blocks}", "OBJECTIVE_FUNCTION:"]
        out += [f"{b} {_fmt(v)}" for b, v in enumerate(problem.values)]
        write_text(path, "\n".join(out) + "\nEOF\n")
        return
    cpit = isinstance(problem, CpitProblem)
    out += [f"TYPE: {'CPIT' if cpit else 'PCPSP'}", f"NBLOCKS: {problem.n_blocks}", f"NPERIODS: {problem.n_periods}"]
    if not cpit:
        out.append(f"NDESTINATIONS: {problem.n_destinations}")
    out.append(f"NRESOURCE_SIDE_CONSTRAINTS: {problem.n_resources}")
    if not cpit:
        out.append(f"NGENERAL_SIDE_CONSTRAINTS: {problem.side.n_rows}")
    out += [f"DISCOUNT_RATE: {_fmt(problem.discount_rate)}", "RESOURCE_CONSTRAINT_LIMITS:"]
    for r in range(problem.n_resources):
        for t in range(problem.n_periods):
            out.append(f"{r} {t} " + _limit_text(problem.resource_kind[r, t], problem.resource_lower[r, t],
                                                problem.resource_upper[r, t]))
    out.append("OBJECTIVE_FUNCTION:")
    out += [" ".join([str(b), *map(_fmt, row)]) for b, row in enumerate(problem.values)]
    out.append("RESOURCE_CONSTRAINT_COEFFICIENTS:")
    b, d, r = np.nonzero(problem.resource_coef)
    for bi, di, ri in zip(b.tolist(), d.tolist(), r.tolist()):
        v = _fmt(problem.resource_coef[bi, di, ri])
        out.append(f"{bi} {ri} {v}" if cpit else f"{bi} {di} {ri} {v}")
    if not cpit and problem.side.n_rows:
        s = problem.side
        out.append("GENERAL_CONSTRAINT_COEFFICIENTS:")
        out += [f"{a} {b_} {c} {j} {_fmt(v)}" for a, b_, c, j, v in
                zip(s.block.tolist(), s.destination.tolist(), s.period.tolist(), s.row.tolist(), s.coef.tolist())]
        out.append("GENERAL_CONSTRAINT_LIMITS:")
        for j in range(s.n_rows):
            kind = "L" if np.isinf(s.lower[j]) else "G" if np.isinf(s.upper[j]) else "I"
            out.append(f"{j} " + _limit_text(kind, s.lower[j], s.upper[j]))
    write_text(path, "\n".join(out) + "\nEOF\n")


def _limit_text(kind, lower, upper) -> str:
    if kind == "L":
        return f"L {_fmt(upper)}"
    if kind == "G":
        return f"G {_fmt(lower)}"
    return f"I {_fmt(lower)} {_fmt(upper)}"


# ---------------------------------------------------------------------------------------------
# solutions

def read_upit_solution(path, n_blocks: int | None = None) -> np.ndarray:
    """Block ids listed in a UPIT ``.sol`` file (one per line), sorted."""
    ids = []
    for number, text in _read_lines(path):
        tokens = _SEP.split(text)
        if len(tokens) != 1:
            raise InputError(f"expected one block id per line, found {len(tokens)} fields", path=path, line=number,
                             field="block")
        b = _int(tokens[0], path, number, "block")
        if n_blocks is not None:
            _check_range(b, n_blocks, path, number, "block", "NBLOCKS")
        elif b < 0:
            raise InputError(f"block {b} is negative", path=path, line=number, field="block")
        ids.append(b)
    arr = np.array(sorted(ids), dtype=np.int64)
    dup = np.flatnonzero(np.diff(arr) == 0)
    if dup.size:
        raise InputError(f"block {arr[dup[0]]} listed twice", path=path, field="block")
    return arr


def write_upit_solution(path, blocks) -> None:
    """Write the blocks of a pit (ids, or a boolean mask) as a UPIT ``.sol`` file, atomically."""
    blocks = np.asarray(blocks)
    if blocks.dtype == bool:
        blocks = np.flatnonzero(blocks)
    write_text(path, "".join(f"{b}\n" for b in np.sort(blocks).tolist()))


def read_schedule(path) -> Schedule:
    """A CPIT/PCPSP ``.sol`` file: rows ``block destination period fraction``."""
    rows = [(number, _SEP.split(text)) for number, text in _read_lines(path)]
    table, lines = _table(rows, (4,), ["block", "destination", "period", "fraction"], path, "solution")
    for col, field in enumerate(("block", "destination", "period")):
        c = table[:, col]
        bad = np.flatnonzero((c != np.round(c)) | (c < 0) | (c > 2 ** 40))
        if bad.size:
            raise InputError(f"{field} {c[bad[0]]:g} is not a non-negative integer", path=path,
                             line=int(lines[bad[0]]), field=field)
    frac = table[:, 3]
    bad = np.flatnonzero((frac < 0) | (frac > 1 + 1e-3))  # the checker judges rounding within 1e-3
    if bad.size:
        raise InputError(f"fraction {frac[bad[0]]} outside [0, 1]", path=path, line=int(lines[bad[0]]),
                         field="fraction")
    return Schedule(table[:, 0], table[:, 1], table[:, 2], frac)


def write_schedule(path, schedule: Schedule) -> None:
    """Write a CPIT/PCPSP ``.sol`` file, atomically (fractions written exactly)."""
    rows = zip(schedule.block.tolist(), schedule.destination.tolist(), schedule.period.tolist(),
               schedule.fraction.tolist())
    write_text(path, "".join(f"{b} {d} {t} {repr(float(v))}\n" for b, d, t, v in rows))


# ---------------------------------------------------------------------------------------------
# .blocks

def read_blocks(path, columns: list[str] | None = None, block_size=None) -> BlockModel:
    """Read a ``.blocks`` file into a `BlockModel`.

    Rows are ``id x y z attr...``; MineLib's x, y, z are grid indices (z = 0 the
    bottom bench), kept as i, j, k.  Attribute names come from ``columns``, from
    an optional header row, from `KNOWN_BLOCK_COLUMNS` for known instances, or
    default to ``attr0, attr1, ...``.  Numeric attributes become numbers.
    """
    path = os.fspath(path)
    lines = _read_lines(path)
    if not lines:
        raise InputError("no blocks in file", path=path)
    header = None
    first = _SEP.split(lines[0][1])
    if not first[0].lstrip("-").isdigit():
        header = [c.lower() for c in first]
        lines = lines[1:]
    width = len(header) if header else len(_SEP.split(lines[0][1])) if lines else 0
    rows = []
    for number, text in lines:
        tokens = _SEP.split(text)
        if len(tokens) != width:
            raise InputError(f"expected {width} fields (as on the first row), found {len(tokens)}",
                             path=path, line=number, field="row")
        rows.append(tokens)
    if width < 4:
        raise InputError(f"expected at least 4 fields (id x y z), found {width}", path=path,
                         line=lines[0][0] if lines else None, field="row")
    instance = Path(path).stem.lower()
    if columns is None:
        columns = header[4:] if header else KNOWN_BLOCK_COLUMNS.get(instance)
        if columns is not None and len(columns) != width - 4:
            columns = None
        if columns is None:
            columns = [f"attr{c}" for c in range(width - 4)]
    elif len(columns) != width - 4:
        raise InputError(f"{len(columns)} column names given for {width - 4} attributes", path=path, field="columns")
    numbers = np.array([n for n, _ in lines], dtype=np.int64)
    frame = pd.DataFrame(rows, columns=["id", "i", "j", "k", *columns])
    for col in ("id", "i", "j", "k"):
        values = pd.to_numeric(frame[col], errors="coerce")
        arr = values.to_numpy(dtype=np.float64)
        bad = ~np.isfinite(arr) | (arr != np.round(arr)) | (np.abs(arr) > 2 ** 40)
        if bad.any():
            r = int(np.flatnonzero(bad)[0])
            raise InputError(f"{col if col == 'id' else 'xyz'[('i', 'j', 'k').index(col)]} "
                             f"'{frame[col].iloc[r]}' is not an integer", path=path, line=int(numbers[r]), field=col)
        frame[col] = values.astype(np.int64)
    ids = frame["id"].to_numpy()
    off = np.flatnonzero(ids != np.arange(len(ids)))
    if off.size:
        r = int(off[0])
        raise InputError(f"block id {ids[r]} where {r} was expected (ids must be 0..n-1 in order)",
                         path=path, line=int(numbers[r]), field="id")
    for col in columns:
        values = pd.to_numeric(frame[col], errors="coerce")
        if values.notna().all():
            frame[col] = values.astype(np.float64)
        elif values.notna().sum() > len(values) // 2:  # mostly numeric: one bad cell, not a text column
            r = int(np.flatnonzero(values.isna().to_numpy())[0])
            raise InputError(f"{col} '{frame[col].iloc[r]}' is not a number", path=path, line=int(numbers[r]),
                             field=col)
    grades = [g for g in KNOWN_GRADES.get(instance, []) if g in columns]
    size = block_size if block_size is not None else KNOWN_BLOCK_SIZE.get(instance)
    try:
        return BlockModel(frame, block_size=size, grades=grades, name=Path(path).stem, source=path)
    except InputError as exc:
        if exc.reason.startswith("block ") and exc.reason.split()[1].rstrip(":").isdigit():
            r = int(exc.reason.split()[1].rstrip(":"))
            raise InputError(exc.reason.split(": ", 1)[1], path=path, line=int(numbers[r]), field=exc.field) from None
        raise


def write_blocks(path, model: BlockModel) -> None:
    """Write a MineLib ``.blocks`` file (id i j k and every other column except x, y, z), atomically."""
    frame = model.frame
    cols = [c for c in frame.columns if c not in ("i", "j", "k", "x", "y", "z")]
    parts = [np.arange(len(frame)).astype(str), frame["i"].astype(str), frame["j"].astype(str),
             frame["k"].astype(str)]
    for c in cols:
        v = frame[c]
        parts.append(v.map(_fmt) if pd.api.types.is_float_dtype(v) else v.astype(str))
    text = "\n".join(" ".join(row) for row in zip(*parts))
    write_text(path, text + "\n")


# ---------------------------------------------------------------------------------------------
# an instance: the files sharing one prefix

@dataclass
class Instance:
    """The MineLib files sharing one path prefix, read on first use.

    >>> inst = load_instance("../shared/minelib/kd")        # doctest: +SKIP
    >>> inst.cpit().n_periods                                # doctest: +SKIP
    12
    """

    prefix: Path

    @property
    def name(self) -> str:
        return self.prefix.name

    def path(self, suffix: str) -> Path:
        return self.prefix.with_name(self.prefix.name + suffix)

    @cached_property
    def _precedence(self) -> Precedence:
        return read_precedence(self.path(".prec"), n_blocks=self._n_blocks())

    def _n_blocks(self) -> int | None:
        """NBLOCKS from the first problem file's header (None when there is none)."""
        for suffix in (".upit", ".cpit", ".pcpsp"):
            path = self.path(suffix)
            if path.exists():
                with open(path, "rb") as fh:
                    for _, raw in zip(range(50), fh):
                        kw = _split_keyword(raw.decode("ascii", "replace").strip())
                        if kw and kw[0] == "NBLOCKS" and kw[1].isdigit():
                            return int(kw[1])
        return None

    def precedence(self) -> Precedence:
        return self._precedence

    def _problem(self, suffix, expected):
        path = self.path(suffix)
        if not path.exists():
            raise InputError(f"instance {self.name} has no {suffix} file", path=path)
        problem = read_problem(path, self.precedence())
        if type(problem) is not expected:
            raise InputError(f"TYPE is {problem.kind if hasattr(problem, 'kind') else 'UPIT'}, "
                             f"expected {suffix[1:].upper()}", path=path, field="TYPE")
        return problem

    def upit(self) -> UpitProblem:
        return self._problem(".upit", UpitProblem)

    def cpit(self) -> CpitProblem:
        return self._problem(".cpit", CpitProblem)

    def pcpsp(self) -> PcpspProblem:
        return self._problem(".pcpsp", PcpspProblem)

    def problem(self, kind: str):
        """'upit', 'cpit' or 'pcpsp'."""
        kind = kind.lower()
        if kind not in ("upit", "cpit", "pcpsp"):
            raise InputError(f"unknown problem '{kind}' (choose upit, cpit or pcpsp)", field="problem")
        return getattr(self, kind)()

    def blocks(self, block_size=None) -> BlockModel:
        return read_blocks(self.path(".blocks"), block_size=block_size)


def load_instance(path) -> Instance:
    """An instance from a folder (``.../kd``), a prefix (``.../kd/kd``) or any of its files."""
    p = Path(os.fspath(path))
    if p.is_dir():
        prefix = p / p.name
        if not prefix.with_name(p.name + ".prec").exists():
            precs = sorted(p.glob("*.prec"))
            if len(precs) != 1:
                raise InputError(f"no single MineLib instance (.prec file) in folder {p}", path=p)
            prefix = precs[0].with_suffix("")
    elif p.suffix.lower() in (".blocks", ".prec", ".upit", ".cpit", ".pcpsp"):
        prefix = p.with_suffix("")
    else:
        prefix = p
    if not prefix.with_name(prefix.name + ".prec").exists():
        table = " (a block model table must end in .csv, .parquet or .omf: rename it)" if p.is_file() else ""
        raise InputError(f"not a MineLib instance: {path} (expected {prefix}.prec and its sibling files){table}")
    return Instance(prefix)
