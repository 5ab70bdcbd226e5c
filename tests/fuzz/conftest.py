"""Fuzz settings: a fixed seed and a bounded number of inputs in CI; more with OREPIT_FUZZ_EXAMPLES.

    OREPIT_FUZZ_EXAMPLES=5000 python -m pytest tests/fuzz -q     # a longer run

`FUZZ` is applied to each fuzz test as a decorator; no Hypothesis profile is registered or loaded, so
property tests elsewhere keep their own settings when the whole suite runs
(tests/test_hypothesis_settings.py checks it).
"""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("OREPIT_FUZZ_EXAMPLES", "150"))

#: the settings of every fuzz test (a decorator): fixed seed, no example database, no time limits
FUZZ = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))


def pytest_terminal_summary(terminalreporter):
    from .test_fuzz_readers import TRIED
    if TRIED["inputs"]:
        terminalreporter.write_line(f"fuzz: {TRIED['inputs']} inputs tried ({EXAMPLES} examples per test)")
