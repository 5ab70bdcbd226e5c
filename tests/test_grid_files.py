"""OMF and VTK files: round trips, and the files open in the omf package and in pyvista."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from orepit import BlockModel, InputError
from orepit.data.columns import parse_columns
from orepit.data.files import read_model, write_model
from orepit.valuation.synthetic import synthetic_deposit

from _example_model import COLUMNS, EXAMPLE

# the omf package's vector library (vectormath) predates numpy 2 and warns on every array it makes
pytestmark = pytest.mark.filterwarnings("ignore:__array_wrap__ must accept context:DeprecationWarning")


def _read(path, **kwargs):
    return read_model(path, assumptions=[], **kwargs)


def _results_like(seed=3):
    """A sparse synthetic model with result-type columns: bool, int, text, categorical, float."""
    model = synthetic_deposit(dims=(8, 7, 5), seed=seed, air="remove")
    rng = np.random.default_rng(seed)
    n = model.n_blocks
    return model.assign(in_pit=rng.random(n) < 0.5, period_green=rng.integers(-1, 6, n),
                        destination=np.where(rng.random(n) < 0.3, "mill", "dump").astype(object),
                        value_mill_usd=rng.normal(0, 1e6, n))


def test_csv_to_omf_to_csv_gives_the_same_table(tmp_path):
    model = _read(EXAMPLE, columns=parse_columns(COLUMNS), grades=["cu", "au"])
    write_model(model, tmp_path / "a.csv")
    write_model(model, tmp_path / "m.omf")
    back = _read(tmp_path / "m.omf")
    write_model(back, tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_text() == (tmp_path / "b.csv").read_text()
    assert (back.block_size, back.origin, back.grades, back.dims) == (model.block_size, model.origin,
                                                                      model.grades, model.dims)


def test_omf_round_trip_keeps_every_column_and_type(tmp_path):
    model = _results_like()
    assert not model.is_dense
    write_model(model, tmp_path / "r.omf")
    back = _read(tmp_path / "r.omf")
    pd.testing.assert_frame_equal(back.frame, model.frame)
    assert (back.block_size, back.origin, back.grades, back.name) == (model.block_size, model.origin,
                                                                      model.grades, model.name)


def test_omf_arrays_are_compressed_at_the_stated_zlib_level(tmp_path):
    """Each array's zlib stream (at the offsets the file's index lists) says its level in its header:
    0x78 0x01, the fastest; the package's own serializer is as it was afterwards."""
    import re
    import zlib

    import omf.serializers

    from orepit.data import omf_file
    write_model(_results_like(), tmp_path / "r.omf")
    raw = (tmp_path / "r.omf").read_bytes()
    starts = [int(m) for m in re.findall(rb'"start": (\d+)', raw)]
    assert omf_file.ZLIB_LEVEL == 1 and len(starts) >= 6
    assert {raw[s:s + 2] for s in starts} == {b"\x78\x01"}
    assert omf.serializers.zlib is zlib


def test_written_omf_opens_in_the_omf_package(tmp_path):
    import omf
    model = _results_like().subset(np.arange(_results_like().n_blocks) % 3 > 0)
    model = BlockModel(model.frame.drop(columns=["parent_id", "x", "y", "z"]), block_size=model.block_size,
                       origin=(500000.0, 7000000.0, 2000.0), grades=model.grades, name="pit")
    write_model(model, tmp_path / "r.omf")
    project = omf.OMFReader(str(tmp_path / "r.omf")).get_project()
    project.validate()
    (element,) = project.elements
    geometry = element.geometry
    nx, ny, nz = model.dims
    assert isinstance(element, omf.VolumeElement) and element.name == "pit"
    np.testing.assert_array_equal(geometry.tensor_u, np.full(nx, model.block_size[0]))
    np.testing.assert_array_equal(geometry.tensor_w, np.full(nz, model.block_size[2]))
    assert list(geometry.origin) == [500000.0, 7000000.0, 2000.0]
    data = {d.name: d for d in element.data}
    cell = model.i + nx * (model.j + ny * model.k)                   # u fastest, as OMF v2's ijk_to_index
    np.testing.assert_array_equal(data["cu"].array.array[cell], model["cu"])
    np.testing.assert_array_equal(data["orepit_block"].array.array[cell], np.arange(model.n_blocks))
    assert (data["orepit_block"].array.array >= 0).sum() == model.n_blocks
    rock = data["rock"]
    labels = np.array(rock.legends[0].values.array)
    np.testing.assert_array_equal(labels[rock.indices.array[cell]], model["rock"].astype(str))
    assert set(data) == set(model.columns) - {"i", "j", "k", "x", "y", "z"} | {"orepit_block"}


