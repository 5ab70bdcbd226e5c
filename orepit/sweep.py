"""Scenario and uncertainty sweeps: a study file expands into cases, each case runs on Dask.

A study file (TOML, see docs/sweeps.md and examples/study_small.toml) declares the deposit, the base
parameters, the strategies, a grid of parameter values over dotted keys and a number of grade
realisations.  Every combination of grid values and realisation is one *case*; its id is a hash of
everything the case computes from, so the same study always gives the same ids.

`run_sweep` submits each missing case as one Dask task (value -> pit -> schedule -> KPIs via
`orepit.pipeline.run_study`) and writes each result, as soon as it arrives, to
``OUT/cases/<case_id>.parquet`` (one row per strategy, written atomically).  Re-running skips the
cases whose file exists, so an interrupted study resumes without recomputing anything.

Realisations: for the synthetic deposit, realisation r uses generator seed ``seed + r``.  For a given
block model with ``grade_sigma = s > 0``, realisation r multiplies every perturbed grade column by an
independent lognormal factor per block, ``exp(s Z - s^2 / 2)`` with Z standard normal drawn from
``numpy.random.default_rng([perturb_seed, r])``: the factor has mean 1 (grades are unbiased on
average) and log standard deviation s; zero grades stay zero.  The factors are independent from
block to block (no spatial correlation), so they represent block-scale estimation error only.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import re
import socket
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache
from pathlib import Path

from solvers.errors import InputError

#: sections of a study file and the keys each may hold (economics/environment: their own fields)
STUDY_KEYS = {"name", "strategies", "realisations", "npv_cost_pct", "baseline"}
DEPOSIT_KEYS = {"synthetic", "model", "economics", "environment", "block_size", "slope", "levels",
                "grade_sigma", "perturb_seed", "perturb_columns"}
SYNTHETIC_KEYS = {"blocks", "seed"}
#: plan keys: `ScheduleSetup` fields (HiGHS threads are always 1 in a sweep) and the green floors
PLAN_INT = {"periods": 1, "tail_periods": 0, "n_pushbacks": 1, "n_bins": 1, "block_limit": 0}
PLAN_FLOAT = {"discount_rate": (0.0, 10.0), "mining_capacity": (0.0, math.inf), "mill_capacity": (0.0, math.inf),
              "mill_hours": (0.0, math.inf), "stockpile_loss": (0.0, 0.999999), "time_limit": (0.0, math.inf),
              "mip_gap": (0.0, 1.0), "recovery_floor": (0.0, 1.0), "utilisation_floor": (0.0, 1.0)}
PLAN_TEXT = {"final_stockpile": ("lost", "process", "empty")}
PLAN_KEYS = set(PLAN_INT) | set(PLAN_FLOAT) | set(PLAN_TEXT)
PLAN_DEFAULTS = {"periods": 10, "tail_periods": 5, "discount_rate": 0.08, "recovery_floor": 0.95,
                 "utilisation_floor": 0.9}
GRID_SECTIONS = ("economics", "environment", "plan")
ALLOWED_FAILURES = 5       # times a task may lose its worker before it is reported as failed


# ---------------------------------------------------------------------------------------------
# where keys are in the file (for messages)

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


class _Where:
    """Builds `InputError`s that name the study file, the line of a key and the key."""

    def __init__(self, path, text: str):
        self.path = None if path is None else os.fspath(path)
        self.lines = key_lines(text or "")

    def line(self, key: tuple) -> int | None:
        for n in range(len(key), 0, -1):
            if key[:n] in self.lines:
                return self.lines[key[:n]]
        return None

    def error(self, key: tuple, message: str) -> InputError:
        name = ".".join(key)
        return InputError(f"{name}: {message}", path=self.path, line=self.line(key), field=name)


# ---------------------------------------------------------------------------------------------
# the study

@dataclass(frozen=True)
class Case:
    """One case: ``spec`` is the plain data `run_case` needs; ``labels`` name it in tables."""

    case_id: str
    index: int
    labels: dict
    spec: dict


@dataclass
class SweepStudy:
    """A parsed study file: base parameters (plain dicts), strategies, grid and realisations."""

    path: str | None
    name: str
    strategies: list
    realisations: int
    npv_cost_pct: float
    baseline: str | None
    deposit: dict
    economics: dict
    environment: dict
    plan: dict
    grid: dict = field(default_factory=dict)    # dotted key -> list of values

    def cases(self) -> list[Case]:
        """Every case: grid combinations (first grid key varies slowest), realisations, strategies.

        A case is one strategy on one parameter set and realisation (strategies on the same parameter
        set and realisation share the mine: capacities come from the economic ultimate pit)."""
        keys = list(self.grid)
        out = []
        for values in itertools.product(*(self.grid[k] for k in keys)):
            params = dict(zip(keys, values))
            sections = {"economics": _copy(self.economics), "environment": _copy(self.environment),
                        "plan": dict(self.plan)}
            for key, value in params.items():
                section, *rest = key.split(".")
                _set_path(sections[section], rest, value)
            for r, strategy in itertools.product(range(self.realisations), self.strategies):
                deposit = dict(self.deposit, realisation=r)
                labels = {"realisation": r}
                if "synthetic" in deposit:
                    labels["seed"] = deposit["synthetic"]["seed"] + r
                labels.update(params)
                plan = sections["plan"]
                spec = {"deposit": deposit, "economics": sections["economics"],
                        "environment": sections["environment"], "strategies": [strategy],
                        "setup": {k: v for k, v in plan.items() if k not in ("recovery_floor", "utilisation_floor")},
                        "recovery_floor": plan["recovery_floor"], "utilisation_floor": plan["utilisation_floor"],
                        "labels": labels}
                out.append(Case(case_id(spec), len(out), {"strategy": strategy, **labels}, spec))
        return out

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items()}


def _copy(value):
    return json.loads(json.dumps(value))


def _set_path(target: dict, path, value) -> None:
    for part in path[:-1]:
        target = target.setdefault(part, {})
    target[path[-1]] = value


def case_id(spec: dict) -> str:
    """16 hex digits of the SHA-256 of the case's parameters (the model's path as written, not resolved)."""
    view = dict(spec, deposit={k: v for k, v in spec["deposit"].items() if k != "model_path"})
    text = json.dumps(view, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def load_study(path) -> SweepStudy:
    """Read and check a study file; errors are `InputError`s naming file, line and key."""
    import tomllib
    path = os.fspath(path)
    try:
        with open(path, "rb") as fh:
            text = fh.read().decode("utf-8", errors="replace")
    except OSError as exc:
        raise InputError(f"cannot read study file: {exc.strerror}", path=path) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise InputError(f"not valid TOML: {exc}", path=path, line=int(m.group(1)) if m else None) from None
    return parse_study(data, path=path, text=text)


def parse_study(data: dict, path=None, text: str = "") -> SweepStudy:
    """A `SweepStudy` from a parsed TOML dict (``path``, ``text``: for messages and relative paths)."""
    from .strategies import STRATEGY_NAMES

    where = _Where(path, text)
    base_dir = Path(path).resolve().parent if path else Path.cwd()
    known = {"study", "deposit", "economics", "environment", "plan", "grid"}
    for key in data:
        if key not in known:
            raise where.error((key,), f"unknown section (known: {', '.join(sorted(known))})")
    for key in known - {"grid"}:
        if key in data and not isinstance(data[key], dict):
            raise where.error((key,), "expected a table")
    study = data.get("study", {})
    _unknown(where, ("study",), study, STUDY_KEYS)
    name = study.get("name", Path(path).stem if path else "study")
    if not isinstance(name, str) or not name:
        raise where.error(("study", "name"), f"expected a name, got {name!r}")
    strategies = study.get("strategies", ["npv", "green"])
    if not isinstance(strategies, list) or not strategies:
        raise where.error(("study", "strategies"), "expected a non-empty list of strategy names")
    for s in strategies:
        if s not in STRATEGY_NAMES:
            raise where.error(("study", "strategies"),
                              f"unknown strategy {s!r} (choose from {', '.join(STRATEGY_NAMES)})")
    if len(set(strategies)) != len(strategies):
        raise where.error(("study", "strategies"), "a strategy is listed twice")
    realisations = _integer(where, ("study", "realisations"), study.get("realisations", 1), 1)
    npv_cost_pct = _number(where, ("study", "npv_cost_pct"), study.get("npv_cost_pct", 5.0), 0.0, 100.0)
    baseline = study.get("baseline")
    if baseline is not None and (baseline not in strategies or baseline == "green"):
        raise where.error(("study", "baseline"), f"expected 'npv' or 'high-grade' among the strategies, "
                                                 f"got {baseline!r}")
    deposit, econ, env = _deposit(where, data.get("deposit", {}), base_dir, realisations)
    econ = _merge_checked(where, "economics", econ, data.get("economics", {}))
    if "environment" not in data.get("deposit", {}) and "currency" not in data.get("environment", {}):
        env["currency"] = econ["currency"]
    env = _merge_checked(where, "environment", env, data.get("environment", {}))
    plan = dict(PLAN_DEFAULTS)
    raw_plan = data.get("plan", {})
    _unknown(where, ("plan",), raw_plan, PLAN_KEYS)
    for key, value in raw_plan.items():
        plan[key] = _plan_value(where, ("plan", key), key, value)
    grid = _grid(where, data.get("grid", {}), econ, env, plan)
    out = SweepStudy(os.fspath(path) if path else None, name, list(strategies), realisations, npv_cost_pct,
                     baseline, deposit, econ, env, plan, grid)
    return out


def _unknown(where, prefix, table, known):
    for key in table:
        if key not in known:
            raise where.error(prefix + (key,), f"unknown key (known: {', '.join(sorted(known))})")


def _integer(where, key, value, low, high=2 ** 62):
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise where.error(key, f"expected an integer >= {low}, got {value!r}")
    return value


def _number(where, key, value, low=-math.inf, high=math.inf, open_low=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise where.error(key, f"expected a finite number, got {value!r}")
    if value < low or value > high or (open_low and value == low):
        raise where.error(key, f"{value!r} is outside {'(' if open_low else '['}{low:g}, {high:g}]")
    return value


def _plan_value(where, key, name, value):
    if name in PLAN_INT:
        return _integer(where, key, value, PLAN_INT[name])
    if name in PLAN_TEXT:
        if value not in PLAN_TEXT[name]:
            raise where.error(key, f"expected one of {', '.join(PLAN_TEXT[name])}, got {value!r}")
        return value
    low, high = PLAN_FLOAT[name]
    return _number(where, key, value, low, high, open_low=name in ("mining_capacity", "mill_capacity",
                                                                   "mill_hours", "time_limit"))


def _deposit(where, raw: dict, base_dir: Path, realisations: int):
    """(deposit spec, base economics dict, base environment dict)."""
    from .economics import Economics
    from .environment import Environment
    from .synthetic import default_economics, grid_for, EXTENT_M

    _unknown(where, ("deposit",), raw, DEPOSIT_KEYS)
    if ("synthetic" in raw) == ("model" in raw):
        raise where.error(("deposit",), "give exactly one of 'synthetic = {blocks = N, seed = S}' or "
                                        "'model = \"path\"' (block model or MineLib instance)")
    spec: dict = {"slope": _number(where, ("deposit", "slope"), raw.get("slope", 45.0), 0.0, 90.0, open_low=True),
                  "levels": _integer(where, ("deposit", "levels"), raw.get("levels", 4), 1)}
    econ = env = None
    for key, cls in (("economics", Economics), ("environment", Environment)):
        if key in raw:
            file = raw[key]
            if not isinstance(file, str) or not file:
                raise where.error(("deposit", key), f"expected a file name, got {file!r}")
            loaded = cls.from_toml(base_dir / file)       # its own errors name that file
            if key == "economics":
                econ = asdict(loaded)
            else:
                env = asdict(loaded)
    if "synthetic" in raw:
        syn = raw["synthetic"]
        if not isinstance(syn, dict):
            raise where.error(("deposit", "synthetic"), "expected a table {blocks = N, seed = S}")
        _unknown(where, ("deposit", "synthetic"), syn, SYNTHETIC_KEYS)
        if "blocks" not in syn:
            raise where.error(("deposit", "synthetic", "blocks"), "missing (number of blocks, e.g. 5000)")
        blocks = _integer(where, ("deposit", "synthetic", "blocks"), syn["blocks"], 8, 10 ** 9)
        seed = _integer(where, ("deposit", "synthetic", "seed"), syn.get("seed", 0), 0)
        for key in ("grade_sigma", "perturb_seed", "perturb_columns", "block_size"):
            if key in raw:
                raise where.error(("deposit", key), "applies to a given model only (synthetic realisations "
                                                    "come from the generator's seeds)")
        spec["synthetic"] = {"blocks": blocks, "seed": seed}
        if econ is None:
            econ = asdict(default_economics(EXTENT_M[2] / grid_for(blocks)[2]))
    else:
        model = raw["model"]
        if not isinstance(model, str) or not model:
            raise where.error(("deposit", "model"), f"expected a path, got {model!r}")
        resolved = base_dir / model
        if not resolved.exists() and not resolved.with_name(resolved.name + ".prec").exists():
            raise where.error(("deposit", "model"), f"no such file or MineLib instance: {resolved}")
        if econ is None:
            raise where.error(("deposit", "economics"), "a given model needs an economics file "
                                                        "(economics = \"params.toml\", see examples/*.toml)")
        spec["model"] = model
        spec["model_path"] = os.fspath(resolved)
        spec["model_bytes"] = _size(resolved)
        if "block_size" in raw:
            bs = raw["block_size"]
            if not isinstance(bs, list) or len(bs) != 3:
                raise where.error(("deposit", "block_size"), f"expected [dx, dy, dz] in metres, got {bs!r}")
            spec["block_size"] = [_number(where, ("deposit", "block_size"), v, 0.0, open_low=True) for v in bs]
        sigma = _number(where, ("deposit", "grade_sigma"), raw.get("grade_sigma", 0.0), 0.0, 3.0)
        if realisations > 1 and sigma == 0:
            raise where.error(("study", "realisations"), f"{realisations} realisations of a given model need "
                                                         "deposit.grade_sigma > 0 (they would all be equal)")
        spec["grade_sigma"] = sigma
        spec["perturb_seed"] = _integer(where, ("deposit", "perturb_seed"), raw.get("perturb_seed", 0), 0)
        cols = raw.get("perturb_columns", [e["column"] for e in econ["elements"].values()])
        if not isinstance(cols, list) or not all(isinstance(c, str) and c for c in cols):
            raise where.error(("deposit", "perturb_columns"), f"expected a list of column names, got {cols!r}")
        spec["perturb_columns"] = cols
    if env is None:
        env = asdict(Environment(currency=econ["currency"]))
    return spec, econ, env


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    parent = path if path.is_dir() else path.parent
    return sum(p.stat().st_size for p in parent.glob("*") if p.is_file())


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _check(section: str, data: dict):
    """Economics / Environment from a dict (raises `InputError` with a field)."""
    from .economics import Economics
    from .environment import Environment
    cls = Economics if section == "economics" else Environment
    return cls.from_dict(_copy(data) if section == "economics" else dict(data))


def _merge_checked(where, section: str, base: dict, over) -> dict:
    if not isinstance(over, dict):
        raise where.error((section,), "expected a table")
    if section == "economics":
        for name in over.get("elements", {}) if isinstance(over.get("elements"), dict) else ():
            if name not in base["elements"]:
                raise where.error((section, "elements", name),
                                  f"unknown element (the economics define {', '.join(base['elements'])})")
    merged = _merge(base, over)
    try:
        _check(section, merged)
    except InputError as exc:
        key = (section,) + tuple((exc.field or "").split(".")) if exc.field else (section,)
        raise where.error(key, _reason(exc)) from None
    return _copy(asdict(_check(section, merged)))


def _reason(exc: InputError) -> str:
    """The message of an error without its leading ``field: ``."""
    prefix = f"{exc.field}: " if exc.field else None
    return exc.reason[len(prefix):] if prefix and exc.reason.startswith(prefix) else exc.reason


def _flatten(table: dict, prefix: tuple = ()):
    for key, value in table.items():
        if isinstance(value, dict):
            yield from _flatten(value, prefix + (key,))
        else:
            yield prefix + (key,), value


def _grid(where, raw, econ: dict, env: dict, plan: dict) -> dict:
    """Dotted key -> list of values, each value checked against the base parameters."""
    if not isinstance(raw, dict):
        raise where.error(("grid",), "expected a table of 'dotted.key' = [values]")
    grid = {}
    for path, values in _flatten(raw):
        dotted = ".".join(path)
        parts = tuple(dotted.split("."))
        key = ("grid",) + path

        def fail(message):
            return InputError(f"grid.{dotted}: {message}", path=where.path, line=where.line(key),
                              field=f"grid.{dotted}")

        if parts[0] not in GRID_SECTIONS or len(parts) < 2:
            raise fail(f"unknown key (grid keys start with {', '.join(s + '.' for s in GRID_SECTIONS)} "
                       "e.g. economics.elements.cu.price)")
        if not isinstance(values, list) or not values:
            raise fail(f"expected a non-empty list of values, got {values!r}")
        if len({json.dumps(v, sort_keys=True) for v in values}) != len(values):
            raise fail("a value is listed twice")
        section, rest = parts[0], list(parts[1:])
        if section == "plan":
            if len(rest) != 1 or rest[0] not in PLAN_KEYS:
                raise fail(f"unknown key (plan keys: {', '.join(sorted(PLAN_KEYS))})")
            for v in values:
                try:
                    _plan_value(where, key, rest[0], v)
                except InputError as exc:
                    raise fail(f"value {v!r}: {_reason(exc)}") from None
        else:
            base = econ if section == "economics" else env
            node = base
            for i, part in enumerate(rest):
                parent_ok = isinstance(node, dict) and (part in node or (i > 0 and i == len(rest) - 1
                                                                         and _open_table(section, rest[:i])))
                if not parent_ok:
                    raise fail(f"unknown key '{part}' in {section}.{'.'.join(rest[:i]) or ''}".rstrip(".")
                               + (f" (known: {', '.join(sorted(map(str, node)))})" if isinstance(node, dict) else ""))
                node = node.get(part) if isinstance(node, dict) else None
            if isinstance(node, dict):
                raise fail("names a table; give one of its keys")
            for v in values:
                trial = _copy(base)
                _set_path(trial, rest, v)
                try:
                    _check(section, trial)
                except InputError as exc:
                    raise fail(f"value {v!r}: {_reason(exc)}") from None
        grid[dotted] = values
    return grid


def _open_table(section: str, path) -> bool:
    """Tables whose keys are free (rock types): a new key may be set in a grid."""
    path = list(path)
    return (section == "economics" and (path == ["processing_cost_by_rock"]
                                        or (len(path) == 3 and path[0] == "elements" and path[2] == "recovery_by_rock")))


# ---------------------------------------------------------------------------------------------
# one case (runs on a worker, or serially)

@lru_cache(maxsize=4)
def _given_model(path: str, block_size):
    """(model, precedence or None) of a block-model file or MineLib instance, cached per process."""
    from .model import BlockModel
    p = Path(path)
    if p.suffix.lower() == ".parquet":
        return BlockModel.from_parquet(p), None
    if p.suffix.lower() == ".csv":
        return BlockModel.from_csv(p, block_size=block_size), None
    from .io.minelib import load_instance
    inst = load_instance(p)
    return inst.blocks(block_size=block_size), inst.precedence()


def perturb_grades(model, columns, sigma: float, seed: int, realisation: int):
    """``model`` with each column multiplied by a mean-one lognormal factor per block (log sd ``sigma``)."""
    import numpy as np
    rng = np.random.default_rng([int(seed), int(realisation)])
    new = {}
    for col in columns:
        if col not in model:
            raise InputError(f"perturb_columns: the block model has no column '{col}'", path=model.source,
                             field="perturb_columns")
        z = rng.standard_normal(model.n_blocks)
        new[col] = model[col].astype(np.float64) * np.exp(sigma * z - 0.5 * sigma * sigma)
    return model.assign(**new)


def case_model(deposit: dict):
    """(model, precedence or None) of one case's deposit and realisation."""
    r = int(deposit.get("realisation", 0))
    if "synthetic" in deposit:
        from .synthetic import synthetic_deposit
        syn = deposit["synthetic"]
        return synthetic_deposit(syn["blocks"], seed=syn["seed"] + r), None
    bs = deposit.get("block_size")
    model, prec = _given_model(deposit.get("model_path") or deposit["model"], tuple(bs) if bs else None)
    if model.block_size is None:
        raise InputError(f"the block size of {deposit['model']} is unknown: set deposit.block_size = [dx, dy, dz]",
                         field="deposit.block_size")
    if deposit.get("grade_sigma", 0.0) > 0:
        model = perturb_grades(model, deposit["perturb_columns"], deposit["grade_sigma"],
                               deposit.get("perturb_seed", 0), r)
    return model, prec


