"""A wall-clock time budget that phases split among themselves.

>>> now = [0.0]                                          # a fake clock (s) for the example
>>> budget = Deadline(100.0, clock=lambda: now[0])
>>> now[0] = 10.0
>>> lp = budget.child(share=0.3, minimum=1.0)            # 30 % of what is left, at least 1 s
>>> lp.seconds, budget.left()
(27.0, 90.0)
"""
from __future__ import annotations

import math
import time


class Deadline:
    """``seconds`` (s) from now; ``math.inf`` for no limit.  ``clock`` returns seconds (tests pass a fake)."""

    def __init__(self, seconds: float, clock=time.perf_counter):
        self.clock = clock
        self.seconds = float(seconds)
        self.end = clock() + self.seconds

    def left(self) -> float:
        """Seconds left (0 when expired)."""
        return max(0.0, self.end - self.clock())

    def expired(self) -> bool:
        return self.left() <= 0.0

    def child(self, share: float = 1.0, reserve: float = 0.0, minimum: float = 0.0,
              maximum: float = math.inf) -> "Deadline":
        """A deadline for one phase: ``share`` of what is left once ``reserve`` seconds are kept for
        the phases after it, clipped to [``minimum``, ``maximum``] s.  ``minimum`` may reach past this
        deadline (a phase that needs a floor to give any answer)."""
        seconds = min(maximum, max(minimum, share * (self.left() - reserve)))
        return Deadline(seconds, self.clock)
