"""orepit.valuation.gradetonnage: hand example, sort-based numpy reference, masks, cut-off parsing."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from orepit.valuation.gradetonnage import grade_tonnage, grade_tonnage_arrays, parse_cutoffs
from orepit.data.model import BlockModel
from solvers.errors import InputError


def _model():
    frame = pd.DataFrame({"i": [0, 1, 2, 3], "j": 0, "k": 0, "tonnage": [100.0, 200.0, 300.0, 400.0],
                          "cu": [0.1, 0.5, 1.0, 0.0], "pit": [True, True, False, True]})
    return BlockModel(frame, grades=("cu",))


def test_hand_example():
    g = grade_tonnage(_model(), [0.5, 0.0, 2.0])
    # cut-off 0.5 % (inclusive): blocks 1 and 2: 500 t, mean (200*0.5 + 300*1.0)/500 = 0.8 %, metal 4 t Cu
    assert g.loc[0, "tonnes"] == 500.0 and g.loc[0, "mean_grade"] == pytest.approx(0.8)
    assert g.loc[0, "metal_t"] == pytest.approx(4.0)
    # cut-off 0: all 1000 t, mean 0.41 %
    assert g.loc[1, "tonnes"] == 1000.0 and g.loc[1, "mean_grade"] == pytest.approx(0.41)
    # above every grade: no tonnes, mean undefined
    assert g.loc[2, "tonnes"] == 0.0 and np.isnan(g.loc[2, "mean_grade"]) and g.loc[2, "metal_t"] == 0.0
    assert g["cutoff"].tolist() == [0.5, 0.0, 2.0]


def test_mask():
    m = _model()
    g = grade_tonnage(m, [0.0, 0.5], mask=m["pit"])
    assert g["tonnes"].tolist() == [700.0, 200.0]


def _reference(grade, tonnage, cutoffs, mask):
    if mask is not None:
        grade, tonnage = grade[mask], tonnage[mask]
    order = np.argsort(grade)
    g, t = grade[order], tonnage[order]
    suffix_t = np.concatenate([np.cumsum(t[::-1])[::-1], [0.0]])
    suffix_gt = np.concatenate([np.cumsum((t * g)[::-1])[::-1], [0.0]])
    idx = np.searchsorted(g, cutoffs, side="left")  # first block with grade >= cutoff
    return suffix_t[idx], suffix_gt[idx]


@settings(max_examples=50, deadline=None)
@given(n=st.integers(1, 300), m=st.integers(1, 30), seed=st.integers(0, 2 ** 31), masked=st.booleans())
def test_matches_sort_based_reference(n, m, seed, masked):
    rng = np.random.default_rng(seed)
    grade = np.round(rng.lognormal(-1.0, 1.0, n), 2)  # ties with cut-offs on purpose
    tonnage = rng.uniform(0, 1000, n)
    cutoffs = np.round(rng.uniform(0, 2, m), 2)
    mask = rng.random(n) < 0.7 if masked else None
    tons, mean, gts = grade_tonnage_arrays(grade, tonnage, cutoffs, mask)
    rt, rgt = _reference(grade, tonnage, cutoffs, mask)
    np.testing.assert_allclose(tons, rt, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(gts, rgt, rtol=1e-9, atol=1e-6)
    assert (np.diff(tons[np.argsort(cutoffs)]) <= 1e-6).all()  # tonnes fall as the cut-off rises


def test_parse_cutoffs():
    assert np.allclose(parse_cutoffs("0:2:0.05"), np.arange(41) * 0.05)
    assert parse_cutoffs("0:2:0.05").size == 41
    assert parse_cutoffs("0.2, 0.5,1").tolist() == [0.2, 0.5, 1.0]
    for bad in ("0:2", "a:b:c", "1:0:0.1", "0:1:0", ""):
        with pytest.raises(InputError):
            parse_cutoffs(bad)


def test_errors():
    with pytest.raises(InputError, match="no column 'au'"):
        grade_tonnage(_model(), [0.1], "au")
    with pytest.raises(InputError, match="mask"):
        grade_tonnage(_model(), [0.1], mask=[True])
    with pytest.raises(InputError, match="cut-offs"):
        grade_tonnage(_model(), [np.nan])