def run_case(spec: dict) -> list[dict]:
    """Value -> pit -> schedule -> KPIs of one case (HiGHS on one thread); one plain row per strategy.

    Rows hold the case's labels, ``status`` (the solver's, or 'infeasible' with the reason in
    ``error`` when a floor cannot be met), ``seconds`` and every KPI (money in the economics'
    currency, tonnes in t).
    """
    import numpy as np

    from solvers.errors import InfeasibleError

    from .economics import Economics
    from .environment import Environment
    from .pipeline import run_study
    from .strategies import ScheduleSetup

    start = time.perf_counter()
    model, precedence = case_model(spec["deposit"])
    econ = Economics.from_dict(_copy(spec["economics"]))
    env = Environment.from_dict(dict(spec["environment"]))
    setup = ScheduleSetup(**spec["setup"], threads=1)
    base = {"case_id": case_id(spec), **spec["labels"]}
    try:
        study = run_study(model, econ, env, spec["strategies"], setup, frontier_points=0,
                          slope=spec["deposit"]["slope"], levels=spec["deposit"]["levels"], precedence=precedence,
                          progress=False, recovery_floor=spec["recovery_floor"],
                          utilisation_floor=spec["utilisation_floor"])
    except InfeasibleError as exc:
        return [{**base, "strategy": s, "status": "infeasible", "error": str(exc),
                 "seconds": time.perf_counter() - start} for s in spec["strategies"]]
    rows = []
    for name, r in study.results.items():
        row = {**base, "strategy": name, "status": str(r.plan.result.status), "error": "",
               "feasible": bool(r.simulation.feasible), "seconds": float(r.seconds)}
        for key, value in r.kpis.items():
            if key == "price_of_green" and len(study.results) == 1:
                continue                  # no baseline in this case: `orepit.sweep_summary` pairs cases
            row[key] = float(value) if isinstance(value, (int, float, np.number)) else str(value)
        rows.append(row)
    return rows


