"""Block economics: the value of every block at each destination (mill, stockpile, dump).

Every term is reported in its own column so a value can be audited.  Units:
tonnage in t, grades in the unit declared per element, money in the
parameter set's ``currency`` (column names end in it, e.g. ``_usd``), energy
in kWh, time in hours.  Costs are reported as positive amounts; the three
``value_<destination>_<currency>`` columns are signed values.

Per block with tonnage ``t``, rock type ``r`` and bench depth ``d`` (benches
below ``reference_bench``)::

    revenue     = t * sum_e grade_e * f_e * recovery_e(r) * (price_e - selling_cost_e)
    mining      = t * (mining_cost + mining_cost_per_bench * d) * factor       (factor: optional column)
    processing  = t * processing_cost(r)
    grinding    = t * W * grinding_energy_price,  W = 10 Wi (1/sqrt(P80) - 1/sqrt(F80))   kWh/t
    mill        = revenue - processing - grinding - mining + extra_mill
    stockpile   = (revenue - processing - grinding) / (1 + rate) ** delay - rehandle - mining + extra_stockpile
    dump        = - mining - dump_cost + extra_dump

``f_e`` converts one grade unit per tonne of ore into price units (``%`` and
``t``: 0.01).  Rock types listed in ``not_processable`` get
``infeasible_value * t`` at the mill and the stockpile (a sentinel, default
``-inf``; MineLib uses -1e16 per tonne).
"""
from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field, fields
from typing import NamedTuple

import numba
import numpy as np
import pandas as pd

from solvers.errors import InputError

from orepit.data.columns import COMMON_NAMES
from orepit.data.model import BlockModel
from orepit.data.toml import Checker, TomlParameters
from orepit.valuation.destinations import DESTINATIONS, RENAMED_DESTINATIONS

#: kilograms of metal per tonne of ore for one unit of grade
GRADE_UNITS_KG_PER_T = {"%": 10.0, "ppm": 1e-3, "g/t": 1e-3, "ppb": 1e-6}
#: kilograms in one price unit
PRICE_UNITS_KG = {"t": 1000.0, "kg": 1.0, "lb": 0.45359237, "oz": 0.0311034768, "g": 1e-3}


#: keys an [elements.NAME] table must give (they decide the money: a default would be a guess) -> the line to add;
#: price_unit may be left out with price = 0 (it changes nothing then); selling_cost defaults to 0
REQUIRED_ELEMENT_KEYS = {"column": 'column = "COLUMN" (the block-model column with the grade)',
                         "grade_unit": 'grade_unit = "%", "ppm", "ppb", "g/t" or "unit"',
                         "price": "price = NUMBER (currency per price_unit of metal)",
                         "price_unit": 'price_unit = "t", "kg", "lb", "oz" (troy ounce), "g" or "unit"',
                         "recovery": "recovery = FRACTION (0.88 for 88 %)"}


@dataclass
class Element:
    """One payable element.

    column: block-model column with the grade; grade_unit: ``%``, ``ppm``, ``g/t``, ``ppb`` or ``unit``
    (an abstract grade already expressed in price units per tonne of ore, as in MineLib's newman1);
    price and selling_cost: currency per price_unit (``t``, ``kg``, ``lb``, ``oz`` troy, ``g``, or
    ``unit`` together with grade_unit ``unit``); recovery: fraction to saleable product, overridden per
    rock type by recovery_by_rock.  A file's ``[elements.NAME]`` table must give the keys in
    `REQUIRED_ELEMENT_KEYS`; the defaults below serve only elements built in Python.
    """

    column: str
    grade_unit: str = "%"
    price: float = 0.0
    price_unit: str = "t"
    selling_cost: float = 0.0
    recovery: float = 1.0
    recovery_by_rock: dict = field(default_factory=dict)

    @property
    def factor(self) -> float:
        """Price units per tonne of ore per grade unit."""
        if self.grade_unit == "unit":
            return 1.0
        return GRADE_UNITS_KG_PER_T[self.grade_unit] / PRICE_UNITS_KG[self.price_unit]


