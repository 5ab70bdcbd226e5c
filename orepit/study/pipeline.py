"""End-to-end studies: value a deposit, find its pit and shells, run the strategies, write results.

`run_study` does the work and `write_results` writes the results folder described in
docs/results_format.md, which `orepit.output.report` turns into pictures and report.html.
"""
from __future__ import annotations

import json
import math
import multiprocessing
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from solvers.closure import PseudoflowSolver

from orepit.data.atomic import atomic_path, write_text
from orepit.data.csv_text import write_csv
from orepit.data.files import write_model
from orepit.data.minelib import write_precedence
from orepit.data.jsonable import jsonable
from orepit.data.model import BlockModel
from orepit.data.schema import BLOCK_FORMATS, write_schema
from orepit.planning.verify import limits_of
from orepit.planning.pits import ShellInputs, economic_pit, nested_shells, pit_by_pit, pit_warnings
from orepit.planning.budget import GREEN_BUDGET
from orepit.planning.forked import Forked
from orepit.planning.strategies import (BACKGROUND_NICE, PARALLEL_ABOVE, strategy_key, RECOVERY_FLOOR, STRATEGY_NAMES,
                                        ScheduleSetup, compare, derive_capacities, frontier, kpi_table)
from orepit.valuation.deposit import Deposit, value_deposit
from orepit.valuation.destinations import DESTINATIONS, DUMP, MILL, STOCKPILE
from orepit.valuation.economics import Economics
from orepit.valuation.environment import Environment
from orepit.valuation.gradetonnage import grade_tonnage
from orepit.valuation.slope_defaults import SLOPE_BENCHES, SLOPE_DEGREES
from orepit.valuation.slopes import slope_record

DEST_NAMES = ["", *DESTINATIONS]  # index = destination + 1
#: what a strategy's objective counts (summary.json's ``footing``), by its ``env_price``
FOOTINGS = {False: "economic", True: "after environmental cost"}
#: t: a stockpile this small is rounding left by the plan's LP, not a pile (periods.csv ends before it)
IDLE_STOCKPILE_T = 1e-3


@dataclass
class Study:
    """Everything a study computed (see `run_study`)."""

    deposit: Deposit
    pit: np.ndarray
    pit_objective: float
    pit_seconds: float
    shell: np.ndarray
    shells: pd.DataFrame
    gradetonnage: pd.DataFrame
    results: dict
    frontier: pd.DataFrame | None
    setup: ScheduleSetup
    timings: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    precedence: dict = field(default_factory=dict)


class Phases:
    """A progress bar over named phases on stderr (tqdm), recording each phase's seconds."""

    def __init__(self, names, enabled: bool = True):
        from tqdm.auto import tqdm
        self.bar = tqdm(total=len(names), file=sys.stderr, disable=not enabled, unit="phase",
                        bar_format="{desc:<28}{bar:20}| {n_fmt}/{total_fmt} [{elapsed}]")
        self.timings: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str):
        self.bar.set_description_str(name)
        start = time.perf_counter()
        try:
            yield
        except BaseException:
            self.bar.close()            # the error message starts on a line of its own
            raise
        self.timings[name] = time.perf_counter() - start
        self.bar.update(1)

    def close(self):
        self.bar.set_description_str("done")
        self.bar.close()


