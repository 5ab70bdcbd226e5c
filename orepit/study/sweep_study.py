"""Study files for sweeps: the deposit, base parameters, strategies, grid and realisations, as cases.

A study file (TOML, see docs/sweeps.md and examples/study_small.toml) declares the deposit, the base
parameters, the strategies, a grid of parameter values over dotted keys and a number of grade
realisations.  Every combination of grid values, realisation and strategy is one *case*; its id is a
hash of everything the case is computed from, so the same study always gives the same ids.  Mistakes
are `InputError`s naming the file, the line and the key.

Realisations: with ``deposit.variogram = "FILE.toml"`` (the usual way), realisation r is grade
realisation r of one deposit (the synthetic one at its seed, or the given model), spatially
correlated with that variogram (`orepit.valuation.realisations`; docs/uncertainty.md), so the cases
of one parameter set differ only in the grades.  Without it, for the synthetic deposit, realisation
r uses generator seed ``seed + r`` (another deposit).  For a given
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
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

from solvers.errors import InputError

from orepit.data.files import read_model
from orepit.data.minelib import load_instance
from orepit.data.toml import Checker, read_toml
from orepit.planning.budget import GREEN_BUDGET
from orepit.planning.strategies import RECOVERY_FLOOR, STRATEGY_NAMES, ScheduleSetup
from orepit.valuation.economics import Economics
from orepit.valuation.environment import Environment
from orepit.valuation.realisations import GradeRealisations, Variogram
from orepit.valuation.slope_defaults import SLOPE_BENCHES, SLOPE_DEGREES
from orepit.valuation.synthetic import EXTENT_M, default_economics, grid_for, synthetic_deposit

#: sections of a study file and the keys each may hold (economics/environment: their own fields)
STUDY_KEYS = {"name", "strategies", "realisations", "npv_cost_pct", "baseline"}
DEPOSIT_KEYS = {"synthetic", "model", "economics", "environment", "block_size", "slope", "levels",
                "grade_sigma", "perturb_seed", "perturb_columns", "variogram"}
SYNTHETIC_KEYS = {"blocks", "seed"}
#: plan keys: `ScheduleSetup` fields (HiGHS threads are always 1 in a sweep) and the green floors
PLAN_INT = {"periods": 1, "target_life": 1, "n_pushbacks": 1, "n_bins": 1, "sequence_bins": 1, "block_limit": 0,
            "bound_prices": 1}
PLAN_FLOAT = {"discount_rate": (0.0, 1.0), "mining_capacity": (0.0, math.inf), "mill_capacity": (0.0, math.inf),
              "mill_hours": (0.0, math.inf), "stockpile_loss": (0.0, 0.999999), "time_limit": (0.0, math.inf),
              "mip_gap": (0.0, 1.0), "recovery_floor": (0.0, 1.0), "utilisation_floor": (0.0, 1.0),
              "green_budget": (0.0, 1.0)}
#: plan keys that are green's switches, not `ScheduleSetup` fields (the other strategies ignore them)
GREEN_KEYS = ("recovery_floor", "utilisation_floor", "green_budget")
GREEN_GRID_KEYS = {f"plan.{k}" for k in GREEN_KEYS}
PLAN_KEYS = set(PLAN_INT) | set(PLAN_FLOAT)
#: plan keys of earlier versions -> why they are gone (a study naming one is refused with this)
PLAN_RETIRED = {"tail_periods": "the life of mine now follows from the capacities: remove tail_periods "
                                "(periods is the most periods a plan may take)",
                "final_stockpile": "each strategy has its own rule for the last stockpile: remove final_stockpile"}
#: the plan keys every case states, at their owners' defaults unless the study sets them
PLAN_DEFAULTS = {"periods": ScheduleSetup.periods, "target_life": ScheduleSetup.target_life,
                 "discount_rate": ScheduleSetup.discount_rate, "recovery_floor": RECOVERY_FLOOR,
                 "utilisation_floor": None, "green_budget": GREEN_BUDGET}
GRID_SECTIONS = ("economics", "environment", "plan")
#: study.npv_cost_pct default: the summary's NPV-cost threshold (%), see `orepit.study.sweep_summary`
NPV_COST_PCT = 5.0
#: the parameter class of each parameter section
PARAMETERS = {"economics": Economics, "environment": Environment}


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
        set and realisation share the mine: capacities come from the economic ultimate pit).  Green's
        switches (`GREEN_KEYS`) are left out of the other strategies' cases, at the study's base value
        and without their grid label: a grid over them runs those strategies once, not once per value."""
        keys = list(self.grid)
        out, seen = [], set()
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
                    labels["seed"] = deposit["synthetic"]["seed"] + (0 if "variogram" in deposit else r)
                green = strategy == "green"
                labels.update({k: v for k, v in params.items() if green or k not in GREEN_GRID_KEYS})
                plan = sections["plan"]
                spec = {"deposit": deposit, "economics": sections["economics"],
                        "environment": sections["environment"], "strategies": [strategy],
                        "setup": {k: v for k, v in plan.items() if k not in GREEN_KEYS},
                        **{k: (plan if green else self.plan)[k] for k in GREEN_KEYS},
                        "labels": labels}
                cid = case_id(spec)
                if cid not in seen:
                    seen.add(cid)
                    out.append(Case(cid, len(out), {"strategy": strategy, **labels}, spec))
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
    data, text = read_toml(path, "study")
    return parse_study(data, path=os.fspath(path), text=text)


