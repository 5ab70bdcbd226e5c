"""Ultimate pit, nested pit shells and the pit-by-pit table (mining side of `solvers.closure`).

Block economics for shells (`ShellInputs`), all per block at base price:

* ``margin``       value gained by processing instead of dumping, USD (revenue
                   minus processing cost; negative for waste)
* ``mining_cost``  cost of mining and dumping the block, USD (minus the dump value)
* ``tonnage``      t; ``bench`` grid index k (0 = bottom bench)

At revenue factor f the block value is ``max(f * margin, 0) - mining_cost``
(processed when that pays, dumped otherwise); it is non-decreasing in f, so the
pits are nested.  At f = 1 it is the ordinary block value.

Pit-by-pit table (one row per factor, as in Whittle's pit-by-pit graph; values
at base price f = 1):

* ``ore_t`` / ``waste_t``: tonnes in the pit with positive / non-positive margin;
  ``strip_ratio`` = waste_t / ore_t
* ``value``: undiscounted value of the pit, USD (exact sum)
* ``best_case_dv``: discounted value mining shell 1, then each increment of the
  next shells in turn, each bench by bench from the top (the most favourable
  pushback sequence, ignoring minimum widths)
* ``worst_case_dv``: discounted value mining the pit bench by bench from the top
  over its whole extent (no pushbacks)

Discounting (as in docs/formulations.md): blocks are mined in sequence at
``mining_rate`` M t/period; block b is mined in period
``t_b = floor(tonnes mined before b / M)`` (0-based) and its value is discounted
by ``(1 + discount_rate) ** -t_b``.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from solvers.closure import PseudoflowSolver
from solvers.errors import InfeasibleError, InputError
from solvers.nested import nested_pits, pit_of_shells
from solvers.parametric import ParametricClosure, smallest_parameter
from solvers.problem import Precedence
from solvers.result import Result

from orepit.valuation.deposit import Deposit
from orepit.valuation.precedence import precedence_from_geometry

#: Revenue factors of the shells when none are given (start:stop:step, stop included; 1 = base price).
REVENUE_FACTORS = "0.3:2.0:0.05"


@dataclass
class ShellInputs:
    """Per-block economics for nested shells (see module docstring; USD, t)."""

    margin: np.ndarray
    mining_cost: np.ndarray
    tonnage: np.ndarray
    bench: np.ndarray

    def __post_init__(self):
        n = np.asarray(self.margin).size
        for name in ("margin", "mining_cost", "tonnage", "bench"):
            arr = np.ascontiguousarray(getattr(self, name), dtype=np.int64 if name == "bench" else np.float64)
            if arr.ndim != 1 or arr.size != n:
                raise InputError(f"shell inputs: {name} has {arr.size} entries for {n} blocks", field=name)
            if name != "bench" and not np.isfinite(arr).all():
                b = int(np.flatnonzero(~np.isfinite(arr))[0])
                raise InputError(f"shell inputs: {name} of block {b} is {arr[b]}", field=name)
            setattr(self, name, arr)
        if np.any(self.tonnage < 0):
            raise InputError("shell inputs: tonnage must be non-negative", field="tonnage")

    @property
    def n_blocks(self) -> int:
        return self.margin.size

    def values(self, factor: float = 1.0) -> np.ndarray:
        """Block values (USD) at revenue factor ``factor``."""
        return np.maximum(factor * self.margin, 0.0) - self.mining_cost

    @classmethod
    def from_values(cls, values, tonnage=None, bench=None) -> "ShellInputs":
        """From block values only: positive values scale with the factor, negative ones are costs."""
        v = np.ascontiguousarray(values, dtype=np.float64)
        t = np.ones(v.size) if tonnage is None else np.broadcast_to(np.asarray(tonnage, np.float64), v.shape)
        k = np.zeros(v.size, np.int64) if bench is None else bench
        return cls(np.maximum(v, 0.0), np.maximum(-v, 0.0), t, k)

    @classmethod
    def from_destinations(cls, dump_value, process_value, tonnage, bench) -> "ShellInputs":
        """From MineLib-style values per destination: dump and process, USD."""
        d = np.asarray(dump_value, np.float64)
        p = np.asarray(process_value, np.float64)
        return cls(p - d, -d, tonnage, bench)


def _values_of(model_or_values, value: str) -> np.ndarray:
    if hasattr(model_or_values, "columns") and hasattr(model_or_values, "n_blocks"):
        return np.asarray(model_or_values[value], dtype=np.float64)
    return np.asarray(model_or_values, dtype=np.float64)


def ultimate_pit(model_or_values, precedence, value: str = "value") -> Result:
    """Maximum-value pit of a `BlockModel` (column ``value``, USD) or a value vector.

    precedence: `Precedence`, `GridPrecedence`, or a dict of geometry keywords
    for `orepit.valuation.precedence.precedence_from_geometry` (e.g. ``{"slope": 45,
    "levels": 8}``) when a block model is given.
    """
    values = _values_of(model_or_values, value)
    if isinstance(precedence, dict):
        precedence = precedence_from_geometry(model_or_values, **precedence)
    return PseudoflowSolver(precedence).solve(values)


def nested_shells(inputs: ShellInputs, precedence, factors) -> Result:
    """Nested pits for ascending revenue factors (see `ShellInputs.values` and `solvers.nested.nested_pits`)."""
    return nested_pits(inputs.values, factors, precedence)


def _discounted(order, values, tonnage, mining_rate, discount_rate) -> np.ndarray:
    """Discounted value of each block when ``order`` is mined in sequence (cumulative array)."""
    t = tonnage[order]
    before = np.cumsum(t) - t
    period = np.floor(before / mining_rate + 1e-12)
    return values[order] * (1.0 + discount_rate) ** -period


def pit_by_pit(nested: Result, inputs: ShellInputs, mining_rate: float, discount_rate: float) -> pd.DataFrame:
    """The pit-by-pit table (one row per factor; definitions in the module docstring)."""
    if not (mining_rate > 0 and math.isfinite(mining_rate)):
        raise InputError(f"mining rate {mining_rate} t/period must be positive", field="mining_rate")
    if not (discount_rate > -1 and math.isfinite(discount_rate)):
        raise InputError(f"discount rate {discount_rate} must be above -1", field="discount_rate")
    base = inputs.values(1.0)
    ore = inputs.margin > 0
    shell, factors = nested.solution, nested.info["factors"]
    rows = []
    # best case: shells in turn, each increment top bench first -> prefix sums over one order
    mined = np.flatnonzero(shell >= 0)
    order = mined[np.lexsort((mined, -inputs.bench[mined], shell[mined]))]
    best = np.cumsum(_discounted(order, base, inputs.tonnage, mining_rate, discount_rate))
    shell_end = np.searchsorted(shell[order], np.arange(len(factors)), side="right")
    # worst case: each pit bench by bench from the top
    top_first = np.lexsort((np.arange(inputs.n_blocks), -inputs.bench))
    for s in range(len(factors)):
        pit = pit_of_shells(shell, s)
        ore_t = float(inputs.tonnage[pit & ore].sum())
        total_t = float(inputs.tonnage[pit].sum())
        waste_t = total_t - ore_t
        end = int(shell_end[s])
        best_dv = float(best[end - 1]) if end > 0 else 0.0
        worst_order = top_first[pit[top_first]]
        worst_dv = math.fsum(_discounted(worst_order, base, inputs.tonnage, mining_rate, discount_rate))
        rows.append({
            "shell": s + 1,
            "revenue_factor": float(factors[s]),
            "blocks": int(pit.sum()),
            "ore_t": ore_t,
            "waste_t": waste_t,
            "strip_ratio": waste_t / ore_t if ore_t > 0 else math.inf,
            "value": math.fsum(base[pit]),
            "best_case_dv": best_dv,
            "worst_case_dv": worst_dv,
        })
    return pd.DataFrame(rows)


def shells_table(inputs: ShellInputs, precedence, factors, mining_rate: float, discount_rate: float):
    """(nested pits `Result`, pit-by-pit DataFrame) in one call; timings in ``nested.seconds``."""
    t0 = time.perf_counter()
    nested = nested_shells(inputs, precedence, factors)
    table = pit_by_pit(nested, inputs, mining_rate, discount_rate)
    nested.seconds = time.perf_counter() - t0
    return nested, table


def instance_shell_inputs(instance) -> tuple[ShellInputs, Precedence]:
    """Shell inputs of a MineLib instance: PCPSP destination values (0 dump, 1 process) when
    there are two destinations, else the UPIT values; tonnage and bench from the blocks file."""
    blocks = instance.blocks()
    tonnage = blocks["tonnage"] if "tonnage" in blocks else None
    try:
        pc = instance.pcpsp()
        vals = pc.values
    except InputError:
        vals = None
    if vals is not None and vals.shape[1] == 2:
        inputs = ShellInputs.from_destinations(vals[:, 0], vals[:, 1],
                                               np.ones(vals.shape[0]) if tonnage is None else tonnage, blocks.k)
        return inputs, pc.precedence
    up = instance.upit()
    return ShellInputs.from_values(up.values, tonnage, blocks.k), up.precedence


# ---------------------------------------------------------------------------------------------
# pits of a valued deposit: the utilisation pit and pushbacks

def economic_pit(deposit: Deposit, solver: PseudoflowSolver | None = None, green_states: dict | None = None
                 ) -> Result:
    """The economic ultimate pit: the maximum closure of the block values without environmental price.

    green_states: a dict to hold the pseudoflow state of green's values (net of environmental cost) at
    no resource credit, ``{0.0: ParametricClosure}``, for green's first credit search to continue
    from (`utilisation_pit`).  The pit is then found from a copy of that state, its values raised to
    the economic ones, which costs a fraction of a closure (when some block's environmental cost is
    negative its value would fall instead: the pit is then solved afresh and no state is added).
    Returns a `solvers.result.Result` (status 'optimal'; solution: the pit mask; objective: its
    value, currency); the pit is the same either way.
    """
    solver = PseudoflowSolver(deposit.precedence) if solver is None else solver
    economic = deposit.pit_values(False)
    green = deposit.pit_values(True) if green_states is not None else None
    if green is None or np.any(green > economic):
        return solver.solve(economic)
    start = time.perf_counter()
    state = ParametricClosure(solver)
    state.closure(green)
    result = state.copy().solve(economic)
    green_states[0.0] = state
    result.seconds = time.perf_counter() - start
    return result


def utilisation_pit(deposit: Deposit, values: np.ndarray, floor: float | None,
                    solver: PseudoflowSolver | None = None, known=(), states: dict | None = None
                    ) -> tuple[np.ndarray, float]:
    """The best pit (for block ``values``) holding at least ``floor`` of the deposit's ore-grade metal.

    A credit (currency per t of metal) is added to every ore-grade block, and the smallest credit
    whose maximum closure holds the required share is found exactly on one parametric pseudoflow
    (`solvers.parametric.smallest_parameter`), so the pit stays a closure problem; the credit is the
    floor's price (its Lagrange multiplier).  Returns (pit mask, credit); the credit is 0 when the
    floor does not bind.  Raises `InfeasibleError` when even the largest pit misses the floor.
    known: (credit, share) pairs already solved for these ``values`` (`credit_bracket`); they only
    narrow the search, the pit and credit are the same.  states: {credit: `ParametricClosure`} of
    these ``values``' closures solved before, to continue from (`solvers.parametric.smallest_parameter`).
    """
    solver = PseudoflowSolver(deposit.precedence) if solver is None else solver
    ore_metal = deposit.ore_metal
    total = float(ore_metal.sum())
    if floor is None or total <= 0:
        return solver.solve(values).solution, 0.0
    start, step = credit_bracket(known, floor)
    try:
        return smallest_parameter(values, ore_metal, ore_metal, floor * total, solver=solver, start=start,
                                  first_step=step, states=states)
    except InfeasibleError:
        full = solver.solve((ore_metal > 0) * 1.0).solution          # every block holding ore-grade metal
        raise InfeasibleError(f"utilisation floor {floor:.3f} cannot be met: no pit holds more than "
                              f"{ore_metal[full].sum() / total:.3f} of the deposit's metal",
                              field="utilisation_floor") from None


def credit_bracket(known, floor: float, margin: float = 1e-9) -> tuple[float, float]:
    """(start, first step) for `utilisation_pit`'s search from ``known`` (credit, share of the metal)
    points of the same values' closures: the largest credit known to hold less than ``floor`` and
    the step to the smallest known to hold it (shares within ``margin`` of the floor are not trusted
    either way); (0, 1) when nothing is known below the floor.  The closures grow with the credit,
    so the smallest credit reaching the floor lies in that bracket (or beyond it, where the search
    goes on doubling)."""
    below = [c for c, share in known if share < floor * (1 - margin)]
    if not below:
        return 0.0, 1.0
    start = max(below)
    above = [c for c, share in known if share >= floor * (1 + margin) and c > start]
    return start, (min(above) - start if above else 1.0)


def pushbacks(deposit: Deposit, values: np.ndarray, pit: np.ndarray, n_pushbacks: int,
              solver: PseudoflowSolver | None = None, n_shells: int = 25, core: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """(pushback, shell) per block, -1 outside ``pit``.

    Shells are nested pits inside ``pit`` (a closure; solved within it) at ``n_shells`` rising revenue
    factors (0.2 to 1; the last shell is the rest of the pit); pushbacks group consecutive shells into about ``n_pushbacks``
    groups of similar tonnage.  A shell is a closed set, so mining shells in order keeps every slope.
    core: a closed set known to lie in the first shell (`shell_core`): the shells are the same,
    solved without its blocks (`solvers.nested.nested_pits`).
    """
    solver = PseudoflowSolver(deposit.precedence) if solver is None else solver
    positive = np.maximum(values, 0.0)
    negative = np.minimum(values, 0.0)
    factors = np.linspace(0.2, 1.0, n_shells)
    outside = ~pit
    big = np.abs(values).sum() + 1.0

    def value_at(f):
        return np.where(outside, -big, f * positive + negative)

    nested = nested_pits(value_at, factors, deposit.precedence, solver, within=pit, core=core)
    shell = np.where(pit, np.where(nested.solution >= 0, nested.solution, factors.size), -1)
    tonnage = deposit.tonnage
    shell_t = np.bincount(shell[pit], weights=tonnage[pit], minlength=factors.size + 1)
    target = shell_t.sum() / max(1, n_pushbacks)
    group = np.zeros(shell_t.size, dtype=np.int64)
    current, acc = 0, 0.0
    for s, t in enumerate(shell_t):
        if acc >= target and t > 0 and current < n_pushbacks - 1:
            current, acc = current + 1, 0.0
        group[s] = current
        acc += t
    return np.where(pit, group[np.maximum(shell, 0)], -1), shell


def shell_core(cores: dict | None, credit: float, pit: np.ndarray) -> np.ndarray | None:
    """Blocks sure to lie in the first shell of `pushbacks` of ``pit`` for values ``v + credit * m``,
    from ``cores`` ({credit: (pit, its first shell)} of earlier pits of the same ``v`` and ``m >= 0``,
    at the same shell factors): the first shell at the largest credit up to ``credit`` whose pit lies
    in ``pit``.  Its values were nowhere higher (``m >= 0``) within a pit inside this one, and minimal
    maximum closures only grow as values rise, so it lies in the new first shell.  None when there
    is none."""
    below = [c for c in (cores or {}) if c <= credit and not np.any(cores[c][0] & ~pit)]
    return cores[max(below)][1] if below else None


def pit_warnings(deposit: Deposit, pit: np.ndarray, label: str) -> list[str]:
    """Sentences for a pit that reaches the model's floor or side walls: there the model, not the
    economics, stopped the pit, which would go deeper or wider in a larger model."""
    m = deposit.model
    rock = pit & (deposit.tonnage > 0)
    if not rock.any():
        return []
    nx, ny, _ = m.dims
    i, j, k = m.i, m.j, m.k
    out = []
    floor = rock & (k == k[deposit.tonnage > 0].min())
    if floor.any():
        out.append(f"the {label} reaches the model's floor ({_blocks(int(floor.sum()))} on its lowest bench): "
                   "it may go deeper in a deeper model")
    walls = rock & ((i == 0) | (i == nx - 1) | (j == 0) | (j == ny - 1))
    if walls.any():
        out.append(f"the {label} reaches the model's side walls ({_blocks(int(walls.sum()))} on its edge): "
                   "it may go wider in a wider model")
    return out


def _blocks(n: int) -> str:
    return f"{n:,} block" + ("" if n == 1 else "s")
