"""orepit: ore-body resource optimization for green open-pit mining.

The mining domain (block model, economics, environment, precedence, pits,
schedules, KPIs, I/O, plots, CLI) on top of the domain-free `solvers` package.
`BlockModel` is imported on first use, so that importing a light module of the package
(`orepit.version`, `orepit.study.numba_cache`) does not load numba.
"""
from solvers.errors import InputError

from orepit.version import __version__
__all__ = ["BlockModel", "InputError", "__version__"]


def __getattr__(name):
    if name == "BlockModel":
        from orepit.data.model import BlockModel
        return BlockModel
    raise AttributeError(f"module 'orepit' has no attribute {name!r}")
