"""The command line's vocabulary: one definition of each option that several verbs take.

Each ``add_*`` function adds options with their help, unit (in brackets) and default.  Defaults
are read from the code that owns them (`default_of`, the dataclasses, the constants), never
written here; `HelpFormatter` shows them in ``--help``.  Values are checked by the ``type``
functions below, so a bad value exits with status 2 and a message naming the option.

This module loads no domain module that imports pandas, so that a verb which needs none
(``orepit pit --grid``) starts lean; the options whose defaults live in such modules, and the
opening of what options name, are in `orepit.cli.opening`.
"""
from __future__ import annotations

import argparse
import inspect
import math
import os
import tempfile

from solvers.errors import InputError
from solvers.patterns import NAMED_PATTERNS

from orepit.data.columns import columns_argument, combined_columns
from orepit.valuation.slope_defaults import SLOPE_BENCHES, SLOPE_DEGREES

#: Options that were renamed: the old spelling is answered with the new one (exit status 2).
RENAMED = {"--levels": "--benches", "--mining-rate": "--mining-capacity"}
#: Options that were removed: the old spelling is answered with why (exit status 2).
REMOVED = {"--tail-periods": "the life of mine now follows from the capacities (--periods is the most periods a "
                             "plan may take)"}

MODEL_FILES = "a block model (.csv, .parquet, .omf, MineLib .blocks)"
MINELIB = "a MineLib instance: folder, path prefix or name (e.g. ../shared/minelib/kd or kd)"


class UsageError(InputError):
    """A bad command line (unknown option, missing argument, a value out of range)."""


def default_of(function, name: str):
    """The default of ``function``'s parameter ``name``: the CLI shows the owner's default."""
    return inspect.signature(function).parameters[name].default


def show(value) -> str:
    """A default as --help shows it (numbers without trailing zeros, lists space-separated)."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return " ".join(show(v) for v in value)
    return str(value)


class HelpFormatter(argparse.HelpFormatter):
    """Adds ``(default: X)`` to every option that has a default; an option whose default is None
    says in its own help what happens without it."""

    def _get_help_string(self, action):
        text = action.help or ""
        if (not action.option_strings or action.required or "%(default)" in text
                or action.default in (None, False, argparse.SUPPRESS)):
            return text
        return f"{text} (default: {show(action.default).replace('%', '%%')})"


class Parser(argparse.ArgumentParser):
    """Reports a bad command line as a `UsageError` (exit status 2, also as JSON with --json)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message):
        raise UsageError(f"{message} (see '{self.prog} --help')")


def check_renamed(argv) -> None:
    """`UsageError` naming the new spelling when the command line uses a renamed option."""
    for word in argv:
        if word == "--":
            return
        old = word.split("=", 1)[0]
        if old in RENAMED:
            raise UsageError(f"{old} was renamed {RENAMED[old]}")
        if old in REMOVED:
            raise UsageError(f"{old} was removed: {REMOVED[old]}")


# ---------------------------------------------------------------------------------------------
# value types (argparse reports their messages as "argument --OPTION: message")

def _number(text: str, kind=float):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not {'an integer' if kind is int else 'a number'}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"'{text}' is not finite")
    return value


def _checked(kind, ok, expected: str):
    """A type function: ``kind`` (float or int) from the text, `ArgumentTypeError` unless ``ok``."""
    def parse(text: str):
        value = _number(text, kind)
        if not ok(value):
            raise argparse.ArgumentTypeError(f"must be {expected}, got {text}")
        return value
    return parse


seconds = _checked(float, lambda v: v > 0, "positive (seconds)")
gap_fraction = _checked(float, lambda v: 0 <= v < 1, "a fraction in [0, 1)")
share = _checked(float, lambda v: 0 <= v <= 1, "a fraction in [0, 1]")
positive = _checked(float, lambda v: v > 0, "positive")
rate = _checked(float, lambda v: v > -1, "above -1 (a discount rate per period)")
block_count = _checked(float, lambda v: 1e3 <= v <= 1e8, "between 1e3 and 1e8 blocks")
count = _checked(int, lambda v: v >= 1, "at least 1")
natural = _checked(int, lambda v: v >= 0, "at least 0")
_threads = _checked(int, lambda v: v >= 0, "at least 1 (or 0: the solver decides)")


