"""MineLib readers and writers: published files, round trips, and every kind of corruption."""
from __future__ import annotations

import numpy as np
import pytest

from orepit.data.minelib import (load_instance, read_blocks, read_precedence, read_problem, read_schedule,
                               read_upit_solution, write_blocks, write_precedence, write_problem,
                               write_schedule, write_upit_solution)
from solvers import CpitProblem, InputError, PcpspProblem, UpitProblem

SIZES = {"newman1": (1060, 3922, 6, 2), "zuck_small": (9400, 145640, 20, 2), "kd": (14153, 219778, 12, 1)}


@pytest.mark.parametrize("name", sorted(SIZES))
def test_instances_read_with_published_sizes(instance, name):
    n, arcs, periods, resources = SIZES[name]
    inst = load_instance(instance(name))
    assert inst.precedence().n_nodes == n and inst.precedence().n_arcs == arcs
    upit, cpit, pcpsp = inst.upit(), inst.cpit(), inst.pcpsp()
    assert isinstance(upit, UpitProblem) and isinstance(cpit, CpitProblem) and type(pcpsp) is PcpspProblem
    assert cpit.n_periods == pcpsp.n_periods == periods
    assert cpit.n_resources == pcpsp.n_resources == resources
    assert pcpsp.n_destinations == 2
    # README: the CPIT value of a block is the larger of its two PCPSP values; UPIT equals CPIT
    np.testing.assert_array_equal(cpit.values[:, 0], pcpsp.values.max(axis=1))
    np.testing.assert_array_equal(upit.values, cpit.values[:, 0])
    assert np.all(np.isinf(pcpsp.resource_lower)) and np.all(pcpsp.resource_kind == "L")
    assert inst.blocks().n_blocks == n


def test_instance_paths_accept_folder_prefix_and_file(instance):
    prefix = instance("newman1")
    for form in (prefix.parent, prefix, prefix.with_suffix(".blocks")):
        assert load_instance(form).prefix == prefix


def test_kd_blocks_columns_and_grid(instance):
    model = load_instance(instance("kd")).blocks()
    assert model.block_size == (20.0, 20.0, 15.0)
    assert model.columns[:8] == ["i", "j", "k", "tonnage", "blockvalue", "destination", "cu", "process_profit"]
    assert model.dims == (78, 42, 19) and model.grades == ("cu",)
    np.testing.assert_allclose(model.x, (model.i + 0.5) * 20.0)


def test_newman1_rock_types_are_text(instance):
    model = load_instance(instance("newman1")).blocks()
    assert set(model["rock"]) <= {"FRWS", "FROR", "OXOR", "0"} | set(model["rock"])  # text column kept
    assert model["rock"].dtype == object and model["tonnage"].dtype == np.float64


@pytest.mark.parametrize("name", sorted(SIZES))
def test_problem_files_round_trip_exactly(tmp_path, instance, name):
    inst = load_instance(instance(name))
    write_precedence(tmp_path / f"{name}.prec", inst.precedence())
    again = read_precedence(tmp_path / f"{name}.prec")
    np.testing.assert_array_equal(again.indptr, inst.precedence().indptr)
    np.testing.assert_array_equal(again.indices, inst.precedence().indices)
    for kind in ("upit", "cpit", "pcpsp"):
        original = inst.problem(kind)
        write_problem(tmp_path / f"{name}.{kind}", original)
        copy = read_problem(tmp_path / f"{name}.{kind}")
        assert type(copy) is type(original)
        np.testing.assert_array_equal(copy.values, original.values)
        if kind != "upit":
            for attr in ("resource_coef", "resource_lower", "resource_upper", "resource_kind"):
                np.testing.assert_array_equal(getattr(copy, attr), getattr(original, attr))
            assert (copy.n_periods, copy.discount_rate) == (original.n_periods, original.discount_rate)


def test_solutions_and_blocks_round_trip(tmp_path, instance):
    inst = load_instance(instance("newman1"))
    sched = read_schedule(inst.path("_pcpsp_gmunoz120723.sol"))
    write_schedule(tmp_path / "s.sol", sched)
    again = read_schedule(tmp_path / "s.sol")
    for attr in ("block", "destination", "period", "fraction"):
        np.testing.assert_array_equal(getattr(again, attr), getattr(sched, attr))
    pit = read_upit_solution(inst.path("_upit.sol"))
    write_upit_solution(tmp_path / "p.sol", pit)
    np.testing.assert_array_equal(read_upit_solution(tmp_path / "p.sol"), pit)
    model = inst.blocks()
    write_blocks(tmp_path / "newman1.blocks", model)
    copy = read_blocks(tmp_path / "newman1.blocks")
    assert copy.frame.equals(model.frame)


