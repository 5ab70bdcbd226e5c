"""Ultimate pit: orepit's pseudoflow side by side with pseudoflow.hpf, networkx and (optionally) MineFlow.

    python benchmarks/upit.py [--quick] [--time-limit S] [--mineflow PATH [--pairs N] [--race-only]]

Instances: MineLib newman1, zuck_small, kd and a generated 140 x 296 x 68 grid
(2.8 million blocks, 10 m cubes, 45 degrees over 8 benches, values from
`make_grid`, seeded).  ``--quick`` (CI): newman1 and kd.

Every solver runs in its own subprocess, so "peak MB" is that process's peak
resident memory (Python, numpy and the graph included).  Timings start from the
problem in memory (values and CSR predecessor arrays; reading files is common to
all and excluded):

* solve s: the solver's own work (orepit: the numba kernel call with scaling;
  hpf: its C solve time as it reports it; networkx: ``minimum_cut``; MineFlow:
  wall time of the executable)
* total s: graph build + solve + reading the pit back (orepit: the implicit grid
  or CSR is the graph, so total = solve + Python overhead)
* cpu s: process CPU time over the same span as total s (what the run costs when
  other jobs share the cores; hpf's solve s is the time its C code reports)
* orepit and hpf report the best of ``--repeat`` runs (default 3; on the grid at
  most 2), networkx a single run: the machine may be shared, and the minimum is
  the least disturbed figure.

orepit's numba kernels are warmed up before timing (cache loaded); the compile
time of the first call with a cold cache is measured separately in a fresh
process with an empty ``NUMBA_CACHE_DIR`` and reported above the table.

``hpf-direct`` calls the C library inside the pseudoflow package with an arc
matrix built by numpy (no networkx), so hpf's own algorithm can be compared on
the 2.8M-block grid too (its graph build and memory are included).

pseudoflow (PyPI, academic licence) and networkx are benchmark-only
dependencies.  networkx runs only below ``--nx-max-arcs`` arcs and within the
time limit; pseudoflow.hpf only below ``--hpf-max-arcs`` (it builds a networkx
graph first).

MineFlow (Deutsch, Dagdelen and Johnson 2022; MIT licence, C++): pass the
executable you built from its README (``g++ -std=c++1z -O3 -DMVD_MINEFLOW_EXE
mineflow.cpp -o mineflow``; it is never part of this repository).  MineFlow reads
integer values, so each instance is given to both programs as integers of the
values' exact decimal scale (kd: thousandths, the grid: cents).  Two comparisons:

* MineLib rows: MineFlow with ``--explicit`` precedence (its slow path, as its
  usage says), solve s = the "Solved" time it prints, total s = its wall time.
* ``--mineflow`` also runs the end-to-end race on the grid: ``orepit pit --grid``
  (a new Python process: start-up, reading 2.8 million text lines, solve, JSON)
  against ``mineflow --minsearch`` (the same 45-degree pattern over 8 benches) on
  the same values file, alternating A B A B ... ``--pairs`` times after one
  warm-up each; wall, CPU and peak memory of each process (``os.wait4``), min /
  median / max, the ratio pair by pair, the load average, and both objectives,
  which must be equal.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

GRID_DIMS = (140, 296, 68)
GRID_BLOCK = (10.0, 10.0, 10.0)
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


# ---------------------------------------------------------------------------------------------
# the generated grid

def make_grid(dims=GRID_DIMS, seed: int = 7):
    """Block values (USD) of a synthetic porphyry deposit on a dense grid, and its GridPrecedence.

    2700 t blocks; a few steep ellipsoidal copper bodies with noisy grade
    (%); value = max(t * (grade * 0.85 * 66 USD/t/% - 9 USD/t), 0) - t * 2 USD/t
    * (1 + depth / 100 benches); air above a gently rolling surface is 0.
    """
    from solvers.patterns import GridPrecedence

    nx, ny, nz = dims
    rng = np.random.default_rng(seed)
    k, j, i = np.meshgrid(np.arange(nz, dtype=np.float32), np.arange(ny, dtype=np.float32),
                          np.arange(nx, dtype=np.float32), indexing="ij")
    grade = np.zeros((nz, ny, nx), dtype=np.float32)
    for _ in range(5):
        cx, cy = rng.uniform(0.2, 0.8) * nx, rng.uniform(0.15, 0.85) * ny
        cz = rng.uniform(0.3, 0.7) * nz
        rx, ry, rz = rng.uniform(0.08, 0.2) * nx, rng.uniform(0.06, 0.15) * ny, rng.uniform(0.3, 0.6) * nz
        peak = rng.uniform(0.5, 1.2)
        d = ((i - cx) / rx) ** 2 + ((j - cy) / ry) ** 2 + ((k - cz) / rz) ** 2
        grade += peak * np.exp(-d).astype(np.float32)
    grade *= rng.lognormal(0.0, 0.35, grade.shape).astype(np.float32)
    surface = nz - 3 + 2.0 * np.sin(i[0] / 17.0) * np.cos(j[0] / 23.0)
    air = k >= surface[None, :, :]
    depth = np.maximum(surface[None, :, :] - k, 0.0)
    tonnes = 2700.0
    value = (np.maximum(tonnes * (grade * 0.85 * 66.0 - 9.0), 0.0)
             - tonnes * 2.0 * (1.0 + depth / 100.0))
    value = np.where(air, 0.0, np.round(value.astype(np.float64), 2))
    precedence = GridPrecedence.from_slope(dims, GRID_BLOCK, 45.0, 8)
    return value.ravel(), precedence


# ---------------------------------------------------------------------------------------------
# workers (run in a subprocess each)

def _load(instance: str):
    """(values, precedence, seconds to read) for a MineLib instance or 'grid'."""
    t0 = time.perf_counter()
    if instance == "grid":
        values, prec = make_grid()
    else:
        from orepit.data.datasets import instance_path
        from orepit.data.minelib import load_instance
        problem = load_instance(instance_path(instance)).upit()
        values, prec = problem.values, problem.precedence
    return values, prec, time.perf_counter() - t0


def _csr(prec):
    from solvers.problem import Precedence
    return prec if isinstance(prec, Precedence) else prec.to_precedence()


def best_of_repeat(run):
    """``run()`` -> (pit, solve seconds), called REPEAT times; (last pit, best solve s, best wall s,
    best CPU s of this process)."""
    best_total = best_solve = best_cpu = math.inf
    for _ in range(REPEAT):
        t0, c0 = time.perf_counter(), time.process_time()
        pit, solve = run()
        best_total = min(best_total, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
        best_solve = min(best_solve, solve)
    return pit, best_solve, best_total, best_cpu


def work_orepit(values, prec):
    from solvers.closure import PseudoflowSolver
    from solvers.problem import Precedence
    # warm-up: load both cached kernels (int64 and float64 values) before timing
    tiny = Precedence.from_arcs(2, [0], [1])
    PseudoflowSolver(tiny).solve(np.array([1.0, -0.5]))
    PseudoflowSolver(tiny).solve(np.array([math.pi, -1.0]))
    from solvers.patterns import GridPrecedence
    PseudoflowSolver(GridPrecedence((2, 1, 2), [[0, 0, 1]])).solve(np.array([1.0, 1.0, -0.5, -0.5]))

    def run():
        res = PseudoflowSolver(prec).solve(values)
        return res, res.seconds

    res, best_solve, best_total, best_cpu = best_of_repeat(run)
    return {"objective": res.objective, "pit": int(res.info["n_in_pit"]), "solve_s": best_solve, "total_s": best_total,
            "cpu_s": best_cpu,
            "note": ("exact int64" if res.info["exact"] else "float64") + f", best of {REPEAT}"}


def _nx_graph(values, prec, big):
    import networkx as nx
    g = nx.DiGraph()
    g.add_nodes_from(range(values.size))
    g.add_node("s")
    g.add_node("t")
    pos = np.flatnonzero(values > 0)
    neg = np.flatnonzero(values < 0)
    g.add_edges_from(("s", int(b), {"c": float(values[b])}) for b in pos)
    g.add_edges_from((int(b), "t", {"c": float(-values[b])}) for b in neg)
    nodes, preds = prec.arcs()
    g.add_edges_from((a, b, {"c": big}) for a, b in zip(nodes.tolist(), preds.tolist()))
    return g


def work_hpf(values, prec):
    import pseudoflow
    prec = _csr(prec)

    def run():
        g = _nx_graph(values, prec, float(np.abs(values).sum()) + 1.0)
        breakpoints, cuts, info = pseudoflow.hpf(g, "s", "t", const_cap="c")
        return np.array([cuts[b][0] == 1 for b in range(values.size)], dtype=bool), info["solveTime"]

    pit, best_solve, best_total, best_cpu = best_of_repeat(run)
    return {"objective": math.fsum(values[pit]), "pit": int(pit.sum()), "solve_s": best_solve,
            "total_s": best_total, "cpu_s": best_cpu, "note": f"networkx graph + C hpf, best of {REPEAT}"}


def work_hpf_direct(values, prec):
    """pseudoflow's C library called directly (arc matrix built with numpy, no networkx):
    the algorithmic comparison on graphs too large for the networkx-based wrapper."""
    from ctypes import POINTER, byref, c_double, c_int
    from pseudoflow.python import hpf as wrapper
    lib = wrapper.libhpf

    def run():
        n = values.size
        big = float(np.abs(values).sum()) + 1.0
        nodes, preds = prec.arcs()
        pos = np.flatnonzero(values > 0)
        neg = np.flatnonzero(values < 0)
        m = pos.size + neg.size + nodes.size
        arcs = np.zeros((m, 4), dtype=np.float64)        # from, to, capacity, multiplier (0)
        arcs[:pos.size, 0] = 0
        arcs[:pos.size, 1] = pos + 1
        arcs[:pos.size, 2] = values[pos]
        e = pos.size
        arcs[e:e + neg.size, 0] = neg + 1
        arcs[e:e + neg.size, 1] = n + 1
        arcs[e:e + neg.size, 2] = -values[neg]
        e += neg.size
        arcs[e:, 0] = nodes + 1
        arcs[e:, 1] = preds + 1
        arcs[e:, 2] = big
        del nodes, preds
        out = wrapper._create_c_output()
        lam = (c_double * 2)(0.0, 0.0)
        lib.hpf_solve.argtypes = [c_int, c_int, c_int, c_int, POINTER(c_double), c_double * 2, c_int,
                                  POINTER(c_int), POINTER(POINTER(c_int)), POINTER(POINTER(c_double)),
                                  c_int * 5, c_double * 3]
        lib.hpf_solve(c_int(n + 2), c_int(m), c_int(0), c_int(n + 1), arcs.ctypes.data_as(POINTER(c_double)), lam,
                      c_int(0), byref(out["numBreakpoints"]), byref(out["cuts"]), byref(out["breakpoints"]),
                      out["stats"], out["times"])
        cuts = np.ctypeslib.as_array(out["cuts"], shape=(n + 2,))
        pit = cuts[1:n + 1] == 1
        solve = out["times"][2]
        wrapper._cleanup(out)
        return pit, solve

    pit, best_solve, best_total, best_cpu = best_of_repeat(run)
    return {"objective": math.fsum(values[pit]), "pit": int(pit.sum()), "solve_s": best_solve,
            "total_s": best_total, "cpu_s": best_cpu, "note": f"numpy arcs + C hpf via ctypes, best of {REPEAT}"}


def work_networkx(values, prec):
    import networkx as nx
    prec = _csr(prec)
    t0, c0 = time.perf_counter(), time.process_time()
    big = float(np.abs(values).sum()) + 1.0
    g = _nx_graph(values, prec, big)
    t1 = time.perf_counter()
    _, (source_side, _) = nx.minimum_cut(g, "s", "t", capacity="c")
    t2 = time.perf_counter()
    pit = np.zeros(values.size, dtype=bool)
    pit[[b for b in source_side if b != "s"]] = True
    total = time.perf_counter() - t0
    return {"objective": math.fsum(values[pit]), "pit": int(pit.sum()), "solve_s": t2 - t1, "total_s": total,
            "cpu_s": time.process_time() - c0, "note": "preflow-push minimum_cut"}


REPEAT = 3

WORKERS = {"orepit": work_orepit, "pseudoflow.hpf": work_hpf, "hpf-direct": work_hpf_direct,
           "networkx": work_networkx}


def worker_main(solver: str, instance: str) -> None:
    global REPEAT
    REPEAT = int(os.environ.get("UPIT_REPEAT", "3"))
    if solver == "networkx" or instance == "grid":
        REPEAT = 1 if solver != "orepit" else min(REPEAT, 2)
    values, prec, read_s = _load(instance)
    out = WORKERS[solver](values, prec)
    out["read_s"] = read_s
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print("RESULT " + json.dumps(out))


def compile_main() -> None:
    """First call with an empty numba cache (run with NUMBA_CACHE_DIR set to a fresh folder)."""
    from solvers.closure import PseudoflowSolver
    from solvers.patterns import GridPrecedence
    from solvers.problem import Precedence
    tiny = Precedence.from_arcs(2, [0], [1])
    out = {}
    t0 = time.perf_counter()
    PseudoflowSolver(tiny).solve(np.array([1.0, -0.5]))
    out["int64_csr_first_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    PseudoflowSolver(tiny).solve(np.array([1.0, -0.5]))
    out["int64_csr_second_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    PseudoflowSolver(tiny).solve(np.array([math.pi, -1.0]))
    out["float64_first_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    PseudoflowSolver(GridPrecedence((2, 1, 2), [[0, 0, 1]])).solve(np.array([1.0, 1.0, -0.5, -0.5]))
    out["grid_first_s"] = time.perf_counter() - t0
    print("RESULT " + json.dumps(out))


# ---------------------------------------------------------------------------------------------
# driver

def _run(cmd, timeout, env=None):
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return None, "time limit"
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:]), ""
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return None, f"failed: {tail[:80]}"


def run_worker(solver, instance, timeout, repeat=3):
    env = dict(os.environ, UPIT_REPEAT=str(repeat))
    return _run([sys.executable, os.path.abspath(__file__), "--worker", solver, instance], timeout, env)


def measure_compile(timeout=600):
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        first, _ = _run([sys.executable, os.path.abspath(__file__), "--compile"], timeout, env)
        warm, _ = _run([sys.executable, os.path.abspath(__file__), "--compile"], timeout, env)
    return first, warm


def _scaled_integers(values):
    """(integer values, scale) with values == integers / scale exactly (MineFlow reads integers)."""
    from solvers.closure import scale_values
    scaled, scale = scale_values(values)
    if scale is None:
        raise SystemExit("values have no exact decimal scale: MineFlow needs integers")
    return scaled, scale


def _run_timed(cmd, timeout):
    """(stdout, wall s, cpu s, peak MB, exit code) of one process, its own resources (os.wait4)."""
    with tempfile.TemporaryFile() as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode(errors="replace")
    return text, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0, proc.returncode


def launch_main(spec_path) -> None:
    """Run the commands of a JSON spec in turn, ``rounds`` times (A B A B ...), from this small process,
    so that each child's peak memory is its own and not this process's image at the fork."""
    with open(spec_path) as fh:
        spec = json.load(fh)
    runs = {name: [] for name in spec["commands"]}
    for _ in range(spec["rounds"]):
        for name, cmd in spec["commands"].items():
            text, wall, cpu, peak, code = _run_timed(cmd, spec["timeout"])
            runs[name].append({"wall": wall, "cpu": cpu, "peak_mb": peak, "code": code, "out": text[-2000:]})
    print("RESULT " + json.dumps(runs))


def launch(commands: dict, rounds: int, timeout: float) -> dict:
    """{name: [run, ...]} of `launch_main` (each run: wall, cpu, peak_mb, code, out)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump({"commands": commands, "rounds": rounds, "timeout": timeout}, fh)
    try:
        runs, why = _run([sys.executable, os.path.abspath(__file__), "--launch", fh.name],
                         timeout * rounds * len(commands) + 60)
    finally:
        os.unlink(fh.name)
    if runs is None:
        raise SystemExit(f"launcher {why}")
    return runs


