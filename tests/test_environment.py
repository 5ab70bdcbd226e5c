"""orepit.valuation.environment: hand-computed terms with units, monotonicity, kernel = numpy reference."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from orepit.valuation.environment import Environment, env_arrays, env_arrays_numpy, env_inputs, environmental_costs
from orepit.data.model import BlockModel
from orepit.valuation.synthetic import synthetic_deposit
from solvers.errors import InputError


def _env(**kw):
    base = dict(fuel_l_per_tkm=0.05, fuel_l_per_t_m_lift=0.00127, ramp_grade=0.10, exit_z_m=105.0,
                surface_haul_km={"mill": 2.0, "stockpile": 1.5, "dump": 1.0}, stockpile_to_mill_km=1.0,
                rehandle_diesel_l_per_t=0.03, powder_factor_kg_t=0.25, explosive_kg_co2_per_kg=0.173,
                bond_f80_um=10000.0, bond_p80_um=100.0, other_process_kwh_t=8.0, carbon_price_per_t_co2=14.0,
                tailings_cost_per_t=1.0, water_m3_per_t=0.5, water_price_per_m3=0.5, dump_height_m=50.0,
                dump_swell_factor=1.35, rehabilitation_cost_per_ha=30000.0, paf_sulphur_pct=0.3,
                paf_cost_per_t=1.5)
    base.update(kw)
    return Environment(**base)


def _model(sulphur=1.0):
    # one block of 1000 t, centre z = 5 m (10 m blocks, k = 0): lift to the exit at 105 m is 100 m
    frame = pd.DataFrame({"i": [0], "j": [0], "k": [0], "tonnage": [1000.0], "density": [2.7], "bwi": [15.0],
                          "sulphur": [sulphur]})
    return BlockModel(frame, block_size=(10, 10, 10))


def test_defaults_are_the_documented_values():
    env = Environment()
    assert env.diesel_kg_co2_per_l == 2.68          # kg CO2 per litre of diesel
    assert env.grid_kg_co2_per_kwh == 0.5306        # China national average, kg CO2/kWh
    assert env.carbon_price_per_t_co2 == 14.0       # USD/t CO2 (100 CNY/t)


def test_hand_computed_terms():
    c = environmental_costs(_model(), _env()).iloc[0]
    assert c["lift_m"] == pytest.approx(100.0)
    # mill haul: ramp 100 m / 0.10 = 1 km, + 2 km surface = 3 km; 0.05 L/(t km) x 3 km + 0.00127 L/(t m) x 100 m
    #   = 0.277 L/t x 1000 t = 277 L diesel; x 2.68 kg/L = 742.36 kg CO2
    assert c["haul_diesel_mill_l"] == pytest.approx(277.0)
    assert c["haul_co2_mill_kg"] == pytest.approx(742.36)
    # stockpile: 1 + 1.5 + 1 (reclaim to mill) km = 3.5 km -> 0.175 + 0.127 + 0.03 (loader) = 0.332 L/t = 332 L
    assert c["haul_diesel_stockpile_l"] == pytest.approx(332.0)
    # dump: 2 km -> 0.1 + 0.127 = 0.227 L/t = 227 L
    assert c["haul_diesel_dump_l"] == pytest.approx(227.0)
    # blasting: 1000 t x 0.25 kg/t x 0.173 kg CO2/kg = 43.25 kg CO2
    assert c["blast_co2_kg"] == pytest.approx(43.25)
    # processing: Bond 10 x 15 x (1/10 - 1/100) = 13.5 kWh/t + 8 kWh/t other = 21.5 kWh/t -> 21,500 kWh
    assert c["process_kwh"] == pytest.approx(21_500.0)
    assert c["process_co2_kg"] == pytest.approx(21_500.0 * 0.5306)  # 11,407.9 kg
    co2_mill = 742.36 + 43.25 + 11_407.9
    assert c["co2_mill_kg"] == pytest.approx(co2_mill)
    assert c["carbon_cost_mill_usd"] == pytest.approx(co2_mill / 1000 * 14.0)  # 170.71 USD
    assert c["tailings_cost_usd"] == pytest.approx(1000.0)       # 1 USD/t
    assert c["water_m3"] == pytest.approx(500.0)                 # 0.5 m3/t
    assert c["water_cost_usd"] == pytest.approx(250.0)           # 0.5 USD/m3
    # dump: loose density 2.7 / 1.35 = 2.0 t/m3, 50 m high: 1000 t / (2.0 x 50) m2 = 10 m2 = 0.001 ha
    assert c["dump_area_ha"] == pytest.approx(0.001)
    assert c["rehabilitation_cost_usd"] == pytest.approx(30.0)   # 0.001 ha x 30,000 USD/ha
    assert c["paf_cost_usd"] == pytest.approx(1500.0)            # S 1.0 % >= 0.3 %: 1.5 USD/t
    co2_dump = 227.0 * 2.68 + 43.25
    assert c["co2_dump_kg"] == pytest.approx(co2_dump)
    assert c["env_cost_mill_usd"] == pytest.approx(co2_mill / 1000 * 14.0 + 1000.0 + 250.0)
    co2_stock = 332.0 * 2.68 + 43.25 + 11_407.9
    assert c["env_cost_stockpile_usd"] == pytest.approx(co2_stock / 1000 * 14.0 + 1000.0 + 250.0)
    assert c["env_cost_dump_usd"] == pytest.approx(co2_dump / 1000 * 14.0 + 30.0 + 1500.0)


def test_non_paf_waste_and_fixed_dump_density_and_exit_xy():
    c = environmental_costs(_model(sulphur=0.29), _env(dump_density_t_m3=2.5, exit_xy_m=[5.0, 3005.0])).iloc[0]
    assert c["paf_cost_usd"] == 0.0
    assert c["dump_area_ha"] == pytest.approx(1000.0 / (2.5 * 50.0) / 1e4)
    # 3 km horizontally to the exit: mill haul 1 + 3 + 2 = 6 km
    assert c["haul_diesel_mill_l"] == pytest.approx(1000 * (0.05 * 6.0 + 0.127))


def test_bwi_default_and_missing_columns():
    m = BlockModel(pd.DataFrame({"i": [0], "j": [0], "k": [0], "tonnage": [10.0]}), block_size=(1, 1, 1))
    with pytest.raises(InputError, match="bwi_default"):
        environmental_costs(m, _env())
    with pytest.raises(InputError, match="density"):
        environmental_costs(m, _env(bwi_default=12.0, sulphur_column=None))
    c = environmental_costs(m, _env(bwi_default=12.0, sulphur_column=None, dump_density_t_m3=2.0)).iloc[0]
    assert c["process_kwh"] == pytest.approx(10.0 * (10 * 12.0 * 0.09 + 8.0))
    no_size = BlockModel(pd.DataFrame({"i": [0], "j": [0], "k": [0], "tonnage": [10.0]}))
    with pytest.raises(InputError, match="block size"):
        environmental_costs(no_size, _env(bwi_default=12.0))


def test_kernel_matches_numpy_reference():
    m = synthetic_deposit(5e3, seed=5)
    env = Environment(exit_xy_m=(1000.0, 0.0))
    inputs = env_inputs(m, env)
    fast = env_arrays(inputs, env)
    ref = env_arrays_numpy(inputs, env)
    assert fast.keys() == ref.keys()
    for name in ref:
        np.testing.assert_allclose(fast[name], ref[name], rtol=1e-12, atol=1e-9, err_msg=name)


@settings(max_examples=40, deadline=None)
@given(z1=st.floats(0.0, 1000.0), z2=st.floats(0.0, 1000.0), d1=st.floats(0.0, 20.0), d2=st.floats(0.0, 20.0),
       p1=st.floats(0.0, 500.0), p2=st.floats(0.0, 500.0))
def test_costs_monotone_in_depth_distance_and_carbon_price(z1, z2, d1, d2, p1, p2):
    def cost(lift, dist, price):
        env = _env(exit_z_m=5.0 + lift, surface_haul_km={"mill": dist, "stockpile": dist, "dump": dist},
                   carbon_price_per_t_co2=price)
        return environmental_costs(_model(), env).iloc[0]

    (l_lo, l_hi), (d_lo, d_hi), (p_lo, p_hi) = sorted((z1, z2)), sorted((d1, d2)), sorted((p1, p2))
    for a, b in ((cost(l_lo, d_lo, p_lo), cost(l_hi, d_lo, p_lo)),     # deeper
                 (cost(l_lo, d_lo, p_lo), cost(l_lo, d_hi, p_lo)),     # farther
                 (cost(l_lo, d_lo, p_lo), cost(l_lo, d_lo, p_hi))):    # dearer carbon
        for d in ("mill", "stockpile", "dump"):
            assert b[f"env_cost_{d}_usd"] >= a[f"env_cost_{d}_usd"] - 1e-9
            assert b[f"co2_{d}_kg"] >= a[f"co2_{d}_kg"] - 1e-9


def test_toml_reading(tmp_path):
    path = tmp_path / "env.toml"
    path.write_text('carbon_price_per_t_co2 = 50.0\n[surface_haul_km]\nmill = 4.0\n')
    env = Environment.from_toml(path)
    assert env.carbon_price_per_t_co2 == 50.0 and env.surface_haul_km == {"mill": 4.0, "stockpile": 1.5, "dump": 1.0}
    path.write_text('carbon_price = 50.0\n')
    with pytest.raises(InputError, match="env.toml line 1: unknown key 'carbon_price'"):
        Environment.from_toml(path)
    path.write_text('ramp_grade = 0.0\n')
    with pytest.raises(InputError, match="ramp_grade"):
        Environment.from_toml(path)
    path.write_text('[surface_haul_km]\ncrusher = 1.0\n')
    with pytest.raises(InputError, match="surface_haul_km.crusher"):
        Environment.from_toml(path)
