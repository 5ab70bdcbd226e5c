"""Parametric maximum closures: nested pits for a list of revenue factors (domain-free).

For factors ``f_1 < f_2 < ...`` node values are ``v(f)``, non-decreasing in
``f`` for the usual case (``v = f * revenue - cost`` with ``revenue >= 0``).
Then the minimal maximum closures are nested (Picard 1976; the parametric
property of pseudoflow, Hochbaum 2008): pit(f_a) is contained in pit(f_b) for
a < b.  While the values never fall, all factors are solved on one pseudoflow state
(`solvers.parametric.ParametricClosure`): each solve continues from the previous
optimum, so the whole sequence costs a small multiple of one solve.  When some
value falls (negative revenue), each later solve instead fixes the previous pit
in and still returns nested pits, each the best pit containing the previous one.
"""
from __future__ import annotations

import math
import time

import numpy as np

from .closure import PseudoflowSolver
from .errors import InputError
from .parametric import ParametricClosure
from .result import FEASIBLE, OPTIMAL, Result


def pit_of_shells(shell: np.ndarray, index: int) -> np.ndarray:
    """Boolean mask of the pit for the factor of that ``index``: nodes of shells 0..index."""
    return (shell >= 0) & (shell <= index)


def parse_factors(text: str) -> np.ndarray:
    """'0.3:2.0:0.05' (start:stop:step, stop included) or '0.5,1,1.5' -> ascending factors."""
    try:
        if ":" in text:
            start, stop, step = (float(t) for t in text.split(":"))
            if step <= 0 or stop < start:
                raise ValueError
            count = int(math.floor((stop - start) / step + 1e-9)) + 1
            values = np.round(start + step * np.arange(count), 12)
        else:
            values = np.array([float(t) for t in text.split(",") if t.strip()])
    except ValueError:
        raise InputError(f"factors '{text}' must be start:stop:step (step > 0) or a comma list of numbers",
                         field="factors") from None
    if values.size == 0 or not np.isfinite(values).all():
        raise InputError(f"factors '{text}' give no finite values", field="factors")
    return np.unique(values)


def nested_pits(value_fn, factors, precedence, solver: PseudoflowSolver | None = None, within=None,
                core=None) -> Result:
    """Nested maximum closures of ``value_fn(f)`` (an array per factor) for ascending factors.

    within: optional boolean mask of a closed set every pit must lie in (`PseudoflowSolver.solve`);
    the solves then work on its nodes only.  core: optional boolean mask of a closed set known to lie
    in the minimal maximum closure at the first factor (e.g. that closure for values nowhere above
    these, within a set inside ``within``): the solves then work without its nodes, and the pits are
    the same (the minimal maximum closure holds every closed subset of itself, and the later pits
    hold it).  A core outside that closure is the caller's mistake: the pits would be the best ones
    holding it.

    Returns a `Result`: solution = shell index per node (the index of the first factor whose pit
    holds it, -1 if none; the pit of factor i is `pit_of_shells`(solution, i)); objective = value
    of the last (largest) pit at the last factor.  info: ``factors`` (ascending, duplicates
    dropped), ``objectives`` (value of pit i at factor i, ``math.fsum`` of node values),
    ``solve_seconds`` (per factor), ``core_nodes`` (nodes of the core).  Status 'optimal' when every pit is a maximum closure at its
    factor, which holds when the values never fall as the factor rises; otherwise some pit may be
    only the best one containing the previous pit: status 'feasible', and the bound is the
    maximum closure at the last factor.
    """
    t0 = time.perf_counter()
    factors = np.unique(np.asarray(factors, dtype=np.float64))
    if factors.size == 0 or not np.isfinite(factors).all():
        raise InputError("factors must be a non-empty list of finite numbers", field="factors")
    solver = solver or PseudoflowSolver(precedence)
    if core is not None:
        core = np.asarray(core, dtype=bool)
        if within is not None and np.any(core & ~np.asarray(within, dtype=bool)):
            raise InputError("core: every node of the core must lie within the pits' bounding set", field="core")
    shell = np.full(solver.n_nodes, -1, dtype=np.int64)
    fixed = np.zeros(solver.n_nodes, dtype=bool)
    objectives, times = [], []
    previous, monotone = None, True
    parametric = ParametricClosure(solver, fixed=core, within=within)
    for idx, f in enumerate(factors):
        values = np.asarray(value_fn(float(f)), dtype=np.float64)
        monotone = monotone and (previous is None or bool(np.all(values >= previous)))
        if monotone:
            res = parametric.solve(values)
        else:
            res = solver.solve(values, fixed=fixed if fixed.any() else None, within=within)
        shell[res.solution & ~fixed] = idx
        fixed = res.solution
        objectives.append(res.objective)
        times.append(res.seconds)
        previous = values
    bound = objectives[-1] if monotone else solver.solve(previous, within=within).objective
    info = {"factors": factors.tolist(), "objectives": objectives, "solve_seconds": times,
            "core_nodes": 0 if core is None else int(core.sum())}
    return Result(OPTIMAL if monotone else FEASIBLE, objectives[-1], bound, time.perf_counter() - t0, shell,
                  "nested-pseudoflow", info)


def nested_closures(revenue, cost, factors, precedence, solver: PseudoflowSolver | None = None) -> Result:
    """Nested pits for node values ``f * revenue - cost`` at each factor f (ascending)."""
    revenue = np.ascontiguousarray(revenue, dtype=np.float64)
    cost = np.ascontiguousarray(cost, dtype=np.float64)
    if revenue.shape != cost.shape or revenue.ndim != 1:
        raise InputError(f"revenue {revenue.shape} and cost {cost.shape} must be vectors of equal length")
    return nested_pits(lambda f: f * revenue - cost, factors, precedence, solver)
