"""Independent work side by side: a function run in a forked child process, its result read back.

The strategies of a comparison do not depend on each other's plans (green's NPV budget needs
npv's NPV only after green's first plan), so on a machine with more than one core they can run at
once.  A forked child shares the parent's arrays (the valued deposit, the precedence) without
copying them; only its result comes back, pickled through a pipe.

`Forked(fn)` starts ``fn()`` in a child when `can_fork` says so, and otherwise runs it here when its
result is first asked for; `Forked.result` returns the value or raises the child's exception.  A
child must not change anything its parent reads later: what it computes is lost but its result.
A child whose result is wanted last can yield the cores (``nice``): it then runs on what the
others leave idle, so that it does not slow the work its parent waits for.
"""
from __future__ import annotations

import multiprocessing
import os
import sys


#: a child is forked only while the memory available is at least this many times this process's
#: resident size: a child may come to write (and so copy) as much as its parent holds
MEMORY_PER_CHILD = 2.0


def can_fork(highs: bool = True) -> bool:
    """True where a child may be forked safely: the system forks (Linux), it has more than one core,
    this process is not itself a child (`Forked`'s children are daemons, which may have none),
    the memory available holds another copy of this process (`MEMORY_PER_CHILD`; a model too large
    for that runs its work here, one piece after another, instead of being killed for memory), and,
    when the child may run HiGHS (``highs``), HiGHS has not run in this process (its worker threads
    would be missing in the child)."""
    if "fork" not in multiprocessing.get_all_start_methods() or (os.cpu_count() or 1) < 2:
        return False
    if multiprocessing.current_process().daemon:        # a child itself: it may have none
        return False
    if highs and "highspy" in sys.modules:
        return False
    available, resident = memory()
    return available >= MEMORY_PER_CHILD * resident


def memory() -> tuple[float, float]:
    """(bytes of memory available to new work on this machine, bytes resident in this process), from
    /proc (Linux); (0, 0) where it cannot be read."""
    try:
        with open("/proc/meminfo") as info:
            available = next(int(line.split()[1]) for line in info if line.startswith("MemAvailable:"))
        with open("/proc/self/status") as status:
            resident = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    except (OSError, StopIteration, ValueError):
        return 0.0, 0.0
    return 1024.0 * available, 1024.0 * resident


class Forked:
    """``fn()`` in a forked child process (``parallel`` and `can_fork`), or here, on demand.
    highs: False when ``fn`` never runs HiGHS (it may then fork after HiGHS has run here); nice: the
    child's niceness increment (0: as its parent; 19: only idle cores, see ``os.nice``)."""

    def __init__(self, fn, parallel: bool = True, highs: bool = True, nice: int = 0):
        self._fn = fn
        self._outcome = None
        self._process = None
        if parallel and can_fork(highs):
            context = multiprocessing.get_context("fork")
            self._pipe, child_end = context.Pipe(duplex=False)
            self._process = context.Process(target=_child, args=(fn, child_end, nice), daemon=True)
            self._process.start()
            child_end.close()
            self._fn = None             # the child has it: let go of what it holds here

    @property
    def forked(self) -> bool:
        return self._process is not None

    def result(self):
        """The value of ``fn()``; its exception (with its fields, e.g. an `InputError`'s) is raised here."""
        if self._outcome is None:
            if self._process is None:
                fn, self._fn = self._fn, None
                try:
                    self._outcome = ("value", fn())
                except BaseException as exc:  # noqa: BLE001 - raised below, and again if asked again
                    self._outcome = ("raised", exc)
            else:
                try:
                    self._outcome = self._pipe.recv()
                except EOFError:
                    self._outcome = ("died", None)
                self._pipe.close()
                self._process.join()
        kind, payload = self._outcome
        if kind == "value":
            return payload
        if kind == "raised":
            raise payload
        if kind == "died":
            raise RuntimeError(f"a worker process ended without a result (exit code {self._process.exitcode})")
        cls, args, fields = payload
        error = cls.__new__(cls)
        error.args = args
        error.__dict__.update(fields)
        raise error


def _child(fn, pipe, nice: int) -> None:
    if nice:
        os.nice(nice)
    try:
        outcome = ("value", fn())
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent
        outcome = ("error", (type(exc), exc.args, dict(exc.__dict__)))
    try:
        pipe.send(outcome)
    except Exception as exc:  # noqa: BLE001 - a result that cannot be pickled
        pipe.send(("error", (RuntimeError, (f"a worker's result could not be sent back: {exc}",), {})))
    pipe.close()
