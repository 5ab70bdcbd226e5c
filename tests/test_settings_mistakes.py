"""Mistakes a new user makes in economics and environment files: each is an error naming the file, the
line and the key (or, for a valid value that looks like a unit slip, a warning worded the same way),
never a silent guess."""
from __future__ import annotations

import warnings

import pandas as pd
import pytest

from orepit.data.model import BlockModel
from orepit.data.starter import guess_elements
from orepit.data.toml import UnitSlipWarning
from orepit.valuation.economics import Economics, block_values
from orepit.valuation.environment import Environment
from solvers.errors import InputError

CU = '[elements.cu]\ncolumn = "cu"\ngrade_unit = "%"\nprice = 8800.0\nprice_unit = "t"\nrecovery = 0.88\n'


def _read(tmp_path, text, kind=Economics, name="e.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return kind.from_toml(path)


def _model(rock=("ox", "hyp")):
    frame = pd.DataFrame({"i": [0, 1], "j": [0, 0], "k": [0, 0], "tonnage": [100.0, 100.0], "cu": [1.0, 0.5],
                          "au": [1.0, 1.0], "rock": list(rock)})
    return BlockModel(frame, block_size=(10, 10, 10), source="blocks.csv")


# -- 1. the element keys that decide the money must be given ---------------------------------------

@pytest.mark.parametrize("key", ["column", "grade_unit", "price", "price_unit", "recovery"])
def test_a_missing_element_key_is_an_error_saying_what_to_write(tmp_path, key):
    au = {"column": '"au"', "grade_unit": '"g/t"', "price": "2000.0", "price_unit": '"oz"', "recovery": "0.7"}
    del au[key]
    text = 'currency = "USD"\n\n' + CU + "\n[elements.au]\n" + "".join(f"{k} = {v}\n" for k, v in au.items())
    with pytest.raises(InputError) as err:
        _read(tmp_path, text)
    message = str(err.value)
    assert message.startswith(f"e.toml line 10: elements.au.{key}: missing from [elements.au]: add {key} = ")
    assert err.value.field == f"elements.au.{key}"


def test_price_unit_may_be_left_out_only_with_price_zero(tmp_path):
    econ = _read(tmp_path, '[elements.cu]\ncolumn = "cu"\ngrade_unit = "%"\nprice = 0.0\nrecovery = 0.85\n')
    assert econ.elements["cu"].price == 0.0


# -- 2. ppb is a grade unit (orepit init reads it from AU_PPB) ---------------------------------------

def test_ppb_grades_are_a_thousandth_of_g_per_t():
    def econ(unit):
        return Economics(elements={"au": {"column": "au", "grade_unit": unit, "price": 2000.0, "price_unit": "oz",
                                          "recovery": 0.7}})
    model = _model()
    in_ppb = block_values(model, econ("ppb"))["revenue_au_usd"]
    in_gpt = block_values(model, econ("g/t"))["revenue_au_usd"]
    assert (in_ppb * 1000).tolist() == pytest.approx(in_gpt.tolist())


def test_init_takes_the_grade_unit_written_in_the_column_name():
    found = guess_elements(["XC", "CU_PCT", "AU_PPB", "MO_PPM", "AG_G_T", "ZN%", "PBPPM", "NI"])
    assert [(e.name, e.grade_unit) for e in found] == [("cu", "%"), ("au", "ppb"), ("mo", "ppm"), ("ag", "g/t"),
                                                       ("zn", "%"), ("pb", "ppm"), ("ni", "%")]
    assert all(e.reason.endswith("(from the column name)") for e in found[:-1])
    assert "no unit in the column name: assumed %" in found[-1].reason


# -- 3. rock types and the rock column ----------------------------------------------------------

def test_a_not_processable_rock_the_model_lacks_is_refused_naming_the_settings_file(tmp_path):
    econ = _read(tmp_path, 'rock_column = "rock"\nnot_processable = ["Oxide"]\n\n' + CU)
    with pytest.raises(InputError) as err:
        block_values(_model(), econ)
    assert str(err.value).startswith("e.toml line 2: not_processable: rock type(s) 'Oxide' match no rock in the "
                                     "'rock' column of blocks.csv (it has 'ox', 'hyp')")


def test_rock_column_may_use_the_files_spelling_of_a_renamed_column(tmp_path):
    econ = _read(tmp_path, 'rock_column = "ROCK"\nnot_processable = ["ox"]\n\n' + CU)
    values = block_values(_model(), econ)
    assert values["value_mill_usd"].iloc[0] == -float("inf") and values["value_mill_usd"].iloc[1] > 0


# -- 4. a selling cost at or above the price -------------------------------------------------------

def test_a_selling_cost_at_or_above_the_price_is_refused_naming_both(tmp_path):
    text = CU.replace('price = 8800.0\nprice_unit = "t"', 'price = 4.0\nprice_unit = "lb"\nselling_cost = 1000.0')
    with pytest.raises(InputError) as err:
        _read(tmp_path, text)
    assert str(err.value).startswith("e.toml line 6: elements.cu.selling_cost: 1000 USD/lb is at or above the "
                                     "price 4 USD/lb")


# -- 5. the discount rate is a fraction ----------------------------------------------------------

def test_a_discount_rate_in_percent_is_refused_with_the_fraction_meant(tmp_path):
    with pytest.raises(InputError) as err:
        _read(tmp_path, "discount_rate = 8\n\n" + CU)
    assert str(err.value) == ("e.toml line 1: discount_rate: 8 per year is 800 %; give it as a fraction "
                              "(did you mean 0.08?)")


# -- 6. a byte-order mark ---------------------------------------------------------------------

def test_a_file_starting_with_a_byte_order_mark_reads(tmp_path):
    assert _read(tmp_path, "\ufeffmining_cost = 2.2\n\n" + CU).mining_cost == 2.2


# -- 7. values that look like a unit slip warn ------------------------------------------------------

@pytest.mark.parametrize("line, hint", [("grid_kg_co2_per_kwh = 530.6", "if it is in g/kWh, write 0.5306"),
                                        ("ramp_grade = 10", "if it is in percent, write 0.1"),
                                        ("dump_swell_factor = 0.8", "is below 1")])
def test_an_environment_value_that_looks_like_a_unit_slip_warns(tmp_path, line, hint):
    with pytest.warns(UnitSlipWarning) as record:
        _read(tmp_path, f'currency = "USD"\n{line}\n', Environment, "env.toml")
    key = line.split(" =")[0]
    assert len(record) == 1 and str(record[0].message).startswith(f"env.toml line 2: {key}: ")
    assert hint in str(record[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Environment()          # the defaults do not warn


def test_a_currency_mismatch_names_the_environment_file_and_line(tmp_path):
    from orepit.valuation.net import net_values
    econ = _read(tmp_path, 'currency = "USD"\n' + CU)
    env = _read(tmp_path, 'currency = "EUR"\nbwi_default = 12.0\nsulphur_column = ""\n', Environment, "env.toml")
    with pytest.raises(InputError, match=r"env\.toml line 1: currency: environmental costs in EUR but the economics "
                                         r"\(.*e\.toml\) are in USD: give both one currency"):
        net_values(BlockModel(_model().frame.assign(density=2.7), block_size=(10, 10, 10)), econ, env)


def test_economics_without_an_element_names_its_file(tmp_path):
    from orepit.valuation.deposit import value_deposit
    econ = _read(tmp_path, 'currency = "USD"\nmining_cost = 2.0\n')
    with pytest.raises(InputError, match=r"e\.toml: elements: no \[elements\.NAME\] table: at least one element"):
        value_deposit(_model(), econ)


def test_a_grade_column_the_model_lacks_is_named_by_its_settings_key(tmp_path, capsys):
    from pathlib import Path

    from orepit.cli import main
    examples = Path(__file__).resolve().parent.parent / "examples"
    text = (examples / "economics_porphyry_blocks.toml").read_text().replace('column = "CU"', 'column = "CU_PCT"')
    (tmp_path / "e.toml").write_text(text)
    assert main(["pit", str(examples / "porphyry_blocks.csv"), "--economics", str(tmp_path / "e.toml")]) == 2
    err = capsys.readouterr().err
    assert "e.toml line 8: elements.cu.column: the block model" in err and "has no column 'CU_PCT'" in err


def test_init_names_the_other_columns_of_an_element_it_did_not_use():
    found = {e.name: e for e in guess_elements(["X", "CU_OK", "CU_NN", "CUEQ", "AU_OK", "AU_NN"])}
    assert found["cu"].column == "CU_OK" and found["au"].column == "AU_OK"
    assert found["cu"].reason.endswith("; other copper columns, not used: CU_NN (set column to use one)")
    assert found["au"].reason.endswith("; other gold columns, not used: AU_NN (set column to use one)")
