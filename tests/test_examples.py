"""Every file in examples/ is used by a documented ``orepit`` command (README, docs, or the file's
own comments) that the command line accepts; the cheap ones run."""
from __future__ import annotations

import shlex
from pathlib import Path

from test_docs import FILES, orepit_commands

from orepit.cli import build_parser, main
from orepit.study.sweep_study import load_study

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p for p in (ROOT / "examples").iterdir() if p.is_file())


def documented_commands() -> list[list[str]]:
    commands = [argv for path in FILES for _, argv in orepit_commands(path)]
    for example in EXAMPLES:
        for line in example.read_text(encoding="utf-8").splitlines():
            text = line.lstrip("# ")
            if line.startswith("#") and text.startswith("orepit "):
                commands.append(shlex.split(text)[1:])
    return commands


def _uses(argv, example: Path) -> bool:
    return any(word.endswith(f"examples/{example.name}") for word in argv)


#: examples read from Python, not by a verb (where the docs show how)
PYTHON_ONLY: dict = {}          # (variogram.toml is read by orepit risk --variogram)


def test_every_example_is_used_by_a_documented_command_the_cli_accepts():
    parser = build_parser()
    commands = documented_commands()
    for example in EXAMPLES:
        uses = [argv for argv in commands if _uses(argv, example)]
        if example.name in PYTHON_ONLY:
            assert not uses and f"examples/{example.name}" in (ROOT / PYTHON_ONLY[example.name]).read_text()
            continue
        assert uses, f"examples/{example.name}: no documented orepit command uses it"
        for argv in uses:
            parser.parse_args(argv)


def test_the_documented_value_commands_on_minelib_run(minelib, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    ran = 0
    for argv in documented_commands():
        if argv[0] != "value" or not argv[1].startswith("../shared/minelib/"):
            continue
        argv = [str(minelib / a[len("../shared/minelib/"):]) if a.startswith("../shared/minelib/")
                else str(ROOT / a) if a.startswith("examples/") else a for a in argv]
        assert main(argv + ["--json"]) == 0, argv
        ran += 1
    capsys.readouterr()
    assert ran >= 2                       # kd.toml and newman1.toml


def test_the_study_example_loads_as_its_comment_says():
    study = load_study(ROOT / "examples" / "study_small.toml")
    assert len(study.cases()) == 12
