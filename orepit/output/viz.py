"""3D views of a block model, rendered off-screen to PNG with pyvista (VTK); no display needed.

On Linux without a display VTK renders through EGL (Mesa's llvmpipe on a machine without a GPU);
this module sets ``VTK_DEFAULT_OPENGL_WINDOW=vtkEGLRenderWindow`` (when there is no display) before
VTK makes a window, so VTK does not try X first.  A bare Debian/Ubuntu machine needs ``libegl1
libegl-mesa0 libgl1 libgl1-mesa-dri libglx-mesa0 libgbm1 libx11-6 libxext6`` (docs/getting_started.md).

Views (each writes one PNG atomically and returns its path):

- `grade_view`: blocks coloured by grade, with the quarter nearest the camera cut away;
- `pit_view`: the ultimate pit (``in_pit``) as a stepped surface over topography, coloured by depth;
- `period_view`: mined blocks coloured by extraction period for one strategy;
- `destination_view`: blocks mined by one strategy by destination, ore-grade blocks sent to the
  dump highlighted;
- `env_cost_view`: environmental cost per tonne of the blocks one strategy mines, at the
  destinations it sends them to.

Coordinates are metres (block centres, ``BlockModel.x/y/z``); blocks with zero tonnage are air and
are not drawn.  Every view has a title, axes in model coordinates, a scale bar and a north arrow
(`_frame`), named in the PNG's text metadata; a period view's colour bar has one tick a period.
"""
from __future__ import annotations

import os
import sys

import numpy as np
import pandas as pd

from solvers.errors import InputError

from orepit.data.atomic import atomic_path
from orepit.data.model import BlockModel
from orepit.planning.strategies import strategy_key

WINDOW = (900, 600)  # default image size (width, height) in pixels
BACKGROUND = "white"
#: destination class -> colour; "ore to dump" marks ore-grade blocks the plan sends to the dump.
CLASS_COLOURS = {"mill": "#d62728", "stockpile": "#ff9f1c", "ore to dump": "#e000e0", "waste to dump": "#9a9a9a"}
#: `destination_classes`' labels by index: 0 not mined, then the classes above in their order
CLASSES = np.array(["", *CLASS_COLOURS], dtype=object)
#: the six grid neighbours of a block (di, dj, dk), in face order -x, +x, -y, +y, -z, +z
_DIRS = ((-1, 0, 0), (1, 0, 0), (0, -1, 0), (0, 1, 0), (0, 0, -1), (0, 0, 1))


def pyvista():
    """The pyvista module, imported on first use (here and nowhere else), with VTK told to render
    through EGL when there is no display."""
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
    import pyvista as pv
    return pv


def _need(model: BlockModel, *columns: str) -> None:
    missing = [c for c in columns if c not in model]
    if missing:
        raise InputError(f"block model has no column(s) {', '.join(missing)} needed for this view",
                         path=model.source, field=missing[0])


def solid(model: BlockModel) -> np.ndarray:
    """Blocks that are rock (tonnage > 0; every block when there is no tonnage column)."""
    return model["tonnage"] > 0 if "tonnage" in model else np.ones(model.n_blocks, dtype=bool)


def ore_grade(model: BlockModel) -> np.ndarray:
    """Blocks worth processing: mill value above dump value (USD); without values, a positive grade
    (``cu``, else the first grade column); with neither, none."""
    if "value_mill" in model and "value_dump" in model:
        return model["value_mill"] > model["value_dump"]
    for grade in ("cu", *model.grades):
        if grade in model:
            return model[grade].astype(float) > 0
    return np.zeros(model.n_blocks, dtype=bool)


def _spacing(model: BlockModel) -> tuple[float, float, float]:
    return model.block_size if model.block_size else (1.0, 1.0, 1.0)


def block_mesh(model: BlockModel, mask, *, opaque: bool = True, **cell_arrays) -> "pyvista.UnstructuredGrid":
    """The blocks where ``mask`` holds as hexahedral cells, with the given per-block arrays as cell data;
    when the mesh is drawn ``opaque``, only the blocks that can be seen (`visible`)."""
    mask = np.asarray(mask, dtype=bool)
    if opaque:
        mask = visible(model, mask)
    nx, ny, nz = model.dims
    grid = pyvista().ImageData(dimensions=(nx + 1, ny + 1, nz + 1), spacing=_spacing(model), origin=model.origin)
    cells = model.grid_index()[mask]
    order = np.argsort(cells, kind="stable")
    mesh = grid.extract_cells(cells[order])  # extract_cells keeps ascending cell order
    for name, values in cell_arrays.items():
        mesh.cell_data[name] = np.asarray(values)[mask][order]
    return mesh