def parse_study(data: dict, path=None, text: str = "") -> SweepStudy:
    """A `SweepStudy` from a parsed TOML dict (``path``, ``text``: for messages and relative paths)."""

    check = Checker(path, text)
    base_dir = Path(path).resolve().parent if path else Path.cwd()
    known = {"study", "deposit", "economics", "environment", "plan", "grid"}
    for key in data:
        if key not in known:
            raise check.error((key,), f"unknown section (known: {', '.join(sorted(known))})")
    for key in known - {"grid"}:
        if key in data and not isinstance(data[key], dict):
            raise check.error((key,), "expected a table")
    study = data.get("study", {})
    check.keys(study, STUDY_KEYS, at=("study",))
    name = study.get("name", Path(path).stem if path else "study")
    if not isinstance(name, str) or not name:
        raise check.error(("study", "name"), f"expected a name, got {name!r}")
    strategies = study.get("strategies", ["npv", "green"])
    if not isinstance(strategies, list) or not strategies:
        raise check.error(("study", "strategies"), "expected a non-empty list of strategy names")
    for s in strategies:
        if s not in STRATEGY_NAMES:
            raise check.error(("study", "strategies"),
                              f"unknown strategy {s!r} (choose from {', '.join(STRATEGY_NAMES)})")
    if len(set(strategies)) != len(strategies):
        raise check.error(("study", "strategies"), "a strategy is listed twice")
    realisations = check.integer(("study", "realisations"), study.get("realisations", 1), 1)
    npv_cost_pct = npv_cost_threshold(study.get("npv_cost_pct", NPV_COST_PCT), check)
    baseline = study.get("baseline")
    if baseline is not None and (baseline not in strategies or baseline == "green"):
        raise check.error(("study", "baseline"), f"expected 'npv' or 'high-grade' among the strategies, "
                                                 f"got {baseline!r}")
    deposit, econ, env = _deposit(check, data.get("deposit", {}), base_dir, realisations)
    econ = _merge_checked(check, "economics", econ, data.get("economics", {}))
    if "environment" not in data.get("deposit", {}) and "currency" not in data.get("environment", {}):
        env["currency"] = econ["currency"]
    env = _merge_checked(check, "environment", env, data.get("environment", {}))
    if env["currency"] != econ["currency"]:
        raise check.error(("environment", "currency"), f"environmental costs in {env['currency']} but the "
                                                       f"economics in {econ['currency']}")
    plan = dict(PLAN_DEFAULTS)
    raw_plan = data.get("plan", {})
    for key in raw_plan:
        if key in PLAN_RETIRED:
            raise check.error(("plan", key), PLAN_RETIRED[key])
    check.keys(raw_plan, PLAN_KEYS, at=("plan",))
    for key, value in raw_plan.items():
        plan[key] = _plan_value(check, ("plan", key), key, value)
    grid = _grid(check, data.get("grid", {}), econ, env, plan)
    out = SweepStudy(os.fspath(path) if path else None, name, list(strategies), realisations, npv_cost_pct,
                     baseline, deposit, econ, env, plan, grid)
    return out


