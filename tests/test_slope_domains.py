"""Slopes by geotechnical domain: the rule against brute force, one angle everywhere equals today's
precedence, a weaker domain binds, the slope table's checks, and the CLI and results folder."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from orepit.cli import main
from orepit.data.model import BlockModel
from orepit.valuation.precedence import (precedence_by_domain, precedence_from_geometry, precedence_from_indices,
                                         write_precedence)
from orepit.valuation.slopes import SlopeTable
from orepit.valuation.synthetic import default_economics, synthetic_deposit
from solvers.closure import PseudoflowSolver
from solvers.errors import InputError
from solvers.patterns import implied_chains, minimal_pattern, slope_offsets

from _example_model import DIMS, EXAMPLE, ORIGIN, SEED, example_frame

EXAMPLES = EXAMPLE.parent
TABLE = EXAMPLES / "slopes_porphyry.toml"


# --- the rule, computed naively -------------------------------------------------------------------

def rule_successors(dims, present, domain, patterns):
    """Arcs of the stated rule: block b needs every present block at b + o, o in its domain's FULL pattern."""
    nx, ny, nz = dims
    out = {}
    for b in np.flatnonzero(present).tolist():
        i, j, k = b % nx, (b // nx) % ny, b // (nx * ny)
        out[b] = [a + nx * (c + ny * e) for di, dj, dk in patterns[domain[b]].tolist()
                  for a, c, e in [(i + di, j + dj, k + dk)]
                  if 0 <= a < nx and 0 <= c < ny and e < nz and present[a + nx * (c + ny * e)]]
    return out


def closure_of(succ: dict) -> dict:
    """Every block's set of blocks reachable by one or more arcs (breadth-first search)."""
    out = {}
    for b in succ:
        seen, todo = set(), list(succ[b])
        while todo:
            x = todo.pop()
            if x not in seen:
                seen.add(x)
                todo.extend(succ[x])
        out[b] = seen
    return out


def generated(prec, ids) -> dict:
    """The arcs of a CSR precedence over blocks listed as ``ids`` (grid ids), as grid ids."""
    return {int(ids[b]): [int(ids[p]) for p in prec.indices[prec.indptr[b]:prec.indptr[b + 1]]]
            for b in range(ids.size)}


def random_case(rng, dims, n_domains):
    """Block size, benches, one full pattern per domain (a single angle or a rosette) and blocky
    domains (slabs and columns, sometimes salt and pepper)."""
    size = (float(rng.choice([10, 20, 40])), float(rng.choice([10, 20])), float(rng.choice([10, 15, 40])))
    benches = int(rng.integers(1, 6))
    specs = [float(rng.uniform(30, 70)) if rng.random() < 0.5 else list(rng.uniform(30, 70, int(rng.integers(2, 7))))
             for _ in range(n_domains)]
    patterns = [slope_offsets(size, s, benches) for s in specs]
    ids = np.arange(int(np.prod(dims)))
    nx, ny, _ = dims
    i, k = ids % nx, ids // (nx * ny)
    domain = (rng.integers(0, n_domains, ids.size) if rng.random() < 0.3
              else (i * n_domains // nx + k // 2) % n_domains).astype(np.int32)
    return patterns, domain


# --- the rule against brute force ------------------------------------------------------------------

def test_closure_of_the_arcs_is_the_closure_of_the_rule_on_random_grids():
    """2 or 3 domains with single angles or rosettes: the transitive closure of the generated arcs
    equals that of the rule's full patterns, and the arcs are fewer than the rule's."""
    rng = np.random.default_rng(20261130)
    fewer, arcs, rule_arcs = 0, 0, 0
    for _ in range(60):
        dims = tuple(int(v) for v in rng.integers(3, 8, 3))
        patterns, domain = random_case(rng, dims, int(rng.integers(2, 4)))
        ids = np.arange(domain.size)
        nx, ny, _ = dims
        prec = precedence_by_domain(ids % nx, (ids // nx) % ny, ids // (nx * ny), domain, patterns)
        rule = rule_successors(dims, np.ones(ids.size, bool), domain, patterns)
        assert closure_of(generated(prec, ids)) == closure_of(rule), (dims, [len(p) for p in patterns])
        assert prec.n_arcs <= sum(len(v) for v in rule.values())
        fewer += prec.n_arcs < sum(len(v) for v in rule.values())
        arcs, rule_arcs = arcs + prec.n_arcs, rule_arcs + sum(len(v) for v in rule.values())
    assert fewer >= 40 and arcs < 0.6 * rule_arcs      # the reduction is at work, not the full patterns


def test_pit_value_equals_the_best_closed_set_on_tiny_grids():
    """Every closed set of the rule enumerated: the pseudoflow pit on the generated arcs has the best value."""
    rng = np.random.default_rng(7)
    for dims in [(5, 1, 3), (4, 1, 3), (3, 2, 2), (4, 3, 1), (2, 2, 3), (6, 1, 2)] * 3:
        patterns, domain = random_case(rng, dims, 2)
        n = domain.size
        ids = np.arange(n)
        nx, ny, _ = dims
        values = np.round(rng.normal(0, 3, n), 2)
        prec = precedence_by_domain(ids % nx, (ids // nx) % ny, ids // (nx * ny), domain, patterns)
        rule = rule_successors(dims, np.ones(n, bool), domain, patterns)
        need = [sum(1 << p for p in rule[b]) for b in range(n)]
        best = max(sum(values[b] for b in range(n) if s >> b & 1) for s in range(1 << n)
                   if all(not s >> b & 1 or s & need[b] == need[b] for b in range(n)))
        assert PseudoflowSolver(prec).solve(values).objective == pytest.approx(best, abs=1e-9)


def test_implied_chains_sum_to_their_offsets_through_minimal_steps():
    for angles in (45.0, [35.0, 50.0, 45.0, 40.0], 30.0):
        full = slope_offsets((10, 10, 15), angles, 6)
        kept = {tuple(o) for o in minimal_pattern(full).tolist()}
        for offset, chain in zip(full.tolist(), implied_chains(full)):
            if tuple(offset) in kept:
                assert chain.shape == (0, 3)
            else:
                assert len(chain) >= 2 and chain.sum(axis=0).tolist() == offset
                assert all(tuple(m) in kept for m in chain.tolist())


# --- one angle everywhere is today's precedence ----------------------------------------------------

def test_one_angle_everywhere_gives_todays_arcs_on_sparse_random_models():
    rng = np.random.default_rng(3)
    for _ in range(40):
        dims = tuple(int(v) for v in rng.integers(2, 9, 3))
        size = (float(rng.choice([10, 20, 40])), float(rng.choice([10, 20, 40])), float(rng.choice([10, 15, 40])))
        full = slope_offsets(size, float(rng.uniform(25, 75)), int(rng.integers(1, 9)))
        ids = np.flatnonzero(rng.random(int(np.prod(dims))) < 0.8)
        i, j, k = ids % dims[0], (ids // dims[0]) % dims[1], ids // (dims[0] * dims[1])
        a = precedence_by_domain(i, j, k, None, [full])
        b = precedence_from_indices(i, j, k, minimal_pattern(full))
        assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)


def test_one_rosette_everywhere_is_exact_at_the_grid_edges():
    """A rosette's minimal pattern alone can miss arcs at the grid's side edges (a chain would pass
    outside the grid); the domain rule keeps those arcs, so its closure is the full pattern's."""
    rng = np.random.default_rng(5)
    missed = 0
    for _ in range(80):
        dims = tuple(int(v) for v in rng.integers(2, 8, 3))
        size = (float(rng.choice([10, 20, 40])), float(rng.choice([10, 20, 40])), float(rng.choice([10, 15, 40])))
        full = slope_offsets(size, list(rng.uniform(25, 75, int(rng.integers(2, 9)))), int(rng.integers(1, 7)))
        ids = np.arange(int(np.prod(dims)))
        i, j, k = ids % dims[0], (ids // dims[0]) % dims[1], ids // (dims[0] * dims[1])
        want = closure_of(rule_successors(dims, np.ones(ids.size, bool), np.zeros(ids.size, int), [full]))
        assert closure_of(generated(precedence_by_domain(i, j, k, None, [full]), ids)) == want
        missed += closure_of(generated(precedence_from_indices(i, j, k, minimal_pattern(full)), ids)) != want
    assert missed > 0                   # the case this guards against occurs


@pytest.fixture(scope="module")
def deposit_model():
    return synthetic_deposit(20_000, seed=3)


def _pit(model, slope):
    from orepit.valuation.deposit import value_deposit
    precedence = precedence_from_geometry(model, slope=slope, levels=8)
    deposit = value_deposit(model, default_economics(model.block_size[2]), precedence=precedence)
    result = PseudoflowSolver(precedence).solve(deposit.pit_values(False))
    return precedence, result


def test_a_table_of_one_angle_is_the_slope_option_on_the_demo_deposit(deposit_model):
    plain, pit = _pit(deposit_model, 45.0)
    table, tpit = _pit(deposit_model, SlopeTable("rock", {"leached": 45.0, "host": [45.0, 45.0]}, 45.0))
    assert np.array_equal(plain.indptr, table.indptr) and np.array_equal(plain.indices, table.indices)
    assert tpit.objective == pit.objective and np.array_equal(tpit.solution, pit.solution)


def test_a_table_of_one_angle_is_the_slope_option_on_kd(minelib):
    from orepit.data.minelib import read_blocks
    blocks = read_blocks(minelib / "kd" / "kd.blocks")
    frame = pd.DataFrame({"i": blocks["i"], "j": blocks["j"], "k": blocks["k"],
                          "zone": np.where(blocks["k"] > 20, "upper", "lower")})
    model = BlockModel(frame, block_size=(20, 20, 15))
    plain = precedence_from_geometry(model, slope=45, levels=8)
    table = precedence_from_geometry(model, slope=SlopeTable("zone", {"upper": 45, "lower": 45}), levels=8)
    assert plain.n_arcs == table.n_arcs == 219_778
    assert np.array_equal(plain.indices, table.indices)


# --- the table binds -------------------------------------------------------------------------------

def _section(west: float, east: float) -> tuple[np.ndarray, float, np.ndarray]:
    """A vertical section of 10 m cubes, 21 wide and 6 high, with one rich block at the bottom centre
    and waste worth -1 elsewhere; blocks west of the centre are domain 'weak', the others 'strong'."""
    nx, nz = 21, 6
    ids = np.arange(nx * nz)
    i, k = ids % nx, ids // nx
    frame = pd.DataFrame({"i": i, "j": 0, "k": k, "zone": np.where(i < 10, "weak", "strong")})
    model = BlockModel(frame, block_size=(10, 10, 10))
    values = np.where((i == 10) & (k == 0), 1000.0, -1.0)
    table = SlopeTable.from_dict({"column": "zone", "angles": {"weak": west, "strong": east}})
    pit = PseudoflowSolver(precedence_from_geometry(model, slope=table, levels=8)).solve(values)
    return pit.solution.reshape(nz, nx), pit.objective, values


def test_a_weaker_domain_widens_its_wall_and_costs_value():
    even, even_value, values = _section(45.0, 45.0)
    weak, weak_value, _ = _section(30.0, 45.0)
    top = even.shape[0] - 1
    assert np.flatnonzero(even[top]).tolist() == list(range(5, 16))       # 45 degrees: 5 blocks each side
    # the west wall (weak rock, 30 degrees) lies flatter: the pit reaches further west, the east is unchanged
    assert np.flatnonzero(weak[top]).min() < 5 and np.flatnonzero(weak[top]).max() == 15
    assert weak_value == pytest.approx(even_value - (weak.sum() - even.sum())) and weak_value < even_value
    # and it is the rule's pit: the rich block and every block its cone needs, cone by cone
    patterns = [slope_offsets((10, 10, 10), a, 8) for a in (30.0, 45.0)]
    nx = even.shape[1]
    domain = np.where(np.arange(values.size) % nx < 10, 0, 1)
    need = closure_of(rule_successors((nx, 1, even.shape[0]), np.ones(values.size, bool), domain, patterns))[10]
    assert set(np.flatnonzero(weak.ravel()).tolist()) == need | {10}


def test_a_weaker_rock_on_the_demo_deposit_lowers_the_pit_value(deposit_model):
    _, pit = _pit(deposit_model, 45.0)
    _, weak = _pit(deposit_model, SlopeTable("rock", {"host": 38.0}, 45.0))       # weaker country rock
    assert weak.objective < pit.objective
    assert not np.array_equal(weak.solution, pit.solution)


# --- the table's checks ----------------------------------------------------------------------------

def _write(tmp_path, text: str):
    path = tmp_path / "slopes.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, says", [
    ('[slopes]\ncolumn = "rock"\n[slopes.angles]\nleached = 0\n', "slopes.toml line 4: slopes.angles.leached: 0"),
    ('[slopes]\ncolumn = "rock"\n[slopes.angles]\nleached = 95\n', "slopes.toml line 4: slopes.angles.leached: 95"),
    ('[slopes]\ncolumn = "rock"\n[slopes.angles]\nleached = nan\n', "line 4: slopes.angles.leached: expected a finite"),
    ('[slopes]\ncolumn = "rock"\ndefault = [45, "x"]\n', "slopes.toml line 3: slopes.default: expected a number"),
    ('[slopes]\ncolumn = "rock"\ndefault = []\n', "slopes.toml line 3: slopes.default: expected one angle"),
    ('[slopes]\ncolumn = "rock"\ndefualt = 45\n', "slopes.toml line 3: unknown key 'slopes.defualt'"),
    ('[slopes]\ndefault = 45\n', "slopes.toml line 1: slopes.column: missing"),
    ('[slopes]\ncolumn = "rock"\n', "no domain has an angle and there is no default"),
    ('column = "rock"\n', "slopes.toml: no [slopes] table"),
    ('[slopes]\ncolumn = "rock"\nangles = 45\n', "slopes.toml line 3: slopes.angles: expected a table"),
])
def test_bad_tables_name_the_file_line_and_key(tmp_path, text, says):
    with pytest.raises(InputError) as err:
        SlopeTable.from_toml(_write(tmp_path, text))
    assert says in str(err.value)


def test_model_values_the_table_cannot_place_name_the_block(tmp_path, deposit_model):
    path = _write(tmp_path, '[slopes]\ncolumn = "rock"\n[slopes.angles]\nleached = 35\n')
    with pytest.raises(InputError) as err:
        precedence_from_geometry(deposit_model, slope=SlopeTable.from_toml(path))
    rows = np.flatnonzero(np.asarray(deposit_model["rock"]).astype(str) != "leached")
    assert str(err.value).startswith(f"slopes.toml: block {rows[0]}: rock = ")
    assert "is not in [slopes.angles] and the table has no default" in str(err.value)
    unknown = _write(tmp_path, '[slopes]\ncolumn = "zone"\ndefault = 45\n')
    with pytest.raises(InputError, match=r"slopes.toml: column: the block model has no column 'zone'"):
        precedence_from_geometry(deposit_model, slope=SlopeTable.from_toml(unknown))
    frame = pd.DataFrame({"i": [0, 0], "j": [0, 0], "k": [0, 1], "zone": ["a", None]})
    with pytest.raises(InputError, match=r"block 1: zone is missing"):
        precedence_from_geometry(BlockModel(frame, block_size=(10, 10, 10)), slope=SlopeTable("zone", {}, 45.0))


def test_the_table_reads_back_from_its_record():
    table = SlopeTable.from_toml(TABLE)
    assert table.column == "rock" and table.default == 45.0
    assert table.angles["hypogene_hard"] == (50.0, 52.0, 50.0, 48.0) and table.angles["leached"] == 35.0
    assert SlopeTable.from_dict(json.loads(json.dumps(table.to_dict()))) == SlopeTable(
        table.column, table.angles, table.default)


# --- the command line and the results folder -------------------------------------------------------

def run_json(argv, capsys):
    code = main([*argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def example_with_rock(tmp_path_factory):
    """examples/porphyry_blocks.csv with a ROCK column: the rock types of the synthetic deposit it was
    written from (the example file itself has no rock column)."""
    model = synthetic_deposit(dims=DIMS, seed=SEED, air="remove")
    frame = pd.DataFrame({"XC": model.x + ORIGIN[0], "YC": model.y + ORIGIN[1], "ZC": model.z + ORIGIN[2],
                          "ROCK": np.asarray(model["rock"]).astype(str)})
    frame = frame.sort_values(["XC", "YC", "ZC"], kind="stable").reset_index(drop=True)
    shipped = pd.read_csv(EXAMPLE)
    assert np.allclose(frame[["XC", "YC", "ZC"]].to_numpy(), shipped[["XC", "YC", "ZC"]].to_numpy())
    path = tmp_path_factory.mktemp("example") / "porphyry_with_rock.csv"
    example_frame().assign(ROCK=frame["ROCK"]).to_csv(path, index=False)
    return path


def test_pit_and_prec_with_the_example_table(example_with_rock, tmp_path, capsys):
    economics = str(EXAMPLES / "economics_porphyry_blocks.toml")
    base = ["pit", str(example_with_rock), "--economics", economics]
    code, plain = run_json([*base, "--slope", "45"], capsys)
    assert code == 0, plain
    code, tabled = run_json([*base, "--slope-table", str(TABLE)], capsys)
    assert code == 0, tabled
    assert tabled["objective"] != plain["objective"] and tabled["arcs"] > plain["arcs"]
    flat = _write(tmp_path, '[slopes]\ncolumn = "rock"\ndefault = 45\n[slopes.angles]\nleached = 45\n')
    code, same = run_json([*base, "--slope-table", str(flat)], capsys)
    assert (same["objective"], same["arcs"], same["blocks_in_pit"]) == (plain["objective"], plain["arcs"],
                                                                      plain["blocks_in_pit"])
    # the same table inside the economics file ([slopes]) gives the same pit
    with_slopes = tmp_path / "economics.toml"
    with_slopes.write_text((EXAMPLES / "economics_porphyry_blocks.toml").read_text().replace(
        "[elements.cu]", TABLE.read_text() + "\n[elements.cu]", 1))
    code, inside = run_json(["pit", str(example_with_rock), "--economics", str(with_slopes)], capsys)
    assert code == 0, inside
    assert inside["objective"] == tabled["objective"]
    # prec writes the table's arcs
    out = tmp_path / "p.prec"
    code, prec = run_json(["prec", str(example_with_rock), "--slope-table", str(TABLE), "--out", str(out)], capsys)
    assert code == 0 and prec["arcs"] == tabled["arcs"]
    from orepit.data.files import read_model
    model = read_model(example_with_rock)
    want = tmp_path / "want.prec"
    write_precedence(want, precedence_from_geometry(model, slope=SlopeTable.from_toml(TABLE)))
    assert out.read_text() == want.read_text()


def test_shells_takes_the_table(example_with_rock, capsys):
    base = ["shells", str(example_with_rock), "--economics", str(EXAMPLES / "economics_porphyry_blocks.toml"),
            "--factors", "0.5,1"]
    code, plain = run_json(base, capsys)
    code2, tabled = run_json([*base, "--slope-table", str(TABLE)], capsys)
    assert code == code2 == 0
    assert plain["table"] != tabled["table"]


@pytest.mark.parametrize("argv, says", [
    (["pit", "--grid", "v.txt", "--dims", "2", "2", "2"], "--slope-table needs a block model"),
    (["prec", "{example}", "--pattern", "plus"], "--pattern and a slope table exclude each other"),
    (["prec", "{example}", "--slope", "45"], "--slope and a slope table exclude each other"),
    (["pit", "kd", "--economics", "{economics}"], "MineLib instance kd has its own precedences"),
    (["pit", "kd"], "MineLib instance kd has its own precedences"),
    (["shells", "kd"], "MineLib instance kd has its own precedences"),
])
def test_the_table_where_it_cannot_apply_exits_2(argv, says, example_with_rock, tmp_path, capsys, minelib):
    out = tmp_path / "never.prec"
    argv = [a.format(example=example_with_rock, economics=EXAMPLES / "kd.toml") for a in argv]
    (tmp_path / "v.txt").write_text("1\n" * 8)
    argv = [str(tmp_path / "v.txt") if a == "v.txt" else a for a in argv]
    code, out_json = run_json([*argv, "--slope-table", str(TABLE), *(["--out", str(out)] if argv[0] == "prec" else [])],
                              capsys)
    assert code == 2 and says in out_json["error"], out_json
    assert not out.exists()


def test_a_bad_table_exits_2_and_writes_nothing(example_with_rock, tmp_path, capsys):
    bad = _write(tmp_path, '[slopes]\ncolumn = "rock"\n[slopes.angles]\nleached = 91\n')
    out = tmp_path / "p.prec"
    code, err = run_json(["prec", str(example_with_rock), "--slope-table", str(bad), "--out", str(out)], capsys)
    assert code == 2 and err["error"].startswith("slopes.toml line 4: slopes.angles.leached: 91")
    assert not out.exists()


def test_check_rebuilds_the_table_of_a_results_folder(tmp_path, capsys):
    """Slopes steeper than 45 degrees: the schedules pass the check under the table, and fail it
    when the table is replaced by --slope's default (the check really rebuilds the table's arcs)."""
    steep = _write(tmp_path, '[slopes]\ncolumn = "rock"\ndefault = 62\n[slopes.angles]\nhost = [60, 65]\n')
    out = tmp_path / "results"
    code, result = run_json(["compare", "--blocks", "2000", "--strategies", "npv", "--slope-table", str(steep),
                             "--time-limit", "20", "--out", str(out), "--no-report", "--quiet"], capsys)
    assert code == 0, result
    summary = json.loads((out / "summary.json").read_text())
    assert summary["precedence"] == {"from": "geometry", "benches": 8, "slope_table": {
        "column": "rock", "default": 62.0, "angles": {"host": [60.0, 65.0]}}}
    assert main(["check", str(out)]) == 0
    capsys.readouterr()
    summary["precedence"] = {"from": "geometry", "slope_deg": 45.0, "benches": 8}
    (out / "summary.json").write_text(json.dumps(summary))
    assert main(["check", str(out)]) != 0


class _Stop(Exception):
    pass


def test_the_demo_deposit_takes_the_example_table(monkeypatch, capsys):
    import orepit.cli.compare as compare
    seen = {}

    def fake_run_study(model, economics, environment, strategies, setup, **kwargs):
        seen.update(kwargs, model=model)
        raise _Stop

    monkeypatch.setattr(compare, "run_study", fake_run_study)
    assert main(["demo", "--blocks", "1000", "--slope-table", str(TABLE), "--json"]) == 1
    capsys.readouterr()
    assert seen["slope"] == SlopeTable.from_toml(str(TABLE))
    _, specs = seen["slope"].block_domains(seen["model"])
    assert len(specs) == 5 and math.isclose(min(min(np.atleast_1d(s)) for s in specs), 35.0)
