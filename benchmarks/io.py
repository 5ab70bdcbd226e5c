"""Reading MineLib instances: seconds to read every file of an instance (blocks, prec, upit, cpit, pcpsp).

    python benchmarks/io.py [--quick] [--repeat N]

Target (issue 2): kd, all files, under 2 s.
"""
from __future__ import annotations

import argparse
import time

from orepit.data.datasets import instance_path
from orepit.data.minelib import load_instance


def read_all(name: str) -> float:
    start = time.perf_counter()
    inst = load_instance(instance_path(name))
    inst.blocks()
    inst.upit()
    inst.cpit()
    inst.pcpsp()
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="kd only, one repeat")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    names = ["kd"] if args.quick else ["newman1", "zuck_small", "kd"]
    repeat = 1 if args.quick else args.repeat
    print(f"{'instance':<12} {'best s':>8} {'files':>6}")
    for name in names:
        best = min(read_all(name) for _ in range(repeat))
        print(f"{name:<12} {best:8.3f} {5:>6}")


if __name__ == "__main__":
    main()