def _mineflow_value(text) -> float | None:
    m = re.search(r"^Value\s*:\s*(-?[0-9]+)", text, re.MULTILINE)
    return float(m.group(1)) if m else None


def _mineflow_solved(text) -> float:
    m = re.search(r"^Solved\s*:\s*([0-9]+):([0-9]+):([0-9.]+)", text, re.MULTILINE)
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3)) if m else float("nan")


def run_mineflow(path, instance, timeout):
    """MineFlow on a MineLib instance: integer values and its explicit precedence format."""
    from orepit.data.datasets import instance_path
    from orepit.data.minelib import load_instance
    problem = load_instance(instance_path(instance)).upit()
    scaled, scale = _scaled_integers(problem.values)
    with tempfile.TemporaryDirectory() as tmp:
        data, prec, out = (os.path.join(tmp, f) for f in ("values.dat", "prec.dat", "pit.dat"))
        np.savetxt(data, scaled, fmt="%d")
        p = problem.precedence
        with open(prec, "w") as fh:
            fh.write(f"{p.n_nodes}\n")
            for b in range(p.n_nodes):
                fh.write(" ".join(map(str, [b, *p.predecessors(b).tolist()])) + "\n")
        run = launch({"mineflow": [path, "--explicit", prec, data, out]}, 1, timeout)["mineflow"][0]
        if run["code"] != 0 or _mineflow_value(run["out"]) is None:
            return None, f"exit {run['code']}: {run['out'].strip().splitlines()[-1:]}"
        pit = np.loadtxt(out, dtype=np.int64, ndmin=1)
    return {"objective": _mineflow_value(run["out"]) / scale, "pit": int(pit.size),
            "solve_s": _mineflow_solved(run["out"]), "total_s": run["wall"], "cpu_s": run["cpu"],
            "peak_mb": run["peak_mb"], "note": "--explicit, wall of the executable"}, ""


