"""Where numba caches compiled kernels for orepit's processes and workers.

Imports nothing but `os`: tests/conftest.py runs this file on its own before numba loads."""
from __future__ import annotations

import os


def default_numba_cache() -> str:
    """The shared numba cache: $NUMBA_CACHE_DIR, else $XDG_CACHE_HOME/orepit/numba (~/.cache/...)."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return os.environ["NUMBA_CACHE_DIR"]
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(root, "orepit", "numba")
