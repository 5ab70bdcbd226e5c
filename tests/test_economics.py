"""orepit.valuation.economics: hand-computed terms, monotonicity, kernel = numpy reference, MineLib reproduction."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from orepit.valuation.economics import (Economics, Element, block_values, value_arrays, value_arrays_numpy,
                              value_inputs)
from orepit.data.minelib import read_blocks
from orepit.data.model import BlockModel
from orepit.valuation.synthetic import default_economics, synthetic_deposit
from solvers.errors import InputError


def _econ(**kw):
    base = dict(
        currency="USD", rock_column="rock",
        elements={"cu": Element(column="cu", grade_unit="%", price=8000.0, price_unit="t", selling_cost=1000.0,
                                recovery=0.9, recovery_by_rock={"ox": 0.6}),
                  "au": Element(column="au", grade_unit="g/t", price=60.0, price_unit="g", recovery=0.8)},
        mining_cost=2.0, mining_cost_per_bench=0.1, processing_cost=10.0, processing_cost_by_rock={"ox": 7.0},
        not_processable=["air"], dump_cost=0.5, stockpile_rehandle_cost=1.5, stockpile_delay_years=2.0,
        discount_rate=0.1, bwi_column="bwi", bond_f80_um=10000.0, bond_p80_um=100.0, grinding_energy_price=0.1,
        mill_power_kw=5000.0)
    base.update(kw)
    return Economics(**base)


def _model():
    # block 0: hypogene, k=2 under a top bench k=5 -> 3 benches deep
    # block 1: oxide at the top bench; block 2: air (0 t); block 3: air with tonnage (unprocessable)
    frame = pd.DataFrame({"i": [0, 1, 2, 3], "j": [0, 0, 0, 0], "k": [2, 5, 5, 4],
                          "tonnage": [1000.0, 2000.0, 0.0, 10.0], "cu": [1.0, 0.5, 0.0, 0.0],
                          "au": [2.0, 0.0, 0.0, 0.0], "rock": ["hyp", "ox", "air", "air"],
                          "bwi": [15.0, 10.0, 0.0, 0.0]})
    return BlockModel(frame, block_size=(10, 10, 10))


def test_hand_computed_terms_usd():
    v = block_values(_model(), _econ())
    b = v.iloc[0]
    # Cu: 1000 t x 1.0 % x 0.01 t Cu per (t %) x 0.9 x (8000 - 1000) USD/t Cu = 63,000 USD
    assert b["revenue_cu_usd"] == pytest.approx(63_000.0)
    # Au: 1000 t x 2 g/t x 0.8 x 60 USD/g = 96,000 USD
    assert b["revenue_au_usd"] == pytest.approx(96_000.0)
    assert b["revenue_usd"] == pytest.approx(159_000.0)
    # mining: 1000 t x (2.0 + 0.1 USD/t/bench x 3 benches) = 2,300 USD
    assert b["mining_cost_usd"] == pytest.approx(2_300.0)
    # processing: 1000 t x 10 USD/t = 10,000 USD
    assert b["processing_cost_usd"] == pytest.approx(10_000.0)
    # Bond: 10 x 15 kWh/t x (1/sqrt(100 um) - 1/sqrt(10000 um)) = 13.5 kWh/t
    assert b["grinding_kwh_t"] == pytest.approx(13.5)
    # grinding cost: 1000 t x 13.5 kWh/t x 0.1 USD/kWh = 1,350 USD; mill time 13,500 kWh / 5000 kW = 2.7 h
    assert b["grinding_cost_usd"] == pytest.approx(1_350.0)
    assert b["mill_hours_h"] == pytest.approx(2.7)
    assert b["rehandle_cost_usd"] == pytest.approx(1_500.0)  # 1000 t x 1.5 USD/t
    # mill: 159,000 - 10,000 - 1,350 - 2,300 = 145,350 USD
    assert b["value_mill_usd"] == pytest.approx(145_350.0)
    # stockpile: margin 147,650 USD realised 2 years later at 10 %: / 1.21, minus rehandle and mining
    assert b["value_stockpile_usd"] == pytest.approx(147_650.0 / 1.21 - 1_500.0 - 2_300.0)
    # dump: -(2,300 + 1000 t x 0.5 USD/t) = -2,800 USD
    assert b["value_dump_usd"] == pytest.approx(-2_800.0)


def test_rock_type_tables_and_unprocessable():
    v = block_values(_model(), _econ())
    ox = v.iloc[1]
    # oxide: Cu recovery 0.6, processing 7 USD/t, top bench (0 benches deep)
    assert ox["revenue_cu_usd"] == pytest.approx(2000 * 0.5 * 0.01 * 0.6 * 7000)  # 42,000 USD
    assert ox["processing_cost_usd"] == pytest.approx(14_000.0)
    assert ox["mining_cost_usd"] == pytest.approx(4_000.0)
    assert ox["grinding_kwh_t"] == pytest.approx(9.0)  # 10 x 10 x 0.09 kWh/t
    assert ox["value_mill_usd"] == pytest.approx(42_000 - 14_000 - 2000 * 9.0 * 0.1 - 4_000)
    # air with no tonnage is worth nothing anywhere; unprocessable rock with tonnage is -inf at the mill
    assert v.iloc[2][["value_mill_usd", "value_stockpile_usd", "value_dump_usd"]].tolist() == [0.0, 0.0, 0.0]
    assert v.iloc[3]["value_mill_usd"] == -math.inf and v.iloc[3]["value_stockpile_usd"] == -math.inf
    assert v.iloc[3]["value_dump_usd"] == pytest.approx(-10 * (2.0 + 0.1 * 1 + 0.5))
    # a finite sentinel, as MineLib writes it: -1e16 USD/t
    v2 = block_values(_model(), _econ(infeasible_value=-1e16))
    assert v2.iloc[3]["value_mill_usd"] == -1e17


def test_price_units_troy_ounce_and_pound():
    frame = pd.DataFrame({"i": [0], "j": [0], "k": [0], "tonnage": [1.0], "au": [1.0], "cu": [1.0]})
    m = BlockModel(frame)
    e = Economics(rock_column=None, elements={
        "au": Element(column="au", grade_unit="g/t", price=2000.0, price_unit="oz"),
        "cu": Element(column="cu", grade_unit="%", price=4.0, price_unit="lb")})
    v = block_values(m, e).iloc[0]
    assert v["revenue_au_usd"] == pytest.approx(2000.0 / 31.1034768)       # 1 g = 1/31.1035 oz
    assert v["revenue_cu_usd"] == pytest.approx(4.0 * 10.0 / 0.45359237)   # 10 kg Cu = 22.05 lb


def test_extra_value_and_no_rock_column():
    frame = pd.DataFrame({"i": [0, 1], "j": [0, 0], "k": [0, 0], "tonnage": [100.0, 200.0],
                          "profit": [500.0, 0.0]})
    e = Economics(rock_column=None, mining_cost=0.75, extra_value={"mill": "profit"})
    v = block_values(BlockModel(frame), e)
    assert v["value_mill_usd"].tolist() == pytest.approx([500 - 75.0, -150.0])
    assert v["extra_mill_usd"].tolist() == [500.0, 0.0]


def test_kernel_matches_numpy_reference():
    m = synthetic_deposit(5e3, seed=11)
    e = default_economics(m.block_size[2])
    e.grinding_energy_price = 0.07
    e.mining_cost_factor_column = "density"  # any positive column exercises the factor path
    inputs = value_inputs(m, e)
    fast = value_arrays(inputs, e)
    ref = value_arrays_numpy(inputs, e)
    assert fast.keys() == ref.keys()
    for name in ref:
        np.testing.assert_allclose(fast[name], ref[name], rtol=1e-12, atol=1e-9, err_msg=name)


prices = st.floats(min_value=0.0, max_value=20_000.0, allow_nan=False)


@settings(max_examples=40, deadline=None)
@given(p1=prices, p2=prices, per_bench=st.floats(0.0, 1.0), cost=st.floats(0.0, 10.0))
def test_values_monotone_in_price_and_costs_monotone_in_depth(p1, p2, per_bench, cost):
    lo, hi = sorted((p1, p2))
    m = _model()
    v_lo = block_values(m, _econ(elements={"cu": Element(column="cu", price=lo)}, mining_cost=cost,
                                 mining_cost_per_bench=per_bench))
    v_hi = block_values(m, _econ(elements={"cu": Element(column="cu", price=hi)}, mining_cost=cost,
                                 mining_cost_per_bench=per_bench))
    ok = np.isfinite(v_lo["value_mill_usd"])
    assert (v_hi["value_mill_usd"][ok] >= v_lo["value_mill_usd"][ok] - 1e-9).all()
    assert (v_hi["value_stockpile_usd"][ok] >= v_lo["value_stockpile_usd"][ok] - 1e-9).all()
    # mining cost per tonne never decreases with depth (bench index k lower = deeper)
    per_t = v_lo["mining_cost_usd"] / m["tonnage"].clip(min=1e-12)
    depth = 5 - m["k"]
    order = np.argsort(depth, kind="stable")
    assert (np.diff(per_t.to_numpy()[order][m["tonnage"][order] > 0]) >= -1e-9).all()


@settings(max_examples=30, deadline=None)
@given(k=st.lists(st.integers(0, 40), min_size=2, max_size=20, unique=True), per_bench=st.floats(0.0, 2.0))
def test_mining_cost_monotone_in_depth(k, per_bench):
    frame = pd.DataFrame({"i": np.zeros(len(k), int), "j": np.zeros(len(k), int), "k": k,
                          "tonnage": np.full(len(k), 100.0)})
    v = block_values(BlockModel(frame), Economics(rock_column=None, mining_cost=1.0, mining_cost_per_bench=per_bench))
    cost = v["mining_cost_usd"].to_numpy()
    order = np.argsort(-np.asarray(k))  # from the top down
    assert (np.diff(cost[order]) >= -1e-9).all()
    assert (v["value_dump_usd"].to_numpy()[order][:-1] >= v["value_dump_usd"].to_numpy()[order][1:] - 1e-9).all()


# -- parameter files ------------------------------------------------------------------------------

def test_toml_round_trip(tmp_path):
    e = _econ(infeasible_value=-math.inf)
    path = tmp_path / "p.toml"
    path.write_text(e.to_toml())
    back = Economics.from_toml(path)
    assert back == e


def test_toml_unknown_key_names_file_and_line(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('currency = "USD"\nmining_cots = 2.0\n')
    with pytest.raises(InputError) as exc:
        Economics.from_toml(path)
    assert "bad.toml line 2" in str(exc.value) and "mining_cots" in str(exc.value)


@pytest.mark.parametrize("text, key", [
    ("mining_cost = -1.0\n", "mining_cost"),
    ('mining_cost = "2"\n', "mining_cost"),
    ("[elements.cu]\ncolumn = \"cu\"\ngrade_unit = \"%\"\nprice = 1.0\nprice_unit = \"t\"\nrecovery = 1.5\n",
     "elements.cu.recovery"),
    ("[elements.cu]\ncolumn = \"cu\"\ngrade_unit = \"oz/t\"\nprice = 1.0\nprice_unit = \"t\"\nrecovery = 1\n",
     "elements.cu.grade_unit"),
    ("[elements.cu]\ncolumn = \"cu\"\nprce = 3\n", "elements.cu.prce"),
    ("[elements.cu]\nprice = 3\n", "elements.cu.column"),
    ("[extra_value]\nplant = \"x\"\n", "extra_value.plant"),
    ("bond_p80_um = 20000.0\n", "bond_p80_um"),
    ("mining_cost = \n", None),
])
def test_toml_bad_values(tmp_path, text, key):
    path = tmp_path / "e.toml"
    path.write_text(text)
    with pytest.raises(InputError) as exc:
        Economics.from_toml(path)
    assert "e.toml" in str(exc.value)
    if key:
        assert exc.value.field == key


def test_missing_column_is_input_error():
    with pytest.raises(InputError, match="no column 'min_caf'"):
        block_values(_model(), _econ(mining_cost_factor_column="min_caf"))


def test_example_default_economics_file_reads():
    from pathlib import Path
    e = Economics.from_toml(Path(__file__).resolve().parent.parent / "examples" / "economics_default.toml")
    assert e == default_economics(15.0)


# -- MineLib reproduction -------------------------------------------------------------------------

def _examples():
    from pathlib import Path
    return Path(__file__).resolve().parent.parent / "examples"


def test_newman1_reproduces_value_columns(instance):
    m = read_blocks(f"{instance('newman1')}.blocks")
    e = Economics.from_toml(_examples() / "newman1.toml")
    v = block_values(m, e)
    # extraction value: -tonns * min_caf * 1, every block within 1e-3
    assert np.abs(v["value_dump_usd"] - m["value_extracc"]).max() < 1e-3
    # processing value: (19.29 * recovery * grade - process cost) * tonns - extraction cost, within 1e-3
    rock = pd.Series(m["rock"]).astype(str)
    ok = (rock != "0").to_numpy()
    assert ok.sum() == 969
    assert np.abs(v["value_mill_usd"][ok] - m["value_proc"][ok]).max() < 1e-3
    # type "0" cannot be processed: the file writes -1e16 per tonne, exactly what the sentinel gives
    assert np.array_equal(v["value_mill_usd"][~ok], m["value_proc"][~ok])


def test_kd_blockvalue_is_mining_cost_plus_process_profit(instance):
    m = read_blocks(f"{instance('kd')}.blocks")
    e = Economics.from_toml(_examples() / "kd.toml")
    v = block_values(m, e)
    # blockvalue = -0.75 * tonn + process_profit (the mill value); dump = -0.75 * tonn
    assert np.abs(v["value_mill_usd"] - m["blockvalue"]).max() < 1e-6
    assert np.abs(v["value_dump_usd"] + 0.75 * m["tonnage"]).max() < 1e-9


def test_kd_process_profit_is_not_a_function_of_cu(instance):
    """Why kd.toml takes process_profit as given: equal cu and tonnage, different profit."""
    m = read_blocks(f"{instance('kd')}.blocks")
    f = pd.DataFrame({"cu": m["cu"], "t": m["tonnage"], "pp": m["process_profit"]})
    f = f[f.pp > 0]
    spread = f.groupby(["cu", "t"]).pp.agg(lambda s: s.max() - s.min())
    assert spread.max() > 1000.0  # USD per block with identical cu and tonnage


def test_toml_error_line_inside_its_table(tmp_path):
    path = tmp_path / "two.toml"
    keys = 'grade_unit = "%"\nprice = 1.0\nprice_unit = "t"\n'
    path.write_text(f'[elements.cu]\ncolumn = "cu"\nrecovery = 0.9\n{keys}\n'
                    f'[elements.au]\ncolumn = "au"\nrecovery = 1.2\n{keys}')
    with pytest.raises(InputError) as exc:
        Economics.from_toml(path)
    assert str(exc.value).startswith("two.toml line 10: elements.au.recovery")


def test_grade_units_checked_with_evidence():
    import warnings

    from orepit.valuation.economics import GradeUnitWarning
    frame = pd.DataFrame({"i": [0, 1, 2], "j": [0, 0, 0], "k": [0, 0, 0], "tonnage": [1.0, 1.0, 1.0],
                          "cu": [3500.0, 4200.0, 8000.0]})
    in_pct = Economics(elements={"cu": Element(column="cu", grade_unit="%", price=8800.0)}, rock_column=None)
    with pytest.raises(InputError, match=r"grade cu = 8000 % is above 100 %; is the unit ppm or g/t\?"):
        block_values(BlockModel(frame), in_pct)
    frame["cu"] = [35.0, 42.0, 80.0]
    with pytest.warns(GradeUnitWarning, match=r"cu: 95 % of the positive grades are below 76.2, high for '%'"):
        block_values(BlockModel(frame), in_pct)
    frame["cu"] = [0.001, 0.002, 0.003]
    in_ppm = Economics(elements={"cu": Element(column="cu", grade_unit="ppm", price=8800.0)}, rock_column=None)
    with pytest.warns(GradeUnitWarning, match="every grade is below 0.003 ppm"):
        block_values(BlockModel(frame), in_ppm)
    with pytest.warns(GradeUnitWarning, match=r"cu: every grade is below 0.003 %, low for '%'; check whether the "
                                              r"grades are written as fractions \(0.005 for 0.5 %\)"):
        block_values(BlockModel(frame), in_pct)
    frame["cu"] = [0.3, 0.5, 1.2]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        block_values(BlockModel(frame), in_pct)


@pytest.mark.parametrize("kw, field", [
    (dict(processing_cost_by_rock={"oxide": 7.0}), "processing_cost_by_rock"),
    (dict(elements={"cu": Element(column="cu", grade_unit="%", price=8000.0, recovery_by_rock={"Ox": 0.6})}),
     "elements.cu.recovery_by_rock"),
    (dict(not_processable=["oxide"]), "not_processable")])
def test_a_rock_name_that_matches_no_rock_is_refused(kw, field):
    """A misspelt rock type in a by-rock table or in not_processable would silently take the default: it
    is refused, naming the table, the name and the rock types the model has."""
    with pytest.raises(InputError, match=rf"{field}: rock type\(s\) '(oxide|Ox)' match no rock in the 'rock' "
                                         r"column of the block model \(it has 'hyp', 'ox', 'air'\)") as err:
        block_values(_model(), _econ(**kw))
    assert err.value.field == field
