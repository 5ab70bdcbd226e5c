"""Where the MineLib instances are: one setting, ``OREPIT_MINELIB``.

Default: ``../shared/minelib`` relative to the repository root (the folder
holding this package), then relative to the current directory.
"""
from __future__ import annotations

import os
from pathlib import Path

from solvers.errors import InputError

ENV_VAR = "OREPIT_MINELIB"
HOW_TO_GET = ("MineLib data not found. Set OREPIT_MINELIB to a folder holding the instances "
              "(one sub-folder per instance, e.g. kd/kd.blocks), or place them in ../shared/minelib "
              "beside the repository. The instances are published by Espinoza et al. (2013) at "
              "the MineLib web site (CC BY-SA 3.0).")


def minelib_dir(required: bool = True) -> Path | None:
    """The MineLib folder; raises `InputError` saying how to obtain it when missing and required."""
    env = os.environ.get(ENV_VAR)
    candidates = [Path(env)] if env else [Path(__file__).resolve().parent.parent.parent / "shared" / "minelib",
                                            Path.cwd().parent / "shared" / "minelib"]
    for path in candidates:
        if path.is_dir():
            return path
    if required:
        raise InputError(HOW_TO_GET + (f" ({ENV_VAR}={env} is not a folder)" if env else ""))
    return None


def instance_path(name: str) -> Path:
    """Path prefix of a named instance, e.g. ``instance_path('kd')`` -> .../kd/kd."""
    root = minelib_dir()
    path = root / name / name
    if not path.with_suffix(".prec").exists():
        raise InputError(f"MineLib instance '{name}' not found under {root}. " + HOW_TO_GET)
    return path
