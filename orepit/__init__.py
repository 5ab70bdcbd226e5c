"""orepit: ore-body resource optimization for green open-pit mining.

The mining domain (block model, economics, environment, precedence, pits,
schedules, KPIs, I/O, plots, CLI) on top of the domain-free `solvers` package.
"""
from solvers.errors import InputError

from .model import BlockModel

__version__ = "0.1.0"
__all__ = ["BlockModel", "InputError", "__version__"]
