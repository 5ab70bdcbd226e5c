"""The one exception type for bad input, shared by `solvers` and `orepit`."""
from __future__ import annotations

import os


class InputError(ValueError):
    """Malformed or inconsistent input.

    The message names where the problem is: ``FILE line N: FIELD ...`` when a
    file and line are known, so a user can open the file and fix it.

    >>> str(InputError("predecessor 99999 out of range (NBLOCKS 14153)", path="kd.prec", line=812))
    'kd.prec line 812: predecessor 99999 out of range (NBLOCKS 14153)'
    """

    def __init__(self, message: str, path: str | os.PathLike | None = None,
                 line: int | None = None, field: str | None = None):
        self.reason = message
        self.path = None if path is None else os.fspath(path)
        self.line = line
        self.field = field
        where = ""
        if self.path is not None:
            where = os.path.basename(self.path)
            if line is not None:
                where += f" line {line}"
            where += ": "
        elif line is not None:
            where = f"line {line}: "
        super().__init__(where + message)


class InfeasibleError(InputError):
    """The constraints cannot all hold (for example a capacity too small from period 0)."""


class CapacityError(InfeasibleError):
    """Resource limits no schedule can meet, whatever it mines (`solvers.check.capacity_conflicts`):
    ``conflicts`` holds ``(resource, period, message)`` for each; the message names the first five.
    A caller that knows where the limits were read from raises it again with the file and line."""

    def __init__(self, conflicts, path=None, line: int | None = None, field: str = "resource"):
        self.conflicts = list(conflicts)
        super().__init__("capacities cannot be met: " + "; ".join(m for _, _, m in self.conflicts[:5]),
                         path=path, line=line, field=field)


class TimeLimitError(InputError):
    """No solution found within the time limit: the problem may well be feasible (raise the limit).
    Not an `InfeasibleError`, so no caller takes it for infeasibility and plans around it: a result
    that depended on the machine's speed or load."""