def run_study(model: BlockModel, economics: Economics, environment: Environment | None = None,
              strategies=STRATEGY_NAMES, setup: ScheduleSetup | None = None, frontier_points: int = 4,
              slope: float = SLOPE_DEGREES, levels: int = SLOPE_BENCHES, precedence=None, grade: str | None = None,
              progress: bool = True, recovery_floor: float = RECOVERY_FLOOR,
              utilisation_floor: float | None = None, budget: float | None = GREEN_BUDGET) -> Study:
    """Value, pit, shells, grade-tonnage, strategies and (optionally) the NPV-recovery frontier.

    precedence: given (e.g. a MineLib .prec), or built from the geometry with ``slope`` (degrees, or a
    `SlopeTable` of angles per domain) and ``levels``.
    """
    setup = ScheduleSetup() if setup is None else setup
    names = ["value + environment", "ultimate pit", "grade-tonnage", *[f"schedule {s}" for s in strategies],
             "nested shells"] + (["frontier"] if frontier_points else [])
    phases = Phases(names, progress)
    with phases.phase("value + environment"):
        deposit = value_deposit(model, economics, environment, precedence, slope=slope, levels=levels)
    # the shells need nothing of the pit nor the strategies: on a large deposit a forked child makes
    # them on the core the pit's solve leaves idle, then on the time the strategies leave idle
    # (`BACKGROUND_NICE`); only their pit-by-pit table waits for the mining capacity, sent when known.
    # The phase then counts the child's own seconds
    mine = multiprocessing.get_context("fork").SimpleQueue()
    shells_job = Forked(lambda: _nested_shells(deposit, mine.get), deposit.n_blocks > PARALLEL_ABOVE, highs=False,
                        nice=BACKGROUND_NICE)
    try:
        with phases.phase("ultimate pit"):
            solver = PseudoflowSolver(deposit.precedence)
            green_states = {} if "green" in strategies else None     # green's first closure, made here
            pit_result = economic_pit(deposit, solver, green_states)
        setup = derive_capacities(deposit, pit_result.solution, setup)
    except BaseException:
        mine.put(None)          # the child stops waiting (its error is never read)
        raise
    mine.put(setup)
    with phases.phase("grade-tonnage"):
        element = economics.elements[next(iter(economics.elements))]
        grade = grade or element.column
        top = float(np.quantile(model[grade], 0.995)) if model.n_blocks else 1.0
        gt = grade_tonnage(model, round_cutoffs(max(top, 1e-9)), grade=grade,
                           grade_unit=element.grade_unit)
        gt = gt.rename(columns={c: "metal" for c in gt.columns if c.startswith("metal")})
    results = compare(deposit, strategies, setup, recovery_floor, utilisation_floor, budget, solver=solver,
                      phase=lambda name: phases.phase(f"schedule {name}"), economic_pit=pit_result.solution,
                      green_states=green_states)
    with phases.phase("nested shells"):
        nested, shells, seconds = shells_job.result()
    if shells_job.forked:
        phases.timings["nested shells"] = seconds
    for name, r in results.items():
        if r.beside:        # its phase timed the wait for it after green: the run's own seconds instead
            phases.timings[f"schedule {name}"] = r.seconds
    table = None
    if frontier_points:
        with phases.phase("frontier"):
            green = results.get("green")
            table = frontier(deposit, setup, points=frontier_points, recovery_floor=recovery_floor,
                             green_floor=None if green is None else green.options.utilisation_floor,
                             solver=solver, known={} if green is None else green.tried,
                             economic_pit=pit_result.solution)
    phases.close()
    warnings = pit_warnings(deposit, pit_result.solution, "economic ultimate pit")
    for name, r in results.items():
        if not np.array_equal(r.pit, pit_result.solution):
            warnings += pit_warnings(deposit, r.pit, f"{name} pit")
        warnings += [f"{name}: {w}" for w in r.plan.warnings]
    source = ({"from": "file"} if precedence is not None
              else {"from": "geometry", **slope_record(slope), "benches": levels})
    return Study(deposit, pit_result.solution, pit_result.objective, pit_result.seconds, nested.solution, shells, gt,
                 results, table, setup, phases.timings, warnings, source)


def _nested_shells(deposit: Deposit, setup_when_known) -> tuple:
    """(nested pits `Result`, pit-by-pit table, seconds) of the deposit at revenue factors 0.3 to 1.0.
    setup_when_known(): the `ScheduleSetup` (its mining capacity and discount rate), called once the
    nested pits are made (seconds spent waiting for it are not counted)."""
    start = time.perf_counter()
    v = deposit.values(False)
    process = np.where(np.isfinite(v[:, MILL]), v[:, MILL], v[:, DUMP])
    inputs = ShellInputs.from_destinations(v[:, DUMP], process, deposit.tonnage, deposit.model.k)
    nested = nested_shells(inputs, deposit.precedence, np.round(np.arange(0.3, 1.0001, 0.05), 2))
    made = time.perf_counter()
    setup = setup_when_known()
    waited = time.perf_counter() - made
    shells = pit_by_pit(nested, inputs, mining_rate=float(setup.mining_capacity), discount_rate=setup.discount_rate)
    nested.seconds = time.perf_counter() - start - waited
    shells = shells.rename(columns={"best_case_dv": "best_case", "worst_case_dv": "worst_case"})
    return nested, shells, nested.seconds