def _case_task(spec: dict, numba_threads: int = 1) -> list[dict]:
    """The Dask task: `run_case` with numba limited to ``numba_threads`` in this worker thread; each
    row also names the worker (``host:pid``)."""
    import numba
    if numba.get_num_threads() > numba_threads:
        numba.set_num_threads(numba_threads)
    worker = f"{socket.gethostname()}:{os.getpid()}"
    return [dict(row, worker=worker) for row in run_case(spec)]


# ---------------------------------------------------------------------------------------------
# the cluster

def default_numba_cache() -> str:
    """The shared numba cache: $NUMBA_CACHE_DIR, else $XDG_CACHE_HOME/orepit/numba (~/.cache/...)."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return os.environ["NUMBA_CACHE_DIR"]
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(root, "orepit", "numba")


def worker_environment(numba_cache: str | None = None) -> dict[str, str]:
    """Environment of sweep workers: one thread for numba and BLAS, and the shared numba cache."""
    env = {k: "1" for k in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    env["NUMBA_CACHE_DIR"] = os.path.expanduser(numba_cache or default_numba_cache())
    return env


def _worker_plugin(env: dict):
    """A plugin applying ``env`` on every worker, present and future (for clusters started elsewhere)."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class SweepWorkerSettings(WorkerPlugin):
        name = "orepit-sweep-settings"

        def __init__(self, env):
            self.env = env

        def setup(self, worker):
            imported = "numba" in sys.modules
            for key, value in self.env.items():
                if key == "NUMBA_NUM_THREADS" and imported:
                    continue          # too late for the pool size; tasks call numba.set_num_threads
                os.environ[key] = os.path.expanduser(value)
            if imported:
                import numba.core.config
                numba.core.config.reload_config()

    return SweepWorkerSettings(env)


