"""Result objects: every solver says what its answer is (optimal, or feasible with bound and gap)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field, asdict

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
    """Base of all solver results (maximization).

    status     'optimal', 'feasible', 'time_limit' (feasible, stopped by the limit) or 'infeasible'
    objective  value of the returned solution
    bound      proven upper bound on the optimum (equals objective when optimal)
    seconds    wall-clock time of the solve (s)
    algorithm  what produced it
    info       extra figures (iterations, model sizes, phase times)
    """

    status: str
    objective: float
    bound: float
    seconds: float
    algorithm: str
    info: dict = field(default_factory=dict)

    @property
    def gap(self) -> float:
        return relative_gap(self.objective, self.bound)

    @property
    def success(self) -> bool:
        return self.status in (OPTIMAL, FEASIBLE, TIME_LIMIT)

    def summary(self) -> dict:
        """Plain JSON-ready figures (no arrays)."""
        out = {k: v for k, v in asdict(self).items() if not hasattr(v, "shape")}
        out["gap"] = self.gap
        return out
