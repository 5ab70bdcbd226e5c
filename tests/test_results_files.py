"""The results folder's scheduled block model leaves in formats other software reads (CSV, OMF,
VTK), opened here with omf and pyvista; schema.csv gives every column a unit, and
docs/results_format.md lists every file's every column."""
from __future__ import annotations

import json
import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from orepit.cli import main
from orepit.data.files import read_model, write_model
from orepit.data.schema import RESULT_COLUMNS, UNDESCRIBED
from orepit.study.check import check_results
from orepit.valuation.precedence import precedence_from_geometry

ROOT = Path(__file__).resolve().parent.parent
STRATEGIES = ("high_grade", "green")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("results") / "r"
    assert main(["compare", "--blocks", "2000", "--seed", "3", "--strategies", "high-grade,npv,green,frontier",
                 "--out", str(out), "--no-report", "--quiet", "--threads", "1", "--time-limit", "60"]) == 0
    return out


@pytest.fixture(scope="module")
def blocks(folder):
    return pd.read_parquet(folder / "blocks.parquet")


def test_the_scheduled_model_has_period_destination_pushback_and_value_per_strategy(folder, blocks):
    """value_S is value_mill or value_dump where S sends the block there (a stockpiled block's is the
    plan's cash, `test_value_per_strategy_adds_up_to_its_plans_cash_flow`)."""
    values = blocks[["value_mill", "value_stockpile", "value_dump"]].to_numpy()
    for s in STRATEGIES:
        mined = blocks[f"period_{s}"].to_numpy() >= 0
        assert mined.any() and ((blocks[f"pushback_{s}"] >= 0) == mined).all()
        dest = blocks[f"destination_{s}"].map({"mill": 0, "stockpile": 1, "dump": 2}).to_numpy()
        assert (np.isnan(dest) == ~mined).all()
        direct = mined & (dest != 1)
        expected = values[np.flatnonzero(direct), dest[direct].astype(int)]
        assert np.array_equal(blocks[f"value_{s}"].to_numpy()[direct], expected)
        assert np.isnan(blocks[f"value_{s}"].to_numpy()[~mined]).all()


def test_value_per_strategy_adds_up_to_its_plans_cash_flow(folder, blocks):
    """value_S summed over the blocks S mines is the plan's undiscounted cash flow when its stockpile
    ends empty (green must empty it; high-grade has none), stockpiled blocks included (green sends
    some there): their value is the plan's cash, not the stockpile delay's estimate."""
    periods = pd.read_csv(folder / "periods.csv")
    assert (blocks["destination_green"] == "stockpile").any()
    for s, name in (("high_grade", "high-grade"), ("green", "green")):
        mined = blocks[f"period_{s}"].to_numpy() >= 0
        earned = blocks[f"value_{s}"].to_numpy()[mined].sum()
        assert earned == pytest.approx(periods.loc[periods["strategy"] == name, "cash_flow"].sum(), rel=1e-9), name


def test_env_cost_per_strategy_adds_up_to_its_plans_environmental_cost(folder, blocks):
    """env_cost_S is each block's environmental cost at S's destination: summed over the blocks it is
    the plan's undiscounted environmental cost (cash flow minus cash flow after environment) for the
    strategies whose stockpile is empty at the end (high-grade has none; green must empty it)."""
    periods = pd.read_csv(folder / "periods.csv")
    for s, name in (("high_grade", "high-grade"), ("green", "green")):
        mined = blocks[f"period_{s}"].to_numpy() >= 0
        cost = blocks[f"env_cost_{s}"].to_numpy()
        assert np.isfinite(cost[mined]).all() and np.isnan(cost[~mined]).all()
        rows = periods[periods["strategy"] == name]
        paid = (rows["cash_flow"] - rows["cash_flow_after_environment"]).sum()
        assert cost[mined].sum() == pytest.approx(paid, rel=1e-9), name


def test_periods_csv_ends_with_each_plans_last_working_period(folder, blocks):
    """A plan's rows stop at its last period of mining, milling, cash or stockpile: none of the idle
    rest of the horizon, and no period a block is mined in is left out."""
    periods = pd.read_csv(folder / "periods.csv")
    summary = json.loads((folder / "summary.json").read_text())
    shorter = []
    for name, rows in periods.groupby("strategy"):
        last = rows.sort_values("period").iloc[-1]
        assert (last[["mined_t", "mill_t", "cash_flow"]] != 0).any() or last["stockpile_balance_t"] > 1e-3, name
        assert rows["period"].max() >= blocks[f"period_{name.replace('-', '_')}"].max()
        shorter.append(len(rows) < summary["strategies"][name]["settings"]["periods"])
    assert any(shorter)           # high-grade's mining and milling end before its horizon does