def round_cutoffs(top: float, steps: int = 40) -> np.ndarray:
    """Cut-offs from 0 to at least ``top`` in a round step (1, 2, 2.5 or 5 times a power of ten)
    giving about ``steps`` of them, in the grade's unit.

    >>> round_cutoffs(0.98).tolist()[:4]
    [0.0, 0.025, 0.05, 0.075]
    """
    raw = top / steps
    power = 10.0 ** math.floor(math.log10(raw))
    step = min(f * power for f in (1.0, 2.0, 2.5, 5.0, 10.0) if f * power >= raw * (1 - 1e-12))
    return np.round(np.arange(0.0, top + step, step), 12)


def summary(study: Study) -> dict:
    """The JSON-ready summary of a study (deposit, pit, setup, KPIs per strategy, timings)."""
    m = study.deposit.model
    setup = asdict(study.setup)
    return jsonable({
        "deposit": {"name": m.name, "source": m.source, "n_blocks": m.n_blocks,
                    "block_size": list(m.block_size or ()), "dims": list(m.dims), "ore_metal_t": float(study.deposit.ore_metal.sum()),
                    "currency": study.deposit.currency, "element": study.deposit.element,
                    "elements": list(study.deposit.elements or (study.deposit.element,)),
                    "grade_units": {name: m.grade_unit for name, m in study.deposit.metals.items()}},
        "pit": {"objective": study.pit_objective, "blocks": int(study.pit.sum()), "seconds": study.pit_seconds},
        "setup": setup,
        "precedence": dict(study.precedence, **({"file": PRECEDENCE_FILE} if study.precedence.get("from") == "file"
                                               else {})),
        "strategies": {name: {**r.kpis, "footing": FOOTINGS[r.options.env_price], "status": r.plan.result.status,
                              "bound": r.plan.result.bound, "gap": r.plan.result.gap, "algorithm": r.plan.result.algorithm,
                              "seconds": r.seconds, "stages": r.plan.result.info, "rules": r.rules,
                              "budget": r.budget_reason, "warnings": r.plan.warnings, "settings": _limits(r.plan.settings)}
                       for name, r in study.results.items()},
        "warnings": study.warnings,
        "timings": study.timings,
    })


PRECEDENCE_FILE = "precedence.prec"


def _limits(settings) -> dict:
    """The limits a block schedule keeps, per period, as plain lists (for `orepit check RESULTS`)."""
    return {"periods": settings.periods,
            **{k: None if v is None else np.asarray(v).tolist() for k, v in limits_of(settings).items()}}


#: the block-model files written by forked children on large models, a group to a child; the other
#: formats (Parquet, which `orepit.data.schema` and the report read, and CSV) are written here first.
#: One child: with a second (CSV) the 10M-block run peaked at 16.7 GB against 15.9 GB (the pages the
#: parent's report writes are copied while children share them; benchmarks/README.md)
CHILD_FORMATS = ((".vti", ".omf"),)
#: bytes per block a block-writer child may come to hold of its own (it writes an array at a time
#: and copies none of the table; at 10M blocks 0.3-0.7 GB): it forks while the memory available
#: holds that, not another copy of a parent that holds the whole study
WRITER_BYTES_PER_BLOCK = 200


