"""`orepit demo` end to end: seconds per phase and in all (target: under 3 minutes, warm numba cache).

    python benchmarks/demo.py [--blocks 60000] [--quick]

Runs the demo twice in fresh processes (the first fills the numba cache) and reports the second.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_demo(blocks: float, out: Path, report: bool) -> tuple[float, dict]:
    start = time.perf_counter()
    cmd = [sys.executable, "-m", "orepit", "demo", "--blocks", str(int(blocks)), "--out", str(out), "--json"]
    if not report:
        cmd.append("--no-report")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"demo failed ({proc.returncode}): {proc.stderr[-2000:]}")
    summary = json.loads((out / "summary.json").read_text())
    return seconds, summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=float, default=60000)
    parser.add_argument("--quick", action="store_true", help="5,000 blocks, no report (CI)")
    args = parser.parse_args(argv)
    blocks = 5000 if args.quick else args.blocks
    with tempfile.TemporaryDirectory() as tmp:
        run_demo(blocks, Path(tmp) / "warm", report=not args.quick)          # fills the numba cache
        seconds, summary = run_demo(blocks, Path(tmp) / "run", report=not args.quick)
    print(f"demo on {summary['deposit']['n_blocks']:,} blocks: {seconds:.1f} s end to end (warm cache)")
    print(f"{'phase':<24} {'seconds':>8}")
    for phase, s in summary["timings"].items():
        print(f"{phase:<24} {s:8.2f}")
    for name, kpis in summary["strategies"].items():
        stages = {k: v for k, v in (kpis.get("stages") or {}).items() if isinstance(v, dict) and "variables" in v}
        sizes = ", ".join(f"{k} {v['variables']:,} ({v.get('integer_variables', 0):,} integer)" for k, v in stages.items())
        bound = kpis.get("stages", {}).get("bound") or {}
        gap = "-" if kpis.get("gap") is None else f"{100 * kpis['gap']:.2f} %"
        print(f"schedule {name:<12} {kpis['status']:<8} {kpis['seconds']:6.2f} s   gap to bound {gap} "
              f"({bound.get('iterations', 0)} prices, {bound.get('seconds', 0.0):.1f} s)   variables: {sizes}")


if __name__ == "__main__":
    main()
