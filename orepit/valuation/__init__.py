"""Valuation: destinations, economics, environmental cost, the valued deposit, precedence, synthetic deposits.

numba's parallel kernels live in this layer, so numba's threading layer is chosen here, before any
of them runs: ``workqueue``, numba's own, which survives a fork.  Where TBB is missing numba would
pick GNU OpenMP, and a child forked after the parent ran a kernel (`orepit.planning.forked`, the
results written side by side) is killed when it runs one too ("fork() called from a process already
using GNU OpenMP").  TBB's pip wheel puts its library where numba does not look.  The choice goes
into the environment too, for worker processes and `numba.core.config.reload_config`; a
``NUMBA_THREADING_LAYER`` already set there wins.
"""
import os

import numba

os.environ.setdefault("NUMBA_THREADING_LAYER", "workqueue")
numba.config.THREADING_LAYER = os.environ["NUMBA_THREADING_LAYER"]
