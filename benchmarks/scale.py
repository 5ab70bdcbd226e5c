"""Scaling: seconds and memory of each phase on 0.1 to 10 million blocks of the synthetic deposit.

    python benchmarks/scale.py [--quick] [--sizes 0.1 0.3 1 3 10] [--phases NAME ...] [--json FILE]

Each size runs in its own Python process (so that its peak memory is its own), after every phase has
run once on a 2,000-block deposit in that process (numba kernels compiled or loaded from the cache,
not counted).  The phases, in order (`PHASES`: a list of (name, function) pairs; a function takes
the run's `dict` of results so far and adds its own, so a phase is added by appending one pair; a
phase that runs in a process of its own returns its own ``cpu_s``, ``peak_mb`` and ``added_bytes_per_block``):

=============  =================================================================================
synthetic      `orepit.valuation.synthetic.synthetic_deposit` (dense grid, air kept)
write parquet  `orepit.data.files.write_model` to a temporary .parquet
read parquet   `orepit.data.files.read_model` of it (checks, grid inferred)
precedence     `orepit.valuation.precedence.precedence_from_geometry` (45 degrees over 8 benches)
valuation      `orepit.valuation.deposit.value_deposit` with `default_economics` (precedence given)
pit            one closure: `PseudoflowSolver(precedence).solve` of the best-destination values
nested         `solvers.nested.nested_pits` for 30 revenue factors 0.30-1.75 (values
               ``max(f * margin, 0) - mining``) on one parametric pseudoflow state
credit         `solvers.parametric.smallest_parameter`: the smallest credit per tonne of recovered
               metal at which the environment-priced pit recovers as much metal as the plain pit
shells         `orepit.planning.pits.pushbacks` as the planner makes them: 25 revenue factors 0.2-1.0 inside
               the economic pit (24 warm parametric steps after the first solve)
green          `orepit.planning.pits.utilisation_pit` as green's plan calls it: the resource credit at which the
               environment-priced pit holds the economic pit's share of the ore-grade metal
compare        ``orepit compare --blocks N`` end to end (three strategies, results folder, report) in a
               process of its own: CPU seconds and peak PSS of its whole process tree (the strategies
               and block writers it forks beside it included); the bytes per block are all of it
=============  =================================================================================

Per phase and size: wall seconds, CPU seconds, the process's peak resident memory during the phase
(sampled every 5 ms from /proc) and the bytes per block it added over the resident memory at the
phase's start (memory freed by earlier phases and reused shows as nothing added); per size the
whole run's peak above the process's memory after the warm-up, per block.  Then per phase the growth exponent k of time ~ blocks^k (least squares on the logs
over the sizes run), and the multiples nested, credit, shells and green / pit at each size (wall: over the
solve seconds of the one closure; cpu: over the pit phase's CPU seconds).  ``--quick`` runs 0.1 and 0.3 million blocks (CI).  On a shared
machine the wall seconds include waiting for the cores: read the CPU seconds too.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SIZES = (0.1, 0.3, 1.0, 3.0, 10.0)           # million blocks
QUICK_SIZES = (0.1, 0.3)
FACTORS = np.round(np.arange(0.30, 1.7501, 0.05), 2)      # 30 revenue factors
WARM_BLOCKS = 2_000


# ---------------------------------------------------------------------------------------------
# the phases: each takes the run's results so far and adds its own

def digest(array) -> str:
    """Short SHA-1 of an array's bytes: the same pit or shells before and after a solver change."""
    return hashlib.sha1(np.ascontiguousarray(array).tobytes()).hexdigest()[:12]


def synthetic(run):
    from orepit.valuation.synthetic import synthetic_deposit
    run["model"] = synthetic_deposit(run["n_blocks"])
    run["blocks"] = run["model"].n_blocks


def write_parquet(run):
    from orepit.data.files import write_model
    run["parquet"] = os.path.join(run["tmp"], "model.parquet")
    write_model(run["model"], run["parquet"])


