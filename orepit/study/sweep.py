"""Scenario and uncertainty sweeps on Dask: each case of a study (`orepit.study.sweep_study`) is one task.

`run_sweep` submits each missing case as one Dask task (value -> pit -> schedule -> KPIs via
`orepit.study.pipeline.run_study`) and writes each result, as soon as it arrives, to
``OUT/cases/<case_id>.parquet`` (one row per strategy, written atomically).  Re-running skips the
cases whose file exists, so an interrupted study resumes without recomputing anything.  Workers are
single-threaded processes (numba, BLAS and HiGHS on one thread) sharing one numba cache folder.
"""
from __future__ import annotations

import json
import os
import socket
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from solvers.errors import InputError

from orepit.study.numba_cache import default_numba_cache
from orepit.study.sweep_study import Case, SweepStudy, _copy, case_id, case_model, load_study
from solvers.errors import InfeasibleError
from orepit.valuation.economics import Economics
from orepit.valuation.environment import Environment
from orepit.study.pipeline import run_study
from orepit.planning.strategies import ScheduleSetup
from orepit.data.atomic import atomic_path, write_text

ALLOWED_FAILURES = 5       # times a task may lose its worker before it is reported as failed


def run_case(spec: dict) -> list[dict]:
    """Value -> pit -> schedule -> KPIs of one case (HiGHS on one thread); one plain row per strategy.

    Rows hold the case's labels, ``status`` (the solver's, or 'infeasible' with the reason in
    ``error`` when a floor cannot be met), ``seconds`` (the whole case), ``strategy_seconds`` (its
    pit and schedule) and every KPI (money in the economics' currency, tonnes in t).  HiGHS' thread
    pool follows each solve's thread count (`solvers.highs.set_threads`).
    """
    return _run_case(spec, time.perf_counter())


def _run_case(spec: dict, start: float) -> list[dict]:
    model, precedence = case_model(spec["deposit"])
    econ = Economics.from_dict(_copy(spec["economics"]))
    env = Environment.from_dict(dict(spec["environment"]))
    setup = ScheduleSetup(**spec["setup"], threads=1)
    base = {"case_id": case_id(spec), **spec["labels"]}
    try:
        study = run_study(model, econ, env, spec["strategies"], setup, frontier_points=0,
                          slope=spec["deposit"]["slope"], levels=spec["deposit"]["levels"], precedence=precedence,
                          progress=False, recovery_floor=spec["recovery_floor"],
                          utilisation_floor=spec["utilisation_floor"], budget=spec["green_budget"])
    except InfeasibleError as exc:
        return [{**base, "strategy": s, "status": "infeasible", "error": str(exc),
                 "seconds": time.perf_counter() - start} for s in spec["strategies"]]
    rows = []
    seconds = time.perf_counter() - start
    for name, r in study.results.items():
        row = {**base, "strategy": name, "status": str(r.plan.result.status), "error": "",
               "bound": float(r.plan.result.bound), "gap": float(r.plan.result.gap),
               "feasible": bool(r.simulation.feasible), "seconds": seconds, "strategy_seconds": float(r.seconds)}
        for key, value in r.kpis.items():
            if key == "price_of_green" and len(study.results) == 1:
                continue                  # no baseline in this case: `orepit.study.sweep_summary` pairs cases
            row[key] = float(value) if isinstance(value, (int, float, np.number)) else str(value)
        rows.append(row)
    return rows


def limit_numba_threads(threads: int = 1) -> None:
    """Numba on at most ``threads`` threads in this worker thread (the first step of a Dask task).

    numba's settings are read again first, before its thread pool starts: a local worker receives
    its environment (`worker_environment`) after its process has started, and by then the process
    may have imported numba (the ``orepit`` script, the main module of the program, is imported
    again in each spawned worker); numba would then start the pool at the core count and refuse the
    environment's pool size at its next compilation."""
    import numba
    import numba.core.config
    numba.core.config.reload_config()
    if numba.get_num_threads() > threads:
        numba.set_num_threads(threads)


