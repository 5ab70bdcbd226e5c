"""Column mappings: the NAME=FILECOLUMN text, the [columns] TOML table, common names, explicit wins."""
from __future__ import annotations

import pytest

from orepit import InputError
from orepit.data.columns import columns_from_toml, parse_columns, read_columns, resolve_columns


def test_parse_columns_text():
    assert parse_columns("x=XC,y=YC,z=ZC,density=DENSITY,cu=CU,au=AU") == {
        "x": "XC", "y": "YC", "z": "ZC", "density": "DENSITY", "cu": "CU", "au": "AU"}
    assert parse_columns(" cu = Cu pct , x=X ") == {"cu": "Cu pct", "x": "X"}
    assert parse_columns("bi=BI_PPM,rock2=ALT,Cu=CU") == {"bi": "BI_PPM", "rock2": "ALT", "Cu": "CU"}   # grades


@pytest.mark.parametrize("text,message", [
    ("", "expected NAME=FILECOLUMN pairs separated by commas, got nothing"),
    ("x=XC,yYC", "pair 2 'yYC' is not NAME=FILECOLUMN"),
    ("x=XC,=YC", "pair 2 '=YC' is not NAME=FILECOLUMN"),
    ("x=XC,y=", "pair 2 'y=' is not NAME=FILECOLUMN"),
    ("x=XC=YC", "pair 1 'x=XC=YC' has two '='"),
    ("x=XC,x=YC", "'x' is mapped twice (to 'XC' and 'YC')"),
    ("x=XC,y=XC", "file column 'XC' is mapped twice (to 'x' and 'y')"),
    ("tonnes=TONNES", "model name 'tonnes' in tonnes=TONNES: did you mean tonnage=TONNES?"),
    ("Density=SG", "did you mean density=SG?"),
    ("easting=E,y=N", "did you mean x=E?"),
    ("densty=SG", "did you mean density=SG?"),
    ("sulfur=S_PCT", "did you mean sulphur=S_PCT?"),
])
def test_parse_columns_errors(text, message):
    with pytest.raises(InputError) as err:
        parse_columns(text)
    assert message in str(err.value) and err.value.field == "--columns"


def test_columns_table_in_toml(tmp_path):
    path = tmp_path / "params.toml"
    path.write_text('currency = "USD"\n\n[columns]\nx = "XC"\ny = "YC"\n"cu" = "CU_PCT"\n')
    assert read_columns(path) == {"x": "XC", "y": "YC", "cu": "CU_PCT"}
    path.write_text('currency = "USD"\n\n[columns]\nx = "XC"\ny = 3\n')
    with pytest.raises(InputError) as err:
        read_columns(path)
    assert str(err.value) == "params.toml line 5: columns.y: expected the name of a file column in quotes, got 3"
    path.write_text('currency = "USD"\n\n[columns]\nx = "XC"\ntonnes = "T"\n')
    with pytest.raises(InputError, match=r"^params.toml line 5: model name 'tonnes' in tonnes=T: did you mean tonnage=T\?"):
        read_columns(path)
    assert columns_from_toml({"currency": "USD"}) == {}
    with pytest.raises(InputError, match="columns: expected a table"):
        columns_from_toml({"columns": "x=XC"}, text='columns = "x=XC"\n')


def test_common_names_and_explicit_mapping():
    file = ["XC", "YC", "ZCENTRE", "SG", "Cu", "TONNES"]
    rename, found, problems = resolve_columns(file, None, grades=["cu"])
    assert rename == {"XC": "x", "YC": "y", "ZCENTRE": "z", "SG": "density", "TONNES": "tonnage", "Cu": "cu"}
    assert problems == [] and found["density"] == "SG"
    # two candidates for x: an error without a mapping; the explicit mapping wins and settles it
    assert resolve_columns(file + ["EAST"], None)[2] == [
        "x: several columns could hold it (XC, EAST); choose one with a column mapping x=COLUMN"]
    rename, found, problems = resolve_columns(file + ["EAST"], {"x": "EAST"}, grades=["cu"])
    assert rename["EAST"] == "x" and "XC" not in rename and "x" not in found and problems == []
    # a mapped name is found case-insensitively when the exact one is absent
    rename, _, _ = resolve_columns(file, {"density": "sg"})
    assert rename["SG"] == "density"


def test_mapping_problems_are_all_named():
    _, _, problems = resolve_columns(["X", "XC", "Y", "Z", "cu", "CU_PCT"], {"au": "AU", "cu": "CU_PCT"})
    assert problems == [
        "column mapping au=AU: 'AU' is not in the file (file columns: X, XC, Y, Z, cu, CU_PCT)",
        "x: several columns could hold it (X, XC); choose one with a column mapping x=COLUMN",
        "column 'CU_PCT' is mapped to 'cu' but the file has a column 'cu' too; map 'cu' to another name",
    ]