def test_separators_comments_crlf_and_spaced_keywords(tmp_path):
    (tmp_path / "t.prec").write_bytes(b"% comment\r\n0 0\r\n1:1\t0\r\n2 2 0 1\r\n")
    (tmp_path / "t.pcpsp").write_bytes(
        b"% a tiny instance\r\nNAME: t\r\nTYPE: PCPSP\r\nNBLOCKS: 3\r\nNPERIODS: 2\r\nNDESTINATIONS: 2\r\n"
        b"NRESOURCE SIDE CONSTRAINTS: 1\r\nNGENERAL SIDE CONSTRAINTS: 1\r\nDISCOUNT RATE: 0.1\r\n"
        b"RESOURCE CONSTRAINT LIMITS:\r\n0 0 L 5\r\n0 1 I 1 5\r\n"
        b"OBJECTIVE FUNCTION:\r\n0 -1 2\r\n1 -1 3.5\r\n2\t-2\t4\r\n"
        b"RESOURCE CONSTRAINT COEFFICIENTS:\r\n0 1 0 1\r\n1 1 0 1\r\n"
        b"GENERAL CONSTRAINT COEFFICIENTS:\r\n2 1 1 0 1.0\r\n"
        b"GENERAL CONSTRAINT LIMITS:\r\n0 G 0\r\nEOF\r\n")
    prob = read_problem(tmp_path / "t.pcpsp")
    assert prob.precedence.predecessors(2).tolist() == [0, 1]
    assert prob.resource_kind.tolist() == [["L", "I"]]
    assert prob.resource_lower[0, 1] == 1 and prob.resource_upper[0, 1] == 5
    assert prob.side.n_rows == 1 and prob.side.lower[0] == 0 and np.isinf(prob.side.upper[0])
    assert prob.values[2].tolist() == [-2.0, 4.0]
    write_problem(tmp_path / "u.pcpsp", prob)
    (tmp_path / "u.prec").write_bytes((tmp_path / "t.prec").read_bytes())
    copy = read_problem(tmp_path / "u.pcpsp")
    np.testing.assert_array_equal(copy.side.coef, prob.side.coef)
    assert copy.resource_kind.tolist() == [["L", "I"]]


def test_blocks_header_row_is_optional(tmp_path):
    (tmp_path / "h.blocks").write_text("id x y z tonnage cu\n0 0 0 0 10 0.5\n1 1 0 0 12 0.7\n")
    model = read_blocks(tmp_path / "h.blocks")
    assert model.columns[:5] == ["i", "j", "k", "tonnage", "cu"] and model["cu"].tolist() == [0.5, 0.7]


# -- corruption: each file type, each rule -------------------------------------------------------

def _copy_instance(tmp_path, instance, name="newman1"):
    src = instance(name)
    for suffix in (".blocks", ".prec", ".upit", ".cpit", ".pcpsp"):
        (tmp_path / (name + suffix)).write_bytes(src.with_name(name + suffix).read_bytes())
    return tmp_path / name


def _edit(path, func):
    lines = path.read_text().splitlines()
    path.write_text("\n".join(func(lines)) + "\n")


CORRUPTIONS = [
    # (file suffix, edit of its lines, expected message fragment, expected line or None)
    (".prec", lambda L: L[:500], "have no line", 500),
    (".prec", lambda L: L[:9] + ["9 2 3"] + L[10:], "declares 2 predecessors but lists 1", 10),
    (".prec", lambda L: L[:9] + ["9 1 99999"] + L[10:], "predecessor 99999 out of range (NBLOCKS 1060)", 10),
    (".prec", lambda L: L[:9] + ["9 1 x7"] + L[10:], "predecessor 'x7' is not a block id", 10),
    (".prec", lambda L: L[:9] + [L[8]] + L[10:], "block 8 has a second line", 10),
    (".cpit", lambda L: L[:1000], "no line for block", 1000),
    (".cpit", lambda L: L[:30] + ["30 abc"] + L[31:], "value[0] 'abc' is not a number", 31),
    (".cpit", lambda L: L[:30] + ["30 nan"] + L[31:], "value[0] is nan", 31),
    (".cpit", lambda L: L[:30] + ["30 1 2"] + L[31:], "expected 2 fields", 31),
    (".cpit", lambda L: L[:7] + ["0 0 X 2000000"] + L[8:], "limit type 'X' must be L, G or I", 8),
    (".cpit", lambda L: L[:7] + L[8:], "no limit for resource 0 period 0", None),
    (".cpit", lambda L: L[:7] + ["0 9 L 2000000"] + L[8:], "period 9 out of range (NPERIODS 6)", 8),
    (".cpit", lambda L: [l for l in L if not l.startswith("NPERIODS")], "missing header field NPERIODS", None),
    (".cpit", lambda L: L[19:] + L[:19], "section OBJECTIVE_FUNCTION comes before NBLOCKS", 1),
    (".cpit", lambda L: [L[0], "TYPE: XPIT"] + L[2:], "TYPE 'XPIT' must be UPIT, CPIT or PCPSP", 2),
    (".cpit", lambda L: L + ["more"], "text after EOF", None),
    (".cpit", lambda L: L[:3] + ["NPERIODS: six"] + L[4:], "NPERIODS 'six' is not an integer", 4),
    (".pcpsp", lambda L: L[:1100] + ["5 7 0 10.0"] + L[1101:], "destination 7 out of range (NDESTINATIONS 2)", 1101),
    (".pcpsp", lambda L: L[:1100] + ["5 1 4 10.0"] + L[1101:],
     "resource 4 out of range (NRESOURCE_SIDE_CONSTRAINTS 2)", 1101),
    (".pcpsp", lambda L: L[:4] + ["BOGUS: 1"] + L[4:], "unknown keyword 'BOGUS'", 5),
    (".upit", lambda L: L[:4] + ["5000 1.0"] + L[5:], "block 5000 out of range (NBLOCKS 1060)", 5),
    (".upit", lambda L: L[:5] + [L[4]] + L[6:], "block appears twice", 6),
    (".blocks", lambda L: L[:10] + ["10 1 2"] + L[11:], "expected 11 fields", 11),
    (".blocks", lambda L: L[:10] + [L[11], L[10]] + L[12:], "block id 11 where 10 was expected", 11),
    (".blocks", lambda L: L[:10] + [L[10].replace(" 1.150270062 ", " nan ", 1)] + L[11:], "grade 'nan' is not", 11),
    (".blocks", lambda L: L[:10] + ["10 1 1 1.5" + L[10].split(" ", 4)[4][0:0] + " " + L[10].split(" ", 4)[4]]
     + L[11:], "z '1.5' is not an integer", 11),
]