def test_blocks_csv_is_the_same_table(folder, blocks):
    table = pd.read_csv(folder / "blocks.csv", keep_default_na=False, na_values=[""])
    assert list(table.columns) == ["id", *blocks.columns] or list(table.columns) == list(blocks.columns)
    for column in ("i", "j", "k", "tonnage", "cu", "period_green", "pushback_green", "value_green"):
        assert np.allclose(table[column].to_numpy(float), blocks[column].to_numpy(float), equal_nan=True, rtol=1e-12)
    assert (table["destination_green"].fillna("").astype(str) == blocks["destination_green"].astype(str)).all()


def test_blocks_omf_opens_in_the_omf_package(folder, blocks):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import omf
        project = omf.OMFReader(str(folder / "blocks.omf")).get_project()
    project.validate()
    element = project.elements[0]
    geometry = element.geometry
    nx, ny, nz = len(geometry.tensor_u), len(geometry.tensor_v), len(geometry.tensor_w)
    assert (nx, ny, nz) == tuple(int(blocks[c].max()) + 1 for c in "ijk")
    data = {d.name: d for d in element.data}
    cell = (blocks["i"] + nx * (blocks["j"] + ny * blocks["k"])).to_numpy()
    for s in STRATEGIES:
        assert np.array_equal(np.asarray(data[f"period_{s}"].array)[cell], blocks[f"period_{s}"].to_numpy())
        mapped = data[f"destination_{s}"]
        labels = np.asarray(mapped.legends[0].values, dtype=object)
        codes = np.asarray(mapped.array)[cell]
        names = np.where(codes >= 0, labels[np.maximum(codes, 0)], "")
        assert (names.astype(str) == blocks[f"destination_{s}"].astype(str).to_numpy()).all()


def test_blocks_vti_opens_in_pyvista(folder, blocks):
    import pyvista as pv
    grid = pv.read(folder / "blocks.vti")
    nx, ny, nz = (int(blocks[c].max()) + 1 for c in "ijk")
    assert grid.n_cells == nx * ny * nz
    cell = (blocks["i"] + nx * (blocks["j"] + ny * blocks["k"])).to_numpy()
    for s in STRATEGIES:
        assert np.array_equal(np.asarray(grid.cell_data[f"period_{s}"])[cell], blocks[f"period_{s}"].to_numpy())
    assert np.allclose(np.asarray(grid.cell_data["tonnage"])[cell], blocks["tonnage"].to_numpy())


def test_schema_gives_every_column_of_every_table_a_unit(folder, blocks):
    schema = pd.read_csv(folder / "schema.csv", keep_default_na=False)
    assert not (schema["meaning"] == UNDESCRIBED[1]).any(), schema[schema["meaning"] == UNDESCRIBED[1]]
    for name in ("periods.csv", "kpis.csv", "shells.csv", "gradetonnage.csv", "frontier.csv"):
        columns = list(pd.read_csv(folder / name, nrows=0).columns)
        assert schema.loc[schema["file"] == name, "column"].tolist() == columns
    rows = schema[schema["file"] == "blocks.*"].set_index("column")
    assert set(blocks.columns) <= set(rows.index)
    assert rows.loc["value_green", "unit"] == "USD" and rows.loc["period_green", "unit"] == "period"
    assert rows.loc["cu", "meaning"].startswith("attribute of the source block model")


def _documented_names() -> set[str]:
    text = (ROOT / "docs" / "results_format.md").read_text()
    return set(re.findall(r"`([A-Za-z0-9_.*]+)`", text))


def test_results_format_lists_every_file_and_column(folder):
    names = _documented_names()
    written = {p.name for p in folder.iterdir()}
    assert written <= names, written - names
    for kind, rows in RESULT_COLUMNS.items():
        for pattern, _, _ in rows:
            shown = (pattern.replace(r"(?P<S>\w+?)", "S").replace(r"(?P<E>\w+?)", "E")
                     .replace("(?P<D>mill|stockpile|dump)", "D").split("|"))
            assert set(shown) <= names, (kind, shown)
    schema = pd.read_csv(folder / "schema.csv", keep_default_na=False)
    for file, column in zip(schema["file"], schema["column"]):
        generic = re.sub(r"_(high_grade|npv|green)$", "_S", column)
        generic = re.sub(r"^(value|co2)_(mill|stockpile|dump)", r"\1_D", generic)
        generic = re.sub(r"_(cu|au)(_t)?$", r"_E\2", generic)
        assert column in names or generic in names, (file, column)


