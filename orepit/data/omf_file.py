"""Block models in Open Mining Format v1 (``.omf``), through the ``omf`` package (1.x).

OMF v1 stores a block model as a ``VolumeElement`` whose ``VolumeGridGeometry`` gives the cell
widths along three axes (``tensor_u, tensor_v, tensor_w``), the axis directions and an origin
(the lower corner of the grid, added to the project's origin); its data are arrays with one
value per cell.  Cells are numbered with u fastest, then v, then w - the order of OMF v2's
``ijk_to_index`` (Fortran order), which the omf package's v1-to-v2 converter keeps unchanged -
and the same x-fastest order as orepit's grid index.

Reading takes the first volume element; its grid must be regular (constant widths) and
unrotated (axes along x, y, z).  Scalar data become numeric columns, mapped data (indices into a
legend) categorical columns, string data text columns; vector, colour and date data are skipped
with a note.  A cell is a block unless the file marks it absent: by -1 in the ``orepit_block`` array
(written by orepit for models that are not the whole grid in grid order: the block number of
each cell, which also restores the row order), or, without it, by having no value in any array
(NaN, or -1 for mapped data).

Writing stores every column except the grid indices and centres, the block size, origin and
name, and (in the element's description, as JSON after ``orepit ``) the grade columns, the
column order and types, so that a model written and read back is the same model.
"""
from __future__ import annotations

import contextlib
import json
import os
import types
import warnings
import zlib

import numpy as np
import pandas as pd

from solvers.errors import InputError

from orepit.data.atomic import atomic_path
from orepit.data.cells import cell_columns
from orepit.data.model import BlockModel

MARK = "orepit_block"   # the block (row) number of each cell, -1 where the cell holds no block
META = "orepit "        # description prefix of the JSON metadata
#: zlib level of the arrays written (the omf package compresses at zlib's default, 6, and has no
#: setting for it).  At 1 a million-block results model takes 6.6 CPU s instead of 10.8 s, for a
#: file 1 % larger (102 against 101 MB); any level reads back the same.
ZLIB_LEVEL = 1


