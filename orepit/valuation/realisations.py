"""Equally likely grade models around one estimated deposit (grade uncertainty).

Realisation ``r`` multiplies the estimated grade of every block by a spatially correlated,
lognormal multiplier::

    g_r(b) = g_est(b) * exp(sigma * Y_r(b) - sigma**2 / 2),    sigma**2 = ln(1 + CV**2)

with ``Y_r`` a standard Gaussian random field (mean 0, sill 1) that has the stated variogram.
Why this transform: ``exp(sigma Y - sigma^2 / 2)`` is lognormal with mean exactly 1 and coefficient
of variation exactly CV, so each block's grade is unbiased around its estimate (the mean over
realisations tends to the estimate, block by block, and so does the metal), a zero grade stays zero,
no grade turns negative, and the spread is proportional to the grade, as for the lognormal-like
grades of most metal deposits (the proportional effect: Journel and Huijbregts 1978, Mining
Geostatistics, ch. III). Grades are not capped (a % grade could in principle pass 100).

Variogram of ``Y`` (unit sill; normalised lag ``t = |(hx / ax, hy / ay, hz / az)|`` with lags ``h``
and ranges ``a`` in metres along the model's x, y and z axes; ``gamma(0) = 0``)::

    gamma(t) = nugget + (1 - nugget) * s(t)          for t > 0
    spherical    s = 1.5 t - 0.5 t^3 (t < 1), 1 beyond
    exponential  s = 1 - exp(-3 t)      the range is the practical range (95 % of the sill)
    gaussian     s = 1 - exp(-3 t^2)    likewise

(the GSLIB convention: Deutsch and Journel 1998, GSLIB, 2nd ed., section II.3). The anisotropy axes
are the model's axes; there is no rotation.

Elements: each grade column has its own field ``Y_e``. With ``correlation = rho > 0`` the fields
share one common field ``Y_0``: ``Y_e = sqrt(rho) Y_0 + sqrt(1 - rho) Y'_e``, so any two elements'
fields are correlated by ``rho`` (at lag 0 and in the same proportion at every lag) and each
``Y_e`` keeps the stated variogram.

Simulation: circulant embedding on the block grid (Wood and Chan 1994, J. Comput. Graph. Stat.
3(4); Dietrich and Newsam 1997, SIAM J. Sci. Comput. 18(4)). The covariance is laid on a periodic
grid at least as large as the model's bounding grid plus the lag where the correlation falls below
1e-4 (or twice the grid, which is exact); its FFT gives the eigenvalues, and one complex FFT of
scaled white noise gives two independent fields (real and imaginary parts). Negative eigenvalues,
if any, are set to zero; their share is reported as ``embedding_error``. Sparse models are
simulated on their bounding grid and read at their blocks, so a block's field does not depend on
which other blocks the model holds, only on the grid extent. Realisation ``r`` draws from numpy's
generator seeded with ``(seed, r)``: the same whether 5 or 500 realisations are drawn.
"""
from __future__ import annotations

import math
import os
import re
import warnings
from dataclasses import dataclass, field
from typing import Iterator, Mapping

import numpy as np
import scipy.fft

from solvers.errors import InputError

from orepit.data.model import BlockModel
from orepit.data.toml import read_toml

MODELS = ("spherical", "exponential", "gaussian")
#: correlation below which the periodic embedding may wrap a lag round (its error bound)
WRAP_CORRELATION = 1e-4
#: largest periodic grid simulated (cells; a complex array of this size is 2.4 GB)
MAX_EMBEDDING_CELLS = 150_000_000
#: share of the variance in negative eigenvalues above which the periodic grid is enlarged
EIGEN_TOLERANCE = 1e-4
#: periodic grid size up to which it may always be enlarged for that (cells)
GROWTH_CELLS = 8_000_000
_KEYS = {"": ("realisations", "seed", "variogram", "cv"),
         "variogram": ("model", "range_m", "nugget", "correlation")}


def correlogram(model: str, t) -> np.ndarray:
    """Correlation of the structured part, ``1 - s(t)``, at normalised lags ``t >= 0``."""
    t = np.asarray(t, dtype=np.float64)
    if model == "spherical":
        return np.where(t < 1.0, 1.0 - t * (1.5 - 0.5 * t * t), 0.0)
    if model == "exponential":
        return np.exp(-3.0 * t)
    return np.exp(-3.0 * t * t)


def _wrap_lag(model: str) -> float:
    """Normalised lag beyond which the structured correlation is below WRAP_CORRELATION."""
    if model == "spherical":
        return 1.0
    lag = -math.log(WRAP_CORRELATION) / 3.0
    return lag if model == "exponential" else math.sqrt(lag)