def read_parquet(run):
    from orepit.data.files import read_model
    run["model"] = read_model(run["parquet"])


def precedence(run):
    from orepit.valuation.precedence import precedence_from_geometry
    model = run["model"]
    run["precedence"] = precedence_from_geometry(model, block_size=model.block_size, slope=45.0, levels=8)


def valuation(run):
    from orepit.valuation.deposit import value_deposit
    from orepit.valuation.synthetic import default_economics
    model = run["model"]
    run["deposit"] = value_deposit(model, default_economics(model.block_size[2]), precedence=run["precedence"])


def pit(run):
    from solvers.closure import PseudoflowSolver
    run["solver"] = PseudoflowSolver(run["precedence"])
    result = run["solver"].solve(run["deposit"].pit_values(False))
    run["pit"] = result.solution
    run["figures"].update(pit_solve_s=result.seconds, pit_blocks=int(result.info["n_in_pit"]))


def nested(run):
    from solvers.nested import nested_pits
    deposit = run["deposit"]
    margin = np.where(deposit.processable, deposit.margin, 0.0)
    result = nested_pits(lambda f: np.maximum(f * margin, 0.0) - deposit.mining, FACTORS, None, run["solver"])
    run["figures"].update(nested_status=result.status, nested_factors=len(FACTORS), nested_sha1=digest(result.solution))


def credit(run):
    from solvers.parametric import smallest_parameter
    deposit = run["deposit"]
    metal = deposit.recovered
    target = float(metal[run["pit"]].sum())
    shell, lam = smallest_parameter(deposit.pit_values(True), metal, metal, target, solver=run["solver"])
    run["figures"].update(credit_per_t=lam, credit_blocks=int(shell.sum()), credit_sha1=digest(shell))


def shells(run):
    from orepit.planning.pits import pushbacks
    deposit = run["deposit"]
    _, shell = pushbacks(deposit, deposit.pit_values(False), run["pit"], 8, run["solver"])
    run["figures"].update(shells=int(shell.max()) + 1, shells_sha1=digest(shell))


def green(run):
    from orepit.planning.pits import utilisation_pit
    from orepit.planning.strategies import economic_share
    deposit = run["deposit"]
    floor = economic_share(deposit, run["pit"]) * (1 - 1e-12)
    pit, lam = utilisation_pit(deposit, deposit.pit_values(True), floor, run["solver"])
    run["figures"].update(green_credit=lam, green_blocks=int(pit.sum()), green_sha1=digest(pit))


def compare(run):
    """`orepit compare --blocks N` end to end (three strategies, results folder, report) in a process of
    its own; its memory is the peak PSS of its process tree (the strategies and block writers forked
    beside it included), its CPU seconds those of the whole tree."""
    out = os.path.join(run["tmp"], "compare")
    cmd = [sys.executable, "-m", "orepit", "compare", "--blocks", str(run["n_blocks"]), "--out", out, "--quiet"]
    before = os.times()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL)
    sampler = TreeMemorySampler(proc.pid)
    code = proc.wait()
    sampler.stop()
    after = os.times()
    if code:
        raise RuntimeError(f"orepit compare --blocks {run['n_blocks']} exited {code}")
    blocks = json.loads(Path(out, "summary.json").read_text())["deposit"]["n_blocks"]
    run.setdefault("blocks", blocks)
    cpu = after.children_user + after.children_system - before.children_user - before.children_system
    return {"cpu_s": cpu, "peak_mb": sampler.peak / 2 ** 20, "added_bytes_per_block": sampler.peak / blocks}


PHASES = [("synthetic", synthetic), ("write parquet", write_parquet), ("read parquet", read_parquet),
          ("precedence", precedence), ("valuation", valuation), ("pit", pit), ("nested", nested),
          ("credit", credit), ("shells", shells), ("green", green), ("compare", compare)]


# ---------------------------------------------------------------------------------------------
# one size in this process