def write_results(study: Study, out, meanwhile=None) -> Path:
    """Write the results folder (each file atomically); returns its path.

    meanwhile: a function of the folder called once every file but the `CHILD_FORMATS` block-model
    files is written, while forked children write those (on large models; one by one, every block
    file is written first and the block table freed): the report, which reads ``blocks.parquet`` and
    the tables only.  Its exception is raised after the children are done."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    scheduled = _scheduled_model(study)
    parallel = study.deposit.n_blocks > PARALLEL_ABOVE
    own = WRITER_BYTES_PER_BLOCK * study.deposit.n_blocks
    children = [Forked(lambda group=group: _write_blocks(scheduled, out, group), parallel, highs=False, own=own)
                for group in CHILD_FORMATS]
    try:
        _write_blocks(scheduled, out, [s for s in BLOCK_FORMATS if not any(s in g for g in CHILD_FORMATS)])
        if not any(child.forked for child in children):     # one by one: every block file first
            pending, children = children, []
            _wait(pending)
        del scheduled       # this process's copy of the block table, before the report reads its own
        _write_tables(study, out)
        if meanwhile is not None:
            meanwhile(out)
    finally:
        _wait(children)
    return out


def _scheduled_model(study: Study) -> BlockModel:
    """The block model with the study's columns: values and CO2 per destination, pit and shell, and
    each strategy's period, destination, pushback, value and environmental cost.  A strategy's value
    of a block is the undiscounted cash the plan earns from it (`Deposit.flows`): a stockpiled block's
    mining cost and, reclaimed, its margin less rehandle (not the stockpile delay's estimate)."""
    d = study.deposit
    v = d.values(False)
    flows = d.flows(False)
    earned = flows.at_mining.copy()
    earned[:, STOCKPILE] += flows.at_reclaim
    cols = {f"value_{name}": np.where(np.isfinite(v[:, d]), v[:, d], np.nan) for d, name in enumerate(DESTINATIONS)}
    cols.update(in_pit=study.pit, shell=study.shell, mill_hours=d.mill_hours)
    co2 = d.co2_at_mining()
    cols.update({f"co2_{name}_t": co2[:, k] for k, name in enumerate(DESTINATIONS)})
    for name, r in study.results.items():
        key = strategy_key(name)
        cols[f"period_{key}"] = r.block_period
        cols[f"destination_{key}"] = pd.Categorical.from_codes(r.block_destination + 1, DEST_NAMES).astype("str")
        cols[f"pushback_{key}"] = np.where(r.block_period >= 0, r.block_pushback, -1)
        at = (np.arange(d.n_blocks), np.maximum(r.block_destination, 0))
        cols[f"value_{key}"] = np.where(r.block_destination >= 0, earned[at], np.nan)
        cols[f"env_cost_{key}"] = np.where(r.block_destination >= 0, d.env[at], np.nan)
    model = d.model      # the columns as they are (`BlockModel.assign` would make the text ones numpy arrays)
    return BlockModel(model.frame.assign(**cols), block_size=model.block_size, origin=model.origin,
                      grades=model.grades, name=model.name, source=model.source)


def _wait(children) -> None:
    """Wait for every child; then raise the first one's exception, if any."""
    errors = []
    for child in children:
        try:
            child.result()
        except Exception as exc:  # noqa: BLE001 - raised below, once every child is done
            errors.append(exc)
    if errors:
        raise errors[0]


def _write_blocks(model: BlockModel, out: Path, suffixes) -> None:
    """The scheduled block model as ``blocks`` + each suffix."""
    for suffix in suffixes:
        write_model(model, out / f"blocks{suffix}")


def _working(periods: pd.DataFrame) -> pd.DataFrame:
    """A plan's periods up to the last one in which it mines, mills, pays or holds a stockpile
    (above ``IDLE_STOCKPILE_T``): the idle rest of the horizon the plan model was given is left out."""
    busy = ((periods[["mined_t", "mill_t", "cash_flow", "cash_flow_after_environment"]] != 0).any(axis=1)
            | (periods["stockpile_balance_t"] > IDLE_STOCKPILE_T))
    last = int(np.flatnonzero(busy.to_numpy())[-1]) if busy.any() else 0
    return periods.iloc[:last + 1]


def _write_tables(study: Study, out: Path) -> None:
    """Every file of the results folder but the block model's."""
    d = study.deposit
    write_csv(study.shells, out / "shells.csv")
    write_csv(study.gradetonnage, out / "gradetonnage.csv")
    periods = pd.concat([_working(r.simulation.periods).assign(strategy=name) for name, r in study.results.items()],
                        ignore_index=True)
    periods = periods[["strategy"] + [c for c in periods.columns if c != "strategy"]]
    write_csv(periods, out / "periods.csv")
    table = kpi_table(study.results)
    write_csv(table.reset_index(), out / "kpis.csv")
    with atomic_path(out / "kpis_table.csv") as tmp:   # KPIs (rows) by strategy (kpis.md: `orepit.output.report`)
        table.T.to_csv(tmp)
    if study.frontier is not None:
        write_csv(study.frontier, out / "frontier.csv")
    if study.precedence.get("from") == "file":
        write_precedence(out / PRECEDENCE_FILE, d.precedence)
    write_schema(out, d.currency)
    write_text(out / "summary.json", json.dumps(summary(study), indent=2) + "\n")
