"""Shared fixtures: the MineLib folder (OREPIT_MINELIB, default ../shared/minelib)."""
from __future__ import annotations

import os

import pytest

from orepit.data.datasets import minelib_dir, HOW_TO_GET

MINELIB = minelib_dir(required=False)


def _require_data():
    if MINELIB is None:
        # In CI the data must be there: fail loudly instead of skipping silently.
        if os.environ.get("CI"):
            pytest.fail(HOW_TO_GET)
        pytest.skip(HOW_TO_GET)


@pytest.fixture(scope="session")
def minelib():
    """Folder holding the MineLib instances (skips locally, fails in CI, when absent)."""
    _require_data()
    return MINELIB


@pytest.fixture(scope="session")
def instance(minelib):
    """Function name -> path prefix of that instance, e.g. instance('kd') -> .../kd/kd."""
    return lambda name: minelib / name / name