#: `visible` lays the grid out densely (a byte a cell) only while it has at most this many cells a block
VISIBLE_CELLS_PER_BLOCK = 64


def visible(model: BlockModel, mask) -> np.ndarray:
    """``mask`` without the blocks whose six grid neighbours are all in it: drawn opaque they are
    hidden by their neighbours, and leaving them out of a mesh draws the same picture with a tenth
    of the cells on a large model.  A model whose grid is mostly empty (over
    `VISIBLE_CELLS_PER_BLOCK` cells a block) keeps every block of the mask."""
    mask = np.asarray(mask, dtype=bool)
    nx, ny, nz = model.dims
    if (nx + 2) * (ny + 2) * (nz + 2) > VISIBLE_CELLS_PER_BLOCK * max(model.n_blocks, 1):
        return mask
    cover = _cover(model, mask)
    hidden = cover[1:-1, 1:-1, 1:-1].copy()     # per grid cell: in the mask, and so is each neighbour
    for di, dj, dk in _DIRS:
        hidden &= cover[1 + di:nx + 1 + di, 1 + dj:ny + 1 + dj, 1 + dk:nz + 1 + dk]
    return mask & ~hidden[model.i, model.j, model.k]


def _cover(model: BlockModel, blocks) -> np.ndarray:
    """The grid with a margin of one cell all round, True at the cells of ``blocks`` (a boolean mask):
    cell (i + 1, j + 1, k + 1) is block (i, j, k)'s."""
    nx, ny, nz = model.dims
    cover = np.zeros((nx + 2, ny + 2, nz + 2), dtype=bool)
    cover[model.i[blocks] + 1, model.j[blocks] + 1, model.k[blocks] + 1] = True
    return cover


def cutaway(model: BlockModel) -> np.ndarray:
    """False for the quarter of the model nearest the default camera (x and y above their middles)."""
    x, y = model.x, model.y
    xm, ym = (x.min() + x.max()) / 2, (y.min() + y.max()) / 2
    return ~((x > xm) & (y > ym))


def _plotter(window_size, shape=(1, 1)) -> "pyvista.Plotter":
    p = pyvista().Plotter(off_screen=True, window_size=list(window_size), shape=shape, border=False)
    p.set_background(BACKGROUND)
    return p


def _camera(p: "pyvista.Plotter", zoom: float = 1.15, elevation: float = -8.0) -> None:
    """Oblique view from the +x, +y side; ``elevation`` (degrees) tilts it from the isometric one."""
    p.camera_position = "iso"
    p.camera.elevation = elevation
    p.reset_camera()
    p.camera.zoom(zoom)


def _save(p: "pyvista.Plotter", path) -> str:
    """Write the picture; what `_frame` drew goes into the PNG's text metadata."""
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo
    info = PngInfo()
    for key, text in {"title": getattr(p, "_orepit_title", ""), **getattr(p, "_orepit_frame", {})}.items():
        info.add_text(key, text)
    try:
        img = p.screenshot(return_img=True)
    finally:
        p.close()
    with atomic_path(path) as tmp:
        Image.fromarray(img).save(tmp, format="PNG", pnginfo=info)  # optimize: 6x the time for 0.3 % less
    return os.fspath(path)


def scale_length(span: float) -> float:
    """A round length (1, 2 or 5 times a power of ten, m) of at most ``span``: the scale bar's."""
    power = 10.0 ** np.floor(np.log10(span))
    return float(max(f for f in (1.0, 2.0, 5.0) if f * power <= span) * power)


