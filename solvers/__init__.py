"""Domain-free precedence-constrained optimization: closure, scheduling, checking.

Knows nothing of tonnes, grades or dollars: arrays, graphs, problems, results.
"""
from .errors import InputError, InfeasibleError, TimeLimitError
from .problem import Precedence, UpitProblem, CpitProblem, PcpspProblem, SideConstraints, Schedule
from .result import Result

__all__ = ["InputError", "InfeasibleError", "TimeLimitError", "Precedence", "UpitProblem", "CpitProblem",
           "PcpspProblem", "SideConstraints", "Schedule", "Result"]