@dataclass
class Economics(TomlParameters):
    """Economic parameters (money in ``currency``; see the module docstring for the formulas).

    Rock-type keys are compared with the rock column's values written as text.  A rock type present in
    the model but absent from a ``*_by_rock`` table takes the scalar default; that default is part of
    the parameter set, not a guess.  See docs/parameters.md for the published defaults.  A TOML file's
    keys are the field names, with ``[elements.NAME]`` tables (`from_toml`).
    """

    FILE_KIND = "economics"
    OTHER_TABLES = ("columns", "slopes")   # the block model's column mapping (orepit.data.columns), the slope
                                            # angles per domain (orepit.valuation.slopes)
    #: keys of former versions (key path -> its new path); a file that uses one is told the new name
    RENAMED_KEYS = {("waste_cost",): ("dump_cost",),
                    **{("extra_value", old): ("extra_value", new) for old, new in RENAMED_DESTINATIONS.items()}}

    elements: dict = field(default_factory=dict)       # name -> Element
    currency: str = "USD"
    rock_column: str | None = None                     # None or "": no rock column, one rock type ""
    mining_cost: float = 0.0                            # currency/t at the reference bench
    mining_cost_per_bench: float = 0.0                  # currency/t per bench below reference_bench
    reference_bench: int | None = None                  # bench index k of the pit exit; None: model top
    mining_cost_factor_column: str | None = None        # optional per-block multiplier (MineLib min_caf)
    processing_cost: float = 0.0                        # currency/t processed
    processing_cost_by_rock: dict = field(default_factory=dict)
    not_processable: list = field(default_factory=list)  # rock types the mill cannot take
    infeasible_value: float = -math.inf                 # currency/t at a destination a block cannot go to
    dump_cost: float = 0.0                              # currency/t extra for placing rock on the dump
    stockpile_rehandle_cost: float = 0.0                # currency/t to reclaim from the stockpile
    stockpile_delay_years: float = 0.0                  # years between mining and processing
    discount_rate: float = 0.0                          # fraction per year (0.08 = 8 %); discounts only the
                                                        # stockpiled margin over stockpile_delay_years, not a
                                                        # schedule's NPV (that is --discount-rate's)
    bwi_column: str | None = None                       # Bond work index column (kWh/t), optional
    bond_f80_um: float = 10000.0                        # feed 80 % passing size (micrometres)
    bond_p80_um: float = 150.0                          # product 80 % passing size (micrometres)
    grinding_energy_price: float = 0.0                  # currency/kWh of grinding energy
    mill_power_kw: float | None = None                  # installed grinding power: gives mill hours
    extra_value: dict = field(default_factory=dict)     # destination -> column of precomputed value

    def __post_init__(self):
        self.elements = {str(k): (v if isinstance(v, Element) else Element(**v)) for k, v in self.elements.items()}
        self.validate()

    # -- validation ---------------------------------------------------------------------------
    def validate(self, check: Checker | None = None) -> None:
        """Raise `InputError` naming the key (and, with a ``check`` made from a file, the file and line)
        of a bad value."""
        check = Checker() if check is None else check
        if self.rock_column == "":
            self.rock_column = None
        for key in ("mining_cost", "mining_cost_per_bench", "processing_cost", "dump_cost",
                    "stockpile_rehandle_cost", "stockpile_delay_years", "grinding_energy_price"):
            check.number(key, getattr(self, key), 0.0)
        check.number("discount_rate", self.discount_rate, 0.0)
        if self.discount_rate > 1:
            raise check.error("discount_rate", f"{self.discount_rate:g} per year is {100 * self.discount_rate:g} %; "
                              f"give it as a fraction (did you mean {self.discount_rate / 100:g}?)")
        check.number("infeasible_value", self.infeasible_value, high=0.0, minus_inf=True)
        check_bond_sizes(check, self.bond_f80_um, self.bond_p80_um)
        check.number("mill_power_kw", self.mill_power_kw, 1e-9, optional=True)
        if self.reference_bench is not None:
            check.integer("reference_bench", self.reference_bench, 0)
        for key in ("rock_column", "mining_cost_factor_column", "bwi_column"):
            check.column(key, getattr(self, key))
        check.currency("currency", self.currency)
        check.table("processing_cost_by_rock", self.processing_cost_by_rock, "rock type -> currency/t")
        for rock, value in self.processing_cost_by_rock.items():
            check.number(("processing_cost_by_rock", rock), value, 0.0)
        if not isinstance(self.not_processable, (list, tuple)):
            raise check.error("not_processable", f"expected a list of rock types, got {self.not_processable!r}")
        if (self.processing_cost_by_rock or self.not_processable
                or any(e.recovery_by_rock for e in self.elements.values())) and self.rock_column is None:
            raise check.error("rock_column", "rock-type tables are given but rock_column is not set")
        check.table("extra_value", self.extra_value, "destination -> column name")
        check.keys(self.extra_value, DESTINATIONS, at=("extra_value",), renamed=self.RENAMED_KEYS)
        for dest, col in self.extra_value.items():
            check.column(("extra_value", dest), col, optional=False)
        for name, el in self.elements.items():
            at = ("elements", name)
            check.column(at + ("column",), el.column, optional=False)
            check.choice(at + ("grade_unit",), el.grade_unit, (*GRADE_UNITS_KG_PER_T, "unit"))
            check.choice(at + ("price_unit",), el.price_unit, (*PRICE_UNITS_KG, "unit"))
            if (el.grade_unit == "unit") != (el.price_unit == "unit"):
                raise check.error(at + ("price_unit",), "grade_unit 'unit' and price_unit 'unit' go together")
            check.number(at + ("price",), el.price, 0.0)
            check.number(at + ("selling_cost",), el.selling_cost, 0.0)
            if el.selling_cost > 0 and el.selling_cost >= el.price:
                unit = f"{self.currency}/{el.price_unit}"
                raise check.error(at + ("selling_cost",), f"{el.selling_cost:g} {unit} is at or above the price "
                                  f"{el.price:g} {unit}, so {name} earns nothing; both are per price_unit "
                                  f"'{el.price_unit}' (is one of them per another unit?)")
            check.number(at + ("recovery",), el.recovery, 0.0, 1.0)
            check.table(at + ("recovery_by_rock",), el.recovery_by_rock, "rock type -> fraction")
            for rock, value in el.recovery_by_rock.items():
                check.number(at + ("recovery_by_rock", rock), value, 0.0, 1.0)

    # -- files --------------------------------------------------------------------------------
    @classmethod
    def _read_field(cls, name, value, default, check):
        """``elements``: tables [elements.NAME] -> `Element`s."""
        if name != "elements":
            return value
        elements = {}
        for element, spec in check.table("elements", value, "[elements.NAME] per element").items():
            at = ("elements", element)
            check.keys(check.table(at, spec, "of element keys"), [f.name for f in fields(Element)], at=at)
            for key, what in REQUIRED_ELEMENT_KEYS.items():
                if key not in spec and not (key == "price_unit" and spec.get("price") == 0):
                    of = f", the unit of column '{spec['column']}'" if key == "grade_unit" and "column" in spec else ""
                    raise check.error(at + (key,), f"missing from [{'.'.join(at)}]: add {what}{of}")
            elements[element] = Element(**spec)
        return elements

    def to_toml(self) -> str:
        """The parameter set as TOML text that `from_toml` reads back."""
        lines = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "elements" or value is None or isinstance(value, dict):
                continue
            lines.append(f"{f.name} = {_toml_value(value)}")
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, dict) and f.name != "elements" and value:
                lines.append(f"\n[{f.name}]")
                lines.extend(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items())
        for name, el in self.elements.items():
            lines.append(f"\n[elements.{_toml_key(name)}]")
            for f in fields(el):
                value = getattr(el, f.name)
                if f.name != "recovery_by_rock":
                    lines.append(f"{f.name} = {_toml_value(value)}")
            if el.recovery_by_rock:
                lines.append(f"\n[elements.{_toml_key(name)}.recovery_by_rock]")
                lines.extend(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in el.recovery_by_rock.items())
        return "\n".join(lines) + "\n"

    @property
    def unit(self) -> str:
        """Suffix of money columns, e.g. ``usd``."""
        return self.currency.lower()

    def stockpile_discount_factor(self) -> float:
        """1 / (1 + discount_rate) ** stockpile_delay_years."""
        return 1.0 / (1.0 + self.discount_rate) ** self.stockpile_delay_years


