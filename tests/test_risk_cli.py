"""``orepit risk``: one JSON object with P10/P50/P90 per strategy, the results folder (tables,
charts, report section), and bad input that exits 2 naming the field."""
from __future__ import annotations

import html
import json

import numpy as np
import pandas as pd
import pytest

from orepit.cli import main
from orepit.output.report import make_report
from orepit.output.risk_charts import risk_footing

SMALL = ["--blocks", "3000", "--target-life", "5", "--quiet"]


def run(capsys, *argv):
    code = main(["risk", *SMALL, *argv, "--json"])
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1, out
    return code, json.loads(out[0])


def test_risk_writes_tables_charts_and_the_report_section(tmp_path, capsys):
    out = tmp_path / "risk"
    code, payload = run(capsys, "--realisations", "3", "--workers", "1", "--strategies", "npv,green",
                        "--out", str(out), "--no-report")
    assert code == 0
    assert set(payload["strategies"]) == {"npv", "green"}
    table = pd.read_parquet(out / "realisations.parquet")
    periods = pd.read_parquet(out / "realisation_periods.parquet")
    # the stochastic green plan (built on realisations 3..5 by default) is judged with the others on 0..2
    assert len(table) == 9 and sorted(set(table.realisation)) == [0, 1, 2]
    stochastic, vss = payload["stochastic"], payload["vss"]
    assert stochastic["realisations_built"] == [3, 5] and stochastic["realisations"] == 3
    mean = {n: table.loc[table.strategy == n, "npv"].mean() for n in ("stochastic", "green")}
    assert vss["absolute"] == pytest.approx(mean["stochastic"] - mean["green"], rel=1e-9, abs=1e-3)
    assert vss["percent"] == pytest.approx(100 * vss["absolute"] / mean["green"], rel=1e-9, abs=1e-9)
    assert stochastic["bound"] >= stochastic["deterministic_sequence"] * (1 - 1e-9)
    for name, s in {**payload["strategies"], "stochastic": stochastic}.items():
        npv = table.loc[table.strategy == name, "npv"].to_numpy()
        assert [s["npv_p10"], s["npv_p50"], s["npv_p90"]] == pytest.approx(np.percentile(npv, (10, 50, 90)))
        assert s["expected_npv_out_of_sample"] == pytest.approx(npv.mean())
        for key in ("metal_recovered_p10", "metal_recovered_p50", "metal_recovered_p90", "co2_tonnes_p50",
                    "ore_to_dump_tonnes_p90", "npv_planned", "npv_on_estimate"):
            assert np.isfinite(s[key]), key
        assert len(s["mill_target_probability"]) == len(s["mill_target_t"])
    assert set(periods.strategy) == {"npv", "green", "stochastic"}
    schema = pd.read_csv(out / "schema.csv", keep_default_na=False)
    for file in ("realisations.parquet", "realisation_periods.parquet"):    # every risk column has unit and meaning
        rows = schema[schema.file == file]
        assert sorted(rows.column) == sorted(pd.read_parquet(out / file).columns)
        assert (rows.meaning != "not described").all() and (rows.unit != "").all(), file
    # the stochastic plan's block schedule is in the folder beside the others, and passes the checker
    assert set(pd.read_csv(out / "kpis.csv")["strategy"]) == {"npv", "green", "stochastic"}
    assert main(["check", str(out)]) == 0
    assert "stochastic: feasible (0 violations)" in capsys.readouterr().out
    risk = json.loads((out / "risk.json").read_text())
    assert risk["settings"]["realisations"] == 3 and risk["strategies"]["npv"]["npv_p50"] == payload["strategies"]["npv"]["npv_p50"]
    assert risk["vss"] == pytest.approx(vss) and risk["stochastic"]["npv_p10"] == stochastic["npv_p10"]
    for name in ("risk_cdf.png", "risk_mill_feed.png", "kpis.csv", "blocks.parquet"):
        assert (out / name).stat().st_size > 0, name
    page = open(make_report(out, views=False)["report"], encoding="utf-8").read()
    assert 'id="risk"' in page and "least over the periods it mills" in page and "Value of the stochastic solution" in page
    assert html.escape(risk_footing(json.loads((out / "risk.json").read_text()))) in page    # the section's footing
    assert (out / "kpis.md").is_file() and not (out / ".incomplete").exists()        # the run ended: no mark
    assert risk["stochastic"]["in_sample_objective"] <= risk["stochastic"]["in_sample_bound"]
    # statuses in words: the in-sample bound's, and the stochastic LP's own beside its bound and optimum
    assert risk["stochastic"]["in_sample_bound_status"] in ("bound", "relaxation solved")
    assert risk["stochastic"]["lp_status"] == "optimal"
    assert risk["settings"]["realisations_judged"] == [0, 2]
    assert not [w for w in risk["warnings"] if "several realisations" in w]
    assert f"does better than {risk['stochastic']['in_sample_bound'] / 1e6:,.1f} M in the mean" in page


def test_one_realisation_warns_that_percentiles_and_vss_need_several(tmp_path, capsys):
    out = tmp_path / "one"
    code = main(["risk", *SMALL, "--realisations", "1", "--workers", "1", "--strategies", "npv,green",
                 "--stochastic", "1", "--out", str(out), "--no-report"])
    text = capsys.readouterr().out
    assert code == 0                                        # warned, not refused
    risk = json.loads((out / "risk.json").read_text())
    [warning] = [w for w in risk["warnings"] if "several realisations" in w]
    assert "P10, P50 and P90" in warning and "VSS" in warning and f"warning: {warning}" in text
    assert risk["vss"] is not None and "Realisations 0 to 0 of the grades" in text


def test_no_stochastic_plan_without_green_or_when_asked(tmp_path, capsys):
    code, payload = run(capsys, "--realisations", "2", "--workers", "1", "--strategies", "npv",
                        "--out", str(tmp_path / "a"), "--no-report")
    assert code == 0 and payload["stochastic"] is None and payload["vss"] is None
    code, payload = run(capsys, "--realisations", "2", "--workers", "1", "--strategies", "npv", "--stochastic", "2",
                        "--out", str(tmp_path / "b"), "--no-report")
    assert code == 2 and "green" in payload["error"], payload


@pytest.mark.parametrize("text, field", [
    ('[variogram]\nrange_m = [100.0, 0.0, 50.0]\n[cv]\ncu = 0.3\n', "variogram.range_m"),
    ('[cv]\ncu = -0.2\n', "cv.cu"),
    ('[cv]\nzn = 0.2\n', "cv.zn"),
    ('realisations = 0\n[cv]\ncu = 0.2\n', "realisations"),
])
def test_bad_variogram_exits_2_naming_the_field(tmp_path, capsys, text, field):
    path = tmp_path / "variogram.toml"
    path.write_text(text)
    code, payload = run(capsys, "--variogram", str(path), "--out", str(tmp_path / "o"))
    assert code == 2 and field in payload["error"], payload


@pytest.mark.parametrize("argv, word", [
    (["--realisations", "0"], "--realisations"),
    (["--strategies", "npv,best"], "best"),
    (["--strategies", "frontier"], "frontier"),
    (["--scheduler", "tcp://127.0.0.1:1", "--workers", "2"], "--workers"),
])
def test_bad_options_exit_2(tmp_path, capsys, argv, word):
    code, payload = run(capsys, *argv, "--out", str(tmp_path / "o"))
    assert code == 2 and word in payload["error"], payload
