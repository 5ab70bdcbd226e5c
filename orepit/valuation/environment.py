"""Environmental cost per block and destination: CO2 from haulage, blasting and processing energy,
a carbon price, tailings and water, dump footprint and rehabilitation, and PAF waste.

Every term is its own column with its unit in the name; ``env_cost_<destination>_<currency>`` is the
sum the optimizers see.  Defaults, units and sources are in `Environment` and docs/parameters.md;
defaults marked "assumption" are engineering estimates to be replaced by site data.

Per block with tonnage ``t`` (t), centre elevation ``z`` (m) and destination ``d``::

    lift_m        = max(exit_z_m - z, 0)
    haul_km[d]    = lift_m / ramp_grade / 1000 + inpit_km + surface_haul_km[d]
    diesel_l[d]   = t * (fuel_l_per_tkm * haul_km[d] + fuel_l_per_t_m_lift * lift_m)
                    (+ for the stockpile: t * (rehandle_diesel_l_per_t + fuel_l_per_tkm * stockpile_to_mill_km))
    haul_co2[d]   = diesel_l[d] * diesel_kg_co2_per_l
    blast_co2     = t * powder_factor_kg_t * explosive_kg_co2_per_kg
    process_kwh   = t * (10 Wi (1/sqrt(P80) - 1/sqrt(F80)) + other_process_kwh_t)      (mill, stockpile)
    process_co2   = process_kwh * grid_kg_co2_per_kwh
    carbon_cost[d]= co2_kg[d] / 1000 * carbon_price
    tailings, water (mill, stockpile) = t * per-tonne rates
    dump_ha       = t / (dump_density * dump_height_m) / 1e4       (dump)
    rehab         = dump_ha * rehabilitation_cost_per_ha
    paf           = t * paf_cost_per_t  if sulphur >= paf_sulphur_pct  (dump)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

import numba
import numpy as np
import pandas as pd

from solvers.errors import InputError

from orepit.data.model import BlockModel
from orepit.data.toml import Checker, TomlParameters
from orepit.valuation.destinations import DESTINATIONS, RENAMED_DESTINATIONS
from orepit.valuation.economics import _float_column, bond_kwh_per_t, check_bond_sizes, model_column


@dataclass
class Environment(TomlParameters):
    """Environmental parameters.  Units in the names; sources in docs/parameters.md.

    Geometry: ``exit_z_m`` is the pit-exit elevation (None: top of the highest block); ``exit_xy_m``
    the pit-exit position (None: no horizontal in-pit leg beyond the ramp).  A TOML file's keys are the
    field names, with a ``[surface_haul_km]`` table (`from_toml`).
    """

    FILE_KIND = "environment"
    #: keys of former versions (key path -> its new path); a file that uses one is told the new name
    RENAMED_KEYS = {("surface_haul_km", old): ("surface_haul_km", new) for old, new in RENAMED_DESTINATIONS.items()}

    currency: str = "USD"
    # haulage
    diesel_kg_co2_per_l: float = 2.68          # combustion CO2 of diesel (IPCC 2006 default, ~2.68)
    fuel_l_per_tkm: float = 0.05               # assumption: flat haul, round trip, per t payload
    fuel_l_per_t_m_lift: float = 0.00127       # assumption: lifting payload + truck, 35 % efficiency
    ramp_grade: float = 0.10                   # ramp rise per run (10 %)
    exit_z_m: float | None = None              # pit exit elevation; None: top of the model
    exit_xy_m: tuple | None = None             # pit exit (x, y); None: ramp length only
    surface_haul_km: dict = field(default_factory=lambda: {"mill": 2.0, "stockpile": 1.5, "dump": 1.0})
    stockpile_to_mill_km: float = 1.0          # assumption: reclaim haul
    rehandle_diesel_l_per_t: float = 0.03      # assumption: loader reclaim
    # blasting
    powder_factor_kg_t: float = 0.25           # assumption: hard-rock open pit, kg explosive per t
    explosive_kg_co2_per_kg: float = 0.173     # ANFO 94.5/5.5, stoichiometric
    # processing energy
    bwi_column: str | None = "bwi"             # Bond work index (kWh/t); None: use bwi_default
    bwi_default: float | None = None           # kWh/t when the model has no work-index column
    bond_f80_um: float = 10000.0               # assumption: crushed feed 80 % passing 10 mm
    bond_p80_um: float = 150.0                 # assumption: flotation feed 80 % passing 150 um
    other_process_kwh_t: float = 8.0           # assumption: flotation, regrind, pumping, thickening
    grid_kg_co2_per_kwh: float = 0.5306        # China national average 2023 (MEE & NBS)
    # carbon price
    carbon_price_per_t_co2: float = 14.0       # 100 CNY/t at ~7.1 CNY/USD; swept in studies
    # tailings and water
    tailings_cost_per_t: float = 1.0           # assumption: TSF construction and closure per t processed
    water_m3_per_t: float = 0.5                # assumption: fresh-water make-up per t processed
    water_price_per_m3: float = 0.5            # assumption
    # dump
    dump_height_m: float = 60.0                # assumption
    dump_density_t_m3: float | None = None     # loose density; None: block density / dump_swell_factor
    dump_swell_factor: float = 1.35            # assumption: in situ to loose
    rehabilitation_cost_per_ha: float = 30000.0  # assumption
    sulphur_column: str | None = "sulphur"     # total S (%); None: no PAF surcharge
    paf_sulphur_pct: float = 0.3               # screening threshold for potentially acid-forming waste
    paf_cost_per_t: float = 1.5                # assumption: encapsulation / cover per t of PAF waste

    def __post_init__(self):
        self.validate()

    def validate(self, check: Checker | None = None) -> None:
        """Raise `InputError` naming the key (and, with a ``check`` made from a file, the file and line)
        of a bad value."""
        check = Checker() if check is None else check
        for key in ("bwi_column", "sulphur_column"):
            if getattr(self, key) == "":
                setattr(self, key, None)
        positive = {"ramp_grade", "dump_height_m", "dump_swell_factor", "dump_density_t_m3"}
        optional = {"exit_z_m", "bwi_default", "dump_density_t_m3"}
        for f in fields(self):
            if f.name in ("currency", "bwi_column", "sulphur_column", "surface_haul_km", "exit_xy_m"):
                continue
            check.number(f.name, getattr(self, f.name), -math.inf if f.name == "exit_z_m" else 0.0,
                         open_low=f.name in positive, optional=f.name in optional)
        check_bond_sizes(check, self.bond_f80_um, self.bond_p80_um)
        check.currency("currency", self.currency)
        check.table("surface_haul_km", self.surface_haul_km, "destination -> km")
        check.keys(self.surface_haul_km, DESTINATIONS, at=("surface_haul_km",), renamed=self.RENAMED_KEYS)
        for dest in self.surface_haul_km:
            check.number(("surface_haul_km", dest), self.surface_haul_km[dest], 0.0)
        missing = [d for d in DESTINATIONS if d not in self.surface_haul_km]
        if missing:
            raise check.error("surface_haul_km", f"missing destination(s) {missing}")
        if self.exit_xy_m is not None:
            xy = self.exit_xy_m
            if not isinstance(xy, (list, tuple)) or len(xy) != 2:
                raise check.error("exit_xy_m", f"expected [x, y] in metres, got {xy!r}")
            self.exit_xy_m = tuple(float(check.number("exit_xy_m", v)) for v in xy)
        for key in ("bwi_column", "sulphur_column"):
            check.column(key, getattr(self, key))
        if self.grid_kg_co2_per_kwh > 2:
            check.warn("grid_kg_co2_per_kwh", f"{self.grid_kg_co2_per_kwh:g} kg CO2/kWh is above 2 (coal power "
                       f"emits about 1); if it is in g/kWh, write {self.grid_kg_co2_per_kwh / 1000:g}")
        if self.ramp_grade > 1:
            check.warn("ramp_grade", f"{self.ramp_grade:g} m rise per m run is steeper than 45 degrees; if it is in "
                       f"percent, write {self.ramp_grade / 100:g}")
        if self.dump_swell_factor < 1:
            check.warn("dump_swell_factor", f"{self.dump_swell_factor:g} is below 1, so dumped rock would be denser "
                       "than in situ (blasted hard rock swells by about 1.3-1.4)")

    @classmethod
    def _read_field(cls, name, value, default, check):
        """``surface_haul_km``: the destinations a file gives, the others at their defaults."""
        if name == "surface_haul_km" and isinstance(value, dict):
            return {**default, **value}
        return value

    @property
    def unit(self) -> str:
        return self.currency.lower()


@dataclass
class EnvInputs:
    """Plain arrays the kernel reads (n blocks)."""

    tonnage: np.ndarray       # t
    lift_m: np.ndarray        # m below the pit exit (>= 0)
    inpit_km: np.ndarray      # horizontal distance to the exit (km), or (0,)
    bwi: np.ndarray           # kWh/t, or (0,) with bwi_default
    sulphur: np.ndarray       # %, or (0,)
    dump_density: np.ndarray  # loose t/m3 per block, or (0,) with dump_density_t_m3


def env_inputs(model: BlockModel, env: Environment) -> EnvInputs:
    """Gather the arrays `env_arrays` needs; needs block elevations in metres (a known block size)."""
    if model.block_size is None:
        raise InputError("environmental costs need block elevations in metres, but the block size is unknown "
                         "(give the block size when reading the model)", path=model.source, field="block_size")
    t = _float_column(model, "tonnage", "tonnage")
    z = model.z
    top = float(z.max() + model.block_size[2] / 2) if len(z) else 0.0
    exit_z = top if env.exit_z_m is None else env.exit_z_m
    lift = np.maximum(exit_z - z, 0.0)
    if env.exit_xy_m is not None:
        inpit = np.hypot(model.x - env.exit_xy_m[0], model.y - env.exit_xy_m[1]) / 1000.0
    else:
        inpit = np.empty(0)
    bwi_column, sulphur_column = model_column(model, env.bwi_column), model_column(model, env.sulphur_column)
    if bwi_column is not None and bwi_column in model:
        bwi = _float_column(model, env.bwi_column, "bwi_column")
    elif env.bwi_default is not None:
        bwi = np.empty(0)
    else:
        raise InputError(f"environment: the block model has no Bond work index column '{env.bwi_column}' (kWh/t): "
                         "name yours with bwi_column, or set bwi_default (kWh/t, one work index for every "
                         "block) in the environment file (--environment)", path=model.source, field="bwi_column")
    if sulphur_column and sulphur_column not in model:
        raise InputError(f"environment: the block model has no sulphur column '{env.sulphur_column}' (total S, %): "
                         "name yours with sulphur_column, or set sulphur_column = \"\" in the environment file "
                         "(--environment) to price no acid-forming waste", path=model.source, field="sulphur_column")
    sulphur = _float_column(model, env.sulphur_column, "sulphur_column") if env.sulphur_column else np.empty(0)
    if env.dump_density_t_m3 is None:
        if "density" not in model:
            raise InputError("dump_density_t_m3 is not set and the block model has no 'density' column",
                             path=model.source, field="density")
        dens = _float_column(model, "density", "density") / env.dump_swell_factor
    else:
        dens = np.empty(0)
    return EnvInputs(t, lift, inpit, bwi, sulphur, dens)


# scalar parameters packed in one vector (indices)
(Q_KM_MILL, Q_KM_STOCK, Q_KM_DUMP, Q_RAMP, Q_FUEL_TKM, Q_FUEL_LIFT, Q_DIESEL_EF, Q_SP_MILL_KM, Q_REHANDLE_L,
 Q_POWDER, Q_EXPLOSIVE_EF, Q_BWI_DEFAULT, Q_F80, Q_P80, Q_OTHER_KWH, Q_GRID_EF, Q_CARBON_PRICE, Q_TAILINGS,
 Q_WATER, Q_WATER_PRICE, Q_DUMP_HEIGHT, Q_DUMP_DENSITY, Q_REHAB, Q_PAF_PCT, Q_PAF_COST) = range(25)

#: names of the terms `env_block` returns, in order (``{u}``: currency)
TERMS = (*(f"haul_diesel_{d}_l" for d in DESTINATIONS), *(f"haul_co2_{d}_kg" for d in DESTINATIONS), "blast_co2_kg",
         "process_kwh", "process_co2_kg", *(f"co2_{d}_kg" for d in DESTINATIONS),
         *(f"carbon_cost_{d}_{{u}}" for d in DESTINATIONS),
         "tailings_cost_{u}", "water_m3", "water_cost_{u}", "dump_area_ha", "rehabilitation_cost_{u}",
         "paf_cost_{u}", *(f"env_cost_{d}_{{u}}" for d in DESTINATIONS))


def env_params(env: Environment) -> np.ndarray:
    """The scalar parameters as the vector the kernels read."""
    return np.array([
        env.surface_haul_km["mill"], env.surface_haul_km["stockpile"], env.surface_haul_km["dump"],
        env.ramp_grade, env.fuel_l_per_tkm, env.fuel_l_per_t_m_lift, env.diesel_kg_co2_per_l,
        env.stockpile_to_mill_km, env.rehandle_diesel_l_per_t, env.powder_factor_kg_t,
        env.explosive_kg_co2_per_kg, env.bwi_default or 0.0, env.bond_f80_um, env.bond_p80_um,
        env.other_process_kwh_t, env.grid_kg_co2_per_kwh, env.carbon_price_per_t_co2, env.tailings_cost_per_t,
        env.water_m3_per_t, env.water_price_per_m3, env.dump_height_m, env.dump_density_t_m3 or 1.0,
        env.rehabilitation_cost_per_ha, env.paf_sulphur_pct, env.paf_cost_per_t], dtype=np.float64)


def env_kernel_args(inputs: EnvInputs, env: Environment) -> tuple:
    """The arguments `env_block` takes after the block index, from `EnvInputs`."""
    f64 = lambda a: np.ascontiguousarray(a, dtype=np.float64)  # noqa: E731
    return (f64(inputs.tonnage), f64(inputs.lift_m), f64(inputs.inpit_km), f64(inputs.bwi), f64(inputs.sulphur),
            f64(inputs.dump_density), env_params(env))


@numba.njit(cache=True, inline="always")
def env_block(b, t_arr, lift_arr, inpit_arr, bwi_arr, sul_arr, dens_arr, q):
    """All environmental terms of block b, in the order of `TERMS`."""
    t = t_arr[b]
    lift = lift_arr[b]
    base_km = lift / q[Q_RAMP] / 1000.0
    if inpit_arr.shape[0] > 0:
        base_km += inpit_arr[b]
    lift_l = q[Q_FUEL_LIFT] * lift
    fuel = q[Q_FUEL_TKM]
    dm = t * (fuel * (base_km + q[Q_KM_MILL]) + lift_l)
    ds = t * (fuel * (base_km + q[Q_KM_STOCK] + q[Q_SP_MILL_KM]) + lift_l + q[Q_REHANDLE_L])
    dd = t * (fuel * (base_km + q[Q_KM_DUMP]) + lift_l)
    hm = dm * q[Q_DIESEL_EF]
    hs = ds * q[Q_DIESEL_EF]
    hd = dd * q[Q_DIESEL_EF]
    bl = t * q[Q_POWDER] * q[Q_EXPLOSIVE_EF]
    wi = bwi_arr[b] if bwi_arr.shape[0] > 0 else q[Q_BWI_DEFAULT]
    kwh = t * (bond_kwh_per_t(wi, q[Q_F80], q[Q_P80]) + q[Q_OTHER_KWH])
    pc = kwh * q[Q_GRID_EF]
    cm = hm + bl + pc
    cs = hs + bl + pc
    cd = hd + bl
    price = q[Q_CARBON_PRICE] * 1e-3
    km_ = cm * price
    ks = cs * price
    kd = cd * price
    tl = t * q[Q_TAILINGS]
    wm = t * q[Q_WATER]
    wc = wm * q[Q_WATER_PRICE]
    dens = dens_arr[b] if dens_arr.shape[0] > 0 else q[Q_DUMP_DENSITY]
    ha = 0.0
    if t > 0.0:
        ha = t / (dens * q[Q_DUMP_HEIGHT]) * 1e-4
    rh = ha * q[Q_REHAB]
    pf = 0.0
    if sul_arr.shape[0] > 0 and sul_arr[b] >= q[Q_PAF_PCT]:
        pf = t * q[Q_PAF_COST]
    return (dm, ds, dd, hm, hs, hd, bl, kwh, pc, cm, cs, cd, km_, ks, kd, tl, wm, wc, ha, rh, pf,
            km_ + tl + wc, ks + tl + wc, kd + rh + pf)


@numba.njit(parallel=True, cache=True)
def _env_kernel(t_arr, lift_arr, inpit_arr, bwi_arr, sul_arr, dens_arr, q,
                o0, o1, o2, o3, o4, o5, o6, o7, o8, o9, o10, o11,
                o12, o13, o14, o15, o16, o17, o18, o19, o20, o21, o22, o23):
    """Write the terms of every block into the 24 output arrays, in the order of `TERMS`."""
    for b in numba.prange(t_arr.shape[0]):
        (x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11,
         x12, x13, x14, x15, x16, x17, x18, x19, x20, x21, x22, x23) = env_block(
            b, t_arr, lift_arr, inpit_arr, bwi_arr, sul_arr, dens_arr, q)
        o0[b] = x0
        o1[b] = x1
        o2[b] = x2
        o3[b] = x3
        o4[b] = x4
        o5[b] = x5
        o6[b] = x6
        o7[b] = x7
        o8[b] = x8
        o9[b] = x9
        o10[b] = x10
        o11[b] = x11
        o12[b] = x12
        o13[b] = x13
        o14[b] = x14
        o15[b] = x15
        o16[b] = x16
        o17[b] = x17
        o18[b] = x18
        o19[b] = x19
        o20[b] = x20
        o21[b] = x21
        o22[b] = x22
        o23[b] = x23


def env_arrays(inputs: EnvInputs, env: Environment) -> dict[str, np.ndarray]:
    """Every environmental term per block as named arrays (see `environmental_costs`)."""
    n = inputs.tonnage.shape[0]
    out = tuple(np.empty(n) for _ in TERMS)
    _env_kernel(*env_kernel_args(inputs, env), *out)
    return {"lift_m": inputs.lift_m, **{name.format(u=env.unit): arr for name, arr in zip(TERMS, out)}}


def environmental_costs(model: BlockModel, env: Environment | None = None) -> pd.DataFrame:
    """Per block: each environmental term in its own column and the total per destination.

    Columns: ``lift_m``; ``haul_diesel_<d>_l``, ``haul_co2_<d>_kg`` for d in mill, stockpile, dump
    (stockpile includes the later reclaim to the mill); ``blast_co2_kg``; ``process_kwh`` and
    ``process_co2_kg`` (incurred at the mill and, later, from the stockpile); ``co2_<d>_kg`` and
    ``carbon_cost_<d>_<cur>``; ``tailings_cost_<cur>``, ``water_m3``, ``water_cost_<cur>`` (mill and
    stockpile); ``dump_area_ha``, ``rehabilitation_cost_<cur>``, ``paf_cost_<cur>`` (dump); and
    ``env_cost_<d>_<cur>``, the sum per destination (a cost, positive).
    """
    env = Environment() if env is None else env
    return pd.DataFrame(env_arrays(env_inputs(model, env), env), copy=False)


# ---------------------------------------------------------------------------------------------
# reference (numpy, slow)

def env_arrays_numpy(inputs: EnvInputs, env: Environment) -> dict[str, np.ndarray]:
    """`env_arrays` written with numpy expressions (slow; a cross-check of the kernel)."""
    u = env.unit
    t = inputs.tonnage
    lift = inputs.lift_m
    base = lift / env.ramp_grade / 1000.0 + (inputs.inpit_km if inputs.inpit_km.shape[0] else 0.0)
    lift_l = env.fuel_l_per_t_m_lift * lift
    km = env.surface_haul_km
    o = {"lift_m": lift}
    o["haul_diesel_mill_l"] = t * (env.fuel_l_per_tkm * (base + km["mill"]) + lift_l)
    o["haul_diesel_stockpile_l"] = t * (env.fuel_l_per_tkm * (base + km["stockpile"] + env.stockpile_to_mill_km)
                                        + lift_l + env.rehandle_diesel_l_per_t)
    o["haul_diesel_dump_l"] = t * (env.fuel_l_per_tkm * (base + km["dump"]) + lift_l)
    for d in DESTINATIONS:
        o[f"haul_co2_{d}_kg"] = o[f"haul_diesel_{d}_l"] * env.diesel_kg_co2_per_l
    o["blast_co2_kg"] = t * env.powder_factor_kg_t * env.explosive_kg_co2_per_kg
    wi = inputs.bwi if inputs.bwi.shape[0] else env.bwi_default
    o["process_kwh"] = t * (10.0 * wi * (1 / np.sqrt(env.bond_p80_um) - 1 / np.sqrt(env.bond_f80_um))
                            + env.other_process_kwh_t)
    o["process_co2_kg"] = o["process_kwh"] * env.grid_kg_co2_per_kwh
    o["co2_mill_kg"] = o["haul_co2_mill_kg"] + o["blast_co2_kg"] + o["process_co2_kg"]
    o["co2_stockpile_kg"] = o["haul_co2_stockpile_kg"] + o["blast_co2_kg"] + o["process_co2_kg"]
    o["co2_dump_kg"] = o["haul_co2_dump_kg"] + o["blast_co2_kg"]
    for d in DESTINATIONS:
        o[f"carbon_cost_{d}_{u}"] = o[f"co2_{d}_kg"] / 1000.0 * env.carbon_price_per_t_co2
    o[f"tailings_cost_{u}"] = t * env.tailings_cost_per_t
    o["water_m3"] = t * env.water_m3_per_t
    o[f"water_cost_{u}"] = o["water_m3"] * env.water_price_per_m3
    dens = inputs.dump_density if inputs.dump_density.shape[0] else env.dump_density_t_m3
    with np.errstate(divide="ignore", invalid="ignore"):
        o["dump_area_ha"] = np.where(t > 0, t / (dens * env.dump_height_m) / 1e4, 0.0)
    o[f"rehabilitation_cost_{u}"] = o["dump_area_ha"] * env.rehabilitation_cost_per_ha
    if inputs.sulphur.shape[0]:
        o[f"paf_cost_{u}"] = np.where(inputs.sulphur >= env.paf_sulphur_pct, t * env.paf_cost_per_t, 0.0)
    else:
        o[f"paf_cost_{u}"] = np.zeros_like(t)
    o[f"env_cost_mill_{u}"] = o[f"carbon_cost_mill_{u}"] + o[f"tailings_cost_{u}"] + o[f"water_cost_{u}"]
    o[f"env_cost_stockpile_{u}"] = (o[f"carbon_cost_stockpile_{u}"] + o[f"tailings_cost_{u}"]
                                    + o[f"water_cost_{u}"])
    o[f"env_cost_dump_{u}"] = o[f"carbon_cost_dump_{u}"] + o[f"rehabilitation_cost_{u}"] + o[f"paf_cost_{u}"]
    return o