class MemorySampler:
    """Resident memory of this process (bytes), sampled every ``period`` s; ``peak`` since `reset`."""

    def __init__(self, period: float = 0.005):
        self.period = period
        self.page = os.sysconf("SC_PAGE_SIZE")
        self.peak = self.now()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def now(self) -> int:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * self.page

    def _loop(self):
        while not self._stop.wait(self.period):
            self.peak = max(self.peak, self.now())

    def reset(self) -> int:
        self.peak = self.now()
        return self.peak

    def stop(self):
        self._stop.set()
        self._thread.join()


class TreeMemorySampler:
    """Proportional set size (PSS: shared pages split among their users) of a process and all its
    descendants, summed (bytes), sampled every ``period`` s until `stop`; ``peak`` the largest sum."""

    def __init__(self, pid: int, period: float = 0.2):
        self.pid, self.period, self.peak = pid, period, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _tree(self, pid: int) -> list[int]:
        pids = [pid]
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as fh:
                    for child in fh.read().split():
                        pids += self._tree(int(child))
        except OSError:
            pass
        return pids

    def now(self) -> int:
        total = 0
        for pid in self._tree(self.pid):
            try:
                with open(f"/proc/{pid}/smaps_rollup") as fh:
                    total += next(int(line.split()[1]) for line in fh if line.startswith("Pss:")) * 1024
            except (OSError, StopIteration):
                pass
        return total

    def _loop(self):
        while not self._stop.wait(self.period):
            self.peak = max(self.peak, self.now())

    def stop(self):
        self._stop.set()
        self._thread.join()


def run_phases(n_blocks: int, names, sampler=None) -> dict:
    """Run the named phases in order on ``n_blocks``; {"phases": [...], "figures": {...}}."""
    with tempfile.TemporaryDirectory() as tmp:
        run = {"n_blocks": n_blocks, "tmp": tmp, "figures": {}}
        rows = []
        for name, phase in PHASES:
            if name not in names:
                continue
            start = sampler.reset() if sampler else 0
            t0, c0 = time.perf_counter(), time.process_time()
            measured = phase(run)        # a phase run elsewhere returns its own cpu_s, peak_mb, ...
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            peak = max(sampler.peak, sampler.now()) if sampler else 0
            row = {"phase": name, "seconds": wall, "cpu_s": cpu, "peak_mb": peak / 2 ** 20,
                   "added_bytes_per_block": (peak - start) / run["blocks"], **(measured or {})}
            rows.append(row)
            if sampler:
                print(f"  {run['blocks']:,} blocks: {name} {wall:.2f} s", file=sys.stderr, flush=True)
        return {"n_blocks": int(run["blocks"]), "phases": rows, "figures": run["figures"]}


def worker_main(millions: float, names) -> None:
    run_phases(WARM_BLOCKS, names)                    # numba: compile or load every kernel first
    sampler = MemorySampler()
    baseline = sampler.now()
    result = run_phases(int(round(millions * 1e6)), names, sampler)
    sampler.stop()
    result["baseline_mb"] = baseline / 2 ** 20
    print("RESULT " + json.dumps(result))


def run_size(millions: float, names, timeout: float) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", str(millions), "--phases", *names]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, timeout=timeout, cwd=ROOT)  # stderr: progress
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise SystemExit(f"{millions} M blocks failed (exit {proc.returncode}; its messages are above)")


# ---------------------------------------------------------------------------------------------
# the table

def growth_exponent(blocks, seconds) -> float:
    """k of seconds ~ blocks^k, least squares on the logs (nan below two sizes)."""
    if len(blocks) < 2:
        return float("nan")
    return float(np.polyfit(np.log(blocks), np.log(np.maximum(seconds, 1e-6)), 1)[0])