@contextlib.contextmanager
def _omf_package():
    """The omf package, without the numpy 2 deprecation warnings its vector library raises."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        import omf
        yield omf


def read_omf(path) -> tuple[pd.DataFrame, dict, list[str]]:
    """(table with i, j, k, x, y, z and one column per cell array, {block_size, origin, name, grades}, notes)."""
    with _omf_package() as omf:
        return _read(omf, os.fspath(path))


def _read(omf, path):
    try:
        project = omf.OMFReader(path).get_project()
        project.validate()
    except Exception as exc:  # noqa: BLE001 - a damaged file can fail anywhere in the omf package
        raise InputError(f"cannot read OMF file: {exc}", path=path) from None
    volumes = [e for e in project.elements if isinstance(e, omf.VolumeElement)]
    notes = []
    if not volumes:
        kinds = ", ".join(type(e).__name__ for e in project.elements) or "none"
        raise InputError(f"no block model (VolumeElement) in the OMF file; its elements: {kinds}", path=path)
    if len(volumes) > 1:
        notes.append(f"OMF: the file holds {len(volumes)} block models "
                     f"({', '.join(repr(v.name) for v in volumes)}); read the first, {volumes[0].name!r}")
    element = volumes[0]
    geometry = element.geometry
    for axis, want in (("axis_u", (1, 0, 0)), ("axis_v", (0, 1, 0)), ("axis_w", (0, 0, 1))):
        got = np.asarray(getattr(geometry, axis), dtype=np.float64)
        if not np.allclose(got, want, atol=1e-9):
            raise InputError(f"block model {element.name!r} is rotated ({axis} = {got.tolist()}); orepit needs "
                             "axes along x, y and z", path=path, field=axis)
    size = []
    for axis in ("tensor_u", "tensor_v", "tensor_w"):
        widths = np.asarray(getattr(geometry, axis), dtype=np.float64)
        if np.ptp(widths) > 1e-9 * widths.max():
            found = ", ".join(f"{w:g}" for w in np.unique(widths)[:6])
            raise InputError(f"block model {element.name!r} is not a regular grid: cell widths along {axis[-1]} "
                             f"vary ({found} m)", path=path, field=axis)
        size.append(float(widths[0]))
    dims = [len(geometry.tensor_u), len(geometry.tensor_v), len(geometry.tensor_w)]
    origin = [float(a + b) for a, b in zip(project.origin, geometry.origin)]
    meta = _meta(element.description)
    columns, empty = {}, []
    for data in element.data:
        try:
            values, is_empty = _cell_values(data, meta.get("dtypes", {}).get(data.name), notes)
        except (AttributeError, TypeError, ValueError, IndexError) as exc:    # damaged data the omf package let by
            raise InputError(f"data {data.name!r} cannot be read: {exc}", path=path, field=data.name) from None
        if values is None:
            continue
        if len(values) != int(np.prod(dims)):
            raise InputError(f"data {data.name!r} has {len(values)} values for {int(np.prod(dims))} cells",
                             path=path, field=data.name)
        columns[data.name] = values
        empty.append(is_empty)
    if MARK in columns:
        row = np.asarray(columns.pop(MARK), dtype=np.int64)
        cells = np.flatnonzero(row >= 0)
        cells = cells[np.argsort(row[cells], kind="stable")]
    else:
        present = ~np.logical_and.reduce(empty) if empty else np.ones(int(np.prod(dims)), dtype=bool)
        cells = np.flatnonzero(present)
    ijk = np.stack([cells % dims[0], (cells // dims[0]) % dims[1], cells // (dims[0] * dims[1])], axis=1)
    table = pd.DataFrame({"i": ijk[:, 0], "j": ijk[:, 1], "k": ijk[:, 2]})
    for a, axis in enumerate("xyz"):
        table[axis] = origin[a] + (ijk[:, a] + 0.5) * size[a]
    for name, values in columns.items():
        table[name] = values[cells] if isinstance(values, np.ndarray) else values.take(cells).reset_index(drop=True)
    order = [c for c in meta.get("columns", []) if c in table.columns]
    table = table[order + [c for c in table.columns if c not in order]]
    info = {"block_size": tuple(size), "origin": tuple(origin), "name": meta.get("name", element.name),
            "grades": tuple(meta.get("grades", ()))}
    return table, info, notes


def _meta(description: str) -> dict:
    """orepit's metadata from an element description (entries of the wrong type are dropped)."""
    if not isinstance(description, str) or not description.startswith(META):
        return {}
    try:
        data = json.loads(description[len(META):])
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    texts = lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v)    # noqa: E731
    kept = {"name": data.get("name") if isinstance(data.get("name"), str) else None,
            "grades": data.get("grades") if texts(data.get("grades")) else None,
            "columns": data.get("columns") if texts(data.get("columns")) else None,
            "dtypes": data.get("dtypes") if isinstance(data.get("dtypes"), dict) else None}
    return {key: value for key, value in kept.items() if value is not None}


def _cell_values(data, dtype: str | None, notes: list[str]):
    """(values, which are empty) of one OMF data array, or (None, None) when it is skipped."""
    kind = type(data).__name__
    if data.location != "cells":
        notes.append(f"OMF: data {data.name!r} is on the {data.location}, not the cells; skipped")
        return None, None
    if kind == "ScalarData":
        values = np.asarray(data.array.array)
        empty = np.isnan(values) if values.dtype.kind == "f" else np.zeros(values.shape, dtype=bool)
        with contextlib.suppress(TypeError, ValueError):      # the type orepit wrote, when it can be had
            values = values.astype(dtype) if dtype else values
        return values, empty
    if kind == "MappedData":
        codes = np.asarray(data.indices.array, dtype=np.int64)
        labels = [str(v) for v in data.legends[0].values.array] if data.legends else []
        if len(data.legends) > 1:
            notes.append(f"OMF: data {data.name!r} has {len(data.legends)} legends; read the first")
        values = pd.Series(pd.Categorical.from_codes(codes, categories=labels))
        if dtype not in (None, "category"):               # text written as categories: back to text
            with contextlib.suppress(TypeError, ValueError):
                values = values.astype(dtype)
        return values, codes < 0
    if kind == "StringData":
        values = pd.Series(list(data.array.array), dtype=object)
        return values, (values == "").to_numpy()
    notes.append(f"OMF: data {data.name!r} ({kind}) is not a number, category or text; skipped")
    return None, None


