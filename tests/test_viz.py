"""3D views render off-screen to PNG: right size, not blank, and the pit view shows a known pit."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from _results_fixture import fake_model
from orepit import BlockModel
from orepit.output import viz
from solvers.errors import InputError

SIZE = (320, 240)  # small images keep the tests fast (width, height in pixels)


@pytest.fixture(scope="module")
def model():
    return fake_model()


def pixels(path) -> np.ndarray:
    img = Image.open(path)
    assert img.format == "PNG"
    return np.asarray(img.convert("RGB"), dtype=np.int16)


def assert_picture(path, size):
    """A non-empty PNG of ``size`` that is not a single colour and has content besides the background."""
    px = pixels(path)
    assert px.shape == (size[1], size[0], 3)
    colours = np.unique(px.reshape(-1, 3), axis=0)
    assert len(colours) > 20
    background = (px == 255).all(axis=2)
    assert 0.05 < 1 - background.mean() < 0.95  # something drawn, and not everything


def test_fixture_pit_is_closed_under_45_degrees(model):
    """The 'known' pit: every block above a pit block in the 1-5 pattern (same column and the four
    side neighbours one bench up) is in the pit too, when it exists."""
    nx, ny, nz = model.dims
    cell = np.full((nx, ny, nz), -1)
    cell[model.i, model.j, model.k] = np.arange(model.n_blocks)
    pit = model["in_pit"]
    for b in np.flatnonzero(pit):
        i, j, k = model.i[b], model.j[b], model.k[b]
        for di, dj in ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)):
            a, c = i + di, j + dj
            if k + 1 < nz and 0 <= a < nx and 0 <= c < ny and cell[a, c, k + 1] >= 0:
                assert pit[cell[a, c, k + 1]]


def test_every_view_is_a_real_picture(model, tmp_path):
    paths = viz.render_all(model, tmp_path, ["high-grade", "green"], window_size=SIZE)
    assert set(paths) == {"grade", "pit", *(f"{view} {s}" for view in ("periods", "destinations", "env_cost")
                                            for s in ("high-grade", "green"))}
    for name, path in paths.items():
        assert_picture(path, SIZE)


def test_pit_view_shows_the_known_pit(model, tmp_path):
    """Same model and camera with and without the pit: only the pit rendering has the orange-brown
    depth colours, and the two images differ substantially."""
    with_pit = pixels(viz.pit_view(model, tmp_path / "pit.png", window_size=SIZE))
    without = pixels(viz.pit_view(model, tmp_path / "nopit.png", mask=np.zeros(model.n_blocks, bool),
                                  window_size=SIZE))

    def depth_coloured(px):  # YlOrBr at depth > 0: red well above blue
        px = px[:, : int(px.shape[1] * 0.8)]  # leave out the colour bar
        return ((px[..., 0] - px[..., 2]) > 90).mean()

    assert depth_coloured(with_pit) > 0.04
    assert depth_coloured(without) < 0.01
    assert np.abs(with_pit - without).mean() > 5


def test_column_surfaces_match_the_pit(model):
    topo, floor = viz.column_surfaces(model)
    depth = topo - floor
    nx, ny, _ = model.dims
    pit_columns = np.zeros((ny, nx), bool)
    pit_columns[model.j[model["in_pit"]], model.i[model["in_pit"]]] = True
    assert np.array_equal(depth > 0, pit_columns)
    dz = model.block_size[2]
    pit = model["in_pit"]
    for i, j in zip(model.i[pit], model.j[pit]):  # floor: bottom face of the column's lowest pit block (m)
        lowest = model.k[pit & (model.i == i) & (model.j == j)].min()
        assert floor[j, i] == pytest.approx(lowest * dz)
        assert topo[j, i] == pytest.approx((model.k[(model.i == i) & (model.j == j)].max() + 1) * dz)


def test_destination_classes_show_high_grading(model):
    high = viz.destination_classes(model, "high-grade")
    green = viz.destination_classes(model, "green")
    assert (high == "ore to dump").sum() > (green == "ore to dump").sum() > 0
    assert (green == "stockpile").sum() > 0 and (high == "stockpile").sum() == 0
    mined = model["period_green"] >= 0
    assert np.array_equal(green != "", mined)


def test_block_mesh_has_one_cell_per_block(model):
    mask = model["in_pit"]
    mesh = viz.block_mesh(model, mask, opaque=False, cu=model["cu"])
    assert mesh.n_cells == mask.sum()
    assert mesh.cell_data["cu"].sum() == pytest.approx(model["cu"][mask].sum())
    centres = np.sort(mesh.cell_centers().points[:, 2])
    assert np.allclose(centres, np.sort(model.z[mask]))


def test_visible_blocks_are_those_with_a_neighbour_outside_the_mask():
    """Brute force on a random grid: a block is hidden exactly when its six grid neighbours are all
    in the mask (a block on the grid's edge always shows)."""
    rng = np.random.default_rng(7)
    nx, ny, nz = 6, 5, 4
    i, j, k = (a.ravel() for a in np.meshgrid(np.arange(nx), np.arange(ny), np.arange(nz), indexing="ij"))
    keep = rng.random(i.size) < 0.9                 # a sparse model: some grid cells have no block
    m = BlockModel(pd.DataFrame({"i": i[keep], "j": j[keep], "k": k[keep], "tonnage": 1.0}), block_size=(1, 1, 1))
    mask = rng.random(m.n_blocks) < 0.85
    where = {(a, b, c): n for n, (a, b, c) in enumerate(zip(m.i, m.j, m.k))}
    expected = mask.copy()
    for n in np.flatnonzero(mask):
        a, b, c = m.i[n], m.j[n], m.k[n]
        around = [(a + d, b, c) for d in (-1, 1)] + [(a, b + d, c) for d in (-1, 1)] + [(a, b, c + d) for d in (-1, 1)]
        expected[n] = not all(p in where and mask[where[p]] for p in around)
    got = viz.visible(m, mask)
    assert np.array_equal(got, expected)
    assert 0 < got.sum() < mask.sum()               # some blocks hidden, some shown


def test_a_mostly_empty_grid_keeps_every_block_rather_than_lay_the_grid_out():
    """A 3 x 3 x 3 cube (its centre hidden in a compact grid) and one block far away: the grid is then
    mostly empty (200^3 cells for 28 blocks), so no byte-a-cell layout and no block left out."""
    i, j, k = (a.ravel() for a in np.meshgrid(np.arange(3), np.arange(3), np.arange(3), indexing="ij"))
    cube = pd.DataFrame({"i": i, "j": j, "k": k, "tonnage": 1.0})
    compact = BlockModel(cube, block_size=(1, 1, 1))
    assert viz.visible(compact, np.ones(27, bool)).sum() == 26                      # the centre is hidden
    far = BlockModel(pd.concat([cube, pd.DataFrame({"i": [199], "j": [199], "k": [199], "tonnage": [1.0]})],
                               ignore_index=True), block_size=(1, 1, 1))
    assert far.dims == (200, 200, 200)
    assert viz.visible(far, np.ones(28, bool)).all()


def test_an_opaque_mesh_of_the_visible_blocks_draws_the_same_picture(model, tmp_path, monkeypatch):
    """Grade view with only the visible blocks meshed against every block: fewer cells, the same image
    (a pixel or two may round the other way on an edge)."""
    show = viz.solid(model)
    assert viz.block_mesh(model, show).n_cells < 0.7 * viz.block_mesh(model, show, opaque=False).n_cells
    viz.grade_view(model, tmp_path / "visible.png", grade="cu", window_size=SIZE, cut=False)
    original = viz.block_mesh
    monkeypatch.setattr(viz, "block_mesh", lambda m, mask, **arrays: original(m, mask, **{**arrays, "opaque": False}))
    viz.grade_view(model, tmp_path / "all.png", grade="cu", window_size=SIZE, cut=False)
    differ = (np.abs(pixels(tmp_path / "visible.png") - pixels(tmp_path / "all.png")) > 0).any(axis=2)
    assert differ.sum() <= 0.001 * differ.size


def test_missing_columns_are_named(model, tmp_path):
    bare = model.subset(np.ones(model.n_blocks, bool))
    with pytest.raises(InputError, match="period_npv"):
        viz.period_view(bare, tmp_path / "x.png", "npv")
    with pytest.raises(InputError, match="grade_x"):
        viz.grade_view(bare, tmp_path / "x.png", grade="grade_x")


def test_block_faces_count_and_corners():
    two = BlockModel(pd.DataFrame({"i": [0, 1], "j": [0, 0], "k": [0, 0], "tonnage": [1.0, 1.0]}), block_size=(1, 1, 1))
    corners, dirs = viz.block_faces(two, [True, True])
    assert len(dirs) == 10 and corners.shape == (10, 4)  # the shared face is hidden
    corners, dirs = viz.block_faces(two, [True, False])
    assert sorted(dirs.tolist()) == [0, 1, 2, 3, 4, 5]
    nx, ny = 3, 2  # corner lattice of a 2 x 1 x 1 grid: a + 3 * (b + 2 * c)
    top = corners[dirs == 5][0]
    assert sorted(top.tolist()) == sorted([0 + nx * (0 + ny * 1), 1 + nx * (0 + ny * 1), 1 + nx * (1 + ny * 1),
                                           0 + nx * (1 + ny * 1)])
    _, dirs = viz.block_faces(two, [True, False], hide=[True, True])
    assert len(dirs) == 5  # the face against the other block is covered by it


def test_interactive_view_is_self_contained_and_bounded(model, monkeypatch):
    html = viz.interactive_html(model, ["high-grade", "green"])
    assert html.count("<script") == 2 and "src=" not in html and "http" not in html
    assert 'id="v3d"' in html
    monkeypatch.setattr(viz, "MAX_FACES", 10)
    assert viz.interactive_html(model, ["high-grade", "green"]) == ""


def test_egl_is_chosen_without_a_display():
    """Loading pyvista through orepit.output.viz in a process without DISPLAY selects VTK's EGL window
    (no X attempt); importing orepit.output.viz alone does not load VTK."""
    import subprocess
    import sys
    if not sys.platform.startswith("linux"):
        pytest.skip("the EGL default is set on Linux only")
    env = {k: v for k, v in __import__("os").environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "VTK_DEFAULT_OPENGL_WINDOW")}
    out = subprocess.run([sys.executable, "-c", "import os, sys, orepit.output.viz as v; assert 'vtk' not in sys.modules; v.pyvista(); "
                          "print(os.environ['VTK_DEFAULT_OPENGL_WINDOW'])"],
                         env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert out == "vtkEGLRenderWindow"


def test_views_carry_axes_scale_and_north_and_periods_one_tick_each(model, tmp_path):
    """Every 3D view draws axes in model coordinates, a scale bar and a north arrow (named in the PNG's
    metadata); the period view's colour bar has one tick a period, at the middle of its colour."""
    paths = viz.render_all(model, tmp_path, ["high-grade", "green"], window_size=SIZE)
    for name, path in paths.items():
        text = Image.open(path).text
        strategy = name.split(" ", 1)[1] if " " in name else None
        assert text["title"] and (strategy is None or text["title"].startswith(f"{strategy}: ")), (name, text)
        assert text["axes"] == "easting (m), northing (m), elevation (m)", name
        assert text["north arrow"] == "+y (northing)" and text["scale bar"].endswith("m along easting"), name
    n = int(model["period_green"].max()) + 1
    assert n > 1
    ticks = Image.open(paths["periods green"]).text["colour bar ticks"]
    assert ticks == ", ".join(str(k) for k in range(n))
    assert viz.period_ticks(3) == {0.0: "0", 1.0: "1", 2.0: "2"}


@pytest.mark.parametrize("span, length", [(437.0, 200.0), (95.0, 50.0), (1000.0, 1000.0), (31.0, 20.0),
                                          (0.7, 0.5)])
def test_scale_bar_length_is_round(span, length):
    assert viz.scale_length(span) == length
