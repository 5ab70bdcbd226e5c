"""Every ```python block in docs/*.md and README.md runs, and every ```json block parses.

The blocks of one file run in order in one namespace (a later block may use an earlier one's
names), in a fresh temporary working folder.  A block fenced ```python no-run: REASON is skipped,
and only with a reason.
"""
from __future__ import annotations

import json
import os
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.S | re.M)


def blocks(path: Path, language: str):
    """(fence info, code, line number) of each fenced block whose info starts with ``language``."""
    text = path.read_text(encoding="utf-8")
    for m in FENCE.finditer(text):
        info = m.group(1).strip()
        if info.split(" ")[0] == language or info.startswith(language + " "):
            yield info, m.group(2), text.count("\n", 0, m.start()) + 1


def _ids(paths):
    return [p.relative_to(ROOT).as_posix() for p in paths]


def test_docs_exist():
    names = {p.name for p in FILES}
    assert {"getting_started.md", "concepts.md", "formulations.md", "results_format.md", "README.md"} <= names


@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
def test_python_blocks_run(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace = {"__name__": f"doc_{path.stem}"}
    ran = 0
    for info, code, line in blocks(path, "python"):
        rest = info[len("python"):].strip()
        if rest.startswith("no-run"):
            reason = rest[len("no-run"):].lstrip(":").strip()
            assert reason, f"{path.name} line {line}: a no-run block must say why (```python no-run: REASON)"
            continue
        assert rest == "", f"{path.name} line {line}: unknown fence option {rest!r}"
        try:
            exec(compile(code, f"{path.name}:{line}", "exec"), namespace)  # noqa: S102 - our own docs
        except Exception as exc:  # noqa: BLE001
            pytest.fail(f"{path.name} block at line {line} failed: {type(exc).__name__}: {exc}")
        ran += 1
    assert ran or not any(True for _ in blocks(path, "python")) or path.name == "README.md"


def orepit_commands(path: Path):
    """(line, argv) of every ``orepit ...`` command in the file's ```bash blocks (after ``&&`` too)."""
    for _, code, line in blocks(path, "bash"):
        for n, text in enumerate(code.splitlines()):
            for part in text.split("&&"):
                words = shlex.split(part, comments=True)
                if words and words[0].rsplit("/", 1)[-1] == "orepit":
                    yield line + 1 + n, words[1:]


@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
def test_documented_commands_parse(path):
    """Every documented ``orepit`` command line is accepted by the CLI parser (nothing is run)."""
    from orepit.cli import build_parser
    parser = build_parser()
    verbs = set(parser._subparsers._group_actions[0].choices)
    missing = []
    for line, argv in orepit_commands(path):
        if argv and argv[0] not in verbs:
            missing.append(f"line {line}: {argv[0]}")
            continue
        parser.parse_args(argv)
    if missing:
        pytest.skip(f"{path.name}: verb(s) not built yet: {', '.join(missing)}")


@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
def test_json_blocks_parse(path):
    for _, code, line in blocks(path, "json"):
        try:
            json.loads(code)
        except ValueError as exc:
            pytest.fail(f"{path.name} line {line}: {exc}")


def test_no_run_blocks_are_rare():
    """Skipped blocks are the exception: at most a quarter of all python blocks."""
    total = skipped = 0
    for path in FILES:
        for info, _, _ in blocks(path, "python"):
            total += 1
            skipped += "no-run" in info
    assert total and skipped * 4 <= total, (skipped, total)


def test_fence_parser_sees_no_run_reasons(tmp_path):
    doc = tmp_path / "x.md"
    doc.write_text("a\n```python\nx = 1\n```\n\n```python no-run: needs a GPU\ny = 2\n```\n```json\n{}\n```\n")
    found = list(blocks(doc, "python"))
    assert [(info, line) for info, _, line in found] == [("python", 2), ("python no-run: needs a GPU", 6)]
    assert os.path.basename(str(doc)) == "x.md"


@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
def test_documented_report_commands_run(path, tmp_path, monkeypatch, capsys):
    """``orepit report FOLDER ...`` lines run for real, on a generated results folder of that name."""
    from _results_fixture import make_results
    from orepit.cli import main
    commands = [argv for _, argv in orepit_commands(path) if argv and argv[0] == "report"]
    if not commands:
        return
    monkeypatch.chdir(tmp_path)
    for argv in commands:
        folder = next(a for a in argv[1:] if not a.startswith("-"))
        if not (tmp_path / folder).exists():
            make_results(tmp_path / folder, nx=10, ny=9, nz=6)
        assert main(argv) == 0, argv
        assert (tmp_path / folder / "report.html").is_file()
    capsys.readouterr()