@dataclass
class Variogram:
    """Grade uncertainty parameters: the variogram of the Gaussian fields and the CV per element.

    model: spherical, exponential or gaussian. range_m: (ax, ay, az) in m along x, y, z (a scalar
    gives an isotropic range; practical range for exponential and gaussian). nugget: share of the
    unit sill, in [0, 1). cv: grade column -> coefficient of variation of its multiplier (>= 0).
    correlation: between the fields of any two elements, in [0, 1]. seed: integer >= 0.
    realisations: how many to draw by default (>= 1). source and lines (key -> line in the
    file) only serve error messages.
    """
    model: str = "spherical"
    range_m: tuple = (150.0, 150.0, 75.0)
    nugget: float = 0.2
    cv: Mapping[str, float] = field(default_factory=lambda: {"cu": 0.3})
    correlation: float = 0.0
    seed: int = 0
    realisations: int = 20
    source: str | None = field(default=None, compare=False, repr=False)
    lines: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        if not isinstance(self.model, str) or self.model.lower() not in MODELS:
            self._fail("variogram.model", f"unknown model {self.model!r} (known: {', '.join(MODELS)})")
        self.model = self.model.lower()
        ranges = self.range_m if isinstance(self.range_m, (list, tuple)) else [self.range_m] * 3
        if len(ranges) != 3:
            self._fail("variogram.range_m", f"expected one range or three [ax, ay, az] (m), got {self.range_m!r}")
        for value in ranges:
            self._number("variogram.range_m", value, "a range (m)")
            if value <= 0:
                self._fail("variogram.range_m", f"ranges must be positive (m), got {self.range_m!r}")
        self.range_m = tuple(float(v) for v in ranges)
        self._number("variogram.nugget", self.nugget, "the nugget share")
        if not 0.0 <= self.nugget < 1.0:
            self._fail("variogram.nugget", f"the nugget share must be in [0, 1), got {self.nugget!r}")
        self._number("variogram.correlation", self.correlation, "a correlation")
        if not 0.0 <= self.correlation <= 1.0:
            self._fail("variogram.correlation", f"must be in [0, 1], got {self.correlation!r}")
        if not isinstance(self.cv, Mapping) or not self.cv:
            self._fail("cv", "give a [cv] table with the coefficient of variation of at least one grade column")
        for element, value in self.cv.items():
            self._number(f"cv.{element}", value, "a coefficient of variation")
            if value < 0:
                self._fail(f"cv.{element}", f"the coefficient of variation must be >= 0, got {value!r}")
        self.cv = {str(k): float(v) for k, v in self.cv.items()}
        for key, low in (("seed", 0), ("realisations", 1)):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                self._fail(key, f"expected an integer >= {low}, got {value!r}")

    def _fail(self, key: str, message: str):
        raise InputError(f"{key}: {message}", path=self.source, line=self.lines.get(key), field=key)

    def _number(self, key: str, value, what: str):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            self._fail(key, f"expected {what} as a finite number, got {value!r}")

    def sigma(self, element: str) -> float:
        """Standard deviation of the log multiplier: sqrt(ln(1 + CV^2))."""
        return math.sqrt(math.log1p(self.cv[element] ** 2))

    def gamma(self, hx, hy=0.0, hz=0.0) -> np.ndarray:
        """The stated variogram of the Gaussian fields at lags (hx, hy, hz) in m (unit sill)."""
        t = np.sqrt(sum((np.asarray(h, dtype=np.float64) / a) ** 2 for h, a in zip((hx, hy, hz), self.range_m)))
        return np.where(t == 0, 0.0, 1.0 - (1.0 - self.nugget) * correlogram(self.model, t))

    def elements_of(self, model: BlockModel) -> tuple[str, ...]:
        """The elements of ``cv``, each checked to be a column of ``model``."""
        for element in self.cv:
            if element not in model:
                self._fail(f"cv.{element}", f"unknown element: {_label(model)} has no column "
                                            f"'{element}' (grades: {', '.join(model.grades) or 'none listed'})")
        return tuple(self.cv)

    @classmethod
    def from_toml(cls, path) -> "Variogram":
        """Read ``realisations``, ``seed``, ``[variogram]`` and ``[cv]`` from a TOML file."""
        path = os.fspath(path)
        data, text = read_toml(path, "variogram")
        lines = _key_lines(text)
        for table, known in _KEYS.items():
            values = data if not table else data.get(table, {})
            if not isinstance(values, dict):
                raise InputError(f"{table}: expected a table [{table}]", path=path, line=lines.get(table), field=table)
            for key in values:
                if key not in known:
                    name = f"{table}.{key}" if table else key
                    raise InputError(f"unknown key '{name}' (known: {', '.join(known)})", path=path,
                                     line=lines.get(name), field=name)
        if not isinstance(data.get("cv", {}), dict):
            raise InputError("cv: expected a table [cv]", path=path, line=lines.get("cv"), field="cv")
        defaults = cls()
        return cls(**{**data.get("variogram", {}), "cv": data.get("cv", {}),
                      "seed": data.get("seed", defaults.seed),
                      "realisations": data.get("realisations", defaults.realisations)},
                   source=path, lines=lines)


