"""Parametric maximum closures: node values that only rise with a parameter (domain-free).

When the node values ``v(lam)`` never fall as the parameter ``lam`` rises (``a + lam * b`` with
``b >= 0``, or ``max(lam * r, 0) - c``), the minimal maximum closures are nested and one
pseudoflow state serves them all: at an optimum, raising the supplies of nodes keeps the
pseudoflow's labels valid, so the next solve continues from where the last one stopped and the
closure only grows (the parametric property of pseudoflow: Hochbaum 2008, "The pseudoflow
algorithm", Oper. Res. 56(4), section 9; Gallo, Grigoriadis and Tarjan 1989, SIAM J. Comput.
18(1)).  A whole ascending sequence then costs a small multiple of one solve, not one solve per
parameter.

* `ParametricClosure`: the state; ``solve(values)`` for values at least the previous ones.
* `smallest_parameter`: the smallest ``lam`` at which a maximum closure of ``a + lam * b`` holds
  a target amount of a quantity (the search of a resource credit), found exactly at a breakpoint
  of the parametric closure by intersecting the value lines of two bracketing closures (as in
  Gallo, Grigoriadis and Tarjan's breakpoint search), each trial continued from the state at the
  lower end of the bracket.
"""
from __future__ import annotations

import math
import time

import numpy as np

from .closure import _INT_HEADROOM, PseudoflowSolver, scale_values
from .errors import InfeasibleError, InputError
from .exactsum import masked_fsum
from .result import OPTIMAL, Result


