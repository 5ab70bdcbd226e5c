"""Block models as VTK XML files for ParaView and pyvista, written with numpy alone.

- ``.vti`` (ImageData): the whole grid, one cell per grid cell in x-fastest order.  Cells without
  a block carry ``block = 0`` and are marked hidden in ``vtkGhostType`` (ParaView does not draw
  them); numeric columns hold NaN (floats) or 0 (integers) there.
- ``.vtu`` (UnstructuredGrid): one hexahedron per block, nothing for absent cells.

Every column except the grid indices and centres becomes a cell array: floats as Float64,
integers as Int64, booleans as UInt8, categorical and text columns as Int32 codes (-1 = empty)
with their labels in a field-data string array ``<column>_labels``.  Arrays are base64-encoded
binary (UInt64 length header, little-endian), as the VTK XML format describes.
"""
from __future__ import annotations

import base64
from itertools import chain
from xml.sax.saxutils import quoteattr

import numpy as np

from solvers.errors import InputError

from orepit.data.atomic import atomic_path
from orepit.data.cells import cell_columns, column_labels
from orepit.data.model import BlockModel

HIDDEN_CELL = 32  # vtkDataSetAttributes::HIDDENCELL
HEXAHEDRON = 12   # VTK cell type
_TYPES = {"float64": "Float64", "int64": "Int64", "int32": "Int32", "uint8": "UInt8", "uint64": "UInt64"}
_CORNERS = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 1, 1]])


def _array(name: str, values: np.ndarray, components: int = 1) -> bytes:
    """One binary DataArray element."""
    if values.dtype.name not in _TYPES:     # bool -> UInt8, other widths -> 64 bits
        values = values.astype({"f": np.float64, "b": np.uint8, "u": np.uint64}.get(values.dtype.kind, np.int64))
    vtk_type = _TYPES[values.dtype.name]
    data = np.ascontiguousarray(values, dtype=values.dtype.newbyteorder("<"))
    blob = np.array([data.nbytes], dtype="<u8").tobytes() + data.tobytes()
    parts = f' NumberOfComponents="{components}"' if components > 1 else ""
    return (f'<DataArray type="{vtk_type}" Name={quoteattr(name)}{parts} format="binary">'.encode()
            + base64.b64encode(blob) + b"</DataArray>")


def _labels(name: str, labels) -> str:
    """A string array (ASCII format: each string as character codes ending in 0)."""
    codes = " ".join(" ".join(str(b) for b in str(label).encode("utf-8")) + " 0" for label in labels)
    return (f'<Array type="String" Name={quoteattr(name)} NumberOfTuples="{len(labels)}" format="ascii">'
            f'{codes}</Array>')


def _columns(model: BlockModel, whole_grid: bool):
    """(field-data label arrays, cell-data arrays) of every column but the geometry; the cell-data
    arrays are encoded one at a time, as they are written (a model's columns are never all encoded at
    once)."""
    fields = [_labels(f"{name}_labels", labels) for name, labels in column_labels(model)]
    arrays = (_array(column.name, column.values if column.labels is None else column.values.astype(np.int32))
              for column in cell_columns(model, whole_grid))
    return fields, arrays


def _write(path, kind: str, head: str, fields: list[str], pieces, tail: str) -> None:
    """The VTK XML file: ``head``, the field data, the ``pieces`` (text or encoded bytes, an iterable),
    ``tail``; written piece by piece, atomically (a large model's arrays are never joined into one text)."""
    field_data = f"<FieldData>{''.join(fields)}</FieldData>\n" if fields else ""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(('<?xml version="1.0"?>\n'
                  f'<VTKFile type="{kind}" version="1.0" byte_order="LittleEndian" header_type="UInt64">\n'
                  + head + field_data).encode("utf-8"))
        for piece in pieces:
            fh.write(piece.encode("utf-8") if isinstance(piece, str) else piece)
        fh.write((tail + "</VTKFile>\n").encode("utf-8"))


def _need_size(model: BlockModel, path) -> None:
    if model.block_size is None:
        raise InputError("a VTK file needs the block size (the model does not state it)", path=path,
                         field="block_size")


def write_vti(model: BlockModel, path) -> None:
    """The whole grid as VTK ImageData (``.vti``); absent blocks hidden."""
    _need_size(model, path)
    nx, ny, nz = model.dims
    n = nx * ny * nz
    cells = model.grid_index()
    fields, arrays = _columns(model, True)
    block = np.zeros(n, dtype=np.uint8)
    block[cells] = 1
    ghost = np.where(block == 1, 0, HIDDEN_CELL).astype(np.uint8)
    arrays = chain(arrays, [_array("block", block), _array("vtkGhostType", ghost)])
    extent = f"0 {nx} 0 {ny} 0 {nz}"
    head = (f'<ImageData WholeExtent="{extent}" Origin="{" ".join(repr(float(v)) for v in model.origin)}" '
            f'Spacing="{" ".join(repr(float(v)) for v in model.block_size)}">\n')
    _write(path, "ImageData", head, fields, chain([f'<Piece Extent="{extent}">\n<CellData>\n'], _lines(arrays)),
           "\n</CellData>\n</Piece>\n</ImageData>\n")


def write_vtu(model: BlockModel, path) -> None:
    """One hexahedron per block as a VTK UnstructuredGrid (``.vtu``)."""
    _need_size(model, path)
    n = model.n_blocks
    size = np.asarray(model.block_size)
    low = np.stack([model.x, model.y, model.z], axis=1) - size / 2
    points = (low[:, None, :] + _CORNERS[None, :, :] * size).reshape(-1, 3)
    fields, arrays = _columns(model, False)
    pieces = chain([f'<Piece NumberOfPoints="{8 * n}" NumberOfCells="{n}">\n<Points>\n', _array("Points", points.ravel(), 3),
                    "\n</Points>\n<Cells>\n", *_lines([_array("connectivity", np.arange(8 * n, dtype=np.int64)),
                                                       _array("offsets", 8 * np.arange(1, n + 1, dtype=np.int64)),
                                                       _array("types", np.full(n, HEXAHEDRON, dtype=np.uint8))]),
                    "\n</Cells>\n<CellData>\n"], _lines(arrays))
    _write(path, "UnstructuredGrid", "<UnstructuredGrid>\n", fields, pieces, "\n</CellData>\n</Piece>\n</UnstructuredGrid>\n")


def _lines(pieces):
    """``pieces`` with a line break between each two (what ``"\\n".join`` gives, without joining), as
    they come."""
    for k, piece in enumerate(pieces):
        if k:
            yield b"\n"
        yield piece