def check_bond_sizes(check: Checker, f80_um, p80_um) -> None:
    """Bond's feed and product sizes (``bond_f80_um``, ``bond_p80_um``): positive, product below feed."""
    check.number("bond_f80_um", f80_um, 0.0, open_low=True)
    check.number("bond_p80_um", p80_um, 0.0, open_low=True)
    if p80_um >= f80_um:
        raise check.error("bond_p80_um", f"product size {p80_um} um must be below feed size {f80_um} um")


def _toml_key(key) -> str:
    key = str(key)
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else '"' + key.replace('"', '\\"') + '"'


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


# ---------------------------------------------------------------------------------------------
# inputs as plain arrays

class ValueInputs(NamedTuple):
    """Plain arrays the kernel reads (n blocks, e elements, r rock types)."""

    tonnage: np.ndarray          # (n,) t
    rock: np.ndarray             # (n,) int16 (int64 beyond 32767 types) code into the rock tables
    depth: np.ndarray            # (n,) int32 benches below the reference bench (>= 0)
    factor: np.ndarray           # (n,) mining-cost multiplier, or (0,) for none
    grades: tuple                # e arrays (n,) in each element's grade unit
    bwi: np.ndarray              # (n,) kWh/t, or (0,)
    extra: tuple                 # 3 arrays (mill, stockpile, dump) in currency, each (n,) or (0,)
    coef: np.ndarray             # (e, r) currency per t of ore per grade unit (recovered, net of selling)
    proc_cost: np.ndarray        # (r,) currency/t
    processable: np.ndarray      # (r,) bool
    rock_names: tuple            # r rock-type labels