class ParametricClosure:
    """Minimal maximum closures for a sequence of value vectors that never fall, on one state.

    precedence: a `Precedence`, a `GridPrecedence` or a `PseudoflowSolver` to reuse.  fixed and
    within: masks as in `PseudoflowSolver.solve`, for the whole sequence.  Values are solved as
    exact int64 multiples of 1/scale while a decimal scale represents them (the scale may grow
    along the sequence), then in float64 with the solver's tolerance.

    >>> from solvers.problem import Precedence
    >>> p = ParametricClosure(Precedence.from_arcs(2, [1], [0]))     # node 1 needs node 0
    >>> [p.solve([-2.0, f]).solution.tolist() for f in (1.0, 3.0)]
    [[False, False], [True, True]]
    """

    algorithm = "parametric-pseudoflow"

    def __init__(self, precedence, fixed=None, within=None):
        self.solver = precedence if isinstance(precedence, PseudoflowSolver) else PseudoflowSolver(precedence)
        self.active = self.solver.active_mask(fixed, within)
        self.fixed = None if fixed is None else np.asarray(fixed, dtype=bool)
        self._state = None
        self._last = None          # the last values in the state's units (int64 or float64)
        self._scale = None
        self.solves = 0

    @property
    def n_nodes(self) -> int:
        return self.solver.n_nodes

    def copy(self) -> "ParametricClosure":
        """An independent snapshot (the state's arrays copied), to try a parameter and come back."""
        twin = object.__new__(ParametricClosure)
        twin.__dict__.update(self.__dict__)        # _last is replaced, never written in place: shared
        if self._state is not None:
            twin._state = self._state.copy()
        return twin

    def solve(self, values) -> Result:
        """The minimal maximum closure for ``values`` (at least the previous values at every active node).

        Returns a `Result` as `PseudoflowSolver.solve` does (objective = ``math.fsum`` of the
        closure's values); info: ``n_in_pit``, ``exact``, ``scale``, ``merges`` and ``relabels``
        (summed over the sequence so far) and ``solves``.
        """
        t0 = time.perf_counter()
        values = self.solver.check_values(values)
        pit = self.closure(values)
        objective = masked_fsum(values, pit)
        info = {"n_in_pit": int(pit.sum()), "exact": self._scale is not None, "scale": self._scale,
                "merges": self._state.merges, "relabels": self._state.relabels, "solves": self.solves}
        return Result(OPTIMAL, objective, objective, time.perf_counter() - t0, pit, self.algorithm, info)

    def closure(self, values) -> np.ndarray:
        """The mask of `solve` alone (no objective summed)."""
        solver = self.solver
        values = solver.check_values(values)
        if self._state is None:
            scaled, self._scale = scale_values(values)
            tol = np.int64(0) if self._scale is not None else solver.tolerance(values)
            self._state = solver.start(scaled.copy(), self.active, tol)
        else:
            scaled = self._in_state_units(values)
            fell = self._state.raise_supply(scaled, self._last, self.active, solver.node_map)
            if fell >= 0:
                raise InputError(f"value of node {fell} fell from {self._value_of(self._last[fell])} to "
                                 f"{values[fell]}: parametric closures need values that never fall", field="values")
        self._last = scaled
        pit = solver.advance(self._state, self.active)
        if self.fixed is not None:
            pit |= self.fixed
        self.solves += 1
        return pit

    def _value_of(self, unit):
        return float(unit) / self._scale if self._scale is not None else float(unit)

    def _in_state_units(self, values) -> np.ndarray:
        """``values`` in the state's units; widens the decimal scale, or turns the state to float64."""
        state, scale = self._state, self._scale
        if scale is None:
            state.tol = max(state.tol, self.solver.tolerance(values))
            return values.copy()
        scaled, new = scale_values(values, smallest=scale)
        if new is not None and float(np.abs(self._last).sum()) * (new // scale) < _INT_HEADROOM:
            if new != scale:
                state.rescale(new // scale, np.int64(0))
                self._last = self._last * (new // scale)
                self._scale = new
            return scaled
        state.rescale(1.0 / scale, self.solver.tolerance(values))
        self._last = self._last / scale
        self._scale = None
        return values.copy()


def smallest_parameter(values, direction, quantity, target: float, precedence=None, solver=None,
                       start: float = 0.0, first_step: float = 1.0, states: dict | None = None
                       ) -> tuple[np.ndarray, float]:
    """(pit, lam): the smallest ``lam >= start`` at which a maximum closure of ``values + lam * direction``
    holds at least ``target`` of ``quantity`` (summed over the closure), and that closure.

    direction >= 0 and quantity >= 0, one per node (any units; the closures grow with lam, so the
    quantity they hold does too).  At ``start`` the minimal maximum closure is taken; when it holds
    the target, ``(it, start)`` is returned.  Otherwise lam is the breakpoint at which the closure
    first reaches the target, and pit is the closure just above it: at lam itself two maximum
    closures tie, pit is the larger (re-solving at lam returns the smaller, which misses the target;
    at any parameter a little above lam the minimal maximum closure is pit).  A bisection on lam
    converges to the same pit from above.  Raises `InfeasibleError` when no closure reaches the
    target.  precedence or solver (a `PseudoflowSolver` to reuse) gives the graph.

    Work: one solve at ``start``, then closures at ``start + first_step * 2**i`` until the target is
    reached (each continuing the last), then line intersections inside the bracket, each continuing
    from the state at the bracket's lower end; the bracket holds one breakpoint after a few steps.
    states: {lam: `ParametricClosure`} of closures of the same ``values + lam * direction`` solved
    before (e.g. by an earlier search, or a first closure at ``start`` made elsewhere): the solve at
    ``start`` continues from a copy of the one at the largest lam <= start instead of a fresh state
    (much cheaper than a first solve; the closures are the same), and the state at the final
    bracket's lower end takes its place when it is lower than the one there (one state is kept, see
    `_keep`).  A state at ``start`` itself is taken, not copied, and the lower end's state takes its
    place: the search only moved it on.
    """
    solver = solver if solver is not None else PseudoflowSolver(precedence)
    a = solver.check_values(values)
    b = solver.check_values(direction)
    q = solver.check_values(quantity)
    for name, arr in (("direction", b), ("quantity", q)):
        if np.any(arr < 0):
            i = int(np.flatnonzero(arr < 0)[0])
            raise InputError(f"{name} of node {i} is {arr[i]}; it must be non-negative", field=name)
    if not (math.isfinite(start) and math.isfinite(first_step) and first_step > 0):
        raise InputError(f"start {start} and first step {first_step} must be finite, the step positive")
    taken = states.pop(start, None) if states else None     # moved on below, so not copied
    low = taken or state_below(states, start) or ParametricClosure(solver)
    low_pit = low.closure(a + start * b)
    if masked_fsum(q, low_pit) >= target:
        _keep(states, start, low)
        return low_pit, float(start)
    total = masked_fsum(q)
    if total < target:
        raise InfeasibleError(f"target {target:.6g} exceeds the quantity of every node together ({total:.6g})")
    positive = b > 0
    # beyond this parameter every node with direction > 0 is in each maximum closure: nothing changes
    last_change = start + (masked_fsum(np.abs(a)) + 1.0) / float(b[positive].min()) if positive.any() else start
    lo, step = float(start), float(first_step)
    while True:
        hi = start + step
        trial = low.copy()
        hi_pit = trial.closure(a + hi * b)
        if masked_fsum(q, hi_pit) >= target:
            break
        if hi > last_change:
            raise InfeasibleError(f"no closure holds {target:.6g} of the quantity: the largest holds "
                                  f"{masked_fsum(q, hi_pit):.6g}")
        low, lo, low_pit, step = trial, hi, hi_pit, step * 2.0
    for _ in range(4 * 64):
        between = hi_pit & ~low_pit
        slope = masked_fsum(b, between)
        if slope <= 0:
            break
        lam = min(max(lo, -masked_fsum(a, between) / slope), hi)     # lo first: 0.0, not -0.0, on a tie
        trial = low.copy()
        pit = trial.closure(a + lam * b)
        size = int(pit.sum())
        if size == int(low_pit.sum()) or size == int(hi_pit.sum()):
            _keep(states, lo, low)
            return hi_pit, lam          # the two closures tie at lam: the one breakpoint of the bracket
        if masked_fsum(q, pit) >= target:
            hi, hi_pit = lam, pit
        else:
            low, lo, low_pit = trial, lam, pit
    _keep(states, lo, low)
    return hi_pit, hi


def state_below(states: dict | None, parameter: float) -> "ParametricClosure | None":
    """A copy of the state in ``states`` ({parameter: `ParametricClosure`}) at the largest parameter
    <= ``parameter``, to continue from; None when there is none."""
    below = [lam for lam in (states or {}) if lam <= parameter]
    return states[max(below)].copy() if below else None


def _keep(states: dict | None, parameter: float, state: ParametricClosure) -> None:
    """Keep ``state`` in ``states`` when its parameter is below every one kept, in their place: a
    search continues from the state below its start, so the lowest serves every later search, and
    one state (about 80 bytes a node) is held instead of one per search."""
    if states is not None and (not states or parameter < min(states)):
        states.clear()
        states[float(parameter)] = state