def report(results, names) -> list[str]:
    """The tables' lines: seconds (cpu) per phase and size with k; peak MB and bytes per block; multiples."""
    blocks = [r["n_blocks"] for r in results]
    by_phase = {name: [next(p for p in r["phases"] if p["phase"] == name) for r in results] for name in names}
    sizes = "".join(f"{b / 1e6:>16.2f}M" for b in blocks)
    lines = [f"seconds, wall (cpu)", f"{'phase':<14}{sizes}{'k':>8}"]
    for name, rows in by_phase.items():
        k = growth_exponent(blocks, [p["seconds"] for p in rows])
        lines.append(f"{name:<14}" + "".join(f"{p['seconds']:>9.2f} ({p['cpu_s']:>6.2f})" for p in rows)
                     + f"{k:>8.2f}")
    total = [sum(p["seconds"] for p in r["phases"]) for r in results]
    lines.append(f"{'all phases':<14}" + "".join(f"{t:>9.2f}{'':>8}" for t in total)
                 + f"{growth_exponent(blocks, total):>8.2f}")
    lines += ["", "peak resident MB during the phase / bytes per block it added", f"{'phase':<14}{sizes}"]
    for name, rows in by_phase.items():
        lines.append(f"{name:<14}" + "".join(f"{p['peak_mb']:>9.0f} / {p['added_bytes_per_block']:>5.0f}"
                                             for p in rows))
    inside = [[p for p in r["phases"] if p["phase"] != "compare"] for r in results]
    if all(inside):
        lines.append(f"{'peak B/block':<14}" + "".join(
            f"{(max(p['peak_mb'] for p in ps) - r['baseline_mb']) * 2 ** 20 / r['n_blocks']:>17.0f}"
            for ps, r in zip(inside, results))
            + "   (the process's peak above its resident memory after the warm-up, per block; compare apart)")
    lines.append("")
    for r in results:
        f = r["figures"]
        seconds, cpu = ({p["phase"]: p[key] for p in r["phases"]} for key in ("seconds", "cpu_s"))
        if "pit_solve_s" in f:
            parts = [f"one closure {f['pit_solve_s']:.2f} s"]
            parts += [f"{name} {seconds[name] / f['pit_solve_s']:.1f} x (cpu {cpu[name] / cpu['pit']:.1f} x)"
                      for name in ("nested", "credit", "shells", "green") if name in seconds]
            lines.append(f"{r['n_blocks']:>12,} blocks: " + ", ".join(parts))
        sums = [f"{key[:-5]} {value}" for key, value in f.items() if key.endswith("_sha1")]
        if sums:
            lines.append(f"{'':>12}  results (SHA-1 of the pit or shell per block): " + ", ".join(sums))
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_SIZES} million blocks (CI)")
    parser.add_argument("--sizes", type=float, nargs="+", help=f"million blocks (default {SIZES})")
    parser.add_argument("--phases", nargs="+", default=[name for name, _ in PHASES],
                        help="phases to run, by name (default: all; each needs those it reads)")
    parser.add_argument("--timeout", type=float, default=3600.0, help="per size, s")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--worker", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    unknown = set(args.phases) - {name for name, _ in PHASES}
    if unknown:
        parser.error(f"unknown phases {sorted(unknown)}; known: {[name for name, _ in PHASES]}")
    names = [name for name, _ in PHASES if name in args.phases]
    if args.worker is not None:
        return worker_main(args.worker, names)
    sizes = args.sizes or (QUICK_SIZES if args.quick else SIZES)
    load = os.getloadavg()[0]
    results = []
    for millions in sizes:
        results.append(run_size(millions, names, args.timeout))
        print(f"{results[-1]['n_blocks']:,} blocks done", file=sys.stderr, flush=True)
    print(f"{os.cpu_count()} cores, load average {load:.2f} at the start, {os.getloadavg()[0]:.2f} at the end; "
          "s = wall seconds, cpu = process CPU seconds, peak MB = the process's resident peak during the phase, "
          "B/blk = bytes per block the phase added to the resident memory at its start (compare: its process "
          "tree's peak PSS, all of it); k: time ~ blocks^k")
    print("\n".join(report(results, names)))
    if args.json:
        Path(args.json).write_text(json.dumps({"load": load, "results": results}, indent=1))


if __name__ == "__main__":
    sys.path.insert(0, ROOT)
    main()
