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


def test_tonnes_chart_stacks_mined_tonnes_against_the_mining_capacity_and_mill_feed_apart(tables, tmp_path,
                                                                                           monkeypatch):
    """Top row: mill direct + stockpile + dump = mined_t (no reclaim on top), under the mining capacity
    line; bottom row: mill feed = direct + reclaimed, under the mill capacity line; whole periods."""
    drawn = []
    monkeypatch.setattr(charts, "save", lambda fig, path: drawn.append(fig) or str(path))
    periods = tables["periods"]
    assert periods["stockpile_out_t"].sum() > 0                      # green reclaims
    charts.tonnes_by_destination_chart(periods, tmp_path / "t.png", mining_capacity=5e5, mill_capacity=2e5)
    (fig,) = drawn
    top, low = fig.axes[:2], fig.axes[2:]
    for ax, name in zip(top, ["high-grade", "green"]):
        rows = periods[periods["strategy"] == name].sort_values("period")
        heights = np.zeros(len(rows))
        for bars in ax.containers:
            heights += [b.get_height() for b in bars]
        assert heights == pytest.approx(rows["mined_t"].to_numpy() / 1e6)
        assert [line.get_ydata()[0] for line in ax.lines] == [0.5]
        assert all(float(t).is_integer() for t in ax.get_xticks())
    for ax, name in zip(low, ["high-grade", "green"]):
        rows = periods[periods["strategy"] == name].sort_values("period")
        heights = sum(np.array([b.get_height() for b in bars]) for bars in ax.containers)
        assert heights == pytest.approx(rows["mill_t"].to_numpy() / 1e6)
        assert [line.get_ydata()[0] for line in ax.lines] == [0.2]
    assert [ax.get_ylabel() for ax in (top[0], low[0])] == ["mined (Mt)", "mill feed (Mt)"]
