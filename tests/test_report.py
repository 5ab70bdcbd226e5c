"""report.html: self-contained, every section and image present, bad folders named, CLI verb."""
from __future__ import annotations

import base64
import json
import re
import shutil

import pytest
from PIL import Image

from _results_fixture import make_results
from orepit.cli import main
from orepit.output.report import REQUIRED, make_report, plan_notes, write_report
from solvers.errors import InputError
from orepit.data.files import read_model, write_model
from orepit.data.model import BlockModel

VIEW = (320, 240)
CHART = (400, 260)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = make_results(tmp_path_factory.mktemp("results"))
    out = make_report(folder, window_size=VIEW, chart_size=CHART)
    return folder, out


def test_report_is_written_with_every_png_beside_it(report):
    folder, out = report
    assert out["warnings"] == []
    assert out["report"] == str(folder / "report.html")
    assert len(out["images"]) == 14       # 2 + 3 per strategy (2) views, 6 charts
    for name, path in out["images"].items():
        img = Image.open(path)
        assert img.format == "PNG" and path.startswith(str(folder))
        expected = CHART if name in ("gradetonnage", "pit_by_pit", "tonnes", "stockpile", "npv_co2", "frontier") \
            else VIEW
        assert img.size == expected, name
        assert len(img.convert("RGB").getcolors(maxcolors=1 << 20)) > 10, name


