"""One command-line vocabulary: every option means one thing across the verbs, shows its default
and unit, renamed options say their new name, solver options are checked and reach the solver,
--quiet silences the solver's banner, --version works, the verbs are registered statically and
importing the command loads no heavy library."""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import orepit.cli
from orepit.cli import VERBS, build_parser, main
from orepit.cli import options
from orepit.version import __version__

ROOT = Path(__file__).resolve().parent.parent

#: type functions whose values are numbers: their options must state a unit
NUMERIC = {int, float, options.seconds, options.thread_count, options.gap_fraction, options.share, options.positive,
           options.rate, options.count, options.natural, options.slope_angles, options.block_count}
UNITS = {"s", "t", "t/period", "h/period", "m", "degrees", "%", "fraction", "fraction/period", "blocks", "benches",
         "periods", "threads", "processes", "times", "grade unit", "-"}
#: what may differ between verbs for one option name, and why
MAY_DIFFER = {
    "--out": {"default", "metavar", "required", "type"},    # each verb writes its own file (options.out_file)
                                                            # or folder (options.out_folder)
    "--time-limit": {"default"},     # schedule: one solve of the whole run (solve_schedule's default);
                                     # compare/demo: each strategy's solve (ScheduleSetup's default)
    "--economics": {"required"},     # compare has the built-in deposit's economics; value needs a file
    "--problem": {"choices", "required"},  # schedule solves cpit and pcpsp; check also checks upit pits,
                                     # and a results folder, which needs no --problem
    "MODEL": {"nargs", "required"},  # optional where the verb has another input (--grid, the built-in deposit)
}
COMPARED = ("dest", "action", "type", "nargs", "choices", "default", "metavar", "required", "unit")


def verbs(parser) -> dict:
    return dict(parser._subparsers._group_actions[0].choices)


def rendered_help(parser, action) -> str:
    return parser._get_formatter()._expand_help(action) if action.help else ""


def option_table(parser) -> list[dict]:
    """One row per option string (or positional metavar) per verb."""
    rows = []
    for verb, sub in verbs(parser).items():
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            text = rendered_help(sub, action)
            unit = re.findall(r"\[([^\]]+)\]", text)
            for name in action.option_strings or [action.metavar or action.dest]:
                rows.append({"verb": verb, "name": name, "dest": action.dest, "action": type(action).__name__,
                             "type": action.type, "nargs": action.nargs,
                             "choices": None if action.choices is None else tuple(action.choices),
                             "default": action.default, "metavar": action.metavar, "required": action.required,
                             "unit": unit[-1] if unit else None, "help": text, "numeric": action.type in NUMERIC,
                             "flag": action.nargs == 0})
    return rows


def conflicts(rows, may_differ=MAY_DIFFER) -> list[str]:
    """Every option name that has two meanings, types, units or defaults across verbs."""
    by_name: dict[str, list[dict]] = {}
    for row in rows:
        by_name.setdefault(row["name"], []).append(row)
    found = []
    for name, group in sorted(by_name.items()):
        for field in COMPARED:
            if field in may_differ.get(name, ()):
                continue
            seen = {}
            for row in group:
                seen.setdefault(repr(row[field]), []).append(row["verb"])
            if len(seen) > 1:
                found.append(f"{name}: {field} differs: " + "; ".join(f"{', '.join(v)}: {k}" for k, v in seen.items()))
    return found


def test_one_name_one_meaning_across_the_verbs():
    rows = option_table(build_parser())
    assert conflicts(rows) == []
    # the shared vocabulary is really shared
    by = {(r["name"], r["verb"]): r for r in rows}
    for verb in ("pit", "shells", "prec", "compare", "demo"):
        assert by[("--benches", verb)]["default"] == 8 and by[("--benches", verb)]["type"] is options.count
        assert by[("--slope", verb)]["type"] is options.slope_angles
    for verb in ("schedule", "compare", "demo"):
        for name in ("--time-limit", "--threads", "--gap"):
            assert (name, verb) in by
        assert by[("--time-limit", verb)]["type"] is options.seconds and by[("--time-limit", verb)]["unit"] == "s"
    for verb in ("info", "check", "pit", "shells", "prec", "value", "gt", "schedule", "compare"):
        assert by[("MODEL", verb)]["dest"] == "model"
    assert not any(r["name"] in options.RENAMED for r in rows)


