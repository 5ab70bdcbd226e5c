"""docs/getting_started.md, "Your own CSV to a report": its commands run as written, in a fresh
folder that holds the repository's examples/, and leave what the page says they leave."""
from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

from orepit.cli import main

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "getting_started.md"


def section_commands() -> list[list[str]]:
    """The ``orepit`` command lines of the section's bash blocks (the program name dropped)."""
    text = PAGE.read_text()
    section = re.search(r"^## Your own CSV to a report\n(.*?)^## ", text, re.S | re.M).group(1)
    commands = []
    for block in re.findall(r"^```bash\n(.*?)^```", section, re.S | re.M):
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            if words and words[0].endswith("orepit"):
                commands.append(words[1:])
    return commands


def test_your_own_csv_to_a_report(tmp_path, monkeypatch, capsys):
    commands = section_commands()
    assert [c[0] for c in commands] == ["info", "init", "pit", "compare"]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    outputs = {}
    for argv in commands:
        assert main(argv + ["--json"]) == 0, argv
        outputs[argv[0]] = json.loads(capsys.readouterr().out)
    assert outputs["info"]["dims"] == [20, 20, 10] and outputs["info"]["origin"] == [500000.0, 7000000.0, 2000.0]
    assert set(outputs["init"]["elements"]) == {"cu", "au"}
    assert outputs["pit"]["objective"] > 0 and outputs["pit"]["blocks_in_pit"] > 0
    study = tmp_path / "my-study"
    for name in ("report.html", "blocks.csv", "blocks.omf", "blocks.vti", "schema.csv"):
        assert (study / name).is_file(), name
    strategies = outputs["compare"]["strategies"]
    assert strategies["green"]["metal_recovered"] > strategies["high-grade"]["metal_recovered"]