def _stats(xs):
    xs = sorted(xs)
    return xs[0], xs[len(xs) // 2] if len(xs) % 2 else 0.5 * (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]), xs[-1]


def grid_race(mineflow, pairs, timeout):
    """orepit pit --grid against mineflow --minsearch on the same integer values file, alternating."""
    values, _ = make_grid()
    scaled, scale = _scaled_integers(values)
    nx, ny, nz = GRID_DIMS
    with tempfile.TemporaryDirectory() as tmp:
        data, pattern, out = (os.path.join(tmp, f) for f in ("grid.txt", "minsearch.txt", "pit.dat"))
        np.savetxt(data, scaled, fmt="%d")
        with open(pattern, "w") as fh:
            fh.write(f"{nx} {ny} {nz}\n{GRID_BLOCK[0]:g} {GRID_BLOCK[1]:g} {GRID_BLOCK[2]:g}\n8\n0 45\n")
        commands = {
            "orepit": [sys.executable, "-m", "orepit", "pit", "--grid", data, "--dims", str(nx), str(ny), str(nz),
                       "--block-size", *(f"{b:g}" for b in GRID_BLOCK), "--slope", "45", "--benches", "8",
                       "--json"],
            "mineflow": [mineflow, "--minsearch", pattern, data, out],
        }
        load_before = os.getloadavg()
        launched = launch(commands, pairs + 1, timeout)      # the first pair warms caches: not counted
        load_after = os.getloadavg()
    runs, objectives = {}, {}
    for name, done in launched.items():
        for run in done:
            if run["code"] != 0:
                raise SystemExit(f"{name} failed (exit {run['code']}): {run['out'][-400:]}")
        last = done[-1]["out"]
        objectives[name] = (json.loads(last.strip().splitlines()[-1])["objective"] if name == "orepit"
                            else _mineflow_value(last))
        runs[name] = [(r["wall"], r["cpu"], r["peak_mb"]) for r in done[1:]]
    print(f"\nend to end on the {nx} x {ny} x {nz} grid ({nx * ny * nz:,} blocks, values in 1/{scale} units, "
          f"{pairs} alternating pairs after one warm-up pair; load average {load_before[0]:.2f} before, "
          f"{load_after[0]:.2f} after):")
    print(f"{'program':<10} {'objective':>22} {'wall s min / median / max':>28} {'cpu s median':>13} {'peak MB':>8}"
          "   (peak: the process's own, launched from a small process of about 30 MB)")
    for name, rows in runs.items():
        lo, med, hi = _stats([r[0] for r in rows])
        print(f"{name:<10} {objectives[name]:>22,.0f} {lo:>8.2f} / {med:>6.2f} / {hi:>6.2f} "
              f"{_stats([r[1] for r in rows])[1]:>13.2f} {max(r[2] for r in rows):>8.0f}")
    ratios = [a[0] / b[0] for a, b in zip(runs["orepit"], runs["mineflow"])]
    lo, med, hi = _stats(ratios)
    print(f"wall ratio orepit / mineflow, pair by pair: min {lo:.2f}, median {med:.2f}, max {hi:.2f}; "
          f"objectives {'equal' if objectives['orepit'] == objectives['mineflow'] else 'DIFFER'}")
    return {"runs": runs, "ratios": ratios, "objectives": objectives, "load": [load_before, load_after]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="newman1 and kd only (CI)")
    parser.add_argument("--instances", nargs="*", default=None, help="subset of newman1 zuck_small kd grid")
    parser.add_argument("--time-limit", type=float, default=300.0, help="per solver run, s (default 300)")
    parser.add_argument("--nx-max-arcs", type=int, default=300_000, help="skip networkx above this many arcs")
    parser.add_argument("--hpf-max-arcs", type=int, default=5_000_000, help="skip pseudoflow.hpf above this")
    parser.add_argument("--hpf-direct-max-arcs", type=int, default=60_000_000,
                        help="skip the direct (ctypes) hpf call above this many arcs")
    parser.add_argument("--mineflow", metavar="PATH", help="MineFlow executable (built from its README)")
    parser.add_argument("--pairs", type=int, default=5, help="alternating runs in the grid race with MineFlow")
    parser.add_argument("--race-only", action="store_true", help="with --mineflow: only the end-to-end grid race")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs (orepit, hpf; grid: at most 2)")
    parser.add_argument("--no-compile", action="store_true", help="skip the cold-cache compile measurement")
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    parser.add_argument("--worker", nargs=2, metavar=("SOLVER", "INSTANCE"), help=argparse.SUPPRESS)
    parser.add_argument("--compile", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--launch", metavar="SPEC", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.launch:
        return launch_main(args.launch)
    if args.worker:
        return worker_main(*args.worker)
    if args.compile:
        return compile_main()
    if args.race_only:
        if not args.mineflow:
            parser.error("--race-only needs --mineflow PATH")
        return grid_race(args.mineflow, args.pairs, args.time_limit)

    instances = args.instances or (["newman1", "kd"] if args.quick else ["newman1", "zuck_small", "kd", "grid"])
    arcs = {"newman1": 3922, "zuck_small": 145_640, "kd": 219_778}
    if "grid" in instances:
        from solvers.patterns import GridPrecedence
        arcs["grid"] = GridPrecedence.from_slope(GRID_DIMS, GRID_BLOCK, 45.0, 8).n_arcs

    if not args.no_compile:
        first, warm = measure_compile()
        if first:
            print(f"numba compile, cold cache (first call): int64 values {first['int64_csr_first_s']:.2f} s, "
                  f"float64 values {first['float64_first_s']:.2f} s (grids share these kernels); "
                  f"second call {first['int64_csr_second_s'] * 1e3:.1f} ms")
        if warm:
            print(f"numba cache warm (new process, first call loads the cache): int64 "
                  f"{warm['int64_csr_first_s']:.2f} s, float64 {warm['float64_first_s']:.2f} s")

    rows = []
    head = (f"{'instance':<11} {'solver':<15} {'objective':>20} {'pit':>9} {'solve s':>9} {'total s':>9} "
            f"{'cpu s':>9} {'peak MB':>8} {'solve x':>8} {'total x':>8} {'cpu x':>8}  note")
    print(head)
    print("-" * len(head))
    for inst in instances:
        solvers = ["orepit", "pseudoflow.hpf", "hpf-direct", "networkx"]
        ref = None
        for solver in solvers + (["mineflow"] if args.mineflow else []):
            if solver == "networkx" and arcs.get(inst, 0) > args.nx_max_arcs:
                res, why = None, f"skipped: {arcs[inst]:,} arcs > --nx-max-arcs"
            elif solver == "pseudoflow.hpf" and arcs.get(inst, 0) > args.hpf_max_arcs:
                res, why = None, f"skipped: {arcs[inst]:,} arcs > --hpf-max-arcs"
            elif solver == "hpf-direct" and arcs.get(inst, 0) > args.hpf_direct_max_arcs:
                res, why = None, f"skipped: {arcs[inst]:,} arcs > --hpf-direct-max-arcs"
            elif solver == "mineflow":
                res, why = (None, "end to end below") if inst == "grid" else \
                    run_mineflow(args.mineflow, inst, args.time_limit)
            else:
                res, why = run_worker(solver, inst, args.time_limit, args.repeat)
            if res is None:
                print(f"{inst:<11} {solver:<15} {'-':>20} {'-':>9} {'-':>9} {'-':>9} {'-':>9} {'-':>8} {'-':>8} "
                      f"{'-':>8} {'-':>8}  {why}")
                rows.append({"instance": inst, "solver": solver, "note": why})
                continue
            if solver == "orepit":
                ref = res
            sx = res["solve_s"] / ref["solve_s"] if ref else float("nan")
            tx = res["total_s"] / ref["total_s"] if ref else float("nan")
            cpu = res.get("cpu_s", float("nan"))
            cx = cpu / ref["cpu_s"] if ref else float("nan")
            obj = res.get("objective")
            print(f"{inst:<11} {solver:<15} {obj if obj is not None else float('nan'):>20,.3f} "
                  f"{res.get('pit', -1):>9} {res['solve_s']:>9.3f} {res['total_s']:>9.3f} {cpu:>9.3f} "
                  f"{res.get('peak_mb', float('nan')):>8.0f} {sx:>8.1f} {tx:>8.1f} {cx:>8.1f}  {res.get('note', '')}")
            rows.append({"instance": inst, "solver": solver, **res, "solve_ratio": sx, "total_ratio": tx,
                         "cpu_ratio": cx})
    print("ratios (solve x, total x, cpu x) are the solver's time divided by orepit's on the same instance; "
          "cpu s = process CPU time of the total (robust when the machine is shared)")
    race = grid_race(args.mineflow, args.pairs, args.time_limit) if args.mineflow and "grid" in instances else None
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"rows": rows, "grid_race": race}, fh, indent=1)


if __name__ == "__main__":
    sys.path.insert(0, ROOT)
    main()