def _frame(p: "pyvista.Plotter", model: BlockModel) -> None:
    """Axes in model coordinates (easting, northing, elevation, m), a scale bar along x at the foot
    of the model's front side and a north arrow (+y) above its front corner; recorded for `_save`."""
    pv = pyvista()
    x0, y0, z0 = model.origin
    dx, dy, dz = _spacing(model)
    nx, ny, nz = model.dims
    x1, y1, z1 = x0 + nx * dx, y0 + ny * dy, z0 + nz * dz
    titles = ("easting (m)", "northing (m)", "elevation (m)")
    p.show_bounds(bounds=(x0, x1, y0, y1, z0, z1), xtitle=titles[0], ytitle=titles[1], ztitle=titles[2],
                  color="black", font_size=9, fmt="%.0f", n_xlabels=3, n_ylabels=3, n_zlabels=3, location="outer")
    length = scale_length(max(x1 - x0, y1 - y0) / 4)
    front = y1 + 0.06 * (y1 - y0)
    p.add_mesh(pv.Line((x0, front, z0), (x0 + length, front, z0)), color="black", line_width=5)
    arrow_at = (x1 + 0.06 * (x1 - x0), y0, z1)
    p.add_mesh(pv.Arrow(start=arrow_at, direction=(0.0, 1.0, 0.0), scale=length), color="black")
    labels = {"scale": ((x0 + length / 2, front, z0), f"{length:g} m"),
              "north": ((arrow_at[0], arrow_at[1] + 1.15 * length, arrow_at[2]), "N")}
    p.add_point_labels([point for point, _ in labels.values()], [text for _, text in labels.values()],
                       font_size=12, text_color="black", shape=None, show_points=False, always_visible=True)
    p._orepit_frame = {"axes": ", ".join(titles), "scale bar": f"{length:g} m along easting",
                      "north arrow": "+y (northing)"}


def _title(p: "pyvista.Plotter", text: str) -> None:
    """The view's title, drawn at the top left and recorded for the PNG's metadata (key ``title``)."""
    p.add_text(text, font_size=11, color="black")
    p._orepit_title = text


def _bar(title: str) -> dict:
    return {"title": title, "vertical": True, "position_x": 0.86, "position_y": 0.18, "height": 0.64,
            "width": 0.06, "color": "black", "title_font_size": 14, "label_font_size": 12, "fmt": "%.3g"}


GRADE_UNITS = {"au": "g/t", "ag": "g/t", "pt": "g/t", "pd": "g/t"}  # others: %


def grade_view(model: BlockModel, path, *, grade: str = "cu", unit: str | None = None, window_size=WINDOW,
               cut: bool = True) -> str:
    """Blocks coloured by ``grade`` (clipped at its 99th percentile; unit default % or g/t for precious
    metals), quarter cut away when ``cut``."""
    unit = unit or GRADE_UNITS.get(grade, "%")
    _need(model, grade)
    show = solid(model) & (cutaway(model) if cut else True)
    if not show.any():
        raise InputError("block model has no solid blocks to draw", path=model.source)
    values = model[grade].astype(float)
    mesh = block_mesh(model, show, grade=values)
    top = float(np.nanpercentile(values[show], 99)) if show.any() else 1.0
    p = _plotter(window_size)
    p.add_mesh(mesh, scalars="grade", cmap="turbo", clim=(0.0, max(top, 1e-9)), show_edges=False,
               scalar_bar_args=_bar(f"{grade} ({unit})"))
    _title(p, f"{model.name or 'block model'}: {grade} grade" + (" (cut-away)" if cut else ""))
    _frame(p, model)
    _camera(p)
    return _save(p, path)


def column_surfaces(model: BlockModel, mask=None) -> tuple[np.ndarray, np.ndarray]:
    """Per column (ny, nx): topography elevation (top of the highest solid block, m) and pit floor
    elevation (bottom of the lowest block where ``mask`` holds, default ``in_pit``; topography where
    the column has none)."""
    nx, ny, nz = model.dims
    dz = _spacing(model)[2]
    rock = solid(model)
    bottom = model.origin[2] + model.k * dz  # block faces from the grid (as `block_mesh` draws them)
    top_z = bottom + dz
    topo = np.full(ny * nx, -np.inf)
    col = model.j * nx + model.i
    np.maximum.at(topo, col[rock], top_z[rock])
    if not np.isfinite(topo).any():
        raise InputError("block model has no solid blocks to draw", path=model.source)
    topo[~np.isfinite(topo)] = topo[np.isfinite(topo)].min()
    if mask is None:
        _need(model, "in_pit")
        mask = model["in_pit"].astype(bool)
    floor = topo.copy()
    sel = np.asarray(mask, dtype=bool) & rock
    np.minimum.at(floor, col[sel], bottom[sel])
    return topo.reshape(ny, nx), floor.reshape(ny, nx)


def stepped_surface(model: BlockModel, heights: np.ndarray) -> "pyvista.StructuredGrid":
    """A benched surface: each column's top face at ``heights[j, i]`` (m), vertical walls between."""
    ny, nx = heights.shape
    dx, dy, _ = _spacing(model)
    x0, y0, _ = model.origin
    xe = x0 + np.repeat(np.arange(nx + 1) * dx, 2)[1:-1]  # each column's two edges
    ye = y0 + np.repeat(np.arange(ny + 1) * dy, 2)[1:-1]
    gx, gy = np.meshgrid(xe, ye, indexing="xy")
    gz = np.repeat(np.repeat(heights, 2, axis=0), 2, axis=1)
    return pyvista().StructuredGrid(gx, gy, gz)