def _fake(spec) -> argparse.ArgumentParser:
    """A parser with verbs a and b adding the options given per verb as (flags, kwargs)."""
    parser = options.Parser(prog="fake")
    sub = parser.add_subparsers(dest="verb", parser_class=options.Parser)
    for verb, args in spec.items():
        p = sub.add_parser(verb)
        for flags, kwargs in args:
            p.add_argument(*flags, **kwargs)
    return parser


@pytest.mark.parametrize("a, b, field", [
    (dict(type=options.count, default=8, help="cone [benches]"), dict(type=options.count, default=4,
                                                                     help="cone [benches]"), "default"),
    (dict(type=float, default=45.0, help="angle [degrees]"), dict(type=options.slope_angles, default=45.0,
                                                                  help="angle [degrees]"), "type"),
    (dict(type=options.seconds, default=60.0, help="limit [s]"), dict(type=options.seconds, default=60.0,
                                                                     help="limit [min]"), "unit"),
    (dict(action="store_true", help="x"), dict(type=int, default=0, help="x [-]"), "action"),
])
def test_the_table_catches_a_conflict(a, b, field):
    rows = option_table(_fake({"a": [(("--opt",), a)], "b": [(("--opt",), b)]}))
    found = conflicts(rows)
    assert any(f.startswith(f"--opt: {field} differs") for f in found), found
    same = option_table(_fake({"a": [(("--opt",), a)], "b": [(("--opt",), a)]}))
    assert conflicts(same) == []


def test_the_table_allows_only_the_listed_differences():
    rows = option_table(_fake({"a": [(("--out",), dict(default="a-out", help="x"))],
                               "b": [(("--out",), dict(default="b-out", help="x"))]}))
    assert conflicts(rows) == []
    assert conflicts(rows, may_differ={}) != []


def test_every_option_shows_its_default_and_numbers_their_unit():
    missing = []
    for row in option_table(build_parser()):
        if not row["name"].startswith("-") or row["name"] == "--version":
            continue
        if not (row["flag"] or row["required"]) and "default:" not in row["help"]:
            missing.append(f"{row['verb']} {row['name']}: no default shown")
        if row["numeric"] and row["unit"] not in UNITS:
            missing.append(f"{row['verb']} {row['name']}: unit {row['unit']!r} not in {sorted(UNITS)}")
    assert missing == []


def test_defaults_are_the_owners():
    from orepit.planning.strategies import ScheduleSetup
    from orepit.valuation.slope_defaults import SLOPE_BENCHES, SLOPE_DEGREES
    from solvers.schedule import solve_schedule
    p = verbs(build_parser())
    compare = p["compare"].parse_args([])
    assert (compare.periods, compare.target_life, compare.time_limit, compare.gap, compare.threads) == (
        ScheduleSetup.periods, ScheduleSetup.target_life, ScheduleSetup.time_limit, ScheduleSetup.mip_gap,
        ScheduleSetup.threads)
    assert (compare.slope, compare.benches) == (SLOPE_DEGREES, SLOPE_BENCHES)
    schedule = p["schedule"].parse_args(["kd", "--problem", "cpit"])
    assert schedule.time_limit == options.default_of(solve_schedule, "time_limit")
    assert "(default: 900)" in p["schedule"].format_help()


# --- renamed options ----------------------------------------------------------------------------

