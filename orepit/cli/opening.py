"""Opening what a run's options name, with the mining domain: the MODEL and its valuation, the
slopes, the discount rate; and the options whose defaults the domain owns (the built-in deposit,
the discount rate).

With ``--economics`` (and optionally ``--environment``) a MODEL's blocks are valued at every
destination (`orepit.valuation.deposit.value_deposit`); a block model's slopes come from
``--slope``/``--benches`` (or ``--pattern``), or from a slope table by domain (``--slope-table``, or
the economics file's ``[slopes]``); a MineLib instance keeps its ``.prec``.  Without ``--economics``
a MineLib instance's own values are used, and a block-model file is refused.

The light half of the vocabulary, loaded by every verb, is `orepit.cli.options`.
"""
from __future__ import annotations

from solvers.errors import InputError

from orepit.cli.options import block_count, model_columns, natural, rate, show
from orepit.data.files import ModelSource, open_model
from orepit.planning.strategies import ScheduleSetup
from orepit.valuation.deposit import Deposit, value_deposit
from orepit.valuation.economics import Economics
from orepit.valuation.environment import Environment
from orepit.valuation.precedence import precedence_from_geometry
from orepit.valuation.slopes import SlopeTable
from orepit.valuation.synthetic import BUILTIN_BLOCKS, BUILTIN_SEED


def add_builtin_deposit(p) -> None:
    """--blocks and --seed of the built-in synthetic deposit (`orepit.valuation.synthetic`)."""
    p.add_argument("--blocks", type=block_count, default=BUILTIN_BLOCKS, metavar="N",
                   help="about this many blocks in the synthetic deposit, e.g. 1e6 [blocks]")
    p.add_argument("--seed", type=natural, default=BUILTIN_SEED, metavar="SEED",
                   help="seed of the synthetic deposit [-]")


def add_discount_rate(p) -> None:
    p.add_argument("--discount-rate", type=rate, metavar="RATE",
                   help="discount rate per period (0.08 = 8 %%) [fraction/period] (default: the MineLib "
                        f"instance's DISCOUNT_RATE, else {show(ScheduleSetup.discount_rate)})")


def open_model_of(args, grades=(), economics=None, environment=None) -> ModelSource:
    """The MODEL argument opened with the run's --block-size and column mapping; ``grades``: grade
    columns the run needs (a --grade), found by name like the mapped ones; ``economics``: the
    `Economics` the run values with, whose elements' grade columns are needed too; ``environment``:
    the `Environment` the run prices, whose work-index and sulphur columns, when they have their
    standard names and the model lacks them, take their documented defaults (and density, for the
    dumps' volume, is derived from tonnage)."""
    if economics is not None:
        grades = [*grades, *(e.column for e in economics.elements.values())]
    defaults = []
    if environment is not None:
        if environment.bwi_column == "bwi" and environment.bwi_default is None:
            defaults.append("bwi")
        if environment.sulphur_column == "sulphur":
            defaults.append("sulphur")
        if environment.dump_density_t_m3 is None:
            defaults.append("density")          # tonnage / block volume: derived, not assumed
    source = open_model(args.model, block_size=getattr(args, "block_size", None), columns=model_columns(args),
                        grades=[g for g in grades if g], defaults=defaults)
    if economics is None:
        return source
    try:
        source.model            # read now: a grade column the model lacks is named by its settings key
        return source
    except InputError as exc:
        named = {e.column: name for name, e in (economics.elements.items() if economics is not None else ())}
        if exc.field not in named or not str(exc).endswith(f"missing grade column '{exc.field}'"):
            raise
        raise economics.error(("elements", named[exc.field], "column"), f"the block model {args.model} has no "
                              f"column '{exc.field}' (map another with --columns or the [columns] table)") from None


def slope_of(args):
    """The run's slopes: a `SlopeTable` from --slope-table, else from the --economics file's [slopes]
    table, else the --slope angle(s).  `InputError` when a table meets --pattern or a typed --slope."""
    table = None
    if getattr(args, "slope_table", None):
        table = SlopeTable.from_toml(args.slope_table)
    elif getattr(args, "economics", None):
        table = SlopeTable.from_parameter_file(args.economics)
    if table is not None and getattr(args, "pattern", None):
        raise InputError("--pattern and a slope table exclude each other (the table gives the slope cones)",
                         path=table.source, field="pattern")
    if table is not None and getattr(args, "slope_given", False):
        raise InputError("--slope and a slope table exclude each other (the table gives every block's angles)",
                         path=table.source, field="slope")
    return args.slope if table is None else table


def instance_slopes(source: ModelSource, slope):
    """The MineLib instance of ``source``, after refusing a slope table (an instance has its .prec)."""
    if isinstance(slope, SlopeTable):
        raise InputError(f"a slope table applies to a block-model file; MineLib instance {source.instance.name} "
                         "has its own precedences (.prec)", path=slope.source, field="slopes")
    return source.instance


def discount_rate_of(args, source: ModelSource | None = None) -> float:
    """The run's discount rate per period, as --discount-rate's help says: the option, else the MineLib
    instance's DISCOUNT_RATE (its .pcpsp), else `ScheduleSetup`'s."""
    if args.discount_rate is not None:
        return args.discount_rate
    instance = None if source is None else source.instance
    if instance is not None and instance.path(".pcpsp").exists():
        return instance.pcpsp().discount_rate
    return ScheduleSetup.discount_rate


def open_valued(args, verb: str) -> tuple[ModelSource, Deposit | None]:
    """The MODEL and, with --economics, its blocks valued (with --environment's prices too; slopes
    from a MineLib instance's .prec, else from --slope/--benches/--pattern and the block size)."""
    if not args.economics:
        source = open_model_of(args)
        if source.instance is None:
            raise InputError(f"orepit {verb} on a block-model file needs --economics ECONOMICS.toml to value its "
                             "blocks (see examples/economics_porphyry_blocks.toml, or write one with orepit init)",
                             path=args.model, field="economics")
        instance_slopes(source, slope_of(args))         # refuses a slope table: the instance has its .prec
        return source, None
    econ = Economics.from_toml(args.economics)
    env = Environment.from_toml(args.environment) if args.environment else Environment(currency=econ.currency)
    source = open_model_of(args, economics=econ, environment=env)
    model = source.model
    if model.block_size is None:
        raise InputError("the block size is unknown: give --block-size DX DY DZ", path=args.model, field="block_size")
    slope = slope_of(args)
    if source.instance is not None:
        precedence = instance_slopes(source, slope).precedence()
    else:
        precedence = precedence_from_geometry(model, slope=slope, levels=args.benches, pattern=args.pattern)
    return source, value_deposit(model, econ, env, precedence)


def model_problem(args, verb: str):
    """(values, precedence, label) of a MODEL for a closure: its blocks valued with --economics (net
    of environmental cost with --environment), or a MineLib instance's UPIT values."""
    source, deposit = open_valued(args, verb)
    if deposit is not None:
        return deposit.pit_values(bool(args.environment)), deposit.precedence, deposit.model.name or args.model
    problem = source.minelib(f"orepit {verb}").upit()
    return problem.values, problem.precedence, source.instance.name
