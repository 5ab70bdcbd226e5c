"""A valued deposit: every per-block quantity the pit and the schedules need, in one place.

Built from a `BlockModel`, an `Economics` and an `Environment` parameter set by
the Numba kernels of `orepit.valuation.economics` and `orepit.valuation.environment`; the values per
destination come from `orepit.valuation.net.destination_values`.  Money in the economics' currency
(USD by default), tonnes of metal for the first element (``metal``, ``recovered``) and for every
element (``metals``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from solvers.errors import InputError
from solvers.problem import Precedence

from orepit.data.model import BlockModel
from orepit.valuation.destinations import DESTINATIONS, DUMP, MILL, STOCKPILE
from orepit.valuation.economics import PRICE_UNITS_KG, Economics, rock_codes, value_arrays, value_inputs
from orepit.valuation.environment import Environment, env_arrays, env_inputs
from orepit.valuation.net import destination_values
from orepit.valuation.precedence import precedence_from_geometry
from orepit.valuation.slope_defaults import SLOPE_BENCHES, SLOPE_DEGREES


@dataclass
class Deposit:
    """Per-block arrays (length n) of a valued block model.

    margin        value at the mill before mining cost: revenue - processing - grinding + any
                  precomputed mill value (currency)
    mining        mining cost (currency)
    rehandle      cost of reclaiming from the stockpile (currency)
    value         (n, 3) economic value at mill / stockpile / dump (currency; -inf where the block
                  cannot go), from `orepit.valuation.net.destination_values`: the stockpile's margin
                  is deferred by the economics' stockpile delay (a schedule prices the stockpile route
                  itself: mining when mined, the margin when reclaimed); read-only
    net           (n, 3) the same minus the environmental cost; read-only
    env           (n, 3) environmental cost at mill / stockpile route / dump (currency)
    co2           (n, 3) t CO2 at mill / stockpile route / dump
    metal         t of metal contained (first element); recovered: t recovered if milled
    mill_hours    h of milling
    processable   the mill can take the block
    extras        name -> (n, 3) reported totals (energy_kwh, water_m3, dump_ha)
    metals        element -> `ElementMetal` of every element that earns revenue (the first is
                  ``element``, whose arrays are ``metal`` and ``recovered``)
    """

    model: BlockModel
    precedence: Precedence
    margin: np.ndarray
    mining: np.ndarray
    rehandle: np.ndarray
    value: np.ndarray
    net: np.ndarray
    env: np.ndarray
    co2: np.ndarray
    metal: np.ndarray
    recovered: np.ndarray
    mill_hours: np.ndarray
    processable: np.ndarray
    extras: dict
    element: str
    currency: str = "USD"
    elements: tuple = ()          # every element that earns revenue (the first is ``element``)
    metals: dict = field(default_factory=dict)

    @property
    def n_blocks(self) -> int:
        return self.margin.size

    @cached_property
    def tonnage(self) -> np.ndarray:
        """t per block (read-only: computed once)."""
        return _read_only(self.model["tonnage"].astype(np.float64))

    @cached_property
    def ore(self) -> np.ndarray:
        """Ore-grade blocks: milling them pays before mining cost (above the marginal cut-off)."""
        return _read_only(self.processable & (self.margin > 0) & (self.tonnage > 0))

    @cached_property
    def ore_metal(self) -> np.ndarray:
        """t of metal per block in ore-grade blocks, 0 elsewhere: the resource the utilisation
        floor and the metal balance count."""
        return _read_only(np.where(self.ore, self.metal, 0.0))

    def values(self, env_price: bool) -> np.ndarray:
        """(n, 3) value at mill / stockpile / dump (currency), net of the environmental cost or not."""
        return self.net if env_price else self.value

    def pit_values(self, env_price: bool) -> np.ndarray:
        """Best destination value per block (currency): what the ultimate pit maximizes."""
        v = self.values(env_price)
        return np.maximum(v[:, MILL], v[:, DUMP])

    def flows(self, env_price: bool) -> "Flows":
        """Each block's cash flows in time (currency, undiscounted), net of the environmental cost
        or not: what a schedule earns when the block is mined, by destination, and what its
        stockpiled tonnes earn when they are reclaimed and milled.  The mill and the dump are
        `values`; the stockpile route pays mining and its own share of the environmental cost when
        mined, and earns the margin less rehandle and the milling's environmental cost when milled
        (its timing is the schedule's, not the economics' stockpile delay)."""
        w = 1.0 if env_price else 0.0
        v = self.values(env_price)
        stock = np.where(self.processable, -self.mining - w * (self.env[:, STOCKPILE] - self.env[:, MILL]), -np.inf)
        at_mining = np.stack([v[:, MILL], stock, v[:, DUMP]], axis=1)
        at_reclaim = np.where(self.processable, self.margin - self.rehandle - w * self.env[:, MILL], -np.inf)
        return Flows(at_mining, at_reclaim)

    def co2_at_mining(self) -> np.ndarray:
        """(n, 3) t CO2 emitted when a block is mined and sent to mill / stockpile / dump (the
        stockpile route's milling share is emitted at reclaim: ``co2[:, MILL]``)."""
        out = self.co2.copy()
        out[:, STOCKPILE] -= self.co2[:, MILL]
        return out

    def extras_at_mining(self) -> dict:
        """`extras` as spent at mining (the stockpile route's energy and water are spent at reclaim)."""
        out = {k: v.copy() for k, v in self.extras.items()}
        for v in out.values():
            v[:, STOCKPILE] = 0.0
        return out


@dataclass(frozen=True)
class ElementMetal:
    """One payable element per block: t of metal contained, t recovered if milled (0 where the mill
    cannot take the block), and the grade unit of the economics (``%``, ``g/t``, ``ppm``, ``unit``)."""

    metal: np.ndarray
    recovered: np.ndarray
    grade_unit: str


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


@dataclass
class Flows:
    """Cash flows of each block (currency, undiscounted; -inf where the block cannot go).

    at_mining   (n, 3) when the block is mined and sent to mill / stockpile / dump
    at_reclaim  (n,) when its stockpiled tonnes are reclaimed and milled
    """

    at_mining: np.ndarray
    at_reclaim: np.ndarray


def value_deposit(model: BlockModel, economics: Economics, environment: Environment | None = None,
                  precedence: Precedence | None = None, slope: float = SLOPE_DEGREES,
                  levels: int = SLOPE_BENCHES) -> Deposit:
    """Value every block (economics and environment) and attach its precedence.

    precedence: given, or built from the block geometry with ``slope`` (degrees, or a `SlopeTable` of
    angles per domain) over ``levels`` benches.
    """
    if not economics.elements:
        raise economics.error("elements", "no [elements.NAME] table: at least one element is needed (the metal "
                                          "whose recovery is reported)")
    environment = Environment(currency=economics.currency) if environment is None else environment
    if model.block_size is None:
        raise InputError("the block model needs a block size (m) for haulage and slopes", field="block_size")
    vin, ein = value_inputs(model, economics), env_inputs(model, environment)
    values = value_arrays(vin, economics)
    env = env_arrays(ein, environment)
    u = economics.unit
    by_destination = destination_values(vin, economics, ein, environment)
    value, net = (np.stack([by_destination[f"{kind}_{d}_{u}"] for d in DESTINATIONS], axis=1)
                  for kind in ("value", "net"))
    t = vin.tonnage
    value_mill = value[:, MILL]
    processable = np.isfinite(value_mill) & (value_mill > -1e15)   # MineLib marks unprocessable with -1e16/t
    cannot = np.stack([~processable, ~processable, np.zeros_like(processable)], axis=1)
    value[cannot] = net[cannot] = -np.inf                           # one mark for "cannot go there"
    value.setflags(write=False)
    net.setflags(write=False)
    mining = values[f"mining_cost_{u}"]
    margin = np.where(processable, value_mill + mining, 0.0)      # everything milling adds before mining
    rock, rocks = rock_codes(model, economics.rock_column)
    metals = {name: _element_metal(model, element, t, rock, rocks, processable)
              for name, element in economics.elements.items()}
    name = next(iter(economics.elements))
    metal, recovered = metals[name].metal, metals[name].recovered
    hours = values.get("mill_hours_h", np.zeros(model.n_blocks))
    rehandle = values[f"rehandle_cost_{u}"]
    env_cost = np.stack([env[f"env_cost_{d}_{environment.unit}"] for d in DESTINATIONS], axis=1)
    co2 = np.stack([env[f"co2_{d}_kg"] / 1000.0 for d in DESTINATIONS], axis=1)
    kwh = env["process_kwh"]
    water = env["water_m3"]
    zeros = np.zeros(model.n_blocks)
    extras = {"energy_kwh": np.stack([kwh, kwh, zeros], axis=1),
              "water_m3": np.stack([water, water, zeros], axis=1),
              "dump_ha": np.stack([zeros, zeros, env["dump_area_ha"]], axis=1)}
    del vin, ein, values, env, by_destination, kwh, water, zeros     # the inputs, before the precedence's work
    if precedence is None:
        precedence = precedence_from_geometry(model, block_size=model.block_size, slope=slope, levels=levels)
    return Deposit(model, precedence, margin, mining, rehandle, value, net, env_cost, co2, metal, recovered, hours,
                   processable, extras, name, economics.currency, tuple(economics.elements), metals)


def _element_metal(model: BlockModel, element, tonnage: np.ndarray, rock: np.ndarray, rocks,
                   processable: np.ndarray) -> ElementMetal:
    """t of one element's metal per block, and t recovered if milled (recovery by rock type)."""
    grade = model[element.column].astype(np.float64)
    recovery = np.array([element.recovery_by_rock.get(r, element.recovery) for r in rocks])[rock]
    metal = tonnage * grade * element.factor * _price_unit_t(element)
    return ElementMetal(_read_only(metal), _read_only(np.where(processable, metal * recovery, 0.0)),
                        element.grade_unit)


def _price_unit_t(element) -> float:
    """Tonnes of metal per price unit (so that grade x factor x this = t of metal per t of ore)."""
    if element.price_unit == "unit":
        return 1.0
    return PRICE_UNITS_KG[element.price_unit] / 1000.0
