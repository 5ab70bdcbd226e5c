"""orepit: ore-body resource optimization for green open-pit mining.

The mining domain (block model, economics, environment, precedence, pits,
schedules, KPIs, I/O, plots, CLI) on top of the domain-free `solvers` package.
"""
from solvers.errors import InputError

from orepit.version import __version__

__all__ = ["BlockModel", "InputError", "__version__"]


def __getattr__(name):
    """`BlockModel` on first use: importing a light module (``orepit.data.values``) or the
    command line does not load pandas."""
    if name == "BlockModel":
        from orepit.data.model import BlockModel
        return BlockModel
    raise AttributeError(f"module 'orepit' has no attribute {name!r}")
