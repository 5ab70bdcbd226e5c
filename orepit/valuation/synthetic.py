"""A deterministic synthetic porphyry copper-gold deposit for demos, tests and scaling studies.

The deposit fills a fixed box (default 2000 x 2000 x 1000 m); ``n_blocks`` sets the resolution, so
models of any size (10^3 to 10^7 blocks) show the same deposit.  Features:

- rolling topography; blocks above it are **air**: kept on the grid with zero tonnage, density 0,
  zero grades and rock type ``air`` (so the grid stays dense and every pit solver sees them as free);
  ``air="remove"`` drops them instead (a sparse model, like MineLib's);
- a vertical, slightly plunging porphyry stock with a **high-grade core** (Cu ~1 %, Au ~0.5 g/t) and a
  **broad low-grade halo** (Cu ~0.2 %): the marginal ore high-grading leaves behind;
- a **leached cap** below the surface (Cu depleted) over a **supergene blanket** (Cu enriched ~1.8x);
- a **hard hypogene zone** at depth (Bond work index ~19 kWh/t against ~14);
- a **pyrite shell** around the stock: sulphide waste with several % S, potentially acid-forming.

Columns: i, j, k, x, y, z (m), tonnage (t), density (t/m3), cu (%), au (g/t), rock (categorical:
air, leached, supergene, hypogene, hypogene_hard, host), bwi (kWh/t), sulphur (%).

Every random number comes from the seed through a counter-based hash of the block index, so the
result does not depend on the number of threads.
"""
from __future__ import annotations

import math

import numba
import numpy as np
import pandas as pd

from solvers.errors import InputError

from orepit.valuation.economics import Economics, Element
from orepit.data.model import BlockModel

ROCKS = ("air", "leached", "supergene", "hypogene", "hypogene_hard", "host")
AIR, LEACHED, SUPERGENE, HYPOGENE, HARD, HOST = range(6)
#: rock code -> (density t/m3, Bond work index kWh/t)
_ROCK_DENSITY = np.array([0.0, 2.35, 2.50, 2.62, 2.72, 2.65])
_ROCK_BWI = np.array([0.0, 10.0, 12.0, 14.0, 19.0, 13.0])
EXTENT_M = (2000.0, 2000.0, 1000.0)
#: The built-in deposit (``orepit demo``; ``orepit compare`` without a model; ``orepit synth``): about
#: this many blocks (62,500 cubes of 40 m on a 50 x 50 x 25 grid) from this seed.
BUILTIN_BLOCKS = 60_000
BUILTIN_SEED = 7
N_MODES = 12


def grid_for(n_blocks: float) -> tuple[int, int, int]:
    """Grid dimensions (nx, ny, nz) with nx = ny = 2 nz whose product is closest to ``n_blocks``."""
    n = float(n_blocks)
    if not math.isfinite(n) or n < 8:
        raise InputError(f"n_blocks must be a number >= 8, got {n_blocks!r}", field="n_blocks")
    nz = max(1, int(round((n / 4.0) ** (1.0 / 3.0))))
    best = min((abs(4 * c ** 3 - n), c) for c in (nz - 1, nz, nz + 1) if c >= 1)[1]
    return (2 * best, 2 * best, best)


@numba.njit(cache=True, inline="always")
def _hash_uniform(seed, index, stream):
    """A uniform number in (0, 1) from (seed, index, stream): splitmix64."""
    z = (np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(index) * np.uint64(0xBF58476D1CE4E5B9)
         + np.uint64(stream) * np.uint64(0x94D049BB133111EB) + np.uint64(0x632BE59BD9B4E019))
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return (np.float64(z >> np.uint64(11)) + 0.5) / 9007199254740992.0


@numba.njit(cache=True, inline="always")
def _hash_normals(seed, index):
    """Two independent standard normal numbers from (seed, index) (Box-Muller)."""
    u1 = _hash_uniform(seed, index, 0)
    u2 = _hash_uniform(seed, index, 1)
    rad = math.sqrt(-2.0 * math.log(u1))
    ang = 2.0 * math.pi * u2
    return rad * math.cos(ang), rad * math.sin(ang)


