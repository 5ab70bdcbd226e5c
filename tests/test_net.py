"""orepit.valuation.net: one definition of a block's value per destination, shared by `orepit value`,
the valued `Deposit` (so the pits, plans and KPIs) and `net_values`."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from orepit.cli import main
from orepit.data.files import read_model, write_model
from orepit.valuation.deposit import value_deposit
from orepit.valuation.destinations import DESTINATIONS, DUMP, MILL, STOCKPILE
from orepit.valuation.economics import block_values, value_inputs
from orepit.valuation.environment import Environment, env_inputs, environmental_costs
from orepit.valuation.net import destination_values, net_values
from orepit.valuation.synthetic import default_economics, synthetic_deposit
from solvers.errors import InputError


def _three_ways(tmp_path, capsys, econ):
    """(value, net) per destination from `orepit value --green`, from `Deposit.values` and from
    `net_values` / `block_values`, each (n, 3) in the order of DESTINATIONS."""
    model = synthetic_deposit(3000, seed=1)
    write_model(model, tmp_path / "m.parquet")
    (tmp_path / "e.toml").write_text(econ.to_toml())
    assert main(["value", str(tmp_path / "m.parquet"), "--economics", str(tmp_path / "e.toml"), "--green",
                 "--out", str(tmp_path / "v.parquet"), "--json"]) == 0
    capsys.readouterr()
    cli = read_model(tmp_path / "v.parquet")
    deposit = value_deposit(model, econ, Environment())
    values, nets = block_values(model, econ), net_values(model, econ, Environment())

    def stack(frame, kind):
        return np.stack([np.asarray(frame[f"{kind}_{d}_usd"], dtype=float) for d in DESTINATIONS], axis=1)

    return ({"cli": stack(cli, "value"), "deposit": deposit.values(False), "library": stack(values, "value")},
            {"cli": stack(cli, "net"), "deposit": deposit.values(True), "library": stack(nets, "net")})


@pytest.mark.parametrize("blocked", [(), ("leached",)])
def test_value_cli_deposit_and_net_values_agree(tmp_path, capsys, blocked):
    """Default synthetic deposit: mill, stockpile (deferred by the economics' delay) and dump, with the
    environmental cost and without; unprocessable blocks are the air (no tonnage) and, in the second
    case, the leached cap (-inf at the mill and the stockpile)."""
    econ = default_economics(15.0)
    econ = replace(econ, not_processable=[*econ.not_processable, *blocked])
    assert econ.stockpile_discount_factor() < 0.6            # the stockpile's margin is deferred
    values, nets = _three_ways(tmp_path, capsys, econ)
    leached = np.asarray(synthetic_deposit(3000, seed=1)["rock"]) == "leached"
    for kind in (values, nets):
        ref = kind["library"]
        assert np.isfinite(ref[:, DUMP]).all()
        assert np.isneginf(ref[:, MILL]).sum() == np.isneginf(ref[:, STOCKPILE]).sum() == (leached.sum() if blocked else 0)
        for name in ("cli", "deposit"):
            np.testing.assert_allclose(kind[name], ref, rtol=1e-9, atol=0, err_msg=name)
            assert np.array_equal(np.isneginf(kind[name]), np.isneginf(ref))
    assert (nets["library"] < values["library"]).all(axis=1).sum() > 2000     # the environment costs something


def test_net_kernel_equals_the_separately_compiled_terms():
    """The fused kernel gives exactly value_<d> - env_cost_<d> of the economics and environment kernels
    (catches a stale numba cache of orepit/valuation/net.py)."""
    m = synthetic_deposit(5e3, seed=5)
    econ = default_economics(m.block_size[2])
    env = Environment()
    net = net_values(m, econ, env)
    v = block_values(m, econ)
    c = environmental_costs(m, env)
    for d in DESTINATIONS:
        np.testing.assert_array_equal(net[f"net_{d}_usd"], v[f"value_{d}_usd"] - c[f"env_cost_{d}_usd"])
    with pytest.raises(InputError, match="environmental costs in CNY but the economics are in USD"):
        destination_values(value_inputs(m, econ), econ, env_inputs(m, env), Environment(currency="CNY"))
    both = destination_values(value_inputs(m, econ), econ, env_inputs(m, env), env)
    for d in DESTINATIONS:
        np.testing.assert_array_equal(both[f"value_{d}_usd"], v[f"value_{d}_usd"])
        np.testing.assert_array_equal(both[f"net_{d}_usd"], net[f"net_{d}_usd"])


def test_deposit_marks_the_minelib_sentinel_as_cannot_go():
    """A block the mill cannot take is -inf at the mill and the stockpile in the Deposit, whether the
    economics write -inf or MineLib's -1e16 per tonne."""
    model = synthetic_deposit(3000, seed=1)
    econ = replace(default_economics(15.0), not_processable=["air", "leached"], infeasible_value=-1e16)
    deposit = value_deposit(model, econ)
    leached = np.asarray(model["rock"]) == "leached"
    assert leached.sum() > 10 and not deposit.processable[leached].any()
    for env_price in (False, True):
        v = deposit.values(env_price)
        assert np.isneginf(v[leached][:, [MILL, STOCKPILE]]).all() and np.isfinite(v[:, DUMP]).all()
        assert np.isfinite(v[~leached]).all()
        assert np.isfinite(deposit.pit_values(env_price)).all()
