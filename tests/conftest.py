"""Shared fixtures: the MineLib folder (OREPIT_MINELIB, default ../shared/minelib); the Hypothesis
settings in force when the session started."""
from __future__ import annotations

import os
import runpy

# One numba cache for this process and every process it starts (sweep and risk workers, CLI
# subprocesses): the sweep's shared cache (`orepit.study.numba_cache`), set before numba is imported.
# Without it this process caches in __pycache__ and the workers, which always use the shared cache,
# compiled every kernel again from cold (2.5 min of a cold suite). The module's file is run on its
# own: importing it through the package would load numba first.
os.environ["NUMBA_CACHE_DIR"] = runpy.run_path(os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "orepit", "study", "numba_cache.py"))["default_numba_cache"]()

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

from orepit.data.datasets import ENV_VAR, HOW_TO_GET, minelib_dir  # noqa: E402

MINELIB = minelib_dir(required=False)


def _require_data():
    if MINELIB is None:
        # In CI, or when OREPIT_MINELIB names a folder, the data must be there: fail loudly
        # instead of skipping silently.
        if os.environ.get("CI") or os.environ.get(ENV_VAR):
            pytest.fail(HOW_TO_GET + f" ({ENV_VAR}={os.environ.get(ENV_VAR)!r})")
        pytest.skip(HOW_TO_GET)


@pytest.fixture(scope="session")
def minelib():
    """Folder holding the MineLib instances; when absent: skips locally, fails in CI or with OREPIT_MINELIB set."""
    _require_data()
    return MINELIB


@pytest.fixture(scope="session")
def instance(minelib):
    """Function name -> path prefix of that instance, e.g. instance('kd') -> .../kd/kd."""
    return lambda name: minelib / name / name


_HYPOTHESIS_AT_START = []


def pytest_sessionstart(session):
    _HYPOTHESIS_AT_START.append(settings.default)   # before any test module is imported


@pytest.fixture(scope="session")
def hypothesis_settings_at_start():
    """Hypothesis' default settings when the session started, before any test module was imported."""
    return _HYPOTHESIS_AT_START[0]


def pytest_collection_modifyitems(config, items):
    """Tests marked ``slow`` (full MineLib solves, cluster sweeps, end-to-end runs of half a minute) run only with OREPIT_SLOW=1;
    CI runs them after the suite (`.ci/run`)."""
    if os.environ.get("OREPIT_SLOW"):
        return
    skip = pytest.mark.skip(reason="slow: set OREPIT_SLOW=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