@numba.njit(parallel=True, cache=True)
def _deposit_kernel(nx, ny, nz, dx, dy, dz, surface, seed, axis, col_cs, lev_cs,
                    tonnage, density, cu, au, rock, bwi, sulphur):
    """Fill the attribute arrays of every cell of a dense x-fastest grid (b = i + nx (j + ny k))."""
    n = nx * ny * nz
    ax_x, ax_y, plunge_x, plunge_y, stretch, cos_a, sin_a, top_z, hard_z = (
        axis[0], axis[1], axis[2], axis[3], axis[4], axis[5], axis[6], axis[7], axis[8])
    m = col_cs.shape[2]
    norm = math.sqrt(2.0 / m)
    for b in numba.prange(n):
        i = b % nx
        j = (b // nx) % ny
        k = b // (nx * ny)
        x = (i + 0.5) * dx
        y = (j + 0.5) * dy
        z = (k + 0.5) * dz
        surf = surface[j * nx + i]
        if z > surf:
            rock[b] = AIR
            tonnage[b] = 0.0
            density[b] = 0.0
            cu[b] = 0.0
            au[b] = 0.0
            bwi[b] = 0.0
            sulphur[b] = 0.0
            continue
        depth = surf - z
        # correlated field (random Fourier modes, unit variance) in two independent draws:
        # cos(a + c) = cos a cos c - sin a sin c, a from the column (i, j), c from the level k and phase
        col = j * nx + i
        f1 = 0.0
        f2 = 0.0
        for q in range(m):
            ca = col_cs[0, col, q]
            sa = col_cs[1, col, q]
            f1 += ca * lev_cs[0, k, q] - sa * lev_cs[1, k, q]
            f2 += ca * lev_cs[2, k, q] - sa * lev_cs[3, k, q]
        f1 *= norm
        f2 *= norm
        # distance from the plunging stock axis, elliptical in plan
        hx = x - (ax_x + plunge_x * (top_z - z))
        hy = y - (ax_y + plunge_y * (top_z - z))
        u = (hx * cos_a + hy * sin_a) / stretch
        v = (-hx * sin_a + hy * cos_a) * stretch
        r = math.sqrt(u * u + v * v) * (1.0 + 0.12 * f2)
        # vertical envelope of mineralisation below the top of the system
        below = top_z - z
        env = 1.0
        if below < 0.0:
            env = math.exp(-(below / 120.0) ** 2)
        elif below > 650.0:
            env = math.exp(-((below - 650.0) / 250.0) ** 2)
        core = math.exp(-(r / 190.0) ** 2)
        halo = math.exp(-(r / 520.0) ** 2)
        nug1, nug2 = _hash_normals(seed, b)
        lognorm = math.exp(0.30 * f1 + 0.20 * nug1 - 0.5 * (0.30 * 0.30 + 0.20 * 0.20))
        c = (1.00 * core + 0.21 * halo * (1.0 - core)) * env * lognorm + 0.015 * math.exp(0.4 * nug2)
        g = (0.55 * core * (1.0 + 0.6 * min(max(below, 0.0), 600.0) / 600.0) + 0.03 * halo) * env \
            * math.exp(0.35 * f1 + 0.25 * nug2 - 0.5 * (0.35 * 0.35 + 0.25 * 0.25)) + 0.01
        # pyrite shell at the edge of the halo; chalcopyrite-pyrite inside
        shell = math.exp(-((r - 560.0) / 170.0) ** 2)
        s = 0.15 + 1.2 * core + 3.5 * shell * env + 0.4 * halo
        s *= math.exp(0.25 * f2 + 0.15 * nug1 - 0.5 * (0.25 * 0.25 + 0.15 * 0.15))
        cap = 35.0 + 15.0 * f2
        blanket = 55.0 + 15.0 * f1
        inside = r < 700.0 and below > -150.0
        if depth < cap:
            code = LEACHED
            c *= 0.12
            g *= 0.8
            s *= 0.05
        elif depth < cap + blanket and c > 0.08:
            code = SUPERGENE
            c *= 1.8
            s *= 0.6
        elif inside:
            code = HARD if z < hard_z + 40.0 * f2 else HYPOGENE
        else:
            code = HOST
        rock[b] = code
        d = _ROCK_DENSITY[code] * (1.0 + 0.02 * nug2)
        density[b] = d
        tonnage[b] = d * dx * dy * dz
        cu[b] = c
        au[b] = g
        bwi[b] = _ROCK_BWI[code] * (1.0 + 0.06 * f2 + 0.03 * nug1)
        sulphur[b] = s


def synthetic_deposit(n_blocks: float | None = None, *, dims: tuple[int, int, int] | None = None,
                      seed: int = 0, extent_m: tuple[float, float, float] = EXTENT_M,
                      air: str = "zero", name: str | None = None) -> BlockModel:
    """A seeded porphyry Cu-Au block model.

    Give ``n_blocks`` (the grid is chosen with nx = ny = 2 nz, total close to n_blocks) or ``dims``
    (nx, ny, nz).  Blocks are extent/dims metres; origin (0, 0, 0).  ``air``: ``"zero"`` keeps air
    blocks with zero tonnage (dense grid), ``"remove"`` drops them.
    """
    if (n_blocks is None) == (dims is None):
        raise InputError("give exactly one of n_blocks or dims", field="n_blocks")
    if dims is None:
        dims = grid_for(n_blocks)
    if len(dims) != 3 or any(int(d) != d or d < 1 for d in dims):
        raise InputError(f"dims must be three positive integers, got {dims!r}", field="dims")
    if air not in ("zero", "remove"):
        raise InputError(f"air must be 'zero' or 'remove', got {air!r}", field="air")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2 ** 63:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}", field="seed")
    nx, ny, nz = (int(d) for d in dims)
    lx, ly, lz = (float(v) for v in extent_m)
    dx, dy, dz = lx / nx, ly / ny, lz / nz
    rng = np.random.default_rng(seed)
    # topography: mean 60 m below the box top, relief ~ +-50 m, computed per column
    xs = (np.arange(nx) + 0.5) * dx
    ys = (np.arange(ny) + 0.5) * dy
    gx, gy = np.meshgrid(xs, ys)  # (ny, nx): row j, column i
    surface = np.full(gx.shape, lz - 60.0)
    for _ in range(4):
        wave = rng.uniform(600.0, 2500.0)
        ang = rng.uniform(0, 2 * np.pi)
        surface += rng.uniform(8.0, 18.0) * np.cos(2 * np.pi * (gx * np.cos(ang) + gy * np.sin(ang)) / wave
                                                   + rng.uniform(0, 2 * np.pi))
    surface -= 30.0 * np.exp(-(((gx - lx * rng.uniform(0.2, 0.8)) / (0.3 * lx)) ** 2))  # a valley
    surface = np.ascontiguousarray(surface.ravel())
    az = rng.uniform(0, np.pi)
    axis = np.array([lx * 0.5 + rng.uniform(-0.05, 0.05) * lx, ly * 0.5 + rng.uniform(-0.05, 0.05) * ly,
                     rng.uniform(-0.15, 0.15), rng.uniform(-0.15, 0.15), rng.uniform(1.1, 1.4),
                     np.cos(az), np.sin(az), lz - 110.0, lz - 560.0])
    length = 90.0  # correlation length of the grade field (m)
    modes = rng.normal(0.0, 1.0 / length, size=(N_MODES, 3))
    modes[:, 2] *= 1.5  # shorter vertically
    phases = rng.uniform(0, 2 * np.pi, size=(N_MODES, 2))
    hash_seed = int(rng.integers(0, 2 ** 62))
    n = nx * ny * nz
    tonnage, density, cu, au, bwi, sulphur = (np.empty(n) for _ in range(6))
    rock = np.empty(n, dtype=np.int8)
    # Fourier modes split into a column part (x, y) and a level part (z + phase)
    a = gx.ravel()[:, None] * modes[None, :, 0] + gy.ravel()[:, None] * modes[None, :, 1]
    col_cs = np.ascontiguousarray(np.stack([np.cos(a), np.sin(a)]))
    zs = (np.arange(nz) + 0.5) * dz
    c1 = zs[:, None] * modes[None, :, 2] + phases[None, :, 0]
    c2 = zs[:, None] * modes[None, :, 2] + phases[None, :, 1]
    lev_cs = np.ascontiguousarray(np.stack([np.cos(c1), np.sin(c1), np.cos(c2), np.sin(c2)]))
    _deposit_kernel(nx, ny, nz, dx, dy, dz, surface, hash_seed, axis, col_cs, lev_cs,
                    tonnage, density, cu, au, rock, bwi, sulphur)
    b = np.arange(n, dtype=np.int64)
    frame = pd.DataFrame({
        "i": b % nx, "j": (b // nx) % ny, "k": b // (nx * ny),
        "tonnage": tonnage, "density": density, "cu": cu, "au": au,
        "rock": pd.Categorical.from_codes(rock, categories=list(ROCKS)),
        "bwi": bwi, "sulphur": sulphur}, copy=False)
    if air == "remove":
        frame = frame.loc[rock != AIR].reset_index(drop=True)
    return BlockModel(frame, block_size=(dx, dy, dz), origin=(0.0, 0.0, 0.0), grades=("cu", "au"),
                      name=name or f"porphyry-{nx}x{ny}x{nz}-seed{seed}")


def default_economics(bench_height_m: float = 15.0) -> Economics:
    """Economics for the synthetic deposit (USD): Cu 8,800 USD/t, Au 2,000 USD/oz; see docs/parameters.md.

    Mining cost rises 0.002 USD/t per metre of depth, i.e. ``0.002 * bench_height_m`` per bench (pass the
    model's block height, ``model.block_size[2]``).

    With these the ultimate pit holds the rich core and part of the low-grade halo, which is marginal
    (close to zero value at the mill).
    """
    return Economics(
        currency="USD",
        elements={
            "cu": Element(column="cu", grade_unit="%", price=8800.0, price_unit="t", selling_cost=1000.0,
                          recovery=0.88, recovery_by_rock={"leached": 0.45, "supergene": 0.85}),
            "au": Element(column="au", grade_unit="g/t", price=2000.0, price_unit="oz", selling_cost=10.0,
                          recovery=0.65, recovery_by_rock={"leached": 0.50}),
        },
        rock_column="rock",
        mining_cost=2.0, mining_cost_per_bench=0.002 * float(bench_height_m), reference_bench=None,
        processing_cost=9.0, processing_cost_by_rock={"leached": 10.0, "hypogene_hard": 10.5},
        not_processable=["air"], infeasible_value=-math.inf,
        dump_cost=0.0,
        stockpile_rehandle_cost=1.0, stockpile_delay_years=8.0, discount_rate=0.08,
        bwi_column="bwi", bond_f80_um=10000.0, bond_p80_um=150.0, grinding_energy_price=0.0,
        mill_power_kw=20000.0,
    )