@pytest.mark.parametrize("argv, old, new", [
    (["prec", "kd.blocks", "--levels", "8", "--out", "kd.prec"], "--levels", "--benches"),
    (["compare", "--levels=4"], "--levels", "--benches"),
    (["shells", "kd", "--mining-rate", "1e6"], "--mining-rate", "--mining-capacity"),
])
def test_a_renamed_option_names_the_new_one(argv, old, new, capsys):
    assert main(argv) == 2
    assert capsys.readouterr().err.strip() == f"orepit: {old} was renamed {new}"
    assert main(argv + ["--json"]) == 2
    assert json.loads(capsys.readouterr().out) == {"error": f"{old} was renamed {new}", "status": 2}


def test_renamed_option_in_a_real_process():
    proc = subprocess.run([sys.executable, "-m", "orepit", "prec", "x.blocks", "--levels", "8", "--out", "x.prec"],
                          capture_output=True, text=True, timeout=120)
    assert (proc.returncode, proc.stdout, proc.stderr.strip()) == (2, "", "orepit: --levels was renamed --benches")


# --- solver options -----------------------------------------------------------------------------

SOLVING = {"schedule": ["kd", "--problem", "cpit"], "compare": [], "demo": []}


@pytest.mark.parametrize("verb", SOLVING)
@pytest.mark.parametrize("option, value", [("--time-limit", "0"), ("--time-limit", "-5"), ("--time-limit", "nan"),
                                           ("--threads", "-1"), ("--threads", "1.5"), ("--gap", "1"),
                                           ("--gap", "-0.1"), ("--gap", "x")])
