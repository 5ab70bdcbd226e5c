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

`ForkedSeries(fns)` runs several functions one after another in one child, each result sent back
as soon as it is made: work that shares what the first computes (e.g. the economic pit's cuts of
npv and high-grade) is then done once; `ForkedSeries.job(i)` is a `Forked` handle on ``fns[i]``.
"""
from __future__ import annotations

import multiprocessing
import os
import sys


#: a child is forked only while the memory available is at least this many times what it may come to
#: hold of its own: by default this process's resident size (a child may write, and so copy, as much
#: as its parent holds), or the bytes its work is known to need (``own``)
MEMORY_PER_CHILD = 2.0


def can_fork(highs: bool = True, own: float | None = None) -> bool:
    """True where a child may be forked safely: the system forks (Linux), it has more than one core,
    this process is not itself a child (`Forked`'s children are daemons, which may have none),
    the memory available holds another copy of this process, or ``own`` bytes when the child's work
    is known to hold no more of its own (`MEMORY_PER_CHILD`; a model too large for that runs its work
    here, one piece after another, instead of being killed for memory), and,
    when the child may run HiGHS (``highs``), HiGHS has not run in this process (its worker threads
    would be missing in the child)."""
    if "fork" not in multiprocessing.get_all_start_methods() or (os.cpu_count() or 1) < 2:
        return False
    if multiprocessing.current_process().daemon:        # a child itself: it may have none
        return False
    if highs and "highspy" in sys.modules:
        return False
    available, resident = memory()
    return available >= MEMORY_PER_CHILD * (resident if own is None else own)


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


class ForkedSeries:
    """``fns[0]()``, ``fns[1]()``, ... one after another in one forked child (``parallel`` and
    `can_fork`), each result sent back as soon as it is made; or here, each on demand, in order.
    highs: as `Forked`'s; nice: the child's niceness increment for ``fns[0]``; later_nice: its
    increment from ``fns[1]`` on (at least ``nice``: the work after the first may yield the cores);
    own: the bytes the child may come to hold of its own (`can_fork`; default: as much as this process)."""

    def __init__(self, fns, parallel: bool = True, highs: bool = True, nice: int = 0, later_nice: int | None = None,
                 own: float | None = None):
        self._fns = list(fns)
        self._outcomes = []
        self._process = None
        if parallel and can_fork(highs, own):
            context = multiprocessing.get_context("fork")
            self._pipe, child_end = context.Pipe(duplex=False)
            later = nice if later_nice is None else max(nice, later_nice)
            self._process = context.Process(target=_series_child, args=(self._fns, child_end, nice, later),
                                            daemon=True)
            self._process.start()
            child_end.close()
            self._fns = [None] * len(self._fns)      # the child has them

    @property
    def forked(self) -> bool:
        return self._process is not None

    def result(self, i: int):
        """The value of ``fns[i]()`` (those before it are made first); its exception is raised here."""
        while len(self._outcomes) <= i:
            k = len(self._outcomes)
            if self._process is None:
                fn, self._fns[k] = self._fns[k], None
                try:
                    self._outcomes.append(("value", fn()))
                except BaseException as exc:  # noqa: BLE001 - raised below, and again if asked again
                    self._outcomes.append(("raised", exc))
            else:
                try:
                    self._outcomes.append(self._pipe.recv())
                except EOFError:
                    self._outcomes.extend([("died", None)] * (len(self._fns) - k))
                if len(self._outcomes) == len(self._fns):
                    self._pipe.close()
                    self._process.join()
        return _unpack(self._outcomes[i], self._process)

    def job(self, i: int) -> "Forked":
        """A handle on ``fns[i]``: `Forked`'s ``result()`` and ``forked``."""
        return Forked._of(self, i)


class Forked:
    """``fn()`` in a forked child process (``parallel`` and `can_fork`), or here, on demand: a
    `ForkedSeries` of one function.  highs: False when ``fn`` never runs HiGHS (it may then fork
    after HiGHS has run here); nice: the child's niceness increment (0: as its parent; 19: only idle
    cores, see ``os.nice``); own: as `ForkedSeries`'s."""

    def __init__(self, fn, parallel: bool = True, highs: bool = True, nice: int = 0, own: float | None = None):
        self._series, self._i = ForkedSeries([fn], parallel, highs, nice, own=own), 0

    @classmethod
    def _of(cls, series: ForkedSeries, i: int) -> "Forked":
        job = cls.__new__(cls)
        job._series, job._i = series, i
        return job

    @property
    def forked(self) -> bool:
        return self._series.forked

    def result(self):
        """The value of ``fn()``; its exception (with its fields, e.g. an `InputError`'s) is raised here."""
        return self._series.result(self._i)


def _unpack(outcome, process):
    """The value of a ``(kind, payload)`` outcome, or its exception raised."""
    kind, payload = outcome
    if kind == "value":
        return payload
    if kind == "raised":
        raise payload
    if kind == "died":
        raise RuntimeError(f"a worker process ended without a result (exit code {process.exitcode})")
    cls, args, fields = payload
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(fields)
    raise error


def _series_child(fns, pipe, nice: int, later: int) -> None:
    if nice:
        os.nice(nice)
    for k, fn in enumerate(fns):
        if k == 1 and later > nice:
            os.nice(later - nice)
        _send(pipe, fn)
    pipe.close()


def _send(pipe, fn) -> None:
    """Run ``fn`` and send its outcome (value or error) through ``pipe``."""
    try:
        outcome = ("value", fn())
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent
        outcome = ("error", (type(exc), exc.args, dict(exc.__dict__)))
    try:
        pipe.send(outcome)
    except Exception as exc:  # noqa: BLE001 - a result that cannot be pickled
        pipe.send(("error", (RuntimeError, (f"a worker's result could not be sent back: {exc}",), {})))