def _label(model: BlockModel) -> str:
    return f"block model {model.name}" if model.name else "the block model"


def _key_lines(text: str) -> dict[str, int]:
    """{dotted key: 1-based line} of each ``key = ...`` and ``[table]`` line of a simple TOML text."""
    lines, table = {}, ""
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        header = re.match(r"\[\s*([^\]]+?)\s*\]", line)
        key = re.match(r'"?([\w-]+)"?\s*=', line)
        if header:
            table = header.group(1).replace('"', "").replace(" ", "")
            lines.setdefault(table, number)
        elif key:
            lines.setdefault(f"{table}.{key.group(1)}" if table else key.group(1), number)
    return lines


class GradeRealisations:
    """Realisations of the grade columns of one block model (the FFT set-up is done once, here).

    block_size (dx, dy, dz) in m is needed when the model does not know its own; seed overrides
    ``variogram.seed``. Grade columns not in ``variogram.cv`` are left as estimated.

    >>> from orepit.valuation.synthetic import synthetic_deposit
    >>> sims = GradeRealisations(synthetic_deposit(4000, seed=1), Variogram(cv={"cu": 0.3}), seed=5)
    >>> cu = sims.grades(0)["cu"]                      # realisation 0, one value per block
    >>> bool((cu[sims.estimate["cu"] == 0] == 0).all()), round(float(cu.sum() / sims.estimate["cu"].sum()), 2)
    (True, 1.01)
    """

    def __init__(self, model: BlockModel, variogram: Variogram, *, seed: int | None = None, block_size=None):
        self.base = model
        self.variogram = variogram
        self.elements = variogram.elements_of(model)
        self.seed = variogram.seed if seed is None else seed
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise InputError(f"seed must be an integer >= 0, got {self.seed!r}", field="seed")
        size = model.block_size if block_size is None else block_size
        if size is None:
            raise InputError(f"{_label(model)} has no block size, and the variogram ranges are in "
                             "metres: give block_size (dx, dy, dz) in m", path=model.source, field="block_size")
        try:
            self.block_size = tuple(float(v) for v in size)
        except (TypeError, ValueError):
            self.block_size = ()
        if len(self.block_size) != 3 or not all(math.isfinite(v) and v > 0 for v in self.block_size):
            raise InputError(f"block size {size!r} must be three positive lengths (m)", field="block_size")
        self.estimate = {e: self._grades(model, e) for e in self.elements}
        self._ijk = (model.i, model.j, model.k)
        self.shape, self._scale, self.embedding_error = _embedding(variogram, model.dims, self.block_size)
        if self.embedding_error > 1e-3:
            warnings.warn(f"ranges {variogram.range_m} m are long for grid {model.dims}: the simulated covariance "
                          f"departs from the stated one ({self.embedding_error:.1%} of the variance clipped)",
                          stacklevel=2)

    @staticmethod
    def _grades(model: BlockModel, element: str) -> np.ndarray:
        values = np.asarray(model[element], dtype=np.float64)
        bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            b = int(np.flatnonzero(bad)[0])
            raise InputError(f"block {b}: grade {element} = {values[b]} is not a finite non-negative number",
                             path=model.source, field=element)
        return values

    def _fields(self, r: int, count: int) -> list[np.ndarray]:
        """``count`` independent standard Gaussian fields at the blocks, from the stream (seed, r)."""
        if isinstance(r, bool) or not isinstance(r, (int, np.integer)) or r < 0:
            raise InputError(f"realisation number must be an integer >= 0, got {r!r}", field="realisation")
        rng = np.random.default_rng([self.seed, int(r)])
        fields = []
        noise = np.empty(self.shape, dtype=np.complex128)
        while len(fields) < count:
            noise.real = rng.standard_normal(self.shape)
            noise.imag = rng.standard_normal(self.shape)
            noise *= self._scale
            spectrum = scipy.fft.fftn(noise, workers=-1)
            fields += [spectrum.real[self._ijk], spectrum.imag[self._ijk]]
        return fields[:count]

    def gaussian(self, r: int) -> dict[str, np.ndarray]:
        """The standard Gaussian field Y of each element at the blocks, realisation r."""
        rho = self.variogram.correlation
        fields = self._fields(r, len(self.elements) + (rho > 0))
        if rho > 0:
            common = fields.pop(0)
            fields = [math.sqrt(rho) * common + math.sqrt(1.0 - rho) * f for f in fields]
        return dict(zip(self.elements, fields))

    def multipliers(self, r: int) -> dict[str, np.ndarray]:
        """exp(sigma Y - sigma^2 / 2) per element at the blocks, realisation r (mean 1, CV as stated)."""
        out = {}
        for element, y in self.gaussian(r).items():
            sigma = self.variogram.sigma(element)
            out[element] = np.exp(sigma * y - 0.5 * sigma * sigma)
        return out

    def grades(self, r: int) -> dict[str, np.ndarray]:
        """The grades of realisation r, per element (same units as the estimate)."""
        return {e: self.estimate[e] * m for e, m in self.multipliers(r).items()}

    def model(self, r: int) -> BlockModel:
        """The block model with the grades of realisation r (every other column as estimated)."""
        return self.base.assign(**self.grades(r))

    def models(self, n: int | None = None) -> Iterator[BlockModel]:
        """Realisations 0 .. n-1 (default ``variogram.realisations``), one at a time."""
        n = self.variogram.realisations if n is None else n
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InputError(f"the number of realisations must be an integer >= 1, got {n!r}", field="realisations")
        return (self.model(r) for r in range(n))