def _external_omf(path, axis_u=(1.0, 0.0, 0.0), tensor_u=(10.0, 10.0, 10.0)):
    """A dense OMF block model as another program would write it: NaN outside the domain, legend codes."""
    import omf
    dims = (len(tensor_u), 2, 2)
    n = int(np.prod(dims))
    cu = np.linspace(0.1, 1.2, n)
    cu[[0, 5]] = np.nan
    code = np.array([0, 1] * (n // 2))
    code[[0, 5]] = -1
    geometry = omf.VolumeGridGeometry(tensor_u=np.array(tensor_u), tensor_v=np.full(2, 10.0), tensor_w=np.full(2, 5.0),
                                      origin=[100.0, 200.0, 300.0], axis_u=list(axis_u),
                                      axis_v=[-axis_u[1], axis_u[0], 0.0])
    element = omf.VolumeElement(name="resource", geometry=geometry, data=[
        omf.ScalarData(name="CU", location="cells", array=cu),
        omf.MappedData(name="LITH", location="cells", array=omf.ScalarArray(code),
                       legends=[omf.Legend(name="LITH", values=omf.StringArray(["ox", "fr"]))])])
    project = omf.Project(name="p", elements=[element], origin=[500000.0, 7000000.0, 0.0])
    omf.OMFWriter(project, str(path))
    return cu


def test_external_omf_is_read(tmp_path):
    cu = _external_omf(tmp_path / "e.omf")
    notes = []
    model = read_model(tmp_path / "e.omf", columns={"rock": "LITH"}, grades=["cu"], assumptions=notes)
    assert model.block_size == (10.0, 10.0, 5.0) and model.origin == (500100.0, 7000200.0, 300.0)
    assert model.n_blocks == 10 and model.name == "resource"          # two cells have no value: no block
    cell = model.i + 3 * (model.j + 2 * model.k)
    np.testing.assert_array_equal(model["cu"], cu[cell])
    assert model["rock"].tolist() == [["ox", "fr"][c % 2] for c in cell]
    assert notes[0] == "columns found by their common names: cu=CU"
    assert notes[1].startswith("tonnage: the model has no tonnage or density column (looked for TONNAGE, TONNES")


def test_rotated_or_irregular_omf_is_refused(tmp_path):
    _external_omf(tmp_path / "r.omf", axis_u=(np.sqrt(0.5), np.sqrt(0.5), 0.0))
    with pytest.raises(InputError, match=r"r.omf: block model 'resource' is rotated \(axis_u = \[0.707"):
        read_model(tmp_path / "r.omf")
    _external_omf(tmp_path / "t.omf", tensor_u=(10.0, 12.5, 10.0))
    with pytest.raises(InputError, match="t.omf: block model 'resource' is not a regular grid: cell widths along u "
                                         r"vary \(10, 12.5 m\)"):
        read_model(tmp_path / "t.omf")
    (tmp_path / "bad.omf").write_bytes(b"not an omf file")
    with pytest.raises(InputError, match="bad.omf: cannot read OMF file"):
        read_model(tmp_path / "bad.omf")


def test_vtk_files_open_in_pyvista(tmp_path):
    import pyvista
    model = _results_like()
    write_model(model, tmp_path / "m.vti")
    write_model(model, tmp_path / "m.vtu")
    image = pyvista.read(tmp_path / "m.vti")
    nx, ny, nz = model.dims
    assert image.dimensions == (nx + 1, ny + 1, nz + 1)
    np.testing.assert_allclose(image.origin, model.origin)
    np.testing.assert_allclose(image.spacing, model.block_size)
    cell = model.grid_index()
    np.testing.assert_array_equal(image.cell_data["cu"][cell], model["cu"])
    np.testing.assert_array_equal(image.cell_data["period_green"][cell], model["period_green"])
    assert image.cell_data["block"].sum() == model.n_blocks
    assert (image.cell_data["vtkGhostType"] == 32).sum() == nx * ny * nz - model.n_blocks
    labels = np.asarray(image.field_data["rock_labels"])
    np.testing.assert_array_equal(labels[image.cell_data["rock"][cell]], model["rock"].astype(str))
    grid = pyvista.read(tmp_path / "m.vtu")
    assert grid.n_cells == model.n_blocks and set(grid.celltypes) == {pyvista.CellType.HEXAHEDRON}
    assert grid.volume == pytest.approx(model.n_blocks * np.prod(model.block_size), rel=1e-9)
    np.testing.assert_allclose(grid.cell_centers().points, np.stack([model.x, model.y, model.z], axis=1))
    np.testing.assert_array_equal(grid.cell_data["in_pit"], model["in_pit"].astype(np.uint8))
    labels = np.asarray(grid.field_data["destination_labels"])
    np.testing.assert_array_equal(labels[grid.cell_data["destination"]], model["destination"])


def test_formats_by_extension(tmp_path):
    model = _results_like()
    with pytest.raises(InputError, match=r"m.vti: .vti files are written, not read"):
        read_model(tmp_path / "m.vti")
    with pytest.raises(InputError, match="m.xyz: unknown block model format"):
        write_model(model, tmp_path / "m.xyz")
    no_size = BlockModel(model.frame[["i", "j", "k", "tonnage"]])
    for suffix in (".omf", ".vti", ".vtu"):
        with pytest.raises(InputError, match="needs the block size"):
            write_model(no_size, tmp_path / f"m{suffix}")
        assert not (tmp_path / f"m{suffix}").exists()


def test_cell_columns_hand_a_dense_models_numbers_over_without_copying():
    from orepit.data.cells import cell_columns
    dense = synthetic_deposit(dims=(4, 3, 2), seed=1)
    assert dense.is_dense
    columns = {c.name: c.values for c in cell_columns(dense, whole_grid=True)}
    assert np.shares_memory(columns["cu"], dense["cu"])
    sparse = _results_like()
    values = {c.name: c.values for c in cell_columns(sparse, whole_grid=True)}["cu"]
    assert len(values) == int(np.prod(sparse.dims)) and np.isnan(values).sum() == np.prod(sparse.dims) - sparse.n_blocks


@pytest.mark.parametrize("suffix", [".vti", ".omf"])
def test_grid_files_are_written_a_column_at_a_time(tmp_path, suffix):
    """The writer holds about one column's copy (encoded text, compressed array) at a time, not every
    column's (numpy arrays and the encoded bytes are traced by tracemalloc); the file reads back whole."""
    import tracemalloc
    model = synthetic_deposit(dims=(50, 40, 25), seed=2)
    rng = np.random.default_rng(0)
    model = model.assign(**{f"extra_{k}": rng.random(model.n_blocks) for k in range(20)})
    columns = len(model.columns) - 6                # every one but the geometry goes into the file
    tracemalloc.start()
    try:
        write_model(model, tmp_path / f"m{suffix}")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert columns > 25 and peak < 12 * 8 * model.n_blocks, peak / (8 * model.n_blocks)   # copies of 12 float columns
    if suffix == ".omf":
        pd.testing.assert_frame_equal(_read(tmp_path / "m.omf").frame, model.frame, check_exact=True)
