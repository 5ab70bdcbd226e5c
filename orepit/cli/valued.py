"""The options and reading shared by ``pit`` and ``shells`` when they value a block model.

With ``--economics`` (and optionally ``--environment``) the MODEL's blocks are valued at every
destination (`orepit.valuation.deposit.value_deposit`); a block model's slopes come from
``--slope``/``--benches`` (or ``--pattern``), or from a slope table by domain (``--slope-table``, or
the economics file's ``[slopes]``); a MineLib instance keeps its ``.prec``.  Without ``--economics``
a MineLib instance's own values are used, and a block-model file is refused.
"""
from __future__ import annotations

from solvers.errors import InputError

from orepit.cli.options import add_columns, add_parameter_files, instance_slopes, open_model_of, slope_of
from orepit.data.files import ModelSource
from orepit.valuation.deposit import Deposit, value_deposit
from orepit.valuation.economics import Economics
from orepit.valuation.environment import Environment
from orepit.valuation.precedence import precedence_from_geometry


def add_valuation(p) -> None:
    """--economics, --environment and --columns for a verb that can value a block model."""
    add_parameter_files(p, "none: a MineLib instance's own block values; required with a block-model file",
                        "none: the economic values; with it, the values net of environmental cost")
    add_columns(p)


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