def _embedding(variogram: Variogram, dims, block_size) -> tuple[tuple[int, ...], np.ndarray, float]:
    """(periodic grid shape, noise scale per frequency, share of the variance clipped).

    The scale is sqrt(eigenvalue / sum of eigenvalues) with negative eigenvalues set to zero, so
    that the field keeps variance 1 (and the multipliers their CV) even when some are clipped.

    Starts from the smallest periodic grid that holds every lag of the model grid exactly (or up to
    the wrap correlation) and doubles it, up to twice the wrap lag, while negative eigenvalues hold
    more than EIGEN_TOLERANCE of the variance (ranges long against the grid) and the grid stays
    below GROWTH_CELLS, or 16 times the first grid, whichever is more.
    """
    reach = [math.ceil(_wrap_lag(variogram.model) * a / d) for d, a in zip(block_size, variogram.range_m)]
    enough = [max(n + c, 2 * c) for n, c in zip(dims, reach)]  # no wrapped lag above the wrap correlation
    shape = [max(min(2 * (n - 1), full), n, 1) for n, full in zip(dims, enough)]
    limit = min(MAX_EMBEDDING_CELLS, max(GROWTH_CELLS, 16 * math.prod(shape)))
    while True:
        shape = [scipy.fft.next_fast_len(m) for m in shape]
        total = math.prod(shape)
        if total > MAX_EMBEDDING_CELLS:
            raise InputError(f"simulating grid {tuple(dims)} with ranges {variogram.range_m} m needs a periodic "
                             f"grid of {total:,} cells (limit {MAX_EMBEDDING_CELLS:,}): use larger blocks or a "
                             "sub-model", field="variogram.range_m")
        eigen = _eigenvalues(variogram, shape, block_size)
        clipped = float(np.maximum(-eigen, 0.0).sum()) / total   # eigenvalues sum to cells * C(0) = cells
        grown = [min(2 * m, full) if m < full else m for m, full in zip(shape, enough)]
        if clipped <= EIGEN_TOLERANCE or grown == shape or math.prod(grown) > limit:
            kept = np.maximum(eigen, 0.0)
            return tuple(shape), np.sqrt(kept / kept.sum()), clipped    # variance 1 at every block
        shape = grown


def _eigenvalues(variogram: Variogram, shape, block_size) -> np.ndarray:
    """Eigenvalues of the covariance laid on the periodic grid ``shape`` (lags wrapped round)."""
    t2 = np.zeros(shape)
    for axis, (m, d, a) in enumerate(zip(shape, block_size, variogram.range_m)):
        lag = np.minimum(np.arange(m), m - np.arange(m)) * (d / a)
        t2 += (lag * lag).reshape([m if ax == axis else 1 for ax in range(3)])
    covariance = (1.0 - variogram.nugget) * correlogram(variogram.model, np.sqrt(t2, out=t2))
    covariance.flat[0] = 1.0                                # the nugget sits at lag 0
    return scipy.fft.fftn(covariance, workers=-1).real