def pit_view(model: BlockModel, path, *, mask=None, window_size=WINDOW, title: str | None = None) -> str:
    """The pit (``mask``, default column ``in_pit``) as a stepped surface over topography, coloured
    by depth below the original surface (m); bench crests drawn as lines."""
    topo, floor = column_surfaces(model, mask)
    depth = topo - floor
    surf = stepped_surface(model, floor)
    surf.point_data["depth"] = np.repeat(np.repeat(depth, 2, axis=0), 2, axis=1).ravel(order="F")
    p = _plotter(window_size)
    p.add_mesh(surf, scalars="depth", cmap="YlOrBr", clim=(0.0, max(float(depth.max()), 1e-9)),
               scalar_bar_args=_bar("pit depth (m)"), show_scalar_bar=bool(depth.max() > 0))
    dz = _spacing(model)[2]
    if depth.max() > 0:
        edges = surf.extract_feature_edges(feature_angle=60, boundary_edges=False, non_manifold_edges=False)
        if edges.n_points:
            p.add_mesh(edges, color="#3b2a1a", line_width=1)
    nx, ny, nz = model.dims
    box = pyvista().Box(bounds=(model.origin[0], model.origin[0] + nx * _spacing(model)[0],
                         model.origin[1], model.origin[1] + ny * _spacing(model)[1],
                         model.origin[2], float(topo.max())))
    p.add_mesh(box.outline(), color="#777777", line_width=1)  # the model's extent, to read the depth against
    columns = int(np.count_nonzero(depth > 0))
    _title(p, title or f"ultimate pit over topography ({columns} columns mined, deepest "
           f"{depth.max():.0f} m = {depth.max() / dz:.0f} benches)")
    _frame(p, model)
    _camera(p, zoom=1.0, elevation=15.0)
    return _save(p, path)


def period_ticks(n: int) -> dict[float, str]:
    """One colour-bar tick a period, 0 to n - 1, each at the middle of its colour (the bar spans -0.5 to n - 0.5)."""
    return {float(k): str(k) for k in range(n)}


def period_view(model: BlockModel, path, strategy: str, *, window_size=WINDOW, cut: bool = True) -> str:
    """Blocks mined by ``strategy`` coloured by extraction period (0 = first), quarter cut away."""
    col = "period_" + strategy_key(strategy)
    _need(model, col)
    period = model[col].astype(int)
    show = (period >= 0) & solid(model) & (cutaway(model) if cut else True)
    if not show.any():
        raise InputError(f"strategy {strategy!r} mines no blocks", path=model.source, field=col)
    n = int(period.max()) + 1
    mesh = block_mesh(model, show, period=period.astype(float))
    p = _plotter(window_size)
    bar = _bar("period")
    bar.update(n_labels=0)          # one tick a period instead: an annotation at the middle of each colour
    ticks = period_ticks(n)
    p.add_mesh(mesh, scalars="period", cmap="tab10" if n <= 10 else "turbo", n_colors=n, clim=(-0.5, n - 0.5),
               annotations=ticks, scalar_bar_args=bar)
    _title(p, f"{strategy}: extraction period" + (" (cut-away)" if cut else ""))
    _frame(p, model)
    p._orepit_frame["colour bar ticks"] = ", ".join(ticks.values())
    _camera(p)
    return _save(p, path)


def destination_classes(model: BlockModel, strategy: str) -> np.ndarray:
    """Per block: 'mill', 'stockpile', 'ore to dump', 'waste to dump', or '' (not mined)."""
    col = "destination_" + strategy_key(strategy)
    _need(model, col)
    code = pd.Categorical(np.asarray(model[col]), categories=("mill", "stockpile", "dump")).codes  # -1: none
    index = np.where(code == 2, np.where(ore_grade(model), 3, 4), code + 1)
    return CLASSES[index]       # each block a reference to one of five strings, not a string of its own


def mined(model: BlockModel, strategy: str, cut: bool) -> np.ndarray:
    """Solid blocks that ``strategy`` mines (column ``period_S``, else ``destination_S``), the
    quarter nearest the camera cut away when ``cut``."""
    key = strategy_key(strategy)
    taken = (model["period_" + key] >= 0 if "period_" + key in model
             else np.asarray(model["destination_" + key]).astype(str) != "")
    return taken & solid(model) & (cutaway(model) if cut else True)


