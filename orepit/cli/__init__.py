"""The ``orepit`` command: one module per verb in this package, no mining logic here.

Exit status: 0 success, 2 bad input (an `InputError`, message on stderr),
1 internal failure.  With ``--json`` every verb prints exactly one JSON object
on stdout, also on failure (``{"error": ...}``).  The options several verbs share
are defined once, in `orepit.cli.options`.

Start-up is lean: ``orepit VERB`` imports only that verb's module (all of them for ``orepit
--help``, none for ``orepit --version``), so that ``orepit pit --grid`` does not wait for the
libraries other verbs need.
"""
from __future__ import annotations

import gc
import importlib
import json
import os
import sys

from solvers.errors import InputError

from orepit.cli.options import Parser, check_renamed
from orepit.cli.output import plain_warnings, route_library_output
from orepit.version import __version__

#: The verbs, in the order ``orepit --help`` lists them; each is the module ``orepit.cli.VERB``, whose
#: ``register(subparsers)`` adds its parser with ``func=run``.
VERBS = ("info", "check", "pit", "shells", "prec", "value", "gt", "synth", "convert", "init", "schedule", "compare",
         "demo", "report", "sweep", "risk")


def build_parser(argv=None) -> Parser:
    """The parser of every verb; with ``argv`` naming a verb, of that verb only; with ``argv`` holding
    no word but ``--version``, of none."""
    parser = Parser(prog="orepit", description="Ore-body resource optimization: pits, schedules, green mining.")
    parser.add_argument("--version", action="version", version=f"orepit {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=Parser)
    sub.required = True
    named = next((word for word in argv or () if not word.startswith("-")), None)
    if named in VERBS:
        verbs = (named,)
    elif argv is not None and set(argv) <= {"--version"}:
        verbs = ()              # argparse answers --version (or wants a verb) before any verb is read
    else:
        verbs = VERBS           # --help, or a word that is no verb: all of them, to list them
    for verb in verbs:
        importlib.import_module(f"orepit.cli.{verb}").register(sub)
    return parser


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    want_json = "--json" in argv
    try:
        check_renamed(argv)
        args = build_parser(argv).parse_args(argv)
        route_library_output(quiet=getattr(args, "quiet", False))
        with plain_warnings():
            code = args.func(args)
        return 0 if code is None else int(code)
    except SystemExit as exc:  # --help, --version
        return 0 if exc.code is None else int(exc.code)
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
        if isinstance(exc, OSError) and exc.filename is not None:   # a file the system refused (disk full, rights)
            message, status = f"cannot use {exc.filename}: {exc.strerror}", 2
        else:
            message = f"internal error: {type(exc).__name__}: {exc} (set OREPIT_DEBUG=1 for the traceback)"
            status = 1
    print(f"orepit: {message}", file=sys.stderr)
    if want_json:
        print(json.dumps({"error": message, "status": status}))
    return status


def entry() -> None:
    """The ``orepit`` program (``python -m orepit`` too): `main`, then exit with its status.

    The objects still alive then, most of them numba's, are frozen out of the garbage collections
    the interpreter makes as it shuts down: the verb's work is done and its files are closed, and
    those collections took about 0.1 s of every run (``orepit pit --grid`` on 8 blocks: 0.55 s
    instead of 0.66 s).  Exit handlers still run.
    """
    status = main()
    gc.freeze()
    sys.exit(status)


if __name__ == "__main__":
    entry()
