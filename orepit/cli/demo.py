"""``orepit demo``: the whole story on the built-in synthetic deposit, ending in report.html."""
from __future__ import annotations

from . import add_json_flag
from .compare import run


def register(sub):
    p = sub.add_parser("demo", help="synthetic deposit -> values -> pit and shells -> high-grade, npv and green "
                       "schedules -> frontier -> report.html")
    p.add_argument("--blocks", type=float, default=60000, help="blocks in the deposit (default: %(default)d)")
    p.add_argument("--seed", type=int, default=7, help="deposit seed (default: %(default)s)")
    p.add_argument("--periods", type=int, default=10, help="mining periods (default: %(default)s)")
    p.add_argument("--out", default="demo-out", help="results folder (default: %(default)s)")
    p.add_argument("--no-report", action="store_true", help="skip charts and report.html")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    add_json_flag(p)
    p.set_defaults(func=run, model=None, economics=None, environment=None,
                   strategies="high-grade,npv,green,frontier", tail_periods=5, discount_rate=0.08,
                   mining_capacity=None, mill_capacity=None, mill_hours=None, recovery_floor=0.95,
                   utilisation_floor=0.9, block_size=None, slope=45.0, levels=4)
