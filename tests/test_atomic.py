"""Outputs are atomic: a writer killed mid-write leaves the previous file intact, never a partial one."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from orepit.data.atomic import atomic_path, write_text
from solvers.errors import InputError

WRITER = r"""
import sys, time
from orepit.data.atomic import atomic_path
with atomic_path(sys.argv[1]) as tmp:
    with open(tmp, "w") as fh:
        for i in range(10_000_000):
            fh.write("new line %d\n" % i)
            if i == 1000:
                fh.flush()
                print("writing", flush=True)
                time.sleep(30)
"""


def test_killed_writer_leaves_old_file(tmp_path):
    target = tmp_path / "result.sol"
    write_text(target, "old content\n")
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert target.read_text() == "old content\n"


def test_exception_inside_write_leaves_no_file(tmp_path):
    target = tmp_path / "new.csv"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            open(tmp, "w").write("half")
            raise RuntimeError("disk full")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_written_files_get_the_usual_permissions(tmp_path):
    mask = os.umask(0o022)
    try:
        write_text(tmp_path / "a.txt", "x")
    finally:
        os.umask(mask)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644


def test_a_folder_whose_run_stopped_is_refused_until_a_run_ends(tmp_path):
    """writing_folder marks the folder while the block runs; an exception leaves the mark, which
    check and report refuse (naming the run); a run that ends removes it."""
    from orepit.data.atomic import INCOMPLETE, refuse_incomplete, writing_folder
    with pytest.raises(KeyboardInterrupt):
        with writing_folder(tmp_path / "r", "orepit risk"):
            (tmp_path / "r" / "kpis.csv").write_text("new")
            raise KeyboardInterrupt
    with pytest.raises(InputError, match=r"r: incomplete: the run writing it \(orepit risk\) stopped before its end"):
        refuse_incomplete(tmp_path / "r")
    with writing_folder(tmp_path / "r", "orepit compare"):
        assert (tmp_path / "r" / INCOMPLETE).read_text() == "orepit compare\n"
    refuse_incomplete(tmp_path / "r")
    assert not (tmp_path / "r" / INCOMPLETE).exists()