def test_summary_json_and_kpis_csv_hold_the_same_figures(folder):
    """Each strategy's KPIs in summary.json are kpis.csv's (both written from the same KPIs)."""
    summary = json.loads((folder / "summary.json").read_text())["strategies"]
    kpis = pd.read_csv(folder / "kpis.csv").set_index("strategy")
    assert set(summary) == set(kpis.index)
    for name, row in kpis.iterrows():
        for key, value in row.items():
            if isinstance(value, str):
                continue
            if key not in summary[name]:                   # a KPI of another strategy only
                assert np.isnan(value), (name, key)
                continue
            assert summary[name][key] == pytest.approx(value, rel=1e-12, nan_ok=True), (name, key)


def test_check_finds_each_schedule_feasible_and_a_broken_one_not(folder, tmp_path):
    """`orepit check RESULTS` from the files alone: every strategy passes; a block moved before its
    predecessor, or every block mined in the first period, is a named violation."""
    checked = check_results(folder)
    assert set(checked) == {"high-grade", "npv", "green"}
    assert all(r.feasible for r in checked.values()), {n: r.solution for n, r in checked.items()}
    summary = json.loads((folder / "summary.json").read_text())
    model = read_model(folder / "blocks.parquet")
    source = summary["precedence"]
    precedence = precedence_from_geometry(model, block_size=model.block_size, slope=source["slope_deg"],
                                          levels=source["benches"])
    period = np.asarray(model["period_green"]).copy()
    early = next(b for b in np.flatnonzero(period >= 0) if (period[precedence.predecessors(b)] >= 1).any())
    moved = period.copy()
    moved[early] = 0
    for broken, word in ((moved, "precedence"), (np.where(period >= 0, 0, -1), "resource")):
        copy = tmp_path / word
        shutil.copytree(folder, copy)
        write_model(model.assign(period_green=broken), copy / "blocks.parquet")
        result = check_results(copy)
        assert result["high-grade"].feasible and not result["green"].feasible
        assert any(v.startswith(word) for v in result["green"].solution), result["green"].solution


def test_grade_tonnage_cutoffs_are_round_and_reach_the_top_grades(folder, blocks):
    """gradetonnage.csv: cut-offs from 0 in one round step (1, 2, 2.5 or 5 times a power of ten), about
    40 of them, the last at or above the 99.5 % quantile of the grade (`pipeline.round_cutoffs`)."""
    import doctest
    import orepit.study.pipeline as pipeline
    assert doctest.testmod(pipeline) == (0, 1)
    cut = pd.read_csv(folder / "gradetonnage.csv")["cutoff"].to_numpy()
    step = cut[1] - cut[0]
    assert cut[0] == 0 and np.allclose(np.diff(cut), step)
    assert any(np.isclose(step / 10 ** np.floor(np.log10(step)), f) for f in (1.0, 2.0, 2.5, 5.0))
    assert 20 <= cut.size <= 41 and cut[-1] >= np.quantile(blocks["cu"], 0.995) > cut[-2]
    for top, expected in ((0.98, 0.025), (3.7, 0.1), (120.0, 5.0), (40.0, 1.0)):
        assert np.diff(pipeline.round_cutoffs(top))[0] == pytest.approx(expected)


@pytest.fixture(scope="module")
def small_study():
    from orepit.planning.strategies import ScheduleSetup
    from orepit.study.pipeline import run_study
    from orepit.valuation.synthetic import default_economics, synthetic_deposit
    model = synthetic_deposit(2000, seed=3)
    return run_study(model, default_economics(model.block_size[2]), strategies=("high-grade", "green"),
                     setup=ScheduleSetup(threads=1, time_limit=60), frontier_points=0, progress=False)


