"""Grade-tonnage curves: tonnes above each cut-off, their tonnage-weighted mean grade and metal.

One pass over the blocks: each block falls in the histogram bin between consecutive cut-offs (binary
search), per-thread bins are summed, and a suffix sum gives the tonnes and grade-tonnes at or above
every cut-off.  A block counts at a cut-off when ``grade >= cutoff``.
"""
from __future__ import annotations

import numba
import numpy as np
import pandas as pd

from solvers.errors import InputError

from orepit.data.model import BlockModel

#: metal per (tonne of ore x grade unit): unit name and factor
METAL_UNITS = {"%": ("t", 0.01), "ppm": ("g", 1.0), "g/t": ("g", 1.0), "unit": ("unit", 1.0)}


@numba.njit(parallel=True, cache=True)
def _binned_sums(grade, tonnage, mask, cutoffs, n_chunks):
    """Per bin (number of cut-offs <= grade): tonnes and tonnes x grade, summed over masked blocks."""
    n = grade.shape[0]
    m = cutoffs.shape[0]
    has_mask = mask.shape[0] > 0
    tons = np.zeros((n_chunks, m + 1))
    gt = np.zeros((n_chunks, m + 1))
    size = (n + n_chunks - 1) // n_chunks
    for c in numba.prange(n_chunks):
        lo = c * size
        hi = min(n, lo + size)
        for b in range(lo, hi):
            if has_mask and not mask[b]:
                continue
            g = grade[b]
            # number of cut-offs <= g (upper bound)
            a = 0
            z = m
            while a < z:
                h = (a + z) >> 1
                if cutoffs[h] <= g:
                    a = h + 1
                else:
                    z = h
            t = tonnage[b]
            tons[c, a] += t
            gt[c, a] += t * g
    return tons.sum(axis=0), gt.sum(axis=0)


def grade_tonnage_arrays(grade, tonnage, cutoffs, mask=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tonnes at or above each cut-off, their mean grade, and tonnes x grade; cut-offs in given order.

    Mean grade is NaN where no tonnes are above the cut-off.
    """
    grade = np.ascontiguousarray(grade, dtype=np.float64)
    tonnage = np.ascontiguousarray(tonnage, dtype=np.float64)
    cut = np.asarray(cutoffs, dtype=np.float64).ravel()
    if grade.shape != tonnage.shape:
        raise InputError(f"grade and tonnage lengths differ ({grade.shape[0]} and {tonnage.shape[0]})")
    if cut.size == 0 or not np.isfinite(cut).all():
        raise InputError("cut-offs must be one or more finite numbers", field="cutoffs")
    if not np.isfinite(grade).all():
        raise InputError(f"grade of block {int(np.flatnonzero(~np.isfinite(grade))[0])} is not finite", field="grade")
    if mask is None:
        mask_arr = np.empty(0, dtype=np.bool_)
    else:
        mask_arr = np.ascontiguousarray(mask, dtype=np.bool_)
        if mask_arr.shape != grade.shape:
            raise InputError(f"mask has {mask_arr.shape[0]} entries for {grade.shape[0]} blocks", field="mask")
    order = np.argsort(cut, kind="stable")
    sorted_cut = np.ascontiguousarray(cut[order])
    n_chunks = max(1, min(256, grade.shape[0] // 65536 + 1)) * numba.get_num_threads()
    tons_bin, gt_bin = _binned_sums(grade, tonnage, mask_arr, sorted_cut, n_chunks)
    # above cut-off j (sorted) = bins j+1 .. m
    tons_above = np.cumsum(tons_bin[::-1])[::-1][1:]
    gt_above = np.cumsum(gt_bin[::-1])[::-1][1:]
    tons = np.empty_like(tons_above)
    gts = np.empty_like(gt_above)
    tons[order] = tons_above
    gts[order] = gt_above
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(tons > 0, gts / np.where(tons > 0, tons, 1.0), np.nan)
    return tons, mean, gts


def grade_tonnage(model: BlockModel, cutoffs, grade: str = "cu", *, mask=None, tonnage: str = "tonnage",
                  grade_unit: str = "%") -> pd.DataFrame:
    """Grade-tonnage table: one row per cut-off (in the order given).

    Columns: ``cutoff`` (grade unit), ``tonnes`` (t at or above the cut-off), ``mean_grade`` (grade unit,
    tonnage-weighted), ``metal_<unit>`` (``%`` gives t of metal, ``g/t`` and ``ppm`` g, ``unit`` the
    grade unit times t).  ``mask``: boolean per block (e.g. the blocks of a pit).
    """
    if grade_unit not in METAL_UNITS:
        raise InputError(f"unknown grade unit {grade_unit!r} (known: {', '.join(METAL_UNITS)})", field="grade_unit")
    for col in (grade, tonnage):
        if col not in model:
            raise InputError(f"block model has no column '{col}' (columns: {', '.join(model.columns)})",
                             path=model.source, field=col)
    tons, mean, gts = grade_tonnage_arrays(model[grade], model[tonnage], cutoffs, mask)
    unit, factor = METAL_UNITS[grade_unit]
    return pd.DataFrame({"cutoff": np.asarray(cutoffs, dtype=np.float64).ravel(), "tonnes": tons,
                         "mean_grade": mean, f"metal_{unit}": gts * factor})


def parse_cutoffs(text: str) -> np.ndarray:
    """Cut-offs from ``START:STOP:STEP`` (STOP included when on the step) or a comma list."""
    text = text.strip()
    try:
        if ":" in text:
            parts = [float(p) for p in text.split(":")]
            if len(parts) != 3:
                raise ValueError
            start, stop, step = parts
            if not (np.isfinite(parts).all() and step > 0 and stop >= start):
                raise InputError(f"cut-offs {text!r}: need START <= STOP and STEP > 0", field="cutoffs")
            count = int(np.floor((stop - start) / step + 1e-9)) + 1
            return start + step * np.arange(count)
        values = np.array([float(p) for p in text.split(",") if p.strip()])
    except ValueError:
        raise InputError(f"cut-offs {text!r}: expected START:STOP:STEP or a comma-separated list", field="cutoffs") \
            from None
    if values.size == 0 or not np.isfinite(values).all():
        raise InputError(f"cut-offs {text!r}: expected finite numbers", field="cutoffs")
    return values
