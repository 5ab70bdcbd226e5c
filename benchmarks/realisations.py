"""Grade realisations around one estimate: seconds per realisation on a large synthetic deposit.

    python benchmarks/realisations.py [--blocks 1e6] [--realisations 10] [--quick]

Uses examples/variogram.toml (cu and au, correlated: three Gaussian fields per realisation).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from orepit.valuation.realisations import GradeRealisations, Variogram
from orepit.valuation.synthetic import synthetic_deposit

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "variogram.toml"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=float, default=1e6)
    parser.add_argument("--realisations", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="50,000 blocks, 3 realisations (CI)")
    args = parser.parse_args(argv)
    blocks, count = (5e4, 3) if args.quick else (args.blocks, args.realisations)
    model = synthetic_deposit(blocks, seed=7)
    variogram = Variogram.from_toml(EXAMPLE)
    start = time.perf_counter()
    sims = GradeRealisations(model, variogram)
    setup = time.perf_counter() - start
    start = time.perf_counter()
    for r in range(count):
        sims.grades(r)
    grades = time.perf_counter() - start
    start = time.perf_counter()
    sims.model(0)
    one_model = time.perf_counter() - start
    print(f"{model.n_blocks:,} blocks, grid {model.dims}, periodic grid {sims.shape}, "
          f"embedding error {sims.embedding_error:.1e}")
    print(f"set-up {setup:.2f} s; {count} realisations of {', '.join(sims.elements)}: {grades:.2f} s "
          f"({grades / count:.2f} s each); one BlockModel of a realisation: {one_model:.2f} s")


if __name__ == "__main__":
    main()