@pytest.mark.parametrize("suffix,edit,fragment,line", CORRUPTIONS)
def test_corrupted_files_name_file_line_and_field(tmp_path, instance, suffix, edit, fragment, line):
    prefix = _copy_instance(tmp_path, instance)
    target = prefix.with_name(prefix.name + suffix)
    _edit(target, edit)
    inst = load_instance(prefix)
    with pytest.raises(InputError) as err:
        if suffix == ".blocks":
            inst.blocks()
        else:
            inst.problem({".prec": "cpit"}.get(suffix, suffix[1:]))
    message = str(err.value)
    assert message.startswith(target.name), message
    assert fragment in message, message
    if line is not None:
        assert err.value.line == line and f"line {line}:" in message, message


def test_negative_tonnage_in_blocks(tmp_path):
    (tmp_path / "b.blocks").write_text("0 0 0 0 10 0.5\n1 1 0 0 -12 0.7\n")
    with pytest.raises(InputError, match=r"b.blocks line 2: tonnage -12.0 is not a finite non-negative"):
        read_blocks(tmp_path / "b.blocks", columns=["tonnage", "cu"])


def test_solution_file_errors(tmp_path):
    (tmp_path / "s.sol").write_text("0 0 0 1.0\n1 0 x 1.0\n")
    with pytest.raises(InputError, match=r"s.sol line 2: period 'x' is not a number"):
        read_schedule(tmp_path / "s.sol")
    (tmp_path / "s.sol").write_text("0 0 0 1.0\n1 0 0 1.7\n")
    with pytest.raises(InputError, match=r"s.sol line 2: fraction 1.7 outside \[0, 1\]"):
        read_schedule(tmp_path / "s.sol")
    (tmp_path / "p.sol").write_text("3\n1\n3\n")
    with pytest.raises(InputError, match="block 3 listed twice"):
        read_upit_solution(tmp_path / "p.sol")
    with pytest.raises(InputError, match="p.sol: file not found"):
        read_upit_solution(tmp_path / "missing" / "p.sol")


def test_binary_garbage_is_reported_not_crashing(tmp_path):
    (tmp_path / "g.prec").write_bytes(b"0 0\n1 1 0\n\xff\xfe\x00\n")
    with pytest.raises(InputError, match=r"g.prec line 3: byte 0xff is not ASCII"):
        read_precedence(tmp_path / "g.prec")


def test_precedence_cycle_is_named(tmp_path, instance):
    text = instance("newman1").with_name("newman1.prec").read_text().splitlines()
    assert text[2].startswith("2 2 ")
    text[2] = "2 3 " + text[2][4:] + " 1"          # block 2 now needs block 1, which needs block 2
    (tmp_path / "newman1.prec").write_text("\n".join(text) + "\n")
    with pytest.raises(InputError) as err:
        read_precedence(tmp_path / "newman1.prec")
    message = str(err.value)
    assert "precedence has a cycle: " in message and message.startswith("newman1.prec line ")
    cycle = [int(b) for b in message.split("cycle: ")[1].split(" -> ")]
    assert cycle[0] == cycle[-1] and set(cycle) == {1, 2}