def model_column(model: BlockModel, name: str) -> str:
    """The model's name of a column a settings file names: ``name`` itself, else the attribute it was
    renamed to on reading by its common name (``ROCK`` or ``LITH`` -> ``rock``, ``BWI`` -> ``bwi``)."""
    if name in model or not isinstance(name, str):
        return name
    return next((attr for attr, aliases in COMMON_NAMES.items() if name.strip().lower() in aliases and attr in model),
                name)


def _column(model: BlockModel, name: str, what: str, path=None) -> pd.Series:
    frame = model._frame  # read-only access; avoids copying the whole table
    name = model_column(model, name)
    if name not in frame.columns:
        raise InputError(f"{what}: block model has no column '{name}' (columns: {', '.join(frame.columns)})",
                         path=path or model.source, field=name)
    return frame[name]


def _float_column(model, name, what) -> np.ndarray:
    s = _column(model, name, what)
    values = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        raise InputError(f"block {r}: {what} column '{name}' = {s.iloc[r]!r} is not a finite number",
                         path=model.source, field=name)
    return values


def rock_codes(model: BlockModel, column: str | None) -> tuple[np.ndarray, tuple]:
    """Integer rock code per block and the rock-type labels (as text)."""
    if column is None:
        return np.zeros(model.n_blocks, dtype=np.int16), ("",)
    s = _column(model, column, "rock_column")
    codes, uniques = pd.factorize(s, sort=False)
    if (codes < 0).any():
        r = int(np.flatnonzero(codes < 0)[0])
        raise InputError(f"block {r}: rock type is missing", path=model.source, field=column)
    names = tuple(str(u) for u in uniques)
    if len(set(names)) != len(names):
        raise InputError(f"rock types {list(uniques)} are not distinct when written as text",
                         path=model.source, field=column)
    # narrow codes: less memory traffic in the kernels
    return codes.astype(np.int16 if len(names) < 2 ** 15 else np.int64, copy=False), names