def local_cluster(workers: int | None = None, numba_cache: str | None = None,
                  allowed_failures: int = ALLOWED_FAILURES, **kwargs):
    """A `distributed.LocalCluster` of single-threaded worker processes with the sweep's settings.

    workers: default the number of CPU cores; allowed_failures: how often a task may lose its worker
    (killed, out of memory) before it is reported as failed.
    """
    import dask
    from distributed import LocalCluster
    workers = workers or os.cpu_count() or 1
    if workers < 1:
        raise InputError(f"--workers must be at least 1, got {workers}", field="workers")
    with dask.config.set({"distributed.scheduler.allowed-failures": int(allowed_failures)}):
        options = dict(n_workers=workers, threads_per_worker=1, processes=True,
                       env=worker_environment(numba_cache), dashboard_address=None)
        options.update(kwargs)
        return LocalCluster(**options)


@contextmanager
def sweep_client(scheduler: str | None = None, workers: int | None = None, numba_cache: str | None = None,
                 allowed_failures: int = ALLOWED_FAILURES):
    """A Dask client: connected to ``scheduler`` (tcp://host:8786) or to a new `local_cluster`."""
    from distributed import Client
    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout="30s")
        except OSError as exc:
            raise InputError(f"cannot reach the Dask scheduler at {scheduler}: {exc}", field="scheduler") from None
        env = {k: v for k, v in worker_environment(numba_cache).items()}
        if numba_cache is None:                     # expand on each worker, not here
            env["NUMBA_CACHE_DIR"] = "~/.cache/orepit/numba"
        client.register_plugin(_worker_plugin(env))
    else:
        cluster = local_cluster(workers, numba_cache, allowed_failures)
        client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# ---------------------------------------------------------------------------------------------
