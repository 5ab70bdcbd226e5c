"""A fixed plan replayed on other grades: what grade control does with the sequence a plan fixed.

A plan built on the estimated grades fixes *when* each block is mined (its period) and the mill's
cut-off in each period.  On a realisation of the grades (`orepit.valuation.realisations`, valued
again by `orepit.valuation.deposit.value_deposit`) the sequence stays and grade control re-decides
every destination from the *realised* margin per tonne (currency/t: what milling a tonne pays before
mining cost), period by period, keeping the mill's tonnes and hours and the stockpile's capacity:

    1. realised waste (margin <= 0, or not processable) goes to the dump;
    2. ore at or above the plan's mill cut-off of the period goes to the mill, richest first, while
       the mill's tonnes and hours last (a block that no longer fits waits: the next that fits goes);
    3. the mill's room left is filled from the stockpiles of earlier periods, the pile worth most
       per tonne first (worth on the plan's own footing, with or without the environmental cost);
       piles worth less than nothing only when the plan must empty them, and then once mining has
       ended (as the plan does: its mill then works the stockpile off at a steady rate);
    4. room still left takes the period's other ore, richest first;
    5. the ore left goes to the stockpile (while it has room), or to the dump when the plan has no
       stockpile or it is full (reported as ore to the dump).  As in the plan, a pile is the ore of
       one grade bin stockpiled in one period (the plan's bins: margin-per-tonne edges on the
       estimate, `orepit.planning.layout.bin_edges`), placed by its realised margin.

The plan's mill cut-off of period t is read from the plan itself: the margin per tonne above which
the period's ore-grade tonnes on the estimate add up to what the plan sent straight to the mill in
that period.  A plan that must empty its stockpile keeps milling it after its last period, at most
`EXTRA_PERIODS` more; other plans end where they ended on the estimate (`FixedPlan.life`: the mill
takes nothing after the last period in which the plan mines or mills there, though the horizon runs
on; what is left on the stockpile then follows the plan's own rule, lost or processed at the end).

The replayed block schedule is then priced by the one simulation (`orepit.planning.simulation`), so
its KPIs stand on the same footing as the plan's own; every capacity holds (the simulation finds no
violation, or `replay` raises).  The plan's rules (recovery floor, no ore to the dump, empty
stockpile at the end, an emission cap) are outcomes on a realisation, reported by the KPIs, not
enforced.  A period in which the plan mills on the estimate has a mill target: it is met when the
mill has been fed, from the start to the end of the period, at least `TARGET_SHARE` of what the
plan feeds it by then on the estimate (cumulative, so that milling the stockpile earlier than the
plan does is not a miss).  Periods in which the plan mills nothing (after its life, or idle) have
none: they are neither met nor missed.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numba
import numpy as np

from solvers.errors import InputError

from orepit.planning.layout import bin_edges, margin_per_tonne
from orepit.planning.plan_model import PlanSettings
from orepit.planning.simulation import BlockSchedule, Simulation, simulate
from orepit.valuation.deposit import Deposit
from orepit.valuation.destinations import DUMP, MILL, STOCKPILE

#: a period's mill target is met when the realised mill feed is at least this share of the plan's
TARGET_SHARE = 0.98
#: periods after the plan's horizon in which the mill may still work the stockpile off
EXTRA_PERIODS = 20


@dataclass
class FixedPlan:
    """What grade control keeps of a strategy's plan.

    period       per block: the period it is mined in (-1: not mined)
    pit          the plan's final pit (bool per block)
    mill_cutoff  per plan period: margin per tonne (currency/t) at and above which ore goes to the mill
    mill_target  per plan period: t the plan mills on the estimate
    pile_edges   margin per tonne (currency/t) edges of the stockpile's grade bins
    settings     the plan's `PlanSettings` (horizon, capacities, stockpile and its final rule)
    low_grade_edge, env_price   as the plan's simulation used them (`simulate`)
    """

    name: str
    period: np.ndarray
    pit: np.ndarray
    mill_cutoff: np.ndarray
    mill_target: np.ndarray
    pile_edges: np.ndarray
    settings: PlanSettings
    low_grade_edge: float
    env_price: bool

    @property
    def life(self) -> int:
        """Periods up to the last in which the plan mines or mills on the estimate (its life of mine)."""
        return max(int(self.period.max(initial=-1)), int(self.target_periods.max(initial=-1))) + 1

    @property
    def target_periods(self) -> np.ndarray:
        """The plan periods that have a mill target: those in which the plan mills on the estimate."""
        return np.flatnonzero(self.mill_target > 0)


@dataclass
class Replay:
    """A plan on one realisation: the block schedule grade control made, its simulation and, per
    period of the plan's `FixedPlan.target_periods` (those in which it mills), whether the mill
    target is met (cumulative feed by the end of the period, see the module docstring)."""

    schedule: BlockSchedule
    simulation: Simulation
    target_met: np.ndarray

    @property
    def kpis(self) -> dict:
        return self.simulation.kpis


def fixed_plan(deposit: Deposit, name: str, result, low_grade_edge: float) -> FixedPlan:
    """The `FixedPlan` of a strategy's result (`orepit.planning.strategies.StrategyResult`) built on
    ``deposit`` (the estimate): its sequence, pit, settings and per-period mill cut-offs and targets."""
    schedule, sim = result.plan.schedule, result.simulation
    period, dest = schedule.period, schedule.destination
    per_t, ton, ore = margin_per_tonne(deposit), deposit.tonnage, deposit.ore
    cutoff = np.full(schedule.n_periods, np.inf)
    for t in range(schedule.n_periods):
        direct = float(ton[(period == t) & (dest == MILL)].sum())
        mined_ore = np.flatnonzero((period == t) & ore)
        if direct <= 0 or mined_ore.size == 0:
            continue
        order = mined_ore[np.argsort(-per_t[mined_ore], kind="stable")]
        reach = np.searchsorted(np.cumsum(ton[order]), direct * (1 - 1e-9))
        cutoff[t] = per_t[order[min(reach, order.size - 1)]]
    bins = int(result.layout.block_bin.max(initial=0)) + 1
    return FixedPlan(name, period.copy(), np.asarray(result.pit, bool).copy(), cutoff,
                     sim.periods["mill_t"].to_numpy(dtype=np.float64), bin_edges(deposit, result.pit, bins, by_value=True),
                     result.plan.settings, float(low_grade_edge), bool(result.options.env_price))


def check_plan(deposit: Deposit, plan: FixedPlan) -> None:
    """`InputError` (field ``plan``) when the plan cannot belong to ``deposit``'s block model."""
    n = deposit.n_blocks
    if plan.period.shape != (n,) or plan.pit.shape != (n,):
        raise InputError(f"plan {plan.name!r} has {plan.period.size} blocks, the block model {n}: the plan does "
                         "not belong to this model", field="plan")
    if np.any((plan.period >= 0) & ~plan.pit) or plan.period.max(initial=-1) >= plan.settings.periods:
        raise InputError(f"plan {plan.name!r} mines blocks outside its pit or after its horizon", field="plan")


