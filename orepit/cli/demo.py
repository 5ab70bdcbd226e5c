"""``orepit demo``: the whole story on the built-in synthetic deposit, ending in report.html."""
from __future__ import annotations

from orepit.cli import add_json_flag
from orepit.cli.compare import defaults, run


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
    own = vars(p.parse_args([]))
    p.set_defaults(func=run, strategies="high-grade,npv,green,frontier",
                   **{k: v for k, v in defaults().items() if k not in own and k != "strategies"})
