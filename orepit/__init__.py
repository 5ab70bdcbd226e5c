"""orepit: ore-body resource optimization for green open-pit mining.

The mining domain (block model, economics, environment, precedence, pits,
schedules, KPIs, I/O, plots, CLI) on top of the domain-free `solvers` package.
"""
from solvers.errors import InputError

from orepit.data.model import BlockModel

from orepit.version import __version__
__all__ = ["BlockModel", "InputError", "__version__"]