def destination_view(model: BlockModel, path, strategy: str, *, window_size=WINDOW, cut: bool = True) -> str:
    """Blocks mined by ``strategy`` by destination.  Ore-grade blocks dumped are magenta; waste to
    dump is translucent grey so the ore inside stays visible."""
    classes = destination_classes(model, strategy)
    keep = solid(model) & (cutaway(model) if cut else True)
    if not (keep & (classes != "")).any():
        raise InputError(f"strategy {strategy!r} mines no blocks", path=model.source,
                         field="destination_" + strategy_key(strategy))
    p = _plotter(window_size)
    for label, colour in CLASS_COLOURS.items():
        sel = keep & (classes == label)
        if sel.any():
            opaque = label != "waste to dump"       # translucent, so that the ore inside stays visible
            p.add_mesh(block_mesh(model, sel, opaque=opaque), color=colour, opacity=1.0 if opaque else 0.18)
    tonnage = model["tonnage"] if "tonnage" in model else np.ones(model.n_blocks)
    dumped_kt = tonnage[classes == "ore to dump"].sum() / 1e3
    _title(p, f"{strategy}: destinations, ore-grade blocks dumped {dumped_kt:,.0f} kt"
           + (" (cut-away)" if cut else ""))
    p.add_legend(labels=[[label, colour] for label, colour in CLASS_COLOURS.items()], bcolor="white",
                 face="rectangle", size=(0.2, 0.16), loc="lower left")
    _frame(p, model)
    _camera(p)
    return _save(p, path)


def env_cost_per_t(model: BlockModel, strategy: str) -> np.ndarray:
    """Per block: environmental cost per tonne (currency/t) at the destination ``strategy`` sends
    it to (column ``env_cost_S`` over tonnage); NaN where it is not mined."""
    col = "env_cost_" + strategy_key(strategy)
    _need(model, col)
    tonnage = model["tonnage"] if "tonnage" in model else np.ones(model.n_blocks)
    cost = model[col].astype(float)
    return np.divide(cost, tonnage, out=np.full(model.n_blocks, np.nan), where=(tonnage > 0) & np.isfinite(cost))


def env_cost_range(model: BlockModel, strategies, cut: bool = True) -> tuple[float, float] | None:
    """(1st, 99th) percentile of the environmental cost per tonne over the blocks the strategies
    mine: one colour scale for every strategy's view; None when none mines a block."""
    values = [env_cost_per_t(model, s)[mined(model, s, cut)] for s in strategies]
    values = np.concatenate(values) if values else np.zeros(0)
    values = values[np.isfinite(values)]
    if not values.size:
        return None
    lo, hi = np.percentile(values, [1, 99])
    return float(lo), float(max(hi, lo + 1e-9))


def env_cost_view(model: BlockModel, path, strategy: str, *, currency: str = "USD", clim=None,
                  window_size=WINDOW, cut: bool = True) -> str:
    """Environmental cost per tonne (``currency``/t) of the blocks ``strategy`` mines, at the
    destinations it sends them to; ``clim``: the colour range (default: `env_cost_range` of this
    strategy alone; pass one range to compare strategies)."""
    per_t = env_cost_per_t(model, strategy)
    show = mined(model, strategy, cut) & np.isfinite(per_t)
    if not show.any():
        raise InputError(f"strategy {strategy!r} mines no blocks", path=model.source,
                         field="env_cost_" + strategy_key(strategy))
    lo, hi = clim or env_cost_range(model, [strategy], cut)
    log = bool(lo > 0 and hi / lo > 20)  # mill and dump costs differ by orders of magnitude
    p = _plotter(window_size)
    p.add_mesh(block_mesh(model, show, env=per_t), scalars="env", cmap="plasma", clim=(lo, hi), log_scale=log,
               scalar_bar_args=_bar(f"env. cost ({currency}/t" + (", log)" if log else ")")))
    _title(p, f"{strategy}: environmental cost per tonne at its destinations" + (" (cut-away)" if cut else ""))
    _frame(p, model)
    _camera(p)
    return _save(p, path)


def grade_column(model: BlockModel) -> str | None:
    """The column the grade view colours by: ``cu`` when the model has it, else its first grade."""
    return "cu" if "cu" in model else (model.grades[0] if model.grades else None)


