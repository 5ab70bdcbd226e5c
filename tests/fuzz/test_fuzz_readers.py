"""Fuzz every reader with mutations of valid files: each input loads to a valid model or raises
`InputError` naming the file; no other exception escapes, nothing hangs."""
from __future__ import annotations

import signal
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, strategies as st

from orepit import BlockModel
from orepit.valuation.economics import Economics
from orepit.valuation.environment import Environment
from orepit.data.minelib import read_blocks, read_precedence, read_problem, read_schedule, read_upit_solution
from solvers import InputError

from orepit.data.files import read_model, write_model

from .conftest import FUZZ
TRIED = {"inputs": 0}
SECONDS_PER_INPUT = 20


@contextmanager
def time_limit(seconds):
    def raise_timeout(signum, frame):
        raise TimeoutError(f"reader took more than {seconds} s")
    old = signal.signal(signal.SIGALRM, raise_timeout)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


GARBAGE = [b"nan", b"inf", b"-1", b"1e308", b"x", b"%", b":", b"\t", b"\xff", b"", b"99999999", b"0.5", b"EOF",
           b"NBLOCKS: 3", b"L", b"I 1", b"\r\n"]


@st.composite
def mutations(draw, data: bytes):
    """A valid file with a few random edits: delete, duplicate, swap, truncate, replace a token."""
    lines = data.split(b"\n")
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["delete", "duplicate", "swap", "truncate", "token", "insert"]))
        i = draw(st.integers(0, max(0, len(lines) - 1)))
        if kind == "delete" and len(lines) > 1:
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        elif kind == "swap":
            j = draw(st.integers(0, max(0, len(lines) - 1)))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "truncate":
            lines = lines[: i + 1]
            cut = draw(st.integers(0, len(lines[-1])))
            lines[-1] = lines[-1][:cut]
        elif kind == "token":
            tokens = lines[i].split(b" ")
            k = draw(st.integers(0, len(tokens) - 1))
            tokens[k] = draw(st.sampled_from(GARBAGE))
            lines[i] = b" ".join(tokens)
        else:
            lines.insert(i, draw(st.sampled_from(GARBAGE)))
    return b"\n".join(lines)


def _small_copy(src, n_lines):
    """The first lines of a published file (fuzzing stays fast)."""
    return b"\n".join(src.read_bytes().split(b"\n")[:n_lines])


def _check(read, path):
    TRIED["inputs"] += 1
    with time_limit(SECONDS_PER_INPUT):
        try:
            read(path)
        except InputError as exc:
            assert path.name in str(exc), f"message does not name the file: {exc}"


@pytest.fixture(scope="module")
def newman(minelib):
    return minelib / "newman1" / "newman1"


def test_fuzz_prec(tmp_path_factory, newman):
    base = newman.with_name("newman1.prec").read_bytes()
    folder = tmp_path_factory.mktemp("prec")

    @FUZZ
    @given(mutations(base))
    def run(data):
        path = folder / "newman1.prec"
        path.write_bytes(data)
        _check(lambda p: read_precedence(p, n_blocks=1060), path)
    run()


@pytest.mark.parametrize("suffix", [".upit", ".cpit", ".pcpsp"])
def test_fuzz_problem_files(tmp_path_factory, newman, suffix):
    base = newman.with_name("newman1" + suffix).read_bytes()
    folder = tmp_path_factory.mktemp(suffix[1:])
    (folder / "newman1.prec").write_bytes(newman.with_name("newman1.prec").read_bytes())

    @FUZZ
    @given(mutations(base))
    def run(data):
        path = folder / ("newman1" + suffix)
        path.write_bytes(data)
        _check(read_problem, path)
    run()


def test_fuzz_blocks_and_solutions(tmp_path_factory, newman):
    blocks = _small_copy(newman.with_name("newman1.blocks"), 200)
    sol = newman.with_name("newman1_pcpsp_gmunoz120723.sol").read_bytes()
    upit = newman.with_name("newman1_upit.sol").read_bytes()
    folder = tmp_path_factory.mktemp("blocks")

    @FUZZ
    @given(mutations(blocks), mutations(sol), mutations(upit))
    def run(b, s, u):
        for name, data, read in (("newman1.blocks", b, read_blocks), ("s.sol", s, read_schedule),
                                 ("u.sol", u, read_upit_solution)):
            path = folder / name
            path.write_bytes(data)
            _check(read, path)
    run()