def test_bad_solver_options_exit_2_naming_the_option(verb, option, value, capsys):
    assert main([verb, *SOLVING[verb], option, value, "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["error"].startswith(f"argument {option}: ")


def test_solver_options_parse_at_their_bounds():
    args = verbs(build_parser())["compare"].parse_args(["--time-limit", "0.5", "--threads", "0", "--gap", "0"])
    assert (args.time_limit, args.threads, args.gap) == (0.5, None, 0.0)       # 0 threads: HiGHS decides
    assert verbs(build_parser())["demo"].parse_args(["--threads", "3"]).threads == 3


class _Stop(Exception):
    pass


@pytest.mark.parametrize("verb", ["compare", "demo", "risk"])
def test_solver_options_reach_the_schedule_setup(verb, monkeypatch, capsys):
    import orepit.cli.compare as compare
    seen = {}

    def fake_run_study(model, economics, environment, strategies, setup, **kwargs):
        seen.update(setup=setup, **kwargs)
        raise _Stop

    monkeypatch.setattr(compare, "run_study", fake_run_study)
    assert main([verb, "--blocks", "1000", "--time-limit", "7.5", "--threads", "2", "--gap", "0.02",
                 "--benches", "3", "--slope", "40,50", "--json"]) == 1
    capsys.readouterr()
    setup = seen["setup"]
    assert (setup.time_limit, setup.threads, setup.mip_gap) == (7.5, 2, 0.02)
    assert (seen["levels"], seen["slope"]) == (3, [40.0, 50.0])
    assert seen["frontier_points"] == (compare.FRONTIER_POINTS if verb == "demo" else 0) and compare.FRONTIER_POINTS > 0


def test_solver_options_reach_solve_schedule(instance, monkeypatch, capsys):
    import orepit.cli.schedule as schedule
    seen = {}

    def fake_solve(problem, **kwargs):
        seen.update(kwargs)
        raise _Stop

    monkeypatch.setattr(schedule, "solve_schedule", fake_solve)
    assert main(["schedule", str(instance("newman1")), "--problem", "cpit", "--time-limit", "50", "--threads", "0",
                 "--gap", "0.01", "--json"]) == 1
    capsys.readouterr()
    assert seen["threads"] is None and seen["mip_gap"] == 0.01 and 45 < seen["time_limit"] < 50


# --- --quiet and the HiGHS banner -----------------------------------------------------------------

def _schedule(instance, *extra):
    return subprocess.run([sys.executable, "-m", "orepit", "schedule", str(instance("newman1")), "--problem", "cpit",
                           "--time-limit", "4", "--json", *extra], capture_output=True, text=True, timeout=300)


def test_quiet_silences_the_solver_banner_and_json_stays_one_object(instance):
    loud = _schedule(instance)
    assert loud.returncode == 0, loud.stderr
    assert "Running HiGHS" in loud.stderr                      # the banner is there to silence
    assert "incumbent" in loud.stderr
    quiet = _schedule(instance, "--quiet")
    assert quiet.returncode == 0
    for proc in (loud, quiet):
        assert proc.stdout.count("\n") == 1 and json.loads(proc.stdout)["objective"] > 0
    assert quiet.stderr == ""


# --- version, registration, start-up --------------------------------------------------------------

def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"orepit {__version__}"
    proc = subprocess.run([sys.executable, "-m", "orepit", "--version"], capture_output=True, text=True, timeout=120)
    assert (proc.returncode, proc.stdout.strip()) == (0, f"orepit {__version__}")


def test_every_verb_module_is_registered():
    folder = Path(orepit.cli.__file__).parent
    modules = {p.stem for p in folder.glob("*.py") if "\ndef register(" in p.read_text(encoding="utf-8")}
    assert set(VERBS) == modules == set(verbs(build_parser()))
    assert set(verbs(build_parser(["pit", "--grid", "v.txt"]))) == {"pit"}      # a named verb: only its module
    assert set(verbs(build_parser(["--help"]))) == set(verbs(build_parser(["pti"]))) == modules
    assert set(verbs(build_parser(["--version"]))) == set(verbs(build_parser([]))) == set()


def test_a_missing_verb_is_an_import_error():
    code = ("import sys\nsys.modules['orepit.cli.gt'] = None     # the verb module cannot be imported\n"
            "import orepit.cli\ntry:\n    orepit.cli.build_parser()\nexcept ImportError as exc:\n    print(exc.name)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert (proc.returncode, proc.stdout.strip()) == (0, "orepit.cli.gt")


HEAVY = ("vtk", "vtkmodules", "pyvista", "matplotlib", "dask", "distributed", "pyomo")


def test_importing_the_command_loads_no_heavy_library():
    code = ("import json, sys\nimport orepit.cli\norepit.cli.build_parser()\n"
            f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


def test_a_grid_pit_loads_no_pandas(tmp_path):
    """``orepit pit --grid`` starts lean: no pandas, no scipy.sparse, nor any library of the other verbs."""
    values = tmp_path / "v.txt"
    values.write_text("1\n-1\n-2\n5\n-1\n-1\n-1\n-1\n")
    unwanted = (*HEAVY, "pandas", "scipy.sparse")
    code = ("import json, sys\nfrom orepit.cli import main\n"
            f"status = main(['pit', '--grid', {str(values)!r}, '--dims', '2', '2', '2', '--json'])\n"
            f"print(json.dumps([status, sorted(m for m in {unwanted!r} if m in sys.modules)]))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.splitlines()[0])["objective"] == 2.0
    assert json.loads(proc.stdout.splitlines()[-1]) == [0, []]


def test_the_program_exits_with_the_status_after_freezing_the_collector(monkeypatch):
    """`entry` (the ``orepit`` script and ``python -m orepit``) spares the shutdown's collections."""
    calls = []
    monkeypatch.setattr(orepit.cli, "main", lambda: calls.append("main") or 3)
    monkeypatch.setattr(orepit.cli.gc, "freeze", lambda: calls.append("freeze"))
    with pytest.raises(SystemExit) as exc:
        orepit.cli.entry()
    assert (exc.value.code, calls) == (3, ["main", "freeze"])
    scripts = tomllib.loads((Path(orepit.cli.__file__).parents[2] / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"orepit": "orepit.cli:entry"}


def test_a_removed_option_says_why(capsys):
    assert main(["compare", "--tail-periods", "3"]) == 2
    assert capsys.readouterr().err.strip() == ("orepit: --tail-periods was removed: the life of mine now follows "
                                               "from the capacities (--periods is the most periods a plan may take)")