def columns_read(strategies) -> list[str]:
    """The block columns the views of `render_all` and `interactive_html` read for ``strategies``: the
    grid and tonnage, ``cu`` (`grade_column`; the model's grade columns come with the model), the pit and
    the destination values (`ore_grade`), and each strategy's period, destination and environmental cost."""
    return ["i", "j", "k", "x", "y", "z", "tonnage", "cu", "in_pit", "value_mill", "value_dump",
            *(f"{column}_{strategy_key(s)}" for s in strategies for column in ("period", "destination", "env_cost"))]


def render_all(model: BlockModel, folder, strategies, *, window_size=WINDOW, warnings: list | None = None,
               currency: str = "USD") -> dict[str, str]:
    """Every view the model's columns allow, into ``folder``: {view name: PNG path}; per strategy
    ``periods S``, ``destinations S`` and ``env_cost S``.

    A view whose data is unusable (a strategy that mines nothing, no blocks in the pit) is left
    out; the reason is appended to ``warnings`` when a list is given."""
    folder = os.fspath(folder)
    jobs = []  # (name, function, path, args, kwargs)
    grade = grade_column(model)
    if grade:
        jobs.append(("grade", grade_view, "view_grade.png", (), {"grade": grade}))
    if "in_pit" in model:
        jobs.append(("pit", pit_view, "view_pit.png", (), {}))
    for s in strategies:
        if "period_" + strategy_key(s) in model:
            jobs.append(("periods " + s, period_view, f"view_periods_{strategy_key(s)}.png", (s,), {}))
    for s in strategies:
        if "destination_" + strategy_key(s) in model:
            jobs.append(("destinations " + s, destination_view, f"view_destinations_{strategy_key(s)}.png", (s,), {}))
    with_env = [s for s in strategies if "env_cost_" + strategy_key(s) in model]
    clim = env_cost_range(model, with_env)            # one colour scale: the strategies compare
    for s in with_env if clim else ():
        jobs.append(("env_cost " + s, env_cost_view, f"view_env_cost_{strategy_key(s)}.png", (s,),
                     {"clim": clim, "currency": currency}))
    out = {}
    for name, view, filename, args, kwargs in jobs:
        kwargs.setdefault("window_size", window_size)
        try:
            out[name] = view(model, os.path.join(folder, filename), *args, **kwargs)
        except InputError as exc:
            if warnings is not None:
                warnings.append(f"view '{name}' left out: {exc}")
    return out


# -- interactive view: a small self-written canvas viewer embedded in report.html ---------------------
#: lattice offsets (along i, j, k) of the four corners of a face normal to x, y and z
_FACE_CORNERS = {0: ((0, 0, 0), (0, 1, 0), (0, 1, 1), (0, 0, 1)),
                 1: ((0, 0, 0), (1, 0, 0), (1, 0, 1), (0, 0, 1)),
                 2: ((0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0))}
MAX_FACES = 120_000  # above this the interactive view is left out (the report would grow past ~3 MB)


