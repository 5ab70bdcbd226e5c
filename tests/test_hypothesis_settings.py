"""Hypothesis settings stay where they are set: importing the fuzz tests (tests/fuzz: many derandomized
examples, no example database, no deadline, no health checks) leaves every other property test with its
own settings, also when the whole suite runs (collection imports every test module before any test runs)."""
from __future__ import annotations

import importlib

from hypothesis import given, settings, strategies as st

# what collecting the whole suite does before any test runs (pytest names it so: tests/ is on sys.path)
importlib.import_module("fuzz.test_fuzz_readers")


def test_importing_the_fuzz_tests_changes_no_default_setting(hypothesis_settings_at_start):
    assert settings.default == hypothesis_settings_at_start


@settings(max_examples=7)
@given(x=st.integers())
def test_a_property_test_outside_fuzz_runs_with_its_own_settings(hypothesis_settings_at_start, x):
    running = settings.default                  # while a property test runs: its own, effective settings
    assert running.max_examples == 7
    for name in ("derandomize", "database", "deadline", "suppress_health_check"):   # not set here: the session's
        assert getattr(running, name) == getattr(hypothesis_settings_at_start, name), name
