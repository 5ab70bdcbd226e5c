"""Parameter files (economics, environment): one reader, one line finder, one set of checks; every
documented key reads, and a renamed key is answered with its new name (exit status 2 from the CLI)."""
from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from orepit.cli import main
from orepit.data.files import write_model
from orepit.data.toml import Checker, key_lines, line_of
from orepit.valuation.economics import Economics
from orepit.valuation.environment import Environment
from orepit.valuation.synthetic import default_economics, synthetic_deposit
from solvers.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
PARAMETERS_MD = (ROOT / "docs" / "parameters.md").read_text(encoding="utf-8")
READERS = {"economics": Economics.from_toml, "environment": Environment.from_toml}


def test_key_lines_find_tables_dotted_and_inline_keys():
    lines = key_lines('a = 1\n[t.u]\nb.c = 2\nd = { e = 3, "f.g" = 4 }\n[grid]\n"x.y" = [1]\n')
    assert lines[("a",)] == 1 and lines[("t", "u")] == 2 and lines[("t", "u", "b", "c")] == 3
    assert lines[("t", "u", "d", "e")] == 4 and lines[("t", "u", "d", "f.g")] == 4 and lines[("grid", "x.y")] == 6


def test_line_of_a_nested_key_or_its_nearest_table():
    text = 'currency = "USD"\n\n[elements.cu]\ncolumn = "cu"\nprice = 1.0\n\n[elements.au]\nprice = 2.0\n'
    assert line_of(text, "elements.au.price") == 8          # not the cu table's price on line 5
    assert line_of(text, ("elements", "cu", "price")) == 5
    assert line_of(text, "elements.au.recovery") == 7       # not written: its table's header
    assert line_of(text, "mining_cost") is None and line_of(None, "currency") is None


def test_checker_words_every_mistake_the_same_way():
    check = Checker("p.toml", "[t]\nx = 5\ny = 'a'\n")
    cases = [(lambda: check.number(("t", "x"), 5, 0.0, 1.0), "p.toml line 2: t.x: 5 is outside [0, 1]"),
             (lambda: check.number(("t", "x"), 0.0, 0.0, open_low=True), "t.x: 0.0 is outside (0, inf]"),
             (lambda: check.number(("t", "x"), math.nan), "t.x: expected a finite number, got nan"),
             (lambda: check.number(("t", "y"), "a"), "p.toml line 3: t.y: expected a number, got 'a'"),
             (lambda: check.integer(("t", "x"), 1.5, 1), "t.x: expected an integer >= 1, got 1.5"),
             (lambda: check.integer(("t", "x"), 5, 1, 4), "t.x: expected an integer in [1, 4], got 5"),
             (lambda: check.column(("t", "y"), ""), "t.y: expected a column name, got ''"),
             (lambda: check.keys({"x": 1, "z": 2}, ["x", "y"], at=("t",)),
              "p.toml line 1: unknown key 't.z' (known: x, y)"),
             (lambda: check.keys({"x": 1}, ["y"], at=("t",), renamed={("t", "x"): ("t", "y")}),
              "p.toml line 2: t.x was renamed t.y"),
             (lambda: check.within("t").number("x", -1, 0.0), "p.toml line 2: t.x: -1 is outside [0, inf]")]
    for call, message in cases:
        with pytest.raises(InputError) as info:
            call()
        assert message in str(info.value)
    assert check.number("x", None, optional=True) is None and check.number("x", -math.inf, minus_inf=True) < 0


# ---------------------------------------------------------------------------------------------
# renamed keys

def _renamed_table() -> list[tuple[str, str, str]]:
    """(file, former key, key) rows of the renamed-keys table of docs/parameters.md."""
    block = PARAMETERS_MD[PARAMETERS_MD.index("<!-- renamed keys"):].split("\n\n")[0]
    return [tuple(c.strip().strip("`") for c in line.strip("|").split("|"))
            for line in block.splitlines()[3:] if line.startswith("|")]


def test_the_documented_renames_are_the_ones_the_readers_know():
    documented = {(f, old, new) for f, old, new in _renamed_table()}
    known = {(kind, ".".join(old), ".".join(new))
             for kind, cls in (("economics", Economics), ("environment", Environment))
             for old, new in cls.RENAMED_KEYS.items()}
    assert documented == known and len(known) == 3


def _file_setting(key: str, value) -> str:
    """TOML text that sets a (possibly dotted) key in its table, after an unrelated first line."""
    *table, last = key.split(".")
    head = f"\n[{'.'.join(table)}]\n" if table else ""
    return f"# written by an earlier version\n{head}{last} = {value!r}\n".replace("'", '"')