# the sweep

@dataclass
class SweepReport:
    """What one `run_sweep` call did (seconds: wall time of the computing part)."""

    out: str
    cases: int
    skipped: int
    computed: int
    failed: dict = field(default_factory=dict)    # case id -> message
    seconds: float = 0.0

    @property
    def cases_per_minute(self) -> float:
        return 60.0 * self.computed / self.seconds if self.seconds > 0 else 0.0


def finished_cases(out) -> set[str]:
    """Ids of the cases whose result file exists in ``OUT/cases``."""
    folder = Path(out) / "cases"
    return {p.stem for p in folder.glob("*.parquet") if not p.name.startswith(".")}


def write_case(out, case_id_: str, rows: list[dict]) -> Path:
    """``OUT/cases/<case_id>.parquet``, written to a temporary file and renamed."""
    import pandas as pd

    from .io.atomic import atomic_path
    path = Path(out) / "cases" / f"{case_id_}.parquet"
    with atomic_path(path) as tmp:
        pd.DataFrame(rows).to_parquet(tmp, index=False)
    return path


def write_manifest(out, study: SweepStudy, cases: list[Case]) -> None:
    """``OUT/study.json`` (the parsed study) and ``OUT/cases.csv`` (one row per case: id and labels)."""
    import pandas as pd

    from .io.atomic import atomic_path, write_text
    out = Path(out)
    write_text(out / "study.json", json.dumps(study.to_dict(), indent=2, default=str) + "\n")
    table = pd.DataFrame([{"case_id": c.case_id, "index": c.index, **c.labels} for c in cases])
    with atomic_path(out / "cases.csv") as tmp:
        table.to_csv(tmp, index=False)


