"""`solvers.exactsum.masked_fsum` against ``math.fsum`` bit for bit, on sums that plain addition rounds wrongly."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from solvers.exactsum import masked_fsum

finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e290, max_value=1e290)


@pytest.mark.parametrize("values", [
    [],
    [1e16, 1.0, -1e16],                              # 1.0: plain left-to-right addition gives 0.0
    [1e100, 1.0, -1e100, 1e-100],
    [1.0, 2.0 ** -53, 2.0 ** -106],                  # just above a half-way case: rounds up
    [1.0, 2.0 ** -53, -(2.0 ** -106)],               # just below it: rounds down
    [2.0 ** 53, 1.0, 2.0 ** -60],                    # half-way across three partials
    [0.1] * 10,
    [-0.0, 0.0],
])
def test_equals_fsum_on_hard_sums(values):
    v = np.array(values, dtype=np.float64)
    assert masked_fsum(v, np.ones(v.size, bool)) == math.fsum(v)
    assert masked_fsum(v) == math.fsum(v)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(finite, st.booleans()), max_size=40))
def test_equals_fsum_of_the_masked_values(pairs):
    v = np.array([x for x, _ in pairs], dtype=np.float64)
    m = np.array([k for _, k in pairs], dtype=bool)
    assert masked_fsum(v, m) == math.fsum(v[m])


def test_mask_shape_must_match():
    with pytest.raises(ValueError, match="shape"):
        masked_fsum(np.zeros(3), np.zeros(2, bool))
