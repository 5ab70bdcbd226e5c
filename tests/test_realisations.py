"""orepit.valuation.realisations: grade realisations around one estimated deposit.

The statistical checks are seeded (so they pass or fail the same way every run) and each tolerance
is a stated number of standard errors of the estimator it bounds, computed from the stated model
itself: for a quantity averaged over R independent realisations and N spatially correlated blocks
the standard error follows from the covariance C(h) of the Gaussian fields summed over all block
pairs (`_pair_mean`), so the tolerance shrinks as it should with R, N and shorter ranges.
"""
from __future__ import annotations

import math

import gstools as gs
import numpy as np
import pandas as pd
import pytest
from scipy.optimize import curve_fit

from orepit.data.minelib import load_instance
from orepit.data.model import BlockModel
from orepit.valuation.realisations import GradeRealisations, Variogram, correlogram
from orepit.valuation.synthetic import synthetic_deposit
from solvers.errors import InputError

EXAMPLE = __import__("pathlib").Path(__file__).resolve().parent.parent / "examples" / "variogram.toml"


def _grid(nx, ny, nz, size, seed=0):
    """A dense grid model with lognormal cu and au grades, a fifth of them zero, and varying tonnage."""
    k, j, i = np.meshgrid(np.arange(nz), np.arange(ny), np.arange(nx), indexing="ij")
    rng = np.random.default_rng(seed)
    n = nx * ny * nz
    zero = rng.random(n) < 0.2
    frame = pd.DataFrame({"i": i.ravel(), "j": j.ravel(), "k": k.ravel(),
                          "tonnage": rng.uniform(1000.0, 3000.0, n),
                          "cu": np.where(zero, 0.0, rng.lognormal(-1.0, 0.6, n)),
                          "au": np.where(zero, 0.0, rng.lognormal(-1.5, 0.8, n))})
    return BlockModel(frame, block_size=size, grades=["cu", "au"], name="grid")