def _log(out, name: str, line: str) -> None:
    with open(Path(out) / name, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")
        fh.flush()


def run_sweep(study, out, client=None, scheduler: str | None = None, workers: int | None = None,
              progress: bool = True, numba_cache: str | None = None, allowed_failures: int = ALLOWED_FAILURES,
              on_result=None) -> SweepReport:
    """Run every case of ``study`` (a `SweepStudy` or a study-file path) not yet in ``OUT/cases``.

    One Dask task per case, on ``client`` (given), on the scheduler at ``scheduler``, or on a new
    `local_cluster` of ``workers`` processes.  Each result is written as it arrives (as_completed);
    ``OUT/computed.log`` gets one line per case written (id, time, worker), ``OUT/failed.log`` one
    per case that failed (it is retried on the next run).  ``on_result(case_id, done, total)`` is
    called after each write.
    """
    from tqdm.auto import tqdm

    study = load_study(study) if not isinstance(study, SweepStudy) else study
    out = Path(out)
    (out / "cases").mkdir(parents=True, exist_ok=True)
    cases = study.cases()
    write_manifest(out, study, cases)
    done = finished_cases(out)
    todo = [c for c in cases if c.case_id not in done]
    report = SweepReport(os.fspath(out), len(cases), len(cases) - len(todo), 0)
    if not todo:
        return report

    @contextmanager
    def given():
        yield client

    context = given() if client is not None else sweep_client(scheduler, workers, numba_cache, allowed_failures)
    with context as c:
        from distributed import as_completed
        start = time.perf_counter()
        by_key, futures = {}, []
        for case in todo:
            future = c.submit(_case_task, case.spec, key=f"orepit-case-{case.case_id}")
            by_key[future.key] = case
            futures.append(future)
        bar = tqdm(total=len(todo), file=sys.stderr, disable=not progress, unit="case", desc=study.name)
        try:
            for future in as_completed(futures):
                case = by_key[future.key]
                if future.status != "finished":
                    try:
                        message = repr(future.exception())
                    except Exception as exc:  # noqa: BLE001 - cancelled or lost: report, go on
                        message = repr(exc)
                    report.failed[case.case_id] = message
                    _log(out, "failed.log", f"{case.case_id}\t{_now()}\t{message}")
                else:
                    rows = future.result()
                    write_case(out, case.case_id, rows)
                    report.computed += 1
                    worker = rows[0].get("worker", "") if rows else ""
                    _log(out, "computed.log", f"{case.case_id}\t{_now()}\t{worker}")
                future.release()
                bar.update(1)
                if on_result is not None:
                    on_result(case.case_id, report.computed + len(report.failed), len(todo))
        finally:
            bar.close()
        report.seconds = time.perf_counter() - start
    return report


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1000) % 1000:03d}Z"
