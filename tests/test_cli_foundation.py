"""CLI contract for `info` and `check`: JSON on stdout, exit 0 / 2, messages without tracebacks."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from orepit.cli import main


def run(*args):
    """Run the CLI in a subprocess (real exit status, real streams)."""
    proc = subprocess.run([sys.executable, "-m", "orepit", *map(str, args)], capture_output=True, text=True,
                          timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.parametrize("name,problem,solution,value", [
    ("kd", "cpit", "kd_cpit_gmunoz120723.sol", 396_858_193),
    ("kd", "pcpsp", "kd_pcpsp_gmunoz120723.sol", 406_871_207),
    ("zuck_small", "cpit", "zuck_small_cpit_gmunoz120723.sol", 788_652_600),
    ("zuck_small", "pcpsp", "zuck_small_pcpsp_gmunoz120723.sol", 872_372_967),
    ("newman1", "cpit", "newman1_cpit_gmunoz120723.sol", 23_483_671.15),
    ("newman1", "pcpsp", "newman1_pcpsp_gmunoz120723.sol", 23_658_229.88),
    ("newman1", "upit", "newman1_upit.sol", 26_086_899.026),
    ("zuck_small", "upit", "zuck_small_upit.sol", 1_422_726_897.735),
    ("kd", "upit", "kd_upit.sol", 652_195_036.915),
])
def test_check_published_solutions(minelib, capsys, name, problem, solution, value):
    code = main(["check", str(minelib / name), solution, "--problem", problem, "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["feasible"] is True and out["violations"] == []
    assert out["objective"] == pytest.approx(value, rel=1e-6)


def test_check_accepts_prefix_and_absolute_solution(minelib):
    code, out, err = run("check", minelib / "kd" / "kd", minelib / "kd" / "kd_upit.sol", "--problem", "upit",
                         "--json")
    assert code == 0 and json.loads(out)["feasible"] is True


def test_info_json(minelib, capsys):
    assert main(["info", str(minelib / "kd"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["blocks"], out["arcs"], out["periods"], out["resources"]) == (14153, 219778, 12, 1)
    assert out["value_min"] < 0 < out["value_max"]


def test_corrupt_file_exits_2_with_one_line(tmp_path, minelib):
    for suffix in (".prec", ".upit", ".cpit", ".pcpsp", ".blocks"):
        (tmp_path / ("kd" + suffix)).write_bytes((minelib / "kd" / ("kd" + suffix)).read_bytes())
    text = (tmp_path / "kd.prec").read_text().splitlines()
    text[811] = "811 1 99999"
    (tmp_path / "kd.prec").write_text("\n".join(text) + "\n")
    code, out, err = run("info", tmp_path)
    assert code == 2 and out == ""
    assert err.strip() == "orepit: kd.prec line 812: predecessor 99999 out of range (NBLOCKS 14153)"
    code, out, err = run("check", tmp_path, "x.sol", "--problem", "cpit", "--json")
    assert code == 2 and "Traceback" not in err
    assert json.loads(out)["error"].startswith("kd.prec line 812")


def test_bad_usage_exits_2(capsys):
    assert main(["check", "somewhere"]) == 2
    assert "required" in capsys.readouterr().err
    assert main(["nosuchverb", "--json"]) == 2
    assert "invalid choice" in json.loads(capsys.readouterr().out)["error"]


def test_missing_solution_file(minelib, capsys):
    assert main(["check", str(minelib / "newman1"), "nope.sol", "--problem", "cpit"]) == 2
    assert "nope.sol: solution file not found" in capsys.readouterr().err


def test_internal_failure_exits_1_with_json(monkeypatch, capsys, minelib):
    import orepit.cli.info as info

    def broken(args):
        raise RuntimeError("boom")
    monkeypatch.setattr(info, "run", broken)
    assert main(["info", str(minelib / "kd"), "--json"]) == 1
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["status"] == 1 and "internal error: RuntimeError: boom" in out["error"]
    assert "Traceback" not in captured.err


@pytest.mark.parametrize("verb, out, said", [
    (["compare", "--blocks", "2000"], "{file}", "is a file, not a folder"),
    (["compare", "--blocks", "2000"], "{file}/results", "is a file, not a folder"),
    (["compare", "--blocks", "2000"], "/proc/orepit-results", "cannot write /proc/orepit-results"),
    (["synth", "--blocks", "2000"], "{file}/model.csv", "is a file, not a folder"),
    (["synth", "--blocks", "2000"], "{folder}", "is a folder, not a file")])
def test_an_output_that_cannot_be_written_is_refused_before_the_work(tmp_path, capsys, verb, out, said):
    """--out is checked as the command line is read: exit 2 naming the path, no work done."""
    (tmp_path / "a_file").write_text("x")
    path = out.format(file=tmp_path / "a_file", folder=tmp_path)
    assert main([*verb, "--out", path]) == 2
    err = capsys.readouterr().err
    assert "argument --out:" in err and said in err and "Traceback" not in err


def test_a_file_the_system_refuses_is_named_with_exit_2(monkeypatch, capsys, minelib):
    import orepit.cli.info as info

    def refused(args):
        raise PermissionError(13, "Permission denied", "/data/model.csv")
    monkeypatch.setattr(info, "run", refused)
    assert main(["info", str(minelib / "kd"), "--json"]) == 2
    out = json.loads(capsys.readouterr().out)
    assert out == {"error": "cannot use /data/model.csv: Permission denied", "status": 2}