def npv_cost_threshold(value, check: Checker | None = None, key=("study", "npv_cost_pct")) -> float:
    """The summary's NPV-cost threshold (%), in [0, 100]: the study's ``npv_cost_pct`` or the CLI's
    ``--npv-cost-pct`` (``key`` names it in the error)."""
    return float((check or Checker()).number(key, value, 0.0, 100.0))


def _plan_value(check: Checker, key, name, value):
    if name in PLAN_INT:
        return check.integer(key, value, PLAN_INT[name])
    low, high = PLAN_FLOAT[name]
    return check.number(key, value, low, high, open_low=name in ("mining_capacity", "mill_capacity",
                                                                 "mill_hours", "time_limit"))


def _named_file(check: Checker, raw: dict, key: str, base_dir: Path) -> Path:
    """The existing file that ``deposit.<key>`` names (relative to the study file's folder)."""
    file = raw[key]
    if not isinstance(file, str) or not file:
        raise check.error(("deposit", key), f"expected a file name, got {file!r}")
    if not (base_dir / file).is_file():
        raise check.error(("deposit", key), f"no such file: {base_dir / file}")
    return base_dir / file


def _deposit(check: Checker, raw: dict, base_dir: Path, realisations: int):
    """(deposit spec, base economics dict, base environment dict)."""
    check.keys(raw, DEPOSIT_KEYS, at=("deposit",))
    if ("synthetic" in raw) == ("model" in raw):
        raise check.error(("deposit",), "give exactly one of 'synthetic = {blocks = N, seed = S}' or "
                                        "'model = \"path\"' (block model or MineLib instance)")
    spec: dict = {"slope": check.number(("deposit", "slope"), raw.get("slope", SLOPE_DEGREES), 0.0, 90.0, open_low=True),
                  "levels": check.integer(("deposit", "levels"), raw.get("levels", SLOPE_BENCHES), 1)}
    econ = env = vg = None
    for key, cls in (("economics", Economics), ("environment", Environment)):
        if key in raw:
            loaded = cls.from_toml(_named_file(check, raw, key, base_dir))       # its own errors name that file
            if key == "economics":
                econ = asdict(loaded)
            else:
                env = asdict(loaded)
    if "variogram" in raw:
        if "grade_sigma" in raw:
            raise check.error(("deposit", "grade_sigma"), "give either a variogram (spatially correlated "
                                                          "realisations) or grade_sigma, not both")
        vg = Variogram.from_toml(_named_file(check, raw, "variogram", base_dir))   # its own errors name that file
        spec["variogram"] = {"model": vg.model, "range_m": list(vg.range_m), "nugget": vg.nugget,
                             "cv": dict(vg.cv), "correlation": vg.correlation, "seed": vg.seed}
    if "synthetic" in raw:
        syn = raw["synthetic"]
        if not isinstance(syn, dict):
            raise check.error(("deposit", "synthetic"), "expected a table {blocks = N, seed = S}")
        check.keys(syn, SYNTHETIC_KEYS, at=("deposit", "synthetic"))
        if "blocks" not in syn:
            raise check.error(("deposit", "synthetic", "blocks"), "missing (number of blocks, e.g. 5000)")
        blocks = check.integer(("deposit", "synthetic", "blocks"), syn["blocks"], 8, 10 ** 9)
        seed = check.integer(("deposit", "synthetic", "seed"), syn.get("seed", 0), 0)
        for key in ("grade_sigma", "perturb_seed", "perturb_columns", "block_size"):
            if key in raw:
                raise check.error(("deposit", key), "applies to a given model only (realisations of the "
                                                    "synthetic deposit: deposit.variogram)")
        spec["synthetic"] = {"blocks": blocks, "seed": seed}
        if econ is None:
            econ = asdict(default_economics(EXTENT_M[2] / grid_for(blocks)[2]))
    else:
        model = raw["model"]
        if not isinstance(model, str) or not model:
            raise check.error(("deposit", "model"), f"expected a path, got {model!r}")
        resolved = base_dir / model
        if not resolved.exists() and not resolved.with_name(resolved.name + ".prec").exists():
            raise check.error(("deposit", "model"), f"no such file or MineLib instance: {resolved}")
        if econ is None:
            raise check.error(("deposit", "economics"), "a given model needs an economics file "
                                                        "(economics = \"params.toml\", see examples/*.toml)")
        spec["model"] = model
        spec["model_path"] = os.fspath(resolved)
        spec["model_bytes"] = _size(resolved)
        if "block_size" in raw:
            bs = raw["block_size"]
            if not isinstance(bs, list) or len(bs) != 3:
                raise check.error(("deposit", "block_size"), f"expected [dx, dy, dz] in metres, got {bs!r}")
            spec["block_size"] = [check.number(("deposit", "block_size"), v, 0.0, open_low=True) for v in bs]
        sigma = check.number(("deposit", "grade_sigma"), raw.get("grade_sigma", 0.0), 0.0, 3.0)
        if realisations > 1 and sigma == 0 and "variogram" not in spec:
            raise check.error(("study", "realisations"), f"{realisations} realisations of a given model need "
                                                         "deposit.variogram (or deposit.grade_sigma > 0): "
                                                         "they would all be equal")
        spec["grade_sigma"] = sigma
        spec["perturb_seed"] = check.integer(("deposit", "perturb_seed"), raw.get("perturb_seed", 0), 0)
        cols = raw.get("perturb_columns", [e["column"] for e in econ["elements"].values()])
        if not isinstance(cols, list) or not all(isinstance(c, str) and c for c in cols):
            raise check.error(("deposit", "perturb_columns"), f"expected a list of column names, got {cols!r}")
        spec["perturb_columns"] = cols
    if env is None:
        env = asdict(Environment(currency=econ["currency"]))
    _check_model(check, spec, vg)
    return spec, econ, env


