"""Planning charts: each PNG has the requested size, is not blank, and bad tables are named."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from _results_fixture import make_results
from orepit.output import charts
from solvers.errors import InputError

SIZE = (500, 300)  # width, height in pixels


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    folder = make_results(tmp_path_factory.mktemp("results"))
    return {name: pd.read_csv(folder / f"{name}.csv") for name in ("gradetonnage", "shells", "periods", "kpis",
                                                                   "frontier")}


def assert_chart(path):
    img = Image.open(path)
    assert img.format == "PNG" and img.size == SIZE
    px = np.asarray(img.convert("RGB"))
    assert len(np.unique(px.reshape(-1, 3), axis=0)) > 30
    assert (px < 200).any(axis=2).mean() > 0.01  # lines, bars and text drawn


@pytest.mark.parametrize("draw, table", [
    (charts.grade_tonnage_chart, "gradetonnage"),
    (charts.pit_by_pit_chart, "shells"),
    (charts.tonnes_by_destination_chart, "periods"),
    (charts.stockpile_chart, "periods"),
    (charts.npv_co2_chart, "periods"),
    (charts.frontier_chart, "frontier"),
])
def test_chart_is_a_real_picture(draw, table, tables, tmp_path):
    path = draw(tables[table], tmp_path / "chart.png", size=SIZE)
    assert_chart(path)


def test_frontier_marks_the_strategies(tables, tmp_path):
    plain = np.asarray(Image.open(charts.frontier_chart(tables["frontier"], tmp_path / "a.png", size=SIZE)))
    marked = np.asarray(Image.open(charts.frontier_chart(tables["frontier"], tmp_path / "b.png",
                                                         kpis=tables["kpis"], size=SIZE)))
    assert (plain != marked).any()


def test_stockpile_chart_needs_the_balance_column(tables, tmp_path):
    with pytest.raises(InputError, match="stockpile_balance_t"):
        charts.stockpile_chart(tables["periods"].drop(columns="stockpile_balance_t"), tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_charts_leave_pyplot_alone(tables, tmp_path):
    import matplotlib.pyplot as plt
    before = plt.get_fignums()
    charts.grade_tonnage_chart(tables["gradetonnage"], tmp_path / "gt.png", size=SIZE)
    assert plt.get_fignums() == before
