"""``orepit schedule``: JSON output, schedule file checked by ``orepit check``, time limit kept."""
from __future__ import annotations

import json
import shutil
import time

import pytest

from orepit.cli import main


def _json(capsys):
    out = capsys.readouterr().out.strip().splitlines()
    return json.loads(out[-1])


@pytest.mark.parametrize("kind,published", [("cpit", 23_483_671.15)])
def test_schedule_cli_time_limit_and_out(instance, tmp_path, capsys, kind, published):
    out = tmp_path / "newman1.sol"
    limit = 20.0
    start = time.perf_counter()
    code = main(["schedule", str(instance("newman1")), "--problem", kind, "--time-limit", str(limit),
                 "--threads", "2", "--out", str(out), "--json"])
    wall = time.perf_counter() - start
    assert code == 0
    res = _json(capsys)
    assert wall <= 1.1 * limit, f"took {wall:.1f} s for --time-limit {limit}"
    assert set(res) >= {"objective", "bound", "gap", "status", "seconds"}
    assert res["status"] in ("optimal", "feasible", "time_limit")
    assert res["objective"] >= published and res["objective"] <= res["bound"]
    assert res["bound"] <= 24_486_184 * (1 + 1e-6)             # at most the LP value
    assert res["bound"] >= 24_176_864.82 * (1 - 1e-9)          # the known optimum
    assert main(["check", str(instance("newman1")), str(out), "--problem", kind, "--json"]) == 0
    check = _json(capsys)
    assert check["feasible"] is True
    assert check["objective"] == pytest.approx(res["objective"], rel=1e-9)


def test_schedule_cli_text_output_and_progress(instance, capsys):
    assert main(["schedule", str(instance("newman1")), "--problem", "pcpsp", "--time-limit", "8"]) == 0
    captured = capsys.readouterr()
    for key in ("objective:", "bound:", "gap:", "status:", "seconds:"):
        assert key in captured.out
    assert "in money units of the instance's block values" in captured.out
    assert "upper bound from the LP relaxation (Bienstock-Zuckerberg)" in captured.out
    assert "incumbent" in captured.err and "bound" in captured.err


def test_schedule_cli_time_limit_used_up_by_reading(instance, capsys):
    assert main(["schedule", str(instance("newman1")), "--problem", "cpit", "--time-limit", "0.001", "--json"]) == 2
    assert "--time-limit 0.001 s is used up by reading" in _json(capsys)["error"]


def test_capacities_no_schedule_can_meet_name_the_file_and_line(instance, tmp_path, capsys):
    prefix = instance("newman1")
    folder = tmp_path / "tight"
    folder.mkdir()
    for suffix in (".blocks", ".prec"):
        shutil.copy(f"{prefix}{suffix}", folder / f"tight{suffix}")
    lines = open(f"{prefix}.cpit", encoding="utf-8").read().splitlines()
    row = next(n for n, text in enumerate(lines) if text.split()[:2] == ["0", "3"] and len(text.split()) == 4)
    lines[row] = "0 3 G 1e12"                      # resource 0 must use 1e12 in period 3: nothing can
    (folder / "tight.cpit").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["schedule", str(folder), "--problem", "cpit", "--time-limit", "10", "--json"]) == 2
    error = _json(capsys)["error"]
    assert error.startswith(f"tight.cpit line {row + 1}: capacities cannot be met: resource 0 period 3: needs at "
                            "least 1e+12"), error


@pytest.mark.parametrize("status, algorithm, says", [
    ("time_limit", "bz+toposort+windows", "status: time_limit: stopped by the time limit: the best schedule found, "
                                          "not proven optimal"),
    ("feasible", "bz+toposort+windows", "status: feasible: feasible, not proven optimal"),
    ("optimal", "bz+toposort+windows+mip", "status: optimal: optimal (within the gap asked for)")])
def test_schedule_text_says_what_objective_bound_and_status_are(status, algorithm, says):
    from solvers.result import Result
    from orepit.cli.schedule import result_lines
    lines = result_lines(Result(status, 24_169_144.831, 24_308_812.337, 1.0, algorithm=algorithm))
    assert lines[0] == ("objective: 24,169,144.83 (discounted value of the schedule, in money units of the "
                        "instance's block values (MineLib names no currency))")
    assert lines[1].startswith("bound: 24,308,812.34 (upper bound from the LP relaxation (Bienstock-Zuckerberg)")
    assert ("tightened by the MIP's dual bound" in lines[1]) == algorithm.endswith("+mip")
    assert lines[2] == "gap: 0.5779% ((bound - objective) / objective)"
    assert lines[3] == says