def _check_model(check: Checker, deposit: dict, variogram: Variogram | None) -> None:
    """What the deposit's model can confirm, checked once here, before any case is sent: its block
    size, the perturbed columns and the variogram's grade columns (`Variogram.elements_of`, as
    ``orepit risk`` checks them; its errors name the variogram file)."""
    model, _ = _estimate(deposit)
    if model.block_size is None:
        raise check.error(("deposit", "block_size"), _NO_BLOCK_SIZE.format(model=deposit["model"]))
    for column in deposit["perturb_columns"] if deposit.get("grade_sigma", 0.0) > 0 else ():
        if column not in model:
            raise check.error(("deposit", "perturb_columns"), f"the block model has no column '{column}' "
                                                              f"(columns: {', '.join(model.columns)})")
    if variogram is not None:
        variogram.elements_of(model)


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


def _merge_checked(check: Checker, section: str, base: dict, over) -> dict:
    """The base parameters of ``section`` with the study's overrides, checked (errors name the study file)."""
    check.table((section,), over, f"of {section} keys")
    if section == "economics":
        for name in over.get("elements", {}) if isinstance(over.get("elements"), dict) else ():
            if name not in base["elements"]:
                raise check.error((section, "elements", name),
                                  f"unknown element (the economics define {', '.join(base['elements'])})")
    return _copy(asdict(PARAMETERS[section].from_dict(_copy(_merge(base, over)), check.within(section))))


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


