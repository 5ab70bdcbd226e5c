"""A block's value at each destination, without and with its environmental cost: what optimizers see.

The one definition, for d in mill, stockpile, dump (money in the economics' currency, per block)::

    value[d] = value_<d>_<cur>    of `orepit.valuation.economics`  (the economic value)
    net[d]   = value[d] - env_cost_<d>_<cur>  of `orepit.valuation.environment`

`destination_values` computes both in one fused pass (no term arrays).  `orepit value` takes its
``net_<d>_<cur>`` columns from here, and `orepit.valuation.deposit.value_deposit` its per-destination
values, so the pits, the plans and the KPIs price blocks the same way.
"""
from __future__ import annotations

import numba
import numpy as np
import pandas as pd

from solvers.errors import InputError

from orepit.data.model import BlockModel
from orepit.valuation.destinations import DESTINATIONS, destination_columns
from orepit.valuation.economics import Economics, ValueInputs, econ_block, value_inputs, value_kernel_args
from orepit.valuation.environment import EnvInputs, Environment, env_block, env_inputs, env_kernel_args

# positions in the tuples `econ_block` and `env_block` return: value and env_cost at mill, stockpile, dump
_VALUE_AT = 7
_ENV_COST_AT = 21


# Note on numba's cache: it watches only this file, so after editing `econ_block`, `env_block` or
# `bond_kwh_per_t` delete net.*.nbi/*.nbc in __pycache__ here and in the shared cache the tests use
# ($NUMBA_CACHE_DIR, default ~/.cache/orepit/numba; the test that compares these values with the
# separately compiled kernels of economics.py and environment.py then catches a stale build).
@numba.njit(parallel=True, cache=True)
def _destination_kernel(eargs, vargs, value_mill, value_stock, value_dump, net_mill, net_stock, net_dump):
    """net_* (n,) for every block; value_* (n,) too, or (0,) to skip the economic values."""
    e0, e1, e2, e3, e4, e5, e6, e7, e8, e9, e10, e11, e12 = eargs
    v0, v1, v2, v3, v4, v5, v6 = vargs
    economic = value_mill.shape[0] > 0
    for b in numba.prange(net_mill.shape[0]):
        e = econ_block(b, e0, e1, e2, e3, e4, e5, e6, e7, e8, e9, e10, e11, e12)
        v = env_block(b, v0, v1, v2, v3, v4, v5, v6)
        net_mill[b] = e[_VALUE_AT] - v[_ENV_COST_AT]
        net_stock[b] = e[_VALUE_AT + 1] - v[_ENV_COST_AT + 1]
        net_dump[b] = e[_VALUE_AT + 2] - v[_ENV_COST_AT + 2]
        if economic:
            value_mill[b] = e[_VALUE_AT]
            value_stock[b] = e[_VALUE_AT + 1]
            value_dump[b] = e[_VALUE_AT + 2]


def destination_values(value_in: ValueInputs, econ: Economics, env_in: EnvInputs, env: Environment,
                       economic: bool = True) -> dict[str, np.ndarray]:
    """Per destination d (mill, stockpile, dump), currency per block: ``net_<d>_<cur>``, the economic
    value minus the environmental cost, and with ``economic`` ``value_<d>_<cur>``, the economic value
    (see the module docstring)."""
    if econ.currency != env.currency:
        raise env.error("currency", f"environmental costs in {env.currency} but the economics "
                                    f"{f'({econ.source_file}) ' if econ.source_file else ''}are in {econ.currency}: give both one currency")
    n = value_in.tonnage.shape[0]
    if env_in.tonnage.shape[0] != n:
        raise InputError("economic and environmental inputs have different block counts")
    value = tuple(np.empty(n if economic else 0) for _ in DESTINATIONS)
    net = tuple(np.empty(n) for _ in DESTINATIONS)
    _destination_kernel(value_kernel_args(value_in, econ), env_kernel_args(env_in, env), *value, *net)
    u = econ.unit
    out = dict(zip(destination_columns("net_{d}_{u}", u).values(), net))
    if economic:
        out.update(zip(destination_columns("value_{d}_{u}", u).values(), value))
    return out


def net_values(model: BlockModel, econ: Economics, env: Environment | None = None) -> pd.DataFrame:
    """Per block ``net_mill_<cur>``, ``net_stockpile_<cur>``, ``net_dump_<cur>``: economic value minus
    environmental cost at each destination (the objective coefficients an optimizer uses)."""
    env = Environment(currency=econ.currency) if env is None else env
    return pd.DataFrame(destination_values(value_inputs(model, econ), econ, env_inputs(model, env), env,
                                           economic=False), copy=False)