def block_faces(model: BlockModel, mask, hide=None) -> tuple[np.ndarray, np.ndarray]:
    """Faces of the blocks in ``mask`` that are not covered by a block in ``hide`` (default: ``mask``).

    Returns corners (m, 4) as indices on the (nx+1) x (ny+1) x (nz+1) lattice of block corners,
    ``a + (nx + 1) * (b + (ny + 1) * c)``, and the face direction (m,) 0..5 for -x, +x, -y, +y, -z, +z.
    """
    nx, ny, nz = model.dims
    mask = np.asarray(mask, dtype=bool)
    cover = _cover(model, mask if hide is None else np.asarray(hide, dtype=bool))
    i, j, k = model.i[mask], model.j[mask], model.k[mask]
    corners, dirs = [], []
    for d, (di, dj, dk) in enumerate(_DIRS):
        show = ~cover[i + 1 + di, j + 1 + dj, k + 1 + dk]
        a, b, c = i[show] + (di > 0), j[show] + (dj > 0), k[show] + (dk > 0)
        quad = [(a + oa) + (nx + 1) * ((b + ob) + (ny + 1) * (c + oc)) for oa, ob, oc in _FACE_CORNERS[d // 2]]
        corners.append(np.stack(quad, axis=1))
        dirs.append(np.full(show.sum(), d, dtype=np.uint8))
    return np.concatenate(corners).astype("<u4"), np.concatenate(dirs)


def interactive_data(model: BlockModel, strategies) -> dict | None:
    """JSON-ready faces per strategy for the report's interactive view (mined blocks by destination
    class: opaque mill / stockpile / ore to dump, translucent waste); None when too large."""
    import base64
    b64 = lambda arr: base64.b64encode(np.ascontiguousarray(arr).tobytes()).decode("ascii")  # noqa: E731
    labels = list(CLASS_COLOURS)
    out, total = {}, 0
    rock = solid(model)
    for name in strategies:
        if "destination_" + strategy_key(name) not in model:
            continue
        classes = destination_classes(model, name)
        opaque = rock & np.isin(classes, labels[:3])
        faces, dirs, codes = [], [], []
        for code, label in enumerate(labels):
            sel = rock & (classes == label)
            if not sel.any():
                continue
            f, d = block_faces(model, sel, hide=opaque if code < 3 else (opaque | sel))
            faces.append(f)
            dirs.append(d)
            codes.append(np.full(len(d), code, dtype=np.uint8))
        if not faces:
            continue
        f, d, c = np.concatenate(faces), np.concatenate(dirs), np.concatenate(codes)
        total += len(d)
        if total > MAX_FACES:
            return None             # too large already: the other strategies' faces are not needed
        out[name] = {"faces": b64(f), "dir": b64(d), "cls": b64(c), "n": int(len(d))}
    if not out:
        return None
    nx, ny, nz = model.dims
    return {"dims": [nx, ny, nz], "size": list(_spacing(model)), "origin": list(model.origin),
            "labels": labels, "colours": list(CLASS_COLOURS.values()), "alpha": [1, 1, 1, 0.12], "strategies": out}


VIEWER_JS = r"""
(function () {
  var data = JSON.parse(document.getElementById('v3d-data').textContent);
  var canvas = document.getElementById('v3d'), ctx = canvas.getContext('2d');
  var pick = document.getElementById('v3d-strategy');
  function bytes(b64) { var s = atob(b64), a = new Uint8Array(s.length);
    for (var i = 0; i < s.length; i++) a[i] = s.charCodeAt(i); return a; }
  var nx = data.dims[0] + 1, ny = data.dims[1] + 1, sets = {};
  var lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity];
  function corner(idx, out, o) { var a = idx % nx, r = (idx - a) / nx, b = r % ny, c = (r - b) / ny;
    out[o] = data.origin[0] + a * data.size[0]; out[o + 1] = data.origin[1] + b * data.size[1];
    out[o + 2] = data.origin[2] + c * data.size[2];
    for (var e = 0; e < 3; e++) { lo[e] = Math.min(lo[e], out[o + e]); hi[e] = Math.max(hi[e], out[o + e]); } }
  Object.keys(data.strategies).forEach(function (name) {
    var s = data.strategies[name], f = new Uint32Array(bytes(s.faces).buffer), n = s.n;
    var pts = new Float32Array(n * 12);
    for (var i = 0; i < 4 * n; i++) corner(f[i], pts, 3 * i);
    sets[name] = {n: n, pts: pts, dir: bytes(s.dir), cls: bytes(s.cls), order: new Uint32Array(n),
                   depth: new Float32Array(n), xy: new Float32Array(8 * n)};
    var opt = document.createElement('option'); opt.value = opt.textContent = name; pick.appendChild(opt);
  });
  var mid = [0, 1, 2].map(function (e) { return (lo[e] + hi[e]) / 2; });
  var extent = Math.max(hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]);
  Object.keys(sets).forEach(function (name) {  // centre every set on the shown blocks
    var p = sets[name].pts; for (var i = 0; i < p.length; i++) p[i] -= mid[i % 3]; });
  if (sets['green']) pick.value = 'green';
  var yaw = -2.4, pitch = 0.6, zoom = 1.0, pending = false;
  var normals = [[-1, 0, 0], [1, 0, 0], [0, -1, 0], [0, 1, 0], [0, 0, -1], [0, 0, 1]];
  function rgb(hex) { return [1, 3, 5].map(function (i) { return parseInt(hex.substr(i, 2), 16); }); }
  var base = data.colours.map(rgb);
  function draw() {
    pending = false;
    var s = sets[pick.value]; if (!s) return;
    var W = canvas.width, H = canvas.height, k = zoom * 0.8 * Math.min(W, H) / extent;
    var cf = Math.cos(yaw), sf = Math.sin(yaw), ct = Math.cos(pitch), st = Math.sin(pitch);
    var styles = [], facing = [];
    for (var d = 0; d < 6; d++) {
      var n = normals[d], x1 = n[0] * cf - n[1] * sf, y1 = n[0] * sf + n[1] * cf;
      var up = n[2] * ct + y1 * st, depth = y1 * ct - n[2] * st;
      facing.push(depth < 0);
      var light = Math.max(0, 0.35 * x1 + 0.55 * up - 0.75 * depth), shade = 0.45 + 0.55 * Math.min(1, light);
      styles.push(base.map(function (c, j) { return 'rgba(' + Math.round(c[0] * shade) + ',' + Math.round(c[1] * shade) +
        ',' + Math.round(c[2] * shade) + ',' + data.alpha[j] + ')'; }));
    }
    var m = 0, p = s.pts, xy = s.xy, x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (var i = 0; i < s.n; i++) {  // project the faces that look at the viewer, and frame them
      if (!facing[s.dir[i]]) continue;
      var o = 12 * i, x = (p[o] + p[o + 6]) / 2, y = (p[o + 1] + p[o + 7]) / 2, z = (p[o + 2] + p[o + 8]) / 2;
      s.depth[i] = (x * sf + y * cf) * ct - z * st; s.order[m++] = i;
      for (var c = 0; c < 4; c++) {
        var X = p[o + 3 * c], Y = p[o + 3 * c + 1], Z = p[o + 3 * c + 2];
        var sx = k * (X * cf - Y * sf), sy = -k * (Z * ct + (X * sf + Y * cf) * st);
        xy[8 * i + 2 * c] = sx; xy[8 * i + 2 * c + 1] = sy;
        if (sx < x0) x0 = sx; if (sx > x1) x1 = sx; if (sy < y0) y0 = sy; if (sy > y1) y1 = sy;
      }
    }
    var dx = W / 2 - (x0 + x1) / 2, dy = H / 2 - (y0 + y1) / 2;
    var order = Array.prototype.slice.call(s.order.subarray(0, m));
    order.sort(function (a, b) { return s.depth[b] - s.depth[a]; });
    ctx.fillStyle = '#ffffff'; ctx.fillRect(0, 0, W, H); ctx.lineWidth = 0.7;
    for (var q = 0; q < order.length; q++) {
      var f = order[q], o2 = 8 * f;
      ctx.beginPath();
      ctx.moveTo(xy[o2] + dx, xy[o2 + 1] + dy);
      for (var c2 = 1; c2 < 4; c2++) ctx.lineTo(xy[o2 + 2 * c2] + dx, xy[o2 + 2 * c2 + 1] + dy);
      ctx.closePath(); ctx.fillStyle = styles[s.dir[f]][s.cls[f]]; ctx.fill();
      if (data.alpha[s.cls[f]] === 1) { ctx.strokeStyle = ctx.fillStyle; ctx.stroke(); }  // hide seams
    }
  }
  function redraw() { if (!pending) { pending = true; window.requestAnimationFrame(draw); } }
  var drag = null;
  canvas.addEventListener('pointerdown', function (e) { drag = [e.clientX, e.clientY]; });
  window.addEventListener('pointerup', function () { drag = null; });
  canvas.addEventListener('pointermove', function (e) {
    if (!drag) return;
    yaw += (e.clientX - drag[0]) * 0.01; pitch = Math.max(-0.1, Math.min(1.55, pitch + (e.clientY - drag[1]) * 0.01));
    drag = [e.clientX, e.clientY]; redraw();
  });
  canvas.addEventListener('wheel', function (e) { e.preventDefault(); zoom *= Math.exp(-e.deltaY * 0.001); redraw(); },
                          {passive: false});
  pick.addEventListener('change', redraw);
  draw();
})();
"""


def interactive_html(model: BlockModel, strategies, *, size=(900, 560)) -> str:
    """A self-contained HTML fragment (canvas, inline data and script, no network) showing the mined
    blocks by destination for each strategy, rotated by dragging and zoomed with the wheel; empty
    when there is nothing to show or too much (over `MAX_FACES` faces)."""
    import html as _html
    import json
    data = interactive_data(model, strategies)
    if data is None:
        return ""
    legend = "".join(f'<span style="display:inline-block;width:12px;height:12px;background:{c};'
                     f'opacity:{max(a, 0.35)};margin:0 4px 0 12px"></span>{_html.escape(label)}'
                     for label, c, a in zip(data["labels"], data["colours"], data["alpha"]))
    return (f'<div class="viewer"><div>strategy <select id="v3d-strategy"></select>{legend}'
            f'<span class="muted"> &middot; drag to rotate, wheel to zoom</span></div>'
            f'<canvas id="v3d" width="{int(size[0])}" height="{int(size[1])}" '
            f'style="max-width:100%;border:1px solid #eee;touch-action:none"></canvas>'
            f'<script type="application/json" id="v3d-data">{json.dumps(data)}</script>'
            f"<script>{VIEWER_JS}</script></div>")
