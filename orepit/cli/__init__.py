"""The ``orepit`` command: one module per verb in this package, no mining logic here.

Exit status: 0 success, 2 bad input (an `InputError`, message on stderr),
1 internal failure.  With ``--json`` every verb prints exactly one JSON object
on stdout, also on failure (``{"error": ...}``).
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import sys

from solvers.errors import InputError

from orepit.data.jsonable import jsonable

# Verb modules, each with ``register(subparsers)`` adding its parser with ``func=run``.
VERBS = ["info", "check", "pit", "shells", "prec", "value", "gt", "synth", "schedule", "compare", "demo", "report", "sweep"]


class UsageError(InputError):
    """A bad command line (unknown option, missing argument)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse would print usage and exit; we report like any bad input
        raise UsageError(f"{message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="orepit", description="Ore-body resource optimization: pits, schedules, green mining.")
    sub = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)
    sub.required = True
    for name in VERBS:
        try:
            module = importlib.import_module(f"orepit.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"orepit.cli.{name}":
                continue  # verb not built yet
            raise
        module.register(sub)
    return parser


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def emit(args, payload: dict, text: str | None = None) -> None:
    """Print the verb's result: JSON with ``--json``, else ``text`` (or key: value lines)."""
    if getattr(args, "json", False):
        print(json.dumps(jsonable(payload, nonfinite_as_text=True)))
    elif text is not None:
        print(text)
    else:
        for key, value in payload.items():
            print(f"{key}: {value}")


def _keep_stdout_clean() -> None:
    """Send what C libraries write on file descriptor 1 (HiGHS prints a banner there) to stderr,
    so that stdout carries only orepit's own output (one JSON object with --json)."""
    if sys.stdout is not sys.__stdout__ or sys.__stdout__ is None:
        return  # stdout already redirected (tests, embedding)
    try:
        sys.stdout.flush()
        real = os.dup(1)
        os.dup2(2, 1)
    except OSError:
        return
    sys.stdout = os.fdopen(real, "w", buffering=1)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    want_json = "--json" in argv
    _keep_stdout_clean()
    try:
        args = build_parser().parse_args(argv)
        code = args.func(args)
        return 0 if code is None else int(code)
    except InputError as exc:
        message = str(exc)
        status = 2
    except KeyboardInterrupt:
        message, status = "interrupted", 130
    except BrokenPipeError:  # output piped into a reader that stopped (e.g. `| head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # noqa: BLE001 - the CLI never shows a traceback
        if os.environ.get("OREPIT_DEBUG"):
            raise
        message = f"internal error: {type(exc).__name__}: {exc} (set OREPIT_DEBUG=1 for the traceback)"
        status = 1
    print(f"orepit: {message}", file=sys.stderr)
    if want_json:
        print(json.dumps({"error": message, "status": status}))
    return status


if __name__ == "__main__":
    sys.exit(main())
