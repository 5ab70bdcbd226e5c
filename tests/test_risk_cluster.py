"""A real Dask cluster: ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1, a small
risk study through it (library and ``orepit risk --scheduler``), the same table as a serial run."""
from __future__ import annotations

import importlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from orepit.cli import main
from orepit.planning.strategies import ScheduleSetup
from orepit.study.pipeline import run_study
from orepit.study.risk import risk_inputs, run_risk
from orepit.study.sweep import worker_environment
from orepit.valuation.environment import Environment
from orepit.valuation.realisations import Variogram
from orepit.valuation.synthetic import BUILTIN_SEED, default_economics, synthetic_deposit

DASK = Path(sys.executable).with_name("dask")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """The address of a scheduler with two single-threaded workers (processes of their own)."""
    if not DASK.exists() and shutil.which("dask") is None:
        if os.environ.get("CI"):          # installed with orepit's dependencies: in CI its absence is a failure
            pytest.fail("the dask command is not installed")
        pytest.skip("the dask command is not installed")
    command = str(DASK) if DASK.exists() else "dask"
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = tmp_path_factory.mktemp("dask")
    env = {**os.environ, **worker_environment()}
    procs = [subprocess.Popen([command, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], stdout=open(logs / "scheduler.log", "w"), stderr=subprocess.STDOUT,
                              env=env)]
    try:
        for i in range(2):
            procs.append(subprocess.Popen([command, "worker", address, "--nthreads", "1", "--nworkers", "1",
                                           "--no-dashboard", "--name", f"w{i}"],
                                          stdout=open(logs / f"worker{i}.log", "w"), stderr=subprocess.STDOUT, env=env))
        from distributed import Client
        deadline = time.time() + 120
        while True:
            try:
                with Client(address, timeout="5s") as client:
                    client.wait_for_workers(2, timeout=max(1.0, deadline - time.time()))
                break
            except (OSError, TimeoutError):
                if time.time() > deadline:
                    raise
                time.sleep(1)
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


@pytest.mark.slow
def test_two_workers_give_the_serial_table(cluster, tmp_path, capsys):
    model = synthetic_deposit(3000, seed=BUILTIN_SEED)
    econ = default_economics(model.block_size[2])
    env = Environment(currency=econ.currency)
    study = run_study(model, econ, env, setup=ScheduleSetup(target_life=5), frontier_points=0, progress=False)
    variogram = Variogram(cv={"cu": Variogram().cv["cu"]})
    inputs = risk_inputs(study, econ, env, variogram)
    serial, serial_periods = run_risk(inputs, 4, serial=True)
    from distributed import Client, get_task_stream
    with Client(cluster) as client:
        client.run(importlib.import_module, "orepit.study.risk")   # both workers ready before the tasks come
        for _ in range(3):       # the scheduler may give a fast worker every task: ask again, up to 3 times
            with get_task_stream(client) as stream:
                on_cluster, cluster_periods = run_risk(inputs, 4, client=client)
            ran = [t for t in stream.data if "orepit-risk" in str(t.get("key"))]
            if len({t["worker"] for t in ran}) == 2:
                break
    assert len(ran) == 4 and len({t["worker"] for t in ran}) == 2       # both workers took realisations
    pd.testing.assert_frame_equal(serial, on_cluster, check_exact=True)
    pd.testing.assert_frame_equal(serial_periods, cluster_periods, check_exact=True)

    # the command line through the same cluster: its plans are built the same way, so the same table
    out = tmp_path / "risk"
    code = main(["risk", "--blocks", "3000", "--target-life", "5", "--realisations", "4", "--scheduler", cluster,
                 "--stochastic", "0", "--out", str(out), "--no-report", "--quiet", "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0, payload
    table = pd.read_parquet(out / "realisations.parquet")
    pd.testing.assert_frame_equal(serial, table, check_exact=False, rtol=1e-9)