def thread_count(text: str) -> int | None:
    """Solver threads, at least 1; 0 gives None (the solver decides)."""
    return _threads(text) or None


def slope_angles(text: str) -> float | list[float]:
    """Degrees from horizontal in (0, 90]: one angle, or a comma list of angles for equal azimuth
    sectors (sector 1 centred on north, then clockwise)."""
    parts = [t for t in str(text).split(",") if t.strip()]
    if not parts:
        raise argparse.ArgumentTypeError("needs at least one angle (degrees)")
    angles = [_number(t) for t in parts]
    if any(not 0 < a <= 90 for a in angles):
        raise argparse.ArgumentTypeError(f"angles must be in (0, 90] degrees, got {text}")
    return angles[0] if len(angles) == 1 else angles


def out_folder(text: str) -> str:
    """A results folder that can be made or written: not a file, under no file, its nearest existing
    folder writable (checked as the command line is read, before the work)."""
    return _writable(text, folder=True)


def out_file(text: str) -> str:
    """An output file that can be written: not a folder, under no file, its nearest existing folder
    writable (checked as the command line is read, before the work)."""
    return _writable(text, folder=False)


def _writable(text: str, folder: bool) -> str:
    path = os.path.abspath(text)
    if os.path.isdir(path) != folder and os.path.exists(path):
        raise argparse.ArgumentTypeError(f"{text} is a {'file' if folder else 'folder'}, not "
                                         f"{'a folder' if folder else 'a file'}")
    above = path if folder and os.path.isdir(path) else os.path.dirname(path)
    while not os.path.exists(above):
        above = os.path.dirname(above)
    if not os.path.isdir(above):
        raise argparse.ArgumentTypeError(f"cannot write {text}: {above} is a file, not a folder")
    try:                        # a file made and removed: permissions alone do not tell (root, /proc, read-only mounts)
        fd, probe = tempfile.mkstemp(prefix=".orepit-probe-", dir=above)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot write {text}: {exc.strerror} in {above}") from None
    return text


