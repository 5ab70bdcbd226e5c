"""What building the Pyomo plan model costs against solving it, on the demo and at scale.

For every plan model a comparison solves (per strategy: the cut model, the routes, the block
destinations; green's rule prices too), orepit records the Pyomo construction, the translation to
matrices (Pyomo's standard-form compiler) and the HiGHS solve (`orepit.planning.plan_model`).  This
runs ``compare`` on the built-in deposit and prints, per strategy and model and in total, the build
(construction + translation) and solve seconds and their ratio.  The goal: build at most the solve
on the demo, at most 25 % of it at a million blocks.

    python benchmarks/plan_build.py                # the demo's deposit (60,000 blocks)
    python benchmarks/plan_build.py --blocks 1e6   # a million blocks
    python benchmarks/plan_build.py --quick        # 6,000 blocks (CI)
"""
from __future__ import annotations

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from orepit.planning.strategies import compare  # noqa: E402
from orepit.valuation.deposit import value_deposit  # noqa: E402
from orepit.valuation.synthetic import BUILTIN_SEED, default_economics, synthetic_deposit  # noqa: E402


def measure(blocks: float, seed: int = BUILTIN_SEED) -> list[dict]:
    """One row per (strategy, model): build and solve seconds, size."""
    model = synthetic_deposit(blocks, seed=seed)
    deposit = value_deposit(model, default_economics(model.block_size[2]))
    t0 = time.perf_counter()
    results = compare(deposit)
    wall = time.perf_counter() - t0
    rows = []
    for name, r in results.items():
        for stage, s in r.plan.result.info.items():
            if isinstance(s, dict) and "build_seconds" in s:
                rows.append({"strategy": name, "model": stage, "build_s": s["build_seconds"],
                             "solve_s": s["solve_seconds"], "variables": s["variables"],
                             "integer": s["integer_variables"]})
    rows.append({"strategy": "compare", "model": "wall", "build_s": float("nan"), "solve_s": wall,
                 "variables": deposit.n_blocks, "integer": 0})
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=float, default=60000, help="blocks of the built-in deposit (default: 60000)")
    parser.add_argument("--quick", action="store_true", help="6,000 blocks, for CI")
    args = parser.parse_args(argv)
    rows = measure(6000 if args.quick else args.blocks)
    print(f"{'strategy':<12}{'model':<14}{'build s':>9}{'solve s':>9}{'build/solve':>12}{'variables':>11}{'integer':>9}")
    build = solve = 0.0
    for r in rows:
        if r["model"] == "wall":
            continue
        build += r["build_s"]
        solve += r["solve_s"]
        print(f"{r['strategy']:<12}{r['model']:<14}{r['build_s']:>9.2f}{r['solve_s']:>9.2f}"
              f"{r['build_s'] / max(r['solve_s'], 1e-9):>12.2f}{r['variables']:>11,}{r['integer']:>9,}")
    wall = rows[-1]["solve_s"]
    print(f"{'all models':<26}{build:>9.2f}{solve:>9.2f}{build / max(solve, 1e-9):>12.2f}")
    print(f"compare wall time {wall:.1f} s on {rows[-1]['variables']:,} blocks; models {100 * (build + solve) / wall:.0f} % "
          f"of it (load average {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