def _valid_csv(tmp):
    frame = pd.DataFrame({"i": [0, 1, 0, 1], "j": [0, 0, 1, 1], "k": [0, 0, 0, 0],
                          "tonnage": [10.0, 12.0, 9.0, 8.0], "cu": [0.5, 0.2, 0.0, 1.1]})
    frame.to_csv(tmp, index=False)
    return tmp.read_bytes()


def _fuzz_csv(folder, base: bytes, read):
    """Mutate the fields of a CSV file (tokens split at the commas) and read each result."""
    @FUZZ
    @given(mutations(base.replace(b",", b" , ")))
    def run(data):
        path = folder / "m.csv"
        path.write_bytes(data.replace(b" , ", b","))
        _check(read, path)
    run()


def test_fuzz_csv_block_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("csv")
    _fuzz_csv(folder, _valid_csv(folder / "base.csv"),
              lambda p: read_model(p, grades=["cu"], block_size=(10, 10, 10), assumptions=[]))


EXAMPLE = Path(__file__).resolve().parent.parent.parent / "examples" / "porphyry_blocks.csv"


def test_fuzz_exported_csv_block_model(tmp_path_factory):
    """Centroids under export names, density instead of tonnage: the grid is inferred from what is left."""
    _fuzz_csv(tmp_path_factory.mktemp("export"), _small_copy(EXAMPLE, 80),
              lambda p: read_model(p, grades=["cu", "au"], defaults=["bwi", "sulphur"], assumptions=[]))


def test_fuzz_sub_blocked_csv_block_model(tmp_path_factory):
    from test_subblocks import sub_blocked
    table, _ = sub_blocked(7, dims=(3, 3, 2))
    _fuzz_csv(tmp_path_factory.mktemp("subblocks"), table.round(4).to_csv(index=False).encode(),
              lambda p: read_model(p, grades=["cu", "au"], assumptions=[]))


@pytest.mark.filterwarnings("ignore:__array_wrap__ must accept context:DeprecationWarning")
@pytest.mark.parametrize("suffix", [".parquet", ".omf"])
def test_fuzz_binary_block_model(tmp_path_factory, suffix):
    """Overwrite or cut a few bytes of a Parquet or OMF file."""
    folder = tmp_path_factory.mktemp(suffix[1:])
    model = BlockModel(pd.DataFrame({"i": [0, 1, 1], "j": [0, 0, 1], "k": [0, 0, 0], "tonnage": [10.0, 12.0, 9.0],
                                     "cu": [0.5, 0.2, 0.1], "rock": pd.Categorical(["ox", "fr", "ox"])}),
                       block_size=(10, 10, 10), grades=["cu"])
    write_model(model, folder / f"base{suffix}")
    base = (folder / f"base{suffix}").read_bytes()

    @FUZZ
    @given(st.integers(0, len(base) - 1), st.binary(min_size=1, max_size=8), st.booleans())
    def run(pos, junk, truncate):
        data = base[:pos] if truncate else base[:pos] + junk + base[pos + len(junk):]
        path = folder / f"m{suffix}"
        path.write_bytes(data)
        _check(lambda p: read_model(p, assumptions=[]), path)
    run()


TOML_ECON = b"""currency = "USD"
mining_cost = 2.0
processing_cost = 9.0
rock_column = ""

[elements.cu]
column = "cu"
grade_unit = "%"
price = 8800.0
recovery = 0.88
"""

TOML_ENV = b"""carbon_price_per_t_co2 = 14.0
grid_kg_co2_per_kwh = 0.5306
dump_height_m = 60.0

[surface_haul_km]
mill = 2.0
stockpile = 1.5
dump = 1.0
"""


@pytest.mark.parametrize("kind,base", [("economics", TOML_ECON), ("environment", TOML_ENV)])
def test_fuzz_parameter_files(tmp_path_factory, kind, base):
    folder = tmp_path_factory.mktemp(kind)
    reader = Economics.from_toml if kind == "economics" else Environment.from_toml

    @FUZZ
    @given(mutations(base))
    def run(data):
        path = folder / f"{kind}.toml"
        path.write_bytes(data)
        _check(reader, path)
    run()


def test_fuzz_study_files(tmp_path_factory):
    from pathlib import Path

    from orepit.study.sweep_study import load_study
    examples = Path(__file__).resolve().parents[2] / "examples"
    base = (examples / "study_small.toml").read_bytes()
    folder = tmp_path_factory.mktemp("study")
    (folder / "variogram.toml").write_bytes((examples / "variogram.toml").read_bytes())   # the study names it

    @FUZZ
    @given(mutations(base))
    def run(data):
        path = folder / "study.toml"
        path.write_bytes(data)
        _check(load_study, path)
    run()
