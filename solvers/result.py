"""The one result of every solver in `solvers`, and the one progress-callback signature.

Every solver returns a `Result` that says what its answer is (maximization):

    status     'optimal'     the solution is optimal (within the tolerance or gap asked for);
                             bound == objective up to that tolerance
               'feasible'    a feasible solution, not proven optimal; ``bound`` and ``gap`` say how far
               'time_limit'  stopped by the time limit: the best solution found (None when none was
                             found, then objective is -inf), with the best bound
               'infeasible'  no solution exists (for the checker: the solution breaks a constraint)
    objective  value of ``solution`` (-inf when there is none)
    bound      proven upper bound on the optimum (+inf when unknown)
    seconds    wall-clock time (s)
    solution   the answer; its form is documented by each solver (pit mask, shell index per node,
               LP fractions, column vector, `Schedule`, the checker's violation messages)
    algorithm  what produced it
    info       extra figures (iterations, model sizes, phase times, ...)

Progress callbacks all have one signature, ``progress(phase, incumbent, bound)``: ``phase`` is a
word naming the step, optionally followed by a detail (``"lp 12"``, ``"window 0-1"``, ``"mip"``);
``incumbent`` and ``bound`` are floats, ``-inf`` and ``+inf`` when not known yet.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

OPTIMAL = "optimal"
FEASIBLE = "feasible"
TIME_LIMIT = "time_limit"
INFEASIBLE = "infeasible"


def relative_gap(objective: float, bound: float) -> float:
    """(bound - objective) / max(|objective|, 1) for a maximization; inf when either is unknown."""
    if objective is None or bound is None or not (math.isfinite(objective) and math.isfinite(bound)):
        return math.inf
    return max(0.0, bound - objective) / max(abs(objective), 1.0)


@dataclass
class Result:
    """What a solver returns (fields in the module docstring)."""

    status: str
    objective: float
    bound: float
    seconds: float
    solution: Any = None
    algorithm: str = ""
    info: dict = field(default_factory=dict)
    solution: object = None

    @property
    def gap(self) -> float:
        """Relative gap (bound - objective) / max(|objective|, 1); inf when either is unknown."""
        return relative_gap(self.objective, self.bound)

    @property
    def feasible(self) -> bool:
        """True when ``solution`` is a feasible answer (optimal, feasible, or the best found in time)."""
        return self.status in (OPTIMAL, FEASIBLE) or (self.status == TIME_LIMIT and self.solution is not None)

    def summary(self) -> dict:
        """JSON-ready figures: every field but ``solution``, the gap, and ``info`` without arrays."""
        return {"status": self.status, "objective": float(self.objective), "bound": float(self.bound),
                "gap": self.gap, "seconds": float(self.seconds), "algorithm": self.algorithm,
                "info": _plain(self.info)}


def _plain(value):
    """``value`` with arrays left out and numpy scalars made Python numbers (dicts and lists walked)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if getattr(v, "ndim", 0) == 0}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value if getattr(v, "ndim", 0) == 0]
    return value.item() if hasattr(value, "item") and getattr(value, "ndim", None) == 0 else value
