"""Domain-free precedence-constrained optimization: closure, scheduling, checking.

Knows nothing of tonnes, grades or dollars: arrays, graphs, problems, results.
The problem and result types are imported on first use, so that `solvers.errors` loads no numba.
"""
from .errors import InputError, InfeasibleError

__all__ = ["InputError", "InfeasibleError", "Precedence", "UpitProblem", "CpitProblem",
           "PcpspProblem", "SideConstraints", "Schedule", "Result"]
_LAZY = {"Result": "result", **{name: "problem" for name in __all__[2:-1]}}


def __getattr__(name):
    if name in _LAZY:
        from importlib import import_module
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'solvers' has no attribute {name!r}")