def column_mapping(text: str) -> dict[str, str]:
    """``{model name: file column}`` from NAME=FILECOLUMN pairs or a TOML file's [columns] table."""
    try:
        return columns_argument(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


# ---------------------------------------------------------------------------------------------
# options

def add_json(p) -> None:
    p.add_argument("--json", action="store_true", help="print exactly one JSON object on stdout")


def add_quiet(p) -> None:
    p.add_argument("--quiet", action="store_true",
                   help="no progress on stderr, and no solver banner or log")


def add_model(p, accepts: str, optional: bool = False) -> None:
    """The positional MODEL (opened by `orepit.data.files.open_model`); ``accepts`` says what the
    verb takes of it."""
    p.add_argument("model", metavar="MODEL", nargs="?" if optional else None, help=accepts)


def add_columns(p) -> None:
    """--columns: which file column holds which model attribute (docs/block_models.md)."""
    p.add_argument("--columns", type=column_mapping, metavar="NAME=FILECOLUMN,...",
                   help="which column of a CSV, Parquet or OMF model holds which attribute, e.g. "
                        "x=XC,y=YC,z=ZC,density=DENSITY,cu=CU; or a TOML file with a [columns] table; "
                        "wins over the --economics file's [columns] (default: that table, then common names "
                        "such as XC or EASTING, docs/block_models.md)")


def model_columns(args) -> dict[str, str]:
    """The column mapping of a run: the --economics file's [columns] table, then --columns."""
    return combined_columns(getattr(args, "columns", None), [getattr(args, "economics", None)])


def check_table_out(path) -> None:
    """Refuse an --out table that is not ``.parquet`` or ``.csv`` (before the work, not after it)."""
    if not os.fspath(path).lower().endswith((".parquet", ".csv")):
        raise InputError("output must end in .parquet or .csv", path=path, field="--out")


def add_block_size(p, note: str = "the model's") -> None:
    p.add_argument("--block-size", nargs=3, type=positive, metavar=("DX", "DY", "DZ"),
                   help=f"block size, for models that do not state it [m] (default: {note})")


def add_dims(p, note: str) -> None:
    p.add_argument("--dims", nargs=3, type=count, metavar=("NX", "NY", "NZ"),
                   help=f"grid size [blocks] (default: {note})")


class _Given(argparse.Action):
    """Store the value and note that the option was given (``<dest>_given``), so that a default is
    told apart from the same value typed."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)
        setattr(namespace, f"{self.dest}_given", True)


def add_slope(p, pattern: bool = True, applies: str = "") -> None:
    """--slope and --benches (the slope cone), and --pattern (a named pattern instead); ``applies``:
    when the verb uses them."""
    p.add_argument("--slope", type=slope_angles, default=SLOPE_DEGREES, metavar="DEG[,DEG...]", action=_Given,
                   help=f"overall slope angle{applies}, or a comma list of angles for equal azimuth sectors "
                        "starting north, clockwise [degrees]")
    p.add_argument("--slope-table", metavar="SLOPES.toml",
                   help="slope angles per geotechnical domain instead of --slope: the [slopes] table of a TOML "
                        "file (a block-model column, its domains' angles or azimuth sectors, a default; "
                        "docs/formulations.md, Slopes) (default: none: the --economics file's [slopes] table if "
                        "it has one, else --slope for every block)")
    p.add_argument("--benches", type=count, default=SLOPE_BENCHES, metavar="N",
                   help="benches the slope cone spans; a longer cone follows the angle more closely, "
                        "with more arcs (the default's reason: docs/formulations.md, Slopes) [benches]")
    if pattern:
        p.add_argument("--pattern", choices=sorted(NAMED_PATTERNS),
                       help="a named pattern instead of the slope cone (plus: the 5 blocks above, as "
                            "MineLib newman1) (default: the slope cone)")


def add_solver(p, time_limit: float, threads: int | None, gap: float, each: str) -> None:
    """--time-limit, --threads and --gap; the defaults are the caller's owner's (``each``: what the
    time limit applies to)."""
    p.add_argument("--time-limit", type=seconds, default=time_limit, metavar="SECONDS",
                   help=f"wall-clock limit of {each} [s]")
    p.add_argument("--threads", type=thread_count, default=threads, metavar="N",
                   help="HiGHS threads; 0: HiGHS decides [threads]"
                        + ("" if threads else " (default: HiGHS decides)"))
    p.add_argument("--gap", type=gap_fraction, default=gap, metavar="FRACTION",
                   help="relative MIP gap at which a solve stops (0.01 = 1 %%) [fraction]")


def add_mining_capacity(p, note: str) -> None:
    p.add_argument("--mining-capacity", type=positive, metavar="T",
                   help=f"rock mined per period [t/period] (default: {note})")


def add_parameter_files(p, economics: str | None, environment: str) -> None:
    """--economics and --environment (TOML parameter files, docs/parameters.md); ``economics``: what
    happens without it (None: required), ``environment``: likewise."""
    p.add_argument("--economics", required=economics is None, metavar="ECONOMICS.toml",
                   help="economic parameters (TOML)" + (f" (default: {economics})" if economics else ""))
    p.add_argument("--environment", metavar="ENVIRONMENT.toml",
                   help=f"environmental parameters (TOML) (default: {environment})")


def add_valuation(p) -> None:
    """--economics, --environment and --columns for a verb that can value a block model
    (`orepit.cli.opening.open_valued`)."""
    add_parameter_files(p, "none: a MineLib instance's own block values; required with a block-model file",
                        "none: the economic values; with it, the values net of environmental cost")
    add_columns(p)


def add_cluster(p) -> None:
    """--scheduler and --workers: where the Dask work runs (a local cluster by default)."""
    p.add_argument("--scheduler", metavar="ADDRESS", help="address of a running Dask scheduler, e.g. "
                   "tcp://host:8786 (default: a local cluster)")
    p.add_argument("--workers", type=count, metavar="N",
                   help="local worker processes, one thread each [processes] (default: one per CPU core)")


def check_cluster(args) -> None:
    """Refuse --workers with --scheduler: a running cluster's workers are started by the user."""
    if args.scheduler and args.workers is not None:
        raise InputError("--workers applies to the local cluster; with --scheduler start the workers yourself "
                         "(dask worker ADDRESS --nthreads 1)", field="workers")