@pytest.mark.parametrize("kind, old, new", _renamed_table())
def test_a_renamed_key_names_file_line_and_new_key(tmp_path, kind, old, new):
    path = tmp_path / f"{kind}.toml"
    text = _file_setting(old, "x" if old.startswith("extra_value") else 1.0)
    path.write_text(text)
    with pytest.raises(InputError) as info:
        READERS[kind](path)
    line = text.count("\n", 0, text.index(old.split(".")[-1] + " =")) + 1
    assert str(info.value) == f"{kind}.toml line {line}: {old} was renamed {new}"
    assert info.value.field == old


def test_a_renamed_key_in_an_inline_table_and_from_python():
    with pytest.raises(InputError, match=r"^extra_value.waste was renamed extra_value.dump$"):
        Economics(extra_value={"waste": "x"})
    with pytest.raises(InputError, match=r"^surface_haul_km.waste was renamed surface_haul_km.dump$"):
        Environment(surface_haul_km={"mill": 2.0, "stockpile": 1.5, "dump": 1.0, "waste": 1.0})


def test_the_cli_exits_2_on_a_renamed_key(tmp_path, capsys):
    model = synthetic_deposit(500, seed=3)
    write_model(model, tmp_path / "m.parquet")
    (tmp_path / "e.toml").write_text(default_economics(model.block_size[2]).to_toml())
    (tmp_path / "environment.toml").write_text("carbon_price_per_t_co2 = 14.0\n"
                                               "surface_haul_km = { mill = 2.0, waste = 1.0 }\n")
    code = main(["value", str(tmp_path / "m.parquet"), "--economics", str(tmp_path / "e.toml"),
                 "--environment", str(tmp_path / "environment.toml"), "--out", str(tmp_path / "v.parquet")])
    err = capsys.readouterr().err
    assert code == 2 and not (tmp_path / "v.parquet").exists()
    assert "environment.toml line 2: surface_haul_km.waste was renamed surface_haul_km.dump" in err


# ---------------------------------------------------------------------------------------------
# documented keys and example files

def _documented_keys() -> set[str]:
    """Backticked names in the first column of the tables headed '| key |' in docs/parameters.md."""
    keys, in_table = set(), False
    for line in PARAMETERS_MD.splitlines():
        if line.startswith("| key |"):
            in_table = True
        elif not line.startswith("|"):
            in_table = False
        elif in_table:
            keys.update(re.findall(r"`([a-z0-9_]+)`", line.split("|")[1]))
    return keys


def test_every_documented_key_is_a_field_and_reads_from_a_file(tmp_path):
    fields = {"economics": set(Economics.__dataclass_fields__), "environment": set(Environment.__dataclass_fields__)}
    documented = _documented_keys()
    assert len(documented) > 35 and documented <= fields["economics"] | fields["environment"], \
        documented - fields["economics"] - fields["environment"]
    # every documented environment key, written at a valid value, reads back
    env = Environment(exit_z_m=500.0, exit_xy_m=(0.0, 0.0), bwi_default=14.0, dump_density_t_m3=1.9)
    flat = [f"{k} = {_value(getattr(env, k))}" for k in sorted(documented & fields["environment"])
            if k != "surface_haul_km"]
    path = tmp_path / "environment.toml"
    path.write_text("\n".join(flat) + "\n\n[surface_haul_km]\nmill = 2.0\nstockpile = 1.5\ndump = 1.0\n")
    assert Environment.from_toml(path) == env
    # every documented economics key is written by to_toml and reads back
    econ = default_economics(15.0)
    path = tmp_path / "economics.toml"
    path.write_text(econ.to_toml())
    written = set(key_lines(path.read_text()))
    assert {(k,) for k in documented & fields["economics"]} <= written
    assert Economics.from_toml(path) == econ


def _value(v) -> str:
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, tuple):
        return "[" + ", ".join(map(str, v)) + "]"
    return repr(v)


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "examples").glob("*.toml")))
def test_example_files_read(name):
    path = ROOT / "examples" / name
    if name.startswith("study"):
        from orepit.study.sweep_study import load_study
        assert load_study(path).cases()
    elif "environment" in name:
        assert Environment.from_toml(path).surface_haul_km == {"mill": 2.0, "stockpile": 1.5, "dump": 1.0}
    elif name.startswith("variogram"):
        from orepit.valuation.realisations import Variogram
        assert Variogram.from_toml(path).cv
    elif name.startswith("slopes"):
        from orepit.valuation.slopes import SlopeTable
        assert SlopeTable.from_toml(path).angles
    else:
        assert Economics.from_toml(path).elements or name == "kd.toml"