def replay(deposit: Deposit, plan: FixedPlan) -> Replay:
    """Replay ``plan`` on ``deposit`` (a realisation valued like the estimate; see the module docstring)."""
    check_plan(deposit, plan)
    s = plan.settings
    T0 = s.periods
    last_mined = int(plan.period.max(initial=-1))
    ton, hours = deposit.tonnage, deposit.mill_hours
    per_t = margin_per_tonne(deposit)
    ore = deposit.ore
    at_reclaim = deposit.flows(plan.env_price).at_reclaim
    must_empty = s.final_stockpile == "empty"
    mill_cap = _extended(s.mill_capacity, T0 + EXTRA_PERIODS)
    hour_cap = _extended(s.mill_hours, T0 + EXTRA_PERIODS)
    dest = np.where(plan.period >= 0, DUMP, -1)
    pile = np.full(deposit.n_blocks, -1, dtype=np.int64)
    nb = plan.pile_edges.size - 1
    grade_bin = np.clip(np.searchsorted(plan.pile_edges, per_t, side="right") - 1, 0, nb - 1)
    pools = np.zeros((3, (T0 + EXTRA_PERIODS) * nb))          # tonnes, hours, value at reclaim per pile
    reclaim = np.zeros(((T0 + EXTRA_PERIODS) * nb, T0 + EXTRA_PERIODS))
    t, life = 0, plan.life
    while t < T0 or (must_empty and t < T0 + EXTRA_PERIODS and pools[0].sum() > 1e-6 * max(1.0, mill_cap[0])):
        pools *= 1.0 - s.stockpile_loss
        # a plan that need not empty its stockpile ends where it ended on the estimate: the mill stops
        room = np.array([mill_cap[t], hour_cap[t]]) if must_empty or t < life else np.zeros(2)
        now = np.flatnonzero((plan.period == t) & ore)
        now = now[np.argsort(-per_t[now], kind="stable")]
        rich = now[per_t[now] >= (plan.mill_cutoff[t] if t < T0 else np.inf)]
        taken = _fill(rich, ton, hours, room)
        dest[taken] = MILL
        reclaim[:, t] = _reclaim(pools, room, must_empty and t > last_mined)
        rest = now[~np.isin(now, taken)]
        more = _fill(rest, ton, hours, room)
        dest[more] = MILL
        left = rest[~np.isin(rest, more)]
        if s.stockpile and left.size:
            space = s.stockpile_capacity - pools[0].sum()
            kept = left[np.cumsum(ton[left]) <= space * (1 + 1e-12)]
            dest[kept], pile[kept] = STOCKPILE, t * nb + grade_bin[kept]
            for q, amount in enumerate((ton, hours, at_reclaim)):
                pools[q] += np.bincount(pile[kept], weights=amount[kept], minlength=pools.shape[1])
        t += 1
    T = max(t, T0)
    schedule = BlockSchedule(plan.period, dest, pile, reclaim[:T * nb, :T])
    rules = dict(periods=T, mill_capacity=mill_cap[:T], mill_hours=hour_cap[:T],
                 mining_capacity=_extended(s.mining_capacity, T), recovery_floor=None, no_ore_to_dump=False,
                 co2_cap=None, co2_total_cap=None, metal_floor=None, mine_out_by=None, empty_by=None,
                 steady_mining=None, steady_milling=None, final_stockpile="lost" if must_empty else s.final_stockpile)
    sim = simulate(deposit, schedule, replace(s, **rules), plan.pit, plan.low_grade_edge, plan.env_price)
    if sim.violations:
        raise RuntimeError(f"replay of {plan.name} breaks a capacity: " + "; ".join(sim.violations[:3]))
    fed = np.cumsum(sim.periods["mill_t"].to_numpy())[plan.target_periods]
    target = np.cumsum(plan.mill_target)[plan.target_periods]
    return Replay(schedule, sim, fed >= TARGET_SHARE * target - 1e-9 * np.maximum(1.0, target))