def _pair_mean(variogram, model, f, weights=None):
    """sum over block pairs (b, b') of w_b w_b' f(C(b - b')), C the stated covariance of the fields Y.

    w sums to 1 (default: equal). The pairs are counted by lag: the autocorrelation of the weights
    on the grid (by FFT, padded so that nothing wraps round) times f at that lag.
    """
    w = np.full(model.n_blocks, 1.0) if weights is None else np.asarray(weights, dtype=np.float64)
    grid = np.zeros(model.dims)
    grid[model.i, model.j, model.k] = w / w.sum()
    padded = [2 * n for n in model.dims]
    pairs = np.fft.irfftn(np.abs(np.fft.rfftn(grid, padded, axes=(0, 1, 2))) ** 2, padded, axes=(0, 1, 2))
    lags = np.meshgrid(*[np.where(np.arange(m) < m // 2, np.arange(m), np.arange(m) - m) * d
                         for m, d in zip(padded, model.block_size)], indexing="ij")
    return float((pairs * f(1.0 - variogram.gamma(*lags))).sum())


# -- mean, CV and correlation of the multipliers ---------------------------------------------------------

R = 200
MODEL = _grid(20, 20, 10, (10.0, 10.0, 10.0))
SHORT = Variogram(model="spherical", range_m=(40.0, 40.0, 25.0), nugget=0.1, cv={"cu": 0.3, "au": 0.5},
                  correlation=0.5, seed=11)


@pytest.fixture(scope="module")
def draws():
    """R realisations of the multipliers of MODEL under SHORT: {element: array (R, N)}."""
    sims = GradeRealisations(MODEL, SHORT)
    out = {e: np.empty((R, MODEL.n_blocks)) for e in SHORT.cv}
    for r in range(R):
        for e, m in sims.multipliers(r).items():
            out[e][r] = m
    return out


@pytest.mark.parametrize("element", ["cu", "au"])
def test_mean_over_realisations_reproduces_the_estimate(draws, element):
    cv = SHORT.cv[element]
    sims = GradeRealisations(MODEL, SHORT)
    estimate = MODEL[element]
    mean_grade = (draws[element] * estimate).mean(axis=0)
    # per block: the mean of R multipliers has standard error CV / sqrt(R); 5 of them (N = 4000 blocks)
    per_block = 5.0 * cv / math.sqrt(R)
    ore = estimate > 0
    assert np.array_equal(mean_grade[~ore], estimate[~ore])          # zero grades stay zero
    assert np.abs(mean_grade[ore] / estimate[ore] - 1.0).max() < per_block
    # total metal: Var(sum_b w_b M_b) = sum_bb' w_b w_b' (exp(sigma^2 C) - 1), w = metal share; 4 standard errors
    metal = MODEL["tonnage"] * estimate
    sigma2 = SHORT.sigma(element) ** 2
    var = _pair_mean(SHORT, MODEL, lambda c: np.expm1(sigma2 * c), weights=metal)
    tolerance = 4.0 * math.sqrt(var / R)
    assert tolerance < per_block / 3                                  # tighter than per block
    ratio = (draws[element] @ metal).mean() / metal.sum()
    assert abs(ratio - 1.0) < tolerance, (ratio, tolerance)
    assert (sims.grades(0)[element] >= 0).all()


@pytest.mark.parametrize("element", ["cu", "au"])
def test_multiplier_has_the_stated_cv_and_lognormal_moments(draws, element):
    cv, sigma = SHORT.cv[element], SHORT.sigma(element)
    s2 = sigma * sigma
    m = draws[element]
    # standard errors over R realisations of the pooled (all blocks) estimators, from the pair sums
    sd_log_var = math.sqrt(_pair_mean(SHORT, MODEL, lambda c: 2.0 * (s2 * c) ** 2) / R)   # of mean((ln M - mu)^2)
    sd_log_mean = math.sqrt(_pair_mean(SHORT, MODEL, lambda c: s2 * c) / R)              # of mean(ln M)
    sd_cv2 = math.sqrt(_pair_mean(SHORT, MODEL, lambda c: math.exp(2 * s2) * np.expm1(4 * s2 * c)
                                  + 4.0 * np.expm1(s2 * c) - 4.0 * math.exp(s2) * np.expm1(2 * s2 * c)) / R)
    log_m = np.log(m)
    assert abs(log_m.mean() + s2 / 2) < 4 * sd_log_mean                     # ln M has mean -sigma^2 / 2
    assert abs(((log_m + s2 / 2) ** 2).mean() - s2) < 4 * sd_log_var       # and variance ln(1 + CV^2)
    sample_cv2 = (m * m).mean() - m.mean() ** 2
    assert abs(sample_cv2 - cv * cv) < 4 * sd_cv2, (math.sqrt(sample_cv2), cv)
    assert 4 * sd_cv2 < 0.1 * cv * cv                                       # the check has teeth


def test_elements_are_correlated_as_stated():
    sims = {rho: GradeRealisations(MODEL, Variogram(**{**_fields(SHORT), "correlation": rho})) for rho in (0.0, 0.5)}
    for rho, s in sims.items():
        products = [np.mean(y["cu"] * y["au"]) for y in (s.gaussian(r) for r in range(60))]
        # Cov(Y1 Y2 at b, Y1 Y2 at b') = (1 + rho^2) C^2 (Isserlis); 4 standard errors of the mean over 60
        sd = math.sqrt((1 + rho * rho) * _pair_mean(SHORT, MODEL, lambda c: c * c) / 60)
        assert abs(np.mean(products) - rho) < 4 * sd, (rho, np.mean(products), sd)


def _fields(v: Variogram) -> dict:
    return {k: getattr(v, k) for k in ("model", "range_m", "nugget", "cv", "correlation", "seed", "realisations")}


# -- the variogram of the fields -------------------------------------------------------------------------

VARIO_GRID = (64, 64, 32)
VARIO_BLOCK = (10.0, 10.0, 5.0)


@pytest.mark.parametrize("variogram", [
    Variogram(model="spherical", range_m=(200.0, 100.0, 40.0), nugget=0.2, cv={"cu": 0.3}, seed=3),
    Variogram(model="exponential", range_m=(120.0, 240.0, 60.0), nugget=0.0, cv={"cu": 0.3}, seed=4),
    Variogram(model="gaussian", range_m=(150.0, 90.0, 30.0), nugget=0.1, cv={"cu": 0.5}, seed=5),
], ids=["spherical", "exponential", "gaussian"])
def test_experimental_variogram_reproduces_the_stated_one(variogram):
    """Experimental variograms (gstools.vario_estimate_axis) of Y = (ln M + sigma^2/2) / sigma along x,
    y and z, averaged over 16 realisations, against the stated model.

    Tolerances: over 4 seeds x 3 models the fitted ranges scattered with a standard deviation of
    about 2.5 % and the sills of 2 % at 8 realisations (less at 16), and single lags by up to 0.06;
    so range within 10 %, sill within 8 % and every lag up to half the grid within 0.1 of the sill.
    Swapping two ranges (factor 2), the e-folding instead of the practical range (factor 3) or a
    missing nugget (0.1-0.2 at the first lag) fail.
    """
    model = _grid(*VARIO_GRID, VARIO_BLOCK)
    sims = GradeRealisations(model, variogram)
    assert sims.embedding_error < 1e-4
    sigma = variogram.sigma("cu")
    gammas = [[], [], []]
    for r in range(16):
        y = (np.log(sims.multipliers(r)["cu"]) + sigma * sigma / 2) / sigma
        field = np.zeros(VARIO_GRID)
        field[model.i, model.j, model.k] = y
        for axis in range(3):
            gammas[axis].append(gs.vario_estimate_axis(field, direction=axis))
    for axis in range(3):
        half = VARIO_GRID[axis] // 2
        lags = np.arange(1, half) * VARIO_BLOCK[axis]
        experimental = np.mean(gammas[axis], axis=0)[1:half]
        stated = variogram.gamma(*[lags if a == axis else 0.0 for a in range(3)])
        assert np.abs(experimental - stated).max() < 0.1, (axis, experimental, stated)

        def model_gamma(h, range_m, sill):
            return sill * (1.0 - (1.0 - variogram.nugget) * correlogram(variogram.model, h / range_m))

        (range_m, sill), _ = curve_fit(model_gamma, lags, experimental, p0=(variogram.range_m[axis], 1.0))
        assert abs(range_m / variogram.range_m[axis] - 1.0) < 0.10, (axis, range_m)
        assert abs(sill - 1.0) < 0.08, (axis, sill)


# -- reproducibility, sparse models, real models ----------------------------------------------------------

def test_seeded_and_independent_of_how_many_are_drawn():
    model = synthetic_deposit(4000, seed=1)
    v = Variogram.from_toml(EXAMPLE)
    five = list(GradeRealisations(model, v).models(5))
    ten = list(GradeRealisations(model, v).models(10))
    for r in range(5):
        for e in ("cu", "au"):
            assert np.array_equal(five[r][e], ten[r][e])
    assert not np.array_equal(five[0]["cu"], five[1]["cu"])
    other = GradeRealisations(model, v, seed=v.seed + 1).grades(0)
    assert not np.array_equal(other["cu"], five[0]["cu"])
    again = GradeRealisations(model, v, seed=v.seed).grades(3)
    assert np.array_equal(again["au"], ten[3]["au"])


def test_synthetic_deposit_zero_grades_stay_zero_other_columns_untouched():
    model = synthetic_deposit(4000, seed=2)
    sims = GradeRealisations(model, Variogram.from_toml(EXAMPLE))
    real = sims.model(7)
    for e in ("cu", "au"):
        zero = model[e] == 0
        assert zero.any() and (~zero).any()
        assert (real[e][zero] == 0).all() and (real[e] >= 0).all()
        assert not np.allclose(real[e][~zero], model[e][~zero])
    for column in ("tonnage", "bwi", "x", "z"):
        assert np.array_equal(real[column], model[column])


def test_sparse_model_gets_the_fields_of_its_blocks():
    model = synthetic_deposit(4000, seed=3)
    keep = np.random.default_rng(0).random(model.n_blocks) < 0.4
    keep[-1] = True                                       # the last block keeps the grid extent
    sparse = model.subset(keep)
    assert sparse.dims == model.dims
    v = Variogram(model="exponential", range_m=300.0, nugget=0.1, cv={"cu": 0.3, "au": 0.4}, correlation=0.3)
    full, part = GradeRealisations(model, v).gaussian(2), GradeRealisations(sparse, v).gaussian(2)
    for e in ("cu", "au"):
        assert np.allclose(full[e][keep], part[e], rtol=0, atol=1e-12)


def test_minelib_models(instance):
    kd = load_instance(instance("kd").parent).blocks()
    sims = GradeRealisations(kd, Variogram(cv={"cu": 0.3}))
    cu = sims.grades(0)["cu"]
    assert cu.shape == (kd.n_blocks,) and (cu >= 0).all()
    assert np.array_equal(cu == 0, kd["cu"] == 0)
    newman = load_instance(instance("newman1").parent).blocks()
    with pytest.raises(InputError) as err:
        GradeRealisations(newman, Variogram(cv={"grade": 0.3}))
    assert err.value.field == "block_size" and "block_size" in str(err.value)
    grade = GradeRealisations(newman, Variogram(cv={"grade": 0.3}), block_size=(20, 20, 15)).grades(1)["grade"]
    assert (grade >= 0).all() and not np.allclose(grade, newman["grade"])


# -- bad input ---------------------------------------------------------------------------------------------

GOOD = """realisations = 10
seed = 1

[variogram]
model = "spherical"
range_m = [100.0, 80.0, 40.0]
nugget = 0.1

[cv]
cu = 0.3
au = 0.5
"""


@pytest.mark.parametrize("old, new, field, line", [
    ("range_m = [100.0, 80.0, 40.0]", "range_m = [100.0, 0.0, 40.0]", "variogram.range_m", 6),
    ("range_m = [100.0, 80.0, 40.0]", "range_m = -5", "variogram.range_m", 6),
    ("range_m = [100.0, 80.0, 40.0]", "range_m = [100.0, 80.0]", "variogram.range_m", 6),
    ("au = 0.5", "au = -0.1", "cv.au", 11),
    ("nugget = 0.1", "nugget = 1.0", "variogram.nugget", 7),
    ("nugget = 0.1", "nugget = -0.2", "variogram.nugget", 7),
    ('model = "spherical"', 'model = "cubic"', "variogram.model", 5),
    ("realisations = 10", "realisations = 0", "realisations", 1),
    ("seed = 1", "seed = 1.5", "seed", 2),
    ("nugget = 0.1", "nugget = 0.1\ncorrelation = 1.5", "variogram.correlation", 8),
    ("nugget = 0.1", "nugget = 0.1\nsill = 2.0", "variogram.sill", 8),
    ("au = 0.5", 'au = "high"', "cv.au", 11),
])
def test_bad_variogram_files_name_file_line_and_field(tmp_path, old, new, field, line):
    path = tmp_path / "variogram.toml"
    assert old in GOOD
    path.write_text(GOOD.replace(old, new))
    with pytest.raises(InputError) as err:
        Variogram.from_toml(path)
    assert (err.value.path, err.value.line, err.value.field) == (str(path), line, field)
    assert str(err.value).startswith(f"variogram.toml line {line}: {field}") or f"'{field}'" in str(err.value)


def test_unknown_element_and_zero_realisations(tmp_path):
    path = tmp_path / "variogram.toml"
    path.write_text(GOOD.replace("au = 0.5", "au = 0.5\nzn = 0.4"))
    v = Variogram.from_toml(path)
    with pytest.raises(InputError) as err:
        GradeRealisations(synthetic_deposit(4000, seed=1), v)
    assert (err.value.path, err.value.line, err.value.field) == (str(path), 12, "cv.zn")
    assert "unknown element" in str(err.value)
    sims = GradeRealisations(synthetic_deposit(4000, seed=1), Variogram.from_toml(EXAMPLE))
    with pytest.raises(InputError, match="realisations"):
        next(sims.models(0))


def test_example_file_reads_and_empty_or_broken_files_fail(tmp_path):
    v = Variogram.from_toml(EXAMPLE)
    assert v.model == "spherical" and v.cv == {"cu": 0.3, "au": 0.5} and v.realisations >= 1
    assert 100 <= v.range_m[0] <= 200 and 50 <= v.range_m[2] <= 100
    empty = tmp_path / "empty.toml"
    empty.write_text("[variogram]\n")
    with pytest.raises(InputError, match="cv"):
        Variogram.from_toml(empty)
    broken = tmp_path / "broken.toml"
    broken.write_text("[variogram\nmodel = 1\n")
    with pytest.raises(InputError) as err:
        Variogram.from_toml(broken)
    assert err.value.line == 1
