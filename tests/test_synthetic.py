"""orepit.valuation.synthetic: determinism by seed, sizes, geology and a sensible default economics."""
from __future__ import annotations

import numpy as np
import pytest

from orepit.valuation.economics import block_values
from orepit.valuation.synthetic import ROCKS, default_economics, grid_for, synthetic_deposit
from solvers.errors import InputError


@pytest.fixture(scope="module")
def deposit():
    return synthetic_deposit(3e4, seed=7)


def test_same_seed_same_model_other_seed_differs(deposit):
    again = synthetic_deposit(3e4, seed=7)
    assert deposit.frame.equals(again.frame)
    other = synthetic_deposit(3e4, seed=8)
    assert not np.array_equal(deposit["cu"], other["cu"])


def test_independent_of_thread_count():
    import numba
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = synthetic_deposit(dims=(12, 10, 6), seed=3)
    finally:
        numba.set_num_threads(before)
    assert one.frame.equals(synthetic_deposit(dims=(12, 10, 6), seed=3).frame)


@pytest.mark.parametrize("n", [1e3, 1e4, 1e5])
def test_sizes(n):
    nx, ny, nz = grid_for(n)
    assert nx == ny == 2 * nz and abs(nx * ny * nz - n) / n < 0.2


def test_grid_columns_and_units(deposit):
    assert deposit.is_dense
    for col in ("tonnage", "density", "cu", "au", "rock", "bwi", "sulphur"):
        assert col in deposit
    dx, dy, dz = deposit.block_size
    rock = deposit["rock"].astype(str)
    solid = rock != "air"
    # tonnage (t) = density (t/m3) x block volume (m3)
    np.testing.assert_allclose(deposit["tonnage"], deposit["density"] * dx * dy * dz)
    assert set(np.unique(rock)) == set(ROCKS)
    assert (deposit["tonnage"][~solid] == 0).all() and (deposit["cu"][~solid] == 0).all()
    assert (deposit["cu"] >= 0).all() and (deposit["au"] >= 0).all() and (deposit["sulphur"] >= 0).all()
    assert 1.0 < deposit["cu"].max() < 10.0  # %
    # topography: in every column the air blocks sit above all the rock
    col = deposit["i"] + deposit.dims[0] * deposit["j"]
    k = deposit["k"]
    top_solid = np.full(col.max() + 1, -1)
    np.maximum.at(top_solid, col[solid], k[solid])
    assert (k[~solid] > top_solid[col[~solid]]).all()


def test_geology(deposit):
    f = deposit.frame
    f["rock"] = f["rock"].astype(str)
    by = f[f.rock != "air"].groupby("rock")
    cu = by.cu.mean()
    assert cu["supergene"] > cu["hypogene"] > cu["host"] and cu["leached"] < cu["hypogene"]
    assert by.bwi.mean()["hypogene_hard"] > by.bwi.mean()["hypogene"] + 3  # hard zone at depth
    assert f[f.rock == "hypogene_hard"].z.mean() < f[f.rock == "hypogene"].z.mean()
    host = f[f.rock == "host"]
    assert (host.sulphur >= 0.3).mean() > 0.2  # potentially acid-forming sulphide waste exists
    assert (f[f.rock == "leached"].sulphur < 0.3).mean() > 0.9
    # a high-grade core and a broad low-grade halo: more tonnes at 0.15-0.3 % than above 0.8 %
    halo = f[(f.cu >= 0.15) & (f.cu < 0.3)].tonnage.sum()
    core = f[f.cu >= 0.8].tonnage.sum()
    assert halo > 2 * core > 0


def test_air_removed():
    zero = synthetic_deposit(dims=(10, 10, 5), seed=1)
    removed = synthetic_deposit(dims=(10, 10, 5), seed=1, air="remove")
    assert removed.n_blocks == int((zero["rock"].astype(str) != "air").sum())
    assert removed["tonnage"].min() > 0


def test_default_economics_pit_has_core_and_marginal_halo():
    from orepit.planning.pits import ultimate_pit
    from orepit.valuation.precedence import precedence_from_geometry
    m = synthetic_deposit(2e4, seed=7)
    v = block_values(m, default_economics(m.block_size[2]))
    mill, dump = v["value_mill_usd"].to_numpy(), v["value_dump_usd"].to_numpy()
    value = np.where(mill > dump, mill, dump)
    pit = np.asarray(ultimate_pit(value, precedence_from_geometry(m, slope=45, levels=2)).solution)
    cu, t = m["cu"], m["tonnage"]
    assert pit.sum() > 0
    core = (cu >= 0.8)
    halo = (cu >= 0.15) & (cu < 0.3)
    assert t[core & pit].sum() > 0.8 * t[core].sum()          # the rich core is mined
    assert t[halo & pit].sum() > 0                             # and halo ore with it
    per_t = (mill[halo & pit] / t[halo & pit])
    assert 0 < np.median(per_t) < 10                           # the halo is marginal at the mill (USD/t)
    assert np.median(mill[core & pit] / t[core & pit]) > 40    # the core is rich


def test_bad_arguments():
    with pytest.raises(InputError):
        synthetic_deposit()
    with pytest.raises(InputError):
        synthetic_deposit(1e3, dims=(2, 2, 2))
    with pytest.raises(InputError):
        synthetic_deposit(1e3, air="keep")
    with pytest.raises(InputError):
        synthetic_deposit(1e3, seed=-1)