def _extended(value, periods: int) -> np.ndarray:
    """A capacity as one value per period for ``periods`` periods (the last value repeated)."""
    v = np.atleast_1d(np.asarray(value, dtype=np.float64))
    return np.r_[v, np.full(max(0, periods - v.size), v[-1])][:periods]


def _fill(blocks: np.ndarray, ton: np.ndarray, hours: np.ndarray, room: np.ndarray) -> np.ndarray:
    """The blocks of ``blocks`` the mill's ``room`` (t, h) takes, in their order, each that still fits
    (a block too big for what is left waits, the next that fits goes); the room is used up."""
    taken = _first_fit(blocks, ton, hours, room)
    np.maximum(room, 0.0, out=room)
    return blocks[taken]


@numba.njit(cache=True)
def _first_fit(blocks, ton, hours, room):
    """Mask of ``blocks`` taken in order while each fits ``room`` (t, h; reduced in place)."""
    taken = np.zeros(blocks.size, dtype=np.bool_)
    for i in range(blocks.size):
        b = blocks[i]
        if ton[b] <= room[0] * (1 + 1e-12) and hours[b] <= room[1] * (1 + 1e-12):
            taken[i] = True
            room[0] -= ton[b]
            room[1] -= hours[b]
    return taken


def _reclaim(pools: np.ndarray, room: np.ndarray, at_a_loss: bool) -> np.ndarray:
    """t taken from each pile into the mill's ``room`` (used up), the pile worth most per tonne first;
    piles worth less than nothing only ``at_a_loss``."""
    out = np.zeros(pools.shape[1])
    held = pools[0] > 1e-9
    per_t = np.where(held, pools[2] / np.where(held, pools[0], 1.0), -np.inf)
    for g in np.argsort(-per_t, kind="stable"):
        if not held[g] or (per_t[g] <= 0 and not at_a_loss) or room[0] <= 0:
            break
        share = min(1.0, room[0] / pools[0, g], room[1] / pools[1, g] if pools[1, g] > 0 else 1.0)
        if share <= 0:
            break
        out[g] = share * pools[0, g]
        room -= [out[g], share * pools[1, g]]
        np.maximum(room, 0.0, out=room)
        pools[:, g] *= 1.0 - share
    return out