def value_inputs(model: BlockModel, econ: Economics) -> ValueInputs:
    """Gather the arrays `value_arrays` needs from a block model; errors name the missing column."""
    n = model.n_blocks
    tonnage = _float_column(model, "tonnage", "tonnage")
    rock, names = rock_codes(model, econ.rock_column)
    k = model.k
    ref = (int(k.max()) if n else 0) if econ.reference_bench is None else econ.reference_bench
    depth = np.maximum(ref - k, 0).astype(np.int32)
    factor = (_float_column(model, econ.mining_cost_factor_column, "mining_cost_factor_column")
              if econ.mining_cost_factor_column else np.empty(0))
    grades = tuple(_float_column(model, el.column, f"elements.{name}.column")
                   for name, el in econ.elements.items())
    for (name, el), g in zip(econ.elements.items(), grades):
        if (g < 0).any():
            r = int(np.flatnonzero(g < 0)[0])
            raise InputError(f"block {r}: grade {el.column} = {g[r]} is negative", path=model.source, field=el.column)
        check_grade_unit(g, el, model.source)
    bwi = _float_column(model, econ.bwi_column, "bwi_column") if econ.bwi_column else np.empty(0)
    extra = tuple(_float_column(model, econ.extra_value[d], f"extra_value.{d}") if d in econ.extra_value
                  else np.empty(0) for d in DESTINATIONS)
    coef, proc_cost, processable = rock_tables(econ, names, model.source)
    return ValueInputs(tonnage, rock, depth, factor, grades, bwi, extra, coef, proc_cost, processable, names)


class GradeUnitWarning(UserWarning):
    """Grades whose size suggests another unit than the one declared (e.g. ppm read as %)."""


def check_grade_unit(grade: np.ndarray, element: Element, source=None) -> None:
    """Refuse grades above 100 % and warn, with the evidence, when grades look like another unit:
    in % but with a 95th percentile above 20 (ppm or g/t?) or all below 0.05 (fractions: 0.005 for
    0.5 %?), or in ppm / g/t but all below 0.05 (%?)."""
    if grade.size == 0:
        return
    top = float(grade.max())
    if element.grade_unit == "%" and top > 100.0:
        r = int(np.argmax(grade))
        raise InputError(f"block {r}: grade {element.column} = {top:g} % is above 100 %; is the unit ppm or g/t?",
                         path=source, field=element.column)
    positive = grade[grade > 0]
    if positive.size == 0:
        return
    p95 = float(np.percentile(positive, 95))
    if element.grade_unit == "%" and p95 > 20.0:
        warnings.warn(f"{element.column}: 95 % of the positive grades are below {p95:g}, high for '%' "
                      f"(median {float(np.median(positive)):g}); check whether the unit is ppm or g/t",
                      GradeUnitWarning, stacklevel=3)
    elif element.grade_unit == "%" and top < 0.05:
        warnings.warn(f"{element.column}: every grade is below {top:g} %, low for '%'; check whether the grades "
                      f"are written as fractions (0.005 for 0.5 %): then multiply them by 100", GradeUnitWarning,
                      stacklevel=3)
    elif element.grade_unit in ("ppm", "g/t") and top < 0.05:
        warnings.warn(f"{element.column}: every grade is below {top:g} {element.grade_unit}, low for "
                      f"'{element.grade_unit}'; check whether the unit is %", GradeUnitWarning, stacklevel=3)