def test_side_by_side_the_files_are_the_same_and_the_report_runs_meanwhile(small_study, tmp_path, monkeypatch):
    from orepit.study import pipeline
    alone = pipeline.write_results(small_study, tmp_path / "alone")
    monkeypatch.setattr(pipeline, "PARALLEL_ABOVE", 0)          # children write the other formats
    made, real = [], pipeline.Forked
    monkeypatch.setattr(pipeline, "Forked", lambda *args, **kwargs: made.append(real(*args, **kwargs)) or made[-1])
    seen = []
    forked = pipeline.write_results(small_study, tmp_path / "forked",
                                    meanwhile=lambda out: seen.append({p.name for p in out.iterdir()}))
    assert [child.forked for child in made] == [True] * len(pipeline.CHILD_FORMATS)
    assert len(seen) == 1 and {"blocks.parquet", "schema.csv", "summary.json", "periods.csv"} <= seen[0]
    names = sorted(p.name for p in alone.iterdir())
    assert names == sorted(p.name for p in forked.iterdir())        # no temporary file left behind
    assert {"blocks.csv", "blocks.omf", "blocks.vti"} <= set(names)
    for name in names:
        if name != "blocks.omf":                  # an OMF file holds random ids and the time it was written
            assert (alone / name).read_bytes() == (forked / name).read_bytes(), name
    a, b = read_model(alone / "blocks.omf"), read_model(forked / "blocks.omf")
    pd.testing.assert_frame_equal(a.frame, b.frame)


def test_the_block_writers_fork_beside_a_parent_too_large_to_copy(small_study, tmp_path, monkeypatch):
    from orepit.planning import forked
    from orepit.study import pipeline
    if not forked.can_fork(highs=False):
        pytest.skip("children are forked on Linux with two cores or more")
    monkeypatch.setattr(pipeline, "PARALLEL_ABOVE", 0)
    own = pipeline.WRITER_BYTES_PER_BLOCK * small_study.deposit.n_blocks
    # the memory available holds just the writers' own bytes, not another copy of this (larger) process
    monkeypatch.setattr(forked, "memory", lambda: (forked.MEMORY_PER_CHILD * own, 10.0 * own))
    made, real = [], pipeline.Forked
    monkeypatch.setattr(pipeline, "Forked", lambda *args, **kwargs: made.append(real(*args, **kwargs)) or made[-1])
    pipeline.write_results(small_study, tmp_path / "r", meanwhile=lambda out: None)
    assert [child.forked for child in made] == [True] * len(pipeline.CHILD_FORMATS)
    assert not forked.can_fork(highs=False)
    assert {f"blocks{suffix}" for suffix in pipeline.BLOCK_FORMATS} <= {p.name for p in (tmp_path / "r").iterdir()}


def test_one_by_one_every_block_file_is_written_before_the_report(small_study, tmp_path):
    from orepit.study import pipeline
    seen = []
    pipeline.write_results(small_study, tmp_path / "r", meanwhile=lambda out: seen.append({p.name for p in out.iterdir()}))
    assert {f"blocks{suffix}" for suffix in pipeline.BLOCK_FORMATS} <= seen[0]     # the block table is freed by then


def test_a_childs_error_comes_back_after_the_others_finish(small_study, tmp_path, monkeypatch):
    from orepit.study import pipeline
    from solvers.errors import InputError

    def broken(model, path):
        if str(path).endswith(".omf"):
            raise InputError("no room for OMF", path=path)
        write_model(model, path)
    monkeypatch.setattr(pipeline, "PARALLEL_ABOVE", 0)
    monkeypatch.setattr(pipeline, "write_model", broken)
    with pytest.raises(InputError, match="no room for OMF"):
        pipeline.write_results(small_study, tmp_path / "r", meanwhile=lambda out: None)
    assert (tmp_path / "r" / "blocks.csv").is_file() and (tmp_path / "r" / "blocks.vti").is_file()
    assert not [p for p in (tmp_path / "r").iterdir() if p.name.startswith(".")]


def test_summary_says_what_each_objective_counts(folder):
    """summary.json's footing per strategy: green's objective is its NPV after environmental cost."""
    strategies = json.loads((folder / "summary.json").read_text())["strategies"]
    assert {n: s["footing"] for n, s in strategies.items()} == {
        "high-grade": "economic", "npv": "economic", "green": "after environmental cost"}
    green = strategies["green"]
    assert green["objective"] == green["npv_after_environment"] != green["npv"]


def test_a_folder_a_run_stopped_writing_is_refused_by_check_and_report(folder, tmp_path, capsys):
    """compare's run leaves no mark once it ends; a folder whose run stopped keeps it, and check and
    report refuse it (exit 2) instead of reading files that may mix two runs."""
    from orepit.data.atomic import INCOMPLETE
    assert not (folder / INCOMPLETE).exists()
    stopped = tmp_path / "stopped"
    shutil.copytree(folder, stopped)
    (stopped / INCOMPLETE).write_text("orepit risk\n")
    for verb in ("check", "report"):
        assert main([verb, str(stopped)]) == 2
        assert "incomplete: the run writing it (orepit risk) stopped before its end" in capsys.readouterr().err