def _case_task(spec: dict, numba_threads: int = 1) -> list[dict]:
    """The Dask task: `run_case` with numba limited to ``numba_threads`` in this worker thread; each
    row also names the worker (``host:pid``)."""
    limit_numba_threads(numba_threads)
    worker = f"{socket.gethostname()}:{os.getpid()}"
    return [dict(row, worker=worker) for row in run_case(spec)]


# ---------------------------------------------------------------------------------------------
# the cluster

def worker_environment(numba_cache: str | None = None) -> dict[str, str]:
    """Environment of sweep workers: one thread for numba and BLAS, and the shared numba cache
    (created if needed; when it cannot be written, a folder under the system's temporary folder)."""
    import tempfile
    env = {k: "1" for k in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    cache = os.path.expanduser(numba_cache or default_numba_cache())
    try:
        os.makedirs(cache, exist_ok=True)
        usable = os.access(cache, os.W_OK)
    except OSError:
        usable = False
    if not usable:
        if numba_cache:
            raise InputError(f"the numba cache folder {cache} cannot be written", field="numba_cache")
        cache = os.path.join(tempfile.gettempdir(), f"orepit-numba-{os.getuid() if hasattr(os, 'getuid') else 0}")
    env["NUMBA_CACHE_DIR"] = cache
    return env


def _worker_plugin(env: dict):
    """A plugin applying ``env`` on every worker, present and future (for clusters started elsewhere)."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class SweepWorkerSettings(WorkerPlugin):
        name = "orepit-sweep-settings"

        def __init__(self, env):
            self.env = env

        def setup(self, worker):
            imported = "numba" in sys.modules
            for key, value in self.env.items():
                if key == "NUMBA_NUM_THREADS" and imported:
                    continue          # too late for the pool size; tasks call numba.set_num_threads
                os.environ[key] = os.path.expanduser(value)
            if imported:
                import numba.core.config
                numba.core.config.reload_config()

    return SweepWorkerSettings(env)


def local_cluster(workers: int | None = None, numba_cache: str | None = None,
                  allowed_failures: int = ALLOWED_FAILURES, **kwargs):
    """A `distributed.LocalCluster` of single-threaded worker processes with the sweep's settings.

    workers: default the number of CPU cores; allowed_failures: how often a task may lose its worker
    (killed, out of memory) before it is reported as failed.
    """
    import dask
    from distributed import LocalCluster
    workers = workers or os.cpu_count() or 1
    if workers < 1:
        raise InputError(f"--workers must be at least 1, got {workers}", field="workers")
    with dask.config.set({"distributed.scheduler.allowed-failures": int(allowed_failures)}):
        options = dict(n_workers=workers, threads_per_worker=1, processes=True,
                       env=worker_environment(numba_cache), dashboard_address=None)
        options.update(kwargs)
        return LocalCluster(**options)


@contextmanager
def sweep_client(scheduler: str | None = None, workers: int | None = None, numba_cache: str | None = None,
                 allowed_failures: int = ALLOWED_FAILURES):
    """A Dask client: connected to ``scheduler`` (tcp://host:8786) or to a new `local_cluster`."""
    from distributed import Client
    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout="30s")
        except OSError as exc:
            raise InputError(f"cannot reach the Dask scheduler at {scheduler}: {exc}", field="scheduler") from None
        env = {k: v for k, v in worker_environment(numba_cache).items()}
        if numba_cache is None:                     # expand on each worker, not here
            env["NUMBA_CACHE_DIR"] = "~/.cache/orepit/numba"
        client.register_plugin(_worker_plugin(env))
    else:
        cluster = local_cluster(workers, numba_cache, allowed_failures)
        client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# ---------------------------------------------------------------------------------------------
# the sweep

@dataclass
class SweepReport:
    """What one `run_sweep` call did (seconds: wall time of the computing part)."""

    out: str
    cases: int
    skipped: int
    computed: int
    failed: dict = field(default_factory=dict)    # case id -> message
    seconds: float = 0.0

    @property
    def cases_per_minute(self) -> float:
        return 60.0 * self.computed / self.seconds if self.seconds > 0 else 0.0


def finished_cases(out) -> set[str]:
    """Ids of the cases whose result file exists in ``OUT/cases``."""
    folder = Path(out) / "cases"
    return {p.stem for p in folder.glob("*.parquet") if not p.name.startswith(".")}


def write_case(out, case_id_: str, rows: list[dict]) -> Path:
    """``OUT/cases/<case_id>.parquet``, written to a temporary file and renamed."""
    import pandas as pd

    path = Path(out) / "cases" / f"{case_id_}.parquet"
    with atomic_path(path) as tmp:
        pd.DataFrame(rows).to_parquet(tmp, index=False)
    return path


def write_manifest(out, study: SweepStudy, cases: list[Case]) -> None:
    """``OUT/study.json`` (the parsed study) and ``OUT/cases.csv`` (one row per case: id and labels)."""
    import pandas as pd

    out = Path(out)
    write_text(out / "study.json", json.dumps(study.to_dict(), indent=2, default=str) + "\n")
    table = pd.DataFrame([{"case_id": c.case_id, "index": c.index, **c.labels} for c in cases])
    with atomic_path(out / "cases.csv") as tmp:
        table.to_csv(tmp, index=False)


def _log(out, name: str, line: str) -> None:
    with open(Path(out) / name, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")
        fh.flush()


def run_sweep(study, out, client=None, scheduler: str | None = None, workers: int | None = None,
              progress: bool = True, numba_cache: str | None = None, allowed_failures: int = ALLOWED_FAILURES,
              on_result=None) -> SweepReport:
    """Run every case of ``study`` (a `SweepStudy` or a study-file path) not yet in ``OUT/cases``.

    One Dask task per case, on ``client`` (given), on the scheduler at ``scheduler``, or on a new
    `local_cluster` of ``workers`` processes.  Each result is written as it arrives (as_completed);
    ``OUT/computed.log`` gets one line per case written (id, time, worker), ``OUT/failed.log`` one
    per case that failed (it is retried on the next run).  ``on_result(case_id, done, total)`` is
    called after each write.
    """
    from tqdm.auto import tqdm

    study = load_study(study) if not isinstance(study, SweepStudy) else study
    out = Path(out)
    (out / "cases").mkdir(parents=True, exist_ok=True)
    cases = study.cases()
    write_manifest(out, study, cases)
    done = finished_cases(out)
    todo = [c for c in cases if c.case_id not in done]
    report = SweepReport(os.fspath(out), len(cases), len(cases) - len(todo), 0)
    if not todo:
        return report

    @contextmanager
    def given():
        yield client

    context = given() if client is not None else sweep_client(scheduler, workers, numba_cache, allowed_failures)
    with context as c:
        from distributed import as_completed
        start = time.perf_counter()
        by_key, futures = {}, []
        for case in todo:
            future = c.submit(_case_task, case.spec, key=f"orepit-case-{case.case_id}")
            by_key[future.key] = case
            futures.append(future)
        bar = tqdm(total=len(todo), file=sys.stderr, disable=not progress, unit="case", desc=study.name)
        try:
            for future in as_completed(futures):
                case = by_key[future.key]
                if future.status != "finished":
                    try:
                        message = repr(future.exception())
                    except Exception as exc:  # noqa: BLE001 - cancelled or lost: report, go on
                        message = repr(exc)
                    report.failed[case.case_id] = message
                    _log(out, "failed.log", f"{case.case_id}\t{_now()}\t{message}")
                else:
                    rows = future.result()
                    write_case(out, case.case_id, rows)
                    report.computed += 1
                    worker = rows[0].get("worker", "") if rows else ""
                    _log(out, "computed.log", f"{case.case_id}\t{_now()}\t{worker}")
                future.release()
                bar.update(1)
                if on_result is not None:
                    on_result(case.case_id, report.computed + len(report.failed), len(todo))
        finally:
            bar.close()
        report.seconds = time.perf_counter() - start
    return report


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1000) % 1000:03d}Z"