def rock_tables(econ: Economics, names, source=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per rock type: revenue coefficients (e, r), processing cost (r,), processable flag (r,).

    A by-rock table or ``not_processable`` naming a rock type the model does not have is refused: a
    misspelt rock would otherwise silently take the default."""
    tables = [("processing_cost_by_rock", econ.processing_cost_by_rock), ("not_processable", econ.not_processable)] + [
        (f"elements.{name}.recovery_by_rock", el.recovery_by_rock) for name, el in econ.elements.items()]
    for key, table in tables:
        unknown = sorted(set(map(str, table)) - set(names))
        if unknown and econ.rock_column is not None:
            raise econ.error(key, f"rock type(s) {', '.join(map(repr, unknown))} match no rock in the "
                                  f"'{econ.rock_column}' column of {source or 'the block model'} (it has "
                                  f"{', '.join(map(repr, names))})", path=source)
    coef = np.zeros((len(econ.elements), len(names)))
    for e, el in enumerate(econ.elements.values()):
        for r, rock in enumerate(names):
            rec = el.recovery_by_rock.get(rock, el.recovery)
            coef[e, r] = el.factor * rec * (el.price - el.selling_cost)
    proc = np.array([econ.processing_cost_by_rock.get(rock, econ.processing_cost) for rock in names], dtype=np.float64)
    blocked = {str(v) for v in econ.not_processable}
    processable = np.array([rock not in blocked for rock in names], dtype=np.bool_)
    return coef, proc, processable


# ---------------------------------------------------------------------------------------------
# kernels

@numba.njit(cache=True, inline="always")
def bond_kwh_per_t(wi, f80_um, p80_um):
    """Bond's law: specific grinding energy (kWh/t) from work index wi (kWh/t), sizes in micrometres."""
    return 10.0 * wi * (1.0 / math.sqrt(p80_um) - 1.0 / math.sqrt(f80_um))


# scalar parameters packed in one vector (indices)
P_MINING, P_PER_BENCH, P_DUMP, P_REHANDLE, P_DISCOUNT, P_INFEASIBLE, P_F80, P_P80, P_EPRICE, P_POWER = range(10)


def value_params(econ: Economics) -> np.ndarray:
    """The scalar parameters as the vector the kernels read."""
    return np.array([econ.mining_cost, econ.mining_cost_per_bench, econ.dump_cost, econ.stockpile_rehandle_cost,
                     econ.stockpile_discount_factor(), econ.infeasible_value, econ.bond_f80_um, econ.bond_p80_um,
                     econ.grinding_energy_price, econ.mill_power_kw or 0.0], dtype=np.float64)


@numba.njit(cache=True, inline="always")
def econ_block(b, tonnage, rock, depth, factor, grades, bwi, extra_mill, extra_stock, extra_dump,
               coef, proc_cost, processable, p):
    """All economic terms of block b: (revenue, mining, processing, grind kWh/t, grinding cost, mill hours,
    rehandle, value mill, value stockpile, value dump), money in currency."""
    t = tonnage[b]
    r = rock[b]
    rev = 0.0
    for e in range(coef.shape[0]):
        rev += t * grades[e][b] * coef[e, r]
    unit_mining = p[P_MINING] + p[P_PER_BENCH] * depth[b]
    if factor.shape[0] > 0:
        unit_mining *= factor[b]
    mine = t * unit_mining
    proc = t * proc_cost[r]
    w = 0.0
    grind = 0.0
    hours = 0.0
    if bwi.shape[0] > 0:
        w = bond_kwh_per_t(bwi[b], p[P_F80], p[P_P80])
        grind = t * w * p[P_EPRICE]
        if p[P_POWER] > 0.0:
            hours = t * w / p[P_POWER]
    reh = t * p[P_REHANDLE]
    v_dump = -mine - t * p[P_DUMP]
    if extra_dump.shape[0] > 0:
        v_dump += extra_dump[b]
    if processable[r]:
        margin = rev - proc - grind
        v_mill = margin - mine
        v_stock = margin * p[P_DISCOUNT] - reh - mine
        if extra_mill.shape[0] > 0:
            v_mill += extra_mill[b]
        if extra_stock.shape[0] > 0:
            v_stock += extra_stock[b]
    elif t > 0.0:
        v_mill = p[P_INFEASIBLE] * t
        v_stock = v_mill
    else:
        v_mill = 0.0
        v_stock = 0.0
    return rev, mine, proc, w, grind, hours, reh, v_mill, v_stock, v_dump


@numba.njit(parallel=True, cache=True)
def _value_kernel(tonnage, rock, depth, factor, grades, bwi, extra_mill, extra_stock, extra_dump,
                  coef, proc_cost, processable, p,
                  rev_el, revenue, mining, processing, grind_kwh_t, grinding, mill_hours, rehandle_out,
                  v_mill, v_stock, v_dump):
    n = tonnage.shape[0]
    has_bwi = bwi.shape[0] > 0
    has_hours = has_bwi and p[P_POWER] > 0.0
    for b in numba.prange(n):
        rev, mine, proc, w, grind, hours, reh, vm, vs, vw = econ_block(
            b, tonnage, rock, depth, factor, grades, bwi, extra_mill, extra_stock, extra_dump,
            coef, proc_cost, processable, p)
        for e in range(coef.shape[0]):
            rev_el[b, e] = tonnage[b] * grades[e][b] * coef[e, rock[b]]
        revenue[b] = rev
        mining[b] = mine
        processing[b] = proc
        if has_bwi:
            grind_kwh_t[b] = w
            grinding[b] = grind
            if has_hours:
                mill_hours[b] = hours
        rehandle_out[b] = reh
        v_mill[b] = vm
        v_stock[b] = vs
        v_dump[b] = vw


def value_kernel_args(inputs: ValueInputs, econ: Economics) -> tuple:
    """The arguments `econ_block` takes after the block index, from `ValueInputs`."""
    grades = tuple(np.ascontiguousarray(g, dtype=np.float64) for g in inputs.grades)
    if not grades:  # numba needs a typed container even when empty
        grades = (np.empty(0),)
    return (np.ascontiguousarray(inputs.tonnage, dtype=np.float64), inputs.rock, inputs.depth, inputs.factor,
            grades, inputs.bwi, *inputs.extra, inputs.coef, inputs.proc_cost, inputs.processable,
            value_params(econ))


def value_arrays(inputs: ValueInputs, econ: Economics) -> dict[str, np.ndarray]:
    """Every economic term per block as named arrays (see `block_values` for the names and units)."""
    n = inputs.tonnage.shape[0]
    n_el = len(inputs.grades)
    u = econ.unit
    has_bwi = inputs.bwi.shape[0] > 0
    has_hours = has_bwi and econ.mill_power_kw is not None
    rev_el = np.empty((n, n_el))
    revenue, mining, processing, rehandle = (np.empty(n) for _ in range(4))
    grind_kwh_t = np.empty(n if has_bwi else 0)
    grinding = np.empty(n if has_bwi else 0)
    mill_hours = np.empty(n if has_hours else 0)
    v_mill, v_stock, v_dump = np.empty(n), np.empty(n), np.empty(n)
    _value_kernel(*value_kernel_args(inputs, econ),
                  rev_el, revenue, mining, processing, grind_kwh_t, grinding, mill_hours, rehandle,
                  v_mill, v_stock, v_dump)
    out = {}
    for e, name in enumerate(econ.elements):
        out[f"revenue_{name}_{u}"] = rev_el[:, e]
    out[f"revenue_{u}"] = revenue
    out[f"mining_cost_{u}"] = mining
    out[f"processing_cost_{u}"] = processing
    if has_bwi:
        out["grinding_kwh_t"] = grind_kwh_t
        out[f"grinding_cost_{u}"] = grinding
    if has_hours:
        out["mill_hours_h"] = mill_hours
    out[f"rehandle_cost_{u}"] = rehandle
    for dest, arr in zip(DESTINATIONS, inputs.extra):
        if arr.shape[0]:
            out[f"extra_{dest}_{u}"] = arr
    out[f"value_mill_{u}"] = v_mill
    out[f"value_stockpile_{u}"] = v_stock
    out[f"value_dump_{u}"] = v_dump
    return out


def block_values(model: BlockModel, econ: Economics) -> pd.DataFrame:
    """Per block, each economic term in its own column and the value at each destination.

    Columns (``<cur>`` is the lower-case currency): ``revenue_<element>_<cur>`` (recovered, net of
    selling cost), ``revenue_<cur>``, ``mining_cost_<cur>``, ``processing_cost_<cur>``,
    ``grinding_kwh_t`` and ``grinding_cost_<cur>`` (with a Bond work index column), ``mill_hours_h``
    (with ``mill_power_kw``), ``rehandle_cost_<cur>``, ``extra_<destination>_<cur>`` (precomputed
    values, if any), and ``value_mill_<cur>``, ``value_stockpile_<cur>``, ``value_dump_<cur>``.
    """
    return pd.DataFrame(value_arrays(value_inputs(model, econ), econ), copy=False)


# ---------------------------------------------------------------------------------------------
# reference (numpy, slow): the same arithmetic, for tests and benchmarks

def value_arrays_numpy(inputs: ValueInputs, econ: Economics) -> dict[str, np.ndarray]:
    """`value_arrays` written with numpy expressions (slow; a cross-check of the kernel)."""
    u = econ.unit
    t = inputs.tonnage
    out = {}
    revenue = np.zeros_like(t)
    for e, name in enumerate(econ.elements):
        out[f"revenue_{name}_{u}"] = t * inputs.grades[e] * inputs.coef[e][inputs.rock]
        revenue = revenue + out[f"revenue_{name}_{u}"]
    unit_mining = econ.mining_cost + econ.mining_cost_per_bench * inputs.depth
    if inputs.factor.shape[0]:
        unit_mining = unit_mining * inputs.factor
    mining = t * unit_mining
    processing = t * inputs.proc_cost[inputs.rock]
    grind = np.zeros_like(t)
    out[f"revenue_{u}"] = revenue
    out[f"mining_cost_{u}"] = mining
    out[f"processing_cost_{u}"] = processing
    if inputs.bwi.shape[0]:
        w = 10.0 * inputs.bwi * (1 / np.sqrt(econ.bond_p80_um) - 1 / np.sqrt(econ.bond_f80_um))
        grind = t * w * econ.grinding_energy_price
        out["grinding_kwh_t"] = w
        out[f"grinding_cost_{u}"] = grind
        if econ.mill_power_kw is not None:
            out["mill_hours_h"] = t * w / econ.mill_power_kw
    rehandle = t * econ.stockpile_rehandle_cost
    out[f"rehandle_cost_{u}"] = rehandle
    extra = [x if x.shape[0] else 0.0 for x in inputs.extra]
    for dest, arr in zip(DESTINATIONS, inputs.extra):
        if arr.shape[0]:
            out[f"extra_{dest}_{u}"] = arr
    ok = inputs.processable[inputs.rock]
    margin = revenue - processing - grind
    blocked = np.where(t > 0, econ.infeasible_value * np.where(t > 0, t, 1.0), 0.0)
    out[f"value_mill_{u}"] = np.where(ok, margin - mining + extra[0], blocked)
    out[f"value_stockpile_{u}"] = np.where(ok, margin * econ.stockpile_discount_factor() - rehandle - mining
                                           + extra[1], blocked)
    out[f"value_dump_{u}"] = -mining - t * econ.dump_cost + extra[2]
    return out
