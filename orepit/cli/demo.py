"""``orepit demo``: the whole story on the built-in synthetic deposit, ending in report.html.

The demo is ``orepit compare`` without a MODEL, with every strategy and the NPV-recovery frontier;
it takes compare's plan, slope, solver and output options.
"""
from __future__ import annotations

from orepit.cli.compare import add_study_options, run
from orepit.cli.opening import add_builtin_deposit
from orepit.planning.strategies import STRATEGY_NAMES


def register(sub):
    p = sub.add_parser("demo", help="synthetic deposit -> values -> pit and shells -> high-grade, npv and green "
                       "schedules -> frontier -> report.html")
    add_builtin_deposit(p)
    add_study_options(p, "demo-out")
    p.set_defaults(func=run, model=None, economics=None, environment=None, block_size=None,
                   strategies=",".join([*STRATEGY_NAMES, "frontier"]))