def write_omf(model: BlockModel, path) -> None:
    """Write ``model`` as an OMF v1 project holding one volume element, atomically."""
    with _omf_package() as omf:
        _write(omf, model, path)


def _write(omf, model: BlockModel, path) -> None:
    """The omf package's file (header, compressed arrays, JSON of every object by uid), written a data
    array at a time: the package copies every array it is given, so each array is written and let go
    before the next is made, instead of the whole project being held and then written."""
    if model.block_size is None:
        raise InputError("an OMF file needs the block size (the model does not state it)", path=path,
                         field="block_size")
    nx, ny, nz = model.dims
    frame = model.frame
    meta = {"name": model.name, "grades": list(model.grades), "columns": list(frame.columns),
            "dtypes": {c: str(frame[c].dtype) for c in frame.columns}}
    geometry = _valid(omf.VolumeGridGeometry(tensor_u=np.full(nx, model.block_size[0]),
                                             tensor_v=np.full(ny, model.block_size[1]),
                                             tensor_w=np.full(nz, model.block_size[2]), origin=list(model.origin)),
                      path)
    project = omf.Project(name=model.name or "block model", units="m", description="written by orepit")
    registry: dict = {}     # uid -> JSON of each object written, as omf.OMFWriter keeps them
    with atomic_path(path) as tmp, open(tmp, "wb") as fh, _zlib_level(omf, ZLIB_LEVEL):
        omf.OMFWriter.initialize_header(fh, project.uid)
        data = [_written(item, fh, registry, path) for item in _cell_data(omf, model)]
        project.elements = [omf.VolumeElement(name=model.name or "block model", description=META + json.dumps(meta),
                                              geometry=geometry, data=data)]
        project.serialize(registry=registry, open_file=fh)     # the geometry, element and project; the data are in
        omf.OMFWriter.update_header(fh)
        fh.write(json.dumps(registry).encode("utf-8"))


@contextlib.contextmanager
def _zlib_level(omf, level: int):
    """The omf package's array serializer compressing at ``level`` inside the ``with`` block (it
    calls ``zlib.compress`` on the ``zlib`` that ``omf.serializers`` imported)."""
    serializers = omf.serializers
    before = serializers.zlib
    serializers.zlib = types.SimpleNamespace(compress=lambda data: zlib.compress(data, level),
                                             decompress=zlib.decompress)
    try:
        yield
    finally:
        serializers.zlib = before


def _cell_data(omf, model: BlockModel):
    """The OMF data arrays of the model's columns, made one at a time, and of the block numbers of a
    model that is not the whole grid in grid order."""
    for column in cell_columns(model, whole_grid=True):
        if column.labels is None:
            values = column.values.astype(np.int64) if column.values.dtype.kind in "bu" else column.values
            yield omf.ScalarData(name=column.name, location="cells", array=values)
        else:
            legend = omf.Legend(name=column.name, values=omf.StringArray(column.labels))
            yield omf.MappedData(name=column.name, location="cells", array=omf.ScalarArray(column.values),
                                 legends=[legend])
    if not model.is_dense:
        nx, ny, nz = model.dims
        mark = np.full(nx * ny * nz, -1, dtype=np.int64)
        mark[model.grid_index()] = np.arange(model.n_blocks)
        yield omf.ScalarData(name=MARK, location="cells", array=mark,
                             description="block number of the cell in orepit, -1 where it holds no block")


def _written(data, fh, registry: dict, path):
    """``data`` checked and written (its array into ``fh``, its JSON into ``registry``), then emptied."""
    _valid(data, path).serialize(registry=registry, open_file=fh)
    data.array.array = data.array.array[:0]
    return data


def _valid(item, path):
    """``item`` once the omf package finds it valid; `InputError` otherwise."""
    try:
        item.validate()
    except Exception as exc:  # noqa: BLE001 - the omf package raises several kinds
        raise InputError(f"cannot write OMF: {exc}", path=path) from None
    return item