def test_report_is_self_contained(report):
    folder, out = report
    text = (folder / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:|//)", text)
    assert not re.search(r"<script[^>]*\bsrc\s*=", text)  # inline scripts only (the interactive view)
    assert "stylesheet" not in text and "@import" not in text and "url(" not in text
    assert re.findall(r"<script[^>]*>", text) == ['<script type="application/json" id="v3d-data">', "<script>"]
    embedded = re.findall(r'src="data:image/png;base64,([^"]+)"', text)
    assert len(embedded) == len(out["images"])
    files = {open(p, "rb").read() for p in out["images"].values()}
    assert {base64.b64decode(e) for e in embedded} == files


def test_report_has_every_section_and_the_kpi_table(report):
    folder, _ = report
    text = (folder / "report.html").read_text(encoding="utf-8")
    for title in ("Strategies compared", "Block model", "Ultimate pit and nested shells", "Schedules",
                  "Destinations: what each plan does with the ore", "Environmental cost", "How much does more metal cost?",
                  "Run time"):
        assert f"<h2>{title}</h2>" in text
    assert "green − high-grade" in text and "mining recovery rate (%)" in text
    assert ("Against <b>high-grade</b>, green recovers 1,141 t more metal; its economic NPV is 3 M USD higher "
            "(114.5 % of high-grade's) and its NPV after environmental cost 2 M USD higher.") in text
    for title in ("Where the metal goes",):
        assert f"<h2>{title}</h2>" in text


def test_report_without_frontier_and_without_3d(tmp_path):
    folder = make_results(tmp_path / "r", frontier=False)
    out = make_report(folder, views=False, chart_size=CHART)
    assert set(out["images"]) == {"gradetonnage", "pit_by_pit", "tonnes", "stockpile", "npv_co2"}
    text = (folder / "report.html").read_text()
    assert "How much does more metal cost?" not in text and "view_pit.png" not in text
    assert "<script" not in text and not out["interactive"]


def test_rendering_failure_still_gives_a_report(tmp_path, monkeypatch):
    from orepit.output import viz

    def broken(*args, **kwargs):
        raise RuntimeError("no OpenGL context")
    monkeypatch.setattr(viz, "render_all", broken)
    folder = make_results(tmp_path / "r")
    out = make_report(folder, chart_size=CHART)
    assert len(out["warnings"]) == 1 and "no OpenGL context" in out["warnings"][0]
    assert "no OpenGL context" in (folder / "report.html").read_text()


@pytest.mark.parametrize("name", list(REQUIRED))
def test_missing_file_is_named(report, tmp_path, name):
    folder = tmp_path / "r"
    shutil.copytree(report[0], folder)
    (folder / name).unlink()
    with pytest.raises(InputError, match=re.escape(name)):
        write_report(folder)


def test_missing_column_names_file_and_column(report, tmp_path):
    folder = tmp_path / "r"
    shutil.copytree(report[0], folder)
    text = (folder / "periods.csv").read_text().replace("stockpile_balance_t", "balance")
    (folder / "periods.csv").write_text(text)
    with pytest.raises(InputError, match=r"periods\.csv: missing column\(s\) stockpile_balance_t"):
        write_report(folder)


def test_cli_report(report, capsys):
    folder, _ = report
    assert main(["report", str(folder), "--json", "--no-3d"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["report"].endswith("report.html") and "gradetonnage" in out["images"]


def test_cli_report_bad_folder(tmp_path, capsys):
    assert main(["report", str(tmp_path), "--json"]) == 2
    captured = capsys.readouterr()
    assert "summary.json" in json.loads(captured.out)["error"]
    assert main(["report", str(tmp_path / "nowhere")]) == 2
    assert "results folder not found" in capsys.readouterr().err


def test_strategy_that_mines_nothing_is_reported_not_fatal(tmp_path):
    folder = make_results(tmp_path / "r")
    model = read_model(folder / "blocks.parquet")
    write_model(model.assign(period_green=-1, destination_green=""), folder / "blocks.parquet")
    out = make_report(folder, window_size=VIEW, chart_size=CHART, interactive=False)
    assert any("periods green" in w and "mines no blocks" in w for w in out["warnings"])
    assert "periods high-grade" in out["images"] and "periods green" not in out["images"]


def test_solver_table_from_summary():
    from orepit.output.report import solver_table
    summary = {"strategies": {"green": {"npv": 1.0, "status": "feasible", "seconds": 2.5, "stages": {
        "sequence": {"status": "optimal", "seconds": 2.0, "variables": 10, "integer_variables": 0},
        "destinations": {"status": "optimal", "seconds": 0.5, "variables": 4, "integer_variables": 2},
        "cut_model_objective": 1.2}},
        "high-grade": {"npv": 2.0}}}
    table = solver_table(summary)
    assert table.to_dict("records") == [
        {"strategy": "green", "model": "sequence", "status": "optimal", "seconds": 2.0, "variables": 10,
         "integer variables": 0},
        {"strategy": "green", "model": "destinations", "status": "optimal", "seconds": 0.5, "variables": 4,
         "integer variables": 2}]
    assert solver_table({}).empty


def test_budget_note_says_what_green_must_keep_and_keeps():
    """The reason from summary.json, the figures from kpis.csv (the KPI tables' source)."""
    import pandas as pd
    from orepit.output.report import budget_note
    summary = {"strategies": {"green": {"budget": "the budget buys a pit with 89.19 % of the metal"}}}
    kpis = pd.DataFrame([{"strategy": "npv", "npv": 15_900.0e6},
                         {"strategy": "green", "npv": 15_707.9e6, "green_budget": 0.03, "npv_budget_target": 15_456.0e6}])
    text = budget_note(summary, kpis, "USD")
    assert "give up 3 % of npv's economic NPV" in text and "must keep 15,456.0 M USD" in text
    assert "keeps 15,707.9 M USD" in text and "89.19 % of the metal" in text
    assert budget_note(summary, kpis.drop(columns="green_budget"), "USD") == \
        "<p>Green's final pit: the budget buys a pit with 89.19 % of the metal.</p>"
    assert budget_note({"strategies": {"npv": {}}}, kpis, "USD") == ""


def test_missing_optional_block_columns_are_named(tmp_path):
    from orepit.data.model import BlockModel
    folder = make_results(tmp_path / "r")
    model = read_model(folder / "blocks.parquet")
    frame = model.frame.drop(columns=["env_cost_high_grade", "destination_green"])
    write_model(BlockModel(frame, block_size=model.block_size), folder / "blocks.parquet")
    out = make_report(folder, window_size=VIEW, chart_size=CHART, interactive=False)
    assert len(out["warnings"]) == 1
    assert "env_cost_high_grade (high-grade environmental cost view)" in out["warnings"][0]
    assert "destination_green (green destination view)" in out["warnings"][0]
    assert "env_cost high-grade" not in out["images"] and "destinations green" not in out["images"]
    assert {"env_cost green", "destinations high-grade"} <= set(out["images"])


@pytest.mark.parametrize("value, text", [(1234.4, "1,234"), (12.34, "12.3"), (0.0543, "0.0543"), (7.0, "7"),
                                         (1e-10, "0"), (float("nan"), "&ndash;"), ("a<b", "a&lt;b"), (None, "None")])
def test_number_format(value, text):
    from orepit.output.report import _num
    assert _num(value) == text


def test_metal_kpis_name_their_element_and_the_others_earn_revenue_only():
    import pandas as pd
    from orepit.output.report import kpi_report_table, metal_name, metal_note
    summary = {"deposit": {"element": "cu", "elements": ["cu", "au"]}}
    assert metal_name(summary) == "Cu"
    assert metal_note(summary) == ("Metal KPIs count Cu, the first element of the economics; Au earns revenue in "
                                   "the NPV but is not counted as metal.")
    kpis = pd.DataFrame({"strategy": ["npv"], "metal_recovered": [5.0], "npv": [2e6]})
    assert list(kpi_report_table(kpis, None, "Cu")["KPI"]) == ["metal recovered (t Cu)", "NPV (economic) (MUSD)"]


def test_each_elements_metal_is_named_in_its_unit_and_the_first_is_not_shown_twice():
    """Per-element metal KPIs (kpis.csv, t) are shown per element: Cu in t, Au (graded in g/t) in kg;
    the first element's copies (metal_recovered_cu) are the unsuffixed rows, not shown again."""
    import pandas as pd
    from orepit.output.report import element_units, headline_keys, kpi_report_table, metal_balances, metal_note
    summary = {"deposit": {"element": "cu", "elements": ["cu", "au"], "grade_units": {"cu": "%", "au": "g/t"}}}
    units = element_units(summary)
    assert units == {"cu": ("Cu", "t", 1.0), "au": ("Au", "kg", 1000.0)}
    kpis = pd.DataFrame({"strategy": ["npv", "green"], "metal_recovered": [5.0, 6.0], "metal_recovered_cu": [5.0, 6.0],
                         "metal_recovered_au": [0.25, 0.5], "npv": [2e6, 1e6]})
    table = kpi_report_table(kpis, None, "Cu", units)
    assert list(table["KPI"]) == ["metal recovered (t Cu)", "metal recovered (kg Au)", "NPV (economic) (MUSD)"]
    assert table.loc[1, "green"] == 500.0 and table.loc[0, "npv"] == 5.0
    assert headline_keys(kpis, summary)[3:5] == ["metal_recovered", "metal_recovered_au"]
    assert metal_note(summary, kpis).startswith("Metal KPIs are given for every element that earns revenue "
                                                "(Cu in t, Au in kg;")
    assert metal_balances(kpis, summary) == ""                  # without the balance's columns, no table


def test_headline_quotes_greens_kpis_against_each_base():
    """The headline's differences and cost per tonne are green's KPIs against each base, as kpis.csv
    holds them (one source): a changed KPI changes the sentence."""
    from types import SimpleNamespace
    import pandas as pd
    from orepit.output.report import headline
    from orepit.planning.strategies import price_of_green
    kpis = {"npv": {"npv": 100e6, "npv_after_environment": 90e6, "metal_recovered": 1000.0},
            "high-grade": {"npv": 80e6, "npv_after_environment": 75e6, "metal_recovered": 700.0},
            "green": {"npv": 97e6, "npv_after_environment": 92e6, "metal_recovered": 1500.0}}
    price_of_green({name: SimpleNamespace(kpis=k) for name, k in kpis.items()})
    frame = pd.DataFrame([{"strategy": s, **k} for s, k in kpis.items()])
    text = headline(frame, "USD")
    assert ("Against <b>npv</b>, green recovers 500 t more metal; its economic NPV is 3 M USD lower (97.0 % of "
            "npv's) and its NPV after environmental cost 2 M USD higher; each extra tonne of metal costs 6,000 USD "
            "of economic NPV") in text
    assert "Against <b>high-grade</b>, green recovers 800 t more metal; its economic NPV is 17 M USD higher" in text
    frame.loc[frame.strategy == "green", "cost_per_t_metal_saved_vs_npv"] = 7000.0
    assert "costs 7,000 USD" in headline(frame, "USD")


def test_risk_json_without_its_tables_is_named(report, tmp_path):
    folder = tmp_path / "r"
    shutil.copytree(report[0], folder)
    (folder / "risk.json").write_text("{}")
    with pytest.raises(InputError, match=re.escape("realisations.parquet, realisation_periods.parquet")):
        make_report(folder, views=False, chart_size=CHART)


def test_the_page_names_the_deposits_grade_and_currency(tmp_path):
    """A gold deposit priced in EUR: the grade view's caption, the pit's value and every money unit
    say so (they said copper and USD whatever the deposit)."""
    folder = make_results(tmp_path / "r")
    model = read_model(folder / "blocks.parquet")
    gold = BlockModel(model.frame.rename(columns={"cu": "au"}), block_size=model.block_size, origin=model.origin,
                      grades=["au"])
    write_model(gold, folder / "blocks.parquet")
    summary = json.loads((folder / "summary.json").read_text())
    summary["deposit"].update(currency="EUR", element="au", elements=["au"])
    (folder / "summary.json").write_text(json.dumps(summary))
    page = (folder / make_report(folder, window_size=VIEW, chart_size=CHART, interactive=False)["report"]).read_text()
    assert "Block model coloured by Au grade" in page and "copper" not in page
    assert "NPV (economic) (MEUR)" in page and "MUSD" not in page          # money in the deposit's currency
    for chart in ("chart_pit_by_pit.png", "chart_npv_co2.png", "chart_frontier.png"):
        assert "MEUR" in Image.open(folder / chart).info["axes"] and "MUSD" not in Image.open(folder / chart).info["axes"]
    value = f"value {summary['pit']['objective']:,.0f} EUR"
    assert value in re.sub(r"<[^>]+>", "", page), re.findall(r"ultimate pit[^<]*", page)


def test_report_reads_only_the_block_columns_it_uses(report):
    from orepit.output.report import load_results
    from orepit.output.viz import columns_read
    folder, _ = report
    model = load_results(folder)["blocks.parquet"]
    written = read_model(folder / "blocks.parquet")
    assert set(model.columns) == {c for c in written.columns if c in columns_read(["high-grade", "npv", "green"])}
    assert "bwi" in written.columns and "bwi" not in model.columns     # not drawn: not read
    assert {"period_green", "destination_green", "env_cost_green", "in_pit", "tonnage"} <= set(model.columns)


# -- what an engineer signing off the plan reads: footing, units, labels, rounding -----------------
SETUP = {"periods": 40, "discount_rate": 0.08, "mining_capacity": 358_665_410.9, "mill_capacity": 95_266_478.9,
         "mill_hours": 54_297.5, "stockpile_capacity": None}


@pytest.fixture(scope="module")
def signoff(tmp_path_factory):
    """The fake results with what a study writes beside them: its setup, a copper grade unit, the
    bound model's status, an unnamed deposit, KPIs that are missing (NaN) or solver round-off."""
    import pandas as pd
    folder = make_results(tmp_path_factory.mktemp("signoff"))
    summary = json.loads((folder / "summary.json").read_text())
    summary["setup"] = SETUP
    summary["deposit"].update(name="", source="models/porphyry_blocks.csv", currency="USD", element="cu",
                              elements=["cu"], grade_units={"cu": "%"})
    for name, s in summary["strategies"].items():
        s.update(status="feasible", bound=1.1 * s["objective"], gap=0.1,
                 stages={"sequence": {"status": "optimal", "seconds": 0.5, "variables": 10, "integer_variables": 0},
                         "bound": {"status": "feasible", "seconds": 2.0}})
    (folder / "summary.json").write_text(json.dumps(summary))
    kpis = pd.read_csv(folder / "kpis.csv")
    kpis["environmental_cost"] = [2.6456e9, 2.5518e9]
    kpis["metal_stockpile_lost"] = [0.0, 67_484.2]
    kpis["final_stockpile_t"] = [7.11588654667139e-08, 0.0]
    kpis["processing_recovery_rate"] = [0.8760, 0.867374]          # green - high-grade: -0.8626 points
    kpis["strip_ratio"] = [1.2591, 1.4035]
    kpis.to_csv(folder / "kpis.csv", index=False)
    frontier = pd.read_csv(folder / "frontier.csv")
    frontier.loc[len(frontier) - 1, "utilisation_floor"] = 0.997
    frontier.to_csv(folder / "frontier.csv", index=False)
    make_report(folder, views=False, chart_size=CHART)
    return (folder / "report.html").read_text(encoding="utf-8"), (folder / "kpis.md").read_text(encoding="utf-8")


def _text(page: str) -> str:
    """The page's text, cells joined by `` | ``."""
    return re.sub(r"\s*\|\s*(\|\s*)*", " | ", re.sub(r"<[^>]+>", " | ", page))


def test_the_npv_has_its_footing_in_the_report_and_in_kpis_md(signoff):
    """Currency, discounting as `orepit.planning.simulation` does it (period t by 1/(1+r)^t, period 0
    not discounted), what a period is and the capacities per period, from summary.json's setup."""
    page, md = signoff
    for text in (page, md):
        assert "Footing: money in USD (MUSD: millions of USD)." in text
        assert "discounts the cash flow of period t by 1/(1 + 0.08)^t" in text and "period 0 is not discounted" in text
        assert "The discount rate, 8 %, is per period. A period is one step of the schedule" in text
        assert "Capacities per period as the plans used them: mining 358.7 Mt, mill 95.3 Mt, mill time 54.3 thousand h." \
            in text
    assert page.index("Footing:") < page.index("all KPIs")              # beside the KPI table


def test_kpis_md_labels_every_kpi_with_its_unit_and_writes_no_nan(signoff):
    _, md = signoff
    assert "| NPV (economic) (MUSD) |" in md and "| metal recovered (t Cu) |" in md and "| CO2 (kt) |" in md
    assert "| npv |" not in md and "co2_tonnes" not in md and "nan" not in md.lower()
    row = next(line for line in md.splitlines() if line.startswith("| economic NPV given up against high-grade"))
    assert row.split(" | ")[1] == "-"                                  # high-grade has no price of green
    assert md.index("NPV (economic)") < md.index("processing recovery rate")  # the headline's KPIs first


def test_report_tables_name_money_and_grade_units(signoff):
    page, _ = signoff
    for header in ("cash_flow (USD)", "npv_cumulative (USD)", "best_case (USD)", "value (USD)", "objective (USD)",
                   "cutoff (% Cu)", "mean_grade (% Cu)", "ore_t (t)", "utilisation_floor (fraction)"):
        assert f"<th>{header}</th>" in page, header
    assert "environmental cost, discounted (MUSD)" in page


def test_metal_left_on_the_stockpile_is_not_called_lost(signoff):
    page, md = signoff
    for text in (page, md):
        assert "metal left on the stockpile at the end (not processed) (t Cu) | 0 | 67,484 |" in _text(text)
        assert "lost on the stockpile" not in text


def test_one_rounding_rule_per_row_and_column(signoff):
    page, md = signoff
    text = _text(page)
    assert "processing recovery rate (%) | 87.6 | 86.7 | -0.9 |" in text and "| -0.8626" not in text
    assert "strip ratio (t/t) | 1.26 | 1.40 | 0.14 |" in text
    assert "| final stockpile (kt) | 0 | 0 | 0 |" in md and "e-0" not in md and "e-0" not in text
    assert "| 0.00 | 4,784,400 | 0.21 | 10,174 | 0.05 |" in text       # cut-offs 0.05 apart: two decimals
    assert "| 0.800 |" in text and "| 0.997 |" in text                   # frontier floors: one rule
    from orepit.output.numbers import cell, decimals
    assert [cell(v, decimals([0.859, 0.997])) for v in (0.859, 0.997)] == ["0.859", "0.997"]   # chart labels
    assert [cell(v, decimals([88.00000000000001, 88.0])) for v in (88.00000000000001, 88.0)] == ["88", "88"]


def test_title_names_an_unnamed_deposit_by_its_file_and_bound_status_says_what_it_means(signoff):
    page, md = signoff
    assert "<title>orepit report: porphyry_blocks</title>" in page and md.startswith("# KPIs: porphyry_blocks\n")
    from orepit.output.wording import deposit_title
    assert deposit_title({"deposit": {"name": ""}}) == "unnamed deposit"
    text = _text(page)
    assert "| green | bound | bound (not proven tight) | 2.0 |" in text and "| sequence | optimal |" in text
    assert "| feasible, not proven optimal |" in text


def _tail(cash, after_environment):
    """Two periods of one plan: mining in period 0, the stockpile milled out in period 1."""
    import pandas as pd
    return pd.DataFrame({"strategy": ["green", "green"], "period": [0, 1], "mined_t": [10.0, 0.0],
                         "ore_mined_t": [5.0, 0.0], "mill_t": [5.0, 5.0], "cash_flow": [100.0, cash],
                         "cash_flow_after_environment": [90.0, after_environment]})


def test_a_tail_milled_at_a_loss_is_judged_on_the_strategys_own_footing():
    """Green's objective is after environmental cost: its last period loses 2 M there while its
    economic cash flow is positive, and the note says so; an economic strategy's is judged economic."""
    after = {"strategies": {"green": {"footing": "after environmental cost"}}}
    notes = plan_notes(_tail(1e6, -2e6), None, after, "USD")
    assert notes == ["green: after mining ends, period 1 mills the last stockpile at a loss of 2.0 MUSD "
                     "(undiscounted, after environmental cost, the footing of its objective): its rules send every "
                     "ore-grade tonne to the mill."]
    economic = {"strategies": {"green": {"footing": "economic"}}}
    assert plan_notes(_tail(1e6, -2e6), None, economic, "USD") == []
    assert "loss of 3.0 MUSD (undiscounted, economic" in plan_notes(_tail(-3e6, -4e6), None, economic, "USD")[0]


def test_a_frontier_point_above_npvs_economic_npv_is_noted():
    import pandas as pd
    frontier = pd.DataFrame({"utilisation_floor": [0.859, 0.9], "npv": [16_418.8e6, 16_037.2e6]})
    summary = {"strategies": {"npv": {"npv": 16_405.3e6}}}
    notes = plan_notes(_tail(1.0, 1.0), frontier, summary, "USD")
    assert notes == ["A point of the frontier (utilisation floor 0.859, under green's rules) has a higher economic "
                     "NPV than npv's own plan: 16,418.8 against 16,405.3 MUSD. npv's schedule is a heuristic's, "
                     "within the gap to its bound, not proven optimal."]
    summary["strategies"]["npv"]["npv"] = 16_500e6
    assert plan_notes(_tail(1.0, 1.0), frontier, summary, "USD") == []