def _grid(check: Checker, raw, econ: dict, env: dict, plan: dict) -> dict:
    """Dotted key -> list of values, each value checked against the base parameters."""
    check.table(("grid",), raw, "of 'dotted.key' = [values]")
    grid = {}
    for path, values in _flatten(raw):
        dotted = ".".join(path)
        parts = tuple(dotted.split("."))
        key = ("grid",) + path

        def fail(message):
            return check.error(key, message)

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
                    _plan_value(check, key, rest[0], v)
                except InputError as exc:
                    raise fail(f"value {v!r}: {_reason(exc)}") from None
        else:
            cls = PARAMETERS[section]
            renamed = cls.RENAMED_KEYS
            for n in range(1, len(rest) + 1):
                if tuple(rest[:n]) in renamed:
                    raise check.renamed(key, ("grid", ".".join((section, *renamed[tuple(rest[:n])], *rest[n:]))))
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
                    cls.from_dict(trial)
                except InputError as exc:
                    raise fail(f"value {v!r}: {_reason(exc)}") from None
        grid[dotted] = values
    return grid


def _open_table(section: str, path) -> bool:
    """Tables whose keys are free (rock types): a new key may be set in a grid."""
    path = list(path)
    rock_table = path == ["processing_cost_by_rock"] or (len(path) == 3 and path[0] == "elements"
                                                         and path[2] == "recovery_by_rock")
    return section == "economics" and rock_table


# ---------------------------------------------------------------------------------------------
# the deposit of one case (built on a worker, or serially)

@lru_cache(maxsize=4)
def _given_model(path: str, block_size):
    """(model, precedence or None) of a block-model file or MineLib instance, cached per process."""
    p = Path(path)
    if p.suffix.lower() == ".parquet":
        return read_model(p), None
    if p.suffix.lower() == ".csv":
        return read_model(p, block_size=block_size), None
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


def _estimate(deposit: dict, r: int = 0):
    """(model, precedence or None) before perturbation: the given model, or the synthetic deposit
    (at seed + r without a variogram: each realisation is another deposit)."""
    if "synthetic" in deposit:
        syn = deposit["synthetic"]
        return synthetic_deposit(syn["blocks"], seed=syn["seed"] + (0 if "variogram" in deposit else r)), None
    bs = deposit.get("block_size")
    return _given_model(deposit.get("model_path") or deposit["model"], tuple(bs) if bs else None)


_NO_BLOCK_SIZE = "the block size of {model} is unknown: set deposit.block_size = [dx, dy, dz]"


def case_model(deposit: dict):
    """(model, precedence or None) of one case's deposit and realisation."""
    r = int(deposit.get("realisation", 0))
    model, prec = _estimate(deposit, r)
    if "synthetic" in deposit:
        return (_realisation(model, deposit, r) if "variogram" in deposit else model), None
    if model.block_size is None:
        raise InputError(_NO_BLOCK_SIZE.format(model=deposit["model"]), field="deposit.block_size")
    if deposit.get("grade_sigma", 0.0) > 0:
        model = perturb_grades(model, deposit["perturb_columns"], deposit["grade_sigma"],
                               deposit.get("perturb_seed", 0), r)
    if "variogram" in deposit:
        model = _realisation(model, deposit, r)
    return model, prec


def _realisation(model, deposit: dict, r: int):
    """Grade realisation r of ``model`` with the study's variogram (`orepit.valuation.realisations`)."""
    return GradeRealisations(model, Variogram(**deposit["variogram"])).model(r)
