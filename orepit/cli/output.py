"""What the command prints: the verb's result (`emit`) and where libraries' own output goes.

stdout carries only orepit's result (one JSON object with ``--json``); progress and messages go to
stderr.  C libraries write on the file descriptors directly (HiGHS prints a banner on descriptor 1
when a process makes its first solver), so `route_library_output` points descriptor 1 at stderr,
or both 1 and 2 at the null device with ``--quiet``, while orepit keeps the real streams.
"""
from __future__ import annotations

import contextlib
import json
import os
import sys
import warnings

from orepit.data.jsonable import jsonable


def emit(args, payload: dict, text: str | None = None) -> None:
    """Print the verb's result: JSON with ``--json``, else ``text`` (or key: value lines)."""
    if getattr(args, "json", False):
        print(json.dumps(jsonable(payload, nonfinite_as_text=True)))
    elif text is not None:
        print(text)
    else:
        for key, value in payload.items():
            print(f"{key}: {value}")


def _keep(fd: int, target: int, stream):
    """Move what is written on ``fd`` to ``target``; a new Python stream on the old destination."""
    stream.flush()
    real = os.dup(fd)
    os.dup2(target, fd)
    return os.fdopen(real, "w", buffering=1)


def route_library_output(quiet: bool) -> None:
    """Send what libraries write on descriptor 1 to stderr (with ``quiet``: descriptors 1 and 2 to
    the null device); ``sys.stdout`` and ``sys.stderr`` keep writing where they did.  Does nothing
    when the streams are already redirected (tests, embedding)."""
    if sys.stdout is not sys.__stdout__ or sys.__stdout__ is None:
        return
    try:
        target = os.open(os.devnull, os.O_WRONLY) if quiet else 2
        if quiet and sys.stderr is sys.__stderr__ and sys.__stderr__ is not None:
            sys.stderr = _keep(2, target, sys.stderr)
        sys.stdout = _keep(1, target, sys.stdout)
    except OSError:
        return


@contextlib.contextmanager
def plain_warnings():
    """Warnings reach the engineer as ``warning: message`` lines, without the source line Python
    would print under them (which names orepit's code, not the user's input)."""
    before = warnings.formatwarning
    warnings.formatwarning = lambda message, category, *rest, **kw: f"warning: {message}\n"
    try:
        yield
    finally:
        warnings.formatwarning = before
